"""The web publication in a real browser (issue 7): headless Debian Chromium via Playwright, network off.

From the home page to an indicator, switch the breakdown, read a value from the table and compare it with the
gated indicator table, find the trend-break marker on O04, see provisional and suppressed cells marked, and
download the CSV of what is shown.  Screenshots go to ``test_output/`` (``_browser.OUTPUT``).
"""

from __future__ import annotations

import re

import polars as pl

from monitor_dagster.indicators.table import SEPARATE

from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import count
from monitor_dagster_tests._browser import browser_page, screenshot
from monitor_dagster_tests.conftest import PUBLICATION_LAST as LAST


def _nl(text: str) -> float:
    return float(text.strip().replace(".", "").replace(",", ".").replace("−", "-"))


def test_click_through_offline(published):
    _, site, table = published
    with browser_page(offline=True) as page:
        page.goto((site / "index.html").as_uri())
        assert page.locator("h1").inner_text().startswith("Monitor gelijke kansen")
        assert page.locator(".card").count() >= 10
        shots = [screenshot(page, "publication_home")]

        page.locator('.card[data-indicator="O04"] h3 a').click()
        page.wait_for_url("**/indicator/O04.html*")
        page.wait_for_selector("body[data-chart-ready]", timeout=20_000)
        assert page.locator("#chart svg").count() == 1, "the chart did not render (offline bundle?)"
        assert page.get_attribute("body", "data-chart-ready") != "error"

        # the trend-break marker: drawn on the time axis and explained under the chart
        assert page.locator("#chart g.trendbreuk_marks path, #chart g.trendbreuk_marks line").count() >= 1
        marker = page.locator('li.trend-break[data-break="payrolling_2017"]')
        assert marker.count() == 1 and "2017" in marker.inner_text()

        # provisional figures are visibly provisional (part-year SPOLIS of the last year)
        assert page.locator("#notes .provisional-note").count() == 1
        prov_rows = page.locator(f'#data-table tbody tr.provisional[data-year="{LAST}"]')
        assert prov_rows.count() == 3 and "voorlopig" in prov_rows.first.inner_text()
        # ... and off the solid line (issue 16): no vertex of a solid path reaches the last year's points,
        # which are open and carry their 95% interval (a rule each)
        xs = page.eval_on_selector_all("#chart g.punten_marks path", "ps => ps.map(p => p.transform.baseVal[0].matrix.e)")
        solid = page.eval_on_selector_all("#chart g.lijn_marks path", "ps => ps.map(p => p.getAttribute('d'))")
        vertex_x = [float(x) for d in solid for x in re.findall(r"[ML]([-\d.e]+),", d or "")]
        assert xs and vertex_x and max(vertex_x) < max(xs) - 1
        assert page.locator("#chart g.marge_marks line").count() >= 3
        # the y axis of a share starts at 0
        assert "0" in page.eval_on_selector_all("#chart g.role-axis-label text", "ts => ts.map(t => t.textContent)")
        # counts in the table are written by numbers.js, as Python writes them
        row = page.locator('#data-table tbody tr[data-year="2016"][data-herkomst="geen migratieachtergrond"]')
        n_cell = D.totals(table).filter((pl.col("indicator_id") == "O04") & (pl.col("year") == 2016)
                                        & (pl.col("herkomst") == "geen migratieachtergrond"))["n"][0]
        assert count(n_cell) in [t.strip() for t in row.locator("td").all_inner_texts()]
        shots.append(screenshot(page, "publication_O04_herkomst"))

        # switch the breakdown and read a value from the table
        ready = page.get_attribute("body", "data-chart-ready")
        page.select_option("#breakdown", "geslacht")
        page.wait_for_function(f"document.body.getAttribute('data-chart-ready') !== '{ready}'")
        assert "geslacht" in page.url
        row = page.locator('#data-table tbody tr[data-year="2016"][data-herkomst="geen migratieachtergrond"][data-cat="vrouw"]')
        assert row.count() == 1
        shown = _nl(row.locator("td.value").inner_text())
        cell = table.filter((pl.col("indicator_id") == "O04") & (pl.col("year") == 2016)
                            & (pl.col("herkomst") == "geen migratieachtergrond") & (pl.col("geslacht") == "vrouw")
                            & (pl.col("generatie") == "totaal") & (pl.col("leeftijd") == "totaal")
                            & (pl.col("opleiding") == "totaal") & (pl.col("verblijfsduur") == "totaal")
                            & (pl.col("kwartaal") == "totaal")).row(0, named=True)
        assert not cell["suppressed"]
        assert abs(shown - cell["value"]) <= 0.05 + 1e-9                 # the table rounds to one decimal
        shots.append(screenshot(page, "publication_O04_geslacht"))

        # suppressed cells are gaps with their reason, never zeros: a small group
        ready = page.get_attribute("body", "data-chart-ready")
        page.select_option("#breakdown", "herkomst")
        page.wait_for_function(f"document.body.getAttribute('data-chart-ready') !== '{ready}'")
        ready = page.get_attribute("body", "data-chart-ready")
        page.check('#groups input[value="Somalië"]')
        page.wait_for_function(f"document.body.getAttribute('data-chart-ready') !== '{ready}'")
        sup = page.locator('#data-table tbody tr.suppressed[data-herkomst="Somalië"]')
        n_sup = table.filter((pl.col("indicator_id") == "O04") & (pl.col("herkomst") == "Somalië")
                             & pl.col("suppressed") & (pl.col("geslacht") == "totaal") & (pl.col("generatie") == "totaal")
                             & (pl.col("leeftijd") == "totaal") & (pl.col("opleiding") == "totaal")
                             & (pl.col("verblijfsduur") == "totaal") & (pl.col("kwartaal") == "totaal")
                             & pl.all_horizontal(pl.col(d) == "totaal" for d in SEPARATE)).height
        assert n_sup > 0 and sup.count() == n_sup
        assert "onderdrukt" in sup.first.inner_text() and "0,0" not in sup.first.locator("td.value").inner_text()
        # in the chart a suppressed cell is no point at all (never one at 0): one point per published row
        shown = page.locator("#data-table tbody tr:not(.suppressed)").count()
        assert page.locator("#chart g.punten_marks path").count() == shown
        assert page.locator("#notes .suppressed-note").count() == 1

        # the CSV download holds exactly the rows of the table
        with page.expect_download() as dl:
            page.click("#csv")
        text = open(dl.value.path(), encoding="utf-8-sig").read().strip().splitlines()
        assert len(text) - 1 == page.locator("#data-table tbody tr").count()
        assert text[0].startswith("indicator;jaar;herkomst")
        shots.append(screenshot(page, "publication_O04_somalie"))
        assert page.js_errors == [], page.js_errors

        # factsheet and technical report open from the site
        page.goto((site / "factsheet.html").as_uri())
        assert page.locator('img[alt]').count() == 1 and page.locator("table tbody tr").count() >= 10
        shots.append(screenshot(page, "publication_factsheet"))
        page.goto((site / "technisch-rapport.html").as_uri())
        assert page.locator("section.indicator-report").count() == len(D.indicator_ids(table))
        shots.append(screenshot(page, "publication_technisch_rapport"))
    assert all(p.stat().st_size > 10_000 for p in shots)
