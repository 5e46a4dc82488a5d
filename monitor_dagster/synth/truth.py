"""The truth file: what was planted, so tests can compare pipeline output with it.

Written next to the landing zone (``<landing>.truth.json``), never inside it: real landing zones have no
such file.  Counts are exact properties of the latent world (e.g. persons living in NL the whole year, from
the residence periods, before CBS's address gaps are added); figures that depend on a file's own sampling
(EBB) are computed from the written rows with the EBB definitions of SPEC.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import numpy as np
import polars as pl

from monitor_dagster.synth import params as P
from monitor_dagster.synth.labour import PENSION, SCHOOL, STUDENT_JOB


def whole_year_population(residence: pl.DataFrame, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """Persons whose one residence period covers 1 Jan - 31 Dec of ``year`` (report 2.1)."""
    a, b = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ok = residence.filter((pl.col("start") <= a) & (pl.col("end").is_null() | (pl.col("end") >= b))).select("pid").unique()
    return persons.join(ok, on="pid", how="semi")


def _params_dump() -> dict:
    return {k: v for k, v in vars(P).items() if k.isupper()}


def build_truth(cfg, demo, ew, lab, prov, top, scale, files, corrections, irregular) -> dict:
    persons, residence = demo.persons, demo.residence
    fy, ly = cfg.first_year, cfg.last_year
    truth: dict = {
        "generator": "monitor_dagster.synth",
        "config": {k: str(v) if hasattr(v, "__fspath__") else v for k, v in asdict(cfg).items()},
        "represented_per_person": scale,
        "irregular_names": irregular,
        "corrections": corrections,
        "parameters": _params_dump(),
    }
    # population living in NL the whole year, by herkomst group and generation
    pop = {}
    for y in range(fy, ly + 1):
        wy = whole_year_population(residence, persons, y)
        pop[str(y)] = {f"{r['herkomst_group']}|{r['generation']}": r["len"]
                       for r in wy.group_by("herkomst_group", "generation").len().iter_rows(named=True)}
    truth["population_whole_year"] = pop
    # shares of the population on 1 Jan 2018 (calibration against StatLine 37296ned)
    d = dt.date(2018, 1, 1)
    on = residence.filter((pl.col("start") <= d) & (pl.col("end").is_null() | (pl.col("end") >= d))).select("pid").unique()
    p18 = persons.join(on, on="pid", how="semi")
    truth["shares_2018"] = {f"{r['herkomst_group']}|{r['generation']}": r["len"] / max(p18.height, 1)
                            for r in p18.group_by("herkomst_group", "generation").len().iter_rows(named=True)}
    # latent labour-market position 15-75 in December of each year (employed = >= 1 hour of work a week)
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    group = persons["herkomst_group"].to_numpy()
    nw = persons["nonwestern"].to_numpy()
    part = {}
    for y in range(fy, ly + 1):
        m = (y - lab.origin_year) * 12 + 11
        age = (np.datetime64(f"{y}-12-31") - birth).astype(np.int64) / 365.25
        sel = (age >= 15) & (age < 75) & (lab.state_m[:, m] != 0)
        emp = lab.hours_m[:, m] >= 1
        row = {"totaal": float(emp[sel].mean()) if sel.any() else None,
               "niet-westers": float(emp[sel & nw].mean()) if (sel & nw).any() else None}
        for g in ("Nederland", "Marokko", "Turkije"):
            s = sel & (group == g)
            row[g] = float(emp[s].mean()) if s.any() else None
        part[str(y)] = row
    truth["latent_participation_dec"] = part
    # payrolling 2017: payroll jobs recorded O up to 2016 and B from 2017 without any change in the job
    jobs = lab.jobs
    pr = {}
    for y in range(fy, ly + 1):
        a, b = dt.date(y, 1, 1), dt.date(y, 12, 31)
        active = jobs.filter(pl.col("payroll") & (pl.col("start") <= b) & (pl.col("end").is_null() | (pl.col("end") >= a)))
        pr[str(y)] = active.height
    truth["payroll_jobs_active"] = pr
    truth["payroll_jobs_reclassified_2017"] = pr.get("2017")
    # the same payroll jobs seen in both 2016 (recorded O) and 2017 (recorded B)
    both = jobs.filter(pl.col("payroll") & (pl.col("contract0") == "O") & (pl.col("start") <= dt.date(2016, 12, 31))
                       & (pl.col("end").is_null() | (pl.col("end") >= dt.date(2017, 1, 1))))
    truth["payroll_jobs_2016_and_2017"] = both.height if fy <= 2016 and ly >= 2017 else None
    # SRG 2019: provisions of the kind that is no longer registered from 2019
    truth["provisions"] = {
        "arbeidsbeperking_active_2019_plus_not_registered": int(prov.filter(
            (pl.col("provision") == "voorziening arbeidsbeperking") & (pl.col("end") >= dt.date(2019, 1, 1))).height),
        "total": prov.height,
    }
    truth["top_incomes_above_cap"] = {"persons": int(len(top)), "cap": P.INCOME_CAP}
    # students and pensioners in December (excluded from most indicators, report 2.1)
    st = {}
    for y in range(fy, ly + 1):
        m = (y - lab.origin_year) * 12 + 11
        col = lab.state_m[:, m]
        st[str(y)] = {"students": int(np.isin(col, [SCHOOL, STUDENT_JOB]).sum()), "pensioners": int((col == PENSION).sum())}
    truth["students_pensioners_dec"] = st
    # realised month-to-month transitions O29-O38 and first jobs after graduation O25 of the latent world
    # (transitions_truth.py, first_job_truth.py: one pass over the yearly state panels)
    from monitor_dagster.synth.transitions_truth import labour_truths
    truth.update(labour_truths(lab, persons, residence, top, cfg.seed, fy, ly, ew=ew))
    from monitor_dagster.synth import education as edu_mod
    # residence: the counts of O19-O22 are restricted to whole-year residents, like the monitor
    truth["education"] = edu_mod.education_truth(ew, persons, fy, ly, residence=residence)
    truth["files"] = [asdict(f) for f in files]
    return truth


#: truth entries that count persons, jobs, rows or provisions (multiplied by R in a replicated zone); all
#: other entries are rates, shares, parameters or per-person figures and hold for every copy unchanged
COUNT_ENTRIES = ("population_whole_year", "payroll_jobs_active", "payroll_jobs_reclassified_2017",
                 "payroll_jobs_2016_and_2017", "provisions", "students_pensioners_dec", "transitions",
                 "first_job")


def _times(obj, r: int):
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return obj * r
    if isinstance(obj, dict):
        return {k: _times(v, r) for k, v in obj.items()}
    raise TypeError(f"not a count: {obj!r}")


def scale_truth(truth: dict, replication) -> dict:
    """The truth of a replicated zone (replicate.py): counts x R, rates and parameters unchanged.

    ``represented_per_person`` stays the base zone's figure (the EBB weights are copied unchanged, so the
    weighted totals of the zone are R times the base zone's too); ``files`` already describes the written
    (replicated) files."""
    r = replication.copies
    out = dict(truth)
    for k in COUNT_ENTRIES:
        if k in out:
            out[k] = _times(out[k], r)
    out["top_incomes_above_cap"] = {**out["top_incomes_above_cap"],
                                    "persons": out["top_incomes_above_cap"]["persons"] * r}
    out["corrections"] = [{**c, "rows_changed_in_V1": c["rows_changed_in_V1"] * r} for c in out["corrections"]]
    edu = dict(out.get("education", {}))
    if "exam_candidates" in edu:
        edu["exam_candidates"] = _times(edu["exam_candidates"], r)
        out["education"] = edu
    from monitor_dagster.synth.education.study_choice_truth import STUDY_CHOICE_KEYS
    for k in STUDY_CHOICE_KEYS:     # counts of research question 4a (O19-O22)
        if k in edu:
            edu[k] = _times(edu[k], r)
            out["education"] = edu
    out["replication"] = {**replication.describe(),
                          "scaled_counts": [*COUNT_ENTRIES, "top_incomes_above_cap.persons",
                                            "corrections[].rows_changed_in_V1", "education.exam_candidates",
                                            *[f"education.{k}" for k in STUDY_CHOICE_KEYS]],
                          "note": "counts are R times the base zone's; rates, shares, parameters and "
                                  "represented_per_person are the base zone's and hold for every copy"}
    return out
