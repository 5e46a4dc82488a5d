"""indicators.memo: an intermediate is evaluated once per bucket, never shared between different frames."""

from datetime import date

import polars as pl

from monitor_dagster.indicators import register as R
from monitor_dagster.indicators.memo import shared, shared_intermediates


def _counting():
    calls = []

    def build_for(lf):
        def build():
            calls.append(1)
            return lf.with_columns((pl.col("x") * 2).alias("y"))
        return build
    return calls, build_for


def test_shared_evaluates_once_per_frames_and_args():
    calls, build_for = _counting()
    a, b = pl.LazyFrame({"x": [1, 2]}), pl.LazyFrame({"x": [5]})
    with shared_intermediates():
        r1 = shared("double", (a,), build_for(a), 2021)
        r2 = shared("double", (a,), build_for(a), 2021)
        assert len(calls) == 1 and r1 is r2
        # other frames (another bucket) or other arguments: evaluated again, with their own result
        assert shared("double", (b,), build_for(b), 2021).collect()["y"].to_list() == [10]
        shared("double", (a,), build_for(a), 2022)
        assert len(calls) == 3
    # outside the engine's block nothing is kept: every call builds
    shared("double", (a,), build_for(a), 2021)
    shared("double", (a,), build_for(a), 2021)
    assert len(calls) == 5
    with shared_intermediates():     # a new block starts empty
        shared("double", (a,), build_for(a), 2021)
    assert len(calls) == 6


def test_person_months_one_group_by_for_o04_and_o06_to_o08():
    """The shared person-month sums give each rule its own rows: a job-month without contract hours counts for
    the basic hours (O07) but not for O06; an N contract counts for hours but not for O04."""
    jm = pl.LazyFrame({
        "person_id": [1, 1, 2], "IKVID": [1, 2, 3],
        "month": [date(2021, 3, 1)] * 3,
        "basisuren": [40.0, 20.0, 30.0], "basisloon": [800.0, 300.0, 450.0],
        "verloonde_uren": [40.0, 20.0, 30.0], "contracturen": [None, 10.0, 0.0],
        "days": [31.0, 10.0, 31.0], "contract": ["O", "B", "N"], "substantial": [True, True, True],
    }).with_columns(pl.col("contract").cast(pl.Enum(["O", "B", "N"])))
    with shared_intermediates():
        pp = R._person_periods(jm, 2021, False).collect().sort("person_id")
        assert R._person_periods(jm, 2021, False).collect().sort("person_id").equals(pp)   # the same frame
    p1, p2 = pp.row(0, named=True), pp.row(1, named=True)
    assert (p1["_o"], p1["_b"], p1["_nob"]) == (40.0, 20.0, 1) and p2["_nob"] == 0   # _nob: some O or B month
    assert p1["_n_contracturen"] == 1 and p1["_d_contracturen"] == 10.0
    assert abs(p1["_h_contracturen"] - 10.0 * 10.0 / 7.0) < 1e-12     # contract hours x days / 7
    assert p1["_d_basisuren"] == 31.0           # 31 + 10 days capped at the 31 days of March
    assert p1["_h_basisuren"] == 60.0 and p2["_z"] == 1 and p1["_z"] == 0
    assert p1["_l"] / p1["_u"] == 1100.0 / 60.0


def test_ebb_persons_built_once_for_o01_to_o03(monkeypatch):
    """O01-O03 read the same EBB person-years: inside the engine's block they are built once (issue 12: the
    family took 15.6 s for 650 rows at 1 M persons, three times the same group-by), outside it every call
    builds them, and the figures are the same either way."""
    from monitor_dagster.indicators import ebb as E
    from monitor_dagster_tests.test_indicators_ebb import _ebb

    built = []
    real = E.ebb_person_years
    monkeypatch.setattr(E, "ebb_person_years", lambda *a, **k: built.append(1) or real(*a, **k))
    ebb = _ebb()
    alone = [f(ebb, 2021) for f in (E.o01_werkloosheid, E.o02_bruto_participatie, E.o03_netto_participatie)]
    assert len(built) == 3
    built.clear()
    with shared_intermediates():
        inside = [f(ebb, 2021) for f in (E.o01_werkloosheid, E.o02_bruto_participatie, E.o03_netto_participatie)]
    assert len(built) == 1
    assert all(a.equals(b) for a, b in zip(alone, inside))
