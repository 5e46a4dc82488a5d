"""A PostgreSQL-backed Dagster instance end to end (issue 6): the shipped ``deploy/dagster.postgres.yaml``,
the real ``release_sensor`` on a fresh landing zone, its run requests executed as runs on that instance, and
everything checked twice: through the Dagster instance API and with plain SQL on the Postgres tables.

How runs are launched: each ``RunRequest`` of a sensor tick is executed in-process on the Postgres instance
(``job.execute_in_process`` of the requested job, with its asset selection, partition and the tags the sensor
daemon adds: ``dagster/run_key``, ``dagster/sensor_name``).  A real ``dagster-daemon`` was not used: the
sensor has ``minimum_interval_seconds=60`` and a file is only picked up once it is unchanged over two ticks,
so three daemon ticks take over two minutes before any run, and each run would then start its own run-worker
subprocess; that mostly tests Dagster's daemon.  What is ours and is tested here: the instance file against a
real server (schema creation, run/event-log/schedule storage), the sensor's decisions and run keys, and the
assets writing runs, materialisations and check evaluations into Postgres.  See docs/deployment.md.

Connection: ``MONITOR_TEST_PG_HOST/PORT/USER/PASSWORD/DB`` (``.ci/run`` starts Debian's PostgreSQL and
exports them; defaults are what ``.ci/run`` creates).  The role needs CREATEDB: every test run works in a
fresh database ``monitor_e2e_<pid>_<random>`` that is dropped afterwards.  Without a reachable server the
test is skipped with the reason, unless ``CI`` is set: then it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from monitor_dagster.defs.core.assets import IO
from monitor_dagster.defs.io import WarehouseIOManager
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import SCHEMA_CHECK
from monitor_dagster.definitions import build_definitions
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse
from monitor_dagster_tests._env import unavailable

ROOT = Path(__file__).resolve().parents[1]
INSTANCE_YAML = ROOT / "deploy" / "dagster.postgres.yaml"
RUN_KEY_TAG, SENSOR_TAG = "dagster/run_key", "dagster/sensor_name"


def pg_settings() -> dict:
    env = os.environ.get
    return {"host": env("MONITOR_TEST_PG_HOST", "127.0.0.1"), "port": int(env("MONITOR_TEST_PG_PORT", "5432")),
            "user": env("MONITOR_TEST_PG_USER", "monitor_test"), "password": env("MONITOR_TEST_PG_PASSWORD", "monitor_test"),
            "dbname": env("MONITOR_TEST_PG_DB", "monitor_test")}


def require_postgres() -> dict:
    """Connection settings of a reachable server; skip (outside CI) or fail (in CI) otherwise."""
    import psycopg2

    cfg = pg_settings()
    try:
        psycopg2.connect(connect_timeout=5, **cfg).close()
    except psycopg2.Error as exc:
        msg = (f"no PostgreSQL at {cfg['user']}@{cfg['host']}:{cfg['port']}/{cfg['dbname']} "
               f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}): "
               "run `bash .ci/run` once (installs and starts Debian's postgresql) or set MONITOR_TEST_PG_*")
        unavailable(msg)
    return cfg


@pytest.fixture
def pg_database():
    """A fresh, empty database for this test run (dropped afterwards, also after a failure)."""
    import psycopg2

    cfg = require_postgres()
    name = f"monitor_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(connect_timeout=5, **cfg)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield {**cfg, "dbname": name}
    finally:
        _drop(admin, name)
        admin.close()


def _drop(admin, name: str, tries: int = 10) -> None:
    """DROP DATABASE ... WITH (FORCE), again after a second while PostgreSQL refuses to end a backend of
    another role in it: an autovacuum worker busy in the test's freshly written database, which only members of
    pg_signal_backend may end (``.ci/run`` grants it; a server of your own, MONITOR_TEST_PG_HOST, may not)."""
    import psycopg2

    for attempt in range(tries):
        try:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg2.errors.InsufficientPrivilege:
            if attempt == tries - 1:
                raise
            time.sleep(1.0)


@pytest.fixture
def pg_instance(pg_database, tmp_path, monkeypatch):
    """The shipped deploy/dagster.postgres.yaml as $DAGSTER_HOME/dagster.yaml, DAGSTER_PG_* pointing at the
    fresh database."""
    for var, key in [("DAGSTER_PG_HOST", "host"), ("DAGSTER_PG_PORT", "port"), ("DAGSTER_PG_USER", "user"),
                     ("DAGSTER_PG_PASSWORD", "password"), ("DAGSTER_PG_DB", "dbname")]:
        monkeypatch.setenv(var, str(pg_database[key]))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    try:
        instance = dg.DagsterInstance.from_config(str(home))
    except ModuleNotFoundError as exc:   # e.g. SQLAlchemy >= 2.1 maps postgresql:// to psycopg 3
        pytest.fail(f"{INSTANCE_YAML.relative_to(ROOT)} does not open its storage: {exc}. dagster-postgres ships "
                    "psycopg2; if the missing module is 'psycopg', SQLAlchemy >= 2.1 picked psycopg 3 for "
                    "postgresql:// - set `scheme: postgresql+psycopg2` under storage.postgres.postgres_db")
    try:
        yield instance, home
    finally:
        instance.dispose()


def _sql(db: dict, query: str, args=()) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(connect_timeout=5, **db) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        rows = cur.fetchall()
    conn.close()
    return rows


def _key_json(key: dg.AssetKey) -> str:
    return json.dumps(key.path)   # how the event-log tables store asset keys: '["sources", "SPOLISBUS"]'


def test_postgres_instance_sensor_runs_end_to_end(pg_instance, pg_database, tmp_path):
    inst, home = pg_instance
    # --- the instance really is the shipped Postgres one -------------------------------------------------
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(inst.run_storage, PostgresRunStorage)
    assert isinstance(inst.event_log_storage, PostgresEventLogStorage)
    assert isinstance(inst.schedule_storage, PostgresScheduleStorage)
    assert isinstance(inst.run_coordinator, dg.QueuedRunCoordinator)
    assert inst.run_coordinator.get_run_queue_config().max_concurrent_runs == 2
    tables = {t for (t,) in _sql(pg_database, "SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = 'public'")}
    assert {"runs", "run_tags", "event_logs", "asset_keys", "asset_check_executions", "instigators",
            "job_ticks", "alembic_version"} <= tables, sorted(tables)

    # --- a fresh landing zone, the definitions of the code location on the test's folders ------------------
    zone = generate(SynthConfig(landing=tmp_path / "landing", persons=200, first_year=2020, last_year=2021,
                                seed=11, fmt="parquet"))
    wh = tmp_path / "warehouse"
    monitor = MonitorResource(landing=str(zone.config.landing), warehouse=str(wh))
    base = build_definitions()
    defs = dg.Definitions(assets=base.assets, asset_checks=base.asset_checks, jobs=base.jobs, sensors=base.sensors,
                          schedules=base.schedules,
                          resources={**(base.resources or {}), "monitor": monitor, IO: WarehouseIOManager(warehouse=str(wh))})
    sensor = defs.resolve_sensor_def("release_sensor")

    def tick(cursor):
        return sensor(dg.build_sensor_context(instance=inst, cursor=cursor, resources={"monitor": monitor}))

    # --- tick 1: every file is new, so everything waits; tick 2: stable -> one request per release ---------
    t1 = tick(None)
    assert not t1.run_requests, "a file seen for the first time must wait one tick (it may still be copied)"
    t2 = tick(t1.cursor)
    requests = list(t2.run_requests or [])
    wanted = {(rr.asset_selection[0], rr.partition_key) for rr in requests}
    assert len(wanted) == len(requests) >= 10, "one request per (file, period)"
    spolis = dg.AssetKey(["sources", "SPOLISBUS"])
    assert {(spolis, "2020"), (spolis, "2021")} <= wanted
    assert (dg.AssetKey(["sources", "GBAPERSOONTAB"]), None) in wanted, "cumulative files: one unpartitioned run"
    assert len({rr.run_key for rr in requests}) == len(requests)

    # --- launch: each request as a run on the Postgres instance, tagged as the sensor daemon tags it -------
    for rr in requests:
        assert len(rr.asset_selection) == 1
        result = defs.resolve_job_def(rr.job_name).execute_in_process(
            instance=inst, partition_key=rr.partition_key, asset_selection=rr.asset_selection, raise_on_error=False,
            tags={**rr.tags, RUN_KEY_TAG: rr.run_key, SENSOR_TAG: "release_sensor"},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success, f"{rr.job_name} {rr.asset_selection[0].to_user_string()} {rr.partition_key} failed"

    # --- tick 3: nothing new, nothing requested --------------------------------------------------------
    t3 = tick(t2.cursor)
    assert not t3.run_requests, [rr.run_key for rr in t3.run_requests]
    assert "no new or changed release" in t3.skip_reason.skip_message

    # --- through the instance API ------------------------------------------------------------------------
    w = Warehouse(wh)
    run_ids = {}
    for rr in requests:
        key, part = rr.asset_selection[0], rr.partition_key
        (run,) = inst.get_runs(dg.RunsFilter(tags={RUN_KEY_TAG: rr.run_key}))
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == rr.job_name
        run_ids[rr.run_key] = run.run_id
        assert run.tags[SENSOR_TAG] == "release_sensor" and run.tags["monitor/file"] == rr.tags["monitor/file"]
        assert run.tags.get("dagster/partition") == part
        flt = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[part] if part else None)
        (mat,) = inst.fetch_materializations(flt, limit=5).records
        assert mat.run_id == run.run_id
        meta = mat.asset_materialization.metadata
        wh_part = meta["warehouse_partition"].value   # "2020", or "latest" (cumulative) / "all" (reference)
        assert part is None or wh_part == part
        manifest = w.manifest(key.path[-1], wh_part)
        assert meta["vintage"].value == manifest["release_id"] and meta["rows"].value == manifest["rows"]
        assert rr.tags["monitor/version"] == f"V{manifest['version']}"
        check = inst.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(key, SCHEMA_CHECK))
        assert check is not None and check.status.value == "SUCCEEDED", (key, check)
    assert inst.get_materialized_partitions(spolis) >= {"2020", "2021"}

    # --- the same with plain SQL on the Postgres tables ----------------------------------------------------
    runs = _sql(pg_database, "SELECT t.value, r.run_id, r.status, r.pipeline_name FROM runs r "
                             "JOIN run_tags t ON t.run_id = r.run_id AND t.key = %s", (RUN_KEY_TAG,))
    assert sorted(runs) == sorted((rr.run_key, run_ids[rr.run_key], "SUCCESS", rr.job_name) for rr in requests)
    assert _sql(pg_database, "SELECT count(*) FROM runs") == [(len(requests),)]
    mats = _sql(pg_database, "SELECT asset_key, partition, event FROM event_logs "
                             "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
    assert sorted((k, p) for k, p, _ in mats) == sorted((_key_json(k), p) for k, p in wanted)
    spolis_2021 = [json.loads(e) for k, p, e in mats if k == _key_json(spolis) and p == "2021"]
    (event,) = spolis_2021
    entries = {e["label"]: e["entry_data"] for e in
               event["dagster_event"]["event_specific_data"]["materialization"]["metadata_entries"]}
    assert entries["vintage"]["text"] == w.manifest("SPOLISBUS", "2021")["release_id"]
    # one passed schema check per run and asset. (On a partitioned asset Dagster 1.13 keeps the PLANNED row,
    # which carries the partition, next to the evaluation row, which does not: compare by run.)
    checks = _sql(pg_database, "SELECT asset_key, run_id, check_name, execution_status FROM asset_check_executions")
    assert {c[3] for c in checks} <= {"PLANNED", "SUCCEEDED"}, checks
    assert sorted(c[:3] for c in checks if c[3] == "SUCCEEDED" and c[2] == SCHEMA_CHECK) == \
        sorted((_key_json(rr.asset_selection[0]), run_ids[rr.run_key], SCHEMA_CHECK) for rr in requests)
    # the non-blocking column-role check (ingest/roles.py) passes as well on a complete synthetic zone
    assert sorted(c[:3] for c in checks if c[3] == "SUCCEEDED" and c[2] == "columns") == \
        sorted((_key_json(rr.asset_selection[0]), run_ids[rr.run_key], "columns") for rr in requests)
    # nothing went to the embedded SQLite storage next to dagster.yaml
    assert not list(home.rglob("*.db")), list(home.rglob("*.db"))


def test_the_test_database_is_dropped_once_postgres_lets_it(monkeypatch):
    """The teardown's DROP DATABASE is tried again while PostgreSQL refuses to end a backend of another role
    (an autovacuum worker), and the refusal still surfaces when it never stops."""
    import psycopg2

    monkeypatch.setattr(time, "sleep", lambda s: None)

    class Admin:
        def __init__(self, refusals: int):
            self.refusals, self.statements = refusals, []

        def cursor(self):
            admin = self

            class Cursor:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return False

                def execute(self, sql):
                    admin.statements.append(sql)
                    if len(admin.statements) <= admin.refusals:
                        raise psycopg2.errors.InsufficientPrivilege("must be a member of the role whose process "
                                                                    "is being terminated or member of "
                                                                    "pg_signal_backend")
            return Cursor()

    admin = Admin(refusals=2)
    _drop(admin, "monitor_e2e_x")
    assert admin.statements == ['DROP DATABASE IF EXISTS "monitor_e2e_x" WITH (FORCE)'] * 3
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _drop(Admin(refusals=99), "monitor_e2e_x", tries=3)
