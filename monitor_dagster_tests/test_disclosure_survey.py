"""The survey rule of the disclosure gate (spec ``disclosure: survey``: O23, O24, O26 from the
mbo-schoolverlatersonderzoek, technisch rapport Monitor gelijke kansen §5.1; docs/indicators_schoolleavers.md)."""

from __future__ import annotations

import polars as pl

from monitor_dagster.gates import apply_disclosure, check_disclosure
from monitor_dagster.gates import disclosure as D
from monitor_dagster.indicators.table import DIMENSIONS, SCHEMA


def row(ind="O23", measure="problemen", n=40, nw=None, value=25.0, **dims) -> dict:
    r = {"indicator_id": ind, "year": 2019, **{d: "totaal" for d in DIMENSIONS}, "measure": measure, "value": value,
         "unit": "%", "n": n, "n_weighted": float(3 * n if nw is None else nw), "status": "definitief",
         "suppressed": False, "trend_break": None, "vintages": "MBOSCHOOLVERLATERS2019V1"}
    r.update(dims)
    return r


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA)


def by_measure(t: pl.DataFrame) -> dict[str, dict]:
    return {r["measure"]: r for r in t.iter_rows(named=True)}


def test_the_survey_indicators_are_the_specs_with_disclosure_survey():
    assert D.SURVEY_INDICATORS == {"O23", "O24", "O26"}
    assert not D.SURVEY_INDICATORS & D.EBB_INDICATORS


def test_ten_respondents_and_ten_weighted_not_the_ebb_15000():
    """A survey cell needs at least ten respondents and at least ten weighted (the graduates it stands for); the
    EBB's 15,000 weighted does not apply: 40 respondents standing for 120 graduates are shown."""
    t = frame([row(n=40, nw=120.0), row(measure="problemen", n=9, nw=30.0, herkomst="Turkije"),
               row(n=12, nw=8.0, herkomst="Marokko"), row(ind="O01", measure="O01", n=40, nw=120.0)])
    out = {(r["indicator_id"], r["herkomst"]): r for r in apply_disclosure(t).iter_rows(named=True)}
    assert not out[("O23", "totaal")]["suppressed"] and out[("O23", "totaal")]["value"] == 25.0
    assert out[("O23", "Turkije")]["suppression_reason"] == "primary_n"
    assert out[("O23", "Marokko")]["suppression_reason"] == "primary_survey"     # weights below 1
    assert out[("O01", "totaal")]["suppression_reason"] == "primary_ebb"        # the EBB rule is untouched
    shown_low = frame([row(n=12, nw=8.0)])
    assert any("survey cell shown with n_weighted < 10" in v for v in check_disclosure(shown_low.with_columns(
        pl.lit(False).alias("suppressed"))))


def test_bol_and_bbl_are_protected_with_their_total():
    """"<m>" = "<m> bol" + "<m> bbl" (report 5.1 4b: bol- en bbl-studenten afzonderlijk): a hidden bbl cell would
    follow from the total and bol (n and value x n_weighted subtract), so bol goes too; the total stays."""
    t = frame([row(measure="problemen", n=30, nw=90.0, value=20.0),
               row(measure="problemen bol", n=24, nw=72.0, value=12.5),
               row(measure="problemen bbl", n=6, nw=18.0, value=50.0)])
    out = by_measure(apply_disclosure(t))
    assert out["problemen bbl"]["suppression_reason"] == "primary_n"
    assert out["problemen bol"]["suppression_reason"] == "secondary"
    assert not out["problemen"]["suppressed"]
    assert check_disclosure(apply_disclosure(t)) == []
    # the same table under the register rule knows no leerweg equation: bol would stay, and bbl follow from it
    plain = by_measure(apply_disclosure(t, survey_indicators=set()))
    assert not plain["problemen bol"]["suppressed"]
    assert any("recoverable" in v for v in check_disclosure(apply_disclosure(t, survey_indicators=set())))


def test_the_leerweg_equation_keeps_measures_apart():
    """"minstens vier keer" is not a part of "een keer": only the bol/bbl suffix makes a part."""
    t = frame([row(ind="O24", measure="een keer", n=30), row(ind="O24", measure="minstens vier keer", n=30),
               row(ind="O24", measure="een keer bol", n=25), row(ind="O24", measure="een keer bbl", n=5),
               row(ind="O24", measure="minstens vier keer bol", n=25),
               row(ind="O24", measure="minstens vier keer bbl", n=5)])
    mem = D._membership(t.with_row_index(D._ROW))
    groups = mem.group_by("gid").agg(pl.col(D._ROW).sort())["_row"].to_list()
    assert sorted(groups) == [[0, 2, 3], [1, 4, 5]]
