"""EBB indicators O01-O03 (report 4.1): hand-built frames, then synthetic EBBNW against calibration.ebb_figures.

These tests pin the per-wave classification (``classification="wave"``: every respondent-wave its own
observation), which calibration.ebb_figures and CBS's quarterly figures use; the report's yearly rule (the
default) is tested in test_indicators_ebb_year.py."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.indicators.ebb import (ebb_persons, o01_werkloosheid, o02_bruto_participatie,
                                            o03_netto_participatie)
from monitor_dagster.indicators.table import COLUMNS

# person, wave, weight, age, herkomst, generatie, geslacht, opl3, hours, searched, available
ROWS = [
    (1, "1", 100.0, 30, "00", "0", "1", "2", 40, "2", "1"),   # employed
    (1, "2", 300.0, 30, "00", "0", "1", "2", 0, "1", "1"),    # same person, next wave: unemployed
    (2, "1", 200.0, 20, "02", "1", "2", "1", 0, "1", "1"),    # unemployed jongere
    (3, "1", 400.0, 50, "02", "2", "2", None, 0, "2", "2"),   # not in labour force
    (4, "1", 500.0, 40, "13", "1", "1", "3", 0, "1", "2"),    # searched, not available: not unemployed
    (5, "1", 999.0, 75, "00", "0", "1", "3", 40, "2", "1"),   # 75: outside 15-75
    (6, "1", 999.0, 14, "00", "0", "2", "1", 0, "1", "1"),    # 14: outside
    (7, "1", 50.0, 60, "00", "0", "2", "3", 1, "2", "1"),     # one hour a week: employed
]
COLS = ["person_id", "EbbTypGolf", "EbbGewJaarGewichtA", "EbbAflLft", "EbbAflHerkomstGBA2d", "EbbAflGeneratie",
        "EbbAflGeslacht", "EbbAflOpl3", "EbbAflUrenWerk", "EbbAflZoek4Wk", "EbbAflBeschikb"]


def _ebb() -> pl.LazyFrame:
    return pl.DataFrame(ROWS, schema=COLS, orient="row").lazy()


def _cell(df: pl.DataFrame, herkomst: str = "totaal", **dims) -> dict:
    cond = pl.col("herkomst") == herkomst
    for d in ("generatie", "leeftijd", "geslacht", "opleiding", "verblijfsduur", "sector"):
        cond &= pl.col(d) == dims.get(d, "totaal")
    rows = df.filter(cond)
    assert rows.height == 1, (herkomst, dims, rows)
    return rows.row(0, named=True)


def test_persons_mapping():
    p = ebb_persons(_ebb(), 2020, classification="wave").collect()
    assert sorted(p["person_id"].to_list()) == [1, 1, 2, 3, 4, 7]           # 14 and 75 excluded, waves kept
    r = {(row["person_id"], row["EbbTypGolf"]): row for row in p.iter_rows(named=True)}
    assert r[(2, "1")]["herkomst_group"] == "Turkije" and r[(2, "1")]["herkomst_aggregate"] == "niet-westers"
    assert r[(2, "1")]["leeftijd"] == "jongeren" and r[(2, "1")]["generatie"] == "eerste"
    assert r[(3, "1")]["generatie"] == "tweede" and r[(3, "1")]["opleidingsniveau"] == "onbekend"
    assert r[(1, "1")]["herkomst_group"] == "geen migratieachtergrond" and r[(1, "1")]["generatie"] is None
    assert r[(4, "1")]["herkomst_aggregate"] == "westers" and r[(4, "1")]["unemployed"] is False
    assert r[(4, "1")]["labour_force"] is False and r[(7, "1")]["employed"] is True
    assert r[(1, "2")]["unemployed"] is True and r[(7, "1")]["leeftijd"] == "niet-jongeren"


def test_hand_built_indicators():
    ebb = _ebb()
    o1, o2, o3 = (f(ebb, 2020, classification="wave")
                  for f in (o01_werkloosheid, o02_bruto_participatie, o03_netto_participatie))
    for df, iid in ((o1, "O01"), (o2, "O02"), (o3, "O03")):
        assert df.columns == COLUMNS and set(df["indicator_id"]) == {iid}
        assert set(df["verblijfsduur"]) == {"totaal"} and set(df["unit"]) == {"%"}
    # population 15-75: weights 100+300+200+400+500+50 = 1550; employed 100+50; unemployed 300+200
    t1, t2, t3 = _cell(o1), _cell(o2), _cell(o3)
    assert t1["value"] == pytest.approx(100 * 500 / 650) and t1["n"] == 4 and t1["n_weighted"] == 650
    assert t2["value"] == pytest.approx(100 * 650 / 1550) and t2["n"] == 6 and t2["n_weighted"] == 1550
    assert t3["value"] == pytest.approx(100 * 150 / 1550)
    # each wave keeps its own weight: person 1 counts 100 employed + 300 unemployed
    g = _cell(o1, "geen migratieachtergrond")
    assert g["value"] == pytest.approx(100 * 300 / 450) and g["n"] == 3
    assert _cell(o1, "Turkije", leeftijd="jongeren")["value"] == pytest.approx(100.0)
    assert _cell(o3, "niet-westers")["value"] == 0.0 and _cell(o2, "niet-westers")["value"] == pytest.approx(
        100 * 200 / 600)
    assert _cell(o2, "totaal", opleiding="onbekend")["n_weighted"] == 400
    assert _cell(o3, "totaal", geslacht="vrouw")["value"] == pytest.approx(100 * 50 / 650)


def test_unknown_hours_drop_out():
    ebb = _ebb().with_columns(pl.when(pl.col("person_id") == 3).then(None).otherwise(pl.col("EbbAflUrenWerk"))
                              .alias("EbbAflUrenWerk"))
    assert _cell(o03_netto_participatie(ebb, 2020))["n_weighted"] == 1150


synth_ebb_truth: dict = {}


@pytest.fixture(scope="module")
def synth_ebb(tmp_path_factory):
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth import calibration
    from monitor_dagster.synth.generate import SynthConfig, generate
    from monitor_dagster.warehouse import Warehouse

    tmp = tmp_path_factory.mktemp("ebb")
    res = generate(SynthConfig(landing=tmp / "landing", persons=20_000, first_year=2018, last_year=2018, seed=5,
                               fmt="parquet", only_files=("EBBNW",)))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, tmp / "wh", instance=inst, select=["EBBNW"])
    assert summary.ok
    (f,) = [f for f in res.files if f.file_id == "EBBNW" and f.year == 2018]
    raw = calibration.ebb_figures(calibration._read(res.config.landing / f.path))
    synth_ebb_truth.update(res.truth)
    return Warehouse(tmp / "wh").read("EBBNW", "2018"), raw


def test_synthetic_matches_calibration(synth_ebb):
    """Same definitions as calibration.ebb_figures on the raw file; the planted gap shows in O03."""
    ebb, raw = synth_ebb
    o1, o3 = o01_werkloosheid(ebb, 2018, classification="wave"), o03_netto_participatie(ebb, 2018, classification="wave")
    for herk, name in (("totaal", "totaal"), ("niet-westers", "niet-westers"),
                       ("geen migratieachtergrond", "Nederland")):
        assert _cell(o1, herk)["value"] == pytest.approx(raw[name]["unemployment"], abs=1e-9), herk
        assert _cell(o3, herk)["value"] == pytest.approx(raw[name]["participation"], abs=1e-9), herk
        assert _cell(o3, herk)["n"] == raw[name]["n"]
    assert _cell(o3, "niet-westers")["value"] < _cell(o3, "geen migratieachtergrond")["value"]
    o2 = o02_bruto_participatie(ebb, 2018, classification="wave")
    assert _cell(o2)["value"] > _cell(o3)["value"]
    # every breakdown of the EBB dimensions is present for the totaal group
    assert set(o3.filter(pl.col("herkomst") == "totaal")["leeftijd"]) == {"totaal", "jongeren", "niet-jongeren"}
    assert set(o3.filter(pl.col("herkomst") == "totaal")["opleiding"]) >= {"laag", "middelbaar", "hoog", "totaal"}


def test_o03_recovers_the_generators_truth(synth_ebb):
    """O03 (netto participatie, EBB) recovers the generator's latent participation (15-75, employed >= 1 hour)
    within a tolerance derived from the sample size: 3 standard errors of a share estimated from the
    respondents behind the cell, plus 1.5 pp because the truth is measured in December and the EBB over the
    four quarters of the year.  Per wave: the truth is a point-in-time share, which the per-wave classification
    estimates (the yearly rule counts whoever worked 52 hours in the year, more than at one moment)."""
    import math

    ebb, _ = synth_ebb
    truth = synth_ebb_truth["latent_participation_dec"]["2018"]
    t = o03_netto_participatie(ebb, 2018, classification="wave")
    tot = t.filter((pl.col("generatie") == "totaal") & (pl.col("leeftijd") == "totaal") & (pl.col("geslacht") == "totaal")
                   & (pl.col("opleiding") == "totaal"))
    for herkomst, key in (("totaal", "totaal"), ("niet-westers", "niet-westers"), ("geen migratieachtergrond", "Nederland")):
        row = tot.filter(pl.col("herkomst") == herkomst).row(0, named=True)
        p = truth[key]
        respondents = row["n"] / 2.5      # rows are respondent-waves: 1-4 waves, 2.5 on average
        tol = 100 * 3 * math.sqrt(p * (1 - p) / respondents) + 1.5
        assert abs(row["value"] - 100 * p) <= tol, (herkomst, row["value"], 100 * p, tol)
