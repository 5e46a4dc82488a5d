"""The truth file: what was planted, so tests can compare pipeline output with it.

Written next to the landing zone (``<landing>.truth.json``), never inside it: real landing zones have no
such file.  Counts are exact properties of the latent world (e.g. persons living in NL the whole year, from
the residence periods, before CBS's address gaps are added); figures that depend on a file's own sampling
(EBB) are computed from the written rows with the EBB definitions of docs/indicators_ebb.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

from monitor_dagster.synth import params as P
from monitor_dagster.synth.labour import PENSION, SCHOOL, STUDENT_JOB


def whole_year_population(residence: pl.DataFrame, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """Persons whose one residence period covers 1 Jan - 31 Dec of ``year`` (report 2.1)."""
    a, b = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ok = residence.filter((pl.col("start") <= a) & (pl.col("end").is_null() | (pl.col("end") >= b))).select("pid").unique()
    return persons.join(ok, on="pid", how="semi")


def students_pensioners_whole_year(lab, persons: pl.DataFrame, residence: pl.DataFrame, fy: int, ly: int) -> dict:
    """``{year: {"group|generation": {"students": n, "pensioners": n}}}``: of the persons living in NL the whole
    year (the cells of ``population_whole_year``), those whose latent state on 31 December is school (SECM 26/31)
    resp. pension (25).  This is what ``core.population(..., student_rule="dec31")`` flags; the monitor's
    default ``majority`` rule counts other persons (docs/synthetic_data.md, "Planted truths and their tests")."""
    out = {}
    for y in range(fy, ly + 1):
        col = lab.state_m[:, (y - lab.origin_year) * 12 + 11]
        wy = whole_year_population(residence, persons, y)
        state = col[wy["pid"].to_numpy()]
        cells = (wy.select(pl.format("{}|{}", "herkomst_group", "generation").alias("cell"),
                           pl.Series("students", np.isin(state, [SCHOOL, STUDENT_JOB])),
                           pl.Series("pensioners", state == PENSION))
                 .group_by("cell").agg(pl.col("students").sum(), pl.col("pensioners").sum()).sort("cell"))
        out[str(y)] = {r["cell"]: {"students": int(r["students"]), "pensioners": int(r["pensioners"])}
                       for r in cells.iter_rows(named=True)}
    return out


def short_stay(persons: pl.DataFrame, residence: pl.DataFrame, year: int) -> np.ndarray:
    """Per pid: first generation in NL six months or less on the peildatum 1 January ``year`` (technisch rapport
    Monitor gelijke kansen, §2.2: "niet meegenomen in de analyse"): the days of the residence periods before
    1 January, summed over repeated stays, at most those from 1 July of ``year - 1`` (184).  The residence periods
    are what GBAMIGRATIEBUS records from 1 October 1994 on; a stay that began earlier is longer than that anyway."""
    peil, last = dt.date(year, 1, 1), dt.date(year - 1, 12, 31)
    days = (residence.filter(pl.col("start") < peil)
            .select("pid", ((pl.min_horizontal(pl.col("end").fill_null(last), pl.lit(last)) - pl.col("start"))
                            .dt.total_days() + 1).clip(lower_bound=0).alias("d"))
            .group_by("pid").agg(pl.col("d").sum()))
    total = np.full(persons.height, np.iinfo(np.int64).max)
    total[days["pid"].to_numpy()] = days["d"].to_numpy()
    first_gen = persons.sort("pid")["generation"].to_numpy() == 1
    return first_gen & (total <= (peil - dt.date(year - 1, 7, 1)).days)


def without_short_stay(frame: pl.DataFrame, persons: pl.DataFrame, residence: pl.DataFrame,
                       year: int) -> pl.DataFrame:
    """The rows of ``frame`` (a column ``pid``) whose person is not left out of every analysis of ``year`` for a
    stay of six months or less (:func:`short_stay`, §2.2)."""
    return frame.filter(~pl.col("pid").is_in(np.flatnonzero(short_stay(persons, residence, year)).tolist()))


def _base_population(lab, persons: pl.DataFrame, residence: pl.DataFrame, year: int,
                     pids: np.ndarray | None = None) -> np.ndarray:
    """Per pid: in the register indicators' base population of ``year`` (whole year in NL, not a pupil/student
    or pensioner for more than half the year, 15 to the AOW age) without the short stays that every analysis
    leaves out (:func:`short_stay`, §2.2): the base of the O09, payrolling and transitions truths.  With ``pids``
    only those persons are judged (the others False): the AOW dates and SECM days of everybody cost 0.08 s a year
    on 20,000 persons."""
    from monitor_dagster.synth.labour import aow_date
    from monitor_dagster.synth.transitions_truth import _age_ok, _majority_flags, _whole_year

    n = persons.height
    sel = np.arange(n) if pids is None else np.unique(np.asarray(pids, dtype=np.int64))
    spells, res = lab.spells, residence
    if pids is not None:
        spells = spells.filter(pl.col("pid").is_in(sel.tolist()))
        res = res.filter(pl.col("pid").is_in(sel.tolist()))
    birth = persons.sort("pid")["birth_date"].to_numpy().astype("datetime64[D]")[sel]
    stud, pens = _majority_flags(spells, n, year)
    ok = _whole_year(res, n, year) & ~stud & ~pens & ~short_stay(persons, res, year)
    out = np.zeros(n, dtype=bool)
    out[sel] = ok[sel] & _age_ok(birth, aow_date(birth), year)
    return out


def payrolling_truth(lab, persons: pl.DataFrame, residence: pl.DataFrame, fy: int, ly: int) -> dict | None:
    """The payrolling break of 2017 (technisch rapport Monitor gelijke kansen, §4.2, footnote 13) as jobs and as
    persons of O04; None when 2017 is not in the zone.

    * ``jobs``: jobs (IKVs) active in 2017, ``payroll_jobs``: of those at a payroll company (recorded O up to
      2016 and B from 2017, the job unchanged: every one of them is reclassified);
    * O04 (% vast among persons of the base population with a substantial job in 2017; the contract with the
      most basic hours, a tie vast) on the latent job-months of transitions_truth (weekly hours >= 12, hourly
      wage >= the WML of 1 January, O/B, no intern; basic hours = hours x days / 7): ``o04_persons``,
      ``o04_vast`` as recorded (payroll B), ``o04_vast_without_reclassification`` (payroll hours counted O as
      before 2017) and ``o04_flipped``, the difference: the persons the reclassification moves from vast to
      flex, i.e. the exact change of O04's numerator that the break causes."""
    from monitor_dagster import reference
    from monitor_dagster.synth.spolis import PAYROLL_BREAK_YEAR
    from monitor_dagster.synth.transitions_truth import _job_months

    y = PAYROLL_BREAK_YEAR
    if not fy <= y <= ly:
        return None
    jobs = lab.jobs
    active = jobs.filter((pl.col("start") <= dt.date(y, 12, 31)) & (pl.col("end").is_null() | (pl.col("end") >= dt.date(y, 1, 1))))
    n = persons.height
    m0 = (y - lab.origin_year) * 12
    jm = _job_months(jobs, lab.origin_year, m0, m0 + 11)
    wml = dict(zip(reference.wml()["year"].to_list(), reference.wml()["wml_hour_40h"].to_list()))[y]
    payroll = np.zeros(int(jobs["job_id"].max()) + 1 if jobs.height else 0, dtype=bool)
    payroll[jobs["job_id"].to_numpy()] = jobs["payroll"].to_numpy()
    sub = jm["wage"] >= wml - 1e-9
    pid, hd, contract = jm["pid"][sub], jm["hd"][sub], jm["contract"][sub]
    pay = payroll[jm["job"][sub]]
    o = np.bincount(pid, weights=np.where(contract == 1, hd, 0.0), minlength=n)
    b = np.bincount(pid, weights=np.where(contract == 2, hd, 0.0), minlength=n)
    p = np.bincount(pid, weights=np.where(pay, hd, 0.0), minlength=n)      # payroll hours: all recorded B in 2017
    pop = (np.bincount(pid, minlength=n) > 0) & _base_population(lab, persons, residence, y)
    vast, vast_before = pop & (o >= b), pop & (o + p >= b - p)
    return {"jobs": active.height, "payroll_jobs": active.filter(pl.col("payroll")).height,
            "o04_persons": int(pop.sum()), "o04_vast": int(vast.sum()),
            "o04_vast_without_reclassification": int(vast_before.sum()), "o04_flipped": int((vast_before & ~vast).sum())}


def top_incomes_by_year(lab, persons: pl.DataFrame, residence: pl.DataFrame, top: np.ndarray, seed: int,
                        fy: int, ly: int) -> dict:
    """``{year: {"in_inpatab": n, "in_base_population": n}}``: the planted top earners (profit 1.2-3 million, so
    every income measure of theirs lies above the 1 million cap) with an income in INPATAB/IPI of the year (living
    in NL on 31 December, income not written as missing: the draws of ``income.income_draws`` from the INPATAB
    stream), and of those the persons of O09's base population (capped by O09)."""
    from monitor_dagster.synth.generate import sub_rng
    from monitor_dagster.synth.income import income_draws

    out = {}
    for y in range(fy, ly + 1):
        inc = income_draws(lab, y, top, sub_rng(seed, "INPATAB", y))
        have = inc.filter(pl.col("pid").is_in(top.tolist()) & ~pl.col("missing"))["pid"].to_numpy()
        base = _base_population(lab, persons, residence, y, pids=top)
        out[str(y)] = {"in_inpatab": int(len(have)), "in_base_population": int(base[have].sum())}
    return out


def _params_dump() -> dict:
    return {k: v for k, v in vars(P).items() if k.isupper()}


def generator_code() -> str:
    """A fingerprint of the generator's code (the files of monitor_dagster/synth, sha256, 12 hex digits), kept in
    the truth file: a benchmark that re-uses a zone can tell that the generator has changed since.  The
    thirty-eighth session measured the national year on a zone of older generator code and so missed that
    the zone of its own code (EBB respondents without RINPERSOON) stopped the EBB family."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".csv", ".yaml", ".json") and "__pycache__" not in f.parts:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def stale_zone(truth_path: Path) -> str | None:
    """Why a zone's files may not be what the generator writes now (None when they are): its truth file is
    missing, or was written by other generator code (:func:`generator_code`)."""
    if not Path(truth_path).exists():
        return f"no truth file {truth_path}: the generator that wrote the zone is unknown"
    try:
        code = json.loads(Path(truth_path).read_text()).get("generator_code")
    except (OSError, ValueError) as exc:
        return f"the truth file {truth_path} cannot be read ({exc})"
    now = generator_code()
    if code != now:
        was = f"generator code {code}" if code else "a generator that did not record its code"
        return f"the zone was written by {was}, the generator is now {now}: its files may lack what it writes today"
    return None


def build_truth(cfg, demo, ew, lab, prov, top, scale, files, corrections, irregular) -> dict:
    persons, residence = demo.persons, demo.residence
    fy, ly = cfg.first_year, cfg.last_year
    truth: dict = {
        "generator": "monitor_dagster.synth",
        "generator_code": generator_code(),
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
    truth["top_incomes_above_cap"] = {"persons": int(len(top)), "cap": P.INCOME_CAP,
                                      "by_year": top_incomes_by_year(lab, persons, residence, top, cfg.seed, fy, ly)}
    # students and pensioners in December (excluded from most indicators, report 2.1): everybody in NL on
    # 31 December, and per herkomst cell of the persons living in NL the whole year (population_whole_year)
    st = {}
    for y in range(fy, ly + 1):
        m = (y - lab.origin_year) * 12 + 11
        col = lab.state_m[:, m]
        st[str(y)] = {"students": int(np.isin(col, [SCHOOL, STUDENT_JOB]).sum()), "pensioners": int((col == PENSION).sum())}
    truth["students_pensioners_dec"] = st
    truth["students_pensioners_dec_whole_year"] = students_pensioners_whole_year(lab, persons, residence, fy, ly)
    truth["payrolling_2017"] = payrolling_truth(lab, persons, residence, fy, ly)
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
                 "payroll_jobs_2016_and_2017", "provisions", "students_pensioners_dec",
                 "students_pensioners_dec_whole_year", "payrolling_2017", "transitions", "first_job", "regions",
                 "address_release_cut")


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
    top = out["top_incomes_above_cap"]
    out["top_incomes_above_cap"] = {**top, "persons": top["persons"] * r,
                                    **({"by_year": _times(top["by_year"], r)} if "by_year" in top else {})}
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
                          "scaled_counts": [*COUNT_ENTRIES, "top_incomes_above_cap.persons", "top_incomes_above_cap.by_year",
                                            "corrections[].rows_changed_in_V1", "education.exam_candidates",
                                            *[f"education.{k}" for k in STUDY_CHOICE_KEYS]],
                          "note": "counts are R times the base zone's; rates, shares, parameters and "
                                  "represented_per_person are the base zone's and hold for every copy"}
    return out
