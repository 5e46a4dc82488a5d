"""mbo-schoolverlatersonderzoek O23, O24, O26 and early school leaving O22b (technisch rapport Monitor gelijke
kansen §5.1, deelvragen 4b/4c and the advice after 4a): hand-built respondents for the report's wording, and the
family on a synthetic warehouse against the generator's planted truth."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import polars as pl
import pytest

from monitor_dagster.indicators import schoolleavers as S
from monitor_dagster_tests import _frames as frames

Y = 2019
SURVEY_SCHEMA = {"person_id": pl.Int64, "SVOLEERWEG": pl.String, "SVOGEWICHT": pl.Float64,
                 "SVOVRGProblemenStage": pl.String, "SVOVRGSollicitatiesStage": pl.String,
                 "SVOVRGAansluitwerk": pl.String}
VSV_SCHEMA = {"person_id": pl.Int64, "VSVLEERWEG": pl.String, "VSVINDICATOR": pl.String, "VSVREDEN": pl.String}
OTHER_DIMS = ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal")


def survey(*rows: tuple) -> pl.LazyFrame:
    """Rows (person_id, leerweg, weight, problemen, sollicitaties, aansluiting) of MBOSCHOOLVERLATERS."""
    return pl.LazyFrame([dict(zip(SURVEY_SCHEMA, r)) for r in rows], schema=SURVEY_SCHEMA, orient="row")


def vsv(*rows: tuple) -> pl.LazyFrame:
    """Rows (person_id, leerweg, indicator, reden) of VSVMBOTAB."""
    return pl.LazyFrame([dict(zip(VSV_SCHEMA, r)) for r in rows], schema=VSV_SCHEMA, orient="row")


def cell(t: pl.DataFrame, indicator: str, measure: str, herkomst: str = "totaal", missing_ok: bool = False) -> dict:
    f = t.filter((pl.col("indicator_id") == indicator) & (pl.col("measure") == measure)
                 & (pl.col("herkomst") == herkomst))
    for d in OTHER_DIMS:
        f = f.filter(pl.col(d) == "totaal")
    if missing_ok and f.height == 0:
        return {}
    assert f.height == 1, f
    return f.row(0, named=True)


# ------------------------------------------------------------------------------------------------ O23
def test_problems_finding_an_internship_bol_and_bbl_apart_and_together():
    """"Daarnaast hebben we in beeld gebracht of de studenten problemen hadden bij het vinden van een stage";
    "Eventueel kunnen hierbij de bol- en bbl-studenten nog afzonderlijk worden weergegeven": 2 of 4 bol
    respondents and 1 of 2 bbl respondents had problems; an unanswered question does not count."""
    s = survey((1, "1", 1.0, "1", "1", None), (2, "1", 1.0, "1", "1", None), (3, "1", 1.0, "2", "1", None),
               (4, "1", 1.0, "2", "1", None), (5, "2", 1.0, "1", "1", None), (6, "2", 1.0, "2", "1", None),
               (7, "2", 1.0, None, "1", None))
    t = S.o23_problemen_stage(frames.population(*range(1, 8)), s, Y)
    assert set(t["measure"]) == {"problemen", "problemen bol", "problemen bbl"}
    assert cell(t, "O23", "problemen")["value"] == pytest.approx(50.0) and cell(t, "O23", "problemen")["n"] == 6
    assert cell(t, "O23", "problemen bol")["value"] == pytest.approx(50.0)
    assert cell(t, "O23", "problemen bol")["n"] == 4
    assert cell(t, "O23", "problemen bbl")["value"] == pytest.approx(50.0)
    assert cell(t, "O23", "problemen bbl")["n"] == 2


def test_the_survey_weights_count_and_n_stays_the_respondents():
    """SVOGEWICHT weighs each respondent: the share is sum(w x ja) / sum(w), n = respondents, n_weighted = sum(w)."""
    s = survey((1, "1", 3.0, "1", "1", None), (2, "1", 1.0, "2", "1", None), (3, "2", 2.0, "2", "1", None))
    t = S.o23_problemen_stage(frames.population(1, 2, 3), s, Y)
    c = cell(t, "O23", "problemen")
    assert c["value"] == pytest.approx(100 * 3 / 6) and c["n"] == 3 and c["n_weighted"] == pytest.approx(6.0)
    assert cell(t, "O23", "problemen bol")["value"] == pytest.approx(75.0)


def test_a_file_without_weights_gives_unweighted_figures_and_says_so(caplog):
    """The file may lack SVOGEWICHT (ingested as an empty column): unweighted shares, n_weighted = n, a warning."""
    s = survey((1, "1", None, "1", "1", None), (2, "1", None, "2", "1", None), (3, "2", None, "2", "1", None))
    assert not S.is_weighted(s) and S.is_weighted(s.with_columns(pl.lit(2.0).alias("SVOGEWICHT")))
    with caplog.at_level(logging.WARNING, logger=S.__name__):
        t = S.o23_problemen_stage(frames.population(1, 2, 3), s, Y)
    c = cell(t, "O23", "problemen")
    assert c["value"] == pytest.approx(100 / 3) and c["n_weighted"] == c["n"] == 3
    assert "no SVOGEWICHT" in caplog.text
    assert S.is_weighted(s.drop("SVOGEWICHT")) is False


def test_respondents_not_in_the_population_are_counted_and_left_out(caplog):
    """Linked by person key to core/population (herkomst): respondent 9 (emigrated, or no BRP key) is in no cell,
    and reported; pupils and students are not left out (report 2.1, questions 4a-4c); nor is a respondent without
    a leerweg in any cell, so bol + bbl is the whole."""
    s = survey((1, "1", 1.0, "1", "1", None), (2, "2", 1.0, "2", "1", None), (9, "1", 1.0, "1", "1", None),
               (3, None, 1.0, "1", "1", None))
    pop = frames.population(1, 2, 3, student=(1, 2))
    assert S.linkage(s, pop) == {"rows": 4, "linked": 3, "not_in_population": 1}
    with caplog.at_level(logging.WARNING, logger=S.__name__):
        t = S.o23_problemen_stage(pop, s, Y)
    assert cell(t, "O23", "problemen")["n"] == 2 and cell(t, "O23", "problemen")["value"] == pytest.approx(50.0)
    assert "1 of 4 rows not in core/population" in caplog.text
    assert "1 respondents without SVOLEERWEG" in caplog.text


def test_herkomst_comes_from_the_population():
    """"De enquêtegegevens bevatten burgerservicenummers waardoor het te koppelen is aan informatie over
    migratieachtergrond"."""
    s = survey(*[(i, "1", 1.0, "1" if i <= 3 else "2", "1", None) for i in range(1, 7)])
    t = S.o23_problemen_stage(frames.population(*range(1, 7), nonwestern=(1, 2, 3, 4)), s, Y)
    assert cell(t, "O23", "problemen", "Marokko")["value"] == pytest.approx(75.0)
    assert cell(t, "O23", "problemen", "niet-westers")["n"] == 4
    assert cell(t, "O23", "problemen", "geen migratieachtergrond")["value"] == 0.0


# ------------------------------------------------------------------------------------------------ O24
def test_minstens_vier_keer_includes_seven_and_eleven():
    """"het minimale aantal keren dat een student moest solliciteren 1: een keer, 2: minstens twee keer, 4: minstens
    vier keer, 7: minstens zeven keer, 11: minstens elf keer": one respondent per answer; "minstens vier keer"
    counts 4, 7 and 11."""
    s = survey(*[(i, "1", 1.0, "2", a, None) for i, a in enumerate(["1", "2", "4", "7", "11"], start=1)],
               (6, "2", 1.0, "2", None, None))
    t = S.o24_sollicitaties_stage(frames.population(*range(1, 7)), s, Y)
    expect = {"een keer": 20.0, "minstens twee keer": 80.0, "minstens vier keer": 60.0,
              "minstens zeven keer": 40.0, "minstens elf keer": 20.0}
    for m, v in expect.items():
        assert cell(t, "O24", m)["value"] == pytest.approx(v), m
        assert cell(t, "O24", m)["n"] == 5                   # respondent 6 gave no answer
        assert cell(t, "O24", f"{m} bol")["value"] == pytest.approx(v), m
    assert not t.filter(pl.col("measure").str.ends_with(" bbl")).height   # the bbl respondent did not answer


# ------------------------------------------------------------------------------------------------ O26
def test_fit_of_the_job_among_respondents_with_a_job():
    """"SVOVRGAansluitwerk ... (1=slecht, 2=matig, 3=voldoende, 4=goed)": asked of those with a job; respondent 5
    has none (no answer) and is not in the denominator.  The four answers add up to 100."""
    s = survey((1, "1", 1.0, "2", "1", "1"), (2, "1", 1.0, "2", "1", "3"), (3, "2", 1.0, "2", "1", "4"),
               (4, "2", 1.0, "2", "1", "4"), (5, "1", 1.0, "2", "1", None))
    t = S.o26_aansluiting_werk(frames.population(*range(1, 6)), s, Y)
    got = {m: cell(t, "O26", m)["value"] for m in ("slecht", "matig", "voldoende", "goed", "voldoende of goed")}
    assert got == pytest.approx({"slecht": 25.0, "matig": 0.0, "voldoende": 25.0, "goed": 50.0,
                                 "voldoende of goed": 75.0})
    assert sum(got[m] for m in ("slecht", "matig", "voldoende", "goed")) == pytest.approx(100.0)
    assert cell(t, "O26", "goed")["n"] == 4
    assert cell(t, "O26", "voldoende of goed bbl")["value"] == 100.0
    assert cell(t, "O26", "voldoende of goed bol")["value"] == 50.0


def test_the_2019_wording_is_a_registered_trend_break_of_o26_only():
    """"Het is belangrijk om op te merken dat de vraag in 2019 net iets anders is gesteld. Dit kan leiden tot een
    trendbreuk": O26 of 2019 carries break schoolverlaters_2019 (trend_breaks.yaml year 2019, the survey year),
    so its jump is explained; the same jump in O23 is not."""
    from monitor_dagster.gates import trend_breaks as TB

    def table(year: int, good: int) -> pl.DataFrame:
        s = survey(*[(i, "1", 1.0, "1" if i <= good else "2", "1", "4" if i <= good else "1") for i in range(1, 101)])
        pop = frames.population(*range(1, 101))
        return pl.concat([S.o26_aansluiting_werk(pop, s, year), S.o23_problemen_stage(pop, s, year)])

    t = pl.concat([table(2018, 60), table(2019, 90)]).with_columns(pl.lit(False).alias("suppressed"))
    marked = TB.explain(t).filter(pl.col("opleiding") == "totaal")     # (opleiding 2019: the SOI 2021 break)
    o26 = marked.filter(pl.col("indicator_id") == "O26")
    assert set(o26.filter(pl.col("year") == 2019)["trend_break"]) == {"schoolverlaters_2019"}
    assert o26.filter(pl.col("year") == 2018)["trend_break"].is_null().all()
    assert marked.filter(pl.col("indicator_id") == "O23")["trend_break"].is_null().all()
    ch = TB.changes(t).filter((pl.col("year") == 2019) & (pl.col("herkomst") == "totaal")
                              & pl.all_horizontal([pl.col(d) == "totaal" for d in OTHER_DIMS]))
    fit = ch.filter((pl.col("indicator_id") == "O26") & (pl.col("measure") == "voldoende of goed"))
    assert fit["jump"].all() and not fit["unexplained"].any()
    assert ch.filter((pl.col("indicator_id") == "O23") & (pl.col("measure") == "problemen"))["unexplained"].all()


# ------------------------------------------------------------------------------------------------ O22b
def test_early_leaving_and_its_main_reason():
    """"Voortijdige uitval kunnen we in kaart brengen voor het mbo met behulp van het voortijdig
    schoolverlatersonderzoek (VSV) ... de belangrijkste reden ... (schoolgerelateerd, gezondheid, persoonlijk,
    arbeidsmarkt of overig)": of five persons leaving a programme, 1 with a diploma; 2 left early for the labour
    market (4), 3 without an answer (onbekend), 4 left one programme early (1) and finished another, 5 left early
    for health (2).  Person 9 is not in the population; a row without the indicator counts nowhere."""
    v = vsv((1, "1", "0", None), (2, "2", "1", "4"), (3, "1", "1", None), (4, "1", "1", "1"), (4, "1", "0", None),
            (5, "1", "1", "2"), (9, "1", "1", "1"), (6, "1", None, None))
    t = S.o22b_voortijdig_schoolverlaten(frames.population(1, 2, 3, 4, 5, 6), v, Y)
    c = cell(t, "O22b", "voortijdig")
    assert c["n"] == 5 and c["value"] == pytest.approx(80.0)
    reasons = {m: cell(t, "O22b", f"reden {m}")["value"] for m in
               ("schoolgerelateerd", "gezondheid", "persoonlijk", "arbeidsmarkt", "overig", "onbekend")}
    assert reasons == pytest.approx({"schoolgerelateerd": 25.0, "gezondheid": 25.0, "persoonlijk": 0.0,
                                     "arbeidsmarkt": 25.0, "overig": 0.0, "onbekend": 25.0})
    assert sum(reasons.values()) == pytest.approx(100.0)
    assert cell(t, "O22b", "reden onbekend")["n"] == 4
    assert S.linkage(v, frames.population(1, 2, 3, 4, 5, 6))["not_in_population"] == 1


# ------------------------------------------------------------------------------ synthetic warehouse
FIRST, LAST = 2016, 2021
#: the files the family and core/population need: no SPOLIS, INPATAB or EBB (they take most of the build time)
FILES = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "GBAMIGRATIEBUS", "SECMBUS", "LANDAKTUEELREF", "HOOGSTEOPLTAB",
         "MBOSCHOOLVERLATERS", "VSVMBOTAB")
AGGREGATE_TO_KIND = {"geen migratieachtergrond": "nederland", "westers": "westers", "niet-westers": "niet-westers"}


@pytest.fixture(scope="module")
def survey_wh(tmp_path_factory) -> tuple[Path, dict]:
    """20,000 persons, 2016-2021 (the survey years of the report, the 2019 wording in the middle), through sources
    and core on a temporary Dagster instance (about 30 s): some 35 respondents and 150 mbo leavers a year."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("survey_wh")
    res = generate(SynthConfig(landing=root / "landing", persons=20_000, first_year=FIRST, last_year=LAST, seed=5,
                               fmt="parquet", only_files=FILES))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, root / "wh", instance=inst, layers=("sources", "core"))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    truth = json.loads(res.config.truth_path.read_text())["education"]
    return root / "wh", truth


def _family(wh: Path, year: int, buckets: int = 1, unweighted: bool = False):
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(wh, "schoolleavers", year)
    if unweighted:
        fr["sources/MBOSCHOOLVERLATERS"] = fr["sources/MBOSCHOOLVERLATERS"].with_columns(
            pl.lit(None, pl.Float64).alias("SVOGEWICHT"))
    return ENG.compute_family("schoolleavers", fr, year, buckets=buckets), fr


@pytest.fixture(scope="module")
def tables(survey_wh) -> dict[tuple[int, bool], pl.DataFrame]:
    wh, _ = survey_wh
    return {(y, w): _family(wh, y, unweighted=not w)[0].table for y in range(FIRST, LAST + 1) for w in (True, False)}


def _pooled(tables, indicator: str, measure: str, herkomst: str, years, weighted: bool) -> tuple[float, int, float]:
    """(share, respondents, weighted respondents) over the years: the cells' weighted sums added up."""
    rows = [c for y in years if (c := cell(tables[(y, weighted)], indicator, measure, herkomst, missing_ok=True))]
    w = sum(r["n_weighted"] for r in rows)
    return sum(r["value"] * r["n_weighted"] for r in rows) / w / 100, sum(r["n"] for r in rows), w


def test_the_family_on_a_synthetic_warehouse_k1_equals_k3(survey_wh):
    """Through the engine, in 1 and 3 buckets of persons: the same table (partial cells are exact); every
    indicator computed; the respondents counted are the linked respondents with a leerweg and an answer."""
    wh, _ = survey_wh
    one, fr = _family(wh, Y, buckets=1)
    three, _ = _family(wh, Y, buckets=3)
    assert three.buckets == 3 and one.table.equals(three.table)
    assert sorted(one.computed) == ["O22b", "O23", "O24", "O26"] and not one.not_computable
    t = one.table
    assert t["value"].is_between(0, 100).all()
    sv, pop = fr["sources/MBOSCHOOLVERLATERS"], fr["core/population"]
    linked = sv.join(pop.select("person_id"), on="person_id", how="semi").filter(
        pl.col("SVOLEERWEG").is_not_null() & pl.col("SVOVRGProblemenStage").is_not_null()).collect()
    assert cell(t, "O23", "problemen")["n"] == linked.height                                    # exact count
    assert cell(t, "O23", "problemen")["n_weighted"] == pytest.approx(linked["SVOGEWICHT"].sum())
    assert cell(t, "O23", "problemen bol")["n"] + cell(t, "O23", "problemen bbl")["n"] == linked.height
    assert cell(t, "O26", "goed")["n"] == linked.filter(pl.col("SVOVRGAansluitwerk").is_not_null()).height
    leavers = fr["sources/VSVMBOTAB"].join(pop.select("person_id"), on="person_id", how="semi")
    assert cell(t, "O22b", "voortijdig")["n"] == leavers.select(pl.col("person_id").n_unique()).collect().item()


def _z(est: float, truth: float, n: int, deff: float = 1.0) -> float:
    return (est - truth) / math.sqrt(truth * (1 - truth) / n * deff)


@pytest.mark.parametrize("weighted", [False, True])
def test_o23_o24_recover_the_planted_shares(survey_wh, tables, weighted):
    """The truth (``stage_problems_share``, ``stage_apps_4plus_share``) is the share among *all* respondents of
    2016-2021 per kind; the indicator's cells pooled over those years estimate it from the respondents linked to
    the population (about 95%) - unweighted that is a subsample of the truth's respondents, weighted it also
    moves towards the graduates who did not respond (response depends on sex and leerweg).  Tolerance: 3
    binomial standard errors at the cell's n, times the design effect of the weights (Kish, 1 + cv^2)."""
    wh, truth = survey_wh
    deff = 1.0
    if weighted:
        from monitor_dagster.warehouse import Warehouse
        w = pl.concat([Warehouse(wh).read("MBOSCHOOLVERLATERS", str(y)).select("SVOGEWICHT").collect()
                       for y in range(FIRST, LAST + 1)])["SVOGEWICHT"]
        deff = 1 + (w.std() / w.mean()) ** 2
    for iid, measure, key in [("O23", "problemen", "stage_problems_share"),
                              ("O24", "minstens vier keer", "stage_apps_4plus_share")]:
        for herkomst, kind in AGGREGATE_TO_KIND.items():
            est, n, _ = _pooled(tables, iid, measure, herkomst, range(FIRST, LAST + 1), weighted)
            z = _z(est, truth[key][kind], n, deff)
            print(f"{iid} {herkomst}: {est:.3f} truth {truth[key][kind]:.3f} n {n} deff {deff:.2f} z {z:.2f}")
            assert abs(z) < 3, (iid, herkomst, est, truth[key][kind], n, z)


def test_o26_recovers_the_share_voldoende_or_goed_before_and_from_2019(survey_wh, tables):
    """``aansluiting_ge3_share`` is the share of answers >= 3 among all respondents of the window "as if everyone
    had a job"; O26 asks those with a job (the generator draws the answer independently of work: measured on
    100,000 persons, 66.5% vs 66.2% before and 83.2% vs 83.6% from 2019).  Unweighted, pooled over 2016-2018 and
    2019-2021; tolerance 3 binomial standard errors.  The planted wording shift shows as a rise."""
    _, truth = survey_wh
    got = {}
    for period, years in {"before_2019": range(FIRST, 2019), "from_2019": range(2019, LAST + 1)}.items():
        est, n, _ = _pooled(tables, "O26", "voldoende of goed", "totaal", years, weighted=False)
        z = _z(est, truth["aansluiting_ge3_share"][period], n)
        print(f"O26 {period}: {est:.3f} truth {truth['aansluiting_ge3_share'][period]:.3f} n {n} z {z:.2f}")
        assert abs(z) < 3, (period, est, n)
        got[period] = est
    assert got["from_2019"] > got["before_2019"]


def test_o22b_recovers_the_dropout_rate_and_the_planted_reasons(survey_wh, tables):
    """``mbo_dropout_rate`` is the share without diploma of the mbo enrolments *started* in 2016-2021; O22b counts
    the enrolments *ending* in each school year.  Every enrolment ends once, so with a steady inflow the leavers
    of a year have the composition of a starting cohort: pooled over the years the share estimates the rate
    (tolerance 3 binomial standard errors at the leavers' n).  The reasons follow ``vsv_reason_probs`` (by
    leerweg, 15% without an answer), mixed by the leerweg of the early leavers in the files."""
    wh, truth = survey_wh
    from monitor_dagster.warehouse import Warehouse

    for herkomst, kind in AGGREGATE_TO_KIND.items():
        est, n, _ = _pooled(tables, "O22b", "voortijdig", herkomst, range(FIRST, LAST + 1), True)
        z = _z(est, truth["mbo_dropout_rate"][kind], n)
        print(f"O22b voortijdig {herkomst}: {est:.3f} truth {truth['mbo_dropout_rate'][kind]:.3f} n {n} z {z:.2f}")
        assert abs(z) < 3, (herkomst, est, n)
    early = pl.concat([Warehouse(wh).read("VSVMBOTAB", str(y)).filter(pl.col("VSVINDICATOR") == "1").collect()
                       for y in range(FIRST, LAST + 1)])
    bbl = (early["VSVLEERWEG"] == "2").mean()
    probs = truth["vsv_reason_probs"]
    for reason in ("schoolgerelateerd", "gezondheid", "persoonlijk", "arbeidsmarkt", "overig"):
        p = (1 - probs["missing"]) * ((1 - bbl) * probs["BOL"][reason] + bbl * probs["BBL"][reason])
        est, n, _ = _pooled(tables, "O22b", f"reden {reason}", "totaal", range(FIRST, LAST + 1), True)
        print(f"O22b reden {reason}: {est:.3f} planted {p:.3f} n {n} z {_z(est, p, n):.2f}")
        assert abs(_z(est, p, n)) < 3, (reason, est, p, n)
    est, n, _ = _pooled(tables, "O22b", "reden onbekend", "totaal", range(FIRST, LAST + 1), True)
    print(f"O22b reden onbekend: {est:.3f} planted {probs['missing']:.3f} n {n} z {_z(est, probs['missing'], n):.2f}")
    assert abs(_z(est, probs["missing"], n)) < 3


def test_the_family_passes_the_gates(tables):
    """The gated table of the family passes the disclosure check and its Great Expectations suites (unit, range,
    measures of the spec, null when suppressed, every breakdown)."""
    from monitor_dagster.gates import apply_disclosure, check_disclosure
    from monitor_dagster.gates import trend_breaks as TB

    t = pl.concat([tables[(y, True)] for y in range(FIRST, LAST + 1)])
    gated = apply_disclosure(TB.explain(t))
    assert check_disclosure(gated) == []
    assert gated.filter(pl.col("indicator_id") == "O26")["suppressed"].any()      # small cells are hidden
    report = TB.check(gated.drop("suppression_reason"), min_n=20)
    assert report.contract_success, report.failures
