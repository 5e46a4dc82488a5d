"""Vacancy matcher benchmark (issue 20; docs/vacancies.md "Measured performance").

Generates ``--n`` synthetic vacancies of one year (synth/vacancies.py, twelve monthly CSV files as a Jobfeed
export; reused when present), then, in a FRESH process (so peak RSS is the matcher's, not the generator's),
reads, validates and matches them file by file with strategy v1 (vacancies.match.match_files, ``--workers``
processes) and computes the indicators V01-V05.  Prints one JSON line: seconds for read+validate, match and
indicators, peak RSS of the process and of its worker processes (ru_maxrss of RUSAGE_SELF and RUSAGE_CHILDREN;
the workers are forked, so their resident pages are partly shared with the parent and the sum is an upper
bound), text length and matches.

    .venv/bin/python benchmarks/vacancies.py [--n 100000] [--workers 2] [--fmt csv|parquet] [--repeat 1]

Files go to ``$MONITOR_BENCH_OUT/vacancies_<n>_<fmt>`` (default ``bench_output/``).
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


def _zone(out: Path, n: int, fmt: str) -> tuple[Path, float]:
    from monitor_dagster.synth.vacancies import generate_vacancies

    landing = out / f"vacancies_{n}_{fmt}" / "landing"
    folder = landing / "Vacatures" / "JOBFEED"
    if folder.is_dir() and len(list(folder.glob(f"JOBFEED*.{fmt}"))) == 12:
        return landing, 0.0
    t0 = time.perf_counter()
    generate_vacancies(landing, 2022, n, seed=1, fmt=fmt)
    return landing, time.perf_counter() - t0


def _run(landing: Path, workers: int) -> dict:
    import polars as pl

    from monitor_dagster.vacancies import match as M
    from monitor_dagster.vacancies.indicators import compute_indicators, is_internship_expr
    from monitor_dagster.vacancies.schema import read_vacancies
    from monitor_dagster.vacancies.strategy import load_strategy

    strategy = load_strategy()
    paths = sorted((landing / "Vacatures" / "JOBFEED").glob("JOBFEED*.*"))
    t_read = t_match = 0.0
    metas, matches, chars, rows = [], [], 0, 0
    t_all = time.perf_counter()
    pool = M.start_pool(strategy, workers) if workers > 1 else None
    for p in paths:
        t0 = time.perf_counter()
        df = read_vacancies(p)
        t1 = time.perf_counter()
        matches.append(M.match_frame(df, strategy, workers=workers, pool=pool))
        t2 = time.perf_counter()
        t_read += t1 - t0
        t_match += t2 - t1
        chars += int(df["tekst"].str.len_chars().sum())
        rows += df.height
        metas.append(df.with_columns(is_internship_expr().alias("is_stage"))
                     .select("vacature_id", "datum_gevonden", "overheidslaag", "regio", "sector", "is_stage"))
        del df
    if pool is not None:
        pool.close()
        pool.join()
    rss_match = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    v, m = pl.concat(metas), pl.concat(matches)
    ind = compute_indicators(v, m)
    t_ind = time.perf_counter() - t0
    return {"rows": rows, "files": len(paths), "workers": workers, "mean_text_chars": round(chars / rows),
            "read_validate_s": round(t_read, 2), "match_s": round(t_match, 2), "indicators_s": round(t_ind, 2),
            "total_s": round(time.perf_counter() - t_all, 2),
            "peak_rss_after_match_mb": round(rss_match),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "matched": {c: int(n) for c, n in m.filter(pl.col("matched")).group_by("categorie").len().iter_rows()},
            "indicator_rows": ind.height, "cpus": os.cpu_count()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fmt", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(_run(Path(a.child), a.workers)))
        return
    out = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
    landing, gen_s = _zone(out, a.n, a.fmt)
    print(json.dumps({"generated_s": round(gen_s, 1), "landing": str(landing),
                      "bytes": sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())}))
    for _ in range(a.repeat):
        r = subprocess.run([sys.executable, __file__, "--child", str(landing), "--workers", str(a.workers)],
                           capture_output=True, text=True, check=True)
        print(r.stdout.strip())


if __name__ == "__main__":
    main()
