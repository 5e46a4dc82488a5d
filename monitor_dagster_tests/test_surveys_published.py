"""Published figures from others' reports (monitor_dagster/surveys/published.py; technisch rapport Monitor gelijke
kansen, §3.3.1 NEA module 19, §3.3 WEA).  Every value below is ILLUSTRATIEF: invented for the test, not a TNO
figure."""

from __future__ import annotations

import polars as pl
import pytest

from monitor_dagster.indicators import table as T
from monitor_dagster.surveys.published import EXTERN, PublishedFormatError, read_published, to_table_rows

HEADER = "bron,tabel,jaar,indicator,groep,waarde,eenheid,marge,populatie,url,referentie\n"
EXAMPLE = HEADER + (
    "ILLUSTRATIEF TNO NEA 2020,module 19 tabel X,2020,ILLUSTRATIEF cursus of opleiding gevolgd,"
    "niet-westerse migratieachtergrond,41.0,%,2.5,850000,https://example.org/illustratief,\n"
    "ILLUSTRATIEF TNO NEA 2020,module 19 tabel X,2020,ILLUSTRATIEF cursus of opleiding gevolgd,"
    "geen migratieachtergrond,47.0,%,0.8,6100000,https://example.org/illustratief,\n"
    "ILLUSTRATIEF TNO NEA 2018,module 16 tabel X,2018,ILLUSTRATIEF cursus of opleiding gevolgd,"
    "niet-westerse migratieachtergrond,39.0,%,,,,ILLUSTRATIEF rapport p. 0\n"
    "ILLUSTRATIEF TNO WEA 2021,tabel N2-009,2021,ILLUSTRATIEF belemmering kosten begeleiding,"
    "alle werkgevers,30.0,%,,,,ILLUSTRATIEF WEA-rapport tabel 0\n")


def write(tmp_path, text, name="extern.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_example_file_reads_and_becomes_external_rows(tmp_path):
    df = read_published(write(tmp_path, EXAMPLE))
    assert df.height == 4 and df["marge"].null_count() == 2 and df["jaar"].dtype == pl.Int32
    rows = to_table_rows(df)
    assert rows.columns == T.COLUMNS and dict(rows.schema) == T.SCHEMA
    assert (rows["status"] == EXTERN).all() and rows["indicator_id"].str.starts_with("extern:").all()
    assert rows["n"].null_count() == 4
    assert set(rows["herkomst"]) == {"niet-westers", "geen migratieachtergrond", "totaal"}
    r = rows.row(0, named=True)
    assert r["vintages"] == "extern: ILLUSTRATIEF TNO NEA 2020, module 19 tabel X, https://example.org/illustratief"
    assert r["n_weighted"] == 850000 and r["year"] == 2020
    assert to_table_rows(df, extra=True)["marge"].to_list()[:2] == [2.5, 0.8]
    # the last rows fall back on the referentie
    assert rows["vintages"][3].endswith("ILLUSTRATIEF WEA-rapport tabel 0")


def test_bad_values_are_named_by_row_line_and_column(tmp_path):
    bad = HEADER + (
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF a,totaal,41.0,%,,,https://example.org,\n"
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF b,totaal,140.0,%,,,https://example.org,\n"     # > 100 %
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF c,totaal,4.0,procent,,,https://example.org,\n"  # unit
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF d,totaal,4.0,%,-1,,https://example.org,\n"      # marge < 0
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF e,totaal,4.0,%,,,,\n"                          # no source
        "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF a,totaal,42.0,%,,,https://example.org,\n")     # duplicate
    with pytest.raises(PublishedFormatError) as e:
        read_published(write(tmp_path, bad))
    msg = "\n".join(e.value.errors)
    assert "row 2 (line 3), row: a % lies between 0 and 100" in msg
    assert "row 3 (line 4), column 'eenheid'" in msg
    assert "row 4 (line 5), column 'marge'" in msg
    assert "row 5 (line 6), row: fill in url or referentie" in msg
    assert "row 6 (line 7), row: the same (bron, tabel, jaar, indicator, groep) twice, first in row 1" in msg
    assert len(e.value.errors) == 5
    assert "row 1 (line 2)" not in msg


def test_a_number_that_is_not_one_is_named(tmp_path):
    bad = HEADER + "ILLUSTRATIEF TNO NEA 2020,t1,2020,ILLUSTRATIEF a,totaal,\"41,5\",%,,,https://example.org,\n"
    with pytest.raises(PublishedFormatError, match=r"row 1 \(line 2\), column 'waarde': '41,5' is not a number"):
        read_published(write(tmp_path, bad))
    bad_year = HEADER + "ILLUSTRATIEF TNO NEA 2020,t1,twintig,ILLUSTRATIEF a,totaal,41,%,,,https://example.org,\n"
    with pytest.raises(PublishedFormatError, match=r"column 'jaar': 'twintig' is not a whole number"):
        read_published(write(tmp_path, bad_year))


def test_missing_or_unknown_columns_are_named(tmp_path):
    with pytest.raises(PublishedFormatError, match="column 'waarde' is missing"):
        read_published(write(tmp_path, "bron,tabel,jaar,indicator,groep,eenheid,url\nA,t,2020,i,totaal,%,u\n"))
    with pytest.raises(PublishedFormatError, match="'stdev' is not part of the format"):
        read_published(write(tmp_path, HEADER.strip() + ",stdev\n"))
