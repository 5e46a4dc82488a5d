"""National-scale ladder (issue 12): one indicator year at 1 M, 4 M and 17.5 M persons, per layer.

For each size ``persons:R`` the zone is generated as R shifted copies of persons/R (``monitor synth
--replicate``; R = 1: generated directly), then ``benchmarks/pipeline.py`` runs synth, sources, core and
indicators (each layer in its own process: its own time and peak RSS) and one streaming scan of the ingested
source tables (core + indicators against it: the issue's compute target), and ``benchmarks/indicators.py``
measures the register families against one streaming scan of their own inputs.  The summary table goes to
``$MONITOR_BENCH_OUT/bench_national.md``; targets: 17.5 M persons <= 10 minutes and <= 12 GB (parquet landing
-> gated table), peak at 4 M <= 1.3x the peak at 1 M.

    .venv/bin/python benchmarks/national.py                       # 1M:1, 4M:4, 17.5M:20 (about an hour)
    .venv/bin/python benchmarks/national.py --sizes 1000000:1     # one size
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000:1,4000000:4,17500000:20", help="persons:R, comma-separated")
    ap.add_argument("--year", type=int, default=2021)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in a.sizes.split(","):
        persons, r = (int(x) for x in size.split(":"))
        p = subprocess.run([sys.executable, str(HERE / "pipeline.py"), "--persons", str(persons),
                            "--replicate", str(r), "--years", f"{a.year}-{a.year}",
                            "--steps", "synth,sources,core,indicators,scan"], text=True)
        if p.returncode != 0:
            print(f"{persons:,}: pipeline failed")
            continue
        layers = {r_["step"]: r_ for r_ in json.loads((OUT / "bench_pipeline.json").read_text())}
        wh = OUT / f"pipeline_{persons}_{a.year}_{a.year}" / "warehouse"
        subprocess.run([sys.executable, str(HERE / "indicators.py"), "--warehouse", str(wh), "--year", str(a.year),
                        "--variants", "scan,K=auto,K=auto/year,scan"], text=True)
        # the fastest run of each variant (the scan runs first and last: its time varies most between runs)
        ind = {r_["variant"]: r_ for r_ in sorted(json.loads((OUT / "bench_indicators.json").read_text()),
                                                  key=lambda r_: -r_["seconds"])}
        rows.append({"persons": persons, "replicate": r, "layers": layers, "indicators": ind})
        (OUT / "bench_national.json").write_text(json.dumps(rows, indent=1))
    sys.path.insert(0, str(HERE))
    from pipeline import scan_ratio     # the verdict's own definition (pipeline.py runs in subprocesses above)

    lines = ["| persons | sources | core | indicators | total (no synth) | max peak | core + indicators / scan of the "
             "sources | register families / scan of their inputs | quarters / year |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        L, I = row["layers"], row["indicators"]

        def cell(step: str) -> str:
            return f"{L[step]['seconds']:.0f} s, {L[step]['peak_rss_gb']:.1f} GB" if step in L else "-"
        total = sum(L[s]["seconds"] for s in ("sources", "core", "indicators") if s in L)
        # the ingest workers' peak counts too (the sources layer runs its files in worker processes)
        peak = max((max(L[s]["peak_rss_gb"], L[s].get("peak_rss_worker_gb", 0))
                    for s in ("sources", "core", "indicators") if s in L), default=0)
        scan = I.get("scan", {}).get("seconds")
        ratio = (f"{I['K=auto']['seconds'] / scan:.1f}x" + (f" (year alone {I['K=auto/year']['seconds'] / scan:.1f}x)"
                                                           if "K=auto/year" in I else "")
                 if scan and "K=auto" in I else "-")
        whole = scan_ratio(list(L.values()))
        whole = f"{whole[1]:.1f}x" if whole else "-"
        q = (f"{I['K=auto']['seconds'] / I['K=auto/year']['seconds']:.2f}x"
             if "K=auto" in I and "K=auto/year" in I else "-")
        lines.append(f"| {row['persons']:,} | {cell('sources')} | {cell('core')} | {cell('indicators')} | "
                     f"{total:.0f} s | {peak:.1f} GB | {whole} | {ratio} | {q} |")
    table = "\n".join(lines)
    print(table)
    (OUT / "bench_national.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
