"""Headless Debian Chromium driven by Playwright, shared by the browser tests (lineage UI, publication).

No browser download: Playwright launches ``/usr/bin/chromium`` (Debian package ``chromium``, installed by
``.ci/run``).  Outside CI a missing Chromium skips the test with a visible reason; in CI (``CI`` set) it is
a failure, so a broken install can never pass as a skip.  Flags: the machine has no outside network, and
Chromium's background services would otherwise try (and fail) to reach Google at every start.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from monitor_dagster_tests._env import unavailable

CHROMIUM = os.environ.get("MONITOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
#: screenshots and other artefacts a reader can open after the run (kept out of pytest's tmp dirs)
OUTPUT = Path(os.environ.get("MONITOR_TEST_OUTPUT", Path(__file__).resolve().parents[1] / "test_output"))


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    msg = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium), as .ci/run does"
    unavailable(msg)


@contextmanager
def browser_page(*, offline: bool = False, viewport=(1400, 900)):
    """A fresh Playwright page in headless Chromium; ``offline`` cuts the network (file:// still loads)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                          accept_downloads=True, offline=offline)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.js_errors = errors   # tests assert the page ran without script errors
            yield page
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
