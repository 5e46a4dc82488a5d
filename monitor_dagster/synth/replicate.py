"""Replication mode of ``monitor synth`` (issue 12 item 5): a national-scale zone from a smaller base zone.

The generator holds its whole latent world in memory (about 6.4 GB per million persons, measured in
docs/synthetic_data.md), so 17.5 million persons cannot be generated directly on a 24 GB machine.
``SynthConfig(replicate=R)`` / ``monitor synth --replicate R`` generates the base zone of ``persons`` persons
once and writes every person-level file as R copies of the base rows, one after the other, with the
person and job keys of copy k shifted so that the copies are distinct persons with distinct jobs:

* **person key** ``RINPERSOON`` (with ``RINPERSOONS`` R): the generator derives it from the internal person
  number by the bijection ``(pid * RIN_MULT + b) % RIN_SPAN + RIN_LOW`` (persons.py).  Copy k holds the
  persons ``pid + k * persons``: its key is the base key plus ``k * (persons * RIN_MULT)`` modulo
  ``RIN_SPAN``, so keys stay 9-digit numbers (the pipeline rejects anything else, as CBS has no other) and
  are unique over all copies as long as ``R * persons <= 900,000,000``.
* **cross-border workers** (``RINPERSOONS`` S, SPOLIS only): their key is ``job % 99,999,999 + 800,000,000``
  (spolis.py), so all base S keys lie in one block of ``jobs`` consecutive numbers; copy k shifts them by
  ``k * jobs`` modulo ``RIN_SPAN`` (unique while ``R * jobs <= 900,000,000``).
* **job key** ``IKVID`` (``BAANRUGID`` in POLISBUS): plus ``k * job_offset``, a power of ten above every
  base job key (including the S jobs' ``job + 900,000,000``).
* **shared, not shifted**: the employer pool (``SBEID`` and its sector), address objects
  (``RINOBJECTNUMMER``), programme and school codes; every other column is copied unchanged, including the
  survey weights (EBB ``EbbGewJaarGewichtA``, ``SVOGEWICHT``, ``OPLGEWICHT``): a replicated zone is R
  identical Netherlands side by side, so counts and weighted totals are R times the base zone's and every
  rate, share and mean equals the base zone's.
* **files without a person key** (the reference tables LANDAKTUEELREF, OPLEIDINGSNRREF, SBBKANSOPWERK) are
  written once.

Copies are streamed: the base frame of a file is in memory once, and ``pl.concat`` of the R shifted lazy
copies goes through polars' streaming ``sink_parquet`` / ``sink_csv``, so the peak memory of a replicated
zone is that of its base zone (measured in docs/synthetic_data.md).  ``.sav`` is not supported: pyreadstat
writes a whole frame at once and cannot append, so an R-fold .sav file would need R times the memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from monitor_dagster.synth.ebb import SURVEY_ID   # the EBB's own person id: its unlinked respondents' key
from monitor_dagster.synth.persons import RIN_LOW, RIN_MULT, RIN_SPAN
from monitor_dagster.synth.spolis import S_JOB_SHIFT, S_KEY_MOD

PERSON_KEY = "RINPERSOON"
PERSON_KIND = "RINPERSOONS"
JOB_KEYS = ("IKVID", "BAANRUGID")
#: largest number of persons a zone can have with 9-digit person keys
MAX_PERSONS = RIN_SPAN


@dataclass(frozen=True)
class Replication:
    """How copy k of a file differs from the base rows (see the module docstring)."""

    copies: int
    person_offset: int      # base persons: copy k holds pids pid + k * person_offset
    s_step: int             # shift of S keys per copy (the span of the base S keys)
    job_offset: int         # shift of IKVID / BAANRUGID per copy

    @property
    def person_step(self) -> int:
        return (self.person_offset * RIN_MULT) % RIN_SPAN

    @classmethod
    def plan(cls, copies: int, persons: int, max_job_id: int) -> "Replication":
        """The shifts for ``copies`` copies of a base zone of ``persons`` persons whose latent jobs have ids
        0..``max_job_id``.  Raises ValueError when the keys of all copies cannot stay unique in 9 digits."""
        if copies < 1:
            raise ValueError(f"replicate must be at least 1, got {copies}")
        if copies * persons > MAX_PERSONS:
            raise ValueError(f"{copies} copies x {persons:,} persons exceed the {MAX_PERSONS:,} 9-digit person "
                             f"keys (RINPERSOON)")
        s_step = min(max_job_id + 1, S_KEY_MOD)
        if copies * s_step > RIN_SPAN:
            raise ValueError(f"{copies} copies x {s_step:,} cross-border job keys exceed the {RIN_SPAN:,} "
                             f"9-digit person keys of RINPERSOONS S; use fewer copies of a larger base zone")
        top = max_job_id + S_JOB_SHIFT            # the largest base IKVID (an S job)
        return cls(copies=copies, person_offset=persons, s_step=s_step, job_offset=10 ** len(str(top)))

    def applies_to(self, columns: list[str]) -> bool:
        """Files with a person key are replicated; reference tables are written once."""
        return PERSON_KEY in columns

    def copy(self, lf: pl.LazyFrame, k: int, columns: list[str]) -> pl.LazyFrame:
        """Copy ``k`` (0 = the base rows unchanged) of a file's rows."""
        if k == 0:
            return lf
        exprs = []
        if PERSON_KEY in columns:
            step = pl.lit(k * self.person_step, dtype=pl.Int64)
            if PERSON_KIND in columns:
                step = (pl.when(pl.col(PERSON_KIND) == "S").then(pl.lit(k * self.s_step, dtype=pl.Int64))
                        .otherwise(step))
            # an empty key (an EBB respondent not linked to RINPERSOON, synth/ebb.py) stays empty
            empty = pl.col(PERSON_KEY).cast(pl.String).str.strip_chars() == ""
            v = pl.when(empty).then(None).otherwise(pl.col(PERSON_KEY)).cast(pl.Int64, strict=True)
            exprs.append(pl.when(empty).then(pl.col(PERSON_KEY).cast(pl.String))
                         .otherwise(((v - RIN_LOW + step) % RIN_SPAN + RIN_LOW).cast(pl.String)).alias(PERSON_KEY))
        if SURVEY_ID in columns:          # the unlinked respondents' own key must differ between copies too
            exprs.append(pl.format("{}c{}", pl.col(SURVEY_ID), pl.lit(k)).alias(SURVEY_ID))
        for c in JOB_KEYS:
            if c in columns:
                exprs.append((pl.col(c) + k * self.job_offset).alias(c))
        return lf.with_columns(exprs)

    def all_copies(self, df: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        """The R copies one after the other, lazily (streamed by the writer)."""
        lf = df.lazy()
        cols = lf.collect_schema().names()
        return pl.concat([self.copy(lf, k, cols) for k in range(self.copies)], how="vertical", rechunk=False)

    def describe(self) -> dict:
        return {"copies": self.copies, "base_persons": self.person_offset,
                "persons": self.copies * self.person_offset,
                "rinpersoon_step_R": self.person_step, "rinpersoon_step_S": self.s_step,
                "job_key_offset": self.job_offset,
                "rule": "copy k: RINPERSOON -> (RINPERSOON - 100000000 + k * step) mod 900000000 + 100000000 "
                        "(step by RINPERSOONS), IKVID/BAANRUGID + k * job_key_offset; employers (SBEID), "
                        "addresses and codes shared; weights unchanged; reference tables written once"}
