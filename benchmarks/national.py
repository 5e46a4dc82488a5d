"""National-scale ladder (issue 12): one indicator year at 1 M, 4 M and 17.5 M persons, per layer.

For each size ``persons:R`` the zone is generated as R shifted copies of persons/R (``monitor synth
--replicate``; R = 1: generated directly), then ``benchmarks/pipeline.py`` runs synth, sources, core and
indicators (each layer in its own process: its own time and peak RSS) and one streaming scan of the ingested
source tables (core + indicators against it: the issue's compute target), and ``benchmarks/indicators.py``
measures the register families against one streaming scan of their own inputs, and every outcome family
against one of its own (``--per-family``); the warehouse is checked against the zone's planted truth
(``monitor_dagster/synth/verify.py``: the bucketed layers must give the generator's counts at every size).  The
summary table goes to ``$MONITOR_BENCH_OUT/bench_national.md``; targets: 17.5 M persons <= 10 minutes and <= 12 GB (parquet landing
-> gated table), peak at 4 M <= 1.3x the peak at 1 M.

Then the DuckDB peer (``benchmarks/duckdb_peer.py --landing``) on the largest size's zone: ``monitor run`` +
``export`` in one process against the plain SQL script, both with their peak memory, and whether every cell
agrees, and the SQL against DuckDB's own scan of the files it reads, issue 12's compute measure applied to
the peer (``--no-peer`` leaves it out; about 11 minutes at 17.5 M persons).

    .venv/bin/python benchmarks/national.py                       # 1M:1, 4M:4, 17.5M:20 (about 80 minutes)
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
sys.path.insert(0, str(HERE))     # the verdicts' own definitions (pipeline.py, indicators.py, duckdb_peer.py)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000:1,4000000:4,17500000:20", help="persons:R, comma-separated")
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                    help="the DuckDB peer on the largest size's zone (needs the bench extra, as `make bench` installs)")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in a.sizes.split(","):
        persons, r = (int(x) for x in size.split(":"))
        p = subprocess.run([sys.executable, str(HERE / "pipeline.py"), "--persons", str(persons),
                            "--replicate", str(r), "--years", f"{a.year}-{a.year}",
                            "--steps", "synth,sources,core,indicators,truth,scan,scan_core"], text=True)
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
        fam = subprocess.run([sys.executable, str(HERE / "indicators.py"), "--warehouse", str(wh), "--year",
                              str(a.year), "--per-family"], text=True)
        families = (json.loads((OUT / "bench_indicator_families.json").read_text()) if fam.returncode == 0
                    else [])
        rows.append({"persons": persons, "replicate": r, "layers": layers, "indicators": ind,
                     "families": families})
        (OUT / "bench_national.json").write_text(json.dumps(rows, indent=1))
    from pipeline import every_table_ratio, scan_ratio   # the verdicts' own definitions (pipeline.py runs above)

    lines = ["| persons | sources | core | indicators | total (no synth) | max peak | core + indicators / scan of the "
             "sources | register families / scan of their inputs | every outcome family / scan of its own inputs "
             "| quarters / year | planted truth |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
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
        whole, every = scan_ratio(list(L.values())), every_table_ratio(list(L.values()))
        whole = (f"{whole[1]:.1f}x" + (f" ({every:.1f}x one scan of every table it reads)" if every else "")
                 if whole else "-")
        q = (f"{I['K=auto']['seconds'] / I['K=auto/year']['seconds']:.2f}x"
             if "K=auto" in I and "K=auto/year" in I else "-")
        checks = L.get("truth", {}).get("checks")
        truth = (f"{sum(c['ok'] for c in checks)} of {len(checks)} checks hold" if checks is not None else "-")
        lines.append(f"| {row['persons']:,} | {cell('sources')} | {cell('core')} | {cell('indicators')} | "
                     f"{total:.0f} s | {peak:.1f} GB | {whole} | {ratio} | {families_cell(row.get('families'))} "
                     f"| {q} | {truth} |")
    if a.peer and rows:
        largest = max(r_["persons"] for r_ in rows)
        landing = OUT / f"pipeline_{largest}_{a.year}_{a.year}" / "landing"
        p = subprocess.run([sys.executable, str(HERE / "duckdb_peer.py"), "--landing", str(landing),
                            "--steps", "duckdb,scan,monitor"], text=True)
        from duckdb_peer import report_path     # the file the peer writes for this zone
        lines += ["", peer_line(largest, json.loads(report_path(landing).read_text()))
                  if p.returncode == 0 else f"DuckDB peer on the {largest:,}-person zone: failed (see above)"]
    table = "\n".join(lines)
    print(table)
    (OUT / "bench_national.md").write_text(table + "\n")


def families_cell(results: list[dict] | None) -> str:
    """All outcome families together against the scans of their own inputs, and how many lie within 10x
    (``indicators.py --per-family``; its table is bench_indicator_families.md)."""
    from indicators import family_summary

    s = family_summary(results or [])
    if s is None:
        return "-"
    within, n, compute, scan = s
    return f"{compute / scan:.1f}x ({len(within)} of {n} within 10x)"


def peer_line(persons: int, report: dict) -> str:
    """One line under the ladder: the monitor against the DuckDB peer on the same national zone (issue 12: the
    peer's ratio at 250,000 persons is mostly the monitor's fixed costs; here they are a few per cent)."""
    from duckdb_peer import scan_line

    steps = report["steps"]
    mon, ddb = steps["monitor"], steps["duckdb"]
    cmp = report.get("comparison") or {}
    cells = sum(c["cells"] for c in cmp.values())
    # values within the monitor's fixed point (duckdb_peer.py: O08 may differ by up to ~1e-4 euro), counts exact
    agree = all((c["max_abs_diff_n"] or 0) == 0 and (c["max_abs_diff_value"] or 0) <= 1e-4
                and c["only_monitor"] == 0 and c["only_duckdb"] == 0 for c in cmp.values())
    peak = max(mon["peak_rss_gb"], mon.get("peak_rss_worker_gb", 0))
    return (f"DuckDB peer on the {persons:,}-person zone: `monitor run` + `export` {mon['process_wall_s']:.0f} s "
            f"(peak {peak:.1f} GB), the DuckDB script {ddb['process_wall_s']:.0f} s (peak {ddb['peak_rss_gb']:.1f} GB): "
            f"{mon['process_wall_s'] / ddb['process_wall_s']:.1f}x; {cells} cells, "
            + ("every one equal" if agree and cells else "NOT all equal: see bench_duckdb_peer_*.json")
            # the peer against the monitor's compute target: its SQL over DuckDB's own scan of its inputs
            + (f"; {scan_line(steps)}" if "scan" in steps else ""))


if __name__ == "__main__":
    main()
