"""The regional map of the publication (issue 18; technisch rapport Monitor gelijke kansen, §7.3 a and §7.2.4).

Readers make maps as well as charts and tables (like the KIS wijkmonitor): one page ``kaart/<id>.html`` per
indicator that has regional rows in the gated indicator table, a choropleth of the 35 arbeidsmarktregio's (plus
AM99 "Niet in te delen") for one group or, by default, the gap niet-westers minus geen migratieachtergrond, the
table of the same numbers under it, and a region selector that shows a region's series over the years.

Regional rows (the indicator table's contract, docs/regions.md): ``regio`` holds the arbeidsmarktregio code
(``AM01``..``AM38``, ``AM99``), every other dimension ``totaal``; a suppressed cell has ``suppressed = True``
and no value.  A table without a ``regio`` column (or without regional rows) gets no map page and the rest of
the site does not change.

The boundaries are ``reference/geo/arbeidsmarktregio_2020.topojson`` (CBS / PDOK via cartomap/nl; attribution
:data:`ATTRIBUTION` on every map).  The site carries them itself (``assets/arbeidsmarktregio_2020.js``, a
classic script so that it also loads from ``file://``, and ``data/arbeidsmarktregio_2020.topojson``): nothing
is fetched from the internet.  Only cells of the gated table reach the page: no person keys, no microdata.
"""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from importlib import resources

import altair as alt
import polars as pl

from monitor_dagster.indicators.table import CORRECTIE, DIMENSIONS, GEEN, TOTAAL
from monitor_dagster.publication import charts as C
from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import DECIMALS, VEGA_NUMBER_LOCALE

REGIO, RANDSTAD, ASIELSTATUS = "regio", "randstad", "asielstatus"
#: the dimensions of issue 18 (the indicator table's contract)
REGION_DIMS = (REGIO, RANDSTAD, ASIELSTATUS)
GEO_FILE = "arbeidsmarktregio_2020.topojson"
GEO_OBJECT = "arbeidsmarktregio_2020"
GEO_SCRIPT = "arbeidsmarktregio_2020.js"
ATTRIBUTION = ("Bron grenzen: CBS / PDOK Gebiedsindelingen 2020 (gegeneraliseerd), via github.com/cartomap/nl")
#: the groups a map can show, and the gap (the default view)
GROUPS = ["niet-westers", "westers", "geen migratieachtergrond", "totaal"]
GAP = "verschil"
GAP_LABEL = f"Verschil {D.BASE} − {D.REFERENCE}"
#: the region of the table's national rows (regio = totaal), shown in the table under the map, not on it
NATIONAL = "NL"
SUPPRESSED_LABEL = "niet gepubliceerd"
SUPPRESSED_KEY = "niet gepubliceerd (onthullingscontrole: minder dan 10 personen of terug te rekenen uit andere cellen)"
GAP_SUPPRESSED = "verschil niet te berekenen"
MISSING_LABEL = "geen cijfer"
SUPPRESSED_FILL, MISSING_FILL = "#b4b4b4", "#ffffff"
ROW_FIELDS = ["measure", "year", "regio", "herkomst", "value", "n", "status", "suppressed", "reason", "firm", "link",
              "lo", "hi"]


# ---- the boundaries ----------------------------------------------------------------------------------------------

def _geo_text() -> str:
    return resources.files("monitor_dagster.reference").joinpath("geo", GEO_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def topology() -> dict:
    return json.loads(_geo_text())


@lru_cache(maxsize=1)
def regions() -> list[dict]:
    """Every arbeidsmarktregio of the boundaries (code, name, label point), by code; AM99 included."""
    topo = topology()
    arcs = _decode_arcs(topo)
    out = []
    for g in topo["objects"][GEO_OBJECT]["geometries"]:
        lon, lat = _label_point(g, arcs)
        out.append({"code": g["properties"]["statcode"], "name": g["properties"]["statnaam"],
                    "lon": round(lon, 4), "lat": round(lat, 4)})
    names = _csv_names()
    for code, name in names.items():       # a region of the municipality table without a boundary (none in 2020)
        if code not in {r["code"] for r in out}:
            out.append({"code": code, "name": name, "lon": None, "lat": None})
    return sorted(out, key=lambda r: r["code"])


def _csv_names() -> dict[str, str]:
    text = resources.files("monitor_dagster.reference").joinpath("gemeente_arbeidsmarktregio_2020.csv") \
        .read_text(encoding="utf-8")
    return {r["arbeidsmarktregio_code"]: r["arbeidsmarktregio_naam"] for r in csv.DictReader(text.splitlines(), delimiter=";")}


def _decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _ring(indices: list[int], arcs) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i in indices:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a[1:] if pts else a)
    return pts


def _label_point(geometry: dict, arcs) -> tuple[float, float]:
    """The centroid of the largest polygon's outer ring (lon, lat): where the map marks a suppressed region."""
    polys = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    best = (0.0, 0.0, 0.0)
    for poly in polys:
        ring = _ring(poly[0], arcs)
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
            f = x0 * y1 - x1 * y0
            a, cx, cy = a + f, cx + (x0 + x1) * f, cy + (y0 + y1) * f
        if abs(a) > abs(best[0]):
            best = (a, cx / (3 * a), cy / (3 * a))
    if best[0] == 0.0:
        raise ValueError(f"no area in the boundary of {geometry['properties']['statcode']}")
    return best[1], best[2]


def geo_script() -> str:
    """``assets/arbeidsmarktregio_2020.js``: the TopoJSON as ``window.MONITOR_GEO`` (a script, not a fetch:
    browsers refuse to fetch from ``file://``), with the attribution as a comment."""
    return (f"/* {ATTRIBUTION}. Grenzen van de arbeidsmarktregio's 2020 (TopoJSON, WGS84). */\n"
            f"window.MONITOR_GEO = {json.dumps(topology(), separators=(',', ':'))};\n")


# ---- the rows ----------------------------------------------------------------------------------------------------

def has_region_columns(table: pl.DataFrame) -> bool:
    return REGIO in table.columns


def regional_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The cells of the map: regional rows (``regio`` a region code) and the national ones (``regio`` =
    ``totaal``, as :data:`NATIONAL`) of the herkomst groups of :data:`GROUPS`, uncorrected, every other dimension
    ``totaal``.  Only indicators with at least one regional row.  Empty without a ``regio`` column.  Call it on
    a table that passed the disclosure gate (``data.gated``)."""
    cols = ["indicator_id", "year", REGIO, "herkomst", "measure", "unit", "value", "n", "status", "suppressed",
            "suppression_reason"]
    if not has_region_columns(table):
        return pl.DataFrame(schema={c: (pl.Int32 if c == "year" else pl.Float64 if c == "value" else pl.Int64
                                        if c == "n" else pl.Boolean if c == "suppressed" else pl.String) for c in cols})
    t = table
    if "suppression_reason" not in t.columns:
        t = t.with_columns(pl.lit(None, pl.String).alias("suppression_reason"))
    if CORRECTIE in t.columns:
        t = t.filter(pl.col(CORRECTIE) == GEEN)
    # a map cell has every dimension but herkomst and regio ``totaal`` (table.DIMENSIONS holds the separate ones)
    others = [d for d in DIMENSIONS if d not in ("herkomst", REGIO) and d in t.columns]
    t = t.filter(pl.all_horizontal([pl.col(d) == TOTAAL for d in others]) & pl.col("herkomst").is_in(GROUPS))
    with_regions = t.filter(pl.col(REGIO) != TOTAAL)["indicator_id"].unique().to_list()
    t = t.filter(pl.col("indicator_id").is_in(with_regions))
    t = t.with_columns(pl.col(REGIO).replace(TOTAAL, NATIONAL), pl.col("year").cast(pl.Int32))
    bad = t.filter(pl.col("suppressed") & pl.col("value").is_not_null())
    if bad.height:
        raise D.PublicationError(f"{bad.height} suppressed regional cells carry a value: the table breaks its contract")
    return t.select(cols)


def map_ids(regional: pl.DataFrame) -> list[str]:
    """Indicators with a map page, in the site's order (outcome before input)."""
    if regional.height == 0:
        return []
    return D.indicator_ids(regional)


def map_data(regional: pl.DataFrame, indicator_id: str) -> dict:
    """What ``kaart/<id>.html`` embeds: the rows (``ROW_FIELDS``, one per measure, year, region and group, the
    gap as group :data:`GAP`), every region of the boundaries (code, name, label point) and the controls.

    Every region of :func:`regions` has a row for every measure, year and group: a cell the table does not hold
    is ``value`` null and not suppressed (*geen cijfer*).  The gap is niet-westers minus geen
    migratieachtergrond of the same region, measure and year; it is suppressed when either value is, missing
    when either is missing, voorlopig when either is, firm when both are."""
    t = regional.filter(pl.col("indicator_id") == indicator_id)
    unit = t["unit"][0]
    measures = sorted(t["measure"].unique().to_list(), key=lambda x: (x != D.headline_measure(t, indicator_id), x))
    years = sorted(int(y) for y in t["year"].unique())
    present = set(t["herkomst"].unique())
    groups = [g for g in GROUPS if g in present]
    known = regions()
    # a code the boundaries and the municipality table do not know is listed (table, region list), not drawn
    known = known + [{"code": c, "name": c, "lon": None, "lat": None}
                     for c in sorted(set(t[REGIO]) - {r["code"] for r in known} - {NATIONAL})]
    codes = [r["code"] for r in known] + [NATIONAL]
    grid = (pl.DataFrame({"measure": measures}).join(pl.DataFrame({"year": years}, schema={"year": pl.Int32}), how="cross")
            .join(pl.DataFrame({REGIO: codes}), how="cross").join(pl.DataFrame({"herkomst": groups}), how="cross"))
    cells = grid.join(t.drop("indicator_id", "unit"), on=["measure", "year", REGIO, "herkomst"], how="left") \
        .with_columns(pl.col("suppressed").fill_null(False), pl.lit(unit).alias("unit"),
                      pl.when(pl.col("suppressed"))
                      .then(pl.col("suppression_reason").replace_strict(D.REASONS, default=D.GENERIC_REASON))
                      .alias("reason"))
    cells = D.reading(cells, ["measure", REGIO, "herkomst"])
    rows = cells.select(ROW_FIELDS)
    if D.BASE in groups and D.REFERENCE in groups:
        rows = pl.concat([rows, _gap_rows(cells)])
    rows = rows.with_columns(pl.col("value").round(4), pl.col("lo").round(4), pl.col("hi").round(4)) \
        .sort("measure", "year", REGIO, "herkomst")
    m = D.meta(indicator_id)
    counted = D.counted(indicator_id)        # persons, or vacancies (V02)
    views = ([GAP] if D.BASE in groups and D.REFERENCE in groups else []) + groups
    from monitor_dagster.publication.site import UNIT_LABEL, UNIT_SHORT, measure_label   # no import cycle at load

    return {
        "id": indicator_id, "title": m["title"], "unit": unit, "unit_label": UNIT_LABEL.get(unit, unit),
        "unit_short": UNIT_SHORT.get(unit, unit), "gap_unit": "procentpunt" if unit == "%" else UNIT_SHORT.get(unit, unit),
        "decimals": DECIMALS.get(unit, 1), "few_persons": D.FEW_PERSONS, "counted": counted,
        "measures": measures, "measure_labels": {x: measure_label(indicator_id, x) or m["title"] for x in measures},
        "years": years, "groups": groups, "views": views,
        "view_labels": {GAP: GAP_LABEL, **{g: g for g in groups}},
        "defaults": {"measure": measures[0], "year": years[-1], "view": views[0]},
        "regions": known, "national": NATIONAL, "attribution": ATTRIBUTION,
        "labels": {"suppressed": SUPPRESSED_LABEL, "suppressed_key": SUPPRESSED_KEY, "gap_suppressed": GAP_SUPPRESSED,
                   "missing": MISSING_LABEL},
        "fills": {"suppressed": SUPPRESSED_FILL, "missing": MISSING_FILL},
        "columns": ROW_FIELDS, "rows": rows.rows(),
        "map_spec": map_template(counted.capitalize()),
        "series_spec": series_template(unit, UNIT_LABEL.get(unit, unit), counted.capitalize()),
    }


def _gap_rows(cells: pl.DataFrame) -> pl.DataFrame:
    keys = ["measure", "year", REGIO]
    fields = ("value", "suppressed", "status", "firm", "reason")
    b = cells.filter(pl.col("herkomst") == D.BASE).select(*keys, *[pl.col(c).alias(f"{c}_b") for c in fields])
    r = cells.filter(pl.col("herkomst") == D.REFERENCE).select(*keys, *[pl.col(c).alias(f"{c}_r") for c in fields])
    g = b.join(r, on=keys, how="inner")
    sup = pl.col("suppressed_b") | pl.col("suppressed_r")
    status = pl.when((pl.col("status_b") == "voorlopig") | (pl.col("status_r") == "voorlopig")).then(pl.lit("voorlopig")) \
        .when(pl.col("status_b").is_not_null() & pl.col("status_r").is_not_null()).then(pl.lit("definitief"))
    return g.select(*keys, pl.lit(GAP).alias("herkomst"),
                    pl.when(sup).then(None).otherwise(pl.col("value_b") - pl.col("value_r")).alias("value"),
                    pl.lit(None, pl.Int64).alias("n"), status.alias("status"), sup.alias("suppressed"),
                    pl.when(sup).then(pl.concat_str(
                        [pl.lit(GAP_SUPPRESSED + " ("),
                         pl.concat_str([pl.when(pl.col("suppressed_b")).then(pl.lit(D.BASE + ": ") + pl.col("reason_b")),
                                        pl.when(pl.col("suppressed_r")).then(pl.lit(D.REFERENCE + ": ") + pl.col("reason_r"))],
                                       separator="; ", ignore_nulls=True), pl.lit(")")])).alias("reason"),
                    (pl.col("firm_b") & pl.col("firm_r") & ~sup).fill_null(False).alias("firm"),
                    pl.lit(False).alias("link"), pl.lit(None, pl.Float64).alias("lo"), pl.lit(None, pl.Float64).alias("hi"))


# ---- the charts -----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def map_template(count_label: str) -> dict:
    """The choropleth (Vega-Lite, built with altair): the page's script puts the TopoJSON (``window.MONITOR_GEO``)
    into the layers' data and the cells of the view into the lookups.

    Layers: ``grond`` every region, grey when suppressed and white with a dashed outline without a figure; ``waarde`` the regions with
    a value, coloured by it; ``geheim`` a × on the label point of each suppressed region; ``gekozen`` the outline
    of the chosen region.  Each region's rows for the lookup: code, value, label, reason, status_label, n_label,
    suppressed, chosen.  ``count_label`` names what ``n`` counts (data.COUNTED)."""
    geo = alt.Data(values=[], format=alt.DataFormat(type="topojson", feature=GEO_OBJECT))
    fields = ["value", "label", "reason", "status_label", "n_label", "suppressed", "chosen", "name"]
    lookup = alt.LookupData(data=alt.Data(values=[]), key="code", fields=fields)
    tooltip = [alt.Tooltip("name:N", title="Regio"), alt.Tooltip("label:N", title="Waarde"),
               alt.Tooltip("n_label:N", title=count_label), alt.Tooltip("status_label:N", title="Status")]
    base = alt.Chart(geo).transform_lookup(lookup="properties.statcode", from_=lookup)
    ground = base.mark_geoshape(stroke="#666", strokeWidth=0.6).encode(
        fill=alt.condition("datum.suppressed", alt.value(SUPPRESSED_FILL), alt.value(MISSING_FILL)),
        # a region without a figure: white with a dashed outline (a gap near 0 is nearly white too)
        strokeDash=alt.condition("datum.suppressed || isValid(datum.value)", alt.value([1, 0]), alt.value([3, 2])),
        tooltip=tooltip).properties(name="grond")
    values = base.mark_geoshape(stroke="#666", strokeWidth=0.6).encode(
        color=alt.Color("value:Q", title="waarde", legend=alt.Legend(orient="right", format=",.1f")),
        tooltip=tooltip).transform_filter("isValid(datum.value)").properties(name="waarde")
    chosen = base.mark_geoshape(fill=None, stroke="#000", strokeWidth=2.5).transform_filter("datum.chosen") \
        .properties(name="gekozen")
    marks = alt.Chart(alt.Data(values=[])).mark_text(text="×", fontSize=18, fontWeight="bold", color="#222").encode(
        longitude="lon:Q", latitude="lat:Q",
        tooltip=[alt.Tooltip("name:N", title="Regio"), alt.Tooltip("reason:N", title=SUPPRESSED_LABEL.capitalize())],
    ).properties(name="geheim")
    chart = alt.layer(ground, values, marks, chosen).properties(
        width=440, height=520, title=alt.Title("title", anchor="start", fontSize=15), description="description",
    ).project(type="mercator").configure_view(stroke=None).configure(locale={"number": VEGA_NUMBER_LOCALE})
    spec = chart.to_dict(validate=True)
    spec.pop("datasets", None)
    return spec


@lru_cache(maxsize=None)
def _series(unit: str, unit_label: str, count_label: str) -> str:
    cells = alt.Data(name="cells")
    color = alt.Color("herkomst:N", title="Groep", scale=alt.Scale(domain=GROUPS, range=C.PALETTE),
                      legend=alt.Legend(orient="bottom"))
    tooltip = [alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("herkomst:N", title="Groep"),
               alt.Tooltip("label:N", title="Waarde"), alt.Tooltip("n_label:N", title=count_label),
               alt.Tooltip("status_label:N", title="Status")]
    base = alt.Chart(cells).encode(x=alt.X("year:O", title="Jaar", axis=alt.Axis(labelAngle=0)))
    layers = C._value_layers(base, unit, unit_label, color,
                             alt.Color("herkomst:N", scale=alt.Scale(domain=GROUPS, range=C.PALETTE), legend=None),
                             tooltip=tooltip)
    suppressed = base.mark_text(text="×", fontSize=14, fontWeight="bold", baseline="top").encode(
        y=alt.value(2), color=alt.Color("herkomst:N", scale=alt.Scale(domain=GROUPS, range=C.PALETTE), legend=None),
        tooltip=[alt.Tooltip("year:O", title="Jaar"), alt.Tooltip("herkomst:N", title="Groep"),
                 alt.Tooltip("reason:N", title="Niet gepubliceerd")],
    ).transform_filter("datum.suppressed").properties(name="onderdrukt")
    spec = alt.layer(*layers, suppressed).properties(
        width="container", height=220, title=alt.Title("title", anchor="start", fontSize=13), description="description",
    ).configure_view(stroke=None).configure(locale={"number": VEGA_NUMBER_LOCALE}).to_dict(validate=True)
    spec.pop("datasets", None)
    return json.dumps(spec)


def series_template(unit: str, unit_label: str, count_label: str) -> dict:
    """The small line chart of one region over the years (the groups), drawn like the indicator chart."""
    return json.loads(_series(unit, unit_label, count_label))


# ---- the pages ------------------------------------------------------------------------------------------------------

LINK_MARKER = '<form class="controls noprint"'
INDEX_MARKER = '<h2 id="indicatoren">'


def write_assets(site) -> None:
    (site / "assets" / GEO_SCRIPT).write_text(geo_script(), encoding="utf-8")
    for name in ("map.js", "map.css"):
        (site / "assets" / name).write_text(
            resources.files("monitor_dagster.publication").joinpath("static", name).read_text(encoding="utf-8"),
            encoding="utf-8")
    (site / "data" / GEO_FILE).write_text(_geo_text(), encoding="utf-8")


def page(env, regional: pl.DataFrame, indicator_id: str, common: dict, script_json) -> str:
    data = map_data(regional, indicator_id)
    m = D.meta(indicator_id)
    return env.get_template("map.html.j2").render(
        **D.with_sources(indicator_id, common), root="../", page_title=f"{indicator_id} {m['title']} per arbeidsmarktregio", m=m, d=data,
        page_json=script_json(data))


def add_to_indicator_page(html: str, indicator_id: str, ids: list[str]) -> str:
    """A link to the indicator's map above the controls; the page unchanged when it has none."""
    if indicator_id not in ids:
        return html
    block = (f'<p class="map-link noprint"><a class="button" href="../kaart/{indicator_id}.html">Kaart per '
             f'arbeidsmarktregio</a> <span class="meta">de verschillen tussen de regio\'s, als kaart en tabel</span></p>\n')
    return _insert_before(html, LINK_MARKER, block)


def add_to_index(html: str, ids: list[str]) -> str:
    """A section *Regionale verschillen* on the home page, listing the map pages; nothing without them."""
    if not ids:
        return html
    items = "".join(f'<li><a href="kaart/{i}.html">{i} · {_esc(D.meta(i)["title"])}</a></li>\n' for i in ids)
    block = (f'<h2 id="kaarten">Regionale verschillen</h2>\n<p>Per arbeidsmarktregio, als kaart met de cijfers in een '
             f'tabel eronder: het verschil tussen {D.BASE} en {D.REFERENCE} of de cijfers van één groep, per jaar '
             f'(technisch rapport, § 7.2.4 en § 7.3).</p>\n<ul class="maps">\n{items}</ul>\n')
    return _insert_before(html, INDEX_MARKER, block)


def _esc(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def _insert_before(html: str, marker: str, block: str) -> str:
    if html.count(marker) != 1:
        raise D.PublicationError(f"cannot place the map link: marker {marker!r} occurs {html.count(marker)} times")
    return html.replace(marker, block + marker)

