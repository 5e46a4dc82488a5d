"""Export of disclosure-controlled tables (``monitor export``; docs/disclosure.md).

:func:`export_table` writes a table that has passed :func:`~monitor_dagster.gates.disclosure.apply_disclosure`
as csv (UTF-8, ``,`` separator, ``.`` decimal), parquet or xlsx, atomically (temp file + rename).  It refuses
(``DisclosureError`` naming the cells) a table for which ``check_disclosure`` reports anything.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import polars as pl

from monitor_dagster.gates.disclosure import DisclosureError, check_disclosure

FORMATS = ("csv", "parquet", "xlsx")


def _write_xlsx(table: pl.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("indicators")
    ws.append(table.columns)
    for row in table.iter_rows():
        ws.append(list(row))
    wb.save(path)


def check_sensitivity(table: pl.DataFrame) -> list[str]:
    """The disclosure rules of the sensitivity table (monitor_dagster/sensitivity.py): a suppressed cell carries
    no value, count or difference; a published one rests on at least 10 persons; no person key; no published
    alternative that gives a hidden default back or leaves a rest of totaal of 1-9 persons
    (``sensitivity.derived_leaks``)."""
    from monitor_dagster.sensitivity import MIN_N, derived_leaks

    out = []
    if any(c.lower() in ("person_id", "rinpersoon") for c in table.columns):
        out.append("a person key column is in the table")
    bad = table.filter(pl.col("suppressed") & (pl.col("value").is_not_null() | pl.col("n").is_not_null()
                                               | pl.col("difference").is_not_null()))
    out += [f"{r['choice']}={r['alternative']} {r['indicator_id']} {r['herkomst']}: suppressed but published"
            for r in bad.head(5).iter_rows(named=True)]
    small = table.filter(~pl.col("suppressed") & (pl.col("n") < MIN_N))
    out += [f"{r['choice']}={r['alternative']} {r['indicator_id']} {r['herkomst']}: n = {r['n']} < {MIN_N}"
            for r in small.head(5).iter_rows(named=True)]
    if {"choice", "unit", "difference"} <= set(table.columns):
        leaks = table.with_row_index("_i").join(derived_leaks(table), on="_i", how="inner")
        out += [f"{r['choice']}={r['alternative']} {r['indicator_id']} {r['measure']} {r['herkomst']}: {r['why']}"
                for r in leaks.head(5).iter_rows(named=True)]
    return out


def export_sensitivity(table: pl.DataFrame, fmt: Literal["csv", "parquet", "xlsx"], out: Path) -> Path:
    """Check the sensitivity table (:func:`check_sensitivity`) and write it like :func:`export_table`."""
    violations = check_sensitivity(table)
    if violations:
        raise DisclosureError(violations)
    return _write(table, fmt, out)


def export_table(table: pl.DataFrame, fmt: Literal["csv", "parquet", "xlsx"], out: Path,
                 hint: str | None = None) -> Path:
    """Check ``table`` for disclosure and write it to ``out``; returns ``out``.  ``hint``: what the error says to do
    when the table fails (the CLI: rebuild the stored table)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    violations = check_disclosure(table)
    if violations:
        raise DisclosureError(violations, hint=hint)
    return _write(table, fmt, out)


def _write(table: pl.DataFrame, fmt: str, out: Path) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            table.write_csv(tmp)
        elif fmt == "parquet":
            table.write_parquet(tmp)
        else:
            _write_xlsx(table, Path(tmp))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
