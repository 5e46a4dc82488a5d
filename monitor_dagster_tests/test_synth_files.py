"""Every CBS file of data_catalog.yaml is written, with CBS's column names, types and code values."""

from __future__ import annotations

import re

import polars as pl
import pytest

from monitor_dagster import reference
from monitor_dagster_tests.conftest import files_of, load

KEYS = ["RINPERSOONS", "RINPERSOON"]
DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")

# Columns that must be present (CBS file documentation); files may carry more.
REQUIRED = {
    "GBAPERSOONTAB": KEYS + ["GBAGEBOORTELAND", "GBAGESLACHT", "GBAGEBOORTELANDMOEDER", "GBAGEBOORTELANDVADER",
                             "GBAAANTALOUDERSBUITENLAND", "GBAHERKOMSTGROEPERING", "GBAGENERATIE", "GBAGEBOORTEJAAR",
                             "GBAGEBOORTEMAAND", "GBAGEBOORTEDAG", "GBAIMPUTATIECODE"],
    "GBAADRESOBJECTBUS": KEYS + ["GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING", "SOORTOBJECTNUMMER",
                                 "RINOBJECTNUMMER"],
    "GBAMIGRATIEBUS": KEYS + ["AANVANGMIGRATIEDATUM", "EINDEMIGRATIEDATUM", "MIGRATIESOORT", "MIGRATIELAND"],
    "SECMBUS": KEYS + ["AANVSECM", "EINDSECM", "SECM", "XKOPPELWERKNSECM", "XKOPPELDGASECM", "XKOPPELZELFSTSECM",
                       "XKOPPELWERKLUITKSECM", "XKOPPELBIJSTANDSECM", "XKOPPELSOCVOORZOVSECM", "XKOPPELZIEKTEAOSECM",
                       "XKOPPELPENSIOENSECM", "XKOPPELSCHOLSTUDSECM"],
    "SPOLISBUS": KEYS + ["IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SDATUMAANVANGIKV", "SDATUMEINDEIKV",
                         "SBASISLOON", "SBASISUREN", "SAANTVERLU", "SOVERWERKUREN", "SREGULIEREUREN", "SBAANDAGEN",
                         "SVOLTIJDDAGEN", "SBIJZONDEREBELONING", "SLNINGLD", "SCONTRACTSOORT", "SSOORTBAAN", "SSRTIV",
                         "SSECT", "SCAOSECTOR", "SPOLISDIENSTVERBAND", "SWEKARBDUURKLASSE"],
    "INPATAB": KEYS + ["INPPERSINK", "INPPERSPRIM", "INPPERSBRUT"],
    "EBBNW": KEYS + ["EbbGewJaarGewichtA", "EbbAflLft", "EbbAflHerkomstGBA2d"],
    "DIPLOMAMBOTAB": KEYS + ["EXAMENDATUMMBO", "OPLNR", "TYPEMBODPL", "SELECTIEHOOFDDPLMBO"],
    "DIPLOMAHOTAB": KEYS + ["EXAMENMAAND", "STUDIEFASEDIPL", "OPLNR", "VORMOPLEIDINGHODIP"],
    "ONDERWIJSINSCHRTAB": KEYS + ["OPLNR", "TYPEONDERWIJS", "HOOFDINSCHR"],
    "EXAMVOTAB": KEYS,
    "HOOGSTEOPLTAB": KEYS,
    "BIJSTANDPERSOONBUS": KEYS, "WWPERSOONBUS": KEYS, "AOTOTPERSOONBUS": KEYS, "SIRWWPERSOONBUS": KEYS,
    "SIRAGPERSOONBUS": KEYS, "SRGPERSOONPWETBUS": KEYS, "PWETSRGPERSOONBUS": KEYS, "MIGMOTIEFBUS": KEYS,
    "MBOSCHOOLVERLATERS": KEYS, "LANDAKTUEELREF": ["LAND", "LANDTYPE"], "OPLEIDINGSNRREF": ["OPLNR"],
    "VSVMBOTAB": KEYS + ["VSVLEERWEG", "VSVINDICATOR", "VSVREDEN"],
    "SBBKANSOPWERK": [],
}
DATE_COLUMNS = {
    "GBAADRESOBJECTBUS": ["GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING"],
    "SECMBUS": ["AANVSECM", "EINDSECM"],
    "SPOLISBUS": ["SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SDATUMAANVANGIKV", "SDATUMEINDEIKV"],
    "GBAMIGRATIEBUS": ["AANVANGMIGRATIEDATUM", "EINDEMIGRATIEDATUM"],
    "DIPLOMAMBOTAB": ["EXAMENDATUMMBO"],
}
SENTINELS = {"88888888", "99999999", "20500101"}
CODES = {
    ("SECMBUS", "SECM"): {"11", "12", "13", "14", "15", "21", "22", "23", "24", "25", "26", "31", "32"},
    ("SPOLISBUS", "SCONTRACTSOORT"): {"O", "B", "N", "o", "b", "n"},
    ("SPOLISBUS", "SSOORTBAAN"): {"1", "2", "3", "4", "5", "9"},
    ("SPOLISBUS", "SPOLISDIENSTVERBAND"): {"1", "2"},
    ("SPOLISBUS", "SWEKARBDUURKLASSE"): {"1", "2", "3", "4", "5", "6"},
    ("GBAPERSOONTAB", "GBAGESLACHT"): {"1", "2", "-"},
    ("GBAPERSOONTAB", "GBAGENERATIE"): {"0", "1", "2"},
    ("GBAPERSOONTAB", "GBAAANTALOUDERSBUITENLAND"): {"0", "1", "2"},
    ("AOTOTPERSOONBUS", "AOWET"): {"1", "2", "3", "4", "5"},
    ("GBAMIGRATIEBUS", "MIGRATIESOORT"): {"I", "E", "A"},
}


@pytest.mark.parametrize("file_id", sorted(REQUIRED))
def test_every_file_written_with_required_columns(zone, file_id):
    fs = files_of(zone, file_id)
    assert fs, f"{file_id} missing from the landing zone"
    df = load(zone, file_id, fs[-1].year)
    missing = [c for c in REQUIRED[file_id] if c not in df.columns]
    assert not missing, f"{file_id}: missing {missing}"
    assert df.height > 0, f"{file_id} is empty"
    assert "pid" not in df.columns


@pytest.mark.parametrize("file_id", sorted(DATE_COLUMNS))
def test_dates_are_yyyymmdd_strings_or_sentinels(zone, file_id):
    df = load(zone, file_id, 2019)
    for c in DATE_COLUMNS[file_id]:
        assert df[c].dtype == pl.Utf8, f"{file_id}.{c} must be a string"
        bad = df.filter(~pl.col(c).str.contains(DATE.pattern) & ~pl.col(c).is_in(list(SENTINELS)))
        assert bad.height == 0, f"{file_id}.{c}: {bad[c].head(3).to_list()}"


@pytest.mark.parametrize(("file_id", "col"), sorted(CODES))
def test_code_values_within_code_lists(zone, file_id, col):
    df = load(zone, file_id, 2019)
    values = set(df[col].unique().to_list())
    assert values <= CODES[(file_id, col)], f"{file_id}.{col}: unexpected {values - CODES[(file_id, col)]}"


def test_person_keys_are_cbs_shaped(zone):
    df = load(zone, "SPOLISBUS", 2019)
    assert df["RINPERSOON"].str.len_chars().eq(9).all()
    kinds = df["RINPERSOONS"].value_counts()
    assert set(kinds["RINPERSOONS"]) == {"R", "S"}, "a small share of non-R keys belongs in SPOLIS"
    share_s = (df["RINPERSOONS"] == "S").mean()
    assert 0 < share_s < 0.05
    g = load(zone, "GBAPERSOONTAB", 2021)
    assert g.select(KEYS).is_duplicated().sum() == 0, "GBAPERSOONTAB must be unique per person"


def test_country_codes_come_from_the_reference(zone):
    codes = set(reference.countries()["code"].to_list())
    g = load(zone, "GBAPERSOONTAB", 2021)
    for c in ("GBAGEBOORTELAND", "GBAGEBOORTELANDMOEDER", "GBAGEBOORTELANDVADER", "GBAHERKOMSTGROEPERING"):
        assert set(g[c].unique().to_list()) <= codes, c


def test_amounts_are_numeric(zone):
    s = load(zone, "SPOLISBUS", 2019)
    for c in ("SBASISLOON", "SBASISUREN", "SLNINGLD", "SAANTCTRCTURENPWK"):
        assert s[c].dtype.is_numeric(), c
    i = load(zone, "INPATAB", 2019)
    assert i["INPPERSPRIM"].dtype.is_numeric()
    assert (i["INPPERSPRIM"] == 9_999_999_999).any(), "income files carry the 9999999999 missing code"


def test_ebb_weights_add_up_to_the_population(zone):
    e = load(zone, "EBBNW", 2018)
    total = e["EbbGewJaarGewichtA"].sum()
    # weights stand for the population 15-89 of NL: between 11 and 17 million
    assert 11e6 < total < 17.5e6, total
    assert e.group_by(KEYS).len()["len"].max() > 1, "respondents answer in several waves"


def test_layout_is_remote_access_like(zone):
    paths = [f.path for f in zone.files]
    assert any(p.startswith("Bevolking/GBAPERSOONTAB/2019/GBAPERSOON2019TABV1") for p in paths)
    assert any(p.startswith("Spolis/SPOLISBUS/2019/SPOLISBUS2019V1") for p in paths)
    assert any(p.startswith("InkomenBestedingen/SECMBUS/SECMBUS2019V1") for p in paths)
    assert any(p.startswith("Arbeid/EBBnw/EBBnw2019V1") for p in paths)


def test_the_truth_file_records_the_generator_code_and_an_old_zone_is_named(zone, tmp_path):
    """A benchmark that re-used a zone of older generator code missed that the code of its session broke the
    national run (thirty-ninth session): the truth file records a fingerprint of the generator's code, and
    stale_zone says when a zone's fingerprint is not today's (benchmarks/pipeline.py warns, duckdb_peer.py
    writes its zone anew)."""
    import json

    from monitor_dagster.synth.truth import generator_code, stale_zone

    truth = zone.config.truth_path
    code = json.loads(truth.read_text())["generator_code"]
    assert code == generator_code() and len(code) == 12
    assert stale_zone(truth) is None
    old = tmp_path / "old.truth.json"
    old.write_text(json.dumps({"generator": "monitor_dagster.synth", "generator_code": "0123456789ab"}))
    assert stale_zone(old) == (f"the zone was written by generator code 0123456789ab, the generator is now {code}: "
                               "its files may lack what it writes today")
    old.write_text(json.dumps({"generator": "monitor_dagster.synth"}))
    assert "a generator that did not record its code" in stale_zone(old)
    assert "no truth file" in stale_zone(tmp_path / "missing.json")
