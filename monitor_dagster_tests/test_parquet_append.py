"""The background parquet writer of the core buckets and the chunked ingest (monitor_dagster/parquet_append.py):
same bytes as writing in the caller's thread, one part in flight, errors raised in the caller, no partial file
left after a failure."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time

import polars as pl
import pyarrow.parquet as pq
import pytest

from monitor_dagster.parquet_append import AppendingParquetWriter, range_columns


def _parts() -> list[pl.DataFrame]:
    return [pl.DataFrame({"person_id": list(range(i * 1000, (i + 1) * 1000)),
                          "x": [float(j % 7) for j in range(1000)],
                          "code": pl.Series([str(j % 3) for j in range(1000)]).cast(pl.Enum(["0", "1", "2"]))})
            for i in range(5)]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_bytes_as_writing_in_the_callers_thread(tmp_path):
    parts = _parts()
    plain = tmp_path / "plain.parquet"
    schema = parts[0].to_arrow().schema
    w = pq.ParquetWriter(str(plain), schema, compression="zstd", write_statistics=range_columns(schema))
    for p in parts:
        w.write_table(p.to_arrow())
    w.close()
    bg = tmp_path / "bg.parquet"
    with AppendingParquetWriter(bg, compression="zstd") as writer:
        for p in parts:
            writer.write(p.to_arrow())
    assert _sha(bg) == _sha(plain)
    assert pl.read_parquet(bg).equals(pl.concat(parts))
    assert pq.ParquetFile(bg).metadata.num_row_groups == len(parts)


def test_one_part_in_flight_and_the_caller_not_blocked(tmp_path, monkeypatch):
    """write() returns while its part is still being written; the next write() waits for it, so writes never
    overlap and come in order."""
    events: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    orig = pq.ParquetWriter.write_table

    def slow(self, table, *a, **k):
        n = table.column("person_id")[0].as_py() // 1000
        with lock:
            events.append(("start", n, time.perf_counter()))
        time.sleep(0.15)
        orig(self, table, *a, **k)
        with lock:
            events.append(("end", n, time.perf_counter()))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", slow)
    returned = []
    with AppendingParquetWriter(tmp_path / "f.parquet") as writer:
        for p in _parts():
            writer.write(p.to_arrow())
            returned.append(time.perf_counter())
    starts = {n: t for kind, n, t in events if kind == "start"}
    ends = {n: t for kind, n, t in events if kind == "end"}
    assert sorted(starts) == list(range(5))
    for n in range(5):
        assert returned[n] < ends[n]                 # the caller went on while part n was written
        if n:
            assert starts[n] >= ends[n - 1]          # part n started after part n-1 was done
            assert returned[n] >= ends[n - 1]        # no queue: write(n) waited for part n-1 (memory of one part)
    assert pl.read_parquet(tmp_path / "f.parquet")["person_id"].to_list() == list(range(5000))


def test_an_error_of_the_background_write_reaches_the_caller_and_no_file_is_left(tmp_path, monkeypatch):
    def broken(self, table, *a, **k):
        raise OSError("No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", broken)
    path = tmp_path / "f.parquet"
    with pytest.raises(OSError, match="No space left"):
        with AppendingParquetWriter(path) as writer:
            for p in _parts():
                writer.write(p.to_arrow())
    assert not path.exists()


def test_an_error_of_the_caller_removes_the_file(tmp_path):
    path = tmp_path / "f.parquet"
    with pytest.raises(RuntimeError):
        with AppendingParquetWriter(path) as writer:
            writer.write(_parts()[0].to_arrow())
            raise RuntimeError("bucket 2 failed")
    assert not path.exists()


def test_later_parts_take_the_first_parts_schema(tmp_path):
    a = pl.DataFrame({"k": [1, 2], "v": [None, None]}, schema={"k": pl.Int64, "v": pl.Float64})
    b = pl.DataFrame({"k": [3], "v": [None]}, schema={"k": pl.Int64, "v": pl.Null})
    with AppendingParquetWriter(tmp_path / "f.parquet") as writer:
        writer.write(a.to_arrow())
        writer.write(b.to_arrow())
    out = pl.read_parquet(tmp_path / "f.parquet")
    assert out.schema == a.schema and out.height == 3


def test_statistics_only_where_a_range_predicate_can_use_them(tmp_path):
    """min/max of the integer key (a bucket's scan skips row groups by them), none of floats and codes (a third
    of the encoding time of a SPOLIS chunk, and no query filters on them); polars still prunes by the key."""
    path = tmp_path / "f.parquet"
    with AppendingParquetWriter(path, compression="zstd") as writer:
        for p in _parts():
            writer.write(p.to_arrow())
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    for g in range(meta.num_row_groups):
        stats = {n: meta.row_group(g).column(i).statistics for i, n in enumerate(names)}
        assert stats["person_id"] is not None and stats["person_id"].has_min_max
        assert (stats["person_id"].min, stats["person_id"].max) == (g * 1000, g * 1000 + 999)
        assert stats["x"] is None or not stats["x"].has_min_max
        assert stats["code"] is None or not stats["code"].has_min_max
    got = pl.scan_parquet(path).filter(pl.col("person_id").is_between(2000, 2999)).collect()
    assert got.equals(_parts()[2])
    assert range_columns(pl.DataFrame({"d": [dt.date(2021, 1, 1)], "b": [True], "s": ["a"], "f": [1.0]})
                         .to_arrow().schema) == ["d", "b"]
