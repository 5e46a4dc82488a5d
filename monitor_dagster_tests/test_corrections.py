"""Corrections for background characteristics (technisch rapport Monitor gelijke kansen §7.2.2; issue 17):
propensity weights over the whole period, the balance check, the corrected rows and their gate.

Planted truth: ``synth/corrections_truth.py`` (an outcome that is pure composition, one with a true group
effect).  Cell-based fits are checked against the person-level fits of the same models."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from monitor_dagster.corrections import apply as CORR
from monitor_dagster.corrections import propensity as P
from monitor_dagster.indicators.table import (CORRECTIE, COLUMNS, DIMENSIONS, PARTIAL_SCHEMA, covariate_cells_of,
                                              cells, finalize, partial_mode)
from monitor_dagster.synth import corrections_truth as T


@pytest.fixture(scope="module")
def planted():
    pop = T.population(n=30_000, years=(2020, 2021), seed=17)
    cells_ = pl.concat([P.covariate_cells(pop.filter(pl.col("year") == y).lazy(), y) for y in (2020, 2021)])
    model = P.fit_weights(cells_)
    return pop, cells_, model


def _family_table(pop: pl.DataFrame, outcome: str, year: int, indicator: str = "OX", unit: str = "%") -> pl.DataFrame:
    """The family table the engine would store: rows and covariate cells, through cells() as every indicator."""
    persons = pop.filter(pl.col("year") == year).with_columns(pl.col(outcome).alias("value")).lazy()
    keys = P.covariate_key(persons).collect().lazy()
    with partial_mode(), covariate_cells_of(keys):
        part = cells(persons, indicator_id=indicator, year=year, unit=unit, measure=outcome,
                     dimensions=["totaal", "leeftijd", "geslacht", "opleiding"])
    return finalize(part, keep_cells=True)


def _total(rows: pl.DataFrame, correctie: str, herkomst: str) -> pl.DataFrame:
    return rows.filter((pl.col(CORRECTIE) == correctie) & (pl.col("herkomst") == herkomst)
                       & pl.all_horizontal(pl.col(d) == "totaal" for d in DIMENSIONS if d != "herkomst"))


def test_weights_balance_the_planted_population(planted):
    _, cells_, model = planted
    assert model.converged and model.years == [2020, 2021]
    table = P.balance(cells_, model.weights)
    # before weighting education differs a lot between the groups; after weighting it does not
    edu = table.filter(pl.col("kenmerk") == "opleidingsniveau")
    assert edu["smd_voor"].abs().max() > 0.4
    assert table["smd_na"].abs().max() < 0.05 and table["smd_tijd_gewogen"].abs().max() < 0.05
    assert P.balance_problems(table) == [] and table["balanced"].all()
    # without the weights the blocking rule fires and names year, characteristic and level
    ones = model.weights.with_columns(pl.lit(1.0).alias("weight"))
    bad = P.balance_problems(P.balance(cells_, ones))
    assert bad and any("opleidingsniveau=hoog" in b for b in bad) and all(b[:4] in ("2020", "2021") for b in bad)


def test_weighting_model_on_cells_equals_the_person_level_multinomial_logit():
    """The Poisson log-linear fit on cells is the multinomial logit of the stratum on the persons."""
    pop = T.population(n=1_500, years=(2020, 2021), seed=3)
    cells_ = pl.concat([P.covariate_cells(pop.filter(pl.col("year") == y).lazy(), y) for y in (2020, 2021)])
    model = P.fit_weights(cells_)
    persons = P.covariate_key(P.weighting_population(pop.lazy())).collect().with_columns(
        pop["year"], *P.split_key()).with_columns(
        pl.when(pl.col("herkomst_aggregate") == P.BASIS).then(pl.lit("basis")).otherwise(pl.lit("referentie")).alias("group"))
    strata = sorted({f"{g}:{y}" for g, y in persons.select("group", "year").iter_rows()})
    y = persons.select((pl.col("group") + ":" + pl.col("year").cast(pl.String)).alias("s"))["s"]
    codes = np.array([strata.index(v) for v in y.to_list()])
    x, names, _ = P.design(persons)
    res = sm.MNLogit(codes, x).fit(disp=False, method="newton", maxiter=100)
    for j, stratum in enumerate(strata[1:]):
        for k, nm in enumerate(names):
            term = f"{stratum}:{'intercept' if nm == 'const' else nm}"
            got = model.coefficients.filter(pl.col("term") == term)
            assert got["coef"][0] == pytest.approx(res.params[k, j], abs=1e-5), term
            assert got["se"][0] == pytest.approx(res.bse[k, j], rel=1e-4), term


def test_composition_gap_disappears_and_a_group_effect_stays(planted):
    pop, _, model = planted
    raw_gaps = {}
    for outcome, truth in (("compositie", 0.0), ("groepseffect", T.GROUP_EFFECT)):
        table = _family_table(pop, outcome, 2021)
        rows, models = CORR.corrected([table], model.weights)
        geen_nw = _total(table, "geen", "niet-westers")["value"][0]
        geen_ref = _total(table, "geen", "geen migratieachtergrond")["value"][0]
        raw_gaps[outcome] = geen_nw - geen_ref
        nw = _total(rows, "gewogen", "niet-westers")
        ref = _total(rows, "gewogen", "geen migratieachtergrond")
        # the corrected rows count the same persons as the uncorrected ones
        assert nw["n"][0] == _total(table, "geen", "niet-westers")["n"][0]
        assert ref["n"][0] == _total(table, "geen", "geen migratieachtergrond")["n"][0]
        gap = nw["value"][0] - ref["value"][0]
        n_b, n_r = nw["n"][0], ref["n"][0]
        se = 100 * np.sqrt(0.25 / n_b + 0.25 / n_r) * 1.3     # x1.3: the weights' design effect, generously
        assert abs(gap - truth) < 3 * se, (outcome, gap, truth, se)
        m = _total(rows, "model", "niet-westers")
        assert m["unit"][0] == "procentpunt"
        fitted = [g for g in models if g.measure == outcome][0]
        assert abs(m["value"][0] - truth) < 3 * fitted.se + 0.5, (outcome, m["value"][0], fitted.se)
        # the GLM's estimate is stored settled (ten significant digits: the same bytes with any threads or CPU)
        assert m["value"][0] == float(f"{fitted.gap:.10g}") != fitted.gap, (m["value"][0], fitted.gap)
    # the raw gap of the composition outcome is large: the test would fail without the correction
    assert raw_gaps["compositie"] < -8


def test_gap_model_on_cells_equals_person_level_fits():
    pop = T.population(n=2_000, years=(2021,), seed=5)
    keyed = pop.with_columns(P.covariate_key(pop.lazy()).collect()["covariaten"]).with_columns(*P.split_key())
    keyed = keyed.with_columns((pl.col("herkomst_aggregate") == P.BASIS).cast(pl.Float64).alias("basisgroep"))
    x, names, _ = P.design(keyed)
    xp = np.column_stack([x[:, :1], keyed["basisgroep"].to_numpy(), x[:, 1:]])
    # a share: logit on persons
    table = _family_table(pop, "groepseffect", 2021)
    gm = CORR.fit_gap(CORR.cell_rows(table).with_columns(pl.col("value_sq").is_null().alias("_share")))
    logit = sm.Logit(keyed["groepseffect"].to_numpy(), xp).fit(disp=False)
    assert gm.family == "logit"
    assert np.allclose(gm.coefficients["coef"].to_numpy(), logit.params, atol=1e-6)
    assert np.allclose(gm.coefficients["se"].to_numpy(), logit.bse, rtol=1e-5)
    # a mean: OLS on persons (a continuous outcome: age as the value), point estimates and standard errors
    pop2 = pop.with_columns((pl.col("age_jan1") * 1.0 + pl.col("compositie") * 7.5).alias("uren"))
    table = _family_table(pop2, "uren", 2021, unit="uren per week")
    gm = CORR.fit_gap(CORR.cell_rows(table).with_columns(pl.col("value_sq").is_null().alias("_share")))
    ols = sm.OLS(pop2["uren"].to_numpy(), xp).fit()
    assert gm.family == "ols" and gm.unit == "uren per week"
    assert np.allclose(gm.coefficients["coef"].to_numpy(), ols.params, atol=1e-6)
    assert np.allclose(gm.coefficients["se"].to_numpy(), ols.bse, rtol=1e-5)
    assert gm.gap == pytest.approx(ols.params[1])


def test_gewogen_breakdowns_and_categories():
    pop = T.population(n=4_000, years=(2021,), seed=9)
    cells_ = P.covariate_cells(pop.lazy(), 2021)
    w = P.fit_weights(cells_).weights
    persons = pop.with_columns(pl.when(pl.col("compositie") == 1).then(pl.lit("ja")).otherwise(pl.lit("nee"))
                               .alias("cat")).lazy()
    keys = P.covariate_key(persons).collect().lazy()
    with partial_mode(), covariate_cells_of(keys):
        part = cells(persons, indicator_id="OC", year=2021, unit="%", by_measure="cat",
                     dimensions=["totaal", "geslacht"])
    table = finalize(part, keep_cells=True)
    rows, models = CORR.corrected([table], w)
    assert models == []                  # a category indicator has no model row
    g = rows.filter(pl.col(CORRECTIE) == "gewogen")
    others = [d for d in DIMENSIONS if d not in ("herkomst", "geslacht")]
    g = g.filter(pl.all_horizontal(pl.col(d) == "totaal" for d in others))   # leeftijd/opleiding rows aside
    tot = g.filter(pl.col("geslacht") == "totaal").group_by("herkomst").agg(pl.col("value").sum())
    assert np.allclose(tot["value"].to_numpy(), 100.0)        # categories add up to 100 after weighting
    # breakdown counts add up to the totaal, like the uncorrected ones
    n_tot = g.filter((pl.col("geslacht") == "totaal")).group_by("herkomst").agg(pl.col("n").sum())
    n_sex = g.filter((pl.col("geslacht") != "totaal")).group_by("herkomst").agg(pl.col("n").sum())
    assert n_tot.sort("herkomst")["n"].to_list() == n_sex.sort("herkomst")["n"].to_list()
    assert set(rows.columns) == set(COLUMNS)


def test_a_year_without_weights_gets_no_gewogen_rows(planted):
    pop, _, model = planted
    table = _family_table(pop, "compositie", 2021)
    rows, _ = CORR.corrected([table], model.weights.filter(pl.col("year") == 2020))
    assert rows.filter(pl.col(CORRECTIE) == "gewogen").height == 0
    assert rows.filter(pl.col(CORRECTIE) == "model").height == 1     # the model needs no weights


def test_gate_hides_a_corrected_cell_whose_uncorrected_twin_is_hidden():
    base = {c: "totaal" for c in DIMENSIONS}
    def row(correctie, herkomst, geslacht, n, value):
        return {"indicator_id": "O04", "year": 2021, **base, "herkomst": herkomst, "geslacht": geslacht,
                CORRECTIE: correctie, "measure": "vast", "value": value, "unit": "%", "n": n,
                "n_weighted": float(n), "status": "definitief", "suppressed": False, "trend_break": None,
                "vintages": ""}
    rows = [row(c, h, s, n, 50.0) for c in ("geen", "gewogen") for h, s, n in
            (("niet-westers", "totaal", 40), ("niet-westers", "man", 8), ("niet-westers", "vrouw", 32),
             ("geen migratieachtergrond", "totaal", 400), ("geen migratieachtergrond", "man", 200),
             ("geen migratieachtergrond", "vrouw", 200))]
    # the weighted twin of the small cell: give it a larger n_weighted so only the twin rule can hide it
    t = pl.DataFrame(rows)
    gated = CORR.gate(t)
    hidden = gated.filter(pl.col("suppressed")).select(CORRECTIE, "herkomst", "geslacht").sort(CORRECTIE, "geslacht")
    # man (n 8) hidden in both, and vrouw too (else man = totaal - vrouw), in both slices
    assert hidden.filter(pl.col(CORRECTIE) == "gewogen").height == 2
    assert hidden.filter(pl.col(CORRECTIE) == "geen").height == 2
    from monitor_dagster.gates.disclosure import check_disclosure
    assert check_disclosure(gated.drop("suppression_reason")) == []
    # the twin rule alone: a gewogen cell with enough persons is hidden because its uncorrected twin is
    t2 = t.with_columns(pl.when((pl.col(CORRECTIE) == "gewogen")).then(pl.col("n") + 100).otherwise(pl.col("n")).alias("n"))
    g2 = CORR.gate(t2)
    twin = g2.filter((pl.col(CORRECTIE) == "gewogen") & (pl.col("geslacht") == "man") & (pl.col("herkomst") == "niet-westers"))
    assert twin["suppressed"][0] and twin["value"][0] is None


def test_gate_hides_a_model_gap_whose_group_total_is_hidden():
    base = {c: "totaal" for c in DIMENSIONS}
    def row(correctie, herkomst, n, unit="%"):
        return {"indicator_id": "O39", "year": 2017, **base, "herkomst": herkomst, CORRECTIE: correctie,
                "measure": "na bijstand", "value": 40.0, "unit": unit, "n": n, "n_weighted": float(n),
                "status": "definitief", "suppressed": False, "trend_break": None, "vintages": ""}
    t = pl.DataFrame([row("geen", "niet-westers", 8), row("geen", "geen migratieachtergrond", 300),
                      row("model", "niet-westers", 308, "procentpunt")])
    gated = CORR.gate(t)
    m = gated.filter(pl.col(CORRECTIE) == "model")
    assert m["suppressed"][0] and m["value"][0] is None and m["suppression_reason"][0] == "uncorrected_twin"
    shown = CORR.gate(t.with_columns(pl.when(pl.col("n") == 8).then(20).otherwise(pl.col("n")).alias("n")))
    assert not shown.filter(pl.col(CORRECTIE) == "model")["suppressed"][0]


def test_interactions_are_added_when_main_effects_leave_the_groups_out_of_balance():
    """Report 7.2.2's loop automated: age and education go together differently in the two groups, the
    main-effects model fails the evenredigheidscontrole, the model with their interaction passes it."""
    rng, parts = np.random.default_rng(1), []
    n = 20_000
    for k, year in enumerate((2020, 2021)):
        basis = rng.random(n) < 0.4
        young = rng.random(n) < np.where(basis, 0.5, 0.3)
        p_unknown = np.where(basis, np.where(young, 0.8, 0.1), np.where(young, 0.1, 0.5))
        edu = np.where(rng.random(n) < p_unknown, "onbekend", np.where(rng.random(n) < 0.5, "hoog", "laag"))
        parts.append(pl.DataFrame({
            "person_id": np.arange(n) + k * n, "herkomst_aggregate": np.where(basis, "niet-westers", "geen"),
            "leeftijd": np.where(young, "jongeren", "niet-jongeren"),
            "age_jan1": np.where(young, rng.integers(15, 27, n), rng.integers(27, 67, n)),
            "geslacht": np.where(rng.random(n) < 0.5, "man", "vrouw"), "opleidingsniveau": edu,
            "student": np.zeros(n, bool), "pensioner": np.zeros(n, bool), "year": np.full(n, year)}))
    pop = pl.concat(parts)
    cells_ = pl.concat([P.covariate_cells(pop.filter(pl.col("year") == y).lazy(), y) for y in (2020, 2021)])
    main = P.fit_weights(cells_)
    assert P.balance_problems(P.balance(cells_, main.weights))          # main effects fail here
    model, table, spec = P.weights_with_balance(cells_)
    assert "leeftijdsklasse x opleidingsniveau" in spec and model.converged
    assert P.balance_problems(table) == [] and table["smd_na"].abs().max() < 0.05
    # and the planted population of the other tests keeps the main-effects model
    small = T.population(n=5_000, years=(2021,), seed=2)
    assert P.weights_with_balance(P.covariate_cells(small.lazy(), 2021))[2] == "hoofdeffecten"


def test_a_family_corrected_for_sex_only_gets_weights_from_its_own_cells():
    """4a/4b (report 7.2.2: correct for sex; specs.yaml corrected_covariates): the key holds only sex, the
    weights are fitted on the indicator's own cells, and a gap that is only the groups' sex composition goes."""
    rng = np.random.default_rng(8)
    n, parts = 20_000, []
    for k, year in enumerate((2020, 2021)):
        basis = rng.random(n) < 0.4
        woman = rng.random(n) < np.where(basis, 0.7, 0.4)            # sex composition differs by group
        outcome = (rng.random(n) < np.where(woman, 0.7, 0.3)).astype(float)   # depends on sex only
        parts.append(pl.DataFrame({
            "person_id": np.arange(n) + k * n, "year": np.full(n, year, dtype=np.int32),
            "herkomst_aggregate": np.where(basis, "niet-westers", "geen"),
            "herkomst_group": np.where(basis, "Turkije", "geen migratieachtergrond"),
            "geslacht": np.where(woman, "vrouw", "man"), "leeftijd": "jongeren", "age_jan1": 16,
            "opleidingsniveau": "laag", "value": outcome}))
    pop = pl.concat(parts)
    tables = []
    for year in (2020, 2021):
        persons = pop.filter(pl.col("year") == year).lazy()
        keys = P.covariate_key(persons, ("geslacht",)).collect().lazy()
        assert set(keys.collect()["covariaten"].unique()) == {"alle|man|alle", "alle|vrouw|alle"}
        with partial_mode(), covariate_cells_of(keys):
            part = cells(persons, indicator_id="O24b", year=year, unit="%", measure="stage",
                         dimensions=["totaal", "geslacht"])
        tables.append(finalize(part, keep_cells=True))
    rows, _ = CORR.corrected(tables, None)          # no core weights needed
    geen = pl.concat(tables)
    for year in (2020, 2021):
        raw = (_total(geen.filter(pl.col("year") == year), "geen", "niet-westers")["value"][0]
               - _total(geen.filter(pl.col("year") == year), "geen", "geen migratieachtergrond")["value"][0])
        r = rows.filter(pl.col("year") == year)
        gap = (_total(r, "gewogen", "niet-westers")["value"][0]
               - _total(r, "gewogen", "geen migratieachtergrond")["value"][0])
        assert raw > 8 and abs(gap) < 3 * 100 * np.sqrt(0.25 / 8_000 + 0.25 / 12_000) * 1.3, (raw, gap)
    # no age or education breakdown is invented from the placeholder
    assert set(rows["leeftijd"]) == {"totaal"} and set(rows["opleiding"]) == {"totaal"}


def test_a_coefficient_of_a_small_level_is_not_publishable():
    """Model outputs only from cells that pass the gate: a level with under 10 persons in a group is marked."""
    pop = T.population(n=3_000, years=(2021,), seed=11)
    # leave 4 persons of the basisgroep with education middelbaar ("hoog" is the reference level, no term)
    hoog_b = pop.filter((pl.col("herkomst_aggregate") == "niet-westers") & (pl.col("opleidingsniveau") == "middelbaar"))
    pop = pop.join(hoog_b.slice(4).select("person_id"), on="person_id", how="anti")
    table = _family_table(pop, "groepseffect", 2021)
    gm = CORR.fit_gap(CORR.cell_rows(table).with_columns(pl.col("value_sq").is_null().alias("_share")))
    flags = dict(gm.coefficients.select("term", "publishable").iter_rows())
    assert flags["opleidingsniveau[middelbaar]"] is False
    assert flags["basisgroep"] and flags["const"] and flags["opleidingsniveau[laag]"]


def test_stored_weights_are_settled_on_the_fixed_point_grid(planted):
    """The fit's last bits depend on BLAS threads and the CPU: the stored weight is rounded to the indicator
    table's fixed-point grid (1e-8) and the target share to 1e-10, so the same cells give the same bytes on any
    machine; the rounding moves no weight by more than half a grid step (the balance test above still holds)."""
    w = planted[2].weights
    for col, decimals in (("weight", P.WEIGHT_DECIMALS), ("target_share", P.SHARE_DECIMALS)):
        scaled = w[col].to_numpy() * 10.0 ** decimals
        assert np.abs(scaled - np.round(scaled)).max() < 1e-3, col
    # a perturbation of the fit in its last bits (another thread count) settles to the same stored weight
    raw = w["weight"].to_numpy()
    assert np.array_equal(np.round(raw * (1 + 4e-15), P.WEIGHT_DECIMALS), raw)


def test_a_saturated_weighting_model_fits_without_warnings_and_reweights_to_the_basisgroep_exactly():
    """With sex the only characteristic (report 7.2.2 on 4a/4b) the count model has a parameter per cell: the
    fitted counts are the observed ones, and the weight of a cell is, by hand, the basisgroep's persons of that
    sex over the period over the stratum's, scaled to mean 1 in the stratum.  statsmodels reports that exact fit
    as "perfect separation" and divides by zero residual degrees of freedom; neither may reach the run's log."""
    import warnings

    counts = {("basis", 2020): (300, 700), ("basis", 2021): (340, 660),
              ("referentie", 2020): (600, 400), ("referentie", 2021): (580, 420)}      # (man, vrouw)
    cells_ = pl.DataFrame(
        [(g, y, f"alle|{s}|alle", "alle", s, "alle", n) for (g, y), ns in counts.items()
         for s, n in zip(("man", "vrouw"), ns)],
        schema={"group": pl.String, "year": pl.Int32, "covariaten": pl.String, "leeftijdsklasse": pl.String,
                "geslacht": pl.String, "opleidingsniveau": pl.String, "n": pl.Int64}, orient="row")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = P.fit_weights(cells_)
    basis = {s: sum(counts[("basis", y)][i] for y in (2020, 2021)) for i, s in enumerate(("man", "vrouw"))}
    for (g, y), ns in counts.items():
        raw = {s: basis[s] / ns[i] for i, s in enumerate(("man", "vrouw"))}
        scale = sum(ns) / sum(raw[s] * ns[i] for i, s in enumerate(("man", "vrouw")))
        got = model.weights.filter((pl.col("group") == g) & (pl.col("year") == y)).sort("geslacht")["weight"]
        assert got.to_list() == pytest.approx([raw["man"] * scale, raw["vrouw"] * scale], abs=1e-6)


def test_a_separated_gap_model_gets_no_row_and_no_warning_in_the_log():
    """A share that the characteristics predict exactly (here: everybody with education hoog, nobody else) separates
    the logit: fit_gap leaves the model row out by its own checks (docs/corrections.md), so statsmodels' "perfect
    separation" warning would only fill the run's log."""
    import warnings

    pop = T.population(n=3_000, years=(2021,), seed=11).with_columns(
        (pl.col("opleidingsniveau") == "hoog").cast(pl.Float64).alias("groepseffect"))
    table = _family_table(pop, "groepseffect", 2021)
    cells_ = CORR.cell_rows(table).with_columns(pl.col("value_sq").is_null().alias("_share"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CORR.fit_gap(cells_) is None
    # both groups have the outcome and are large enough: it is the separation, not the early exits, that drops it
    by_group = pop.group_by(pl.col("herkomst_aggregate") == P.BASIS).agg(pl.col("groepseffect").mean(), pl.len())
    assert by_group["groepseffect"].is_between(0.05, 0.95).all() and (by_group["len"] >= CORR.MIN_GROUP).all()


def _with_a_year_without_education(n: int = 6_000) -> pl.DataFrame:
    """The planted population of 2019-2021 and a year 2023 whose education level nobody has: a population year
    built from the cumulative GBA files alone, without HOOGSTEOPLTAB 2023 (``monitor demo``'s survey year)."""
    pop = T.population(n=n, years=(2019, 2020, 2021, 2023), seed=17)
    return pop.with_columns(pl.when(pl.col("year") == 2023).then(None).otherwise(pl.col("opleidingsniveau"))
                            .alias("opleidingsniveau"))


def test_a_year_whose_education_nobody_has_is_left_out_of_the_weighting_model():
    """Report 7.2.2 weights every year to the basisgroep over the whole period.  A year with education unknown
    for everybody says nothing about education, but pooled in it would make "onbekend" a large part of that
    target: the other years' corrected figures would stand for a composition that never existed (and in
    `monitor demo` its few unknown-education youths got weights of 20-230 and the balance check blocked the
    indicator table).  years_to_weight leaves that year out and names what it lacks."""
    pop = _with_a_year_without_education()
    cells_ = pl.concat([P.covariate_cells(pop.filter(pl.col("year") == y).lazy(), y) for y in (2019, 2020, 2021, 2023)])
    kept, left_out = P.years_to_weight(cells_)
    assert left_out == {2023: ["opleidingsniveau"]}
    assert kept.equals(cells_.filter(pl.col("year") < 2023))
    # the target's share of unknown education is that of the basisgroep in the years that have education ...
    basis = kept.filter(pl.col("group") == "basis")
    observed = basis.filter(pl.col("opleidingsniveau") == P.UNKNOWN)["n"].sum() / basis["n"].sum()

    def target(model) -> float:
        return (model.weights.filter(pl.col("opleidingsniveau") == P.UNKNOWN).unique("covariaten")["target_share"]
                .sum())
    model, table, _ = P.weights_with_balance(kept)
    assert model.years == [2019, 2020, 2021] and P.balance_problems(table) == []
    assert target(model) == pytest.approx(observed, abs=1e-6)
    # ... where the year pooled in would have made it several times larger
    pooled, _, _ = P.weights_with_balance(cells_)
    assert target(pooled) > observed + 0.1
    # a characteristic known for somebody in every year leaves every year in; no cells, nothing to leave out
    again, none = P.years_to_weight(kept)
    assert again.equals(kept) and none == {}
    # education unknown in every year (a zone without HOOGSTEOPLTAB): one level throughout, target included,
    # so every year stays and the weights rest on age and sex
    nowhere = cells_.with_columns(pl.lit(P.UNKNOWN).alias("opleidingsniveau"))
    again, none = P.years_to_weight(nowhere)
    assert again.equals(nowhere) and none == {}
    assert P.years_to_weight(pl.DataFrame())[1] == {}


def test_the_weights_asset_leaves_such_a_year_out_and_says_so(tmp_path):
    """core/propensity_weights as Dagster materialises it, on core/population partitions of which 2023 has no
    education: weights for 2019-2021 only, the year named in the metadata, the balance check passing."""
    import dagster as dg

    from monitor_dagster.defs.core.assets import IO
    from monitor_dagster.defs.core.weights import propensity_weights
    from monitor_dagster.defs.io import WarehouseIOManager
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.readiness import unweighted_years
    from monitor_dagster.warehouse import Warehouse

    pop, wh = _with_a_year_without_education(3_000), tmp_path / "wh"
    core = Warehouse(wh, layer="core")
    for y in (2019, 2020, 2021, 2023):
        core.write("population", str(y), pop.filter(pl.col("year") == y), {"test": "hand-built"})
    assert unweighted_years(wh) == []            # no weights yet: nothing to say
    with dg.instance_for_test() as inst:
        res = dg.materialize([propensity_weights], instance=inst, resources={
            "monitor": MonitorResource(warehouse=str(wh)), IO: WarehouseIOManager(warehouse=str(wh))})
        assert res.success
        md = res.asset_materializations_for_node("core__propensity_weights")[0].metadata
        checks = {e.check_name: e.passed for e in res.get_asset_check_evaluations()}
    assert md["years"].value == "2019, 2020, 2021"
    assert md["years_left_out"].value == "2023: opleidingsniveau onbekend for every person"
    assert checks["balance"]
    stored = core.read("propensity_weights", "all").collect()
    assert sorted(stored["year"].unique().to_list()) == [2019, 2020, 2021]
    assert unweighted_years(wh) == [2023]        # what `monitor status` reports
    # a population year rebuilt after the weights (HOOGSTEOPLTAB 2023 landed, the weights not refitted yet) is
    # not yet weighted rather than left out: status does not name it (written_at has whole seconds)
    import time
    time.sleep(1.1)
    core.write("population", "2023", pop.filter(pl.col("year") == 2023), {"test": "rebuilt"})
    assert unweighted_years(wh) == []
