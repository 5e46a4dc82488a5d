"""Real CBS files that the synthetic zone did not exercise until December 2026 (an audit of the readers against
the file descriptions): EBB respondents without a person number, and values a .sav declares user-missing
(MISSING VALUES), which the reader hands over empty.  docs/ingest.md, "Empty keys and declared missing values"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyreadstat
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError, ingest_file

CAT = load_catalog()
EBB = dict(EbbGewJaarGewichtA=[1000.5, 2000.25, 1500.0, 900.0], EbbAflLft=[30.0, 40.0, 50.0, 60.0],
           EbbAflHerkomstGBA2d=["00", "01", "02", "03"], EbbAflGeneratie=["0", "1", "2", "1"],
           EbbAflGeslacht=["1", "2", "1", "2"], EbbAflOpl3=["1", "2", "3", "1"], EbbTypGolf=["1", "1", "1", "1"],
           EbbAflKwartaal=["1", "1", "1", "1"], EbbAflUrenWerk=[36.0, 0.0, 20.0, 12.0],
           EbbAflZoek4Wk=["2", "1", "2", "2"], EbbAflBeschikb=["1", "1", "1", "1"],
           EbbStkPersIdVersleuteld=["A1", "A2", "A3", "A4"])


def _sav(root: Path, rel: str, data: dict, missing: dict | None = None):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(pd.DataFrame(data), str(p), missing_ranges=missing or {})
    return p, CAT.match(rel)


@pytest.mark.parametrize("empty", [("", ""), ("-", "---------")])
def test_ebb_respondents_without_a_person_number_are_kept(tmp_path, empty):
    """cbs_files: EBBNW is "linkable to RINPERSOON for most respondents".  Until December 2026 an empty key
    blocked the whole EBB year ("not a person number", and the unlinked rows of a wave were "duplicate keys"), so
    O01-O03 could not be made from a real file.  Now their person_id is empty and the survey's own id stays."""
    s, p = empty
    path, m = _sav(tmp_path, "Arbeid/EBBnw/EBBnw2021V1.sav",
                   dict(RINPERSOONS=["R", s, s, "R"], RINPERSOON=["123456789", p, p, "123456780"], **EBB))
    r = ingest_file(path, m, CAT)
    f = r.frame
    assert f.height == 4 and f["person_id"].null_count() == 2
    assert f.filter(pl.col("person_id").is_null())["EbbStkPersIdVersleuteld"].to_list() == ["A2", "A3"]
    assert f.filter(pl.col("person_id").is_not_null())["person_id"].to_list() == [123456789, 123456780]


def test_ebb_bad_person_numbers_and_duplicate_linked_keys_still_block(tmp_path):
    path, m = _sav(tmp_path, "Arbeid/EBBnw/EBBnw2021V1.sav",
                   dict(RINPERSOONS=["R", "R", "R", "R"], RINPERSOON=["123456789", "12x", "", "123456789"], **EBB))
    with pytest.raises(IngestError) as e:
        ingest_file(path, m, CAT)
    msg = str(e.value)
    assert "EBBnw2021V1.sav" in msg and "column RINPERSOON" in msg and "'12x'" in msg
    assert "duplicate key" in msg and "123456789" in msg


def test_values_the_sav_declares_user_missing_pass_as_missing(tmp_path):
    """A code the catalog lists as missing (HOOGSTEOPLTAB ``----``) or an open-end date (SECMBUS ``88888888``)
    that the .sav declares user-missing reaches the gate empty (polars-readstat).  It blocked the file as "value
    not in code list ... e.g. empty" until December 2026; now it is missing, as the same value written plainly."""
    path, m = _sav(tmp_path, "Onderwijs/HOOGSTEOPLTAB/2020/HOOGSTEOPL2020TABV1.sav",
                   dict(RINPERSOONS=["R", "R"], RINPERSOON=["000000012", "000000013"],
                        OPLNIVSOI2021AGG4HBmetNIRWO=["2121", "----"]), {"OPLNIVSOI2021AGG4HBmetNIRWO": ["----"]})
    f = ingest_file(path, m, CAT).frame.sort("person_id")
    assert f["OPLNIVSOI2021AGG4HBmetNIRWO"].cast(pl.String).to_list() == ["2121", None]
    path, m = _sav(tmp_path, "InkomenBestedingen/SECMBUS/SECMBUS2018V1.sav",
                   dict(RINPERSOONS=["R", "R"], RINPERSOON=["000000012", "000000013"],
                        AANVSECM=["20180101", "20180301"], EINDSECM=["88888888", "20181231"], SECM=["11", "22"]),
                   {"EINDSECM": ["88888888"]})
    f = ingest_file(path, m, CAT).frame.sort("person_id")
    assert f["EINDSECM"].to_list()[0] is None and str(f["EINDSECM"].to_list()[1]) == "2018-12-31"
    # a code column without declared missing values still refuses an empty value
    path, m = _sav(tmp_path, "InkomenBestedingen/SECMBUS/SECMBUS2019V1.sav",
                   dict(RINPERSOONS=["R", "R"], RINPERSOON=["000000012", "000000013"],
                        AANVSECM=["20190101", "20190301"], EINDSECM=["88888888", "20191231"], SECM=["11", ""]))
    with pytest.raises(IngestError, match="column SECM: value not in code list"):
        ingest_file(path, m, CAT)


def test_mbo_diploma_type_as_the_file_description_writes_it(tmp_path):
    """The file description of DIPLOMAMBOTAB gives TYPEMBODPL as BOL/BBL, the catalog had only 1-3 (and, the
    column being 'used', a real file in that form was blocked although nothing reads the value)."""
    data = dict(RINPERSOONS=["R", "R"], RINPERSOON=["000000012", "000000013"], EXAMENDATUMMBO=["20200701", "20200615"],
                OPLNR=["1001", "1002"], TYPEMBODPL=["BOL", "bbl"], SELECTIEHOOFDDPLMBO=["1", "1"])
    path, m = _sav(tmp_path, "Onderwijs/DIPLOMAMBOTAB/2020/DIPLOMAMBO2020TABV1.sav", data)
    f = ingest_file(path, m, CAT).frame.sort("person_id")
    assert f["TYPEMBODPL"].cast(pl.String).to_list() == ["BOL", "BBL"]
    # an unknown code now warns and becomes empty instead of blocking the diploma file
    path, m = _sav(tmp_path, "Onderwijs/DIPLOMAMBOTAB/2020/DIPLOMAMBO2020TABV2.sav", {**data, "TYPEMBODPL": ["X", "1"]})
    r = ingest_file(path, m, CAT)
    assert r.frame["TYPEMBODPL"].cast(pl.String).sort(nulls_last=True).to_list() == ["1", None]
    assert any("TYPEMBODPL" in w for w in r.warning_lines())


REF = "Utilities/Code_Listings/SSBreferentiebestanden/geconverteerde data/LANDAKTUEELREFV1.csv"


def _csv(root: Path, rel: str, text: str, eol: str = "\r\n"):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(eol.join(text.splitlines()).encode("utf-8") + eol.encode())
    return p, CAT.match(rel)


def test_a_csv_converted_to_crlf_twice_keeps_no_carriage_return_in_its_values(tmp_path):
    """Lines ending in \\r\\r\\n (a CRLF file converted again): the reader took one \\r as the line end and left the
    other on the last field.  Until December 2026 'Nederland\\r' then matched no herkomst group, and a whole
    population lost its breakdown with exit 0 (an audit's run: the indicator table fell from 45,453 to 7,377
    rows, all totaal)."""
    text = "LAND;LANDOMSCHRIJVING;LANDTYPE;LANDGROEPMONITOR\n6030;Nederland;0;Nederland\n6043;Turkije;2;Turkije"
    for eol in ("\r\r\n", "\r\n", "\n"):
        path, m = _csv(tmp_path / eol.encode().hex(), REF, text, eol)
        f = ingest_file(path, m, CAT).frame.sort("LAND")
        assert f["LANDGROEPMONITOR"].cast(pl.String).to_list() == ["Nederland", "Turkije"], eol.encode()
        assert "LANDGROEPMONITOR" in f.columns


def test_an_unknown_monitor_group_in_the_country_reference_blocks_the_file(tmp_path):
    """LANDGROEPMONITOR has the monitor's group names as its code list (the core reads it): an unknown name (a
    typo, a stray CR) blocks the file with its column and value, where it used to leave the country without a
    herkomst group in silence; the same file with the right name passes."""
    text = "LAND;LANDOMSCHRIJVING;LANDTYPE;LANDGROEPMONITOR\n6030;Nederland;0;Nederland\n6043;Turkije;2;Turkye"
    path, m = _csv(tmp_path, REF, text)
    with pytest.raises(IngestError, match=r"column LANDGROEPMONITOR: value not in code list .*'Turkye'"):
        ingest_file(path, m, CAT)
    path, m = _csv(tmp_path, REF, text.replace("Turkye", "Turkije"))
    assert ingest_file(path, m, CAT).frame.height == 2


def _land_sav(root: Path, name: str = "LANDAKTUEELREFV1.sav") -> Path:
    rel = "Utilities/Code_Listings/SSBreferentiebestanden/geconverteerde data/" + name
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(pd.DataFrame({"LAND": ["6030", "5107", "5034"], "LANDOMSCHRIJVING": ["Nederland", "Curaçao",
                                                                                            "Somalië"],
                                       "LANDTYPE": ["0", "2", "2"]}), str(p))
    return p


def _relabel(b: bytes, label: bytes) -> bytes:
    """The .sav's character-encoding record (type 7, subtype 20) set to ``label``."""
    import struct

    i = b.find(struct.pack("<ii", 7, 20))
    size, count = struct.unpack("<ii", b[i + 8:i + 16])
    return b[:i + 8] + struct.pack("<ii", 1, len(label)) + label + b[i + 16 + size * count:]


def _latin1_text(b: bytes) -> bytes:
    """The data's two-byte UTF-8 letters as one latin-1 byte (padded with a space): the header still says UTF-8."""
    import re
    import struct

    j = b.find(struct.pack("<ii", 999, 0)) + 8
    return b[:j] + re.sub(rb"(\xc3[\x80-\xbf])([A-Za-z]* )",
                          lambda m: m.group(1).decode("utf-8").encode("latin-1") + m.group(2) + b" ", b[j:])


def test_a_sav_whose_text_is_not_in_its_declared_encoding_is_refused(tmp_path):
    """polars-readstat cut 'Curaçao' in latin-1 bytes under a UTF-8 label to 'Cura' (and 'Somalië' to 'Somali'),
    and UTF-8 text under a windows-1252 label became 'SomaliÃ«': both passed with exit 0 and moved persons out of
    their herkomst group (an audit of December 2026).  Both are refused naming the column; a file consistently in
    windows-1252, and the plain UTF-8 one, read correctly."""
    good = _land_sav(tmp_path / "utf8")
    rel = str(good.relative_to(tmp_path / "utf8"))
    m = CAT.match(rel)
    f = ingest_file(good, m, CAT).frame
    assert sorted(f["LANDOMSCHRIJVING"].to_list()) == ["Curaçao", "Nederland", "Somalië"]
    raw = good.read_bytes()
    for case, data, why in (("latin1", _latin1_text(raw), "not valid in the file's declared encoding UTF-8"),
                            ("label", _relabel(raw, b"windows-1252"), "looks like UTF-8 read as windows-1252")):
        p = tmp_path / case / rel
        p.parent.mkdir(parents=True)
        p.write_bytes(data)
        with pytest.raises(IngestError, match=f"column LANDOMSCHRIJVING: text {why}"):
            ingest_file(p, m, CAT)
    p = tmp_path / "cp1252" / rel
    p.parent.mkdir(parents=True)
    p.write_bytes(_relabel(_latin1_text(raw), b"windows-1252"))
    assert sorted(ingest_file(p, m, CAT).frame["LANDOMSCHRIJVING"].to_list()) == ["Curaçao", "Nederland", "Somalië"]


def test_a_parquet_with_real_dates_and_open_ends_as_empty(tmp_path):
    """A parquet copy with real Date columns writes an open end as null (there is no sentinel): it was refused
    with "not a valid date YYYYMMDD nor an open-end sentinel or empty (e.g. empty)" (an audit, December 2026)."""
    import datetime as dt

    rel = "InkomenBestedingen/SECMBUS/SECMBUS2020V2.parquet"
    p = tmp_path / rel
    p.parent.mkdir(parents=True)
    pl.DataFrame({"RINPERSOONS": ["R", "R"], "RINPERSOON": ["000000012", "000000013"],
                  "AANVSECM": [dt.date(2019, 1, 1), dt.date(2020, 3, 1)], "EINDSECM": [None, dt.date(2020, 12, 31)],
                  "SECM": ["11", "22"]}).write_parquet(p)
    f = ingest_file(p, CAT.match(rel), CAT).frame.sort("person_id")
    assert f["EINDSECM"].to_list() == [None, dt.date(2020, 12, 31)]


@pytest.mark.parametrize("order", [("rinpersoon", "RINPERSOON"), ("RINPERSOON", "rinpersoon")])
def test_two_columns_differing_only_in_case_are_named_in_either_order(tmp_path, order):
    """'rinpersoon' before 'RINPERSOON' renamed into a duplicate and failed with a polars DuplicateError naming no
    file (an audit, December 2026); after it, the clash was named.  Now both orders give the clash message."""
    rel = "InkomenBestedingen/INPATAB/INPA2020TABV1.csv"
    cols = ["RINPERSOONS", *order, "INPPERSINK", "INPPERSPRIM", "INPPERSBRUT"]
    p = tmp_path / rel
    p.parent.mkdir(parents=True)
    p.write_text(";".join(cols) + "\nR;000000012;000000012;100;100;100\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"column names clash: columns '.+' and '.+' both map to 'RINPERSOON'"):
        ingest_file(p, CAT.match(rel), CAT)


def test_a_byte_order_mark_inside_a_csv_is_refused_naming_its_line(tmp_path):
    """Two files joined together leave a BOM at the start of a line: the reader kept it in the field
    ('\\ufeff6043'), Turkije matched no group and 53 persons lost their herkomst with exit 0 (an audit, December
    2026).  A BOM at the very start of the file stays allowed."""
    text = "LAND;LANDOMSCHRIJVING;LANDTYPE;LANDGROEPMONITOR\n6030;Nederland;0;Nederland\n\ufeff6043;Turkije;2;Turkije"
    path, m = _csv(tmp_path / "inner", REF, text)
    with pytest.raises(IngestError, match=r"column LAND: a byte order mark \(U\+FEFF\) inside the file at line 3"):
        ingest_file(path, m, CAT)
    path, m = _csv(tmp_path / "start", REF, "\ufeff" + text.replace("\ufeff", ""))
    assert sorted(ingest_file(path, m, CAT).frame["LAND"].to_list()) == ["6030", "6043"]
