"""Raw readers: one landed CBS file -> a lazy scan of it exactly as delivered (no typing, no renames).

The ingest adds its parse expressions to this scan and collects it in chunks (:func:`collect_chunks`), so
parsing runs inside the reader's parallel pipeline and a national file is never held whole (docs/ingest.md).

* ``.sav`` / ``.dta``: polars-readstat (Rust ReadStat, multi-threaded, file order preserved); pyreadstat
  only if polars-readstat is not importable.  SPSS string variables arrive as ``String`` (empty stays
  ``""``), numeric ones as ``Float64`` (SPSS has no integers).
* ``.csv`` (CBS's converted copies in ``geconverteerde data/``): separator ``;``, decimal comma; every column
  is read as ``String`` so that codes such as ``"01"`` keep their leading zeros; empty -> null.  Typing
  happens after, in the same plan (normalise.py).  The catalog entry's ``csv`` block may declare another
  separator or encoding: polars reads UTF-8 only, so a cp1252/latin-1 copy is first transcoded block by block
  into a temporary UTF-8 file (:func:`transcode_to_utf8`, memory of one block).  A copy that is not valid in
  its declared encoding, or whose header is one column holding another separator, is a :class:`CsvFormatError`
  naming the line, byte offset and column (:func:`check_header`, :func:`first_invalid`).
* ``.parquet``: as stored.

Any failure to read is a :class:`ReadError` with the reader's reason (never a library exception).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import polars as pl

from monitor_dagster.catalog import CSV_SEPARATORS, CsvFormat

READERS = ("sav", "dta", "csv", "parquet")
BLOCK = 1 << 20                  # bytes per block of the encoding checks and the transcoding
HEADER_LIMIT = 1 << 20           # a header line longer than this is not a CBS header
UTF8 = "utf-8"
_SEP_NAMES = {";": "';'", ",": "','", "\t": "a tab", "|": "'|'"}

try:  # the fast reader; pyreadstat is the fallback (docs/ingest.md)
    import polars_readstat as _prs
except ImportError:  # pragma: no cover - exercised only without polars-readstat
    _prs = None


class ReadError(Exception):
    """The file could not be read at all; ``args[0]`` is the reason."""


class CsvFormatError(Exception):
    """A CSV copy is not in the catalog's declared format (encoding, separator); ``rule`` says what and how to
    recover, ``column`` names the column where it was found (None: the file)."""

    def __init__(self, rule: str, column: str | None = None):
        super().__init__(rule)
        self.rule = rule
        self.column = column


@dataclass(frozen=True)
class BadBytes:
    """Where a file stops being valid in an encoding: 1-based line (the header is line 1), 0-based byte offset
    from the start of the file, the 0-based field of that line and the field's raw bytes."""
    line: int
    offset: int
    field: int
    raw: bytes
    reason: str

    def where(self, header: list[str]) -> str:
        """``line 12 (byte offset 301)``; the field's number too when the header does not name it (the column
        itself goes into the failure's column)."""
        known = 0 <= self.field < len(header)
        return f"line {self.line} (byte offset {self.offset:,})" + ("" if known else f", field {self.field + 1}")

    def column(self, header: list[str]) -> str | None:
        return header[self.field] if 0 <= self.field < len(header) else None


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


#: a .sav up to this size has its text columns decoded whole by pyreadstat for :func:`check_sav_text`; a larger one
#: its first SAV_TEXT_ROWS rows (a national SPOLIS would take minutes: its text columns are codes, ASCII)
SAV_TEXT_FULL_BYTES = 64 * 2 ** 20
SAV_TEXT_ROWS = 200_000
#: UTF-8 text read as cp1252/latin-1: 'Ã«' for 'ë', 'Ã§' for 'ç' ('Curaçao' -> 'CuraÃ§ao')
_MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                       "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")


def check_sav_text(path: Path) -> None:
    """Refuse (:class:`CsvFormatError`, naming the column) a .sav whose text is not in the encoding its header
    declares.  polars-readstat cuts a value at the first byte that is not valid ('Curaçao' in latin-1 bytes under
    a UTF-8 label became 'Cura', and the country lost its herkomst group in silence; an audit of December 2026);
    pyreadstat refuses it ("Unable to convert string to the requested encoding"), so the text columns are decoded
    by pyreadstat once (whole up to :data:`SAV_TEXT_FULL_BYTES`, else the first :data:`SAV_TEXT_ROWS` rows).  UTF-8
    text under a one-byte label ('SomaliÃ«') is refused as well.  Stata .dta files are UTF-8 by definition."""
    import pyreadstat

    path = Path(path)
    if path.suffix.lower() != ".sav":
        return
    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except Exception:               # not readable at all: the reader's own message says why (truncated, ...)
        return
    text = [c for c, t in (meta.readstat_variable_types or {}).items() if t == "string"]
    if not text:
        return
    enc = meta.file_encoding or "UTF-8"
    limit = 0 if path.stat().st_size <= SAV_TEXT_FULL_BYTES else SAV_TEXT_ROWS

    def read(cols):
        return pyreadstat.read_sav(str(path), usecols=cols, row_limit=limit, apply_value_formats=False)[0]

    try:
        df = read(text)
    except Exception as exc:        # pyreadstat's ReadstatError: name the column by reading them one by one
        if "encoding" not in str(exc).lower() and "convert" not in str(exc).lower():
            return                  # truncated or damaged: the reader's own message says so
        for c in text:
            try:
                read([c])
            except Exception:
                raise CsvFormatError(f"text not valid in the file's declared encoding {enc} (a value in another "
                                     f"encoding; re-export the .sav, or convert the text to {enc})", c) from None
        raise CsvFormatError(f"text not valid in the file's declared encoding {enc}: {exc}") from None
    for c in text:
        vals = [v for v in df[c].dropna().unique().tolist() if isinstance(v, str) and not v.isascii()]
        bad = next((v for v in vals if _MOJIBAKE.search(v)), None)
        if bad is not None:
            raise CsvFormatError(f"text looks like UTF-8 read as {enc} (e.g. {bad!r}): the file's header declares "
                                 f"{enc} but the text is UTF-8; re-export the .sav with its real encoding", c)


def csv_header(path: Path, fmt: CsvFormat | None = None) -> list[str]:
    """The column names of a CBS CSV (reads only the header; the file must be UTF-8, see
    :func:`transcode_to_utf8`)."""
    sep = (fmt or CsvFormat()).separator
    with reader_errors():
        return pl.scan_csv(path, separator=sep, infer_schema=False, encoding="utf8-lossy").collect_schema().names()


def _header_line(path: Path) -> bytes:
    """The first line of a file (without its line end), read in blocks up to HEADER_LIMIT bytes."""
    out = b""
    with open(path, "rb") as fh:
        while len(out) < HEADER_LIMIT:
            block = fh.read(1 << 16)
            if not block:
                break
            out += block
            if b"\n" in block:
                break
    return out.split(b"\n", 1)[0].rstrip(b"\r")


def check_no_inner_bom(path: Path, sep: str) -> None:
    """Refuse a CSV with a byte order mark (EF BB BF) after its first bytes: two files joined together, or a line
    pasted from another export.  The reader keeps it as the first character of the field ('\ufeff6043' for
    Turkije), which then matches no code: in an audit of December 2026 all Turkish persons lost their herkomst
    group with exit 0.  One scan of the file's bytes (mmap, memchr speed), named by line and field."""
    import mmap

    path = Path(path)
    if path.stat().st_size <= 3:
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        at = mm.find(codecs.BOM_UTF8, 1)
    if at < 0:
        return
    bad = locate(path, at, sep, "byte order mark")
    header = _header_fields(path, UTF8, sep)
    raise CsvFormatError(f"a byte order mark (U+FEFF) inside the file at {bad.where(header)}: files joined together? "
                         "Remove it (only the first bytes of a file may hold one)", bad.column(header))


def check_header(path: Path, fmt: CsvFormat, entry: str) -> list[str]:
    """The raw header fields of a CSV copy, after two checks that name the mistake instead of letting every
    column look missing: the header decodes in the declared encoding (else :class:`CsvFormatError` with the byte
    offset), and it is not one column holding another separator (a ``,``-separated re-export of a ``;`` file)."""
    line = _header_line(Path(path))
    text_bytes = line[3:] if line.startswith(codecs.BOM_UTF8) and fmt.encoding == UTF8 else line
    try:
        text = text_bytes.decode(fmt.encoding)
    except UnicodeDecodeError as exc:
        at = exc.start + (len(line) - len(text_bytes))
        raise CsvFormatError(
            f"header (line 1, byte offset {at:,}) is not valid {_enc(fmt.encoding)}: "
            f"{line[max(0, at - 20):at + 20]!r}; {_encoding_advice(fmt.encoding, entry)}") from None
    fields = [x.strip().strip('"') for x in text.split(fmt.separator)]
    if len(fields) == 1:
        for other in CSV_SEPARATORS:
            if other != fmt.separator and len(text.split(other)) > 1:
                shown = text if len(text) <= 80 else text[:77] + "..."
                raise CsvFormatError(
                    f"wrong separator: the header is one column {shown!r}: the file is separated by "
                    f"{_SEP_NAMES[other]} instead of {_SEP_NAMES[fmt.separator]}; ask for a copy separated by "
                    f"{_SEP_NAMES[fmt.separator]}, or declare `csv: {{separator: {_yaml(other)}}}` under files.{entry} in "
                    f"data_catalog.yaml if CBS delivers this file so")
    return fields


def _yaml(sep: str) -> str:
    return '"\\t"' if sep == "\t" else repr(sep)


def _enc(name: str) -> str:
    return "UTF-8" if name == UTF8 else name


def _encoding_advice(declared: str, entry: str) -> str:
    """How to recover from bytes that are not valid in the declared encoding."""
    if declared == UTF8:
        return (f"if CBS delivered this copy in cp1252 or latin-1 (Windows exports), declare "
                f"`csv: {{encoding: cp1252}}` under files.{entry} in data_catalog.yaml; otherwise ask for a UTF-8 copy")
    return (f"declare the file's real encoding as `csv: {{encoding: ...}}` under files.{entry} in data_catalog.yaml, "
            f"or ask for a UTF-8 copy")


def locate(path: Path, offset: int, sep: str, reason: str) -> BadBytes:
    """Line, field and raw field bytes of the byte at ``offset``: lines are counted from the top of the file,
    block by block (only on this error path), the line itself is cut from a window around the offset."""
    path = Path(path)
    with open(path, "rb") as fh:
        newlines, remaining = 0, offset
        while remaining > 0:
            block = fh.read(min(BLOCK, remaining))
            if not block:
                break
            newlines += block.count(b"\n")
            remaining -= len(block)
        start = max(0, offset - HEADER_LIMIT)
        fh.seek(start)
        window = fh.read(offset - start + HEADER_LIMIT)
    rel = offset - start
    line_start = window.rfind(b"\n", 0, rel) + 1
    line_end = window.find(b"\n", rel)
    line = window[line_start: line_end if line_end >= 0 else len(window)].rstrip(b"\r")
    sepb = sep.encode("ascii")
    # the field: separators before the offset on its line (quotes ignored: CBS copies do not quote separators)
    at = rel - line_start
    field = line[:at].count(sepb)
    start_f = line.rfind(sepb, 0, at) + 1
    end_f = line.find(sepb, at)
    end_f = len(line) if end_f < 0 else end_f
    # the field's bytes, at most 30 either side of the bad byte (a field can be long in a broken file)
    raw = line[max(start_f, at - 30): min(end_f, at + 30)]
    return BadBytes(line=newlines + 1, offset=offset, field=field, raw=raw, reason=reason)


def first_invalid(path: Path, encoding: str, sep: str = ";") -> BadBytes | None:
    """The first byte sequence of ``path`` that is not valid in ``encoding`` (None: the whole file is valid),
    read in blocks of BLOCK bytes through an incremental decoder (memory of one block)."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(BLOCK)
            final = not block
            pending = len(dec.getstate()[0])     # bytes of a sequence split across blocks, decoded with this one
            try:
                dec.decode(block, final)
            except UnicodeDecodeError as exc:
                return locate(path, offset - pending + exc.start, sep, exc.reason)
            if final:
                return None
            offset += len(block)


def transcode_to_utf8(src: Path, encoding: str, dst: Path, sep: str, entry: str) -> dict:
    """Write ``src`` (in ``encoding``) as UTF-8 to ``dst``, block by block (polars reads UTF-8 only).

    Refuses (:class:`CsvFormatError`) a file with bytes that are not valid in ``encoding`` (e.g. 0x81 in cp1252)
    and a file that is valid UTF-8 with non-ASCII text: read as cp1252 it would silently become 'CuraÃ§ao', so
    its declared one-byte encoding is taken to be a mistake.  Returns {"bytes", "non_ascii"}."""
    dec = codecs.getincrementaldecoder(encoding)("strict")
    utf8 = codecs.getincrementaldecoder(UTF8)("strict")
    utf8_ok, first_non_ascii = True, None
    offset = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while True:
            block = fin.read(BLOCK)
            final = not block
            pending = len(dec.getstate()[0])
            plain = block.isascii()         # ASCII is the same bytes in UTF-8: copied as is (most blocks of a CBS file)
            if plain and not pending:
                out = block
            else:
                try:
                    out = dec.decode(block, final).encode(UTF8)
                except UnicodeDecodeError as exc:
                    bad = locate(src, offset - pending + exc.start, sep, exc.reason)
                    header = _header_fields(src, encoding, sep)
                    raise CsvFormatError(
                        f"not valid {encoding} at {bad.where(header)}: {bad.raw!r} ({exc.reason}); "
                        f"{_encoding_advice(encoding, entry)}", bad.column(header)) from None
            if first_non_ascii is None and not plain:
                first_non_ascii = offset + next(i for i, b in enumerate(block) if b > 127)
            # is it UTF-8 after all?  (fails at a cp1252 file's first non-ASCII byte)
            if utf8_ok and first_non_ascii is not None and not (plain and not utf8.getstate()[0]):
                try:
                    utf8.decode(block, final)
                except UnicodeDecodeError:
                    utf8_ok = False
            fout.write(out)
            if final:
                break
            offset += len(block)
    if first_non_ascii is not None and utf8_ok:
        bad = locate(src, first_non_ascii, sep, "")
        header = _header_fields(src, encoding, sep)
        raise CsvFormatError(
            f"declared {encoding} but the file looks like UTF-8 (valid UTF-8 with non-ASCII text), e.g. at "
            f"{bad.where(header)}: {bad.raw.decode(UTF8, 'replace')!r} would be read as "
            f"{bad.raw.decode(encoding, 'replace')!r}; remove `encoding: {encoding}` from files.{entry}.csv in "
            f"data_catalog.yaml (UTF-8 is the default)", bad.column(header))
    return {"bytes": offset, "non_ascii": first_non_ascii is not None}


def _header_fields(path: Path, encoding: str, sep: str) -> list[str]:
    line = _header_line(Path(path))
    if line.startswith(codecs.BOM_UTF8):
        line = line[3:]
    return [x.strip().strip('"') for x in line.decode(encoding, "replace").split(sep)]


def utf8_failure(path: Path, sep: str, entry: str) -> CsvFormatError | None:
    """Why polars could not read a UTF-8-declared copy, if it is its encoding (None: the file is valid UTF-8,
    the reason is elsewhere, e.g. a number that does not parse)."""
    bad = first_invalid(Path(path), UTF8, sep)
    if bad is None:
        return None
    header = _header_fields(path, UTF8, sep)
    field = bad.raw
    hint = ""
    try:
        hint = f" (read as cp1252: {field.decode('cp1252')!r})"
    except UnicodeDecodeError:
        pass
    return CsvFormatError(f"not valid UTF-8 at {bad.where(header)}: {field!r}{hint}; "
                          f"{_encoding_advice(UTF8, entry)}", bad.column(header))


def scan_csv(path: Path, numeric: dict[str, pl.DataType] | None = None, lossy: bool = False,
             fmt: CsvFormat | None = None) -> pl.LazyFrame:
    """CBS converted CSV: every column as ``String`` except those in ``numeric`` (raw name -> Int64/Float64),
    which the CSV reader parses itself, decimal comma included (fast).  A value that does not parse makes
    the collect fail: the ingest then re-reads everything as strings and reports each bad value
    (docs/ingest.md).  ``lossy``: replace invalid UTF-8 instead of failing (slower).  ``fmt``: the entry's
    separator (``;`` with decimal comma, otherwise decimal point); the file must be UTF-8 by now."""
    sep = (fmt or CsvFormat()).separator
    lf = pl.scan_csv(path, separator=sep, infer_schema=False, decimal_comma=sep != ",",
                     schema_overrides=numeric or None,
                     encoding="utf8-lossy" if lossy else "utf8", quote_char='"', raise_if_empty=True)
    # a BOM or stray blanks around header names (Excel exports) are not part of the column name
    names = lf.collect_schema().names()
    clean = {c: c.lstrip("\ufeff").strip() for c in names}
    if any(k != v for k, v in clean.items()):
        lf = lf.rename({k: v for k, v in clean.items() if k != v})
    # a file converted to CRLF twice ends its lines in \r\r\n: the reader takes one \r as the line end and leaves
    # the other on the last field, so 'Nederland\r' matched no herkomst group and a whole population lost its
    # breakdown without a word (an audit of December 2026); a line end is never part of a value
    if numeric is None or names[-1] not in numeric:
        lf = lf.with_columns(pl.col(clean[names[-1]]).str.strip_chars_end("\r"))
    return lf


def scan_raw(path: Path, ext: str | None = None, numeric: dict[str, pl.DataType] | None = None,
             lossy: bool = False, fmt: CsvFormat | None = None) -> pl.LazyFrame:
    """A lazy scan of one landed file (schema known); raises :class:`ReadError` if it cannot be opened.
    Errors in the body of the file surface at collect time: use :func:`collect`.  ``numeric``, ``lossy`` and
    ``fmt`` apply to CSV only (see :func:`scan_csv`)."""
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
            lf = scan_csv(path, numeric, lossy, fmt)
        else:
            lf = pl.scan_parquet(path)
        lf.collect_schema()          # header problems (truncated, not a .sav) show up here
        return lf


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """Collect a scan (plus any expressions added to it); reader failures become :class:`ReadError`."""
    with reader_errors():
        return lf.collect()


def positive_int_env(name: str, default: int) -> int:
    """A setting of at least 1 from the environment variable ``name`` (read per call, never at import; ``_``
    allowed as in ``1_000``), else ``default``; anything else is refused naming the variable."""
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: not a whole number") from None
    if n < 1:
        raise ValueError(f"{name}={n}: must be at least 1")
    return n


def file_rows(path: Path, ext: str | None = None) -> int | None:
    """The row count a landed file declares without being read: a parquet file's footer; None for the other
    formats (a CSV or ``.sav`` must be read to be counted)."""
    path = Path(path)
    if (ext or path.suffix.lstrip(".")).lower() != "parquet":
        return None
    with reader_errors():
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def collect_chunks(lf: pl.LazyFrame, chunk_rows: int, rows: int | None = None) -> Iterator[pl.DataFrame]:
    """The scan (plus any expressions added to it) in consecutive chunks of ``chunk_rows`` rows (the last one
    shorter), in file order, so that a file larger than memory can be validated and written piece by piece
    (docs/ingest.md, "Chunked ingest").  An empty file gives no chunk.  Reader failures become
    :class:`ReadError`, also in a later chunk.

    ``rows`` known (a parquet footer, :func:`file_rows`): each chunk is its own slice of the scan, collected
    when the consumer asks for it; the parquet reader decodes only the row groups of that slice, so one chunk
    is in memory at a time.  Otherwise polars' ``collect_batches``, whose streaming engine reads ahead of the
    consumer: measured on 28 million SPOLIS rows it held about ten chunks (1.7 GB of raw columns, 3.4 GB with
    the parse columns) while the consumer encoded one, against 1.5 GB sliced, in the same time
    (docs/ingest.md, "Bounded read-ahead")."""
    size = max(1, int(chunk_rows))
    if rows is not None:
        for start in range(0, rows, size):
            with reader_errors():
                chunk = lf.slice(start, size).collect(engine="streaming")
            yield chunk
            del chunk            # not held while the next one is read
        return
    with reader_errors():
        batches = iter(lf.collect_batches(chunk_size=size, maintain_order=True))
    while True:
        with reader_errors():
            try:
                chunk = next(batches)
            except StopIteration:
                return
        yield chunk
        del chunk


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
