"""Fault-injection suite, part D (issue 15, failure 6): the same inputs give the same bytes.

The "fault" is a second, identical run.  It used to give every core partition a new hash (group-bys and joins
return rows in an order that changes from run to run) and indicator values that differ in the last float bits
(polars adds the floats of a group in the order its threads meet them), and the parquet writers followed the
chunks a query happened to return.  Now the core tables are written sorted by a unique key (core/inputs.py
ROW_ORDER), every float sum in a group-by is exact (core/exact.py) and a table is written as one chunk per
column, so two builds of one landing zone hold byte-identical data files under identical version names, the
second on one thread (the model fits' estimates are stored rounded where they leave the model: core/exact.py).  The
rows of the reliability table are in docs/reliability_determinism.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from monitor_dagster.core import jobs as J
from monitor_dagster.core.buckets import BucketedFrame, BucketPlan
from monitor_dagster.core.inputs import CORE_INPUTS, ROW_ORDER
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse
from monitor_dagster_tests._reliability import tree_files

LAYERS = ("sources", "core", "indicators")


def _current(wh: Path, layer: str, asset: str, part: str) -> str:
    return json.loads((wh / layer / asset / part / "CURRENT").read_text(encoding="utf-8"))["version"]


def _data_files(wh: Path) -> dict[str, str]:
    """``layer/asset/partition`` -> ``<version folder> <sha256 of data.parquet>`` of every current version."""
    out = {}
    for rel, digest in tree_files(wh).items():
        parts = rel.split("/")
        if len(parts) == 5 and parts[0] in LAYERS and parts[-1] == "data.parquet":
            layer, asset, part, version, _ = parts
            if _current(wh, layer, asset, part) == version:
                out[f"{layer}/{asset}/{part}"] = f"{version} {digest[:16]}"
    return out


#: the second build runs on one thread: polars, BLAS/LAPACK (the model fits) and OpenMP, as on a smaller machine
ONE_THREAD = {"POLARS_MAX_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_BUILD = """
import sys
from pathlib import Path
import dagster as dg
from monitor_dagster.runner import run_pipeline
with dg.instance_for_test() as inst:
    s = run_pipeline(Path(sys.argv[1]), Path(sys.argv[2]), instance=inst, layers=tuple(sys.argv[3].split(",")))
sys.exit(0 if s.ok else "; ".join(o.message for o in s.outcomes if not o.ok))
"""


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Path, Path]:
    """One landing zone (2,000 persons, 2019) built twice, sources -> core -> indicators, into two fresh
    warehouses, each on its own temporary Dagster instance (never the user's DAGSTER_HOME); about 40 s each.
    Each build runs in a process of its own, the second limited to one thread (:data:`ONE_THREAD`), the first
    with every core: the model fits (propensity weights, duration model) sum in an order that depends on the
    threads, and the same cells must give the same bytes on a machine with other cores
    (docs/reliability_determinism.md, D7)."""
    root = tmp_path_factory.mktemp("determinism")
    res = generate(SynthConfig(landing=root / "landing", persons=2000, first_year=2019, last_year=2019, seed=11,
                               fmt="parquet"))
    for run, threads in (("a", {}), ("b", ONE_THREAD)):
        p = subprocess.run([sys.executable, "-c", _BUILD, str(res.config.landing), str(root / run), ",".join(LAYERS)],
                           env={**os.environ, **threads}, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr[-3000:]
    return root / "a", root / "b"


def test_an_identical_second_build_gives_byte_identical_core_and_indicator_partitions(two_builds):
    """Fault: the same landing zone built twice into fresh warehouses, the second on one thread.  Expected: exit
    0 both times, and every data file (sources, each core partition, each indicator family and the indicator
    table) byte for byte the same, under the same version folder name (it is named after the content)."""
    a, b = (_data_files(w) for w in two_builds)
    # the core inputs' tables and the weights of the corrections (issue 17), fitted over every year
    assert {k.split("/")[1] for k in a if k.startswith("core/")} == {*CORE_INPUTS, "propensity_weights"}, sorted(a)
    assert "indicators/indicator_table/all" in a and "indicators/contracts_hours/2019" in a, sorted(a)
    differ = [f"{k}: {a.get(k)} vs {b.get(k)}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]
    assert not differ, f"{len(differ)} of {len(a)} partitions not reproducible:\n  " + "\n  ".join(differ)


def test_core_tables_are_sorted_by_a_unique_key(two_builds):
    """The order rests on a key that is unique, so it is total (a tie could be broken differently per run)."""
    wh = two_builds[0]
    for asset, key in ROW_ORDER.items():
        parts = sorted(p.name for p in (wh / "core" / asset).iterdir() if (p / "CURRENT").is_file())
        assert parts, f"core/{asset} not built"
        for part in parts:
            df = pl.read_parquet(wh / "core" / asset / part / _current(wh, "core", asset, part) / "data.parquet")
            assert df.height and not df.select(key).is_duplicated().any(), f"core/{asset}/{part}: {key} not unique"
            assert df.equals(df.sort(key, nulls_last=True)), f"core/{asset}/{part} is not sorted by {key}"


def test_a_bucketed_table_is_written_sorted_whatever_order_its_query_returns(tmp_path):
    """BucketedFrame with ``sort_by``: each bucket (a key range, in order) sorted, so the file is sorted and its
    bytes do not depend on the order a group-by returned."""
    frame = pl.DataFrame({"person_id": list(range(100)), "x": [i / 7 for i in range(100)]})
    plan = BucketPlan("person_id", bounds=(30, 60))
    digests = set()
    for seed in (1, 2):
        shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed).lazy()
        path = tmp_path / f"{seed}.parquet"
        BucketedFrame(lambda rows: rows, {"rows": shuffled}, plan, sort_by=["person_id"]).write_parquet(path)
        assert pl.read_parquet(path).equals(frame)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_a_bucketed_table_is_written_the_same_whatever_chunks_its_query_returns(tmp_path):
    """The same rows in 1 or 7 chunks (as a streaming query returns them) give the same file: pyarrow falls back
    from dictionary encoding chunk by chunk, so a float column of many values (job-months' hourly wage) used
    to come out differently (seen at 1 M persons: 351 bytes of one row group)."""
    digests = set()
    for k in (1, 7):
        path = tmp_path / f"{k}.parquet"
        BucketedFrame(lambda rows: rows, {"rows": _in_chunks(k).lazy()}, BucketPlan("person_id")).write_parquet(path)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_a_frame_is_stored_the_same_whatever_its_chunks(tmp_path):
    """The same for a table the warehouse writes whole (spell tables, indicator families, the indicator table):
    the same data file and version name for 1 or 7 chunks."""
    versions = set()
    for k in (1, 7):
        w = Warehouse(tmp_path / f"wh{k}", layer="core")
        versions.add(w.write("table", "2019", _in_chunks(k), {"rows": 300_000}).name)
    assert len(versions) == 1, versions


def _in_chunks(k: int, n: int = 300_000) -> pl.DataFrame:
    """n rows with a float of many values (its dictionary outgrows a page), in k chunks."""
    frame = pl.DataFrame({"person_id": np.arange(n), "x": np.random.default_rng(0).random(n) * 1000})
    rows = pl.concat([frame.slice(i, n // k + 1) for i in range(0, n, n // k + 1)], rechunk=False)
    assert rows.n_chunks() == k
    return rows


def _with_cents(core_wh: Path, family: str, copies: int = 40) -> dict[str, pl.LazyFrame | None]:
    """The family's inputs of 2019 from ``core_wh``, the core tables ``copies`` times with shifted person and job
    keys (polars sums in parallel, hence in a varying order, only above some size: ~500,000 job-months here),
    and cents on the job-months' hours and wages (real SPOLIS amounts; the synthetic ones are whole numbers,
    whose float sums are exact in any order)."""
    out = {}
    for k, f in ENG.warehouse_frames(core_wh, family, 2019).items():
        if f is None or not k.startswith("core/"):
            out[k] = f
            continue
        d = f.collect()
        d = pl.concat([d.with_columns(pl.col("person_id") + i * 10 ** 7,
                                      *([pl.col("IKVID") + i * 10 ** 9] if "IKVID" in d.columns else []))
                       for i in range(copies)])
        if k == "core/job_months":
            rng = np.random.default_rng(0)
            d = d.with_columns(*[(pl.col(c) + pl.Series(rng.integers(0, 100, d.height) / 100)).alias(c)
                                 for c in ("basisuren", "basisloon")])
            d = d.with_columns((pl.col("basisloon") / pl.col("basisuren")).alias("hourly_wage"),
                               (pl.col("basisuren") * 7 / pl.col("days")).alias("basisuren_pw"))
        out[k] = d.lazy()
    return out


def _shuffled(frames: dict[str, pl.LazyFrame | None], seed: int) -> dict[str, pl.LazyFrame | None]:
    return {k: None if f is None else f.collect().sample(fraction=1.0, shuffle=True, seed=seed).lazy()
            for k, f in frames.items()}


def test_indicator_values_do_not_depend_on_the_row_order_of_amounts_with_cents(core_wh):
    """Summation order: O04/O06-O08/O10 (hours per week, wages) computed on the same job-months in three row
    orders give the same table bit for bit.  Float sums used to differ in the last bits (8 of 1,830 values)."""
    frames = _with_cents(core_wh, "contracts_hours")
    tables = [ENG.compute_family("contracts_hours", _shuffled(frames, seed), 2019).table for seed in (1, 2, 3)]
    assert tables[0].height > 1000
    for t in tables[1:]:
        assert t.drop("value").equals(tables[0].drop("value"))
        differ = t.with_columns(tables[0]["value"].alias("first")).filter(pl.col("value").ne_missing(pl.col("first")))
        assert differ.height == 0, (f"{differ.height} values differ with the row order, e.g. "
                                    f"{differ.select('indicator_id', 'measure', 'value', 'first').head(3).rows()}")


def test_core_sums_do_not_depend_on_the_row_order_of_amounts_with_cents(core_wh):
    """The same for the core tables that sum job-months (employers for O40, the contract of most hours, job
    spells): identical results for three row orders."""
    months = _with_cents(core_wh, "contracts_hours")["core/job_months"].collect()
    for name, build, key in (("employers", lambda m: J.employers(m, 2019), ROW_ORDER["employers"]),
                             ("contract_by_basic_hours", lambda m: J.contract_by_basic_hours(m, 2019), ["person_id"]),
                             ("job_spells", J.job_spells, ROW_ORDER["job_spells"])):
        results = [build(months.sample(fraction=1.0, shuffle=True, seed=s).lazy()).collect(engine="streaming").sort(key)
                   for s in (1, 2, 3)]
        assert all(r.equals(results[0]) for r in results[1:]), name
