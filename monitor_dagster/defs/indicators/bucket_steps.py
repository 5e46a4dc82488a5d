"""One Dagster step per bucket of persons: the job ``indicators_bucket_steps`` (issue 12).

The family assets (assets.py) run their buckets one after another in one step, which is what one machine
wants.  A user who outgrows one machine runs the same engine functions (indicators/engine.py) as separate
steps: ``plan`` decides K and yields one dynamic output per bucket, ``bucket`` computes a bucket's partial
cells (a small frame: cells, not persons), ``merge`` merges them, writes the family's partition to the
warehouse and records it as a materialisation of ``indicators/<family>``, so lineage, the indicator table
and ``monitor status`` see it as if the asset had run.  With Dagster's multiprocess executor (the default of
this job), or the Celery or Kubernetes executor (docs/scaling.md, deploy/helm-values.yaml), the bucket steps
run in parallel processes, containers or machines; the partial cells travel through the run's IO manager,
the inputs are read from the warehouse by every step.
"""

import os

import dagster as dg
import polars as pl

from monitor_dagster.core.buckets import BucketPlan
from monitor_dagster.defs.indicators.assets import family_key, family_metadata, family_setup
from monitor_dagster.defs.io import write_asset
from monitor_dagster.defs.provenance import manifest_provenance
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators import spec as SPEC


class BucketStepConfig(dg.Config):
    family: str
    year: int
    #: K; 0: MonitorResource.buckets, or chosen from the input size and bucket_memory_gb
    buckets: int = 0


def _work(monitor: MonitorResource, task: dict):
    """The family's frames and work for the steps after ``plan``: readiness (``skip``) and the follow-up extras
    were decided once by ``plan`` and travel in the task, so no bucket step reads the manifests again."""
    frames = ENG.warehouse_frames(monitor.warehouse, task["family"], task["year"])
    return frames, ENG.family_work(task["family"], frames, task["year"], task["skip"])


@dg.op(out={"task": dg.Out(dict), "buckets": dg.DynamicOut(dict)},
       description="Decide K for the family and year; one dynamic output per bucket of persons.")
def plan(context: dg.OpExecutionContext, config: BucketStepConfig, monitor: MonitorResource):
    if config.family not in SPEC.families():
        raise dg.Failure(f"unknown indicator family {config.family!r}; families: {', '.join(SPEC.families())}")
    skip, extra = family_setup(monitor, config.family, config.year)
    task = {"family": config.family, "year": config.year, "skip": skip, "extra": extra, "key": None, "bounds": [], "hashed": 0}
    frames, work = _work(monitor, task)
    if work.todo:
        p = ENG.family_plan(work, frames, config.buckets or monitor.buckets, monitor.bucket_memory_gb)
        task.update(key=p.key, bounds=list(p.bounds), hashed=p.hashed)
    k = BucketPlan(task["key"], tuple(task["bounds"]), task["hashed"]).k
    context.log.info(f"{config.family} {config.year}: {k} bucket(s) of {task['key'] or 'all rows'}")
    yield dg.Output(task, "task")
    for i in range(k):
        yield dg.DynamicOutput({**task, "i": i}, output_name="buckets", mapping_key=f"bucket_{i}")


@dg.op(description="Partial cells of every indicator of the family for one bucket of persons.")
def bucket(context: dg.OpExecutionContext, monitor: MonitorResource, buckets: dict) -> pl.DataFrame:
    frames, work = _work(monitor, buckets)
    if not work.todo:
        return pl.DataFrame()
    plan_ = BucketPlan(buckets["key"], tuple(buckets["bounds"]), buckets.get("hashed", 0))
    part = ENG.bucket_partials(work, frames, plan_, buckets["i"], buckets["extra"])
    context.log.info(f"bucket {buckets['i'] + 1}/{plan_.k}: {part.height} partial cells")
    return part


@dg.op(description="Merge the buckets' partial cells; write and record indicators/<family> for the year.")
def merge(context: dg.OpExecutionContext, monitor: MonitorResource, task: dict, partials: list[pl.DataFrame]):
    family, year = task["family"], task["year"]
    _, work = _work(monitor, task)
    prov = manifest_provenance(monitor.warehouse, sorted(work.inputs), year)
    res = ENG.finish(work, partials, prov, buckets=len(partials))
    for i, why in res.not_computable.items():
        context.log.warning(f"{i} {year} not computable: {why}")
    meta = family_metadata(res, [s.id for s in SPEC.families()[family]], prov, task["extra"])
    meta.update(write_asset(monitor.warehouse, family_key(family), str(year), res.stored, context.run_id, meta))
    yield dg.AssetMaterialization(asset_key=family_key(family), partition=str(year), metadata=meta)
    yield dg.Output(res.table.height)


@dg.graph(description="One indicator family and year with one step per bucket of persons (issue 12; "
                      "docs/scaling.md). Config: ops.plan.config {family, year, buckets}. Rebuild "
                      "indicators/indicator_table afterwards.")
def bucket_steps():
    task, buckets = plan()
    merge(task, buckets.map(bucket).collect())


#: MONITOR_STEP_EXECUTOR -> the executor that runs the bucket steps (one process, pod or Celery task each)
EXECUTORS = ("multiprocess", "k8s", "celery-k8s")


def build_bucket_steps_job(executor: str | None = None) -> dg.JobDefinition:
    """The job ``indicators_bucket_steps`` on the executor named by ``executor`` or MONITOR_STEP_EXECUTOR
    (read when the definitions are built; :func:`step_executor`)."""
    return bucket_steps.to_job(name="indicators_bucket_steps", executor_def=step_executor(executor),
                               tags={"monitor/trigger": "bucket_steps"})


def step_executor(executor: str | None = None) -> dg.ExecutorDefinition:
    """The executor of the bucket-step jobs (this one and core_bucket_steps): ``executor`` or
    MONITOR_STEP_EXECUTOR, ``multiprocess`` (default), ``k8s`` (dagster-k8s ``k8s_job_executor``: a Kubernetes
    Job per step) or ``celery-k8s`` (dagster-celery-k8s)."""
    name = executor or os.environ.get("MONITOR_STEP_EXECUTOR", "multiprocess")
    if name == "multiprocess":
        ex = dg.multiprocess_executor
    elif name == "k8s":
        from dagster_k8s import k8s_job_executor as ex   # in the Kubernetes image only (docs/scaling.md)
    elif name == "celery-k8s":
        from dagster_celery_k8s import celery_k8s_job_executor as ex
    else:
        raise ValueError(f"MONITOR_STEP_EXECUTOR={name!r}: choose one of {', '.join(EXECUTORS)}")
    return ex
