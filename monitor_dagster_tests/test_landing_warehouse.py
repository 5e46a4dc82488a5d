"""Landing-zone scan, the release sensor's plan, the warehouse store and the status table.

One small synthetic parquet landing zone per module (300 persons, 2019-2020); tests that change files work
on a copy of it under tmp_path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from monitor_dagster import warehouse as wh
from monitor_dagster.catalog import load_catalog
from monitor_dagster.landing import SensorCursor, mark_processed, newest_release, plan, scan, sha256
from monitor_dagster.status import format_status, status
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse, WarehouseMissing

CAT = load_catalog()


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    root = tmp_path_factory.mktemp("lw")
    return generate(SynthConfig(landing=root / "landing", persons=300, first_year=2019, last_year=2020, seed=1,
                                fmt="parquet"))


@pytest.fixture
def landing(gen, tmp_path) -> Path:
    """A private copy of the module's landing zone (mtimes preserved)."""
    dst = tmp_path / "landing"
    shutil.copytree(gen.config.landing, dst)
    return dst


def tick(landing: Path, cursor: SensorCursor, mark: bool = True):
    """One sensor tick: scan, plan, and mark every emitted ingest as processed (as the sensor does)."""
    decisions, cursor = plan(scan(landing, CAT), cursor, landing, CAT)
    if mark:
        for d in decisions:
            if d.action == "ingest":
                cursor = mark_processed(cursor, d)
    return decisions, cursor


def settled(landing: Path) -> SensorCursor:
    """The cursor after the initial ingest of the whole zone."""
    _, cur = tick(landing, SensorCursor())
    _, cur = tick(landing, cur)
    return cur


def by_action(decisions, action):
    return [d for d in decisions if d.action == action]


def touch(path: Path, seconds_later: float = 100.0) -> None:
    st = path.stat()
    t = st.st_mtime_ns + int(seconds_later * 1e9)
    os.utime(path, ns=(t, t))


def expected_ingests(gen) -> set[tuple[str, int | None, int]]:
    """Highest version per yearly (file, year); newest (year, version) per cumulative/reference file."""
    best: dict[tuple, tuple[int, int]] = {}
    for f in gen.files:
        kind = CAT.files[f.file_id].kind
        key = (f.file_id, f.year) if kind == "yearly" else (f.file_id,)
        best[key] = max(best.get(key, (0, 0)), (f.year, f.version))
    out = set()
    for key, (year, version) in best.items():
        kind = CAT.files[key[0]].kind
        out.add((key[0], None if kind == "reference" else year, version))
    return out


# ------------------------------------------------------------------------------------------------ scan
def test_scan_matches_every_generated_file(gen, landing):
    (landing / "Spolis/SPOLISBUS/2020/readme.txt").write_text("hello")
    (landing / "Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.parquet.part").write_bytes(b"PAR1")
    (landing / ".hidden").mkdir()
    (landing / ".hidden/SPOLISBUS2020V9.parquet").write_bytes(b"x")
    (landing / "Spolis/.DS_Store").write_bytes(b"x")

    found = {f.relpath: f for f in scan(landing, CAT)}
    assert len(found) == len(gen.files) + 2
    for g in gen.files:
        lf = found[g.path]
        assert lf.match is not None and not lf.temporary, g.path
        assert (lf.match.entry, lf.match.version) == (g.file_id, g.version)
        if CAT.files[g.file_id].kind != "reference" or lf.match.period is not None:
            assert lf.match.period == g.year
        assert lf.size == (landing / g.path).stat().st_size
    assert found["Spolis/SPOLISBUS/2020/readme.txt"].match is None
    part = found["Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.parquet.part"]
    assert part.temporary and part.match.release_id == "SPOLISBUS2020V4"
    assert not any(p.startswith(".") or "/." in p for p in found)

    with pytest.raises(FileNotFoundError, match="landing root"):
        scan(landing / "nope", CAT)


def test_sha256_matches_generator(gen):
    f = gen.files[0]
    assert sha256(gen.config.landing / f.path) == f.sha256


# ------------------------------------------------------------------------------------------------ plan
def test_plan_waits_then_ingests_highest_versions_then_is_quiet(gen, landing):
    # tick 1: every file is first seen -> wait (stability over two ticks), no hashing yet
    d1, cur = tick(landing, SensorCursor())
    assert {d.action for d in d1} == {"wait"} and len(d1) == len(gen.files)
    assert cur.hashes == {} and len(cur.pending) == len(gen.files)

    # tick 2: nothing changed -> one ingest per group, the highest version; older versions reported once
    d2, cur = tick(landing, SensorCursor.from_json(cur.to_json()))
    ingests = by_action(d2, "ingest")
    assert {(d.entry, d.period, d.version) for d in ingests} == expected_ingests(gen)
    spolis20 = [d for d in ingests if d.entry == "SPOLISBUS" and d.period == 2020]
    assert [d.version for d in spolis20] == [3]
    gba = [d for d in ingests if d.entry == "GBAPERSOONTAB"]
    assert [(d.period, d.version, d.partition) for d in gba] == [(2020, 2, "latest")]
    shas = {f.path: f.sha256 for f in gen.files}
    for d in ingests:
        assert d.sha256 == shas[d.relpath]
        assert d.run_key == f"{d.entry}|{d.period if d.period is not None else 'all'}|V{d.version}|{d.sha256[:16]}"
    skipped = {d.release_id for d in by_action(d2, "skip_older")}
    assert {"SPOLISBUS2020V1", "SPOLISBUS2020V2", "GBAPERSOONTAB2020V1", "INPATAB2020V1"} <= skipped
    assert set(by_action(d2, "ingest") + by_action(d2, "skip_older")) == set(d2)
    landed = scan(landing, CAT)
    for d in ingests:                         # the ingest reads the same file the sensor hashed
        assert newest_release(landed, CAT, d.entry, d.period).relpath == d.relpath
    ref = [d for d in ingests if d.entry == "LANDAKTUEELREF"]
    assert ref[0].period is None and ref[0].partition == "all" and ref[0].run_key.startswith("LANDAKTUEELREF|all|V1|")

    # tick 3: nothing new, nothing said
    d3, cur3 = tick(landing, cur)
    assert d3 == []
    assert cur3.processed == cur.processed and cur3.pending == {}
    assert SensorCursor.from_json(cur3.to_json()) == cur3


def test_plan_new_version_duplicate_and_corrected_file(landing):
    cur = settled(landing)
    old = landing / "Spolis/SPOLISBUS/2019/SPOLISBUS 2019V1.parquet"
    new = landing / "Spolis/SPOLISBUS/2019/SPOLISBUS2019V2.parquet"

    # a new V2 copied in: wait (first seen), then ingest superseding V1
    pl.read_parquet(old).head(50).write_parquet(new)
    d, cur = tick(landing, cur)
    assert [(x.action, x.relpath) for x in d] == [("wait", "Spolis/SPOLISBUS/2019/SPOLISBUS2019V2.parquet")]
    d, cur = tick(landing, cur)
    assert [(x.action, x.entry, x.period, x.version) for x in d] == [("ingest", "SPOLISBUS", 2019, 2)]
    assert d[0].supersedes == "SPOLISBUS2019V1" and "supersedes" in d[0].reason
    first_key = d[0].run_key
    assert tick(landing, cur)[0] == []

    # the same file delivered again (new mtime, same content): wait, then skip_duplicate, then silence
    touch(new)
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["skip_duplicate"] and d[0].run_key is None
    assert tick(landing, cur)[0] == []

    # a corrected file under the same name: ingest again with a different run_key
    pl.read_parquet(old).head(60).write_parquet(new)
    touch(new, 200)
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["ingest"]
    assert d[0].run_key != first_key and d[0].run_key.startswith("SPOLISBUS|2019|V2|")
    assert "corrected" in d[0].reason
    assert cur.processed["SPOLISBUS|2019"]["sha256"] == sha256(new)


def test_plan_temporary_and_growing_files(landing):
    cur = settled(landing)
    v3 = landing / "Spolis/SPOLISBUS/2020/SPOLISBUS2020V3.parquet"
    part = landing / "Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.parquet.part"
    data = v3.read_bytes()

    # a .part file: the period waits as long as the copy is in progress
    part.write_bytes(data[: len(data) // 2])
    for _ in range(2):
        d, cur = tick(landing, cur)
        assert [(x.action, x.relpath) for x in d] == [("wait", "Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.parquet")]
        assert "being copied" in d[0].reason and part.name in d[0].reason
    part.write_bytes(data)
    os.replace(part, part.with_name("SPOLISBUS2020V4.parquet"))
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]                 # the final name is new: one more tick
    d, cur = tick(landing, cur)
    assert [(x.action, x.version) for x in d] == [("ingest", 4)]

    # a file growing between ticks: wait while it grows, ingest once size and mtime are unchanged
    grow = landing / "InkomenBestedingen/INPATAB/INPA2020TABV3.parquet"
    src = (landing / "InkomenBestedingen/INPATAB/INPA2020TABV2.parquet").read_bytes()
    grow.write_bytes(src[:100])
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"] and "first seen" in d[0].reason
    with open(grow, "ab") as fh:
        fh.write(src[100:])
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"] and "changed" in d[0].reason
    d, cur = tick(landing, cur)
    assert [(x.action, x.entry, x.version, x.sha256) for x in d] == [("ingest", "INPATAB", 3, sha256(grow))]


def test_plan_older_version_after_newer(landing):
    cur = settled(landing)
    v1 = landing / "InkomenBestedingen/INPATAB/INPA2020TABV1.parquet"
    v2 = landing / "InkomenBestedingen/INPATAB/INPA2020TABV2.parquet"

    # V1 copied again while V2 (processed) is still there
    touch(v1)
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["skip_older"]
    assert "INPATAB2020V1" in d[0].reason and "INPATAB2020V2" in d[0].reason

    # V2 archived away, then V1 copied again: the highest landed version is older than the processed one
    v2.unlink()
    touch(v1, 200)
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]
    assert not any("INPA2020TABV2" in p for p in cur.hashes)          # compact: gone files are dropped
    d, cur = tick(landing, cur)
    assert [(x.action, x.run_key) for x in d] == [("skip_older", None)]
    assert "INPATAB2020V1" in d[0].reason and "processed INPATAB2020V2" in d[0].reason
    assert cur.processed["INPATAB|2020"]["version"] == 2
    assert tick(landing, cur)[0] == []

    # cumulative: an older release year re-delivered after a newer release was processed
    secm = landing / "InkomenBestedingen/SECMBUS/SECMBUS2019V2.parquet"
    (landing / "InkomenBestedingen/SECMBUS/SECMBUS2020V1.parquet").unlink()
    touch(secm)
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["wait"]
    d, cur = tick(landing, cur)
    assert [(x.action, x.entry, x.period) for x in d] == [("skip_older", "SECMBUS", 2019)]
    assert "processed SECMBUS2020V1" in d[0].reason


def test_plan_unknown_files_reported_once(landing):
    cur = settled(landing)
    (landing / "Spolis/SPOLISBUS/2020/SPOLISBUS2020V3 (kopie).parquet").write_bytes(b"x")
    (landing / "Polis/POLISBUS/2010/POLISBUS2010V1.parquet").parent.mkdir(parents=True)
    (landing / "Polis/POLISBUS/2010/POLISBUS2010V1.parquet").write_bytes(b"x")   # POLISBUS ends in 2009
    d, cur = tick(landing, cur)
    assert [x.action for x in d] == ["unknown", "unknown"]
    assert any("SPOLISBUS2020V3 (kopie).parquet" in x.reason and "no catalog entry" in x.reason for x in d)
    assert any("outside the periods of POLISBUS" in x.reason for x in d)
    assert tick(landing, cur)[0] == []


def test_cursor_json_and_mark_processed():
    assert SensorCursor.from_json(None) == SensorCursor() == SensorCursor.from_json("")
    with pytest.raises(ValueError, match="cursor"):
        SensorCursor.from_json("[1, 2")
    from monitor_dagster.landing import Decision

    cur = SensorCursor()
    for year, v in ((2019, 1), (2020, 1)):
        dec = Decision(action="ingest", relpath=f"x{year}", reason="", entry="SECMBUS", period=year, version=v,
                       sha256="ab" * 32, run_key="k", entry_kind="cumulative", cursor_key=f"SECMBUS|{year}")
        cur = mark_processed(cur, dec)
    assert list(cur.processed) == ["SECMBUS|2020"]            # cumulative: only the newest release is kept
    with pytest.raises(ValueError):
        mark_processed(cur, Decision(action="wait", relpath="x", reason=""))


# ------------------------------------------------------------------------------------------------ warehouse
def frame(n: int) -> pl.DataFrame:
    return pl.DataFrame({"RINPERSOON": list(range(n)), "x": [float(i) / 3 for i in range(n)]})


def man(rid: str, sha: str, **kw) -> dict:
    return {"release_id": rid, "source": f"src/{rid}.sav", "sha256": sha, "rows": 0, **kw}


def test_warehouse_round_trip(tmp_path):
    w = Warehouse(tmp_path / "wh")
    with pytest.raises(WarehouseMissing, match="SPOLISBUS partition 2019") as exc:
        w.read("SPOLISBUS", "2019")
    assert isinstance(exc.value, KeyError)
    assert w.manifest("SPOLISBUS", "2019") is None and w.partitions("SPOLISBUS") == []

    path = w.write("SPOLISBUS", 2019, frame(10), man("SPOLISBUS2019V1", "ab" * 32, day=dt.date(2020, 1, 2)))
    assert path == tmp_path / "wh/sources/SPOLISBUS/2019" / ("SPOLISBUS2019V1-" + "ab" * 6)
    assert (path / "data.parquet").is_file() and (path / "manifest.json").is_file()
    assert w.read("SPOLISBUS", "2019").collect().equals(frame(10))
    m = w.manifest("SPOLISBUS", "2019")
    assert m["release_id"] == "SPOLISBUS2019V1" and m["day"] == "2020-01-02" and "written_at" in m
    assert json.loads((path / "manifest.json").read_text()) == m
    cur = json.loads((path.parent / "CURRENT").read_text())
    assert cur["version"] == path.name and cur["manifest"] == m
    w.write("GBAPERSOONTAB", "latest", frame(3).lazy(), man("GBAPERSOONTAB2020V2", "cd" * 32))
    assert w.partitions("SPOLISBUS") == ["2019"] and w.entries() == ["GBAPERSOONTAB", "SPOLISBUS"]
    assert w.read("GBAPERSOONTAB", "latest").collect().height == 3
    with pytest.raises(ValueError):
        w.write("SPOLISBUS", "../x", frame(1), {})


@pytest.mark.parametrize("crash_at", [1, 2])   # 1: renaming the temp folder; 2: replacing CURRENT
def test_warehouse_crash_keeps_previous_current(tmp_path, monkeypatch, crash_at):
    w = Warehouse(tmp_path / "wh")
    w.write("INPATAB", "2020", frame(5), man("INPATAB2020V1", "11" * 32))
    pdir = w.partition_dir("INPATAB", "2020")
    before = (pdir / "CURRENT").read_bytes()

    calls = {"n": 0}
    real = wh._rename

    def crashing(src, dst):
        calls["n"] += 1
        if calls["n"] == crash_at:
            raise OSError("simulated crash")
        real(src, dst)

    monkeypatch.setattr(wh, "_rename", crashing)
    with pytest.raises(OSError, match="simulated crash"):
        w.write("INPATAB", "2020", frame(7), man("INPATAB2020V2", "22" * 32))
    monkeypatch.setattr(wh, "_rename", real)

    assert (pdir / "CURRENT").read_bytes() == before
    assert w.read("INPATAB", "2020").collect().equals(frame(5))
    good = {"CURRENT", ".lock", w.current("INPATAB", "2020")["version"]}
    leftovers = sorted(p.name for p in pdir.iterdir() if p.name not in good)
    crash_left = ("CURRENT.tmp", "INPATAB2020V2-" + "22" * 6)
    assert leftovers and all(n.startswith(".tmp-") or n in crash_left for n in leftovers)

    removed = w.cleanup_orphans()
    assert sorted(p.name for p in removed) == leftovers
    assert sorted(p.name for p in pdir.iterdir()) == sorted([".lock", "CURRENT", "INPATAB2020V1-" + "11" * 6])
    assert w.read("INPATAB", "2020").collect().equals(frame(5))
    assert w.cleanup_orphans() == []
    # and the next write works normally
    w.write("INPATAB", "2020", frame(7), man("INPATAB2020V2", "22" * 32))
    assert w.read("INPATAB", "2020").collect().equals(frame(7))


def test_warehouse_keeps_two_previous_versions(tmp_path):
    w = Warehouse(tmp_path / "wh")
    names = [w.write("SECMBUS", "latest", frame(i + 1), man(f"SECMBUS{2016 + i}V1", f"{i}" * 64)).name
             for i in range(5)]
    assert w.versions("SECMBUS", "latest") == sorted(names[-3:])
    cur = w.current("SECMBUS", "latest")
    assert cur["version"] == names[-1] and cur["previous"] == [names[-2], names[-3]]
    assert w.read("SECMBUS", "latest").collect().height == 5
    # the same release written again (e.g. after a code change) gets its own folder
    again = w.write("SECMBUS", "latest", frame(2), man("SECMBUS2020V1", "4" * 64))
    assert again.name == names[-1] + "-r2" and w.read("SECMBUS", "latest").collect().height == 2
    assert len(w.versions("SECMBUS", "latest")) == 3


# ------------------------------------------------------------------------------------------------ status
def test_status_landed_ingested_stale_provisional_overdue(gen, landing, tmp_path):
    cur = settled(landing)
    w = Warehouse(tmp_path / "wh")
    sha = {f.path: f.sha256 for f in gen.files}

    def ingest(entry, partition, relpath, rid, **kw):
        w.write(entry, partition, frame(2), {"release_id": rid, "source": relpath, "sha256": sha[relpath], **kw})

    ingest("SPOLISBUS", "2019", "Spolis/SPOLISBUS/2019/SPOLISBUS 2019V1.parquet", "SPOLISBUS2019V1",
           provisional=False)
    ingest("SPOLISBUS", "2020", "Spolis/SPOLISBUS/2020/SPOLISBUS2020V2.parquet", "SPOLISBUS2020V2",
           provisional=True)
    ingest("GBAPERSOONTAB", "latest", "Bevolking/GBAPERSOONTAB/2020/GBAPERSOON2020TABV2.parquet",
           "GBAPERSOONTAB2020V2")
    w.write("INPATAB", "2020", frame(2), {"release_id": "INPATAB2020V2", "sha256": "0" * 64,
                                          "source": "InkomenBestedingen/INPATAB/INPA2020TABV2.parquet"})

    today = dt.date(2022, 10, 1)
    rows = {(r.entry, r.period): r for r in status(landing, w, CAT, today, cur)}

    r = rows[("SPOLISBUS", 2019)]
    assert (r.landed_versions, r.ingested, r.stale, r.provisional, r.overdue) == \
        ("V1", "SPOLISBUS2019V1", False, False, False)
    r = rows[("SPOLISBUS", 2020)]
    assert (r.landed_versions, r.ingested, r.stale, r.provisional) == ("V1,V2,V3", "SPOLISBUS2020V2", True, True)
    assert "SPOLISBUS2020V3 landed" in r.note
    r = rows[("INPATAB", 2020)]                  # same version, different content (hash known from the cursor)
    assert r.stale and "corrected" in r.note
    r = rows[("EBBNW", 2019)]
    assert (r.ingested, r.stale) == ("", True) and "not ingested" in r.note
    r = rows[("GBAPERSOONTAB", 2020)]
    assert (r.landed_versions, r.ingested, r.stale) == ("V1,V2", "GBAPERSOONTAB2020V2", False)
    assert "superseded" in rows[("GBAPERSOONTAB", 2019)].note and not rows[("GBAPERSOONTAB", 2019)].stale

    # overdue: a release date has passed on `today` and nothing landed for the period
    r = rows[("SPOLISBUS", 2021)]
    assert r.overdue and r.landed_versions == "" and "t/m maand 6" in r.note and "t/m maand 9" not in r.note
    assert rows[("GBAPERSOONTAB", 2021)].overdue                     # due 2022-05-31
    assert rows[("EBBNW", 2021)].overdue                             # due 2021-10-15
    assert not rows[("SECMBUS", 2021)].overdue and "expected" in rows[("SECMBUS", 2021)].note   # 2022-12-31
    assert ("EBBNW", 2022) not in rows                               # due 2022-10-15: still to come
    assert ("MIGMOTIEFBUS", 2021) not in rows                        # no release calendar
    assert not any(e == "IPI" for e, _ in rows)                      # IPI ends in 2010
    assert not rows[("SPOLISBUS", 2020)].overdue

    # without a cursor the content change is found only when hashing is asked for
    plain = {(r.entry, r.period): r for r in status(landing, w, CAT, today)}
    assert not plain[("INPATAB", 2020)].stale
    hashed = {(r.entry, r.period): r for r in status(landing, w, CAT, today, hash_files=True)}
    assert hashed[("INPATAB", 2020)].stale

    text = format_status(list(rows.values()))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["entry", "period", "landed", "ingested"] and set(lines[1]) <= {"-", " "}
    assert len(lines) == len(rows) + 2
    col = lines[0].index("ingested")
    spolis = next(line for line in lines if line.startswith("SPOLISBUS ") and "2020" in line)
    assert spolis[col:].startswith("SPOLISBUS2020V2")


def test_a_lazyframe_is_streamed_and_counted_from_the_file(tmp_path):
    """Issue 12 item 4: a LazyFrame reaches sink_parquet (never collected by the warehouse); rows and columns
    of the manifest come from the parquet footer when the caller could not know them."""
    import polars as pl

    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(tmp_path, layer="core")
    lf = pl.LazyFrame({"person_id": range(1000), "x": [1.5] * 1000}).filter(pl.col("person_id") % 3 == 0)
    w.write("job_months", "2020", lf, {"rows": None, "columns": None})
    m = w.manifest("job_months", "2020")
    assert (m["rows"], m["columns"]) == (334, 2)
    assert w.read("job_months", "2020").collect().equals(lf.collect())


def test_a_late_final_release_is_overdue_while_a_part_year_one_is_in(tmp_path):
    """Bijlage D: SPOLISBUS t/m maand 6 on 15 September t+1, t/m maand 12 on 15 March t+2.  With only the part-year
    release landed and ingested, the row was never overdue (overdue needed "nothing landed"), so the release that
    makes the year final, and that the 1 May schedule waits for, was never reported late (until December 2026)."""
    landing = tmp_path / "landing"
    rel = "Spolis/SPOLISBUS/2021/SPOLISBUS2021V1.parquet"
    (landing / rel).parent.mkdir(parents=True)
    frame(2).write_parquet(landing / rel)
    w = Warehouse(tmp_path / "wh")
    w.write("SPOLISBUS", "2021", frame(2), {"release_id": "SPOLISBUS2021V1", "source": rel, "provisional": True,
                                            "months_covered": 6, "sha256": sha256(landing / rel)})

    def row(today):
        return {(r.entry, r.period): r for r in status(landing, w, CAT, today)}[("SPOLISBUS", 2021)]

    assert not row(dt.date(2022, 11, 1)).overdue                       # t/m maand 9 is due 15 December
    r = row(dt.date(2023, 4, 1))
    assert r.overdue and r.provisional
    assert "overdue: t/m maand 12 due 2023-03-15; the warehouse holds t/m maand 6" in r.note
