"""O25 months from the diploma to work and to a permanent contract (technisch rapport Monitor gelijke kansen,
§5.1, 4c): hand-built graduates for every rule of the report's wording, and the family on a synthetic warehouse."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.core.education import education_careers
from monitor_dagster.indicators import first_job as F
from monitor_dagster_tests import _frames as frames
from monitor_dagster_tests.test_indicators_transitions import _cell, _job, _secm
from monitor_dagster_tests.test_indicators_transitions import _frames as _tframes

Y = 2019
D = dt.date
WML_2020 = 9.5422          # hourly WML (40 h) on 1 January 2020 (reference/wml.csv)


def _careers(rows, leerweg="1", oplnr="O1"):
    """rows: (person, diploma month, onderwijssoort) of the 4c cohort of peiljaar 2019 (full-time, left
    education, a diploma of the onderwijssoort: core/education_careers)."""
    return pl.LazyFrame([{"person_id": p, "cohort_4c": leerweg == "1" or t != "MBO", "diploma_month": d,
                          "enrol_type": t, "left_education": True, "enrol_leerweg_mbo": leerweg if t == "MBO" else "-",
                          "enrol_oplnr": oplnr} for p, d, t in rows],
                        schema={"person_id": pl.Int64, "cohort_4c": pl.Boolean, "diploma_month": pl.Date,
                                "enrol_type": pl.String, "left_education": pl.Boolean,
                                "enrol_leerweg_mbo": pl.String, "enrol_oplnr": pl.String})


def _addresses(rows):
    """rows: (person, start, end or None) address spells (RINPERSOONS R)."""
    return pl.LazyFrame([{"RINPERSOONS": "R", "person_id": p, "GBADATUMAANVANGADRESHOUDING": s,
                          "GBADATUMEINDEADRESHOUDING": e} for p, s, e in rows],
                        schema={"RINPERSOONS": pl.String, "person_id": pl.Int64,
                                "GBADATUMAANVANGADRESHOUDING": pl.Date, "GBADATUMEINDEADRESHOUDING": pl.Date})


def _windowed(frame: pl.LazyFrame, last_year: int) -> pl.LazyFrame:
    from monitor_dagster.indicators.engine import YEAR_COLUMN

    return (frame.with_columns(pl.col("month").dt.year().cast(pl.Int32).alias(YEAR_COLUMN))
            .filter(pl.col(YEAR_COLUMN).is_between(Y, last_year)))


def _world(last_year: int = 2023):
    """Graduates of peiljaar 2019 (diploma in June 2020 unless said otherwise), all living in NL from 2000.

    1  a flex job from March 2020 that becomes vast in January 2021: already working at the diploma -> 0 months;
       vast after 7 months (June 2020 -> January 2021)
    2  a vast job from September 2020: 3 months to work and to vast
    3  self-employed (SECM 13) from August 2020 with income above the full monthly WML: 2 months; not in the
       vast-contract measure ("Zelfstandig ondernemers worden ... buiten beschouwing gelaten")
    4  self-employed from August 2020 below the full monthly WML (but above the 12-hour one of 5.2): no work
    5  a job from July 2023 (month 37): censored at 36
    6  emigrates in March 2021 (year 2) without a job: censored, not "no job" (niet in BRP, 9 months)
    7  emigrates in March 2021 after a flex job from August 2020: the job counts (2 months)
    """
    jobs = (_job(1, 1, "A", (2020, 3), (2020, 12), contract="B") + _job(1, 1, "A", (2021, 1), (2023, 12))
            + _job(2, 2, "B", (2020, 9), (2023, 12))
            + _job(5, 5, "C", (2023, 7), (2023, 12))
            + _job(7, 7, "D", (2020, 8), (2021, 2), contract="B"))
    secm = _secm(3, "13", (2020, 8), (2023, 12)) + _secm(4, "13", (2020, 8), (2023, 12))
    # INPPERSPRIM per year over the 5 (2020) or 12 working months: 3 above 40 h x WML, 4 between 12 h and 40 h
    full, low = WML_2020 * 40 * 52 / 12, WML_2020 * 20 * 52 / 12
    inp_rows = [{"person_id": p, "INPPERSPRIM": v * (5 if y == 2020 else 12), "_year": y}
                for y in range(2020, last_year + 1) for p, v in ((3, full * 1.01), (4, low))]
    jm, sm, _ = _tframes(jobs, secm)
    inp = pl.LazyFrame(inp_rows, schema={"person_id": pl.Int64, "INPPERSPRIM": pl.Float64, "_year": pl.Int32})
    june = D(2020, 6, 1)
    careers = _careers([(p, june, "HBO" if p % 2 else "MBO") for p in range(1, 8)])
    addresses = _addresses([(p, D(2000, 1, 1), D(2021, 3, 15) if p in (6, 7) else None) for p in range(1, 8)])
    return frames.population(*range(1, 8)), careers, addresses, _windowed(jm, last_year), _windowed(sm, last_year), inp


def _o25(last_year=2023, observed_year=2023):
    pop, careers, addresses, jm, sm, inp = _world(last_year)
    return F.o25_duur_tot_baan(pop, careers, addresses, jm, sm, inp, Y, observed_year=observed_year)


def test_months_to_work_and_to_a_permanent_contract():
    t = _o25()
    werk = _cell(t, "O25", "werk")
    # 1: 0, 2: 3, 3: 2, 4: 36 (below the WML: no work), 5: 36 (month 37), 7: 2; 6 censored
    assert werk["n"] == 6
    assert werk["value"] == pytest.approx((0 + 3 + 2 + 36 + 36 + 2) / 6)
    vast = _cell(t, "O25", "vast contract")
    # 1: 7, 2: 3, 4: 36, 5: 36, 7: left the BRP after a flex job, never vast -> censored; 3 self-employed: out
    assert vast["n"] == 4
    assert vast["value"] == pytest.approx((7 + 3 + 36 + 36) / 4)
    brp = _cell(t, "O25", "niet in BRP")
    assert brp["n"] == 1 and brp["value"] == 9.0                        # June 2020 -> March 2021
    assert _cell(t, "O25", "werk mbo")["n"] == 2                           # 2, 4, 6 are mbo; 6 censored
    assert _cell(t, "O25", "werk hbo")["value"] == pytest.approx((0 + 2 + 36 + 2) / 4)
    assert set(t["status"]) == {"definitief"}


def test_only_graduates_living_in_nl_the_whole_year_of_the_diploma():
    """"Deze personen woonden in het jaar van afstuderen (2017) het hele jaar in Nederland" (peiljaar 2016):
    person 8 (in core/population of 2019) had no address from January to mid-April 2020 and graduated in June
    2020 without ever working: not in the cells (before: 36 months to work); person 9 moved within NL with a
    gap of 20 days in 2020 (bridged): in, with no work (36)."""
    pop, careers, addresses, jm, sm, inp = _world()
    june = D(2020, 6, 1)
    careers = pl.concat([careers, _careers([(8, june, "MBO"), (9, june, "MBO")])])
    addresses = pl.concat([addresses, _addresses([(8, D(2000, 1, 1), D(2019, 12, 31)), (8, D(2020, 4, 15), None),
                                                  (9, D(2000, 1, 1), D(2020, 5, 1)), (9, D(2020, 5, 21), None)])])
    t = F.o25_duur_tot_baan(frames.population(*range(1, 10)), careers, addresses, jm, sm, inp, Y, observed_year=2023)
    werk = _cell(t, "O25", "werk")
    assert werk["n"] == 7                                               # 1-5, 7 and 9; 6 censored, 8 out
    assert werk["value"] == pytest.approx((0 + 3 + 2 + 36 + 36 + 2 + 36) / 7)


def test_an_hbo_or_wo_diploma_of_another_phase_than_the_enrolment_does_not_count():
    """"alleen personen meegenomen die een diploma behaalden in de onderwijssoort (mbo, associate degree,
    bachelor of master) van de inschrijving in het peiljaar": 1 is enrolled in a wo-master (SOI 3212) on
    1 October 2019 and receives only the wo-bachelor diploma; 3 in a wo-master with a master diploma; 5 in a
    programme OPLEIDINGSNRREF does not place (kept).  Without OPLEIDINGSNRREF nobody is left out."""
    careers = pl.LazyFrame({"person_id": [1, 3, 5], "cohort_4c": [True] * 3, "enrol_type": ["WO", "WO", "HBO"],
                            "enrol_oplnr": ["M1", "M1", "X9"], "ho_diploma_phase": ["B", "M", "B"]})
    oplref = pl.LazyFrame({"OPLNR": ["M1", "B1"], "OPLNIVSOI2021AGG4HB": ["3212", "3113"], "OPLSECTOR": ["1", "1"]})
    assert sorted(F.diploma_of_the_phase(careers, oplref).collect()["person_id"]) == [3, 5]
    assert sorted(F.diploma_of_the_phase(careers, None).collect()["person_id"]) == [1, 3, 5]
    # through O25: person 1 of the world (hbo, working at the diploma) enrolled in a master, a bachelor diploma
    pop, careers, addresses, jm, sm, inp = _world()
    careers = careers.with_columns(pl.lit("B").alias("ho_diploma_phase"),
                                   pl.when(pl.col("person_id") == 1).then(pl.lit("M1")).otherwise(pl.lit("B1"))
                                   .alias("enrol_oplnr"))
    t = F.o25_duur_tot_baan(pop, careers, addresses, jm, sm, inp, Y, observed_year=2023, oplref=oplref)
    assert _cell(t, "O25", "werk")["n"] == 5                              # 6 before; 1 out
    assert _cell(t, "O25", "werk")["value"] == pytest.approx((3 + 2 + 36 + 36 + 2) / 5)


def test_the_vast_contract_measure_counts_a_permanent_main_job_only():
    """Person 7's flex job and departure: "hoe lang na het afstuderen iemand een vast dienstverband heeft" - a
    flex job is work but not a permanent contract; after leaving the BRP the person is censored."""
    pop, careers, addresses, jm, sm, inp = _world()
    grads = F.graduates(pop, careers)
    states = F.follow_up_states(jm, sm, inp, Y, grads.select("person_id"), self_employed_hours=F.SELF_EMPLOYED_HOURS)
    fw = {r["person_id"]: r for r in F.first_work(states, grads).collect().iter_rows(named=True)}
    assert fw[1]["work_mi"] == 2020 * 12 + 5 and fw[1]["vast_mi"] == 2021 * 12       # diploma month, January 2021
    assert fw[3]["work_self"] and fw[3]["vast_mi"] is None
    assert fw[4]["work_mi"] is None                                                   # below the full monthly WML
    assert fw[7]["work_mi"] == 2020 * 12 + 7 and fw[7]["vast_mi"] is None


def test_follow_up_not_yet_landed_is_voorlopig_and_cut():
    """With the files up to 2021 only, the rows are voorlopig and the months to work are cut at December 2021:
    person 5 (work in July 2023) counts 18 months so far, person 4 too."""
    t = _o25(last_year=2021, observed_year=2021)
    assert set(t["status"]) == {"voorlopig"}
    assert _cell(t, "O25", "werk")["value"] == pytest.approx((0 + 3 + 2 + 18 + 18 + 2) / 6)


def test_a_diploma_after_the_last_observed_month_is_not_in_the_cells_yet():
    """Observed up to December 2019 only (SPOLIS 2020 not landed in full: readiness.follow_up_gaps), the diplomas
    of June 2020 have no month of follow-up: no O25 cells, instead of durations cut at December 2019 (-6 months,
    which failed the range expectation [0, 36] of the indicator table)."""
    t = _o25(last_year=2019, observed_year=2019)
    assert t.filter(pl.col("indicator_id") == "O25").height == 0
    # observed up to December 2020: all seven are in, with at most the 6 months since June (person 6 leaves the
    # BRP in March 2021, after the observed months: not censored yet)
    t = _o25(last_year=2020, observed_year=2020)
    werk = _cell(t, "O25", "werk")
    assert werk["n"] == 7 and werk["value"] == pytest.approx((0 + 3 + 2 + 6 + 6 + 6 + 2) / 7)
    assert t.filter(pl.col("indicator_id") == "O25")["value"].min() >= 0


def test_a_student_still_enrolled_a_year_later_is_not_in_the_population():
    """"op 1 oktober een jaar later geen bekostigd onderwijs meer volgden": person 2 is still enrolled on
    1 October 2020, person 3 has no diploma of the onderwijssoort of the enrolment (an mbo diploma after hbo)."""
    enrol = pl.LazyFrame({"RINPERSOONS": ["R"] * 3, "person_id": [1, 2, 3], "OPLNR": ["1", "2", "3"],
                          "TYPEONDERWIJS": ["HBO", "HBO", "HBO"], "HOOFDINSCHR": ["1"] * 3, "LEERJAAR": ["4"] * 3,
                          "LEERWEGMBO": ["-"] * 3, "VORMOPLEIDINGHO": ["1"] * 3})
    nxt = enrol.filter(pl.col("person_id") == 2)
    ho = pl.LazyFrame({"RINPERSOONS": ["R"] * 2, "person_id": [1, 2], "OPLNR": ["1", "2"],
                       "STUDIEFASEDIPL": ["B", "B"], "EXAMENMAAND": [6, 6], "VORMOPLEIDINGHODIP": ["1", "1"]})
    mbo = pl.LazyFrame({"RINPERSOONS": ["R"], "person_id": [3], "EXAMENDATUMMBO": [D(2020, 6, 20)], "OPLNR": ["9"],
                        "TYPEMBODPL": ["1"], "SELECTIEHOOFDDPLMBO": ["1"]})
    careers = education_careers(None, enrol, mbo, ho, Y, enrol_next=nxt)
    g = F.graduates(frames.population(1, 2, 3), careers).collect()
    assert g["person_id"].to_list() == [1]
    assert g["dmi"].to_list() == [2020 * 12 + 5] and g["route"].to_list() == ["hbo"]


def test_a_short_address_gap_is_not_leaving_the_brp():
    """A move with 20 days between two addresses (bridged, as for the population) is not an emigration; a
    registration that ends after the follow-up is not censoring."""
    grads = pl.LazyFrame({"person_id": [1, 2], "dmi": [2020 * 12 + 5] * 2})
    a = _addresses([(1, D(2000, 1, 1), D(2021, 3, 1)), (1, D(2021, 3, 21), None),
                    (2, D(2000, 1, 1), D(2025, 3, 1))])
    r = F.registered_until(a, grads, Y).collect().sort("person_id")
    assert r["reg_mi"].to_list() == [None, None]


def test_first_job_on_a_synthetic_warehouse_with_a_partial_follow_up(core_wh):
    """2018 with the follow-up of 2019 only: the family reads t..t+1 through its window, is voorlopig, its
    graduates are the 4c cohort of core/education_careers in core/population, and K = 1 and 3 agree."""
    fr, one = frames.family_on_warehouse(core_wh, "first_job", 2018, observed_year=2019)
    assert set(one.table["status"]) == {"voorlopig"}
    grads = F.graduates(fr["core/population"], fr["core/education_careers"]).collect()
    assert grads.height > 5                                          # 13 of the 2,000 persons
    werk = _cell(one.table, "O25", "werk")
    brp = one.table.filter((pl.col("measure") == "niet in BRP") & (pl.col("herkomst") == "totaal"))
    censored = int(brp.filter(pl.all_horizontal(pl.col(d) == "totaal" for d in ("generatie", "verblijfsduur",
                   "leeftijd", "geslacht", "opleiding", "kwartaal")))["n"].sum())
    assert werk["n"] + censored == grads.height                       # every graduate is counted once
    assert 0 <= werk["value"] <= 24                                  # cut at December 2019


# --------------------------------------------------------------------------------------------------- O25b
def test_hourly_wage_of_the_first_job_per_route_and_field():
    """Advice after 4c: "per combinatie van studierichting en bbl, bol, hbo of wo het uurloon in de eerste baan".
    1 bbl Techniek: one job, 12 euro for 6 months then 18, then 30 from its 13th month -> 15 (first 12 months)
    2 bol Zorg: a flex job at 14 for 3 months, then another job at 25 -> the first job: 14
    3 hbo, programme unknown to OPLEIDINGSNRREF: 20 h/week at 10, then 40 h/week at 16 -> 14 (hours-weighted)
    4 wo, self-employed only: no hourly wage, not in the mean
    5 hbo, a job only from month 40 after the diploma: no first job within 36 months"""
    june = D(2020, 6, 1)
    jobs = (_job(1, 1, "A", (2020, 6), (2020, 11), wage=12.0) + _job(1, 1, "A", (2020, 12), (2021, 5), wage=18.0)
            + _job(1, 1, "A", (2021, 6), (2023, 12), wage=30.0)
            + _job(2, 2, "B", (2020, 8), (2020, 10), wage=14.0, contract="B") + _job(2, 3, "C", (2020, 11), (2023, 12), wage=25.0)
            + _job(3, 4, "D", (2020, 7), (2020, 12), wage=10.0, hours_pw=20.0)
            + _job(3, 4, "D", (2021, 1), (2023, 12), wage=16.0, hours_pw=40.0)
            + _job(5, 5, "E", (2023, 10), (2023, 12)))
    secm = _secm(4, "13", (2020, 7), (2023, 12))
    jm, sm, _ = _tframes(jobs, secm)
    inp = pl.LazyFrame(schema={"person_id": pl.Int64, "INPPERSPRIM": pl.Float64, "_year": pl.Int32})
    careers = pl.concat([_careers([(1, june, "MBO")], leerweg="3", oplnr="T"), _careers([(2, june, "MBO")], oplnr="Z"),
                         _careers([(3, june, "HBO"), (5, june, "HBO")], oplnr="X"), _careers([(4, june, "WO")])])
    oplref = pl.LazyFrame({"OPLNR": ["T", "Z", "O1"], "OPLSECTOR": ["3", "4", "6"]})
    t = F.o25b_uurloon_eerste_baan(frames.population(1, 2, 3, 4, 5), careers, _windowed(jm, 2023),
                                   _windowed(sm, 2023), inp, oplref, Y, observed_year=2023)
    assert _cell(t, "O25b", "bbl")["value"] == pytest.approx(15.0)
    assert _cell(t, "O25b", "bbl Techniek")["value"] == pytest.approx(15.0)
    assert _cell(t, "O25b", "bol Zorg en welzijn / gezondheidszorg")["value"] == pytest.approx(14.0)
    hbo = _cell(t, "O25b", "hbo")
    assert hbo["n"] == 1 and hbo["value"] == pytest.approx((10 * 20 + 16 * 40) / 60)
    assert _cell(t, "O25b", "hbo overig of onbekend")["n"] == 1
    assert t.filter(pl.col("measure").str.starts_with("wo")).height == 0
    assert set(t["status"]) == {"definitief"}
