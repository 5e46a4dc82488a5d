"""Chart specifications (Vega-Lite via altair): the interactive indicator chart and the factsheet's static chart.

The indicator page embeds one Vega-Lite *template* per indicator; its data come from named datasets that
the page's script fills with the rows the reader chose (``cells``) and the registered trend breaks in view
(``breaks``).  Honesty in the picture (issue 7): a suppressed cell is a gap in the line with a ``×`` on the
axis and its reason in the tooltip, never a zero; a provisional figure is an open point; a trend break is a
dashed vertical rule on the time axis with its explanation.  The static PNG of the factsheet is rendered by
vl-convert (no browser needed).
"""

from __future__ import annotations

import altair as alt

#: Vega-Lite major version of the specs; the site bundles the matching vega-embed (vl-convert)
VL_VERSION = "6.4"
PALETTE = ["#01689b", "#e17000", "#39870c", "#a90061", "#42145f", "#ffb612", "#8fcae7", "#673327",
           "#007bc7", "#d52b1e", "#76d2b6", "#94710a"]


def _axis_year() -> alt.X:
    return alt.X("year:O", title="Jaar", axis=alt.Axis(labelAngle=0))


def indicator_template(title: str, unit_label: str, description: str) -> dict:
    """Layered Vega-Lite spec over the named datasets ``cells`` and ``breaks``.

    ``cells`` rows: year, herkomst, cat, series, value (null when suppressed), status, n, reason, label.
    ``breaks`` rows: year, id, description.  The page's script removes the ``strokeDash`` encoding when the
    breakdown is herkomst alone (one line per group).
    """
    cells = alt.Data(name="cells")
    color = alt.Color("herkomst:N", title="Herkomst", scale=alt.Scale(range=PALETTE),
                      legend=alt.Legend(orient="bottom", columns=3, labelLimit=260))
    dash = alt.StrokeDash("cat:N", title="Uitsplitsing", legend=alt.Legend(orient="bottom"))
    y = alt.Y("value:Q", title=unit_label, scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("series:N", title="Groep"),
               alt.Tooltip("label:N", title="Waarde"), alt.Tooltip("n:Q", title="Personen", format=",d"),
               alt.Tooltip("status:N", title="Status")]
    base = alt.Chart(cells).encode(x=_axis_year())
    line = base.mark_line(strokeWidth=2.5, invalid="break-paths-show-domains").encode(
        y=y, color=color, strokeDash=dash, detail="series:N")
    points = base.mark_point(size=70, strokeWidth=2, filled=False, opacity=1).encode(
        y=y, color=color,
        # definitief: a filled point; voorlopig: open (white) point, the same outline colour
        fill=alt.condition("datum.status === 'voorlopig'", alt.value("white"), alt.Color("herkomst:N", legend=None)),
        # and a diamond, so that "voorlopig" does not rest on colour alone (the caption explains both)
        shape=alt.Shape("status:N", scale=alt.Scale(domain=["definitief", "voorlopig"], range=["circle", "diamond"]),
                        legend=None),
        tooltip=tooltip).transform_filter("datum.value !== null").properties(name="punten")
    suppressed = base.mark_text(text="×", fontSize=16, fontWeight="bold", baseline="bottom").encode(
        y=alt.value(alt.expr("height - 2")), color=alt.Color("herkomst:N", legend=None),
        tooltip=[alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("series:N", title="Groep"),
                 alt.Tooltip("reason:N", title="Niet gepubliceerd")],
    ).transform_filter("datum.value === null").properties(name="onderdrukt")
    brk = alt.Chart(alt.Data(name="breaks")).encode(x=_axis_year())
    rule = brk.mark_rule(color="#555", strokeDash=[6, 4], strokeWidth=1.5).encode(
        tooltip=[alt.Tooltip("year:O", title="Trendbreuk vanaf"), alt.Tooltip("description:N", title="Oorzaak")],
    ).properties(name="trendbreuk")
    label = brk.mark_text(text="trendbreuk", dy=-6, align="left", dx=4, color="#555", fontSize=11).encode(
        y=alt.value(0), tooltip=alt.Tooltip("description:N", title="Oorzaak")).properties(name="trendbreuk_label")
    chart = alt.layer(rule, line, points, suppressed, label).properties(
        width="container", height=360, title=alt.Title(title, anchor="start", fontSize=15),
        description=description,
    ).configure_view(stroke=None).configure_axis(labelFontSize=12, titleFontSize=12)
    spec = chart.to_dict(validate=True)
    spec.pop("datasets", None)
    return spec


def factsheet_chart(rows: list[dict], title: str, unit_label: str, breaks: list[dict], groups: list[str]) -> dict:
    """A static line chart (the factsheet): ``rows`` = year, herkomst, value (None where suppressed); ``groups``
    fixes the order of the colours (the same as on the site's pages)."""
    data = alt.Data(values=rows)
    base = alt.Chart(data).encode(x=_axis_year())
    y = alt.Y("value:Q", title=unit_label, scale=alt.Scale(zero=False))
    color = alt.Color("herkomst:N", title=None, scale=alt.Scale(domain=groups, range=PALETTE),
                      legend=alt.Legend(orient="bottom"))
    layers = [base.mark_line(strokeWidth=2.5, invalid="break-paths-show-domains").encode(y=y, color=color),
              base.mark_point(filled=True, size=40).encode(y=y, color=color).transform_filter("datum.value !== null")]
    if breaks:
        b = alt.Chart(alt.Data(values=breaks)).encode(x="year:O")
        layers.insert(0, b.mark_rule(color="#555", strokeDash=[6, 4]))
        layers.append(b.mark_text(text="trendbreuk", dy=-4, dx=3, align="left", fontSize=10, color="#555")
                      .encode(y=alt.value(0)))
    return alt.layer(*layers).properties(width=460, height=200, title=title).configure_view(stroke=None).to_dict()


def to_png(spec: dict, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(spec, scale=scale, vl_version=VL_VERSION)


def javascript_bundle() -> str:
    """vega + vega-lite + vega-embed as one classic script defining ``window.vegaEmbed`` (works from
    file:// and offline: no CDN, no ES modules)."""
    import vl_convert as vlc

    return vlc.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vega = vega;", vl_version=VL_VERSION)
