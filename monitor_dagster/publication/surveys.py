"""The section "Inzet en aanpak" (issue 19): what gemeenten, werkgevers and onderwijsinstellingen say they do,
from the organisation surveys (technisch rapport Monitor gelijke kansen, hoofdstuk 3; two-yearly, §7.1.1).

One page, ``inzet-en-aanpak.html``, per instrument and wave: the response (organisations in the frame, responding,
response rate, weighting method), then per indicator the weighted figures of the totaal with their 95 % margin
of error and the unweighted number of organisations.  The figures are the gated table's (a cell the gate hid stays
hidden here); the margins and response rates come from ``indicators/inputs_surveys``, which keeps them next to
the table's columns.  The page says, as the report does (§7.3), that input and outcome are not causally linked, and
is reached from the index after the outcome indicators.  Figures of other bodies (NEA, WEA; catalog entries
``EXTERN*`` in the published-figures format of surveys/published.py) stand in a box of their own, "Cijfers uit
andere bronnen", each with its source and link, never in these tables nor in the monitor's series or downloads.
"""

from __future__ import annotations

import re

from pathlib import Path

import polars as pl

from monitor_dagster.indicators.table import DIMENSIONS, TOTAAL
from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import number

PAGE = "inzet-en-aanpak.html"
FAMILY = "inputs_surveys"
INSTRUMENTS = {"S-g": ("gemeenten", "Gemeenten"), "S-w": ("werkgevers", "Werkgevers"),
               "S-o": ("onderwijsinstellingen", "Onderwijsinstellingen")}


def instrument_of(indicator_id: str) -> str | None:
    """The organisation survey an indicator id belongs to (``S-g1`` -> ``gemeenten``), None for the others."""
    return next((who for prefix, (who, _) in INSTRUMENTS.items() if indicator_id.startswith(prefix)), None)


CAVEAT = ("Deze cijfers beschrijven de inzet van organisaties, niet het effect ervan. Inzet en uitkomst staan hier "
          "los van elkaar: dat een uitkomst verandert nadat de inzet veranderde, betekent niet dat het een het "
          "ander veroorzaakte (technisch rapport Monitor gelijke kansen, § 7.3).")
METHOD = ("Gewogen naar grootteklasse, sector of regio van alle organisaties in het steekproefkader (raking; "
          "bij te weinig respons in een klasse poststratificatie). De marge is het 95%-betrouwbaarheidsinterval; "
          "n is het ongewogen aantal organisaties dat de vraag beantwoordde. Cellen met minder dan 5 organisaties, "
          "of waarin één organisatie meer dan de helft van het gewicht draagt, worden niet gepubliceerd. Open "
          "antwoorden worden gecodeerd en nooit als citaat gepubliceerd.")
_KEY = ["indicator_id", "year", *DIMENSIONS, "measure"]


def load(warehouse: Path | str | None) -> pl.DataFrame | None:
    """Every wave of ``indicators/inputs_surveys`` (with moe, response_rate, n_choice); None without one.
    Refuses (``DisclosureError``) a wave stored by a version before the group rule that shows what it hides
    (``surveys.disclosure.stored_leaks``): the indicator table carries the same cells."""
    t = D.load_family(warehouse, FAMILY, needs="moe")
    if t is not None:
        from monitor_dagster.surveys.disclosure import stored_leaks

        leaks = stored_leaks(t)
        if leaks:
            raise D.DisclosureError(leaks, hint=D.STORED_TABLE_HINT)
    return t


#: catalog entries of figures others published (data_catalog.yaml, ``published: true``)
EXTERN_ENTRIES = ("EXTERNNEA", "EXTERNWEA")


def load_extern(warehouse: Path | str | None) -> list[dict]:
    """The published figures of others in the warehouse (their latest release), as rows for the box."""
    out = []
    for entry in EXTERN_ENTRIES:
        t = D.stored_table(warehouse, "sources", entry)
        if t is None:
            continue
        for r in t.sort("bron", "tabel", "jaar", "indicator", "groep").iter_rows(named=True):
            unit = r["eenheid"]
            out.append({**r, "waarde": number(r["waarde"], 1) + (" %" if unit == "%" else f" {unit}"),
                        "marge": None if r["marge"] is None else number(r["marge"], 1)})
    return out


#: the long question sentences of the forms, read as their subject (what tells the rows of a page apart)
_SHORT = ((re.compile(r"^Kunt u aangeven of (.+?) (?:een zeer hoge|binnen het personeelsbeleid)"), "Prioriteit: {}"),
          (re.compile(r"het meeste bij (?:aan|om) (.+?)\?$"), "Draagt het meeste bij aan: {}"),
          (re.compile(r"^Welke belemmeringen zijn er voor .+? om (.+?)\?$"), "Belemmeringen om {}"))
LABEL_MAX = 150


def short_label(text: str) -> str:
    """A form's label as a row label: a short one as it is; a rated action (a statement, no question mark) whole
    up to :data:`LABEL_MAX`; a long question by its subject (priority of what, what the top 3 contributes to, the
    barriers to what).  Until December 2026 every label over 70 characters became the question's code name
    ("freq trainingen", "prio aansluiting" beside "prio aansluiting nw"), which hid the report's wording and
    the difference between all students and students with a niet-westerse migratieachtergrond (§ 3.5)."""
    if len(text) <= 70:
        return text
    if text.endswith("?"):
        for rx, fmt in _SHORT:
            m = rx.search(text)
            if m:
                text = fmt.format(m.group(1))
                break
    if len(text) <= LABEL_MAX:
        return text
    return text[:LABEL_MAX].rsplit(" ", 1)[0] + " …"


def labels(instrument: str, year: int) -> dict[str, str]:
    """measure -> its Dutch text from the form of the wave (``question: choice`` -> "<question label>: <choice
    label>"); empty when the wave has no packaged form (the measure is then shown as it is)."""
    from monitor_dagster.surveys.xlsform import FormError, form

    try:
        f = form(instrument, str(year))
    except FormError:
        return {}
    out = {}
    for q in f.questions.values():
        text = short_label(" ".join((q.label or q.name).split()))
        out[q.name] = text
        for c, lab in zip(q.choices or (), q.choice_labels or ()):
            out[f"{q.name}: {c}"] = f"{text}: {' '.join((lab or c).split())}"
    return out


def context(table: pl.DataFrame, detail: pl.DataFrame | None) -> dict | None:
    """What the page shows: per instrument its latest wave, response and indicators (totaal rows of the
    gated table, with margin and n from ``detail``); ``instruments`` is empty when the table has no survey figures."""
    ids = [i for i in D.indicator_ids(table) if instrument_of(i)]
    tot = table.filter(pl.col("indicator_id").is_in(ids) & pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS))
    extra = ["moe", "response_rate", "n_choice"]
    if detail is not None:
        tot = tot.join(detail.select(*_KEY, *[c for c in extra if c in detail.columns]).unique(_KEY),
                       on=_KEY, how="left")
    for c in extra:
        if c not in tot.columns:
            tot = tot.with_columns(pl.lit(None, pl.Float64).alias(c))
    out = []
    for prefix, (instrument, label) in INSTRUMENTS.items():
        mine = tot.filter(pl.col("indicator_id").str.starts_with(prefix))
        if mine.height == 0:
            continue
        year = int(mine["year"].max())
        mine = mine.filter(pl.col("year") == year)
        shown = mine.filter(~pl.col("suppressed"))
        rate = shown["response_rate"].drop_nulls()
        indicators = []
        text = labels(instrument, year)
        for iid in [i for i in ids if i.startswith(prefix)]:
            rows = mine.filter(pl.col("indicator_id") == iid)
            if rows.height == 0:
                continue
            m = D.meta(iid)
            unit = rows["unit"][0]
            dec = 2 if unit == "score 0-5" else 1
            indicators.append({
                "id": iid, "title": m["title"], "definition": m["definition"], "paragraph": m["paragraph"],
                "unit": "%" if unit == "%" else "score (0-5)",
                "rows": [{"measure": text.get(r["measure"], r["measure"]),
                          "value": None if r["suppressed"] or r["value"] is None else number(r["value"], dec),
                          "moe": None if r["suppressed"] or r["moe"] is None else number(r["moe"], dec),
                          "n": None if r["suppressed"] or r["n"] is None else f"{int(r['n'])}"}
                         for r in rows.iter_rows(named=True)]})
        out.append({"instrument": instrument, "label": label, "year": year,
                    "respondents": int(shown["n"].max()) if shown.height and shown["n"].max() is not None else None,
                    "response_rate": number(100 * float(rate.max()), 0) if rate.len() else None,
                    "indicators": indicators})
    return {"instruments": out, "caveat": CAVEAT, "method": METHOD}


EXTERN_TEXT = ("Deze cijfers komen uit publicaties van anderen (zoals de Nationale Enquête Arbeidsomstandigheden en de "
               "Werkgevers Enquête Arbeid van TNO/CBS), zoals ze daar staan. Ze zijn niet door de monitor berekend, "
               "niet met dezelfde definities of weging, en staan daarom apart van de cijfers van de monitor.")


TEMPLATE = """{% extends "base.html.j2" %}
{% block body %}
<h1>Inzet en aanpak</h1>
<p>Wat gemeenten, werkgevers en onderwijsinstellingen zeggen te doen voor personen met een niet-westerse
migratieachtergrond: de enquêtes van het technisch rapport (hoofdstuk 3), elke twee jaar (§ 7.1.1).</p>
<p class="note"><strong>Let op:</strong> {{ s.caveat }}</p>
<p class="meta">{{ s.method }}</p>
{% for inst in s.instruments %}
<h2 id="{{ inst.instrument }}">{{ inst.label }} ({{ inst.year }})</h2>
<p>Respons: {% if inst.response_rate is not none %}{{ inst.response_rate }}% van de benaderde organisaties{% else %}niet gepubliceerd{% endif %}{% if inst.respondents is not none %}; tot {{ inst.respondents }} organisaties per vraag{% endif %}.</p>
{% for ind in inst.indicators %}
<h3><a href="indicator/{{ ind.id }}.html">{{ ind.id }} · {{ ind.title }}</a></h3>
<p class="meta">{{ ind.definition }} (rapport § {{ ind.paragraph }})</p>
<table class="data">
<thead><tr><th>antwoord</th><th>{{ ind.unit }}</th><th>marge (±)</th><th>n organisaties</th></tr></thead>
<tbody>
{% for r in ind.rows %}<tr><td>{{ r.measure }}</td><td>{{ r.value if r.value is not none else "niet gepubliceerd" }}</td><td>{{ r.moe if r.moe is not none else "" }}</td><td>{{ r.n if r.n is not none else "" }}</td></tr>
{% endfor %}</tbody>
</table>
{% endfor %}
{% endfor %}
{% if extern %}
<section class="note" id="andere-bronnen">
<h2>Cijfers uit andere bronnen</h2>
<p>{{ extern_text }}</p>
<table class="data">
<thead><tr><th>bron</th><th>tabel</th><th>jaar</th><th>indicator</th><th>groep</th><th>waarde</th><th>marge (±)</th><th>vindplaats</th></tr></thead>
<tbody>
{% for r in extern %}<tr><td>{{ r.bron }}</td><td>{{ r.tabel }}</td><td>{{ r.jaar }}</td><td>{{ r.indicator }}</td><td>{{ r.groep }}</td><td>{{ r.waarde }}</td><td>{{ r.marge if r.marge is not none else "" }}</td><td>{% if r.url %}<a href="{{ r.url }}">{{ r.url }}</a>{% else %}{{ r.referentie or "" }}{% endif %}</td></tr>
{% endfor %}</tbody>
</table>
</section>
{% endif %}
{% endblock %}
"""

INDEX_BLOCK = """<h2 id="inzet-en-aanpak">Inzet en aanpak</h2>
<p>De enquêtes onder gemeenten, werkgevers en onderwijsinstellingen (technisch rapport, hoofdstuk 3), met respons en
marges: <a href="inzet-en-aanpak.html">Inzet en aanpak</a>. {{ caveat }}</p>
"""


def write(env, site: Path, table: pl.DataFrame, warehouse: Path | str | None, common: dict) -> Path | None:
    """Write the page (None when there are no survey figures)."""
    ctx = context(table, load(warehouse))
    extern = load_extern(warehouse)
    if not ctx["instruments"] and not extern:
        return None
    html = env.from_string(TEMPLATE).render(**common, root="", page_title="Inzet en aanpak", s=ctx, extern=extern,
                                            extern_text=EXTERN_TEXT)
    path = site / PAGE
    path.write_text(html, encoding="utf-8")
    return path


def add_to_index(env, html: str, table: pl.DataFrame, warehouse: Path | str | None = None) -> str:
    """A link to the page after the indicator lists (input after outcome, §7.3)."""
    if not any(i.startswith(p) for i in table["indicator_id"].unique().to_list() for p in INSTRUMENTS) \
            and not load_extern(warehouse):
        return html
    marker = "<h2>Meer</h2>"
    if html.count(marker) != 1:
        raise D.PublicationError(f"the index has {html.count(marker)} times {marker!r}: cannot place Inzet en aanpak")
    return html.replace(marker, env.from_string(INDEX_BLOCK).render(caveat=CAVEAT) + marker)


PAGE_NOTE = ("<p class=\"note\"><strong>Enquête onder organisaties.</strong> Hier telt n organisaties, geen personen; "
             "een cel met minder dan 5 organisaties wordt niet gepubliceerd. "
             "De marges en de respons staan op <a href=\"../inzet-en-aanpak.html\">Inzet en aanpak</a>. Inzet en "
             "uitkomst hangen niet causaal samen (technisch rapport, § 7.3).</p>")


def add_to_indicator_page(html: str, iid: str) -> str:
    """The generic indicator page of a survey indicator says that it counts organisations and where the
    margins are."""
    if not instrument_of(iid) or "</h1>" not in html:
        return html
    return html.replace("</h1>", "</h1>\n" + PAGE_NOTE, 1)
