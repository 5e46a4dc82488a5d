"""Planted truths of the generator that no other test compared with the pipeline (issue 16, item 4), each
checked on the warehouse the real sources and core assets build, the indicators through the engine
(``indicators.engine.compute_family``):

* ``students_pensioners_dec`` (everybody in NL on 31 December) and ``students_pensioners_dec_whole_year``
  (per herkomst cell of the whole-year population): the pipeline's SECM flags with ``student_rule="dec31"``,
  exactly;
* ``payroll_jobs_reclassified_2017`` / ``payrolling_2017``: the reclassified jobs and their share of all jobs
  of 2017, and the shift the reclassification causes in O04 (technisch rapport Monitor gelijke kansen, §4.2,
  footnote 13), exactly: O04 on the warehouse as it is and on the same job-months with the reclassified jobs
  recorded O as before 2017 differ by the truth's ``o04_flipped`` persons;
* ``top_incomes_above_cap``: the persons O09 caps (§4.2, 1 million euro) and O09's means against the capped
  latent incomes, to the cent;
* rates in ``parameters`` that no test read (NON_R_JOB_SHARE, FOUR_WEEKLY_EMPLOYER_SHARE, P_INTERN,
  EBB_SAMPLE_SHARE) and the generator's 1 % missing incomes: binomial counts within 3 standard errors.

Zones: ``core_wh`` (conftest: 2,000 persons 2018-2019, seed 5) and ``payroll_wh`` (below: 2,000 persons 2016-2017,
seed 5, only the files these tests read), the first zone with the payrolling break in it.  The latent world
of a zone is drawn again from the generator's own streams (``latent``) where a test needs more than the counts
of the truth file (which jobs are payroll jobs, the incomes per person).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
from pathlib import Path

import polars as pl
import pytest

from monitor_dagster import reference
from monitor_dagster.core.population import population, student_pensioner_flags
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.warehouse import Warehouse

#: the files the payrolling zone needs: the population (with GBAMIGRATIEBUS for the short stays every analysis
#: leaves out, report §2.2), SPOLISBUS for O04 and INPATAB for O09
PAYROLL_FILES = ("GBAADRESOBJECTBUS", "GBAPERSOONTAB", "GBAMIGRATIEBUS", "SECMBUS", "SPOLISBUS", "INPATAB")
#: number of standard errors a binomial count may lie from its expectation (the rate tests)
K_SE = 3.0
#: the dimensions besides herkomst; the totaal row has ``totaal`` in all of them
OTHER_DIMENSIONS = ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal",
                    "regio", "randstad", "asielstatus", "inkomensklasse")


# ------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def payroll_wh(tmp_path_factory) -> Path:
    """2,000 persons 2016-2017 (seed 5) through sources and core: the payrolling break of 2017 with 2016 before
    it (about 25 s)."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("payroll_wh")
    res = generate(SynthConfig(landing=root / "landing", persons=2000, first_year=2016, last_year=2017, seed=5,
                               fmt="parquet", only_files=PAYROLL_FILES))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, root / "wh", instance=inst, layers=("sources", "core"))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    return root / "wh"


def truth_of(wh: Path) -> dict:
    return json.loads((wh.parent / "landing.truth.json").read_text())


@lru_cache(maxsize=2)
def _latent(persons: int, seed: int, first_year: int, last_year: int):
    """The zone's latent world again, from the streams ``synth.generate`` draws it with (about 1 s)."""
    from monitor_dagster.synth.generate import latent_world

    w = latent_world(persons, seed, first_year, last_year)
    return w.demo, w.lab, w.top


def latent(truth: dict):
    c = truth["config"]
    return _latent(c["persons"], c["seed"], c["first_year"], c["last_year"])


def years_of(truth: dict) -> range:
    return range(truth["config"]["first_year"], truth["config"]["last_year"] + 1)


def totaal(table: pl.DataFrame, indicator: str, measure: str | None = None) -> dict:
    """The row of all persons (herkomst and every other dimension ``totaal``)."""
    t = table.filter((pl.col("indicator_id") == indicator) & (pl.col("herkomst") == "totaal"),
                     *[pl.col(d) == "totaal" for d in OTHER_DIMENSIONS])
    if measure is not None:
        t = t.filter(pl.col("measure") == measure)
    assert t.height == 1, t
    return t.row(0, named=True)


def numerator(row: dict) -> int:
    """Persons counted in a % cell: value x n / 100, a whole number up to float rounding."""
    x = row["value"] * row["n"] / 100
    assert abs(x - round(x)) < 1e-6, row
    return round(x)


def within(observed: int, n: int, p: float) -> tuple[bool, str]:
    """A binomial count against n x p: |observed - n p| <= K_SE x sqrt(n p (1 - p))."""
    se = math.sqrt(n * p * (1 - p))
    return abs(observed - n * p) <= K_SE * se, f"{observed} of {n}, expected {n * p:.1f} +- {K_SE} x {se:.2f}"


# ------------------------------------------------------------------- (a) students and pensioners, 31 Dec
CELL_GEN = {None: 0, "eerste": 1, "tweede": 2}


@pytest.mark.parametrize("zone", ["core_wh", "payroll_wh"])
def test_students_and_pensioners_on_31_december_equal_the_truth(zone, request):
    """``students_pensioners_dec`` counts everybody in NL on 31 December whose latent state that day is school
    (SECM 26/31) or pension (25); ``students_pensioners_dec_whole_year`` the same per herkomst x generation cell
    of the persons living in NL all year.  The pipeline's flags with ``student_rule="dec31"`` (a SECM spell of
    that kind covering 31 December) give both exactly: over all persons of SECMBUS, and in ``core.population``.
    Not the monitor's default ``majority`` rule, which counts other persons: core_wh 2019, 407 students and 387
    pensioners on 31 December, 423 and 375 by the majority of the year's days (school-leavers and new pensioners
    of the year); all persons in NL on 31 December: 425 and 389."""
    wh = request.getfixturevalue(zone)
    truth, w = truth_of(wh), Warehouse(wh)
    secm = w.read("SECMBUS", "latest")
    for year in years_of(truth):
        flags = student_pensioner_flags(secm, year, rule="dec31").collect()
        assert {"students": int(flags["student"].sum()), "pensioners": int(flags["pensioner"].sum())} \
            == truth["students_pensioners_dec"][str(year)], year
        pop = population(year, w.read("GBAADRESOBJECTBUS", "latest"), secm, w.read("GBAPERSOONTAB", "latest"),
                         w.read("GBAMIGRATIEBUS", "latest"), student_rule="dec31").collect()
        cells = (pop.group_by("herkomst_group", "generatie")
                 .agg(pl.col("student").sum().alias("students"), pl.col("pensioner").sum().alias("pensioners")))
        got = {f"{'Nederland' if g == 'geen migratieachtergrond' else g}|{CELL_GEN[gen]}":
               {"students": int(s), "pensioners": int(p)} for g, gen, s, p in cells.iter_rows()}
        expected = truth["students_pensioners_dec_whole_year"][str(year)]
        assert got == expected, year
        assert sum(c["students"] for c in expected.values()) > 0 and sum(c["pensioners"] for c in expected.values()) > 0


# ------------------------------------------------------------------------------- (b) payrolling 2017
def payroll_job_ids(truth: dict, year: int = 2017) -> pl.Series:
    """IKVIDs (= latent job ids) of the payroll jobs active in ``year``: the jobs the break reclassifies."""
    _, lab, _ = latent(truth)
    a, b = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return lab.jobs.filter(pl.col("payroll") & (pl.col("start") <= b)
                           & (pl.col("end").is_null() | (pl.col("end") >= a)))["job_id"]


def test_reclassified_jobs_and_their_share(payroll_wh):
    """Every payroll job of 2017 (``payroll_jobs_reclassified_2017``) is in the pipeline's job-months of 2017,
    recorded B in each month of 2017 and O in each month before; no other job switches from O in December 2016
    to B in January 2017 (``payroll_jobs_2016_and_2017`` are exactly those that do); their share of the
    pipeline's jobs of 2017 (RINPERSOONS R) is the truth's ``payroll_jobs / jobs``."""
    truth = truth_of(payroll_wh)
    pr = truth["payrolling_2017"]
    ids = payroll_job_ids(truth)
    assert len(ids) == pr["payroll_jobs"] == truth["payroll_jobs_reclassified_2017"] > 0
    core = Warehouse(payroll_wh, layer="core")
    jm = core.read("job_months", "2017").select("IKVID", "month", pl.col("contract").cast(pl.String)).collect()
    jm16 = core.read("job_months", "2016").select("IKVID", "month", pl.col("contract").cast(pl.String)).collect()
    of_2017 = jm.filter(pl.col("month").dt.year() == 2017)
    jobs_2017 = of_2017["IKVID"].unique()
    assert jobs_2017.len() == pr["jobs"]
    mine = of_2017.filter(pl.col("IKVID").is_in(ids.implode()))
    assert mine["IKVID"].n_unique() == len(ids)
    assert (mine["contract"] == "B").all(), "reclassified jobs are flex in every month of 2017"
    before = pl.concat([jm16, jm.filter(pl.col("month").dt.year() == 2016)]).filter(pl.col("IKVID").is_in(ids.implode()))
    assert before.height > 0 and (before["contract"] == "O").all(), "the same jobs were vast up to 2016"
    dec, jan = dt.date(2016, 12, 1), dt.date(2017, 1, 1)
    switched = (jm.filter((pl.col("month") == dec) & (pl.col("contract") == "O")).select("IKVID")
                .join(jm.filter((pl.col("month") == jan) & (pl.col("contract") == "B")).select("IKVID"), on="IKVID"))
    assert switched.height == truth["payroll_jobs_2016_and_2017"] > 0
    assert switched["IKVID"].is_in(ids.implode()).all(), "only payroll jobs go from O to B at the new year"
    assert mine["IKVID"].n_unique() / jobs_2017.len() == pr["payroll_jobs"] / pr["jobs"]


def test_o04_payrolling_shift_equals_the_flipped_persons(payroll_wh):
    """O04 2017 through the engine, on the warehouse as it is and on the same job-months with the reclassified
    jobs recorded O as before 2017 (the break undone, nothing else touched: hours, wages and substantiality do
    not depend on O/B): the numerators are the truth's ``o04_vast`` and ``o04_vast_without_reclassification``,
    so the break lowers O04 by exactly ``o04_flipped`` persons (the persons whose contract with the most basic
    hours turns from vast to flex), i.e. by 100 x o04_flipped / n percentage points; n is ``o04_persons``.

    The truth applies the O04 rule to latent hours (hours x days); SPOLIS rounds and adds +-3% noise to the
    basic hours, so a person whose O and B hours are nearly equal, or whose only job is exactly 12 hours a week,
    could come out otherwise in the file.  Measured on this zone: no such person, every count equal (n 760,
    vast 585 as recorded, 615 without the break, 30 flipped: 77.0 % instead of 80.9 %)."""
    truth = truth_of(payroll_wh)
    pr = truth["payrolling_2017"]
    frames = ENG.warehouse_frames(payroll_wh, "contracts_hours", 2017)
    ids = payroll_job_ids(truth)
    month_2017 = pl.col("month").dt.year() == 2017
    undone = dict(frames)
    undone["core/job_months"] = frames["core/job_months"].with_columns(
        pl.when(pl.col("IKVID").is_in(ids.implode()) & month_2017).then(pl.lit("O"))
        .otherwise(pl.col("contract").cast(pl.String)).cast(frames["core/job_months"].collect_schema()["contract"])
        .alias("contract"))
    actual = totaal(ENG.compute_family("contracts_hours", frames, 2017).table, "O04")
    before = totaal(ENG.compute_family("contracts_hours", undone, 2017).table, "O04")
    assert actual["n"] == before["n"] == pr["o04_persons"]
    assert numerator(actual) == pr["o04_vast"]
    assert numerator(before) == pr["o04_vast_without_reclassification"]
    assert numerator(before) - numerator(actual) == pr["o04_flipped"] > 0
    assert before["value"] - actual["value"] == pytest.approx(100 * pr["o04_flipped"] / pr["o04_persons"], abs=1e-9)


# ------------------------------------------------------------------------------ (c) O09 and the cap
def latent_incomes(truth: dict, year: int) -> pl.DataFrame:
    """pid and the three INPATAB incomes of ``year`` of the latent world, capped at the truth's cap, for the
    persons of O09's base population (synth.truth._base_population) whose income is not written as missing;
    ``above`` = INPPERSPRIM above the cap before capping.  The incomes are the generator's (synth/income.py):
    primary = SPOLIS wages of the year (the SPOLISBUS projection of its own stream) + profit (or a planted top
    income), gross = primary + benefits, personal = 86 % of gross, each rounded to the euro."""
    from monitor_dagster.synth import spolis as sp
    from monitor_dagster.synth.generate import sub_rng
    from monitor_dagster.synth.income import income_draws
    from monitor_dagster.synth.truth import _base_population

    demo, lab, top = latent(truth)
    seed, cap = truth["config"]["seed"], float(truth["top_incomes_above_cap"]["cap"])
    persons = demo.persons
    rows = sp.project_spolisbus(lab.jobs, persons, year, sub_rng(seed, "SPOLISBUS", year))
    wages = (rows.filter(pl.col("RINPERSOONS") == "R").group_by("RINPERSOON").agg(pl.col("SLNINGLD").sum().alias("wage"))
             .join(persons.select("pid", pl.col("rinpersoon").alias("RINPERSOON")), on="RINPERSOON").select("pid", "wage"))
    inc = (income_draws(lab, year, top, sub_rng(seed, "INPATAB", year)).join(wages, on="pid", how="left")
           .with_columns(pl.col("wage").fill_null(0.0))
           .with_columns((pl.col("wage") + pl.col("profit")).round(0).alias("INPPERSPRIM"))
           .with_columns((pl.col("INPPERSPRIM") + pl.col("benefits")).round(0).alias("INPPERSBRUT"))
           .with_columns((pl.col("INPPERSBRUT") * 0.86).round(0).alias("INPPERSINK")))
    base = _base_population(lab, persons, demo.residence, year)
    inc = inc.filter(~pl.col("missing") & pl.Series(base[inc["pid"].to_numpy()]))
    return inc.select("pid", (pl.col("INPPERSPRIM") > cap).alias("above"),
                      *[pl.col(c).clip(upper_bound=cap) for c in ("INPPERSPRIM", "INPPERSINK", "INPPERSBRUT")])


@pytest.mark.parametrize("zone", ["core_wh", "payroll_wh"])
def test_o09_caps_the_planted_top_incomes(zone, request):
    """``top_incomes_above_cap.by_year``: the planted top earners with an income in INPATAB of the year
    (``in_inpatab``: every income of theirs is above 1 million, and nobody else's is) and of those the persons of
    O09's population (``in_base_population``: the ones O09 caps).  The pipeline's count of incomes O09 caps is O09
    itself on an INPATAB whose incomes are replaced by 1 (above the cap) or 0: its mean x n.  O09's means equal
    the means of the capped latent incomes (:func:`latent_incomes`) to the cent, with the same n; without the cap
    they would be 200-2,000 euro higher (a top income of 1.2-3 million among about 1,100 persons)."""
    wh = request.getfixturevalue(zone)
    truth = truth_of(wh)
    cap = float(truth["top_incomes_above_cap"]["cap"])
    capped_total = 0
    for year in years_of(truth):
        t = truth["top_incomes_above_cap"]["by_year"][str(year)]
        inpatab = Warehouse(wh).read("INPATAB", str(year))
        raw = inpatab.filter(pl.col("RINPERSOONS") == "R").collect()
        for col in ("INPPERSPRIM", "INPPERSINK", "INPPERSBRUT"):
            assert int((raw[col] > cap).sum()) == t["in_inpatab"], (year, col)
        frames = ENG.warehouse_frames(wh, "income", year)
        table = ENG.compute_family("income", frames, year).table
        flags = dict(frames)
        flags["sources/INPATAB"] = inpatab.with_columns(
            (pl.col(c) > cap).cast(pl.Float64).alias(c) for c in ("INPPERSPRIM", "INPPERSINK", "INPPERSBRUT"))
        counted = totaal(ENG.compute_family("income", flags, year).table, "O09", "INPPERSPRIM")
        assert round(counted["value"] * counted["n"]) == t["in_base_population"], year
        capped_total += t["in_base_population"]
        lat = latent_incomes(truth, year)
        assert int(lat["above"].sum()) == t["in_base_population"], year
        for col in ("INPPERSPRIM", "INPPERSINK", "INPPERSBRUT"):
            row = totaal(table, "O09", col)
            assert row["n"] == lat.height, (year, col)
            assert row["value"] == pytest.approx(lat[col].mean(), abs=0.005), (year, col)
    assert capped_total > 0, "the zone must put a planted top income into O09's population"


# ------------------------------------------------------------------------------------- (d) planted rates
def test_rate_of_jobs_repeated_for_cross_border_workers(core_wh):
    """NON_R_JOB_SHARE: each job (IKV) of a year is repeated for a person with RINPERSOONS S with this
    probability (synth/spolis.py), independently per job and year, so the S jobs of the ingested SPOLISBUS of
    2018 and 2019 together are Binomial(R jobs, p): within 3 SE = 3 sqrt(N p (1 - p))."""
    truth = truth_of(core_wh)
    p = truth["parameters"]["NON_R_JOB_SHARE"]
    k = n = 0
    for year in years_of(truth):
        jobs = Warehouse(core_wh).read("SPOLISBUS", str(year)).select("RINPERSOONS", "IKVID").unique().collect()
        k += int((jobs["RINPERSOONS"] == "S").sum())
        n += int((jobs["RINPERSOONS"] == "R").sum())
    ok, msg = within(k, n, p)
    assert ok and k > 0, msg


#: broad sectors whose employers pay per 4 weeks with probability 0.5 instead of FOUR_WEEKLY_EMPLOYER_SHARE
#: (synth/labour.py make_employers; docs/synthetic_data.md "SPOLISBUS details")
FOUR_WEEKLY_HALF = ("uitzendbedrijven", "horeca", "bouw")


def test_rate_of_employers_paying_per_four_weeks(core_wh):
    """FOUR_WEEKLY_EMPLOYER_SHARE (0.5 in uitzendbedrijven, horeca and bouw), drawn per employer independently of
    its size and jobs.  An employer is classified when one of its jobs runs from before 28 January to after
    29 January of a year: a 4-weekly payroll then has a period starting on 29 January, a monthly one cannot.
    Sector from SSECT (reference/sectors.csv).  Each group's count of 4-weekly employers within 3 SE of
    Binomial(classified employers, p)."""
    truth = truth_of(core_wh)
    sector = dict(zip(reference.sectors()["code"].to_list(), reference.sectors()["monitor_sector"].to_list()))
    per_year = []
    for year in years_of(truth):
        rows = (Warehouse(core_wh).read("SPOLISBUS", str(year)).filter(pl.col("RINPERSOONS") == "R")
                .select("IKVID", "SBEID", "SSECT", "SDATUMAANVANGIKV", "SDATUMAANVANGIKO", "SDATUMEINDEIKO").collect())
        jan28, jan29, jan30 = dt.date(year, 1, 28), dt.date(year, 1, 29), dt.date(year, 1, 30)
        spanning = (rows.filter(pl.col("SDATUMAANVANGIKV") <= jan28).group_by("IKVID", "SBEID")
                    .agg((pl.col("SDATUMAANVANGIKO") == jan29).any().alias("four"),
                         pl.col("SDATUMEINDEIKO").max().alias("last"), pl.col("SSECT").first())
                    .filter(pl.col("last") >= jan30))
        per_year.append(spanning.select("SBEID", "four", "SSECT"))
    emp = (pl.concat(per_year).group_by("SBEID").agg(pl.col("four").any(), pl.col("SSECT").first())
           .with_columns(pl.col("SSECT").replace_strict(sector).alias("broad")))
    half = emp["broad"].is_in(FOUR_WEEKLY_HALF)
    for sel, p in ((~half, truth["parameters"]["FOUR_WEEKLY_EMPLOYER_SHARE"]), (half, 0.5)):
        group = emp.filter(sel)
        ok, msg = within(int(group["four"].sum()), group.height, p)
        assert ok and group.height >= 20, msg


def test_rate_of_interns_among_student_jobs(core_wh):
    """P_INTERN: of the side jobs of pupils and students (a job that starts the day the person's SECM 26 spell
    starts: the generator begins both together), this share is an internship (SSOORTBAAN 2), and no other job is.
    Jobs active in 2018-2019 (ingested SPOLISBUS, each IKV once; SECMBUS latest): within 3 SE of
    Binomial(student jobs, p)."""
    truth = truth_of(core_wh)
    w = Warehouse(core_wh)
    starts = (w.read("SECMBUS", "latest").filter(pl.col("SECM").cast(pl.String) == "26")
              .select("person_id", pl.col("AANVSECM").alias("SDATUMAANVANGIKV")).unique().collect())
    jobs = (pl.concat([w.read("SPOLISBUS", str(y)).filter(pl.col("RINPERSOONS") == "R")
                       .select("person_id", "IKVID", "SDATUMAANVANGIKV", pl.col("SSOORTBAAN").cast(pl.String)).collect()
                       for y in years_of(truth)]).unique("IKVID", keep="last"))
    student = jobs.join(starts, on=["person_id", "SDATUMAANVANGIKV"], how="semi")
    other = jobs.join(starts, on=["person_id", "SDATUMAANVANGIKV"], how="anti")
    assert int((other["SSOORTBAAN"] == "2").sum()) == 0
    ok, msg = within(int((student["SSOORTBAAN"] == "2").sum()), student.height, truth["parameters"]["P_INTERN"])
    assert ok and student.height >= 50, msg


def test_rate_of_ebb_respondents(core_wh):
    """EBB_SAMPLE_SHARE: each person of 15-89 in NL (end of January) is an EBB respondent of the year with this
    probability (synth/ebb.py).  Among the persons of the pipeline's core population (in NL all year, so in NL
    then) aged 15-89 on 1 January, the respondents of the ingested EBBNW are Binomial(N, p) per year, the years
    independent: the sum within 3 SE.  (core's completed years and the generator's days / 365.25 may disagree
    for a person whose birthday is 1 January; far below one SE.)"""
    truth = truth_of(core_wh)
    w, core = Warehouse(core_wh), Warehouse(core_wh, layer="core")
    k = n = 0
    for year in years_of(truth):
        pop = core.read("population", str(year)).filter(pl.col("age_jan1").is_between(15, 89)).select("person_id")
        resp = w.read("EBBNW", str(year)).filter(pl.col("RINPERSOONS") == "R").select("person_id").unique()
        n += pop.select(pl.len()).collect().item()
        k += pop.join(resp, on="person_id", how="semi").select(pl.len()).collect().item()
    ok, msg = within(k, n, truth["parameters"]["EBB_SAMPLE_SHARE"])
    assert ok, msg


#: share of INPATAB records written as missing (9999999999; synth/income.py income_draws, a literal there)
MISSING_INCOME_SHARE = 0.01


def test_rate_of_missing_incomes(core_wh):
    """Each INPATAB record is written as missing (9999999999) with probability 0.01, independently per record
    and year; the ingest turns the code into null.  Records of 2018 and 2019 with a null INPPERSPRIM (the three
    incomes missing together): within 3 SE of Binomial(records, 0.01)."""
    truth = truth_of(core_wh)
    k = n = 0
    for year in years_of(truth):
        inp = Warehouse(core_wh).read("INPATAB", str(year)).filter(pl.col("RINPERSOONS") == "R").collect()
        miss = inp["INPPERSPRIM"].is_null()
        assert (miss == inp["INPPERSINK"].is_null()).all() and (miss == inp["INPPERSBRUT"].is_null()).all()
        k += int(miss.sum())
        n += inp.height
    ok, msg = within(k, n, MISSING_INCOME_SHARE)
    assert ok and k > 0, msg
