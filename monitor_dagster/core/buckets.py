"""Buckets of persons (docs/scaling.md; issue 12): per-person work runs on one range of person keys
at a time, so peak memory is that of a bucket, not of the population, while the result is the same (every
person's rows fall in exactly one bucket).

* :class:`BucketPlan` / :func:`plan_buckets` / :func:`choose_buckets`: K ranges of the key, K from the inputs'
  size and a memory budget; :func:`bucket_frames` reads one bucket of several inputs once;
* :class:`BucketedFrame`: a person-level table produced bucket by bucket; the warehouse writes each bucket
  to the parquet file as it comes (one row group per bucket), so the whole table is never in memory; with
  ``sort_by`` each bucket is sorted before it is written, so the file is sorted (buckets are key ranges in
  order) and the same inputs give the same bytes (issue 15);

Used by the core layer (defs/core/assets.py) and the indicator engine (indicators/engine.py).
"""

from __future__ import annotations

import contextvars
import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Collection, Iterator, TypeVar

import polars as pl

from monitor_dagster.core.layout import held
from monitor_dagster.core.sorting import collect_sorted

#: memory one bucket's inputs may take, estimated as rows x columns x 8 bytes x BUCKET_OVERHEAD (joins and
#: group-bys hold a few copies); MonitorResource.bucket_memory_gb overrides
DEFAULT_BUCKET_MEMORY_GB = 2
BUCKET_OVERHEAD = 4
MAX_BUCKETS = 256


#: buckets computed at the same time (threads of one process) by the indicator engine and by the core layer;
#: MONITOR_BUCKETS_IN_FLIGHT overrides both.  Measured at 17.5 M persons (docs/scaling_measurements.md): two buckets at once
#: take the indicator layer 231 -> 215 s for +1.3 GB, the core layer only 293 -> 283 s for +1.4 GB (its
#: queries already keep 1.8 of 2 cores busy), which would also end the flat memory of the core layer, so one.
ENGINE_IN_FLIGHT = 2
CORE_IN_FLIGHT = 1

T = TypeVar("T")


def buckets_in_flight(k: int, default: int = CORE_IN_FLIGHT) -> int:
    """How many of k buckets run at the same time: MONITOR_BUCKETS_IN_FLIGHT, else ``default``."""
    raw = os.environ.get("MONITOR_BUCKETS_IN_FLIGHT", "").strip()
    try:
        n = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"MONITOR_BUCKETS_IN_FLIGHT={raw!r}: give a whole number of buckets (1, 2, ...)") from None
    return max(1, min(n, k))


def in_flight(fn: Callable[[int], T], k: int, workers: int | None = None) -> Iterator[T]:
    """``fn(0) .. fn(k-1)`` in this order, up to ``workers`` of them computing at once in threads.

    Why: one bucket's polars queries keep about 1.7 of 2 cores busy (scans, sorts and the Python between the
    queries run on one; 17.5 M persons, the indicator layer); a second bucket in flight fills part of the rest.  polars releases the GIL while it computes.
    Each call runs in a copy of the caller's context, so context variables (the engine's partial mode and
    shared intermediates) behave as in a plain loop.  Memory: up to ``workers`` buckets at once."""
    workers = buckets_in_flight(k) if workers is None else max(1, min(workers, k))
    if workers == 1:
        for i in range(k):
            yield fn(i)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="bucket") as pool:
        pending: deque = deque()
        nxt = 0
        try:
            while nxt < k or pending:
                while nxt < k and len(pending) < workers:
                    pending.append(pool.submit(contextvars.copy_context().run, fn, nxt))
                    nxt += 1
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


#: seed of the hash that splits a non-integer key (an employer's SBEID) into buckets
HASH_SEED = 12


@dataclass(frozen=True)
class BucketPlan:
    """K ranges of the bucket key: bucket i holds ``bounds[i-1] <= key < bounds[i]`` (open at both ends); or,
    for a key that is not an integer (``hashed`` = K), bucket i holds the keys whose hash modulo K is i."""
    key: str | None
    bounds: tuple[int, ...] = ()
    hashed: int = 0

    @property
    def k(self) -> int:
        return self.hashed or len(self.bounds) + 1

    def predicate(self, i: int) -> pl.Expr | None:
        if self.key is None or self.k == 1:
            return None
        c = pl.col(self.key)
        if self.hashed:
            return (c.hash(seed=HASH_SEED) % self.hashed) == i
        lo = c >= self.bounds[i - 1] if i > 0 else None
        hi = c < self.bounds[i] if i < self.k - 1 else None
        pred = lo & hi if lo is not None and hi is not None else (lo if lo is not None else hi)
        # a row without a key (an EBB respondent without RINPERSOON) is in no range: it goes to the first
        # bucket, so that no row is lost whatever K is (a hash of null has a value, so hashed plans keep it)
        return pred | c.is_null() if i == 0 else pred


def _keyed(frames: dict[str, pl.LazyFrame | None], key: str | None) -> dict[str, pl.LazyFrame]:
    return {k: f for k, f in frames.items()
            if f is not None and key is not None and key in f.collect_schema().names()}


def choose_buckets(frames: dict[str, pl.LazyFrame | None], key: str | None, memory_gb: float | None = None,
                   overhead: float = BUCKET_OVERHEAD, columns: dict[str, tuple[str, ...]] | None = None) -> int:
    """K from the size of the inputs and the memory budget of one bucket (rows from parquet metadata).
    ``overhead``: bytes held per input byte; more where the output outgrows the input (spells -> months).
    ``columns``: per input, the columns the bucket's query reads, when it reads only a few of a wide file
    (projection pushdown leaves the others on disk); otherwise every column counts."""
    if key is None:
        return 1
    gb = memory_gb or DEFAULT_BUCKET_MEMORY_GB
    est = 0
    for name, f in _keyed(frames, key).items():
        names = f.collect_schema().names()
        width = len([c for c in columns[name] if c in names]) if columns and name in columns else len(names)
        est += f.select(pl.len()).collect().item() * width * 8 * overhead
    return max(1, min(MAX_BUCKETS, math.ceil(est / (gb * 1024 ** 3))))


#: rows of the reference frame the bucket bounds are computed from; a larger frame is sampled by persons
#: (a hash of the key), so that the plan costs one scan of the key column, not a sort of it
PLAN_SAMPLE_ROWS = 2_000_000


def plan_buckets(frames: dict[str, pl.LazyFrame | None], key: str | None, k: int) -> BucketPlan:
    """K ranges of the key holding about equal numbers of rows of the population (or of the first keyed
    frame): the bounds are the key's quantiles j/K.  Not equal ranges between the smallest and the largest
    key: person_id is RINPERSOONS x 10^9 + RINPERSOON, so the few rows of another RINPERSOONS (SPOLIS 2021: 1 %
    S) stretch the range, and at 17.5 M persons 11 of job_months' 27 equal ranges were empty while the others
    held twice the rows K was chosen for.  A key that is not an integer (SBEID, a string) is split by its
    hash.  Rows outside the range fall in the first or last bucket, so no row is ever lost; a key with fewer
    distinct values than K gives fewer buckets."""
    keyed = _keyed(frames, key)
    if k <= 1 or not keyed:
        return BucketPlan(key)
    ref = keyed.get("core/population", next(iter(keyed.values())))
    if not ref.collect_schema()[key].is_integer():
        return BucketPlan(key, hashed=k)
    col = pl.col(key)
    keys = ref.select(col).filter(col.is_not_null())
    rows = ref.select(pl.len()).collect().item()
    if rows > PLAN_SAMPLE_ROWS:
        keys = keys.filter(col.hash(seed=HASH_SEED) % (rows // PLAN_SAMPLE_ROWS + 1) == 0)
    # the K-1 quantiles as one list expression: the sample is sorted once, not once per quantile (K-1 separate
    # quantile expressions sorted it K-1 times: 4.0 against 1.0 CPU-s for K = 47 over a national SPOLIS, the
    # same bounds; docs/scaling_measurements.md, twenty-sixth session)
    lo, qs = keys.select(col.min().alias("lo"),
                         col.quantile([j / k for j in range(1, k)], interpolation="lower").alias("q")
                         ).collect(engine="streaming").row(0)
    if lo is None:
        return BucketPlan(key)
    # a bound at the smallest key would leave bucket 0 empty
    bounds = sorted({int(v) for v in qs if v is not None and v > lo})
    return BucketPlan(key, tuple(bounds))


def bucket_lazy(frames: dict[str, pl.LazyFrame | None], plan: BucketPlan, i: int) -> dict[str, pl.LazyFrame | None]:
    """The inputs of bucket i, still lazy: the range predicate on every frame that has the key; frames
    without it (reference tables) and absent ones (None) as they are."""
    pred = plan.predicate(i)
    if pred is None:
        return dict(frames)
    keyed = _keyed(frames, plan.key)
    return {k: f.filter(pred) if k in keyed else f for k, f in frames.items()}


#: (function of a bucket's frames giving the cohort's keys, the inputs held for those keys alone)
BucketCohort = tuple[Callable[[dict[str, pl.LazyFrame | None]], pl.LazyFrame], Collection[str]]


def bucket_frames(frames: dict[str, pl.LazyFrame | None], plan: BucketPlan, i: int,
                  cohort: BucketCohort | None = None) -> dict[str, pl.LazyFrame | None]:
    """The inputs of bucket i, each read once (streaming scan with the range predicate) and held in memory as
    one chunk (:func:`held`), so that every function of the family reads the bucket without scanning the files
    again.

    ``cohort``: (function, inputs) for a family that follows a few of the bucket's persons (specs.yaml
    ``cohorts``): the other inputs are held first, the function gives the cohort's keys from the bucket's
    frames (those inputs not yet held, read once more for it), and those inputs are held for the cohort's
    keys alone."""
    keyed = _keyed(frames, plan.key)
    lazy = bucket_lazy(frames, plan, i)
    narrowed = set(cohort[1]) if cohort is not None else set()
    out = {k: held(f, engine="streaming") if k in keyed and k not in narrowed else f for k, f in lazy.items()}
    if cohort is not None:
        keys = held(cohort[0](out).select(plan.key), engine="streaming")
        for k in narrowed & set(keyed):
            out[k] = held(lazy[k].join(keys, on=plan.key, how="semi"), engine="streaming")
    return out


class BucketedFrame:
    """A person-level table computed bucket by bucket: ``fn(bucket's frames)`` for each bucket of ``plan``.

    Iterating yields one collected DataFrame per bucket (streaming engine); :class:`warehouse.Warehouse`
    writes them one after another into one parquet file, so peak memory is that of one bucket."""

    def __init__(self, fn: Callable[..., pl.LazyFrame], frames: dict[str, pl.LazyFrame | None], plan: BucketPlan,
                 progress: Callable[[str], None] | None = None,
                 describe: Callable[[pl.LazyFrame], dict] | None = None, sort_by: list[str] | None = None):
        """``describe``: metadata of the written table (read back lazily), for the asset's materialisation;
        ``sort_by``: a unique key of the rows (core/inputs.py ROW_ORDER), starting with the bucket key: group-bys
        and joins return rows in an order that changes from run to run, a sorted bucket does not."""
        self.fn, self.frames, self.plan, self.progress, self.describe = fn, frames, plan, progress, describe
        self.sort_by = list(sort_by or [])

    def _bucket(self, i: int) -> pl.DataFrame:
        lf = self.fn(**bucket_lazy(self.frames, self.plan, i))
        if self.sort_by:     # after the streaming query: an in-memory sort of one bucket is the faster one,
            return collect_sorted(lf, self.sort_by, nulls_last=True)     # holding the bucket once
        return lf.collect(engine="streaming")

    def __iter__(self) -> Iterator[pl.DataFrame]:
        # no enumerate(): its cached (i, part) tuple kept the previous bucket alive while the next one was
        # computed (+0.5 GB at 4 M persons, job_months); nor the loop variable (del)
        i = 0
        for part in in_flight(self._bucket, self.plan.k):
            i += 1
            if self.progress is not None:
                self.progress(f"bucket {i}/{self.plan.k}: {part.height:,} rows")
            yield part
            del part

    def write_parquet(self, path) -> dict:
        """Write the buckets one after another into one parquet file (a row group per bucket, zstd, with
        statistics); returns rows and columns for the manifest.  Every bucket is cast to the first bucket's
        schema, so an all-null column of one bucket cannot change a dtype.  A bucket is encoded in the
        background while the next one is computed (:class:`parquet_append.AppendingParquetWriter`)."""
        from monitor_dagster.parquet_append import AppendingParquetWriter

        schema, rows, width = None, 0, 0
        with AppendingParquetWriter(path, compression="zstd") as writer:
            for part in self:
                if schema is None:
                    schema, width = part.schema, part.width
                elif part.schema != schema:
                    part = part.cast(dict(schema))
                # one chunk per column: pyarrow cuts pages and gives up dictionary encoding chunk by chunk, so
                # the chunks a streaming query happened to return would change the bytes (issue 15)
                rows += part.height
                writer.write(part.rechunk().to_arrow())
                del part         # not held while the next bucket computes (the writer holds it until encoded)
        return {"rows": rows, "columns": width}

    def collect(self) -> pl.DataFrame:
        parts = list(self)
        return pl.concat(parts, how="vertical") if parts else pl.DataFrame()
