"""Issue 19 wired into the pipeline: the survey exports are catalog sources (the form of the wave is the gate, the
release sensor's plan picks them up), the survey asset's rows pass the table's gates with the organisation rules,
nothing identifying reaches a cell, the planted truth is recovered within the margin, ``monitor synth`` writes a
wave and the publication has the section "Inzet en aanpak"."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError
from monitor_dagster.ingest.release import ingest_release
from monitor_dagster.landing import SensorCursor, plan, scan
from monitor_dagster.synth import surveys as S
from monitor_dagster.warehouse import Warehouse

ENTRIES = {"gemeenten": ("ENQUETEGEMEENTEN", "ENQUETEGEMEENTENKADER"),
           "werkgevers": ("ENQUETEWERKGEVERS", "ENQUETEWERKGEVERSKADER"),
           "onderwijsinstellingen": ("ENQUETEONDERWIJS", "ENQUETEONDERWIJSKADER")}


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """A landing zone with one synthetic 2023 wave of each instrument (a small employer frame), ingested."""
    root = tmp_path_factory.mktemp("surveys")
    landing, truth_dir = root / "landing", root / "truth"
    truths = {}
    for inst in ENTRIES:
        truths[inst] = S.generate_responses(landing / "Enquetes" / inst / "2023", inst, "2023", seed=11,
                                            stem=f"{inst}_2023V1", truth_dir=truth_dir, n_employers=1500)
    cat = load_catalog()
    wh = Warehouse(root / "warehouse")
    for pair in ENTRIES.values():
        for entry in pair:
            ingest_release(cat, entry, 2023, landing, wh)
    return {"root": root, "landing": landing, "warehouse": root / "warehouse", "truth": truths, "catalog": cat}


@pytest.fixture(scope="module")
def rows(zone):
    from monitor_dagster.defs.indicators.surveys import compute_year

    table, meta = compute_year(zone["warehouse"], 2023)
    return table, meta


def test_sensor_plan_picks_up_exports_and_frames(zone):
    cursor = SensorCursor()
    for _ in range(2):          # the first tick sees the files, the second finds them stable
        decisions, cursor = plan(scan(zone["landing"], zone["catalog"]), cursor, zone["landing"], zone["catalog"])
    ingest = {(d.entry, d.period) for d in decisions if d.action == "ingest"}
    assert ingest == {(e, 2023) for pair in ENTRIES.values() for e in pair}


def test_bad_export_is_blocked_naming_file_question_row_value(zone, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(zone["landing"], landing)
    folder = landing / "Enquetes" / "gemeenten" / "2023"
    shutil.copy(folder / "gemeenten_2023V1.csv", folder / "gemeenten_2023V2.csv")
    S.plant_bad_value(folder / "gemeenten_2023V2.csv", 7, "prioriteit", "misschien")
    wh = Warehouse(tmp_path / "wh")
    cat = zone["catalog"]
    ingest_release(cat, "ENQUETEGEMEENTEN", 2023, landing, wh, allow_older=["ENQUETEGEMEENTEN2023V1"])
    with pytest.raises(IngestError) as err:
        ingest_release(cat, "ENQUETEGEMEENTEN", 2023, landing, wh)
    msg = str(err.value)
    assert ("Enquetes/gemeenten/2023/gemeenten_2023V2.csv: question prioriteit, row 7: value 'misschien' "
            "not in the choice list") in msg, msg
    f = err.value.failures[0]
    assert (f.column, f.examples) == ("prioriteit", ["misschien"]) and "row 7" in f.rule
    # the good release stays current
    assert wh.manifest("ENQUETEGEMEENTEN", "2023")["release_id"] == "ENQUETEGEMEENTEN2023V1"


def test_wave_without_a_form_is_refused(zone, tmp_path):
    landing = tmp_path / "landing"
    (landing / "Enquetes" / "gemeenten" / "2025").mkdir(parents=True)
    shutil.copy(zone["landing"] / "Enquetes" / "gemeenten" / "2023" / "gemeenten_2023V1.csv",
                landing / "Enquetes" / "gemeenten" / "2025" / "gemeenten_2025V1.csv")
    with pytest.raises(IngestError, match="no form for this wave: no packaged form gemeenten_2025"):
        ingest_release(zone["catalog"], "ENQUETEGEMEENTEN", 2025, landing, Warehouse(tmp_path / "wh"))


def test_frame_is_checked_by_the_column_gate(zone, tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "Enquetes" / "werkgevers" / "2023"
    folder.mkdir(parents=True)
    src = zone["landing"] / "Enquetes" / "werkgevers" / "2023" / "werkgevers_2023_frame.csv"
    text = src.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].rsplit(";", 1)[0] + ";reus"            # a size class not in the list
    (folder / "werkgevers_2023_frame.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(IngestError, match="grootteklasse") as err:
        ingest_release(zone["catalog"], "ENQUETEWERKGEVERSKADER", 2023, landing, Warehouse(tmp_path / "wh"))
    assert "reus" in str(err.value)


def test_rows_pass_the_table_gates_with_the_organisation_rules(rows):
    from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA

    table, meta = rows
    assert set(meta) == set(ENTRIES)
    assert {i[:3] for i in table["indicator_id"].unique()} == {"S-g", "S-w", "S-o"}
    t = table.select(COLUMNS).cast(SCHEMA)
    gated = apply_disclosure(t)
    # upstream protection kept as it was: the 10-person rule hides no cell of 5-9 organisations
    assert gated["suppressed"].to_list() == t["suppressed"].to_list()
    small = gated.filter(~pl.col("suppressed") & (pl.col("n") < 10))
    assert small.height > 0 and small["n"].min() >= 5
    assert check_disclosure(gated) == []
    # a shown cell of 3 organisations is a violation
    i = gated.with_row_index("_i").filter(~pl.col("suppressed"))["_i"][0]
    bad = gated.with_columns(pl.when(pl.int_range(pl.len()) == i).then(3).otherwise(pl.col("n")).alias("n"))
    assert any("organisation cell shown with n < 5" in p for p in check_disclosure(bad))


def test_no_organisation_can_be_traced_in_a_cell(zone, rows):
    table, _ = rows
    frames = {inst: pl.read_csv(zone["landing"] / "Enquetes" / inst / "2023" / f"{inst}_2023_frame.csv",
                                separator=";", infer_schema=False) for inst in ENTRIES}
    names = set()
    for f in frames.values():
        names |= set(f["org_id"].to_list()) | (set(f["naam"].to_list()) if "naam" in f.columns else set())
    text = {v for c, dt in table.schema.items() if dt == pl.String for v in table[c].drop_nulls().unique().to_list()}
    assert not text & names
    assert not [c for c in table.columns if c in ("org_id", "naam")]
    # breakdowns only by table dimensions: size class stays out (it would read as a duplicate of the totaal)
    assert "grootteklasse" not in table.columns


def test_open_answers_reach_the_coders_without_the_organisation_name(zone, monkeypatch):
    """The open answers are stored for coding with a random code instead of org_id; the names of the sample frame
    (municipalities, institutions) are blanked in them.  Until December 2026 compute_year passed no names, so a
    municipality writing its own name was read by the coders under its name (report §3.1, §3.8: the form
    promises confidentiality)."""
    from monitor_dagster.defs.indicators.surveys import compute_year
    from monitor_dagster.surveys import indicators as SI

    seen = {}
    real = SI.open_answers

    def spy(form, responses, **kw):
        seen[form.instrument] = kw.get("redact") or {}
        return real(form, responses, **kw)

    monkeypatch.setattr(SI, "open_answers", spy)
    compute_year(zone["warehouse"], 2023)
    frame = pl.read_csv(zone["landing"] / "Enquetes" / "gemeenten" / "2023" / "gemeenten_2023_frame.csv",
                        separator=";", infer_schema=False)
    first = frame.row(0, named=True)
    assert seen["gemeenten"][first["org_id"]] == [first["naam"]] and len(seen["gemeenten"]) == frame.height
    assert seen["onderwijsinstellingen"] and seen["werkgevers"] == {}       # the employer frame has no names
    # the form says what is done, not "anoniem" (the responses carry org_id for the weights)
    from monitor_dagster.surveys.xlsform import form as survey_form
    intro = survey_form("gemeenten", "2023").questions["intro"].label
    assert "vertrouwelijk" in intro and "is anoniem" not in intro


def test_a_landed_wave_is_built_without_waiting_for_the_register_year(zone, tmp_path):
    """The survey_waves sensor asks for the survey family of a year as soon as its exports and frames are in the
    warehouse, whatever the register files of the year: until December 2026 only the two-yearly input schedule
    built it, for the cohorts t-4..t-2 once their population and benefit follow-up were in, so the 2023 wave
    would have reached the site in May 2026.  Built from the same releases: no request; a corrected export:
    again."""
    import shutil

    from monitor_dagster.defs.indicators.surveys import KEY, compute_year
    from monitor_dagster.defs.schedules import survey_wave_requests
    from monitor_dagster.definitions import defs

    import dagster as dg

    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.defs.schedules import survey_waves

    wh = tmp_path / "wh"
    shutil.copytree(zone["warehouse"], wh)
    assert Warehouse(wh, layer="core").partitions("population") == []          # no register year at all
    reqs = survey_wave_requests(wh)
    assert [(r.partition_key, r.asset_selection) for r in reqs] == [("2023", [KEY])]
    with dg.instance_for_test() as inst:                                        # the sensor itself asks the same
        monitor = MonitorResource(landing=str(zone["landing"]), warehouse=str(wh))
        res = survey_waves(dg.build_sensor_context(instance=inst, resources={"monitor": monitor}))
        assert [r.run_key for r in res] == [r.run_key for r in reqs]
    assert "ENQUETEGEMEENTEN2023V1" in reqs[0].run_key
    table, _ = compute_year(wh, 2023)
    vintages = ",".join(sorted({v for x in table["vintages"].unique().to_list() for v in x.split(",")}))
    Warehouse(wh, layer="indicators").write("inputs_surveys", "2023", table, {"vintages": vintages})
    assert survey_wave_requests(wh) == []
    Warehouse(wh).write("ENQUETEWERKGEVERS", "2023", Warehouse(wh).read("ENQUETEWERKGEVERS", "2023").collect(),
                        {"release_id": "ENQUETEWERKGEVERS2023V2"})
    assert [r.partition_key for r in survey_wave_requests(wh)] == ["2023"]
    assert "survey_waves" in {x.name for x in defs.sensors}


def test_planted_priority_shares_recovered_within_the_margin(zone, rows):
    table, _ = rows
    truth = zone["truth"]["gemeenten"]["shares"]["prioriteit"]
    tot = table.filter((pl.col("indicator_id") == "S-g1") & (pl.col("regio") == "totaal"))
    assert tot.height == 4
    for r in tot.iter_rows(named=True):
        choice = r["measure"].split(": ")[1]
        assert abs(r["value"] - 100 * truth[choice]) <= r["moe"], (choice, r["value"], truth[choice], r["moe"])
        assert r["n"] == zone["truth"]["gemeenten"]["respondents"] and 0 < r["response_rate"] < 1


def test_monitor_synth_surveys_option(tmp_path, monkeypatch):
    import functools

    from monitor_dagster.synth.generate import SynthConfig, SynthError, write_surveys

    # a smaller employer frame than the WEA-sized default (the files are the same otherwise)
    monkeypatch.setattr(S, "generate_responses", functools.partial(S.generate_responses, n_employers=400))

    cfg = SynthConfig(landing=tmp_path / "landing", surveys=("2031",), fmt="csv")
    with pytest.raises(SynthError, match="no packaged form for that wave"):
        cfg.validate()
    cfg = SynthConfig(landing=tmp_path / "landing", surveys=("2023",), fmt="sav")
    cfg.validate()
    truth = write_surveys(cfg)
    assert set(truth) == {f"{i}_2023" for i in ENTRIES}
    cat = load_catalog()
    found = {cat.match(p.relative_to(cfg.landing).as_posix()).entry
             for p in (cfg.landing / "Enquetes").rglob("*.*")}
    assert found == {e for pair in ENTRIES.values() for e in pair}
    assert (cfg.landing / "Enquetes" / "werkgevers" / "2023" / "werkgevers_2023V1.xlsx").exists()   # sav zone
    assert not list(cfg.landing.rglob("*truth*"))                     # the truth stays outside the zone
    assert json.loads((tmp_path / "landing.surveys" / "gemeenten_2023V1_truth.json").read_text())["respondents"] > 0


def test_publication_section_inzet_en_aanpak(zone, rows, tmp_path):
    from monitor_dagster.gates.disclosure import apply_disclosure
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA
    from monitor_dagster.publication import surveys as SURV
    from monitor_dagster.publication.site import _env

    table, _ = rows
    gated = apply_disclosure(table.select(COLUMNS).cast(SCHEMA))
    wh = Warehouse(tmp_path / "wh", layer="indicators")
    wh.write("inputs_surveys", "2023", table, {"rows": table.height})
    page = SURV.write(_env(), tmp_path, gated, tmp_path / "wh", {"first_year": 2023, "last_year": 2023,
                                                                 "built_on": "01-01-2024", "cells_total": "0",
                                                                 "cells_suppressed": "0", "provisional_years": []})
    html = page.read_text(encoding="utf-8")
    assert "Inzet en aanpak" in html and "§ 7.3" in html
    for label in ("Gemeenten (2023)", "Werkgevers (2023)", "Onderwijsinstellingen (2023)"):
        assert label in html
    assert "marge (±)" in html and "Respons:" in html
    ctx = SURV.context(gated, SURV.load(tmp_path / "wh"))
    g1 = next(i for i in ctx["instruments"][0]["indicators"] if i["id"] == "S-g1")
    assert all(r["moe"] for r in g1["rows"])                 # shown cells carry their margin
    # the generic indicator page counts organisations and names the monitor's own questionnaire as its source:
    # its table, tooltips and notes said "Personen" and its footer "CBS-microdata (Remote Access)" until December
    # 2026 (report § 3.2.2: the municipalities answer, not persons, and it is no CBS file)
    from monitor_dagster.publication.site import _indicator_page

    common = {"first_year": 2023, "last_year": 2023, "built_on": "01-01-2024", "cells_total": "0",
              "cells_suppressed": "0", "provisional_years": []}
    html, p = _indicator_page(_env(), gated, "S-g1", common)
    assert p["counted"] == "organisaties" and p["suppression_rule"].startswith("minder dan 5 organisaties")
    tips = {t["title"] for layer in p["spec"]["layer"] for t in layer.get("encoding", {}).get("tooltip", [])
            if isinstance(t, dict)}
    assert "Organisaties" in tips and "Personen" not in tips
    assert "Bronnen: de enquête van de monitor onder gemeenten (technisch rapport § 3.2.2)" in html
    assert "CBS-microdata" not in html and "organisaties krijgt geen lijn" in " ".join(html.split())
    # ... and reads its measures as the form's question and choice (the page showed "prioriteit: zeer_hoog")
    assert p["measure_labels"]["prioriteit: zeer_hoog"] == (
        "Prioriteit: de arbeidstoeleiding van personen met een niet-westerse migratieachtergrond binnen uw gemeente: "
        "Zeer hoge")
    note = SURV.add_to_indicator_page("<h1>S-w2</h1><p>grafiek</p>", "S-w2")
    assert "telt n organisaties" in note and "inzet-en-aanpak.html" in note
    assert SURV.add_to_indicator_page("<h1>O01</h1>", "O01") == "<h1>O01</h1>"
    idx = SURV.add_to_index(_env(), "<h2>Meer</h2>", gated)
    assert 'href="inzet-en-aanpak.html"' in idx and idx.index("Inzet en aanpak") < idx.index("<h2>Meer</h2>")


EXTERN = ("bron,tabel,jaar,indicator,groep,waarde,eenheid,marge,populatie,url,referentie\n"
          "ILLUSTRATIEF TNO NEA 2020,module 19 tabel X,2020,ILLUSTRATIEF cursus gevolgd,"
          "niet-westerse migratieachtergrond,41.0,%,2.5,850000,https://example.org/illustratief,\n"
          "ILLUSTRATIEF TNO NEA 2020,module 19 tabel X,2020,ILLUSTRATIEF cursus gevolgd,"
          "geen migratieachtergrond,47.0,%,0.8,6100000,,ILLUSTRATIEF rapport p. 0\n")


def test_row_labels_keep_the_report_wording_and_tell_the_paired_questions_apart():
    """Every label over 70 characters became the question's code name until December 2026: the report's actions
    read "freq trainingen", and S-o1 showed "prio aansluiting" beside "prio aansluiting nw", hiding that (1)a asks
    about all students and (1)b about students with a niet-westerse migratieachtergrond (report § 3.5)."""
    from monitor_dagster.publication import surveys as SURV

    g, o = SURV.labels("gemeenten", 2023), SURV.labels("onderwijsinstellingen", 2023)
    assert g["freq_trainingen"] == "Sollicitatietrainingen/training werknemersvaardigheden en taaltrainingen"
    assert g["freq_werkgevers"] == "Faciliteren ontmoeting met- en ondersteuning van werkgevers (matching event)"
    assert o["prio_aansluiting"] == ("Prioriteit: de aansluiting tussen opleidingen en de arbeidsmarkt van studenten "
                                     "binnen uw onderwijsinstelling")
    assert "met een niet-westerse migratieachtergrond" in o["prio_aansluiting_nw"]
    assert o["belemmeringen_studiekeuze"].startswith("Belemmeringen om bewuste studiekeuzes")
    assert all(len(v) <= SURV.LABEL_MAX + 2 for k, v in {**g, **o}.items() if ": " not in k)   # questions
    from monitor_dagster.indicators import spec as SPEC

    assert "alle studenten" in SPEC.spec("S-o1").title


def test_published_figures_of_others_are_a_source_and_a_box_apart(zone, rows, tmp_path):
    """Issue 19 item 6 (report §3.3, §3.3.1): NEA/WEA figures enter as the published-figures CSV, a catalog entry
    each; a bad row is named with line and column; the page shows them in their own box with the source.
    Every value here is ILLUSTRATIEF (invented for the test)."""
    from monitor_dagster.gates.disclosure import apply_disclosure
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA
    from monitor_dagster.publication import surveys as SURV
    from monitor_dagster.publication.site import _env

    cat = zone["catalog"]
    landing = tmp_path / "landing"
    (landing / "Extern" / "NEA").mkdir(parents=True)
    (landing / "Extern" / "NEA" / "NEA_V1.csv").write_text(EXTERN, encoding="utf-8")
    (landing / "Extern" / "NEA" / "NEA_V2.csv").write_text(EXTERN.replace("47.0", "veel"), encoding="utf-8")
    assert cat.match("Extern/NEA/NEA_V1.csv").entry == "EXTERNNEA"
    wh = Warehouse(tmp_path / "wh")
    with pytest.raises(IngestError, match=r"NEA_V2.csv: row 2 \(line 3\), column 'waarde': 'veel' is not a number"):
        ingest_release(cat, "EXTERNNEA", None, landing, wh)
    ingest_release(cat, "EXTERNNEA", None, landing, wh, allow_older=["EXTERNNEAV1"])
    assert wh.manifest("EXTERNNEA", "all")["rows"] == 2
    table, _ = rows
    gated = apply_disclosure(table.select(COLUMNS).cast(SCHEMA))
    page = SURV.write(_env(), tmp_path, gated, tmp_path / "wh", {"first_year": 2023, "last_year": 2023,
                                                                 "built_on": "01-01-2024", "cells_total": "0",
                                                                 "cells_suppressed": "0", "provisional_years": []})
    html = page.read_text(encoding="utf-8")
    box = html[html.index('id="andere-bronnen"'):]
    assert "Cijfers uit andere bronnen" in box and "ILLUSTRATIEF TNO NEA 2020" in box
    assert "https://example.org/illustratief" in box and "ILLUSTRATIEF rapport p. 0" in box
    # apart: the monitor's own tables come before the box and never name the other body
    assert "ILLUSTRATIEF" not in html[:html.index('id="andere-bronnen"')]


def test_a_missing_survey_wave_does_not_hold_back_the_input_cohort(tmp_path):
    """The survey indicators are not computable without their wave, but the two-yearly build of the register
    input indicators of that year (P-a..U-c) does not wait for it (readiness.blocking)."""
    from monitor_dagster.readiness import year_readiness

    r = year_readiness(tmp_path, 2023)
    assert r.indicators["S-g1"].state == "not computable"
    assert not [x for x in r.blocking("two-yearly") if "ENQUETE" in x]


def test_catalog_refuses_a_survey_entry_that_declares_columns(tmp_path):
    from monitor_dagster.catalog import CatalogError

    text = (tmp_path / "c.yaml")
    base = ("version: 1\nsentinels: {open_end: [], temporary_suffixes: []}\ntrend_breaks: {}\nfiles:\n  X:\n"
            "    thema: Enquetes\n    folder: x\n    kind: KIND\n    EXTRA\n    periods: [2023, null]\n"
            "    patterns: ['x_(?P<year>\\d{4})V(?P<version>\\d+)\\.(?P<ext>csv)']\n    columns: {a: {type: str}}\n")
    text.write_text(base.replace("KIND", "yearly").replace("EXTRA", "form: gemeenten"), encoding="utf-8")
    with pytest.raises(CatalogError, match="takes its columns and key from the form"):
        load_catalog(text)
    text.write_text(base.replace("KIND", "cumulative").replace("EXTRA", "form: gemeenten"), encoding="utf-8")
    with pytest.raises(CatalogError, match="kind must be yearly"):
        load_catalog(text)
    text.write_text(base.replace("KIND", "reference").replace("EXTRA", "published: true"), encoding="utf-8")
    with pytest.raises(CatalogError, match="published-figures file takes its columns"):
        load_catalog(text)


def test_the_table_gate_checks_the_organisation_threshold_of_the_survey_rules():
    """gates/disclosure.py keeps its own copy of the minimum number of organisations (importing
    surveys/disclosure would pull the estimators into every gate): the two must say the same."""
    from monitor_dagster.gates import disclosure as G
    from monitor_dagster.surveys.disclosure import MIN_ORGS

    assert G.ORG_MIN == MIN_ORGS
