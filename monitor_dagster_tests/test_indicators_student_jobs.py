"""O24b paid internships and side jobs of hbo and wo students (technisch rapport Monitor gelijke kansen, §5.1,
advice after 4b): hand-built students from the report's wording, and the family on a synthetic warehouse."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.indicators import student_jobs as S
from monitor_dagster_tests import _frames as frames
from monitor_dagster_tests.test_indicators_transitions import _cell, _job
from monitor_dagster_tests.test_indicators_transitions import _frames as _tframes

Y = 2019


def _careers(types: dict[int, str | None]) -> pl.LazyFrame:
    return pl.LazyFrame([{"person_id": p, "enrol_type": t} for p, t in types.items()],
                        schema={"person_id": pl.Int64, "enrol_type": pl.String})


def _world():
    """Students of 1 October 2019 (school year October 2019 .. September 2020):
    1 hbo, a paid internship (SSOORTBAAN 2) February-June 2020       -> stage
    2 hbo, a side job of 8 hours a week (not substantial) all year   -> bijbaan
    3 wo, a job only in September 2019 (before the school year)      -> neither
    4 wo, an internship in August 2020 and a side job in October 2019 -> both
    5 mbo (not a student of hbo or wo)                               -> not counted
    6 hbo, a job from October 2020 (after the school year)           -> neither"""
    jobs = (_job(1, 1, "A", (2020, 2), (2020, 6), soortbaan="2")
            + _job(2, 2, "B", (2019, 1), (2020, 12), hours_pw=8.0)
            + _job(3, 3, "C", (2019, 9), (2019, 9))
            + _job(4, 4, "D", (2020, 8), (2020, 8), soortbaan="2") + _job(4, 5, "E", (2019, 10), (2019, 10))
            + _job(5, 6, "F", (2019, 1), (2020, 12))
            + _job(6, 7, "G", (2020, 10), (2020, 12)))
    jm, _, _ = _tframes(jobs, [])
    return frames.population(*range(1, 7)), _careers({1: "HBO", 2: "HBO", 3: "WO", 4: "WO", 5: "MBO", 6: "HBO"}), jm


def test_paid_internships_and_side_jobs_in_the_school_year():
    """"het aandeel van de hbo- en wo-studenten met een stage (of breder met een bijbaan)\""""
    pop, careers, jm = _world()
    t = S.o24b_stage_bijbaan(pop, careers, jm, Y, observed_year=2020)
    assert _cell(t, "O24b", "stage")["n"] == 5                            # 1, 2, 3, 4, 6; not the mbo student
    assert _cell(t, "O24b", "stage")["value"] == pytest.approx(40.0)      # 1 and 4
    assert _cell(t, "O24b", "bijbaan")["value"] == pytest.approx(40.0)    # 2 (a small job counts) and 4
    assert _cell(t, "O24b", "stage of bijbaan")["value"] == pytest.approx(60.0)
    assert _cell(t, "O24b", "stage hbo")["value"] == pytest.approx(100 / 3)
    assert _cell(t, "O24b", "bijbaan wo")["value"] == pytest.approx(50.0)
    assert set(t["status"]) == {"definitief"}


def test_without_the_next_year_the_school_year_is_voorlopig():
    pop, careers, jm = _world()
    t = S.o24b_stage_bijbaan(pop, careers, jm.filter(pl.col("month") < dt.date(2020, 1, 1)), Y, observed_year=2019)
    assert set(t["status"]) == {"voorlopig"}
    assert _cell(t, "O24b", "stage")["value"] == 0.0                      # the internships of 2020 not yet seen


def test_student_jobs_on_a_synthetic_warehouse(core_wh):
    """2018 with 2019 as the rest of the school year: K = 1 and 3 agree and the count of students with a paid
    internship equals a direct count on the job-months."""
    fr, one = frames.family_on_warehouse(core_wh, "student_jobs", 2018, observed_year=2019)
    assert set(one.table["status"]) == {"definitief"}
    students = (fr["core/education_careers"].filter(pl.col("enrol_type").is_in(["HBO", "WO"]))
                .join(fr["core/population"], on="person_id", how="semi").select("person_id"))
    jm = fr["core/job_months"].filter(pl.col("month").is_between(dt.date(2018, 10, 1), dt.date(2019, 9, 1)))
    interns = jm.filter(pl.col("soortbaan").cast(pl.String) == "2").join(students, on="person_id", how="semi")
    n_students = students.collect().height
    n_interns = interns.select(pl.col("person_id").n_unique()).collect().item()
    cell = _cell(one.table, "O24b", "stage")
    assert cell["n"] == n_students > 0
    assert round(cell["value"] * n_students / 100) == n_interns > 0
