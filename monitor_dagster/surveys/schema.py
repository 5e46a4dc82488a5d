"""The response schema of an instrument, generated from its :class:`Form`, and the reader of response exports.

A response file is a KoboToolbox/ODK export of one instrument and wave (docs/surveys.md "Export format"): CSV
(``,``-separated UTF-8, as KoboToolbox writes it; ``;`` is detected) or XLSX (first sheet), one column per
question without group prefix, select_multiple answers as space-separated choice names, and the metadata
columns ``_uuid``, ``_submission_time``, ``start``, ``end``.  Every cell is read as text, so codes such as
``"0"`` stay what the form stored.

``build_schema(form)`` is a pandera (polars) ``DataFrameSchema`` with one column per question and one check
per rule, each a polars expression over the whole frame (technisch rapport Monitor gelijke kansen, §3.1: the
items are asked the same way at every measurement, so the form is the contract of the export):

- select_one and pre-loaded hidden fields with a value list: value in the choice list;
- select_multiple: every space-separated token in the choice list; a ``choice_filter`` holds for each token
  (top three only among actions rated above 0);
- ``constraint`` (``count-selected(.) <= 3``, the exclusive 'geen'/'weet niet', ``. >= a and . <= b``) holds;
  integer/decimal values parse;
- required: answered wherever ``relevant`` is true (only there);
- skip logic: no answer where ``relevant`` is false;
- ``org_id`` unique.

``relevant``, ``constraint`` and ``choice_filter`` are compiled into polars expressions by a small XPath
subset (:func:`compile_expr`): ``${q}``, ``.``, ``name`` (the choice in a filter), string and number
literals, ``= != < <= > >=``, ``and``, ``or``, ``not()``, ``selected()``, ``count-selected()``,
``string-length()``, parentheses.  An expression outside it raises :class:`ExpressionError` when the schema is
built, never silently passes.  Comparisons follow XPath: an empty answer is ``''`` for strings and NaN for
numbers (so ``${q} > 0`` is false and ``${q} != 1`` true for an empty ``q``).

``read_responses(path, form)`` evaluates the same rules in one polars pass and returns the frame (strings;
integer/decimal questions cast) or raises
:class:`ResponseError` listing every failure as ``<file>: question <q>, row <n>: value '<v>' <rule>``; rows
count data rows from 1 (row 1 is the first line under the header)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from monitor_dagster.surveys.form import Form, Question

META_COLUMNS = ("_uuid", "_submission_time", "start", "end")
NOT_EXPORTED = ("note",)            # notes have no value; KoboToolbox leaves them out of exports
NUMERIC = {"integer": pl.Int64, "decimal": pl.Float64}


class ExpressionError(ValueError):
    """A relevant/constraint/choice_filter outside the supported XPath subset."""


@dataclass(frozen=True)
class ResponseFailure:
    file: str
    question: str | None            # None for the file as a whole (unreadable)
    row: int | None                 # 1-based data row; None for column- and file-level failures
    value: str | None
    rule: str

    def describe(self) -> str:
        if self.question is None:
            return f"{self.file}: file: {self.rule}"
        where = f"question {self.question}" + (f", row {self.row}" if self.row is not None else "")
        if self.row is None:
            return f"{self.file}: {where}: {self.rule}"
        shown = "(empty)" if self.value is None else repr(self.value)
        return f"{self.file}: {where}: value {shown} {self.rule}"


class ResponseError(ValueError):
    """A response export that does not fit its form; ``failures`` holds every failure found."""

    def __init__(self, file: str, failures: list[ResponseFailure]):
        self.file = file
        self.failures = failures
        lines = [f.describe() for f in failures]
        super().__init__(f"{file}: {len(failures)} response failure{'s' if len(failures) != 1 else ''}\n  "
                         + "\n  ".join(lines))


# ------------------------------------------------------------------------------------------ expressions
_TOKEN = re.compile(r"""\s*(?:(?P<ref>\$\{[A-Za-z_][\w.-]*\})|(?P<str>'[^']*'|"[^"]*")|(?P<num>\d+(?:\.\d+)?)
                    |(?P<op>!=|<=|>=|=|<|>)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w-]*)|(?P<dot>\.))""", re.X)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read {expr!r} at {expr[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    return out


def _answer(col: str) -> pl.Expr:
    return pl.col(col)


def _tokens_of(e: pl.Expr) -> pl.Expr:
    return e.fill_null("").str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))


class _Parser:
    """Recursive descent over the token list; every node is (kind, polars expression), kind str|num|bool."""

    def __init__(self, expr: str, current: str | None, name_value: str | None):
        self.expr, self.toks, self.i = expr, _tokens(expr), 0
        self.current, self.name_value = current, name_value

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ExpressionError(f"{self.expr!r}: expected {value or 'more'} at token {self.i + 1}")
        self.i += 1
        return tok

    def parse(self) -> pl.Expr:
        kind, e = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"{self.expr!r}: unexpected {self.peek()[1]!r}")
        return self.as_bool(kind, e)

    @staticmethod
    def as_bool(kind: str, e: pl.Expr) -> pl.Expr:
        if kind == "bool":
            return e
        if kind == "num":
            return e.is_not_null() & (e != 0)
        return e.fill_null("") != ""

    def or_(self):
        kind, e = self.and_()
        while self.peek() == ("word", "or"):
            self.take()
            k2, e2 = self.and_()
            kind, e = "bool", self.as_bool(kind, e) | self.as_bool(k2, e2)
        return kind, e

    def and_(self):
        kind, e = self.cmp()
        while self.peek() == ("word", "and"):
            self.take()
            k2, e2 = self.cmp()
            kind, e = "bool", self.as_bool(kind, e) & self.as_bool(k2, e2)
        return kind, e

    def cmp(self):
        k1, a = self.atom()
        tok = self.peek()
        if not tok or tok[0] != "op":
            return k1, a
        op = self.take()[1]
        k2, b = self.atom()
        if "num" in (k1, k2):
            x = a if k1 == "num" else a.cast(pl.Float64, strict=False)
            y = b if k2 == "num" else b.cast(pl.Float64, strict=False)
            both = x.is_not_null() & y.is_not_null()
            res = {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
            if op == "!=":
                return "bool", (~both | res).fill_null(True)
            return "bool", (both & res).fill_null(False)
        if op not in ("=", "!="):
            raise ExpressionError(f"{self.expr!r}: {op} needs a number on one side")
        x, y = a.fill_null(""), b.fill_null("")
        return "bool", (x == y) if op == "=" else (x != y)

    def atom(self):
        kind, val = self.take()
        if kind == "ref":
            return "str", _answer(val[2:-1])
        if kind == "dot":
            if self.current is None:
                raise ExpressionError(f"{self.expr!r}: '.' outside a constraint")
            return "str", _answer(self.current)
        if kind == "str":
            return "str", pl.lit(val[1:-1], dtype=pl.String)
        if kind == "num":
            return "num", pl.lit(float(val), dtype=pl.Float64)
        if kind == "punct" and val == "(":
            k, e = self.or_()
            self.take(")")
            return k, e
        if kind == "word":
            if val == "name" and self.name_value is not None and self.peek() != ("punct", "("):
                return "str", pl.lit(self.name_value, dtype=pl.String)
            if val in ("true", "false") and self.peek() == ("punct", "("):
                self.take("(")
                self.take(")")
                return "bool", pl.lit(val == "true")
            self.take("(")
            args = []
            if self.peek() != ("punct", ")"):
                args.append(self.or_())
                while self.peek() == ("punct", ","):
                    self.take()
                    args.append(self.or_())
            self.take(")")
            if val == "not" and len(args) == 1:
                return "bool", ~self.as_bool(*args[0])
            if val == "selected" and len(args) == 2:
                return "bool", _tokens_of(args[0][1]).list.contains(args[1][1])
            if val == "count-selected" and len(args) == 1:
                return "num", _tokens_of(args[0][1]).list.len().cast(pl.Float64)
            if val == "string-length" and len(args) == 1:
                return "num", args[0][1].fill_null("").str.len_chars().cast(pl.Float64)
            raise ExpressionError(f"{self.expr!r}: function {val}() with {len(args)} argument(s) not supported")
        raise ExpressionError(f"{self.expr!r}: unexpected {val!r}")


def compile_expr(expr: str, current: str | None = None, name_value: str | None = None) -> pl.Expr:
    """A boolean polars expression (never null) for an XLSForm expression; ``current`` is the column ``.``
    stands for, ``name_value`` the choice ``name`` stands for in a choice filter."""
    return _Parser(expr, current, name_value).parse().fill_null(False)


def referenced(expr: str | None) -> set[str]:
    """The question names an expression refers to (``${q}``)."""
    return set(re.findall(r"\$\{([A-Za-z_][\w.-]*)\}", expr or ""))


# ------------------------------------------------------------------------------------------ schema
def exported(form: Form) -> list[Question]:
    """The questions that are columns of a response export, in form order."""
    return [q for q in form.questions.values() if q.type not in NOT_EXPORTED]


@dataclass(frozen=True)
class Rule:
    """One check of one question: ``ok`` is a boolean polars expression over the whole frame, true where the
    row passes; ``rule`` the text of the failure message; ``kind`` a short name."""
    question: str
    ok: pl.Expr
    rule: str
    kind: str


def _check(r: Rule) -> pa.Check:
    """The pandera check of a rule (the failure case is the question's value)."""
    def fn(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(r.ok.alias("check_output"))
    return pa.Check(fn, name=r.kind, error=r.rule)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


def question_rules(q: Question, form: Form) -> list[Rule]:
    """The rules of one question (module docstring)."""
    col = pl.col(q.name)
    present = col.is_not_null() & (col.str.strip_chars() != "")
    rules = []

    def add(ok: pl.Expr, rule: str, kind: str) -> None:
        rules.append(Rule(q.name, ok.fill_null(False), rule, kind))

    if q.type in ("select_one", "hidden") and q.choices:
        add(~present | col.is_in(list(q.choices)), f"not in the choice list {_list(q.choices)}", "choice")
    if q.type == "select_multiple" and q.choices:
        toks = _tokens_of(col)
        add(toks.list.eval(pl.element().is_in(list(q.choices))).list.all(),
            f"has a choice not in the choice list {_list(q.choices)}", "choice")
    if q.type in NUMERIC:
        add(~present | col.str.strip_chars().cast(NUMERIC[q.type], strict=False).is_not_null(),
            f"is not {'a whole number' if q.type == 'integer' else 'a number'}", "type")
    if q.constraint:
        add(~present | compile_expr(q.constraint, current=q.name), f"breaks the constraint {q.constraint}",
            "constraint")
    if q.choice_filter and q.choices and q.type.startswith("select"):
        toks = _tokens_of(col)
        ok = pl.lit(True)
        for c in q.choices:
            ok = ok & (~toks.list.contains(c) | compile_expr(q.choice_filter, name_value=c))
        shown = q.choice_filter if len(q.choice_filter) <= 80 else q.choice_filter[:77] + "..."
        add(ok, f"names a choice the form did not offer (choice_filter {shown})", "choice_filter")
    relevant = compile_expr(q.relevant) if q.relevant else pl.lit(True)
    if q.required:
        cond = f" (relevant: {q.relevant})" if q.relevant else ""
        add(present | ~relevant, f"missing: the question is required{cond}", "required")
    if q.relevant:
        add(~present | relevant, f"answered where it is not asked (skip logic: relevant {q.relevant} is false)",
            "skip_logic")
    if q.name == form.org_key:
        add(~present | ~col.is_duplicated(), f"{form.org_key} is not unique", "unique")
    return rules


def rules(form: Form) -> list[Rule]:
    """Every rule of the form's export, in form order; expressions referring to unknown questions are refused."""
    known = set(form.questions)
    out = []
    for q in exported(form):
        for expr in (q.relevant, q.constraint, q.choice_filter):
            bad = referenced(expr) - known
            if bad:
                raise ExpressionError(f"{form.instrument}_{form.wave}: question {q.name}: refers to "
                                      f"unknown question(s) {', '.join(sorted(bad))}")
        out += question_rules(q, form)
    return out


def build_schema(form: Form) -> pa.DataFrameSchema:
    """The pandera (polars) schema of the responses to ``form``: all columns strings (the export's text), one
    check per :class:`Rule`.  ``read_responses`` evaluates the same rules in one polars pass (pandera runs
    every check on its own: ~0.25 s a file) and names the rows itself; this schema is for a Dagster asset
    check or any pandera user."""
    by_question: dict[str, list[pa.Check]] = {}
    for r in rules(form):
        by_question.setdefault(r.question, []).append(_check(r))
    columns = {q.name: pa.Column(pl.String, nullable=True, required=True, checks=by_question.get(q.name, []))
               for q in exported(form)}
    for meta in META_COLUMNS:
        columns[meta] = pa.Column(pl.String, nullable=meta != "_uuid", required=True)
    return pa.DataFrameSchema(columns, name=f"{form.instrument}_{form.wave}", strict=False)


# ------------------------------------------------------------------------------------------ reading
def _read_csv(path: Path) -> pl.DataFrame:
    with path.open(encoding="utf-8-sig", newline="") as f:
        head = f.readline()
    sep = ";" if head.count(";") > head.count(",") else ","
    return pl.read_csv(path, separator=sep, infer_schema=False, encoding="utf8")


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: Path) -> pl.DataFrame:
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    data = [[_cell(v) for v in r] for r in rows if any(v is not None for v in r)]
    wb.close()
    return pl.DataFrame(data, schema={h: pl.String for h in header}, orient="row")


def read_export(path: str | Path) -> pl.DataFrame:
    """The raw export as strings (CSV or the first sheet of an XLSX); empty cells are null."""
    path = Path(path)
    frame = _read_xlsx(path) if path.suffix.lower() == ".xlsx" else _read_csv(path)
    return frame.with_columns(pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
                              for c in frame.columns)


def validate_responses(frame: pl.DataFrame, form: Form, file: str) -> list[ResponseFailure]:
    """Every failure of ``frame`` against the form's rules, ordered by row and question (missing columns
    first, then checked as empty so the other rules still run)."""
    failures: list[ResponseFailure] = []
    missing = [q.name for q in exported(form) if q.name not in frame.columns]
    missing += [m for m in META_COLUMNS if m not in frame.columns]
    for name in missing:
        failures.append(ResponseFailure(file, name, None, None, "column missing from the export"))
    if missing:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
    if frame.height and frame["_uuid"].null_count() and "_uuid" not in missing:
        rows = (frame["_uuid"].is_null().arg_true() + 1).to_list()
        failures += [ResponseFailure(file, "_uuid", r, None, "missing: every submission has a _uuid") for r in rows]
    all_rules = rules(form)
    checked = frame.select(r.ok.alias(f"__{i}") for i, r in enumerate(all_rules))
    order = {q.name: i for i, q in enumerate(exported(form))}
    found = []
    for i, r in enumerate(all_rules):
        bad_rows = checked[f"__{i}"].not_().arg_true().to_list()
        if r.question in missing:
            continue
        values = frame[r.question]
        found += [ResponseFailure(file, r.question, j + 1, values[j], r.rule) for j in bad_rows]
    found.sort(key=lambda f: (f.row, order.get(f.question, 0)))
    return failures + found


def read_responses(path: str | Path, form: Form) -> pl.DataFrame:
    """The validated responses of one export (module docstring), or :class:`ResponseError` with every failure."""
    path = Path(path)
    try:
        frame = read_export(path)
    except (OSError, pl.exceptions.PolarsError, StopIteration, csv.Error, ValueError) as exc:
        raise ResponseError(path.name, [ResponseFailure(path.name, None, None, None,
                                                        f"cannot read the export: {exc}")]) from exc
    failures = validate_responses(frame, form, path.name)
    if failures:
        raise ResponseError(path.name, failures)
    return frame.with_columns(pl.col(q.name).str.strip_chars().cast(NUMERIC[q.type]) for q in exported(form)
                              if q.type in NUMERIC)
