"""The source layer in Dagster: definitions, the release sensor, in-process runs, bad input (issue 3).

Sensor tests follow the dagster examples: ``build_sensor_context`` inside ``instance_for_test``, tick
twice, the second tick asks for nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from monitor_dagster.catalog import load_catalog
from monitor_dagster.cli import app
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.sensors import release_sensor
from monitor_dagster.definitions import build_definitions
from monitor_dagster.runner import run_pipeline
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 2-year landing zone (300 persons, .sav as in Remote Access)."""
    root = tmp_path_factory.mktemp("src")
    res = generate(SynthConfig(landing=root / "landing", persons=300, first_year=2019, last_year=2020, seed=4, fmt="sav"))
    return res


def _copy_zone(res, tmp_path) -> Path:
    dst = tmp_path / "landing"
    shutil.copytree(res.config.landing, dst)
    return dst


def test_definitions_snapshot():
    """One asset per catalog entry in group `sources`, each with a blocking schema check and a non-blocking
    columns check (docs/ingest.md, "Column roles"); the sensors."""
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)   # what `make ui` does: jobs, sensors and selections resolve
    cat = load_catalog()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {k for k in keys if k.startswith("sources/")} == {f"sources/{n}" for n in cat.files}
    assert {"core/population", "core/job_months", "core/job_spells", "core/secm_months", "core/education_careers",
            "core/benefit_spells", "core/provision_spells", "core/trajectory_spells",
            "indicators/ebb", "indicators/contracts_hours", "indicators/secm", "indicators/income",
            "indicators/inputs_gemeente", "indicators/inputs_uwv", "indicators/indicator_table",
            "indicators/sensitivity", "core/propensity_weights", "indicators/durations", "publication/site"} <= keys
    specs = [s for a in defs.assets for s in a.check_specs if s.asset_key.path[0] == "sources"]
    assert len(specs) == 2 * len(cat.files) and {s.name for s in specs} == {"schema", "columns"}
    assert all(s.blocking == (s.name == "schema") for s in specs)
    assert {s.name for s in defs.sensors} == {"release_sensor", "overdue_releases", "table_after_yearly_runs",
                                              "follow_up_after_yearly_runs", "interrupted_runs",
                                              "secm_replaces_fallback", "survey_waves", "rebuild_revised_years"}
    assert {j.name for j in defs.jobs} == {"ingest_cumulative_and_reference", "ingest_yearly_2006_now",
                                           "ingest_yearly_2006_2009", "ingest_yearly_2006_2010",
                                           "ingest_yearly_2010_now", "ingest_yearly_2011_now",
                                           "ingest_yearly_2023_now",      # the input surveys (issue 19)
                                           "ingest_yearly_2021_now",      # Jobfeed vacancies (issue 20)
                                           "outcome_indicators_yearly",
                                           "input_indicators_biennial", "indicator_table_and_publication",
                                           "core_spells", "indicators_bucket_steps", "core_bucket_steps"}
    assert {s.name for s in defs.schedules} == {"outcome_yearly", "input_biennial"}
    spolis = graph.get(dg.AssetKey(["sources", "SPOLISBUS"]))
    assert spolis.partitions_def.get_partition_keys()[0] == "2010"
    assert graph.get(dg.AssetKey(["sources", "SECMBUS"])).partitions_def is None


def test_smoke_all_sources_for_a_two_year_zone(small, tmp_path):
    """Every source of the landing zone materialises in-process and lands in the warehouse."""
    wh = tmp_path / "wh"
    with dg.instance_for_test() as inst:
        summary = run_pipeline(small.config.landing, wh, instance=inst, layers=("sources", "core"))
    bad = [o for o in summary.outcomes if not o.ok]
    assert not bad, bad
    # the core layer was built on top, and its population equals the generator's truth exactly (issue 4)
    core = Warehouse(wh, layer="core")
    for year in ("2019", "2020"):
        pop = core.read("population", year).collect()
        gen = {"eerste": "1", "tweede": "2"}
        got = {}
        for g, generatie, n in pop.group_by("herkomst_group", "generatie").len().iter_rows():
            key = "Nederland|0" if generatie is None else f"{g}|{gen[generatie]}"
            got[key] = got.get(key, 0) + n
        assert got == small.truth["population_whole_year"][year], year
    got = {(o.entry, o.partition) for o in summary.outcomes}
    assert ("SPOLISBUS", "2020") in got and ("SECMBUS", None) in got and ("LANDAKTUEELREF", None) in got
    w = Warehouse(wh)
    m = w.manifest("SPOLISBUS", "2020")
    assert m["release_id"] == "SPOLISBUS2020V3" and not m["provisional"]
    assert w.manifest("GBAPERSOONTAB", "latest")["release_id"] == "GBAPERSOONTAB2020V2"
    df = w.read("SPOLISBUS", "2019").collect()
    assert df["person_id"].dtype == pl.Int64 and df["SDATUMAANVANGIKO"].dtype == pl.Date
    assert "RINPERSOON" not in df.columns, "no raw person keys in the warehouse"


def _tick(inst, landing, wh, cursor=None):
    ctx = dg.build_sensor_context(instance=inst, cursor=cursor,
                                  resources={"monitor": MonitorResource(landing=str(landing), warehouse=str(wh))})
    res = release_sensor(ctx)
    return res, res.cursor


def _keys(res):
    return sorted((r.asset_selection[0].path[-1], r.partition_key) for r in (res.run_requests or []))


def test_release_sensor_ticks(small, tmp_path):
    landing = _copy_zone(small, tmp_path)
    wh = tmp_path / "wh"
    with dg.instance_for_test() as inst:
        r1, c = _tick(inst, landing, wh)
        r2, c = _tick(inst, landing, wh, c)        # stable over two ticks -> requests
        first = _keys(r1) + _keys(r2)
        assert ("SPOLISBUS", "2020") in first and ("SECMBUS", None) in first
        assert first.count(("SPOLISBUS", "2020")) == 1, "one run for the highest version only"
        r3, c = _tick(inst, landing, wh, c)
        assert not r3.run_requests, "nothing new: the next tick asks nothing"
        # the same file delivered again (new mtime, same bytes) -> nothing
        (f,) = (landing / "Spolis/SPOLISBUS/2019").glob("SPOLISBUS*2019V1.sav")   # 'SPOLISBUS 2019V1': irregular name
        data = f.read_bytes()
        f.unlink()
        f.write_bytes(data)
        r4, c = _tick(inst, landing, wh, c)
        r4b, c = _tick(inst, landing, wh, c)
        assert not r4.run_requests and not r4b.run_requests
        # a new version of an ingested period -> a run for that period
        shutil.copy(f, f.with_name("SPOLISBUS2019V2.sav"))
        _, c = _tick(inst, landing, wh, c)
        r5, c = _tick(inst, landing, wh, c)
        assert _keys(r5) == [("SPOLISBUS", "2019")]
        assert "V2" in r5.run_requests[0].run_key
        # an older version arriving after a newer one -> ignored
        shutil.copy(f, f.with_name("SPOLISBUS2019V0.sav"))
        _, c = _tick(inst, landing, wh, c)
        r6, c = _tick(inst, landing, wh, c)
        assert not r6.run_requests
        # a file still being copied -> waits
        part = landing / "Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.sav.part"
        part.write_bytes(data[: len(data) // 2])
        r7, c = _tick(inst, landing, wh, c)
        r8, c = _tick(inst, landing, wh, c)
        assert not r7.run_requests and not r8.run_requests


BAD_CASES = ["truncated_sav", "missing_column", "unknown_code", "wrong_date", "duplicate_keys", "zero_rows"]


def _break(landing: Path, case: str) -> tuple[str, str]:
    """Damage one file of a parquet/sav zone; returns (file name fragment, expected words in the message)."""
    import pyreadstat

    if case == "truncated_sav":
        f = landing / "InkomenBestedingen/SECMBUS/SECMBUS2020V1.sav"
        b = f.read_bytes()
        f.write_bytes(b[: len(b) // 3])
        return "SECMBUS", "SECMBUS2020V1"

    def rewrite(rel, fn):
        f = landing / rel
        df, meta = pyreadstat.read_sav(str(f), output_format="polars")
        pyreadstat.write_sav(fn(df), str(f))

    if case == "missing_column":
        rewrite("Socialezekerheid/WWPERSOONBUS/WWPERSOON2020BUSV1.sav", lambda d: d.drop("EINDEWW"))
        return "WWPERSOONBUS", "EINDEWW"
    if case == "unknown_code":
        rewrite("InkomenBestedingen/SECMBUS/SECMBUS2020V1.sav",
                lambda d: d.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("99")).otherwise(pl.col("SECM")).alias("SECM")))
        return "SECMBUS", "SECM"
    if case == "wrong_date":
        rewrite("Socialezekerheid/BIJSTANDPERSOONBUS/BIJSTANDPERSOON2020BUSV1.sav",
                lambda d: d.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("20191340")).otherwise(pl.col("AANVANGBIJSTAND")).alias("AANVANGBIJSTAND")))
        return "BIJSTANDPERSOONBUS", "AANVANGBIJSTAND"
    if case == "duplicate_keys":
        rewrite("Bevolking/GBAPERSOONTAB/2020/GBAPERSOON2020TABV2.sav", lambda d: pl.concat([d, d.head(2)]))
        return "GBAPERSOONTAB", "RINPERSOON"
    if case == "zero_rows":
        rewrite("Socialezekerheid/AOTOTPERSOONBUS/AOTOTPERSOON2020BUSV1.sav", lambda d: d.head(0))
        return "AOTOTPERSOONBUS", "AOTOTPERSOON"
    raise ValueError(case)


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_fails_clearly_and_keeps_the_warehouse(small, tmp_path, monkeypatch, case):
    landing = _copy_zone(small, tmp_path)
    wh = tmp_path / "wh"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    entry = {"truncated_sav": "SECMBUS", "missing_column": "WWPERSOONBUS", "unknown_code": "SECMBUS",
             "wrong_date": "BIJSTANDPERSOONBUS", "duplicate_keys": "GBAPERSOONTAB", "zero_rows": "AOTOTPERSOONBUS"}[case]
    # a first good run fills the warehouse
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", entry, "--layers", "sources"])
    assert r.exit_code == 0, r.output
    w = Warehouse(wh)
    broken, needle = _break(landing, case)
    assert broken == entry
    part = "latest"
    before = w.manifest(entry, part)
    before_rows = w.read(entry, part).collect()
    # a corrected delivery that is broken: V3 of the release
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", entry, "--layers", "sources"])
    assert r.exit_code != 0
    assert "FAILED" in r.output and entry in r.output and needle in r.output, r.output
    assert w.manifest(entry, part) == before, "the warehouse keeps the previous good version"
    assert w.read(entry, part).collect().equals(before_rows)


def test_unknown_file_is_reported_not_ingested(small, tmp_path, monkeypatch):
    landing = _copy_zone(small, tmp_path)
    (landing / "Spolis/SPOLISBUS/2020/SPOLISBUS_notes2020.sav").write_bytes(b"not a cbs file")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--select", "SPOLISBUS", "--layers", "sources"])
    assert r.exit_code == 0, r.output
    assert "not in the catalog" in r.output and "SPOLISBUS_notes2020.sav" in r.output


def test_status_lists_landed_ingested_provisional(small, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    wh = tmp_path / "wh"
    r = runner.invoke(app, ["run", "--landing", str(small.config.landing), "--warehouse", str(wh), "--select", "SPOLISBUS,SECMBUS", "--layers", "sources"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["status", "--landing", str(small.config.landing), "--warehouse", str(wh), "--today", "2026-01-01"])
    assert r.exit_code == 0, r.output
    assert "SPOLISBUS" in r.output and "SPOLISBUS2020V3" in r.output
    assert "overdue" in r.output


def test_overdue_sensor_reports_missing_releases(small, tmp_path):
    """The overdue sensor never launches a run; it names releases whose bijlage D date has passed."""
    from monitor_dagster.defs.sources.sensors import overdue_sensor

    with dg.instance_for_test() as inst:
        ctx = dg.build_sensor_context(instance=inst, resources={"monitor": MonitorResource(
            landing=str(small.config.landing), warehouse=str(tmp_path / "wh"))})
        res = overdue_sensor(ctx)
    assert isinstance(res, dg.SkipReason)
    # the zone ends in 2020; today is later, so e.g. the 2021 SPOLISBUS releases are overdue
    assert "overdue" in res.skip_message and "AOTOTPERSOONBUS 2021" in res.skip_message   # zone ends in 2020
