"""The response schema generated from a Form (monitor_dagster/surveys/schema.py) on hand-built exports of the
gemeenten instrument (technisch rapport Monitor gelijke kansen, §3.2.2): choice lists, constraints, required
and skip logic, choice filters, org_id unique, every failure named with file, question, row and value."""

from __future__ import annotations

import polars as pl
import pytest

from monitor_dagster.surveys.schema import (META_COLUMNS, ExpressionError, ResponseError, build_schema,
                                            compile_expr, exported, read_responses)
from monitor_dagster.surveys.xlsform import form

GEM = form("gemeenten", "2023")
CHOICES = "[zeer_hoog, tamelijk_hoog, tamelijk_laag, geen]"


def _row(i: int, **kw) -> dict:
    """A complete, valid response of a municipality with a specific offer."""
    row = {q.name: None for q in exported(GEM)}
    row.update(org_id=f"GM{i:04d}", grootteklasse="lt_20000", regio="AM01", prioriteit="tamelijk_hoog",
               generieke_instrumenten="bijstand met loonkostensubsidie", specifiek_aanbod="ja",
               freq_leerwerk="3", freq_wep="0", freq_vrijwilligerswerk="1", freq_stages="0",
               freq_instroom_onderwijs="0", freq_ondernemerschap="0", freq_trainingen="2", freq_werkgevers="0",
               top3="leerwerk trainingen", succesfactoren="vaste contactpersoon", belemmeringen="middelen kosten",
               _uuid=f"uuid-{i}", _submission_time="2023-10-05T10:00:00", start="2023-10-05T09:40:00.000+02:00",
               end="2023-10-05T09:58:00.000+02:00")
    row.update(kw)
    return row


def _no_offer(i: int, **kw) -> dict:
    row = _row(i, specifiek_aanbod="nee", top3=None, succesfactoren=None)
    for q in GEM.questions:
        if q.startswith("freq_"):
            row[q] = None
    row.update(kw)
    return row


def _write(tmp_path, rows, name="gemeenten_2023.csv", sep=";"):
    path = tmp_path / name
    pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}, orient="row" if isinstance(rows[0], list) else None
                 ).write_csv(path, separator=sep, null_value="")
    return path


def _failures(tmp_path, rows, **kw) -> list[str]:
    with pytest.raises(ResponseError) as exc:
        read_responses(_write(tmp_path, rows, **kw), GEM)
    return [f.describe() for f in exc.value.failures]


def test_a_clean_export_passes_in_both_separators_and_xlsx(tmp_path):
    rows = [_row(1), _no_offer(2), _row(3, freq_anders_tekst="taalcafé", freq_anders="4", top3="anders")]
    for sep in (";", ","):
        frame = read_responses(_write(tmp_path, rows, sep=sep), GEM)
        assert frame.height == 3 and frame["top3"].to_list() == ["leerwerk trainingen", None, "anders"]
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    cols = list(rows[0])
    ws.append(cols)
    for r in rows:
        ws.append([int(r[c]) if (r[c] or "").isdigit() else r[c] for c in cols])  # numbers
    wb.save(tmp_path / "gemeenten_2023.xlsx")
    frame = read_responses(tmp_path / "gemeenten_2023.xlsx", GEM)
    assert frame["freq_leerwerk"].to_list() == ["3", None, "3"]


def test_value_not_in_the_choice_list_names_file_question_row_value(tmp_path):
    rows = [_row(i) for i in range(1, 18)]
    rows[16]["prioriteit"] = "misschien"
    assert _failures(tmp_path, rows) == [
        f"gemeenten_2023.csv: question prioriteit, row 17: value 'misschien' not in the choice list {CHOICES}"]


def test_all_failures_are_collected(tmp_path):
    rows = [_row(1, regio="AM77"), _row(2), _row(3, belemmeringen="middelen onzin", freq_wep="6")]
    got = _failures(tmp_path, rows)
    assert got[0].startswith("gemeenten_2023.csv: question regio, row 1: value 'AM77' not in the choice list [AM01")
    assert got[1] == ("gemeenten_2023.csv: question freq_wep, row 3: value '6' not in the choice list "
                      "[0, 1, 2, 3, 4, 5]")
    assert got[2].startswith("gemeenten_2023.csv: question belemmeringen, row 3: value 'middelen onzin' has a "
                             "choice not in the choice list [andere_partijen")
    assert len(got) == 3


def test_skip_logic_violation_is_an_error(tmp_path):
    rows = [_row(1), _no_offer(2, freq_stages="2")]
    assert _failures(tmp_path, rows) == [
        "gemeenten_2023.csv: question freq_stages, row 2: value '2' answered where it is not asked "
        "(skip logic: relevant ${specifiek_aanbod} = 'ja' is false)"]


def test_required_only_where_relevant(tmp_path):
    rows = [_row(1, freq_werkgevers=None), _no_offer(2), _row(3, prioriteit=None)]
    got = _failures(tmp_path, rows)
    assert got == [
        "gemeenten_2023.csv: question freq_werkgevers, row 1: value (empty) missing: the question is required "
        "(relevant: ${specifiek_aanbod} = 'ja')",
        "gemeenten_2023.csv: question prioriteit, row 3: value (empty) missing: the question is required"]


def test_other_text_makes_its_rating_and_text_required(tmp_path):
    rows = [_row(1, freq_anders_tekst="taalcafé"), _row(2, belemmeringen="andere")]
    got = _failures(tmp_path, rows)
    assert got[0].startswith("gemeenten_2023.csv: question freq_anders, row 1: value (empty) missing")
    assert got[1].startswith("gemeenten_2023.csv: question belemmeringen_anders, row 2: value (empty) missing")


def test_top_three_constraint_and_choice_filter(tmp_path):
    rows = [_row(1, freq_wep="2", freq_stages="1", top3="leerwerk wep stages trainingen"),
            _row(2, top3="leerwerk werkgevers")]           # werkgevers rated 0: not offered
    got = _failures(tmp_path, rows)
    assert got[0] == ("gemeenten_2023.csv: question top3, row 1: value 'leerwerk wep stages trainingen' breaks "
                      "the constraint count-selected(.) <= 3")
    assert got[1].startswith("gemeenten_2023.csv: question top3, row 2: value 'leerwerk werkgevers' names a "
                             "choice the form did not offer (choice_filter")
    assert len(got) == 2


def test_exclusive_barriers_and_success_factors_skip(tmp_path):
    rows = [_row(1, belemmeringen="geen middelen"), _no_offer(2, succesfactoren="iets")]
    got = _failures(tmp_path, rows)
    assert got[0].startswith("gemeenten_2023.csv: question belemmeringen, row 1: value 'geen middelen' breaks the "
                             "constraint not((selected(., 'geen')")
    assert got[1] == ("gemeenten_2023.csv: question succesfactoren, row 2: value 'iets' answered where it is not "
                      "asked (skip logic: relevant count-selected(${top3}) > 0 is false)")


def test_org_id_unique_and_missing_columns(tmp_path):
    rows = [_row(1), _row(1)]
    got = _failures(tmp_path, rows)
    assert got == ["gemeenten_2023.csv: question org_id, row 1: value 'GM0001' org_id is not unique",
                   "gemeenten_2023.csv: question org_id, row 2: value 'GM0001' org_id is not unique"]
    short = [{k: v for k, v in _row(1).items() if k not in ("belemmeringen", "_uuid")}]
    got = _failures(tmp_path, short)
    assert "gemeenten_2023.csv: question belemmeringen: column missing from the export" in got
    assert "gemeenten_2023.csv: question _uuid: column missing from the export" in got


def test_schema_has_a_column_per_exported_question():
    schema = build_schema(GEM)
    assert set(schema.columns) == {q.name for q in exported(GEM)} | set(META_COLUMNS)
    assert "intro" not in schema.columns          # notes are not exported


def _eval(expr: str, **cols) -> list[bool]:
    frame = pl.DataFrame({k: pl.Series(v, dtype=pl.String) for k, v in cols.items()})
    return frame.select(compile_expr(expr, current="q").alias("x"))["x"].to_list()


def test_expression_subset_follows_xpath_on_empty_answers():
    assert _eval("${a} != 'x'", a=[None, "x", "y"]) == [True, False, True]
    assert _eval("${a} = 'x'", a=[None, "x", "y"]) == [False, True, False]
    assert _eval("${a} > 0", a=[None, "0", "3"]) == [False, False, True]
    assert _eval("${a} != 1", a=[None, "1", "2"]) == [True, False, True]
    assert _eval("selected(${a}, 'b') and count-selected(.) <= 2", a=["a b", "b", None],
                 q=["1 2 3", "1", None]) == [False, True, False]
    assert _eval("not(${a} = 'x') or (${b} >= 2 and ${b} < 4)", a=["x", "x", "y"], b=["3", "5", None]) == [
        True, False, True]


def test_unsupported_expressions_are_refused():
    with pytest.raises(ExpressionError, match="function pulldata"):
        compile_expr("pulldata('f', 'a', 'b', ${c}) = 'x'")
    with pytest.raises(ExpressionError, match="needs a number"):
        compile_expr("${a} < 'x'")


def test_pandera_schema_judges_as_read_responses(tmp_path):
    import pandera.polars as pa
    from pandera.errors import SchemaErrors

    from monitor_dagster.surveys.schema import read_export
    good = read_export(_write(tmp_path, [_row(1), _no_offer(2)]))
    assert isinstance(build_schema(GEM), pa.DataFrameSchema)
    build_schema(GEM).validate(good, lazy=True)
    bad = read_export(_write(tmp_path, [_row(1), _no_offer(2, freq_stages="2", prioriteit="misschien")]))
    with pytest.raises(SchemaErrors) as exc:
        build_schema(GEM).validate(bad, lazy=True)
    cases = exc.value.failure_cases.select("column", "failure_case", "index").sort("column").rows()
    assert cases == [("freq_stages", "2", 1), ("prioriteit", "misschien", 1)]


def test_unreadable_file_is_one_failure_naming_the_file(tmp_path):
    path = tmp_path / "gemeenten_2023.csv"
    path.write_bytes(b"start;end\n\xe9;x\n")
    with pytest.raises(ResponseError, match=r"gemeenten_2023.csv: file: cannot read the export: 'utf-8' codec"):
        read_responses(path, GEM)
