"""The streaming .sav writer (synth/savwriter.py; issue 12, a national `.sav` zone): what it writes reads back
the same with both readers the project uses, and ingests exactly as the file polars-readstat writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import polars_readstat as prs
import pyreadstat
import pytest
from polars.testing import assert_frame_equal

from monitor_dagster.synth.savwriter import MAX_STRING, write_sav


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "RINPERSOONS": ["R", "S", None, "R", "R"],
        "RINPERSOON": ["000000001", "123456789", "999999999", "000000002", "000000003"],
        "IKVID": [1, 2, None, 4, 2 ** 40],
        "SBASISLOON": [1.5, None, -3.25, 0.0, 1e9],
        "SDATUMAANVANGIKO": ["20210101", "20210201", "", "20211231", "20210615"],
        "OMSCHRIJVING_MET_EEN_LANGE_NAAM": ["café", "x" * 20, "ß", "", "Zuid-Holland"],
        "OMSCHRIJVING_MET_EEN_ANDERE_NAAM": ["a", "b", "c", "d", "e"],   # same first 8 characters as above
    })


@pytest.mark.parametrize("batch", [2, 100])
def test_what_is_written_reads_back_with_both_readers(tmp_path, batch):
    df = _frame()
    path = tmp_path / "X.sav"
    assert write_sav(df.lazy(), path, batch_rows=batch) == df.height
    assert not list(tmp_path.glob("*.part"))
    # strings stay strings (SPSS has no null string: null -> ""), every other column a double (null = sysmis)
    want = df.with_columns(pl.col(pl.String).fill_null(""), pl.col("IKVID", "SBASISLOON").cast(pl.Float64))
    assert_frame_equal(prs.scan_readstat(path).collect(), want)
    again = tmp_path / "Y.sav"
    write_sav(df.lazy(), again, batch_rows=batch)
    assert again.read_bytes() == path.read_bytes()                 # the same frame gives the same bytes
    pd_df, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names == df.columns and meta.number_rows == df.height
    assert pd_df["OMSCHRIJVING_MET_EEN_LANGE_NAAM"].tolist() == ["café", "x" * 20, "ß", "", "Zuid-Holland"]


def test_a_string_too_long_is_refused_and_nothing_is_left(tmp_path):
    path = tmp_path / "X.sav"
    with pytest.raises(ValueError, match=f"column T.*at most {MAX_STRING}"):
        write_sav(pl.LazyFrame({"T": ["a" * (MAX_STRING + 1)]}), path)
    assert list(tmp_path.iterdir()) == []


def test_ingest_is_the_same_as_of_a_file_polars_readstat_writes(tmp_path, zone):
    """A SPOLISBUS of the synthetic zone written by both writers: the ingested tables are equal."""
    import monitor_dagster.catalog as C
    from monitor_dagster.ingest import ingest_file

    from monitor_dagster_tests.conftest import files_of

    src = zone.config.landing / files_of(zone, "SPOLISBUS", 2019)[-1].path
    rel = src.relative_to(zone.config.landing).with_suffix(".sav")
    ours, theirs = tmp_path / "ours" / rel, tmp_path / "theirs" / rel
    for p in (ours, theirs):
        p.parent.mkdir(parents=True)
    write_sav(pl.scan_parquet(src), ours, batch_rows=1000)
    prs.write_readstat(pl.read_parquet(src), theirs)
    cat = C.load_catalog()
    m = cat.match(str(rel))
    a, b = ingest_file(ours, m, cat).frame, ingest_file(theirs, m, cat).frame
    a = a.collect() if isinstance(a, pl.LazyFrame) else a
    b = b.collect() if isinstance(b, pl.LazyFrame) else b
    assert a.height > 1000
    assert_frame_equal(a, b)
