"""Core-layer benchmark (issue 4): time and peak memory of building the core tables for one year.

Workload: a synthetic landing zone of N persons (default 1,000,000) for 2020-2021 in parquet, ingested into a
warehouse once (cached under $MONITOR_BENCH_OUT).  The core functions then run for 2021 in a fresh process
(peak memory = max RSS of that process): population, job_months, job_spells, secm_months,
education_careers and the spell tables.  ``--scale K`` replicates the ingested warehouse K times with shifted
person ids and job ids (K x 1,000,000 persons) to show how time grows with size without generating 4 million
persons (the generator itself needs ~25 GB at that size).  Targets at 1,000,000 persons: < 60 s, < 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import monitor_dagster  # noqa: F401  (before polars: its allocator options, monitor_dagster/allocator.py)
import polars as pl

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
FILES = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "GBAMIGRATIEBUS", "MIGMOTIEFBUS", "LANDAKTUEELREF", "SECMBUS",
         "SPOLISBUS", "HOOGSTEOPLTAB", "ONDERWIJSINSCHRTAB", "EXAMVOTAB", "DIPLOMAMBOTAB", "DIPLOMAHOTAB",
         "WWPERSOONBUS", "BIJSTANDPERSOONBUS", "AOTOTPERSOONBUS", "SIRWWPERSOONBUS", "SIRAGPERSOONBUS",
         "PWETSRGPERSOONBUS")


def prepare(persons: int) -> Path:
    """Generate and ingest once; returns the warehouse root."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    base = OUT / f"core_zone_{persons}"
    wh = base / "warehouse"
    if (wh / "sources" / "SPOLISBUS" / "2021" / "CURRENT").exists():
        return wh
    t = time.perf_counter()
    generate(SynthConfig(landing=base / "landing", persons=persons, first_year=2020, last_year=2021, seed=1,
                         fmt="parquet", only_files=FILES))
    print(f"  generated in {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    with dg.instance_for_test() as inst:
        s = run_pipeline(base / "landing", wh, instance=inst)
    assert s.ok, [o for o in s.outcomes if not o.ok]
    print(f"  ingested in {time.perf_counter() - t:.0f} s", flush=True)
    return wh


def _scaled(lf: pl.LazyFrame, k: int) -> pl.LazyFrame:
    if k == 1:
        return lf
    cols = lf.collect_schema().names()
    parts = []
    for i in range(k):
        shift = [pl.col("person_id") + i * 10**10] if "person_id" in cols else []
        if "IKVID" in cols:
            shift.append(pl.col("IKVID") + i * 10**10)
        parts.append(lf.with_columns(*shift))
    return pl.concat(parts)


def child(wh: Path, year: int, scale: int, out: Path) -> None:
    from monitor_dagster.core import benefits as B
    from monitor_dagster.core import education as E
    from monitor_dagster.core import jobs as J
    from monitor_dagster.core import population as POP
    from monitor_dagster.core import secm as S
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(wh)

    def r(entry, part="latest"):
        try:
            return _scaled(w.read(entry, part), scale)
        except KeyError:
            return None

    y, p = str(year), str(year - 1)
    steps = {
        "population": lambda: POP.population(year, r("GBAADRESOBJECTBUS"), r("SECMBUS"), r("GBAPERSOONTAB"),
                                             r("GBAMIGRATIEBUS"), r("HOOGSTEOPLTAB", y), r("MIGMOTIEFBUS"),
                                             r("LANDAKTUEELREF", "all"), r("ONDERWIJSINSCHRTAB", y)),
        "job_months": lambda: J.job_months(r("SPOLISBUS", y), r("SPOLISBUS", p), year),
        "secm_months": lambda: S.secm_months(r("SECMBUS"), year),
        "education_careers": lambda: E.education_careers(r("EXAMVOTAB", y), r("ONDERWIJSINSCHRTAB", y), None, None, year),
        "benefit_spells": lambda: B.benefit_spells(r("WWPERSOONBUS"), r("BIJSTANDPERSOONBUS"), r("AOTOTPERSOONBUS")),
    }
    res = {}
    t_all = time.perf_counter()
    tmp = OUT / "core_bench_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for name, f in steps.items():
        t = time.perf_counter()
        df = f().collect(engine="streaming")
        df.write_parquet(tmp / f"{name}.parquet")
        res[name] = {"seconds": time.perf_counter() - t, "rows": df.height}
        del df
    t = time.perf_counter()
    from monitor_dagster.core import buckets as BK
    from monitor_dagster.defs.core.assets import SPELL_BUCKETS

    months = {"months": pl.scan_parquet(tmp / "job_months.parquet")}
    spells = BK.BucketedFrame(lambda months: J.job_spells(months), months,
                              BK.plan_buckets(months, "person_id", SPELL_BUCKETS)).collect()
    res["job_spells"] = {"seconds": time.perf_counter() - t, "rows": spells.height}
    res["total_seconds"] = time.perf_counter() - t_all
    res["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    out.write_text(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--scales", default="1,4", help="replications of the warehouse to time (1,4 = 1M and 4M)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(Path(a.child[0]), 2021, int(a.child[1]), Path(a.child[2]))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"core layer benchmark: {a.persons:,} persons, year 2021", flush=True)
    wh = prepare(a.persons)
    results = {}
    for k in [int(x) for x in a.scales.split(",")]:
        f = OUT / f"core_bench_x{k}.json"
        rc = subprocess.call([sys.executable, __file__, "--child", str(wh), str(k), str(f)])
        if rc != 0:
            print(f"  x{k}: FAILED (exit {rc})")
            continue
        r = json.loads(f.read_text())
        results[k] = r
        n = a.persons * k
        steps = ", ".join(f"{s} {v['seconds']:.1f} s" for s, v in r.items() if isinstance(v, dict))
        ok = (r["total_seconds"] < 60 and r["peak_rss_gb"] < 4) if n == 1_000_000 else None
        print(f"  {n:,} persons: {r['total_seconds']:.1f} s, peak {r['peak_rss_gb']:.2f} GB ({steps})"
              + ("" if ok is None else f"; target <60 s and <4 GB: {'met' if ok else 'NOT met'}"), flush=True)
    if 1 in results and 4 in results:
        print(f"  growth 1x -> 4x: time x{results[4]['total_seconds'] / results[1]['total_seconds']:.2f}, "
              f"memory x{results[4]['peak_rss_gb'] / results[1]['peak_rss_gb']:.2f} (linear = x4)")
    (OUT / "bench_core.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
