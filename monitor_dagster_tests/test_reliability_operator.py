"""Fault-injection cases of issue 15, part C: what the operator is told (docs/reliability.md).

* a run whose process was killed is marked failed (with the reason) at the next start, never left STARTED;
* tests never write into the user's DAGSTER_HOME (conftest gives every pytest process a temporary one);
* check results print as text, a WARN as a warning (never as "0 failed" alone);
* a reversed or impossible ``--years`` range is refused at once (exit 2) by every command that takes it.

Each case states the fault, the exit code and message, and the warehouse tree hash before and after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from monitor_dagster.cli import app
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster_tests._reliability import tree_diff, tree_files, tree_hash

ROOT = Path(__file__).resolve().parents[1]
PROJECT_HOME = ROOT / ".dagster_home"
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """100 persons, 2019-2020, parquet (about 1 s)."""
    root = tmp_path_factory.mktemp("tiny")
    return generate(SynthConfig(landing=root / "landing", persons=100, first_year=2019, last_year=2020, seed=2,
                                fmt="parquet"))


def _home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "dh"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _open_run(inst: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict, start_pid: int | None = None) -> str:
    """A run left in ``status`` as a killed process leaves it; ``start_pid``: the pid on its start event (the
    run worker's, for a run launched by the daemon)."""
    from dagster._core.events import DagsterEvent
    from dagster._core.utils import make_new_run_id

    run = inst.add_run(dg.DagsterRun(job_name="ingest_cumulative_and_reference", run_id=make_new_run_id(),
                                     status=dg.DagsterRunStatus.NOT_STARTED, tags=tags))
    inst.report_dagster_event(DagsterEvent(event_type_value="PIPELINE_START", job_name=run.job_name,
                                           pid=start_pid or os.getpid()), run_id=run.run_id)
    if status == dg.DagsterRunStatus.CANCELING:
        inst.report_run_canceling(inst.get_run_by_id(run.run_id))
    assert inst.get_run_by_id(run.run_id).status == status
    return run.run_id


def _started_run(runs_db: Path) -> str | None:
    """The id of a STARTED run, read-only straight from SQLite: opening a DagsterInstance while the other process
    still creates its storage races Dagster's schema stamping ("more than one head")."""
    import sqlite3

    if not runs_db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{runs_db}?mode=ro", uri=True, timeout=1) as con:
            row = con.execute("SELECT run_id FROM runs WHERE status = 'STARTED' LIMIT 1").fetchone()
    except sqlite3.Error:
        return None   # tables not created yet, or locked for a moment
    return row[0] if row else None


# --- killed runs ----------------------------------------------------------------------------------------------

def test_killed_monitor_run_is_marked_failed_by_the_next_command(tiny, tmp_path):
    """The fault: ``kill -9`` of ``monitor run`` while one of its runs is STARTED (a real process, a real kill).
    Expected: the next ``monitor status`` exits 0, says which run it marked failed and why; the run is FAILURE
    with the reason in its event log; the warehouse is not touched by that status call."""
    home = tmp_path / "dh"
    home.mkdir()
    wh = tmp_path / "wh"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "monitor_dagster.cli", "run", "--landing", str(tiny.config.landing),
                             "--warehouse", str(wh), "--layers", "sources"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed, deadline = None, time.time() + 120
    try:
        while proc.poll() is None and time.time() < deadline:
            killed = _started_run(home / "history" / "runs.db")
            if killed:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and killed is None:
            proc.kill()
        proc.wait()
    assert killed, "monitor run ended before one of its runs was seen STARTED"
    inst = dg.DagsterInstance.from_config(str(home))
    assert inst.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED, "today: STARTED forever"

    before = tree_files(wh)
    r = runner.invoke(app, ["status", "--landing", str(tiny.config.landing), "--warehouse", str(wh),
                            "--today", "2021-06-30"], env={"DAGSTER_HOME": str(home)})
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert f"run {killed[:8]}" in text and f"process {proc.pid}" in text and "marked failed" in text, r.output
    assert tree_files(wh) == before, tree_diff(before, tree_files(wh))
    inst = dg.DagsterInstance.from_config(str(home))
    assert inst.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    (ev,) = inst.all_logs(killed, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"pid {proc.pid}" in ev.message and "killed or crashed" in ev.message and "monitor status" in ev.message
    # marked once: a second look finds nothing left to mark
    r = runner.invoke(app, ["status", "--landing", str(tiny.config.landing), "--warehouse", str(wh)],
                      env={"DAGSTER_HOME": str(home)})
    assert r.exit_code == 0 and "marked failed" not in r.output, r.output


def test_monitor_run_marks_runs_of_dead_processes_and_keeps_live_ones(tmp_path, monkeypatch):
    """STARTED/CANCELING runs in the instance whose process is gone (made in a test instance): the next
    ``monitor run`` marks them failed/canceled and says so; a run of a live process (this one), of another
    host, and a run whose pid now belongs to a younger process are told apart."""
    from monitor_dagster.run_state import HOST_TAG, PID_TAG

    home = _home(tmp_path, monkeypatch)
    host = __import__("socket").gethostname()
    inst = dg.DagsterInstance.get()
    dead = _dead_pid()
    gone = _open_run(inst, dg.DagsterRunStatus.STARTED, {PID_TAG: str(dead), HOST_TAG: host})
    cancel = _open_run(inst, dg.DagsterRunStatus.CANCELING, {PID_TAG: str(dead), HOST_TAG: host})
    live = _open_run(inst, dg.DagsterRunStatus.STARTED, {PID_TAG: str(os.getpid()), HOST_TAG: host})
    other = _open_run(inst, dg.DagsterRunStatus.STARTED, {PID_TAG: str(dead), HOST_TAG: host + "-elsewhere"})
    # launched by the daemon/UI (no tags): the run worker's pid is on the start event (SQLite: one machine)
    launched = _open_run(inst, dg.DagsterRunStatus.STARTED, {}, start_pid=dead)
    # the pid was reused: a process younger than the run holds it now
    reused = _open_run(inst, dg.DagsterRunStatus.STARTED, {HOST_TAG: host})
    # younger than the run by more than run_state's 1 s slack plus the up to 1 s that psutil's create_time can
    # read early (it adds the process's ticks to the boot time, which /proc/stat gives in whole seconds)
    time.sleep(2.5)
    young = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        inst.add_run_tags(reused, {PID_TAG: str(young.pid)})
        landing = tmp_path / "landing"
        landing.mkdir()
        before = tree_hash(tmp_path / "wh")
        r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"),
                                "--layers", "sources"])
    finally:
        young.kill()
        young.wait()
    assert r.exit_code == 0, r.output
    assert tree_hash(tmp_path / "wh") == before
    S = dg.DagsterRunStatus
    got = {k: inst.get_run_by_id(v).status for k, v in dict(gone=gone, cancel=cancel, live=live, other=other,
                                                           launched=launched, reused=reused).items()}
    assert got == dict(gone=S.FAILURE, cancel=S.CANCELED, live=S.STARTED, other=S.STARTED, launched=S.FAILURE,
                       reused=S.FAILURE), got
    text = " ".join(r.output.split())
    for rid in (gone, launched, reused):
        assert f"run {rid[:8]}" in text, r.output
    assert "marked canceled" in text and f"run {live[:8]}" not in text
    (ev,) = inst.all_logs(gone, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"pid {dead}" in ev.message and "monitor run" in ev.message and "run the same command again" in ev.message


def test_runs_carry_their_process_and_the_instance_has_run_monitoring(tmp_path, monkeypatch, tiny):
    """A run of ``monitor run`` names its process (so it can be judged later); the DAGSTER_HOME instance the CLI
    creates switches Dagster's run monitoring on (daemon: runs stuck STARTING/CANCELING time out)."""
    home = _home(tmp_path, monkeypatch)
    r = runner.invoke(app, ["run", "--landing", str(tiny.config.landing), "--warehouse", str(tmp_path / "wh"),
                            "--select", "LANDAKTUEELREF", "--layers", "sources"])
    assert r.exit_code == 0, r.output
    inst = dg.DagsterInstance.get()
    (run,) = inst.get_runs()
    assert run.tags["monitor/pid"] == str(os.getpid()) and run.tags["monitor/host"]
    assert inst.run_monitoring_enabled and inst.run_monitoring_max_resume_run_attempts == 0
    import yaml

    cfg = yaml.safe_load((ROOT / "deploy" / "dagster.postgres.yaml").read_text())
    assert cfg["run_monitoring"]["enabled"] is True and cfg["run_monitoring"]["max_resume_run_attempts"] == 0


def test_interrupted_runs_sensor_marks_without_launching(tmp_path):
    from monitor_dagster.run_state import HOST_TAG, PID_TAG, interrupted_runs_sensor

    with dg.instance_for_test() as inst:
        rid = _open_run(inst, dg.DagsterRunStatus.STARTED,
                        {PID_TAG: str(_dead_pid()), HOST_TAG: __import__("socket").gethostname()})
        res = interrupted_runs_sensor(dg.build_sensor_context(instance=inst))
        assert inst.get_run_by_id(rid).status == dg.DagsterRunStatus.FAILURE
        assert not getattr(res, "run_requests", None) and rid[:8] in str(getattr(res, "skip_message", res))
        res = interrupted_runs_sensor(dg.build_sensor_context(instance=inst))
        assert "no interrupted run" in str(getattr(res, "skip_message", res))


# --- DAGSTER_HOME of tests ------------------------------------------------------------------------------------

def test_pytest_runs_on_a_temporary_dagster_home():
    """conftest gives every pytest process its own temporary DAGSTER_HOME, whatever the shell or make set."""
    home = os.environ.get("DAGSTER_HOME")
    assert home, "DAGSTER_HOME is not set: runs of CLI tests would go to an ephemeral instance or the user's"
    home = Path(home).resolve()
    assert home != PROJECT_HOME.resolve() and ROOT not in home.parents, home
    assert Path(tempfile.gettempdir()).resolve() in home.parents, home


def test_cli_runs_in_tests_leave_the_project_dagster_home_untouched(tiny, tmp_path):
    """The fault (before): ``make test`` wrote the runs of CLI tests, among them a red publication run from a
    fixture, into the project's .dagster_home. Now they go to the test's temporary home."""
    before = tree_files(PROJECT_HOME)
    home = Path(os.environ["DAGSTER_HOME"])
    n_before = len(dg.DagsterInstance.get().get_runs()) if (home / "history").exists() else 0
    r = runner.invoke(app, ["run", "--landing", str(tiny.config.landing), "--warehouse", str(tmp_path / "wh"),
                            "--select", "LANDAKTUEELREF", "--layers", "sources"])
    assert r.exit_code == 0, r.output
    assert len(dg.DagsterInstance.get().get_runs()) == n_before + 1, "the run is in the test's DAGSTER_HOME"
    assert tree_files(PROJECT_HOME) == before, tree_diff(before, tree_files(PROJECT_HOME))


def test_make_test_and_bench_use_a_scratch_dagster_home():
    """``make test`` / ``make bench`` run pytest and the benchmarks with a fresh DAGSTER_HOME (mktemp), never the
    project's .dagster_home that ``make ui`` shows."""
    out = subprocess.run(["make", "-n", "--no-print-directory", "test", "bench"], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "MAKEFLAGS": ""})
    assert out.returncode == 0, out.stderr
    cmds = [ln for ln in out.stdout.replace("\\\n", " ").splitlines() if "pytest" in ln or "benchmarks/" in ln]
    assert len(cmds) >= 2, out.stdout
    for ln in cmds:
        assert "mktemp" in ln and "DAGSTER_HOME" in ln, ln
    # benchmarks that run Dagster jobs pass a test instance of their own
    for f in sorted((ROOT / "benchmarks").glob("*.py")):
        text = f.read_text()
        if "run_pipeline(" in text or "execute_in_process(" in text:
            assert "instance_for_test" in text, f.name


# --- check results --------------------------------------------------------------------------------------------

def _checked_result():
    """A real in-process run with a WARN check (the trend check's metadata) and a failing non-blocking ERROR
    check, as Dagster reports them (IntMetadataValue, ...)."""
    key = dg.AssetKey(["indicators", "indicator_table"])

    @dg.asset(key=key, check_specs=[dg.AssetCheckSpec("trend_breaks", asset=key),
                                    dg.AssetCheckSpec("expectations", asset=key)])
    def table():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="trend_breaks", passed=False, severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"unexplained_jumps": 13, "explained_jumps": 2,
                                            "data_docs": "/wh/gx/index.html"})
        yield dg.AssetCheckResult(check_name="expectations", passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"failures": 1, "first": "O03 2019: value 140.0 outside 0-100"})

    with dg.instance_for_test() as inst:
        return dg.materialize([table], instance=inst, raise_on_error=False)


def test_check_results_print_as_text_and_warn_is_a_warning():
    """The fault (before): ``check failed: trend_breaks: {'unexplained_jumps': IntMetadataValue(value=13), ...}``
    and then ``0 failed``. Now: values as text, the WARN as a warning, the failed ERROR check as a failure (exit 1)."""
    from monitor_dagster.cli import _print_run_summary, out
    from monitor_dagster.runner import RunSummary, StepOutcome, check_outcomes

    summary = RunSummary(outcomes=[StepOutcome("indicators/indicator_table", None, True, "", {"rows": 10})])
    summary.checks += check_outcomes(_checked_result(), None)
    assert not summary.ok, "a failed ERROR check fails the run"
    with out.capture() as cap:
        _print_run_summary(summary)
    text = " ".join(cap.get().split())
    assert "MetadataValue" not in text and "{" not in text, text
    assert "WARN check trend_breaks of indicators/indicator_table: unexplained jumps 13, explained jumps 2" in text
    assert "FAILED check expectations of indicators/indicator_table: failures 1, first: O03 2019" in text, text
    assert "1 failed" in text and "1 warning" in text, text
    assert summary.check_failures == ["expectations: failures 1, first: O03 2019: value 140.0 outside 0-100"]


def test_a_source_warning_is_counted_not_hidden_behind_0_failed(tiny, tmp_path, monkeypatch):
    """A landed file lacking a catalog column: exit 0 (not blocking), the WARN line, and the closing line says
    1 warning instead of a bare "0 failed"."""
    _home(tmp_path, monkeypatch)
    landing = tmp_path / "landing"
    src = next(tiny.config.landing.glob("Utilities/Code_Listings/SSBreferentiebestanden/LANDAKTUEELREFV*.parquet"))
    dst = landing / src.relative_to(tiny.config.landing)
    dst.parent.mkdir(parents=True)
    pl.read_parquet(src).drop("LANDGROEPMONITOR").write_parquet(dst)
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(tmp_path / "wh"), "--layers",
                            "sources"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "WARN" in text and "LANDGROEPMONITOR" in text
    assert "0 failed, 1 warning" in text, text


# --- --years --------------------------------------------------------------------------------------------------

BAD_YEARS = {"reversed": "2021-2019", "before_catalog": "1990-1991"}
MESSAGE = {"reversed": "first year 2021 is after the last year 2019 (did you mean 2019-2021?)",
           "before_catalog": "before the first period of the data catalog (1995)"}


@pytest.mark.parametrize("case", list(BAD_YEARS))
@pytest.mark.parametrize("command", ["run", "backfill", "synth", "demo"])
def test_bad_years_fail_at_once(tiny, tmp_path, monkeypatch, command, case):
    """The fault: an impossible ``--years``. Expected: exit 2 at once with the reason, nothing written (no
    landing zone or warehouse created, no Dagster run, the warehouse hash unchanged)."""
    home = _home(tmp_path, monkeypatch)
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    args = {"run": ["run", "--landing", str(tiny.config.landing), "--warehouse", str(wh)],
            "backfill": ["backfill", "--landing", str(tiny.config.landing), "--warehouse", str(wh)],
            "synth": ["synth", "--landing", str(landing), "--persons", "50"],
            "demo": ["demo", "--landing", str(landing), "--warehouse", str(wh), "--persons", "50"]}[command]
    years = BAD_YEARS[case]
    # the synthetic generator has its own range (2006-2026), checked before it writes anything
    message = "outside 2006-2026" if case == "before_catalog" and command in ("synth", "demo") else MESSAGE[case]
    before = tree_hash(wh)
    t0 = time.perf_counter()
    r = runner.invoke(app, [*args, "--years", years])
    assert r.exit_code == 2, (r.exit_code, r.output)
    text = " ".join(r.output.split())
    assert "years" in text and years in text and message in text, r.output
    assert time.perf_counter() - t0 < 10
    assert tree_hash(wh) == before and not wh.exists() and not landing.exists()
    assert not (home / "history").exists() or not dg.DagsterInstance.get().get_runs()


def test_years_before_the_core_or_without_data(tiny, tmp_path, monkeypatch):
    """--years inside the catalog but where nothing can be built: before the core's first year with the
    derived layers, or a range with no landed file and no warehouse year."""
    _home(tmp_path, monkeypatch)
    wh = tmp_path / "wh"
    base = ["run", "--landing", str(tiny.config.landing), "--warehouse", str(wh)]
    r = runner.invoke(app, [*base, "--years", "2005-2008"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "before 2011, the first year of the core layer" in text and "--layers sources" in text, r.output
    r = runner.invoke(app, [*base, "--years", "2013-2014", "--layers", "sources"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "2013-2014: nothing to do - no landed file in that range (landed years: 2019-2020)" in text, r.output
    r = runner.invoke(app, [*base, "--years", "2013-2014"])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "no landed file and no warehouse year in that range" in text and "warehouse years: none" in text, r.output
    assert not wh.exists()
    # a good range still runs
    r = runner.invoke(app, [*base, "--years", "2020", "--select", "SPOLISBUS", "--layers", "sources"])
    assert r.exit_code == 0, r.output
