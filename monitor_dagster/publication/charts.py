"""Chart specifications (Vega-Lite via altair): the interactive indicator chart and the factsheet's static chart.

The indicator page embeds one Vega-Lite *template* per indicator; its data come from named datasets that
the page's script fills with the rows the reader chose (``cells``) and the registered trend breaks in view
(``breaks``).  Honesty in the picture (issue 7, issue 16 "How the figures are read"):

* the y axis starts at 0 for every unit of the monitor (:data:`ZERO_BASED_UNITS`): all are quantities with
  a true zero (a share, euro, hours, months), and a cut axis makes a gap between groups look several times
  larger.  A unit outside that list gets an axis that need not start at 0 and says so in the subtitle
  (:data:`CUT_AXIS_NOTE`);
* a firm value (definitief, on at least ``data.FEW_PERSONS`` persons) is a filled point on the solid line;
  an uncertain one is an open point with its 95% interval (shares) and the solid line breaks there: a
  voorlopig value on enough persons is joined to its neighbours by a thin dotted segment, a value on few
  persons by no line at all (``data.reading``);
* a suppressed cell is a gap in the line with a ``×`` along the top of the plot and its reason in the
  tooltip, never a zero (and not on the zero line either, where it could be read as one);
* a trend break is a dashed vertical rule on the time axis with its explanation;
* numbers on the axes use the Dutch format of ``numbers.py`` (``config.locale``).

The static PNG of the factsheet is rendered by vl-convert (no browser needed) from the same layers.
"""

from __future__ import annotations

import json
from functools import lru_cache

import altair as alt

from monitor_dagster.publication.numbers import VEGA_NUMBER_LOCALE

#: Vega-Lite major version of the specs; the site bundles the matching vega-embed (vl-convert)
VL_VERSION = "6.4"
PALETTE = ["#01689b", "#e17000", "#39870c", "#a90061", "#42145f", "#ffb612", "#8fcae7", "#673327",
           "#007bc7", "#d52b1e", "#76d2b6", "#94710a"]
#: units whose y axis starts at 0 (every unit the indicator specs use today)
ZERO_BASED_UNITS = frozenset({"%", "uren per week", "euro per uur", "euro", "maanden"})
CUT_AXIS_NOTE = "Let op: de verticale as begint niet bij 0."
#: the dash of the dotted segment to a voorlopig value; category dashes (breakdowns) are long, never dots
UNCERTAIN_DASH = [1, 3]
CATEGORY_DASHES = [[1, 0], [10, 4], [16, 4, 4, 4], [6, 5], [20, 5, 6, 5], [12, 8], [4, 3, 14, 3]]
#: Vega expressions the layers share: what the solid line, the dotted segment and the interval draw
SOLID = "datum.firm ? datum.value : null"
DOTTED = "datum.link ? datum.value : null"
UNCERTAIN = "datum.value !== null && !datum.firm"


def _axis_year() -> alt.X:
    return alt.X("year:O", title="Jaar", axis=alt.Axis(labelAngle=0))


def y_scale(unit: str) -> alt.Scale:
    """From 0 for the units of :data:`ZERO_BASED_UNITS`; any other unit may start elsewhere (and the chart
    then carries :data:`CUT_AXIS_NOTE`)."""
    return alt.Scale(zero=True, nice=True) if unit in ZERO_BASED_UNITS else alt.Scale(zero=False)


def _title(title: str, unit: str, **kw) -> alt.Title:
    sub = {} if unit in ZERO_BASED_UNITS else {"subtitle": CUT_AXIS_NOTE, "subtitleColor": "#a90061"}
    return alt.Title(title, anchor="start", **sub, **kw)


def _value_layers(base: alt.Chart, unit: str, unit_label: str, color, fill, dash=None, tooltip=None) -> list:
    """The four layers that draw the values: dotted segments to voorlopig values, the solid line of firm
    values, the 95% intervals of uncertain shares, the points (filled: firm; open: uncertain; diamond:
    voorlopig).  Rows need: year, value, firm, link, lo, hi, status and ``series`` (one line each)."""
    scale = y_scale(unit)

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", title=unit_label, scale=scale)

    tip = {"tooltip": tooltip} if tooltip else {}
    dotted = base.mark_line(strokeWidth=1.5, strokeDash=UNCERTAIN_DASH, strokeCap="round", opacity=0.9,
                            invalid="break-paths-show-domains").encode(
        y=y("dotted"), color=color, detail="series:N").transform_calculate(dotted=DOTTED).properties(name="onzeker")
    enc = {"y": y("solid"), "color": color, "detail": "series:N"}
    if dash is not None:
        enc["strokeDash"] = dash
    solid = base.mark_line(strokeWidth=2.5, invalid="break-paths-show-domains").encode(**enc) \
        .transform_calculate(solid=SOLID).properties(name="lijn")
    interval = base.mark_rule(strokeWidth=1.5, opacity=0.8).encode(
        y=y("lo"), y2="hi:Q", color=color, **tip).transform_filter(f"{UNCERTAIN} && datum.lo !== null") \
        .properties(name="marge")
    points = base.mark_point(size=70, strokeWidth=2, filled=False, opacity=1).encode(
        y=y("value"), color=color,
        # firm: a filled point; uncertain: an open (white) point, the same outline colour
        fill=alt.condition("datum.firm", fill, alt.value("white")),
        # and a diamond for voorlopig, so that it does not rest on colour or fill alone (the caption explains)
        shape=alt.Shape("status:N", scale=alt.Scale(domain=["definitief", "voorlopig"], range=["circle", "diamond"]),
                        legend=None),
        **tip).transform_filter("datum.value !== null").properties(name="punten")
    return [dotted, solid, interval, points]


def indicator_template(title: str, unit: str, unit_label: str, count_label: str, description: str) -> dict:
    """Layered Vega-Lite spec over the named datasets ``cells`` and ``breaks`` (see :func:`_template`).

    The spec depends on the unit and what ``n`` counts alone but for its title and description: it is built and
    validated once per pair (altair's schema validation costs about a second a spec)."""
    spec = json.loads(_template(unit, unit_label, count_label))
    spec["title"]["text"] = title
    spec["description"] = description
    return spec


@lru_cache(maxsize=None)
def _template(unit: str, unit_label: str, count_label: str) -> str:
    """The indicator chart of a unit, as JSON, with a placeholder title and description; ``count_label`` names
    what ``n`` counts in the tooltip (Personen, Respondenten, Organisaties, Vacatures: data.COUNTED).

    ``cells`` rows: year, herkomst, cat, series, value (null when suppressed), firm, link, lo, hi, status, n,
    reason and the texts of the tooltip (label, n_label, marge, status_label: formatted by the page's
    ``numbers.js``, so tooltips write numbers as the tables do).  ``breaks`` rows: year, id, description.
    The page's script removes the ``strokeDash`` encoding when the breakdown is herkomst alone (one line per
    group)."""
    cells = alt.Data(name="cells")
    color = alt.Color("herkomst:N", title="Herkomst", scale=alt.Scale(range=PALETTE),
                      legend=alt.Legend(orient="bottom", columns=3, labelLimit=260))
    dash = alt.StrokeDash("cat:N", title="Uitsplitsing", scale=alt.Scale(range=CATEGORY_DASHES),
                          legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("series:N", title="Groep"),
               alt.Tooltip("label:N", title="Waarde"), alt.Tooltip("marge:N", title="95%-marge"),
               alt.Tooltip("n_label:N", title=count_label), alt.Tooltip("status_label:N", title="Status")]
    base = alt.Chart(cells).encode(x=_axis_year())
    values = _value_layers(base, unit, unit_label, color, alt.Color("herkomst:N", legend=None), dash, tooltip)
    suppressed = base.mark_text(text="×", fontSize=16, fontWeight="bold", baseline="top").encode(
        y=alt.value(2), color=alt.Color("herkomst:N", legend=None),
        tooltip=[alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("series:N", title="Groep"),
                 alt.Tooltip("reason:N", title="Niet gepubliceerd")],
    ).transform_filter("datum.value === null").properties(name="onderdrukt")
    brk = alt.Chart(alt.Data(name="breaks")).encode(x=_axis_year())
    rule = brk.mark_rule(color="#555", strokeDash=[6, 4], strokeWidth=1.5).encode(
        tooltip=[alt.Tooltip("year:O", title="Trendbreuk vanaf"), alt.Tooltip("description:N", title="Oorzaak")],
    ).properties(name="trendbreuk")
    label = brk.mark_text(text="trendbreuk", dy=-6, align="left", dx=4, color="#555", fontSize=11).encode(
        y=alt.value(0), tooltip=alt.Tooltip("description:N", title="Oorzaak")).properties(name="trendbreuk_label")
    chart = alt.layer(rule, *values, suppressed, label).properties(
        width="container", height=360, title=_title("title", unit, fontSize=15), description="description",
    ).configure_view(stroke=None).configure_axis(labelFontSize=12, titleFontSize=12) \
        .configure(locale={"number": VEGA_NUMBER_LOCALE})
    spec = chart.to_dict(validate=True)
    spec.pop("datasets", None)
    return json.dumps(spec)


def factsheet_chart(rows: list[dict], title: str, unit: str, unit_label: str, breaks: list[dict],
                    groups: list[str]) -> dict:
    """A static line chart (the factsheet): ``rows`` = year, herkomst, value (None where suppressed), status,
    firm, link, lo, hi (``data.reading``); ``groups`` fixes the order of the colours (the same as on the
    site's pages).  Drawn like the interactive chart: from 0, uncertain values open and not on the line."""
    data = alt.Data(values=[{**r, "series": r["herkomst"]} for r in rows])
    base = alt.Chart(data).encode(x=_axis_year())
    color = alt.Color("herkomst:N", title=None, scale=alt.Scale(domain=groups, range=PALETTE),
                      legend=alt.Legend(orient="bottom"))
    layers = _value_layers(base, unit, unit_label, color,
                           alt.Color("herkomst:N", scale=alt.Scale(domain=groups, range=PALETTE), legend=None))
    if breaks:
        b = alt.Chart(alt.Data(values=breaks)).encode(x="year:O")
        layers.insert(0, b.mark_rule(color="#555", strokeDash=[6, 4]))
        layers.append(b.mark_text(text="trendbreuk", dy=-4, dx=3, align="left", fontSize=10, color="#555")
                      .encode(y=alt.value(0)))
    return alt.layer(*layers).properties(width=460, height=200, title=_title(title, unit)) \
        .configure_view(stroke=None).configure(locale={"number": VEGA_NUMBER_LOCALE}).to_dict()


def to_png(spec: dict, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=scale, vl_version=VL_VERSION)


def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed as one classic script defining ``window.vegaEmbed`` (works from
    file:// and offline: no CDN, no ES modules)."""
    import vl_convert as vlc

    return vlc.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vega = vega;", vl_version=VL_VERSION)
