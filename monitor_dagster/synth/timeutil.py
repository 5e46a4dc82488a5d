"""Small date helpers on numpy ``datetime64[D]`` arrays (vectorised; no Python loops over persons)."""

from __future__ import annotations

import numpy as np
import polars as pl

DAY = np.timedelta64(1, "D")


def date(y: int, m: int = 1, d: int = 1) -> np.datetime64:
    return np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D")


def month_index(dates: np.ndarray, origin_year: int) -> np.ndarray:
    """Months since January of ``origin_year`` (int32), for datetime64[D] input."""
    m = dates.astype("datetime64[M]").astype(np.int64)
    return (m - (origin_year - 1970) * 12).astype(np.int32)


def month_start(idx: np.ndarray, origin_year: int) -> np.ndarray:
    m = (np.asarray(idx, dtype=np.int64) + (origin_year - 1970) * 12).astype("datetime64[M]")
    return m.astype("datetime64[D]")


def month_end(idx: np.ndarray, origin_year: int) -> np.ndarray:
    return month_start(np.asarray(idx) + 1, origin_year) - DAY


def days_in_month(idx: np.ndarray, origin_year: int) -> np.ndarray:
    return (month_start(np.asarray(idx) + 1, origin_year) - month_start(idx, origin_year)).astype(np.int64)


def years_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact age-style difference in whole years between date arrays (b - a)."""
    ay, am, ad = split(a)
    by, bm, bd = split(b)
    return by - ay - ((bm < am) | ((bm == am) & (bd < ad)))


def split(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, day


def add_months(d: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add whole months, clamping the day to the target month's length (AOW-age arithmetic)."""
    y, m, day = split(d)
    total = (y - 1970) * 12 + (m - 1) + np.asarray(months)
    first = total.astype("datetime64[M]").astype("datetime64[D]")
    dim = ((total + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(np.int64)
    return first + (np.minimum(day, dim) - 1).astype("timedelta64[D]")


def to_pl_date(name: str, d: np.ndarray) -> pl.Series:
    """datetime64[D] (NaT allowed) to a polars Date series."""
    return pl.Series(name, d.astype("datetime64[D]"), dtype=pl.Date)


def yyyymmdd(col: str | pl.Expr, open_sentinel: str | None = None) -> pl.Expr:
    """CBS date string ``YYYYMMDD`` from a Date column; null becomes ``open_sentinel`` (or stays null)."""
    e = pl.col(col) if isinstance(col, str) else col
    out = e.dt.strftime("%Y%m%d")
    if open_sentinel is not None:
        out = out.fill_null(open_sentinel)
    return out


def str_series(name: str, arr: np.ndarray) -> pl.Series:
    """A Utf8 series from a numpy object/str array that may hold None."""
    return pl.Series(name, np.asarray(arr, dtype=object).tolist(), dtype=pl.Utf8)
