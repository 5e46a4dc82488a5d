"""The indicator table contract (docs/indicators.md) and the generic aggregation behind every indicator."""

import polars as pl

from monitor_dagster.indicators.table import COLUMNS, SCHEMA, cells


def _persons():
    return pl.LazyFrame({
        "herkomst_group": ["Turkije", "Turkije", "geen migratieachtergrond", "Marokko"],
        "herkomst_aggregate": ["niet-westers", "niet-westers", "geen", "niet-westers"],
        "generatie": ["eerste", "tweede", None, "eerste"], "geslacht": ["man", "vrouw", "man", "vrouw"],
        "value": [1.0, 0.0, 1.0, 1.0], "jobs": ["1", "1-2", "1", "1"], "w": [1.0, 3.0, 2.0, 2.0]})


def _cell(t, **kw):
    f = t
    for k, v in kw.items():
        f = f.filter(pl.col(k) == v)
    assert f.height == 1, (kw, f)
    return f.row(0, named=True)


def test_columns_and_types_follow_the_contract():
    t = cells(_persons(), indicator_id="O05", year=2019, unit="%", dimensions=["totaal", "generatie"])
    assert t.columns == COLUMNS and dict(t.schema) == SCHEMA
    assert set(t["status"]) == {"definitief"} and not t["suppressed"].any()


def test_shares_means_totals_and_aggregates():
    t = cells(_persons(), indicator_id="O05", year=2019, unit="%", dimensions=["totaal", "generatie"])
    assert _cell(t, herkomst="Turkije", generatie="totaal")["value"] == 50.0
    assert _cell(t, herkomst="Turkije", generatie="eerste")["value"] == 100.0
    nw = _cell(t, herkomst="niet-westers", generatie="totaal")
    assert (round(nw["value"], 3), nw["n"]) == (66.667, 3)
    assert _cell(t, herkomst="totaal", generatie="totaal")["n"] == 4
    assert t.filter(pl.col("n") == 0).height == 0, "empty cells are not rows"


def test_weights_and_categories():
    t = cells(_persons(), indicator_id="O03", year=2019, unit="%", weight="w", dimensions=["totaal"])
    nw = _cell(t, herkomst="niet-westers")
    assert nw["n"] == 3 and nw["n_weighted"] == 6.0 and round(nw["value"], 3) == round(100 * 3 / 6, 3)
    t2 = cells(_persons(), indicator_id="O10", year=2019, unit="%", by_measure="jobs", dimensions=["totaal"])
    tr = t2.filter(pl.col("herkomst") == "Turkije").sort("measure")
    assert tr["measure"].to_list() == ["1", "1-2"] and tr["value"].to_list() == [50.0, 50.0]
