"""The declared format of CBS CSV copies (catalog ``csv``: encoding, separator; docs/ingest.md "Encodings and
separators"): the block-wise encoding checks and transcoding of ingest/readers.py on hand-made bytes, with blocks
of a few bytes so that characters and lines straddle block boundaries."""

from __future__ import annotations

import pytest

from monitor_dagster.catalog import CatalogError, CsvFormat, load_catalog
from monitor_dagster.ingest import readers as R

TEXT = "LAND;LANDOMSCHRIJVING;LANDTYPE\n6030;Nederland;0\n5107;Curaçao;2\n6043;Türkiye;2\n"


@pytest.fixture(params=[3, 7, 1 << 20], ids=["block3", "block7", "block1M"])
def block(request, monkeypatch):
    monkeypatch.setattr(R, "BLOCK", request.param)
    return request.param


def test_valid_utf8_has_no_invalid_bytes_whatever_the_block_size(tmp_path, block):
    f = tmp_path / "a.csv"
    f.write_bytes(TEXT.encode("utf-8"))
    assert R.first_invalid(f, "utf-8") is None


def test_first_invalid_names_line_offset_and_field(tmp_path, block):
    f = tmp_path / "a.csv"
    raw = TEXT.encode("latin-1")
    f.write_bytes(raw)
    bad = R.first_invalid(f, "utf-8")
    assert bad is not None
    assert bad.offset == raw.index("ç".encode("latin-1"))
    assert (bad.line, bad.field, bad.raw) == (3, 1, "Curaçao".encode("latin-1"))
    assert bad.where(["LAND", "LANDOMSCHRIJVING", "LANDTYPE"]) == f"line 3 (byte offset {bad.offset})"
    assert bad.column(["LAND", "LANDOMSCHRIJVING", "LANDTYPE"]) == "LANDOMSCHRIJVING"
    assert bad.where(["LAND"]) == f"line 3 (byte offset {bad.offset}), field 2" and bad.column(["LAND"]) is None


def test_a_sequence_cut_at_the_end_of_the_file_is_invalid(tmp_path, block):
    f = tmp_path / "a.csv"
    raw = TEXT.encode("utf-8") + "ü".encode("utf-8")[:1]
    f.write_bytes(raw)
    bad = R.first_invalid(f, "utf-8")
    assert bad is not None and bad.offset == len(raw) - 1 and bad.line == 5


def test_utf8_failure_reads_the_bytes_as_cp1252_for_the_hint(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(TEXT.encode("cp1252"))
    err = R.utf8_failure(f, ";", "LANDAKTUEELREF")
    assert err is not None and err.column == "LANDOMSCHRIJVING"
    assert "not valid UTF-8 at line 3" in err.rule and "read as cp1252: 'Curaçao'" in err.rule
    assert "`csv: {encoding: cp1252}` under files.LANDAKTUEELREF" in err.rule


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_transcode_gives_the_same_text_whatever_the_block_size(tmp_path, block, encoding):
    src, dst = tmp_path / "a.csv", tmp_path / "b.csv"
    src.write_bytes(TEXT.encode(encoding))
    info = R.transcode_to_utf8(src, encoding, dst, ";", "LANDAKTUEELREF")
    assert dst.read_text(encoding="utf-8") == TEXT
    assert info == {"bytes": len(TEXT.encode(encoding)), "non_ascii": True}


def test_transcode_refuses_bytes_undefined_in_cp1252(tmp_path, block):
    src = tmp_path / "a.csv"
    raw = TEXT.encode("cp1252").replace(b"T\xfcrkiye", b"T\x81rkiye")
    src.write_bytes(raw)
    with pytest.raises(R.CsvFormatError) as exc:
        R.transcode_to_utf8(src, "cp1252", tmp_path / "b.csv", ";", "LANDAKTUEELREF")
    assert exc.value.column == "LANDOMSCHRIJVING"
    at = raw.index(b"\x81")
    assert f"not valid cp1252 at line 4 (byte offset {at}): " in exc.value.rule


def test_transcode_refuses_a_utf8_file_declared_cp1252(tmp_path, block):
    src = tmp_path / "a.csv"
    src.write_bytes(TEXT.encode("utf-8"))
    with pytest.raises(R.CsvFormatError) as exc:
        R.transcode_to_utf8(src, "cp1252", tmp_path / "b.csv", ";", "LANDAKTUEELREF")
    assert "looks like UTF-8" in exc.value.rule and "'Curaçao' would be read as 'CuraÃ§ao'" in exc.value.rule
    assert "line 3" in exc.value.rule


def test_ascii_only_file_declared_cp1252_is_fine(tmp_path):
    src, dst = tmp_path / "a.csv", tmp_path / "b.csv"
    src.write_bytes(b"A;B\n1;x\n")
    assert R.transcode_to_utf8(src, "cp1252", dst, ";", "X") == {"bytes": 8, "non_ascii": False}


@pytest.mark.parametrize("sep, named", [(",", "','"), ("\t", "a tab"), ("|", "'|'")])
def test_header_of_one_column_names_the_separator(tmp_path, sep, named):
    f = tmp_path / "a.csv"
    f.write_bytes(sep.join(["RINPERSOONS", "RINPERSOON", "INPPERSINK"]).encode() + b"\nR,1,2\n")
    with pytest.raises(R.CsvFormatError) as exc:
        R.check_header(f, CsvFormat(), "INPATAB")
    assert f"separated by {named} instead of ';'" in exc.value.rule
    assert "files.INPATAB" in exc.value.rule


def test_header_checks_pass_a_good_header_with_a_bom(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b"\xef\xbb\xbfA;B\n1;2\n")
    assert R.check_header(f, CsvFormat(), "X") == ["A", "B"]
    f.write_bytes("A;Bé\n1;2\n".encode("latin-1"))
    with pytest.raises(R.CsvFormatError, match=r"header \(line 1, byte offset 3\) is not valid UTF-8"):
        R.check_header(f, CsvFormat(), "X")
    assert R.check_header(f, CsvFormat(encoding="latin-1"), "X") == ["A", "Bé"]


def test_catalog_csv_block(tmp_path):
    assert load_catalog().files["INPATAB"].csv == CsvFormat(encoding="utf-8", separator=";")
    assert CsvFormat(encoding="windows-1252").encoding == "cp1252"
    assert CsvFormat(encoding="ISO-8859-1").encoding == "latin-1"
    for bad in ("utf-16", "no-such-codec"):
        with pytest.raises(ValueError, match="encoding"):
            CsvFormat(encoding=bad)
    # the loader names the entry and the field of a bad value
    cat = tmp_path / "c.yaml"
    from monitor_dagster.catalog import PROJECT_CATALOG

    cat.write_text(PROJECT_CATALOG.read_text(encoding="utf-8").replace(
        "    folder: LANDAKTUEELREF\n", "    folder: LANDAKTUEELREF\n    csv: {encoding: utf-16}\n"), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"files\.LANDAKTUEELREF\.csv\.encoding"):
        load_catalog(cat)


def test_a_long_field_is_shown_around_the_bad_byte(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b"A;B\n1;" + b"x" * 500 + b"\xe9" + b"y" * 500 + b"\n")
    bad = R.first_invalid(f, "utf-8")
    assert (bad.line, bad.offset, bad.field) == (2, 506, 1)
    assert bad.raw == b"x" * 30 + b"\xe9" + b"y" * 29
