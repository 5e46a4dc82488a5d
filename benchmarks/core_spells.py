"""Core-layer benchmark (issue 4): the job-spell pipeline on one national-scale SPOLISBUS pair of years.

Workload: ``SynthConfig(persons=N, first_year=2020, last_year=2021, fmt="parquet", only_files=("SPOLISBUS",))``
ingested with ``run_pipeline(..., select=["SPOLISBUS"])`` into a warehouse; the zone (landing + warehouse) is
made once under ``$MONITOR_BENCH_OUT/core_spells_zone_<N>`` (default ``bench_output/``) and reused.

Measured, each step alone in a fresh process (so that peak memory is the step's own, not the generator's):

* ``job_months``  SPOLIS 2021 + Nov-Dec 2020 -> job-months with the substantial-job flag (sink_parquet)
* ``job_spells``  job-months -> spells per (person, job, contract) (sink_parquet)
* ``main_job``    job-months -> main job per person-month (sink_parquet)
* ``simultaneous_jobs``  SPOLIS 2021 -> number of simultaneous jobs per person (sink_parquet)
* ``pipeline``    all four from the SPOLIS files in one process (the figure the target applies to)

Peak memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` and ``VmHWM`` of the child process (the parent
only orchestrates, so nothing large is inherited).  Target for the whole core layer: < 60 s and < 4 GB at
1,000,000 persons; job spells are the biggest part.  Results go to ``$MONITOR_BENCH_OUT/bench_core_spells.json``.

    .venv/bin/python benchmarks/core_spells.py                     # 1,000,000 persons
    .venv/bin/python benchmarks/core_spells.py --persons 4000000     # generates 4M: ~6 GB per million persons
    .venv/bin/python benchmarks/core_spells.py --persons 4000000 --replicate-from 1000000   # 4 copies of 1M
    .venv/bin/python benchmarks/core_spells.py --persons 20000     # quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2021
TARGET_S = 60.0
TARGET_GB = 4.0
STEPS = ("job_months", "job_spells", "main_job", "simultaneous_jobs", "pipeline")


def out_dir() -> Path:
    return Path(os.environ.get("MONITOR_BENCH_OUT", ROOT / "bench_output"))


def zone_dir(persons: int) -> Path:
    return out_dir() / f"core_spells_zone_{persons}"


# ------------------------------------------------------------------------------------------ preparation
def prepare(persons: int) -> dict:
    """Generate and ingest the zone once (runs in a child process: the generator's memory stays there)."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = zone_dir(persons)
    done = root / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    info: dict = {"persons": persons}
    t = time.perf_counter()
    generate(SynthConfig(landing=root / "landing", persons=persons, first_year=YEAR - 1, last_year=YEAR, seed=1,
                         fmt="parquet", only_files=("SPOLISBUS",)))
    info["generate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with dg.instance_for_test() as inst:
        summary = run_pipeline(root / "landing", root / "warehouse", select=["SPOLISBUS"], instance=inst)
    if not summary.ok:
        raise SystemExit("ingest failed: " + "; ".join(o.message for o in summary.outcomes if not o.ok))
    info["ingest_s"] = time.perf_counter() - t
    info["rows"] = {o.partition: o.metadata.get("rows") for o in summary.outcomes}
    done.write_text(json.dumps(info))
    return info


def replicate(persons: int, base: int) -> dict:
    """A zone of ``persons`` made of ``persons // base`` copies of the ingested ``base`` zone, each copy with
    its own person_id and IKVID range (streamed to parquet: small memory).  For sizes whose generation would
    not fit the machine (the generator's latent world needs about 6 GB per million persons)."""
    import polars as pl

    from monitor_dagster.warehouse import Warehouse

    if persons % base:
        raise SystemExit(f"--persons {persons} is not a multiple of --replicate-from {base}")
    root = zone_dir(persons)
    done = root / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    prepare(base)
    src = Warehouse(zone_dir(base) / "warehouse")
    (root / "replica").mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    rows = {}
    for year in (YEAR - 1, YEAR):
        lf = src.read("SPOLISBUS", str(year))
        k = persons // base
        copies = [lf.with_columns(pl.col("person_id") + i * 10_000_000_000, pl.col("IKVID") + i * 10_000_000_000)
                  for i in range(k)]
        path = root / "replica" / f"SPOLISBUS_{year}.parquet"
        pl.concat(copies).sink_parquet(path, engine="streaming")
        rows[str(year)] = pl.scan_parquet(path).select(pl.len()).collect().item()
    info = {"persons": persons, "replicated_from": base, "replicate_s": time.perf_counter() - t, "rows": rows}
    done.write_text(json.dumps(info))
    return info


def spolis_inputs(persons: int):
    """(SPOLIS t, SPOLIS t-1) of the zone: the warehouse, or the replica files of a replicated zone."""
    import polars as pl

    from monitor_dagster.warehouse import Warehouse

    root = zone_dir(persons)
    if (root / "replica").exists():
        return tuple(pl.scan_parquet(root / "replica" / f"SPOLISBUS_{y}.parquet") for y in (YEAR, YEAR - 1))
    wh = Warehouse(root / "warehouse")
    return wh.read("SPOLISBUS", str(YEAR)), wh.read("SPOLISBUS", str(YEAR - 1))


# ------------------------------------------------------------------------------------------ measurement
def _peak_gb() -> dict:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2          # KiB -> GiB
    hwm = next((int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")), 0)
    return {"ru_maxrss_gb": ru, "vmhwm_gb": hwm / 1024 ** 2}


def measure(step: str, persons: int) -> dict:
    """Run one step in this (fresh) process and return seconds, rows and peak memory."""
    import polars as pl

    from monitor_dagster.core.jobs import job_months, job_spells, main_job, simultaneous_jobs

    root = zone_dir(persons)
    work = root / "out"
    work.mkdir(exist_ok=True)
    spolis, prev = spolis_inputs(persons)
    jm_path = work / "job_months.parquet"
    rows: dict[str, int] = {}

    def sink(lf: pl.LazyFrame, name: str) -> None:
        path = work / f"{name}.parquet"
        lf.sink_parquet(path, engine="streaming")
        rows[name] = pl.scan_parquet(path).select(pl.len()).collect().item()

    t = time.perf_counter()
    if step in ("job_months", "pipeline"):
        sink(job_months(spolis, prev, YEAR), "job_months")
    if step in ("job_spells", "pipeline"):
        sink(job_spells(pl.scan_parquet(jm_path)), "job_spells")
    if step in ("main_job", "pipeline"):
        sink(main_job(pl.scan_parquet(jm_path).filter(pl.col("substantial"))), "main_job")
    if step in ("simultaneous_jobs", "pipeline"):
        sink(simultaneous_jobs(spolis, YEAR), "simultaneous_jobs")
    secs = time.perf_counter() - t
    return {"step": step, "seconds": secs, "rows": rows, **_peak_gb()}


def run_child(args: list[str]) -> str:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-4000:]}")
    return out.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of " + ", ".join(STEPS))
    ap.add_argument("--replicate-from", type=int, default=None, metavar="BASE",
                    help="build the zone from copies of the (generated) BASE-person zone instead of generating it")
    ap.add_argument("--_prepare", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_measure", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if a._prepare:
        info = replicate(a.persons, a.replicate_from) if a.replicate_from else prepare(a.persons)
        print(json.dumps(info))
        return 0
    if a._measure:
        print(json.dumps(measure(a._measure, a.persons)))
        return 0

    t = time.perf_counter()
    print(f"zone: {a.persons:,} persons, SPOLISBUS {YEAR - 1}-{YEAR} -> {zone_dir(a.persons)}", flush=True)
    prep = ["--persons", str(a.persons), "--_prepare"]
    if a.replicate_from:
        prep += ["--replicate-from", str(a.replicate_from)]
    info = json.loads(run_child(prep))
    how = (f"{a.persons // info['replicated_from']} copies of the {info['replicated_from']:,}-person zone"
           if info.get("replicated_from") else
           f"generate {info.get('generate_s', 0):.0f} s, ingest {info.get('ingest_s', 0):.0f} s")
    print(f"  ready in {time.perf_counter() - t:.0f} s ({how}; SPOLIS rows {info.get('rows')})", flush=True)
    steps = [s for s in a.steps.split(",") if s]
    if "pipeline" not in steps and any(s != "job_months" for s in steps) and "job_months" not in steps:
        steps.insert(0, "job_months")          # later steps read the job-months file
    results = []
    for step in steps:
        r = json.loads(run_child(["--persons", str(a.persons), "--_measure", step]))
        results.append(r)
        print(f"  {step:<18} {r['seconds']:7.1f} s   peak {max(r['ru_maxrss_gb'], r['vmhwm_gb']):5.2f} GB   "
              f"rows {r['rows']}", flush=True)
    pipe = next((r for r in results if r["step"] == "pipeline"), None)
    record = {"benchmark": "core_spells", "persons": a.persons, "year": YEAR, "zone": info, "steps": results,
              "target_s": TARGET_S, "target_gb": TARGET_GB, "machine": {"cpus": os.cpu_count(),
                                                                      "platform": platform.platform()}}
    if pipe:
        peak = max(pipe["ru_maxrss_gb"], pipe["vmhwm_gb"])
        record["target_met"] = pipe["seconds"] < TARGET_S and peak < TARGET_GB
        print(f"pipeline: {pipe['seconds']:.1f} s, {peak:.2f} GB "
              f"(target < {TARGET_S:.0f} s and < {TARGET_GB:.0f} GB: {'met' if record['target_met'] else 'NOT met'})")
    path = out_dir() / "bench_core_spells.json"
    old = json.loads(path.read_text()) if path.exists() else []
    old = [r for r in old if r.get("persons") != a.persons] + [record]
    path.write_text(json.dumps(old, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
