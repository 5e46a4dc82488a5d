"""Export of disclosure-controlled tables (DESIGN.md: ``monitor export``; docs/disclosure.md).

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


def export_table(table: pl.DataFrame, fmt: Literal["csv", "parquet", "xlsx"], out: Path) -> Path:
    """Check ``table`` for disclosure and write it to ``out``; returns ``out``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    violations = check_disclosure(table)
    if violations:
        raise DisclosureError(violations)
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
