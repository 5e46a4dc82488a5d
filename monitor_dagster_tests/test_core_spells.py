"""Core spells (issue 4): job-months, substantial jobs, job spells, simultaneous jobs, SECM months, benefit
months, SRG/PWET provisions, education careers.

Hand-built tiny frames in the warehouse's normalised form for the rules, plus one small synthetic zone
(generated and ingested once per module) for the invariants.  Each test cites the report paragraph it checks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from monitor_dagster import reference
from monitor_dagster.core.benefits import (benefit_months_in_year, benefit_spells, provision_spells,
                                           trajectory_spells)
from monitor_dagster.core.education import education_careers
from monitor_dagster.core.jobs import (contract_by_basic_hours, is_substantial_job, job_months, job_spells,
                                       main_job, simultaneous_jobs)
from monitor_dagster.core.secm import secm_benefit_months, secm_months

D = dt.date
RINS = pl.Enum(["R", "S", "A", "O"])
CONTRACT = pl.Enum(["O", "B", "N"])
SOORTBAAN = pl.Enum(["1", "2", "3", "4", "5", "9"])


def month_end(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def spolis(rows: list[dict]) -> pl.LazyFrame:
    """SPOLIS rows as the warehouse holds them.  Per row: person, ikv, start, end (the IKO period), hours
    (SBASISUREN), and optionally wage (hourly, default 20), contract, soortbaan, sect, rins, days."""
    out = []
    for r in rows:
        days = r.get("days", (r["end"] - r["start"]).days + 1)
        hours = r["hours"]
        out.append({
            "RINPERSOONS": r.get("rins", "R"), "person_id": r["person"], "IKVID": r["ikv"],
            "SBEID": r.get("sbeid", f"B{r['ikv']}"), "SDATUMAANVANGIKO": r["start"], "SDATUMEINDEIKO": r["end"],
            "SDATUMAANVANGIKV": D(2010, 1, 1), "SDATUMEINDEIKV": None,
            "SBASISLOON": r.get("loon", round(hours * r.get("wage", 20.0), 6)), "SBASISUREN": float(hours),
            "SAANTVERLU": float(hours) + r.get("overwerk", 0.0), "SAANTCTRCTURENPWK": r.get("ctr", 38.0),
            "SBAANDAGEN": float(days), "SCONTRACTSOORT": r.get("contract", "O"),
            "SSOORTBAAN": r.get("soortbaan", "9"), "SSECT": r.get("sect", "35"),
        })
    schema = {"RINPERSOONS": RINS, "person_id": pl.Int64, "IKVID": pl.Int64, "SBEID": pl.Utf8,
              "SDATUMAANVANGIKO": pl.Date, "SDATUMEINDEIKO": pl.Date, "SDATUMAANVANGIKV": pl.Date,
              "SDATUMEINDEIKV": pl.Date, "SBASISLOON": pl.Float64, "SBASISUREN": pl.Float64,
              "SAANTVERLU": pl.Float64, "SAANTCTRCTURENPWK": pl.Float64, "SBAANDAGEN": pl.Float64,
              "SCONTRACTSOORT": CONTRACT, "SSOORTBAAN": SOORTBAAN, "SSECT": pl.Utf8}
    return pl.DataFrame(out, schema=schema).lazy()


def monthly_rows(person: int, ikv: int, first: dt.date, last: dt.date, hours_pw: float = 38.0, **kw) -> list[dict]:
    """Monthly-payroll rows of one job from ``first`` to ``last`` (days included), ``hours_pw`` hours/week."""
    rows, m = [], first.replace(day=1)
    while m <= last:
        a, b = max(m, first), min(month_end(m), last)
        days = (b - a).days + 1
        rows.append({"person": person, "ikv": ikv, "start": a, "end": b, "hours": hours_pw * days / 7, **kw})
        m = month_end(m) + dt.timedelta(days=1)
    return rows


# ------------------------------------------------------------------------------------------- job-months
def test_four_weekly_rows_make_one_job_month():
    """Report 5.2 / CBS file documentation: SPOLIS rows are payroll period x month overlaps; a 4-weekly payroll gives
    up to 3 rows in a month, which collapse to one job-month (hours and wages summed, contract of the last
    row)."""
    rows = [
        {"person": 1, "ikv": 10, "start": D(2019, 1, 1), "end": D(2019, 1, 2), "hours": 4, "contract": "B"},
        {"person": 1, "ikv": 10, "start": D(2019, 1, 3), "end": D(2019, 1, 30), "hours": 50, "contract": "B"},
        {"person": 1, "ikv": 10, "start": D(2019, 1, 31), "end": D(2019, 1, 31), "hours": 2, "contract": "O"},
        {"person": 1, "ikv": 10, "start": D(2019, 2, 1), "end": D(2019, 2, 27), "hours": 48, "contract": "O"},
    ]
    jm = job_months(spolis(rows), None, 2019).collect().sort("month")
    assert jm.height == 2
    jan = jm.row(0, named=True)
    assert jan["month"] == D(2019, 1, 1)
    assert jan["basisuren"] == pytest.approx(56.0)
    assert jan["basisloon"] == pytest.approx(56 * 20.0)
    assert jan["days"] == 31
    assert jan["contract"] == "O"
    assert jan["hourly_wage"] == pytest.approx(20.0)
    assert jan["basisuren_pw"] == pytest.approx(56 * 7 / 31)
    assert jan["sector"] == "zorg" and jan["SSECT"] == "35"


def test_panel_has_months_11_12_of_previous_year_and_only_r_persons():
    """Report 5.2: "Hiervoor werden ook maand 11 en 12 van het voorgaande jaar gebruikt" - the panel of t runs
    Nov t-1 .. Dec t.  Report 2.1: only persons in the register (RINPERSOONS R)."""
    prev = spolis(monthly_rows(1, 10, D(2018, 9, 1), D(2018, 12, 31))
                  + monthly_rows(2, 20, D(2018, 9, 1), D(2018, 12, 31), rins="S"))
    cur = spolis(monthly_rows(1, 10, D(2019, 1, 1), D(2019, 12, 31)))
    jm = job_months(cur, prev, 2019).collect()
    months = sorted(jm["month"].to_list())
    assert months[0] == D(2018, 11, 1) and months[-1] == D(2019, 12, 1) and len(months) == 14
    assert set(jm["person_id"]) == {1}
    assert job_months(cur, None, 2019).collect()["month"].min() == D(2019, 1, 1)


def test_a_sector_code_that_lost_its_leading_zero_keeps_its_sector():
    """SSECT is a two-digit code ("01".."69"); a copy that stored it as a number ("3") gave job-months without a
    sector, moving persons out of the sector cells without a word (an audit, December 2026)."""
    rows = monthly_rows(1, 10, D(2019, 1, 1), D(2019, 1, 31), sect="03") + monthly_rows(2, 20, D(2019, 1, 1),
                                                                                         D(2019, 1, 31), sect="3")
    jm = job_months(spolis(rows), None, 2019).collect().sort("person_id")
    assert jm["SSECT"].cast(pl.String).to_list() == ["03", "03"] and jm["sector"].null_count() == 0


def test_benefit_and_pension_rows_of_spolis_are_no_jobs():
    """SPOLISBUS holds income relationships: SSRTIV 21 and up are benefits and pensions paid through the
    payroll (CBS file description).  Until December 2026 every row was a job-month: a student's WW benefit
    (contract N) made O24b count a "bijbaan".  Wage codes (11, 13, 15, 17) and an empty code stay jobs; a file
    without the column keeps every row."""
    rows = (monthly_rows(1, 10, D(2019, 1, 1), D(2019, 3, 31)) + monthly_rows(2, 20, D(2019, 1, 1), D(2019, 3, 31),
                                                                               contract="N")
            + monthly_rows(3, 30, D(2019, 1, 1), D(2019, 1, 31)) + monthly_rows(4, 40, D(2019, 1, 1), D(2019, 1, 31)))
    srtiv = {1: "15", 2: "22", 3: None, 4: "31"}
    sp = spolis(rows).with_columns(pl.col("person_id").replace_strict(srtiv, return_dtype=pl.Utf8).alias("SSRTIV"))
    jm = job_months(sp, None, 2019).collect()
    assert sorted(set(jm["person_id"])) == [1, 3] and jm.height == 4
    assert sorted(set(job_months(spolis(rows), None, 2019).collect()["person_id"])) == [1, 2, 3, 4]


# ------------------------------------------------------------------------------------- substantial jobs
WML19 = reference.wml_hour(2019)


@pytest.mark.parametrize("hours_pw, wage, contract, soortbaan, expected", [
    (11.9, 20.0, "O", "9", False),        # below 12 basic hours per week
    (12.0, 20.0, "O", "9", True),         # exactly 12
    (12.0, 20.0, "B", "9", True),         # flex counts too
    (38.0, WML19 - 0.01, "O", "9", False),  # below the hourly WML of 1 January
    (38.0, WML19, "O", "9", True),        # exactly the WML
    (38.0, 20.0, "O", "2", False),        # stagiair (SSOORTBAAN 2)
    (38.0, 20.0, "N", "9", False),        # contract type unknown
])
def test_substantial_job(hours_pw, wage, contract, soortbaan, expected):
    """Report 4.2: "een baan van ten minste 12 basisuren per week, waarbij minstens het 40-urige werkweek
    wettelijk minimumloon (WML) wordt verdiend (dat geldt op 1 januari van het peiljaar) ... Stages worden
    niet meegeteld ... Ook werk waarvan de contractsoort onbekend is ... buiten beschouwing".  February 2019
    has exactly four weeks, so hours per week = SBASISUREN / 4."""
    rows = [{"person": 1, "ikv": 1, "start": D(2019, 2, 1), "end": D(2019, 2, 28), "hours": hours_pw * 4,
             "wage": wage, "contract": contract, "soortbaan": soortbaan}]
    jm = job_months(spolis(rows), None, 2019).collect()
    assert jm["substantial"].to_list() == [expected]
    # the same rule as a free-standing expression with an explicit WML
    again = jm.select(is_substantial_job(WML19).alias("s"))["s"].to_list()
    assert again == [expected]


def test_substantial_hours_are_per_week_of_the_period_worked():
    """Report 3c: hours "ten opzichte van de periode dat iemand werkte": a job starting on 18 March with 12
    hours a week is substantial in March although it has only 2 weeks of hours in the month."""
    rows = [{"person": 1, "ikv": 1, "start": D(2019, 3, 18), "end": D(2019, 3, 31), "hours": 24.0}]
    assert job_months(spolis(rows), None, 2019).collect()["substantial"].to_list() == [True]


# -------------------------------------------------------------------------------------- simultaneous jobs
def test_simultaneous_jobs_examples_of_the_report():
    """Report 3g: "wanneer iemand 35 dagen baan A heeft plus het hele jaar baan B heeft deze persoon 1,1 baan.
    Wanneer iemand baan A 200 dagen heeft en baan B 200 dagen dan heeft deze persoon ook 1,1 baan."
    (35/365 + 1 = 1.096 and 400/365 = 1.096, both 1.1 after rounding to one decimal)."""
    rows = (monthly_rows(1, 1, D(2019, 1, 1), D(2019, 2, 4))            # 35 days
            + monthly_rows(1, 2, D(2019, 1, 1), D(2019, 12, 31))        # whole year
            + monthly_rows(2, 3, D(2019, 1, 1), D(2019, 7, 19))         # 200 days
            + monthly_rows(2, 4, D(2019, 6, 15), D(2019, 12, 31))       # 200 days
            + monthly_rows(3, 5, D(2019, 1, 1), D(2019, 12, 31)))       # one job all year
    out = {r["person_id"]: r for r in simultaneous_jobs(spolis(rows), 2019).collect().iter_rows(named=True)}
    assert out[1]["n_jobs"] == pytest.approx(1.1)
    assert out[1]["n_jobs_exact"] == pytest.approx(1 + 35 / 365)
    assert out[2]["n_jobs"] == pytest.approx(1.1)
    assert out[2]["n_jobs_exact"] == pytest.approx(400 / 365)
    assert out[3]["n_jobs"] == pytest.approx(1.0) and out[3]["jobs"] == 1


def test_simultaneous_jobs_count_substantial_jobs_only():
    """Report 4.2: register analyses "kijken we alleen naar substantiële banen" - a 5-hour side job adds
    nothing unless asked for all jobs."""
    rows = (monthly_rows(1, 1, D(2019, 1, 1), D(2019, 12, 31))
            + monthly_rows(1, 2, D(2019, 1, 1), D(2019, 12, 31), hours_pw=5.0))
    assert simultaneous_jobs(spolis(rows), 2019).collect()["n_jobs"].item() == pytest.approx(1.0)
    every_job = simultaneous_jobs(spolis(rows), 2019, substantial_only=False).collect()
    assert every_job["n_jobs"].item() == pytest.approx(2.0)


# ------------------------------------------------------------------------------------- spells, main job
def test_job_spells_split_on_contract_change_and_gaps():
    """Report 5.2 / 4e: temp -> permanent in the same firm is a change of contract within a job; spells are
    runs of consecutive months, so B -> O gives two spells, the second with prev_contract B; a month without
    a record ends a spell."""
    rows = (monthly_rows(1, 1, D(2019, 1, 1), D(2019, 4, 30), contract="B")
            + monthly_rows(1, 1, D(2019, 5, 1), D(2019, 8, 31), contract="O")
            + monthly_rows(1, 1, D(2019, 10, 1), D(2019, 12, 31), contract="O"))
    sp = job_spells(job_months(spolis(rows), None, 2019)).collect().sort("start_month")
    assert sp["contract"].to_list() == ["B", "O", "O"]
    assert sp["spell_no"].to_list() == [1, 2, 3]
    assert sp["n_months"].to_list() == [4, 4, 3]
    assert sp["start_month"].to_list() == [D(2019, 1, 1), D(2019, 5, 1), D(2019, 10, 1)]
    assert sp["end_month"].to_list() == [D(2019, 4, 1), D(2019, 8, 1), D(2019, 12, 1)]
    assert sp["prev_contract"].to_list() == [None, "B", "O"]
    assert sp["prev_end_month"].to_list() == [None, D(2019, 4, 1), D(2019, 8, 1)]
    assert sp["basisuren_pw"].to_list() == pytest.approx([38.0] * 3)


def test_spell_hourly_wage_weighted_by_basic_hours():
    """Report 3f: "Dit uurloon meten we op jaarniveau door het gemiddelde (gewogen naar het aantal basisuren)
    te nemen over de verschillende maanden"."""
    rows = [{"person": 1, "ikv": 1, "start": D(2019, 1, 1), "end": D(2019, 1, 31), "hours": 100, "wage": 10.0},
            {"person": 1, "ikv": 1, "start": D(2019, 2, 1), "end": D(2019, 2, 28), "hours": 50, "wage": 40.0}]
    sp = job_spells(job_months(spolis(rows), None, 2019)).collect()
    assert sp["hourly_wage"].item() == pytest.approx((100 * 10 + 50 * 40) / 150)


def test_main_job_has_most_basic_hours():
    """O04 / report 3d: "Bij meerdere banen kijken we of de meest gemaakte basisuren ... vast of tijdelijk
    zijn" - the main job of a month is the one with the most basic hours (tie: the better paid)."""
    rows = (monthly_rows(1, 1, D(2019, 1, 1), D(2019, 2, 28), hours_pw=20, contract="B")
            + monthly_rows(1, 2, D(2019, 1, 1), D(2019, 1, 31), hours_pw=30, contract="O")
            + monthly_rows(1, 3, D(2019, 2, 1), D(2019, 2, 28), hours_pw=20, wage=25.0, contract="O"))
    jm = job_months(spolis(rows), None, 2019)
    mj = main_job(jm).collect().sort("month")
    assert mj["IKVID"].to_list() == [2, 3]
    assert mj["n_jobs_month"].to_list() == [2, 2]
    cb = contract_by_basic_hours(jm, 2019).collect()
    assert cb["contract"].item() == "O"


# -------------------------------------------------------------------------------------------------- SECM
def _secm(rows: list[tuple]) -> pl.LazyFrame:
    codes = pl.Enum(["11", "12", "13", "14", "15", "21", "22", "23", "24", "25", "26", "31", "32"])
    return pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "AANVSECM": a, "EINDSECM": b, "SECM": c}
                         for p, a, b, c in rows],
                        schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "AANVSECM": pl.Date,
                                "EINDSECM": pl.Date, "SECM": codes}).lazy()


def test_secm_months_state_rule_and_window():
    """Report 5.2 (months 11-12 of t-1 in the panel of t) and the rule "monthly state = the state in that
    calendar month": the state covering most days of the month; on a tie the later spell."""
    s = _secm([(1, D(2015, 1, 1), D(2019, 1, 10), "11"),     # employee until 10 January
               (1, D(2019, 1, 11), D(2019, 4, 15), "21"),    # WW 11 Jan - 15 Apr
               (1, D(2019, 4, 16), None, "22")])             # bijstand from 16 April (April: 15 v 15 days)
    m = {r["month"]: r["SECM"] for r in secm_months(s, 2019).collect().iter_rows(named=True)}
    assert min(m) == D(2018, 11, 1) and max(m) == D(2019, 12, 1) and len(m) == 14
    assert m[D(2018, 12, 1)] == "11"
    assert m[D(2019, 1, 1)] == "21"           # 21 days WW against 10 days work
    assert m[D(2019, 4, 1)] == "22"           # tie -> the later spell
    bm = secm_benefit_months(secm_months(s, 2019), 2019).collect()
    got = dict(zip(bm["group"].cast(pl.Utf8), bm["months"]))
    assert got == {"WW": 3, "bijstand": 9}
    # persons are kept apart: person 2's only month is also person 3's first
    two = _secm([(2, D(2018, 11, 1), D(2018, 11, 30), "11"), (3, D(2018, 11, 1), None, "21")])
    rows = secm_months(two, 2019).collect()
    assert rows.filter(pl.col("person_id") == 2).select("month", pl.col("SECM").cast(pl.Utf8)).rows() == [
        (D(2018, 11, 1), "11")]
    assert rows.filter(pl.col("person_id") == 3).height == 14



def _secm_random(seed: int, persons: int, kind: str) -> pl.LazyFrame:
    """Spells of random lengths per person, one after another with gaps: at least a month long ("long": at
    most two spells share a month), or also a few days ("short": three in one month happen), or short and
    some starting before the previous one ends ("overlap")."""
    import random

    rnd, rows, codes = random.Random(seed), [], ["11", "13", "21", "22", "24", "26"]
    for pid in range(persons):
        day = D(2018, 9, 1) + dt.timedelta(days=rnd.randint(0, 60))
        n = rnd.randint(1, 8)
        for j in range(n):
            length = rnd.choice([31, 45, 90, 400] if kind == "long" else [3, 9, 14, 20, 31, 45, 90, 400])
            end = day + dt.timedelta(days=length)
            # an open end only on the last spell (an open one in the middle would overlap the next)
            rows.append((pid, day, None if j == n - 1 and rnd.random() < 0.3 else end, rnd.choice(codes)))
            back = rnd.randint(1, length) if kind == "overlap" and rnd.random() < 0.3 else 0
            day = end + dt.timedelta(days=rnd.randint(1, 20) - back)
            if back and day <= rows[-1][1]:
                day = rows[-1][1] + dt.timedelta(days=1)
    return _secm(rows)


@pytest.mark.parametrize("kind", ["long", "short", "overlap"])
def test_secm_months_neighbours_and_sort_find_the_same_winners(kind, monkeypatch):
    """The two ways of :func:`secm_months` (neighbours of spells sorted by start; the sort of all person-months
    where spells overlap or three share a month) give the same months; for spells of a month or more without
    overlaps (SECMBUS's) the sort is not needed, otherwise it is taken."""
    import monitor_dagster.core.secm as S

    s = _secm_random(7, 300, kind)
    lo, hi = D(2018, 11, 1), D(2019, 12, 31)
    from monitor_dagster.core._intervals import explode_months

    m = (explode_months(s.select("person_id", pl.col("AANVSECM").alias("start"), pl.col("EINDSECM").alias("end"),
                                 "SECM").sort("person_id", "start"), lo, hi, month_no="_mno")
         .select("person_id", "_mno", "month", "days", "start", "SECM").collect())
    want = S._winners_sorted(m).select("person_id", "month", "SECM")
    assert want.height == m.select("person_id", "month").unique().height
    calls = []
    real = S._winners_sorted
    monkeypatch.setattr(S, "_winners_sorted", lambda df: calls.append(df.height) or real(df))
    got = secm_months(s, 2019).collect()
    assert got.equals(want)
    assert bool(calls) == (kind != "long")
    # and the sorted path alone, on rows in any order, agrees with the neighbours on ordered rows
    assert real(m.sample(fraction=1.0, shuffle=True, seed=1)).select("person_id", "month", "SECM").equals(want)


def test_secm_months_spell_inside_another_takes_the_sort():
    """A spell inside another (not in SECMBUS's own deliveries, but a file may have it): the months come out of
    person-month order, no two rows of a month stand side by side, so only the order check sends the bucket to
    the sort; each month once, March and April to the later spell on equal days."""
    s = _secm([(1, D(2019, 1, 1), D(2019, 6, 30), "11"), (1, D(2019, 3, 1), D(2019, 4, 30), "21")])
    m = {r["month"]: r["SECM"] for r in secm_months(s, 2019).collect().iter_rows(named=True)}
    assert m == {D(2019, 1, 1): "11", D(2019, 2, 1): "11", D(2019, 3, 1): "21", D(2019, 4, 1): "21",
                 D(2019, 5, 1): "11", D(2019, 6, 1): "11"}
    assert secm_months(s, 2019).collect().height == 6

# ---------------------------------------------------------------------------------------------- benefits
def _ww(rows):
    return pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "AANVANGWW": a, "EINDEWW": b} for p, a, b in rows],
                        schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "AANVANGWW": pl.Date,
                                "EINDEWW": pl.Date}).lazy()


def _bijstand(rows):
    return pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "AANVANGBIJSTAND": a, "EINDEBIJSTAND": b,
                          "SOORTBIJSTAND": k} for p, a, b, k in rows],
                        schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "AANVANGBIJSTAND": pl.Date,
                                "EINDEBIJSTAND": pl.Date, "SOORTBIJSTAND": pl.Enum(["1", "2", "3", "4"])}).lazy()


def _ao(rows):
    return pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "AANVANGAO": a, "EINDEAO": b, "AOWET": k}
                         for p, a, b, k in rows],
                        schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "AANVANGAO": pl.Date,
                                "EINDEAO": pl.Date, "AOWET": pl.Enum(["1", "2", "3", "4", "5"])}).lazy()


def test_benefit_months_summed_over_two_spells():
    """Report 3e: "Wanneer iemand verschillende periodes in een jaar een uitkering heeft worden de duren
    hiervan bij elkaar opgeteld" (O15-O18); a partial month counts as its share of days."""
    spells = benefit_spells(
        _ww([(1, D(2019, 1, 1), D(2019, 3, 31)), (1, D(2019, 7, 1), D(2019, 8, 15)),
             (1, D(2019, 8, 10), D(2019, 8, 20))]),                       # double registration in August
        _bijstand([(2, D(2018, 11, 1), D(2019, 2, 28), "1"), (2, D(2019, 3, 1), None, "2")]),
        _ao([(3, D(2017, 1, 1), None, "4"), (3, D(2019, 1, 1), D(2018, 1, 1), "5")]))   # last one: end < start
    kinds = spells.collect()
    assert kinds.height == 6                                              # the AO spell with end < start is dropped
    assert set(kinds["kind"].cast(pl.Utf8)) == {"WW", "bijstand", "IOAW", "IVA"}
    got = {(r["person_id"], r["kind"]): r
           for r in benefit_months_in_year(spells, 2019).collect().iter_rows(named=True)}
    assert got[(1, "WW")]["months"] == pytest.approx(3 + 1 + 20 / 31)
    assert got[(1, "WW")]["months_any"] == 5
    assert got[(2, "bijstand")]["months"] == pytest.approx(2.0)
    assert got[(2, "IOAW")]["months"] == pytest.approx(10.0)
    assert got[(3, "IVA")]["months"] == pytest.approx(12.0)
    grp = benefit_months_in_year(spells, 2019, by="group").collect()
    g = {(r["person_id"], r["group"]): r["months"] for r in grp.iter_rows(named=True)}
    assert g[(2, "bijstand")] == pytest.approx(2.0) and g[(2, "overig")] == pytest.approx(10.0)
    assert g[(3, "AO")] == pytest.approx(12.0)


# -------------------------------------------------------------------------------------------- provisions
def _prov(rows, codes):
    return pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "PWETAANVANGVOORZ": a, "PWETEINDEVOORZ": b,
                          "PWETSOORTVOORZ": c} for p, a, b, c in rows],
                        schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "PWETAANVANGVOORZ": pl.Date,
                                "PWETEINDEVOORZ": pl.Date, "PWETSOORTVOORZ": pl.Enum(codes)}).lazy()


def test_srg_pwet_harmonisation():
    """Report 3.2.1: only provisions recorded the same way in SRGPERSOONPWETBUS (2015-2018)
    and PWETSRGPERSOONBUS (2019+) form the consistent series; 19 (voorziening arbeidsbeperking) and 20 exist
    only in SRG, the finer 21-28 only from 2019; a provision running across 1 January 2019 is one spell."""
    srg = _prov([(1, D(2018, 6, 1), None, "11"),              # continues in PWET (same start)
                 (1, D(2016, 1, 1), D(2016, 6, 30), "19"),
                 (2, D(2018, 3, 1), None, "20"),              # open in the last SRG release
                 (3, D(2017, 1, 1), D(2017, 12, 31), "16")],
                [str(c) for c in range(11, 21)])
    pwet = _prov([(1, D(2018, 6, 1), D(2019, 5, 31), "11"),
                  (2, D(2019, 1, 1), D(2019, 3, 31), "21"),
                  (4, D(2019, 2, 1), None, "28")],
                 [str(c) for c in range(11, 19)] + [str(c) for c in range(21, 29)])
    ps = (provision_spells(srg, pwet).collect()
          .with_columns(pl.col("code").cast(pl.Utf8), pl.col("series").cast(pl.Utf8)))
    series = dict(zip(ps["code"], ps["series"]))
    assert series["19"] == "srg_only" and series["20"] == "srg_only"
    assert series["21"] == "pwet_fine" and series["28"] == "pwet_fine"
    assert series["11"] == "consistent" and series["16"] == "consistent"
    assert set(ps.filter(pl.col("series") == "srg_only")["code"]) <= {"19", "20"}
    assert set(ps.filter(pl.col("series") == "pwet_fine")["code"]) <= {str(c) for c in range(21, 29)}
    p11 = ps.filter((pl.col("person_id") == 1) & (pl.col("code") == "11"))
    assert p11.height == 1 and p11.row(0, named=True)["start"] == D(2018, 6, 1)
    assert p11.row(0, named=True)["end"] == D(2019, 5, 31)
    p20 = ps.filter(pl.col("code") == "20").row(0, named=True)
    assert p20["end"] == D(2018, 12, 31)                     # SRG sees nothing after 2018
    assert ps.filter(pl.col("code") == "28")["end"].item() is None


def test_trajectory_spells_union():
    """Report 3.3: trajectories of WW clients (SIRWWPERSOONBUS) and AO clients (SIRAGPERSOONBUS)."""
    schema = {"RINPERSOONS": RINS, "person_id": pl.Int64, "AANVANGTRAJECT": pl.Date, "EINDETRAJECT": pl.Date,
              "SOORTTRAJECT": pl.Enum(["1", "2", "3", "4", "5"])}
    ww = pl.DataFrame([{"RINPERSOONS": "R", "person_id": 1, "AANVANGTRAJECT": D(2019, 1, 5),
                        "EINDETRAJECT": None, "SOORTTRAJECT": "1"}], schema=schema).lazy()
    ag = pl.DataFrame([{"RINPERSOONS": "S", "person_id": 2, "AANVANGTRAJECT": D(2019, 1, 5),
                        "EINDETRAJECT": None, "SOORTTRAJECT": "2"},
                       {"RINPERSOONS": "R", "person_id": 3, "AANVANGTRAJECT": D(2019, 2, 5),
                        "EINDETRAJECT": D(2019, 5, 1), "SOORTTRAJECT": "2"}], schema=schema).lazy()
    t = trajectory_spells(ww, ag).collect().sort("person_id")
    assert t["person_id"].to_list() == [1, 3]
    assert t["client"].cast(pl.Utf8).to_list() == ["WW", "AG"]


def test_spell_tables_without_any_file_are_empty_not_a_failed_layer():
    """A landing zone without SRG/PWETSRG (before 2015) or SIR files: empty tables with the usual columns, so
    the core layer still builds and the input indicators see the files missing."""
    ps, ts = provision_spells(None, None).collect(), trajectory_spells(None, None).collect()
    assert ps.height == 0 and ps.columns == ["person_id", "code", "series", "start", "end"]
    assert ts.height == 0 and ts.columns == ["person_id", "client", "SOORTTRAJECT", "start", "end"]


# -------------------------------------------------------------------------------------------- education
def test_education_careers_cohort_4c_and_diploma_month():
    """Report 5.1, 4c: full-time mbo/hbo/wo students on 1 October t, not enrolled on 1 October t+1, with a
    diploma of the type of their enrolment; the month of the diploma from EXAMENDATUMMBO / EXAMENMAAND
    (months 9-12 of an academic year fall in the previous calendar year)."""
    ins = {"RINPERSOONS": RINS, "person_id": pl.Int64, "OPLNR": pl.Utf8,
           "TYPEONDERWIJS": pl.Enum(["VO", "MBO", "HBO", "WO"]), "HOOFDINSCHR": pl.Enum(["1", "2"]),
           "LEERWEGMBO": pl.Enum(["1", "2", "3"]), "VORMOPLEIDINGHO": pl.Enum(["1", "2", "3"])}

    def enrolment(p, oplnr, typ, **kw):
        return {"RINPERSOONS": "R", "person_id": p, "OPLNR": oplnr, "TYPEONDERWIJS": typ, "HOOFDINSCHR": "1", **kw}

    enrol = pl.DataFrame([enrolment(1, "200", "MBO", LEERWEGMBO="1"),
                          enrolment(2, "300", "HBO", VORMOPLEIDINGHO="1"),
                          enrolment(3, "301", "HBO", VORMOPLEIDINGHO="2"),      # deeltijd
                          enrolment(4, "400", "WO", VORMOPLEIDINGHO="1")], schema=ins).lazy()
    nxt = pl.DataFrame([enrolment(4, "401", "WO", VORMOPLEIDINGHO="1")], schema=ins).lazy()
    mbo = pl.DataFrame([{"RINPERSOONS": "R", "person_id": 1, "EXAMENDATUMMBO": D(2020, 6, 12), "OPLNR": "200",
                         "TYPEMBODPL": "1", "SELECTIEHOOFDDPLMBO": "1"}],
                       schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "EXAMENDATUMMBO": pl.Date,
                               "OPLNR": pl.Utf8, "TYPEMBODPL": pl.Enum(["1", "2", "3"]),
                               "SELECTIEHOOFDDPLMBO": pl.Enum(["1", "2"])}).lazy()
    ho = pl.DataFrame([{"RINPERSOONS": "R", "person_id": p, "OPLNR": o, "STUDIEFASEDIPL": "B", "EXAMENMAAND": m,
                        "VORMOPLEIDINGHODIP": "1", "EXAMENDATUMDIPLHO": None}
                       for p, o, m in ((2, "300", 11), (3, "301", 7), (4, "400", 8))],
                      schema={"RINPERSOONS": RINS, "person_id": pl.Int64, "OPLNR": pl.Utf8,
                              "STUDIEFASEDIPL": pl.Enum(["A", "B", "M"]), "EXAMENMAAND": pl.Int64,
                              "VORMOPLEIDINGHODIP": pl.Enum(["1", "2", "3"]), "EXAMENDATUMDIPLHO": pl.Date}).lazy()
    ec = education_careers(None, enrol, mbo, ho, 2019, enrol_next=nxt).collect().sort("person_id")
    rows = {r["person_id"]: r for r in ec.iter_rows(named=True)}
    assert rows[1]["diploma_month"] == D(2020, 6, 1) and rows[1]["cohort_4c"]
    assert rows[2]["diploma_month"] == D(2019, 11, 1) and rows[2]["cohort_4c"]      # EXAMENMAAND 11 of 2019/20
    assert not rows[3]["cohort_4c"]                                                 # deeltijd
    assert rows[4]["left_education"] is False and not rows[4]["cohort_4c"]          # still enrolled


# ------------------------------------------------------------------------------------- synthetic zone
@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    """A small synthetic SPOLISBUS 2018-2019, ingested (a few seconds)."""
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("core_spells")
    res = generate(SynthConfig(landing=root / "landing", persons=2000, first_year=2018, last_year=2019, seed=3,
                               fmt="parquet", only_files=("SPOLISBUS",)))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, root / "wh", select=["SPOLISBUS"], instance=inst)
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    return root / "wh"


def test_job_spells_cover_spolis_on_synthetic_data(wh):
    """Report 5.2 / docs/methodology.md "Spells": SPOLIS rows -> job-months -> spells lose nothing: every (person,
    job, month) of the R persons' SPOLIS rows in the panel window lies in exactly one spell, the number of
    jobs is the input's, hours add up, and a job has at most 14 months in the panel of t.  The generator's
    benefit rows (SSRTIV 21+, paid by UWV through the payroll) are no jobs: left out of the job-months."""
    from monitor_dagster.synth.spolis import BENEFIT_JOB_SHIFT
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(wh)
    cur, prev = w.read("SPOLISBUS", "2019"), w.read("SPOLISBUS", "2018")
    everything = pl.concat([cur, prev]).filter(pl.col("RINPERSOONS") == "R")
    benefit = pl.col("SSRTIV").cast(pl.Int64) >= 21
    assert everything.filter(benefit).select(pl.len()).collect().item() > 100
    assert everything.filter(benefit & (pl.col("IKVID") < BENEFIT_JOB_SHIFT)).select(pl.len()).collect().item() == 0
    rows = (everything.filter(~benefit)
            .filter(pl.col("SDATUMAANVANGIKO").is_between(D(2018, 11, 1), D(2019, 12, 31)))
            .with_columns(pl.col("SDATUMAANVANGIKO").dt.month_start().alias("month")).collect())
    jm = job_months(cur, prev, 2019).collect()
    sp = job_spells(jm.lazy()).collect()
    keys = rows.select("person_id", "IKVID", "month").unique()
    assert jm.height == keys.height
    assert jm.join(keys, on=["person_id", "IKVID", "month"], how="anti").height == 0
    # spells: consecutive months, disjoint, and together exactly the job-months
    span = ((sp["end_month"].dt.year() - sp["start_month"].dt.year()) * 12
            + sp["end_month"].dt.month().cast(pl.Int32) - sp["start_month"].dt.month().cast(pl.Int32) + 1)
    assert (span == sp["n_months"]).all()
    assert sp["n_months"].sum() == jm.height
    covered = (sp.select("person_id", "IKVID", pl.date_ranges("start_month", "end_month", "1mo").alias("month"))
               .explode("month"))
    assert covered.height == jm.height
    assert covered.join(jm, on=["person_id", "IKVID", "month"], how="anti").height == 0
    assert sp.select("person_id", "IKVID").unique().height == rows.select("person_id", "IKVID").unique().height
    assert sp["basisuren"].sum() == pytest.approx(rows["SBASISUREN"].sum())
    assert jm.group_by("person_id", "IKVID").len()["len"].max() <= 14
    assert 0.5 < jm["substantial"].mean() < 1.0
    nj = simultaneous_jobs(cur, 2019).collect()
    assert nj["n_jobs"].min() >= 0 and nj["n_jobs_exact"].max() < 6
