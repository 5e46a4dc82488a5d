"""Sorting a bucket by several integer columns through one packed key (issue 12).

polars sorts by several columns by encoding every row; sorting by one integer column is a radix-style sort
and 2-3x faster (measured on 5.5 M job-months, person_id, IKVID, month: 2.4 s by three columns, 1.0 s by one
Int128 key, 0.7 s by one Int64 key).  When every sort column is an integer, a date, a datetime, a boolean or
an Enum (an Enum sorts by its physical index, i.e. in category order), the columns fit in one number: each
column's offset from its minimum in the frame, times the product of the ranges of the columns after it.
The order is exactly that of the multi-column sort, nulls included (a null takes the place before or after
the column's values).  When the ranges do not fit in 126 bits, or a column is of another type (a string, a
float), the frame is sorted by its columns as before.

:func:`sort_rows` is for eager frames: the ranges are measured first, so an overflow is ruled out before the
key is built.  :func:`collect_sorted` (the core buckets) collects a query and sorts it by the same key while
holding its rows once.  Inside a lazy query, :func:`person_key` packs a person key with parts of known bit widths.
"""

from __future__ import annotations

import polars as pl

from monitor_dagster.core.layout import held

__all__ = ["collect_sorted", "person_key", "sort_rows", "sorted_frame"]

#: the packed key stays below 2^126 (Int128), or below 2^62 for the faster Int64 key
_INT128_LIMIT = 2 ** 126
_INT64_LIMIT = 2 ** 62
#: columns gathered at once by :func:`collect_sorted` (a frame's take runs its columns in parallel)
_GATHER_COLUMNS = 4


def _packable(dtype: pl.DataType) -> bool:
    """Whether a column's physical values fit in an Int64 and sort as the column does (UInt64 may not fit)."""
    if dtype.is_integer():
        return dtype != pl.UInt64
    return isinstance(dtype, (pl.Date, pl.Datetime, pl.Duration, pl.Enum)) or dtype == pl.Boolean


def sort_rows(df: pl.DataFrame, by: list[str], *, descending: bool | list[bool] = False,
              nulls_last: bool = False) -> pl.DataFrame:
    """``df.sort(by, descending=..., nulls_last=...)``, by one packed integer key when the columns allow it.

    Ties (rows equal in every column of ``by``) may come in a different order than polars' own sort gives
    them; the callers sort by a unique key (core/inputs.py ROW_ORDER), where the order is total."""
    desc = [descending] * len(by) if isinstance(descending, bool) else list(descending)
    order = _row_order(df, by, desc, nulls_last)
    return df if order is None else df[order]


def collect_sorted(lf: pl.LazyFrame, by: list[str], *, nulls_last: bool = False) -> pl.DataFrame:
    """``lf`` collected (streaming engine) and sorted by ``by`` (ascending), holding its rows once, not twice.

    ``DataFrame.sort`` builds the sorted copy of every column before the unsorted frame can go, so a bucket
    of 5.5 M job-months (17 columns) took 0.7 GB more at that moment than the rows themselves.  Here the row
    order is computed first (by the packed key where it can, as :func:`sort_rows`), then the columns are
    gathered a few at a time (``_GATHER_COLUMNS``) and the unsorted ones released as soon as their sorted copy
    exists: the frame is only ever held once, plus those few columns (job_months at 4 M persons 2.55 -> 1.72 GB
    with the bucket loop's fix, in the same time; docs/scaling_measurements.md).  The collected frame is referenced by this
    function alone, which is why it collects the query itself."""
    df = lf.collect(engine="streaming")
    order = _row_order(df, by, [False] * len(by), nulls_last)
    if order is None:
        return df                # already in order (e.g. secm_months, whose query sorts by such a key)
    parts, names = [], df.columns
    for j in range(0, len(names), _GATHER_COLUMNS):
        group = names[j:j + _GATHER_COLUMNS]
        parts.append(df.select(group)[order])
        df = df.drop(group)      # the last reference to the unsorted columns: their memory goes now
    return pl.concat(parts, how="horizontal") if parts else df


def _in_order(df: pl.DataFrame, by: list[str]) -> bool:
    """Whether the rows are already in ascending order of ``by``, from comparisons of each row with the one
    before it (one pass, no key): 9 M SECM months, 0.05 s against 0.29 s for packing the key and sorting
    it.  Only for integer, date, boolean and Enum columns (an Enum by its category order) without
    nulls; anything else answers False and is left to the sort, which finds it in order by other means."""
    if df.height < 2:
        return True
    if not by or not all(_packable(df.schema[c]) for c in by) or any(df.get_column(c).null_count() for c in by):
        return False
    cond = None
    for c in reversed(by):
        cur = pl.col(c).to_physical()
        prev = cur.shift(1)
        cond = prev <= cur if cond is None else (prev < cur) | ((prev == cur) & cond)
    return bool(df.select(cond.fill_null(True).all()).item())


def _row_order(df: pl.DataFrame, by: list[str], desc: list[bool], nulls_last: bool) -> pl.Series | None:
    """The permutation that sorts ``df`` by ``by`` (the packed key where the columns allow it, else polars'
    ``arg_sort_by``), or None when the rows are already in that order: found by :func:`_in_order` for an
    ascending key, else because the permutation is the identity.  Rows in order are then never copied (a
    bucket of a table stored in that order: 3.7 M job-months 0.68 -> 0.25 s with the identity check, 0.05 s
    with the one-pass check; docs/scaling_measurements.md, fifteenth session)."""
    if not any(desc) and _in_order(df, by):
        return None
    key = _packed_key(df, by, desc, nulls_last)
    # arg_sort inside the select: the key as a Series of its own and its arg_sort took 0.5 GB more (5.5 M rows)
    order = df.select(key.arg_sort() if key is not None
                      else pl.arg_sort_by(by, descending=desc, nulls_last=nulls_last)).to_series()
    return None if order.is_sorted() else order


def _packed_key(df: pl.DataFrame, by: list[str], desc: list[bool], nulls_last: bool) -> pl.Expr | None:
    """One Int64 or Int128 expression whose ascending order is that of ``by`` (with ``desc`` and
    ``nulls_last``), or None where a plain multi-column sort is needed: fewer than two columns or rows, a
    column that does not pack (a string, a float, UInt64), or ranges beyond 126 bits."""
    if len(by) < 2 or df.height < 2 or not all(_packable(df.schema[c]) for c in by):
        return None
    phys = [pl.col(c).to_physical().cast(pl.Int64) for c in by]
    stats = df.select(*(e.min().alias(f"lo{i}") for i, e in enumerate(phys)),
                      *(e.max().alias(f"hi{i}") for i, e in enumerate(phys)),
                      *(pl.col(c).null_count().alias(f"n{i}") for i, c in enumerate(by))).row(0, named=True)
    spans, total = [], 1
    for i in range(len(by)):
        lo, hi, nulls = stats[f"lo{i}"], stats[f"hi{i}"], stats[f"n{i}"]
        span = (hi - lo + 1 if lo is not None else 0) + (1 if nulls else 0)
        spans.append((lo if lo is not None else 0, hi if hi is not None else 0, span, nulls > 0))
        total *= span
    if total >= _INT128_LIMIT:
        return None
    dtype = pl.Int64 if total < _INT64_LIMIT else pl.Int128
    key = None
    for e, d, (lo, hi, span, has_nulls) in zip(phys, desc, spans):
        # the column's rank among its own values: 0 .. hi-lo, reversed when descending
        v = (pl.lit(hi, dtype) - e.cast(dtype)) if d else (e.cast(dtype) - pl.lit(lo, dtype))
        if has_nulls:
            # nulls after the values (span - 1) or before them (0, the values moved up by one)
            v = v.fill_null(span - 1) if nulls_last else (v + 1).fill_null(0)
        key = v if key is None else key * pl.lit(span, dtype) + v
    return key


def person_key(person: str | pl.Expr, parts: list[tuple[pl.Expr, int]]) -> pl.Expr:
    """One Int128 whose order is that of (person, part 1, part 2, ...), for a sort inside a lazy query (the
    streaming engine sorts by one key 1.4x faster than by three columns, SECM months of 1 M persons).

    ``person``: any Int64 (negative too); ``parts``: (expression, bits) with values in ``0 .. 2^bits - 1``
    and at most 63 bits in all, so that the key stays below 2^127 whatever the person key.  A null in any
    column makes the key null (the caller's columns have none)."""
    bits = sum(b for _, b in parts)
    if bits > 63 or any(b < 1 for _, b in parts):
        raise ValueError(f"person_key: parts of {bits} bits; at most 63 fit beside an Int64 person key")
    key = (pl.col(person) if isinstance(person, str) else person).cast(pl.Int128)
    for expr, b in parts:
        key = key * (1 << b) + expr.cast(pl.Int128)
    return key


def sorted_frame(lf: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """``lf`` collected (streaming engine) and sorted by ``by`` (:func:`sort_rows`), for a query that needs its
    rows in that order.  A bucket of a table stored in that order (core/inputs.py ROW_ORDER) comes in order
    and is only checked, not copied (3.7 M job-months: 0.25 s, against 0.68 s with the copy and 0.76 s for
    the streaming engine's sort of the same sorted rows); any other input is sorted as it should be."""
    return held(sort_rows(lf.collect(engine="streaming"), by))    # one chunk, also when found in order
