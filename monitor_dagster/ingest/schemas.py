"""The schema gate: pandera (polars backend) schemas built from the catalog for one (entry, period).

``build_gate(entry, period, catalog, roles)`` turns every catalog column into a ``pandera.polars.Column``
with one custom check (a polars expression, see normalise.column_rule) and splits them by role
(ingest/roles.py): the *blocking* schema holds the key and used columns (only key columns ``required``) plus
two frame-level checks, ``unique`` (the entry's key columns identify a row) and ``rows`` (at least one row);
the *warning* schema holds the unused columns, whose failures the ingest reports as warnings.
``build_schema`` is the blocking one.  Both validate the *staged* frame: the raw columns as delivered plus
their typed companions ``__t__<col>`` (normalise.stage), so a check is a cheap comparison of raw and parsed
value, and failure cases show the raw value.

``validate(schema, staged, label)`` runs pandera with ``lazy=True`` (all failures collected) and returns a
list of :class:`SchemaFailure`, each naming the file, column and rule with a count and examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaErrorReason, SchemaErrors

from monitor_dagster.catalog import Catalog, Column, Entry
from monitor_dagster.ingest.normalise import KEY_HASH, column_rule, typed_name
from monitor_dagster.ingest.roles import Role, column_roles

N_EXAMPLES = 5
N_FAILURE_CASES = 200      # pandera keeps this many failure cases per check (the count comes from all rows)
CHECK_OUTPUT = "check_output"

RULE_MISSING_COLUMN = "required column missing"
RULE_MISSING_OPTIONAL = "column missing; ingested as an empty column"
RULE_UNIQUE = "duplicate key (the unique columns do not identify a row)"
RULE_ROWS = "no rows (at least one row required)"


@dataclass
class SchemaFailure:
    """One failed rule of one file.  ``file``: the landing path (relative); ``column`` None for file-level
    rules (no rows, unreadable), the comma-joined key columns for duplicates; ``count``: failing rows
    (0 where rows do not apply); ``examples``: up to five distinct raw values (dicts for keys)."""
    file: str
    column: str | None
    rule: str
    count: int
    examples: list[Any] = field(default_factory=list)

    def describe(self, label: str | None = None) -> str:
        """One line: ``<label or file>: column SECM: value not in code list (1 row, e.g. '99')``."""
        if self.column is None:
            where = "file"
        elif "," in self.column:
            where = f"columns {self.column}"
        else:
            where = f"column {self.column}"
        text = f"{label or self.file}: {where}: {self.rule}"
        detail = []
        if self.count:
            detail.append(f"{self.count:,} row{'s' if self.count != 1 else ''}")
        if self.examples:
            detail.append("e.g. " + ", ".join(_show(x) for x in self.examples))
        return text + (f" ({', '.join(detail)})" if detail else "")


def _show(x: Any) -> str:
    if x is None:
        return "empty"
    if isinstance(x, dict):
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in x.items()) + ")"
    return repr(x)


# --------------------------------------------------------------------------------------------- checks
def _column_check(data: PolarsData, *, spec: Column, open_end: tuple[str, ...]) -> pl.LazyFrame:
    dtype = data.lazyframe.collect_schema()[data.key]
    rule = column_rule(data.key, dtype, spec, open_end)
    return data.lazyframe.select(rule.expr.alias(CHECK_OUTPUT))


def _unique_check(data: PolarsData, *, keys: tuple[str, ...]) -> pl.LazyFrame | bool:
    """Rows are unique on ``keys`` (typed values: '0123' and '123' are the same person).

    Fast path: equal keys have equal hashes, so no two equal 64-bit hashes (``__key__``, computed while
    reading) proves uniqueness: a sort of one UInt64 column, ~0.15 s for 7 M rows against ~0.8 s for
    ``is_duplicated`` on the key columns.  Only when that fails (duplicates, or a hash collision) are the rows
    compared exactly."""
    lf = data.lazyframe
    names = lf.collect_schema().names()
    if any(k not in names for k in keys):
        return True        # a missing key column is reported by the presence check, not as duplicates
    cols = [typed_name(k) if typed_name(k) in names else k for k in keys]
    if KEY_HASH in names:
        h = pl.col(KEY_HASH).sort()
        if not lf.select((h == h.shift(1)).any()).collect().item():
            return True
    return lf.select(pl.struct(cols).is_duplicated().not_().alias(CHECK_OUTPUT))


def _rows_check(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select((pl.len() > 0).alias(CHECK_OUTPUT))


@dataclass
class Gate:
    """The two schemas of one (entry, period): ``blocking`` (key and used columns, the unique key, at least
    one row; a failure blocks the file) and ``warning`` (unused columns; a failure is a warning).  ``roles``:
    column -> key | used | unused for the period's columns."""
    blocking: pa.DataFrameSchema
    warning: pa.DataFrameSchema
    roles: dict[str, Role]
    #: the catalog columns of the period and the open-end sentinels: the rules of :meth:`passes`
    columns: dict[str, Column] = field(default_factory=dict)
    open_end: tuple[str, ...] = ()

    def passes(self, staged: pl.DataFrame) -> bool:
        """Whether both schemas pass ``staged`` (no failure, no warning), proven by one polars query.

        pandera's polars backend runs one query per check: about 25 for a SPOLIS chunk, 0.35 s per million
        rows against 0.07 s for the same rule expressions (normalise.column_rule, the very ones the checks
        evaluate) in one ``select``; at 125 million rows that is 35 s of a national ingest.  So a chunk that
        passes every rule and has every required column skips pandera; a chunk that does not runs both
        schemas through pandera (:func:`validate`), which names each failure as before.  A null rule outcome
        counts as a failure here, so the fast path can only send more chunks to pandera, never fewer."""
        names = staged.schema
        for schema in (self.blocking, self.warning):
            if any(col.required and name not in names for name, col in schema.columns.items()):
                return False
        exprs = []
        for name in (*self.blocking.columns, *self.warning.columns):
            if name in names and name in self.columns:
                rule = column_rule(name, names[name], self.columns[name], self.open_end)
                if rule is not None:
                    exprs.append(rule.expr.fill_null(False).all().alias(f"_{len(exprs)}"))
        return not exprs or staged.height == 0 or all(staged.select(exprs).row(0))


def _column(name: str, spec: Column, open_end: tuple[str, ...], role: Role) -> pa.Column:
    checks = []
    # the rule text shown in failures is the one column_rule gives for the raw dtype; error= is its summary
    probe = column_rule(name, pl.String(), spec, open_end)
    if probe is not None:
        checks.append(pa.Check(partial(_column_check, spec=spec, open_end=open_end), name=f"{spec.type}:{name}",
                               error=probe.rule, ignore_na=False, n_failure_cases=N_FAILURE_CASES))
    # only key columns are required: a missing used/unused column is found by the ingest (a warning)
    return pa.Column(None, checks=checks, nullable=True, required=role == "key",
                     description=f"{spec.type} ({role}){' (assumed name)' if spec.assumed else ''}",
                     metadata={"type": spec.type, "codes": list(spec.codes or ()), "role": role})


def entry_roles(entry: Entry, catalog: Catalog) -> dict[str, Role]:
    """column -> role of one entry (ingest/roles.py)."""
    return column_roles(catalog)[entry.name]


def build_gate(entry: Entry, period: int | None, catalog: Catalog, roles: dict[str, Role] | None = None,
               frame_checks: bool = True) -> Gate:
    """The blocking and the warning schema of one catalog entry for one period (validate the staged frame).

    ``roles``: column -> key | used | unused (default: :func:`monitor_dagster.ingest.roles.column_roles`); a
    column not in ``roles`` is key (blocking, required), the safe side.  ``frame_checks=False`` leaves out
    the whole-file checks ``rows`` and ``unique``: the chunked ingest runs the schema on each chunk and
    checks those over the whole file itself (:func:`rows_failure`, :func:`duplicate_failure`)."""
    roles = entry_roles(entry, catalog) if roles is None else roles
    open_end = tuple(catalog.sentinels.open_end)
    blocking: dict[str, pa.Column] = {}
    warning: dict[str, pa.Column] = {}
    period_roles: dict[str, Role] = {}
    for name, spec in entry.columns_for(period).items():
        role = roles.get(name, "key")
        period_roles[name] = role
        (warning if role == "unused" else blocking)[name] = _column(name, spec, open_end, role)
    checks = []
    if frame_checks:
        checks.append(pa.Check(_rows_check, name="rows", error=RULE_ROWS, ignore_na=False))
        if entry.unique:
            checks.append(pa.Check(partial(_unique_check, keys=tuple(entry.unique)), name="unique",
                                   error=RULE_UNIQUE, ignore_na=False, n_failure_cases=N_FAILURE_CASES))
    meta = {"entry": entry.name, "period": period, "unique": list(entry.unique or ())}
    name = f"{entry.name}{period or ''}"
    return Gate(
        blocking=pa.DataFrameSchema(blocking, checks=checks, strict=False, name=name,
                                    metadata={**meta, "gate": "blocking"}),
        warning=pa.DataFrameSchema(warning, strict=False, name=f"{name} (warnings)",
                                   metadata={**meta, "gate": "warning"}),
        roles=period_roles,
        columns=dict(entry.columns_for(period)),
        open_end=open_end,
    )


def build_schema(entry: Entry, period: int | None, catalog: Catalog,
                 roles: dict[str, Role] | None = None) -> pa.DataFrameSchema:
    """The blocking pandera schema of one catalog entry for one period: key and used columns (only key
    columns required), the unique key, at least one row.  Unused columns are in :func:`build_gate`'s
    warning schema."""
    return build_gate(entry, period, catalog, roles).blocking


# ----------------------------------------------------------------------------------------- validation
def validate(schema: pa.DataFrameSchema, staged: pl.DataFrame, file: str,
             unique: tuple[str, ...] = ()) -> list[SchemaFailure]:
    """Run the schema (pandera, lazy=True: every failure collected); [] when the frame passes."""
    try:
        with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(staged, lazy=True)
    except SchemaErrors as exc:
        return [_failure(file, se, unique) for se in exc.schema_errors]
    return []


def _count_false(check_output: Any) -> int:
    if isinstance(check_output, pl.DataFrame) and CHECK_OUTPUT in check_output.columns:
        return int(check_output.height - check_output[CHECK_OUTPUT].fill_null(False).sum())
    return 0


def _failure(label: str, se, unique: tuple[str, ...]) -> SchemaFailure:
    reason = se.reason_code
    check = se.check
    name = getattr(check, "name", None) if check is not None and not isinstance(check, str) else check
    if reason == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
        return SchemaFailure(label, str(se.failure_cases), RULE_MISSING_COLUMN, 0, [])
    if reason == SchemaErrorReason.CHECK_ERROR:
        return SchemaFailure(label, se.column_name, f"check {name} could not run: {se.failure_cases}", 0, [])
    fc = se.failure_cases if isinstance(se.failure_cases, pl.DataFrame) else None
    count = _count_false(se.check_output)
    if name == "rows":
        return SchemaFailure(label, None, RULE_ROWS, 0, [])
    if name == "unique":
        examples: list[Any] = []
        if fc is not None:
            cols = [k for k in unique if k in fc.columns]
            examples = fc.select(cols).unique(maintain_order=True).head(N_EXAMPLES).rows(named=True)
        return SchemaFailure(label, ", ".join(unique) or None, RULE_UNIQUE, count, examples)
    column = se.column_name
    rule = getattr(check, "error", None) or str(name or reason)
    examples = []
    if fc is not None and fc.width:
        col = column if column in fc.columns else fc.columns[0]
        examples = fc.get_column(col).unique(maintain_order=True).head(N_EXAMPLES).to_list()
    return SchemaFailure(label, column, rule, count or (len(fc) if fc is not None else 0), examples)


# ------------------------------------------------------------------------------ whole file, chunk by chunk
def merge_failures(into: list[SchemaFailure], more: list[SchemaFailure]) -> None:
    """Add the failures of one more chunk: the same (column, rule) becomes one failure whose count is the sum
    and whose examples are the first distinct ones in file order, so a chunked file reports what the whole
    file read at once would (file-level failures such as a missing column appear once)."""
    index = {(f.column, f.rule): f for f in into}
    for f in more:
        seen = index.get((f.column, f.rule))
        if seen is None:
            f = SchemaFailure(f.file, f.column, f.rule, f.count, list(f.examples)[:N_EXAMPLES])
            index[(f.column, f.rule)] = f
            into.append(f)
            continue
        seen.count += f.count
        for x in f.examples:
            if len(seen.examples) >= N_EXAMPLES:
                break
            if x not in seen.examples:
                seen.examples.append(x)


def rows_failure(file: str) -> SchemaFailure:
    """The file has no rows (the ``rows`` check, over the whole file)."""
    return SchemaFailure(file, None, RULE_ROWS, 0, [])


def duplicate_failure(candidates: pl.DataFrame, file: str, unique: tuple[str, ...]) -> SchemaFailure | None:
    """The exact duplicate-key check of :func:`_unique_check` on ``candidates``: the staged rows (raw and typed
    key columns) of the whole file whose key hash occurs more than once, in file order.  None when no two
    rows share the typed key (then the equal hashes were a collision)."""
    names = candidates.columns
    cols = [typed_name(k) if typed_name(k) in names else k for k in unique]
    if candidates.height < 2 or any(c not in names for c in cols):
        return None
    dup = candidates.select(pl.struct(cols).is_duplicated()).to_series()
    count = int(dup.sum())
    if not count:
        return None
    shown = candidates.filter(dup).select([k for k in unique if k in names])
    examples = shown.unique(maintain_order=True).head(N_EXAMPLES).rows(named=True)
    return SchemaFailure(file, ", ".join(unique) or None, RULE_UNIQUE, count, examples)
