"""Register indicators O04-O18 (indicators/register.py): tiny hand-built cases per rule, plus one run on
synthetic data through the real sources -> core pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.indicators import register as R
from monitor_dagster.indicators.table import COLUMNS, SCHEMA
from monitor_dagster_tests import _frames as frames

D = dt.date
Y = 2019


def _pop(*ids, student=(), pensioner=(), no_age=(), nonwestern=()):
    """Persons of the core population (shared builder: monitor_dagster_tests/_frames.py)."""
    return frames.population(*ids, student=student, pensioner=pensioner, no_age=no_age, nonwestern=nonwestern)


def _secm(spec):
    """spec: {person: [(first month, last month, SECM, year), ...]} -> core secm_months rows."""
    rows = []
    for pid, spells in spec.items():
        for m0, m1, code, year in spells:
            rows += [{"person_id": pid, "month": D(year, m, 1), "SECM": code} for m in range(m0, m1 + 1)]
    return pl.LazyFrame(rows, schema={"person_id": pl.Int64, "month": pl.Date, "SECM": pl.String})


def _jm(rows):
    """rows: (person, job, month, basisuren, basisloon, verloonde_uren, contracturen, days, contract, substantial)."""
    cols = ["person_id", "IKVID", "month", "basisuren", "basisloon", "verloonde_uren", "contracturen", "days",
            "contract", "substantial"]
    data = [dict(zip(cols, (p, j, D(Y, m, 1), float(h), float(l), float(v), c, float(d), k, s)))
            for p, j, m, h, l, v, c, d, k, s in rows]
    return pl.LazyFrame(data, schema={"person_id": pl.Int64, "IKVID": pl.Int64, "month": pl.Date,
                                      "basisuren": pl.Float64, "basisloon": pl.Float64, "verloonde_uren": pl.Float64,
                                      "contracturen": pl.Float64, "days": pl.Float64, "contract": pl.String,
                                      "substantial": pl.Boolean})


def _full_year(p, j, hours=130.0, contract="O", contracturen=30.0, wage=20.0, months=range(1, 13)):
    days = {m: (D(Y + (m == 12), m % 12 + 1, 1) - D(Y, m, 1)).days for m in range(1, 13)}
    return [(p, j, m, hours, hours * wage, hours, contracturen, days[m], contract, True) for m in months]


def _total(t: pl.DataFrame, indicator: str, measure: str | None = None, herkomst: str = "totaal",
           kwartaal: str = "totaal"):
    f = t.filter((pl.col("indicator_id") == indicator) & (pl.col("herkomst") == herkomst)
                 & (pl.col("kwartaal") == kwartaal))
    for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "regio", "randstad", "asielstatus", "inkomensklasse"):
        f = f.filter(pl.col(d) == "totaal")
    if measure is not None:
        f = f.filter(pl.col("measure") == measure)
    assert f.height == 1, f
    return f.row(0, named=True)


def _contract(t: pl.DataFrame):
    assert t.columns == COLUMNS and dict(t.schema) == SCHEMA


# ------------------------------------------------------------------------------------------ O11-O18
def test_benefit_share_and_months_from_secm():
    pop = _pop(1, 2, 3, 4, 5, 6, student=(3,), pensioner=(6,), no_age=(5,))
    secm = _secm({1: [(1, 3, "21", Y), (11, 12, "22", Y - 1), (4, 12, "11", Y)],   # bijstand only in t-1
                  2: [(1, 2, "22", Y), (3, 5, "11", Y), (6, 8, "22", Y)],           # 2 + 3 months bijstand
                  3: [(1, 12, "22", Y)],                                             # student: excluded
                  4: [(1, 12, "11", Y)],
                  5: [(1, 12, "22", Y)],                                             # outside 15-AOW
                  6: [(1, 12, "24", Y)]})                                            # pensioner: excluded
    share = R.o11_o14_benefit_share(pop, secm, Y)
    _contract(share)
    assert _total(share, "O11")["value"] == pytest.approx(100 / 3) and _total(share, "O11")["n"] == 3
    assert _total(share, "O12")["value"] == pytest.approx(100 / 3)
    assert _total(share, "O13")["value"] == 0.0 and _total(share, "O14")["value"] == 0.0
    assert set(share["indicator_id"]) == {"O11", "O12", "O13", "O14"}
    dur = R.o15_o18_benefit_months(pop, secm, Y)
    _contract(dur)
    assert _total(dur, "O15")["value"] == 3 and _total(dur, "O15")["n"] == 1
    assert _total(dur, "O16")["value"] == 5 and _total(dur, "O16")["unit"] == "maanden"
    assert set(dur["indicator_id"]) == {"O15", "O16"}                               # nobody with AO/overig


# ------------------------------------------------------------------------------------------ O04, O05
def test_vast_contract_by_most_basic_hours():
    pop = _pop(1, 2, 3, 4, student=(4,))
    jm = _jm(_full_year(1, 10, hours=20, contract="O") + _full_year(1, 11, hours=30, contract="B")  # -> B
             + _full_year(2, 20, contract="O")
             + _full_year(3, 30, hours=20, contract="O") + _full_year(3, 31, hours=20, contract="B")  # tie -> O
             + [(2, 21, 5, 500.0, 1e4, 500.0, 0.0, 31.0, "B", False)]                  # not substantial
             + _full_year(4, 40, contract="O"))                                           # student
    t = R.o04_vast_contract(pop, jm, Y)
    _contract(t)
    row = _total(t, "O04")
    assert row["n"] == 3 and row["value"] == pytest.approx(200 / 3) and row["trend_break"] is None
    # the break is named in O04's spec; the trend gate marks it (one place: specs.yaml + trend_breaks.yaml)
    from monitor_dagster.gates import trend_breaks as TB
    assert set(TB.explain(R.o04_vast_contract(pop, jm.with_columns(pl.col("month").dt.offset_by("-2y")), 2017))
               ["trend_break"]) == {"payrolling_2017"}


def test_zzp_share_among_the_working():
    pop = _pop(1, 2, 3, 4)
    secm = _secm({1: [(1, 7, "13", Y), (8, 12, "11", Y)],   # self-employed most months -> zzp
                  2: [(1, 12, "11", Y)],
                  3: [(1, 12, "22", Y)],                     # not working: outside the denominator
                  4: [(1, 6, "14", Y), (7, 12, "12", Y)]})   # tie: not zzp
    t = R.o05_zzp(pop, secm, Y)
    _contract(t)
    assert _total(t, "O05")["n"] == 3 and _total(t, "O05")["value"] == pytest.approx(100 / 3)


# ------------------------------------------------------------------------------------------ O06-O08
def test_hours_per_week_of_the_period_worked_and_hourly_wage():
    pop = _pop(1, 2, 3)
    jm = _jm([(1, 1, 1, 100, 2000, 110, 24, 31, "O", True),     # two jobs at the same time in January
              (1, 2, 1, 40, 400, 40, 0, 31, "B", True),         # zero-hour contract
              (2, 3, 3, 30, 600, 30, 16, 15, "B", True),        # job change within March: 15 + 16 days
              (2, 4, 3, 32, 640, 32, 16, 16, "O", True),
              (3, 5, 1, 200, 4000, 200, 40, 31, "O", True)])
    secm = _secm({3: [(1, 12, "13", Y)]})                       # self-employed: out of hours and wages
    t = R.o07_uren(pop, jm, Y, secm)
    _contract(t)
    assert _total(t, "O07", "basisuren")["n"] == 2
    assert _total(t, "O07", "basisuren")["value"] == pytest.approx((140 * 7 / 31 + 62 * 7 / 31) / 2)
    assert _total(t, "O07", "verloonde uren")["value"] == pytest.approx((150 * 7 / 31 + 62 * 7 / 31) / 2)
    assert _total(t, "O07", "basisuren nulurencontract")["value"] == pytest.approx(140 * 7 / 31)
    c = R.o06_contracturen(pop, jm, Y, secm)
    # person 1: 24 + 0 contract hours all month; person 2: 16 hours all month over two consecutive jobs
    assert _total(c, "O06")["value"] == pytest.approx((24 + 16) / 2)
    assert R.o06_contracturen(pop, jm, 2015).height == 0                   # SAANTCTRCTURENPWK from 2016
    w = R.o08_uurloon(pop, jm, Y, secm)
    assert _total(w, "O08")["value"] == pytest.approx((2400 / 140 + 1240 / 62) / 2)


def test_hourly_wage_is_weighted_by_basic_hours_over_months():
    pop = _pop(1)
    jm = _jm([(1, 1, 1, 100, 1000, 100, 20, 31, "O", True),    # 10 euro
              (1, 1, 2, 300, 6000, 300, 20, 28, "O", True)])   # 20 euro -> (1000+6000)/400 = 17.5
    assert _total(R.o08_uurloon(pop, jm, Y), "O08")["value"] == pytest.approx(17.5)


# ------------------------------------------------------------------------------------------------ O09
def test_income_capped_at_one_million_and_students_out():
    pop = _pop(1, 2, 3, student=(3,))
    inpa = pl.LazyFrame({"RINPERSOONS": ["R", "R", "R", "S"], "person_id": [1, 2, 3, 4],
                         "INPPERSINK": [1_500_000.0, 20_000.0, 5_000.0, 9.0],
                         "INPPERSPRIM": [1_500_000.0, 0.0, 5_000.0, 9.0],
                         "INPPERSBRUT": [999_999.0, -1_000.0, 5_000.0, 9.0]})
    t = R.o09_inkomen(pop, inpa, Y)
    _contract(t)
    assert _total(t, "O09", "INPPERSPRIM")["value"] == pytest.approx(500_000)
    assert _total(t, "O09", "INPPERSINK")["value"] == pytest.approx(510_000)
    assert _total(t, "O09", "INPPERSBRUT")["value"] == pytest.approx(499_499.5)   # losses kept
    assert _total(t, "O09", "INPPERSPRIM")["n"] == 2
    ipi = inpa.rename({"INPPERSPRIM": "PERSPRIM", "INPPERSINK": "PERSINK", "INPPERSBRUT": "PERSBRUT"})
    assert _total(R.o09_inkomen(pop, ipi, 2010), "O09", "INPPERSPRIM")["value"] == pytest.approx(500_000)


# ------------------------------------------------------------------------------------------------ O10
def test_simultaneous_jobs_categories():
    pop = _pop(1, 2, 3, 4)
    jm = _jm(_full_year(1, 1)                                              # 1.0 -> "1"
             + _full_year(2, 2) + [(2, 3, m, 130, 2600, 130, 30, d, "O", True)   # + 35 days -> 1.1
                                   for m, d in ((1, 31), (2, 4))]
             + _full_year(3, 4) + _full_year(3, 5) + _full_year(3, 6)       # 3.0 -> ">2"
             + _full_year(4, 7, months=range(1, 7)))                        # half a year -> "1"
    n = R.simultaneous_jobs_from_months(jm, Y).collect().sort("person_id")
    assert n["n_jobs"].to_list() == [1.0, 1.1, 3.0, 0.5]
    t = R.o10_banen(pop, jm, Y)
    _contract(t)
    assert _total(t, "O10", "1")["value"] == 50.0 and _total(t, "O10", "1-2")["value"] == 25.0
    assert _total(t, "O10", ">2")["value"] == 25.0


def test_simultaneous_jobs_cap_each_job_at_the_period():
    """Report 3g: a job counts its days of t, at most the days of the period.  SBAANDAGEN of 4-weekly rows can
    give a job-month more days than the month has; the cap is per job, not per person or per month.
    Person 1: job 1 with 40 days in every month of 2019 (480, capped at 365) and job 2 with 35 days: 1.1.
    Person 2: 40 days in January only: 0.1 (40 / 365, nothing capped), K1 0.4 (40 / 90).
    Person 3: 40 days in each of January-March: 120 / 365 = 0.3, K1 capped at 90: 1.0.
    Person 4: a plain full year: 1.0; K2 1.0.
    Person 5: one day over the month in each of January-March (32, 29, 32 days: 93) and a second job of 4 days:
    K1 (90 + 4) / 90 = 1.0, not (93 + 4) / 90 = 1.1 (a month only just over its days still caps the job)."""
    def over(p, j, months):
        return [(p, j, m, 130, 2600, 130, 30, 40, "O", True) for m in months]
    jm = _jm(over(1, 1, range(1, 13)) + [(1, 2, m, 130, 2600, 130, 30, d, "O", True) for m, d in ((1, 31), (2, 4))]
             + over(2, 3, [1]) + over(3, 4, range(1, 4)) + _full_year(4, 5)
             + [(5, 6, m, 130, 2600, 130, 30, d, "O", True) for m, d in ((1, 32), (2, 29), (3, 32))]
             + [(5, 7, 1, 130, 2600, 130, 30, 4, "O", True)])
    n = R.simultaneous_jobs_from_months(jm, Y, quarterly=True).collect()
    got = {(r["person_id"], r["kwartaal"]): round(r["n_jobs"], 9) for r in n.iter_rows(named=True)}
    assert got[(1, None)] == 1.1 and got[(2, None)] == 0.1 and got[(3, None)] == 0.3 and got[(4, None)] == 1.0
    assert got[(1, "K1")] == 1.4            # job 1: 120 days capped at 90, job 2: 35 / 90 = 0.39
    assert got[(2, "K1")] == 0.4 and got[(3, "K1")] == 1.0 and got[(4, "K2")] == 1.0
    assert got[(5, "K1")] == 1.0 and got[(5, None)] == 0.3
    assert n.height == 4 + 4 + 1 + 1 + 4 + 2    # a row per person and period with substantial job-months


# ------------------------------------------------------------------------------------------ quarters
def _quarter(t: pl.DataFrame, indicator: str, kwartaal: str, measure: str | None = None):
    return _total(t, indicator, measure, kwartaal=kwartaal)


def test_quarters_apply_the_yearly_rule_to_the_quarters_months():
    """Report 7.1.3 c: SPOLIS indicators per quarter, consistently: the same rule on the quarter's months.
    Person 1: vast Jan-Jun (130 h/month), tijdelijk Jul-Dec with more hours (150 h): the year counts as
    tijdelijk (most basic hours, report 3d), K1/K2 as vast, K3/K4 as tijdelijk.  Person 2: two full jobs in
    K1 only: in K1 2.0 simultaneous jobs ("1-2"), over the year (90 + 90) / 365 = 0.5 ("1")."""
    pop = _pop(1, 2)
    jm = _jm(_full_year(1, 1, months=range(1, 7)) + _full_year(1, 2, hours=150.0, contract="B", months=range(7, 13))
             + _full_year(2, 3, months=range(1, 4)) + _full_year(2, 4, months=range(1, 4)))
    t = R.o04_vast_contract(pop, jm, Y, quarterly=True)
    _contract(t)
    year = t.filter((pl.col("herkomst") == "totaal") & pl.all_horizontal(
        pl.col(d) == "totaal" for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "kwartaal",
                                         "regio", "randstad", "asielstatus", "inkomensklasse")))
    assert year["value"].item() == 50.0 and year["n"].item() == 2     # person 1 tijdelijk, person 2 vast
    assert _quarter(t, "O04", "K1")["value"] == 100.0 and _quarter(t, "O04", "K1")["n"] == 2
    assert _quarter(t, "O04", "K3")["value"] == 0.0 and _quarter(t, "O04", "K3")["n"] == 1
    assert set(t["kwartaal"]) == {"totaal", "K1", "K2", "K3", "K4"}
    # without quarters: the year only, as before
    assert set(R.o04_vast_contract(pop, jm, Y)["kwartaal"]) == {"totaal"}
    n = R.simultaneous_jobs_from_months(jm, Y, quarterly=True).collect()
    got = {(r["person_id"], r["kwartaal"]): r["n_jobs"] for r in n.iter_rows(named=True)}
    assert got[(2, None)] == 0.5 and got[(2, "K1")] == 2.0 and got[(1, "K3")] == 1.0
    assert (2, "K2") not in got                                         # no job in K2: not in the quarter
    b = R.o10_banen(pop, jm, Y, quarterly=True)
    assert _quarter(b, "O10", "K1", "1-2")["value"] == 50.0 and _quarter(b, "O10", "K1", "1")["value"] == 50.0
    # hours per week of the period worked, per quarter: person 1 worked 150 h/month in K3
    u = R.o07_uren(pop, jm, Y, quarterly=True)
    k3 = _quarter(u, "O07", "K3", "basisuren")
    assert k3["n"] == 1 and k3["value"] == pytest.approx(150 * 7 * 3 / 92)


def test_person_periods_cap_the_days_of_each_month_as_a_month_by_month_sum_does():
    """O06-O08's days count at most the days of each month (report 3c: simultaneous jobs do not count a day
    twice).  _person_periods sums the job-months by period and takes off what a person-month's days exceed its
    month by; here against the plain rule (sum per person-month, cap, then sum per period) on random job-months
    with two or three jobs in a month, 4-weekly rows of more days than the month, unknown hours and days of 0:
    every sum the same integer in fixed point, per year and per quarter, and each flag 1 exactly when a row of
    the period meets its rule."""
    import random

    from monitor_dagster.core.exact import from_fixed

    rnd = random.Random(7)
    rows = []
    for person in range(1, 120):
        for job in range(rnd.choice([1, 1, 2, 3])):
            for m in rnd.sample(range(1, 13), rnd.randint(1, 12)):
                rows.append({"person_id": person, "IKVID": person * 10 + job, "month": dt.date(Y, m, 1),
                             "days": rnd.choice([0.0, 3.0, 14.5, 28.0, 30.0, 31.0, 35.0]),
                             "basisuren": rnd.choice([0.0, 40.0, 120.5, 160.0]), "basisloon": rnd.choice([900.0, 2500.25]),
                             "verloonde_uren": rnd.choice([None, 80.0, 165.0]),
                             "contracturen": rnd.choice([None, 0.0, 12.0, 38.0]),
                             "contract": rnd.choice(["O", "B", "N", None]), "substantial": rnd.random() < 0.9})
    jm = pl.DataFrame(rows).with_columns(pl.col("contract").cast(pl.Enum(["O", "B", "N"]))).lazy()
    mr = R._month_rows(jm, Y).collect()
    days = [f"_d_{c}" for c in R._HOURS]
    sums = [c for c in mr.columns if c not in ("_pm", "_f")]
    # the plain rule: per person-month, cap, then per period
    pm = (mr.group_by("_pm").agg(*(pl.col(c).sum() for c in sums), pl.col("_f").bitwise_or())
          .with_columns(pl.min_horizontal(pl.col(c), R._days_of_month(Y)) for c in days))
    for quarterly in (False, True):
        want = (R._periods_of(pm.lazy(), "_pm", [], sums, quarterly, ors=["_f"]).collect()
                .with_columns(from_fixed(c).alias(c) for c in R._AMOUNTS)
                .with_columns((pl.col(f"_h_{c}") / 7.0).alias(f"_h_{c}") for c, w in R._HOURS.items() if w)
                .with_columns(((pl.col("_f") & (1 << i)) != 0).cast(pl.Int32).alias(f)
                              for i, f in enumerate(R._FLAGS)).drop("_f").sort("_kp"))
        got = R._person_periods(jm, Y, quarterly).collect().sort("_kp")
        assert got.select(want.columns).equals(want)
        assert got.height == want.height > 100 and set(got["kwartaal"].drop_nulls()) == ({"K1", "K2", "K3", "K4"}
                                                                                        if quarterly else set())
    # some person-month did exceed its month (else the correction was never tried)
    capped = mr.group_by("_pm").agg(pl.col("_d_basisuren").sum()).filter(
        pl.col("_d_basisuren") > R._days_of_month(Y))
    assert capped.height > 10
    # the flags against their rules, read from the job-months themselves
    sub = R._substantial_year(jm, Y).collect()
    y = R._person_periods(jm, Y, False).collect()
    nob = sub.filter(pl.col("contract").is_in(["O", "B"]))["person_id"].unique()
    assert set(y.filter(pl.col("_nob") == 1)["person_id"]) == set(nob)
    z = sub.filter(pl.col("contracturen") == 0)["person_id"].unique()
    assert set(y.filter(pl.col("_z") == 1)["person_id"]) == set(z)


# ------------------------------------------------------------------------------------------ synthetic
def test_benefits_on_synthetic_data_recover_the_bijstand_gap(core_wh):
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(core_wh, layer="core")
    pop, secm = w.read("population", "2019"), w.read("secm_months", "2019")
    t = R.o11_o14_benefit_share(pop, secm, 2019)
    _contract(t)
    assert set(t["indicator_id"]) == {"O11", "O12", "O13", "O14"}
    assert t["value"].is_between(0, 100).all() and (t["n"] > 0).all()
    nw, native = _total(t, "O12", herkomst="niet-westers"), _total(t, "O12", herkomst="geen migratieachtergrond")
    assert nw["value"] > native["value"]                                 # planted: bijstand inflow higher
    # denominator = population without students/pensioners, 15 to AOW age
    base = pop.filter(~pl.col("student") & ~pl.col("pensioner") & pl.col("leeftijd").is_not_null()).collect()
    assert _total(t, "O11")["n"] == base.height
    # the share agrees with a direct count on the SECM months of 2019
    direct = (secm.filter((pl.col("month").dt.year() == 2019) & (pl.col("SECM").cast(pl.String) == "22"))
              .select("person_id").unique().collect().join(base, on="person_id").height)
    assert _total(t, "O12")["value"] == pytest.approx(100 * direct / base.height)
