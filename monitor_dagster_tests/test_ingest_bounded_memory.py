"""What the ingest holds does not grow with the file (issue 12; docs/ingest.md, "Bounded read-ahead" and
"Duplicate keys in bounded memory").

A parquet file is read one slice per chunk, when the chunk is asked for (polars' ``collect_batches`` read about
ten chunks ahead); the slices give the chunks ``collect_batches`` gives.  Spilling the hashes to partition files must find exactly the repeats the in-memory list finds: repeats inside
one chunk, across chunks, across spills, at the partition boundaries and at the ends of the UInt64 range.  The
buffer must stay under the threshold and the files must go, also when the ingest fails.  Through ``ingest_file``
a duplicate split over chunks and spills gives the same message as the one-chunk ingest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError, ingest_file
from monitor_dagster.ingest.keyhash import PARTITION_BITS, KeyHashes, spill_rows
from monitor_dagster.ingest.readers import ReadError, collect_chunks, file_rows, scan_raw
from monitor_dagster.ingest.release import ingest_release
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse

U64 = pl.UInt64
TOP = 64 - PARTITION_BITS


def _chunks(values: np.ndarray, size: int) -> list[pl.Series]:
    return [pl.Series("__key__", values[i:i + size], dtype=U64) for i in range(0, len(values), size)]


def _expected(values: np.ndarray) -> set[int]:
    v, n = np.unique(values, return_counts=True)
    return set(v[n > 1].tolist())


def _hashes(seed: int = 3) -> np.ndarray:
    """Random hashes with planted repeats: inside a chunk, far apart, three times, and at the edges of the
    partitions and of the range."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2 ** 64 - 1, size=5_000, dtype=np.uint64, endpoint=True)
    edges = np.array([0, 2 ** 64 - 1, 1 << TOP, (1 << TOP) - 1, 5 << TOP, (5 << TOP) - 1], dtype=np.uint64)
    a = np.concatenate([edges, a, edges[::2]])          # the even edges repeat, the odd ones do not
    a[100] = a[101]                                     # a repeat inside one chunk
    a[4_000] = a[7]                                     # a repeat across chunks and spills
    a[4_500] = a[7]                                     # three times
    return a


@pytest.mark.parametrize("spill_at", [1, 7, 50, 1_000, 10 ** 9])
@pytest.mark.parametrize("chunk", [13, 400])
def test_spilled_and_in_memory_find_the_same_repeats(tmp_path, spill_at, chunk):
    values = _hashes()
    want = _expected(values)
    assert len(want) == 5          # 3 planted + edges 0, 1<<TOP, 5<<TOP (a random 64-bit collision is ~1e-12)
    kh = KeyHashes(tmp_path, spill_at=spill_at)
    for c in _chunks(values, chunk):
        kh.add(c)
        assert kh.buffered < spill_at              # the buffer never stays above the threshold
    assert (kh.spilled > 0) == (spill_at < len(values))
    got = kh.repeated()
    assert got.dtype == U64 and got.name == "__key__"
    assert got.len() == got.n_unique()             # each repeat once
    assert set(got.to_list()) == want
    assert list(tmp_path.iterdir()) == []          # the partition files are gone


def test_partitions_hold_a_share_of_the_hashes(tmp_path):
    """The point of the partitions: the last step reads one file at a time, about 1/64 of the hashes each."""
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2 ** 64 - 1, size=64_000, dtype=np.uint64, endpoint=True)
    kh = KeyHashes(tmp_path, spill_at=10_000)
    for c in _chunks(values, 3_000):
        kh.add(c)
    (d,) = tmp_path.iterdir()
    sizes = [f.stat().st_size // 8 for f in d.glob("*.u64")]
    assert len(sizes) == 2 ** PARTITION_BITS
    assert sum(sizes) == kh.spilled == 60_000          # 5 spills of 4 chunks; 4,000 hashes still buffered
    assert kh.buffered == 4_000
    assert max(sizes) < 2 * 60_000 / 2 ** PARTITION_BITS
    assert kh.repeated().len() == 0
    assert not d.exists()


def test_no_hashes_and_no_disk_below_the_threshold(tmp_path):
    kh = KeyHashes(tmp_path, spill_at=100)
    assert kh.repeated().len() == 0
    kh = KeyHashes(tmp_path, spill_at=100)
    kh.add(pl.Series("__key__", [5, 6, 5, 5], dtype=U64))
    assert kh.spilled == 0 and list(tmp_path.iterdir()) == []
    assert kh.repeated().to_list() == [5]


def test_close_removes_the_files(tmp_path):
    kh = KeyHashes(tmp_path, spill_at=2)
    kh.add(pl.Series("__key__", [1, 2, 3], dtype=U64))
    assert len(list(tmp_path.iterdir())) == 1
    kh.close()
    kh.close()
    assert list(tmp_path.iterdir()) == []


def test_spill_rows_from_the_environment(monkeypatch):
    monkeypatch.delenv("MONITOR_INGEST_HASH_SPILL_ROWS", raising=False)
    assert spill_rows() == 4_000_000
    monkeypatch.setenv("MONITOR_INGEST_HASH_SPILL_ROWS", "12")
    assert spill_rows() == 12 and KeyHashes().spill_at == 12
    for bad in ("0", "-3", "many", "1.5"):
        monkeypatch.setenv("MONITOR_INGEST_HASH_SPILL_ROWS", bad)
        with pytest.raises(ValueError, match="MONITOR_INGEST_HASH_SPILL_ROWS"):
            spill_rows()


# ------------------------------------------------------------------------------------- through the ingest
@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    base = tmp_path_factory.mktemp("ingest_keyhash")
    return generate(SynthConfig(landing=base / "landing", persons=60, first_year=2020, last_year=2020, seed=5,
                                fmt="csv", only_files=("GBAPERSOONTAB",)))


@pytest.fixture(scope="module")
def pq_zone(tmp_path_factory):
    """The same zone as :func:`zone`, in parquet (the format read one slice per chunk)."""
    base = tmp_path_factory.mktemp("ingest_parquet")
    return generate(SynthConfig(landing=base / "landing", persons=60, first_year=2020, last_year=2020, seed=5,
                                fmt="parquet", only_files=("GBAPERSOONTAB",)))


def _newest(res):
    """The latest version of the zone's GBAPERSOONTAB."""
    return sorted((f for f in res.files if f.file_id == "GBAPERSOONTAB"), key=lambda f: (f.year, f.version))[-1]


def test_a_duplicate_across_spills_is_refused_as_in_one_chunk(zone, tmp_path, monkeypatch):
    catalog = load_catalog()
    f = _newest(zone)
    raw = pl.read_csv(zone.config.landing / f.path, separator=";", infer_schema=False)
    raw = pl.concat([raw, raw.slice(0, 1)])            # row 0 again as the last row
    path = tmp_path / "landing" / f.path
    path.parent.mkdir(parents=True)
    raw.write_csv(path, separator=";", null_value="")
    match = catalog.match(f.path)

    monkeypatch.delenv("MONITOR_INGEST_HASH_SPILL_ROWS", raising=False)
    with pytest.raises(IngestError) as whole:
        ingest_file(path, match, catalog, chunk_rows=10 ** 9)
    monkeypatch.setenv("MONITOR_INGEST_HASH_SPILL_ROWS", "5")      # spills every chunk of 7 rows
    out = tmp_path / "stage" / "out.parquet"
    with pytest.raises(IngestError) as spilled:
        ingest_file(path, match, catalog, chunk_rows=7, out=out)
    assert str(spilled.value) == str(whole.value)
    (fail,) = spilled.value.failures
    assert fail.count == 2 and "duplicate key" in fail.rule
    assert not any(p.name.startswith(".keyhashes-") for p in tmp_path.rglob("*"))

    # through the warehouse: refused, nothing written, no spill left behind
    wh = Warehouse(tmp_path / "wh")
    with pytest.raises(IngestError, match="duplicate key"):
        ingest_release(catalog, "GBAPERSOONTAB", 2020, tmp_path / "landing", wh, chunk_rows=7)
    assert wh.partitions("GBAPERSOONTAB") == []
    assert not any(p.name.startswith(".keyhashes-") for p in tmp_path.rglob("*"))


def test_a_clean_file_spilled_gives_the_same_table(zone, tmp_path, monkeypatch):
    catalog = load_catalog()
    f = _newest(zone)
    path = zone.config.landing / f.path
    match = catalog.match(f.path)
    monkeypatch.delenv("MONITOR_INGEST_HASH_SPILL_ROWS", raising=False)
    a = ingest_file(path, match, catalog, chunk_rows=7).frame
    monkeypatch.setenv("MONITOR_INGEST_HASH_SPILL_ROWS", "3")
    b = ingest_file(path, match, catalog, chunk_rows=7, out=tmp_path / "stage" / "out.parquet")
    assert b.frame is None                          # written to out, not held
    written = pl.read_parquet(tmp_path / "stage" / "out.parquet")
    assert written.sort(written.columns).equals(a.sort(a.columns))
    assert [p.name for p in (tmp_path / "stage").iterdir()] == ["out.parquet"]


# ------------------------------------------------------------------------------------- read-ahead
def test_parquet_chunks_are_slices_equal_to_the_batches(tmp_path):
    df = pl.DataFrame({"a": range(100), "b": [str(i % 7) for i in range(100)]})
    path = tmp_path / "f.parquet"
    df.write_parquet(path, row_group_size=9)
    assert file_rows(path) == 100 and file_rows(path, "parquet") == 100
    lf = scan_raw(path).with_columns((pl.col("a") * 2).alias("c"))
    sliced = list(collect_chunks(lf, 15, file_rows(path)))
    batches = list(collect_chunks(lf, 15))
    assert [c.height for c in sliced] == [15] * 6 + [10]
    assert pl.concat(sliced).equals(pl.concat(batches)) and pl.concat(sliced)["a"].to_list() == list(range(100))
    empty = tmp_path / "e.parquet"
    df.clear().write_parquet(empty)
    assert file_rows(empty) == 0 and list(collect_chunks(scan_raw(empty), 15, 0)) == []


def test_file_rows_only_for_parquet_and_a_bad_footer_is_a_read_error(tmp_path):
    csv = tmp_path / "f.csv"
    csv.write_text("a;b\n1;2\n")
    assert file_rows(csv) is None and file_rows(csv, "csv") is None and file_rows(tmp_path / "x.sav") is None
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(ReadError):
        file_rows(bad)


def test_the_ingest_of_a_parquet_file_does_not_read_ahead(zone, pq_zone, monkeypatch):
    """``collect_batches`` (unbounded read-ahead for our purpose) is not used for a parquet file; the table is the
    one the CSV of the same zone gives."""
    catalog = load_catalog()
    f, g = _newest(pq_zone), _newest(zone)
    want = ingest_file(zone.config.landing / g.path, catalog.match(g.path), catalog, chunk_rows=7).frame

    def refuse(*a, **k):
        raise AssertionError("collect_batches used for a parquet file")
    monkeypatch.setattr(pl.LazyFrame, "collect_batches", refuse)
    got = ingest_file(pq_zone.config.landing / f.path, catalog.match(f.path), catalog, chunk_rows=7).frame
    assert got.height == want.height > 14
    assert got.equals(want)


def test_a_chunk_is_let_go_before_the_next_is_read(pq_zone, monkeypatch):
    """One chunk in memory: when the next chunk is read, the last one is referenced by no level of the ingest
    (collect_chunks, the ingest's chunk generator, its loop).  Each level held it for the length of the next
    read: the SPOLIS ingest of 4 M persons peaked at 1.44 GB, 1.17 GB without (docs/ingest.md)."""
    import weakref

    import monitor_dagster.ingest as ING

    catalog = load_catalog()
    f = _newest(pq_zone)
    made: list[weakref.ref] = []
    alive: list[bool] = []
    real = ING.collect_chunks

    def probe(lf, chunk_rows, rows=None):
        # the reader itself: the earlier chunks must be gone while its slice of the next one is collected
        def seen(df):
            alive.extend(r() is not None for r in made)
            return df
        for chunk in real(lf.map_batches(seen, streamable=False), chunk_rows, rows):
            made.append(weakref.ref(chunk))
            yield chunk
            del chunk

    monkeypatch.setattr(ING, "collect_chunks", probe)
    got = ingest_file(pq_zone.config.landing / f.path, catalog.match(f.path), catalog, chunk_rows=7).frame
    assert got.height > 21 and len(made) >= 4
    assert alive and not any(alive), alive
