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


def _published(rows: list[tuple]) -> pl.DataFrame:
    """A gated sensitivity table by hand: (choice, indicator, herkomst, n, value, suppressed)."""
    out = []
    for choice, iid, herkomst, n, value, sup in rows:
        out.append({"year": Y, "choice": choice, "alternative": "" if choice == "default" else "x", "label": "x",
                    "indicator_id": iid, "measure": "personen" if iid == "N" else "vast contract",
                    "headline": "x", "unit": "personen" if iid == "N" else "%", "herkomst": herkomst,
                    "value": None if sup else value, "n": None if sup else n, "default_value": None,
                    "difference": None, "suppressed": sup, "reason": "fewer than 10 persons" if sup else None})
    return pl.DataFrame(out, schema=SENS.SCHEMA)


def test_the_rest_of_totaal_is_no_group_of_fewer_than_ten():
    """totaal = niet-westers + westers + geen migratieachtergrond, and westers is never in this table.  The demo
    (2021, "student/gepensioneerde al na één dag") showed N totaal 2,564 (-32) and geen 1,913 (-26) with niet-westers
    hidden: 6 persons with a migration background moved, readable as -32 - (-26).  The smallest published part
    goes too; a rest of 10 or more, or of 0, stays."""
    nw, geen = "niet-westers", "geen migratieachtergrond"
    t = _published([("default", "N", "totaal", 2596, 2596.0, False), ("default", "N", nw, 377, 377.0, False),
                    ("default", "N", geen, 1939, 1939.0, False),
                    ("a", "N", "totaal", 2564, 2564.0, False), ("a", "N", nw, None, None, True),
                    ("a", "N", geen, 1913, 1913.0, False),
                    ("b", "N", "totaal", 2530, 2530.0, False), ("b", "N", nw, None, None, True),    # rest 40: stays
                    ("b", "N", geen, 1913, 1913.0, False),
                    # all three published (each 0 or 10+ apart): westers moved 20 - 12 - 0 = 8 persons
                    ("c", "N", "totaal", 2616, 2616.0, False), ("c", "N", nw, 389, 389.0, False),
                    ("c", "N", geen, 1939, 1939.0, False)])
    leaks = SENS.derived_leaks(t)
    assert sorted(t[leaks["_i"].to_list()].select("choice", "herkomst").iter_rows()) == [("a", geen), ("c", nw)]
    out = SENS.hide_derived(t)
    shown = {(r["choice"], r["herkomst"]) for r in out.filter(~pl.col("suppressed")).iter_rows(named=True)}
    assert ("a", geen) not in shown and ("b", geen) in shown and ("c", nw) not in shown
    assert ("c", geen) in shown and ("a", "totaal") in shown         # the rest is now 20 - 0: no small group
    assert SENS.derived_leaks(out).height == 0
    assert out.filter(pl.col("suppressed"))["n"].is_null().all()
    assert any("6 persons" in v for v in check_sensitivity(t)) and check_sensitivity(out) == []


def test_an_alternative_whose_default_is_hidden_is_hidden():
    """The difference column gives the default back (value minus difference): an alternative of 12 persons
    next to a default of 8 is hidden, though its own count is 10 or more and 4 apart from it ... and one of 25,
    17 apart, too."""
    t = _published([("default", "O04", "totaal", 8, 50.0, True), ("a", "O04", "totaal", 25, 48.0, False)])
    assert SENS.derived_leaks(t).height == 1 and any("default is not published" in v for v in check_sensitivity(t))
    assert SENS.hide_derived(t)["suppressed"].all()


def test_the_population_row_goes_with_the_o11_cell_it_counts(table):
    """N (the base population) is no cell of the indicator table, but it is O11's n: where the gated table hides
    O11 "WW" of niet-westers, N of niet-westers would print that cell's count, so it goes under every choice."""
    from monitor_dagster.indicators.table import DIMENSIONS

    n_row = _cell(table, "default", "N", "niet-westers")
    assert not n_row["suppressed"]
    cell = {d: "totaal" for d in DIMENSIONS} | {"indicator_id": "O11", "year": Y, "measure": "WW",
                                                 "herkomst": "niet-westers", "correctie": "geen"}
    out = SENS.hide_with_table(table, pl.DataFrame([cell | {"suppressed": True}]))
    n = out.filter((pl.col("indicator_id") == "N") & (pl.col("herkomst") == "niet-westers"))
    assert n.height > 1 and n["suppressed"].all() and n["n"].is_null().all()
    assert not _cell(out, "default", "N", "totaal")["suppressed"]
