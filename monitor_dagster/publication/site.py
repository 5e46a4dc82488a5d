"""The publication (report 7.3): a click-through web publication, a factsheet and a technical report.

:func:`build_site` turns the gated indicator table into a static site in Dutch that works offline (Remote
Access has no internet): every script and style is in the site, the charts are Vega-Lite (altair specs,
drawn by the vega-embed bundle that vl-convert ships).  Pages:

* ``index.html``: the headline gaps of the latest year (niet-westers minus geen migratieachtergrond) and
  every indicator, outcome before input (7.3: the other order suggests a causal link);
* ``indicator/<id>.html``: a chart over the years for chosen groups, switchable breakdowns (report 2.2), the
  numbers as a table under the chart and a CSV download of exactly what is shown;
* ``factsheet.html`` / ``factsheet.pdf``: one page, latest year and change of the gap since the first year;
* ``technisch-rapport.html``: per indicator the definition, source vintages, checks and their results (its
  Great Expectations suite: read from ``<warehouse>/gx/summary.json`` when the indicator_table asset stored
  one for this table, with a link to GE's Data Docs; else run again), trend breaks and suppressed cells;
* ``kaart/<id>.html`` (issue 18, publication/maps.py): per indicator with regional rows, a map of the
  arbeidsmarktregio's with the table of its numbers and a region's series; none without regional rows;
* ``data/indicatoren.csv``: the gated table itself (the ``monitor export`` csv).

Only a table that passes the disclosure gate is published (:func:`~monitor_dagster.publication.data.gated`).
The site is written to a temporary folder next to ``site_dir`` and swapped in at the end: a failed build
never leaves a half-written site, and the previous one stays until the new one is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import jinja2
import polars as pl

from monitor_dagster.export import export_table
from monitor_dagster.gates import expectations as X
from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.indicators.table import COLUMNS, CORRECTIE, GEEN
from monitor_dagster.publication import charts as C
from monitor_dagster.publication import corrections as CORR
from monitor_dagster.publication import data as D
from monitor_dagster.publication import durations as DURS
from monitor_dagster.publication import maps as MAPS
from monitor_dagster.indicators.engine import SECM_FALLBACK_VINTAGE
from monitor_dagster.publication import sensitivity as SENS
from monitor_dagster.publication import surveys as SURV
from monitor_dagster.publication import vacancies as VAC
from monitor_dagster.gates.disclosure import ORG_INDICATORS as SPEC_ORG
from monitor_dagster.publication.numbers import DECIMALS, MINUS, MISSING, count, fmt, number

UNIT_LABEL = {"%": "Percentage", "uren per week": "Uren per week", "euro per uur": "Euro per uur", "euro": "Euro",
              "maanden": "Maanden", "score 0-5": "Gemiddelde score (0-5)"}
UNIT_LABEL.update({"aantal": "Aantal vacatures", "index": "Index (2021 = 100)"})   # issue 20
UNIT_SHORT = {"%": "%", "uren per week": "uur", "euro per uur": "euro/uur", "euro": "euro", "maanden": "mnd",
              "score 0-5": "score"}
UNIT_SHORT.update({"aantal": "vacatures", "index": "index"})   # issue 20
MEASURE_LABELS = {"INPPERSPRIM": "persoonlijk primair inkomen", "INPPERSINK": "persoonlijk inkomen",
                  "INPPERSBRUT": "persoonlijk bruto inkomen", "1": "1 baan", "1-2": "1 tot 2 banen",
                  ">2": "meer dan 2 banen"}
#: the factsheet's chart: the first of these that is in the table (netto participatie is the report's headline)
FACTSHEET_CHART = ("O03", "O04", "O12")
#: why a figure is voorlopig (docs/indicators.md "status"), by kind of indicator
PROVISIONAL_TEXT = {
    "outcome": "rusten op een deel van het jaar (polisadministratie t/m maand 6 of 9), op een vervolgperiode die nog "
               "niet helemaal binnen is (de jaren na het peiljaar), of op scholieren, studenten en gepensioneerden uit "
               "de onderwijsinschrijvingen en de leeftijd omdat SECMBUS het jaar nog niet dekt (technisch rapport "
               "§ 7.1.3). Ze worden vervangen als die bestanden binnen zijn.",
    "input": "gaan over een instroomcohort dat nog geen heel jaar te volgen is: de bestanden van het jaar erna zijn "
             "er nog niet. Ze worden vervangen als die binnen zijn.",
}
ROW_FIELDS = ["year", "herkomst", "bd", "cat", "measure", "value", "n", "status", "suppressed", "reason", "trend_break",
              "firm", "link", "lo", "hi"]


@dataclass
class SiteResult:
    site: Path
    index: Path
    pages: list[Path] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    cells: int = 0
    suppressed: int = 0
    provisional_years: list[int] = field(default_factory=list)
    trend_unexplained: int = 0


def measure_label(indicator_id: str, measure: str) -> str:
    if measure == indicator_id:
        return ""
    return MEASURE_LABELS.get(measure, measure)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("monitor_dagster.publication", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(fmt=fmt, fmt_signed=lambda v, u: fmt(v, u, signed=True), count=count)
    return env


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no '</script>' or '<!--' can close it)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def _static(name: str) -> str:
    return resources.files("monitor_dagster.publication").joinpath("static", name).read_text(encoding="utf-8")


def _sections(ids: list[str]) -> list[dict]:
    reg = D.registry()
    out = []
    for theme, title in reg["themes"].items():
        items = [D.meta(i) for i in ids if reg["indicators"][i]["theme"] == theme]
        if items:
            out.append({"title": title, "items": items})
    # outcome themes first (report 7.3)
    return sorted(out, key=lambda s: s["items"][0]["kind"] != "outcome")


def _breakdown_label(iid: str, breakdown: str) -> str:
    """The breakdown's label, or the indicator's own (spec ``breakdown_labels``: O20-O22's ``sector`` column
    holds the onderwijssoort)."""
    from monitor_dagster.indicators import spec as SPEC

    return SPEC.spec(iid).breakdown_labels.get(breakdown, D.BREAKDOWNS[breakdown])


def _indicator_page(env, table: pl.DataFrame, iid: str, common: dict) -> tuple[str, dict]:
    m = D.meta(iid)
    rows = D.indicator_rows(table, iid)
    unit = rows["unit"][0]
    measures = sorted(rows["measure"].unique().to_list(), key=lambda x: (x != D.headline_measure(table, iid), x))
    bds = ["herkomst"] + [b for b in D.BREAKDOWNS if b != "herkomst" and b in set(rows["bd"].unique())]
    present = set(rows["herkomst"].unique())
    herkomst = [h for h in D.herkomst_order() if h in present]
    years = sorted(int(y) for y in rows["year"].unique())
    counted = D.counted(iid)                 # persons, respondents, organisations or vacancies
    # a survey indicator's measures read as the form's questions and choices (publication/surveys.labels)
    inst = SURV.instrument_of(iid)
    form_labels = SURV.labels(inst, years[-1]) if inst else {}
    breaks = D.breaks_for(iid, years, {b for x in rows["trend_break"].drop_nulls().unique() for b in TB.split_ids(x)})
    page = {
        "id": iid, "title": m["title"], "unit": unit, "unit_label": UNIT_LABEL.get(unit, unit),
        "unit_short": UNIT_SHORT.get(unit, unit), "decimals": DECIMALS.get(unit, 1), "few_persons": D.FEW_PERSONS,
        "counted": counted, "suppression_rule": D.suppression_rule(iid), "measures": measures,
        "measure_labels": {x: form_labels.get(x) or measure_label(iid, x) or m["title"] for x in measures},
        "breakdowns": {b: _breakdown_label(iid, b) for b in bds}, "herkomst": herkomst,
        "defaults": {"measure": measures[0], "breakdown": "herkomst",
                     "groups": [g for g in D.DEFAULT_GROUPS if g in present] or herkomst[:3]},
        "provisional_text": PROVISIONAL_TEXT[m["kind"]],
        "palette": C.PALETTE, "breaks": breaks, "break_text": {b["id"]: b["description"] for b in breaks},
        "columns": ROW_FIELDS, "rows": rows.select(ROW_FIELDS).rows(),
        "spec": C.indicator_template(m["title"], unit, UNIT_LABEL.get(unit, unit), counted.capitalize(),
                                     f"Lijngrafiek van {m['title']} per jaar; de cijfers staan in de tabel onder de grafiek."),
    }
    common = D.with_sources(iid, common)       # Jobfeed or the monitor's own questionnaires, not CBS microdata
    html = env.get_template("indicator.html.j2").render(**common, root="../", page_title=f"{iid} {m['title']}", m=m,
                                                         measures=measures, few_persons=D.FEW_PERSONS, counted=counted,
                                                         axis_text=_axis_text(unit), page_json=_script_json(page))
    return html, page


def _axis_text(unit: str) -> str:
    """What a chart's caption says about its y axis (charts.ZERO_BASED_UNITS)."""
    return "De verticale as begint bij 0." if unit in C.ZERO_BASED_UNITS else C.CUT_AXIS_NOTE


def _gap_dicts(gaps: list[D.Gap]) -> list[dict]:
    return [{**g.__dict__, "gap": g.gap, "change": g.change, "gap_unit": g.gap_unit,
             "measure_label": measure_label(g.indicator_id, g.measure) if g.n_measures > 1 else ""} for g in gaps]


def _factsheet_chart(table: pl.DataFrame, site: Path) -> dict | None:
    ids = set(table["indicator_id"].unique())
    iid = next((i for i in FACTSHEET_CHART if i in ids), None)
    if iid is None:
        return None
    m = D.meta(iid)
    measure = D.headline_measure(table, iid)
    t = (D.totals(table).filter((pl.col("indicator_id") == iid) & (pl.col("measure") == measure)
                                & pl.col("herkomst").is_in(D.DEFAULT_GROUPS))
         .select("year", "herkomst", "value", "n", "status", "unit"))
    t = D.reading(t, ["herkomst"])
    unit = table.filter(pl.col("indicator_id") == iid)["unit"][0]
    years = sorted(int(y) for y in t["year"].unique())
    breaks = [{"year": b["year"]} for b in D.breaks_for(iid, years) if not b["dimension"]]
    rows = t.select("year", "herkomst", "value", "status", "firm", "link", "lo", "hi").to_dicts()
    spec = C.factsheet_chart(rows, f"{m['title']} ({', '.join(D.DEFAULT_GROUPS)})", unit, UNIT_LABEL.get(unit, unit),
                             breaks, D.DEFAULT_GROUPS)
    (site / "factsheet_chart.png").write_bytes(C.to_png(spec))
    last = t.filter(pl.col("year") == max(years))
    vals = "; ".join(f"{h} {fmt(v, unit)}" for h, v in zip(last["herkomst"], last["value"]))
    return {"file": "factsheet_chart.png", "indicator": iid,
            "alt": f"Lijngrafiek van {m['title']} van {years[0]} tot {years[-1]} voor niet-westers, westers en geen "
                   f"migratieachtergrond. In {years[-1]}: {vals}.",
            "caption": f"{m['title']} per jaar. {_axis_text(unit)} Open punten zijn voorlopig (ruit, met een "
                       f"stippellijn verbonden) of rusten op minder dan {count(D.FEW_PERSONS)} personen (zonder lijn, "
                       f"met de 95%-marge). De cijfers per jaar staan op de indicatorpagina {iid}."}


def _pdf_text(s: str) -> str:
    """Text for fpdf2's core fonts, which we use in Windows-1252 (the PDF's WinAnsiEncoding: it has the en
    dash and curly quotes).  It has no minus sign: a text with one must go through :func:`_pdf_cell`."""
    if MINUS in s:
        raise ValueError(f"a minus sign outside a number cell of the PDF: {s!r}")
    s = s.replace("\u00ad", "")
    return s.encode("cp1252", "replace").decode("cp1252")


def _pdf_cell(pdf, w: float, h: float, text: str, border="", align: str = "L") -> None:
    """``pdf.cell``, with the minus sign U+2212 of a negative number drawn from the Symbol core font (its
    ``-`` is the minus glyph): the Latin core fonts have only the hyphen, which is no minus sign."""
    if MINUS not in text:
        pdf.cell(w, h, _pdf_text(text), border=border, align=align)
        return
    x, y = pdf.get_x(), pdf.get_y()
    family, style, size = pdf.font_family, pdf.font_style, pdf.font_size_pt
    pieces = [(p, p == MINUS) for p in re.split(f"({MINUS})", text) if p]

    def use(minus: bool) -> None:
        pdf.set_font("Symbol", "", size) if minus else pdf.set_font(family, style, size)

    widths = []
    for p, minus in pieces:
        use(minus)
        widths.append(pdf.get_string_width("-" if minus else _pdf_text(p)))
    use(False)
    pdf.cell(w, h, "", border=border)                 # the border; the text goes on top of it
    margin, pdf.c_margin = pdf.c_margin, 0
    tx = x + w - margin - sum(widths) if align == "R" else x + margin
    try:
        for (p, minus), pw in zip(pieces, widths):
            use(minus)
            pdf.set_xy(tx, y)
            pdf.cell(pw, h, "-" if minus else _pdf_text(p))
            tx += pw
    finally:
        pdf.c_margin = margin
        use(False)
        pdf.set_xy(x + w, y)


def write_factsheet_pdf(path: Path, gaps: list[dict], first_year: int, last_year: int, chart: dict | None,
                        provisional_years: list[int], site: Path) -> int:
    """The factsheet as a one-page A4 PDF (fpdf2); returns the number of pages (must be 1)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "cp1252"     # the PDF declares WinAnsiEncoding for the core fonts
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(_pdf_text(f"Factsheet Monitor gelijke kansen {last_year}"))
    pdf.set_lang("nl")
    pdf.add_page()
    pdf.set_margins(14, 12, 14)
    pdf.set_xy(14, 12)
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_text_color(21, 66, 115)
    pdf.cell(0, 8, _pdf_text(f"Monitor gelijke kansen – factsheet {last_year}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(30, 30, 30)
    pdf.multi_cell(0, 4.5, _pdf_text("Uitkomstindicatoren voor mensen met een niet-westerse migratieachtergrond en mensen "
                                     f"zonder migratieachtergrond in {last_year}, en de verandering van het verschil sinds "
                                     f"het eerste jaar ({first_year})."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    n = max(len(gaps), 1)
    row_h = min(5.2, 150 / (n + 1))
    font = 8 if row_h >= 4.6 else 7
    widths = (70, 22, 24, 20, 28, 18)
    heads = ("Indicator", "Niet-westers", "Geen migr.", "Verschil", "Verschil eerste jaar", "Verandering")
    pdf.set_font("Helvetica", "B", font)
    pdf.set_fill_color(232, 241, 248)
    for w, h in zip(widths, heads):
        pdf.cell(w, row_h + 0.6, _pdf_text(h), border="B", fill=True, align="L" if w == widths[0] else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", font)
    for g in gaps:
        label = g["title"] + (f" ({g['measure_label']})" if g["measure_label"] else "")
        label += " [voorlopig]" if g["status"] == "voorlopig" else ""
        label += " (tb)" if g["trend_breaks"] else ""
        first = MISSING if g["first_gap"] is None else f"{fmt(g['first_gap'], g['unit'], True)} ({g['first_year']})"
        cells = (label[:58], fmt(g["base"], g["unit"]), fmt(g["reference"], g["unit"]),
                 fmt(g["gap"], g["unit"], True), first, fmt(g["change"], g["unit"], True))
        for w, c in zip(widths, cells):
            _pdf_cell(pdf, w, row_h, c, border="B", align="L" if w == widths[0] else "R")
        pdf.ln()
    pdf.ln(3)
    if chart:
        y = pdf.get_y()
        img_w = 120
        if y + img_w * 0.52 < 262:
            pdf.image(str(site / chart["file"]), x=14, y=y, w=img_w, alt_text=_pdf_text(chart["alt"]))
            pdf.set_y(y + img_w * 0.52 + 2)
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(85, 85, 85)
    note = ("Verschil = niet-westers min geen migratieachtergrond (procentpunt bij percentages). '–' = niet gepubliceerd "
            "(onthullingscontrole: minder dan 10 personen of terug te rekenen uit andere cellen) of geen eerder jaar. "
            "(tb) = trendbreuk in de reeks, zie het technisch rapport.")
    if provisional_years:
        note += f" Voorlopig: {', '.join(map(str, provisional_years))}."
    note += " Bron: CBS-microdata (Remote Access), bewerking monitor_dagster."
    pdf.set_xy(14, max(pdf.get_y(), 270))
    pdf.multi_cell(0, 3.6, _pdf_text(note))
    pdf.output(str(path))
    return pdf.pages_count


#: Dutch names of the rules of the Great Expectations suites (gates/expectations.py RULES)
RULE_LABELS = {"unit": "eenheid", "range": "bereik", "years": "jaren", "suppressed": "onderdrukte cellen",
               "measures": "maatstaven", "completeness": "volledigheid", "trend": "trend"}


def quality(table: pl.DataFrame, warehouse: Path | str | None = None) -> dict:
    """The result of the indicator table's checks (gates/trend_breaks.py summary): the one the
    ``indicators/indicator_table`` asset stored in ``<warehouse>/gx/summary.json`` when it was written for this
    very table, else a fresh :func:`~monitor_dagster.gates.trend_breaks.check` (no Data Docs then).
    ``source`` says which; ``data_docs`` is the Data Docs index when it exists."""
    doc = TB.read_summary(warehouse, table) if warehouse is not None else None
    if doc is not None:
        docs = Path(warehouse) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
        return {**doc, "source": "warehouse", "data_docs": str(docs.resolve()) if docs.is_file() else None}
    return {**TB.check(table).summary(), "source": "check", "data_docs": None}


def _default_warehouse(site_dir: Path) -> Path | None:
    """``<warehouse>/publication/site`` is where the publication asset writes unless told otherwise."""
    return site_dir.parent.parent if site_dir.parent.name == "publication" else None


def _suite_text(suite: dict | None) -> tuple[str, str]:
    """(css class, text) of one indicator's Great Expectations suite in the technical report."""
    if suite is None:
        return "warn", "niet uitgevoerd (geen indicator met een specificatie)"
    if suite["success"]:
        return "ok", f"geslaagd ({suite.get('evaluated', 0)} verwachtingen)"
    critical = [f for f in suite["failed"] if f["severity"] == "critical"]
    if not critical:   # only the trend rule (a warning): the row "Trendcontrole" tells which jumps
        return "warn", "geslaagd op de trendregel na (zie Trendcontrole)"
    return "fail", "niet geslaagd: " + "; ".join(f"{RULE_LABELS.get(f['rule'], f['rule'])}: {f['text']}"
                                                 for f in critical)


def _plain(v: float) -> str:
    """A parameter as short as it is (5, 2,5, 25): the Dutch format without trailing zeros."""
    return number(v, 0 if float(v).is_integer() else len(repr(float(v)).split(".")[1]))


def _range_text(unit: str) -> str:
    """The range of a unit in Dutch interval notation (``[0; 100]``, ``(0; 80]``, ``[−1.000.000; 1.000.000]``):
    the semicolon, because the comma is the decimal sign."""
    lo, hi, strict = X.RANGES[unit]
    return f"{'(' if strict else '['}{_plain(lo)}; {_plain(hi)}]"


def _report_sections(table: pl.DataFrame, ids: list[str], q: dict) -> list[dict]:
    out = []
    for iid in ids:
        t = table.filter(pl.col("indicator_id") == iid)
        years = sorted(int(y) for y in t["year"].unique())
        sup = t.filter(pl.col("suppressed"))
        suite = q["suites"].get(iid)
        examples = "; ".join(f"{r['year']} {r['herkomst']} {r['measure']} ({number(r['change'], 1, signed=True)})"
                             for r in (suite or {}).get("unexplained_examples", []))
        suite_css, suite_text = _suite_text(suite)
        prov = sorted(int(y) for y in t.filter(pl.col("status") == "voorlopig")["year"].unique())
        out.append({
            "m": D.meta(iid), "cells": t.height, "years": f"{years[0]}–{years[-1]}",
            "units": ", ".join(sorted(t["unit"].unique())), "measures": [measure_label(iid, x) or x for x in
                                                                        sorted(t["measure"].unique())],
            "suppressed": sup.height, "suppressed_pct": number(100 * sup.height / max(t.height, 1), 0),
            "suppressed_primary": sup.filter(pl.col("suppression_reason").is_in(D.PRIMARY_REASONS)).height,
            "suppressed_secondary": sup.filter(pl.col("suppression_reason").is_in(D.SECONDARY_REASONS)).height,
            "provisional": ", ".join(map(str, prov)),
            "explained": (suite or {}).get("explained", 0),
            "unexplained": (suite or {}).get("unexplained", 0), "unexplained_examples": examples,
            "suite_css": suite_css, "suite_text": suite_text,
            "breaks": D.breaks_for(iid, years, {b for x in t["trend_break"].drop_nulls().unique() for b in TB.split_ids(x)}),
            "vintages": D.vintages_by_year(table, iid),
        })
    return out


def build_site(table: pl.DataFrame, site_dir: Path | str, *, built_on: dt.date | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               warehouse: Path | str | None = None) -> SiteResult:
    """Write the publication of a gated indicator table to ``site_dir`` (replaced atomically).

    ``warehouse``: where the table comes from; the technical report then shows the checks stored with it
    (``<warehouse>/gx/summary.json``, and links GE's Data Docs) instead of running them again.  Without it,
    a ``site_dir`` of the default form ``<warehouse>/publication/site`` names the warehouse."""
    table = D.gated(table, hint=D.STORED_TABLE_HINT if warehouse is not None else None)
    SURV.load(warehouse)      # refuses a stored survey wave this version would not publish, before any page is built
    # the regional rows (issue 18) have the map pages of their own (the other pages read the national rows)
    regional = MAPS.regional_rows(table)
    # the organisation surveys' regions (issue 19) are no map of persons by herkomst: their page is Inzet en aanpak
    regional = regional.filter(~pl.col("indicator_id").is_in(list(SPEC_ORG)))
    # the corrected rows (issue 17) have their own section; every other page reads the uncorrected ones
    corrections = table.filter(pl.col(CORRECTIE) != GEEN)
    table = table.filter(pl.col(CORRECTIE) == GEEN)
    if table.height == 0:
        raise D.PublicationError("the indicator table is empty: nothing to publish")
    site_dir = Path(site_dir)
    wh = Path(warehouse) if warehouse is not None else _default_warehouse(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.", suffix=".tmp", dir=site_dir.parent))
    try:
        result = _build(table, tmp, built_on or dt.date.today(), progress, wh, corrections, regional)
        _swap(tmp, site_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.site = site_dir
    result.index = site_dir / "index.html"
    result.pages = [site_dir / p.relative_to(tmp) for p in result.pages]
    return result


def _swap(new: Path, target: Path) -> None:
    for p in [new, *new.rglob("*")]:     # mkdtemp/mkstemp create private (0700/0600) entries: a site is for readers
        p.chmod(0o755 if p.is_dir() else 0o644)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _build(table: pl.DataFrame, site: Path, built_on: dt.date, progress,
           warehouse: Path | None = None, corrections: pl.DataFrame | None = None,
           regional: pl.DataFrame | None = None) -> SiteResult:
    """``corrections``: the gated table's corrected rows (gewogen, model), shown by publication/corrections.py;
    ``regional``: the cells of the map pages (publication/maps.py ``regional_rows``)."""
    env = _env()
    ids = D.indicator_ids(table)
    # the headline years are the monitor's own series: an organisation survey wave alone (issue 19; two-yearly,
    # possibly after the last register year) does not make a year of the monitor
    own = table.filter(~pl.col("indicator_id").is_in(list(SPEC_ORG)))
    years = sorted(int(y) for y in (own if own.height else table)["year"].unique())
    provisional_years = sorted(int(y) for y in table.filter(pl.col("status") == "voorlopig")["year"].unique())
    common = {"first_year": years[0], "last_year": years[-1], "built_on": built_on.strftime("%d-%m-%Y"),
              "cells_total": count(table.height), "cells_suppressed": count(int(table["suppressed"].sum())),
              "provisional_years": provisional_years}
    result = SiteResult(site=site, index=site / "index.html", indicators=ids, cells=table.height,
                        suppressed=int(table["suppressed"].sum()), provisional_years=provisional_years)
    for sub in ("assets", "indicator", "data"):
        (site / sub).mkdir(parents=True, exist_ok=True)
    (site / "assets" / "site.css").write_text(_static("site.css"), encoding="utf-8")
    (site / "assets" / "numbers.js").write_text(_static("numbers.js"), encoding="utf-8")
    (site / "assets" / "indicator.js").write_text(_static("indicator.js"), encoding="utf-8")
    (site / "assets" / "vega.js").write_text(C.javascript_bundle(), encoding="utf-8")
    export_table(table.select(COLUMNS), "csv", site / "data" / "indicatoren.csv")

    def write(rel: str, html: str) -> None:
        p = site / rel
        p.write_text(html, encoding="utf-8")
        result.pages.append(p)

    durations = DURS.load(warehouse, table)     # indicators/durations (issue 17); None: no duration sections
    maps = MAPS.map_ids(regional) if regional is not None else []
    if maps:
        (site / "kaart").mkdir(parents=True, exist_ok=True)
        MAPS.write_assets(site)
        for iid in maps:
            write(f"kaart/{iid}.html", MAPS.page(env, regional, iid, common, _script_json))
    for i, iid in enumerate(ids):
        if progress:
            progress(f"indicator {iid}", i, len(ids) + 3)
        html, _ = _indicator_page(env, table, iid, common)
        write(f"indicator/{iid}.html", SURV.add_to_indicator_page(MAPS.add_to_indicator_page(DURS.add_to_indicator_page(
            CORR.add_to_indicator_page(html, table, corrections, iid), durations, iid), iid, maps), iid))

    outcome_gaps = _gap_dicts(D.gaps(table, kind="outcome"))
    n_input = sum(D.meta(i)["kind"] == "input" for i in ids)
    write("index.html", SURV.add_to_index(env, MAPS.add_to_index(CORR.add_to_index(env.get_template("index.html.j2").render(
        **common, root="", page_title="Home", gaps=outcome_gaps, sections=_sections(ids),
        n_outcome=len(ids) - n_input, n_input=n_input), table, corrections), maps), table, warehouse))
    # "Inzet en aanpak" (issue 19): the organisation surveys with response and margins, after the outcomes
    surveys_page = SURV.write(env, site, table, warehouse, common)
    if surveys_page is not None:
        result.pages.append(surveys_page)
    # "Stage- en werkervaringsplaatsen" (issue 20): research question 5 from the online vacancies
    vacancies_page = VAC.write(env, site, table, warehouse, common)
    if vacancies_page is not None:
        result.pages.append(vacancies_page)
        (site / "index.html").write_text(VAC.add_to_index(env, (site / "index.html").read_text(encoding="utf-8"), table),
                                         encoding="utf-8")

    if progress:
        progress("factsheet", len(ids), len(ids) + 3)
    chart = _factsheet_chart(table, site)
    write("factsheet.html", env.get_template("factsheet.html.j2").render(
        **common, root="", page_title="Factsheet", gaps=outcome_gaps, chart=chart))
    pages = write_factsheet_pdf(site / "factsheet.pdf", outcome_gaps, years[0], years[-1], chart,
                                provisional_years, site)
    if pages != 1:
        raise D.PublicationError(f"the factsheet PDF has {pages} pages; it must fit on one")

    if progress:
        progress("technisch rapport", len(ids) + 1, len(ids) + 3)
    q = quality(table, warehouse)
    reg = TB.registry()
    n_suites = len(q["suites"])
    n_passed = sum(1 for r in q["suites"].values() if not [f for f in r["failed"] if f["severity"] == "critical"])
    write("technisch-rapport.html", DURS.add_to_report(CORR.add_to_report(env.get_template("report.html.j2").render(
        **common, root="", page_title="Technisch rapport", sections=_report_sections(table, ids, q),
        suppressed_primary=table.filter(pl.col("suppression_reason").is_in(D.PRIMARY_REASONS)).height,
        suppressed_secondary=table.filter(pl.col("suppression_reason").is_in(D.SECONDARY_REASONS)).height,
        trend_success=q["trend"]["success"], trend_explained=q["trend"]["explained"],
        trend_unexplained=q["trend"]["unexplained"], trend_min_n=q["trend"].get("min_n", 100),
        suites_total=n_suites, suites_passed=n_passed, contract_failures=q["failures"],
        quality_source=q["source"], quality_written=q.get("written"),
        # the path inside the warehouse as text, not a link: the site is published, the Data Docs are not
        data_docs="gx/uncommitted/data_docs/local_site/index.html" if q.get("data_docs") else None,
        ranges="; ".join(f"{u} {_range_text(u)}" for u in X.RANGES),
        tolerance_pct=_plain(reg["tolerance"]["%"]), tolerance_rel=_plain(100 * reg["tolerance"]["relative"]),
        sources=sorted({v for vs in table["vintages"].drop_nulls().unique() for v in vs.split(",")
                        if v and v != SECM_FALLBACK_VINTAGE}),
        secm_fallback_years=sorted(int(y) for y in table.filter(
            pl.col("vintages").str.contains(SECM_FALLBACK_VINTAGE, literal=True))["year"].unique()),
        sensitivity=SENS.context(SENS.load(warehouse, table)),
        all_breaks=[{**b, "description": b.get("toelichting", b["description"]),
                     "indicators": "alle" if b["indicators"] == ["*"] else ", ".join(b["indicators"]) or "geen"}
                    for b in reg["breaks"]]), table, corrections, warehouse), durations, ids))
    result.trend_unexplained = q["trend"]["unexplained"]
    return result
