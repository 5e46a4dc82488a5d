"""Published duration results (technisch rapport §7.2.2; corrections/durations.py): curves and hazard ratios
from duration cells, and their disclosure rule."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from monitor_dagster.corrections import durations as D
from monitor_dagster.corrections.propensity import BASIS_LABEL, COVARIATES, KEY_SEPARATOR, REFERENTIE_LABEL
from monitor_dagster.indicators.table import CORRECTIE, DIMENSIONS, DUUR

H0, HR = 0.08, 0.6


def _family_rows(n: int = 6_000, seed: int = 4, hr: float = HR, censor_at: int = 24) -> pl.DataFrame:
    """Duration rows as a family table stores them (correctie duur, covariaten = cell|months|cause): a
    monthly hazard H0 for the referentiegroep and 1-(1-H0)^HR for the basisgroep (proportional in cloglog),
    administrative censoring at ``censor_at`` months and random censoring of about a third."""
    rng = np.random.default_rng(seed)
    basis = rng.random(n) < 0.4
    h = np.where(basis, 1 - (1 - H0) ** hr, H0)
    event = rng.geometric(h)
    censor = np.minimum(rng.geometric(0.02, n), censor_at)
    dur = np.minimum(event, censor)
    cause = np.where(event <= censor, "werk", "")      # "" = censored
    sex = np.where(rng.random(n) < 0.5, "man", "vrouw")
    persons = pl.DataFrame({"basis": basis, "dur": dur, "cause": cause, "sex": sex})
    cells = persons.group_by("basis", "dur", "cause", "sex").agg(pl.len().alias("n"))
    base = {d: "totaal" for d in DIMENSIONS}
    return cells.select(
        pl.lit("O38").alias("indicator_id"), pl.lit(2020, dtype=pl.Int32).alias("year"),
        *[pl.lit(v).alias(k) for k, v in base.items() if k != "herkomst"],
        pl.when(pl.col("basis")).then(pl.lit("niet-westers")).otherwise(pl.lit("geen migratieachtergrond")).alias("herkomst"),
        pl.lit(DUUR).alias(CORRECTIE), pl.lit("na WW").alias("measure"), pl.lit("definitief").alias("status"),
        pl.concat_str([pl.lit("27-34"), pl.col("sex"), pl.lit("middelbaar"), pl.col("dur").cast(pl.String),
                       pl.col("cause")], separator=KEY_SEPARATOR).alias("covariaten"),
        pl.col("n").cast(pl.Int64))


def test_hazard_ratio_and_curve_recover_the_planted_truth():
    rows = _family_rows()
    curves, hazards = D.results([rows], None)
    model = hazards.filter((pl.col(CORRECTIE) == "model") & ~pl.col("suppressed"))
    assert model.height == 1
    r = model.row(0, named=True)
    assert r["ci_low"] < HR < r["ci_high"] and abs(r["hazard_ratio"] - HR) < 0.1
    raw = hazards.filter(pl.col(CORRECTIE) == "geen").row(0, named=True)
    assert raw["ci_low"] < HR < raw["ci_high"]
    # the referentiegroep's share with work within 12 months: 1 - (1 - H0)^12, censoring handled
    c12 = curves.filter((pl.col("herkomst") == "geen migratieachtergrond") & (pl.col("maand") == 12)
                        & (pl.col(CORRECTIE) == "geen"))
    truth = 100 * (1 - (1 - H0) ** 12)
    n = c12["n"][0]
    assert abs(c12["value"][0] - truth) < 3 * 100 * np.sqrt(truth / 100 * (1 - truth / 100) / (0.6 * n))
    # without weights the gewogen curve is the uncorrected one
    g12 = curves.filter((pl.col("herkomst") == "geen migratieachtergrond") & (pl.col("maand") == 12)
                        & (pl.col(CORRECTIE) == "gewogen"))
    assert g12["value"][0] == pytest.approx(c12["value"][0])


def test_weights_change_the_gewogen_curve_only():
    rows = _family_rows(n=3_000)
    w = pl.DataFrame({"year": [2020, 2020], "group": ["referentie", "referentie"],
                      "covariaten": ["27-34|man|middelbaar", "27-34|vrouw|middelbaar"], "weight": [0.2, 1.8]})
    # make the outcome differ by sex in the referentiegroep, so the weights move its curve
    rows = pl.concat([rows, rows.filter(pl.col("herkomst") == "geen migratieachtergrond")
                      .filter(pl.col("covariaten").str.contains("vrouw") & pl.col("covariaten").str.ends_with("werk"))])
    c_none, _ = D.results([rows], None)
    c_w, _ = D.results([rows], w)
    pick = lambda c, corr: c.filter((pl.col("herkomst") == "geen migratieachtergrond") & (pl.col("maand") == 12)
                                    & (pl.col(CORRECTIE) == corr))["value"][0]
    assert pick(c_w, "geen") == pytest.approx(pick(c_none, "geen"))
    assert pick(c_w, "gewogen") > pick(c_w, "geen") + 1


def test_curve_points_follow_the_disclosure_rule():
    """A point is shown only when 10+ persons are at risk and every cause has 0 or 10+ events since the last
    shown point: two shown points never give away a count of 1-9 persons."""
    # 40 persons: 3 events in month 1, 9 in months 2-3, 12 more by month 6, the rest censored at month 12
    durations = [1] * 3 + [2] * 5 + [3] * 4 + [5] * 12 + [12] * 16
    causes = ["werk"] * 24 + [None] * 16
    base = {d: "totaal" for d in DIMENSIONS if d != "herkomst"}
    rows = pl.DataFrame({"indicator_id": "O25", "year": 2020, **base, "herkomst": "niet-westers", CORRECTIE: DUUR,
                         "measure": "werk", "status": "definitief",
                         "covariaten": [f"20-26|man|hoog|{d}|{c or ''}" for d, c in zip(durations, causes)],
                         "n": 1}, schema_overrides={"year": pl.Int32})
    rows = rows.group_by([c for c in rows.columns if c != "n"]).agg(pl.col("n").sum())
    curves, hazards = D.results([rows], None)
    shown = curves.filter((pl.col(CORRECTIE) == "geen") & ~pl.col("suppressed"))
    # month 1 (3 events) hidden; month 3 (3 + 9 = 12 since the start) shown; month 6 (12 more) shown;
    # month 12: 16 still at risk (censored at its end), no events since month 6 (a zero, not a small count):
    # shown, flat; month 18 lies beyond the last month observed: no point at all
    assert sorted(shown["maand"].to_list()) == [3, 6, 12]
    assert shown.filter(pl.col("maand") == 12)["value"][0] == pytest.approx(shown.filter(pl.col("maand") == 6)["value"][0])
    assert curves.filter(pl.col("maand") > 12).height == 0
    assert shown.filter(pl.col("maand") == 3)["value"][0] == pytest.approx(100 * 12 / 40)
    hidden = curves.filter(pl.col("suppressed"))
    assert hidden["value"].is_null().all() and hidden["n"].is_null().all()
    # a single group: no hazard ratio
    assert hazards["suppressed"].all()


def test_no_duration_rows_no_results():
    c, h = D.results([pl.DataFrame({CORRECTIE: ["geen"], "indicator_id": ["O04"]})], None)
    assert c.height == 0 and h.height == 0
    assert set(COVARIATES) <= set(D.duration_cells([_family_rows(n=50)], None).columns)


def test_a_group_without_any_event_has_no_curve_and_no_warning(recwarn):
    """A group whose persons are all censored has only rows of cause null in its cumulative incidence: no curve
    for it (nothing to draw), the other group's curve as before, and no polars warning about comparing with
    None (the loop over the causes used to filter ``cause == None``)."""
    rows = _family_rows(n=3_000)
    basis = pl.col("herkomst") == BASIS_LABEL
    censored = rows.with_columns(   # every basisgroep person censored: the cause part of the key emptied
        pl.when(basis).then(pl.col("covariaten").str.replace(r"[^" + KEY_SEPARATOR + r"]*$", ""))
        .otherwise(pl.col("covariaten")).alias("covariaten"))
    cells = D.duration_cells([censored], None)
    assert cells.filter(pl.col("group") == "basis")["cause"].is_null().all()
    both = D.curves(D.duration_cells([rows], None))
    assert set(both["herkomst"]) == {BASIS_LABEL, REFERENTIE_LABEL}
    curves = D.curves(cells)
    assert set(curves["herkomst"]) == {REFERENTIE_LABEL}
    assert curves.equals(both.filter(pl.col("herkomst") == REFERENTIE_LABEL))
    assert not [w for w in recwarn if "Comparisons with None" in str(w.message)]


def test_estimates_are_settled_to_ten_significant_digits():
    """Hazard ratios and their bounds come from BLAS/LAPACK and float sums whose order depends on the threads
    and the CPU: stored with ten significant digits (core/exact.py settled), the same cells give the same bytes."""
    from monitor_dagster.core.exact import settled

    _, hazards = D.results([_family_rows()], None)
    shown = hazards.filter(~pl.col("suppressed"))
    assert shown.height == 2
    for col in ("hazard_ratio", "ci_low", "ci_high"):
        for v in shown[col].to_list():
            assert v == float(f"{v:.10g}"), (col, v)
    # a last-bit difference (one thread instead of two) gives the same settled value; None stays None
    x = 0.612345678912345
    assert settled(np.nextafter(x, 1.0)) == settled(x) == 0.6123456789 and settled(None) is None


def test_a_curve_over_a_hidden_cohort_cell_is_hidden():
    """A curve's n is the n of its cohort cell in the indicator table (O38 "na WW": the persons leaving WW, as
    O38 "na WW direct"): where the table hides that cell, the curve and the hazard ratio go too."""
    from monitor_dagster.corrections.durations import combined, hide_with_cohort
    from monitor_dagster.indicators.table import DIMENSIONS

    curve = [{"indicator_id": "O38", "year": 2019, "measure": "na WW", "herkomst": h, "correctie": c,
              "oorzaak": "werk", "maand": m, "value": 40.0, "n": n, "status": "definitief", "suppressed": False}
             for h, n in (("niet-westers", 57), ("geen migratieachtergrond", 900)) for c in ("geen", "gewogen")
             for m in (1, 3)]
    hazard = [{"indicator_id": "O38", "year": 2019, "measure": "na WW", "oorzaak": "werk", "correctie": "model",
               "hazard_ratio": 0.8, "ci_low": 0.6, "ci_high": 1.0, "n_basis": 57, "n_referentie": 900,
               "events_basis": 20, "events_referentie": 400, "converged": True, "status": "definitief",
               "suppressed": False}]
    durs = combined(pl.DataFrame(curve), pl.DataFrame(hazard))
    cell = {d: "totaal" for d in DIMENSIONS} | {"indicator_id": "O38", "year": 2019, "correctie": "geen",
                                                 "measure": "na WW direct", "unit": "%"}
    table = pl.DataFrame([cell | {"herkomst": "niet-westers", "n": None, "suppressed": True},
                          cell | {"herkomst": "geen migratieachtergrond", "n": 900, "suppressed": False}])
    out = hide_with_cohort(durs, table)
    nw = out.filter((pl.col("kind") == "curve") & (pl.col("herkomst") == "niet-westers"))
    assert nw["suppressed"].all() and nw["n"].is_null().all() and nw["value"].is_null().all()
    assert not out.filter((pl.col("kind") == "curve") & (pl.col("herkomst") != "niet-westers"))["suppressed"].any()
    hz = out.filter(pl.col("kind") == "hazard")
    assert hz["suppressed"].all() and hz["n_basis"].is_null().all()
    # the same cell shown: nothing changes
    shown = table.with_columns(pl.lit(False).alias("suppressed"))
    assert hide_with_cohort(durs, shown).equals(durs)


def test_o31_curves_follow_their_cohort_cell_and_a_single_country_does_not_hide_the_hazard_ratio():
    """O31's curve ("uit werk") starts with O31's cell "werk" (its n): it was missing from COHORT_CELL, so a
    hidden cell left the curve and the hazard ratio shown (an audit of December 2026, on a gated table where it is
    hidden).  And a hazard ratio compares niet-westers with geen migratieachtergrond: a hidden Eritrea cell hid
    every O27 hazard ratio of the demo; now only the two compared groups' cells do."""
    from monitor_dagster.corrections.durations import combined, hide_with_cohort
    from monitor_dagster.indicators.table import DIMENSIONS

    def durs(iid, measure):
        curve = [{"indicator_id": iid, "year": 2021, "measure": measure, "herkomst": h, "correctie": "geen",
                  "oorzaak": "werk", "maand": 1, "value": 5.0, "n": n, "status": "definitief", "suppressed": False}
                 for h, n in (("niet-westers", 280), ("geen migratieachtergrond", 900))]
        hazard = [{"indicator_id": iid, "year": 2021, "measure": measure, "oorzaak": "werk", "correctie": "model",
                   "hazard_ratio": 1.2, "ci_low": 0.9, "ci_high": 1.5, "n_basis": 280, "n_referentie": 900,
                   "events_basis": 26, "events_referentie": 60, "converged": True, "status": "definitief",
                   "suppressed": False}]
        return combined(pl.DataFrame(curve), pl.DataFrame(hazard))

    def table(iid, hidden):
        cell = {d: "totaal" for d in DIMENSIONS} | {"indicator_id": iid, "year": 2021, "correctie": "geen",
                                                     "measure": "werk", "unit": "%"}
        return pl.DataFrame([cell | {"herkomst": h, "n": None if h in hidden else 300, "suppressed": h in hidden}
                             for h in ("niet-westers", "geen migratieachtergrond", "Eritrea")])

    out = hide_with_cohort(durs("O31", "uit werk"), table("O31", {"niet-westers"}))
    assert out.filter((pl.col("kind") == "curve") & (pl.col("herkomst") == "niet-westers"))["suppressed"].all()
    assert out.filter(pl.col("kind") == "hazard")["suppressed"].all()
    only_eritrea = hide_with_cohort(durs("O27", "baanverlies"), table("O27", {"Eritrea"}))
    assert not only_eritrea["suppressed"].any()
