"""Sorting by one packed key (core/sorting.py) and the month explosion by integer ranges (core/_intervals.py):
the same rows, in the same order, as polars' multi-column sort and a day-by-day count (issue 12)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from monitor_dagster.core import jobs as J
from monitor_dagster.core._intervals import explode_months
from monitor_dagster.core.sorting import collect_sorted, person_key, sort_rows, sorted_frame

CONTRACT = pl.Enum(["O", "B", "N"])


def _frame(rng: random.Random, n: int, nulls: bool) -> pl.DataFrame:
    def maybe(v):
        return None if nulls and rng.random() < 0.15 else v
    return pl.DataFrame({
        "a": pl.Series([maybe(rng.randint(-4, 4)) for _ in range(n)], dtype=pl.Int32),
        "b": pl.Series([maybe(dt.date(2020, 2, 20) + dt.timedelta(days=rng.randint(0, 20))) for _ in range(n)]),
        "c": pl.Series([maybe(rng.choice(["O", "B", "N"])) for _ in range(n)], dtype=CONTRACT),
        "d": pl.Series([maybe(rng.random() < 0.5) for _ in range(n)], dtype=pl.Boolean),
        "row": pl.Series(range(n), dtype=pl.UInt32),    # makes the key unique, so the order is total
    })


@pytest.mark.parametrize("nulls", [False, True])
def test_sort_rows_is_polars_sort(nulls):
    rng = random.Random(7)
    by = ["a", "b", "c", "d", "row"]
    for trial in range(60):
        df = _frame(rng, rng.randint(0, 80), nulls).sample(fraction=1.0, shuffle=True, seed=trial)
        for desc in (False, True, [True, False, True, False, False], [False, True, False, True, True]):
            for nulls_last in (False, True):
                expected = df.sort(by, descending=desc, nulls_last=nulls_last)
                assert sort_rows(df, by, descending=desc, nulls_last=nulls_last).equals(expected), (trial, desc)


def test_sort_rows_wide_ranges_int128_and_fallback():
    rng = random.Random(3)
    # ranges of 2^40 each: the key needs Int128
    mid = pl.DataFrame({"p": [rng.randint(0, 2 ** 40) for _ in range(500)],
                        "q": [rng.randint(-2 ** 40, 0) for _ in range(500)], "r": [rng.randint(0, 9) for _ in range(500)]})
    assert sort_rows(mid, ["p", "q", "r"], descending=[False, True, False]).equals(
        mid.sort(["p", "q", "r"], descending=[False, True, False]))
    # ranges of 2^63 each do not fit in 126 bits: polars' own sort, same result
    big = pl.DataFrame({"p": [rng.randint(-2 ** 62, 2 ** 62) for _ in range(500)],
                        "q": [rng.randint(-2 ** 62, 2 ** 62) for _ in range(500)], "r": [rng.randint(0, 3) for _ in range(500)]})
    assert sort_rows(big, ["p", "q", "r"]).equals(big.sort(["p", "q", "r"]))
    # a string column is not packable: polars' own sort
    s = pl.DataFrame({"p": [2, 1, 2, 1], "s": ["b", "a", "a", "b"]})
    assert sort_rows(s, ["p", "s"]).equals(s.sort(["p", "s"]))


def test_person_key_orders_like_its_columns():
    rng = random.Random(11)
    n = 400
    df = pl.DataFrame({"person_id": [rng.choice([-2 ** 62, -5, 0, 7, 123456789, 2 ** 62]) for _ in range(n)],
                       "m": [rng.randint(0, 13) for _ in range(n)], "d": [rng.randint(0, 31) for _ in range(n)],
                       "s": [rng.randint(0, 2 ** 32 - 1) for _ in range(n)]})
    key = person_key("person_id", [(pl.col("m"), 4), (pl.col("d"), 5), (pl.col("s"), 32)])
    got = df.with_columns(key.alias("_k")).sort("_k").drop("_k")
    assert got.equals(df.sort(["person_id", "m", "d", "s"]))
    with pytest.raises(ValueError, match="at most 63"):
        person_key("person_id", [(pl.col("m"), 32), (pl.col("s"), 32)])


def test_sorted_frame_sorts_what_is_not_in_order():
    df = pl.DataFrame({"person_id": [3, 1, 2, 1], "IKVID": [1, 2, 1, 1], "x": [0, 1, 2, 3]})
    out = sorted_frame(df.lazy(), ["person_id", "IKVID"]).collect()
    assert out["x"].to_list() == [3, 1, 2, 0]


def _explode_by_days(spells: list[tuple[int, dt.date, dt.date | None]], lo: dt.date, hi: dt.date) -> pl.DataFrame:
    """The reference: every day of every spell inside the window, counted per (spell, month)."""
    rows = {}
    for i, (person, start, end) in enumerate(spells):
        d, last = max(start, lo), min(end or hi, hi)
        while d <= last:
            m = d.replace(day=1)
            rows[(i, m)] = rows.get((i, m), 0) + 1
            d += dt.timedelta(days=1)
    out = []
    for (i, m), days in sorted(rows.items()):
        nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append({"i": i, "month": m, "days": days, "month_days": (nxt - m).days})
    return pl.DataFrame(out, schema={"i": pl.Int64, "month": pl.Date, "days": pl.Int32, "month_days": pl.Int32})


def test_explode_months_matches_a_day_by_day_count():
    rng = random.Random(5)
    lo, hi = dt.date(2019, 11, 1), dt.date(2020, 12, 31)      # a leap year: February has 29 days
    spells = []
    for _ in range(300):
        start = dt.date(2019, 6, 1) + dt.timedelta(days=rng.randint(0, 700))
        end = None if rng.random() < 0.2 else start + dt.timedelta(days=rng.randint(0, 120))
        spells.append((rng.randint(1, 50), start, end))
    lf = pl.LazyFrame({"i": list(range(len(spells))), "person_id": [p for p, _, _ in spells],
                       "start": [s for _, s, _ in spells], "end": [e for _, _, e in spells]},
                      schema={"i": pl.Int64, "person_id": pl.Int64, "start": pl.Date, "end": pl.Date})
    got = explode_months(lf, lo, hi).select("i", "month", "days", "month_days").collect().sort("i", "month")
    assert got.height > 500
    assert got.equals(_explode_by_days(spells, lo, hi))


def test_job_spells_presorted_is_the_same():
    rng = random.Random(2)
    rows = []
    for p in range(1, 40):
        for job in range(1, rng.randint(1, 3) + 1):
            for k in sorted(rng.sample(range(14), rng.randint(1, 10))):
                rows.append({"person_id": p, "IKVID": job, "SBEID": f"{job:09d}",
                             "month": dt.date(2020 + (10 + k) // 12, (10 + k) % 12 + 1, 1),
                             "basisuren": float(rng.randint(0, 160)), "basisloon": float(rng.randint(0, 4000)),
                             "verloonde_uren": None, "contracturen": 20.0, "days": 30.0,
                             "contract": rng.choice(["O", "B"]), "sector": None, "SSECT": None, "substantial": True})
    jm = pl.DataFrame(rows, schema_overrides={"contract": CONTRACT, "verloonde_uren": pl.Float64,
                                              "sector": pl.String, "SSECT": pl.String})
    shuffled = jm.sample(fraction=1.0, shuffle=True, seed=1).lazy()
    expected = J.job_spells(shuffled).collect().sort("person_id", "IKVID", "spell_no")
    got = J.job_spells(sorted_frame(shuffled, ["person_id", "IKVID", "month"]), presorted=True).collect()
    assert got.sort("person_id", "IKVID", "spell_no").equals(expected)
    assert expected["spell_no"].max() > 1


@pytest.mark.parametrize("nulls_last", [False, True])
def test_collect_sorted_is_sort_rows(nulls_last):
    """collect_sorted (the column-group gather that holds a bucket once) gives exactly sort_rows' rows, columns
    and dtypes: packed keys, a string key (polars' own order), nulls first and last, more columns than one
    gather takes, an empty frame."""
    rng = random.Random(5)
    for trial in range(30):
        df = _frame(rng, rng.randint(0, 60), nulls=True).with_columns(
            f=pl.col("row").cast(pl.Float64) / 3, g=pl.col("a") * 2).sample(fraction=1.0, shuffle=True, seed=trial)
        df = df.with_columns(s=pl.col("row").cast(pl.String).str.zfill(3).reverse())
        for by in (["a", "b", "c", "d", "row"], ["row"], ["s"], ["a", "s", "row"]):
            got = collect_sorted(df.lazy(), by, nulls_last=nulls_last)
            assert got.columns == df.columns and got.schema == df.schema
            assert got.equals(sort_rows(df, by, nulls_last=nulls_last)), (trial, by)


def test_rows_already_in_order_are_not_gathered(monkeypatch):
    """A bucket that comes in the order asked for (a table stored in its ROW_ORDER, a group-by over sorted rows)
    is returned as it is: sort_rows hands back the same frame, collect_sorted gathers no column. Rows in
    another order (or in order for another direction) are still sorted."""
    rng = random.Random(9)
    df = _frame(rng, 200, nulls=True).sort(["a", "b", "row"], nulls_last=True)
    assert sort_rows(df, ["a", "b", "row"], nulls_last=True) is df
    gathers = []
    real = pl.DataFrame.__getitem__

    def counting(self, item):
        if isinstance(item, pl.Series):
            gathers.append(len(item))
        return real(self, item)

    monkeypatch.setattr(pl.DataFrame, "__getitem__", counting)
    assert collect_sorted(df.lazy(), ["a", "b", "row"], nulls_last=True).equals(df)
    assert gathers == []
    for by, desc in ((["a", "b", "row"], [True, False, False]), (["b", "a", "row"], False)):
        got = sort_rows(df, by, descending=desc, nulls_last=True)
        assert got is not df and got.equals(df.sort(by, descending=desc, nulls_last=True)), by
    assert collect_sorted(df.lazy(), ["b", "a", "row"], nulls_last=True).equals(
        df.sort(["b", "a", "row"], nulls_last=True))
    assert gathers, "rows out of order were not gathered"


def test_in_order_is_exactly_sortedness(monkeypatch):
    """The one-pass check says "in order" exactly when sorting would change nothing: random frames of integer,
    date, Enum (category order, not text order) and boolean columns, sorted and not, with ties; a column with
    nulls or of another type is left to the sort. A frame found in order never reaches the packed key."""
    from monitor_dagster.core import sorting as SO

    rng = random.Random(11)
    for trial in range(60):
        df = _frame(rng, rng.randint(2, 40), nulls=False).drop("row")
        by = rng.sample(["a", "b", "c", "d"], rng.randint(1, 4))
        for frame in (df, df.sort(by), df.sort(by, descending=True)):
            expected = frame.equals(frame.sort(by, maintain_order=True))
            assert SO._in_order(frame, by) is expected, (trial, by)
    enum_rows = pl.DataFrame({"c": pl.Series(["O", "B", "N"], dtype=CONTRACT)})
    assert SO._in_order(enum_rows, ["c"]) and not SO._in_order(enum_rows.reverse(), ["c"])
    with_null = pl.DataFrame({"a": [1, None, 3]})
    assert not SO._in_order(with_null, ["a"])
    assert not SO._in_order(pl.DataFrame({"s": ["a", "b"]}), ["s"])

    def no_key(*a, **k):
        raise AssertionError("a frame in order was packed and sorted")

    monkeypatch.setattr(SO, "_packed_key", no_key)
    ordered = _frame(rng, 50, nulls=False).sort(["a", "b", "row"])
    assert SO.collect_sorted(ordered.lazy(), ["a", "b", "row"]).equals(ordered)
    assert SO.sort_rows(ordered, ["a", "b", "row"]) is ordered
