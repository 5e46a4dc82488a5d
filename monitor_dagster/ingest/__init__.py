"""Ingest of one landed CBS file into one normalised polars frame, behind a pandera schema gate.

    from monitor_dagster.ingest import ingest_file, IngestResult, IngestError, SchemaFailure
    result = ingest_file(landing / match.relpath, match, catalog)

Steps (docs/ingest.md): read raw (readers.py) -> rename to canonical names -> add typed companions in one
pass (normalise.stage) -> pandera schemas built from the catalog, lazy=True (schemas.py) -> select the typed
columns (normalise.finalise).  The gate blocks only on what the monitor uses (roles.py, docs/ingest.md
"Column roles"): an unreadable file or a failed rule of a *key* column (missing or invalid) or of a *used*
column (invalid) is an :class:`IngestError` whose message names the file, column and rule, one line per
failure.  A missing used or unused column, or an invalid value in an unused column, is a warning
(``IngestResult.warnings``, same format): the file is ingested, a missing column as a typed empty column
(``IngestResult.missing_columns``), invalid unused values as empty.  Pure Python/polars, no Dagster.
"""

from __future__ import annotations

import logging
import time
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
)
from monitor_dagster.ingest.readers import ReadError, collect, csv_header, scan_raw
from monitor_dagster.ingest.roles import column_roles, role_table
from monitor_dagster.ingest.schemas import (
    RULE_MISSING_OPTIONAL,
    SchemaFailure,
    build_gate,
    build_schema,
    validate,
)

__all__ = ["ingest_file", "IngestResult", "IngestError", "SchemaFailure", "build_schema", "build_gate",
           "column_roles", "expected_dtypes", "PERSON_KEY"]

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
    frame: pl.DataFrame
    rows: int
    columns: int
    seconds: float
    rows_per_second: float
    months_covered: int | None
    provisional: bool
    release_id: str
    source: str
    extra_columns: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # read_and_parse / validate / finalise seconds
    warnings: list[SchemaFailure] = field(default_factory=list)   # non-blocking failures (docs/ingest.md)
    missing_columns: list[str] = field(default_factory=list)      # catalog columns the file lacks (now empty)

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
    """Column -> dtype of the normalised frame (catalog columns only; extra columns are String)."""
    cols = catalog.entry(match.entry).columns_for(match.period)
    pk = person_columns(cols)
    out: dict[str, pl.DataType] = {}
    for name, spec in cols.items():
        if pk and name == pk[1]:
            out[PERSON_KEY] = pl.Int64()
        else:
            out[name] = output_dtype(spec)
    return out


def _months_covered(frame: pl.DataFrame, column: str, period: int | None) -> int | None:
    if column not in frame.columns or frame.height == 0:
        return None
    last = frame.get_column(column).max()
    if last is None:
        return None
    if period is None:
        return last.month
    if last.year > period:
        return 12
    if last.year < period:
        return 0
    return last.month


def ingest_file(path: Path, match: Match, catalog: Catalog) -> IngestResult:
    """Read, validate and normalise one landed file (see the module docstring); raises IngestError."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    entry = catalog.entry(match.entry)
    columns = entry.columns_for(match.period)
    open_end = tuple(catalog.sentinels.open_end)
    label = _label(match)

    def load(numeric: dict[str, pl.DataType] | None, lossy: bool = False) -> tuple[pl.DataFrame, list[str]]:
        scan = scan_raw(Path(path), match.ext, numeric, lossy)
        renames, problems = canonical_renames(scan.collect_schema().names(), entry, match.period)
        if renames:
            scan = scan.rename(renames)
        return collect(stage(scan, columns, open_end, tuple(entry.unique or ()))), problems

    try:
        if match.ext == "csv":
            # optimistic: the CSV reader parses the catalog's numeric columns itself; if any value does not
            # parse (or the file is not UTF-8), read everything as strings and let the schema name each value
            try:
                staged, problems = load(csv_numeric(csv_header(Path(path)), entry, match.period))
            except ReadError:
                staged, problems = load(None, lossy=True)
        else:
            staged, problems = load(None)
    except ReadError as exc:
        failure = SchemaFailure(match.relpath, None, f"cannot read the file: {exc}", 0, [])
        raise IngestError(f"{label}: cannot read the file: {exc}", [failure]) from None
    timings["read_and_parse"] = time.perf_counter() - t0

    t = time.perf_counter()
    unique = tuple(entry.unique or ())
    why = role_table(catalog)[entry.name]
    gate = build_gate(entry, match.period, catalog, {c: r.role for c, r in why.items()})
    failures = [SchemaFailure(match.relpath, None, f"column names clash: {p}", 0, []) for p in problems]
    failures += validate(gate.blocking, staged, match.relpath, unique)
    # used and unused columns the file lacks: a warning each (a missing key column is a failure above)
    missing = [c for c in columns if c not in staged.columns and gate.roles[c] != "key"]
    warnings = [SchemaFailure(match.relpath, c, f"{RULE_MISSING_OPTIONAL} ({_role_note(gate.roles[c], why[c].why)})",
                              0, []) for c in missing]
    unused_failures = validate(gate.warning, staged, match.relpath, unique)
    warnings += [SchemaFailure(w.file, w.column, f"{w.rule}; set to empty ({_role_note('unused')})", w.count,
                               w.examples) for w in unused_failures]
    timings["validate"] = time.perf_counter() - t
    if failures:
        _raise(match, failures, warnings)
    for w in warnings:
        log.warning(w.describe(label))

    t = time.perf_counter()
    extras = [c for c in staged.columns if c not in columns and not c.startswith(TYPED) and c != KEY_HASH]
    schema = staged.collect_schema()
    invalid = {}
    for w in unused_failures:
        if w.column in columns and w.column in schema:
            rule = column_rule(w.column, schema[w.column], columns[w.column], open_end)
            if rule is not None:
                invalid[w.column] = rule.expr
    frame = finalise(staged, columns, extras, invalid)
    del staged
    timings["finalise"] = time.perf_counter() - t

    months = None
    provisional = False
    if entry.provisional is not None:
        months = _months_covered(frame, entry.provisional.column, match.period)
        provisional = months is not None and months < entry.provisional.full_month
    seconds = time.perf_counter() - t0
    return IngestResult(frame=frame, rows=frame.height, columns=frame.width, seconds=seconds,
                        rows_per_second=frame.height / seconds if seconds > 0 else float("inf"),
                        months_covered=months, provisional=provisional, release_id=match.release_id,
                        source=match.relpath, extra_columns=extras, timings=timings, warnings=warnings,
                        missing_columns=missing)
