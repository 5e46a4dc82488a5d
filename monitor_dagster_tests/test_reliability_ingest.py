"""Fault-injection cases of the ingest (issue 15, part B; docs/reliability_ingest.md): each case injects one fault
into a landing zone whose files were ingested before, runs ``monitor`` as an operator would, and states the exit
code, the words of the message and the warehouse before and after (``_reliability.tree_hash``).

Cases: an older version (V1 after V2, an older cumulative release) never silently replaces the ingested newer one;
``--allow-older`` rolls back on request; a latin-1 copy is refused under the default UTF-8 (file, line, byte,
column) and read correctly when the catalog declares its encoding; a ``,``-separated copy is named as such; an
unknown column is dropped and reported as a WARN.  Small synthetic CSV zone, a temporary DAGSTER_HOME.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from monitor_dagster.catalog import PROJECT_CATALOG
from monitor_dagster.cli import app
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse
from monitor_dagster_tests._reliability import tree_diff, tree_files, tree_hash

runner = CliRunner()
FILES = ("INPATAB", "SECMBUS", "LANDAKTUEELREF")
CSV = "geconverteerde data"
INPA = "InkomenBestedingen/INPATAB/" + CSV
SECM = "InkomenBestedingen/SECMBUS/" + CSV
LAND = "Utilities/Code_Listings/SSBreferentiebestanden/" + CSV + "/LANDAKTUEELREFV1.csv"   # the code-listings share


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """INPATAB (2019 V1, 2020 V1+V2), SECMBUS (cumulative: 2019 V1+V2, 2020 V1) and LANDAKTUEELREF as CBS CSV
    copies; 200 persons."""
    root = tmp_path_factory.mktemp("rel_ingest")
    return generate(SynthConfig(landing=root / "landing", persons=200, first_year=2019, last_year=2020, seed=3,
                                fmt="csv", only_files=FILES))


@pytest.fixture
def env(zone, tmp_path, monkeypatch):
    """A private copy of the zone, an empty warehouse, a temporary DAGSTER_HOME."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    landing = tmp_path / "landing"
    shutil.copytree(zone.config.landing, landing)
    return landing, tmp_path / "wh"


def _flat(text: str) -> str:
    """The output with rich's line wrapping undone (one space between words)."""
    return " ".join(text.split())


def monitor(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, _flat(r.output)


def run(landing: Path, wh: Path, select: str, *extra: str) -> tuple[int, str]:
    return monitor("run", "--landing", landing, "--warehouse", wh, "--select", select, "--layers", "sources", *extra)


def status(landing: Path, wh: Path) -> str:
    code, out = monitor("status", "--landing", landing, "--warehouse", wh, "--today", "2021-06-30")
    assert code == 0, out
    return out


def _catalog_with(tmp_path: Path, entry: str, **fields) -> Path:
    """A copy of the project's catalog with extra fields on one entry (e.g. csv: {encoding: latin-1})."""
    raw = yaml.safe_load(PROJECT_CATALOG.read_text(encoding="utf-8"))
    raw["files"][entry].update(fields)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime + 60, st.st_mtime + 60))


# ------------------------------------------------------------------------------------ no silent rollback
def test_v1_copied_back_after_v2_is_skipped_not_ingested(env, tmp_path):
    """Fault: V2 ingested, V2 removed from the landing zone, V1 copied back.  Before issue 15: V1 re-ingested, exit
    0, empty note.  Now: exit 0, the warehouse is unchanged (hash), run summary and status say why V1 was skipped
    and how to roll back on purpose; ``--allow-older INPATAB2020V1`` does it, and says so."""
    landing, wh = env
    code, out = run(landing, wh, "INPATAB")
    assert code == 0, out
    w = Warehouse(wh)
    assert w.manifest("INPATAB", "2020")["release_id"] == "INPATAB2020V2"

    v1, v2 = landing / INPA / "INPA2020TABV1.csv", landing / INPA / "INPA2020TABV2.csv"
    v1_bytes = v1.read_bytes()
    v2.unlink()
    v1.unlink()
    v1.write_bytes(v1_bytes)          # copied back: a fresh mtime
    before = tree_files(wh)
    code, out = run(landing, wh, "INPATAB")
    assert code == 0, out
    assert tree_files(wh) == before, tree_diff(before, tree_files(wh))
    assert w.manifest("INPATAB", "2020")["release_id"] == "INPATAB2020V2"
    assert "SKIPPED INPATAB 2020" in out, out
    assert "INPATAB2020V1 is older than the ingested INPATAB2020V2" in out, out
    assert "--allow-older INPATAB2020V1" in out, out

    st = status(landing, wh)
    assert "INPATAB2020V1 is older than the ingested INPATAB2020V2: not ingested" in st, st
    assert "--allow-older INPATAB2020V1" in st, st

    # the explicit rollback
    code, out = run(landing, wh, "INPATAB", "--allow-older", "INPATAB2020V1")
    assert code == 0, out
    man = w.manifest("INPATAB", "2020")
    assert man["release_id"] == "INPATAB2020V1" and man["rolled_back_from"] == "INPATAB2020V2"
    assert "rolled back INPATAB2020V2 to INPATAB2020V1 (--allow-older)" in out, out
    # the 2019 partition, not named by the flag, is unchanged
    assert w.manifest("INPATAB", "2019")["release_id"] == "INPATAB2019V1"


def test_allow_older_takes_the_named_version_even_when_the_newer_one_is_still_landed(env):
    landing, wh = env
    assert run(landing, wh, "INPATAB")[0] == 0
    code, out = run(landing, wh, "INPATAB", "--allow-older", "INPATAB2020V1")
    assert code == 0, out
    assert Warehouse(wh).manifest("INPATAB", "2020")["release_id"] == "INPATAB2020V1"
    # the next ordinary run brings the landed V2 back (documented: remove V2 to keep the rollback)
    code, out = run(landing, wh, "INPATAB")
    assert code == 0, out
    assert Warehouse(wh).manifest("INPATAB", "2020")["release_id"] == "INPATAB2020V2"


def test_allow_older_names_a_release_that_exists(env):
    landing, wh = env
    code, out = run(landing, wh, "INPATAB", "--allow-older", "INPATAB2020V7")
    assert code == 2, out
    assert "--allow-older INPATAB2020V7" in out and "not landed" in out, out
    code, out = run(landing, wh, "INPATAB", "--allow-older", "NOSUCHFILE2020V1")
    assert code == 2 and "NOSUCHFILE2020V1" in out, out
    # a landed release this run would not ingest: refused too (an explicit rollback is never a silent no-op)
    code, out = run(landing, wh, "SECMBUS", "--allow-older", "INPATAB2020V1")
    assert code == 2 and "INPATAB is not in --select SECMBUS" in out, out
    code, out = run(landing, wh, "INPATAB", "--years", "2019", "--allow-older", "INPATAB2020V1")
    assert code == 2 and "2020 is outside --years 2019-2019" in out, out
    assert Warehouse(wh).manifest("INPATAB", "2020") is None


def test_older_cumulative_release_is_skipped(env):
    """Fault: SECMBUS 2020V1 (cumulative) ingested, then removed: the newest landed release is 2019V2."""
    landing, wh = env
    assert run(landing, wh, "SECMBUS")[0] == 0
    w = Warehouse(wh)
    assert w.manifest("SECMBUS", "latest")["release_id"] == "SECMBUS2020V1"
    (landing / SECM / "SECMBUS2020V1.csv").unlink()
    h = tree_hash(wh)
    code, out = run(landing, wh, "SECMBUS")
    assert code == 0, out
    assert tree_hash(wh) == h
    assert "SECMBUS2019V2 is older than the ingested SECMBUS2020V1" in out, out
    st = status(landing, wh)
    assert "SECMBUS2019V2 is older than the ingested SECMBUS2020V1: not ingested" in st, st


# ------------------------------------------------------------------------------------------- encodings
def _as_latin1(path: Path) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))


def test_latin1_copy_is_refused_under_utf8_with_line_byte_and_column(env):
    """Fault: LANDAKTUEELREF re-delivered as a latin-1 copy (a corrected V1 with other bytes).  Before issue 15:
    ingested as mojibake ('Cura\ufffdao'), exit 0.  Now: exit 1 naming the file, the first bad line, byte and
    column, and the catalog setting; the warehouse keeps the good version (hash)."""
    landing, wh = env
    assert run(landing, wh, "LANDAKTUEELREF")[0] == 0
    f = landing / LAND
    text = f.read_text(encoding="utf-8")
    _as_latin1(f)
    _touch_later(f)
    lines = text.split("\n")
    n = next(i for i, line in enumerate(lines, 1) if any(ord(c) > 127 for c in line))
    col = next(i for i, x in enumerate(lines[n - 1].split(";")) if any(ord(c) > 127 for c in x))
    name = lines[0].split(";")[col]
    byte = len("\n".join(lines[: n - 1]).encode("latin-1")) + 1 + next(
        i for i, c in enumerate(lines[n - 1]) if ord(c) > 127)
    h = tree_hash(wh)
    code, out = run(landing, wh, "LANDAKTUEELREF")
    assert code == 1, out
    assert tree_hash(wh) == h
    assert "FAILED LANDAKTUEELREF" in out and "LANDAKTUEELREFV1.csv" in out, out
    assert f"column {name}: not valid UTF-8 at line {n} (byte offset {byte:,})" in out, out
    assert "encoding" in out and "data_catalog.yaml" in out, out


def test_latin1_copy_is_read_correctly_when_declared(env, tmp_path):
    landing, wh = env
    f = landing / LAND
    good = pl.read_csv(f, separator=";", infer_schema=False)
    _as_latin1(f)
    cat = _catalog_with(tmp_path, "LANDAKTUEELREF", csv={"encoding": "latin-1"})
    code, out = run(landing, wh, "LANDAKTUEELREF", "--catalog", cat)
    assert code == 0, out
    got = Warehouse(wh).read("LANDAKTUEELREF", "all").collect()
    assert got["LANDOMSCHRIJVING"].to_list() == good["LANDOMSCHRIJVING"].to_list()
    assert "Curaçao" in got["LANDOMSCHRIJVING"].to_list()
    assert got["LANDGROEPMONITOR"].to_list() == good["LANDGROEPMONITOR"].to_list()


def test_utf8_copy_declared_as_cp1252_is_refused(env, tmp_path):
    """The reverse mistake would give 'CuraÃ§ao': a file that is valid UTF-8 with non-ASCII text is refused when
    the catalog declares a one-byte encoding."""
    landing, wh = env
    cat = _catalog_with(tmp_path, "LANDAKTUEELREF", csv={"encoding": "cp1252"})
    code, out = run(landing, wh, "LANDAKTUEELREF", "--catalog", cat)
    assert code == 1, out
    assert "looks like UTF-8" in out and "cp1252" in out, out
    assert Warehouse(wh).manifest("LANDAKTUEELREF", "all") is None


# ------------------------------------------------------------------------------------------- separator
def test_comma_separated_copy_is_named_as_such(env):
    """Fault: INPATAB 2019 re-exported with ',' instead of ';'.  Before issue 15: five 'required column missing'
    lines.  Now: one line naming the separator; the warehouse keeps the previous version (hash)."""
    landing, wh = env
    assert run(landing, wh, "INPATAB", "--years", "2019")[0] == 0
    f = landing / INPA / "INPA2019TABV1.csv"
    df = pl.read_csv(f, separator=";", infer_schema=False)
    df.write_csv(f, separator=",", null_value="")
    _touch_later(f)
    h = tree_hash(wh)
    code, out = run(landing, wh, "INPATAB", "--years", "2019")
    assert code == 1, out
    assert tree_hash(wh) == h
    assert "required column missing" not in out, out
    assert "separated by ',' instead of ';'" in out, out
    assert "1 schema failure" in out, out


# ------------------------------------------------------------------------------------------ unknown columns
def test_unknown_column_is_dropped_and_reported_as_warn(env):
    """Fault: an INPATAB copy with a column the catalog does not know.  Before issue 15: stored silently.  Now:
    ingested without it (rule: dropped), a WARN line in the run summary, the manifest and ``status`` list it."""
    landing, wh = env
    f = landing / INPA / "INPA2019TABV1.csv"
    df = pl.read_csv(f, separator=";", infer_schema=False)
    df.with_columns(pl.lit("x").alias("EXTRAKOLOM")).write_csv(f, separator=";", null_value="")
    code, out = run(landing, wh, "INPATAB", "--years", "2019")
    assert code == 0, out
    assert "WARN" in out and "EXTRAKOLOM" in out and "not in the catalog" in out and "dropped" in out, out
    w = Warehouse(wh)
    assert "EXTRAKOLOM" not in w.read("INPATAB", "2019").collect_schema().names()
    man = w.manifest("INPATAB", "2019")
    assert man["extra_columns"] == ["EXTRAKOLOM"]
    assert any("EXTRAKOLOM" in x for x in man["warnings"])
    st = status(landing, wh)
    assert "unknown column dropped: EXTRAKOLOM" in st, st


def test_manifest_records_no_extra_columns_for_a_clean_file(env):
    landing, wh = env
    assert run(landing, wh, "INPATAB", "--years", "2019")[0] == 0
    man = Warehouse(wh).manifest("INPATAB", "2019")
    assert man["extra_columns"] == [] and man["warnings"] == []
    assert json.loads(json.dumps(man)) == man


# ------------------------------------------------------------------------------------ a copy in progress
def test_a_file_that_grows_while_it_is_read_is_refused_and_the_warehouse_kept(env, monkeypatch):
    """`monitor run` (Remote Access, no sensor to wait for a copy to settle) read a CSV that was still being copied
    and made it CURRENT (an audit of December 2026).  A file whose size or time changes during the ingest is
    refused; the warehouse keeps its version; once the copy is done the run ingests it."""
    from monitor_dagster.ingest import release as REL

    landing, wh = env
    assert run(landing, wh, "INPATAB")[0] == 0
    before = tree_hash(wh)
    v3 = landing / INPA / "INPA2020TABV3.csv"
    shutil.copy(landing / INPA / "INPA2020TABV2.csv", v3)
    real = REL.ingest_file

    def copying(path, *a, **kw):            # the copy goes on while the ingest reads
        out = real(path, *a, **kw)
        with open(path, "ab") as fh:
            fh.write(b"")
        os.utime(path, None)
        st = Path(path).stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        return out

    monkeypatch.setattr(REL, "ingest_file", copying)
    code, out = run(landing, wh, "INPATAB")
    assert code != 0 and "INPATAB2020V3" in out and "changed while it was read" in out and "still being copied" in out
    assert tree_hash(wh) == before
    monkeypatch.setattr(REL, "ingest_file", real)
    code, out = run(landing, wh, "INPATAB")
    assert code == 0 and Warehouse(wh).manifest("INPATAB", "2020")["release_id"] == "INPATAB2020V3"


def test_a_cumulative_release_that_shrinks_is_refused_unless_named(env):
    """A cumulative release holds the earlier periods too: SECMBUS 2020V2 with half the rows of V1 is a partial
    file, and it used to replace V1 silently and shrink every year built on it (an audit of December 2026: a
    GBAPERSOONTAB with 2,000 of 2,948 persons moved O27's n from 1,346 to 896, exit 0).  Refused, the warehouse
    kept; named with --allow-older it is taken."""
    landing, wh = env
    assert run(landing, wh, "SECMBUS")[0] == 0
    v1 = landing / SECM / "SECMBUS2020V1.csv"
    lines = v1.read_text(encoding="utf-8").splitlines(keepends=True)
    (landing / SECM / "SECMBUS2020V2.csv").write_text("".join(lines[:len(lines) // 2]), encoding="utf-8")
    h = tree_hash(wh)
    code, out = run(landing, wh, "SECMBUS")
    assert code != 0 and "SECMBUS2020V2" in out and "fewer than SECMBUS2020V1" in out and "partial file" in out, out
    assert tree_hash(wh) == h
    code, out = run(landing, wh, "SECMBUS", "--allow-older", "SECMBUS2020V2")
    assert code == 0, out
    assert Warehouse(wh).manifest("SECMBUS", "latest")["release_id"] == "SECMBUS2020V2"


def test_two_landed_files_claiming_one_release_with_different_contents_are_refused(env):
    """INPA2020TABV02.csv next to INPA2020TABV2.csv: both are release INPATAB2020V2, and path order picked one in
    silence, replacing the held V2's content under the same id (an audit of December 2026).  Refused naming both;
    the same bytes twice is read once; a format conversion (the CSV next to its .sav) is no such copy."""
    landing, wh = env
    assert run(landing, wh, "INPATAB")[0] == 0
    v2 = landing / INPA / "INPA2020TABV2.csv"
    twin = landing / INPA / "INPA2020TABV02.csv"
    shutil.copy(v2, twin)
    code, out = run(landing, wh, "INPATAB")
    assert code == 0 and "COPY INPATAB 2020:" in out and "holds the same bytes" in out, out   # said, not silent
    text = v2.read_text(encoding="utf-8").splitlines(keepends=True)
    twin.write_text("".join(text[:-1]), encoding="utf-8")
    h = tree_hash(wh)
    code, out = run(landing, wh, "INPATAB")
    assert code != 0 and "landed files claim this release with different contents" in out, out
    assert "INPA2020TABV02.csv" in out and "INPA2020TABV2.csv" in out
    assert tree_hash(wh) == h
