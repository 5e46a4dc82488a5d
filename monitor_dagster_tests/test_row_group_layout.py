"""A warehouse of many row groups gives the tables of one of a few (fortieth session, issue 12).

A national warehouse is read in many row groups (the ingest writes a file in chunks of millions of rows, a core
table a row group per bucket), so the streaming engine runs every query over many morsels; a test zone's
tables are one row group each, one morsel.  polars 2.1 has failures that only some layouts show (a panic of
``pl.format`` over a national bucket, docs/dependencies.md).  Here the same landing zone is ingested in chunks
of 97 rows and computed in 3 buckets, so that every source and core table is many row groups: the core tables
and the indicator table must be the ones of the ordinary run, row for row.
"""

from __future__ import annotations

import shutil

import dagster as dg
import polars as pl
from polars.testing import assert_frame_equal

from monitor_dagster.ingest import CHUNK_ROWS_ENV
from monitor_dagster.runner import run_pipeline
from monitor_dagster.warehouse import Warehouse

Y = 2019


def _row_groups(wh, layer: str, name: str, part: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(Warehouse(wh, layer=layer).data_path(name, part)).num_row_groups


def test_a_warehouse_of_many_row_groups_gives_the_same_tables(core_wh, tmp_path, monkeypatch):
    landing = core_wh.parent / "landing"
    usual = tmp_path / "usual"
    shutil.copytree(core_wh, usual)
    with dg.instance_for_test() as inst:
        s = run_pipeline(landing, usual, instance=inst, layers=("indicators",))
    assert s.ok, [o.message for o in s.outcomes if not o.ok]

    monkeypatch.setenv(CHUNK_ROWS_ENV, "97")
    monkeypatch.setenv("MONITOR_BUCKETS", "3")
    many = tmp_path / "many"
    with dg.instance_for_test() as inst:
        s = run_pipeline(landing, many, instance=inst, layers=("sources", "core", "indicators"))
    assert s.ok, [o.message for o in s.outcomes if not o.ok]

    # the layout asked for: many row groups where the ordinary run writes one (a bucket's in the core)
    assert _row_groups(usual, "sources", "SPOLISBUS", str(Y)) == 1
    assert _row_groups(many, "sources", "SPOLISBUS", str(Y)) > 100
    assert _row_groups(many, "core", "job_months", str(Y)) >= 3
    for name in ("population", "job_months", "secm_months", "job_spells"):
        a = Warehouse(usual, layer="core").read(name, str(Y)).collect()
        b = Warehouse(many, layer="core").read(name, str(Y)).collect()
        assert a.height > 0, name
        assert_frame_equal(a, b.select(a.columns), check_row_order=True)
    a = Warehouse(usual, layer="indicators").read("indicator_table", "all").collect()
    b = Warehouse(many, layer="indicators").read("indicator_table", "all").collect()
    assert a.height > 1000
    assert_frame_equal(a, b.select(a.columns), check_row_order=True)
