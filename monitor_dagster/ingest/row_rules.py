"""Rules across the columns of one row (catalog ``row_rules``), checked on every chunk of a file.

A column's type and range say nothing about how two columns relate, and the core relies on such relations:
``core.jobs.job_months`` takes a SPOLIS row as one payroll period inside one calendar month (CBS file
documentation: "one row per job per overlap of payroll period and calendar month") and counts its days from
its start and end.  A row whose period ends before it starts, or runs into the next month, would become a
job-month with negative or misplaced days without a word, so both refuse the file, naming the columns, the
count and examples, like a failed column rule (docs/ingest.md, "Rules across columns").

Negative hours and wages are another matter: payroll corrections reach the file as negative amounts, and the
core sums the rows of a job-month as delivered.  So ``not_negative`` is a ``warning``: the file is ingested and
the count of such rows is in the release's manifest and the run's output, for the data engineer to judge.
So is ``in_year``, a SPOLIS row dated outside the year of the file's name: core.jobs reads each file's own year
(and November-December of t-1 from the file of t-1), so such a row is never read, and the count says how many
(a file with no row in its year at all is refused by the ingest's own check).

The rules run on the typed companions of the staged chunk (normalise.stage), one ``select`` per chunk: a few
comparisons per row, next to nothing beside the read.  A rule whose columns the file lacks is skipped (the
missing column is reported by the column gate).  Pure polars.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from monitor_dagster.catalog import RowRule
from monitor_dagster.ingest.normalise import typed_name
from monitor_dagster.ingest.schemas import N_EXAMPLES, SchemaFailure

_RULE_TEXT = {
    "ordered": "period ends before it starts ({b} before {a})",
    "same_month": "period runs into a later calendar month ({b} in a later month than {a})",
    "not_negative": "negative value",
    "in_year": "dated outside {year}, the year of the file's name",
}


def rule_text(rule: RowRule, column: str | None = None, period: int | None = None, severity: str | None = None) -> str:
    """The rule as a failure names it, with the catalog's reason."""
    a, b = (rule.columns + ("", ""))[:2]
    text = _RULE_TEXT[rule.rule].format(a=a, b=b, year=period)
    if (severity or rule.severity) == "warning":
        demoted = rule.severity != "warning"       # a block rule on unused columns (:func:`severity`)
        text += "; kept as delivered" + (", the monitor does not read these columns" if demoted else "")
    return f"{text} ({rule.why})" if rule.why else text


def severity(rule: RowRule, roles: dict[str, str] | None) -> str:
    """The rule's severity for this file: a ``block`` rule on columns the monitor does not read (every one of them
    ``unused``, ingest/roles.py) only warns, as a failed rule of an unused column does (docs/ingest.md, "Column
    roles"): a real SPOLIS year must not be refused over the job's own dates (SDATUMAANVANGIKV/-EINDEIKV)."""
    if rule.severity == "block" and roles and all(roles.get(c) == "unused" for c in rule.columns):
        return "warning"
    return rule.severity


def _bad(rule: RowRule, cols: list[str], period: int | None) -> list[tuple[str, pl.Expr]]:
    """(failure column, expression True on a row that breaks the rule), never null; [] for ``in_year`` without
    the file's year."""
    if rule.rule == "not_negative":
        return [(c, (pl.col(t) < 0).fill_null(False)) for c, t in zip(rule.columns, cols)]
    if rule.rule == "in_year":
        if period is None:
            return []
        lo, hi = dt.date(period, 1, 1), dt.date(period, 12, 31)     # two comparisons: cheaper than dt.year()
        return [(c, ((pl.col(t) < lo) | (pl.col(t) > hi)).fill_null(False)) for c, t in zip(rule.columns, cols)]
    a, b = pl.col(cols[0]), pl.col(cols[1])
    if rule.rule == "ordered":
        bad = b < a
    else:
        # a period that ends before it starts is the ``ordered`` rule's, not counted twice.  Another month, or
        # the same month of a later year (more than 31 days on); the year itself costs twice this (0.027
        # against 0.012 s per million rows, 3 s of a national SPOLIS ingest)
        bad = (b >= a) & ((a.dt.month() != b.dt.month())
                          | ((b.to_physical().cast(pl.Int64) - a.to_physical().cast(pl.Int64)) > 31))
    return [(", ".join(rule.columns), bad.fill_null(False))]


def _show(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def check_rows(rules: tuple[RowRule, ...], chunk: pl.DataFrame, file: str, period: int | None = None,
               roles: dict[str, str] | None = None) -> tuple[list[SchemaFailure], list[SchemaFailure]]:
    """(blocking failures, warnings) of one staged chunk: one per rule and column, with the count of rows
    that break it and up to five examples (the values of the rule's columns).  ``period``: the year of the
    file's name (``in_year``); ``roles``: column -> key | used | unused (:func:`severity`)."""
    todo = []
    for rule in rules:
        cols = [typed_name(c) for c in rule.columns]
        if any(c not in chunk.columns for c in cols):
            continue
        for column, bad in _bad(rule, cols, period):
            todo.append((rule, column, cols, bad))
    if not todo or chunk.height == 0:
        return [], []
    counts = chunk.select([bad.sum().alias(f"_{i}") for i, (_, _, _, bad) in enumerate(todo)]).row(0)
    blocking: list[SchemaFailure] = []
    warnings: list[SchemaFailure] = []
    for (rule, column, cols, bad), n in zip(todo, counts):
        if not n:
            continue
        shown = chunk.filter(bad).head(N_EXAMPLES * 4)
        if rule.rule in ("not_negative", "in_year"):
            t = cols[rule.columns.index(column)]
            examples = [_show(v) for v in shown.get_column(t).unique(maintain_order=True).head(N_EXAMPLES).to_list()]
        else:
            rows = shown.select(pl.col(t).alias(c) for c, t in zip(rule.columns, cols)).unique(maintain_order=True)
            examples = [{k: _show(v) for k, v in r.items()} for r in rows.head(N_EXAMPLES).rows(named=True)]
        sev = severity(rule, roles)
        failure = SchemaFailure(file, column, rule_text(rule, column, period, sev), int(n), examples)
        (blocking if sev == "block" else warnings).append(failure)
    return blocking, warnings
