"""The duration results in the publication (issue 17; technisch rapport Monitor gelijke kansen, §7.2.2).

The warehouse table ``indicators/durations`` (built by :mod:`monitor_dagster.corrections.durations`) holds, per
indicator, year, measure and cause, the cumulative incidence by month per group (``kind == "curve"``; geen and
gewogen) and the hazard ratio basisgroep / referentiegroep (``kind == "hazard"``; geen and model).  Two pieces
of HTML, added to pages :mod:`~monitor_dagster.publication.site` has rendered (a site without the table is
unchanged):

* :func:`indicator_block`: on the page of an indicator with duration results, "Duur tot de gebeurtenis
  (duuranalyse)": per measure, for the latest year with shown points, a Vega-Lite chart of the cumulative
  incidence (one per cause), a table beneath it with the same numbers and the hazard ratios with their 95%
  interval;
* :func:`report_section`: the technical report's "Duurmodellen": the model, the disclosure rule of the curves
  and the published hazard ratios over the years.

Only shown rows are drawn or printed: a suppressed point is absent from the chart (the line breaks there and a
``×`` along the top marks the month) and a ``×`` in the table; a suppressed hazard ratio is a ``×``.  Every
text goes through Jinja's autoescape, numbers through ``numbers.py``; the charts are drawn by the site's
bundled vega-embed (``assets/vega.js``, loaded by the indicator page), no network.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import altair as alt
import jinja2
import polars as pl

from monitor_dagster.indicators.table import CORRECTIE
from monitor_dagster.publication import data as D
from monitor_dagster.publication.charts import PALETTE
from monitor_dagster.publication.numbers import MISSING, VEGA_NUMBER_LOCALE, count, number
from monitor_dagster.publication.corrections import insert_before

TABLE = "durations"
PARTITION = "all"
GEEN, GEWOGEN, MODEL = "geen", "gewogen", "model"
GROUPS = (D.BASE, D.REFERENCE)
CORRECTIE_LABEL = {GEEN: "geen correctie", GEWOGEN: "gewogen", MODEL: "model"}
#: solid for the uncorrected curve, dashed for the weighted one
DASHES = {GEEN: [1, 0], GEWOGEN: [6, 4]}
#: where the pieces go: before these (unique) headings (the corrected figures go there too, before these)
INDICATOR_MARKER = '<h2 id="trendbreuken">'
REPORT_MARKER = '<h2 id="inhoud">'
#: what each duration measures (indicator, measure) -> text; another measure shows its own name
DESCRIPTIONS = {
    ("O25", "werk"): "maanden van het diploma tot werk",
    ("O38", "na WW"): "maanden van de WW tot werk",
    ("O38", "na bijstand"): "maanden van de bijstand tot werk",
    ("O27", "baanverlies"): "maanden van werk tot de eerste maand zonder werk (baanverlies)",
    ("O29", "tijdelijk naar vast"): ("maanden van een tijdelijk tot een vast contract, bij dezelfde of een andere "
                                     "werkgever"),
    ("O31", "uit werk"): "maanden van werk tot de uitstroom naar bijstand, WW of anderszins",
}
#: the order of measures and causes where the report gives one; others follow alphabetically
ORDER = ["na WW", "na bijstand", "zelfde werkgever", "andere werkgever", "bijstand", "WW", "anderszins"]
REASON_CURVE = "niet gepubliceerd: te weinig personen in beeld of gebeurtenissen sinds het vorige getoonde punt"
REASON_HAZARD = "niet gepubliceerd: te weinig personen of gebeurtenissen, of het model is niet geconvergeerd"


def _sorted(values) -> list[str]:
    return sorted(values, key=lambda v: (ORDER.index(v) if v in ORDER else len(ORDER), v))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(MISSING=MISSING)
    return env


def _json_in_script(obj) -> str:
    """JSON that is inert inside a <script> element (no ``<``, ``>`` or ``&`` at all: labels cannot close it)."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _title(iid: str) -> str:
    try:
        return D.meta(iid)["title"]
    except KeyError:
        return iid


def description(iid: str, measure: str) -> str:
    return DESCRIPTIONS.get((iid, measure), measure)


def _pct(v: float) -> str:
    return number(v, 1)


def _hr(v: float) -> str:
    return number(v, 2)


# ---- the table ---------------------------------------------------------------------------------------------

def load(warehouse: Path | str | None, gated: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """The table ``indicators/durations`` (partition ``all``); None when the warehouse has none (or it is empty).
    With the ``gated`` indicator table a curve or hazard ratio over a cohort cell the table hides is hidden
    (``corrections.durations.hide_with_cohort``, as the asset does): a table stored by an older version is
    published under this version's rules."""
    t = D.stored_table(warehouse, "indicators", TABLE, PARTITION)
    if t is None or gated is None:
        return t
    from monitor_dagster.corrections.durations import hide_with_cohort

    return hide_with_cohort(t, gated)


def _has(durations: pl.DataFrame | None) -> bool:
    return durations is not None and durations.height > 0 and "kind" in durations.columns


def _shown(rows: pl.DataFrame, field: str) -> pl.DataFrame:
    return rows.filter(~pl.col("suppressed") & pl.col(field).is_not_null())


def _kind(durations: pl.DataFrame, kind: str) -> pl.DataFrame:
    return durations.filter(pl.col("kind") == kind)


# ---- indicator page ----------------------------------------------------------------------------------------

def _cell(row: dict | None, field: str, text) -> dict:
    if row is None:
        return {"text": MISSING, "suppressed": False, "reason": ""}
    if row["suppressed"] or row[field] is None:
        return {"text": MISSING, "suppressed": True, "reason": REASON_CURVE if field == "value" else REASON_HAZARD}
    return {"text": text(row), "suppressed": False, "reason": ""}


def _chart_data(rows: pl.DataFrame) -> tuple[list[dict], list[dict]]:
    """(points, gaps) of one cause's curves: the shown points with a ``segment`` that starts anew after every
    suppressed month (no line across a gap), and the suppressed months (month and groups only, no value)."""
    points, gaps = [], {}
    for (herkomst, corr), part in rows.sort("maand").group_by("herkomst", CORRECTIE, maintain_order=True):
        seg = 0
        for r in part.sort("maand").iter_rows(named=True):
            if r["suppressed"] or r["value"] is None:
                seg += 1
                gaps.setdefault(int(r["maand"]), set()).add(herkomst)
                continue
            points.append({"maand": int(r["maand"]), "value": float(r["value"]), "herkomst": herkomst,
                           "correctie": CORRECTIE_LABEL[corr], "segment": f"{herkomst}|{corr}|{seg}",
                           "label": f"{_pct(r['value'])}%"})
    return points, [{"maand": m, "groepen": ", ".join(g for g in GROUPS if g in hs) or ", ".join(sorted(hs))}
                    for m, hs in sorted(gaps.items())]


@lru_cache(maxsize=None)
def _template() -> str:
    """The curve chart as JSON over the named datasets ``punten`` (maand, value, herkomst, correctie, segment,
    label) and ``weggelaten`` (maand, groepen), with a placeholder title and description.  Built and validated
    by altair once (validation costs about a second)."""
    punten = alt.Chart(alt.Data(name="punten"))
    x = alt.X("maand:Q", title="Maanden", scale=alt.Scale(zero=True, nice=False),
              axis=alt.Axis(values=[1, 3, 6, 12, 18, 24, 36], format="d"))
    y = alt.Y("value:Q", title="Cumulatief percentage", scale=alt.Scale(zero=True, nice=True),
              axis=alt.Axis(format=",.0f"))
    color = alt.Color("herkomst:N", title="Herkomst", scale=alt.Scale(domain=list(GROUPS), range=PALETTE[:2]),
                      legend=alt.Legend(orient="bottom", labelLimit=260))
    dash = alt.StrokeDash("correctie:N", title="Correctie",
                          scale=alt.Scale(domain=[CORRECTIE_LABEL[GEEN], CORRECTIE_LABEL[GEWOGEN]],
                                          range=[DASHES[GEEN], DASHES[GEWOGEN]]),
                          legend=alt.Legend(orient="bottom", symbolStrokeWidth=2))
    tooltip = [alt.Tooltip("maand:Q", title="Maand"), alt.Tooltip("herkomst:N", title="Groep"),
               alt.Tooltip("correctie:N", title="Correctie"), alt.Tooltip("label:N", title="Cumulatief")]
    line = punten.mark_line(strokeWidth=2).encode(x=x, y=y, color=color, strokeDash=dash, detail="segment:N") \
        .properties(name="lijn")
    pts = punten.mark_point(size=50, strokeWidth=2, opacity=1).encode(
        x=x, y=y, color=color,
        # geen correctie: a filled point; gewogen: an open one (not colour or dash alone)
        fill=alt.condition(f"datum.correctie === '{CORRECTIE_LABEL[GEEN]}'",
                           alt.Color("herkomst:N", scale=alt.Scale(domain=list(GROUPS), range=PALETTE[:2]),
                                     legend=None), alt.value("white")),
        tooltip=tooltip).properties(name="punten")
    gaps = alt.Chart(alt.Data(name="weggelaten")).mark_text(text="×", fontSize=16, fontWeight="bold",
                                                           baseline="top", color="#555").encode(
        x=alt.X("maand:Q"), y=alt.value(2),
        tooltip=[alt.Tooltip("maand:Q", title="Maand"), alt.Tooltip("groepen:N", title="Niet gepubliceerd voor")],
    ).properties(name="onderdrukt")
    chart = alt.layer(line, pts, gaps).properties(
        width="container", height=240, title=alt.Title("title", anchor="start", fontSize=14), description="description",
    ).configure_view(stroke=None).configure_axis(labelFontSize=12, titleFontSize=12) \
        .configure(locale={"number": VEGA_NUMBER_LOCALE})
    spec = chart.to_dict(validate=True)
    spec.pop("datasets", None)
    return json.dumps(spec)


def chart_spec(rows: pl.DataFrame, title: str, desc: str) -> dict:
    """The Vega-Lite spec of one cause's curves (rows: the curve rows of one indicator, year, measure, cause),
    with its data inline: only shown points; the y axis from 0."""
    spec = json.loads(_template())
    points, gaps = _chart_data(rows)
    spec["title"]["text"] = title
    spec["description"] = desc
    spec["datasets"] = {"punten": points, "weggelaten": gaps}
    return spec


def _table_rows(rows: pl.DataFrame) -> list[dict]:
    """Per month: niet-westers geen, gewogen; geen migratieachtergrond geen, gewogen."""
    get = {(int(r["maand"]), r["herkomst"], r[CORRECTIE]): r for r in rows.iter_rows(named=True)}
    months = sorted({int(m) for m in rows["maand"]})
    return [{"maand": m, "cells": [_cell(get.get((m, g, c)), "value", lambda r: _pct(r["value"]))
                                   for g in GROUPS for c in (GEEN, GEWOGEN)]} for m in months]


def _hazard_text(r: dict) -> str:
    return _hr(r["hazard_ratio"])


def _interval_text(r: dict) -> str:
    return f"{_hr(r['ci_low'])} tot {_hr(r['ci_high'])}" if r["ci_low"] is not None and r["ci_high"] is not None \
        else MISSING


def indicator_context(durations: pl.DataFrame, iid: str) -> list[dict]:
    """Per measure of one indicator: the latest year with shown curve points, its causes (chart spec and table)
    and the hazard ratios of that year.  Empty when the indicator has no shown curve point."""
    curves = _kind(durations, "curve").filter(pl.col("indicator_id") == iid)
    hazards = _kind(durations, "hazard").filter(pl.col("indicator_id") == iid)
    shown = _shown(curves, "value")
    out = []
    for measure in _sorted(shown["measure"].unique().to_list()):
        year = int(shown.filter(pl.col("measure") == measure)["year"].max())
        rows = curves.filter((pl.col("measure") == measure) & (pl.col("year") == year)
                             & pl.col("herkomst").is_in(list(GROUPS)))
        causes = _sorted(rows["oorzaak"].drop_nulls().unique().to_list())
        desc = description(iid, measure)
        persons = []
        for g in GROUPS:
            n = _shown(rows.filter((pl.col("herkomst") == g) & (pl.col(CORRECTIE) == GEEN)), "value")["n"].drop_nulls()
            persons.append({"group": g, "n": count(int(n.max())) if n.len() else None})
        blocks = []
        for cause in causes:
            part = rows.filter(pl.col("oorzaak") == cause)
            title = f"Oorzaak: {cause}" if len(causes) > 1 else f"{_title(iid)}: {desc}"
            what = f"met oorzaak {cause}" if len(causes) > 1 else "met de gebeurtenis"
            text = (f"Lijngrafiek van het cumulatieve percentage {what}"
                    f" per maand in {year}, {desc}, voor niet-westers en geen migratieachtergrond, zonder correctie"
                    f" (doorgetrokken) en gewogen (gestreept); de cijfers staan in de tabel onder de grafiek.")
            blocks.append({"cause": cause, "spec": chart_spec(part, title, text), "aria": text,
                           "rows": _table_rows(part), "shown": _shown(part, "value").height > 0})
        hz = {(r["oorzaak"], r[CORRECTIE]): r for r in hazards.filter(
            (pl.col("measure") == measure) & (pl.col("year") == year)).iter_rows(named=True)}
        hazard_rows = [{"cause": c, "cells": [cell for corr in (GEEN, MODEL) for cell in (
            _cell(hz.get((c, corr)), "hazard_ratio", _hazard_text),
            _cell(hz.get((c, corr)), "hazard_ratio", _interval_text))]}
            for c in _sorted({*causes, *(k[0] for k in hz)})]
        statuses = set(rows["status"].drop_nulls().unique().to_list())
        out.append({"measure": measure, "description": desc, "heading": desc[:1].upper() + desc[1:], "year": year,
                    "provisional": "voorlopig" in statuses,
                    "competing": len(causes) > 1, "causes": blocks, "persons": persons, "hazards": hazard_rows})
    return out


CELL = """{% macro cell(c) %}<td class="num value">{% if c.suppressed %}<span title="{{ c.reason }}" aria-label="onderdrukt">×</span>{% else %}{{ c.text }}{% endif %}</td>{% endmacro %}"""

INDICATOR_TEMPLATE = CELL + """
<section id="duuranalyse" class="durations" aria-labelledby="duuranalyse-titel">
<h2 id="duuranalyse-titel">Duur tot de gebeurtenis (duuranalyse)</h2>
<p>Hoe snel gebeurt het, voor mensen met een niet-westerse migratieachtergrond en voor mensen zonder
migratieachtergrond? De curve geeft per maand het percentage bij wie de gebeurtenis binnen zoveel maanden is
gebeurd (technisch rapport Monitor gelijke kansen, §7.2.2). <em>Geen correctie</em>: de groepen zoals ze zijn
(doorgetrokken lijn, gevuld punt); <em>gewogen</em>: beide groepen gewogen naar de samenstelling van de groep met een
niet-westerse migratieachtergrond (gestreepte lijn, open punt).</p>
<p class="note">De duren zijn gecensureerd: wie aan het einde van de waarneming de gebeurtenis nog niet heeft
meegemaakt, telt mee tot dat moment en valt daarna uit beeld; zo tellen ook mensen mee die nog niet lang genoeg te
volgen zijn.{% if any_competing %} Bij meer dan één oorzaak is per oorzaak het percentage gegeven bij wie die oorzaak
als eerste optrad; samen tellen de oorzaken op tot hooguit 100%.{% endif %}</p>
{% for b in blocks %}
<h3 id="duur-{{ loop.index }}">{{ b.heading }} in {{ b.year }}{% if b.provisional %} <span class="badge-provisional">voorlopig</span>{% endif %}</h3>
{% for c in b.causes %}
<figure class="duration">
{% if c.shown %}<div id="{{ c.id }}" class="duration-chart" style="width: 100%; min-height: 300px" role="img" aria-label="{{ c.aria }}"></div>{% endif %}
<figcaption>{% if b.competing %}Oorzaak {{ c.cause }}: cumulatief percentage{% else %}Cumulatief percentage{% endif %} per maand, {{ b.description }}, in {{ b.year }}.
De verticale as begint bij 0. Alleen gepubliceerde punten staan in de grafiek; een × bovenin: die maand is niet
gepubliceerd (onthullingscontrole), de lijn loopt er niet doorheen.</figcaption>
<div class="table-wrap"><table class="durations">
<caption>{{ title }}: cumulatief percentage{% if b.competing %} met oorzaak {{ c.cause }}{% endif %} per maand in {{ b.year }}, {{ b.description }}</caption>
<thead>
<tr><td></td><th scope="colgroup" colspan="2">Niet-westers</th><th scope="colgroup" colspan="2">Geen migratieachtergrond</th></tr>
<tr><th scope="col">Maand</th><th scope="col" class="num">Geen correctie</th><th scope="col" class="num">Gewogen</th>
<th scope="col" class="num">Geen correctie</th><th scope="col" class="num">Gewogen</th></tr>
</thead>
<tbody>
{% for r in c.rows %}<tr><th scope="row">{{ r.maand }}</th>{% for x in r.cells %}{{ cell(x) }}{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
</figure>
{% endfor %}
<p class="meta">Personen bij de start: {% for p in b.persons %}{{ p.group }} {% if p.n %}{{ p.n }}{% else %}<span title="niet gepubliceerd" aria-label="onderdrukt">×</span>{% endif %}{{ "; " if not loop.last else "." }}{% endfor %}</p>
{% if b.hazards %}
<div class="table-wrap"><table class="hazards">
<caption>Hazard ratio niet-westers / geen migratieachtergrond in {{ b.year }} ({{ b.description }}) met 95%-interval</caption>
<thead>
<tr><td></td><th scope="colgroup" colspan="2">Geen correctie</th><th scope="colgroup" colspan="2">Model</th></tr>
<tr><th scope="col">{{ "Oorzaak" if b.competing else "Gebeurtenis" }}</th><th scope="col" class="num">Hazard ratio</th><th scope="col" class="num">95%-interval</th>
<th scope="col" class="num">Hazard ratio</th><th scope="col" class="num">95%-interval</th></tr>
</thead>
<tbody>
{% for h in b.hazards %}<tr><th scope="row">{{ h.cause }}</th>{% for x in h.cells %}{{ cell(x) }}{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
{% endif %}
{% endfor %}
<p>Een hazard ratio onder 1 betekent dat de gebeurtenis voor de groep met een niet-westerse migratieachtergrond
(basisgroep) later komt dan voor de groep zonder migratieachtergrond (referentiegroep), boven 1 eerder.
<em>Model</em>: gewogen en gecorrigeerd voor leeftijdsklasse, geslacht en opleidingsniveau.</p>
<p class="meta">× = niet gepubliceerd (onthullingscontrole), geen nul; {{ MISSING }} = geen waarneming in die maand.
Het model en de regels staan in het <a href="../technisch-rapport.html#duurmodellen">technisch rapport</a>.</p>
<script type="application/json" id="duur-grafieken">{{ specs|safe }}</script>
<script>
window.addEventListener("DOMContentLoaded", function () {
  var charts = JSON.parse(document.getElementById("duur-grafieken").textContent);
  charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) { return; }
    var fail = function () { el.innerHTML = "<p class=\\"error\\">De grafiek kon niet worden getekend; de tabel eronder bevat de cijfers.</p>"; };
    if (!window.vegaEmbed) { fail(); return; }
    window.vegaEmbed(el, c.spec, { renderer: "svg", actions: false }).catch(fail);
  });
});
</script>
</section>
"""


def indicator_block(durations: pl.DataFrame | None, iid: str) -> str:
    """The block of one indicator page ("" when the table is absent or has no shown curve point for it)."""
    if not _has(durations):
        return ""
    blocks = indicator_context(durations, iid)
    if not blocks:
        return ""
    specs = []
    for i, b in enumerate(blocks, 1):
        for j, c in enumerate(b["causes"], 1):
            c["id"] = f"duur-grafiek-{i}-{j}"
            if c["shown"]:
                specs.append({"id": c["id"], "spec": c["spec"]})
    return _env().from_string(INDICATOR_TEMPLATE).render(
        blocks=blocks, title=_title(iid), any_competing=any(b["competing"] for b in blocks),
        specs=_json_in_script(specs))





def add_to_indicator_page(html: str, durations: pl.DataFrame | None, iid: str) -> str:
    return insert_before(html, INDICATOR_MARKER, indicator_block(durations, iid), "the durations")


# ---- technical report --------------------------------------------------------------------------------------

def report_rows(durations: pl.DataFrame, ids: set[str] | None = None) -> list[dict]:
    """Per indicator, measure and cause the years with a shown hazard ratio (geen and/or model); a year with
    neither shown is left out."""
    hz = _kind(durations, "hazard")
    shown = _shown(hz, "hazard_ratio")
    # every row (a suppressed one is a ×), the years of the shown ones
    get = {(r["indicator_id"], r["measure"], r["oorzaak"], int(r["year"]), r[CORRECTIE]): r
           for r in hz.iter_rows(named=True)}
    out = []
    for iid in sorted(shown["indicator_id"].unique().to_list()):
        mine = shown.filter(pl.col("indicator_id") == iid)
        for measure in _sorted(mine["measure"].unique().to_list()):
            for cause in _sorted(mine.filter(pl.col("measure") == measure)["oorzaak"].unique().to_list()):
                years = sorted({int(y) for y in mine.filter((pl.col("measure") == measure)
                                                            & (pl.col("oorzaak") == cause))["year"]})
                lines = []
                for y in years:
                    g, m = get.get((iid, measure, cause, y, GEEN)), get.get((iid, measure, cause, y, MODEL))
                    any_ = g if g is not None and not g["suppressed"] and g["hazard_ratio"] is not None else m
                    lines.append({
                        "year": y, "provisional": any_["status"] == "voorlopig",
                        "cells": [_cell(g, "hazard_ratio", _hazard_text), _cell(g, "hazard_ratio", _interval_text),
                                  _cell(m, "hazard_ratio", _hazard_text), _cell(m, "hazard_ratio", _interval_text)],
                        "persons": f"{count(any_['n_basis'])} / {count(any_['n_referentie'])}",
                        "events": f"{count(any_['events_basis'])} / {count(any_['events_referentie'])}"})
                out.append({"id": iid, "title": _title(iid), "link": ids is not None and iid in ids,
                            "measure": measure, "description": description(iid, measure), "cause": cause,
                            "lines": lines})
    return out


REPORT_TEMPLATE = CELL + """
<h2 id="duurmodellen">Duurmodellen</h2>
<p>Voor de vragen hoe lang het duurt van diploma tot werk, van WW of bijstand tot werk, hoe lang een baan duurt, en
voor doorstroom (van tijdelijk naar vast, bij dezelfde of een andere werkgever) en uitstroom uit werk (naar bijstand,
WW of anderszins) geeft de monitor een duuranalyse met censurering, en bij meer dan één uitweg een model met
concurrerende risico's (technisch rapport Monitor gelijke kansen, §7.2.2). De uitkomsten staan op de pagina's van de
indicatoren onder „Duur tot de gebeurtenis”.</p>
<ul>
<li><strong>Curves</strong>: per groep (niet-westers, geen migratieachtergrond) en oorzaak de cumulatieve incidentie
per maand: het percentage bij wie de gebeurtenis binnen zoveel maanden is gebeurd. Bij één oorzaak is dat 1 min de
Kaplan-Meier-schatting, bij meer oorzaken de Aalen-Johansen-schatting per oorzaak. Wie aan het einde van de waarneming
de gebeurtenis nog niet heeft meegemaakt, telt mee tot dat moment (censurering). Zonder correctie en gewogen met de
propensity-gewichten van de correctie voor achtergrondkenmerken.</li>
<li><strong>Hazard ratio</strong>: een discrete-tijd proportionele-hazardsmodel op persoonsmaanden met een
complementaire log-log-link: cloglog h(m | x) = α<sub>interval(m)</sub> + β·basisgroep + γ′x, met een stuksgewijs
constante basishazard over de maanden {{ intervals }}; exp(β) is de hazard ratio basisgroep / referentiegroep. Bij
concurrerende oorzaken per oorzaak een eigen (cause-specific) model, waarin wie door een andere oorzaak uitvalt tot dan
meetelt. <em>Geen correctie</em>: alleen de groep, ongewogen. <em>Model</em>: met leeftijdsklasse, geslacht en
opleidingsniveau als verklarende variabelen en gewogen met de propensity-gewichten. De standaardfouten zijn robuust
(sandwich), geclustered op personen; het 95%-interval is exp(β ± 1,96·se). Een hazard ratio onder 1: de gebeurtenis
komt voor de basisgroep later dan voor de referentiegroep.</li>
<li><strong>Onthullingscontrole</strong>: een curve wordt alleen gepubliceerd in de maanden {{ grid }}. Een punt wordt
getoond als er in die maand nog minstens {{ min_persons }} personen in beeld zijn en er voor elke oorzaak sinds het
vorige getoonde punt geen of minstens {{ min_persons }} gebeurtenissen zijn (zo volgt uit twee punten nooit een aantal
van 1 tot {{ min_persons - 1 }} personen); de gewogen curve toont dezelfde punten als de ongecorrigeerde. Een hazard
ratio wordt alleen gegeven als beide groepen minstens {{ min_persons }} personen en {{ min_persons }} gebeurtenissen
tellen en het model convergeert.</li>
</ul>
{% if rows %}
<div class="table-wrap"><table class="hazards">
<caption>Gepubliceerde hazard ratio's niet-westers / geen migratieachtergrond per jaar, met 95%-interval</caption>
<thead>
<tr><td colspan="3"></td><th scope="colgroup" colspan="2">Geen correctie</th><th scope="colgroup" colspan="2">Model</th><td colspan="2"></td></tr>
<tr><th scope="col">Indicator en duur</th><th scope="col">Oorzaak</th><th scope="col">Jaar</th>
<th scope="col" class="num">Hazard ratio</th><th scope="col" class="num">95%-interval</th>
<th scope="col" class="num">Hazard ratio</th><th scope="col" class="num">95%-interval</th>
<th scope="col" class="num">Personen (basis / referentie)</th><th scope="col" class="num">Gebeurtenissen (basis / referentie)</th></tr>
</thead>
<tbody>
{% for r in rows %}{% for l in r.lines %}<tr{% if l.provisional %} class="provisional"{% endif %}>
<td>{% if r.link %}<a href="indicator/{{ r.id }}.html">{{ r.id }}</a>{% else %}{{ r.id }}{% endif %} {{ r.title }}: {{ r.description }}</td>
<td>{{ r.cause }}</td><th scope="row">{{ l.year }}{% if l.provisional %} <span class="badge-provisional">voorlopig</span>{% endif %}</th>
{% for x in l.cells %}{{ cell(x) }}{% endfor %}<td class="num">{{ l.persons }}</td><td class="num">{{ l.events }}</td></tr>
{% endfor %}{% endfor %}
</tbody></table></div>
<p class="meta">Alleen gepubliceerde hazard ratio's; × = niet gepubliceerd (te weinig personen of gebeurtenissen, of
het model is niet geconvergeerd), geen nul.</p>
{% else %}
<p>Er zijn geen gepubliceerde hazard ratio's.</p>
{% endif %}
"""


def report_section(durations: pl.DataFrame | None, ids: list[str] | set[str] | None = None) -> str:
    """The technical report's section ("" when the table is absent).  ``ids``: the indicators with a page (only
    those are linked)."""
    if not _has(durations):
        return ""
    from monitor_dagster.corrections.duration import DEFAULT_BREAKS
    from monitor_dagster.corrections.durations import GRID, MIN_PERSONS

    b = list(DEFAULT_BREAKS)
    intervals = [f"{lo}-{hi - 1}" if hi - 1 > lo else f"{lo}" for lo, hi in zip(b, b[1:])] + [f"{b[-1]}+"]
    grid = ", ".join(str(m) for m in GRID[:-1]) + f" en {GRID[-1]}"
    return _env().from_string(REPORT_TEMPLATE).render(
        rows=report_rows(durations, set(ids) if ids is not None else None),
        intervals=", ".join(intervals[:-1]) + f" en {intervals[-1]}", grid=grid, min_persons=MIN_PERSONS)


def add_to_report(html: str, durations: pl.DataFrame | None, ids: list[str] | set[str] | None = None) -> str:
    return insert_before(html, REPORT_MARKER, report_section(durations, ids), "the durations")
