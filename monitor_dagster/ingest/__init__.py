"""Ingest of one landed CBS file into one normalised polars frame, behind a pandera schema gate.

    from monitor_dagster.ingest import ingest_file, IngestResult, IngestError, SchemaFailure
    result = ingest_file(landing / match.relpath, match, catalog)
    result = ingest_file(path, match, catalog, out=parquet_path)      # chunks appended to a file instead

Steps (docs/ingest.md): read raw (readers.py) -> rename to canonical names -> add typed companions in one
pass (normalise.stage) -> pandera schemas built from the catalog, lazy=True (schemas.py) -> select the typed
columns (normalise.finalise).  The file goes through these steps in chunks of ``chunk_rows`` rows (default
1 million, ``MONITOR_INGEST_CHUNK_ROWS``), so memory depends on the chunk, not on the file; failures are
counted over the whole file and duplicate keys are found by hashing (docs/ingest.md, "Chunked ingest").
The gate blocks only on what the monitor uses (roles.py, docs/ingest.md "Column roles"): an unreadable file or
a failed rule of a *key* column (missing or invalid) or of a *used* column (invalid) is an
:class:`IngestError` whose message names the file, column and rule, one line per failure.  A missing used or
unused column, or an invalid value in an unused column, is a warning (``IngestResult.warnings``, same format):
the file is ingested, a missing column as a typed empty column (``IngestResult.missing_columns``), invalid
unused values as empty.  Pure Python/polars, no Dagster.
"""

from __future__ import annotations

import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from monitor_dagster.catalog import Catalog, Match
from monitor_dagster.ingest.normalise import (
    KEY_HASH,
    PERSON_KEY,
    TYPED,
    canonical_renames,
    column_rule,
    csv_numeric,
    finalise,
    output_dtype,
    person_columns,
    stage,
    typed_name,
)
from monitor_dagster.ingest.keyhash import KeyHashes
from monitor_dagster.ingest.row_rules import check_rows
from monitor_dagster.ingest.readers import (
    UTF8,
    CsvFormatError,
    ReadError,
    check_header,
    check_no_inner_bom,
    check_sav_text,
    collect_chunks,
    csv_header,
    file_rows,
    positive_int_env,
    scan_raw,
    transcode_to_utf8,
    utf8_failure,
)
from monitor_dagster.ingest.roles import column_roles, role_table
from monitor_dagster.ingest.schemas import (
    RULE_MISSING_OPTIONAL,
    SchemaFailure,
    build_gate,
    build_schema,
    duplicate_failure,
    merge_failures,
    rows_failure,
    validate,
)
from monitor_dagster.parquet_append import AppendingParquetWriter

__all__ = ["ingest_file", "IngestResult", "IngestError", "SchemaFailure", "build_schema", "build_gate",
           "column_roles", "expected_dtypes", "PERSON_KEY", "DEFAULT_CHUNK_ROWS", "CHUNK_ROWS_ENV",
           "chunk_rows_default"]

#: rows per chunk (docs/ingest.md, "Chunked ingest"): measured on 28 M SPOLIS rows, the time is the same for
#: 0.5, 1 and 2 M rows, the peak 2.2, 2.7 and 3.9 GB (polars reads a few chunks ahead)
DEFAULT_CHUNK_ROWS = 1_000_000
CHUNK_ROWS_ENV = "MONITOR_INGEST_CHUNK_ROWS"
#: row groups per chunk of a person-keyed file: the chunk is sorted by person first, so each row group holds a
#: slice of the persons and a core bucket's person range skips the others by their statistics (docs/ingest.md,
#: "Sorted chunks"); not below :data:`MIN_ROW_GROUP_ROWS` rows
ROW_GROUPS_PER_CHUNK = 8
MIN_ROW_GROUP_ROWS = 50_000
#: the largest chunk: polars' row index is 32 bits, so a slice of more rows fails with "OverflowError: number
#: too large to fit in target type" and a parquet row group of more rows panics; a chunk this size holds any
#: file polars can read (``MONITOR_INGEST_CHUNK_ROWS=10000000000``, "never chunk", means this)
MAX_CHUNK_ROWS = 2 ** 32 - 1

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())   # a library: warnings show where the application configures logging


class IngestError(Exception):
    """A landed file failed the ingest; ``failures`` lists every blocking failed rule, ``warnings`` the
    non-blocking ones found as well (unused columns, missing used columns)."""

    def __init__(self, message: str, failures: list[SchemaFailure] | None = None,
                 warnings: list[SchemaFailure] | None = None):
        super().__init__(message)
        self.message = message
        self.failures: list[SchemaFailure] = list(failures or [])
        self.warnings: list[SchemaFailure] = list(warnings or [])

    def __str__(self) -> str:
        return self.message


@dataclass
class IngestResult:
    frame: pl.DataFrame | None          # None when the ingest wrote the frame to a file (``out``)
    rows: int
    columns: int
    seconds: float
    rows_per_second: float
    months_covered: int | None
    provisional: bool
    release_id: str
    source: str
    extra_columns: list[str] = field(default_factory=list)     # columns not in the catalog: dropped, a warning
    timings: dict[str, float] = field(default_factory=dict)   # read_and_parse / validate / finalise (/ write) s
    warnings: list[SchemaFailure] = field(default_factory=list)   # non-blocking failures (docs/ingest.md)
    missing_columns: list[str] = field(default_factory=list)      # catalog columns the file lacks (now empty)
    schema: dict[str, pl.DataType] = field(default_factory=dict)  # column -> dtype of the normalised frame
    chunks: int = 1                                               # chunks the file was read in

    @property
    def label(self) -> str:
        return f"{self.release_id} ({self.source})"

    def warning_lines(self) -> list[str]:
        """One line per warning: ``<release> (<file>): column X: <rule> (n rows, e.g. ...)``."""
        return [w.describe(self.label) for w in self.warnings]

    def metadata(self) -> dict:
        """Plain values for asset metadata (the frame itself excluded)."""
        return {"rows": self.rows, "columns": self.columns, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows_per_second), "months_covered": self.months_covered,
                "provisional": self.provisional, "release_id": self.release_id, "source": self.source,
                "extra_columns": list(self.extra_columns), "missing_columns": list(self.missing_columns),
                "warnings": self.warning_lines()}


def _label(match: Match) -> str:
    return f"{match.release_id} ({match.relpath})"


def _raise(match: Match, failures: list[SchemaFailure], warnings: list[SchemaFailure]) -> None:
    head = f"{_label(match)}: {len(failures)} schema failure{'s' if len(failures) != 1 else ''}"
    lines = [head] + ["  " + f.describe(_label(match)) for f in failures]
    if warnings:
        lines += [f"{_label(match)}: {len(warnings)} warning{'s' if len(warnings) != 1 else ''} (not blocking)"]
        lines += ["  " + w.describe(_label(match)) for w in warnings]
    raise IngestError("\n".join(lines), failures, warnings)


def _role_note(role: str, why: str | None = None) -> str:
    return f"role {role}" + (f": {why}" if why else "")


def expected_dtypes(match: Match, catalog: Catalog) -> dict[str, pl.DataType]:
    """Column -> dtype of the normalised frame (catalog columns only; columns not in the catalog are dropped)."""
    cols = catalog.entry(match.entry).columns_for(match.period)
    pk = person_columns(cols)
    out: dict[str, pl.DataType] = {}
    for name, spec in cols.items():
        if pk and name == pk[1]:
            out[PERSON_KEY] = pl.Int64()
        else:
            out[name] = output_dtype(spec)
    return out


def _months_covered(last, period: int | None) -> int | None:
    """Months of the period a release covers, from the latest date in its provisional column."""
    if last is None:
        return None
    if period is None:
        return last.month
    if last.year > period:
        return 12
    if last.year < period:
        return 0
    return last.month


def chunk_rows_default() -> int:
    """Rows per chunk: ``MONITOR_INGEST_CHUNK_ROWS`` if set (read per call, never at import), else
    :data:`DEFAULT_CHUNK_ROWS`."""
    return positive_int_env(CHUNK_ROWS_ENV, DEFAULT_CHUNK_ROWS)


class _ParquetSink:
    """Appends normalised chunks to one parquet file, each chunk of a person-keyed file sorted by person and cut
    into :data:`ROW_GROUPS_PER_CHUNK` row groups.  A file that arrives in one chunk is written by polars'
    ``write_parquet`` exactly as ``Warehouse.write`` writes a frame; from the second chunk on, pyarrow's
    ``ParquetWriter`` appends row groups (polars has no appending parquet writer for DataFrames), with the
    schema of the first chunk, which polars reads back with the same dtypes (Enum included).  A chunk is
    encoded in the background while the next one is read and validated (:mod:`parquet_append`)."""

    def __init__(self, path: Path, row_group_rows: int | None = None):
        self.path = Path(path)
        self.row_group_rows = row_group_rows
        self.first: pl.DataFrame | None = None
        self.writer: AppendingParquetWriter | None = None

    @staticmethod
    def order(frame: pl.DataFrame) -> pl.DataFrame:
        """A chunk by person (stable: a person's rows keep their file order), so that the row groups of a
        national file each hold a slice of the persons: a core bucket then reads about a fifth of SPOLIS instead
        of decoding all of it (0.9 -> 0.2 s for 1/17 of 28 M rows; docs/ingest.md).  The caller rebinds its
        chunk to the result, so the unsorted copy is gone before the chunk is encoded."""
        return frame.sort(PERSON_KEY, maintain_order=True) if PERSON_KEY in frame.columns else frame

    def add(self, frame: pl.DataFrame) -> None:
        """Append a chunk already put in order by :meth:`order`."""
        if self.writer is None and self.first is None:
            self.first = frame
            return
        if self.writer is None:
            self.writer = AppendingParquetWriter(self.path, row_group_size=self.row_group_rows, compression="zstd")
            self.writer.write(self.first.to_arrow())
            self.first = None
        self.writer.write(frame.to_arrow())

    def close(self, empty: pl.DataFrame) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()
        else:
            (self.first if self.first is not None else empty).write_parquet(self.path, compression="zstd",
                                                                           statistics=True)
            self.first = None

    def discard(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.abort()
        self.first = None
        self.path.unlink(missing_ok=True)


class _FrameSink:
    """Keeps the normalised chunks and hands back one frame (the chunk itself when there is only one)."""

    def __init__(self):
        self.parts: list[pl.DataFrame] = []

    @staticmethod
    def order(frame: pl.DataFrame) -> pl.DataFrame:
        """The in-memory frame keeps file order (only the warehouse copy is sorted, :meth:`_ParquetSink.order`)."""
        return frame

    def add(self, frame: pl.DataFrame) -> None:
        self.parts.append(frame)

    def frame(self, empty: pl.DataFrame) -> pl.DataFrame:
        if not self.parts:
            return empty
        return self.parts[0] if len(self.parts) == 1 else pl.concat(self.parts, how="vertical")


@dataclass
class _Pass:
    """What one pass over the chunks of a file found (failures and warnings over the whole file)."""
    schema: pl.Schema
    problems: list[str]
    extras: list[str]                     # columns not in the catalog (dropped, reported as a warning)
    rows: int = 0
    failures: list[SchemaFailure] = field(default_factory=list)
    unused_failures: list[SchemaFailure] = field(default_factory=list)
    row_warnings: list[SchemaFailure] = field(default_factory=list)   # row rules of severity warning
    hashes: KeyHashes = field(default_factory=KeyHashes)
    last: object = None                   # latest date of the provisional column
    first: object = None                  # earliest date of the provisional column
    out_schema: pl.Schema | None = None
    empty: pl.DataFrame | None = None     # the normalised frame with no rows (its schema)


def _ingest_survey(path: Path, match: Match, instrument: str, out: Path | None, t0: float) -> IngestResult:
    """A survey's response export (catalog ``form``): the schema is the instrument's XLSForm of the wave
    (surveys/schema.py; technisch rapport Monitor gelijke kansen, §3.1: the items are asked the same way at every
    measurement, so the form is the export's contract).  Every failure is one line naming the file, question,
    row and value; a wave without a packaged form is refused rather than read against another wave's form."""
    from monitor_dagster.surveys.schema import ResponseError, read_responses
    from monitor_dagster.surveys.xlsform import FormError
    from monitor_dagster.surveys.xlsform import form as survey_form

    label = _label(match)
    try:
        f = survey_form(instrument, str(match.period))
    except FormError as exc:
        failure = SchemaFailure(match.relpath, None, f"no form for this wave: {exc}", 0, [])
        raise IngestError(f"{label}: no form for this wave: {exc}", [failure]) from None
    t = time.perf_counter()
    try:
        frame = read_responses(path, f)
    except ResponseError as exc:
        failures = [SchemaFailure(match.relpath, x.question,
                                  (f"row {x.row}: " if x.row is not None else "") + x.rule,
                                  1 if x.row is not None else 0, [] if x.value is None else [x.value])
                    for x in exc.failures]
        head = f"{label}: {len(failures)} schema failure{'s' if len(failures) != 1 else ''} (form {f.instrument} {f.wave})"
        # the form's own lines: '<file>: question q, row n: value 'v' <rule>' (the file as landed)
        lines = [head] + ["  " + x.describe().replace(x.file, match.relpath, 1) for x in exc.failures]
        raise IngestError("\n".join(lines), failures) from None
    return _whole_file_result(frame, match, out, t0,
                              {"read_and_parse": 0.0, "validate": time.perf_counter() - t, "finalise": 0.0})


def _whole_file_result(frame: pl.DataFrame, match: Match, out: Path | None, t0: float,
                       timings: dict | None = None) -> IngestResult:
    """The result of a file read whole by a reader of its own (survey export, published figures: small files):
    no rows is a failure; written to ``out`` when given."""
    if frame.height == 0:
        _raise(match, [rows_failure(match.relpath)], [])
    timings = dict(timings or {})
    if out is not None:
        t = time.perf_counter()
        frame.write_parquet(out, compression="zstd", statistics=True)
        timings["write"] = time.perf_counter() - t
    seconds = time.perf_counter() - t0
    return IngestResult(frame=None if out is not None else frame, rows=frame.height, columns=frame.width,
                        seconds=seconds, rows_per_second=frame.height / seconds if seconds > 0 else float("inf"),
                        months_covered=None, provisional=False, release_id=match.release_id, source=match.relpath,
                        schema=dict(frame.schema), timings=timings)


def _ingest_published(path: Path, match: Match, out: Path | None, t0: float) -> IngestResult:
    """Figures another body published (catalog ``published``: NEA, WEA tables; surveys/published.py), typed in as
    the published-figures CSV; each problem names the row, its line and the column."""
    from monitor_dagster.surveys.published import PublishedFormatError, read_published

    label = _label(match)
    try:
        frame = read_published(path)
    except PublishedFormatError as exc:
        failures = [SchemaFailure(match.relpath, None, e, 0, []) for e in exc.errors]
        lines = [f"{label}: {len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''} in the published-figures format"]
        lines += [f"  {match.relpath}: {e}" for e in exc.errors]
        raise IngestError("\n".join(lines), failures) from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        failure = SchemaFailure(match.relpath, None, f"cannot read the file: {exc}", 0, [])
        raise IngestError(f"{label}: cannot read the file: {exc}", [failure]) from None
    return _whole_file_result(frame, match, out, t0)


def _check_vacancies(path: Path, match: Match) -> None:
    """The vacancy gate (vacancies/schema.read_vacancies) before the catalog's: ISO dates (datum_gevonden in the
    file's year), the code lists of overheidslaag, regio and opleidingsniveau, hours 1..80, which the catalog's
    column types cannot say (the
    entry holds them as str, data_catalog.yaml).  Each failure names file, column, row and rule."""
    from monitor_dagster.vacancies.schema import VacancyFileError, read_vacancies

    try:
        read_vacancies(path, year=match.period)
    except VacancyFileError as exc:
        failures = []
        for line in exc.failures:
            col = line.split(":", 1)[0].removeprefix("column ") if line.startswith("column ") else None
            failures.append(SchemaFailure(match.relpath, col, line, 0, []))
        lines = [f"{_label(match)}: {len(exc.failures)} failure{'s' if len(exc.failures) != 1 else ''} of the vacancy gate"]
        lines += [f"  {match.relpath}: {f}" for f in exc.failures]
        raise IngestError("\n".join(lines), failures) from None


def ingest_file(path: Path, match: Match, catalog: Catalog, *, chunk_rows: int | None = None,
                out: Path | None = None) -> IngestResult:
    """Read, validate and normalise one landed file (see the module docstring); raises IngestError.

    The file is read, validated and normalised in chunks of ``chunk_rows`` rows (default
    :func:`chunk_rows_default`), so a national file is never held whole (docs/ingest.md, "Chunked ingest");
    failures are counted over the whole file.  Without ``out`` the result holds the normalised frame; with
    ``out`` each normalised chunk is appended to that parquet file instead (``IngestResult.frame`` is None),
    and the file is removed again when the ingest fails."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {"read_and_parse": 0.0, "validate": 0.0, "finalise": 0.0}
    chunk_rows = chunk_rows_default() if chunk_rows is None else int(chunk_rows)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    chunk_rows = min(chunk_rows, MAX_CHUNK_ROWS)
    entry = catalog.entry(match.entry)
    if entry.form is not None:
        return _ingest_survey(Path(path), match, entry.form, out, t0)
    if entry.published:
        return _ingest_published(Path(path), match, out, t0)
    if entry.content_gate == "vacancies":   # catalog ``content_gate``: the Jobfeed export (issue 20)
        _check_vacancies(Path(path), match)
    columns = entry.columns_for(match.period)
    open_end = tuple(catalog.sentinels.open_end)
    unique = tuple(entry.unique or ())
    label = _label(match)
    why = role_table(catalog)[entry.name]
    roles = {c: r.role for c, r in why.items()}
    # the whole-file checks (rows, unique) run over all chunks below, not per chunk
    gate = build_gate(entry, match.period, catalog, roles, frame_checks=False)
    provisional_col = entry.provisional.column if entry.provisional is not None else None
    sink = _ParquetSink(Path(out), max(chunk_rows // ROW_GROUPS_PER_CHUNK, MIN_ROW_GROUP_ROWS)) \
        if out is not None else _FrameSink()

    read_path = Path(path)        # a UTF-8 transcoded copy for a CSV declared in another encoding

    def staged_scan(numeric: dict[str, pl.DataType] | None, lossy: bool) -> tuple[pl.LazyFrame, list[str]]:
        scan = scan_raw(read_path, match.ext, numeric, lossy, entry.csv)
        renames, problems = canonical_renames(scan.collect_schema().names(), entry, match.period)
        if renames:
            scan = scan.rename(renames)
        return stage(scan, columns, open_end, unique), problems

    def chunks(lf: pl.LazyFrame, rows: int | None):
        """The staged chunks (``rows``: the file's declared row count, if any: readers.collect_chunks); the
        time spent in the reader counts as read_and_parse."""
        it = collect_chunks(lf, chunk_rows, rows)
        while True:
            t = time.perf_counter()
            chunk = next(it, None)
            timings["read_and_parse"] += time.perf_counter() - t
            if chunk is None:
                return
            yield chunk
            del chunk            # each level lets go of a chunk before the next one is read

    def one_pass(numeric: dict[str, pl.DataType] | None, lossy: bool) -> _Pass:
        for k in timings:
            timings[k] = 0.0
        if isinstance(sink, _ParquetSink):
            sink.discard()
        else:
            sink.parts.clear()
        t = time.perf_counter()
        lf, problems = staged_scan(numeric, lossy)
        schema = lf.collect_schema()
        rows = file_rows(read_path, match.ext)
        timings["read_and_parse"] += time.perf_counter() - t
        extras = [c for c in schema if c not in columns and not c.startswith(TYPED) and c != KEY_HASH]
        if extras:              # unknown columns are dropped (docs/ingest.md): not even parsed by the reader
            lf = lf.select([c for c in schema if c not in extras])
            schema = lf.collect_schema()
        res = _Pass(schema=schema, problems=problems, extras=extras,
                    hashes=KeyHashes(Path(out).parent if out is not None else None))
        stack.callback(res.hashes.close)        # the spilled key hashes go, whatever happens
        res.empty = finalise(pl.DataFrame(schema=schema), columns, [])
        seen = False
        for chunk in chunks(lf, rows):
            seen = True
            process(res, chunk)
            del chunk
        if not seen:            # no rows: the schema still names missing columns (and the rows rule fails)
            process(res, pl.DataFrame(schema=schema))
        t = time.perf_counter()
        if res.rows == 0:
            res.failures.append(rows_failure(match.relpath))
        if KEY_HASH in schema:
            dups = res.hashes.repeated()
            if dups.len():
                # rare: a second pass keeps the rows whose key hash repeats (raw and typed key columns) and
                # compares them exactly; memory is proportional to those rows
                keys = [k for k in unique if k in schema] + [typed_name(k) for k in unique if typed_name(k) in schema]
                read = timings["read_and_parse"]
                cand = [c.filter(pl.col(KEY_HASH).is_in(dups.implode())).select(keys) for c in chunks(lf, rows)]
                t += timings["read_and_parse"] - read      # that reading counts as read_and_parse
                dup = duplicate_failure(pl.concat(cand) if cand else pl.DataFrame(), match.relpath, unique)
                if dup is not None:
                    res.failures.append(dup)
        timings["validate"] += time.perf_counter() - t
        return res

    def process(res: _Pass, chunk: pl.DataFrame) -> None:
        """Gate one chunk (failures merged into ``res``); if the file is not blocked, normalise and keep it."""
        t = time.perf_counter()
        res.rows += chunk.height
        unused: list[SchemaFailure] = []
        if not gate.passes(chunk):      # one query for a clean chunk; pandera names the failures of others
            merge_failures(res.failures, validate(gate.blocking, chunk, match.relpath, unique))
            unused = validate(gate.warning, chunk, match.relpath, unique)
            merge_failures(res.unused_failures, unused)
        if entry.row_rules:             # rules across columns (row_rules.py): a SPOLIS period inside one month
            blocked, warned = check_rows(entry.row_rules, chunk, match.relpath, match.period, roles)
            merge_failures(res.failures, blocked)
            merge_failures(res.row_warnings, warned)
        if KEY_HASH in chunk.columns:
            res.hashes.add(chunk.get_column(KEY_HASH))
        timings["validate"] += time.perf_counter() - t
        if res.failures or res.problems:
            return              # the file is blocked: go on only to count failures over the whole file
        t = time.perf_counter()
        invalid = {}
        for w in unused:        # invalid values of unused columns become empty (docs/ingest.md)
            if w.column in columns and w.column in res.schema:
                rule = column_rule(w.column, res.schema[w.column], columns[w.column], open_end)
                if rule is not None:
                    invalid[w.column] = rule.expr
        frame = finalise(chunk, columns, [], invalid)
        del chunk
        if provisional_col is not None and provisional_col in frame.columns and frame.height:
            last = frame.get_column(provisional_col).max()
            if last is not None and (res.last is None or last > res.last):
                res.last = last
            first = frame.get_column(provisional_col).min()
            if first is not None and (res.first is None or first < res.first):
                res.first = first
        if res.out_schema is None:
            res.out_schema = frame.schema
        frame = sink.order(frame)       # rebound: one copy of the chunk in memory, not two
        sink.add(frame)
        timings["finalise"] += time.perf_counter() - t

    stack = ExitStack()
    try:
        try:
            if match.ext == "csv":
                fmt = entry.csv
                # the declared separator and encoding (catalog ``csv``): a wrong one is named, not reported as
                # every column missing or ingested as mojibake
                check_header(read_path, fmt, entry.name)
                if fmt.encoding == UTF8:
                    check_no_inner_bom(read_path, fmt.separator)
                if fmt.encoding != UTF8:
                    # polars reads UTF-8 only: a transcoded copy next to the output (same volume), removed after
                    tmp = stack.enter_context(tempfile.TemporaryDirectory(
                        prefix=".transcode-", dir=Path(out).parent if out is not None else None))
                    read_path = Path(tmp) / "utf8.csv"
                    transcode_to_utf8(Path(path), fmt.encoding, read_path, fmt.separator, entry.name)
                # optimistic: the CSV reader parses the catalog's numeric columns itself; if any value does not
                # parse, read everything as strings and let the schema name each value.  In chunks the bad
                # value may sit in a late chunk: the pass starts again from the top.  A UTF-8 copy with
                # invalid bytes fails here too: it is refused with the line and byte (checked only now, so
                # a good file is read once).
                try:
                    res = one_pass(csv_numeric(csv_header(read_path, fmt), entry, match.period), False)
                except ReadError:
                    bad = utf8_failure(read_path, fmt.separator, entry.name) if fmt.encoding == UTF8 else None
                    if bad is not None:
                        raise bad from None
                    res = one_pass(None, False)
            else:
                if match.ext == "sav":
                    check_sav_text(Path(path))       # text in the declared encoding, or refused naming the column
                res = one_pass(None, False)
        except ReadError as exc:
            failure = SchemaFailure(match.relpath, None, f"cannot read the file: {exc}", 0, [])
            raise IngestError(f"{label}: cannot read the file: {exc}", [failure]) from None
        except CsvFormatError as exc:
            _raise(match, [SchemaFailure(match.relpath, exc.column, exc.rule, 0, [])], [])

        failures = [SchemaFailure(match.relpath, None, f"column names clash: {p}", 0, []) for p in res.problems]
        failures += res.failures
        # used and unused columns the file lacks: a warning each (a missing key column is a failure above)
        missing = [c for c in columns if c not in res.schema and gate.roles[c] != "key"]
        warnings = [SchemaFailure(match.relpath, c,
                                  f"{RULE_MISSING_OPTIONAL} ({_role_note(gate.roles[c], why[c].why)})", 0, [])
                    for c in missing]
        warnings += [SchemaFailure(w.file, w.column, f"{w.rule}; set to empty ({_role_note('unused')})", w.count,
                                   w.examples) for w in res.unused_failures]
        warnings += res.row_warnings
        if res.extras:          # one line for all of them (a real SPOLIS file has ~100)
            warnings.append(SchemaFailure(
                match.relpath, ", ".join(res.extras),
                f"not in the catalog; dropped ({len(res.extras)} unknown column{'s' if len(res.extras) != 1 else ''}; "
                f"declare {'it' if len(res.extras) == 1 else 'them'} under files.{entry.name}.columns in "
                f"data_catalog.yaml to keep {'it' if len(res.extras) == 1 else 'them'})", 0, []))
        if (entry.provisional is not None and match.period is not None and res.last is not None
                and (res.last.year < match.period or res.first.year > match.period)):
            # a file of another year under this year's name (copied into the wrong folder, renamed): an earlier
            # one read as a part-year release covering 0 months, a later one as a full year, and either replaced
            # the year (audits of December 2026: a SPOLIS 2020 as 2019V2 emptied job_months 2019, exit 0)
            which = (f"the latest date is {res.last.isoformat()}" if res.last.year < match.period
                     else f"the earliest date is {res.first.isoformat()}")
            failures.append(SchemaFailure(
                match.relpath, provisional_col,
                f"no row dated in {match.period}, the year of the file's name: {which} (a file of another year?)",
                res.rows, [(res.last if res.last.year < match.period else res.first).isoformat()]))
        if failures:
            _raise(match, failures, warnings)
        for w in warnings:
            log.warning(w.describe(label))

        t = time.perf_counter()
        if isinstance(sink, _ParquetSink):
            sink.close(res.empty)
            frame = None
            timings["write"] = time.perf_counter() - t
        else:
            frame = sink.frame(res.empty)
            timings["finalise"] += time.perf_counter() - t
    except BaseException:
        if isinstance(sink, _ParquetSink):
            sink.discard()
        raise
    finally:
        stack.close()           # the transcoded copy, if any

    out_schema = res.out_schema if res.out_schema is not None else res.empty.schema
    months = None
    provisional = False
    if entry.provisional is not None:
        months = _months_covered(res.last, match.period)
        provisional = months is not None and months < entry.provisional.full_month
    seconds = time.perf_counter() - t0
    return IngestResult(frame=frame, rows=res.rows, columns=len(out_schema), seconds=seconds,
                        rows_per_second=res.rows / seconds if seconds > 0 else float("inf"),
                        months_covered=months, provisional=provisional, release_id=match.release_id,
                        source=match.relpath, extra_columns=res.extras, timings=timings, warnings=warnings,
                        missing_columns=missing, schema=dict(out_schema), chunks=-(-res.rows // chunk_rows))
