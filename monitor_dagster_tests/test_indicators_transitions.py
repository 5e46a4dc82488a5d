"""Transitions O27, O29-O37 (technisch rapport Monitor gelijke kansen §5.2): hand-built persons for every rule
of the report's wording, and the pipeline's counts against a direct count on a synthetic warehouse."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.indicators import transitions as T
from monitor_dagster_tests import _frames as frames

Y = 2019
D = dt.date
WML_2018, WML_2019 = 9.1038, 9.3219           # hourly WML (40 h) on 1 January (reference/wml.csv)


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[dt.date]:
    (y, m), out = first, []
    while (y, m) <= last:
        out.append(D(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _job(p, job, employer, first, last, contract="O", hours_pw=30.0, wage=20.0, sector="zorg", soortbaan="1",
         wages=None):
    """Job-months of core/job_months (only the columns the transitions read)."""
    return [{"person_id": p, "IKVID": job, "SBEID": employer, "month": m, "basisuren": hours_pw * 4.3,
             "basisuren_pw": hours_pw, "hourly_wage": (wages or {}).get(m, wage), "contract": contract,
             "soortbaan": soortbaan, "sector": sector} for m in _months(first, last)]


def _secm(p, code, first, last):
    return [{"person_id": p, "month": m, "SECM": code} for m in _months(first, last)]


def _frames(jobs: list[dict], secm: list[dict], income: dict[int, float] | None = None):
    jm = pl.LazyFrame(jobs, schema={"person_id": pl.Int64, "IKVID": pl.Int64, "SBEID": pl.String, "month": pl.Date,
                                    "basisuren": pl.Float64, "basisuren_pw": pl.Float64, "hourly_wage": pl.Float64,
                                    "contract": pl.String, "soortbaan": pl.String, "sector": pl.String})
    sm = pl.LazyFrame(secm, schema={"person_id": pl.Int64, "month": pl.Date, "SECM": pl.String})
    inp = pl.LazyFrame([{"person_id": k, "INPPERSPRIM": v} for k, v in (income or {}).items()],
                       schema={"person_id": pl.Int64, "INPPERSPRIM": pl.Float64})
    return jm, sm, inp


def _cell(t: pl.DataFrame, indicator: str, measure: str, herkomst: str = "totaal", sector: str = "totaal"):
    f = t.filter((pl.col("indicator_id") == indicator) & (pl.col("measure") == measure)
                 & (pl.col("herkomst") == herkomst) & (pl.col("sector") == sector))
    for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "kwartaal", "regio", "randstad", "asielstatus", "inkomensklasse"):
        f = f.filter(pl.col(d) == "totaal")
    assert f.height == 1, f
    return f.row(0, named=True)


SECTOR_DIMS = ["totaal", "generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector"]


# ------------------------------------------------------------------------------------------------ O27
def test_baanbehoud_pooled_over_the_twelve_months_and_same_employer():
    """"de fractie personen die een substantiële baan hebben en die de maand erop nog steeds een substantiële
    baan hebben ... voor alle maanden binnen het betreffende peiljaar" - origin months Dec t-1 .. Nov t."""
    jobs = (_job(1, 1, "A", (2018, 12), (2019, 6))                      # at work Dec..Jun: 7 at risk, 6 kept
            + _job(2, 2, "A", (2018, 11), (2019, 6), sector="handel")  # all 12 kept, employer changes in July
            + _job(2, 3, "B", (2019, 7), (2019, 12), sector="handel")
            + _job(3, 4, "A", (2019, 1), (2019, 12), soortbaan="2")    # intern: never work
            + _job(5, 5, "A", (2019, 1), (2019, 12), hours_pw=11.0))   # under 12 hours: never work
    secm = (_secm(4, "13", (2018, 11), (2019, 12))                      # self-employed, income above the WML
            + _secm(6, "13", (2018, 11), (2019, 12)))                   # self-employed below: not work
    jm, sm, inp = _frames(jobs, secm, {4: 30_000.0, 6: 5_000.0})
    t = T.o27_baanbehoud(frames.population(1, 2, 3, 4, 5, 6), jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    werk, same = _cell(t, "O27", "werk"), _cell(t, "O27", "zelfde werkgever")
    assert werk["n"] == 3                                             # persons 1, 2, 4
    assert werk["n_weighted"] == 7 + 12 + 12                           # months at work
    assert werk["value"] == pytest.approx(100 * (6 + 12 + 12) / 31)
    assert same["value"] == pytest.approx(100 * (6 + 11 + 12) / 31)    # the switch A -> B is not the same employer
    assert _cell(t, "O27", "werk", sector="zorg")["value"] == pytest.approx(100 * 6 / 7)
    assert _cell(t, "O27", "werk", sector="zelfstandig")["n"] == 1
    assert _cell(t, "O27", "werk", sector="handel")["n"] == 1


def test_baanbehoud_in_comparable_work():
    """Advice after §5.3 (b): retention of "werk met vergelijkbare uren en inkomen": the next month's main job
    within 10 % of this month's hours per week and hourly wage.  Person 1 keeps 30 h at 20 euro (Dec..Jun: 6
    comparable of 7 at risk); person 2 goes from 30 h to 36 h in April (+20 %: not comparable that month) and
    from 20 to 21 euro in August (+5 %: comparable); person 4 self-employed all year (comparable)."""
    jobs = (_job(1, 1, "A", (2018, 12), (2019, 6))
            + _job(2, 2, "A", (2018, 11), (2019, 3)) + _job(2, 2, "A", (2019, 4), (2019, 7), hours_pw=36.0)
            + _job(2, 2, "A", (2019, 8), (2019, 12), hours_pw=36.0, wage=21.0))
    secm = _secm(4, "13", (2018, 11), (2019, 12))
    jm, sm, inp = _frames(jobs, secm, {4: 30_000.0})
    t = T.o27_baanbehoud(frames.population(1, 2, 4), jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    assert _cell(t, "O27", "vergelijkbaar werk")["value"] == pytest.approx(100 * (6 + 11 + 12) / 31)
    assert _cell(t, "O27", "zelfde werkgever")["value"] == pytest.approx(100 * (6 + 12 + 12) / 31)


def test_work_in_t_minus_1_is_judged_by_the_wml_of_1_january_of_t():
    """Report 5.2: "een uurloon boven het wettelijk minimumloon van 1 januari van het peiljaar", also for the
    months of t-1: a wage between the WML of 2018 and of 2019 in December 2018 is not work for 2019."""
    low = (WML_2018 + WML_2019) / 2
    jm, sm, inp = _frames(_job(1, 1, "A", (2018, 11), (2019, 12), wages={D(2018, 11, 1): low, D(2018, 12, 1): low}),
                          [])
    states = T.monthly_states(jm, sm, inp, Y).collect().sort("mi")
    # no work in November/December 2018 (no SECM either: no row, i.e. state geen); work from January
    assert states.filter(pl.col("mi") < 2019 * 12).height == 0
    assert states.filter(pl.col("mi") == 2019 * 12)["state"].item() == T.WORK
    t = T.o27_baanbehoud(frames.population(1), jm, sm, inp, Y)
    assert _cell(t, "O27", "werk")["n_weighted"] == 11                # Jan..Nov 2019 at risk, not Dec 2018


def test_a_tie_of_sectors_goes_to_the_first_name_alphabetically_on_the_warehouse_types():
    """O27's sector is the one of most of his months at work, a tie "the first name alphabetically"
    (modal_sector).  The warehouse holds sector, contract and SECM as Enums and the monthly states keep them
    so (codes are cheaper than text); the tie must still go by the name: "zelfstandig" before "zorg", though
    the self-employed sector comes after every SPOLIS sector in the states' Enum.  Person 1: a zorg job in
    the origin months December 2018 - May 2019, self-employed June - November (6 and 6)."""
    from monitor_dagster.core.jobs import CONTRACT, SECTOR, SOORTBAAN

    jm, sm, inp = _frames(_job(1, 1, "A", (2018, 11), (2019, 5), sector="zorg"),
                          _secm(1, "13", (2019, 6), (2019, 12)), {1: 60_000.0})
    jm = jm.with_columns(pl.col("sector").cast(SECTOR), pl.col("contract").cast(CONTRACT),
                         pl.col("soortbaan").cast(SOORTBAAN))
    sm = sm.with_columns(pl.col("SECM").cast(pl.Enum(["11", "13", "21", "22", "23", "24"])))
    states = T.monthly_states(jm, sm, inp, Y).collect()
    assert states.schema["state"] == T.STATE and states.schema["sector"] == T.STATE_SECTOR
    t = T.o27_baanbehoud(frames.population(1), jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    assert _cell(t, "O27", "werk", sector="zelfstandig")["n"] == 1
    assert t.filter((pl.col("sector") == "zorg") & (pl.col("n") > 0)).height == 0


def test_self_employed_income_threshold():
    """12 hours a week at the WML of 1 January t, per working month of INPPERSPRIM."""
    threshold = WML_2019 * 12 * 52 / 12
    sm = pl.LazyFrame(_secm(1, "13", (2019, 1), (2019, 6)) + _secm(2, "14", (2019, 1), (2019, 6))
                      + _secm(1, "11", (2019, 7), (2019, 12)),
                      schema={"person_id": pl.Int64, "month": pl.Date, "SECM": pl.String})
    inp = pl.LazyFrame({"person_id": [1, 2], "INPPERSPRIM": [12 * threshold + 1, 6 * threshold - 1]})
    ok = T.self_employed_income_ok(sm, inp, Y).collect()["person_id"].to_list()
    assert ok == [1]                        # person 2: income over 6 working months just below the threshold


# ------------------------------------------------------------------------------------------------ O28
def test_wage_rises_and_falls_per_job_year_and_at_a_change_of_job():
    """"We berekenen het gemiddelde uurloon per baan ... per jaar. Dit betekent dat een daling of stijging van
    het uurloon binnen een baan alleen meegeteld wordt als het uurloon van jaar op jaar veranderd. Daarnaast
    worden de veranderingen in het uurloon altijd meegenomen als het om een andere baan gaat"; at most one
    month without a job in between; denominator: at least two months in paid employment."""
    w18 = {m: 20.0 for m in _months((2018, 11), (2018, 12))}
    jobs = (_job(1, 1, "A", (2018, 11), (2019, 12), wage=21.5, wages=w18)            # same job, +7.5 % on 2018
            + _job(2, 2, "A", (2019, 1), (2019, 12),                                  # +20 % within 2019: no event
                   wages={m: 24.0 for m in _months((2019, 7), (2019, 12))})
            + _job(3, 3, "A", (2019, 1), (2019, 4)) + _job(3, 4, "B", (2019, 6), (2019, 12), wage=23.0)  # +15 %
            + _job(4, 5, "A", (2019, 1), (2019, 3)) + _job(4, 6, "B", (2019, 6), (2019, 6), wage=25.0)   # 2 months
            + _job(5, 7, "X", (2019, 1), (2019, 6)) + _job(5, 8, "X", (2019, 7), (2019, 12), wage=18.8)  # -6 %
            + _job(6, 9, "A", (2019, 12), (2019, 12)))                                # one month: not at risk
    jm, sm, inp = _frames(jobs, [])
    t = T.o28_uurloon_mobiliteit(frames.population(1, 2, 3, 4, 5, 6), jm, sm, inp, Y, dimensions=SECTOR_DIMS)

    def v(measure):
        c = _cell(t, "O28", measure)
        assert c["n"] == 5                                                     # persons 1-5
        return c["value"]
    assert v("stijging >= 5%") == pytest.approx(40.0)                          # 1 and 3
    assert v("stijging >= 5% zelfde werkgever") == pytest.approx(20.0)         # 1 (year on year, same job)
    assert v("stijging >= 5% andere werkgever") == pytest.approx(20.0)         # 3 (A -> B after one month)
    assert v("stijging >= 10%") == pytest.approx(20.0)                         # 3 only
    assert v("daling >= 5% zelfde werkgever") == pytest.approx(20.0)           # 5: another job, same SBEID
    assert v("daling >= 10%") == 0.0


def test_a_change_of_sector_counts_in_the_sector_he_comes_from():
    """"Bij verandering van sector kijken we naar sector waar de persoon vandaan komt": person 1 leaves bouw in
    March for eight months in zorg at a 15 % higher wage; his rise counts under bouw, though most of his months
    of 2019 are zorg.  Person 2 stays in zorg all year (no change): zorg, the sector of his months."""
    jobs = (_job(1, 1, "A", (2019, 1), (2019, 3), sector="bouw")
            + _job(1, 2, "B", (2019, 5), (2019, 12), wage=23.0, sector="zorg")
            + _job(2, 3, "C", (2019, 1), (2019, 12), sector="zorg"))
    jm, sm, inp = _frames(jobs, [])
    t = T.o28_uurloon_mobiliteit(frames.population(1, 2), jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    bouw, zorg = (_cell(t, "O28", "stijging >= 10% andere werkgever", sector=x) for x in ("bouw", "zorg"))
    assert (bouw["n"], bouw["value"]) == (1, 100.0)
    assert (zorg["n"], zorg["value"]) == (1, 0.0)


# -------------------------------------------------------------------------------------------- O29/O30
def test_temporary_to_permanent_same_and_other_employer_with_at_most_one_month_gap():
    jobs = (_job(8, 1, "A", (2019, 1), (2019, 4), "B") + _job(8, 2, "A", (2019, 6), (2019, 12), "O")   # gap May
            + _job(9, 3, "A", (2019, 1), (2019, 3), "B") + _job(9, 4, "B", (2019, 6), (2019, 12), "O")  # 2 months
            + _job(10, 5, "A", (2019, 1), (2019, 3), "B") + _job(10, 6, "B", (2019, 4), (2019, 12), "O")
            + _job(11, 7, "A", (2019, 1), (2019, 12), "B")
            + _job(12, 8, "A", (2018, 11), (2018, 11), "B") + _job(12, 9, "A", (2019, 1), (2019, 12), "O")
            + _job(13, 10, "A", (2019, 1), (2019, 12), "O"))                     # vast all year: not at risk
    jm, sm, inp = _frames(jobs, [])
    t = T.o29_o30_tijdelijk_vast(frames.population(8, 9, 10, 11, 12, 13), jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    same, other = _cell(t, "O29", "zelfde werkgever"), _cell(t, "O30", "andere werkgever")
    # denominator: tijdelijk in Nov t-1 .. Nov t: 8, 9, 10, 11 and 12 (tijdelijk in November 2018, permanent
    # from January after a one-month gap in December)
    assert same["n"] == other["n"] == 5
    assert same["value"] == pytest.approx(100 * 2 / 5)       # 8 (one month gap) and 12 (across the year boundary)
    assert other["value"] == pytest.approx(100 * 1 / 5)      # 10; 9 had two months without work
    assert _cell(t, "O29", "zelfde werkgever", sector="zorg")["n"] == 5


def test_a_vast_side_job_that_becomes_the_main_job_is_no_move_to_vast():
    """"doorstroom van een flexibel naar een vast dienstverband": person 20 works 30 hours tijdelijk at A until
    June and has 15 hours vast at B all year; from July the vast job is his main job - he already had it, so
    neither O29 nor O30 (before: O30).  Person 21 moves from tijdelijk at A to a new vast job at B in July: O30."""
    jobs = (_job(20, 1, "A", (2019, 1), (2019, 6), "B") + _job(20, 2, "B", (2018, 11), (2019, 12), "O", hours_pw=15.0)
            + _job(21, 3, "A", (2019, 1), (2019, 6), "B") + _job(21, 4, "B", (2019, 7), (2019, 12), "O"))
    jm, sm, inp = _frames(jobs, [])
    t = T.o29_o30_tijdelijk_vast(frames.population(20, 21), jm, sm, inp, Y)
    o30 = _cell(t, "O30", "andere werkgever")
    assert o30["n"] == 2 and o30["value"] == pytest.approx(50.0)          # 21 only
    assert _cell(t, "O29", "zelfde werkgever")["value"] == 0.0


def test_the_main_job_has_the_most_basic_hours_then_the_lowest_ikvid():
    """monthly_states' main job of a month (the job whose contract, employer and wage the transitions read):
    person 30 has jobs 5 (20 h a week) and 3 (20 h) in January-March, job 1 (10 h) all year, and job 7 (25 h)
    from March: 3 in January-February (a tie: the lowest IKVID), 7 in March, 1 from April; person 31 has one job."""
    jobs = (_job(30, 5, "A", (2019, 1), (2019, 3), hours_pw=20.0)
            + _job(30, 3, "B", (2019, 1), (2019, 3), hours_pw=20.0)
            + _job(30, 1, "C", (2019, 1), (2019, 12), hours_pw=15.0)
            + _job(30, 7, "D", (2019, 3), (2019, 3), hours_pw=25.0)
            + _job(31, 9, "E", (2019, 1), (2019, 12)))
    jm, sm, inp = _frames(jobs[::-1], [])                  # any row order
    s = T.monthly_states(jm, sm, inp, Y).collect().sort("person_id", "mi")
    main = {(p, mi % 12 + 1): job for p, mi, job in s.filter(pl.col("mi") // 12 == Y).select(
        "person_id", "mi", "job").iter_rows()}
    assert [main[(30, m)] for m in range(1, 13)] == [3, 3, 7] + [1] * 9
    assert {main[(31, m)] for m in range(1, 13)} == {9} and s.height == 2 * 12
    assert s.filter(pl.col("person_id") == 30)["employer"].to_list()[:4] == ["B", "B", "D", "C"]   # Jan-Apr


# -------------------------------------------------------------------------------------------- O31-O34
def test_outflow_counts_only_in_the_next_month_else_overig():
    jobs = (_job(1, 1, "A", (2019, 1), (2019, 6))       # WW from August: the month in between -> overig
            + _job(5, 2, "A", (2019, 1), (2019, 3))     # WW from April
            + _job(6, 3, "A", (2019, 1), (2019, 3))     # bijstand from April
            + _job(7, 4, "A", (2019, 1), (2019, 3))     # AO from April
            + _job(8, 5, "A", (2019, 1), (2019, 12))    # keeps working
            + _job(9, 6, "A", (2019, 1), (2019, 3)))    # vanishes from SECM and SPOLIS
    secm = (_secm(1, "21", (2019, 8), (2019, 12)) + _secm(5, "21", (2019, 4), (2019, 12))
            + _secm(6, "22", (2019, 4), (2019, 12)) + _secm(7, "24", (2019, 4), (2019, 12))
            + _secm(4, "13", (2019, 1), (2019, 5)) + _secm(4, "23", (2019, 6), (2019, 12)))   # zzp -> other benefit
    jm, sm, inp = _frames(jobs, secm, {4: 30_000.0})
    t = T.o31_o34_uitstroom(frames.population(1, 4, 5, 6, 7, 8, 9), jm, sm, inp, Y)
    n = 7                                                    # everybody worked in an origin month
    assert _cell(t, "O31", "werk")["n"] == n
    assert _cell(t, "O31", "werk")["value"] == pytest.approx(100 * 1 / n)     # 5 (not 1: WW two months later)
    assert _cell(t, "O32", "werk")["value"] == pytest.approx(100 * 1 / n)     # 6
    assert _cell(t, "O33", "werk")["value"] == pytest.approx(100 * 1 / n)     # 7
    assert _cell(t, "O34", "werk")["value"] == pytest.approx(100 * 3 / n)     # 1, 4 and 9
    zelf = _cell(t, "O34", "zelfstandig")
    assert zelf["n"] == 1 and zelf["value"] == 100.0                          # 4: from self-employment


# -------------------------------------------------------------------------------------------- O35-O37
def test_from_ww_and_bijstand_to_work_or_bijstand_in_the_next_month():
    jobs = (_job(12, 1, "A", (2019, 4), (2019, 12)) + _job(14, 2, "A", (2019, 8), (2019, 12))
            + _job(15, 3, "A", (2019, 7), (2019, 12)))
    secm = (_secm(12, "21", (2019, 1), (2019, 3))                                   # WW -> work
            + _secm(13, "21", (2019, 1), (2019, 3)) + _secm(13, "22", (2019, 4), (2019, 12))   # WW -> bijstand
            + _secm(16, "21", (2019, 1), (2019, 12))                                # WW all year
            + _secm(14, "22", (2019, 1), (2019, 6))                                 # bijstand, work after a gap
            + _secm(15, "22", (2019, 1), (2019, 6)))                                # bijstand -> work
    jm, sm, inp = _frames(jobs, secm)
    t = T.o35_o37_uit_uitkering(frames.population(12, 13, 14, 15, 16), jm, sm, inp, Y)
    assert _cell(t, "O35", "WW naar werk")["n"] == 3                  # 12, 13, 16 (13's bijstand months count too)
    assert _cell(t, "O35", "WW naar werk")["value"] == pytest.approx(100 / 3)
    assert _cell(t, "O36", "WW naar bijstand")["value"] == pytest.approx(100 / 3)
    b = _cell(t, "O37", "bijstand naar werk")
    assert b["n"] == 3 and b["value"] == pytest.approx(100 / 3)        # 13, 14, 15; only 15 the next month


def test_students_and_pensioners_are_out():
    jm, sm, inp = _frames(_job(1, 1, "A", (2019, 1), (2019, 3)) + _job(2, 2, "A", (2019, 1), (2019, 3)), [])
    t = T.o31_o34_uitstroom(frames.population(1, 2, student=(2,)), jm, sm, inp, Y)
    assert _cell(t, "O34", "werk")["n"] == 1


# ------------------------------------------------------------------------------ synthetic warehouse
def test_transitions_on_a_synthetic_warehouse_equal_a_direct_count(core_wh):
    """The family through the engine (3 buckets, shared intermediates) equals a direct count of the same rule
    on the monthly states of the whole warehouse, and K = 1 gives the same table."""
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(core_wh, "transitions", Y)
    res = ENG.compute_family("transitions", fr, Y, buckets=3)
    assert not res.not_computable and res.buckets == 3
    t = res.table
    assert t["value"].is_between(0, 100).all()
    assert set(t["indicator_id"]) == {"O27", "O28", "O29", "O30", "O31", "O32", "O33", "O34", "O35", "O36", "O37"}
    from monitor_dagster.choices import DEFAULT

    pop = DEFAULT.analysis_population(fr["core/population"])    # report 2.2: in NL <= 6 months: out (engine)
    base = pop.filter(~pl.col("student") & ~pl.col("pensioner") & pl.col("leeftijd").is_not_null()).select(
        "person_id").collect()
    states = T.monthly_states(fr["core/job_months"], fr["core/secm_months"], fr["sources/INPATAB"], Y).collect()
    pairs = T.month_pairs(states.lazy(), Y).collect().join(base, on="person_id")
    at_work = pairs.filter(pl.col("state") == T.WORK)
    to_ww = at_work.filter(pl.col("next_state") == "WW")["person_id"].n_unique()
    o31 = _cell(t, "O31", "werk")
    assert o31["n"] == at_work["person_id"].n_unique()
    assert o31["value"] == pytest.approx(100 * to_ww / o31["n"])
    kept = (at_work["next_state"] == T.WORK).sum()
    assert _cell(t, "O27", "werk")["value"] == pytest.approx(100 * kept / at_work.height)
    ww = pairs.filter(pl.col("state") == "WW")
    assert _cell(t, "O35", "WW naar werk")["n"] == ww["person_id"].n_unique()
    # K = 1 gives the same table (partial cells are exact)
    assert ENG.compute_family("transitions", fr, Y, buckets=1).table.equals(t)


# -------------------------------------------------------------------------------------------- O38/O39
def _windowed(frame: pl.LazyFrame, last_year: int) -> pl.LazyFrame:
    """A follow-up input as the engine gives it: partitions t .. last year with their year in ``_year``."""
    from monitor_dagster.indicators.engine import YEAR_COLUMN

    return (frame.with_columns(pl.col("month").dt.year().cast(pl.Int32).alias(YEAR_COLUMN))
            .filter(pl.col(YEAR_COLUMN).is_between(Y, last_year)))


def _reemployment_frames(last_year: int):
    jobs = (_job(1, 1, "A", (2019, 4), (2019, 12))                  # WW Jan-Mar, work the next month
            + _job(2, 2, "A", (2021, 1), (2022, 12))                # WW Jan-Jun 2019, work 19 months later
            + _job(4, 4, "A", (2019, 5), (2019, 12))                # bijstand Jan-Feb, work 3 months later
            + _job(5, 5, "A", (2019, 8), (2019, 12), contract="B")  # WW Jan-Mar and Jun-Jul: first exit counts
            + _job(8, 8, "A", (2022, 6), (2022, 12)))               # WW in January 2019, work after 41 months
    secm = (_secm(1, "21", (2019, 1), (2019, 3)) + _secm(2, "21", (2019, 1), (2019, 6))
            + _secm(3, "21", (2019, 1), (2019, 12))                 # exit in December, never works
            + _secm(4, "22", (2019, 1), (2019, 2))
            + _secm(5, "21", (2019, 1), (2019, 3)) + _secm(5, "21", (2019, 6), (2019, 7))
            + _secm(6, "21", (2019, 1), (2020, 1))                  # leaves WW in 2020: not in the 2019 cohort
            + _secm(8, "21", (2019, 1), (2019, 1)))
    jm, sm, inp = _frames(jobs, secm)
    inp = pl.LazyFrame(schema={"person_id": pl.Int64, "INPPERSPRIM": pl.Float64, "_year": pl.Int32})
    return _windowed(jm, last_year), _windowed(sm, last_year), inp


def test_work_within_one_and_three_years_after_ww_and_bijstand():
    """"de fractie die direct vanuit de WW weer een baan vindt (de opvolgende maand). Daarnaast ... hoe lang het
    dan duurt ... en of dit in een, twee of drie jaar gebeurt. We kijken voor deze analyse drie jaar vooruit.
    De duur is dus gemaximeerd op drie jaar.\""""
    jm, sm, inp = _reemployment_frames(2022)
    pop = frames.population(1, 2, 3, 4, 5, 6, 8)
    t38 = T.o38_werk_binnen(pop, jm, sm, inp, Y, observed_year=2022)
    t39 = T.o39_duur_tot_werk(pop, jm, sm, inp, Y, observed_year=2022)
    direct = _cell(t38, "O38", "na WW direct")
    assert direct["n"] == 5 and direct["value"] == pytest.approx(20.0)     # cohort 1, 2, 3, 5, 8; 1 the next month
    ww1, ww2, ww3 = (_cell(t38, "O38", f"na WW binnen {k} jaar") for k in (1, 2, 3))
    assert ww1["n"] == ww2["n"] == ww3["n"] == 4                      # "voor degene die niet direct": 2, 3, 5, 8
    assert ww1["value"] == pytest.approx(25.0)                        # 5 (5 months)
    assert ww2["value"] == ww3["value"] == pytest.approx(50.0)        # and 2 (19 months); 8 after 41: no
    assert _cell(t38, "O38", "na bijstand direct")["value"] == 0.0    # 4 works 3 months later
    assert _cell(t38, "O38", "na bijstand binnen 1 jaar")["value"] == 100.0
    o39 = _cell(t39, "O39", "na WW")
    assert o39["n"] == 4 and o39["value"] == pytest.approx((19 + 36 + 5 + 36) / 4)   # capped at 36, 1 left out
    assert _cell(t39, "O39", "na bijstand")["value"] == 3.0
    assert set(t38["status"]) == set(t39["status"]) == {"definitief"}


def test_contract_and_duration_of_the_work_found_advice():
    """Advice after §5.3 (4g): "welk type contract" and "duurzame uitstroom": of the WW cohort (1, 2, 3, 5, 8),
    person 1 finds a vast job after 1 month that lasts 9 months (durable: >= 6), person 5 a flex job after
    5 months that lasts 5 months (not durable); 2 finds work only after 19 months (not within a year)."""
    jm, sm, inp = _reemployment_frames(2022)
    t38 = T.o38_werk_binnen(frames.population(1, 2, 3, 4, 5, 6, 8), jm, sm, inp, Y, observed_year=2022)
    assert _cell(t38, "O38", "na WW binnen 1 jaar vast")["value"] == pytest.approx(20.0)
    assert _cell(t38, "O38", "na WW binnen 1 jaar flex")["value"] == pytest.approx(20.0)
    assert _cell(t38, "O38", "na WW binnen 1 jaar zelfstandig")["value"] == 0.0
    assert _cell(t38, "O38", "na WW binnen 1 jaar duurzaam")["value"] == pytest.approx(20.0)
    assert _cell(t38, "O38", "na bijstand binnen 1 jaar duurzaam")["value"] == 100.0       # 4: May-Dec, 8 months
    # a durable run counts its consecutive months only: person 1 with a month without work in his 4th month
    jm2 = jm.filter(~((pl.col("person_id") == 1) & (pl.col("month") == D(2019, 7, 1))))
    t = T.o38_werk_binnen(frames.population(1, 2, 3, 4, 5, 6, 8), jm2, sm, inp, Y, observed_year=2022)
    assert _cell(t, "O38", "na WW binnen 1 jaar duurzaam")["value"] == 0.0
    assert _cell(t, "O38", "na WW direct")["value"] == pytest.approx(20.0)          # person 1 still directly


def test_follow_up_not_yet_landed_is_voorlopig_and_censored():
    """With the files up to t+1 only, work in 2021 is not yet seen: the cohort is voorlopig, durations are cut
    at the months observed (December 2020)."""
    jm, sm, inp = _reemployment_frames(2020)
    pop = frames.population(1, 2, 3, 4, 5, 6, 8)
    t38 = T.o38_werk_binnen(pop, jm, sm, inp, Y, observed_year=2020)
    t39 = T.o39_duur_tot_werk(pop, jm, sm, inp, Y, observed_year=2020)
    assert set(t38["status"]) == set(t39["status"]) == {"voorlopig"}
    assert _cell(t38, "O38", "na WW binnen 3 jaar")["value"] == pytest.approx(25.0)     # 2 not yet at work
    # 2: 18 observed (Jun 2019 -> Dec 2020), 3: 12, 5: 5, 8: 23 (1 works the next month: not in O39)
    assert _cell(t39, "O39", "na WW")["value"] == pytest.approx((18 + 12 + 5 + 23) / 4)


def test_reemployment_on_a_synthetic_warehouse_with_a_partial_follow_up(core_wh):
    """2018 with the follow-up files of 2019 only: the family reads t..t+1 through its window, is voorlopig,
    counts the cohort the direct rule counts, and K = 1 and 3 agree."""
    from monitor_dagster.indicators import engine as ENG

    year = 2018
    fr = ENG.warehouse_frames(core_wh, "reemployment", year)
    extra = ENG.follow_up_extras("reemployment", core_wh, year)
    assert extra == {"observed_year": 2019}
    assert sorted(fr["core/job_months"].select(pl.col(ENG.YEAR_COLUMN).unique()).collect().to_series()) == [2018, 2019]
    one = ENG.compute_family("reemployment", fr, year, extra=extra, buckets=1)
    three = ENG.compute_family("reemployment", fr, year, extra=extra, buckets=3)
    assert one.table.equals(three.table) and not one.not_computable
    assert set(one.table["status"]) == {"voorlopig"}
    pop = fr["core/population"]
    base = pop.filter(~pl.col("student") & ~pl.col("pensioner") & pl.col("leeftijd").is_not_null()).select("person_id")
    states = T.follow_up_states(fr["core/job_months"], fr["core/secm_months"], fr["sources/INPATAB"], year, base)
    ww = T.time_to_work(states, year, "WW", 2019).collect()
    # the family sorts the follow-up states once for both benefits (presorted): the same exits and months
    ordered = states.collect().sort("person_id", "mi").lazy()
    assert (T.time_to_work(ordered, year, "WW", 2019, presorted=True).collect().sort("person_id")
            .equals(ww.sort("person_id")))
    assert _cell(one.table, "O38", "na WW direct")["n"] == ww.height > 0
    assert _cell(one.table, "O38", "na WW direct")["value"] == pytest.approx(100 * (ww["months"] == 1).sum() / ww.height)
    later = ww.filter((pl.col("months") != 1) | pl.col("months").is_null())
    assert _cell(one.table, "O38", "na WW binnen 1 jaar")["n"] == later.height > 0
    assert _cell(one.table, "O38", "na WW binnen 1 jaar")["value"] == pytest.approx(
        100 * (later["months"] <= 12).sum() / later.height)


def test_the_shared_states_come_in_person_and_month_order(core_wh):
    """_states sorts the monthly states once (a packed key of person and month); month_pairs, wage_changes and
    O29/O30 rely on that order instead of sorting again (forty-second session: 0.5 of a national bucket's 3 s).
    The order is that of the two columns, and the presorted paths give what the sorting ones give on the same
    rows in another order."""
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(core_wh, "transitions", Y)
    states = T._states(fr["core/population"], fr["core/job_months"], fr["core/secm_months"], fr["sources/INPATAB"],
                       Y).collect()
    assert states.height > 1000
    assert states.equals(states.sort("person_id", "mi"))
    shuffled = states.sample(fraction=1.0, shuffle=True, seed=3).lazy()
    assert T.month_pairs(states.lazy(), Y, presorted=True).collect().equals(T.month_pairs(shuffled, Y).collect())
    by = ["person_id", "change", "mi"]
    assert (T.wage_changes(states.lazy(), Y, presorted=True).collect().sort(by, nulls_last=True)
            .equals(T.wage_changes(shuffled, Y).collect().sort(by, nulls_last=True)))
