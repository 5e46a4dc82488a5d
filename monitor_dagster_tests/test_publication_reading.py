"""How the figures are read (issue 16, item 6): axes from 0, uncertain values off the solid line with their
interval, no missing value drawn or written as 0, one Dutch number format everywhere (pages, PDF, script).

Most tests draw the real chart specs with vl-convert (the renderer of the factsheet PNG) and read the SVG:
a spec that looks right but draws wrong would fail them.  The site-wide scans use the published site of
``test_publication.py``; the script's number format is compared with Python's in headless Chromium.
"""

from __future__ import annotations

import html as H
import math
import re
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import polars as pl
import pytest

from monitor_dagster.publication import charts as C
from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import MINUS, count, fmt, number

SVG = "{http://www.w3.org/2000/svg}"


# ---- helpers --------------------------------------------------------------------------------------------
def _cells(**series) -> pl.DataFrame:
    """Rows of one indicator for :func:`data.reading`: ``name=[(year, value, n, status), ...]``."""
    rows = [{"herkomst": h, "measure": "m", "bd": "totaal", "cat": "totaal", "unit": "%", "year": y, "value": v,
             "n": n, "status": st} for h, cells in series.items() for y, v, n, st in cells]
    return pl.DataFrame(rows, schema_overrides={"value": pl.Float64, "n": pl.Int64, "year": pl.Int32})


def _render(spec: dict, cells: list[dict] | None = None) -> ET.Element:
    """The chart as vl-convert draws it (SVG), with ``cells`` as the page script would pass them."""
    import vl_convert as vlc

    spec = dict(spec, width=400)
    if cells is not None:
        spec["datasets"] = {"cells": cells, "breaks": []}
    return ET.fromstring(vlc.vegalite_to_svg(spec, vl_version=C.VL_VERSION))


def _marks(svg: ET.Element, name: str) -> list[ET.Element]:
    """The drawn items of the layer ``name`` (vega's ``<name>_marks`` groups)."""
    out = []
    for g in svg.iter(f"{SVG}g"):
        if f"{name}_marks" in (g.get("class") or "").split():
            out.extend(list(g))
    return out


def _vertices(path: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]\s*([-\d.e]+)[ ,]([-\d.e]+)", path.get("d", ""))]


def _translate(el: ET.Element) -> tuple[float, float]:
    x, y = re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", el.get("transform")).groups()
    return float(x), float(y)


def _tick_labels(svg: ET.Element) -> list[str]:
    """Texts of the y axis's tick labels (numbers), bottom to top."""
    out = []
    for g in svg.iter(f"{SVG}g"):
        if "role-axis-label" in (g.get("class") or ""):
            out.append([t.text for t in g.iter(f"{SVG}text")])
    # the y axis is the one whose labels are not the years
    return next(labels for labels in out if not all(re.fullmatch(r"20\d\d", t or "") for t in labels))


def _page_cells(rows: pl.DataFrame) -> list[dict]:
    """What indicator.js puts into the chart's ``cells`` dataset (series = herkomst)."""
    return [{**r, "series": r["herkomst"], "label": "", "marge": "", "n_label": "", "status_label": "", "reason": ""}
            for r in rows.to_dicts()]


def _pdf_runs(data: bytes) -> list[tuple[str, str]]:
    """(base font, text) of every text run of an fpdf2 PDF with core fonts (no PDF library needed)."""
    objs = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}
    fonts = {}
    for body in objs.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            base = re.search(rb"/BaseFont\s*/([\w+-]+)", objs[int(ref)])
            fonts[name.decode()] = base.group(1).decode()
    runs = []
    for body in objs.values():
        m = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
        if not m or b"/FlateDecode" not in body.split(b"stream")[0]:
            continue
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        font = None
        for tok in re.finditer(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", content):
            if tok.group(1):
                font = fonts[tok.group(1).decode()]
            else:
                runs.append((font, re.sub(rb"\\(.)", rb"\1", tok.group(2)).decode("cp1252")))
    return runs


def _pdf_text(runs: list[tuple[str, str]]) -> str:
    """The PDF's text as a reader sees it: the Symbol font's ``-`` is its minus glyph."""
    return " ".join(MINUS if font == "Symbol" and t == "-" else t for font, t in runs).replace(f"{MINUS} ", MINUS)


def _page_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return H.unescape(re.sub(r"<[^>]+>", " ", html))


#: a count or value written without its thousands point (``32317``), and a hyphen used as a minus (``-1,5``)
UNFORMATTED = re.compile(r"(?<![\d.,\w])\d{5,}(?![\d\w])")
HYPHEN_MINUS = re.compile(r"(?<![\w\d])-\d")


# ---- one number format ------------------------------------------------------------------------------------
def test_dutch_number_format():
    assert count(57086) == "57.086" and count(32317) == "32.317" and count(1234) == "1.234" and count(999) == "999"
    assert number(-1.5, 1) == f"{MINUS}1,5" and number(-1.5, 1).startswith("\u2212")
    assert fmt(-3.25, "euro per uur", signed=True) == f"{MINUS}3,25" and fmt(0.5, "%", signed=True) == "+0,5"
    assert fmt(-1_000_000, "euro") == f"{MINUS}1.000.000" and fmt(1234.5, "euro per uur") == "1.234,50"
    # what rounds to zero carries no sign; halves round away from zero, as Intl.NumberFormat does
    assert fmt(-0.04, "%") == "0,0" and fmt(-0.04, "%", signed=True) == "0,0"
    assert number(12.25, 1) == "12,3" and number(-12.25, 1) == f"{MINUS}12,3" and number(1.005, 2) == "1,01"
    # a value that is not there is a dash, never a zero
    assert fmt(None, "%") == "–" and number(float("nan"), 1) == "–" and count(None) == "–"


def test_page_script_formats_numbers_as_python(tmp_path):
    """numbers.js in Chromium writes every number exactly as numbers.py does (thousands, rounding, minus)."""
    from monitor_dagster_tests._browser import browser_page

    cases = [(57086, 0, False), (32317, 0, False), (1234, 0, False), (-1.5, 1, False), (-1.5, 1, True),
             (0.5, 1, True), (-0.04, 1, False), (-0.04, 1, True), (12.25, 1, False), (-12.25, 1, False),
             (1.005, 2, False), (2.675, 2, False), (0.15, 1, False), (999.95, 1, False), (1234.5, 0, False),
             (-1_000_000, 0, False), (17.6, 2, True), (None, 1, False)]
    js = Path(__file__).resolve().parents[1] / "monitor_dagster" / "publication" / "static" / "numbers.js"
    page_file = tmp_path / "numbers.html"
    page_file.write_text(f'<!doctype html><html><script src="{js.as_uri()}"></script></html>', encoding="utf-8")
    with browser_page(offline=True) as page:
        page.goto(page_file.as_uri())
        got = page.evaluate("cs => cs.map(c => MonitorNumbers.number(c[0], c[1], c[2]))", cases)
        counts = page.evaluate("[MonitorNumbers.count(57086), MonitorNumbers.count(null)]")
        assert page.js_errors == []
    assert got == [number(v, d, s) for v, d, s in cases]
    assert counts == ["57.086", "–"]


# ---- axes -------------------------------------------------------------------------------------------------
def _y_scales(spec: dict) -> list[dict]:
    return [layer["encoding"]["y"].get("scale", {}) for layer in spec["layer"]
            if "field" in layer.get("encoding", {}).get("y", {})]


@pytest.mark.parametrize("unit", ["%", "euro", "uren per week"])
def test_axis_starts_at_zero(unit):
    """A share of 64-70% is drawn on an axis from 0 (and so are euro and hours): a cut axis would make the
    gap between groups look several times larger."""
    spec = C.indicator_template("t", unit, "label", "Personen", "d")
    scales = _y_scales(spec)
    assert len(scales) == 4 and all(s.get("zero") is True for s in scales)
    assert "subtitle" not in spec["title"]
    rows = D.reading(_cells(a=[(2015, 64.0, 5000, "definitief"), (2016, 70.0, 5000, "definitief")],
                            b=[(2015, 66.0, 5000, "definitief"), (2016, 68.5, 5000, "definitief")])
                     .with_columns(pl.lit(unit).alias("unit")), ["herkomst"])
    ticks = _tick_labels(_render(spec, _page_cells(rows)))
    assert ticks[0] == "0", ticks
    # the static factsheet chart too
    fs = C.factsheet_chart(rows.select("year", "herkomst", "value", "status", "firm", "link", "lo", "hi").to_dicts(),
                           "t", unit, "label", [], ["a", "b"])
    assert all(s.get("zero") is True for s in _y_scales(fs)) and _tick_labels(_render(fs))[0] == "0"


def test_unit_without_a_true_zero_says_its_axis_is_cut():
    """The rule for any other unit (an index, a score): the axis may start elsewhere, and the chart says so."""
    spec = C.indicator_template("t", "index", "Index", "Personen", "d")
    assert all(s.get("zero") is False for s in _y_scales(spec))
    assert spec["title"]["subtitle"] == C.CUT_AXIS_NOTE
    rows = D.reading(_cells(a=[(2015, 96.0, 5000, "definitief"), (2016, 104.0, 5000, "definitief")])
                     .with_columns(pl.lit("index").alias("unit")), ["herkomst"])
    svg = _render(spec, _page_cells(rows))
    assert float(_tick_labels(svg)[0].replace(",", ".")) > 0
    assert C.CUT_AXIS_NOTE in [t.text for t in svg.iter(f"{SVG}text")]
    from monitor_dagster.publication.site import _axis_text

    assert _axis_text("index") == C.CUT_AXIS_NOTE and "begint bij 0" in _axis_text("%")


def test_axis_labels_are_dutch():
    """Axis numbers use the same format as the text: 30.000, not 30,000; the minus sign, not the hyphen."""
    spec = C.indicator_template("t", "euro", "Euro", "Personen", "d")
    rows = D.reading(_cells(a=[(2015, 31000.0, 5000, "definitief"), (2016, 33000.0, 5000, "definitief")])
                     .with_columns(pl.lit("euro").alias("unit")), ["herkomst"])
    ticks = _tick_labels(_render(spec, _page_cells(rows)))
    assert "30.000" in ticks and not any("," in t for t in ticks)
    rows = D.reading(_cells(a=[(2015, -2.5, 5000, "definitief"), (2016, 1.5, 5000, "definitief")])
                     .with_columns(pl.lit("index").alias("unit")), ["herkomst"])
    ticks = _tick_labels(_render(C.indicator_template("t", "index", "Index", "Personen", "d"), _page_cells(rows)))
    assert any(t.startswith(MINUS) for t in ticks) and not any("-" in t for t in ticks), ticks


# ---- uncertain and missing values ---------------------------------------------------------------------------
def test_few_persons_and_provisional_values_are_not_firm():
    """The 0,0% on 18 persons (voorlopig) is no collapse: not firm, no line, and its Wilson interval; a
    voorlopig value on many persons is joined by a dotted segment only; a suppressed cell is a gap, not 0."""
    rows = D.reading(_cells(
        a=[(2015, 64.0, 500, "definitief"), (2016, 66.0, 500, "definitief"), (2017, 65.0, 500, "definitief"),
           (2018, 0.0, 18, "voorlopig")],
        b=[(2015, 70.0, 800, "definitief"), (2016, None, None, "definitief"), (2017, 71.0, 800, "definitief"),
           (2018, 72.0, 800, "voorlopig")]), ["herkomst"])
    a = rows.filter(pl.col("herkomst") == "a").sort("year")
    b = rows.filter(pl.col("herkomst") == "b").sort("year")
    assert a["firm"].to_list() == [True, True, True, False]
    assert a["link"].to_list() == [False, False, False, False]          # few persons: no line to it at all
    assert b["firm"].to_list() == [True, False, True, False]
    assert b["link"].to_list() == [False, False, True, True]             # voorlopig on 800: dotted from 2017
    # Wilson 95% for 0 of 18: from 0 to z²/(n+z²) (the interval does not collapse to a point at 0)
    z2 = D.Z95 ** 2
    last = a.row(3, named=True)
    assert last["lo"] == 0.0 and last["hi"] == pytest.approx(100 * z2 / (18 + z2), abs=1e-3)
    # and for 64% of 500 the textbook Wilson formula
    p, n = 0.64, 500
    centre, half = (p + z2 / (2 * n)) / (1 + z2 / n), D.Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    first = a.row(0, named=True)
    assert first["lo"] == pytest.approx(100 * (centre - half), abs=1e-3)
    assert first["hi"] == pytest.approx(100 * (centre + half), abs=1e-3)
    gap = b.row(1, named=True)
    assert gap["value"] is None and gap["lo"] is None and not gap["firm"] and not gap["link"]
    # euro, hours, months: the table has no spread, so no interval is made up
    euro = D.reading(_cells(a=[(2015, 30000.0, 18, "definitief")]).with_columns(pl.lit("euro").alias("unit")),
                     ["herkomst"])
    assert euro["lo"].to_list() == [None] and euro["firm"].to_list() == [False]


def test_uncertain_value_is_drawn_off_the_solid_line_with_its_interval():
    """Drawn by the chart: the solid line stops at 2017, the 2018 value on 18 persons is an open point with
    a rule from 0 to 17,6%, no line leads to it; the suppressed cell of b is no point and no 0."""
    rows = D.reading(_cells(
        a=[(2015, 64.0, 500, "definitief"), (2016, 66.0, 500, "definitief"), (2017, 65.0, 500, "definitief"),
           (2018, 0.0, 18, "voorlopig")],
        b=[(2015, 70.0, 800, "definitief"), (2016, None, None, "definitief"), (2017, 71.0, 800, "definitief"),
           (2018, 72.0, 800, "voorlopig")]), ["herkomst"])
    svg = _render(C.indicator_template("t", "%", "Percentage", "Personen", "d"), _page_cells(rows))
    points = _marks(svg, "punten")
    assert len(points) == 7                                               # 8 cells, one suppressed
    xs = sorted({round(_translate(p)[0], 1) for p in points})
    x2018 = xs[-1]
    solid = [_vertices(p) for p in _marks(svg, "lijn")]
    assert solid and all(x < x2018 - 1 for path in solid for x, _ in path)   # no solid segment reaches 2018
    assert max(len(path) for path in solid) == 3                              # a: 2015-2017
    dotted = [v for v in (_vertices(p) for p in _marks(svg, "onzeker")) if v]
    assert len(dotted) == 1 and len(dotted[0]) == 2                           # b: 2017 -> 2018 (800 persons)
    rules = _marks(svg, "marge")
    assert len(rules) == 2                                                    # the two uncertain shares
    # the open point: white fill; the firm ones filled with their colour
    fills = [p.get("fill") for p in points]
    assert fills.count("white") == 2 and len(set(fills)) == 3
    # the suppressed cell's × sits along the top of the plot, not on the zero line
    crosses = _marks(svg, "onderdrukt")
    assert len(crosses) == 1 and _translate(crosses[0])[1] < 360 / 10          # plot height 360, 0 at the bottom


def test_page_rows_carry_the_reading(published):
    """The indicator page's rows say how to draw each cell; a suppressed cell is never 0 and never firm."""
    from monitor_dagster_tests.test_publication import _page_json

    _, site, table = published
    page = _page_json((site / "indicator" / "O04.html").read_text(encoding="utf-8"))
    rows = pl.DataFrame(page["rows"], schema=page["columns"], orient="row")
    hidden = rows.filter(pl.col("suppressed"))
    assert hidden.height and hidden["value"].null_count() == hidden.height and not hidden["firm"].any()
    few = rows.filter(~pl.col("suppressed") & (pl.col("n") < D.FEW_PERSONS))
    prov = rows.filter(~pl.col("suppressed") & (pl.col("status") == "voorlopig"))
    assert few.height and not few["firm"].any() and not few["link"].any() and few["lo"].null_count() == 0
    assert prov.height and not prov["firm"].any()
    assert page["few_persons"] == D.FEW_PERSONS and all(sc.get("zero") is True for sc in _y_scales(page["spec"]))


# ---- pages and PDF ------------------------------------------------------------------------------------------
def test_factsheet_pdf_writes_the_minus_sign(tmp_path):
    """Negative numbers in the PDF carry the minus sign (Symbol font), never the hyphen; counts and euro get
    the thousands point."""
    from monitor_dagster.publication.site import write_factsheet_pdf

    gaps = [{"title": "Persoonlijk inkomen", "measure_label": "", "status": "definitief", "trend_breaks": [],
             "unit": "euro", "base": 32317.0, "reference": 57086.0, "gap": 32317.0 - 57086.0, "first_year": 2015,
             "first_gap": -21000.4, "change": -3768.6},
            {"title": "Werkloosheid", "measure_label": "", "status": "voorlopig", "trend_breaks": ["x"],
             "unit": "%", "base": 5.1, "reference": 6.6, "gap": -1.5, "first_year": None, "first_gap": None,
             "change": None}]
    path = tmp_path / "factsheet.pdf"
    assert write_factsheet_pdf(path, gaps, 2015, 2018, None, [2018], tmp_path) == 1
    runs = _pdf_runs(path.read_bytes())
    text = _pdf_text(runs)
    assert "32.317" in text and "57.086" in text and "32317" not in text
    assert f"{MINUS}24.769" in text and f"{MINUS}21.000 (2015)" in text and f"{MINUS}3.769" in text
    assert f"{MINUS}1,5" in text
    assert not HYPHEN_MINUS.search(text), text
    assert ("Symbol", "-") in runs and all(f in ("Helvetica", "Helvetica-Bold", "Symbol") for f, _ in runs)


def test_published_site_writes_numbers_one_way(published):
    """No page of the published site writes a count without its thousands point (the technical report had
    ``11832`` next to the footer's ``57.086``) or a hyphen for a minus; nor does its PDF."""
    _, site, table = published
    table = table.filter(pl.col("correctie") == "geen")   # the pages read the uncorrected rows (issue 17)
    for page in site.rglob("*.html"):
        text = _page_text(page.read_text(encoding="utf-8"))
        assert not UNFORMATTED.findall(text), (page.name, UNFORMATTED.findall(text)[:5])
        assert not HYPHEN_MINUS.findall(text), (page.name, re.findall(r".{20}(?<![\w\d])-\d.{5}", text)[:5])
    report = (site / "technisch-rapport.html").read_text(encoding="utf-8")
    sizes = table.group_by("indicator_id").len()
    assert sizes["len"].max() >= 1000          # so that the check below sees a thousands point
    for iid, n in sizes.iter_rows():
        sec = re.search(rf'<section id="{re.escape(iid)}".*?</section>', report, re.S).group(0)
        assert f"<td>{count(n)} (jaren" in sec, iid
    pdf = _pdf_text(_pdf_runs((site / "factsheet.pdf").read_bytes()))
    assert not HYPHEN_MINUS.search(pdf) and not UNFORMATTED.search(pdf)
    assert (site / "assets" / "numbers.js").is_file()
