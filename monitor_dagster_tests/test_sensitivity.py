"""The sensitivity table (issue 16, item 3): the pipeline's own functions once per alternative of a choice the
report leaves open (monitor_dagster/choices.py), headline figures side by side, disclosure-gated."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from monitor_dagster import sensitivity as SENS
from monitor_dagster.choices import ALTERNATIVES, DEFAULT_LABELS, MethodChoices
from monitor_dagster.export import check_sensitivity, export_sensitivity
from monitor_dagster.gates.disclosure import DisclosureError
from monitor_dagster.indicators import engine as ENG

Y = 2019


def test_every_choice_has_an_alternative_and_a_default_label():
    fields = {f.name for f in dataclasses.fields(MethodChoices)}
    assert {c for c, _, _ in ALTERNATIVES} == fields == set(DEFAULT_LABELS) == set(SENS.AFFECTS)


@pytest.fixture(scope="module")
def table(core_wh):
    return SENS.compute(core_wh, Y, families=("contracts_hours", "secm"))


def _cell(t: pl.DataFrame, choice: str, iid: str, herkomst: str = "totaal", alternative: str | None = None) -> dict:
    f = t.filter((pl.col("choice") == choice) & (pl.col("indicator_id") == iid) & (pl.col("herkomst") == herkomst))
    if alternative is not None:
        f = f.filter(pl.col("alternative") == alternative)
    assert f.height == 1, f
    return f.row(0, named=True)


def test_the_default_column_is_the_pipelines_own_figure(core_wh, table):
    res = ENG.compute_family("contracts_hours", ENG.warehouse_frames(core_wh, "contracts_hours", Y), Y)
    got = SENS.headline_rows(res.table)
    for herkomst in SENS.HERKOMST:
        want = got.filter((pl.col("indicator_id") == "O04") & (pl.col("herkomst") == herkomst))
        c = _cell(table, "default", "O04", herkomst)
        assert c["value"] == pytest.approx(want["value"][0]) and c["n"] == want["n"][0]
    gap = _cell(table, "default", "O04", SENS.GAP)
    assert gap["value"] == pytest.approx(_cell(table, "default", "O04", "niet-westers")["value"]
                                         - _cell(table, "default", "O04", "geen migratieachtergrond")["value"])


def test_alternatives_move_what_their_rule_says(table):
    # O05 over everyone instead of the workers: the same zzp'ers over a larger denominator
    w, a = _cell(table, "default", "O05"), _cell(table, "o05_denominator", "O05")
    n_all = _cell(table, "default", "N")["n"]
    assert a["n"] == n_all > w["n"]
    assert a["value"] * a["n"] == pytest.approx(w["value"] * w["n"])
    # the choice does not touch the other figures: they are the default's
    assert _cell(table, "o05_denominator", "O04")["value"] == _cell(table, "default", "O04")["value"]
    # "any day as student or pensioner" leaves out at least those "more than half the year" does
    any_day = _cell(table, "student_rule", "N", alternative="any_day")["n"]
    assert any_day is None or any_day < n_all
    # every alternative of the register families is in the table (EBB not asked here)
    choices = set(table["choice"])
    assert {c for c, _, _ in ALTERNATIVES if SENS.AFFECTS[c] != ("ebb",)} | {"default"} == choices


def test_the_table_passes_its_disclosure_check_and_exports(table, tmp_path):
    assert check_sensitivity(table) == []
    assert table.filter(~pl.col("suppressed"))["n"].min() >= SENS.MIN_N
    assert "person_id" not in table.columns
    out = export_sensitivity(table, "csv", tmp_path / "s.csv")
    assert pl.read_csv(out).height == table.height
    bad = table.with_columns(pl.when(pl.col("suppressed")).then(1.0).otherwise(pl.col("value")).alias("value"))
    if table["suppressed"].any():
        with pytest.raises(DisclosureError, match="suppressed but published"):
            export_sensitivity(bad, "csv", tmp_path / "bad.csv")


def test_the_gate_hides_cells_that_differences_would_reveal():
    """No cell on fewer than 10 persons, also not as the difference of two published cells (docs/disclosure.md)."""
    def rows(choice, n, value, unit="%", iid="O04", measure="vast contract"):
        return {"indicator_id": iid, "measure": measure, "unit": unit, "herkomst": "totaal", "value": value, "n": n,
                "n_weighted": float(n), "choice": choice, "alternative": "x", "label": "x"}
    default = pl.DataFrame([rows("default", 1000, 50.0)])
    t = pl.DataFrame([rows("default", 1000, 50.0),
                      rows("a", 1004, 50.0),      # 4 persons more: their figure = the difference -> hidden
                      rows("b", 1000, 50.3),      # same persons, 3 move into the share -> hidden
                      rows("c", 1000, 52.0),      # 20 persons move: published
                      rows("d", 9, 50.0),         # fewer than 10 persons
                      rows("e", 1200, 50.0)])     # 200 persons more: published
    g = SENS._gate(t, default, Y)
    hidden = dict(zip(g["choice"], g["suppressed"]))
    assert hidden == {"default": False, "a": True, "b": True, "c": False, "d": True, "e": False}
    assert g.filter(pl.col("suppressed"))["value"].null_count() == 3
    assert g.filter(pl.col("choice") == "c")["difference"][0] == pytest.approx(2.0)



def test_the_gap_is_hidden_exactly_when_one_of_its_parts_is():
    def row(choice, herkomst, n, value):
        return {"indicator_id": "O04", "measure": "vast contract", "unit": "%", "herkomst": herkomst, "value": value,
                "n": n, "n_weighted": float(n), "choice": choice, "alternative": "x", "label": "x"}
    default = pl.DataFrame([row("default", "niet-westers", 500, 60.0), row("default", "geen migratieachtergrond", 900, 75.0),
                            row("default", SENS.GAP, 500, -15.0)])
    t = pl.concat([default,
                   pl.DataFrame([row("a", "niet-westers", 503, 60.0),                 # 3 persons more: hidden
                                 row("a", "geen migratieachtergrond", 900, 75.0), row("a", SENS.GAP, 503, -15.0),
                                 row("b", "niet-westers", 600, 61.0),                 # both parts published
                                 row("b", "geen migratieachtergrond", 1000, 74.0), row("b", SENS.GAP, 600, -13.0)])])
    g = SENS._gate(t, default, Y).filter(pl.col("herkomst") == SENS.GAP)
    hidden = dict(zip(g["choice"], g["suppressed"]))
    assert hidden == {"default": False, "a": True, "b": False}
    assert g.filter(pl.col("choice") == "b")["difference"][0] == pytest.approx(2.0)


def test_a_cell_the_indicator_table_hides_is_hidden_here_too(table):
    """The default row of niet-westers is that cell of the indicator table; an alternative's value minus its
    difference gives it back, and the gap with geen migratieachtergrond too: all hidden where the gated table
    hides the cell (the demo showed O10 "1" of niet-westers here while its table hid it)."""
    from monitor_dagster.indicators.table import DIMENSIONS

    row = _cell(table, "default", "O04", "niet-westers")
    assert not row["suppressed"]
    cell = {d: "totaal" for d in DIMENSIONS} | {"indicator_id": "O04", "year": Y, "measure": row["measure"],
                                                 "herkomst": "niet-westers", "correctie": "geen"}
    gated = pl.DataFrame([cell | {"suppressed": True}, cell | {"herkomst": "totaal", "suppressed": False}])
    out = SENS.hide_with_table(table, gated)
    o04 = out.filter((pl.col("indicator_id") == "O04") & (pl.col("measure") == row["measure"]))
    for h in ("niet-westers", SENS.GAP):
        part = o04.filter(pl.col("herkomst") == h)
        assert part.height > 1 and part["suppressed"].all() and part["value"].is_null().all()
        assert part["difference"].is_null().all()
    assert not _cell(out, "default", "O04", "totaal")["suppressed"]
    assert out.filter(pl.col("indicator_id") != "O04").equals(table.filter(pl.col("indicator_id") != "O04"))
    assert SENS.hide_with_table(table, None).equals(table)
