"""Research question 4 benchmark (issue 13): the families of O27-O40 for one year, per family, at 1 M and 4 M.

For each size ``persons:R`` a warehouse with the core layer of years ``--years`` is built by
``benchmarks/pipeline.py`` (steps synth, sources, core; the 4 M zone is 4 shifted copies of 1 M persons,
``monitor synth --replicate``) unless it exists; then each family runs in its own process
(``engine.compute_family`` with automatic buckets), so its time and peak RSS are its own.  Targets: all of
O27-O40 for one year under 60 s and 4 GB at 1 M persons; 4 M under 4.4x the time, peak under 1.3x.

    .venv/bin/python benchmarks/dynamics.py                          # 1M:1 and 4M:4, years 2020-2021
    .venv/bin/python benchmarks/dynamics.py --sizes 1000000:1 --warehouse <wh>   # an existing warehouse
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

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
HERE = Path(__file__).parent
FAMILIES = ("transitions", "function_level", "reemployment")
#: families with a follow-up window (O38/O39: t .. t+3) run for the first year of the zone, so their window
#: holds the other years (with the default 2020-2021: 2020 followed up in 2021, voorlopig)
FIRST_YEAR_FAMILIES = ("reemployment",)


def run_family(family: str, warehouse: Path, year: int) -> dict:
    from monitor_dagster.indicators import engine as ENG

    t = time.perf_counter()
    res = ENG.compute_family(family, ENG.warehouse_frames(warehouse, family, year), year,
                             extra=ENG.follow_up_extras(family, warehouse, year))
    if res.not_computable:
        raise SystemExit(f"{family}: not computable: {res.not_computable}")
    return {"family": family, "seconds": time.perf_counter() - t, "buckets": res.buckets, "rows": res.table.height,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000:1,4000000:4", help="persons:R, comma-separated")
    ap.add_argument("--years", default="2020-2021", help="zone years; the families run for the last")
    ap.add_argument("--warehouse", type=Path, help="use this warehouse (one size only) instead of building one")
    ap.add_argument("--family", help=argparse.SUPPRESS)
    a = ap.parse_args()
    first, last = (int(x) for x in a.years.split("-"))
    if a.family:
        print(json.dumps(run_family(a.family, a.warehouse, first if a.family in FIRST_YEAR_FAMILIES else last)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in a.sizes.split(","):
        persons, r = (int(x) for x in size.split(":"))
        wh = a.warehouse or OUT / f"pipeline_{persons}_{first}_{last}" / "warehouse"
        if not (wh / "core").exists():
            p = subprocess.run([sys.executable, str(HERE / "pipeline.py"), "--persons", str(persons), "--replicate",
                                str(r), "--years", a.years, "--steps", "synth,sources,core"])
            if p.returncode != 0:
                print(f"{persons:,}: building the warehouse failed")
                continue
        for fam in FAMILIES:
            p = subprocess.run([sys.executable, __file__, "--years", a.years, "--warehouse", str(wh), "--family", fam],
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(f"  {persons:,} {fam}: FAILED\n{p.stderr[-2000:]}")
                continue
            res = {"persons": persons, **json.loads(p.stdout.strip().splitlines()[-1])}
            rows.append(res)
            print(f"  {persons:>10,} {fam:<15} {res['seconds']:6.1f} s  peak {res['peak_rss_gb']:5.2f} GB  "
                  f"{res['buckets']} bucket(s)", flush=True)
    by = {}
    for x in rows:
        by.setdefault(x["persons"], []).append(x)
    print("| persons | seconds (all families) | max peak GB |\n|---|---|---|")
    for n, xs in by.items():
        print(f"| {n:,} | {sum(x['seconds'] for x in xs):.1f} | {max(x['peak_rss_gb'] for x in xs):.2f} |")
    if len(by) == 2:
        (n1, a1), (n2, a2) = sorted(by.items())
        t1, t2 = sum(x["seconds"] for x in a1), sum(x["seconds"] for x in a2)
        m1, m2 = max(x["peak_rss_gb"] for x in a1), max(x["peak_rss_gb"] for x in a2)
        print(f"time {n2 / n1:.0f}x persons: {t2 / t1:.2f}x (target <= 4.4x); peak {m2 / m1:.2f}x (target <= 1.3x)")
    (OUT / "bench_dynamics.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
