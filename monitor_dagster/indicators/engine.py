"""One execution path for every indicator: a family's specs in, rows of the indicator table out (issue 11).

The Dagster asset of a family (``defs/indicators/assets.py``) loads the frames named in its specs' ``inputs``
and calls :func:`compute_family`; tests call the same function without Dagster.  Each distinct computing
function is called once per bucket of persons (O11-O14 share one), with the frames its parameters name (spec
``inputs``), the year, and extras it accepts (``observed_until``/``families`` of the inflow cohorts, report
3.2.1, 3.4).

Buckets (issue 12): the persons are split into K ranges of the family's bucket key (``bucket_keys`` in
specs.yaml, ``person_id`` unless declared otherwise); each input frame's rows of one bucket are read once
(one scan per bucket, every function of the family reads the materialised bucket) and the functions return
additive partial cells (:func:`indicators.table.partial_mode`), merged once at the end by
:func:`indicators.table.finalize`.  Peak memory is that of the buckets in flight (two at a time by default,
:func:`core.buckets.in_flight`), not of the population; the integer partial sums make the table identical
for every K.  Afterwards
every row gets the ``vintages`` of the releases *its* indicator rests on and, for ``provisional: sources``,
status ``voorlopig`` when one of them is part-year (provisional figures are marked, never hidden).
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from monitor_dagster.choices import MethodChoices
from monitor_dagster.core.buckets import (BUCKET_OVERHEAD, ENGINE_IN_FLIGHT, BucketCohort, BucketPlan,
                                          bucket_frames, buckets_in_flight, choose_buckets, in_flight,
                                          plan_buckets)
from monitor_dagster.core.layout import held
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.indicators.memo import shared_intermediates
from monitor_dagster.indicators.table import (COLUMNS, CORRECTIE, FAMILY_COLUMNS, FAMILY_SCHEMA, GEEN,
                                              PARTIAL_SCHEMA, SCHEMA, breakdowns, covariate_cells_of, finalize,
                                              partial_mode)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())



@dataclass(frozen=True)
class Provenance:
    """The source releases behind one input (an asset and partition), and which of them are part-year."""
    releases: frozenset[str] = frozenset()
    provisional: frozenset[str] = frozenset()

    def __or__(self, other: "Provenance") -> "Provenance":
        return Provenance(self.releases | other.releases, self.provisional | other.provisional)


@dataclass
class FamilyResult:
    #: rows of the indicator table (``correctie`` = ``geen``), in its columns
    table: pl.DataFrame
    computed: list[str] = field(default_factory=list)
    not_computable: dict[str, str] = field(default_factory=dict)
    vintages: dict[str, str] = field(default_factory=dict)
    buckets: int = 1
    #: the covariate cells of a corrected family (``correctie`` = ``cel``, :data:`indicators.table.FAMILY_SCHEMA`;
    #: issue 17): stored with the rows, turned into corrected rows by the indicator table
    cells: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAMILY_SCHEMA))

    @property
    def stored(self) -> pl.DataFrame:
        """What the family asset writes: its rows and, for a corrected family, its covariate cells (then in
        FAMILY_COLUMNS; a family without cells stores the indicator table's columns only)."""
        if self.cells.height == 0:
            return self.table
        rows = self.table.with_columns(pl.lit(None, dtype=pl.String).alias("covariaten"),
                                       pl.lit(None, dtype=pl.Float64).alias("value_sq"))
        return pl.concat([rows.select(FAMILY_COLUMNS).cast(FAMILY_SCHEMA), self.cells.select(FAMILY_COLUMNS)],
                         how="vertical")


def _call(group: list[SPEC.IndicatorSpec], frames: dict[str, pl.LazyFrame | None], year: int,
          extra: dict) -> pl.DataFrame:
    """One computing function on one bucket: its partial cells of the group's indicators."""
    fn = group[0].load_function()
    params = inspect.signature(fn).parameters
    # the inputs of every indicator of the group: indicators that share a function may read different inputs
    # (O04 reads no SECM months, O06-O08 leave the self-employed out by them)
    kwargs = {p: frames.get(k) for s in group for p, k in s.optional_inputs.items() if p in params}
    kwargs.update({p: frames[k] for s in group for p, k in s.inputs.items() if p in params})
    if "quarterly" in params:     # spec period: quarter (report 7.1.3 c); extra may switch it off
        kwargs["quarterly"] = any(s.period == "quarter" for s in group)
    if "dimensions" in params and group[0].extra_dimensions:
        kwargs["dimensions"] = [*breakdowns()["dimensions"], *group[0].extra_dimensions]
    kwargs.update({k: v for k, v in extra.items() if k in params and k not in ("method", "covariates")})
    if "choices" in params:       # method choices where the report is silent (choices.py)
        kwargs["choices"] = MethodChoices.parse(extra.get("method"))
    if "year" in params:
        kwargs["year"] = year
    rows = fn(**kwargs)
    return rows.filter(pl.col("indicator_id").is_in([s.id for s in group])) if rows.height else \
        pl.DataFrame(schema=PARTIAL_SCHEMA)


#: column that tells the years of a follow-up window apart in a windowed input (see :func:`window_frame`)
YEAR_COLUMN = "_year"


def window_frame(by_year: dict[int, pl.LazyFrame | None], year: int) -> pl.LazyFrame | None:
    """The partitions t, t+1, ... of a follow-up input as one frame with their year in :data:`YEAR_COLUMN`
    (so they are bucketed like any other input); up to the first year that is absent; None without year t."""
    parts, y = [], year
    while by_year.get(y) is not None:
        parts.append(by_year[y].with_columns(pl.lit(y, dtype=pl.Int32).alias(YEAR_COLUMN)))
        y += 1
    return pl.concat(parts, how="diagonal_relaxed") if parts else None


def observed_years(family: str, warehouse_root: Path | str, year: int) -> int | None:
    """The last year of a family's follow-up window whose inputs are all in the warehouse (consecutive from
    t on), None when year t itself is not.  A later year counts only when it is observed in full
    (readiness.follow_up_gaps): not built from a part-year release (a core table's ``provisional_releases``,
    SPOLIS t/m maand 6 or 9) and covered by the cumulative files (SECMBUS; GBAADRESOBJECTBUS for O25,
    specs.yaml ``follow_up.covers``).  Until December 2026 a year counted
    as soon as its tables existed, so O24b, O25, O25b, O38 and O39 were published definitief with the months
    after a provisional SPOLIS counted as months without work."""
    from monitor_dagster.readiness import _Manifests, cover_gaps, follow_up_gaps

    fu = SPEC.follow_up(family)
    m = _Manifests(warehouse_root)
    last = None
    for y in range(year, year + (fu.years if fu else 0) + 1):
        for key in (fu.inputs if fu else ()):
            layer, name = key.split("/")
            man = m.core.manifest(name, str(y)) if layer == "core" else m.get(name, str(y))
            if man is None:
                return last
            # a core table as built (from a part-year release?) and the files of y as they are now
            if y > year and (man.get("provisional_releases") or follow_up_gaps(m, key, y)):
                return last
        if y > year and fu is not None and cover_gaps(m, fu, y):
            return last
        last = y
    return last


def follow_up_extras(family: str, warehouse_root: Path | str, year: int | None = None) -> dict:
    """``observed_until`` (and ``families``) for the input indicator families, from the spell files' coverage
    (readiness.input_coverage); for a family with a follow-up window (specs.yaml ``follow_up``) the last
    observed year of the window (``observed_year``, needs ``year``); {} for other families."""
    from monitor_dagster.readiness import FOLLOW_UP_OF, input_coverage

    if SPEC.follow_up(family) is not None:
        return {} if year is None else {"observed_year": observed_years(family, warehouse_root, year)}
    if family not in FOLLOW_UP_OF:
        return {}
    cov = {f: input_coverage(warehouse_root, f) for f in FOLLOW_UP_OF[family]}
    avail = tuple(f for f, c in cov.items() if c[0])
    if family == "inputs_gemeente":
        return {"observed_until": cov["bijstand"][1]}
    return {"observed_until": {f: cov[f][1] for f in avail}, "families": avail}


@dataclass
class FamilyWork:
    """What a family computes for a year: its computing functions (with their specs), the inputs they read,
    and the indicators that are not computable.  Built by :func:`family_work`, used per bucket and at the
    merge, in one process (:func:`compute_family`) or in one Dagster step each (defs/indicators/bucket_steps.py)."""
    family: str
    year: int
    todo: dict[str, list[SPEC.IndicatorSpec]]
    not_computable: dict[str, str]
    #: the population of t rests on the fallback for SECM (report 7.1.3) and the family leaves students out
    secm_fallback: bool = False

    @property
    def inputs(self) -> set[str]:
        return {k for group in self.todo.values() for s in group
                for k in (*s.inputs.values(), *s.optional_inputs.values())}


def readiness_skips(warehouse_root: Path | str, family: str, year: int) -> dict[str, str]:
    """What readiness says is not computable for the family's indicators in ``year`` (indicator -> reason), the
    ``skip`` of :func:`compute_family` in the family assets and the benchmarks.  "Not applicable" too: before a
    first year the engine skips by itself, but the first year of SPOLIS in the warehouse (no months of t-1 for the
    transitions, report 5.2) only readiness knows."""
    from monitor_dagster.readiness import year_readiness

    ready = year_readiness(warehouse_root, year)
    return {s.id: "; ".join(ready.indicators[s.id].reasons) for s in SPEC.families()[family]
            if ready.indicators[s.id].state in ("not computable", "not applicable")}


def family_work(family: str, frames: dict[str, pl.LazyFrame | None], year: int,
                skip: dict[str, str] | None = None) -> FamilyWork:
    skip = dict(skip or {})
    todo: dict[str, list[SPEC.IndicatorSpec]] = {}
    not_computable = {}
    for s in SPEC.families()[family]:
        if year < (s.first_year or 0):
            continue
        absent = [k for k in s.inputs.values() if frames.get(k) is None]
        if s.id in skip or absent:
            not_computable[s.id] = skip.get(s.id) or "needs " + ", ".join(absent)
            continue
        todo.setdefault(s.function, []).append(s)
    return FamilyWork(family, year, todo, not_computable,
                      secm_fallback=bool(todo) and SPEC.leaves_out_students(family)
                      and uses_secm_fallback(frames.get(POPULATION)))


#: the asset every family reads its persons from
POPULATION = "core/population"
#: the vintage a row gets when its students and pensioners come from enrolment and age (report 7.1.3)
SECM_FALLBACK_VINTAGE = "SECMBUS-ontbreekt:studenten-en-gepensioneerden-uit-inschrijving-en-leeftijd(7.1.3)"


def uses_secm_fallback(population: pl.LazyFrame | None) -> bool:
    """Whether a population's student and pensioner flags come from enrolment and age (report 7.1.3: SECMBUS
    lags a year); read from the data (``secm_source``), so every path (asset, bucket steps, tests) agrees."""
    if population is None or "secm_source" not in population.collect_schema().names():
        return False
    return population.filter(pl.col("secm_source") == "fallback").select("secm_source").head(1).collect().height > 0


def family_plan(work: FamilyWork, frames: dict[str, pl.LazyFrame | None], buckets: int | None = None,
                memory_gb: float | None = None) -> BucketPlan:
    """The buckets of a family's inputs: K given, or from their size (:func:`choose_buckets`)."""
    inputs = {k: f for k, f in frames.items() if k in work.inputs}
    key = SPEC.bucket_key(work.family)
    overhead = SPEC.bucket_limits(work.family).overhead or BUCKET_OVERHEAD
    return plan_buckets(inputs, key, buckets or choose_buckets(inputs, key, memory_gb, overhead))


def project_inputs(family: str, frames: dict[str, pl.LazyFrame | None]) -> dict[str, pl.LazyFrame | None]:
    """The inputs with only the columns the family reads of them (specs.yaml ``input_columns``; issue 12): a
    bucket of core/job_months for contracts_hours is a third smaller and read in about 40 % of the time without
    the employer's id, the sector and the derived per-week columns.  A declared column the input lacks (an older
    warehouse without ``soortbaan``) is skipped: the function that needs it says so itself.  The year of a
    follow-up window (:data:`YEAR_COLUMN`) is kept."""
    out = dict(frames)
    for key, cols in SPEC.input_columns(family).items():
        f = out.get(key)
        if f is not None:
            names = f.collect_schema().names()
            out[key] = f.select([c for c in (*cols, YEAR_COLUMN) if c in names])
    return out


def bucket_cohort(family: str, year: int) -> BucketCohort | None:
    """The cohort argument of :func:`core.buckets.bucket_frames` for a family that follows a few persons
    (specs.yaml ``cohorts``): its function bound to ``year`` and the inputs it narrows; None for the others."""
    cohort = SPEC.cohort(family)
    if cohort is None:
        return None
    fn = cohort.load_function()
    return (lambda frames: fn(frames, year)), cohort.narrows


def bucket_partials(work: FamilyWork, frames: dict[str, pl.LazyFrame | None], plan: BucketPlan, i: int,
                    extra: dict | None = None) -> pl.DataFrame:
    """Partial cells of every indicator of the family for bucket i (the bucket's inputs read once; a family
    that follows a few persons holds their rows alone, :func:`bucket_cohort`)."""
    bucket = bucket_frames(project_inputs(work.family, {k: f for k, f in frames.items() if k in work.inputs}),
                           plan, i, bucket_cohort(work.family, work.year))
    if bucket.get(POPULATION) is not None:   # report 2.2: who is left out of every analysis (choices.py)
        bucket[POPULATION] = MethodChoices.parse((extra or {}).get("method")).analysis_population(bucket[POPULATION])
    keys = None
    if (extra or {}).get("covariates", True) and SPEC.corrected(work.family):
        from monitor_dagster.corrections.propensity import covariate_key   # issue 17: covariate cells
        # a family without the population (the EBB) brings the characteristics in its own frames
        covs = SPEC.corrected_covariates(work.family)
        if bucket.get(POPULATION) is not None:
            pop = held(bucket[POPULATION]).collect()          # one chunk each (core/layout.held)
            keys_df = held(covariate_key(pop.lazy(), covs)).collect()
            # the cell rides along on the persons (base_population keeps it), so that cells() need not join
            # every person frame to the keys again (35 ms of a 95 ms cells() call at 150,000 persons)
            bucket[POPULATION] = held(pop.with_columns(keys_df["covariaten"]))
            keys = keys_df.lazy()
        else:
            keys = pl.LazyFrame(schema={"person_id": pl.Int64, "herkomst_aggregate": pl.String,
                                        "covariaten": pl.String})
    with partial_mode(), shared_intermediates(), covariate_cells_of(keys):
        parts = [_call(group, bucket, work.year, extra or {}) for group in work.todo.values()]
    parts = [p for p in parts if p.height]
    return pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=PARTIAL_SCHEMA)


def finish(work: FamilyWork, partials: list[pl.DataFrame], provenance: dict[str, Provenance] | None = None,
           buckets: int = 1) -> FamilyResult:
    """Merge the buckets' partial cells into rows of the indicator table (:func:`indicators.table.finalize`),
    stamped with each indicator's ``vintages`` and, for ``provisional: sources``, status ``voorlopig``."""
    provenance = provenance or {}
    res = FamilyResult(pl.DataFrame(schema=SCHEMA), not_computable=dict(work.not_computable), buckets=buckets)
    parts = [p for p in partials if p.height]
    if not parts:
        return res
    table = finalize(pl.concat(parts, how="vertical"), keep_cells=True)
    computed = set(table.filter(pl.col(CORRECTIE) == GEEN)["indicator_id"].unique())
    res.computed = [s.id for group in work.todo.values() for s in group if s.id in computed]
    vint_expr = pl.col("vintages")
    status_expr = pl.col("status")
    for s in SPEC.families()[work.family]:
        prov = Provenance()
        for k in (*s.inputs.values(), *s.optional_inputs.values()):
            prov = prov | provenance.get(k, Provenance())
        if work.secm_fallback:   # report 7.1.3: voorlopig until SECMBUS of t replaces enrolment and age
            prov = prov | Provenance(frozenset({SECM_FALLBACK_VINTAGE}), frozenset({SECM_FALLBACK_VINTAGE}))
        v = ",".join(sorted(prov.releases))
        res.vintages[s.id] = v
        is_s = pl.col("indicator_id") == s.id
        vint_expr = pl.when(is_s).then(pl.lit(v)).otherwise(vint_expr)
        if prov.provisional and (s.provisional == "sources" or work.secm_fallback):
            status_expr = pl.when(is_s).then(pl.lit("voorlopig")).otherwise(status_expr)
    table = table.with_columns(vint_expr.alias("vintages"), status_expr.alias("status"))
    res.table = table.filter(pl.col(CORRECTIE) == GEEN).select(COLUMNS)
    res.cells = table.filter(pl.col(CORRECTIE) != GEEN).select(FAMILY_COLUMNS)
    return res


def compute_family(family: str, frames: dict[str, pl.LazyFrame | None], year: int, *,
                   provenance: dict[str, Provenance] | None = None, skip: dict[str, str] | None = None,
                   extra: dict | None = None, buckets: int | None = None, memory_gb: float | None = None,
                   progress: Callable[[str], None] | None = None) -> FamilyResult:
    """Rows of the indicator table of the family's indicators for ``year``, bucket after bucket in this process.

    ``frames``: asset key (``core/population``, ``sources/EBBNW``) -> the frame of year t (None: absent);
    ``skip``: indicator -> reason it is not computable (readiness); ``provenance``: asset key -> releases;
    ``buckets``: K (None or 0: :func:`choose_buckets` with ``memory_gb``); ``progress``: a line per bucket."""
    work = family_work(family, frames, year, skip)
    if not work.todo:
        return finish(work, [])
    plan = family_plan(work, frames, buckets, memory_gb)

    def one(b: int) -> pl.DataFrame:
        t0 = time.perf_counter()
        part = bucket_partials(work, frames, plan, b, extra)
        if progress is not None:
            progress(f"{family} {year}: bucket {b + 1}/{plan.k} in {time.perf_counter() - t0:.1f} s")
        return part

    workers = buckets_in_flight(plan.k, SPEC.bucket_limits(family).in_flight or ENGINE_IN_FLIGHT)
    return finish(work, list(in_flight(one, plan.k, workers)), provenance, plan.k)


def warehouse_frames(warehouse_root: Path | str, family: str, year: int) -> dict[str, pl.LazyFrame | None]:
    """The inputs of a family for year t read straight from the warehouse (as the IO manager loads them):
    the partition of year t, else the cumulative (``latest``) or reference (``all``) one; None if absent."""
    from monitor_dagster.warehouse import Warehouse, WarehouseMissing

    out: dict[str, pl.LazyFrame | None] = {}
    fu = SPEC.follow_up(family)
    for key in SPEC.family_inputs(family).values():
        layer, name = key.split("/")
        w = Warehouse(warehouse_root, layer=layer)
        if fu is not None and key in fu.inputs:
            by_year = {}
            for y in range(year, year + fu.years + 1):
                try:
                    by_year[y] = w.read(name, str(y))
                except WarehouseMissing:
                    by_year[y] = None
            out[key] = window_frame(by_year, year)
            continue
        out[key] = None
        for part in (str(year), "latest", "all"):
            try:
                out[key] = w.read(name, part)
                break
            except WarehouseMissing:
                continue
    return out
