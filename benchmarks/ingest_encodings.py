"""Encodings benchmark (issue 15, part B; docs/ingest.md "Measured: encodings").

The SPOLISBUS 2021 V3 CSV copy of a synthetic zone (``--persons``, default 200,000: 1.4 million rows, 196 MB) is
ingested with ``ingest_file`` into a parquet file, each mode alone in a fresh process (peak RSS), ``--repeat``
interleaved rounds (the machine is shared):

* ``utf8``: the default (only the header line is read in addition, the encoding is polars' own check);
* ``cp1252``: the same file with the catalog declaring ``csv: {encoding: cp1252}`` (transcoded block by block to a
  temporary UTF-8 copy first);
* ``bad``: the file with one latin-1 byte near its end (refused with line and byte offset);
* ``transcode`` / ``first_invalid``: the two block-wise passes of ingest/readers.py alone.

    .venv/bin/python benchmarks/ingest_encodings.py [--persons 200000] [--repeat 3]

The zone goes to ``$MONITOR_BENCH_OUT/encodings_zone_<persons>`` (default ``bench_output/``) and is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

MODES = ("utf8", "cp1252", "bad", "transcode", "first_invalid")
REL = "Spolis/SPOLISBUS/2021/geconverteerde data/SPOLISBUS2021V3.csv"


def _zone(out: Path, persons: int) -> Path:
    from monitor_dagster.synth.generate import SynthConfig, generate

    landing = out / f"encodings_zone_{persons}" / "landing"
    if not (landing / REL).is_file():
        generate(SynthConfig(landing=landing, persons=persons, first_year=2021, last_year=2021, seed=1, fmt="csv",
                             only_files=("SPOLISBUS",)))
    return landing


def _bad_copy(src: Path, dst: Path) -> Path:
    """The file with one latin-1 byte (0xE9) in the third byte of a line about 5 kB before its end."""
    if not dst.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        b = bytearray(src.read_bytes())
        j = b.rfind(b"\n", 0, len(b) - 5000) + 1
        b[j + 2] = 0xE9
        dst.write_bytes(bytes(b))
    return dst


def one(mode: str, landing: Path, work: Path) -> dict:
    """One mode in this process; returns seconds, peak RSS and what happened."""
    import yaml

    from monitor_dagster.catalog import PROJECT_CATALOG, load_catalog
    from monitor_dagster.ingest import IngestError, ingest_file
    from monitor_dagster.ingest import readers as R

    src = landing / REL
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cat = load_catalog()
    if mode == "cp1252":
        raw = yaml.safe_load(PROJECT_CATALOG.read_text(encoding="utf-8"))
        raw["files"]["SPOLISBUS"]["csv"] = {"encoding": "cp1252"}
        (work / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        cat = load_catalog(work / "catalog.yaml")
    path = _bad_copy(src, landing.parent / "bad" / REL) if mode == "bad" else src
    t = time.perf_counter()
    what = ""
    if mode == "transcode":
        R.transcode_to_utf8(src, "cp1252", work / "utf8.csv", ";", "SPOLISBUS")
    elif mode == "first_invalid":
        what = str(R.first_invalid(src, "utf-8"))
    else:
        try:
            r = ingest_file(path, cat.match(REL), cat, out=work / "data.parquet")
            what = f"{r.rows:,} rows"
        except IngestError as exc:
            what = str(exc).splitlines()[-1].strip()[:200]
    return {"mode": mode, "seconds": round(time.perf_counter() - t, 3), "mb": round(src.stat().st_size / 1e6),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3), "result": what}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
    landing = _zone(out, args.persons)
    if args.one:
        print(json.dumps(one(args.one, landing, out / "encodings_work")))
        return
    rows = []
    for r in range(args.repeat):
        for mode in MODES:
            p = subprocess.run([sys.executable, __file__, "--persons", str(args.persons), "--one", mode],
                               capture_output=True, text=True, check=True)
            res = json.loads(p.stdout.strip().splitlines()[-1])
            rows.append(res)
            print(f"round {r + 1} {mode:14s} {res['seconds']:7.2f} s  peak {res['peak_rss_gb']:.2f} GB  "
                  f"{res['mb']} MB  {res['result']}", flush=True)
    best = {m: min(x["seconds"] for x in rows if x["mode"] == m) for m in MODES}
    print("best:", json.dumps(best))
    (out / "bench_ingest_encodings.json").write_text(json.dumps({"rounds": rows, "best": best}, indent=1))


if __name__ == "__main__":
    main()
