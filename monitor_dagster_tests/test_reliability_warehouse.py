"""Fault-injection cases of issue 15, part A: warehouse integrity (docs/reliability_warehouse.md).

* verified reads: a stored file changed after it was written (a decodable tampered parquet, flipped bytes) in
  a source, a core and the indicator-table partition stops ``run`` / ``export`` / ``publish`` with exit 1 and a
  message naming the file and ``monitor repair``; ``monitor repair`` restores;
* cleanup covers every layer (sources, core, indicators);
* a year's derived partitions are replaced as a whole: a failure (disk full) halfway through the core of a year,
  or a run killed halfway, leaves the previous complete year;
* disk-full and read-only storage end with one line naming the path and the cause, no traceback.

Each case states the fault, the exit code and message, and the warehouse tree hash before and after.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

import monitor_dagster.warehouse as WH
from monitor_dagster.cli import app
from monitor_dagster.runner import run_pipeline
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse
from monitor_dagster_tests._reliability import tree_diff, tree_files, tree_hash

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


# ------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(autouse=True)
def _own_dagster_home(tmp_path, monkeypatch):
    """The CLI runs on the instance of DAGSTER_HOME: a temporary one, never the project's .dagster_home."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """200 persons, 2019, parquet, through sources, core and indicators once (a temporary instance); each test
    works on its own copy (:func:`copy_of`)."""
    root = tmp_path_factory.mktemp("integrity")
    res = generate(SynthConfig(landing=root / "landing", persons=200, first_year=2019, last_year=2019, seed=4,
                               fmt="parquet"))
    with dg.instance_for_test() as inst:
        s = run_pipeline(res.config.landing, root / "wh", instance=inst, layers=("sources", "core", "indicators"))
    assert s.ok, [o.message for o in s.outcomes if not o.ok]
    return res.config.landing, root / "wh"


def copy_of(built, tmp_path: Path) -> tuple[Path, Path]:
    landing, wh = built
    shutil.copytree(wh, tmp_path / "wh")
    return landing, tmp_path / "wh"


def data_file(wh: Path, layer: str, entry: str, part: str) -> Path:
    cur = json.loads((wh / layer / entry / part / "CURRENT").read_text())
    return wh / layer / entry / part / cur["version"] / "data.parquet"


def tamper(path: Path) -> None:
    """Rewrite the file as a valid parquet with other values (decodable: before verified reads nothing noticed)."""
    df = pl.read_parquet(path)
    num = [c for c, t in df.schema.items() if t.is_float() or (t.is_integer() and c not in ("person_id", "year"))]
    df = df.with_columns(pl.col(num[-1]) + 1) if num else df.with_columns(pl.all().reverse())
    mtime = path.stat().st_mtime_ns
    df.write_parquet(path, compression="zstd", statistics=True)
    os.utime(path, ns=(mtime, mtime))       # the same mtime: only the content says it changed


def flip_bytes(path: Path, n: int = 8) -> None:
    b = bytearray(path.read_bytes())
    i = len(b) // 2
    for k in range(i, i + n):
        b[k] ^= 0xFF
    path.write_bytes(bytes(b))


def one_line_error(output: str) -> str:
    """The CLI's error/FAILED text, joined over the console's soft wraps."""
    return " ".join(output.split())


def frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"person_id": list(range(n)), "v": [float(i) for i in range(n)]})


# ------------------------------------------------------------------------------------------------ verified reads (units)
def test_every_write_carries_a_checksum_and_a_changed_file_is_refused(tmp_path, caplog):
    """Fault: a stored file rewritten (decodable) or with flipped bytes -> read raises WarehouseCorrupt naming
    layer/entry/partition, the version, the file and `monitor repair`; nothing is read from it."""
    w = Warehouse(tmp_path / "wh", layer="core")
    path = w.write("population", "2019", frame(50), {"rows": 50}) / "data.parquet"
    man = w.manifest("population", "2019")
    assert man[WH.CHECKSUM] == WH.file_sha256(path)
    assert json.loads((path.parent / "manifest.json").read_text())[WH.CHECKSUM] == man[WH.CHECKSUM]
    assert w.read("population", "2019").collect().equals(frame(50))

    tamper(path)
    WH._VERIFIED.clear()          # a new process (the writer's process trusts its own stat-identical file)
    with pytest.raises(WH.WarehouseCorrupt) as exc:
        w.read("population", "2019")
    msg = str(exc.value)
    assert "core/population/2019" in msg and path.parent.name in msg and str(path) in msg
    assert "does not match its checksum" in msg and "monitor repair --warehouse" in msg and "\n" not in msg

    flip_bytes(path)
    with pytest.raises(WH.WarehouseCorrupt, match="core/population/2019"):
        w.read("population", "2019")
    path.unlink()
    with pytest.raises(WH.WarehouseCorrupt, match="data file is missing"):
        w.read("population", "2019")


def test_verification_is_cached_per_file_and_redone_when_the_file_changes(tmp_path, monkeypatch):
    """A 1 GB file is hashed once per process, not on every lazy scan; a rewritten file is hashed again."""
    w = Warehouse(tmp_path / "wh", layer="core")
    path = w.write("job_months", "2019", frame(20), {"rows": 20}) / "data.parquet"
    calls = []
    real = WH.file_sha256
    monkeypatch.setattr(WH, "file_sha256", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        w.read("job_months", "2019")
    assert calls == []                    # the writer's own checksum primed the cache
    WH._VERIFIED.clear()
    w.read("job_months", "2019")
    w.read("job_months", "2019")
    assert len(calls) == 1
    flip_bytes(path)
    with pytest.raises(WH.WarehouseCorrupt):
        w.read("job_months", "2019")


def test_a_manifest_from_before_checksums_is_read_with_one_warning_and_repair_adds_it(tmp_path, caplog):
    """Manifests written before verified reads have no checksum: read (not verified), one warning per process
    and warehouse; `monitor repair --checksum` adds them, after which a change is caught."""
    w = Warehouse(tmp_path / "wh")
    path = w.write("INPATAB", "2019", frame(5), {"release_id": "INPATAB2019V1", "sha256": "ab" * 32}) / "data.parquet"
    pdir = path.parent.parent
    for f in (pdir / "CURRENT", path.parent / "manifest.json"):     # as an old writer left it
        doc = json.loads(f.read_text())
        (doc.get("manifest") if "manifest" in doc else doc).pop(WH.CHECKSUM)
        f.write_text(json.dumps(doc))
    WH._VERIFIED.clear()
    WH._UNVERIFIED_WARNED.clear()
    with caplog.at_level("WARNING", logger=WH.__name__):
        assert w.read("INPATAB", "2019").collect().height == 5
        w.read("INPATAB", "2019")
    assert caplog.text.count("written before checksums") == 1 and "monitor repair --checksum" in caplog.text

    r = runner.invoke(app, ["repair", "--warehouse", str(tmp_path / "wh")])
    assert r.exit_code == 0 and "1 partition(s) without checksum" in one_line_error(r.output), r.output
    r = runner.invoke(app, ["repair", "--warehouse", str(tmp_path / "wh"), "--checksum"])
    assert r.exit_code == 0 and "checksum added" in r.output, r.output
    assert w.manifest("INPATAB", "2019")[WH.CHECKSUM] == WH.file_sha256(path)
    tamper(path)
    with pytest.raises(WH.WarehouseCorrupt):
        w.read("INPATAB", "2019")


# ------------------------------------------------------------------------------------------------ verified reads (pipeline)
def test_source_changed_after_ingest_stops_the_run_and_repair_restores(built, tmp_path):
    """Fault: sources/INPATAB/2019 rewritten with other values (decodable). Before: `monitor run` computed
    from it and exited 0. Now: exit 1, 'FAILED INPATAB 2019: sources/INPATAB/2019 ... does not match its
    checksum ... monitor repair', nothing derived, warehouse unchanged; `monitor repair` removes the damaged
    version and the next run re-ingests it from the landing zone."""
    landing, wh = copy_of(built, tmp_path)
    f = data_file(wh, "sources", "INPATAB", "2019")
    good = pl.read_parquet(f)
    tamper(f)
    before = tree_files(wh)
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB"])
    text = one_line_error(r.output)
    assert r.exit_code == 1, r.output
    assert "FAILED INPATAB 2019: sources/INPATAB/2019 version" in text and "does not match its checksum" in text
    assert f"monitor repair --warehouse {wh}" in text and "Traceback" not in r.output
    assert tree_files(wh) == before, tree_diff(before, tree_files(wh))

    r = runner.invoke(app, ["repair", "--warehouse", str(wh), "--dry-run"])
    assert r.exit_code == 1 and "would be: damaged version removed" in one_line_error(r.output), r.output
    assert tree_files(wh) == before
    r = runner.invoke(app, ["repair", "--warehouse", str(wh)])
    assert r.exit_code == 0 and "re-ingests it from the landing zone" in one_line_error(r.output), r.output
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB",
                            "--layers", "sources"])
    assert r.exit_code == 0, r.output
    assert Warehouse(wh).read("INPATAB", "2019").collect().equals(good)
    r = runner.invoke(app, ["repair", "--warehouse", str(wh)])
    assert r.exit_code == 0 and "every stored file matches its checksum" in one_line_error(r.output), r.output


def test_core_partition_with_flipped_bytes_stops_the_indicators_and_repair_restores(built, tmp_path):
    """Fault: 8 flipped bytes in core/population/2019. `monitor run --layers indicators`: exit 1, each family
    that reads it 'FAILED ...: core/population/2019 version ... does not match its checksum'; the families that
    had been written in that job are put back (warehouse unchanged); `monitor repair` removes the damaged
    version and `monitor run --layers core` rebuilds it."""
    landing, wh = copy_of(built, tmp_path)
    f = data_file(wh, "core", "population", "2019")
    good = pl.read_parquet(f)
    flip_bytes(f)
    before = tree_files(wh)
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB",
                            "--layers", "indicators"])
    text = one_line_error(r.output)
    assert r.exit_code == 1, r.output
    assert "FAILED indicators/" in text and ": core/population/2019 version" in text
    assert "does not match its checksum" in text and "Traceback" not in r.output
    assert "Error occurred while loading input" not in r.output
    assert tree_files(wh) == before, tree_diff(before, tree_files(wh))

    r = runner.invoke(app, ["repair", "--warehouse", str(wh)])
    assert r.exit_code == 0 and "core/population/2019" in r.output and "rebuilds it" in one_line_error(r.output)
    assert Warehouse(wh, layer="core").manifest("population", "2019") is None
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB",
                            "--layers", "core", "--years", "2019"])
    assert r.exit_code == 0, r.output
    rebuilt = Warehouse(wh, layer="core").read("population", "2019").collect()
    assert rebuilt.sort(rebuilt.columns).equals(good.sort(good.columns))     # row order: part D (determinism)


def test_indicator_table_changed_is_neither_exported_nor_published_and_repair_restores(built, tmp_path):
    """Fault: indicators/indicator_table/all rewritten with other values (decodable). Before: export and
    publish wrote the wrong values, exit 0. Now: both exit 1 naming the partition and `monitor repair`, write
    nothing, warehouse unchanged; `monitor repair --previous` points to the kept good version."""
    _, wh = copy_of(built, tmp_path)
    w = Warehouse(wh, layer="indicators")
    good = w.read("indicator_table", "all").collect()
    w.write("indicator_table", "all", good, {"rows": good.height})     # a second version: the first is kept
    f = data_file(wh, "indicators", "indicator_table", "all")
    tamper(f)
    before = tree_files(wh)
    out = tmp_path / "table.csv"
    r = runner.invoke(app, ["export", "--warehouse", str(wh), "--out", str(out)])
    text = one_line_error(r.output)
    assert r.exit_code == 1 and "indicators/indicator_table/all version" in text, r.output
    assert "does not match its checksum" in text and "monitor repair" in text and not out.exists()
    site = tmp_path / "site"
    r = runner.invoke(app, ["publish", "--warehouse", str(wh), "--site", str(site)])
    text = one_line_error(r.output)
    assert r.exit_code == 1 and "indicators/indicator_table/all version" in text, r.output
    assert "does not match its checksum" in text and "Error occurred while" not in text and not site.exists()
    assert tree_files(wh) == before, tree_diff(before, tree_files(wh))

    r = runner.invoke(app, ["repair", "--warehouse", str(wh), "--dry-run"])
    assert r.exit_code == 1 and "would be: damaged version removed; partition removed" in one_line_error(r.output)
    r = runner.invoke(app, ["repair", "--warehouse", str(wh), "--previous"])
    assert r.exit_code == 0 and "now points to kept version" in one_line_error(r.output), r.output
    r = runner.invoke(app, ["export", "--warehouse", str(wh), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert pl.read_csv(out).height == good.height


# ------------------------------------------------------------------------------------------------ cleanup
def test_cleanup_covers_every_layer(built, tmp_path):
    """Fault: temp folders and CURRENT.tmp left by a crash (or a full disk) in sources, core and indicators.
    Before: only sources/ was cleaned (11 left after one disk-full run). Now: the next run removes all."""
    landing, wh = copy_of(built, tmp_path)
    good = tree_files(wh)
    left = []
    for layer, entry, part in (("sources", "INPATAB", "2019"), ("core", "job_months", "2019"),
                               ("indicators", "income", "2019"), ("indicators", "indicator_table", "all")):
        pdir = wh / layer / entry / part
        (pdir / ".tmp-deadbeef").mkdir()
        (pdir / ".tmp-deadbeef" / "data.parquet").write_bytes(b"half")
        (pdir / "CURRENT.tmp").write_text("{")
        left += [pdir / ".tmp-deadbeef", pdir / "CURRENT.tmp"]
    with dg.instance_for_test() as inst:
        s = run_pipeline(landing, wh, instance=inst, select=["INPATAB"], layers=("sources",))
    assert s.ok
    assert sorted(s.orphans_removed) == sorted(map(str, left))
    assert tree_files(wh) == good


# ------------------------------------------------------------------------------------------------ atomic years
def _fail_on_nth_year_write(monkeypatch, n: int, layer: str = "core", year: str = "2019"):
    """Disk full on the n-th write of a ``layer`` partition of ``year``: the OSError a full disk gives."""
    real = Warehouse.write_with
    seen = []

    def failing(self, entry, partition, produce, manifest):
        if self.layer == layer and str(partition) == year:
            seen.append(self.partition_dir(entry, partition))
            if len(seen) == n:
                def full(path):
                    Path(path).write_bytes(b"PAR1")
                    raise OSError(errno.ENOSPC, "No space left on device", str(path))
                return real(self, entry, partition, full, manifest)
        return real(self, entry, partition, produce, manifest)

    monkeypatch.setattr(Warehouse, "write_with", failing)
    return seen


def test_disk_full_halfway_through_the_core_of_a_year_leaves_the_previous_year(built, tmp_path, monkeypatch):
    """Fault: ENOSPC on the 3rd core table of 2019. Before: two tables of 2019 new, the rest old (a mix of
    vintages), the cause buried in 'Error occurred while handling output'. Now: exit 1, 'FAILED core/...: cannot
    write core/<table>/2019 at <path>: no space left on device (ENOSPC); the previous version stays current',
    every partition of 2019 as before, no temporary folder, a note that the run's partitions were put back."""
    landing, wh = copy_of(built, tmp_path)
    year = {k: v for k, v in tree_files(wh).items() if "/2019/" in k and not k.startswith("sources/")}
    seen = _fail_on_nth_year_write(monkeypatch, 3)
    r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB",
                            "--layers", "core", "--years", "2019"])
    text = one_line_error(r.output)
    assert r.exit_code == 1, r.output
    failed = seen[2]
    assert f"cannot write core/{failed.parent.name}/2019 at {failed}: no space left on device (ENOSPC)" in text
    assert "the previous version stays current" in text and "Traceback" not in r.output
    assert "Error occurred while handling output" not in text
    assert "were put back to their previous versions" in text
    after = {k: v for k, v in tree_files(wh).items() if "/2019/" in k and not k.startswith("sources/")}
    assert after == year, tree_diff(year, after)
    assert not [p for p in wh.rglob(".tmp-*")] and not list((wh / WH.JOURNALS).glob("*.json"))


def test_a_run_killed_halfway_through_a_year_is_rolled_back_at_the_next_start(tmp_path):
    """Fault: the process dies (os._exit) after replacing two partitions of a year inside its journal.
    Now: the next start (recover_journals, called by every run) puts both back byte for byte."""
    wh = tmp_path / "wh"
    w = Warehouse(wh, layer="core")
    w.write("population", "2019", frame(3), {"rows": 3, "vintages": "A"})
    w.write("job_months", "2019", frame(4), {"rows": 4, "vintages": "A"})
    before = tree_hash(wh)
    script = f"""
import os, polars as pl
from monitor_dagster.warehouse import Journal, Warehouse
w = Warehouse({str(wh)!r}, layer="core")
j = Journal({str(wh)!r}, "outcome_indicators_yearly-2019").__enter__()
w.write("population", "2019", pl.DataFrame({{"person_id": [9]}}), {{"rows": 1, "vintages": "B"}})
w.write("job_months", "2019", pl.DataFrame({{"person_id": [9]}}), {{"rows": 1, "vintages": "B"}})
os._exit(9)
"""
    p = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 9, p.stderr
    assert w.manifest("population", "2019")["vintages"] == "B"      # the killed run's half-year
    lines = WH.recover_journals(wh)
    assert len(lines) == 2 and all("put back the version before the interrupted run" in x for x in lines)
    assert w.manifest("population", "2019")["vintages"] == "A" and w.read("job_months", "2019").collect().height == 4
    assert WH.cleanup_warehouse(wh) == []
    assert tree_hash(wh) == before


def test_a_journal_of_a_running_job_is_left_alone(tmp_path):
    """A parallel run's journal (lock held) is not rolled back by another run's start."""
    wh = tmp_path / "wh"
    w = Warehouse(wh, layer="core")
    w.write("population", "2019", frame(3), {"rows": 3})
    with WH.Journal(wh, "running") as j:
        w.write("population", "2019", frame(5), {"rows": 5})
        assert j.path.is_file()
        assert WH.recover_journals(wh) == []
    assert w.read("population", "2019").collect().height == 5 and not j.path.exists()
    assert len(w.versions("population", "2019")) == 2


# ------------------------------------------------------------------------------------------------ storage errors
def test_read_only_warehouse_ends_with_one_line(built, tmp_path, monkeypatch):
    """Fault: the warehouse is read-only. Before: a 62-line traceback. Now: exit 1, one line 'cannot write
    <path>: read-only file system (EROFS); ... check the mount and the permissions', nothing changed.
    Tests may run as root, where chmod does not stop writes: then the EROFS is injected at os.open."""
    landing, wh = copy_of(built, tmp_path)
    before = tree_hash(wh)
    real_open = os.open
    if os.geteuid() == 0:
        def ro_open(path, flags, *a, **kw):
            if str(path).startswith(str(wh)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real_open(path, flags, *a, **kw)
        monkeypatch.setattr(os, "open", ro_open)
    else:                                                                  # pragma: no cover - non-root CI
        for p in [wh, *wh.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
    try:
        r = runner.invoke(app, ["run", "--landing", str(landing), "--warehouse", str(wh), "--select", "INPATAB"])
    finally:
        monkeypatch.setattr(os, "open", real_open)
        if os.geteuid() != 0:                                              # pragma: no cover
            for p in [wh, *wh.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)
    text = one_line_error(r.output)
    assert r.exit_code == 1, r.output
    assert f"cannot write {wh}" in text
    assert ("read-only file system (EROFS)" in text or "permission denied (EACCES)" in text), text
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1 and r.output.strip().startswith("error:")
    assert tree_hash(wh) == before


def test_disk_full_in_a_write_outside_the_layers_names_the_folder(tmp_path):
    """The Data Docs of the expectations gate are written by GE, whose OSErrors carry no path: the gate names
    <warehouse>/gx, so the run's message says where."""
    from monitor_dagster.gates import expectations as X

    @X._name_the_folder
    def validate(docs_dir=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as exc:
        validate(docs_dir=tmp_path)
    assert exc.value.filename == str(tmp_path / "gx") and exc.value.errno == errno.ENOSPC


def test_error_message_unwraps_dagster_and_names_path_and_cause():
    """'Error occurred while handling output' is replaced by its cause; a plain OSError by one line."""
    from dagster._utils.error import SerializableErrorInfo

    from monitor_dagster.runner import error_message

    cause = SerializableErrorInfo("OSError: [Errno 28] No space left on device: '/wh/gx'\n", [], "OSError")
    wrapped = SerializableErrorInfo("dagster._core.errors.DagsterExecutionHandleOutputError: Error occurred while "
                                    "handling output \"result\" of step \"x\":\n", [], "DagsterExecutionHandleOutputError",
                                    cause)
    msg = error_message(wrapped)
    assert msg.startswith("cannot write /wh/gx: no space left on device (ENOSPC)") and "\n" not in msg
    ours = SerializableErrorInfo("monitor_dagster.warehouse.WarehouseWriteError: cannot write core/x/2019 at /p: "
                                 "no space left on device (ENOSPC); ...\n", [], "WarehouseWriteError")
    assert error_message(SerializableErrorInfo("dagster._core.errors.DagsterExecutionHandleOutputError: x\n", [],
                                               "DagsterExecutionHandleOutputError", ours)).startswith("cannot write core/x/2019")


def test_storage_error_in_a_polars_write_is_a_warehouse_write_error(tmp_path):
    """polars reports a full disk as ComputeError '... (os error 28)': the warehouse names partition and path."""
    import polars.exceptions as PE

    def produce(path):
        raise PE.ComputeError("parquet: File out of specification: underlying IO error: No space left on device "
                              "(os error 28)")

    w = Warehouse(tmp_path / "wh", layer="core")
    w.write("population", "2019", frame(3), {"rows": 3})
    before = tree_hash(tmp_path / "wh")
    with pytest.raises(WH.WarehouseWriteError) as exc:
        w.write_with("population", "2019", produce, {})
    assert str(exc.value).startswith(f"cannot write core/population/2019 at {tmp_path / 'wh/core/population/2019'}: "
                                     "no space left on device (ENOSPC); the previous version stays current")
    assert tree_hash(tmp_path / "wh") == before
