"""Person by person: where a warehouse's transitions (O29/O30) and reemployment (O38) differ from the latent world
of its synthetic zone, and what the file showed of each such person.

``synth/verify.py`` compares counts within tolerances; the tolerances are error models of the SPOLIS flickers
(``monitor_dagster_tests/test_synth_transitions_truth.py``): a job of exactly 12 hours a week whose file hours fall
on either side of 12, on-call hours, short first and last months, which of two jobs of nearly equal hours is the
main job.  When a count moves towards its tolerance (a new generator, another seed, a changed rule) this module
says which persons differ and lists their job-months and SECM months, so that each difference can be read as a
flicker or as a defect.  The forty-third session set the tolerances of O38's numerators (1 % of their cohort) and
of O29/O30's (0.2 % of the tijdelijk cohort) this way; ``benchmarks/truth_persons.py`` runs it on a zone of any
size that was not replicated.

The latent world is drawn again from the zone's truth file (persons, years, seed: ``synth.generate``'s streams);
the pipeline's persons are those the indicator functions hand to the cells (recorded on the way, nothing
stored).  O29/O30 of a zone's first year are not comparable: their window starts in November t-1, which the
zone does not hold (the pipeline does not build transitions for that year; forced, about 8 % of the latent
tijdelijk cohort is missing).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["latent_events", "pipeline_persons", "differences", "person_months"]

#: measure -> (family, the cells' (indicator, measure) key, truth event of the cohort, truth event of the numerator)
MEASURES = {"O29": ("transitions", ("O29", "zelfde werkgever"), "tijdelijk", "tijdelijk_naar_vast_zelfde_werkgever"),
            "O30": ("transitions", ("O30", "andere werkgever"), "tijdelijk", "tijdelijk_naar_vast_andere_werkgever"),
            "O38 WW direct": ("reemployment", ("O38", "na WW direct"), "WW_uitstroom", "WW_direct"),
            "O38 bijstand direct": ("reemployment", ("O38", "na bijstand direct"), "bijstand_uitstroom",
                                    "bijstand_direct")}


def latent_events(truth: dict, year: int) -> tuple[pl.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(pid -> rin, the transitions events of ``year`` per pid, the reemployment events of ``year`` per pid)
    of the zone's latent world, drawn again from the truth file's config (``synth.transitions_truth``)."""
    from monitor_dagster.synth import transitions_truth as TT
    from monitor_dagster.synth.generate import latent_world

    c = truth["config"]
    if int((truth.get("replication") or {}).get("copies", 1)) > 1:
        raise ValueError("a replicated zone: compare its base zone (monitor synth without --replicate) instead")
    seed, first, last = c["seed"], c["first_year"], c["last_year"]
    w = latent_world(c["persons"], seed, first, last)
    demo = w.demo
    ctx = TT.prepare(w.lab, demo.persons, demo.residence, w.top, seed, first, last)
    panels = {y: TT.year_events(ctx, y) for y in range(first, last + 1)}
    months = [panels[y]["state"][:, 2:14] for y in range(first, last + 1)]
    again = TT.reemployment_events(months, panels[year]["base"], year - first)
    rin = demo.persons.sort("pid").select("pid", pl.col("rinpersoon").cast(pl.Int64).alias("rin"))
    return rin, panels[year], again


@contextmanager
def _recording(module, function: str, seen: list):
    """``module.function`` records the frame of persons it is handed (its first argument) while inside."""
    real = getattr(module, function)

    def record(persons, *args, **kw):
        seen.append((persons.collect() if isinstance(persons, pl.LazyFrame) else persons, args))
        return real(persons, *args, **kw)

    setattr(module, function, record)
    try:
        yield
    finally:
        setattr(module, function, real)


def pipeline_persons(warehouse: Path | str, year: int) -> dict[str, pl.DataFrame]:
    """Per measure of :data:`MEASURES`: rin and ``flag`` (the person's value) of every person of the measure's
    cohort as the engine computes ``year`` from the warehouse (the follow-up years it holds included)."""
    from monitor_dagster.indicators import engine as ENG
    from monitor_dagster.indicators import transitions as T

    out: dict[str, pl.DataFrame] = {}
    rin = (pl.col("person_id") % 10**9).alias("rin")
    for family in ("transitions", "reemployment"):
        seen: list = []
        with _recording(T, "cells_many", seen):
            ENG.compute_family(family, ENG.warehouse_frames(warehouse, family, year), year,
                               extra=ENG.follow_up_extras(family, warehouse, year))
        for measure, (fam, key, _, _) in MEASURES.items():
            if fam != family:
                continue
            # the cells' values: a column name or an expression per (indicator, measure); 1 = the event
            frames = [f.select(rin, (pl.col(v[key]) if isinstance(v[key], str) else v[key]).fill_null(0) > 0)
                      for f, (v, *_) in seen if key in v]
            out[measure] = (pl.concat([f.rename({f.columns[1]: "flag"}) for f in frames]) if frames
                            else pl.DataFrame(schema={"rin": pl.Int64, "flag": pl.Boolean}))
    return out


def differences(warehouse: Path | str, truth: dict, year: int) -> dict[str, pl.DataFrame]:
    """Per measure of :data:`MEASURES`: the persons whose membership of the cohort or whose flag differs between
    the warehouse and the latent world: rin, pid, ``pipeline`` (null: not in the pipeline's cohort) and
    ``latent`` (null: not in the truth's cohort)."""
    rin, ev, again = latent_events(truth, year)
    got = pipeline_persons(warehouse, year)
    out = {}
    for measure, (family, _, cohort, event) in MEASURES.items():
        e = ev if family == "transitions" else again          # both only of the base population of the year
        want = rin.with_columns(pl.Series("latent", e[event].astype(bool))).filter(pl.Series(e[cohort].astype(bool)))
        j = want.join(got[measure].rename({"flag": "pipeline"}), on="rin", how="full", coalesce=True)
        out[measure] = (j.filter(pl.col("latent").ne_missing(pl.col("pipeline")))
                        .join(rin, on="rin", how="left", suffix="_r")
                        .select("rin", pl.coalesce("pid", "pid_r").alias("pid"), "pipeline", "latent").sort("rin"))
    return out


def person_months(warehouse: Path | str, year: int, rin: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The person's job-months (November t-1 .. December t+1 as far as the warehouse holds them) and SECM
    months of ``year``'s window: what the file showed, to set beside the latent world."""
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(warehouse, "reemployment", year)
    me = (pl.col("person_id") % 10**9) == rin
    jm = (fr["core/job_months"].filter(me).select("month", "IKVID", "SBEID", "basisuren", "basisuren_pw",
                                                  "hourly_wage", "contract", "substantial")
          .unique().sort("month", "IKVID").collect())
    sm = fr["core/secm_months"].filter(me).select("month", "SECM").unique().sort("month").collect()
    return jm, sm
