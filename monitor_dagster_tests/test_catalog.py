"""data_catalog.yaml: validated on load, the only place that knows file names (issue 3)."""

from __future__ import annotations

import pytest
import yaml

from monitor_dagster.catalog import DEFAULT_CATALOG, CatalogError, load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_every_generated_file_matches_exactly_its_entry(catalog, zone):
    for f in zone.files:
        m = catalog.match(f.path)
        assert m is not None, f"no catalog entry for {f.path}"
        assert (m.entry, m.version) == (f.file_id, f.version), f.path
        if catalog.entry(m.entry).kind == "yearly":
            assert m.period == f.year


def test_irregular_and_converted_names(catalog):
    assert catalog.match("Spolis/SPOLISBUS/2014/SPOLISBUS 2014V1.sav").release_id == "SPOLISBUS2014V1"
    assert catalog.match("Bevolking/GBAPERSOONTAB/2016/GBAPERSOONTAB2016V1.sav").entry == "GBAPERSOONTAB"
    assert catalog.match("Bevolking/GBAPERSOONTAB/2018/GBAPERSOON2018TABV2.sav").version == 2
    m = catalog.match("Spolis/SPOLISBUS/2021/geconverteerde data/SPOLISBUS2021V3.csv")
    assert (m.entry, m.period, m.version, m.ext) == ("SPOLISBUS", 2021, 3, "csv")
    assert catalog.match("Spolis/SPOLISBUS/2021/SPOLISBUS2021V3.sav.part") is None
    assert catalog.match("Spolis/SPOLISBUS/2021/notes.txt") is None


def test_predecessors_rename_to_successor_names(catalog):
    assert catalog.entry("POLISBUS").renames_for(2008)["BAANRUGID"] == "IKVID"
    assert catalog.entry("IPI").renames_for(2010)["PERSPRIM"] == "INPPERSPRIM"
    h = catalog.entry("HOOGSTEOPLTAB")
    assert "OPLNIVSOI2016AGG4HBMETNIRWO" in h.renames_for(2018)
    assert h.renames_for(2019) == {}
    assert "SAANTCTRCTURENPWK" not in catalog.entry("SPOLISBUS").columns_for(2015)
    assert "SAANTCTRCTURENPWK" in catalog.entry("SPOLISBUS").columns_for(2016)


def test_release_calendar_from_bijlage_d(catalog):
    rel = catalog.entry("SPOLISBUS").expected_releases(2021)
    assert [str(d) for d, _ in rel] == ["2022-09-15", "2022-12-15", "2023-03-15"]
    assert str(catalog.entry("AOTOTPERSOONBUS").expected_releases(2022)[0][0]) == "2023-08-31"
    assert catalog.entry("MIGMOTIEFBUS").expected_releases(2020) == []


def _broken(tmp_path, mutate):
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text())
    mutate(raw)
    p = tmp_path / "catalog.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return p


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda r: r["files"]["SECMBUS"].__setitem__("kind", "weekly"), "files.SECMBUS.kind"),
    (lambda r: r["files"]["SECMBUS"]["columns"]["SECM"].pop("codes"), "files.SECMBUS.columns.SECM"),
    (lambda r: r["files"]["WWPERSOONBUS"].__setitem__("patterns", ["WW(?P<year>\\d{4}"]), "files.WWPERSOONBUS.patterns"),
    (lambda r: r["files"]["SPOLISBUS"].__setitem__("trend_breaks", ["nonsense"]), "SPOLISBUS: trend break 'nonsense'"),
    (lambda r: r["files"]["INPATAB"].__setitem__("predecessor", "IPX"), "INPATAB: predecessor/successor 'IPX'"),
    (lambda r: r["files"]["EBBNW"].__setitem__("colums", {}), "files.EBBNW.colums"),
    # row rules (ingest/row_rules.py): a column the entry lacks, a pair rule with one column, an unknown rule
    (lambda r: r["files"]["SPOLISBUS"].__setitem__("row_rules", [{"rule": "ordered", "columns": ["SDATUMAANVANGIKO", "EIND"]}]),
     "row rule ordered: column 'EIND' is not among the columns"),
    (lambda r: r["files"]["SPOLISBUS"].__setitem__("row_rules", [{"rule": "same_month", "columns": ["SDATUMEINDEIKO"]}]),
     "row rule same_month takes two columns"),
    (lambda r: r["files"]["SPOLISBUS"].__setitem__("row_rules", [{"rule": "sorted", "columns": ["IKVID"]}]),
     "files.SPOLISBUS.row_rules"),
])
def test_invalid_catalog_names_the_entry(tmp_path, mutate, needle):
    with pytest.raises(CatalogError) as exc:
        load_catalog(_broken(tmp_path, mutate))
    assert needle in str(exc.value)


def test_unreadable_catalog_is_a_clear_error(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("files: [unclosed")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(p)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.yaml")


def test_a_changed_catalog_is_read_again_and_callers_do_not_share_one_object(tmp_path):
    """load_catalog parses a file once per version (path, mtime, size; issue 12: it was parsed by every source
    asset): an edit is seen by the next call, and each call returns its own Catalog."""
    import os

    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    p = tmp_path / "catalog.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True))
    first, again = load_catalog(p), load_catalog(p)
    assert first == again and first is not again
    assert first.entry("SECMBUS").kind == "cumulative"
    raw["files"]["SECMBUS"]["kind"] = "yearly"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True))
    st = p.stat()      # a same-second rewrite of the same size must still count as a new version
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert load_catalog(p).entry("SECMBUS").kind == "yearly"
