"""Interval helpers shared by the spell builders (jobs, SECM, benefits, provisions).

Everything here is a LazyFrame -> LazyFrame function or a ``pl.Expr`` builder; no collect.  Spells are
``[start, end]`` with both days included and ``end`` null for an open spell (the warehouse turns the CBS
open-end sentinels into null).  Monthly states come from *exploding* each spell into the calendar months it
overlaps inside a window (docs/methodology.md "Spells": interval logic, never a self-join of a person-month
table).
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl

#: stand-in for an open end while computing (never written out)
FAR_FUTURE = dt.date(9999, 12, 31)


def keep_r(lf: pl.LazyFrame, drop: bool = True) -> pl.LazyFrame:
    """Rows of persons in the population register only (RINPERSOONS ``R``, report 2.1); the column is dropped
    unless ``drop`` is False.

    Other RINPERSOONS values (``S`` cross-border workers and the like) have no GBA record, so they cannot be in
    the study population; their ``person_id`` is not a register person.  A frame without the column is
    returned as it is."""
    schema = lf.collect_schema()
    if "RINPERSOONS" not in schema.names():
        return lf
    dtype, code = schema["RINPERSOONS"], pl.col("RINPERSOONS")
    # the Enum of the warehouse compared as it is: a cast to text per row took 10x as long (0.10 against 0.01 s
    # for 7 M rows; every SPOLIS, SECM and address row passes here, issue 12)
    is_r = code == "R" if isinstance(dtype, pl.Enum) and "R" in dtype.categories else code.cast(pl.String) == "R"
    kept = lf.filter(is_r)
    return kept.drop("RINPERSOONS") if drop else kept


def month_index(col: str | pl.Expr) -> pl.Expr:
    """Months since year 0 (``year*12 + month-1``) as Int32: consecutive months differ by exactly 1."""
    c = pl.col(col) if isinstance(col, str) else col
    return (c.dt.year().cast(pl.Int32) * 12 + c.dt.month().cast(pl.Int32) - 1)


def in_year(col: str | pl.Expr, year: int) -> pl.Expr:
    """Whether a Date lies in calendar year ``year``: a range comparison, not ``dt.year() == year``, which
    converts every value to a calendar date (0.2 s against 0.01 s for 7 M values)."""
    c = pl.col(col) if isinstance(col, str) else col
    return c.is_between(dt.date(year, 1, 1), dt.date(year, 12, 31))


def _month_end(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


#: the calendar parts :func:`calendar_part` looks up (each a function of one ``datetime.date``)
_PARTS = {
    "month_start": lambda d: d.replace(day=1),
    "month_end": _month_end,
    "month_days": lambda d: _month_end(d).day,
    "quarter": lambda d: (d.month - 1) // 3 + 1,
    "month_index": lambda d: d.year * 12 + d.month - 1,      # as :func:`month_index`
}


def calendar_part(col: str | pl.Expr, lo: dt.date, hi: dt.date, part: str) -> pl.Expr:
    """``part`` of a Date column from a table of the days ``lo`` .. ``hi``, null for a date outside them: for a
    column the caller has already limited to that window.  Parts: ``month_start``, ``month_end`` (Date),
    ``month_days``, ``quarter``, ``month_index`` (Int32, as :func:`month_index`).  polars' own
    ``dt.month_end()`` converts every value to a calendar date and back: 1.0 s for the 7 M SPOLIS rows of a
    bucket (4 M persons), ``dt.month_start()`` 0.35 s; the lookup takes 0.04 s (docs/scaling_measurements.md, sixteenth
    session)."""
    c = pl.col(col) if isinstance(col, str) else col
    n = (hi - lo).days + 1
    if n < 1:
        raise ValueError(f"calendar_part: empty window {lo} .. {hi}")
    table = _calendar_table(lo, n, part)
    idx = c.to_physical().cast(pl.Int64) - (lo - dt.date(1970, 1, 1)).days
    return pl.when((idx >= 0) & (idx < n)).then(pl.lit(table).gather(idx.clip(0, n - 1)))


@functools.lru_cache(maxsize=64)
def _calendar_table(lo: dt.date, n: int, part: str) -> pl.Series:
    if part not in _PARTS:
        raise ValueError(f"calendar_part: unknown part {part!r} (one of {', '.join(_PARTS)})")
    values = [_PARTS[part](lo + dt.timedelta(days=i)) for i in range(n)]
    return pl.Series(part, values, dtype=pl.Date if part in ("month_start", "month_end") else pl.Int32)


def explode_months(lf: pl.LazyFrame, lo: dt.date, hi: dt.date, start: str = "start", end: str = "end",
                   month_no: str | None = None) -> pl.LazyFrame:
    """One row per (spell, calendar month it overlaps inside ``[lo, hi]``) with ``month`` (first of month),
    ``days`` (days of the spell in that month) and ``month_days`` (days in the calendar month).

    Spells outside the window are dropped first (predicate pushdown keeps this cheap); an open end counts as
    running through ``hi``.  ``month_no``: also keep, under that name, the month's number in the window
    (Int32, 0 = the month of ``lo``), which the exploding computes anyway.

    The months are integer ranges (the window's month number), and each month's first and last day come from
    a table of the window's few months: exploding date ranges and taking month ends per row cost 2.7x as
    much (SECM of 1 M persons, 13.8 M person-months: 1.5 s -> 0.6 s, issue 12)."""
    first_month = lo.year * 12 + lo.month - 1
    n = hi.year * 12 + hi.month - first_month
    epoch = dt.date(1970, 1, 1)
    bounds = [dt.date((first_month + k) // 12, (first_month + k) % 12 + 1, 1) for k in range(n + 1)]
    first_day = {k: (bounds[k] - epoch).days for k in range(n)}
    last_day = {k: (bounds[k + 1] - epoch).days - 1 for k in range(n)}
    a = pl.max_horizontal(pl.col(start), pl.lit(lo))
    b = pl.min_horizontal(pl.col(end).fill_null(pl.lit(hi)), pl.lit(hi))
    out = (lf.filter((pl.col(start) <= hi) & (pl.col(end).is_null() | (pl.col(end) >= lo)))
           .with_columns(a.alias("_a"), b.alias("_b"))
           .filter(pl.col("_a") <= pl.col("_b"))
           .with_columns(pl.int_ranges(month_index("_a") - first_month, month_index("_b") - first_month + 1,
                                       dtype=pl.Int32).alias("_k"))
           .explode("_k")
           .with_columns(pl.col("_k").replace_strict(first_day, return_dtype=pl.Int32).alias("_f"),
                         pl.col("_k").replace_strict(last_day, return_dtype=pl.Int32).alias("_l")))
    days = (pl.min_horizontal(pl.col("_b").cast(pl.Int32), pl.col("_l"))
            - pl.max_horizontal(pl.col("_a").cast(pl.Int32), pl.col("_f")) + 1)
    return (out.with_columns(pl.col("_f").cast(pl.Date).alias("month"), days.alias("days"),
                             (pl.col("_l") - pl.col("_f") + 1).alias("month_days"))
            .drop("_a", "_b", "_f", "_l", *([] if month_no else ["_k"]))
            .rename({"_k": month_no} if month_no else {}))


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
