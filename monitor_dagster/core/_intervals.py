"""Interval helpers shared by the spell builders (jobs, SECM, benefits, provisions).

Everything here is a LazyFrame -> LazyFrame function or a ``pl.Expr`` builder; no collect.  Spells are
``[start, end]`` with both days included and ``end`` null for an open spell (the warehouse turns the CBS
open-end sentinels into null).  Monthly states come from *exploding* each spell into the calendar months it
overlaps inside a window (docs/methodology.md "Spells": interval logic, never a self-join of a person-month
table).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

#: stand-in for an open end while computing (never written out)
FAR_FUTURE = dt.date(9999, 12, 31)


def keep_r(lf: pl.LazyFrame, drop: bool = True) -> pl.LazyFrame:
    """Rows of persons in the population register only (RINPERSOONS ``R``, report 2.1); the column is dropped
    unless ``drop`` is False.

    Other RINPERSOONS values (``S`` cross-border workers and the like) have no GBA record, so they cannot be in
    the study population; their ``person_id`` is not a register person.  A frame without the column is
    returned as it is."""
    if "RINPERSOONS" not in lf.collect_schema().names():
        return lf
    kept = lf.filter(pl.col("RINPERSOONS").cast(pl.String) == "R")
    return kept.drop("RINPERSOONS") if drop else kept


def month_index(col: str | pl.Expr) -> pl.Expr:
    """Months since year 0 (``year*12 + month-1``) as Int32: consecutive months differ by exactly 1."""
    c = pl.col(col) if isinstance(col, str) else col
    return (c.dt.year().cast(pl.Int32) * 12 + c.dt.month().cast(pl.Int32) - 1)


def days_in_month(month: str | pl.Expr) -> pl.Expr:
    m = pl.col(month) if isinstance(month, str) else month
    return m.dt.month_end().dt.day().cast(pl.Int32)


def explode_months(lf: pl.LazyFrame, lo: dt.date, hi: dt.date, start: str = "start", end: str = "end") -> pl.LazyFrame:
    """One row per (spell, calendar month it overlaps inside ``[lo, hi]``) with ``month`` (first of month),
    ``days`` (days of the spell in that month) and ``month_days`` (days in the calendar month).

    Spells outside the window are dropped first (predicate pushdown keeps this cheap); an open end counts as
    running through ``hi``."""
    a = pl.max_horizontal(pl.col(start), pl.lit(lo))
    b = pl.min_horizontal(pl.col(end).fill_null(pl.lit(hi)), pl.lit(hi))
    out = (lf.filter((pl.col(start) <= hi) & (pl.col(end).is_null() | (pl.col(end) >= lo)))
           .with_columns(a.alias("_a"), b.alias("_b"))
           .filter(pl.col("_a") <= pl.col("_b"))
           .with_columns(pl.date_ranges(pl.col("_a").dt.month_start(), pl.col("_b").dt.month_start(), "1mo")
                         .alias("month"))
           .explode("month"))
    days = (pl.min_horizontal(pl.col("_b"), pl.col("month").dt.month_end())
            - pl.max_horizontal(pl.col("_a"), pl.col("month"))).dt.total_days().cast(pl.Int32) + 1
    return out.with_columns(days.alias("days"), days_in_month("month").alias("month_days")).drop("_a", "_b")


def merge_intervals(lf: pl.LazyFrame, by: list[str], start: str = "start", end: str = "end",
                    gap_days: int = 1) -> pl.LazyFrame:
    """Union of overlapping or adjacent spells per ``by`` group (adjacent: the next spell starts at most
    ``gap_days`` after the running end; 1 = the next day).  Open ends stay open.  Other columns are dropped.

    Classic sweep: sort by start, keep the running maximum of the ends; a spell that starts after that running
    end (+ gap) opens a new merged spell.  Meant for the small benefit/provision files (a window ``over``
    ``by`` is used), not for SPOLIS."""
    e = pl.col(end).fill_null(pl.lit(FAR_FUTURE))
    s = (lf.select(*by, start, e.alias("_e")).sort(*by, start)
         .with_columns(pl.col("_e").cum_max().over(by).alias("_run")))
    prev = pl.col("_run").shift(1).over(by)
    new = prev.is_null() | (pl.col(start) > prev.dt.offset_by(f"{gap_days}d"))
    return (s.with_columns(new.alias("_new"))
            .with_columns(pl.col("_new").cast(pl.Int32).cum_sum().over(by).alias("_grp"))
            .group_by(*by, "_grp")
            .agg(pl.col(start).min(), pl.col("_e").max().alias(end))
            .with_columns(pl.when(pl.col(end) == FAR_FUTURE).then(None).otherwise(pl.col(end)).alias(end))
            .drop("_grp"))
