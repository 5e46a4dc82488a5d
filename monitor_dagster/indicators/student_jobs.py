"""Paid internships and side jobs of hbo and wo students, the advice of research question 4b (technisch
rapport Monitor gelijke kansen, §5.1): O24b.

Report 5.1, 4b: the hbo and wo surveys cannot be linked to migration background, "Er zijn overigens wel gegevens
beschikbaar over betaalde stages. Dit is terug te vinden in de polisadministratie (SPOLIS). Door een koppeling
te maken met onderwijsinschrijvingen zou in een vervolgmeting wel een analyse kunnen worden gemaakt van het
aandeel van de hbo- en wo-studenten met een stage (of breder met een bijbaan)."

Students of peiljaar t are enrolled on 1 October t; their school year runs October t .. September t+1, so the
family reads the job-months of t and t+1 (``follow_up: student_jobs: {years: 1}``); voorlopig until t+1 is in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.core.layout import held
from monitor_dagster.indicators.register import _concat
from monitor_dagster.indicators.table import cells

__all__ = ["INTERN", "STUDENT_ROUTES", "student_cohort", "student_jobs", "o24b_stage_bijbaan"]

#: SSOORTBAAN 2: stagiair (a paid internship in SPOLIS)
INTERN = "2"
STUDENT_ROUTES = {"HBO": "hbo", "WO": "wo"}


def _students(careers: pl.LazyFrame) -> pl.LazyFrame:
    """person_id and route (hbo / wo) of everybody whose main enrolment on 1 October t is hbo or wo."""
    return careers.filter(pl.col("enrol_type").cast(pl.String).is_in(list(STUDENT_ROUTES))).select(
        "person_id", pl.col("enrol_type").cast(pl.String).replace_strict(STUDENT_ROUTES).alias("route"))


def student_cohort(frames: dict[str, pl.LazyFrame | None], year: int) -> pl.LazyFrame:
    """The persons O24b follows (specs.yaml ``cohorts``): the engine holds the hbo and wo students' job-months
    of the school year and no one else's."""
    return _students(frames["core/education_careers"]).select("person_id").unique()


def student_jobs(careers: pl.LazyFrame, job_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """person_id, route (hbo / wo), ``stage`` (a paid internship: a job-month with SSOORTBAAN 2) and
    ``bijbaan`` (a job-month of any other kind) in the school year October t .. September t+1, for every
    person whose main enrolment on 1 October t is hbo or wo (any form: voltijd, deeltijd, duaal).  Every
    SPOLIS job-month counts, not only substantial ones: a side job is small by nature."""
    students = _students(careers)
    # October t .. September t+1, compared as dates (not per row through dt.year() and dt.month())
    jm = (job_month.filter(pl.col("month").is_between(dt.date(year, 10, 1), dt.date(year + 1, 9, 30)))
          .join(students.select("person_id"), on="person_id", how="semi")
          .group_by("person_id")
          .agg((pl.col("soortbaan") == INTERN).any().alias("stage"),       # the Enum compared as it is
               (pl.col("soortbaan") != INTERN).any().alias("bijbaan")))
    return (students.join(jm, on="person_id", how="left")
            .with_columns(pl.col("stage").fill_null(False), pl.col("bijbaan").fill_null(False)))


def o24b_stage_bijbaan(population: pl.LazyFrame, careers: pl.LazyFrame, job_month: pl.LazyFrame, year: int,
                       observed_year: int | None = None, **kw) -> pl.DataFrame:
    """O24b, the advice after report 5.1 deelvraag 4b: of the hbo and wo students of 1 October t, the share
    with a paid internship ("betaalde stages ... in de polisadministratie"), with a side job ("of breder met
    een bijbaan") and with either, in the school year; also per hbo and wo.  Students are counted (report
    2.1: pupils and students are not excluded here); persons must be in core/population of t (living in NL
    all of t).  ``voorlopig`` until the job-months of t+1 are in the warehouse."""
    status = "definitief" if (observed_year if observed_year is not None else year + 1) >= year + 1 \
        else "voorlopig"
    p = held(population.join(student_jobs(careers, job_month, year), on="person_id", how="inner"))
    measures = {"stage": pl.col("stage"), "bijbaan": pl.col("bijbaan"),
                "stage of bijbaan": pl.col("stage") | pl.col("bijbaan")}
    out = []
    for label, v in measures.items():
        for route in (None, *STUDENT_ROUTES.values()):
            rows = p if route is None else p.filter(pl.col("route") == route)
            out.append(cells(rows.with_columns(v.cast(pl.Float64).alias("value")), indicator_id="O24b", year=year,
                             unit="%", measure=label if route is None else f"{label} {route}", status=status,
                             **kw))
    return _concat(out)
