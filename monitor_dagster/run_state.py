"""Honest run state: a run whose process is gone is marked failed (or canceled) with the reason (issue 15).

``monitor run`` / ``backfill`` / ``demo`` / ``publish`` execute their Dagster runs in the CLI's own process.
A ``kill -9`` (or a crash, a closed terminal, an OOM kill) of that process leaves the run STARTED in the
instance forever: nothing is left to write its end, and the UI shows it as running.  Dagster's run monitoring
(``run_monitoring`` in dagster.yaml, a daemon) cannot see those runs: it asks the run launcher whether a run
worker is alive, and the default launcher cannot tell, while in-process runs have no launcher at all.

So every run of ours carries the pid and host of its process (:func:`process_tags`), and at the next start of
a command - ``monitor run``/``backfill``/``demo``/``publish``/``status``, and every minute in the daemon (sensor
``interrupted_runs``) - :func:`mark_interrupted` marks each run in progress whose process is gone.  Runs the
daemon or the UI launched carry no tags; on a single-machine (SQLite) instance the pid of their run worker is
read from the run's start event.  A process that is still alive keeps its runs (parallel ``monitor run``s are
safe); a live process younger than the run is another process that got the same pid.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

import dagster as dg
import psutil

PID_TAG = "monitor/pid"
HOST_TAG = "monitor/host"
#: statuses of a run that still waits for its process to write the end
_OPEN = (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
         dg.DagsterRunStatus.CANCELING)


def process_tags() -> dict[str, str]:
    """Tags that tie a run to the process executing it in-process (the CLI)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


@dataclass(frozen=True)
class Interrupted:
    run_id: str
    job_name: str
    partition: str | None
    status: str          # the status the run was left in (STARTED, ...)
    pid: int
    host: str
    marked: str          # "failed" or "canceled"
    message: str

    def line(self) -> str:
        part = f" {self.partition}" if self.partition else ""
        return (f"run {self.run_id[:8]} ({self.job_name}{part}) was left {self.status} by process {self.pid} on "
                f"{self.host}, which is gone (killed or crashed): marked {self.marked}")


def _single_host(instance: dg.DagsterInstance) -> bool:
    """A SQLite instance lives on one machine's disk: every run worker ran on this host."""
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    return isinstance(instance.run_storage, SqliteRunStorage)


def _worker(instance: dg.DagsterInstance, run: dg.DagsterRun, single_host: bool) -> tuple[int, str] | None:
    """(pid, host) of the process that executes ``run``, or None when it cannot be known."""
    if PID_TAG in run.tags:
        try:
            return int(run.tags[PID_TAG]), run.tags.get(HOST_TAG, "")
        except ValueError:
            return None
    if not single_host or run.status != dg.DagsterRunStatus.STARTED:
        return None   # STARTING/CANCELING of a launched run: Dagster's run monitoring times those out
    starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
    pid = starts[-1].dagster_event.pid if starts and starts[-1].dagster_event else None
    return (pid, socket.gethostname()) if pid else None


def _alive(pid: int, since: float) -> bool:
    """Whether ``pid`` is the live process that started at or before ``since`` (epoch seconds)."""
    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        return p.create_time() <= since + 1.0   # created after the run: the pid was reused
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True   # someone else's live process: not ours to judge


def _since(record) -> float:
    if record.start_time:
        return float(record.start_time)
    ts = record.create_timestamp
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)).timestamp()


def find_interrupted(instance: dg.DagsterInstance) -> list[tuple[object, int, str]]:
    """(run record, pid, host) of each open run on this host whose process is gone."""
    here = socket.gethostname()
    single = _single_host(instance)
    out = []
    for rec in instance.get_run_records(dg.RunsFilter(statuses=list(_OPEN))):
        w = _worker(instance, rec.dagster_run, single)
        if w is None or w[1] != here:
            continue   # another machine's process: only that machine can tell whether it lives
        if not _alive(w[0], _since(rec)):
            out.append((rec, w[0], w[1]))
    return out


def mark_interrupted(instance: dg.DagsterInstance, by: str) -> list[Interrupted]:
    """Mark every run of :func:`find_interrupted` failed (canceled if it was being canceled), with the reason
    in the run's event log; returns what was marked."""
    done = []
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    for rec, pid, host in find_interrupted(instance):
        run = instance.get_run_by_id(rec.dagster_run.run_id)
        if run is None or run.status not in _OPEN:
            continue   # finished or marked by someone else meanwhile
        canceling = run.status == dg.DagsterRunStatus.CANCELING
        marked = "canceled" if canceling else "failed"
        msg = (f"Interrupted: the process that ran this run (pid {pid} on {host}) is gone - killed or crashed - "
               f"while the run was {run.status.value}, so it can never finish. Marked {marked} by {by} at {now}. "
               "Nothing half-written is published: the warehouse keeps the last complete version of every "
               "partition (a leftover temporary folder is removed by the next run). To finish the work, run the "
               "same command again (or re-execute this run from the UI).")
        if canceling:
            instance.report_run_canceled(run, msg)
        else:
            from dagster._core.events import JobFailureData, RunFailureReason

            instance.report_run_failed(run, msg, JobFailureData(error=None,
                                                                failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))
        done.append(Interrupted(run.run_id, run.job_name, run.tags.get("dagster/partition"), run.status.value,
                                pid, host, marked, msg))
    return done


def mark_interrupted_in_home(by: str) -> list[Interrupted]:
    """:func:`mark_interrupted` on the instance of ``DAGSTER_HOME`` if that instance exists (read-only commands
    such as ``monitor status`` never create one)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not (os.path.isfile(os.path.join(home, "dagster.yaml"))
                        or os.path.isdir(os.path.join(home, "history"))):
        return []
    with dg.DagsterInstance.get() as instance:
        return mark_interrupted(instance, by)


@dg.sensor(name="interrupted_runs", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks runs whose process is gone (a killed or crashed `monitor run`, a run worker of a "
                       "stopped `dagster dev`) failed, with the reason; never launches a run (run_state.py).")
def interrupted_runs_sensor(context: dg.SensorEvaluationContext):
    marked = mark_interrupted(context.instance, "sensor interrupted_runs")
    for m in marked:
        context.log.warning(m.line())
    return dg.SkipReason("; ".join(m.line() for m in marked) if marked else "no interrupted run")
