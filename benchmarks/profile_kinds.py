"""Where a layer's CPU goes, by kind of work (issue 12): the samples of a ``perf record`` of a benchmark step,
summed into the kinds of docs/scaling_measurements.md ("What dropping the person-month core tables could give, bounded"):
polars' group-bys and joins, its other expressions, gathers, sorts, parquet reading, pyarrow's parquet writing,
the kernel, libc, the checksums of verified reads and the Python interpreter.

    perf record -F 49 -o core.perf -- .venv/bin/python benchmarks/pipeline.py --persons 17500000 --replicate 20 \\
        --years 2021-2021 --steps core
    .venv/bin/python benchmarks/profile_kinds.py core.perf [core2.perf ...]

Needs Linux ``perf`` (Debian package ``linux-perf``); a profile of the whole process tree, so the Dagster
workers of the layer count.  The kinds are read from the shared object and the symbol name of each sample, so a
kind is a bound, not an exact account (an inlined routine counts where it was inlined).
"""

from __future__ import annotations

import argparse
import re
import subprocess
from collections import Counter

#: (kind, shared-object pattern, symbol pattern), first match wins; None matches anything
KINDS: list[tuple[str, str | None, str | None]] = [
    ("kernel (page faults, zeroing, the page cache)", r"^\[kernel", None),
    ("parquet write (pyarrow)", r"libparquet|libarrow", None),
    ("parquet read (polars: decoding, zstd)", None,
     r"polars_parquet|ZSTD_decompress|ZSTD_decode|ZSTD_buildFSETable|ZSTD_execSequence|HUF_decompress|"
     r"HUF_readDTable|FSE_decompress"),
    ("libc (memmove, memcmp, memset)", r"^libc[.-]", None),
    ("checksums of the verified reads (libcrypto)", r"libcrypto", None),
    ("the Python interpreter", r"python", None),
    ("polars: sorts", None, r"sort"),
    ("polars: gathers", None, r"gather|take_unchecked"),
    ("polars: group-bys, joins, hash tables", None,
     r"group|reduce|Grouper|hot_groups|idx_table|hash_join|hash_keys|probe|join"),
    ("polars: other expressions", None, None),
]

_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$")


def kind_of(dso: str, symbol: str) -> str:
    """The kind of one sample's shared object and symbol (:data:`KINDS`, first match)."""
    for kind, dso_pat, sym_pat in KINDS:
        if (dso_pat is None or re.search(dso_pat, dso)) and (sym_pat is None or re.search(sym_pat, symbol)):
            return kind
    raise AssertionError("the last kind matches anything")


def kinds(report: str) -> Counter:
    """Per kind, the percentage of samples in ``perf report --sort dso,sym --stdio -g none`` output."""
    out: Counter = Counter()
    for line in report.splitlines():
        m = _LINE.match(line)
        if m:
            out[kind_of(m.group(2), m.group(3))] += float(m.group(1))
    return out


def report_of(perf_data: str) -> str:
    return subprocess.run(["perf", "report", "-i", perf_data, "--no-children", "--sort", "dso,sym", "--stdio",
                           "-g", "none"], capture_output=True, text=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("perf_data", nargs="+", help="perf.data files (one column each)")
    a = ap.parse_args()
    cols = [kinds(report_of(f)) for f in a.perf_data]
    print("| kind | " + " | ".join(a.perf_data) + " |")
    print("|---|" + "---|" * len(cols))
    for kind, _, _ in KINDS:
        print(f"| {kind} | " + " | ".join(f"{c.get(kind, 0.0):.1f} %" for c in cols) + " |")


if __name__ == "__main__":
    main()
