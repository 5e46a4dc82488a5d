"""A streaming writer of SPSS system files (``.sav``, uncompressed), for national-scale synthetic zones.

Why: the two .sav writers in reach hold the whole table. pyreadstat goes through pandas; polars-readstat's
``write_readstat`` collects a LazyFrame first (8.4 GB for 28 M SPOLIS rows, so about 38 GB for the 125 M rows of
a national year). This writer takes a LazyFrame, measures the string widths in one pass, then writes the
rows batch by batch, so its memory is one batch.  It writes what the synthetic files need and nothing more:
numeric variables (doubles, null = SPSS system-missing) and strings of up to 255 bytes (UTF-8, padded with
spaces), long variable names (record 7.13) and the UTF-8 encoding record (7.20).  No value labels (the
generator's own .sav files have them, through pyreadstat; the ingest does not read them), no compression.  The layout follows the PSPP documentation of the system-file format.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import polars as pl

from monitor_dagster.synth.writers import SAV_STAMP

#: SPSS system-missing: the most negative double
SYSMIS = -sys.float_info.max
MAX_STRING = 255
_A, _F = 1, 5                                # format types: string, number


def _fmt(kind: int, width: int, decimals: int = 0) -> int:
    return (kind << 16) | (width << 8) | decimals


_F_NUMERIC = _fmt(_F, 8, 2)                  # F8.2, as polars-readstat writes numbers


def _short_names(names: list[str]) -> list[str]:
    """Unique upper-case names of at most 8 bytes (the long names go in record 7.13)."""
    out, seen = [], set()
    for i, n in enumerate(names):
        base = "".join(c for c in n.upper() if c.isalnum() or c in "_@#$")[:8] or f"V{i}"
        if not base[0].isalpha():
            base = ("V" + base)[:8]
        cand, j = base, 1
        while cand in seen:
            suffix = str(j)
            cand, j = base[:8 - len(suffix)] + suffix, j + 1
        seen.add(cand)
        out.append(cand)
    return out


def write_sav(lf: pl.LazyFrame, path: str | Path, batch_rows: int = 500_000) -> int:
    """Write ``lf`` to ``path`` as an uncompressed .sav; returns the number of rows.  String columns become
    SPSS strings as wide as their longest value (bytes, at most 255: a longer value raises ValueError), every
    other column a double.  The file is written under a temporary name and renamed when complete."""
    path = Path(path)
    schema = lf.collect_schema()
    names = list(schema.names())
    strings = [n for n in names if schema[n] in (pl.String, pl.Categorical) or isinstance(schema[n], pl.Enum)]
    widths: dict[str, int] = {}
    if strings:
        row = lf.select(pl.col(n).cast(pl.String).str.len_bytes().max().alias(n) for n in strings).collect(
            engine="streaming").row(0)
        for n, w in zip(strings, row):
            if w is not None and w > MAX_STRING:
                raise ValueError(f"{path.name}: column {n} has values of {w} bytes; this writer takes at most "
                                 f"{MAX_STRING}")
            widths[n] = max(1, w or 1)
    segments = {n: (-(-widths[n] // 8) if n in widths else 1) for n in names}
    dtype = np.dtype([(n, f"S{segments[n] * 8}" if n in widths else "<f8") for n in names])

    # a fixed creation stamp (synth/writers.py SAV_STAMP), so that the same frame gives the same bytes
    head = b"".join([
        b"$FL2", b"@(#) SPSS DATA FILE monitor_dagster synth".ljust(60), struct.pack("<iiii", 2, sum(segments.values()), 0, 0),
        struct.pack("<i", -1), struct.pack("<d", 100.0), SAV_STAMP, b" " * 64, b"\0" * 3])
    assert len(head) == 176
    recs = [head]
    shorts = _short_names(names)
    for n, short in zip(names, shorts):
        if n in widths:
            f = _fmt(_A, widths[n])
            recs.append(struct.pack("<iiiiii8s", 2, widths[n], 0, 0, f, f, short.encode().ljust(8)))
            recs += [struct.pack("<iiiiii8s", 2, -1, 0, 0, 0, 0, b" " * 8)] * (segments[n] - 1)
        else:
            recs.append(struct.pack("<iiiiii8s", 2, 0, 0, 0, _F_NUMERIC, _F_NUMERIC, short.encode().ljust(8)))
    recs.append(struct.pack("<iiii8i", 7, 3, 4, 8, 1, 0, 0, -1, 1, 1, 2, 65001))          # machine integers
    recs.append(struct.pack("<iiii3d", 7, 4, 8, 3, SYSMIS, sys.float_info.max,
                            np.nextafter(SYSMIS, 0)))                                     # machine floats
    long = "\t".join(f"{s}={n}" for n, s in zip(names, shorts)).encode()
    recs.append(struct.pack("<iiii", 7, 13, 1, len(long)) + long)                          # long names
    enc = b"UTF-8"
    recs.append(struct.pack("<iiii", 7, 20, 1, len(enc)) + enc)                            # encoding
    recs.append(struct.pack("<ii", 999, 0))

    tmp = path.with_name(path.name + ".part")
    rows = 0
    with open(tmp, "wb") as out:
        out.write(b"".join(recs))
        for batch in lf.collect_batches(chunk_size=batch_rows, engine="streaming"):
            arr = np.empty(batch.height, dtype=dtype)
            for n in names:
                s = batch[n]
                if n in widths:
                    w = segments[n] * 8
                    arr[n] = (s.cast(pl.String).fill_null("").str.pad_end(w, " ").cast(pl.Binary)
                              .to_numpy().astype(f"S{w}"))
                else:
                    arr[n] = s.cast(pl.Float64).fill_null(SYSMIS).fill_nan(SYSMIS).to_numpy()
            out.write(arr.tobytes())
            rows += batch.height
        out.seek(80)
        out.write(struct.pack("<i", rows))
    tmp.replace(path)
    return rows
