"""polars' allocator options (monitor_dagster/allocator.py): set before polars loads, the user's own keys win."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from monitor_dagster import allocator


def _jemalloc_options(user_conf: str, code: str = "import monitor_dagster, polars") -> dict[str, str]:
    """The options jemalloc ended up with in a fresh interpreter running ``code`` (jemalloc's own report at exit,
    ``stats_print``), so the test sees what the allocator applied, not what the environment says."""
    env = {**os.environ, "_RJEM_MALLOC_CONF": f"{user_conf},stats_print:true".lstrip(",")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return dict(re.findall(r"^\s+opt\.(\w+): (\S+)", out.stderr, flags=re.M))


def test_importing_the_package_first_sets_polars_allocator():
    opts = _jemalloc_options("")
    assert opts["dirty_decay_ms"] == "10000" and opts["muzzy_decay_ms"] == "10000"
    assert opts["oversize_threshold"] == "0"


def test_polars_imported_first_keeps_polars_own_settings():
    # the reason the package sets the options before anything else: afterwards they no longer apply
    opts = _jemalloc_options("", "import polars, monitor_dagster")
    assert opts["dirty_decay_ms"] == "500" and opts["oversize_threshold"] == "8388608"


def test_a_key_the_user_sets_wins():
    opts = _jemalloc_options("dirty_decay_ms:700")
    assert opts["dirty_decay_ms"] == "700"
    assert opts["oversize_threshold"] == "0"       # the keys the user left alone stay the package's


def test_configure_is_idempotent_and_says_whether_it_applies():
    env = {"_RJEM_MALLOC_CONF": "narenas:2"}
    assert allocator.configure(env) is False      # polars is imported in this test process
    allocator.configure(env)
    assert env["_RJEM_MALLOC_CONF"] == allocator.JEMALLOC_OPTIONS + ",narenas:2"
