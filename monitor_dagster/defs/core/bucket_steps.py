"""One Dagster step per bucket of persons for a yearly core table: the job ``core_bucket_steps`` (issue 12).

The core assets (assets.py) compute their buckets one after another in one step and write them into one
parquet file as they come, which is what one machine wants.  A user who outgrows one machine runs the same
builders (``assets.BUILDERS``: the function the asset calls) as separate steps, as ``indicators_bucket_steps``
does for the indicator families:

* ``core_plan`` builds the table's plan (K and the bounds of person_id) from the inputs in the warehouse and yields one
  dynamic output per bucket;
* ``core_bucket`` builds the same plan again in its own process, computes its bucket (sorted, as the asset does) and
  writes it to ``<warehouse>/.bucket_steps/<run_id>/<table>-<year>/part-<i>.parquet``;
* ``core_merge`` writes the parts, in bucket order, into the table's partition through the warehouse's ordinary
  versioned write (the writer of ``BucketedFrame.write_parquet``, so the file has the bytes the asset step
  writes with the same K), records the materialisation of ``core/<table>`` with the asset's metadata and
  removes the parts.

With the multiprocess executor (this job's default) or the Kubernetes / Celery executors
(``MONITOR_STEP_EXECUTOR``, docs/scaling.md) the bucket steps run in processes, pods or machines that share the
warehouse volume.  ``core_inputs`` reads a core table's inputs from the warehouse as the IO manager hands them
to the asset.
"""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl

from monitor_dagster.core.buckets import BucketedFrame, BucketPlan
from monitor_dagster.core.inputs import CORE_INPUTS, CoreInput, window_years
from monitor_dagster.defs.core.assets import BUILDERS, CoreBuild
from monitor_dagster.defs.io import load_frames, write_asset
from monitor_dagster.defs.provenance import as_metadata, manifest_of, merged, partitions_provenance
from monitor_dagster.defs.resources import MonitorResource

#: where the bucket steps of a run leave their parts for the merge, below the warehouse root
STAGING = ".bucket_steps"


def _reads(table: str, year: int) -> dict[str, tuple[str, str, tuple[str | None, ...]]]:
    """param -> (layer, entry, partitions read) of a yearly core table (core/inputs.py); partition None: the
    latest release of a cumulative file or a reference table."""
    out = {}
    for param, inp in CORE_INPUTS[table][1].items():
        if isinstance(inp, CoreInput):
            out[param] = ("core", inp.asset, (str(year),))
        else:
            years = window_years(inp.window, year)
            out[param] = ("sources", inp.entry, (None,) if years is None else tuple(str(y) for y in years))
    return out


def core_inputs(warehouse: str | Path, table: str, year: int) -> dict:
    """The inputs of core/<table> for ``year`` as the warehouse IO manager hands them to the asset (the same
    loader, ``defs.io.load_frames``)."""
    return {param: load_frames(str(warehouse), dg.AssetKey([layer, entry]), [p for p in parts if p is not None])
            for param, (layer, entry, parts) in _reads(table, year).items()}


def input_versions(warehouse: str | Path, table: str, year: int) -> dict[str, str | None]:
    """``layer/entry/partition`` -> the data_sha256 of the current version of every partition core/<table> of
    ``year`` reads (None: absent): what ``core_plan`` saw, compared by every later step."""
    return {f"{layer}/{entry}/{p or 'latest'}": (manifest_of(str(warehouse), dg.AssetKey([layer, entry]), p) or {})
            .get("data_sha256") for layer, entry, parts in _reads(table, year).values() for p in parts}


class CoreStepConfig(dg.Config):
    table: str
    year: int
    #: K; 0: MonitorResource.buckets, or chosen from the input size and bucket_memory_gb as the asset does
    buckets: int = 0


def _build(monitor: MonitorResource, task: dict, log) -> CoreBuild:
    """The table's build from the warehouse (``buckets``: K, 0 for the asset's choice); every step builds it
    anew in its own process, and checks that its plan is the one ``core_plan`` made (:func:`_same_plan`)."""
    if task["table"] not in BUILDERS:
        raise dg.Failure(f"core_bucket_steps: {task['table']!r} is not a yearly core table; choose one of "
                         f"{', '.join(BUILDERS)}")
    if task.get("buckets"):
        fields = {f: getattr(monitor, f) for f in MonitorResource.model_fields}
        monitor = MonitorResource(**{**fields, "buckets": int(task["buckets"])})
    inputs = core_inputs(monitor.warehouse, task["table"], task["year"])
    return BUILDERS[task["table"]](monitor, str(task["year"]), inputs, log)


def _staging(warehouse: str, run_id: str, task: dict) -> Path:
    return Path(warehouse) / STAGING / run_id / f"{task['table']}-{task['year']}"


def _part(staging: Path, i: int) -> Path:
    return staging / f"part-{i:05d}.parquet"


#: parts of a run this instance does not know (another instance on the same warehouse) are left alone this long
UNKNOWN_RUN_GRACE_S = 24 * 3600


def _remove_finished_runs(instance: dg.DagsterInstance, warehouse: str) -> None:
    """Parts that a failed or killed run of this job left behind: removed when the next run plans, so they never
    pile up in the warehouse.  A run this instance knows goes when it is finished; one it does not know (a run of
    another instance that shares the warehouse may still be writing) when its parts are a day old."""
    import time

    root = Path(warehouse) / STAGING
    for d in (root.iterdir() if root.is_dir() else ()):
        run = instance.get_run_by_id(d.name)
        old = time.time() - d.stat().st_mtime > UNKNOWN_RUN_GRACE_S
        if (run is not None and run.is_finished) or (run is None and old):
            shutil.rmtree(d, ignore_errors=True)


@dg.op(name="core_plan", out={"task": dg.Out(dict), "buckets": dg.DynamicOut(dict)},
       description="Plan the buckets of persons of one yearly core table; one dynamic output per bucket.")
def plan(context: dg.OpExecutionContext, config: CoreStepConfig, monitor: MonitorResource):
    _remove_finished_runs(context.instance, monitor.warehouse)
    task = {"table": config.table, "year": config.year, "buckets": config.buckets}
    build = _build(monitor, task, context.log)
    if build.out is None:
        raise dg.Failure(f"core/{config.table} {config.year}: {build.metadata.get('not_built', 'not built')}")
    p = build.out.plan
    task.update(k=p.k, bounds=list(p.bounds), hashed=p.hashed,
                inputs=input_versions(monitor.warehouse, config.table, config.year))
    yield dg.Output(task, "task")
    for i in range(p.k):
        yield dg.DynamicOutput({**task, "i": i}, output_name="buckets", mapping_key=f"bucket_{i}")


def _same_plan(monitor: MonitorResource, build: CoreBuild, task: dict) -> None:
    """A step that reads other versions of the inputs than ``core_plan`` saw (a release ingested during the run)
    would put rows of two versions into one table, and other bounds would cut the persons differently: it stops
    instead, naming what changed."""
    now = input_versions(monitor.warehouse, task["table"], task["year"])
    changed = sorted(k for k in set(now) | set(task["inputs"]) if now.get(k) != task["inputs"].get(k))
    p = build.out.plan if build.out is not None else None
    if changed or p is None or (p.k, list(p.bounds), p.hashed) != (task["k"], task["bounds"], task["hashed"]):
        raise dg.Failure(f"core/{task['table']} {task['year']}: the inputs changed since the plan "
                         f"({', '.join(changed) or 'the buckets differ'}); nothing written, run the job again")


@dg.op(name="core_bucket", description="One bucket of persons of the core table, sorted as the asset sorts it, "
                                       "written to the run's staging directory in the warehouse.")
def bucket(context: dg.OpExecutionContext, monitor: MonitorResource, buckets: dict) -> dict:
    build = _build(monitor, buckets, context.log)
    _same_plan(monitor, build, buckets)
    part = build.out._bucket(buckets["i"])
    path = _part(_staging(monitor.warehouse, context.run_id, buckets), buckets["i"])
    path.parent.mkdir(parents=True, exist_ok=True)
    part.write_parquet(path, compression="lz4", statistics=False)
    context.log.info(f"core/{buckets['table']} {buckets['year']}: bucket {buckets['i'] + 1}/{buckets['k']}: "
                     f"{part.height:,} rows")
    return {"i": buckets["i"], "rows": part.height}


class StagedBuckets(BucketedFrame):
    """A core table whose buckets the bucket steps computed: read back from their parts in bucket order and
    written by :meth:`BucketedFrame.write_parquet` (the same writer, the same bytes)."""

    def __init__(self, parts: list[Path], plan_: BucketPlan, describe=None):
        super().__init__(None, {}, plan_, describe=describe)
        self.parts = parts

    def _bucket(self, i: int) -> pl.DataFrame:
        return pl.read_parquet(self.parts[i])      # polars keeps its Enum and Categorical types in the file


@dg.op(name="core_merge", description="Write the buckets' parts into core/<table> for the year (one versioned "
                                      "write) and record the materialisation; remove the parts.")
def merge(context: dg.OpExecutionContext, monitor: MonitorResource, task: dict, done: list[dict]):
    table, year = task["table"], task["year"]
    build = _build(monitor, task, context.log)
    _same_plan(monitor, build, task)
    staging = _staging(monitor.warehouse, context.run_id, task)
    parts = [_part(staging, i) for i in range(task["k"])]
    if sorted(d["i"] for d in done) != list(range(task["k"])) or not all(p.exists() for p in parts):
        raise dg.Failure(f"core/{table} {year}: {len(done)} of {task['k']} bucket parts; nothing written")
    staged = StagedBuckets(parts, build.out.plan, describe=build.out.describe)
    reads = {f"{layer}/{entry}": list(p) for layer, entry, p in _reads(table, year).values()}
    prov = merged({k: v for k, v in partitions_provenance(monitor.warehouse, reads).items() if k not in build.unused})
    meta = {**as_metadata(prov), **build.metadata}
    meta.update(write_asset(monitor.warehouse, dg.AssetKey(["core", table]), str(year), staged, context.run_id, meta))
    shutil.rmtree(staging.parent, ignore_errors=True)
    yield dg.AssetMaterialization(asset_key=dg.AssetKey(["core", table]), partition=str(year), metadata=meta)
    for check in build.checks:         # the asset's checks (core/population: regions, short_stay), as evaluations
        context.log_event(dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["core", table]), check_name=check.check_name, passed=check.passed,
            metadata=check.metadata, severity=check.severity, partition=str(year)))
    yield dg.Output(sum(d["rows"] for d in done))


@dg.graph(description="One yearly core table with one step per bucket of persons (issue 12; docs/scaling.md). "
                      "Config: ops.core_plan.config {table, year, buckets}. Then run the year's indicator families.")
def core_bucket_steps():
    task, buckets = plan()
    merge(task, buckets.map(bucket).collect())


def build_core_bucket_steps_job(executor: str | None = None) -> dg.JobDefinition:
    """The job ``core_bucket_steps`` on the executor named by ``executor`` or MONITOR_STEP_EXECUTOR (as
    ``indicators_bucket_steps``)."""
    from monitor_dagster.defs.indicators.bucket_steps import step_executor

    return core_bucket_steps.to_job(name="core_bucket_steps", executor_def=step_executor(executor),
                                    tags={"monitor/trigger": "bucket_steps"})
