"""Person-bucketed execution with mergeable cells (issue 12): the indicator table does not depend on K.

Hand-built: partial cells of two halves of the persons merge into exactly the cells of all persons (means,
weighted shares, categories).  Synthetic: every family computed with K = 1 and K = 7 buckets gives a
byte-identical table, equal to the functions' own (unbucketed) output.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from monitor_dagster.core import buckets as BK
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.indicators.table import DIMENSIONS, FIXED, PARTIAL_SCHEMA, cells, finalize, partial_cells, partial_mode

Y = 2019


def _persons(n: int = 40) -> pl.DataFrame:
    groups = ["Turkije", "Marokko", "geen migratieachtergrond", "Polen"]
    aggr = {"Turkije": "niet-westers", "Marokko": "niet-westers", "Polen": "westers",
            "geen migratieachtergrond": None}
    return pl.DataFrame({
        "person_id": list(range(n)),
        "herkomst_group": [groups[i % 4] for i in range(n)],
        "herkomst_aggregate": [aggr[groups[i % 4]] for i in range(n)],
        "generatie": [("eerste", "tweede", None)[i % 3] for i in range(n)],
        "verblijfsduur": [None] * n, "leeftijd": [("15-27", "27-AOW")[i % 2] for i in range(n)],
        "geslacht": [("man", "vrouw")[(i // 2) % 2] for i in range(n)], "opleidingsniveau": [None] * n,
        "value": [(i * 7.31) % 23 for i in range(n)],
        "flag": [float(i % 3 == 0) for i in range(n)], "w": [100.0 + (i * 13.7) % 50 for i in range(n)],
        "cat": [("1", "1-2", ">2")[i % 3] for i in range(n)],
    })


@pytest.mark.parametrize("kw", [
    dict(indicator_id="X1", unit="uren per week", measure="uren"),                          # a mean
    dict(indicator_id="X2", unit="%", measure="aandeel", weight="w", value="flag"),         # a weighted share
    dict(indicator_id="X3", unit="%", by_measure="cat"),                                   # categories
])
def test_partial_cells_of_two_halves_merge_into_the_cells_of_all(kw):
    kw = dict(kw)
    p = _persons()
    if "value" in kw:
        p = p.with_columns(pl.col(kw.pop("value")).alias("value"))
    whole = cells(p.lazy(), year=Y, **kw)
    halves = [partial_cells(p.filter(pl.col("person_id") % 2 == r).lazy(), year=Y, **kw) for r in (1, 0)]
    assert_frame_equal(finalize(pl.concat(halves)), whole)
    # the hand-computed total cell: a mean of the values, or a share
    tot = whole.filter(pl.all_horizontal(pl.col(c) == "totaal" for c in DIMENSIONS))
    if kw.get("by_measure"):
        assert dict(zip(tot["measure"], tot["value"])) == pytest.approx({"1": 100 * 14 / 40, "1-2": 100 * 13 / 40,
                                                                        ">2": 100 * 13 / 40})
    elif kw.get("weight"):
        flag, w = p["flag"], p["w"]
        assert tot["value"].item() == pytest.approx(100 * (flag * w).sum() / w.sum())
        assert tot["n_weighted"].item() == pytest.approx(w.sum())
    else:
        assert tot["value"].item() == pytest.approx(p["value"].mean(), abs=1e-7)
        assert tot["n"].item() == 40


def test_partial_mode_returns_integer_partial_sums():
    with partial_mode():
        part = cells(_persons().lazy(), indicator_id="X1", year=Y, unit="maanden")
    assert dict(part.schema) == PARTIAL_SCHEMA
    tot = part.filter(pl.all_horizontal(pl.col(c) == "totaal" for c in DIMENSIONS))
    assert tot["w_sum"].item() == 40 * FIXED
    assert tot["wv_sum"].item() == sum(round(v * FIXED) for v in _persons()["value"])
    # outside the block: finished rows again
    assert "value" in cells(_persons().lazy(), indicator_id="X1", year=Y, unit="maanden").columns


def test_bucket_ranges_cover_every_key_exactly_once():
    frames = {"core/population": pl.LazyFrame({"person_id": [10, 20, 30, 1000]}),
              "core/job_months": pl.LazyFrame({"person_id": [-5, 10, 500, 5000, 5000, None]})}
    plan = BK.plan_buckets(frames, "person_id", 7)
    assert 1 < plan.k <= 4                 # four persons: no more buckets than distinct keys
    seen = []
    for i in range(plan.k):
        seen += BK.bucket_frames(frames, plan, i)["core/job_months"].collect()["person_id"].to_list()
    # keys outside the population's range included; a row without a key (an EBB respondent without
    # RINPERSOON) in exactly one bucket, not lost
    assert sorted(seen, key=lambda x: (x is None, x)) == [-5, 10, 500, 5000, 5000, None]
    assert BK.plan_buckets(frames, "person_id", 1).k == 1
    assert BK.plan_buckets(frames, None, 7).k == 1            # a family declared unbucketed
    # K from the input size: a budget far below the inputs' size asks for more buckets
    assert BK.choose_buckets(frames, "person_id", memory_gb=1) == 1
    assert BK.choose_buckets(frames, "person_id", memory_gb=1e-9) > 1


@pytest.mark.parametrize("rows", [10_000, 50_000])
def test_buckets_hold_equal_rows_when_a_few_keys_lie_far_out(rows, monkeypatch):
    """person_id = RINPERSOONS x 10^9 + RINPERSOON: 1 % of rows of another RINPERSOONS (S) far above the R
    persons must not leave buckets empty and the others twice as full (equal ranges did at 17.5 M persons).
    50,000 rows with a sample of 20,000: the bounds from a hash sample of persons."""
    monkeypatch.setattr(BK, "PLAN_SAMPLE_ROWS", 20_000)
    n_r = rows * 99 // 100
    ids = [100_000_000 + i * 9_000 for i in range(n_r)] + [1_800_000_000 + i for i in range(rows - n_r)]
    frame = pl.LazyFrame({"person_id": ids})
    plan = BK.plan_buckets({"spolis": frame}, "person_id", 10)
    assert plan.k == 10
    sizes = [frame.filter(plan.predicate(i)).select(pl.len()).collect().item() for i in range(plan.k)]
    assert sum(sizes) == rows
    assert min(sizes) > 0.8 * rows / 10 and max(sizes) < 1.2 * rows / 10, sizes


@pytest.mark.parametrize("k", [2, 7, 47])
def test_bucket_bounds_are_the_lower_quantiles_of_the_keys(k):
    """The bounds are the keys' quantiles j/K ("lower": a key that occurs), computed in one sort: the same
    bounds as K-1 quantile expressions each sorting the keys, so K and the tables of earlier runs stay as
    they were (issue 15).  Unsorted keys with repeats and nulls; the bounds sorted, distinct, above the
    smallest key."""
    rng = np.random.default_rng(k)
    ids = rng.integers(10**8, 10**9, 30_000).tolist() + [None] * 50 + [10**8] * 200
    frame = pl.LazyFrame({"person_id": ids})
    one_by_one = frame.filter(pl.col("person_id").is_not_null()).select(
        pl.col("person_id").min().alias("lo"),
        *[pl.col("person_id").quantile(j / k, interpolation="lower").alias(f"q{j}") for j in range(1, k)]
    ).collect().row(0)
    expected = tuple(sorted({int(v) for v in one_by_one[1:] if v > one_by_one[0]}))
    plan = BK.plan_buckets({"spolis": frame}, "person_id", k)
    assert plan.bounds == expected and len(expected) == k - 1


def test_choose_buckets_counts_the_columns_read():
    """A wide source of which the bucket's query reads a few columns (SPOLIS for job_months): K from those
    columns only; a named column the file lacks does not count."""
    wide = pl.DataFrame({"person_id": range(1000), **{f"c{i}": range(1000) for i in range(19)}}).lazy()
    frames = {"spolis": wide}
    budget = 1000 * 2 * 8 * BK.BUCKET_OVERHEAD / 1024 ** 3          # exactly two columns of 1000 rows
    assert BK.choose_buckets(frames, "person_id", budget) == 10
    assert BK.choose_buckets(frames, "person_id", budget, columns={"spolis": ("person_id", "c3", "absent")}) == 1
    assert BK.choose_buckets(frames, "person_id", budget, columns={"other": ("person_id",)}) == 10


# ------------------------------------------------------------------------------------------ synthetic
@pytest.fixture
def wh(core_wh) -> Path:
    """The shared sources + core warehouse (conftest.py); tests here only read it or copy it."""
    return core_wh


def _frames(wh: Path, family: str, year: int) -> dict[str, pl.LazyFrame | None]:
    return ENG.warehouse_frames(wh, family, year)


@pytest.mark.parametrize("family", ["contracts_hours", "secm", "income", "ebb"])
def test_k1_and_k7_give_byte_identical_tables(wh, family):
    frames = _frames(wh, family, Y)
    one = ENG.compute_family(family, frames, Y, buckets=1)
    seven = ENG.compute_family(family, frames, Y, buckets=7)
    assert one.buckets == 1 and seven.buckets == 7
    assert one.table.height > 0 and one.computed == seven.computed
    assert_frame_equal(one.table, seven.table)                           # every count and every value
    assert_frame_equal(one.cells, seven.cells)                           # and the covariate cells (issue 17)
    assert one.table.hash_rows().to_list() == seven.table.hash_rows().to_list()   # byte for byte
    # and the same as the family's functions called directly on the whole frames (with the one population
    # rule the engine applies before every function: report 2.2, in NL six months or less: out)
    from monitor_dagster.choices import DEFAULT

    if frames.get("core/population") is not None:
        frames = {**frames, "core/population": DEFAULT.analysis_population(frames["core/population"])}
    direct = []
    for fn_specs in {s.function: s for s in SPEC.families()[family]}.values():
        if fn_specs.first_year and Y < fn_specs.first_year:
            continue
        fn = fn_specs.load_function()
        q = {"quarterly": True} if fn_specs.period == "quarter" else {}
        optional = {p: frames.get(k) for p, k in fn_specs.optional_inputs.items()}   # O05's INPATAB (issue 18)
        direct.append(fn(**{p: frames[k] for p, k in fn_specs.inputs.items()}, **optional, year=Y, **q))
    ref = finalize(pl.DataFrame(schema=PARTIAL_SCHEMA)) if not direct else pl.concat(direct)
    cols = ["indicator_id", *DIMENSIONS, "measure"]   # the rows of the table; the covariate cells (issue 17) are compared K=1 vs K=7 above
    assert_frame_equal(seven.table.drop("vintages").sort(cols), ref.drop("vintages").sort(cols))


def test_a_bucket_holds_only_the_columns_its_family_reads(wh):
    """specs.yaml input_columns (issue 12): contracts_hours' buckets of core/job_months without the employer's id
    and the derived columns; every declared column exists in the core table; with the method choice that
    reads one more column (substantial per year: soortbaan) the engine gives the functions' own table."""
    frames = _frames(wh, "contracts_hours", Y)
    declared = SPEC.input_columns("contracts_hours")["core/job_months"]
    whole = frames["core/job_months"].collect_schema().names()
    assert set(declared) <= set(whole) and "SBEID" in whole
    plan = BK.plan_buckets({"core/job_months": frames["core/job_months"]}, "person_id", 3)
    bucket = BK.bucket_frames(ENG.project_inputs("contracts_hours", frames), plan, 0)
    assert bucket["core/job_months"].collect_schema().names() == list(declared)
    assert bucket["core/population"].collect_schema().names() == frames["core/population"].collect_schema().names()
    from monitor_dagster.choices import MethodChoices
    from monitor_dagster.indicators import register as R

    method = "substantial=year"
    jm = frames["core/job_months"]      # internships (soortbaan 2, left out with this choice) in every 4th row
    intern = pl.lit("2").cast(jm.collect_schema()["soortbaan"])
    frames = {**frames, "core/job_months": jm.with_row_index("_r").with_columns(
        pl.when(pl.col("_r") % 4 == 0).then(intern).otherwise(pl.col("soortbaan")).alias("soortbaan")).drop("_r")}
    res = ENG.compute_family("contracts_hours", frames, Y, buckets=3, extra={"method": method})
    choices = MethodChoices.parse(method)
    pop = choices.analysis_population(frames["core/population"])
    direct = R.o07_uren(pop, frames["core/job_months"], Y, frames["core/secm_months"], quarterly=True,
                        choices=choices)
    cols = ["indicator_id", *DIMENSIONS, "measure"]
    got = res.table.filter(pl.col("indicator_id") == "O07").drop("vintages").sort(cols)
    assert got.height > 0
    assert_frame_equal(got, direct.drop("vintages").sort(cols))


@pytest.mark.parametrize("family", sorted(SPEC.registry().input_columns))
def test_the_projection_of_the_inputs_does_not_change_a_family(wh, monkeypatch, family):
    """Every family that names the columns it reads (specs.yaml input_columns) gives byte for byte the table and
    covariate cells it gives on whole inputs: no function reads a column that is not declared."""
    year = Y if family == "transitions" else Y - 1   # transitions need t-1's months, the others t+1's
    frames = _frames(wh, family, year)
    projected = ENG.compute_family(family, frames, year, buckets=3)
    monkeypatch.setattr(SPEC, "input_columns", lambda fam: {})
    whole = ENG.compute_family(family, frames, year, buckets=3)
    assert projected.table.height > 0 and projected.computed == whole.computed
    assert_frame_equal(projected.table, whole.table)
    assert_frame_equal(projected.cells, whole.cells)


@pytest.mark.parametrize("family", sorted(SPEC.registry().cohorts))
def test_holding_a_cohort_alone_does_not_change_a_family(wh, monkeypatch, family):
    """A family that follows a cohort (specs.yaml ``cohorts``: those leaving WW or bijstand, graduates) holds
    the narrowed inputs for the cohort's persons alone, and gives byte for byte the table and covariate cells
    it gives with every person's rows held: its functions read no one else's rows of them."""
    year = Y - 1                        # their follow-up needs t+1
    frames = _frames(wh, family, year)
    work = ENG.family_work(family, frames, year)
    plan = ENG.family_plan(work, frames, 3)
    inputs = ENG.project_inputs(family, {k: f for k, f in frames.items() if k in work.inputs})
    cohort_of, narrows = ENG.bucket_cohort(family, year)
    whole_b, cohort_b = BK.bucket_frames(inputs, plan, 0), BK.bucket_frames(inputs, plan, 0, (cohort_of, narrows))
    ids = set(cohort_of(whole_b).collect()["person_id"])
    for k in narrows:
        if whole_b.get(k) is None:
            continue
        got = cohort_b[k].collect()
        assert set(got["person_id"]) <= ids                                       # the cohort alone
        assert 0 < got.height < whole_b[k].select(pl.len()).collect().item()      # narrowed, not emptied
        want = whole_b[k].filter(pl.col("person_id").is_in(list(ids))).collect()
        assert_frame_equal(got.sort(got.columns), want.sort(want.columns))         # all of the cohort's rows
    assert cohort_b["core/population"].collect().height == whole_b["core/population"].collect().height
    narrowed = ENG.compute_family(family, frames, year, buckets=3)
    monkeypatch.setattr(SPEC, "cohort", lambda fam: None)
    whole = ENG.compute_family(family, frames, year, buckets=3)
    assert narrowed.table.height > 0 and narrowed.computed == whole.computed
    assert_frame_equal(narrowed.table, whole.table)
    assert_frame_equal(narrowed.cells, whole.cells)


def test_cohorts_name_inputs_their_family_reads():
    """A narrowed input the family does not read (a typo in specs.yaml) is refused when the registry loads."""
    raw = SPEC.registry().model_dump()
    raw["cohorts"] = {"reemployment": {"function": "x:y", "narrows": ["core/job_spells"]}}
    with pytest.raises(ValueError, match="reemployment narrows core/job_spells"):
        SPEC.Registry.model_validate(raw)


@pytest.mark.parametrize("family", ["contracts_hours", "secm"])
def test_buckets_in_flight_give_the_same_table(wh, monkeypatch, family):
    """Two buckets computed at once (threads, MONITOR_BUCKETS_IN_FLIGHT=2): byte for byte the table of one at
    a time; the engine's context (partial cells, shared intermediates) is each bucket's own."""
    frames = _frames(wh, family, Y)
    monkeypatch.setenv("MONITOR_BUCKETS_IN_FLIGHT", "1")
    one = ENG.compute_family(family, frames, Y, buckets=7)
    monkeypatch.setenv("MONITOR_BUCKETS_IN_FLIGHT", "2")
    assert BK.buckets_in_flight(7) == 2 and BK.buckets_in_flight(1) == 1
    two = ENG.compute_family(family, frames, Y, buckets=7)
    assert one.table.height > 0
    assert one.table.hash_rows().to_list() == two.table.hash_rows().to_list()
    assert one.cells.hash_rows().to_list() == two.cells.hash_rows().to_list()


def test_in_flight_runs_buckets_side_by_side_in_order():
    """in_flight: results in bucket order, at most ``workers`` at once and really two at once (a barrier two
    calls must reach together), each call in the caller's context."""
    import contextvars
    import threading
    import time

    var = contextvars.ContextVar("probe", default="unset")
    var.set("caller")
    barrier = threading.Barrier(2, timeout=10)
    lock, running, most = threading.Lock(), [0], [0]

    def fn(i: int):
        seen = var.get()              # the caller's value, not another bucket's
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if i < 2:
            barrier.wait()            # raises BrokenBarrierError if bucket 0 and 1 never run together
        time.sleep(0.01 * (5 - i))    # later buckets finish first: the order must still be 0..5
        var.set(f"bucket {i}")        # a bucket's own context: not seen by the caller or the next bucket
        with lock:
            running[0] -= 1
        return i, seen

    out = list(BK.in_flight(fn, 6, workers=2))
    assert out == [(i, "caller") for i in range(6)]
    assert most[0] == 2
    assert var.get() == "caller"
    assert list(BK.in_flight(lambda i: (i, var.get()), 3, workers=1)) == [(0, "caller"), (1, "caller"), (2, "caller")]


def test_buckets_in_flight_setting(monkeypatch):
    """Defaults: two buckets at once in the indicator engine, one in the core layer; the variable overrides
    both; a wrong value names the variable."""
    monkeypatch.delenv("MONITOR_BUCKETS_IN_FLIGHT", raising=False)
    assert BK.buckets_in_flight(9, BK.ENGINE_IN_FLIGHT) == 2 and BK.buckets_in_flight(9) == 1
    monkeypatch.setenv("MONITOR_BUCKETS_IN_FLIGHT", "3")
    assert BK.buckets_in_flight(9, BK.ENGINE_IN_FLIGHT) == 3 and BK.buckets_in_flight(2) == 2
    monkeypatch.setenv("MONITOR_BUCKETS_IN_FLIGHT", "two")
    with pytest.raises(ValueError, match="MONITOR_BUCKETS_IN_FLIGHT"):
        BK.buckets_in_flight(9)


def _with_regions(pop: pl.LazyFrame) -> pl.LazyFrame:
    """The population with regio, randstad and asielstatus (issue 18) assigned by hand from the person key
    (about one in nine persons without a region), as core/population carries them once VSLGWBTAB and
    MIGMOTIEFBUS are in."""
    from monitor_dagster.gates.disclosure import region_classes

    codes = sorted(region_classes())
    h = pl.col("person_id").hash(seed=18)
    regio = pl.when(h % 9 == 0).then(None).otherwise(
        pl.lit(pl.Series(codes)).get((h % len(codes)).cast(pl.Int64)))
    status = pl.when(pl.col("herkomst_aggregate").cast(pl.String) == "niet-westers").then(
        pl.when(h % 3 == 0).then(pl.lit("statushouder")).otherwise(pl.lit("overig migratiemotief"))
    ).otherwise(pl.lit("geen migratie"))
    return (pop.drop("regio", "randstad", "asielstatus", strict=False)
            .with_columns(regio.alias("regio"), status.alias("asielstatus"))
            .with_columns(pl.col("regio").replace_strict(region_classes(), default=None,
                                                         return_dtype=pl.String).alias("randstad")))


@pytest.mark.parametrize("family", ["contracts_hours", "secm"])
def test_k1_and_k7_give_byte_identical_regional_cells(wh, family):
    """Issue 18: the cells of the separate dimensions (regio, randstad, asielstatus; their own group-by) merge
    over buckets like every other cell, and the rows of the other breakdowns do not change."""
    frames = _frames(wh, family, Y)
    pop = frames["core/population"]
    frames["core/population"] = pop.drop("regio", "randstad", "asielstatus", strict=False)   # an older warehouse
    plain = ENG.compute_family(family, frames, Y, buckets=1, extra={"covariates": False})
    frames["core/population"] = _with_regions(pop)
    one = ENG.compute_family(family, frames, Y, buckets=1, extra={"covariates": False})
    seven = ENG.compute_family(family, frames, Y, buckets=7, extra={"covariates": False})
    assert one.table.hash_rows().to_list() == seven.table.hash_rows().to_list()   # byte for byte
    sep = ["regio", "randstad", "asielstatus"]
    regional = one.table.filter(pl.any_horizontal(pl.col(d) != "totaal" for d in sep))
    assert regional.height > 0 and set(regional["indicator_id"]) == set(one.computed)
    assert regional.filter(pl.col("regio") != "totaal")["regio"].str.starts_with("AM").all()
    assert_frame_equal(one.table.filter(pl.all_horizontal(pl.col(d) == "totaal" for d in sep)), plain.table)


def test_input_families_are_bucketed_too(wh):
    year = 2018
    for family in ("inputs_gemeente", "inputs_uwv"):
        frames = _frames(wh, family, year)
        extra = ENG.follow_up_extras(family, wh)
        one = ENG.compute_family(family, frames, year, buckets=1, extra=extra)
        five = ENG.compute_family(family, frames, year, buckets=5, extra=extra)
        assert one.table.height > 0, family
        assert_frame_equal(one.table, five.table)


@pytest.mark.parametrize("family", ["contracts_hours", "function_level", "reemployment"])
def test_bucket_per_step_job_with_the_multiprocess_executor(wh, tmp_path, monkeypatch, family):
    """The job indicators_bucket_steps: one step per bucket in separate processes, the same table as the
    in-process engine, recorded as a materialisation of indicators/<family>; function_level is split into
    buckets of employers by the hash of SBEID (the plan travels between processes with it); reemployment holds
    its cohort alone in every step (specs.yaml cohorts) and reads its follow-up window."""
    from monitor_dagster.definitions import bucket_steps_job_from_env
    from monitor_dagster.warehouse import Warehouse

    expected_wh, wh = wh, tmp_path / "wh"
    shutil.copytree(expected_wh, wh)                 # the shared warehouse stays as it is
    monkeypatch.setenv("MONITOR_WAREHOUSE", str(wh))
    monkeypatch.setenv("MONITOR_LANDING", str(tmp_path))
    # rows and covariate cells, as the asset stores them (a follow-up family with the years the warehouse holds)
    expected = ENG.compute_family(family, _frames(wh, family, Y), Y, buckets=1,
                                  extra=ENG.follow_up_extras(family, wh, Y)).stored
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as inst:
        res = dg.execute_job(
            dg.reconstructable(bucket_steps_job_from_env), instance=inst,
            run_config={"ops": {"plan": {"config": {"family": family, "year": Y, "buckets": 3}}},
                        "execution": {"config": {"max_concurrent": 2}}})
        assert res.success
        steps = {e.step_key for e in res.all_events if e.event_type_value == "STEP_SUCCESS"}
        assert {"bucket[bucket_0]", "bucket[bucket_1]", "bucket[bucket_2]", "plan", "merge"} <= steps
        # separate processes: the multiprocess executor launched each step in a child process
        run_pid = os.getpid()                    # execute_job orchestrates in this process
        pids = {e.pid for e in res.all_events if e.event_type_value == "STEP_SUCCESS"
                and e.step_key.startswith("bucket[")}
        assert len(pids) == 3 and run_pid not in pids
        mat = inst.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(["indicators", family]),
                                  asset_partitions=[str(Y)]), limit=1).records
        assert mat and mat[0].asset_materialization.metadata["buckets"].value == 3
    got = Warehouse(wh, layer="indicators").read(family, str(Y)).collect()
    assert_frame_equal(got.drop("vintages"), expected.drop("vintages"))


@pytest.mark.parametrize("table", ["population", "job_months"])
def test_core_bucket_per_step_job_with_the_multiprocess_executor(wh, tmp_path, monkeypatch, table):
    """The job core_bucket_steps: one step per bucket of persons in separate processes; the stored table has the
    very bytes the asset step writes with the same K, the same vintages and metadata, the asset's checks
    (core/population) as evaluations; the parts are removed, and so are those a finished run left behind."""
    import json
    import time
    import uuid

    from monitor_dagster.defs.core.bucket_steps import STAGING
    from monitor_dagster.definitions import core_bucket_steps_job_from_env
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.warehouse import Warehouse

    asset_wh, steps_wh = tmp_path / "asset", tmp_path / "steps"
    shutil.copytree(wh, asset_wh)
    shutil.copytree(wh, steps_wh)
    monkeypatch.setenv("MONITOR_BUCKETS", "3")
    with dg.instance_for_test() as inst:
        s = run_pipeline(tmp_path, asset_wh, instance=inst, layers=("core",), years=(Y, Y))
    assert s.ok, [o.message for o in s.outcomes if not o.ok]
    monkeypatch.delenv("MONITOR_BUCKETS")
    monkeypatch.setenv("MONITOR_WAREHOUSE", str(steps_wh))
    monkeypatch.setenv("MONITOR_LANDING", str(tmp_path))
    left = steps_wh / STAGING / str(uuid.uuid4()) / f"{table}-{Y}"       # a run the instance does not know,
    left.mkdir(parents=True)                                              # two days ago
    (left / "part-00000.parquet").write_bytes(b"left behind")
    os.utime(left.parent, (time.time() - 2 * 86400,) * 2)
    recent = steps_wh / STAGING / str(uuid.uuid4())                      # another instance's run, under way
    recent.mkdir()
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as inst:
        res = dg.execute_job(dg.reconstructable(core_bucket_steps_job_from_env), instance=inst,
                             run_config={"ops": {"core_plan": {"config": {"table": table, "year": Y, "buckets": 3}}},
                                         "execution": {"config": {"max_concurrent": 2}}})
        assert res.success
        pids = {e.pid for e in res.all_events
                if e.event_type_value == "STEP_SUCCESS" and e.step_key.startswith("core_bucket[")}
        assert len(pids) == 3 and os.getpid() not in pids            # three child processes
        mat = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(["core", table]),
                                                                asset_partitions=[str(Y)]), limit=1).records
        md = mat[0].asset_materialization.metadata
        assert md["buckets"].value == 3 and md["rows"].value > 0
        checks = {e.event_specific_data.check_name for e in res.all_events
                  if e.event_type_value == "ASSET_CHECK_EVALUATION"}
        assert checks == ({"regions", "short_stay"} if table == "population" else set())
    built, expected = (Warehouse(w, layer="core").manifest(table, str(Y)) for w in (steps_wh, asset_wh))
    assert built["run_id"] == res.run_id and expected["run_id"] != res.run_id
    assert built["data_sha256"] == expected["data_sha256"]           # byte for byte the asset's file
    assert built["vintages"] == expected["vintages"] and built["vintages"]
    assert md["vintages"].value == expected["vintages"]
    if table == "population":     # the asset's own metadata too; readiness reads secm_source off the manifest
        assert md["secm_source"].value == "SECM" and "by_herkomst" in md
        assert built["secm_source"] == expected["secm_source"] == "SECM"
    assert list((steps_wh / STAGING).iterdir()) == [recent]
    assert json.loads((steps_wh / "core" / table / str(Y) / "CURRENT").read_text())["manifest"]["rows"] == \
        md["rows"].value


def test_a_core_bucket_step_stops_when_an_input_changed_after_the_plan(wh, tmp_path):
    """A release ingested while a core_bucket_steps run is under way: the steps after it would read the new
    version and the table would hold rows of two; every step compares the input versions with the plan's and
    stops, naming the partition."""
    import logging

    from monitor_dagster.defs.core import bucket_steps as CB
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.warehouse import Warehouse

    copy = tmp_path / "wh"
    shutil.copytree(wh, copy)
    monitor, log = MonitorResource(warehouse=str(copy)), logging.getLogger("test")
    task = {"table": "job_months", "year": Y, "buckets": 2}
    build = CB._build(monitor, task, log)
    p = build.out.plan
    task.update(k=p.k, bounds=list(p.bounds), hashed=p.hashed, inputs=CB.input_versions(copy, "job_months", Y))
    assert task["inputs"][f"sources/SPOLISBUS/{Y}"] and f"sources/SPOLISBUS/{Y - 1}" in task["inputs"]
    CB._same_plan(monitor, CB._build(monitor, task, log), task)         # nothing changed: the step goes on
    src = Warehouse(copy)
    rows = src.read("SPOLISBUS", str(Y)).collect()
    # a correction of the hours, the same persons: the same buckets, only the versions tell
    src.write("SPOLISBUS", str(Y), rows.with_columns(pl.col("SBASISUREN") + 1), dict(src.manifest("SPOLISBUS", str(Y))))
    assert CB._build(monitor, task, log).out.plan.bounds == tuple(task["bounds"])
    with pytest.raises(dg.Failure, match=rf"the inputs changed since the plan \(sources/SPOLISBUS/{Y}\)"):
        CB._same_plan(monitor, CB._build(monitor, task, log), task)


def test_core_bucket_steps_name_what_they_cannot_build(wh, monkeypatch):
    """A table that is not a yearly core table is refused by name, before anything is written."""
    from monitor_dagster.definitions import core_bucket_steps_job_from_env
    from monitor_dagster.runner import error_message

    monkeypatch.setenv("MONITOR_WAREHOUSE", str(wh))
    with dg.instance_for_test() as inst:
        res = core_bucket_steps_job_from_env().execute_in_process(
            run_config={"ops": {"core_plan": {"config": {"table": "benefit_spells", "year": Y}}}}, instance=inst,
            raise_on_error=False)
    assert not res.success
    err = next(e for e in res.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error
    assert "'benefit_spells' is not a yearly core table; choose one of population, job_months" in error_message(err)


@pytest.mark.parametrize("build", ["indicators", "core"])
def test_step_executor_is_chosen_by_name(build):
    from monitor_dagster.defs.core.bucket_steps import build_core_bucket_steps_job
    from monitor_dagster.defs.indicators.bucket_steps import build_bucket_steps_job

    make = build_bucket_steps_job if build == "indicators" else build_core_bucket_steps_job
    assert make("multiprocess").executor_def.name == "multiprocess"
    with pytest.raises(ValueError, match="MONITOR_STEP_EXECUTOR='threads': choose one of multiprocess, k8s"):
        make("threads")


@pytest.mark.parametrize("in_flight", ["1", "2"])
def test_core_tables_are_the_same_in_buckets(wh, tmp_path, monkeypatch, in_flight):
    """The person-level core tables (population, job and SECM months, job spells, education careers) written
    bucket by bucket (MONITOR_BUCKETS=3, range buckets of person_id), one or two buckets at a time, hold
    exactly the rows of one bucket."""
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.warehouse import Warehouse

    copy = tmp_path / "wh3"
    shutil.copytree(wh, copy)
    monkeypatch.setenv("MONITOR_BUCKETS", "3")
    monkeypatch.setenv("MONITOR_BUCKETS_IN_FLIGHT", in_flight)
    with dg.instance_for_test() as inst:
        s = run_pipeline(tmp_path, copy, instance=inst, layers=("core",))
    assert s.ok, [o.message for o in s.outcomes if not o.ok]
    for name in ("population", "job_months", "secm_months", "job_spells", "education_careers"):
        one = Warehouse(wh, layer="core").read(name, str(Y)).collect()
        three = Warehouse(copy, layer="core").read(name, str(Y)).collect()
        assert one.height > 0, name
        assert Warehouse(copy, layer="core").manifest(name, str(Y))["run_id"] != \
            Warehouse(wh, layer="core").manifest(name, str(Y))["run_id"]            # really rebuilt
        # stored in the same order too: each bucket sorted by its key range, the buckets in order (issue 15)
        assert_frame_equal(one, three.select(one.columns), check_row_order=True)


@pytest.mark.parametrize("sort_by", [None, ["person_id", "row"]])
def test_a_bucket_is_let_go_before_the_next_is_computed(tmp_path, sort_by):
    """BucketedFrame holds one bucket: when bucket i+1 is computed, the DataFrame of bucket i is gone, both for
    a consumer that drops it and for write_parquet.  enumerate() over the buckets kept the last one in its
    cached (i, part) tuple: job_months at 4 M persons peaked at 2.55 GB instead of 1.7 GB (docs/scaling_measurements.md)."""
    import weakref

    frame = pl.DataFrame({"person_id": [i // 3 for i in range(60)], "row": list(range(60))[::-1]}).lazy()
    plan = BK.plan_buckets({"p": frame}, "person_id", 4)
    assert plan.k == 4
    made: list[weakref.ref] = []
    alive: list[bool] = []

    class Probe(BK.BucketedFrame):
        def _bucket(self, i):
            alive.extend(r() is not None for r in made)    # the earlier buckets, as bucket i starts
            part = super()._bucket(i)
            made.append(weakref.ref(part))
            return part

    def check(consume):
        made.clear()
        alive.clear()
        consume(Probe(lambda p: p, {"p": frame}, plan, sort_by=sort_by))
        assert len(made) == 4 and len(alive) == 6 and not any(alive), alive

    def drop_each(bf):
        for part in bf:
            assert part.height > 0
            del part

    check(drop_each)
    check(lambda bf: bf.write_parquet(tmp_path / "t.parquet"))
    assert pl.read_parquet(tmp_path / "t.parquet").sort("row").equals(frame.collect().sort("row"))


def _many_row_groups(frame: pl.LazyFrame, path: Path, rows: int = 50) -> pl.LazyFrame:
    """``frame`` written with a row group every ``rows`` rows and scanned: a streaming collect of it returns one
    chunk or more per row group, as a national table's does (a test zone's tables have one row group)."""
    frame.collect().write_parquet(path, row_group_size=rows)
    return pl.scan_parquet(path)


def test_a_bucket_is_held_as_one_chunk(tmp_path):
    """A bucket read from a file of many row groups is handed to the functions as one chunk (core/buckets.held):
    polars 2.1's ``pl.format`` panicked on the national EBB bucket of 29-33 chunks and on no test zone, whose
    buckets are one chunk (thirty-ninth session).  The rows are those of the bucket's streaming read."""
    lf = _many_row_groups(pl.LazyFrame({"person_id": range(20_000), "x": [str(i) for i in range(20_000)]}),
                          tmp_path / "t.parquet", rows=100)
    plan = BK.plan_buckets({"a": lf}, "person_id", 2)
    streamed = BK.bucket_lazy({"a": lf}, plan, 0)["a"].collect(engine="streaming")
    assert streamed.n_chunks() > 20                        # what a national bucket looks like before held()
    held = BK.bucket_frames({"a": lf, "ref": None}, plan, 0)
    assert held["ref"] is None
    df = held["a"].collect()
    assert df.n_chunks("all") == [1, 1] and df.equals(streamed)


def test_a_shared_intermediate_is_held_as_one_chunk():
    """An intermediate that several functions of a family read (indicators/memo.shared) is one chunk too."""
    from monitor_dagster.indicators.memo import shared, shared_intermediates

    parts = pl.concat([pl.DataFrame({"a": [i, i + 1]}) for i in range(0, 40, 2)], rechunk=False)
    assert parts.n_chunks() == 20
    src = parts.lazy()
    with shared_intermediates():
        out = shared("x", (src,), lambda: src.select(pl.col("a") * 2)).collect()
    assert out.n_chunks() == 1 and out["a"].to_list() == list(range(0, 80, 2))


def test_the_core_holds_its_sorted_and_secm_buckets_as_one_chunk(tmp_path):
    """The core's frames held for further queries are one chunk too (core/layout.held): the job-months that
    job_spells reads in stored order (core/sorting.sorted_frame: found in order, they were not copied and kept
    a chunk per row group) and the SECM months of a bucket (core/secm.secm_months)."""
    import datetime as dt

    from monitor_dagster.core.secm import secm_months
    from monitor_dagster.core.sorting import sorted_frame

    months = _many_row_groups(pl.LazyFrame({"person_id": range(20_000), "m": range(20_000)}),
                              tmp_path / "months.parquet", rows=100)
    out = sorted_frame(months, ["person_id", "m"]).collect()
    assert out.n_chunks("all") == [1, 1] and out.equals(months.collect())
    rows = []
    for p in range(3_000):      # one spell through March 2021 and the next from April, or one open spell
        rows.append(("R", p, dt.date(2020, 1, 1), dt.date(2021, 3, 31) if p % 2 else None, "11"))
        if p % 2:
            rows.append(("R", p, dt.date(2021, 4, 1), None, "21"))
    secm = pl.LazyFrame(rows, schema={"RINPERSOONS": pl.String, "person_id": pl.Int64, "AANVSECM": pl.Date,
                                      "EINDSECM": pl.Date, "SECM": pl.Enum(["11", "21"])}, orient="row")
    out = secm_months(_many_row_groups(secm, tmp_path / "secm.parquet"), 2021).collect()
    assert out.n_chunks("all") == [1, 1, 1]
    assert out.equals(secm_months(secm, 2021).collect())
    assert out.height == 3_000 * 14     # November 2020 .. December 2021


def _engine_families() -> list[str]:
    """The families the engine computes (the organisation surveys and the vacancies have assets of their own
    and no persons to bucket)."""
    from monitor_dagster.defs.indicators.assets import OWN_ASSETS

    return sorted(set(SPEC.families()) - set(OWN_ASSETS))


@pytest.mark.parametrize("family", _engine_families())
def test_no_frame_of_several_chunks_enters_a_query_of_a_family(wh, tmp_path, monkeypatch, family):
    """Every in-memory frame that the pipeline's code turns into a query (``DataFrame.lazy``: a bucket, a shared
    intermediate, a cohort collected once, the population with its covariate cells) is one chunk
    (core/layout.held), with the family's inputs stored in a row group every 50 rows, as a national warehouse's
    come in many.  A function that collects an intermediate and reads it again without ``held`` fails here;
    the table is that of the inputs as stored."""
    frames = _frames(wh, family, Y)
    skip = ENG.readiness_skips(wh, family, Y)
    stored = ENG.compute_family(family, frames, Y, buckets=2, skip=skip)
    split = {k: None if f is None else _many_row_groups(f, tmp_path / f"{k.replace('/', '_')}.parquet")
             for k, f in frames.items()}
    seen: list[int] = []
    lazy = pl.DataFrame.lazy
    package = str(Path(ENG.__file__).resolve().parents[1]) + os.sep

    def spy(self):
        # the pipeline's own calls only: polars' eager methods call lazy() on their frame inside
        if sys._getframe(1).f_code.co_filename.startswith(package):
            seen.append(self.n_chunks())
        return lazy(self)

    monkeypatch.setattr(pl.DataFrame, "lazy", spy)
    split_result = ENG.compute_family(family, split, Y, buckets=2, skip=skip)
    monkeypatch.undo()
    assert stored.computed == split_result.computed
    if stored.computed:
        assert seen and set(seen) == {1}, sorted(set(seen))
    assert_frame_equal(stored.table, split_result.table, check_row_order=True)
    assert_frame_equal(stored.cells, split_result.cells, check_row_order=True)


def test_a_family_sizes_and_runs_its_buckets_by_its_own_limits(wh, monkeypatch):
    """specs.yaml ``bucket_limits``: function_level's buckets hold four times the default estimate (the ranking
    within the employer; 3.5 GB in one bucket at 17.5 M persons), so it gets four times the buckets of the
    default overhead for the same budget, and runs them one at a time (forty-first session)."""
    limits = SPEC.bucket_limits("function_level")
    assert limits.overhead == 4 * BK.BUCKET_OVERHEAD and limits.in_flight == 1
    assert SPEC.bucket_limits("contracts_hours") == SPEC.BucketLimits()        # the engine's defaults
    frames = _frames(wh, "function_level", Y)
    work = ENG.family_work("function_level", frames, Y)
    inputs = {k: f for k, f in frames.items() if k in work.inputs}
    budget = 3e-5                                       # GB: small enough that the test zone needs buckets
    default_k = BK.choose_buckets(inputs, "SBEID", budget)
    assert 1 < default_k < 20
    plan = ENG.family_plan(work, frames, None, budget)
    assert plan.k >= 3 * default_k                        # the hashed plan may give fewer than K, never more
    workers = []
    real = ENG.in_flight
    monkeypatch.setattr(ENG, "in_flight", lambda fn, k, n: workers.append(n) or real(fn, k, n))
    monkeypatch.delenv("MONITOR_BUCKETS_IN_FLIGHT", raising=False)
    one_at_a_time = ENG.compute_family("function_level", frames, Y, buckets=4)
    contracts = ENG.compute_family("contracts_hours", _frames(wh, "contracts_hours", Y), Y, buckets=4)
    assert workers == [1, 2] and contracts.table.height > 0
    assert one_at_a_time.table.height > 0
    assert one_at_a_time.table.hash_rows().to_list() == ENG.compute_family(
        "function_level", frames, Y, buckets=1).table.hash_rows().to_list()


def test_bucket_limits_name_known_families():
    raw = {"themes": {"t": "x"}, "families": {"f": "x"}, "indicators": {}, "bucket_limits": {"g": {"in_flight": 1}}}
    with pytest.raises(ValueError, match="bucket_limits"):
        SPEC.Registry.model_validate(raw)
    with pytest.raises(ValueError):
        SPEC.Registry.model_validate({**raw, "bucket_limits": {"f": {"in_flight": 0}}})
