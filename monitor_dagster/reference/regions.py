"""Municipality -> arbeidsmarktregio (and randstad) per year (technisch rapport Monitor gelijke kansen, §7.2.4;
docs/regions.md, "Where people live").

Municipal reorganisations change the codes between years, so the mapping is *per year*: the mapping of year t
is ``gemeente_arbeidsmarktregio_<t>.csv`` (``;``-separated, UTF-8, columns :data:`COLUMNS`).  It is looked up
first in the folder named by the environment variable ``MONITOR_REGIO_DIR`` (so that a CBS user adds a year,
or corrects one, without editing the package), then in this package's reference folder.  A year without a
mapping is not an error for the monitor: :func:`regio_mapping` returns ``None`` with a message naming the year
and the file to add, and core/population leaves ``regio`` and ``randstad`` null for that year.

Plain Python + polars (imported lazily), no Dagster.
"""

from __future__ import annotations

import csv
import io
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["COLUMNS", "REGIO_DIR_ENV", "RANDSTAD_VALUES", "MappingError", "mapping_file", "find_mapping",
           "gemeente_arbeidsmarktregio", "regio_mapping", "missing_mapping_message"]

REGIO_DIR_ENV = "MONITOR_REGIO_DIR"
COLUMNS = ("gemeente_code", "gemeente_naam", "arbeidsmarktregio_code", "arbeidsmarktregio_naam", "randstad")
RANDSTAD_VALUES = ("randstad", "overig")


class MappingError(ValueError):
    """A mapping file that exists but cannot be used (wrong columns, a municipality twice, a bad value)."""


def mapping_file(year: int) -> str:
    """The file name of the mapping of ``year``: ``gemeente_arbeidsmarktregio_<year>.csv``."""
    return f"gemeente_arbeidsmarktregio_{int(year)}.csv"


def find_mapping(year: int) -> tuple[str, str] | None:
    """(text, where) of the mapping of ``year``: ``$MONITOR_REGIO_DIR`` first, then the package; None if
    neither has it."""
    name = mapping_file(year)
    extra = os.environ.get(REGIO_DIR_ENV, "").strip()
    if extra:
        p = Path(extra) / name
        if p.is_file():
            return p.read_text(encoding="utf-8"), str(p)
    res = resources.files("monitor_dagster.reference").joinpath(name)
    if res.is_file():
        return res.read_text(encoding="utf-8"), f"monitor_dagster/reference/{name}"
    return None


def missing_mapping_message(year: int) -> str:
    extra = os.environ.get(REGIO_DIR_ENV, "").strip()
    where = f"${REGIO_DIR_ENV} ({extra})" if extra else f"a folder named by ${REGIO_DIR_ENV}"
    return (f"no municipality -> arbeidsmarktregio mapping for {int(year)}: add {mapping_file(year)} (columns "
            f"{';'.join(COLUMNS)}) to {where} or to monitor_dagster/reference/; regio and randstad are null "
            f"for {int(year)} (docs/regions.md)")


def _parse(text: str, where: str) -> list[dict[str, str]]:
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    header = tuple(h.strip() for h in (reader.fieldnames or ()))
    if header[: len(COLUMNS)] != COLUMNS:
        raise MappingError(f"{where}: columns {';'.join(header) or '(none)'}, expected {';'.join(COLUMNS)}")
    rows, seen = [], set()
    for i, r in enumerate(reader, start=2):
        row = {c: (r.get(c) or "").strip() for c in COLUMNS}
        if not row["gemeente_code"]:
            continue
        if row["gemeente_code"] in seen:
            raise MappingError(f"{where} line {i}: municipality {row['gemeente_code']} twice")
        if row["randstad"] not in RANDSTAD_VALUES:
            raise MappingError(f"{where} line {i}: randstad {row['randstad']!r}, expected randstad or overig")
        if not row["arbeidsmarktregio_code"]:
            raise MappingError(f"{where} line {i}: municipality {row['gemeente_code']} without arbeidsmarktregio")
        seen.add(row["gemeente_code"])
        rows.append(row)
    if not rows:
        raise MappingError(f"{where}: no municipalities")
    return rows


def gemeente_arbeidsmarktregio(year: int) -> "pl.DataFrame":
    """The mapping of ``year`` (all columns strings); ``LookupError`` with :func:`missing_mapping_message` when
    no file for the year exists, :class:`MappingError` when the file is unusable."""
    import polars as pl

    found = find_mapping(year)
    if found is None:
        raise LookupError(missing_mapping_message(year))
    rows = _parse(*found)
    return pl.DataFrame({c: [r[c] for r in rows] for c in COLUMNS}, schema={c: pl.String for c in COLUMNS})


def regio_mapping(year: int) -> tuple["pl.DataFrame | None", str | None]:
    """(mapping, None) or (None, message): the form in which core/population takes it (a year without a
    mapping is built with regio and randstad null, the message recorded)."""
    try:
        return gemeente_arbeidsmarktregio(year), None
    except LookupError as exc:
        return None, str(exc)
