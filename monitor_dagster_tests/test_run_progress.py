"""`monitor run` says which step of a year's run it is on and how many of its buckets are done (issue 12: a
national year is one run of several minutes; defs/progress.py)."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from monitor_dagster import runner as R
from monitor_dagster.defs.progress import listening
from monitor_dagster.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress_zone")
    return generate(SynthConfig(landing=root / "landing", persons=300, first_year=2020, last_year=2020, seed=4,
                                fmt="parquet")).config.landing


@pytest.fixture(scope="module")
def run_lines(zone, tmp_path_factory):
    """The progress lines of a whole run in buckets of two (the summary, the lines)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MONITOR_BUCKETS", "2")
    lines: list[tuple[str, int, int]] = []
    try:
        with dg.instance_for_test() as inst:
            summary = R.run_pipeline(zone, tmp_path_factory.mktemp("progress_wh"), instance=inst,
                                     layers=("sources", "core", "indicators"),
                                     progress=lambda msg, i, n: lines.append((msg, i, n)))
    finally:
        mp.undo()
    return summary, lines


def _steps(lines, job: str) -> dict[str, list[str]]:
    """step -> what the lines said of it, in order, for the run of ``job``."""
    out: dict[str, list[str]] = {}
    for msg, _, _ in lines:
        m = re.fullmatch(rf"{job}: (\w+/\w+)(?: (\d+/\d+ buckets))?", msg)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2) or "start")
    return out


def test_the_progress_line_names_the_step_and_counts_its_buckets(run_lines):
    summary, lines = run_lines
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    year = _steps(lines, "outcome_indicators_yearly 2020")
    # core tables (core/buckets.BucketedFrame) and outcome families (the indicator engine) alike
    for step in ("core/population", "core/job_months", "core/secm_months", "indicators/contracts_hours",
                 "indicators/secm"):
        assert year.get(step) == ["start", "1/2 buckets", "2/2 buckets"], (step, year.get(step))
    # a step without buckets is named when it starts; the source runs name their files
    assert _steps(lines, "indicator_table_and_publication").get("indicators/indicator_table") == ["start"]
    assert any(re.fullmatch(r"2020: \d+ file\(s\): sources/SPOLISBUS", m) for m, _, _ in lines)
    # a step's lines keep the place of their run in the plan (the line that announced the run)
    current = None
    steps = 0
    for msg, i, n in lines:
        step = re.fullmatch(r"(.+): (?:core|indicators|sources)/\w+(?: \d+/\d+ buckets)?", msg)
        if step is None:
            current = (msg, i, n)
        else:
            steps += 1
            assert current is not None and step.group(1) == current[0] and (i, n) == current[1:], msg
    assert steps > 50

def test_only_runs_whose_config_names_the_logger_report_progress(zone, tmp_path):
    """The daemon's and the UI's runs (no `progress` in their run config) are as before, even while a `monitor
    run` in the same process listens; a listener that fails does not fail the run."""
    heard: list[str] = []

    def broken(text: str) -> None:
        heard.append(text)
        raise RuntimeError("a progress display that fails")

    defs = R._definitions(zone, tmp_path / "wh", None)
    job, keys = "ingest_cumulative_and_reference", [dg.AssetKey(["sources", "LANDAKTUEELREF"])]
    console = {"console": {"config": {"log_level": "CRITICAL"}}}
    with dg.instance_for_test() as inst, listening(broken):
        quiet = R._execute(defs, job, keys, None, inst, {"loggers": console})
        assert quiet.success and heard == []
        loud = R._execute(defs, job, keys, None, inst, {"loggers": {**console, "progress": {}}})
    assert loud.success and heard == ["sources/LANDAKTUEELREF"]
