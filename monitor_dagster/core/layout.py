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


def held(df: pl.DataFrame) -> pl.LazyFrame:
    """``df`` as one chunk, lazy, for the queries that will read it (module docstring).  The copy costs
    0.01-0.07 s a national bucket of 2-13 M rows (docs/scaling_measurements.md, fortieth session)."""
    return df.rechunk().lazy()
