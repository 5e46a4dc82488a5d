"""Great Expectations suites per indicator, generated from the specs (issue 11 item 6): range by unit, null
exactly when suppressed, measures of the spec, a complete cube, the trend rule with registered breaks; Data
Docs with the table suite and a stored summary per indicator; trend-break ids said once (specs.yaml)."""

from __future__ import annotations

import re
from importlib import resources

import polars as pl
import pytest
import yaml

from monitor_dagster.gates import expectations as X
from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.indicators import spec as S
from monitor_dagster.indicators.table import DIMENSIONS, SCHEMA, TOTAAL, empty

#: a category per dimension (the suites only look at "is it broken down", not at the values)
CATEGORY = {"generatie": "eerste", "verblijfsduur": "0-5 jaar", "leeftijd": "15-24", "geslacht": "vrouw",
            "opleiding": "laag", "kwartaal": "K2"}
#: a plausible, constant value per unit (no year-on-year jumps)
VALUE = {"%": 40.0, "maanden": 6.0, "uren per week": 30.0, "euro per uur": 20.0, "euro": 30_000.0}
YEARS = [2016, 2017, 2018]


def _row(iid: str, year: int, *, herkomst: str = TOTAAL, dim: str | None = None, measure: str | None = None,
         value: float | None = None, n: int | None = 5000, suppressed: bool = False) -> dict:
    sp = S.spec(iid)
    r = {d: TOTAAL for d in DIMENSIONS}
    r.update(herkomst=herkomst, **({dim: CATEGORY[dim]} if dim and dim != TOTAAL else {}))
    v = VALUE[sp.unit] if value is None and not suppressed else value
    return {**r, "indicator_id": iid, "year": year, "measure": measure or (sp.measures or sp.categories)[0],
            "value": v, "unit": sp.unit, "n": None if suppressed else n,
            "n_weighted": None if suppressed else float(n), "status": "definitief", "suppressed": suppressed,
            "trend_break": None, "vintages": ""}


def _table(ids, years=YEARS) -> pl.DataFrame:
    """Per indicator and year: every dimension of the indicator at herkomst totaal, each measure of the spec
    (up to three), one herkomst group, and one suppressed cell (value, n, n_weighted null)."""
    rows = []
    for iid in ids:
        sp = S.spec(iid)
        for y in years:
            for m in (sp.measures or sp.categories)[:3]:
                rows += [_row(iid, y, dim=d, measure=m) for d in X.dimensions(sp)]
                rows.append(_row(iid, y, herkomst="Turkije", measure=m))
            rows.append(_row(iid, y, herkomst="Eritrea", dim="geslacht", suppressed=True))
    return pl.concat([empty(), pl.DataFrame(rows, schema=SCHEMA)], how="vertical")


def _set(t: pl.DataFrame, cond: pl.Expr, **values) -> pl.DataFrame:
    return t.with_columns(*[pl.when(cond).then(pl.lit(v, dtype=SCHEMA[c])).otherwise(pl.col(c)).alias(c)
                            for c, v in values.items()])


def _cell(iid: str, year: int, dim: str = TOTAAL) -> pl.Expr:
    others = [d for d in DIMENSIONS if d not in ("herkomst", dim)]
    return ((pl.col("indicator_id") == iid) & (pl.col("year") == year) & (pl.col("herkomst") == TOTAAL)
            & pl.all_horizontal([pl.col(d) == TOTAAL for d in others])
            & ((pl.col(dim) != TOTAAL) if dim != TOTAAL else pl.lit(True)))


def _failed(rep, iid):
    return {f["rule"] for f in rep.suites[iid]["failed"]}


# ----------------------------------------------------------------------------------------------- suites
def test_a_clean_table_passes_every_suite():
    """EBB (no verblijfsduur), a register share, income (negative allowed), categories (O10), hours, the SRG
    measure names of P-a and the 'geen = 12' durations of U-b."""
    ids = ["O01", "O04", "O06", "O09", "O10", "P-a", "U-b"]
    t = _table(ids)
    t = _set(t, (pl.col("indicator_id") == "O09") & (pl.col("herkomst") == "Turkije"), value=-1500.0)
    rep = TB.check(t)
    assert rep.failures == [] and rep.contract_success
    assert rep.success and rep.unexplained.height == 0
    assert set(rep.suites) == set(ids)
    assert all(r["success"] for r in rep.suites.values()), rep.suites
    assert all(r["evaluated"] == 14 for r in rep.suites.values()), "every rule judges every indicator"


def test_share_of_101_fails_the_range_of_that_indicator_only():
    # last year and n under min_n: the trend rule does not judge the cell (its jump from 40 would be a second,
    # warning-level failure)
    t = _set(_table(["O04", "O05"]), _cell("O05", 2018, "geslacht"), value=101.0, n=50)
    rep = TB.check(t)
    assert _failed(rep, "O05") == {"range"} and rep.suites["O04"]["success"]
    assert rep.failures == ["O05: value in [0, 100]: 1 row (e.g. 2018 totaal geslacht=vrouw / zzp)"]
    assert rep.success, "the trend rule is separate from the contract rules"
    assert not rep.contract_success


def test_units_have_their_own_range():
    t = _set(_table(["O06", "O09", "O15"]), _cell("O06", 2018), value=0.0, n=50)    # hours: (0, 80]
    t = _set(t, _cell("O09", 2018), value=1_000_001.0, n=50)                        # above the income cap
    t = _set(t, _cell("O15", 2018), value=12.5, n=50)                               # more than 12 months
    rep = TB.check(t)
    assert {i: _failed(rep, i) for i in rep.suites} == {"O06": {"range"}, "O09": {"range"}, "O15": {"range"}}
    assert any(f.startswith("O06: value in (0, 80]") for f in rep.failures)


def test_suppressed_cell_with_a_value_fails():
    t = _table(["O05"])
    t = _set(t, pl.col("suppressed") & (pl.col("year") == 2017), value=12.5)
    rep = TB.check(t)
    assert _failed(rep, "O05") == {"suppressed"}
    assert rep.failures == ["O05: value null when suppressed: 1 row (e.g. 2017 Eritrea geslacht=vrouw / zzp)"]


def test_unsuppressed_cell_without_value_fails():
    t = _set(_table(["O12"]), _cell("O12", 2016, "leeftijd"), value=None)
    t = _set(t, _cell("O12", 2018, "leeftijd"), n=None)
    rep = TB.check(t)
    assert _failed(rep, "O12") == {"suppressed"}
    assert {f.split(":")[1].strip() for f in rep.failures} == {"value not null when not suppressed",
                                                                 "n not null when not suppressed"}


def test_missing_dimension_fails_completeness():
    t = _table(["O04", "O05"])
    t = t.filter(~((pl.col("indicator_id") == "O05") & (pl.col("year") == 2017) & (pl.col("geslacht") != TOTAAL)))
    rep = TB.check(t)
    assert _failed(rep, "O05") == {"completeness"} and rep.suites["O04"]["success"]
    assert rep.failures == ["O05: every dimension at herkomst totaal in every year: missing 2017 geslacht"]


def test_small_cells_and_not_computable_breakdowns_are_no_gap():
    """A total cell under min_n persons may lack a breakdown by nature (generatie is undefined without a migration
    background); a breakdown readiness calls not computable (its file is absent) is not expected at all."""
    t = _table(["O05"]).filter(~((pl.col("year") == 2017) & (pl.col("generatie") != TOTAAL)))
    small = _set(t, (pl.col("year") == 2017) & (pl.col("herkomst") == TOTAAL), n=40)
    assert TB.check(small).suites["O05"]["success"]
    assert _failed(TB.check(t), "O05") == {"completeness"}            # the same gap in a big cell fails
    assert TB.check(t, not_computable={2017: {"generatie"}}).suites["O05"]["success"]


def test_ebb_indicators_need_no_verblijfsduur_but_register_ones_do():
    assert "verblijfsduur" not in X.dimensions(S.spec("O03")) and "verblijfsduur" in X.dimensions(S.spec("O04"))
    t = _table(["O03", "O04"]).filter(pl.col("verblijfsduur") == TOTAAL)
    rep = TB.check(t)
    assert rep.suites["O03"]["success"] and _failed(rep, "O04") == {"completeness"}


def test_measure_outside_the_spec_fails():
    t = _table(["O04", "P-a"])
    t = _set(t, _cell("P-a", 2018, "leeftijd") & (pl.col("measure") == "WIW/ID-baan"),
             measure="vanaf 2019: iets nieuws")
    rep = TB.check(t)
    assert _failed(rep, "P-a") == {"measures"} and rep.suites["O04"]["success"]
    assert rep.failures == ["P-a: measure is one of the spec's measures: 1 row "
                            "(e.g. 2018 totaal leeftijd=15-24 / vanaf 2019: iets nieuws)"]


def test_indicator_without_a_spec_is_a_failure():
    t = pl.concat([_table(["O04"]), _table(["O04"]).with_columns(pl.lit("O99").alias("indicator_id"))])
    rep = TB.check(t)
    assert set(rep.suites) == {"O04"}
    assert any(f.startswith("O99: not a built indicator") for f in rep.failures)


def test_registered_break_explains_o04_2017_and_the_same_jump_in_2018_fails():
    years = [2014, 2015, 2016, 2017, 2018]

    def series(values):
        t = _table(["O04"], years)
        for y, v in zip(years, values):
            t = _set(t, (pl.col("year") == y) & ~pl.col("suppressed"), value=v)
        return t

    rep = TB.check(series([60.0, 61.0, 61.5, 51.5, 52.0]))       # 2017: payrolling, -10 pp
    assert rep.success and rep.suites["O04"]["success"]
    assert set(rep.explained["year"]) == {2017} and set(rep.explained["trend_break"]) == {"payrolling_2017"}
    assert rep.suites["O04"]["explained"] == rep.explained.height > 0

    rep = TB.check(series([60.0, 61.0, 61.5, 62.0, 52.0]))       # the same jump one year later
    assert not rep.success and set(rep.unexplained["year"]) == {2018}
    assert _failed(rep, "O04") == {"trend"} and rep.suites["O04"]["failed"][0]["severity"] == "warning"
    assert rep.contract_success and rep.failures == [], "a jump is a warning, not a contract failure"
    assert rep.suites["O04"]["unexplained_examples"][0]["year"] == 2018


# -------------------------------------------------------------------------------------- Data Docs, summary
def test_data_docs_have_the_table_suite_and_a_summary_per_indicator(tmp_path):
    t = _set(_table(["O04", "O05", "U-a"]), _cell("U-a", 2018), value=101.0, n=50)
    rep = TB.check(t, docs_dir=tmp_path)
    index = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert rep.data_docs == str(index.resolve()) and rep.ge_result["data_docs"] == rep.data_docs
    html = index.read_text(encoding="utf-8")
    assert set(re.findall(r'expectations/([^"/]+)\.html', html)) == {X.TABLE_SUITE}
    page = (index.parent / "expectations" / f"{X.TABLE_SUITE}.html").read_text(encoding="utf-8")
    assert "U-a" in page, "the suite's parameters (measures per indicator) are generated from the specs"
    results = list((index.parent / "validations").rglob("*.html"))
    assert len(results) == 1, results

    doc = TB.read_summary(tmp_path, t)
    assert doc is not None and set(doc["suites"]) == {"O04", "O05", "U-a"}
    assert doc["failures"] == rep.failures and doc["failures"][0].startswith("U-a: value in [0, 100]")
    assert doc["suites"]["U-a"]["failed"][0]["rule"] == "range" and doc["data_docs"] == rep.data_docs
    assert TB.read_summary(tmp_path, t.head(10)) is None, "a summary of another table is not reused"

    # the next check of a table without U-a: the suite no longer names it, a second result page is kept
    TB.check(t.filter(pl.col("indicator_id") != "U-a"), docs_dir=tmp_path)
    page = (index.parent / "expectations" / f"{X.TABLE_SUITE}.html").read_text(encoding="utf-8")
    assert "U-a" not in page and "O05" in page
    assert len(list((index.parent / "validations").rglob("*.html"))) == 2


def test_suites_of_an_older_warehouse_are_removed(tmp_path):
    """Before the table suite, the gate kept one suite per indicator: a warehouse of that time keeps none."""
    import great_expectations as gx

    ctx = gx.get_context(mode="file", project_root_dir=str(tmp_path))
    ctx.suites.add(gx.ExpectationSuite(name="O04"))
    TB.check(_table(["O04"]), docs_dir=tmp_path)
    ctx = gx.get_context(mode="file", project_root_dir=str(tmp_path))
    assert [s.name for s in ctx.suites.all()] == [X.TABLE_SUITE]


def test_a_failure_of_many_rows_counts_them_all_per_indicator():
    """GE's BASIC result stops at 20 example values: the per-indicator counts come from a COMPLETE rerun."""
    t = _table(["O04", "O05"])
    t = _set(t, (pl.col("indicator_id") == "O05") & ~pl.col("suppressed"), value=150.0)
    t = _set(t, (pl.col("indicator_id") == "O04") & (pl.col("herkomst") == "Turkije"), value=-1.0)
    rep = TB.check(t)
    n05 = t.filter((pl.col("indicator_id") == "O05") & ~pl.col("suppressed")).height
    n04 = t.filter((pl.col("indicator_id") == "O04") & (pl.col("herkomst") == "Turkije")).height
    assert n05 > 20
    texts = {f.split(":")[0]: f for f in rep.failures}
    assert texts["O05"].startswith(f"O05: value in [0, 100]: {n05} rows (e.g. ")
    assert texts["O04"].startswith(f"O04: value in [0, 100]: {n04} rows (e.g. 2016 Turkije")


def test_site_reads_the_stored_summary(tmp_path, monkeypatch):
    """The technical report takes the checks stored with the table; a fresh check only when there is none."""
    from monitor_dagster.publication import site as SITE

    t = _table(["O04"])
    TB.check(t, docs_dir=tmp_path)
    monkeypatch.setattr(TB, "check", lambda *a, **k: pytest.fail("the stored summary should have been used"))
    q = SITE.quality(t, tmp_path)
    assert q["source"] == "warehouse" and q["data_docs"].endswith("index.html") and "O04" in q["suites"]
    assert SITE._default_warehouse(tmp_path / "publication" / "site") == tmp_path
    monkeypatch.undo()
    q = SITE.quality(t, tmp_path / "elsewhere")
    assert q["source"] == "check" and q["data_docs"] is None and q["suites"]["O04"]["success"]

    # what the report says per indicator: passed / the failed expectations (a trend jump alone is a warning)
    assert SITE._suite_text(q["suites"]["O04"]) == ("ok", "geslaagd (14 verwachtingen)")
    bad = TB.check(_set(t, _cell("O04", 2018), value=101.0, n=50)).suites["O04"]
    css, text = SITE._suite_text(bad)
    assert css == "fail" and text.startswith("niet geslaagd: bereik: value in [0, 100]: 1 row")
    jump = {"success": False, "failed": [{"rule": "trend", "severity": "warning", "text": "..."}]}
    assert SITE._suite_text(jump)[0] == "warn"


# ----------------------------------------------------------------------------------- trend-break registry
def _yaml_breaks() -> list[dict]:
    text = resources.files("monitor_dagster.indicators").joinpath("trend_breaks.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["breaks"]


def test_every_break_named_by_a_spec_is_registered():
    registered = {b["id"] for b in _yaml_breaks()}
    for iid, sp in S.specs().items():
        unknown = set(sp.trend_breaks) - registered
        assert not unknown, f"{iid}: {unknown} not in trend_breaks.yaml"


def test_trend_breaks_yaml_names_indicators_only_as_star():
    """The per-indicator link is said once, in specs.yaml; the registry fills it in."""
    for b in _yaml_breaks():
        assert b.get("indicators") in (None, ["*"]), b["id"]
    reg = {b["id"]: b for b in TB.registry()["breaks"]}
    assert reg["payrolling_2017"]["indicators"] == ["O04", "O29", "O30"]    # contract types: vast vs tijdelijk
    assert set(reg["srg_2019"]["indicators"]) == {f"P-{c}" for c in "abcdef"}
    assert reg["herkomst_2022"]["indicators"] == ["*"]
    # SOI 2021 is a change of HOOGSTEOPLTAB: the indicators with its opleiding (core/population), not the EBB's
    assert {"O04", "O26", "P-a", "U-a"} <= set(reg["soi_2021"]["indicators"])
    assert not {"O01", "O02", "O03"} & set(reg["soi_2021"]["indicators"])


def test_a_row_two_breaks_concern_names_both():
    """O26 of 2019 by opleiding: the re-worded question (report 5.1, "kan leiden tot een trendbreuk") and SOI 2021;
    O01 by opleiding (the survey's own education level): neither; O04 of 2019 in totaal: none."""
    t = pl.DataFrame([{"indicator_id": i, "year": 2019, **{d: "totaal" for d in DIMENSIONS}, "opleiding": o,
                       "trend_break": None} for i, o in (("O26", "laag"), ("O26", "totaal"), ("O01", "laag"),
                                                        ("O04", "totaal"), ("O04", "hoog"))],
                     schema_overrides={"trend_break": pl.String})
    got = dict(zip(zip(t["indicator_id"], t["opleiding"]), TB.explain(t)["trend_break"]))
    assert got == {("O26", "laag"): "soi_2021,schoolverlaters_2019", ("O26", "totaal"): "schoolverlaters_2019",
                   ("O01", "laag"): None, ("O04", "totaal"): None, ("O04", "hoog"): "soi_2021"}
    assert TB.split_ids(got[("O26", "laag")]) == ["soi_2021", "schoolverlaters_2019"] and TB.split_ids(None) == []


def test_every_registered_break_is_named_by_a_spec():
    named = {b for sp in S.specs().values() for b in sp.trend_breaks}
    orphans = [b["id"] for b in _yaml_breaks()
               if b.get("indicators") != ["*"] and not b.get("via") and b["id"] not in named]
    assert orphans == []


def test_o39_months_to_work_may_run_to_36():
    """O39 counts months to work up to 36 (report 5.2 4g), the unit 'maanden' otherwise within a year."""
    from monitor_dagster.gates.expectations import value_range

    assert value_range(S.spec("O39")) == (0.0, 36.0, False)
    assert value_range(S.spec("O15")) == (0.0, 12.0, False)
