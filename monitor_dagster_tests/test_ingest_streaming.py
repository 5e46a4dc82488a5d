"""Chunked ingest (issue 12 item 3; docs/ingest.md, "Chunked ingest").

A file read, validated, normalised and written in chunks must give exactly what the one-chunk ingest gives,
and the whole-file rules must span chunks: a duplicate key split over two chunks, a failure only in the last
chunk, counts over the whole file.  A tiny zone (60 persons, 2020) in three formats, chunks of 7 rows, so
every file is many chunks.  Peak memory is measured by benchmarks/ingest.py, not here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import (
    CHUNK_ROWS_ENV,
    DEFAULT_CHUNK_ROWS,
    IngestError,
    IngestResult,
    chunk_rows_default,
    ingest_file,
)
from monitor_dagster.ingest.release import ingest_release
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse

FILES = ("GBAPERSOONTAB", "SECMBUS", "SPOLISBUS")
CHUNK = 7
WHOLE = 10 ** 9          # one chunk: the file at once


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    base = tmp_path_factory.mktemp("ingest_streaming")
    return {fmt: generate(SynthConfig(landing=base / fmt / "landing", persons=60, first_year=2020, last_year=2020,
                                      seed=5, fmt=fmt, only_files=FILES))
            for fmt in ("parquet", "csv", "sav")}


def _newest(res, file_id: str):
    return sorted((f for f in res.files if f.file_id == file_id), key=lambda f: (f.year, f.version))[-1]


def _ingest(path: Path, relpath: str, catalog, chunk_rows: int, **kw) -> IngestResult:
    return ingest_file(path, catalog.match(relpath), catalog, chunk_rows=chunk_rows, **kw)


def _raw_csv(res, f) -> pl.DataFrame:
    return pl.read_csv(res.config.landing / f.path, separator=";", infer_schema=False)


def _write_csv(root: Path, relpath: str, df: pl.DataFrame) -> Path:
    out = root / "landing" / relpath
    out.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(out, separator=";", decimal_comma=True, null_value="")
    return out


def _set(df: pl.DataFrame, rows: list[int], column: str, value: str) -> pl.DataFrame:
    rows = [r % df.height for r in rows]
    return df.with_columns(pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.lit(value)).otherwise(pl.col(column))
                           .alias(column))


def _same_result(a: IngestResult, b: IngestResult) -> None:
    assert (a.rows, a.columns, a.months_covered, a.provisional, a.release_id, a.source) == \
           (b.rows, b.columns, b.months_covered, b.provisional, b.release_id, b.source)
    assert a.warning_lines() == b.warning_lines()
    assert (a.missing_columns, a.extra_columns) == (b.missing_columns, b.extra_columns)
    assert a.schema == b.schema


# --------------------------------------------------------------------------------------------- good files
@pytest.mark.parametrize("fmt", ["parquet", "csv", "sav"])
def test_chunked_ingest_gives_the_one_chunk_frame(zones, catalog, tmp_path, fmt):
    """Same frame (columns, dtypes, row order, values) and the same findings, in memory and written to a
    file: one chunk is written by polars, several chunks are appended by pyarrow's ParquetWriter."""
    res = zones[fmt]
    for file_id in FILES:
        f = _newest(res, file_id)
        path = res.config.landing / f.path
        whole = _ingest(path, f.path, catalog, WHOLE)
        chunked = _ingest(path, f.path, catalog, CHUNK)
        assert whole.chunks == 1 and chunked.chunks == -(-whole.rows // CHUNK) > 2, f.path
        assert_frame_equal(chunked.frame, whole.frame)
        _same_result(chunked, whole)

        for n, chunk_rows in enumerate((CHUNK, WHOLE)):
            out = tmp_path / f"{fmt}_{file_id}_{n}.parquet"
            written = _ingest(path, f.path, catalog, chunk_rows, out=out)
            assert written.frame is None
            _same_result(written, whole)
            # the warehouse copy: each chunk sorted by person (stable), cut into row groups (docs/ingest.md)
            assert_frame_equal(pl.read_parquet(out), _sorted_per_chunk(whole.frame, chunk_rows))


def _sorted_per_chunk(frame: pl.DataFrame, chunk_rows: int) -> pl.DataFrame:
    """The rows as the ingest writes them: within each chunk of ``chunk_rows`` file rows, by person, a person's
    rows in file order."""
    if "person_id" not in frame.columns:
        return frame
    chunk = (pl.int_range(pl.len()) // chunk_rows).alias("_chunk")
    return frame.with_columns(chunk).sort("_chunk", "person_id", maintain_order=True).drop("_chunk")


def test_written_chunks_are_sorted_by_person_in_row_groups_that_skip(tmp_path):
    """The parquet sink writes each chunk of a person-keyed file sorted by person (a person's rows in file
    order) in row groups of ``row_group_rows``, so a person range (a core bucket) skips the other row groups by
    their statistics: one row group per chunk here instead of all of them."""
    import numpy as np
    import pyarrow.parquet as pq

    from monitor_dagster.ingest import _ParquetSink

    rng = np.random.default_rng(5)
    chunks = [pl.DataFrame({"person_id": rng.integers(0, 10_000, 8_000), "seq": np.arange(i * 8_000, (i + 1) * 8_000)})
              for i in range(3)]
    path = tmp_path / "t.parquet"
    sink = _ParquetSink(path, row_group_rows=1_000)
    for c in chunks:
        sink.add(sink.order(c))
    sink.close(chunks[0].clear())
    table = pl.read_parquet(path)
    assert_frame_equal(table, _sorted_per_chunk(pl.concat(chunks), 8_000))
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3 * 8
    stats = [meta.row_group(g).column(0).statistics for g in range(meta.num_row_groups)]
    lo, hi = 4_000, 4_300          # 3 % of the persons
    assert sum(1 for st in stats if st.min <= hi and st.max >= lo) <= 3 + 3    # at most two row groups a chunk
    got = pl.scan_parquet(path).filter(pl.col("person_id").is_between(lo, hi)).collect()
    assert_frame_equal(got, table.filter(pl.col("person_id").is_between(lo, hi)))


def test_the_warehouse_stores_the_same_table_in_chunks(zones, catalog, tmp_path):
    res = zones["parquet"]
    outcomes = {}
    for name, chunk_rows in (("whole", WHOLE), ("chunked", CHUNK)):
        wh = Warehouse(tmp_path / name)
        outcomes[name] = (wh, ingest_release(catalog, "SPOLISBUS", 2020, res.config.landing, wh, chunk_rows=chunk_rows))
    (wa, a), (wb, b) = outcomes["whole"], outcomes["chunked"]
    assert b.result.chunks > 2
    # the same rows; their order is by person within each chunk, so it follows the chunk size
    assert_frame_equal(wb.read("SPOLISBUS", "2020").collect(), wa.read("SPOLISBUS", "2020").collect(),
                       check_row_order=False)
    # the data file's own checksum differs: row groups are written differently in chunks (the table is equal)
    timing = {"seconds", "rows_per_second", "ingested_at", "written_at", "data_sha256"}
    ma, mb = wa.manifest("SPOLISBUS", "2020"), wb.manifest("SPOLISBUS", "2020")
    assert {k: v for k, v in mb.items() if k not in timing} == {k: v for k, v in ma.items() if k not in timing}
    assert mb["rows"] == b.result.rows == a.result.rows and b.manifest["rows"] == mb["rows"]


# ---------------------------------------------------------------------------------------- bad input
def test_duplicate_key_split_across_chunks(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _newest(res, "GBAPERSOONTAB")
    raw = _raw_csv(res, f)
    raw = pl.concat([raw, raw.slice(0, 1)])            # row 0 (first chunk) again as the last row
    path = _write_csv(tmp_path, f.path, raw)
    assert raw.height > 2 * CHUNK
    errors = {}
    for chunk_rows in (CHUNK, WHOLE):
        with pytest.raises(IngestError) as exc:
            _ingest(path, f.path, catalog, chunk_rows)
        errors[chunk_rows] = exc.value
    (fail,) = errors[CHUNK].failures
    assert (fail.file, fail.column, fail.count) == (f.path, "RINPERSOONS, RINPERSOON", 2)
    assert "duplicate key" in fail.rule
    assert fail.examples == [{"RINPERSOONS": raw["RINPERSOONS"][0], "RINPERSOON": raw["RINPERSOON"][0]}]
    msg = str(errors[CHUNK])
    assert f.path in msg and "columns RINPERSOONS, RINPERSOON: duplicate key" in msg
    assert msg == str(errors[WHOLE])

    # through the warehouse: nothing is written, no temporary file is left
    wh = Warehouse(tmp_path / "wh")
    with pytest.raises(IngestError, match="duplicate key"):
        ingest_release(catalog, "GBAPERSOONTAB", 2020, tmp_path / "landing", wh, chunk_rows=CHUNK)
    assert wh.partitions("GBAPERSOONTAB") == []
    left = [p.name for p in (tmp_path / "wh").rglob("*") if p.is_file() or p.name.startswith(".tmp-")]
    assert left == [".lock"]


def test_a_failure_in_the_last_chunk_only(zones, catalog, tmp_path):
    """Caught although every earlier chunk passed (and their output was already written); also a CSV number
    that does not parse in the last chunk, which makes the optimistic CSV reader start again with strings."""
    res = zones["csv"]
    f = _newest(res, "SPOLISBUS")
    raw = _raw_csv(res, f)
    last = raw.height - 1
    assert last // CHUNK > 1
    bad = _set(_set(raw, [last], "SSOORTBAAN", "7"), [last], "SBASISLOON", "veel")
    path = _write_csv(tmp_path, f.path, bad)
    out = tmp_path / "out.parquet"
    errors = {}
    for chunk_rows in (CHUNK, WHOLE):
        with pytest.raises(IngestError) as exc:
            _ingest(path, f.path, catalog, chunk_rows, out=out)
        errors[chunk_rows] = exc.value
        assert not out.exists()                          # the partial output is removed
    got = {x.column: x for x in errors[CHUNK].failures}
    assert set(got) == {"SSOORTBAAN", "SBASISLOON"}
    assert (got["SSOORTBAAN"].count, got["SSOORTBAAN"].examples) == (1, ["7"])
    assert (got["SBASISLOON"].rule, got["SBASISLOON"].examples) == ("not a number", ["veel"])
    assert str(errors[CHUNK]) == str(errors[WHOLE])


def test_failure_counts_and_warnings_are_over_the_whole_file(zones, catalog, tmp_path):
    """Bad values in the first and the last chunk: one failure per column and rule, the count over the whole
    file, the examples in file order; the same for the warnings of an unused column."""
    res = zones["csv"]
    f = _newest(res, "SECMBUS")
    raw = _raw_csv(res, f)
    assert raw.height > 2 * CHUNK                       # row 0 and the last row are chunks apart
    bad = _set(_set(_set(raw, [0], "SECM", "97"), [1], "SECM", "98"), [-1], "SECM", "99")
    path = _write_csv(tmp_path / "secm", f.path, bad)
    with pytest.raises(IngestError) as exc:
        _ingest(path, f.path, catalog, CHUNK)
    (fail,) = exc.value.failures
    assert (fail.file, fail.column, fail.count, fail.examples) == (f.path, "SECM", 3, ["97", "98", "99"])
    assert str(exc.value).splitlines()[1].endswith("(3 rows, e.g. '97', '98', '99')")
    with pytest.raises(IngestError) as whole:
        _ingest(path, f.path, catalog, WHOLE)
    assert str(exc.value) == str(whole.value)

    g = _newest(res, "GBAPERSOONTAB")
    raw = _set(_raw_csv(res, g), [2, -1], "GBAIMPUTATIECODE", "7")     # an unused column: a warning
    path = _write_csv(tmp_path / "gba", g.path, raw)
    chunked, one = _ingest(path, g.path, catalog, CHUNK), _ingest(path, g.path, catalog, WHOLE)
    assert chunked.chunks > 2
    (w,) = [w for w in chunked.warnings if w.column == "GBAIMPUTATIECODE"]
    assert w.count == 2 and w.examples == ["7"]
    assert chunked.frame["GBAIMPUTATIECODE"].gather([2, chunked.rows - 1]).to_list() == [None, None]
    assert_frame_equal(chunked.frame, one.frame)
    _same_result(chunked, one)


# ------------------------------------------------------------------------------------- configuration
def test_chunk_rows_from_the_environment(zones, catalog, monkeypatch):
    res = zones["parquet"]
    f = _newest(res, "SECMBUS")
    monkeypatch.delenv(CHUNK_ROWS_ENV, raising=False)
    assert chunk_rows_default() == DEFAULT_CHUNK_ROWS
    monkeypatch.setenv(CHUNK_ROWS_ENV, "7")
    out = ingest_file(res.config.landing / f.path, catalog.match(f.path), catalog)
    assert out.chunks == -(-out.rows // 7) > 1
    monkeypatch.setenv(CHUNK_ROWS_ENV, "1_000")
    assert chunk_rows_default() == 1000
    for bad in ("many", "0", "-5"):
        monkeypatch.setenv(CHUNK_ROWS_ENV, bad)
        with pytest.raises(ValueError, match=CHUNK_ROWS_ENV):
            chunk_rows_default()


def test_a_chunk_larger_than_polars_can_slice_is_the_whole_file(zones, catalog, monkeypatch, tmp_path):
    """A chunk size above polars' 32-bit row index ("never chunk": benchmarks/ingest.py's whole-file variant
    asks 10**12 rows) is one chunk, the same table as any other size; polars itself refuses a slice of that length
    ("cannot read the file: OverflowError") and panics on a row group of it."""
    res = zones["parquet"]
    f = _newest(res, "SECMBUS")
    path = res.config.landing / f.path
    reference = _ingest(path, f.path, catalog, WHOLE, out=tmp_path / "whole.parquet")
    monkeypatch.setenv(CHUNK_ROWS_ENV, str(10 ** 12))
    for name, kw in (("env.parquet", {}), ("arg.parquet", {"chunk_rows": 10 ** 12})):
        out = ingest_file(path, catalog.match(f.path), catalog, out=tmp_path / name, **kw)
        assert out.chunks == 1 and out.rows == reference.rows
        assert_frame_equal(pl.read_parquet(tmp_path / name), pl.read_parquet(tmp_path / "whole.parquet"))
