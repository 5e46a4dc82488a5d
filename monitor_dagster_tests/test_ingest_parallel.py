"""`monitor run` ingests independent source runs in several processes (issue 12, MONITOR_INGEST_PROCESSES):
the same warehouse as one run after another, the same runs in the instance, a broken file failed alone."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from monitor_dagster import runner as R
from monitor_dagster.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def small_zone(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel_zone")
    return generate(SynthConfig(landing=root / "landing", persons=300, first_year=2019, last_year=2020, seed=4,
                                fmt="parquet"))


def _sources(wh: Path) -> dict[str, str]:
    """(entry/partition) -> data_sha256 of every current source version."""
    out = {}
    for cur in sorted((wh / "sources").glob("*/*/CURRENT")):
        out[f"{cur.parent.parent.name}/{cur.parent.name}"] = json.loads(cur.read_text())["manifest"]["data_sha256"]
    return out


def _ingest(landing: Path, wh: Path, processes: int, monkeypatch) -> tuple[R.RunSummary, list[str], int]:
    """The summary, the progress lines and the number of (successful) runs in the instance."""
    monkeypatch.setenv(R.INGEST_PROCESSES_ENV, str(processes))
    lines = []
    with dg.instance_for_test() as inst:
        summary = R.run_pipeline(landing, wh, instance=inst, layers=("sources",),
                                 progress=lambda msg, i, n: lines.append(msg))
        runs = inst.get_runs()
        assert all(r.is_success for r in runs), [r.status for r in runs]
        return summary, lines, len(runs)


def test_parallel_ingest_is_the_serial_ingest(small_zone, tmp_path, monkeypatch):
    landing = small_zone.config.landing
    serial, serial_lines, serial_runs = _ingest(landing, tmp_path / "serial", 1, monkeypatch)
    parallel, parallel_lines, parallel_runs = _ingest(landing, tmp_path / "parallel", 2, monkeypatch)
    assert serial.ok and parallel.ok, [o.message for o in parallel.outcomes if not o.ok]
    assert any("in 2 processes" in m for m in parallel_lines)
    assert not any("processes" in m for m in serial_lines)
    assert serial_runs == parallel_runs                      # the same number of runs in the instance
    assert sorted((o.entry, o.partition) for o in serial.outcomes) == \
        sorted((o.entry, o.partition) for o in parallel.outcomes)
    got, expected = _sources(tmp_path / "parallel"), _sources(tmp_path / "serial")
    assert len(expected) > 20 and got == expected


def test_a_broken_file_fails_alone_in_its_process(small_zone, tmp_path, monkeypatch):
    import shutil

    landing = tmp_path / "landing"
    shutil.copytree(small_zone.config.landing, landing)
    victim = sorted(landing.rglob("INPA2020TABV*.parquet"))[-1]     # the highest version is the one ingested
    victim.write_bytes(victim.read_bytes()[:200])            # truncated, as a copy that broke off
    monkeypatch.setenv(R.INGEST_PROCESSES_ENV, "2")
    with dg.instance_for_test() as inst:
        summary = R.run_pipeline(landing, tmp_path / "wh", instance=inst, layers=("sources",))
    failed = [o for o in summary.outcomes if not o.ok]
    assert [(o.entry, o.partition) for o in failed] == [("INPATAB", "2020")]
    assert victim.name in failed[0].message
    assert sum(o.ok for o in summary.outcomes) == len(summary.outcomes) - 1


def test_how_many_processes(monkeypatch):
    with dg.instance_for_test() as inst:
        monkeypatch.delenv(R.INGEST_PROCESSES_ENV, raising=False)
        assert R.ingest_processes(4, R.PARALLEL_INGEST_MIN_BYTES - 1, inst) == 1     # a small zone: here
        monkeypatch.setattr(R.os, "cpu_count", lambda: 2)
        assert R.ingest_processes(4, R.PARALLEL_INGEST_MIN_BYTES, inst) == 2         # a large one: the cores
        assert R.ingest_processes(1, R.PARALLEL_INGEST_MIN_BYTES, inst) == 1         # one run: nothing to share
        monkeypatch.setenv(R.INGEST_PROCESSES_ENV, "3")
        assert R.ingest_processes(4, 0, inst) == 3                                  # set: whatever the size
        monkeypatch.setenv(R.INGEST_PROCESSES_ENV, "many")
        with pytest.raises(ValueError, match="MONITOR_INGEST_PROCESSES='many'"):
            R.ingest_processes(4, 0, inst)
    monkeypatch.setenv(R.INGEST_PROCESSES_ENV, "3")
    assert R.ingest_processes(4, 0, dg.DagsterInstance.ephemeral()) == 1           # not shareable


_PARENT = '''
import os, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from monitor_dagster.runner import _exit_with_parent

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(), 0.1))
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 120)
    time.sleep(120)
'''


def test_ingest_workers_end_when_the_run_is_killed(tmp_path):
    """A `monitor run` killed outright (SIGKILL: no clean-up of its own) must not leave an ingest worker
    writing into the warehouse: the worker ends within seconds.  Without the initializer it sleeps on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        os.kill(worker, 0)                              # alive while the parent is
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            # a zombie child of init would also count as ended; reap nothing here, just look again
            time.sleep(0.1)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail(f"ingest worker {worker} still running 15 s after its parent was killed")
    finally:
        if parent.poll() is None:
            parent.kill()
