"""The job ``core_bucket_steps`` on one machine (issue 12): a yearly core table with one Dagster step per bucket
of persons, against the asset that built it (docs/scaling.md, "The core tables: core_bucket_steps").

    .venv/bin/python benchmarks/bucket_steps.py [--warehouse bench_output/pipeline_1000000_2015_2021/warehouse] \\
        [--table job_months] [--year 2021] [--buckets 0] [--concurrent 2]

The default warehouse is that of ``benchmarks/pipeline.py``'s default zone, which ``make bench`` builds first.

Runs the job with the multiprocess executor (``--concurrent`` steps at a time) on a temporary Dagster instance
and prints the run's seconds, the plan, the bucket steps (mean and largest), the merge, the largest step
process and whether the table has the bytes of the version it replaced (the asset's, with ``--buckets 0``: the
same K).  The job writes a new version of the table into the warehouse, so only a benchmark warehouse under
``$MONITOR_BENCH_OUT`` (default ``bench_output``) is accepted: never ``demo_data`` or a production one.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))


def bench_warehouse(path: Path) -> Path:
    """``path`` if it lies under the benchmark output folder, else SystemExit naming both."""
    wh, out = path.resolve(), OUT.resolve()
    if out != wh and out not in wh.parents:
        raise SystemExit(f"bucket_steps: {path} is not under the benchmark output {OUT} ($MONITOR_BENCH_OUT): the "
                         "job writes a new version of the table, so it runs on benchmark warehouses only")
    if not (wh / "core").is_dir():
        raise SystemExit(f"bucket_steps: {path} holds no core layer: build one with benchmarks/pipeline.py first")
    return wh


def run(wh: Path, table: str, year: int, buckets: int, concurrent: int) -> dict:
    import dagster as dg

    from monitor_dagster.definitions import core_bucket_steps_job_from_env
    from monitor_dagster.warehouse import Warehouse

    os.environ["MONITOR_WAREHOUSE"] = str(wh)        # the step processes build the definitions from these
    os.environ.setdefault("MONITOR_LANDING", str(wh.parent))
    regio = wh.parent / "regio_mappings"            # the generator's mapping, as benchmarks/pipeline.py sets it
    if regio.is_dir():
        os.environ.setdefault("MONITOR_REGIO_DIR", str(regio))
    before = Warehouse(wh, layer="core").manifest(table, str(year)) or {}
    with tempfile.TemporaryDirectory(prefix="bucket-steps-home-") as home, \
            dg.instance_for_test(temp_dir=home) as inst:
        t = time.perf_counter()
        res = dg.execute_job(dg.reconstructable(core_bucket_steps_job_from_env), instance=inst, run_config={
            "ops": {"core_plan": {"config": {"table": table, "year": year, "buckets": buckets}}},
            "execution": {"config": {"max_concurrent": concurrent}}})
        seconds = time.perf_counter() - t
        stats = {st.step_key: st.end_time - st.start_time for st in inst.get_run_step_stats(res.run_id)
                 if st.start_time and st.end_time}
    after = Warehouse(wh, layer="core").manifest(table, str(year)) or {}
    steps = [v for k, v in stats.items() if k.startswith("core_bucket[")]
    return {"table": table, "year": year, "ok": res.success, "seconds": round(seconds, 1),
            "plan_s": round(stats.get("core_plan", 0.0), 1), "bucket_steps": len(steps),
            "bucket_mean_s": round(sum(steps) / max(len(steps), 1), 2), "bucket_max_s": round(max(steps, default=0), 2),
            "merge_s": round(stats.get("core_merge", 0.0), 1),
            "largest_step_gb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2, 2),
            "rows": after.get("rows"), "same_bytes_as_before": bool(before) and
            before.get("data_sha256") == after.get("data_sha256")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, default=OUT / "pipeline_1000000_2015_2021" / "warehouse")
    ap.add_argument("--table", default="job_months")
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--buckets", type=int, default=0, help="K; 0: as the asset chooses")
    ap.add_argument("--concurrent", type=int, default=os.cpu_count() or 1, help="bucket steps at a time")
    a = ap.parse_args()
    r = run(bench_warehouse(a.warehouse), a.table, a.year, a.buckets, a.concurrent)
    print(json.dumps(r))
    if not r["ok"]:
        sys.exit(1)


if __name__ == "__main__":       # the step processes import this module's definitions, never run it
    main()
