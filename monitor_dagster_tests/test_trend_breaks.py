"""Trend-break gate: a registered break explains a jump and is carried into the rows; an unregistered planted
jump fails the Great Expectations check (issue 5)."""

import polars as pl

from monitor_dagster.gates.trend_breaks import check, explain
from monitor_dagster.indicators.table import SCHEMA


def _series(indicator, values, unit="%", start=2014, n=500, herkomst="niet-westers", kwartaal="totaal"):
    rows = []
    for i, v in enumerate(values):
        rows.append({"indicator_id": indicator, "year": start + i, "herkomst": herkomst, "generatie": "totaal",
                     "verblijfsduur": "totaal", "leeftijd": "totaal", "geslacht": "totaal", "opleiding": "totaal",
                     "sector": "totaal", "kwartaal": kwartaal, "measure": indicator, "value": v, "unit": unit, "n": n, "n_weighted": float(n),
                     "status": "definitief", "suppressed": False, "trend_break": None, "vintages": ""})
    return pl.DataFrame(rows, schema=SCHEMA)


def test_registered_break_explains_the_payrolling_jump():
    t = _series("O04", [60.0, 61.0, 61.5, 52.0, 52.5])          # 2017: vast share drops 9.5 pp
    rep = check(t)
    assert rep.success, rep.unexplained
    assert rep.explained["year"].to_list() == [2017]
    assert explain(t).filter(pl.col("year") == 2017)["trend_break"].item() == "payrolling_2017"


def test_unregistered_jump_fails_the_check():
    t = _series("O05", [10.0, 10.5, 11.0, 19.0, 19.5])          # zzp share +8 pp in 2017: nothing explains it
    rep = check(t)
    assert not rep.success
    assert rep.unexplained["year"].to_list() == [2017]
    assert rep.ge_result["success"] is False


def test_small_cells_and_relative_tolerance():
    assert check(_series("O05", [10.0, 30.0], n=40)).success, "cells under min_n move by noise"
    assert check(_series("O08", [15.0, 16.0, 17.0], unit="euro")).success
    assert not check(_series("O08", [15.0, 16.0, 25.0], unit="euro")).success


def test_rare_events_are_judged_with_the_pooled_share():
    """A monthly outflow share of 0.8 % that is 6.3 % the next year on 127 persons: the standard error of the
    difference rests on the mean of both years (3 SE = 6.9 pp), so it is sampling noise; the same move on
    2,000 persons (3 SE = 1.7 pp, tolerance the registry's 5 pp) is a jump."""
    assert check(_series("O05", [0.8, 6.3], n=127)).success
    assert not check(_series("O05", [0.8, 6.3], n=2000)).success


def test_data_docs_are_written(tmp_path):
    rep = check(_series("O05", [10.0, 10.5, 11.0, 19.0, 19.5]), docs_dir=tmp_path)
    assert not rep.success
    index = tmp_path / "gx/uncommitted/data_docs/local_site/index.html"
    assert index.exists() and "trend_breaks" in index.read_text(encoding="utf-8")


def test_provisional_cells_are_not_judged():
    """A part-year (voorlopig) figure is incomplete by design and marked as such; it is not a jump."""
    t = _series("O05", [10.0, 10.5, 11.0, 4.0])                # 2017 on part-year data: far below
    assert not check(t).success
    t = t.with_columns(pl.when(pl.col("year") == 2017).then(pl.lit("voorlopig")).otherwise(pl.col("status")).alias("status"))
    rep = check(t)
    assert rep.success and rep.unexplained.height == 0


def test_a_quarter_is_compared_with_the_same_quarter_a_year_earlier():
    """Report 7.1.3 c: seasons must not read as jumps. Year 30 %, K1 10 %, K3 50 % every year (a seasonal
    pattern, steady over the years): no unexplained jump; a real jump in K3 of 2016 is found in K3 alone."""
    t = pl.concat([_series("O05", [30.0] * 4), _series("O05", [10.0] * 4, kwartaal="K1"),
                   _series("O05", [50.0] * 4, kwartaal="K3")])
    assert check(t).success
    jump = pl.concat([_series("O05", [30.0] * 4), _series("O05", [50.0, 50.0, 65.0, 65.0], kwartaal="K3")])
    rep = check(jump)
    assert not rep.success and rep.unexplained["year"].to_list() == [2016]
    assert rep.unexplained["kwartaal"].to_list() == ["K3"]
