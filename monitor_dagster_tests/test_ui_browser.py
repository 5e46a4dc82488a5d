"""The lineage UI in a real browser (issue 6): `dagster-webserver` on a freshly built test warehouse, opened in
headless Debian Chromium through Playwright (``_browser.py``).

What an analyst sees is checked, not Dagster's internals: the global asset lineage shows every asset group
of the code location (at least ``sources``, ``core``, ``indicators``) as a graph node; the page of the source asset SPOLISBUS shows its
description and the metadata of its latest materialisation (vintage and row count, equal to the warehouse
manifest); its lineage tab shows the downstream core asset. Screenshots go to ``_browser.OUTPUT``
(``test_output/lineage_ui_*.png``).  Routes and the graph-node class are those of the pinned Dagster 1.13 UI.

The webserver is a subprocess in its own process group (it starts a code-server child), on a free port, with
DAGSTER_HOME / MONITOR_LANDING / MONITOR_WAREHOUSE of this test; the group is always stopped at the end.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from monitor_dagster.cli import app
from monitor_dagster.definitions import build_definitions
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse
from monitor_dagster_tests import _browser

WEBSERVER = Path(sys.executable).with_name("dagster-webserver")
START_TIMEOUT = 120        # seconds until the webserver answers (it loads the code location first)
UI_TIMEOUT = 60_000        # ms for any element of the UI to appear (graph layout runs in a web worker)
GROUPS = ("sources", "core", "indicators")   # at least; every group of the code location is checked


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path, n: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else "(no log)"


@contextmanager
def webserver(env: dict, cwd: Path):
    """`dagster-webserver -m monitor_dagster.definitions` on a free port; yields the base URL."""
    port = _free_port()
    log = cwd / "webserver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(WEBSERVER), "-m", "monitor_dagster.definitions", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"dagster-webserver exited with {proc.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(url + "/server_info", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"dagster-webserver did not answer within {START_TIMEOUT}s:\n{_log_tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the webserver's process group (it and its code server), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # the code server child may outlive the webserver by a moment; make sure the group is gone
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_lineage_ui_in_chromium(tmp_path, monkeypatch):
    _browser.require_chromium()   # skip/fail before building anything
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    groups = sorted({spec.group_name for spec in build_definitions().resolve_all_asset_specs()})
    assert set(GROUPS) <= set(groups), groups

    def settle():
        """Let the page's queries finish before a screenshot (status badges load after the layout); not an
        assertion: the UI polls, so the network may never be idle for long."""
        try:
            page.wait_for_load_state("networkidle", timeout=10_000)
        except PlaywrightTimeout:
            pass

    # --- a small warehouse: the sources of two years, runs on the test's own instance -----------------------
    # (what the UI is asked about below is a source's materialisation and the lineage of the definitions: the
    # graph shows every group whether it was materialised or not, so core and indicators are not built; they
    # took two thirds of this test's time)
    landing, wh, home = tmp_path / "landing", tmp_path / "warehouse", tmp_path / "dagster_home"
    generate(SynthConfig(landing=landing, persons=200, first_year=2020, last_year=2021, seed=11, fmt="parquet"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    r = CliRunner().invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh),
                                 "--layers", "sources"])
    assert r.exit_code == 0, r.output
    w = Warehouse(wh)
    vintages = {w.manifest("SPOLISBUS", p)["release_id"]: p for p in w.partitions("SPOLISBUS")}
    assert len(vintages) == 2, vintages

    env = {**os.environ, "DAGSTER_HOME": str(home), "MONITOR_LANDING": str(landing), "MONITOR_WAREHOUSE": str(wh),
           "DAGSTER_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    with webserver(env, tmp_path) as url, _browser.browser_page() as page:
        page.set_default_timeout(UI_TIMEOUT)
        # the "Join the Dagster community" dialog (shown on localhost) covers the page: mark it seen, and
        # dismiss it should it appear anyway
        page.context.add_init_script("window.localStorage.setItem('communityNux', JSON.stringify('1'))")
        page.add_locator_handler(page.get_by_text("Join the Dagster community"),
                                 lambda: page.get_by_role("button", name="Skip").click())

        # --- global asset lineage: one node per group ---------------------------------------------------
        page.goto(url + "/asset-groups", wait_until="domcontentloaded")
        expect(page.get_by_text("Global asset lineage")).to_be_visible(timeout=UI_TIMEOUT)
        nodes = page.locator('[class*="CollapsedGroupNode"]')
        for g in groups:
            expect(nodes.filter(has=page.get_by_text(g, exact=True)).first).to_be_visible(timeout=UI_TIMEOUT)
        settle()
        _browser.screenshot(page, "lineage_ui_asset_graph")

        # --- a source asset: description and the metadata of its latest materialisation --------------------
        page.goto(url + "/assets/sources/SPOLISBUS", wait_until="domcontentloaded")
        expect(page.get_by_text("CBS file SPOLISBUS (Spolis/SPOLISBUS)", exact=False)).to_be_visible(timeout=UI_TIMEOUT)
        expect(page.get_by_text("vintage", exact=True)).to_be_visible(timeout=UI_TIMEOUT)
        shown = page.get_by_text(re.compile(r"^SPOLISBUS20\d\dV\d+$"))
        expect(shown.first).to_be_visible(timeout=UI_TIMEOUT)
        vintage = shown.first.inner_text().strip()
        assert vintage in vintages, (vintage, vintages)
        rows = int(w.manifest("SPOLISBUS", vintages[vintage])["rows"])
        expect(page.get_by_text("rows", exact=True)).to_be_visible()
        expect(page.get_by_text(re.compile(rf"^({rows}|{rows:,})$")).first).to_be_visible()
        settle()
        _browser.screenshot(page, "lineage_ui_spolisbus")

        # --- its lineage: the downstream core asset ---------------------------------------------------------
        page.goto(url + "/assets/sources/SPOLISBUS?view=lineage", wait_until="domcontentloaded")
        expect(page.get_by_text("job_months", exact=True).first).to_be_visible(timeout=UI_TIMEOUT)
        settle()
        _browser.screenshot(page, "lineage_ui_spolisbus_lineage")
        assert not page.js_errors, page.js_errors
