"""Reference file names and locations (issue 16, item 5).

In Remote Access CBS's reference files carry no year (``LANDAKTUEELREFV<n>``, ``OPLEIDINGSNRREFV<n>``) and live on
the code-listings share (``K:/Utilities/Code_Listings/SSBreferentiebestanden/``).  The catalog reads them there and
still accepts the former ``Referentie/<NAME>/`` layout (with the generator's former ``OPLEIDINGSNR<year>REFV<n>``);
the share is preferred when one release lands in both places; a year-less file serves every year partition.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest.release import find_release, release_order
from monitor_dagster.landing import SensorCursor, mark_processed, newest_release, plan, scan
from monitor_dagster.synth.generate import SynthConfig, generate

CAT = load_catalog()
SHARE = "Utilities/Code_Listings/SSBreferentiebestanden"


# --------------------------------------------------------------------------------------------- catalog
@pytest.mark.parametrize(("path", "entry", "version", "ext", "pattern"), [
    # the share as Remote Access has it (K:/Utilities/...), as it was (G:/8_Utilities/...), or copied on its own
    (f"{SHARE}/OPLEIDINGSNRREFV34.SAV", "OPLEIDINGSNRREF", 34, "sav", 0),
    (f"{SHARE}/geconverteerde data/OPLEIDINGSNRREFV29.dta", "OPLEIDINGSNRREF", 29, "dta", 0),
    ("8_Utilities/Code_Listings/SSBreferentiebestanden/LANDAKTUEELREFV4.sav", "LANDAKTUEELREF", 4, "sav", 0),
    ("SSBreferentiebestanden/Geconverteerde data/LANDAKTUEELREFV12.DTA", "LANDAKTUEELREF", 12, "dta", 0),
    ("Code_Listings/SSBreferentiebestanden/OPLEIDINGSNRREFV1.parquet", "OPLEIDINGSNRREF", 1, "parquet", 0),
    # the former layout: Referentie/<NAME>/, OPLEIDINGSNRREF with or without the year
    ("Referentie/LANDAKTUEELREF/geconverteerde data/LANDAKTUEELREFV1.csv", "LANDAKTUEELREF", 1, "csv", 1),
    ("Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2021REFV1.sav", "OPLEIDINGSNRREF", 1, "sav", 1),
    ("Referentie/OPLEIDINGSNRREF/OPLEIDINGSNRREFV2.parquet", "OPLEIDINGSNRREF", 2, "parquet", 1),
])
def test_catalog_reads_the_share_and_the_former_folder(path, entry, version, ext, pattern):
    m = CAT.match(path)
    assert m is not None, path
    assert (m.entry, m.period, m.version, m.ext, m.pattern) == (entry, None, version, ext, pattern)
    # no year in the release id: the former year-named file is the same release as the share's V<n>
    assert m.release_id == f"{entry}V{version}"


@pytest.mark.parametrize("path", [
    f"{SHARE}/CTOREFV12.sav",                                 # another listing on the share: not a catalog entry
    "Utilities/SSBreferentiebestanden/LANDAKTUEELREFV1.sav",  # Utilities without Code_Listings: not the share
    f"{SHARE}/OPLEIDINGSNR2021REFV1.sav",                     # the share has no year-named form
    f"{SHARE}/OPLEIDINGSNRREFV1.txt",
])
def test_catalog_refuses_other_names_on_the_share(path):
    assert CAT.match(path) is None


def test_the_former_year_does_not_order_releases():
    """V<n> alone orders the releases of both forms: the share's V2 supersedes the former
    OPLEIDINGSNR2021REFV1, and the former V3 is newer than the share's V2."""
    old1 = CAT.match("Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2021REFV1.sav")
    old3 = CAT.match("Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2019REFV3.sav")
    new2 = CAT.match(f"{SHARE}/OPLEIDINGSNRREFV2.sav")
    order = lambda m: release_order(m.period, m.version)  # noqa: E731
    assert order(old1) < order(new2) < order(old3)


# --------------------------------------------------------------------------------------------- landing
def _put(landing: Path, rel: str, sector: str = "3") -> Path:
    p = landing / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"OPLNR": ["100001", "100002"], "OPLSECTOR": [sector, sector]}).write_parquet(p)
    return p


def _tick(landing: Path, cursor: SensorCursor):
    decisions, cursor = plan(scan(landing, CAT), cursor, landing, CAT)
    for d in decisions:
        if d.action == "ingest":
            cursor = mark_processed(cursor, d)
    return decisions, cursor


def _two_ticks(landing: Path, cursor: SensorCursor):
    _, cursor = _tick(landing, cursor)           # first seen: wait
    return _tick(landing, cursor)


def _act(decisions, action):
    return [d for d in decisions if d.action == action]


def test_same_release_in_both_places_reads_the_share_and_reports_the_copy(tmp_path):
    share = f"{SHARE}/OPLEIDINGSNRREFV1.parquet"
    old = "Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2021REFV1.parquet"
    _put(tmp_path, share)
    _put(tmp_path, old, sector="0")
    d, cur = _two_ticks(tmp_path, SensorCursor())
    assert [(x.relpath, x.release_id, x.partition) for x in _act(d, "ingest")] == [(share, "OPLEIDINGSNRREFV1", "all")]
    copy = _act(d, "skip_copy")
    assert [x.relpath for x in copy] == [old]
    assert share in copy[0].reason and "ignored" in copy[0].reason
    landed = scan(tmp_path, CAT)
    assert newest_release(landed, CAT, "OPLEIDINGSNRREF").relpath == share
    assert find_release(landed, CAT, "OPLEIDINGSNRREF", 2019).relpath == share   # any year reads the one file
    # reported once: the next tick is quiet
    d3, _ = _tick(tmp_path, cur)
    assert d3 == []


def test_a_copy_landing_after_the_ingest_is_reported_not_ingested(tmp_path):
    _put(tmp_path, f"{SHARE}/LANDAKTUEELREFV2.parquet")
    _, cur = _two_ticks(tmp_path, SensorCursor())
    _put(tmp_path, "Referentie/LANDAKTUEELREF/LANDAKTUEELREFV2.parquet", sector="0")
    d, _ = _two_ticks(tmp_path, cur)
    assert _act(d, "ingest") == []
    assert [x.relpath for x in _act(d, "skip_copy")] == ["Referentie/LANDAKTUEELREF/LANDAKTUEELREFV2.parquet"]


def test_a_newer_version_on_the_share_supersedes_a_year_named_release(tmp_path):
    """A cursor written while OPLEIDINGSNRREF was named with a year (processed period 2021) does not make the
    share's year-less V2 look older; an older V1 on the share is then skipped."""
    old = "Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2021REFV1.parquet"
    _put(tmp_path, old)
    cur = SensorCursor(processed={"OPLEIDINGSNRREF|all": {"version": 1, "sha256": "0" * 64, "relpath": old,
                                                          "period": 2021}})
    _put(tmp_path, f"{SHARE}/OPLEIDINGSNRREFV2.parquet")
    d, cur = _two_ticks(tmp_path, cur)
    ing = _act(d, "ingest")
    assert [(x.relpath, x.version) for x in ing] == [(f"{SHARE}/OPLEIDINGSNRREFV2.parquet", 2)]
    assert "supersedes" in ing[0].reason
    assert cur.processed["OPLEIDINGSNRREF|all"]["period"] is None
    (tmp_path / f"{SHARE}/OPLEIDINGSNRREFV2.parquet").unlink()
    _put(tmp_path, f"{SHARE}/OPLEIDINGSNRREFV1.parquet")
    d, _ = _two_ticks(tmp_path, cur)
    assert _act(d, "ingest") == [] and len(_act(d, "skip_older")) == 1


# ------------------------------------------------------------------------------------------- generator
def _gen(root: Path, first: int, fmt: str):
    return generate(SynthConfig(landing=root, persons=150, first_year=first, last_year=2019, seed=2, fmt=fmt,
                                only_files=("LANDAKTUEELREF", "OPLEIDINGSNRREF", "ONDERWIJSINSCHRTAB")))


@pytest.mark.parametrize(("fmt", "folder"), [("sav", ""), ("csv", "geconverteerde data/")])
def test_the_generator_writes_year_less_reference_files_on_the_share(tmp_path, fmt, folder):
    a = _gen(tmp_path / "a", 2018, fmt)
    refs = {f.file_id: f for f in a.files if f.file_id.endswith("REF")}
    assert {k: f.path for k, f in refs.items()} == {
        "LANDAKTUEELREF": f"{SHARE}/{folder}LANDAKTUEELREFV1.{fmt}",
        "OPLEIDINGSNRREF": f"{SHARE}/{folder}OPLEIDINGSNRREFV1.{fmt}"}
    assert not (tmp_path / "a" / "Referentie").exists()
    for f in refs.values():
        m = CAT.match(f.path)
        assert (m.entry, m.period, m.version, m.pattern) == (f.file_id, None, 1, 0)
    # one listing for all years: the same bytes whatever years the run covers
    b = _gen(tmp_path / "b", 2016, fmt)
    assert {f.path: f.sha256 for f in b.files if f.file_id.endswith("REF")} == {f.path: f.sha256 for f in refs.values()}
    if fmt == "sav":
        import pyreadstat

        _, meta = pyreadstat.read_sav(str(tmp_path / "a" / refs["OPLEIDINGSNRREF"].path), metadataonly=True)
        assert meta.file_label == "OPLEIDINGSNRREF V1"
    # ... and it knows the programme of every enrolment of every year
    from monitor_dagster_tests.conftest import read_any

    ref = set(read_any(tmp_path / "b" / refs["OPLEIDINGSNRREF"].path)["OPLNR"].to_list())
    for f in b.files:
        if f.file_id == "ONDERWIJSINSCHRTAB":
            assert set(read_any(tmp_path / "b" / f.path)["OPLNR"].to_list()) <= ref, f.path


# ------------------------------------------------------------------------------------------ end to end
def test_a_year_less_opleidingsnrref_feeds_every_year(tmp_path):
    """A small zone (2018-2019) through the sources and core jobs: OPLEIDINGSNRREFV1 from the share is ingested
    once (partition ``all``) and study choice O21 of both years reads it.  A decoy copy of the same release under
    the former year-named name, every programme without a sector, lands too: were it read, O21 would be all
    "overig of onbekend"."""
    import dagster as dg

    from monitor_dagster.indicators import engine as ENG
    from monitor_dagster.indicators.study_choice import FIELD_UNKNOWN, FIELDS
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.warehouse import Warehouse

    res = generate(SynthConfig(landing=tmp_path / "landing", persons=250, first_year=2018, last_year=2019, seed=4,
                               fmt="parquet"))
    landing = res.config.landing
    share = f"{SHARE}/OPLEIDINGSNRREFV1.parquet"
    assert [f.path for f in res.files if f.file_id == "OPLEIDINGSNRREF"] == [share]
    decoy = landing / "Referentie/OPLEIDINGSNRREF/OPLEIDINGSNR2019REFV1.parquet"
    decoy.parent.mkdir(parents=True)
    pl.read_parquet(landing / share).with_columns(pl.lit("0").alias("OPLSECTOR")).write_parquet(decoy)

    with dg.instance_for_test() as inst:
        summary = run_pipeline(landing, tmp_path / "wh", instance=inst, layers=("sources", "core"))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    # the decoy is not read, and the run says so (monitor run prints it as COPY; December 2026)
    ref = next(o for o in summary.outcomes if o.entry == "OPLEIDINGSNRREF")
    assert any("OPLEIDINGSNR2019REFV1.parquet" in c and "not read" in c for c in ref.metadata.get("copies") or [])
    man = Warehouse(tmp_path / "wh").manifest("OPLEIDINGSNRREF", "all")
    assert (man["source"], man["release_id"], man["period"]) == (share, "OPLEIDINGSNRREFV1", None)
    assert not (tmp_path / "wh" / "sources" / "OPLEIDINGSNRREF" / "2019").exists()
    for year in (2018, 2019):
        fr = ENG.warehouse_frames(tmp_path / "wh", "study_choice", year)
        out = ENG.compute_family("study_choice", fr, year, buckets=1)
        assert "O21" in out.computed, out.not_computable
        fields = set(out.table.filter(pl.col("indicator_id") == "O21")["measure"])
        assert fields and fields <= set(FIELDS.values()) and FIELD_UNKNOWN not in fields, (year, fields)
