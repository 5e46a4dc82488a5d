"""Prerequisites from outside Python (PostgreSQL server, Debian chromium) that `.ci/run` installs."""

from __future__ import annotations

import os

import pytest


def unavailable(msg: str) -> None:
    """Skip with the reason outside CI; fail in CI (``CI`` set), so a broken install never passes as a skip."""
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)
