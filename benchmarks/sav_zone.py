"""A `.sav` copy of a parquet landing zone (issue 12: "from a `.sav` landing zone <= 15 minutes").

Every data file of the zone is written as an uncompressed SPSS system file with the streaming writer of
``monitor_dagster.synth.savwriter`` (memory: one batch, so a national SPOLIS of 125 M rows can be written; the
readstat writers hold the whole table).  ``--latest`` copies only the highest version (``V<n>``) of each file
and year: what ``monitor run`` ingests, at a third of the disk for a zone with three SPOLIS versions.  Files
that are not data files are copied as they are.

    .venv/bin/python benchmarks/sav_zone.py bench_output/pipeline_17500000_2021_2021/landing /data/sav17/landing --latest
"""

from __future__ import annotations

import argparse
import re
import shutil
import time
from pathlib import Path

import monitor_dagster  # noqa: F401  (before polars: its allocator options, monitor_dagster/allocator.py)
import polars as pl

from monitor_dagster.synth.savwriter import write_sav

_VERSION = re.compile(r"^(?P<stem>.*?)V(?P<v>\d+)$")


def _latest(files: list[Path]) -> list[Path]:
    best: dict[tuple[Path, str], tuple[int, Path]] = {}
    out = []
    for f in files:
        m = _VERSION.match(f.stem)
        if not m:
            out.append(f)
            continue
        k = (f.parent, m["stem"])
        if k not in best or int(m["v"]) > best[k][0]:
            best[k] = (int(m["v"]), f)
    return out + [f for _, f in best.values()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("target", type=Path)
    ap.add_argument("--latest", action="store_true", help="only the highest version of each file")
    a = ap.parse_args()
    files = sorted(f for f in a.source.rglob("*") if f.is_file())
    data = [f for f in files if f.suffix == ".parquet"]
    if a.latest:
        data = _latest(data)
    t0 = time.perf_counter()
    for f in files:
        out = a.target / f.relative_to(a.source)
        out.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix != ".parquet":
            shutil.copy2(f, out)
        elif f in data:
            t = time.perf_counter()
            rows = write_sav(pl.scan_parquet(f), out.with_suffix(".sav"))
            print(f"{f.relative_to(a.source)}: {rows:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
