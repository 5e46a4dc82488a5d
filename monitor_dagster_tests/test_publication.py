"""The publication (issue 7; report 7.3): site, factsheet, technical report, built only from the gated table.

One small pipeline run (synthetic zone, 2015-2018, the last SPOLIS only as its part-year V1 so 2018 is
provisional) feeds every test here and the browser test (``test_publication_browser.py``).
"""

from __future__ import annotations

import json
import re

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from monitor_dagster.gates.disclosure import DisclosureError
from monitor_dagster.indicators.table import SEPARATE
from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import count
from monitor_dagster.publication.site import build_site, fmt

from monitor_dagster_tests.conftest import PUBLICATION_FIRST as FIRST, PUBLICATION_LAST as LAST  # noqa: E402


def _page_json(html: str) -> dict:
    m = re.search(r"<script>window\.PAGE = (\{.*?\});</script>", html, re.S)
    assert m, "indicator page without its data"
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_pipeline_publishes_every_indicator_with_its_page(published):
    wh, site, table = published
    ids = D.indicator_ids(table)
    assert {"O01", "O03", "O04", "O12"} <= set(ids)
    for iid in ids:
        page = site / "indicator" / f"{iid}.html"
        assert page.is_file(), iid
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f'indicator/{i}.html' in index for i in ids)
    for name in ("factsheet.html", "factsheet.pdf", "technisch-rapport.html", "data/indicatoren.csv",
                 "assets/vega.js", "assets/indicator.js", "assets/site.css"):
        assert (site / name).is_file(), name
    # outcome indicators are listed before input indicators (report 7.3)
    kinds = [D.meta(i)["kind"] for i in ids]
    assert kinds == sorted(kinds, key=lambda k: k != "outcome")


def test_page_data_equal_the_gated_table(published):
    """Every number a page can show is a cell of the gated indicator table; suppressed cells carry no value."""
    _, site, table = published
    table = table.filter(pl.col("correctie") == "geen")   # the pages read the uncorrected rows (issue 17)
    for iid in ("O03", "O04", "O10"):
        page = _page_json((site / "indicator" / f"{iid}.html").read_text(encoding="utf-8"))
        rows = pl.DataFrame(page["rows"], schema=page["columns"], orient="row")
        # the regional cells (issue 18) are on the map page, not on the indicator page; randstad, asielstatus and
        # inkomensklasse are breakdowns of the indicator page (December 2026)
        t = table.filter((pl.col("indicator_id") == iid) & (pl.col("regio") == "totaal"))
        assert rows.height == t.height
        shown = rows.filter(~pl.col("suppressed"))
        assert shown["value"].null_count() == 0 and (shown["n"] >= 10).all()
        hidden = rows.filter(pl.col("suppressed"))
        assert hidden["value"].null_count() == hidden.height and hidden["n"].null_count() == hidden.height
        assert hidden["reason"].str.starts_with("onderdrukt").all()
        # one cell checked against the table: the O-indicator for niet-westers, no breakdown, first year
        cell = D.totals(t).filter((pl.col("herkomst") == "niet-westers") & (pl.col("year") == FIRST)).row(0, named=True)
        mine = rows.filter((pl.col("herkomst") == "niet-westers") & (pl.col("year") == FIRST) & (pl.col("bd") == "totaal")
                           & (pl.col("measure") == cell["measure"])).row(0, named=True)
        assert mine["suppressed"] == cell["suppressed"]
        if not cell["suppressed"]:
            assert mine["value"] == pytest.approx(cell["value"], abs=1e-4)
        # quarters (report 7.1.3 c): a breakdown of the SPOLIS indicators on their page, not of the EBB one
        assert ("Kwartaal" in page["breakdowns"].values()) == (iid in ("O04", "O10"))
        if iid == "O04":
            assert set(rows.filter(pl.col("bd") == "kwartaal")["cat"]) == {"K1", "K2", "K3", "K4"}


def test_nothing_identifying_or_small_reaches_the_site(published):
    """No person key anywhere in the site's data; the downloadable table passes the disclosure check."""
    from monitor_dagster.gates.disclosure import check_disclosure

    _, site, _ = published
    csv = pl.read_csv(site / "data" / "indicatoren.csv", infer_schema_length=100_000)
    assert check_disclosure(csv) == []
    for page in (site / "indicator").glob("*.html"):
        assert not re.search(r"rinpersoon|person_id", page.read_text(encoding="utf-8"), re.I), page.name


def test_asylum_randstad_and_income_breakdowns_are_on_the_indicator_pages(published):
    """Report 7.3 "nog veel meer uitsplitsingen", 7.2.5 "Licht bij een volgende meting asielstatushouders uit":
    the table holds asielstatus and randstad cells (issue 18), which until December 2026 reached no page, only
    the CSV download.  The indicator page offers them as breakdowns; the regions keep their map page."""
    _, site, table = published
    page = _page_json((site / "indicator" / "O04.html").read_text(encoding="utf-8"))
    assert "asielstatus" in page["breakdowns"]
    has_randstad = table.filter((pl.col("indicator_id") == "O04") & (pl.col("randstad") != "totaal")).height > 0
    assert ("randstad" in page["breakdowns"]) == has_randstad      # regions (and randstad) from 2020 on only
    rows = [dict(zip(page["columns"], r)) for r in page["rows"]]
    statushouder = [r for r in rows if r["bd"] == "asielstatus" and r["cat"] == "statushouder"]
    want = table.filter((pl.col("indicator_id") == "O04") & (pl.col("asielstatus") == "statushouder")
                        & (pl.col("correctie") == "geen"))
    assert statushouder and len(statushouder) == want.height
    assert not any(r["bd"] == "regio" for r in rows)
    o05 = _page_json((site / "indicator" / "O05.html").read_text(encoding="utf-8"))
    assert "inkomensklasse" in o05["breakdowns"]


def test_each_page_names_its_source(published):
    """The footer names the data a page rests on: CBS microdata, except the vacancy pages (Jobfeed, report
    hfd. 6), whose pages said "CBS-microdata (Remote Access)" until December 2026 (test_demo checks those pages
    of the demo site, test_vacancies_pipeline the page stageplaatsen.html)."""
    from monitor_dagster.publication import data as D
    from monitor_dagster.publication import vacancies as VAC

    _, site, _ = published
    html = (site / "indicator" / "O04.html").read_text(encoding="utf-8")
    assert "Bronnen: CBS-microdata (Remote Access)" in html
    assert D.with_sources("V02", {"a": 1}) == {"a": 1, "sources": VAC.SOURCES}
    assert D.with_sources("O04", {"a": 1}) == {"a": 1} == D.with_sources("O01", {"a": 1})
    assert D.with_sources("S-w3", {})["sources"] == "de enquête van de monitor onder werkgevers (technisch rapport § 3.3)"
    # what n counts: persons for the register indicators, respondents for the EBB (O01-O03)
    assert _page_json(html)["counted"] == "personen" and "Personen" in html
    assert _page_json((site / "indicator" / "O01.html").read_text(encoding="utf-8"))["counted"] == "respondenten"


def test_site_works_offline_no_external_resources(published):
    _, site, _ = published
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        external = [r for r in refs if re.match(r"(https?:)?//", r)]
        assert not external, f"{page.name} loads {external}"
        for r in refs:   # every local script, style and link resolves inside the site
            if r.startswith(("#", "mailto:")) or r == "#":
                continue
            target = (page.parent / r.split("#")[0]).resolve()
            assert target.exists(), f"{page.relative_to(site)} links to missing {r}"


def test_provisional_year_is_marked(published):
    _, site, table = published
    prov = table.filter(pl.col("status") == "voorlopig")
    # O38/O39 look three years ahead (report 5.2 4g): `monitor run` builds them after the core of every year,
    # so only the years whose t+3 is not observed in full are voorlopig: t+3 beyond the zone, or t+3 = LAST,
    # whose SPOLIS is t/m maand 6 here (until December 2026 LAST - 3 was definitief, its last six months of
    # follow-up counted as months without work)
    # LAST itself is not computed for them: its own SPOLIS is part-year and they count the whole year (spec
    # part_year: wait, report 7.1.3 b; until December 2026 LAST was published voorlopig with the missing months
    # read as "no job")
    follow = set(prov.filter(pl.col("indicator_id").is_in(["O38", "O39"]))["year"])
    assert follow == {LAST - 3, LAST - 2, LAST - 1}
    o24b = set(prov.filter(pl.col("indicator_id") == "O24b")["year"])        # school year t/t+1: LAST - 1 too
    assert LAST - 1 in o24b and LAST - 2 not in o24b
    years_of = {i: set(table.filter(pl.col("indicator_id") == i)["year"]) for i in ("O24b", "O27", "O34", "O38", "O10")}
    assert all(LAST not in ys and LAST - 1 in ys for ys in years_of.values()), years_of
    # every family with a follow-up window (O24b t+1, O25/O25b t+4, O38/O39 t+3) is voorlopig until it lands
    from monitor_dagster.indicators import spec as SPEC

    windowed = [k for k, sp in SPEC.built().items() if SPEC.follow_up(sp.family) is not None]
    prov = prov.filter(~pl.col("indicator_id").is_in(windowed))
    assert set(prov["year"].unique()) == {LAST}                       # part-year SPOLIS of 2018
    assert "O04" in set(prov["indicator_id"]) and "O03" not in set(prov["indicator_id"])   # EBB is not SPOLIS-based
    page = _page_json((site / "indicator" / "O04.html").read_text(encoding="utf-8"))
    rows = pl.DataFrame(page["rows"], schema=page["columns"], orient="row")
    assert set(rows.filter(pl.col("status") == "voorlopig")["year"]) == {LAST}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "badge-provisional" in index and str(LAST) in index


def test_trend_break_registered_for_o04(published):
    _, site, _ = published
    page = _page_json((site / "indicator" / "O04.html").read_text(encoding="utf-8"))
    assert [b["id"] for b in page["breaks"]] == ["payrolling_2017"]
    assert page["breaks"][0]["year"] == 2017 and "payroll" in page["breaks"][0]["description"]
    o03 = _page_json((site / "indicator" / "O03.html").read_text(encoding="utf-8"))
    assert "payrolling_2017" not in [b["id"] for b in o03["breaks"]]


def test_accessibility_text_alternatives_and_tables(published):
    _, site, _ = published
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="nl">' in html
        for img in re.findall(r"<img [^>]*>", html):
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and len(alt.group(1)) > 20, f"{page.name}: image without a text alternative: {img}"
    o04 = (site / "indicator" / "O04.html").read_text(encoding="utf-8")
    assert 'id="chart" role="img" aria-label=' in o04 and '<table id="data-table">' in o04
    assert '<label class="ctl" for="breakdown">' in o04


def test_factsheet_is_one_page_with_latest_year_and_change(published):
    _, site, table = published
    pdf = (site / "factsheet.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    html = (site / "factsheet.html").read_text(encoding="utf-8")
    gaps = {g.indicator_id: g for g in D.gaps(table)}
    g = gaps["O03"]
    assert g.year == LAST and g.first_year == FIRST
    row = re.search(r'<tr data-indicator="O03".*?</tr>', html, re.S).group(0)
    assert fmt(g.base, "%") in row and fmt(g.reference, "%") in row
    assert fmt(g.change, "%", signed=True) in row
    assert 'src="factsheet_chart.png"' in html and (site / "factsheet_chart.png").stat().st_size > 1000


def test_technical_report_lists_checks_vintages_and_suppression(published):
    _, site, table = published
    table = table.filter(pl.col("correctie") == "geen")   # the pages read the uncorrected rows (issue 17)
    html = (site / "technisch-rapport.html").read_text(encoding="utf-8")
    for iid in D.indicator_ids(table):
        sec = re.search(rf'<section id="{re.escape(iid)}".*?</section>', html, re.S)
        assert sec, iid
        body = sec.group(0)
        n_sup = int(table.filter((pl.col("indicator_id") == iid) & pl.col("suppressed")).height)
        assert re.search(rf'class="suppressed-count">{re.escape(count(n_sup))} \(', body), iid
        assert D.meta(iid)["definition"][:40] in body
    o04 = re.search(r'<section id="O04".*?</section>', html, re.S).group(0)
    assert f"SPOLISBUS{LAST}V1" in o04 and "payrolling_2017" in o04
    assert "Onthullingscontrole" in html and "Great Expectations" in html


def test_refuses_a_table_that_fails_the_gate_and_keeps_the_old_site(published, tmp_path):
    _, _, table = published
    site = tmp_path / "site"
    build_site(table, site)
    before = (site / "index.html").read_text(encoding="utf-8")
    leaked = table.with_columns(pl.when(pl.col("suppressed")).then(pl.lit(3)).otherwise(pl.col("n")).alias("n"))
    with pytest.raises(DisclosureError) as err:
        build_site(leaked, site)
    assert "--layers indicators" not in str(err.value)      # a table handed in, not the stored one
    with pytest.raises(DisclosureError, match="rebuild it with `monitor run .*--layers indicators`"):
        build_site(leaked, site, warehouse=tmp_path)        # read from a warehouse: rebuild the stored table
    assert (site / "index.html").read_text(encoding="utf-8") == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]   # no temp folders left behind


def test_registry_names_every_indicator():
    reg = D.registry()
    for iid, m in reg["indicators"].items():
        assert {"title", "theme", "question", "paragraph", "source", "kind", "definition"} <= set(m), iid
        assert m["theme"] in reg["themes"] and m["kind"] in ("outcome", "input")
    ids = [k for k in reg["indicators"] if k.startswith("O")]
    assert [f"O{i:02d}" for i in range(1, 41)] == [k for k in ids if len(k) == 3]     # bijlage A, in order
    # the advice items after report 5.1 (O22b, O24b, O25b) follow the indicator they extend
    for k in (k for k in ids if len(k) != 3):
        assert k[-1] == "b" and ids[ids.index(k) - 1] == k[:3], k
    with pytest.raises(D.PublicationError, match="specs.yaml"):
        D.meta("O99")


def test_cli_publish(published, tmp_path):
    from monitor_dagster.cli import app

    wh, _, _ = published
    runner = CliRunner()
    r = runner.invoke(app, ["publish", "--warehouse", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "no indicator table" in r.output
    r = runner.invoke(app, ["publish", "--warehouse", str(wh), "--site", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert str((tmp_path / "s" / "index.html").resolve()) in r.output.replace("\n", "")
    # a warehouse whose table would leak a small cell: refused, nothing written
    from monitor_dagster.warehouse import Warehouse

    _, _, table = published
    leaked = table.with_columns(pl.when(pl.col("suppressed")).then(pl.lit(3)).otherwise(pl.col("n")).alias("n"))
    Warehouse(tmp_path / "bad", layer="indicators").write("indicator_table", "all", leaked, {"rows": leaked.height})
    r = runner.invoke(app, ["publish", "--warehouse", str(tmp_path / "bad"), "--site", str(tmp_path / "s2")])
    assert r.exit_code == 1 and "disclosure check failed" in r.output, r.output
    assert not (tmp_path / "s2").exists()


def test_dutch_number_format():
    assert fmt(1234.56, "euro") == "1.235" and fmt(12.345, "%") == "12,3" and fmt(None, "%") == "–"
    assert fmt(-3.25, "euro per uur", signed=True) == "−3,25" and fmt(0.5, "%", signed=True) == "+0,5"


def test_an_indicator_can_label_a_breakdown_itself():
    """O20-O22 put the onderwijssoort in the sector column (docs/indicators_education.md): their pages say so."""
    from monitor_dagster.publication.site import _breakdown_label

    assert _breakdown_label("O21", "sector") == "Onderwijssoort"
    assert _breakdown_label("O27", "sector") == "Sector" and _breakdown_label("O21", "geslacht") == "Geslacht"


def test_the_technical_report_prints_the_stored_sensitivity_table(published):
    """Issue 16: the sensitivity table of `monitor run` (asset indicators/sensitivity) is in the technical
    report, each published figure as the stored table has it, suppressed cells as a dash."""
    import re

    from monitor_dagster.choices import ALTERNATIVES
    from monitor_dagster.publication.numbers import fmt
    from monitor_dagster.warehouse import Warehouse

    wh, site, _ = published
    stored = Warehouse(wh, layer="indicators").read("sensitivity", "all").collect()
    assert stored.height and stored.select("choice", "alternative").n_unique() == len(ALTERNATIVES) + 1
    html = (site / "technisch-rapport.html").read_text(encoding="utf-8")
    sec = re.search(r'<h2 id="gevoeligheid">.*?</table>', html, re.S)
    assert sec, "no sensitivity section"
    body = sec.group(0)
    assert f"Kerncijfers {stored['year'][0]}" in body
    d = stored.filter((pl.col("choice") == "o05_denominator") & (pl.col("indicator_id") == "O05")
                      & (pl.col("herkomst") == "totaal")).row(0, named=True)
    if not d["suppressed"]:
        assert f"{fmt(d['value'], '%')} ({fmt(d['difference'], '%', signed=True)})" in body
    for _, _, label in ALTERNATIVES:
        assert label in body
    # the SECM fallback is explained next to it (report 7.1.3)
    assert 'id="secm"' in html and "7.1.3" in html


def test_the_sensitivity_table_is_kept_while_its_inputs_do_not_change(published, tmp_path):
    """The table job rebuilds indicators/sensitivity after every yearly run; a national one costs a population
    per alternative, so the stored table stands while the data behind it (fingerprint) is unchanged."""
    from monitor_dagster.defs.core.assets import IO
    from monitor_dagster.defs.indicators.assets import sensitivity
    from monitor_dagster.defs.io import WarehouseIOManager
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.sensitivity import fingerprint
    from monitor_dagster.warehouse import Warehouse

    wh, _, _ = published
    w = Warehouse(wh, layer="indicators")
    before = w.manifest("sensitivity", "all")
    year = int(w.read("sensitivity", "all").collect()["year"][0])
    assert before["fingerprint"] == fingerprint(wh, year)
    with dg.instance_for_test() as inst:
        res = dg.materialize([sensitivity], instance=inst, resources={
            "monitor": MonitorResource(warehouse=str(wh)), IO: WarehouseIOManager(warehouse=str(wh))})
    assert res.success
    md = res.asset_materializations_for_node("indicators__sensitivity")[0].metadata
    assert md["reused"].value == "its inputs did not change"
    assert w.manifest("sensitivity", "all")["data_sha256"] == before["data_sha256"]
    # another version of one input (here: the EBB file of that year) changes the fingerprint
    src = Warehouse(wh)
    ebb = src.read("EBBNW", str(year)).collect()
    Warehouse(tmp_path / "wh").write("EBBNW", str(year), ebb.head(ebb.height - 1), {"release_id": "x"})
    assert fingerprint(tmp_path / "wh", year) != fingerprint(wh, year)
