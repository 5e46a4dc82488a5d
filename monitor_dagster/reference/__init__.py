"""Public reference tables shipped with the project (see README.md in this folder).

The CSV files use ``;`` as separator and UTF-8. The DataFrame loaders import polars lazily,
so the scalar helpers (``wml_month``, ``wml_hour``, ``aow_age_months``) work with the
standard library alone.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = [
    "countries",
    "wml",
    "aow_age",
    "soi_levels",
    "sectors",
    "wml_month",
    "wml_hour",
    "aow_age_months",
    "MONITOR_GROUPS",
    "NON_WESTERN_GROUPS",
]

# Non-Western groups exactly as listed in the report (ch. 2.2); the report calls them
# "dertien" but lists twelve names.
NON_WESTERN_GROUPS: tuple[str, ...] = (
    "Turkije",
    "Marokko",
    "Suriname",
    "Antillen en Aruba",
    "Afghanistan",
    "Irak",
    "Iran",
    "Somalië",
    "Syrië",
    "Eritrea",
    "Afrika overig",
    "overig niet-westers",
)
MONITOR_GROUPS: tuple[str, ...] = NON_WESTERN_GROUPS + (
    "Duitsland",
    "Polen",
    "Indonesië",
    "westers overig",
    "Nederland",
)

# Columns that are not strings, per file (everything else is read as a string so that
# codes such as "0000", "----" or "01" keep their exact spelling).
_NUMERIC: dict[str, dict[str, str]] = {
    "countries.csv": {},
    "wml.csv": {"year": "int", "wml_month_jan1": "float", "wml_hour_40h": "float"},
    "aow_age.csv": {"year": "int", "aow_years": "int", "aow_months": "int"},
    "soi_levels.csv": {},
    "sectors.csv": {},
}


def _text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _rows(name: str) -> tuple[dict[str, str], ...]:
    reader = csv.DictReader(io.StringIO(_text(name)), delimiter=";")
    return tuple(dict(r) for r in reader)


def _frame(name: str) -> "pl.DataFrame":
    import polars as pl

    rows = _rows(name)
    header = next(csv.reader(io.StringIO(_text(name)), delimiter=";"))
    data = {col: [r[col] for r in rows] for col in header}
    df = pl.DataFrame(data, schema={col: pl.Utf8 for col in header})
    casts = []
    for col, kind in _NUMERIC[name].items():
        casts.append(pl.col(col).cast(pl.Int64 if kind == "int" else pl.Float64))
    return df.with_columns(casts) if casts else df


def countries() -> "pl.DataFrame":
    """GBA country codes (RvIG Tabel 34) with landtype and the monitor's origin group."""
    return _frame("countries.csv")


def wml() -> "pl.DataFrame":
    """Statutory minimum wage on 1 January, full-time adult, per year."""
    return _frame("wml.csv")


def aow_age() -> "pl.DataFrame":
    """AOW (state pension) age per calendar year."""
    return _frame("aow_age.csv")


def soi_levels() -> "pl.DataFrame":
    """SOI 4-digit education levels of HOOGSTEOPLTAB with laag/middelbaar/hoog."""
    return _frame("soi_levels.csv")


def sectors() -> "pl.DataFrame":
    """UWV sector codes (SSECT "01".."69") with labels and a broad monitor sector."""
    return _frame("sectors.csv")


def _row_for_year(name: str, year: int, what: str) -> dict[str, str]:
    for r in _rows(name):
        if int(r["year"]) == int(year):
            return r
    years = sorted(int(r["year"]) for r in _rows(name))
    raise ValueError(
        f"no {what} for year {year!r}: {name} covers {years[0]}..{years[-1]}"
    )


def wml_month(year: int) -> float:
    """Monthly full-time WML on 1 January of ``year`` (from 2024: hourly*40*52/12)."""
    return float(_row_for_year("wml.csv", year, "minimum wage")["wml_month_jan1"])


def wml_hour(year: int) -> float:
    """Hourly WML on 1 January of ``year`` at a 40-hour week (statutory hour from 2024)."""
    return float(_row_for_year("wml.csv", year, "minimum wage")["wml_hour_40h"])


def aow_age_months(year: int) -> int:
    """AOW age in ``year`` as total months (e.g. 66 years 4 months -> 796)."""
    r = _row_for_year("aow_age.csv", year, "AOW age")
    return int(r["aow_years"]) * 12 + int(r["aow_months"])
