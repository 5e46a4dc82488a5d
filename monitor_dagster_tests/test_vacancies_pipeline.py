"""Issue 20 wired into the pipeline (research question 5; technisch rapport Monitor gelijke kansen, hfd. 6 and
§7.2.3): the yearly Jobfeed export is a catalog source whose vacancy gate names file, column, row and rule, the
release sensor's plan picks it up, the vacancy asset's rows (V01-V05, strategy version in vintages) pass the
table's gates under the vacancy rule, the validation sample is written and labels landed as JOBFEEDLABELS give
corrected counts, ``monitor synth --vacancies`` writes the files and the publication has the RQ5 page."""

from __future__ import annotations

import shutil

import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError
from monitor_dagster.ingest.release import ingest_release
from monitor_dagster.landing import SensorCursor, plan, scan
from monitor_dagster.synth.vacancies import generate_vacancies
from monitor_dagster.warehouse import Warehouse

YEARS = (2021, 2022)
N = 1500


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """Two synthetic Jobfeed years (one file a year, as the catalog takes them), ingested."""
    root = tmp_path_factory.mktemp("vacancies")
    landing = root / "landing"
    truth = {y: generate_vacancies(landing, y, N, seed=5, monthly=False, truth=root / f"truth_{y}.parquet").truth
             for y in YEARS}
    cat = load_catalog()
    wh = Warehouse(root / "warehouse")
    for y in YEARS:
        ingest_release(cat, "JOBFEED", y, landing, wh)
    return {"root": root, "landing": landing, "warehouse": root / "warehouse", "truth": truth, "catalog": cat}


@pytest.fixture(scope="module")
def rows(zone):
    from monitor_dagster.vacancies.pipeline import compute_year

    return compute_year(zone["warehouse"], 2022, workers=1)


def test_sensor_plan_picks_up_the_yearly_files(zone):
    cursor = SensorCursor()
    for _ in range(2):          # the first tick sees the files, the second finds them stable
        decisions, cursor = plan(scan(zone["landing"], zone["catalog"]), cursor, zone["landing"], zone["catalog"])
    assert {(d.entry, d.period) for d in decisions if d.action == "ingest"} == {("JOBFEED", y) for y in YEARS}


def test_bad_vacancy_file_is_blocked_naming_file_column_row_rule(zone, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(zone["landing"], landing)
    folder = landing / "Vacatures" / "JOBFEED"
    df = pl.read_csv(folder / "JOBFEED2022V1.csv", separator=";", infer_schema=False)
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("gemeentelijk"))
                         .otherwise(pl.col("overheidslaag")).alias("overheidslaag"))
    df.write_csv(folder / "JOBFEED2022V2.csv", separator=";")
    wh = Warehouse(tmp_path / "wh")
    ingest_release(zone["catalog"], "JOBFEED", 2022, landing, wh, allow_older=["JOBFEED2022V1"])
    with pytest.raises(IngestError) as err:
        ingest_release(zone["catalog"], "JOBFEED", 2022, landing, wh)
    msg = str(err.value)
    assert "Vacatures/JOBFEED/JOBFEED2022V2.csv" in msg and "column overheidslaag" in msg, msg
    assert "not in code list" in msg and "row 7 'gemeentelijk'" in msg, msg
    assert err.value.failures[0].column == "overheidslaag"
    # the good release stays current
    assert wh.manifest("JOBFEED", "2022")["release_id"] == "JOBFEED2022V1"


def _landed_2022_v2(zone, tmp_path, change) -> tuple:
    """A copy of the zone whose 2022 file is re-delivered as V2 with ``change`` applied, and a warehouse that
    holds both years' V1."""
    landing = tmp_path / "landing"
    shutil.copytree(zone["landing"], landing)
    folder = landing / "Vacatures" / "JOBFEED"
    df = pl.read_csv(folder / "JOBFEED2022V1.csv", separator=";", infer_schema=False)
    change(df, folder).write_csv(folder / "JOBFEED2022V2.csv", separator=";")
    wh = Warehouse(tmp_path / "wh")
    ingest_release(zone["catalog"], "JOBFEED", 2021, landing, wh)
    ingest_release(zone["catalog"], "JOBFEED", 2022, landing, wh, allow_older=["JOBFEED2022V1"])
    return landing, wh


def test_a_row_found_in_another_year_is_refused(zone, tmp_path):
    """A vacancy counts in the year it was first found: a row of December 2021 in the 2022 file would be counted
    nowhere (the 2022 figures keep 2022's rows) and would have moved the 2021 base of V05 (66.7 instead of 100
    in the audit's three-row case)."""
    def older(df, folder):
        return df.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("2021-12-20"))
                               .otherwise(pl.col("datum_gevonden")).alias("datum_gevonden"))
    landing, wh = _landed_2022_v2(zone, tmp_path, older)
    with pytest.raises(IngestError) as err:
        ingest_release(zone["catalog"], "JOBFEED", 2022, landing, wh)
    msg = str(err.value)
    assert "JOBFEED2022V2.csv" in msg and "column datum_gevonden: not in 2022" in msg and "row 3 '2021-12-20'" in msg, msg
    assert wh.manifest("JOBFEED", "2022")["release_id"] == "JOBFEED2022V1"


def test_an_id_of_the_2021_file_again_in_2022_is_another_vacancy(zone, tmp_path):
    """The vendor's id is unique within a file; the same id in the files of 2021 and 2022 (each in its own year)
    made the indicators fail (a pivot over a repeated id).  Now both count, each in its year, and V05 2022 is
    V01 2022 over V01 2021."""
    from monitor_dagster.vacancies.pipeline import compute_year

    first = pl.read_csv(zone["landing"] / "Vacatures" / "JOBFEED" / "JOBFEED2021V1.csv", separator=";",
                        infer_schema=False)["vacature_id"][0]

    def reuse(df, folder):
        return df.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(first))
                               .otherwise(pl.col("vacature_id")).alias("vacature_id"))
    landing, wh = _landed_2022_v2(zone, tmp_path, reuse)
    ingest_release(zone["catalog"], "JOBFEED", 2022, landing, wh)
    assert wh.manifest("JOBFEED", "2022")["release_id"] == "JOBFEED2022V2"
    t22, _ = compute_year(wh.root, 2022, workers=1, write_sample=False)
    t21, _ = compute_year(wh.root, 2021, workers=1, write_sample=False)
    tot = pl.col("regio").eq("totaal") & pl.col("sector").eq("totaal")
    v01 = {(r["year"], r["measure"]): r["value"] for t in (t21, t22)
           for r in t.filter((pl.col("indicator_id") == "V01") & tot).iter_rows(named=True)}
    v05 = t22.filter((pl.col("indicator_id") == "V05") & tot)
    assert v05.height > 0
    for r in v05.iter_rows(named=True):
        base = v01[(2021, r["measure"])]
        if base:
            assert r["value"] == pytest.approx(100 * v01[(2022, r["measure"])] / base), r["measure"]


def test_rows_carry_the_strategy_version_and_recover_the_truth(zone, rows):
    from monitor_dagster.vacancies.pipeline import measures

    table, meta = rows
    assert meta["strategy_version"] == 1 and meta["vacancies"] == N
    assert set(table["indicator_id"].unique()) == {"V01", "V02", "V03", "V04", "V05"}
    assert table["year"].unique().to_list() == [2022]
    # the version in every row; V05 names the 2021 release it is indexed on
    assert all("strategie_v1" in v and "JOBFEED2022V1" in v for v in table["vintages"].to_list())
    assert all("JOBFEED2021V1" in v for v in table.filter(pl.col("indicator_id") == "V05")["vintages"].to_list())
    for iid, grp in table.group_by("indicator_id"):
        assert set(grp["measure"].unique()) <= set(measures(iid[0])), iid
    truth = pl.read_parquet(zone["truth"][2022])
    tot = table.filter((pl.col("indicator_id") == "V01") & (pl.col("measure") == "werkervaringsplaats"))
    planted = truth["is_werkervaringsplaats"].sum()
    assert abs(tot["value"][0] - planted) <= 0.15 * planted, (tot["value"][0], planted)
    # V02 and V03: the parts add up to their totaal row (= V01 totaal)
    for iid, dim in (("V02", "regio"), ("V03", "sector")):
        t = table.filter((pl.col("indicator_id") == iid) & (pl.col("measure") == "werkervaringsplaats"))
        assert t.filter(pl.col(dim) != "totaal")["value"].sum() == t.filter(pl.col(dim) == "totaal")["value"][0]
    assert table["corrected_value"].null_count() == table.height        # no labels yet


def test_rows_pass_the_table_gates_under_the_vacancy_rule(rows):
    from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
    from monitor_dagster.gates.expectations import dimensions, value_range
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA

    table, _ = rows
    t = table.select(COLUMNS).cast(SCHEMA)
    gated = apply_disclosure(t)
    # counts of vacancies, not persons: nothing hidden, small regional counts shown (docs/vacancies.md)
    assert not gated["suppressed"].any() and gated.filter(pl.col("n") < 10).height > 0
    assert check_disclosure(gated) == []
    bad = gated.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("n")).alias("n"))
    assert any("vacancy cell shown without value or n" in p for p in check_disclosure(bad))
    for iid, grp in t.group_by("indicator_id"):
        sp = SPEC.spec(iid[0])
        lo, hi, _ = value_range(sp)
        assert grp["value"].min() >= lo and grp["value"].max() <= hi and set(grp["unit"]) == {sp.unit}
        present = {d for d in ("regio", "sector") if (grp[d] != "totaal").any()}
        assert present == set(dimensions(sp)) - {"totaal"}, iid


def test_sample_written_and_labels_give_corrected_counts(zone, rows, tmp_path):
    from monitor_dagster.vacancies.pipeline import compute_year
    from monitor_dagster.vacancies.validation import LabelFileError, label_from_truth

    _, meta = rows
    sample = pl.read_csv(meta["sample"], separator=";", infer_schema=False)
    assert {"vacature_id", "categorie", "stratum", "explanation", "tekst", "label"} <= set(sample.columns)
    assert (sample["label"].fill_null("") == "").all()
    labelled = label_from_truth(sample.with_columns(pl.col("strategy_version").cast(pl.Int32)),
                                pl.read_parquet(zone["truth"][2022]))
    landing = tmp_path / "landing"
    folder = landing / "Vacatures" / "JOBFEED" / "labels"
    folder.mkdir(parents=True)
    labelled.write_csv(folder / "JOBFEEDLABELS2022V1.csv", separator=";")
    wh_root = tmp_path / "wh"
    shutil.copytree(zone["warehouse"], wh_root)
    ingest_release(zone["catalog"], "JOBFEEDLABELS", 2022, landing, Warehouse(wh_root))
    table, meta2 = compute_year(wh_root, 2022, workers=1, write_sample=False)
    assert meta2["labels"] == "JOBFEEDLABELS2022V1"
    v = meta2["validation"]["werkervaringsplaats"]
    assert 0.9 <= v["precision"] <= 1 and 0.9 <= v["recall"] <= 1
    tot = table.filter((pl.col("indicator_id") == "V01") & (pl.col("measure") == "werkervaringsplaats")).row(0, named=True)
    assert tot["lo"] <= tot["corrected_value"] <= tot["hi"] and "JOBFEEDLABELS2022V1" in tot["vintages"]
    assert table.filter(pl.col("indicator_id") == "V05")["corrected_value"].null_count() > 0
    # the page shows precision, recall and the corrected count with its interval
    from monitor_dagster.gates.disclosure import apply_disclosure
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA
    from monitor_dagster.publication import vacancies as VAC

    ctx = VAC.context(apply_disclosure(table.select(COLUMNS).cast(SCHEMA)), table)
    assert ctx["labels"] == ["JOBFEEDLABELS2022V1"] and len(ctx["validation"]) == 4
    wep = next(c for c in ctx["categories"] if c["id"] == "werkervaringsplaats")["series"][0]
    assert wep["corrected"] and " - " in wep["interval"]
    # a label row that is not in the sample is named with its row
    bad = labelled.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("XX999"))
                                .otherwise(pl.col("vacature_id")).alias("vacature_id"))
    bad.write_csv(folder / "JOBFEEDLABELS2022V2.csv", separator=";")
    ingest_release(zone["catalog"], "JOBFEEDLABELS", 2022, landing, Warehouse(wh_root))
    with pytest.raises(LabelFileError, match=r"(?s)JOBFEEDLABELS2022V2: .*row 3: vacature_id 'XX999'"):
        compute_year(wh_root, 2022, workers=1, write_sample=False)


def test_no_file_no_rows(zone):
    from monitor_dagster.vacancies.pipeline import compute_year

    table, meta = compute_year(zone["warehouse"], 2023, workers=1)
    assert table.height == 0 and meta == {}


def test_monitor_synth_vacancies_option(tmp_path):
    from monitor_dagster.synth.generate import SynthConfig, write_vacancies

    class _Res:
        files: list = []

    cfg = SynthConfig(landing=tmp_path / "landing", first_year=2020, last_year=2022, fmt="sav", vacancies=300)
    res = _Res()
    truth = write_vacancies(cfg, res)
    assert set(truth) == {"2021", "2022"}                          # from 2021, the question's first year
    cat = load_catalog()
    found = {(cat.match(f.path).entry, f.year) for f in res.files}
    assert found == {("JOBFEED", 2021), ("JOBFEED", 2022)}
    assert all(f.path.endswith(".csv") for f in res.files)          # a sav zone gets the vendor's CSV
    assert not list(cfg.landing.rglob("*truth*"))                    # the truth stays outside the zone


def test_publication_page_stage_en_werkervaringsplaatsen(zone, rows, tmp_path):
    from monitor_dagster.gates.disclosure import apply_disclosure
    from monitor_dagster.indicators.table import COLUMNS, SCHEMA
    from monitor_dagster.publication import vacancies as VAC
    from monitor_dagster.publication.site import _env

    table, _ = rows
    gated = apply_disclosure(table.select(COLUMNS).cast(SCHEMA))
    Warehouse(tmp_path / "wh", layer="indicators").write("vacancies", "2022", table, {"rows": table.height})
    page = VAC.write(_env(), tmp_path, gated, tmp_path / "wh", {"first_year": 2022, "last_year": 2022,
                                                                "built_on": "01-01-2023", "cells_total": "0",
                                                                "cells_suppressed": "0", "provisional_years": []})
    html = page.read_text(encoding="utf-8")
    assert "<h1>Stage- en werkervaringsplaatsen</h1>" in html and "versie 1" in html
    assert "lokale afspraken met partners" in html and "KIS-uitvraag" in html     # the report's incompleteness
    assert "nog niet gevalideerd" in html and "gecorrigeerd</th>" not in html      # no labels: no correction
    for label in VAC.CATEGORY_LABELS.values():
        assert label in html
    assert "marktsector" in html and "waarvan rijk" in html and "index (2021 = 100)" in html
    # the source is Jobfeed, not CBS microdata (report hfd. 6); the broad reading says it counts jobs too
    assert "Bronnen: online vacatures van Jobfeed" in html and "CBS-microdata" not in html
    assert "ook gewone banen" in html
    idx = VAC.add_to_index(_env(), "<h2>Meer</h2>", gated)
    assert 'href="stageplaatsen.html"' in idx and idx.index("stageplaatsen") < idx.index("<h2>Meer</h2>")
    assert VAC.context(gated.filter(pl.col("indicator_id") != "V01").clear(), None) is None


def test_assets_materialise_and_the_table_gates_pass(zone, tmp_path):
    """The Dagster asset indicators/vacancies for 2022 (V05 on 2021's file), then indicators/indicator_table with
    its blocking checks (disclosure, expectations) over the vacancy rows."""
    import dagster as dg

    from monitor_dagster.defs.core.assets import CORE_ASSETS, IO
    from monitor_dagster.defs.indicators.assets import FAMILY_ASSETS, INDICATOR_ASSETS, indicator_table
    from monitor_dagster.defs.io import WarehouseIOManager
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.defs.sources.assets import source_assets

    wh = tmp_path / "wh"
    shutil.copytree(zone["warehouse"], wh)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    everything = [*source_assets(zone["catalog"]), *CORE_ASSETS, *INDICATOR_ASSETS]
    with dg.instance_for_test() as inst:
        res = {"monitor": MonitorResource(landing=str(zone["landing"]), warehouse=str(wh)),
               IO: WarehouseIOManager(warehouse=str(wh))}
        for y in YEARS[1:]:
            r = dg.materialize(everything, selection=dg.AssetSelection.assets(FAMILY_ASSETS["vacancies"]),
                               partition_key=str(y), resources=res, instance=inst, run_config=quiet)
            md = r.asset_materializations_for_node("indicators__vacancies")[0].metadata
            assert md["strategy_version"].value == 1 and f"JOBFEED{y}V1" in md["vintages"].value
        r = dg.materialize(everything, selection=dg.AssetSelection.assets(indicator_table), resources=res,
                           instance=inst, run_config=quiet)
        checks = {e.check_name: (e.passed, e.metadata) for e in r.get_asset_check_evaluations()}
    assert checks["disclosure"][0] and checks["expectations"][0], checks
    table = Warehouse(wh, layer="indicators").read("indicator_table", "all").collect()
    assert set(table["year"].unique()) == {2022} and not table["suppressed"].any()
    assert table.filter(pl.col("indicator_id") == "V05").height > 0
    assert (table["vintages"].str.contains("strategie_v1")).all()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_parquet_export_is_computed_like_a_csv_one(tmp_path, fmt):
    """A landed parquet file with real date columns reaches the warehouse with the dates as CBS date text
    (YYYYMMDD), a CSV export as YYYY-MM-DD: both are read (the first version of the asset refused 3,000 of
    3,000 dates of a parquet demo zone; a .sav zone gets its vacancies as CSV, as a vendor delivers them)."""
    from monitor_dagster.vacancies.pipeline import compute_year, typed

    landing = tmp_path / "landing"
    generate_vacancies(landing, 2021, 300, seed=5, monthly=False, fmt=fmt, truth=tmp_path / "truth.parquet")
    wh = Warehouse(tmp_path / "warehouse")
    ingest_release(load_catalog(), "JOBFEED", 2021, landing, wh)
    raw = wh.read("JOBFEED", "2021").collect()
    v = typed(raw)
    assert v["datum_gevonden"].null_count() == 0 and set(v["datum_gevonden"].dt.year().unique()) == {2021}
    table, meta = compute_year(tmp_path / "warehouse", 2021, workers=1)
    assert meta["vacancies"] == 300 and table.height
