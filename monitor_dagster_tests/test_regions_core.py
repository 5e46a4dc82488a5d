"""Issue 18, the data side: VSLGWBTAB in the catalog and the generator, the per-year municipality ->
arbeidsmarktregio mapping, and the core/population columns gemeente, regio, randstad, asielstatus
(technisch rapport Monitor gelijke kansen, §7.2.4, §7.2.5; docs/regions.md)."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.core import population as POP
from monitor_dagster.core import regions as RG
from monitor_dagster.reference import regions as RR
from monitor_dagster.warehouse import Warehouse

D = dt.date
MAPPING_2020 = "gemeente_arbeidsmarktregio_2020.csv"


def _truth(core_wh) -> dict:
    return json.loads((core_wh.parent / "landing.truth.json").read_text())


def _counts(df: pl.DataFrame, col: str) -> dict:
    return {(v if v is not None else "onbekend"): n for v, n in df.group_by(col).len().iter_rows()}


def _source_frames(wh: Warehouse, year: int) -> dict:
    def latest(entry):
        parts = wh.partitions(entry)
        return wh.read(entry, "latest" if "latest" in parts else parts[-1]) if parts else None
    return {"addresses": latest("GBAADRESOBJECTBUS"), "secm": latest("SECMBUS"), "gba": latest("GBAPERSOONTAB"),
            "migration": latest("GBAMIGRATIEBUS"), "migmotief": latest("MIGMOTIEFBUS"),
            "countries": latest("LANDAKTUEELREF"), "vslgwb": wh.read("VSLGWBTAB", str(year))}


# ------------------------------------------------------------------------------- pipeline vs generator truth
def test_population_regions_and_asielstatus_equal_the_truth(core_wh, tmp_path, monkeypatch):
    """core_wh (2,000 persons, 2018-2019) through sources and core: gemeente and asielstatus per person equal the
    generator's truth exactly; 2018/2019 have no shipped mapping, so regio/randstad are null there; with
    MONITOR_REGIO_DIR holding a 2019 mapping, regio and randstad equal the truth exactly too."""
    truth = _truth(core_wh)["regions"]
    core = Warehouse(core_wh, layer="core")
    for year in (2018, 2019):
        pop = core.read("population", str(year)).collect()
        assert {"gemeente", "regio", "randstad", "asielstatus"} <= set(pop.columns)
        assert _counts(pop, "gemeente") == truth[str(year)]["gemeente"], year
        assert _counts(pop, "asielstatus") == truth[str(year)]["asielstatus"], year
        assert pop["regio"].null_count() == pop.height and pop["randstad"].null_count() == pop.height
        assert pop.schema["gemeente"] == pl.String and pop["gemeente"].str.starts_with("GM").all()

    # a CBS user adds 2019 without editing the package (here: the 2020 classification, as the generator uses)
    monkeypatch.setenv(RR.REGIO_DIR_ENV, str(tmp_path))
    src = resources.files("monitor_dagster.reference").joinpath(MAPPING_2020)
    (tmp_path / RR.mapping_file(2019)).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    mapping, msg = RR.regio_mapping(2019)
    assert msg is None and mapping.height == 355
    from monitor_dagster.readiness import year_readiness
    assert year_readiness(core_wh, 2019).regions == {}
    pop = POP.population(2019, **_source_frames(Warehouse(core_wh), 2019), regio_map=mapping).collect()
    t = truth["2019"]
    assert _counts(pop, "regio") == t["arbeidsmarktregio"]
    assert _counts(pop, "randstad") == t["randstad"]
    assert _counts(pop, "gemeente") == t["gemeente"]
    # the planted difference is visible: more bijstand in the planted region than elsewhere
    pb = t["planted_bijstand"]
    assert pb["region_bijstand"] / pb["region_persons"] > pb["rest_bijstand"] / pb["rest_persons"]


def test_no_mapping_for_the_year_names_year_and_file(core_wh, monkeypatch):
    monkeypatch.delenv(RR.REGIO_DIR_ENV, raising=False)
    mapping, msg = RR.regio_mapping(2019)
    assert mapping is None
    assert "2019" in msg and "gemeente_arbeidsmarktregio_2019.csv" in msg and RR.REGIO_DIR_ENV in msg
    with pytest.raises(LookupError, match="gemeente_arbeidsmarktregio_2019.csv"):
        RR.gemeente_arbeidsmarktregio(2019)
    assert RR.regio_mapping(2020)[1] is None
    # what the asset records (metadata regions_status / WARN check "regions")
    from monitor_dagster.defs.core.assets import _regions

    vsl = Warehouse(core_wh).read("VSLGWBTAB", "2019")
    got, info = _regions(2019, vsl)
    assert got is None and info["status"] == "no mapping"
    assert any("gemeente_arbeidsmarktregio_2019.csv" in p for p in info["problems"])
    got, info = _regions(2019, None)
    assert info["status"] == "no VSLGWBTAB" and any("VSLGWBTAB 2019" in p for p in info["problems"])
    # readiness / `monitor status` know it, and it never blocks the year
    from monitor_dagster.readiness import year_readiness

    r = year_readiness(core_wh, 2019)
    assert set(r.regions) == {"regio", "randstad"} and "gemeente_arbeidsmarktregio_2019.csv" in r.regions["regio"]
    assert not any("gemeente_arbeidsmarktregio" in b or "VSLGWBTAB" in b for b in r.blocking("yearly"))
    assert year_readiness(core_wh, 2020).regions["gemeente"] == "needs VSLGWBTAB 2020"


def test_regio_dir_overrides_and_bad_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(RR.REGIO_DIR_ENV, str(tmp_path))
    (tmp_path / RR.mapping_file(2021)).write_text(
        "gemeente_code;gemeente_naam;arbeidsmarktregio_code;arbeidsmarktregio_naam;randstad\n"
        "GM0363;Amsterdam;AM18;Groot Amsterdam;randstad\nGM0014;Groningen;AM01;Groningen;overig\n", encoding="utf-8")
    m, msg = RR.regio_mapping(2021)
    assert msg is None and m["gemeente_code"].to_list() == ["GM0363", "GM0014"]
    (tmp_path / RR.mapping_file(2022)).write_text(
        "gemeente_code;gemeente_naam;arbeidsmarktregio_code;arbeidsmarktregio_naam;randstad\n"
        "GM0363;Amsterdam;AM18;Groot Amsterdam;ja\n", encoding="utf-8")
    with pytest.raises(RR.MappingError, match="gemeente_arbeidsmarktregio_2022.csv line 2"):
        RR.regio_mapping(2022)


# ------------------------------------------------------------------------------------ hand-built peildatum
def _addr(rows):
    return pl.LazyFrame(rows, schema={"person_id": pl.Int64, "RINPERSOONS": pl.String,
                                      "GBADATUMAANVANGADRESHOUDING": pl.Date, "GBADATUMEINDEADRESHOUDING": pl.Date,
                                      "SOORTOBJECTNUMMER": pl.String, "RINOBJECTNUMMER": pl.String}, orient="row")


VSL = pl.LazyFrame({"SOORTOBJECTNUMMER": ["VBO"] * 6,
                    "RINOBJECTNUMMER": ["1", "2", "3", "4", "5", "6"],
                    "GEMEENTE": ["0363", "0599", "363", "GM0014", "9999", None]})


def _objects(lookup: str):
    """None: municipality_on_jan1 builds the objects itself (joined on the two text columns); "keyed": the
    population asset's lookup, built once and joined on a hash of the two."""
    if lookup == "text":
        return None
    keyed = RG.keyed_objects(RG.object_municipalities(VSL).collect())
    assert RG._KEY in keyed.columns
    return keyed


@pytest.mark.parametrize("lookup", ["text", "keyed"])
def test_municipality_on_1_january_rule(lookup):
    a = _addr([
        # 1: moves on 1 March 2019 from Amsterdam to Rotterdam -> Amsterdam (the spell covering 1 January)
        (1, "R", D(2010, 1, 1), D(2019, 2, 28), "VBO", "1"), (1, "R", D(2019, 3, 1), None, "VBO", "2"),
        # 2: old address ends 20 December 2018, a gap, new one from 5 January 2019 -> the new one (Rotterdam)
        (2, "R", D(2010, 1, 1), D(2018, 12, 20), "VBO", "1"), (2, "R", D(2019, 1, 5), None, "VBO", "2"),
        # 3: moves on 1 January 2019 itself -> the new address (Groningen, code written GM0014)
        (3, "R", D(2010, 1, 1), D(2018, 12, 31), "VBO", "3"), (3, "R", D(2019, 1, 1), None, "VBO", "4"),
        # 4: gap too long (new address from 15 February) -> no municipality
        (4, "R", D(2010, 1, 1), D(2018, 12, 20), "VBO", "1"), (4, "R", D(2019, 2, 15), None, "VBO", "2"),
        # 5: object not in VSLGWBTAB -> null; 6: not RINPERSOONS R -> not returned
        (5, "R", D(2010, 1, 1), None, "VBO", "77"),
        (6, "S", D(2010, 1, 1), None, "VBO", "1"),
        # 7: moves on 20 January (within the 31 days) -> still the spell covering 1 January (Amsterdam)
        (7, "R", D(2010, 1, 1), D(2019, 1, 19), "VBO", "1"), (7, "R", D(2019, 1, 20), None, "VBO", "2"),
        # 8: overlapping spells on 1 January -> the one that started last (Groningen)
        (8, "R", D(2010, 1, 1), D(2019, 6, 30), "VBO", "1"), (8, "R", D(2018, 7, 1), None, "VBO", "4"),
    ])
    objects = _objects(lookup)
    got = dict(RG.municipality_on_jan1(a, VSL, 2019, objects=objects).collect().iter_rows())
    assert got == {1: "GM0363", 2: "GM0599", 3: "GM0014", 5: None, 7: "GM0363", 8: "GM0014"}
    # on 1 January 2020: everybody at the last address
    got = dict(RG.municipality_on_jan1(a, VSL, 2020, objects=objects).collect().iter_rows())
    assert got == {1: "GM0599", 2: "GM0599", 3: "GM0014", 4: "GM0599", 5: None, 7: "GM0599", 8: "GM0014"}


def test_keyed_objects_compare_the_text_and_fall_back_when_keys_collide(monkeypatch):
    """The hash only finds the candidate object: an address whose object shares the hash of another (forced
    here: every object hashes alike) must not take that object's municipality, and objects whose keys collide
    are looked up by their text instead."""
    a = _addr([(1, "R", D(2010, 1, 1), None, "VBO", "1"), (2, "R", D(2010, 1, 1), None, "VBO", "77"),
               (3, "R", D(2010, 1, 1), None, "LIG", "1"), (4, "R", D(2010, 1, 1), None, None, "1")])
    want = {1: "GM0363", 2: None, 3: None, 4: None}
    objects = RG.object_municipalities(VSL).collect()
    assert dict(RG.municipality_on_jan1(a, VSL, 2019, objects=RG.keyed_objects(objects)).collect().iter_rows()) == want
    constant = lambda soort="SOORTOBJECTNUMMER", rin="RINOBJECTNUMMER": (  # noqa: E731
        pl.when(pl.col(soort).is_not_null() & pl.col(rin).is_not_null()).then(pl.lit(7, pl.UInt64)).alias(RG._KEY))
    monkeypatch.setattr(RG, "_object_key", constant)
    one = objects.filter(pl.col("RINOBJECTNUMMER") == "1")
    keyed = RG.keyed_objects(one)       # a single object: its key is unique, so the hash join is used
    assert RG._KEY in keyed.columns
    assert dict(RG.municipality_on_jan1(a, VSL, 2019, objects=keyed).collect().iter_rows()) == want
    collided = RG.keyed_objects(objects)
    assert RG._KEY not in collided.columns
    assert dict(RG.municipality_on_jan1(a, VSL, 2019, objects=collided).collect().iter_rows()) == want


def test_unknown_municipality_is_reported_and_its_residents_have_no_regio():
    from monitor_dagster.defs.core.assets import _regions

    mapping = RR.gemeente_arbeidsmarktregio(2020)
    unknown = RG.unknown_municipalities(VSL, mapping).collect()
    assert unknown.rows() == [("GM9999", 1)]
    # the population asset hands over the object municipalities it built for its buckets: the same answer
    objects = RG.object_municipalities(VSL).collect()
    assert RG.unknown_municipalities(None, mapping, objects).collect().rows() == [("GM9999", 1)]
    for given in (None, objects):
        _, info = _regions(2020, VSL, given)
        assert info["status"] == "computable"
        assert len(info["problems"]) == 1 and "1 municipality code(s)" in info["problems"][0]
        assert "GM9999 (1 objects)" in info["problems"][0] and MAPPING_2020 in info["problems"][0]
    frame = pl.LazyFrame({"person_id": [1, 2, 3], "gemeente": ["GM0363", "GM9999", None]})
    out = RG.with_regions(frame, mapping).collect().sort("person_id")
    assert out["regio"].to_list() == ["AM18", None, None]
    assert out["randstad"].to_list() == ["randstad", None, None]
    assert RG.with_regions(frame, None).collect()["regio"].null_count() == 3


def test_gemeente_code_normalisation():
    df = pl.DataFrame({"GEMEENTE": ["363", "0363", "GM0363", " gm0014 ", "", None, "14.0"]})
    assert df.select(RG.gemeente_code())["gemeente"].to_list() == [
        "GM0363", "GM0363", "GM0363", "GM0014", None, None, "GM0014"]


# ---------------------------------------------------------------------------------- population columns
def _gba(pids):
    return pl.LazyFrame({"person_id": pids, "RINPERSOONS": ["R"] * len(pids), "GBAGEBOORTEJAAR": [1980] * len(pids),
                         "GBAGEBOORTEMAAND": [5] * len(pids), "GBAGESLACHT": ["1"] * len(pids),
                         "GBAHERKOMSTGROEPERING": ["6023"] * len(pids), "GBAGENERATIE": ["1"] * len(pids)})


def test_population_asielstatus_and_optional_inputs():
    pids = [1, 2, 3]
    addresses = _addr([(p, "R", D(2000, 1, 1), None, "VBO", str(p)) for p in pids])
    secm = pl.LazyFrame(schema={"person_id": pl.Int64, "RINPERSOONS": pl.String, "AANVSECM": pl.Date,
                                "EINDSECM": pl.Date, "SECM": pl.String})
    mig = pl.LazyFrame({"person_id": [1, 2, 2], "RINPERSOONS": ["R"] * 3,
                        "DATUMAANVANGMOTIEF": [D(2001, 1, 1), D(2001, 1, 1), D(2020, 6, 1)],
                        "MIGMOTIEF": ["2", "1", "2"]})
    base = dict(addresses=addresses, secm=secm, gba=_gba(pids), secm_last_year=2019)
    pop = POP.population(2019, migmotief=mig, vslgwb=VSL, regio_map=RR.gemeente_arbeidsmarktregio(2020),
                         **base).collect().sort("person_id")
    # 1 asylum; 2 labour (its asylum spell begins after 2019); 3 not in MIGMOTIEFBUS
    assert pop["asielstatus"].to_list() == ["statushouder", "overig migratiemotief", "geen migratie"]
    assert pop["asielmotief"].to_list() == [True, False, None]      # unchanged: first generation, no row -> null
    assert pop["gemeente"].to_list() == ["GM0363", "GM0599", "GM0363"]
    assert pop["regio"].to_list() == ["AM18", "AM22", "AM18"]
    # without MIGMOTIEFBUS, VSLGWBTAB or a mapping: the columns are there, null
    bare = POP.population(2019, **base).collect()
    for c in ("gemeente", "regio", "randstad", "asielstatus"):
        assert bare[c].null_count() == bare.height and bare.schema[c] == pl.String, c
    no_map = POP.population(2019, vslgwb=VSL, **base).collect()
    assert no_map["gemeente"].null_count() == 0 and no_map["regio"].null_count() == 3
    # GBAADRESOBJECTBUS without the object columns (a partial zone): gemeente null, nothing fails
    bare_addr = addresses.drop("SOORTOBJECTNUMMER", "RINOBJECTNUMMER")
    no_obj = POP.population(2019, vslgwb=VSL, **{**base, "addresses": bare_addr}).collect()
    assert no_obj.height == 3 and no_obj["gemeente"].null_count() == 3


# ------------------------------------------------------------------------------------- catalog and formats
@pytest.mark.parametrize("fmt", ["sav", "csv"])
def test_generator_file_matches_catalog_and_ingests_to_canonical_columns(tmp_path, fmt):
    from monitor_dagster.ingest import ingest_file
    from monitor_dagster.synth.generate import SynthConfig, generate

    res = generate(SynthConfig(landing=tmp_path / "landing", persons=150, first_year=2020, last_year=2020, seed=3,
                               fmt=fmt, only_files=("VSLGWBTAB",)))
    (f,) = [f for f in res.files if f.file_id == "VSLGWBTAB"]
    cat = load_catalog()
    m = cat.match(f.path)
    assert m is not None and (m.entry, m.period, m.version) == ("VSLGWBTAB", 2020, 1), f.path
    out = ingest_file(res.config.landing / f.path, m, cat).frame
    assert {"GEMEENTE", "WIJK", "BUURT", "SOORTOBJECTNUMMER", "RINOBJECTNUMMER"} <= set(out.columns)
    assert out["GEMEENTE"].null_count() == 0 and out["GEMEENTE"].str.len_chars().max() == 4
    codes = set(out.select(RG.gemeente_code())["gemeente"])
    assert codes <= set(RR.gemeente_arbeidsmarktregio(2020)["gemeente_code"])


def test_year_placeholder_in_renames():
    e = load_catalog().entry("VSLGWBTAB")
    assert e.renames_for(2017) == {"gem2017": "GEMEENTE", "wc2017": "WIJK", "bc2017": "BUURT"}
    assert e.renames_for(None) == {}
    from monitor_dagster.ingest.normalise import canonical_renames

    renames, problems = canonical_renames(["GEM2017", "wc2017", "bc2016", "RINOBJECTNUMMER"], e, 2017)
    assert renames == {"GEM2017": "GEMEENTE", "wc2017": "WIJK"} and not problems


def test_shipped_mapping_is_complete():
    m = RR.gemeente_arbeidsmarktregio(2020)
    assert m.height == 355 and m["gemeente_code"].n_unique() == 355
    assert set(m["randstad"]) == {"randstad", "overig"}


def test_planted_regional_difference_is_visible_in_the_gated_table(core_wh, tmp_path, monkeypatch):
    """Acceptance of issue 18: the generator's planted difference (more bijstand in the planted region,
    ``regions_model.planted``) shows in the published figures: O12 (share with bijstand, technisch rapport
    §4.2) through the engine on core/population of 2019 with a 2019 mapping, then the disclosure gate, is higher
    in the planted region than in the country, and the region's cell counts its persons of the base population."""
    from monitor_dagster.gates.disclosure import apply_disclosure
    from monitor_dagster.indicators import engine as ENG

    truth = _truth(core_wh)
    region = truth["regions_model"]["planted"]["region"]
    monkeypatch.setenv(RR.REGIO_DIR_ENV, str(tmp_path))
    src = resources.files("monitor_dagster.reference").joinpath(MAPPING_2020)
    (tmp_path / RR.mapping_file(2019)).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    mapping, _ = RR.regio_mapping(2019)
    frames = ENG.warehouse_frames(core_wh, "secm", 2019)
    frames["core/population"] = POP.population(2019, **_source_frames(Warehouse(core_wh), 2019),
                                               regio_map=mapping).collect().lazy()
    table = apply_disclosure(ENG.compute_family("secm", frames, 2019).table)
    o12 = table.filter((pl.col("indicator_id") == "O12") & (pl.col("herkomst") == "totaal"))
    for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal", "randstad",
              "asielstatus", "inkomensklasse"):
        o12 = o12.filter(pl.col(d) == "totaal")
    national = o12.filter(pl.col("regio") == "totaal").row(0, named=True)
    planted = o12.filter(pl.col("regio") == region).row(0, named=True)
    assert not planted["suppressed"] and not national["suppressed"]
    # and the highest of all regions shown (on this zone: 16.7 % of 54 persons; next AM21 13.3 %, country 5.9 %)
    shown = o12.filter((pl.col("regio") != "totaal") & ~pl.col("suppressed"))
    assert shown.sort("value", descending=True)["regio"][0] == region, shown.sort("value", descending=True).head(3)
    assert planted["value"] > 1.5 * national["value"], (planted, national)
    assert o12.filter(pl.col("regio") != "totaal")["regio"].n_unique() > 30
