"""The regional map of the publication (issue 18; technisch rapport Monitor gelijke kansen, §7.3 a and §7.2.4).

The site is built from a small hand-built gated table (no pipeline run): O04 with rows per arbeidsmarktregio
for the herkomst aggregates (the indicator table's contract, docs/regions.md), some regions with too few
persons (suppressed by :func:`~monitor_dagster.gates.disclosure.apply_disclosure`, primary and secondary), and O03
without regional rows.  Unit tests of the map data (gap, suppression, every region, attribution, no person-level
data) and of the links; a browser test (headless Chromium, network off) opens the map page, reads the map, the
suppressed regions and the table under it, and chooses a region with the keyboard alone.  Screenshots in
``test_output/publication_map_O04*.png`` (``_browser.OUTPUT``) and under the test's tmp dir.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import polars as pl
import pytest

from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
from monitor_dagster.indicators.table import COLUMNS, CORRECTIE, TOTAAL
from monitor_dagster.publication import data as D
from monitor_dagster.publication import maps as MAPS
from monitor_dagster.publication.numbers import number
from monitor_dagster.publication.site import build_site
from monitor_dagster_tests._browser import browser_page, screenshot

YEARS = (2016, 2017, 2018)
AGGREGATES = ("niet-westers", "westers", "geen migratieachtergrond")
#: regions whose niet-westers cell has fewer than 10 persons in every year (primary suppression)
SMALL = ("AM99", "AM24")
BUILT_ON = dt.date(2026, 12, 1)


def _row(iid: str, year: int, herkomst: str, regio: str, value: float, n: int, status: str) -> dict:
    r = {c: TOTAAL for c in COLUMNS}
    r.update({"indicator_id": iid, "year": year, "herkomst": herkomst, "regio": regio, CORRECTIE: "geen",
              "measure": iid, "value": value, "unit": "%", "n": n, "n_weighted": float(n), "status": status,
              "suppressed": False, "trend_break": None, "vintages": f"SPOLISBUS_{year}V1"})
    return r


def _cells(iid: str, regions: list[str] | None, rng: random.Random) -> list[dict]:
    """Per year: each region's aggregates and totaal (n and value consistent), the national row the sum."""
    out = []
    for year in YEARS:
        status = "voorlopig" if year == YEARS[-1] else "definitief"
        nat: dict[str, list[tuple[float, int]]] = {h: [] for h in AGGREGATES}
        for regio in regions or [None]:
            parts = {}
            for h in AGGREGATES:
                n = rng.randint(3, 8) if (h == "niet-westers" and regio in SMALL) else rng.randint(60, 900)
                v = round(rng.uniform(40, 75) + (-8 if h == "niet-westers" else 0), 4)
                parts[h] = (v, n)
                nat[h].append((v, n))
            if regio is not None:
                for h, (v, n) in parts.items():
                    out.append(_row(iid, year, h, regio, v, n, status))
                tot_n = sum(n for _, n in parts.values())
                out.append(_row(iid, year, TOTAAL, regio, sum(v * n for v, n in parts.values()) / tot_n, tot_n, status))
        for h in AGGREGATES:
            n = sum(k for _, k in nat[h])
            out.append(_row(iid, year, h, TOTAAL, sum(v * k for v, k in nat[h]) / n, n, status))
        n = sum(k for h in AGGREGATES for _, k in nat[h])
        out.append(_row(iid, year, TOTAAL, TOTAAL, sum(v * k for h in AGGREGATES for v, k in nat[h]) / n, n, status))
    return out


def hand_built_table() -> pl.DataFrame:
    """A gated indicator table after the contract: O04 per arbeidsmarktregio, O03 national only."""
    rng = random.Random(18)
    codes = [r["code"] for r in MAPS.regions()]
    rows = _cells("O04", codes, rng) + _cells("O03", None, rng)
    schema = {c: pl.String for c in COLUMNS} | {"year": pl.Int32, "value": pl.Float64, "n": pl.Int64,
                                                  "n_weighted": pl.Float64, "suppressed": pl.Boolean}
    for d in MAPS.REGION_DIMS:                      # the contract's columns, should the table lack one
        schema.setdefault(d, pl.String)
        for r in rows:
            r.setdefault(d, TOTAAL)
    table = pl.DataFrame(rows, schema=schema)
    table = apply_disclosure(table)
    assert check_disclosure(table.drop("suppression_reason")) == []
    return table


#: the technical report's checks (Great Expectations: 20 s, most of it the import) are not what these tests are
#: about: a stub result, so that a build takes a few seconds
QUALITY = {"trend": {"success": True, "explained": 0, "unexplained": 0, "min_n": 100}, "contract_success": True,
           "failures": [], "suites": {}, "data_docs": None, "source": "check"}


@pytest.fixture(scope="module")
def fast_build():
    """``build_site`` without the Great Expectations run and with vega.js made once per module."""
    from functools import lru_cache

    from monitor_dagster.publication import charts as C
    from monitor_dagster.publication import site as S

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S, "quality", lambda table, warehouse=None: dict(QUALITY))
        mp.setattr(C, "javascript_bundle", lru_cache(maxsize=1)(C.javascript_bundle))
        yield lambda table, site: build_site(table, site, built_on=BUILT_ON)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory, fast_build):
    table = hand_built_table()
    site = tmp_path_factory.mktemp("map") / "site"
    fast_build(table, site)
    return table, site


def _page_json(html: str) -> dict:
    m = re.search(r"<script>window\.PAGE = (\{.*?\});</script>", html, re.S)
    assert m, "page without its data"
    return json.loads(m.group(1).replace("<\\/", "</"))


def _rows(data: dict) -> pl.DataFrame:
    return pl.DataFrame(data["rows"], schema=data["columns"], orient="row", infer_schema_length=None)


def test_map_data_gap_suppression_regions(mapped):
    table, _ = mapped
    regional = MAPS.regional_rows(table)
    assert MAPS.map_ids(regional) == ["O04"]
    data = MAPS.map_data(regional, "O04")
    rows = _rows(data)
    codes = {r["code"] for r in MAPS.regions()}
    assert len(codes) == 36 and "AM99" in codes and data["attribution"] == MAPS.ATTRIBUTION
    assert data["defaults"] == {"measure": "O04", "year": YEARS[-1], "view": MAPS.GAP}
    # every region (and the national row) for every year and group, the gap included
    for (year, group), g in rows.group_by("year", "herkomst"):
        assert set(g["regio"]) == codes | {MAPS.NATIONAL}, (year, group)
    assert set(rows["herkomst"]) == {*AGGREGATES, TOTAAL, MAPS.GAP}
    # the values are the gated table's cells
    src = regional.filter(pl.col("regio") != MAPS.NATIONAL)
    joined = rows.join(src, on=["year", "regio", "herkomst"], how="inner", suffix="_t")
    assert joined.height == src.height
    assert (joined["suppressed"] == joined["suppressed_t"]).all()
    shown = joined.filter(~pl.col("suppressed"))
    assert ((shown["value"] - shown["value_t"]).abs() < 1e-4).all() and (shown["n"] >= 10).all()
    assert joined.filter(pl.col("suppressed"))["value"].null_count() == joined.filter(pl.col("suppressed")).height
    # the gap: niet-westers minus geen migratieachtergrond; suppressed when either is, never a zero
    wide = rows.filter(pl.col("herkomst").is_in(["niet-westers", "geen migratieachtergrond", MAPS.GAP])).pivot(
        on="herkomst", index=["year", "regio"], values=["value", "suppressed"])
    sup = wide["suppressed_niet-westers"] | wide["suppressed_geen migratieachtergrond"]
    assert (wide["suppressed_verschil"] == sup).all()
    assert wide.filter(pl.col("suppressed_verschil"))["value_verschil"].null_count() == int(sup.sum())
    ok = wide.filter(~pl.col("suppressed_verschil"))
    assert ((ok["value_verschil"] - (ok["value_niet-westers"] - ok["value_geen migratieachtergrond"])).abs() < 1e-3).all()
    # the small regions are suppressed (primary) in every year, with their reason, and so is their gap
    for code in SMALL:
        r = rows.filter((pl.col("regio") == code) & (pl.col("herkomst") == "niet-westers"))
        assert r["suppressed"].all() and (r["reason"] == D.PERSON_REASON).all()   # one text for every rule
        assert rows.filter((pl.col("regio") == code) & (pl.col("herkomst") == MAPS.GAP))["suppressed"].all()
    # the national row is the table's regio = totaal cell
    nat = D.totals(table.filter(pl.col("regio") == TOTAAL)).filter(
        (pl.col("indicator_id") == "O04") & (pl.col("year") == YEARS[0]) & (pl.col("herkomst") == "westers"))
    mine = rows.filter((pl.col("regio") == MAPS.NATIONAL) & (pl.col("year") == YEARS[0]) & (pl.col("herkomst") == "westers"))
    assert mine["value"][0] == pytest.approx(nat["value"][0], abs=1e-4)
    # no person-level data: aggregate fields only
    assert set(data["columns"]) == set(MAPS.ROW_FIELDS)
    assert not [c for c in data["columns"] if re.search(r"rinpersoon|person|persoon|bsn|min|max", c, re.I)]


def test_map_page_links_and_offline_files(mapped):
    _, site = mapped
    page = site / "kaart" / "O04.html"
    html = page.read_text(encoding="utf-8")
    assert MAPS.ATTRIBUTION in html and "technisch rapport" in html
    assert not re.search(r"rinpersoon|person_id", html, re.I)
    assert not (site / "kaart" / "O03.html").exists()
    # the boundaries travel with the site; every local reference resolves, nothing external
    for name in ("assets/arbeidsmarktregio_2020.js", "assets/map.js", "assets/map.css", "data/arbeidsmarktregio_2020.topojson"):
        assert (site / name).is_file(), name
    assert json.loads((site / "data" / MAPS.GEO_FILE).read_text(encoding="utf-8")) == MAPS.topology()
    for p in (page, site / "index.html", site / "indicator" / "O04.html"):
        text = p.read_text(encoding="utf-8")
        for ref in re.findall(r'(?:src|href)="([^"#][^"]*)"', text):
            assert not re.match(r"(https?:)?//", ref), (p.name, ref)
            assert (p.parent / ref.split("#")[0]).resolve().exists(), (p.name, ref)
    # linked from the home page and the indicator's own page, not from an indicator without regions
    assert 'href="kaart/O04.html"' in (site / "index.html").read_text(encoding="utf-8")
    assert 'href="../kaart/O04.html"' in (site / "indicator" / "O04.html").read_text(encoding="utf-8")
    assert "kaart/" not in (site / "indicator" / "O03.html").read_text(encoding="utf-8")
    # the other pages read the national rows only: O04's page holds no regional cell
    rows = _rows(_page_json((site / "indicator" / "O04.html").read_text(encoding="utf-8")))
    assert rows.height == len(YEARS) * 4


def test_no_regional_rows_no_map(mapped, fast_build, tmp_path):
    """A table without the regio column (or without regional rows) builds the site as before: no map page, no
    link, no map assets; the pages of the indicators are the same as with the regional rows."""
    table, site = mapped
    national = table.filter(pl.col("regio") == TOTAAL).drop(*[d for d in MAPS.REGION_DIMS if d in table.columns])
    plain = tmp_path / "site"
    fast_build(national, plain)
    assert not (plain / "kaart").exists() and not (plain / "assets" / "map.js").exists()
    assert "kaart" not in (plain / "index.html").read_text(encoding="utf-8")

    def body(p):   # the footer counts the table's cells, the regional ones too
        return re.sub(r"<footer.*?</footer>", "", p.read_text(encoding="utf-8"), flags=re.S)

    assert body(plain / "indicator" / "O03.html") == body(site / "indicator" / "O03.html")
    assert body(plain / "indicator" / "O04.html") == re.sub(r'<p class="map-link.*?</p>\n', "", body(site / "indicator" / "O04.html"), flags=re.S)


def _nl(text: str) -> float:
    return float(text.strip().replace(".", "").replace(",", ".").replace("−", "-"))


def _shot(page, folder, name: str):
    """A screenshot under the test's tmp dir too (``screenshot`` writes to ``test_output/``)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_map_in_the_browser(mapped, tmp_path):
    table, site = mapped
    data = MAPS.map_data(MAPS.regional_rows(table), "O04")
    rows = _rows(data)
    last = rows.filter(pl.col("year") == YEARS[-1])
    gap = last.filter(pl.col("herkomst") == MAPS.GAP)
    n_sup = int(gap.filter(pl.col("regio") != MAPS.NATIONAL)["suppressed"].sum())
    assert n_sup >= len(SMALL)
    with browser_page(offline=True, viewport=(1400, 1000)) as page:
        page.goto((site / "kaart" / "O04.html").as_uri())
        page.wait_for_selector("body[data-map-ready]", timeout=20_000)
        assert page.get_attribute("body", "data-map-ready") != "error"
        # every region drawn; the suppressed ones grey with a × (and a key that says what it means)
        assert page.locator("#map svg").count() == 1
        assert page.locator("#map g.grond_marks path").count() == 36
        fills = page.eval_on_selector_all("#map g.grond_marks path", "ps => ps.map(p => p.getAttribute('fill'))")
        assert sum(f == MAPS.SUPPRESSED_FILL for f in fills) == n_sup
        assert page.locator("#map g.waarde_marks path").count() == 36 - n_sup
        assert page.locator("#map g.geheim_marks text").count() == n_sup
        assert "niet gepubliceerd" in page.locator("#map-key").inner_text()
        assert MAPS.ATTRIBUTION in page.locator("figure.map figcaption").inner_text()
        assert page.locator("#map g.role-legend").count() >= 1
        # the tooltip of a suppressed region says so
        page.locator("#map g.geheim_marks text").first.hover()
        page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
        tip = page.locator("#vg-tooltip-element").inner_text()
        assert "Niet gepubliceerd" in tip and "onderdrukt" in tip, tip

        # the table under the map has the same numbers: every region and the national row
        trs = page.locator("#map-table tbody tr[data-regio]")
        assert trs.count() == 37
        for r in last.filter(pl.col("herkomst").is_in(["niet-westers", "geen migratieachtergrond", MAPS.GAP])).iter_rows(named=True):
            td = page.locator(f'#map-table tr[data-regio="{r["regio"]}"] td[data-group="{r["herkomst"]}"]')
            text = td.inner_text().strip()
            if r["suppressed"]:
                assert text == "×", (r, text)
            else:
                assert text == number(r["value"], 1, signed=r["herkomst"] == MAPS.GAP), (r, text)
        for code in SMALL:
            assert "suppressed" in page.get_attribute(f'#map-table tr[data-regio="{code}"]', "class")
        shots = [screenshot(page, "publication_map_O04"), _shot(page, tmp_path, "publication_map_O04")]

        # a region chosen with the keyboard alone: Tab from the year list to the region list, arrow down
        page.focus("#year")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "region"
        page.keyboard.press("ArrowDown")
        page.wait_for_function("(document.body.getAttribute('data-region-ready') || 'none') !== 'none'", timeout=10_000)
        code = page.eval_on_selector("#region", "s => s.value")
        first = sorted(MAPS.regions(), key=lambda r: r["name"])[0]["code"]
        assert code == first and page.get_attribute("body", "data-region-ready").startswith(code)
        assert page.locator("#region-chart svg").count() == 1
        assert page.locator("#region-table tbody tr").count() == len(YEARS)
        for y in YEARS:
            cell = rows.filter((pl.col("regio") == code) & (pl.col("year") == y) & (pl.col("herkomst") == "westers")).row(0, named=True)
            text = page.locator(f'#region-table tr[data-year="{y}"] td[data-group="westers"]').inner_text().strip()
            assert text == ("×" if cell["suppressed"] else number(cell["value"], 1))
        # the chosen region is outlined on the map and marked in the table; the choice is in the URL
        assert page.locator("#map g.gekozen_marks path").count() == 1
        assert "chosen" in page.get_attribute(f'#map-table tr[data-regio="{code}"]', "class")
        assert f"r%3D{code}" in page.url or f"r={code}" in page.url
        # a suppressed region's series: × in the table, no point in the chart for it
        page.select_option("#region", SMALL[0])
        page.wait_for_function(f"(document.body.getAttribute('data-region-ready') || '').startsWith('{SMALL[0]}')")
        nw = page.locator('#region-table td[data-group="niet-westers"]').all_inner_texts()
        assert [t.strip() for t in nw] == ["×"] * len(YEARS)
        # another view: one group's values, the same numbers in the table
        ready = page.get_attribute("body", "data-map-ready")
        page.select_option("#view", "westers")
        page.wait_for_function(f"document.body.getAttribute('data-map-ready') !== '{ready}'")
        assert page.get_attribute("body", "data-map-ready") != "error"
        assert page.locator("#map g.waarde_marks path").count() == 36 - int(
            last.filter((pl.col("herkomst") == "westers") & (pl.col("regio") != MAPS.NATIONAL))["suppressed"].sum())
        shots += [screenshot(page, "publication_map_O04_regio"), _shot(page, tmp_path, "publication_map_O04_regio")]
        assert page.js_errors == [], page.js_errors
    assert all(p.stat().st_size > 10_000 for p in shots)
