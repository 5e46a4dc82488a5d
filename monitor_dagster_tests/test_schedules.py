"""The yearly outcome schedule runs only for a complete year and otherwise says what is missing (issue 6)."""

import datetime as dt

import dagster as dg
import polars as pl

from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.schedules import outcome_decision, outcome_yearly
from monitor_dagster.readiness import final_sources
from monitor_dagster.warehouse import Warehouse


def _fill(w: Warehouse, year: int, provisional: bool = False) -> None:
    frame = pl.DataFrame({"person_id": [1]})
    for entry, part in final_sources("yearly"):   # derived from the indicator specs (readiness.py)
        p = str(year) if part == "year" else part
        w.write(entry, p, frame, {"release_id": f"{entry}{year}V1", "period": year,
                                  "provisional": provisional and entry == "SPOLISBUS", "months_covered": 6})


def test_incomplete_year_is_skipped_with_what_is_missing(tmp_path):
    d = outcome_decision(Warehouse(tmp_path), dt.date(2022, 5, 1))
    assert isinstance(d, dg.SkipReason)
    assert "needs SPOLISBUS 2021" in d.skip_message and "2020:" in d.skip_message


def test_provisional_spolis_blocks_that_year_but_not_the_one_before(tmp_path):
    w = Warehouse(tmp_path)
    _fill(w, 2020)
    _fill(w, 2021, provisional=True)
    d = outcome_decision(w, dt.date(2022, 5, 1))
    assert isinstance(d, dg.RunRequest) and d.partition_key == "2020"
    _fill(w, 2021)   # the full-year release arrives
    assert outcome_decision(w, dt.date(2022, 5, 1)).partition_key == "2021"


def test_schedule_tick_uses_the_configured_warehouse(tmp_path):
    w = Warehouse(tmp_path / "wh")
    _fill(w, 2021)
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2022, 5, 1, 6),
                                    resources={"monitor": MonitorResource(landing=str(tmp_path), warehouse=str(tmp_path / "wh"))})
    req = outcome_yearly(ctx)
    assert isinstance(req, dg.RunRequest) and req.partition_key == "2021"


def test_backfill_command_rebuilds_the_requested_years(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from monitor_dagster.cli import app
    from monitor_dagster.synth.generate import SynthConfig, generate

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    res = generate(SynthConfig(landing=tmp_path / "landing", persons=300, first_year=2019, last_year=2020, seed=2,
                               fmt="parquet"))
    runner = CliRunner()
    r = runner.invoke(app, ["backfill", "--landing", str(res.config.landing), "--warehouse", str(tmp_path / "wh")])
    assert r.exit_code != 0 and "--years" in r.output, "a backfill names its years"
    r = runner.invoke(app, ["backfill", "--landing", str(res.config.landing), "--warehouse", str(tmp_path / "wh"),
                            "--years", "2020", "--layers", "sources,core"])
    assert r.exit_code == 0, r.output
    core = Warehouse(tmp_path / "wh", layer="core")
    assert core.partitions("population") == ["2020"]


def test_status_shows_the_vintages_of_each_indicator_year_and_newer_ones(tmp_path):
    from monitor_dagster.indicator_status import indicator_years
    from monitor_dagster.indicators.table import SCHEMA

    row = {c: None for c in SCHEMA} | {"indicator_id": "O05", "year": 2019, "n": 20, "suppressed": False,
                                       "vintages": "SPOLISBUS2019V1,SECMBUS2019V1,LANDAKTUEELREFV1"}
    Warehouse(tmp_path, layer="indicators").write("indicator_table", "all", pl.DataFrame([row], schema=SCHEMA), {})
    src = Warehouse(tmp_path)
    frame = pl.DataFrame({"person_id": [1]})
    src.write("SPOLISBUS", "2019", frame, {"release_id": "SPOLISBUS2019V2"})      # a corrected version landed
    src.write("SECMBUS", "latest", frame, {"release_id": "SECMBUS2020V1"})        # a newer cumulative release
    src.write("LANDAKTUEELREF", "all", frame, {"release_id": "LANDAKTUEELREFV1"})  # unchanged
    (iy,) = indicator_years(tmp_path)
    assert iy.year == 2019 and "SPOLISBUS2019V1" in iy.vintages
    assert sorted(iy.newer) == ["SECMBUS2019V1 -> SECMBUS2020V1", "SPOLISBUS2019V1 -> SPOLISBUS2019V2"]
    assert iy.stale == ["O05"]


def test_a_new_release_makes_only_the_indicators_reading_it_stale(tmp_path):
    """Vintages are per indicator (issue 11): a corrected SPOLIS 2019 makes O04 stale, not O01 (EBB) or O05."""
    from monitor_dagster.indicator_status import indicator_years
    from monitor_dagster.indicators.table import SCHEMA

    rows = [{c: None for c in SCHEMA} | {"indicator_id": i, "year": 2019, "n": 20, "suppressed": False,
                                         "vintages": v}
            for i, v in (("O01", "EBBNW2019V1"), ("O04", "GBAPERSOONTAB2021V1,SPOLISBUS2019V1"),
                         ("O05", "GBAPERSOONTAB2021V1,SECMBUS2021V1"))]
    Warehouse(tmp_path, layer="indicators").write("indicator_table", "all", pl.DataFrame(rows, schema=SCHEMA), {})
    src = Warehouse(tmp_path)
    frame = pl.DataFrame({"person_id": [1]})
    for entry, part, rid in (("EBBNW", "2019", "EBBNW2019V1"), ("GBAPERSOONTAB", "latest", "GBAPERSOONTAB2021V1"),
                             ("SECMBUS", "latest", "SECMBUS2021V1"), ("SPOLISBUS", "2019", "SPOLISBUS2019V2")):
        src.write(entry, part, frame, {"release_id": rid})
    (iy,) = indicator_years(tmp_path)
    assert iy.stale == ["O04"] and iy.newer == ["SPOLISBUS2019V1 -> SPOLISBUS2019V2"]


# --- two-yearly input schedule (report 7.1.1) -----------------------------------------------------------------
INPUT_FILES = ["BIJSTANDPERSOONBUS", "SRGPERSOONPWETBUS", "PWETSRGPERSOONBUS", "WWPERSOONBUS", "SIRWWPERSOONBUS",
               "AOTOTPERSOONBUS", "SIRAGPERSOONBUS"]


def _fill_inputs(root, cohort: int, covered_until: int) -> None:
    frame = pl.DataFrame({"person_id": [1]})
    Warehouse(root, layer="core").write("population", str(cohort), frame, {"rows": 1})
    w = Warehouse(root)
    for entry in INPUT_FILES:
        period = min(covered_until, 2018) if entry == "SRGPERSOONPWETBUS" else covered_until
        w.write(entry, "latest", frame, {"release_id": f"{entry}{period}V1", "period": period})


def test_input_schedule_runs_every_other_year_for_a_covered_cohort(tmp_path):
    from monitor_dagster.defs.schedules import input_decision

    _fill_inputs(tmp_path, 2020, covered_until=2021)
    d = input_decision(tmp_path, dt.date(2022, 5, 1), first_year=2022)
    assert [r.partition_key for r in d] == ["2020"]              # of 2018-2020 only 2020 has its population
    off = input_decision(tmp_path, dt.date(2023, 5, 1), first_year=2022)
    assert isinstance(off, dg.SkipReason) and "every two years" in off.skip_message and "2024" in off.skip_message


def test_input_schedule_skips_with_what_is_missing(tmp_path):
    from monitor_dagster.defs.schedules import input_decision

    d = input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)       # empty warehouse
    assert isinstance(d, dg.SkipReason)
    assert "core/population 2022 not built" in d.skip_message and "needs WWPERSOONBUS + SIRWWPERSOONBUS" in d.skip_message
    _fill_inputs(tmp_path, 2022, covered_until=2022)                         # follow-up year not landed yet
    d = input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)
    assert isinstance(d, dg.SkipReason) and "needs spells up to 2023-12-31, the files cover up to 2022-12-31" in d.skip_message
    _fill_inputs(tmp_path, 2021, covered_until=2022)                         # ... but the cohort before is complete
    d = input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)
    assert [r.partition_key for r in d] == ["2021"]
    # 2020 too once its population is there (the 2022 measurement could not follow it: BIJSTANDPERSOONBUS 2021
    # lands in June 2022, after the 1 May tick), unless that measurement built it in full after all
    Warehouse(tmp_path, layer="core").write("population", "2020", pl.DataFrame({"person_id": [1]}), {"rows": 1})
    d = input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)
    assert [r.partition_key for r in d] == ["2020", "2021"]
    from monitor_dagster.defs.indicators.assets import INPUT_FAMILIES
    from monitor_dagster.indicators.table import empty

    for fam in INPUT_FAMILIES:
        Warehouse(tmp_path, layer="indicators").write(fam, "2020", empty(), {})
    assert [r.partition_key for r in input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)] == ["2021"]
    Warehouse(tmp_path, layer="indicators").write(
        INPUT_FAMILIES[0], "2020", pl.DataFrame({"status": ["voorlopig"]}), {})      # built voorlopig: again
    assert [r.partition_key for r in input_decision(tmp_path, dt.date(2024, 5, 1), first_year=2022)] == ["2020", "2021"]


def test_input_schedule_tick(tmp_path):
    from monitor_dagster.defs.schedules import input_biennial

    _fill_inputs(tmp_path / "wh", 2020, covered_until=2021)
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2022, 5, 1, 6, 30),
                                    resources={"monitor": MonitorResource(landing=str(tmp_path), warehouse=str(tmp_path / "wh"))})
    req = input_biennial(ctx)
    assert [r.partition_key for r in req] == ["2020"]
    assert input_biennial.job_name == "input_indicators_biennial"


def _after_outcome_run(sensor, name: str, partition: str = "2021"):
    """Evaluate a run-status sensor after a finished stand-in ``outcome_indicators_yearly`` run of ``partition``:
    (its result, the finished run)."""
    @dg.op
    def noop():
        return 1

    @dg.job(name="outcome_indicators_yearly")
    def stand_in():
        noop()

    with dg.instance_for_test() as inst:
        result = stand_in.execute_in_process(instance=inst, tags={"dagster/partition": partition})
        ctx = dg.build_run_status_sensor_context(sensor_name=name, dagster_instance=inst,
                                                 dagster_run=result.dagster_run,
                                                 dagster_event=result.get_run_success_event())
        return sensor(ctx), result


def test_table_and_publication_are_rebuilt_after_a_yearly_run():
    from monitor_dagster.definitions import defs
    from monitor_dagster.defs.schedules import table_after_yearly_runs, table_job

    req, result = _after_outcome_run(table_after_yearly_runs, "table_after_yearly_runs")
    assert isinstance(req, dg.RunRequest) and req.run_key == f"table-after-{result.run_id}"
    assert req.tags["monitor/after_partition"] == "2021"
    keys = {k.to_user_string() for k in table_job.selection.resolve(defs.resolve_asset_graph())}
    assert keys == {"core/propensity_weights", "indicators/indicator_table", "indicators/sensitivity",
                    "indicators/durations", "publication/site"}
    assert table_after_yearly_runs.job_name == "indicator_table_and_publication"


def test_configuration_is_read_when_the_definitions_load_not_at_import(tmp_path, monkeypatch):
    """MONITOR_* variables become Dagster EnvVars on the resource (resolved per run/tick) and the crons are read
    by build_definitions, not when a module is imported (issue 11)."""
    from monitor_dagster.definitions import build_definitions

    monkeypatch.setenv("MONITOR_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("MONITOR_INPUT_FIRST_YEAR", "2023")
    monkeypatch.setenv("MONITOR_OUTCOME_CRON", "0 7 2 5 *")
    defs = build_definitions()
    res = defs.resources["monitor"]
    assert isinstance(res.warehouse, dg.EnvVar) and res.warehouse.get_value() == str(tmp_path / "wh")
    assert {s.name: s.cron_schedule for s in defs.schedules}["outcome_yearly"] == "0 7 2 5 *"
    sched = next(s for s in defs.schedules if s.name == "input_biennial")
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2023, 5, 1, 6, 30), resources={"monitor": res})
    d = sched(ctx)
    # 2023 is a measurement year only because MONITOR_INPUT_FIRST_YEAR says so (the default 2022 makes it an off-year)
    assert isinstance(d, dg.SkipReason) and "every two years" not in d.skip_message
    assert "core/population 2021 not built" in d.skip_message


def test_a_monitor_variable_set_to_nothing_counts_as_not_set(tmp_path, monkeypatch):
    """``MONITOR_BUCKETS= monitor run``: the default, not a run refused by Dagster's int coercion."""
    from monitor_dagster.defs.resources import MonitorResource, resource_from_env

    monkeypatch.setenv("MONITOR_BUCKETS", "")
    monkeypatch.setenv("MONITOR_BUCKET_MEMORY_GB", "  ")
    monkeypatch.setenv("MONITOR_INPUT_FIRST_YEAR", "2024")
    res = resource_from_env(warehouse=str(tmp_path))
    # what a run sees once Dagster has resolved the environment: the defaults, and the variable that is set
    resolved = res.process_config_and_initialize()
    assert resolved.buckets == MonitorResource().buckets == 0 and resolved.bucket_memory_gb == 2
    assert resolved.input_first_year == 2024


def test_o38_of_the_three_years_before_is_rebuilt_after_a_yearly_run():
    """Report 5.2 4g looks three years ahead: when the outcome run of 2021 has built the core of 2021, the
    follow-up family (O38/O39) of 2018-2020 is requested again; not after such a rebuild itself."""
    from monitor_dagster.defs.schedules import FOLLOW_UP_TRIGGER, follow_up_after_yearly_runs, follow_up_requests

    reqs, _ = _after_outcome_run(follow_up_after_yearly_runs, FOLLOW_UP_TRIGGER)
    # one run per year; O25 (first_job) looks four years ahead (a diploma of August t+1 + 36 months); the
    # education careers of 2020 read the enrolment of 1 October 2021: rebuilt before O25 of 2020
    assert [(r.partition_key, sorted(k.to_user_string() for k in r.asset_selection)) for r in reqs] == [
        ("2017", ["indicators/first_job"])] + [
        (str(y), ["indicators/first_job", "indicators/reemployment"]) for y in (2018, 2019)] + [
        ("2020", ["core/education_careers", "indicators/first_job", "indicators/reemployment",
                  "indicators/student_jobs"])]                                  # O24b: t..t+1
    assert all(r.tags["monitor/trigger"] == FOLLOW_UP_TRIGGER for r in reqs)
    assert follow_up_requests("x", {"dagster/partition": "2020", "monitor/trigger": FOLLOW_UP_TRIGGER}) == []
    assert [r.partition_key for r in follow_up_requests("x", {"dagster/partition": "2012"})] == ["2011"]
