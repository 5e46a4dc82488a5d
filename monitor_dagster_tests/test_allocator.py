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


# ------------------------------------------------------------------------------ memory back between steps
_RELEASE_PROBE = """
import monitor_dagster, polars as pl
from monitor_dagster import allocator
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096
df = pl.DataFrame({"a": range(15_000_000)}).with_columns(pl.col("a").cast(pl.String).alias("b"))
del df
before = rss()
done = allocator.release()
print(done, before, rss())
"""


def _probe(env_extra: dict[str, str | None]) -> tuple[bool, int, int]:
    """release() in a fresh interpreter after freeing a large frame; a None value leaves the variable unset."""
    env = {k: v for k, v in {**os.environ, **env_extra}.items() if v is not None}
    out = subprocess.run([sys.executable, "-c", _RELEASE_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    done, before, after = out.stdout.split()
    return done == "True", int(before), int(after)


def test_release_returns_what_polars_freed_to_the_os():
    # a frame of about 500 MB freed: jemalloc keeps it ten seconds (the options above); release() gives it back
    done, before, after = _probe({"MONITOR_RELEASE_MEMORY": "1"})
    assert done
    assert before - after > 200e6, (before, after)


def test_release_is_off_unless_asked_for():
    for env in ({"MONITOR_RELEASE_MEMORY": None}, {"MONITOR_RELEASE_MEMORY": "0"}):
        done, before, after = _probe(env)
        assert not done
        assert before - after < 50e6, (before, after)   # the freed frame is still held by the allocator


def test_release_does_nothing_when_mallctl_cannot_be_trusted(monkeypatch):
    import struct

    real = allocator._elf_symbols
    monkeypatch.setenv("MONITOR_RELEASE_MEMORY", "1")
    # a polars build without the symbols, or whose load base does not match its symbol table: no call at all
    monkeypatch.setattr(allocator, "_mallctl", allocator._UNSET)
    monkeypatch.setattr(allocator, "_elf_symbols", lambda path, names: {})
    assert allocator.release() is False

    def truncated(path, names):
        raise struct.error("unpack_from requires a buffer of at least 64 bytes")

    monkeypatch.setattr(allocator, "_mallctl", allocator._UNSET)
    monkeypatch.setattr(allocator, "_elf_symbols", truncated)
    assert allocator.release() is False
    monkeypatch.setattr(allocator, "_mallctl", allocator._UNSET)
    monkeypatch.setattr(allocator, "_elf_symbols",
                        lambda path, names: {k: v + 16 for k, v in real(path, names).items()})
    assert allocator._find_mallctl() is None


def test_elf_symbols_of_a_file_that_is_not_elf(tmp_path):
    import struct

    import pytest

    p = tmp_path / "x.so"
    p.write_bytes(b"not an ELF file at all" * 10)
    assert allocator._elf_symbols(str(p), ("_rjem_mallctl",)) == {}
    p.write_bytes(b"\x7fELF\x02\x01" + b"\0" * 30)          # an ELF header cut short
    with pytest.raises(struct.error):                        # which release() takes as "no mallctl"
        allocator._elf_symbols(str(p), ("_rjem_mallctl",))


def test_every_written_asset_releases_memory(tmp_path, monkeypatch):
    # the IO manager's write (and the bucket steps', which use the same function) ends with release()
    import dagster as dg
    import polars as pl

    from monitor_dagster.defs import io

    calls = []
    monkeypatch.setattr(io.allocator, "release", lambda: calls.append(1) or True)
    io.write_asset(str(tmp_path), dg.AssetKey(["indicators", "x"]), "2021", pl.DataFrame({"a": [1, 2]}), "run", {})
    assert calls == [1]
