"""Indicator-layer benchmark (issue 12): the outcome families of one year with K buckets of persons.

Needs a warehouse with the core layer of the year (e.g. from ``benchmarks/pipeline.py --steps
synth,sources,core``).  Each variant runs in its own process, so its peak memory (max RSS) is its own:

- ``scan``: one streaming scan of the families' inputs (every column summed): the floor of any computation
  on them; the issue's target is compute <= 10x this;
- ``K=<k>``: ``engine.compute_family`` for every outcome family with K buckets (``auto``: chosen from the
  input size and ``--memory-gb``), with the quarterly series of the ``period: quarter`` indicators;
- ``K=<k>/year``: the same without quarters (the issue's target: quarters cost <= 1.5x the year alone).

Prints time and peak RSS per variant, the ratio to the scan, and checks that every K gives the same table.

``--per-family``: every outcome family the engine computes (not only the three register families), each in its
own process as ``monitor run`` computes it (readiness's skips, the follow-up years, K chosen from the size),
against one streaming scan of its own inputs (the columns it reads, every one decoded as ``pipeline.py``'s scan
does): which families lie within 10x of their own reading and which do not (issue 12's compute target, family
by family).  Writes ``bench_indicator_families.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
FAMILIES = ("contracts_hours", "secm", "income")


def run_variant(variant: str, warehouse: Path, year: int, memory_gb: int) -> dict:
    import polars as pl

    from monitor_dagster.indicators import engine as ENG

    t = time.perf_counter()
    digest = hashlib.sha256()
    info = {}
    if variant == "scan":
        seen = set()
        for fam in FAMILIES:
            for key, lf in ENG.warehouse_frames(warehouse, fam, year).items():
                if lf is None or key in seen:
                    continue
                seen.add(key)
                num = [c for c, d in lf.collect_schema().items() if d.is_numeric() or d == pl.Boolean]
                lf.select(pl.col(num).cast(pl.Float64).sum()).collect(engine="streaming")
        info["inputs"] = sorted(seen)
    else:
        kk, _, only_year = variant.partition("/")
        k = None if kk == "K=auto" else int(kk.split("=")[1])
        for fam in FAMILIES:
            res = ENG.compute_family(fam, ENG.warehouse_frames(warehouse, fam, year), year, buckets=k,
                                     memory_gb=memory_gb, extra={"quarterly": False} if only_year else None)
            info[fam] = res.buckets
            digest.update(res.table.write_csv().encode())
        info["table_sha256"] = digest.hexdigest()[:16]
    return {"variant": variant, "seconds": time.perf_counter() - t,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, **info}


def run_family(family: str, warehouse: Path, year: int, memory_gb: int) -> dict:
    """One family as ``monitor run`` computes it, and one streaming scan of the columns it reads."""
    import polars as pl

    from monitor_dagster.indicators import engine as ENG

    sys.path.insert(0, str(Path(__file__).parent))
    from pipeline import reduced   # the whole-layer scan's reduction: every column decoded

    frames = ENG.warehouse_frames(warehouse, family, year)
    skip = ENG.readiness_skips(warehouse, family, year)
    work = ENG.family_work(family, frames, year, skip)
    if not work.todo:
        return {"family": family, "computed": [], "why": "; ".join(sorted(set(work.not_computable.values())))}
    t = time.perf_counter()
    inputs = ENG.project_inputs(family, {k: f for k, f in frames.items() if k in work.inputs})
    rows = 0
    for lf in inputs.values():
        if lf is not None:
            got = lf.select(pl.len().alias("_rows"), *(reduced(c, d) for c, d in lf.collect_schema().items())
                            ).collect(engine="streaming")
            rows += got["_rows"].item()
    scan = time.perf_counter() - t
    t = time.perf_counter()
    res = ENG.compute_family(family, frames, year, skip=skip, extra=ENG.follow_up_extras(family, warehouse, year),
                             memory_gb=memory_gb)
    compute = time.perf_counter() - t
    return {"family": family, "computed": res.computed, "buckets": res.buckets, "input_rows": rows,
            "scan_s": scan, "compute_s": compute, "rows": res.table.height}


def family_lines(results: list[dict], target: float = 10.0) -> list[str]:
    """The per-family table: compute against the scan of the family's own inputs, and the verdict."""
    lines = ["| family | indicators | buckets | input rows | scan | compute | ratio |", "|---|---|---|---|---|---|---|"]
    done = [r for r in results if r.get("computed")]
    for r in sorted(done, key=lambda r: -r["compute_s"]):
        lines.append(f"| {r['family']} | {len(r['computed'])} | {r['buckets']} | {r['input_rows']:,} | "
                     f"{r['scan_s']:.1f} s | {r['compute_s']:.1f} s | {r['compute_s'] / r['scan_s']:.1f}x |")
    for r in results:
        if not r.get("computed"):
            lines.append(f"| {r['family']} | not computed: {r['why']} | | | | | |")
    summary = family_summary(results, target)
    if summary:
        within, n, compute, scan = summary
        lines.append(f"within {target:g}x of their own inputs: {len(within)} of {n} families "
                     f"({', '.join(within) or 'none'}); all together {compute:.1f} s = {compute / scan:.1f}x "
                     f"their scans ({scan:.1f} s)")
    return lines


def family_summary(results: list[dict], target: float = 10.0) -> tuple[list[str], int, float, float] | None:
    """(families within ``target`` x their own scan, families computed, their compute and scan seconds)."""
    done = [r for r in results if r.get("computed")]
    if not done:
        return None
    within = [r["family"] for r in done if r["compute_s"] <= target * r["scan_s"]]
    return within, len(done), sum(r["compute_s"] for r in done), sum(r["scan_s"] for r in done)


def engine_families() -> list[str]:
    """The outcome families the engine computes (yearly cadence; the vacancies have their own asset)."""
    from monitor_dagster.indicators import spec as SPEC

    return [f for f, v in SPEC.families().items() if v[0].cadence == "yearly" and f != "vacancies"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, default=OUT / "pipeline_1000000_2015_2021" / "warehouse",
                    help="a warehouse with the core layer (default: the one of benchmarks/pipeline.py's default run)")
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--variants", default="scan,K=1,K=auto,K=7,K=auto/year,scan",
                    help="comma-separated; a variant given twice counts with its fastest run (the scan, whose time "
                         "varies most, runs first and last)")
    ap.add_argument("--memory-gb", type=int, default=2)
    ap.add_argument("--per-family", action="store_true",
                    help="every outcome family against one scan of its own inputs, instead of the variants")
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--family", help="one outcome family against a scan of its own inputs, its result as JSON on the "
                    "last line (--per-family runs each family so, in a process of its own)")
    a = ap.parse_args()
    if a.variant:
        print(json.dumps(run_variant(a.variant, a.warehouse, a.year, a.memory_gb)))
        return
    if a.family:
        print(json.dumps(run_family(a.family, a.warehouse, a.year, a.memory_gb)))
        return
    if not (a.warehouse / "core").exists():
        raise SystemExit(f"no core layer in {a.warehouse}: run benchmarks/pipeline.py --steps synth,sources,core "
                         "first (or pass --warehouse)")
    if a.per_family:
        per_family(a)
        return
    print(f"indicator layer: {a.warehouse}, year {a.year}, families {', '.join(FAMILIES)}", flush=True)
    results = []
    for v in a.variants.split(","):
        p = subprocess.run([sys.executable, __file__, "--warehouse", str(a.warehouse), "--year", str(a.year),
                            "--memory-gb", str(a.memory_gb), "--variant", v], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"  {v}: FAILED\n{p.stderr[-2000:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        results.append(r)
    # the fastest of the scans: reading costs at least that, and a slow moment only adds to it (the scans of one
    # run differed 1.6-2.3 s in the twenty-first session, so the first scan alone moved the ratio by a third)
    scan = min((r["seconds"] for r in results if r["variant"] == "scan"), default=None)
    for r in results:
        extra = "" if r["variant"] == "scan" else (
            f"  buckets {', '.join(f'{f} {r[f]}' for f in FAMILIES)}  table {r['table_sha256']}")
        ratio = f"  {r['seconds'] / scan:5.1f}x scan" if scan else ""
        print(f"  {r['variant']:<7} {r['seconds']:7.1f} s  peak {r['peak_rss_gb']:5.2f} GB{ratio}{extra}")
    digests = {r["table_sha256"] for r in results if "table_sha256" in r and "/" not in r["variant"]}
    print(f"  same table for every K: {'yes' if len(digests) <= 1 else 'NO'}")
    q = {r["variant"]: r["seconds"] for r in sorted(results, key=lambda r: -r["seconds"])}   # each one's fastest
    if "K=auto" in q and "K=auto/year" in q:
        print(f"  quarters + year / year alone: {q['K=auto'] / q['K=auto/year']:.2f}x (target <= 1.5x)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_indicators.json").write_text(json.dumps(results, indent=1))


def per_family(a) -> None:
    """Each family in its own process (a cold start for each, as a Dagster step has)."""
    print(f"indicator families against their own inputs: {a.warehouse}, year {a.year}", flush=True)
    results = []
    for fam in engine_families():
        p = subprocess.run([sys.executable, __file__, "--warehouse", str(a.warehouse), "--year", str(a.year),
                            "--memory-gb", str(a.memory_gb), "--family", fam], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"  {fam}: FAILED\n{p.stderr[-2000:]}")
            continue
        results.append(json.loads(p.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"  {fam}: " + (f"scan {r['scan_s']:.1f} s, compute {r['compute_s']:.1f} s" if r.get("computed")
                              else f"not computed ({r['why']})"), flush=True)
    lines = family_lines(results)
    print("\n".join(lines))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_indicator_families.json").write_text(json.dumps(results, indent=1))
    (OUT / "bench_indicator_families.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
