"""The XLSForm instruments of the input surveys (technisch rapport Monitor gelijke kansen, §3.2.2, §3.3, §3.5):
they convert with pyxform, the committed xlsx are what build_forms.py makes of the sources, and load_form gives
back what the sheet says."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert

from monitor_dagster.surveys import build_forms
from monitor_dagster.surveys.xlsform import FormError, form, forms, load_form

INSTRUMENTS = {("gemeenten", "2023"), ("werkgevers", "2023"), ("onderwijsinstellingen", "2023")}


def _sheet(path: Path, name: str) -> list[dict]:
    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_packaged_forms_are_the_three_instruments():
    assert set(forms()) == INSTRUMENTS


@pytest.mark.parametrize("key", sorted(INSTRUMENTS))
def test_each_form_converts_to_xform(key):
    warnings: list[str] = []
    result = convert(str(forms()[key]), warnings=warnings)
    assert "<h:html" in result.xform
    assert "count-selected(.) &lt;= 3" in result.xform            # top three
    assert warnings == []


def test_committed_forms_equal_a_fresh_build(tmp_path):
    built = build_forms.build_all(tmp_path)
    assert {p.name for p in built} == {p.name for p in forms().values()}
    for fresh in built:
        committed = forms()[tuple(fresh.stem.rsplit("_", 1))]
        for sheet in ("survey", "choices", "settings"):
            assert _sheet(fresh, sheet) == _sheet(committed, sheet), (
                f"{committed.name} sheet {sheet} differs from a fresh build: run "
                ".venv/bin/python -m monitor_dagster.surveys.build_forms and commit")


@pytest.mark.parametrize("key", sorted(INSTRUMENTS))
def test_load_form_matches_the_sheet(key):
    path = forms()[key]
    f = load_form(path)
    assert (f.instrument, f.wave, f.version) == (*key, "2023.1")
    survey = [r for r in _sheet(path, "survey") if r["type"] not in ("begin_group", "end_group")]
    lists: dict[str, list[str]] = {}
    for r in _sheet(path, "choices"):
        lists.setdefault(r["list_name"], []).append(str(r["name"]))
    assert list(f.questions) == [r["name"] for r in survey]
    for r in survey:
        q = f.questions[r["name"]]
        base, _, list_name = r["type"].partition(" ")
        assert q.type == base
        assert q.required == (r["required"] == "yes")
        assert q.relevant == r["relevant"]
        assert q.constraint == r["constraint"]
        assert q.choice_filter == r["choice_filter"]
        assert q.section == r["monitor_section"]
        want = list_name or r["monitor_choices"]
        assert q.choices == (tuple(lists[want]) if want else None)
        assert q.section in build_forms.SECTIONS


def test_gemeenten_items_as_the_report_gives_them():
    f = form("gemeenten", "2023")
    q = f.questions["prioriteit"]
    assert q.label == ("Kunt u aangeven of de arbeidstoeleiding van personen met een niet-westerse "
                       "migratieachtergrond binnen uw gemeente een zeer hoge, een tamelijk hoge, een tamelijk lage "
                       "of géén prioriteit heeft?")
    assert q.choice_labels == ("Zeer hoge", "Een tamelijk hoge", "Een tamelijk lage", "Géén prioriteit")
    assert "Indonesië en Japan" in f.questions["intro"].label
    ratings = f.of_section("acties")
    assert [r.name for r in ratings if r.name.startswith("freq_")] == [
        "freq_leerwerk", "freq_wep", "freq_vrijwilligerswerk", "freq_stages", "freq_instroom_onderwijs",
        "freq_ondernemerschap", "freq_trainingen", "freq_werkgevers", "freq_anders"]
    assert all(r.choices == ("0", "1", "2", "3", "4", "5") for r in ratings if r.name.startswith("freq_"))
    assert f.questions["freq_wep"].relevant == "${specifiek_aanbod} = 'ja'"
    assert len(f.questions["belemmeringen"].choices) == 8
    codes = {line.split(";")[2] for line in build_forms.REGIONS_CSV.read_text(encoding="utf-8").splitlines()[1:]}
    assert f.questions["regio"].type == "hidden" and f.questions["regio"].choices == tuple(sorted(codes))
    assert f.questions["grootteklasse"].choices == ("lt_20000", "20000_50000", "50000_100000", "ge_100000")


def test_werkgevers_and_onderwijs_items():
    w = form("werkgevers", "2023")
    assert [q.name for q in w.of_section("top3")] == ["top3_instroom", "top3_doorstroom"]
    assert len(w.questions["belemmeringen_instroom"].choices) == 13
    assert w.questions["wet_gelijke_kansen_acties"].relevant == "${wet_gelijke_kansen} = 'ja'"
    assert w.questions["generieke_instrumenten"].group == "instroom"
    o = form("onderwijsinstellingen", "2023")
    assert o.questions["sector"].choices == ("mbo", "hbo", "wo")
    assert len([q for q in o.of_section("acties") if q.name.startswith("studiekeuze_")]) == 8
    assert len(o.questions["belemmeringen_aansluiting"].choices) == 12
    assert len(o.questions["belemmeringen_studiekeuze"].choices) == 11


def _tiny(path: Path, survey_rows: list[list], choices: list[list] | None = None, form_id: str = "toets_2024"):
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label", "required", "relevant", "constraint", "monitor_section"])
    for r in survey_rows:
        ws.append(r)
    wc = wb.create_sheet("choices")
    wc.append(["list_name", "name", "label"])
    for r in choices or []:
        wc.append(r)
    wsets = wb.create_sheet("settings")
    wsets.append(["form_id", "version"])
    wsets.append([form_id, "2024.2"])
    wb.save(path)
    return path


def test_load_form_of_a_hand_built_form_reads_ranges_and_groups(tmp_path):
    p = _tiny(tmp_path / "toets_2024.xlsx", [
        ["begin_group", "blok", "Blok", None, "${a} = 'ja'", None, None],
        ["select_one jn", "a", "A?", "yes", None, None, "prioriteit"],
        ["integer", "aantal", "Hoeveel?", "no", None, ". >= 0 and . <= 10", "overig"],
        ["end_group", None, None, None, None, None, None],
    ], [["jn", "ja", "Ja"], ["jn", "nee", "Nee"]])
    f = load_form(p)
    assert (f.instrument, f.wave, f.version) == ("toets", "2024", "2024.2")
    a, n = f.questions["a"], f.questions["aantal"]
    assert a.type == "select_one" and a.choices == ("ja", "nee") and a.required and a.group == "blok"
    assert n.type == "integer" and (n.minimum, n.maximum) == (0.0, 10.0) and not n.required
    assert n.relevant == "${a} = 'ja'"         # the group's condition is part of the question's


def test_load_form_refuses_a_form_pyxform_cannot_convert(tmp_path):
    p = _tiny(tmp_path / "kapot_2024.xlsx", [["select_one ontbreekt", "a", "A?", None, None, None, None]])
    with pytest.raises(FormError, match="kapot_2024.xlsx: pyxform cannot convert"):
        load_form(p)


def test_build_refuses_an_unquoted_numeric_choice_name(tmp_path, monkeypatch):
    src = tmp_path / "instr"
    src.mkdir()
    (src / "_common.yaml").write_text((build_forms.INSTRUMENTS / "_common.yaml").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    (src / "x_2024.yaml").write_text(
        "instrument: x\nwave: '2024'\nversion: '2024.1'\ntitle: X\nchoices:\n  k:\n    - [20000_50000, a]\n"
        "survey:\n  - {type: select_one k, name: k, label: K, section: achtergrond}\n", encoding="utf-8")
    monkeypatch.setattr(build_forms, "INSTRUMENTS", src)
    with pytest.raises(ValueError, match="choice name 2000050000 is not a quoted string"):
        build_forms.build(src / "x_2024.yaml", tmp_path)
