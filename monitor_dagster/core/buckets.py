"""Per-person work in hash buckets of persons (DESIGN.md, "Compute rules"): a per-person computation (sort
plus window functions) runs on 1/n of the persons at a time, so peak memory is about 1/n of the whole while
the result is the same (every person's rows fall in exactly one bucket)."""

from typing import Callable

import polars as pl


def by_person_buckets(lf: pl.LazyFrame, fn: Callable[[pl.LazyFrame], pl.LazyFrame], n: int = 4) -> pl.DataFrame:
    if n <= 1:
        return fn(lf).collect(engine="streaming")
    parts = [fn(lf.filter(pl.col("person_id") % n == i)).collect(engine="streaming") for i in range(n)]
    return pl.concat(parts, how="vertical")
