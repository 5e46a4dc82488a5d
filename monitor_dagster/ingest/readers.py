"""Raw readers: one landed CBS file -> a lazy scan of it exactly as delivered (no typing, no renames).

The ingest adds its parse expressions to this scan and collects it in chunks (:func:`collect_chunks`), so
parsing runs inside the reader's parallel pipeline and a national file is never held whole (docs/ingest.md).

* ``.sav`` / ``.dta``: polars-readstat (Rust ReadStat, multi-threaded, file order preserved); pyreadstat
  only if polars-readstat is not importable.  SPSS string variables arrive as ``String`` (empty stays
  ``""``), numeric ones as ``Float64`` (SPSS has no integers).
* ``.csv`` (CBS's converted copies in ``geconverteerde data/``): separator ``;``, decimal comma; every column
  is read as ``String`` so that codes such as ``"01"`` keep their leading zeros; empty -> null.  Typing
  happens after, in the same plan (normalise.py).
* ``.parquet``: as stored.

Any failure to read is a :class:`ReadError` with the reader's reason (never a library exception).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import polars as pl

READERS = ("sav", "dta", "csv", "parquet")

try:  # the fast reader; pyreadstat is the fallback (docs/ingest.md)
    import polars_readstat as _prs
except ImportError:  # pragma: no cover - exercised only without polars-readstat
    _prs = None


class ReadError(Exception):
    """The file could not be read at all; ``args[0]`` is the reason."""


def _threads() -> int:
    return max(1, os.cpu_count() or 1)


def scan_sav_dta(path: Path) -> pl.LazyFrame:
    if _prs is not None:
        # preserve_order: rows in file order (deterministic frames); empty strings stay "" (cheaper than
        # missing_string_as_null, and normalise treats "" and null alike)
        return _prs.scan_readstat(str(path), threads=_threads(), preserve_order=True)
    import pyreadstat  # pragma: no cover

    fn = pyreadstat.read_sav if path.suffix.lower() == ".sav" else pyreadstat.read_dta
    df, _ = fn(str(path), output_format="polars", apply_value_formats=False)
    return df.lazy()


def csv_header(path: Path) -> list[str]:
    """The column names of a CBS CSV (reads only the header)."""
    with reader_errors():
        return pl.scan_csv(path, separator=";", infer_schema=False, encoding="utf8-lossy").collect_schema().names()


def scan_csv(path: Path, numeric: dict[str, pl.DataType] | None = None, lossy: bool = False) -> pl.LazyFrame:
    """CBS converted CSV: every column as ``String`` except those in ``numeric`` (raw name -> Int64/Float64),
    which the CSV reader parses itself, decimal comma included (fast).  A value that does not parse makes
    the collect fail: the ingest then re-reads everything as strings and reports each bad value
    (docs/ingest.md).  ``lossy``: replace invalid UTF-8 instead of failing (slower)."""
    lf = pl.scan_csv(path, separator=";", infer_schema=False, decimal_comma=True, schema_overrides=numeric or None,
                     encoding="utf8-lossy" if lossy else "utf8", quote_char='"', raise_if_empty=True)
    # a BOM or stray blanks around header names (Excel exports) are not part of the column name
    names = lf.collect_schema().names()
    clean = {c: c.lstrip("\ufeff").strip() for c in names}
    return lf.rename({k: v for k, v in clean.items() if k != v}) if any(k != v for k, v in clean.items()) else lf


def scan_raw(path: Path, ext: str | None = None, numeric: dict[str, pl.DataType] | None = None,
             lossy: bool = False) -> pl.LazyFrame:
    """A lazy scan of one landed file (schema known); raises :class:`ReadError` if it cannot be opened.
    Errors in the body of the file surface at collect time: use :func:`collect`.  ``numeric`` and ``lossy``
    apply to CSV only (see :func:`scan_csv`)."""
    path = Path(path)
    ext = (ext or path.suffix.lstrip(".")).lower()
    if ext not in READERS:
        raise ReadError(f"unsupported file type .{ext} (supported: {', '.join('.' + r for r in READERS)})")
    if not path.is_file():
        raise ReadError("file not found" if not path.exists() else "not a regular file")
    if path.stat().st_size == 0:
        raise ReadError("the file is empty (0 bytes)")
    with reader_errors():
        if ext in ("sav", "dta"):
            lf = scan_sav_dta(path)
        elif ext == "csv":
            lf = scan_csv(path, numeric, lossy)
        else:
            lf = pl.scan_parquet(path)
        lf.collect_schema()          # header problems (truncated, not a .sav) show up here
        return lf


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """Collect a scan (plus any expressions added to it); reader failures become :class:`ReadError`."""
    with reader_errors():
        return lf.collect()


def collect_chunks(lf: pl.LazyFrame, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The scan (plus any expressions added to it) in consecutive chunks of ``chunk_rows`` rows (the last one
    shorter), in file order, so that a file larger than memory can be validated and written piece by piece
    (docs/ingest.md, "Chunked ingest").  Polars' streaming engine reads ahead of the consumer, but a bounded
    amount (measured: a few chunks, whatever the size of the file).  An empty file gives no chunk.  Reader
    failures become :class:`ReadError`, also in a later chunk."""
    with reader_errors():
        batches = iter(lf.collect_batches(chunk_size=max(1, int(chunk_rows)), maintain_order=True))
    while True:
        with reader_errors():
            try:
                chunk = next(batches)
            except StopIteration:
                return
        yield chunk


def read_raw(path: Path, ext: str | None = None) -> pl.DataFrame:
    """Read one landed file as delivered; raises :class:`ReadError` naming the reason."""
    return collect(scan_raw(path, ext))


_TRUNCATED = ("failed to fill whole buffer", "unexpected end of file", "unexpected eof", "out of specification")


class reader_errors:
    """Context manager: any exception of a reader (polars, ReadStat, pyo3 panics) -> ReadError(reason)."""

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if exc is None or isinstance(exc, (ReadError, KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            return False
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else ""
        hint = "; the file looks truncated" if any(t in text.lower() for t in _TRUNCATED) else ""
        raise ReadError(f"{type(exc).__name__}: {reason[:400]}{hint}") from exc
