"""Writing one synthetic file in the format CBS delivers: SPSS .sav (value labels), CSV (``;`` and a
decimal comma, as CBS's converted copies), or parquet (a convenience the generator adds).

Every writer is deterministic: the same frame gives the same bytes.  pyreadstat stamps the creation date
and time into the .sav header (bytes 92-108); we overwrite that stamp with a fixed one so that files can be
compared by hash (workaround, see docs/synthetic_data.md).  Files are written to a temporary name and
renamed, so a crash never leaves a half-written file under a real CBS name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from monitor_dagster.synth.replicate import Replication

SAV_STAMP = b"01 Jan 00" + b"00:00:00"   # 9-byte date + 8-byte time of the SAV header


def write_frame(df: pl.DataFrame | pl.LazyFrame, path: Path, fmt: str, labels: dict[str, dict[str, str]] | None = None,
                file_label: str = "", replication: "Replication | None" = None) -> tuple[int, int, int]:
    """Write ``df`` to ``path``; returns (bytes, rows, columns).  A LazyFrame is streamed to parquet without
    materialising it (part-year SPOLIS cuts at national scale); other formats collect it first.  With a
    ``replication`` (replicate.py) a file with a person key is written as its R shifted copies, streamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if replication is not None and replication.copies > 1:
        cols = df.collect_schema().names()
        if replication.applies_to(cols):
            return _write_replicated(df, path, tmp, fmt, replication, cols)
    if isinstance(df, pl.LazyFrame):
        if fmt == "parquet":
            df.sink_parquet(tmp, compression="zstd", statistics=True)
            os.replace(tmp, path)
            meta = pl.scan_parquet(path)
            return path.stat().st_size, meta.select(pl.len()).collect().item(), len(meta.collect_schema())
        df = df.collect()
    if fmt == "parquet":
        df.write_parquet(tmp, compression="zstd", statistics=True)
    elif fmt == "csv":
        df.write_csv(tmp, separator=";", decimal_comma=True, null_value="", line_terminator="\r\n")
    elif fmt == "sav":
        _write_sav(df, tmp, labels or {}, file_label)
    else:
        raise ValueError(f"unknown format {fmt!r}: choose sav, csv or parquet")
    os.replace(tmp, path)
    return path.stat().st_size, df.height, df.width


#: rows per parquet row group of a replicated file: fixed, so that the bytes do not depend on the thread count
REPLICA_ROW_GROUP = 262_144


def _write_replicated(df, path: Path, tmp: Path, fmt: str, replication: "Replication",
                      cols: list[str]) -> tuple[int, int, int]:
    """The R copies of ``df`` streamed into one file: memory stays at one copy (the base frame)."""
    lf = replication.all_copies(df)
    if fmt == "parquet":
        lf.sink_parquet(tmp, compression="zstd", statistics=True, row_group_size=REPLICA_ROW_GROUP)
    elif fmt == "csv":
        lf.sink_csv(tmp, separator=";", decimal_comma=True, null_value="", line_terminator="\r\n")
    else:
        raise ValueError(f"replicated zones are written as csv or parquet, not {fmt!r} (pyreadstat cannot append "
                         f"to a .sav file; docs/synthetic_data.md)")
    os.replace(tmp, path)
    height = df.height if isinstance(df, pl.DataFrame) else df.select(pl.len()).collect().item()
    return path.stat().st_size, height * replication.copies, len(cols)


def _write_sav(df: pl.DataFrame, path: Path, labels: dict[str, dict[str, str]], file_label: str) -> None:
    import pyreadstat

    value_labels = {c: v for c, v in labels.items() if c in df.columns and v}
    # SPSS has no 64-bit integers: write whole numbers as doubles, as CBS's own .sav files do
    df = df.with_columns(pl.col(pl.Int64, pl.Int32, pl.UInt32, pl.Int16, pl.Int8, pl.UInt64).cast(pl.Float64))
    pyreadstat.write_sav(df, str(path), file_label=file_label[:64], variable_value_labels=value_labels or None)
    with open(path, "r+b") as fh:
        fh.seek(92)   # after rec type, product, layout, case size, compression, weight, ncases, bias
        fh.write(SAV_STAMP)
