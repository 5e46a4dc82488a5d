"""The layout of the in-memory frames that queries read (fortieth session, issue 12).

A streaming collect returns a national bucket in tens to hundreds of chunks (one or more per row group read),
a test zone's in one.  polars 2.1 has expressions whose streaming evaluation fails on some layouts of chunks
only: ``pl.format`` panicked ("assertion failed: i < self.len()") on the national EBB bucket of 29-33 chunks
while every test passed (docs/dependencies.md).  So every frame that is held in memory for further queries (a
bucket's inputs, a shared intermediate, a sorted bucket of the core) is held as one chunk: the layout the tests
run, so that a bug of this kind shows at test size, not in a national run.
"""

from __future__ import annotations

import polars as pl

__all__ = ["held"]


def _one_chunk(df: pl.DataFrame) -> bool:
    return max(df.n_chunks("all"), default=1) <= 1


def held(frame: pl.DataFrame | pl.LazyFrame, *, engine: str = "auto") -> pl.LazyFrame:
    """``frame`` in memory as one chunk, lazy, for the queries that will read it (module docstring).

    A LazyFrame is collected here (``engine``), so that this function holds the only reference to the result
    and can copy it column by column, letting each column's chunks go as soon as its copy exists: the frame
    is held once plus one column, not twice (``Series.rechunk``; a copy through ``DataFrame.select`` per
    column group cost a query plan each, 40 % more).  A DataFrame the caller passes is still held by the
    caller, so it is copied whole.  A frame that is one chunk already is not copied.  The copies cost about
    4 s of the 35-40 s of contracts_hours over a national year (9 CPU-seconds over its 41 buckets, the
    buckets' inputs and the family's shared intermediates; docs/scaling_measurements.md, fortieth session)."""
    if isinstance(frame, pl.DataFrame):
        return (frame if _one_chunk(frame) else frame.rechunk()).lazy()
    df = frame.collect(engine=engine)
    if _one_chunk(df):
        return df.lazy()
    columns = df.get_columns()
    del df
    out = []
    while columns:
        column = columns.pop(0)
        out.append(column.rechunk())
        del column           # the last reference to this column's chunks: their memory goes now
    return pl.DataFrame(out).lazy()
