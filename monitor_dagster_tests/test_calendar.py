"""Calendar parts by table lookup (core/_intervals.py: calendar_part, in_year) are polars' own date functions,
and job_spells' consecutive-month rule is the month-number rule it replaced (issue 12, sixteenth session);
keep_r compares the stored codes without text casts."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from monitor_dagster.core import jobs as J
from monitor_dagster.core._intervals import calendar_part, in_year, keep_r, month_index

LO, HI = dt.date(2019, 11, 1), dt.date(2021, 12, 31)      # a window with a leap day (29 February 2020)


def _dates(n: int = 3000, seed: int = 5) -> pl.DataFrame:
    rnd = random.Random(seed)
    span = (HI - LO).days
    days = [LO + dt.timedelta(days=rnd.randint(-40, span + 40)) for _ in range(n)]
    return pl.DataFrame({"d": [*days, LO, HI, LO - dt.timedelta(days=1), HI + dt.timedelta(days=1), None]},
                        schema={"d": pl.Date})


POLARS = {
    "month_start": pl.col("d").dt.month_start(),
    "month_end": pl.col("d").dt.month_end(),
    "month_days": pl.col("d").dt.month_end().dt.day().cast(pl.Int32),
    "quarter": pl.col("d").dt.quarter().cast(pl.Int32),
    "month_index": month_index("d"),
}


@pytest.mark.parametrize("part", sorted(POLARS))
def test_calendar_part_is_polars_inside_the_window_and_null_outside(part):
    df = _dates()
    got = df.select(calendar_part("d", LO, HI, part).alias("x")).to_series()
    inside = df.select(pl.col("d").is_between(LO, HI)).to_series().fill_null(False)
    want = df.select(pl.when(pl.col("d").is_between(LO, HI)).then(POLARS[part]).alias("x")).to_series()
    assert got.dtype == want.dtype, part
    assert got.equals(want), part
    assert inside.sum() > 2500 and (~inside).sum() > 100        # both cases are exercised
    assert got.filter(~inside).null_count() == (~inside).sum()


def test_calendar_part_refuses_an_unknown_part_or_empty_window():
    with pytest.raises(ValueError, match="unknown part"):
        calendar_part("d", LO, HI, "weekday")
    with pytest.raises(ValueError, match="empty window"):
        calendar_part("d", HI, LO, "quarter")


def test_in_year_is_the_calendar_year():
    df = _dates()
    for year in (2019, 2020, 2021, 2022):
        got = df.select(in_year("d", year)).to_series()
        assert got.equals(df.select(pl.col("d").dt.year() == year).to_series()), year


def test_job_spells_consecutive_months_across_year_ends_and_february():
    """Month starts 28-31 days apart are consecutive months (February, a leap February, December -> January);
    59 days apart (a month without a row) is a gap: the rule of month numbers."""
    months = [dt.date(2019, 11, 1), dt.date(2019, 12, 1), dt.date(2020, 1, 1), dt.date(2020, 2, 1),
              dt.date(2020, 3, 1), dt.date(2020, 5, 1), dt.date(2021, 1, 1), dt.date(2021, 2, 1),
              dt.date(2021, 3, 1)]
    jm = pl.DataFrame({"person_id": [1] * len(months), "IKVID": [7] * len(months), "month": months,
                       "SBEID": ["b"] * len(months), "contract": ["O"] * len(months),
                       "sector": ["x"] * len(months), "SSECT": ["01"] * len(months),
                       **{c: [1.0] * len(months) for c in ("basisuren", "basisloon", "verloonde_uren", "days",
                                                            "contracturen")}})
    sp = J.job_spells(jm.lazy()).collect().sort("start_month")
    assert sp.select("start_month", "end_month", "n_months").rows() == [
        (dt.date(2019, 11, 1), dt.date(2020, 3, 1), 5),
        (dt.date(2020, 5, 1), dt.date(2020, 5, 1), 1),
        (dt.date(2021, 1, 1), dt.date(2021, 3, 1), 3)]


@pytest.mark.parametrize("dtype", [pl.Enum(["R", "S", "A", "O"]), pl.String, pl.Categorical, pl.Enum(["S", "A"])])
def test_keep_r_keeps_register_persons_whatever_the_column_type(dtype):
    """keep_r (report 2.1: only persons in the population register) compares the warehouse's Enum as it is
    (issue 12) and text otherwise; a code the Enum lacks, a null and other codes are dropped alike."""
    codes = ["R", "S", None, "R", "A"] if dtype != pl.Enum(["S", "A"]) else ["S", None, "A"]
    lf = pl.LazyFrame({"RINPERSOONS": codes, "person_id": range(len(codes))}).with_columns(
        pl.col("RINPERSOONS").cast(dtype))
    expected = [i for i, c in enumerate(codes) if c == "R"]
    assert keep_r(lf).collect()["person_id"].to_list() == expected
    kept = keep_r(lf, drop=False).collect()
    assert kept.columns == ["RINPERSOONS", "person_id"] and kept.height == len(expected)
