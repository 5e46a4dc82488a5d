"""``make bench``: speed and memory of the synthetic landing-zone generator on fixed workloads.

Each workload runs in its own process so that peak memory (max RSS) is that workload's alone.  Targets
(issue 2, 2-core / 24 GB machine): 10,000 persons x 2013-2021 under 60 s (the test-fixture size);
1,000,000 persons x one year of every file under 10 minutes and under 8 GB in parquet; .sav is slower.
Results are printed and written to $MONITOR_BENCH_OUT/bench_synth.json.  Nothing here is asserted: targets
are reported as met / not met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = {
    "fixture-10k-2013-2021-parquet": dict(persons=10_000, years=(2013, 2021), fmt="parquet", target_s=60, target_gb=None),
    "fixture-10k-2013-2021-sav": dict(persons=10_000, years=(2013, 2021), fmt="sav", target_s=None, target_gb=None),
    "national-1M-2021-parquet": dict(persons=1_000_000, years=(2021, 2021), fmt="parquet", target_s=600, target_gb=8),
    "national-1M-2021-sav": dict(persons=1_000_000, years=(2021, 2021), fmt="sav", target_s=None, target_gb=None),
}


def child(name: str, out: str) -> None:
    from monitor_dagster.synth.generate import SynthConfig, generate

    w = WORKLOADS[name]
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        cfg = SynthConfig(landing=tmp / "landing", persons=w["persons"], first_year=w["years"][0],
                          last_year=w["years"][1], seed=1, fmt=w["fmt"])
        t = time.perf_counter()
        res = generate(cfg)
        wall = time.perf_counter() - t
        rows = sum(f.rows for f in res.files)
        size = sum(f.bytes for f in res.files)
        biggest = max(res.files, key=lambda f: f.rows)
        result = {"workload": name, **{k: v for k, v in w.items() if k != "years"}, "years": list(w["years"]),
                  "wall_s": wall, "latent_s": res.seconds["latent"], "write_s": res.seconds["write"], "files": len(res.files),
                  "rows": rows, "rows_per_s": rows / wall, "bytes": size,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2,
                  "largest_file": f"{biggest.file_id} {biggest.year} ({biggest.rows:,} rows)"}
        Path(out).write_text(json.dumps(result))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="run only these workloads")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.out)
        return
    names = args.only or list(WORKLOADS)
    out_dir = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for name in names:
        print(f"running {name} ...", flush=True)
        tmp = out_dir / f"{name}.json"
        rc = subprocess.call([sys.executable, __file__, "--child", name, "--out", str(tmp)])
        if rc != 0 or not tmp.exists():
            print(f"  FAILED (exit {rc})")
            results.append({"workload": name, "error": rc})
            continue
        r = json.loads(tmp.read_text())
        ok_t = r["target_s"] is None or r["wall_s"] <= r["target_s"]
        ok_m = r["target_gb"] is None or r["peak_rss_gb"] <= r["target_gb"]
        r["target_met"] = ok_t and ok_m
        results.append(r)
        tgt = []
        if r["target_s"]:
            tgt.append(f"<{r['target_s']} s")
        if r["target_gb"]:
            tgt.append(f"<{r['target_gb']} GB")
        print(f"  {r['wall_s']:8.1f} s wall (latent {r['latent_s']:.1f} s, write {r['write_s']:.1f} s), "
              f"{r['rows']:,} rows, {r['rows_per_s']:,.0f} rows/s, peak {r['peak_rss_gb']:.2f} GB, "
              f"{r['bytes'] / 1e9:.2f} GB on disk; largest {r['largest_file']}"
              + (f"; target {' and '.join(tgt)}: {'met' if r['target_met'] else 'NOT met'}" if tgt else ""))
    (out_dir / "bench_synth.json").write_text(json.dumps(results, indent=1))
    print(f"written {out_dir / 'bench_synth.json'}")


if __name__ == "__main__":
    main()
