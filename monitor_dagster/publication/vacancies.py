"""The page "Stage- en werkervaringsplaatsen" (issue 20): research question 5 of the technisch rapport Monitor
gelijke kansen (hoofdstuk 6, §7.2.3), from the online vacancies of Jobfeed searched with a versioned strategy.

One page, ``stageplaatsen.html``: per category (the narrow reading "voor inburgeringsplichtigen" and the broader
ones, hfd. 6 stap a) the places of every year (V01) in total, market, government and rijk; the trend (V05, 2021 =
100); the share of internship vacancies (V04); the largest regions (V02) and sectors (V03); the strategy version
the figures rest on, and, when the validation sample is labelled, precision, recall and the corrected count with
its interval.  The counts are the gated table's; the corrected counts come from ``indicators/vacancies``, which
keeps them next to the table's columns.  The page says what the report says the count misses: municipalities
place people directly through local partners without a vacancy, and the advised KIS question to municipalities.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import number

PAGE = "stageplaatsen.html"
#: the footer's source line of the pages of V01-V05 (report hfd. 6: Jobfeed, delivered to a research bureau; not
#: CBS microdata): data.with_sources
SOURCES = "online vacatures van Jobfeed (Textkernel), doorzocht met de zoekstrategie van de monitor"
FAMILY = "vacancies"
IDS = ("V01", "V02", "V03", "V04", "V05")
CATEGORY_LABELS = {
    "voor_inburgeringsplichtigen": "Voor inburgeringsplichtigen (smalle lezing)",
    "open_voor_statushouders": "Open voor statushouders (brede lezing: ook gewone banen, niet alleen plaatsen)",
    "werkervaringsplaats": "Werkervaringsplaatsen",
    "stage": "Stages voor de doelgroep (niet in het kader van een opleiding)",
}
SPLITS = ("totaal", "markt", "overheid", "rijk")
INCOMPLETE = ("Deze tellingen zijn online aangeboden plaatsen. Ze zijn naar verwachting niet volledig: \"Gemeenten "
              "maken namelijk ook vaak lokale afspraken met partners. Zij hebben soms eigen participatiebedrijven. In "
              "dat geval zijn er mogelijk geen vacatures die online worden geplaatst omdat personen direct worden "
              "geplaatst\" (technisch rapport, hoofdstuk 6). De correctie hieronder corrigeert de tekstanalyse "
              "(precisie en recall van de zoekstrategie), niet de plaatsen die nooit als vacature verschenen. Het "
              "rapport adviseert daarom een vraag over direct geplaatste personen mee te nemen in de KIS-uitvraag aan "
              "gemeenten (monitor arbeidstoeleiding vluchtelingen); tel die niet zonder meer bij deze aantallen op.")
METHOD = ("Tekstanalyse van de online vacatures die Jobfeed (Textkernel) verzamelt, met een zoekstrategie in drie "
          "stappen (vraag aanscherpen, vacatures handmatig lezen, zoektermen en combinaties kiezen; hoofdstuk 6, "
          "§ 7.2.3). Een vacature telt in het jaar waarin zij voor het eerst online werd gevonden; categorieën "
          "overlappen. Aantallen van vacatures, niet van personen: er geldt geen minimum van 10 personen per cel; "
          "kleine regionale aantallen zijn onzeker.")


def load(warehouse: Path | str | None) -> pl.DataFrame | None:
    """Every year of ``indicators/vacancies`` (with corrected_value, lo, hi, strategy_version); None without."""
    return D.load_family(warehouse, FAMILY)


def _split(measure: str) -> tuple[str, str]:
    cat, _, split = measure.partition(" ")
    return cat, split or "totaal"


def _fmt(v, dec: int = 0) -> str | None:
    return None if v is None else number(v, dec)


def context(table: pl.DataFrame, detail: pl.DataFrame | None) -> dict | None:
    """What the page shows; None when the table has no vacancy figures."""
    rows = table.filter(pl.col("indicator_id").is_in(IDS) & ~pl.col("suppressed"))
    if rows.height == 0:
        return None
    if detail is not None:
        key = ["indicator_id", "year", "regio", "sector", "measure"]
        rows = rows.join(detail.select(*key, "corrected_value", "lo", "hi").unique(key), on=key, how="left")
    else:
        rows = rows.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("corrected_value", "lo", "hi"))
    years = sorted(int(y) for y in rows["year"].unique())
    last = years[-1]
    versions = sorted({v for x in rows["vintages"].drop_nulls().to_list() for v in re.findall(r"strategie_v(\d+)", x)})
    labels = sorted({v for x in rows["vintages"].drop_nulls().to_list() for v in x.split(",") if "LABELS" in v})
    v01 = rows.filter((pl.col("indicator_id") == "V01") & (pl.col("regio") == "totaal") & (pl.col("sector") == "totaal"))
    idx = rows.filter(pl.col("indicator_id") == "V05")
    v04 = rows.filter(pl.col("indicator_id") == "V04")
    cats = []
    for cat, label in CATEGORY_LABELS.items():
        series = []
        for y in years:
            r = {s: v01.filter((pl.col("year") == y) & (pl.col("measure") == (cat if s == "totaal" else f"{cat} {s}")))
                 for s in SPLITS}
            tot = r["totaal"].row(0, named=True) if r["totaal"].height else None
            i = idx.filter((pl.col("year") == y) & (pl.col("measure") == cat))
            sh = v04.filter((pl.col("year") == y) & (pl.col("measure") == cat))
            series.append({
                "year": y, **{s: (_fmt(r[s]["value"][0]) if r[s].height else None) for s in SPLITS},
                "index": _fmt(i["value"][0]) if i.height else None,
                "share": _fmt(sh["value"][0], 1) if sh.height else None,
                "corrected": _fmt(tot["corrected_value"]) if tot else None,
                "interval": (f"{_fmt(tot['lo'])} - {_fmt(tot['hi'])}" if tot and tot["lo"] is not None else None)})
        regions = (rows.filter((pl.col("indicator_id") == "V02") & (pl.col("year") == last) & (pl.col("measure") == cat)
                               & (pl.col("regio") != "totaal")).sort("value", "regio", descending=[True, False]).head(5))
        sectors = (rows.filter((pl.col("indicator_id") == "V03") & (pl.col("year") == last) & (pl.col("measure") == cat)
                               & (pl.col("sector") != "totaal")).sort("value", "sector", descending=[True, False]).head(5))
        cats.append({"id": cat, "label": label, "series": series,
                     "regions": [{"code": r["regio"], "value": _fmt(r["value"])} for r in regions.iter_rows(named=True)],
                     "sectors": [{"code": r["sector"], "value": _fmt(r["value"])} for r in sectors.iter_rows(named=True)]})
    return {"years": years, "last": last, "categories": cats, "versions": versions, "labels": labels,
            "validation": _validation(detail, last), "incomplete": INCOMPLETE, "method": METHOD}


def _validation(detail: pl.DataFrame | None, year: int) -> list[dict]:
    """Precision and recall per category of ``year`` (the family table's columns), when its sample is labelled."""
    if detail is None or "precision" not in detail.columns:
        return []
    d = (detail.filter((pl.col("indicator_id") == "V01") & (pl.col("year") == year) & pl.col("precision").is_not_null()
                       & pl.col("measure").is_in(list(CATEGORY_LABELS))).unique("measure"))
    by = {r["measure"]: r for r in d.iter_rows(named=True)}
    return [{"label": label, "precision": _fmt(100 * by[c]["precision"]), "recall": _fmt(100 * by[c]["recall"])}
            for c, label in CATEGORY_LABELS.items() if c in by]


TEMPLATE = """{% extends "base.html.j2" %}
{% block body %}
<h1>Stage- en werkervaringsplaatsen</h1>
<p>Hoeveel stage- en werkervaringsplekken in de marktsector en bij de overheid (de rijksoverheid apart) zijn vanaf
2021 beschikbaar voor inburgeringsplichtigen? (onderzoeksvraag 5, technisch rapport hoofdstuk 6)</p>
<p class="note"><strong>Let op:</strong> {{ s.incomplete }}</p>
<p class="meta">{{ s.method }} Zoekstrategie: versie {{ s.versions | join(", ") }}{% if s.labels %}; gevalideerd met
de handmatig gelabelde steekproef {{ s.labels | join(", ") }}{% else %}; nog niet gevalideerd met een gelabelde
steekproef (geen gecorrigeerde aantallen){% endif %}.</p>
{% if s.validation %}
<h2 id="validatie">Kwaliteit van de zoekstrategie ({{ s.last }})</h2>
<table class="data">
<thead><tr><th>categorie</th><th>precisie (%)</th><th>recall (%)</th></tr></thead>
<tbody>
{% for v in s.validation %}<tr><td>{{ v.label }}</td><td>{{ v.precision or "" }}</td><td>{{ v.recall or "" }}</td></tr>
{% endfor %}</tbody>
</table>
{% endif %}
{% for c in s.categories %}
<h2 id="{{ c.id }}">{{ c.label }}</h2>
<table class="data">
<thead><tr><th>jaar</th><th>totaal</th><th>marktsector</th><th>overheid</th><th>waarvan rijk</th><th>index (2021 = 100)</th><th>% van stagevacatures</th>{% if s.labels %}<th>gecorrigeerd</th><th>95%-interval</th>{% endif %}</tr></thead>
<tbody>
{% for r in c.series %}<tr><td>{{ r.year }}</td><td>{{ r.totaal or "" }}</td><td>{{ r.markt or "" }}</td><td>{{ r.overheid or "" }}</td><td>{{ r.rijk or "" }}</td><td>{{ r.index or "" }}</td><td>{{ r.share or "" }}</td>{% if s.labels %}<td>{{ r.corrected or "" }}</td><td>{{ r.interval or "" }}</td>{% endif %}</tr>
{% endfor %}</tbody>
</table>
{% if c.regions %}<p class="meta">Meeste plaatsen in {{ s.last }} naar arbeidsmarktregio: {% for r in c.regions %}{{ r.code }} ({{ r.value }}){% if not loop.last %}, {% endif %}{% endfor %}; naar sector (SBI): {% for r in c.sectors %}{{ r.code }} ({{ r.value }}){% if not loop.last %}, {% endif %}{% endfor %}. Alle regio's en sectoren: <a href="indicator/V02.html">V02</a>, <a href="indicator/V03.html">V03</a>.</p>{% endif %}
{% endfor %}
{% endblock %}
"""

INDEX_BLOCK = """<h2 id="stageplaatsen">Stage- en werkervaringsplaatsen</h2>
<p>Online aangeboden stage- en werkervaringsplaatsen voor inburgeringsplichtigen en statushouders (onderzoeksvraag 5,
technisch rapport hoofdstuk 6), uit vacatureteksten: <a href="stageplaatsen.html">Stage- en werkervaringsplaatsen</a>.</p>
"""


def write(env, site: Path, table: pl.DataFrame, warehouse: Path | str | None, common: dict) -> Path | None:
    """Write the page (None when there are no vacancy figures)."""
    ctx = context(table, load(warehouse))
    if ctx is None:
        return None
    html = env.from_string(TEMPLATE).render(**{**common, "sources": SOURCES}, root="", page_title="Stage- en werkervaringsplaatsen",
                                            s=ctx)
    path = site / PAGE
    path.write_text(html, encoding="utf-8")
    return path


def add_to_index(env, html: str, table: pl.DataFrame) -> str:
    """A link to the page before the index's "Meer" section."""
    if not table.filter(pl.col("indicator_id").is_in(IDS)).height:
        return html
    marker = "<h2>Meer</h2>"
    if html.count(marker) != 1:
        raise D.PublicationError(f"the index has {html.count(marker)} times {marker!r}: cannot place the vacancy page")
    return html.replace(marker, env.from_string(INDEX_BLOCK).render() + marker)
