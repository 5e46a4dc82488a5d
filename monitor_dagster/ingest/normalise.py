"""Column rules as polars expressions: raw value -> typed value, raw value -> "is this valid?".

The ingest works in one vectorised pass (docs/ingest.md):

1. :func:`canonical_renames` maps raw column names to the catalog's canonical names (the entry's rename maps
   for the period; SPSS names are case-insensitive, so a case-only difference is tolerated too).
2. :func:`stage` adds, for every catalog column present, its typed companion ``__t__<col>`` (parsed with
   ``strict=False``: what does not parse becomes null).  All companions are computed in one ``with_columns``.
3. The pandera schema (schemas.py) checks the staged frame with cheap boolean expressions that compare raw
   and typed columns (:func:`valid_expr`): e.g. a float is bad when the raw value is non-empty and its parse
   is null.  Failure cases therefore show the raw value as delivered.
4. :func:`finalise` selects the typed companions under their canonical names (missing codes -> null, the
   person key; a catalog column the file lacks -> a typed empty column), then the extra columns as strings.

Raw columns can arrive as strings (CSV, SPSS string variables, parquet) or numbers (SPSS numeric variables
are Float64); :func:`as_text` turns numeric codes and dates into their CBS string form first.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from monitor_dagster.catalog import Column, Entry

TYPED = "__t__"                 # prefix of the typed companion columns in the staged frame
KEY_HASH = "__key__"            # hash of the typed unique columns (duplicate-key check)
PERSON_KEY = "person_id"
PERSON_BASE = 10 ** 9           # RINPERSOON has 9 digits: person_id = index(RINPERSOONS) * 1e9 + RINPERSOON
FLAG_TRUE = ("1",)
FLAG_FALSE = ("0", "")


def typed_name(col: str) -> str:
    return TYPED + col


def canonical_renames(raw_columns: list[str], entry: Entry, period: int | None) -> tuple[dict[str, str], list[str]]:
    """Raw -> canonical renames for the columns present, and problems (two raw columns -> one name)."""
    explicit = entry.renames_for(period)
    canon = entry.columns_for(period)
    upper = {k.upper(): v for k, v in explicit.items()}
    upper.update({c.upper(): c for c in canon})
    out: dict[str, str] = {}
    for raw in raw_columns:
        if raw in explicit:
            target = explicit[raw]
        elif raw in canon:
            target = raw
        else:
            target = upper.get(raw.upper(), raw)
        if target != raw:
            out[raw] = target
    problems = []
    final = [out.get(c, c) for c in raw_columns]
    seen: dict[str, str] = {}
    clash: set[str] = set()
    for raw, name in zip(raw_columns, final):
        if name in seen:
            problems.append(f"columns {seen[name]!r} and {raw!r} both map to {name!r}")
            clash.add(name)
        else:
            seen[name] = raw
    # no rename into a clashing name: each column keeps its raw name (the file is refused for the clash).  Until
    # December 2026 only the second one's rename was dropped, so 'rinpersoon' before 'RINPERSOON' still renamed
    # into a duplicate and the read failed with a polars DuplicateError instead of this message
    out = {raw: target for raw, target in out.items() if target not in clash}
    return out, problems


def csv_numeric(header: list[str], entry: Entry, period: int | None) -> dict[str, pl.DataType]:
    """Raw CSV column name -> Int64/Float64 for the catalog's int and float columns (read typed by the
    CSV reader, decimal comma included)."""
    renames, _ = canonical_renames(header, entry, period)
    cols = entry.columns_for(period)
    out: dict[str, pl.DataType] = {}
    for raw in header:
        spec = cols.get(renames.get(raw, raw))
        if spec is not None and spec.type in ("int", "float"):
            out[raw] = pl.Float64() if spec.type == "float" else pl.Int64()
    return out


def as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """The raw column as CBS text: numbers that are whole become '123' (not '123.0'); NaN -> null."""
    c = pl.col(name)
    if dtype == pl.String:
        return c
    if dtype.is_float():
        c = c.fill_nan(None)
        return pl.when(c == c.round(0)).then(c.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(c.cast(pl.String))
    if dtype == pl.Date:
        return c.dt.strftime("%Y%m%d")
    if dtype == pl.Boolean:
        return pl.when(c).then(pl.lit("1")).when(c.not_()).then(pl.lit("0"))
    return c.cast(pl.String)


def _numeric_text(name: str) -> pl.Expr:
    """A string number as CBS writes it in CSV (decimal comma) or as plain text (decimal point)."""
    return pl.col(name).str.strip_chars(" ").str.replace(",", ".", literal=True)


def _codes_allowed(spec: Column) -> list[str]:
    return list(spec.codes or ())


def _missing_text(spec: Column) -> list[str]:
    return [str(m) for m in spec.missing]


def _missing_num(spec: Column) -> list[float]:
    out = []
    for m in spec.missing:
        try:
            out.append(float(m))
        except (TypeError, ValueError):
            pass
    return out


def _code_text(name: str, dtype: pl.DataType, spec: Column) -> pl.Expr:
    t = as_text(name, dtype)
    return t.str.to_uppercase() if spec.case == "upper" else t


def typed_expr(name: str, dtype: pl.DataType, spec: Column, open_end: tuple[str, ...]) -> pl.Expr:
    """Parse the raw column into its normalised dtype; what does not parse (or is a missing code) -> null."""
    c = pl.col(name)
    kind = spec.type
    if kind == "code":
        return _code_text(name, dtype, spec).cast(pl.Enum(_codes_allowed(spec)), strict=False)
    if kind == "date":
        if dtype == pl.Date:
            d = c
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            d = c.dt.date()
        else:
            t = as_text(name, dtype)
            d = pl.when(t.str.len_bytes() == 8).then(t.str.to_date("%Y%m%d", strict=False))
            if spec.open_end and open_end:
                d = pl.when(t.is_in(list(open_end))).then(None).otherwise(d)
        return d
    if kind == "flag":
        t = as_text(name, dtype)
        return (t == "1").fill_null(False)
    if kind == "key":
        v = (c.cast(pl.Int64, strict=False) if dtype == pl.String else as_text(name, dtype).cast(pl.Int64, strict=False))
        return pl.when((v >= 0) & (v < PERSON_BASE)).then(v)
    if kind == "int":
        if dtype == pl.String:
            return _numeric_text(name).cast(pl.Float64, strict=False).pipe(_whole_to_int)
        if dtype.is_float():
            return c.fill_nan(None).pipe(_whole_to_int)
        if dtype.is_integer():
            return c.cast(pl.Int64)
        return c.cast(pl.Int64, strict=False)
    if kind == "float":
        if dtype == pl.String:
            return _numeric_text(name).cast(pl.Float64, strict=False)
        return c.cast(pl.Float64, strict=False).fill_nan(None)
    # str
    return as_text(name, dtype)


def _num(v: float | None) -> str:
    return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))


def _whole_to_int(x: pl.Expr) -> pl.Expr:
    return pl.when(x == x.round(0)).then(x.cast(pl.Int64, strict=False))


def _raw_empty(name: str, dtype: pl.DataType) -> pl.Expr:
    c = pl.col(name)
    if dtype == pl.String:
        return c.is_null() | (c.str.strip_chars(" ") == "")
    if dtype.is_float():
        return c.is_null() | c.is_nan()
    return c.is_null()


@dataclass(frozen=True)
class Rule:
    """One validity rule of a column: ``expr`` is True for valid rows (evaluated on the staged frame)."""
    column: str
    rule: str
    expr: pl.Expr


def column_rule(name: str, dtype: pl.DataType, spec: Column, open_end: tuple[str, ...]) -> Rule | None:
    """The validity rule of one catalog column given the raw dtype it arrived in (None: anything goes)."""
    t = pl.col(typed_name(name))
    kind = spec.type
    if kind == "code":
        ok = t.is_not_null()
        miss = _missing_text(spec)
        if miss:
            # a declared missing code, or an empty value: SPSS user-missing values come out of the reader empty
            ok = ok | _code_text(name, dtype, spec).is_in(miss).fill_null(False) | _raw_empty(name, dtype)
        codes = ", ".join(_codes_allowed(spec) + miss)
        return Rule(name, f"value not in code list [{codes}]" + (" or empty" if miss else ""), ok)
    if kind == "date":
        ok = t.is_not_null()
        if spec.open_end and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
            # a real date column (parquet): an open end is an empty value (there is no sentinel to write); until
            # December 2026 it failed with a rule text that said empty was allowed
            return Rule(name, "not a valid date nor empty (an open end)", ok | pl.col(name).is_null())
        if spec.open_end and open_end:
            # an open-end sentinel, or an empty value (a sentinel the .sav declares user-missing reads empty)
            ok = ok | as_text(name, dtype).is_in(list(open_end)).fill_null(False) | _raw_empty(name, dtype)
            return Rule(name, "not a valid date YYYYMMDD nor an open-end sentinel or empty", ok)
        return Rule(name, "not a valid date YYYYMMDD", ok)
    if kind == "flag":
        ok = _raw_empty(name, dtype) | as_text(name, dtype).is_in(list(FLAG_TRUE + FLAG_FALSE)).fill_null(False)
        return Rule(name, "flag is not '1' or empty", ok)
    if kind == "key":
        if spec.missing:       # a survey's respondents not linked to the BRP (EBBNW): person_id empty
            ok = t.is_not_null() | _raw_empty(name, dtype) \
                | as_text(name, dtype).str.strip_chars(" ").is_in(_missing_text(spec)).fill_null(False)
            return Rule(name, f"not a person number (0-{PERSON_BASE - 1}) nor empty or "
                              f"{', '.join(map(repr, _missing_text(spec)))}", ok)
        return Rule(name, f"not a person number (0-{PERSON_BASE - 1})", t.is_not_null())
    if kind in ("int", "float"):
        ok = _raw_empty(name, dtype) | t.is_not_null()
        what = "not a whole number" if kind == "int" else "not a number"
        if spec.min is not None or spec.max is not None:
            lo = -float("inf") if spec.min is None else spec.min
            hi = float("inf") if spec.max is None else spec.max
            miss = _missing_num(spec)
            inside = t.is_between(lo, hi) | (t.is_in(miss) if miss else pl.lit(False))
            ok = _raw_empty(name, dtype) | (t.is_not_null() & inside.fill_null(False))
            what += f" in {_num(spec.min)}..{_num(spec.max)}"
        return Rule(name, what, ok)
    return None


def stage(frame: pl.LazyFrame | pl.DataFrame, columns: dict[str, Column], open_end: tuple[str, ...],
          unique: tuple[str, ...] = ()) -> pl.LazyFrame | pl.DataFrame:
    """Add the typed companion of every catalog column present, and ``__key__`` (a 64-bit hash of the
    typed unique columns) when the entry has a key, in one ``with_columns``.  Given the reader's LazyFrame
    the parsing runs inside the scan's parallel pipeline: nearly free next to the read."""
    schema = frame.collect_schema()
    exprs = [typed_expr(n, schema[n], spec, open_end).alias(typed_name(n))
             for n, spec in columns.items() if n in schema]
    if exprs:
        frame = frame.with_columns(exprs)
    keys = [typed_name(k) if k in columns else k for k in unique if k in schema]
    if keys and len(keys) == len(unique):
        # a row with an empty key part (an unlinked survey respondent: a key column with ``missing``; else a
        # row its column rule blocks anyway) identifies nothing and so repeats nothing
        frame = frame.with_columns(pl.when(pl.any_horizontal(pl.col(k).is_null() for k in keys)).then(None)
                                   .otherwise(pl.struct(keys).hash()).alias(KEY_HASH))
    return frame


def person_columns(columns: dict[str, Column]) -> tuple[str, str] | None:
    """(RINPERSOONS, RINPERSOON) when the entry has the CBS person key pair."""
    if "RINPERSOONS" in columns and "RINPERSOON" in columns and columns["RINPERSOON"].type == "key":
        return "RINPERSOONS", "RINPERSOON"
    return None


def finalise(staged: pl.DataFrame, columns: dict[str, Column], extras: list[str],
             invalid_to_null: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
    """Typed companions under their canonical names (catalog order), then extra raw columns as strings.

    A catalog column the file lacks (only a used or unused one gets this far) becomes a typed empty column,
    so downstream code sees the schema of :func:`output_dtype`.  ``invalid_to_null``: column -> validity
    expression (normalise.column_rule) of the unused columns that failed their rule; rows where it is False
    become null (for codes, dates and numbers the parse is null already; a bad flag would otherwise be
    False)."""
    pk = person_columns(columns)
    invalid_to_null = invalid_to_null or {}
    present = set(staged.collect_schema().names())
    out: list[pl.Expr] = []
    for name, spec in columns.items():
        if typed_name(name) not in present:
            out.append(pl.lit(None, dtype=output_dtype(spec)).alias(name))
            continue
        t = pl.col(typed_name(name))
        if name in invalid_to_null:
            t = pl.when(invalid_to_null[name].fill_null(False)).then(t)
        if pk and name == pk[1]:
            s = pl.col(typed_name(pk[0]))
            out.append((s.to_physical().cast(pl.Int64) * PERSON_BASE + t).alias(PERSON_KEY))
            continue
        if spec.type in ("int", "float") and spec.missing:
            miss = _missing_num(spec)
            if miss:
                t = pl.when(t.is_in(miss)).then(None).otherwise(t)
        if spec.type == "str":
            t = pl.when(t.str.len_bytes() == 0).then(None).otherwise(t)   # "" (SPSS) and null (CSV) alike
        out.append(t.alias(name))
    schema = staged.collect_schema()
    extras = [x for x in extras if x != KEY_HASH]
    for x in extras:
        out.append(pl.col(x) if schema[x] == pl.String else as_text(x, schema[x]).alias(x))
    return staged.select(out)


def output_dtype(spec: Column) -> pl.DataType:
    """The normalised dtype of a catalog column (RINPERSOON becomes ``person_id`` Int64)."""
    return {
        "code": pl.Enum(list(spec.codes or ())) if spec.codes else pl.String,
        "date": pl.Date(),
        "flag": pl.Boolean(),
        "key": pl.Int64(),
        "int": pl.Int64(),
        "float": pl.Float64(),
        "str": pl.String(),
    }[spec.type]
