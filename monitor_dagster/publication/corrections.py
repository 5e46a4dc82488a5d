"""The corrected figures in the publication (issue 17; technisch rapport Monitor gelijke kansen, §7.2.2 and §5.3).

Three pieces of HTML, each added to a page :mod:`~monitor_dagster.publication.site` has rendered (the page
templates stay as they are: a site without corrected rows is unchanged):

* :func:`indicator_block`: on a register indicator's page, "Gecorrigeerd voor achtergrondkenmerken": per year
  (latest first) niet-westers and geen migratieachtergrond uncorrected, weighted (``gewogen``, §7.2.2 a) and
  the model-adjusted gap (``model``, §7.2.2 b);
* :func:`report_section`: the technical report's "Correctie voor achtergrondkenmerken": the method, the
  propensity model (its coefficients, refitted from ``core/propensity_weights``), the balance table per year,
  the drift, and the model results of the latest year;
* :func:`headline`: the home page's "Resterend verschil (ethnic penalty)" for a few key indicators.

Everything shown comes from the gated table (a suppressed cell stays suppressed, a gap of a suppressed cell
is not shown) or from the weights table as aggregate shares and model coefficients: no count of persons per
covariate cell is printed, and a balance row resting on fewer than :data:`MIN_PERSONS` persons in a group
shows no numbers.  Every text goes through Jinja's autoescape; numbers through ``numbers.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jinja2
import polars as pl

from monitor_dagster.indicators.table import CORRECTIE, GEEN
from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import MISSING, count, fmt, number

GEWOGEN, MODEL = "gewogen", "model"
PROCENTPUNT = "procentpunt"
#: the key register indicators of the home page's headline (report §5.3 "ethnic penalties"), those present
HEADLINE_IDS = ("O04", "O05", "O08", "O11", "O12")
#: a balance row with fewer persons than this at a level in either group shows no numbers (the gate's threshold)
MIN_PERSONS = 10
#: where each piece goes: before these (unique) headings of the rendered pages
INDICATOR_MARKER = '<h2 id="trendbreuken">'
REPORT_MARKER = '<h2 id="inhoud">'
INDEX_MARKER = '<h2 id="indicatoren">'
COVARIATE_LABELS = {"leeftijdsklasse": "leeftijdsklasse", "geslacht": "geslacht", "opleidingsniveau": "opleidingsniveau"}
CAVEAT = ("Een verschil dat overblijft na correctie is geen bewijs van discriminatie: het kan ook komen door "
          "kenmerken die niet in de registers staan of niet zijn meegenomen, zoals taalbeheersing, netwerk of "
          "de kenmerken van de ouders (technisch rapport Monitor gelijke kansen, §5.3).")
REASON_TWIN = "onderdrukt: de ongecorrigeerde cel van dezelfde personen is niet gepubliceerd"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(MISSING=MISSING)
    return env


# a cell: {"text": str, "suppressed": bool, "reason": str}; a suppressed one is drawn as on the indicator table
CELL = """{% macro cell(c) %}<td class="num value">{% if c.suppressed %}<span title="{{ c.reason }}" aria-label="onderdrukt">×</span>{% else %}{{ c.text }}{% endif %}</td>{% endmacro %}"""


def _unit_of_gap(unit: str) -> str:
    return PROCENTPUNT if unit == "%" else unit


def _reason(row: dict | None) -> str:
    if row is None:
        return ""
    r = row.get("suppression_reason")
    return REASON_TWIN if r == "uncorrected_twin" else D.REASONS.get(r, D.GENERIC_REASON)


def _value_cell(row: dict | None, unit: str, signed: bool = False) -> dict:
    if row is None:
        return {"text": MISSING, "suppressed": False, "reason": ""}
    if row["suppressed"] or row["value"] is None:
        return {"text": MISSING, "suppressed": True, "reason": _reason(row)}
    return {"text": fmt(row["value"], unit, signed=signed), "suppressed": False, "reason": ""}


def _gap(a: dict | None, b: dict | None) -> float | None:
    """basis minus referentie; None when either is missing or suppressed (never computed from a hidden cell)."""
    if a is None or b is None or a["suppressed"] or b["suppressed"] or a["value"] is None or b["value"] is None:
        return None
    return a["value"] - b["value"]


def _gap_cell(v: float | None, unit: str) -> dict:
    return {"text": fmt(v, _unit_of_gap(unit), signed=True) if v is not None else MISSING, "suppressed": False,
            "reason": ""}


def _has_corrections(corrections: pl.DataFrame | None) -> bool:
    return corrections is not None and corrections.height > 0 and CORRECTIE in corrections.columns


def _lookup(rows: pl.DataFrame) -> dict[tuple, dict]:
    """(year, measure, correctie, herkomst) -> row."""
    return {(int(r["year"]), r["measure"], r[CORRECTIE], r["herkomst"]): r for r in rows.iter_rows(named=True)}


def indicator_rows(table: pl.DataFrame, corrections: pl.DataFrame, iid: str) -> list[dict]:
    """Per measure (headline first) the years (latest first) of one indicator: the uncorrected, weighted and
    model cells and gaps.  Empty when the indicator has no corrected rows."""
    corr = D.totals(corrections.filter(pl.col("indicator_id") == iid))
    if corr.height == 0:
        return []
    raw = D.totals(table.filter((pl.col("indicator_id") == iid) & (pl.col(CORRECTIE) == GEEN)))
    cols = ["year", "herkomst", CORRECTIE, "measure", "value", "unit", "status", "suppressed", "suppression_reason"]
    both = pl.concat([raw.select(cols), corr.select(cols)], how="vertical_relaxed").filter(
        pl.col("herkomst").is_in([D.BASE, D.REFERENCE]))
    get = _lookup(both)
    headline = D.headline_measure(pl.concat([raw.select("indicator_id", "measure"),
                                             corr.select("indicator_id", "measure")]), iid)
    measures = sorted(corr["measure"].unique().to_list(), key=lambda m: (m != headline, m))
    from monitor_dagster.publication.site import measure_label     # site imports this module

    out = []
    for m in measures:
        rows = raw.filter(pl.col("measure") == m)
        unit = rows["unit"][0] if rows.height else corr.filter(pl.col("measure") == m)["unit"][0]
        years = sorted({int(y) for y in corr.filter(pl.col("measure") == m)["year"]}, reverse=True)
        lines = []
        for y in years:
            ub, ur = get.get((y, m, GEEN, D.BASE)), get.get((y, m, GEEN, D.REFERENCE))
            wb, wr = get.get((y, m, GEWOGEN, D.BASE)), get.get((y, m, GEWOGEN, D.REFERENCE))
            mod = get.get((y, m, MODEL, D.BASE))
            statuses = {r["status"] for r in (ub, ur, wb, wr, mod) if r is not None}
            lines.append({
                "year": y, "provisional": "voorlopig" in statuses,
                "cells": [_value_cell(ub, unit), _value_cell(ur, unit), _gap_cell(_gap(ub, ur), unit),
                          _value_cell(wb, unit), _value_cell(wr, unit), _gap_cell(_gap(wb, wr), unit),
                          _value_cell(mod, mod["unit"] if mod else _unit_of_gap(unit), signed=True)]})
        out.append({"measure": m, "label": measure_label(iid, m), "n_measures": len(measures), "unit": unit, "gap_unit": _unit_of_gap(unit),
                    "lines": lines})
    return out


INDICATOR_TEMPLATE = CELL + """
<section id="gecorrigeerd" class="corrections" aria-labelledby="gecorrigeerd-titel">
<h2 id="gecorrigeerd-titel">Gecorrigeerd voor achtergrondkenmerken</h2>
<p>Verschilt de groep met een niet-westerse migratieachtergrond ook als je rekening houdt met leeftijd, geslacht en
opleidingsniveau? <em>Gewogen</em>: beide groepen gewogen naar de samenstelling van de groep met een niet-westerse
migratieachtergrond over de hele periode (technisch rapport Monitor gelijke kansen, §7.2.2 a). <em>Model</em>: het
verschil niet-westers min geen migratieachtergrond bij gelijke leeftijd, geslacht en opleidingsniveau, uit een
regressiemodel (§7.2.2 b).</p>
<p class="note caveat">{{ caveat }}</p>
{% for b in blocks %}
{% if loop.index == 2 %}<details><summary>Andere maatstaven ({{ blocks|length - 1 }})</summary>{% endif %}
<div class="table-wrap"><table class="corrected">
<caption>{{ title }}{% if b.label %} ({{ b.label }}){% endif %}: ongecorrigeerd, gewogen en met een model
gecorrigeerd, in {{ b.unit }}; verschillen in {{ b.gap_unit }}</caption>
<thead>
<tr><td></td><th scope="colgroup" colspan="3">Ongecorrigeerd</th><th scope="colgroup" colspan="3">Gewogen</th>
<th scope="colgroup">Model</th></tr>
<tr><th scope="col">Jaar</th>
<th scope="col" class="num">Niet-westers</th><th scope="col" class="num">Geen migratieachtergrond</th><th scope="col" class="num">Verschil</th>
<th scope="col" class="num">Niet-westers</th><th scope="col" class="num">Geen migratieachtergrond</th><th scope="col" class="num">Verschil</th>
<th scope="col" class="num">Gecorrigeerd verschil</th></tr>
</thead>
<tbody>
{% for l in b.lines %}<tr{% if l.provisional %} class="provisional"{% endif %}><th scope="row">{{ l.year }}{% if l.provisional %} <span class="badge-provisional">voorlopig</span>{% endif %}</th>
{% for c in l.cells %}{{ cell(c) }}{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
{% if loop.last and blocks|length > 1 %}</details>{% endif %}
{% endfor %}
<p class="meta">× = niet gepubliceerd (onthullingscontrole), geen nul; {{ MISSING }} = geen verschil, omdat een van de
twee cellen niet gepubliceerd is. Een gewogen cel is niet gepubliceerd als de ongecorrigeerde cel van dezelfde personen
dat niet is. De methode staat in het <a href="../technisch-rapport.html#correctie">technisch rapport</a>.</p>
</section>
"""


def indicator_block(table: pl.DataFrame, corrections: pl.DataFrame | None, iid: str) -> str:
    """The block of one indicator page ("" when it has no corrected rows)."""
    if not _has_corrections(corrections):
        return ""
    blocks = indicator_rows(table, corrections, iid)
    if not blocks:
        return ""
    return _env().from_string(INDICATOR_TEMPLATE).render(blocks=blocks, title=D.meta(iid)["title"], caveat=CAVEAT)


def insert_before(html: str, marker: str, block: str, what: str = "the corrected figures") -> str:
    """``block`` placed just before ``marker`` (which must occur once) in a rendered page."""
    if not block:
        return html
    if html.count(marker) != 1:
        raise D.PublicationError(f"the page has {html.count(marker)} times {marker!r}: cannot place {what}")
    return html.replace(marker, block + marker)


def add_to_indicator_page(html: str, table: pl.DataFrame, corrections: pl.DataFrame | None, iid: str) -> str:
    return insert_before(html, INDICATOR_MARKER, indicator_block(table, corrections, iid))


# ---- home page: the remaining gap ("ethnic penalty", report §5.3) ----------------------------------------------

def headline_rows(table: pl.DataFrame, corrections: pl.DataFrame) -> tuple[int | None, list[dict]]:
    """(year, rows): for the latest year with a model row, the key indicators' raw and model-adjusted gap."""
    models = D.totals(corrections.filter(pl.col(CORRECTIE) == MODEL))
    ids = [i for i in HEADLINE_IDS if i in set(models["indicator_id"].unique())]
    if not ids:
        return None, []
    year = int(models.filter(pl.col("indicator_id").is_in(ids))["year"].max())
    out = []
    for iid in ids:
        for b in indicator_rows(table, corrections, iid)[:1]:          # the headline measure
            line = next((l for l in b["lines"] if l["year"] == year), None)
            if line is None:
                continue
            raw, wgap, mod = line["cells"][2], line["cells"][5], line["cells"][6]
            out.append({"id": iid, "title": D.meta(iid)["title"], "label": b["label"] if b["n_measures"] > 1 else "", "raw": raw, "weighted": wgap,
                        "model": mod, "gap_unit": b["gap_unit"], "provisional": line["provisional"]})
    return year, out


HEADLINE_TEMPLATE = CELL + """
<section id="resterend-verschil" aria-labelledby="resterend-verschil-titel">
<h2 id="resterend-verschil-titel">Resterend verschil (ethnic penalty) in {{ year }}</h2>
<p>Hoeveel van het verschil tussen niet-westers en geen migratieachtergrond blijft over als je rekening houdt met
leeftijd, geslacht en opleidingsniveau (technisch rapport Monitor gelijke kansen, §5.3 en §7.2.2)?</p>
<div class="table-wrap"><table class="corrected">
<caption>Verschil niet-westers min geen migratieachtergrond in {{ year }}: ongecorrigeerd, gewogen en met een model gecorrigeerd</caption>
<thead><tr><th scope="col">Indicator</th><th scope="col" class="num">Ongecorrigeerd verschil</th>
<th scope="col" class="num">Gewogen verschil</th><th scope="col" class="num">Gecorrigeerd verschil (model)</th><th scope="col">Eenheid</th></tr></thead>
<tbody>
{% for r in rows %}<tr{% if r.provisional %} class="provisional"{% endif %}><th scope="row"><a href="indicator/{{ r.id }}.html">{{ r.title }}</a>{% if r.label %} <span class="meta">({{ r.label }})</span>{% endif %}{% if r.provisional %} <span class="badge-provisional">voorlopig</span>{% endif %}</th>
{{ cell(r.raw) }}{{ cell(r.weighted) }}{{ cell(r.model) }}<td>{{ r.gap_unit }}</td></tr>
{% endfor %}
</tbody></table></div>
<p class="note caveat">{{ caveat }}</p>
</section>
"""


def headline(table: pl.DataFrame, corrections: pl.DataFrame | None) -> str:
    if not _has_corrections(corrections):
        return ""
    year, rows = headline_rows(table, corrections)
    if not rows:
        return ""
    return _env().from_string(HEADLINE_TEMPLATE).render(year=year, rows=rows, caveat=CAVEAT)


def add_to_index(html: str, table: pl.DataFrame, corrections: pl.DataFrame | None) -> str:
    return insert_before(html, INDEX_MARKER, headline(table, corrections))


# ---- technical report --------------------------------------------------------------------------------------

def load_weights(warehouse: Path | str | None) -> pl.DataFrame | None:
    """The table of ``core/propensity_weights`` (None when the warehouse has none)."""
    return D.stored_table(warehouse, "core", "propensity_weights")


def _cells(weights: pl.DataFrame) -> pl.DataFrame:
    from monitor_dagster.corrections.propensity import COVARIATES

    return weights.select("year", "group", "covariaten", *COVARIATES, "n")


def propensity_context(weights: pl.DataFrame) -> dict:
    """The refitted weighting model's summary: years, persons, convergence, LR chi2, the number of parameters.
    Not its coefficients: a log-linear model with a constant and main effects per group and year reproduces the
    counts of every level, so the coefficients with the published group sizes gave back the levels under 10
    persons that the balance table hides (an audit of December 2026 recovered the basisgroep's 15-19 year-olds,
    7 in 2014 and 6 in 2021, from the technisch rapport alone)."""
    from monitor_dagster.corrections.propensity import weights_with_balance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, _, spec = weights_with_balance(_cells(weights))      # the model the asset used
    return {"years": f"{model.years[0]}–{model.years[-1]}" if model.years else MISSING,
            "n_basis": count(model.n_basis) if model.n_basis >= MIN_PERSONS else MISSING,
            "n_referentie": count(model.n_referentie) if model.n_referentie >= MIN_PERSONS else MISSING,
            "converged": model.converged, "lr_chi2": number(model.lr_chi2, 1),
            "df": count(model.coefficients.height), "specification": spec}


def _p(p: float | None) -> str:
    if p is None or p != p:
        return MISSING
    return "< 0,001" if p < 0.001 else number(p, 3)


def balance_context(weights: pl.DataFrame) -> tuple[list[dict], list[str]]:
    """The balance table per year (latest first) and the drift lines, both from the weights table.  A
    characteristic with a level of fewer than MIN_PERSONS persons in a group in a year shows no numbers that year."""
    from monitor_dagster.corrections.propensity import COVARIATES, balance

    cells = _cells(weights)
    t = balance(cells, weights)
    # persons per group, year and level: a level under MIN_PERSONS in a group shows no shares or SMDs
    small = pl.concat([
        cells.group_by("year", "group", pl.col(c).alias("niveau")).agg(pl.col("n").sum())
        .with_columns(pl.lit(c).alias("kenmerk")) for c in COVARIATES])
    # the whole characteristic of that year: its shares add to 100%, so one hidden level would follow from the rest
    small = (small.filter((pl.col("n") > 0) & (pl.col("n") < MIN_PERSONS)).select("year", "kenmerk")
             .unique().with_columns(pl.lit(True).alias("_small")))
    t = t.join(small, on=["year", "kenmerk"], how="left").with_columns(pl.col("_small").fill_null(False))

    def share(v):
        return number(100 * v, 1)

    years = []
    drift = []
    for y in sorted({int(v) for v in t["year"]}, reverse=True):
        rows = []
        for r in t.filter(pl.col("year") == y).iter_rows(named=True):
            hidden = r["_small"]
            rows.append({"kenmerk": COVARIATE_LABELS.get(r["kenmerk"], r["kenmerk"]), "niveau": r["niveau"],
                         "hidden": hidden,
                         "values": [] if hidden else [share(r["share_basis"]), share(r["share_referentie"]),
                                                      share(r["share_basis_gewogen"]), share(r["share_gewogen"]),
                                                      number(r["smd_voor"], 3, signed=True),
                                                      number(r["smd_na"], 3, signed=True), _p(r["p_waarde"])],
                         "balanced": r["balanced"]})
            if not r["stabiel_over_tijd"]:
                what = f"{y} {r['kenmerk']} = {r['niveau']}"
                drift.append(what + (": een niveau met minder dan 10 personen in een groep, geen cijfers" if hidden else
                                     f": basisgroep {number(r['smd_tijd_basis'], 3, signed=True)}, gewogen "
                                     f"referentiegroep {number(r['smd_tijd_gewogen'], 3, signed=True)} (SMD tegen de "
                                     "samenstelling over de hele periode)"))
        years.append({"year": y, "rows": rows, "out_of_balance": sum(not r["balanced"] for r in rows)})
    return years, drift


def model_results(table: pl.DataFrame, corrections: pl.DataFrame, warehouse: Path | str | None) -> tuple[int | None, list[dict]]:
    """The model rows of the latest year that are published (not suppressed), with the uncorrected gap of the
    table and the standard error of the refitted model (from the family tables' covariate cells of that year)."""
    models = D.totals(corrections.filter((pl.col(CORRECTIE) == MODEL)))
    if models.height == 0:
        return None, []
    year = int(models["year"].max())
    shown = models.filter((pl.col("year") == year) & ~pl.col("suppressed") & pl.col("value").is_not_null())
    fits = _fits(warehouse, year)
    raw = D.totals(table.filter((pl.col(CORRECTIE) == GEEN) & (pl.col("year") == year)
                               & pl.col("herkomst").is_in([D.BASE, D.REFERENCE])))
    get = _lookup(raw.select("year", "herkomst", CORRECTIE, "measure", "value", "suppressed"))
    from monitor_dagster.publication.site import measure_label

    order = {k: i for i, k in enumerate(D.indicator_ids(pl.concat([table.select("indicator_id"),
                                                                    corrections.select("indicator_id")])))}
    out = []
    for r in sorted(shown.iter_rows(named=True), key=lambda r: (order.get(r["indicator_id"], 999), r["measure"])):
        key = (r["indicator_id"], r["measure"])
        g = _gap(get.get((year, r["measure"], GEEN, D.BASE)), get.get((year, r["measure"], GEEN, D.REFERENCE)))
        fit = fits.get(key)
        unit = r["unit"]
        out.append({"id": r["indicator_id"], "title": D.meta(r["indicator_id"])["title"],
                    "label": measure_label(r["indicator_id"], r["measure"]), "unit": unit,
                    "raw": fmt(g, unit, signed=True) if g is not None else MISSING,
                    "gap": fmt(r["value"], unit, signed=True),
                    "se": fmt(fit["se"], unit) if fit else MISSING,
                    "model": ("logit, gemiddeld marginaal effect" if fit["model"] == "logit" else "OLS") if fit else MISSING,
                    "converged": fit["converged"] if fit else None, "coefficients": _coefficients(fit)})
    return year, out


def _fits(warehouse: Path | str | None, year: int) -> dict[tuple[str, str], dict]:
    """The gap models of one year, refitted from the covariate cells in the warehouse's family tables
    (``corrections.apply.corrected``): their standard error and convergence are not in the indicator table."""
    if warehouse is None:
        return {}
    from monitor_dagster.corrections.apply import corrected, models_table
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.indicators.table import CEL
    from monitor_dagster.warehouse import Warehouse, WarehouseMissing

    w = Warehouse(warehouse, layer="indicators")
    tables = []
    for fam in SPEC.families():
        if not SPEC.corrected(fam) or str(year) not in w.partitions(fam):
            continue
        try:
            lf = w.read(fam, year)
        except WarehouseMissing:
            continue
        if "covariaten" in lf.collect_schema().names():
            tables.append(lf.filter(pl.col(CORRECTIE) == CEL).collect())
    if not tables:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, models = corrected(tables, None)
    if not models:
        return {}
    t = models_table(models).filter(pl.col("year") == year)
    coefs = {(m.indicator_id, m.measure): m.coefficients for m in models if m.year == year}
    return {(r["indicator_id"], r["measure"]): {**r, "coefficients": coefs.get((r["indicator_id"], r["measure"]))}
            for r in t.iter_rows(named=True)}


def _coefficients(fit: dict | None) -> list[dict]:
    """The gap model's coefficients for the report (logit scale for shares, the unit for means); a level with
    fewer than 10 persons in a group is not published."""
    if not fit or fit.get("coefficients") is None:
        return []
    return [{"term": r["term"], "coef": number(r["coef"], 3, signed=True) if r["publishable"] else "×",
             "se": number(r["se"], 3) if r["publishable"] else "×"}
            for r in fit["coefficients"].iter_rows(named=True)]


REPORT_TEMPLATE = """
<h2 id="correctie">Correctie voor achtergrondkenmerken</h2>
<p>Naast de ongecorrigeerde cijfers publiceert de monitor voor de registerindicatoren cijfers die rekening houden met
verschillen in samenstelling tussen de groepen (technisch rapport Monitor gelijke kansen, §7.2.2). Het rapport noemt
twee manieren, en de monitor gebruikt ze allebei:</p>
<ul>
<li><strong>Wegen</strong> (§7.2.2 a: „de groepen die worden vergeleken te wegen naar persoonskenmerken”): de
basisgroep (niet-westerse migratieachtergrond) en de referentiegroep (geen migratieachtergrond) krijgen elk in elk jaar
een gewicht per combinatie van kenmerken, zodat beide de samenstelling hebben van de basisgroep over de
<em>hele periode</em>. Eén model voor alle jaren samen (propensity score weging over de gehele periode): een trend in
een gewogen cijfer komt dan niet door een ander model per jaar of een veranderende samenstelling. Het gewogen cijfer
rust op dezelfde personen als het ongecorrigeerde en wordt niet gepubliceerd als dat niet gepubliceerd wordt.</li>
<li><strong>Model</strong> (§7.2.2 b: „de persoonskenmerken mee te nemen als verklarende variabelen”): per indicator,
jaar en maatstaf een regressie met de groep en de kenmerken als verklarende variabelen; bij een percentage een logitmodel,
waarvan het verschil wordt gegeven als gemiddeld marginaal effect over de basisgroep (in procentpunt), bij een gemiddelde
(uren, euro, maanden) een lineair model (OLS). Het gecorrigeerde verschil is basisgroep min referentiegroep bij gelijke
kenmerken; het wordt alleen gegeven als beide groepen minstens 10 personen tellen.</li>
</ul>
<p><strong>Kenmerken:</strong> leeftijdsklasse (15-19, 20-26, 27-34, 35-44, 45-54, 55 tot de AOW-leeftijd), geslacht en
opleidingsniveau (met „onbekend” als eigen niveau). <strong>Niet gecorrigeerd</strong> wordt voor de kenmerken van de
ouders en het huishouden: die staan (nog) niet in het datawarehouse; sociale klasse, gezondheid en taalbeheersing staan
niet in de registers. Studiekeuze en stages (onderzoeksvragen 4a en 4b) worden alleen voor geslacht gecorrigeerd, met
gewichten uit de eigen populatie van de indicator: het rapport vindt leeftijd en opleiding daar minder relevant en de
kenmerken van de ouders ontbreken. De EBB-indicatoren (O01-O03) worden gecorrigeerd met de kenmerken uit de EBB zelf,
bovenop het enquêtegewicht. De uitsplitsingen naar generatie en verblijfsduur worden niet gecorrigeerd: ze zijn
deelgroepen van de basisgroep, en de referentiegroep heeft geen generatie of verblijfsduur om tegen te wegen. Het gecorrigeerde verschil meet wat overblijft na deze kenmerken (de „ethnic penalty” van §5.3).
{{ caveat }}</p>

<h3 id="correctie-weegmodel">Het weegmodel</h3>
{% if prop %}
<p>Eén model over de jaren {{ prop.years }} ({{ prop.n_basis }} persoonsjaren in de basisgroep,
{{ prop.n_referentie }} in de referentiegroep): een multinomiaal logitmodel van de groep en het jaar op de kenmerken,
geschat als het gelijkwaardige log-lineaire model van de aantallen per cel. Geconvergeerd:
<span class="{{ 'ok' if prop.converged else 'fail' }}">{{ "ja" if prop.converged else "nee" }}</span>.
Likelihood-ratio-toets tegen het model zonder kenmerken: χ² = {{ prop.lr_chi2 }} ({{ prop.df }} parameters).
Specificatie: {{ prop.specification }} (met de interactie alleen als de hoofdeffecten de evenredigheidscontrole
niet halen).</p>
<p>De {{ prop.df }} coëfficiënten van het weegmodel worden niet gepubliceerd: het model geeft de aantallen per
kenmerkniveau, groep en jaar exact terug, dus samen met de groepsgroottes zouden ze ook de niveaus met minder dan
10 personen prijsgeven die de evenredigheidscontrole hieronder verbergt (onthullingscontrole).</p>

<h3 id="correctie-balans">Evenredigheidscontrole per jaar</h3>
<p>Per jaar en kenmerk het aandeel van elk niveau in de basisgroep en de referentiegroep, vóór en na weging, het
gestandaardiseerde verschil (SMD) en de toets op het verschil tussen de gewogen groepen. Een niveau is in balans als
|SMD| na weging hooguit {{ smd }} is of het verschil niet significant is (p ≥ {{ alpha }}); anders blokkeert de controle
de gecorrigeerde cijfers. Een kenmerk met een niveau van minder dan 10 personen in een van de groepen staat er dat jaar zonder cijfers in
(de aandelen tellen op tot 100%: één verborgen niveau zou uit de andere volgen).</p>
{% for y in balance %}
<details{% if loop.first %} open{% endif %}><summary>{{ y.year }}: {{ y.rows|length - y.out_of_balance }} van {{ y.rows|length }} niveaus in balans</summary>
<div class="table-wrap"><table class="balance">
<caption>Evenredigheidscontrole {{ y.year }}: aandelen in %, SMD basisgroep min referentiegroep</caption>
<thead><tr><th scope="col">Kenmerk</th><th scope="col">Niveau</th>
<th scope="col" class="num">Basisgroep vóór weging</th><th scope="col" class="num">Referentiegroep vóór weging</th>
<th scope="col" class="num">Basisgroep na weging</th><th scope="col" class="num">Referentiegroep na weging</th>
<th scope="col" class="num">SMD vóór</th><th scope="col" class="num">SMD na</th><th scope="col" class="num">p</th>
<th scope="col">In balans</th></tr></thead>
<tbody>{% for r in y.rows %}<tr><td>{{ r.kenmerk }}</td><td>{{ r.niveau }}</td>
{% if r.hidden %}<td class="num" colspan="7"><span title="onderdrukt: een niveau met minder dan 10 personen in een groep" aria-label="onderdrukt">×</span></td>{% else %}{% for v in r["values"] %}<td class="num">{{ v }}</td>{% endfor %}{% endif %}
<td class="{{ 'ok' if r.balanced else 'fail' }}">{{ "ja" if r.balanced else "nee" }}</td></tr>
{% endfor %}</tbody></table></div>
</details>
{% endfor %}
<p><strong>Samenstelling over de tijd</strong> (§7.2.2: „dat de samenstelling van beide groepen constant is over de
tijd”; gemeld, niet blokkerend): {% if drift %}niveaus die in een jaar meer dan {{ smd }} SMD van de samenstelling over
de hele periode afliggen:</p>
<ul class="drift">{% for d in drift %}<li>{{ d }}</li>{% endfor %}</ul>
{% else %}elk gewogen niveau ligt in elk jaar binnen {{ smd }} SMD van de samenstelling over de hele periode.</p>
{% endif %}
{% else %}
<p>Voor dit datawarehouse is er geen tabel met gewichten (<code>core/propensity_weights</code>): er zijn geen gewogen
cijfers, en het weegmodel en de evenredigheidscontrole ontbreken hier.</p>
{% endif %}

<h3 id="correctie-modellen">Modeluitkomsten{% if year %} {{ year }}{% endif %}</h3>
{% if results %}
<p>Per indicator en maatstaf het ongecorrigeerde verschil uit de tabel, het met het model gecorrigeerde verschil en zijn
standaardfout; alleen gepubliceerde cellen. Verschillen in procentpunt bij percentages, anders in de eenheid van de
indicator.</p>
<div class="table-wrap"><table class="models">
<caption>Verschil niet-westers min geen migratieachtergrond in {{ year }}, ongecorrigeerd en gecorrigeerd voor leeftijd, geslacht en opleidingsniveau</caption>
<thead><tr><th scope="col">Indicator</th><th scope="col">Eenheid</th><th scope="col" class="num">Ongecorrigeerd verschil</th>
<th scope="col" class="num">Gecorrigeerd verschil</th><th scope="col" class="num">Standaardfout</th><th scope="col">Model</th></tr></thead>
<tbody>{% for r in results %}<tr><td><a href="indicator/{{ r.id }}.html">{{ r.id }}</a> {{ r.title }}{% if r.label %} ({{ r.label }}){% endif %}</td>
<td>{{ r.unit }}</td><td class="num">{{ r.raw }}</td><td class="num">{{ r.gap }}</td><td class="num">{{ r.se }}</td>
<td>{{ r.model }}{% if r.converged == false %} <span class="fail">niet geconvergeerd</span>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
<details><summary>Coëfficiënten van de modellen ({{ year }})</summary>
<p>Per model de constante, het effect van de basisgroep en de kenmerken (niveau tegen het eerste niveau); bij
percentages op de logitschaal, anders in de eenheid van de indicator. × = een niveau met minder dan 10 personen in
een van de groepen: niet gepubliceerd.</p>
{% for r in results %}{% if r.coefficients %}
<div class="table-wrap"><table class="coefficients">
<caption>{{ r.id }} {{ r.title }}{% if r.label %} ({{ r.label }}){% endif %}: {{ r.model }}</caption>
<thead><tr><th scope="col">Term</th><th scope="col" class="num">Coëfficiënt</th><th scope="col" class="num">Standaardfout</th></tr></thead>
<tbody>{% for c in r.coefficients %}<tr><td>{{ c.term }}</td><td class="num">{{ c.coef }}</td><td class="num">{{ c.se }}</td></tr>
{% endfor %}</tbody></table></div>
{% endif %}{% endfor %}
</details>
<p class="meta">{{ MISSING }} bij het ongecorrigeerde verschil: een van de twee cellen is niet gepubliceerd; bij de
standaardfout: het model is bij het maken van deze publicatie niet opnieuw geschat (geen cellen in het datawarehouse).</p>
{% else %}
<p>Er zijn geen gepubliceerde modeluitkomsten.</p>
{% endif %}
"""


def report_section(table: pl.DataFrame, corrections: pl.DataFrame | None, warehouse: Path | str | None,
                   weights: pl.DataFrame | None = None) -> str:
    """The technical report's section ("" when the table has no corrected rows).  ``weights``: the table of
    ``core/propensity_weights``; read from ``warehouse`` when not given."""
    if not _has_corrections(corrections):
        return ""
    from monitor_dagster.corrections.propensity import ALPHA, SMD_THRESHOLD

    weights = weights if weights is not None else load_weights(warehouse)
    prop, balance_years, drift = None, [], []
    if weights is not None and weights.height and weights["group"].n_unique() == 2:
        prop = propensity_context(weights)
        balance_years, drift = balance_context(weights)
    year, results = model_results(table, corrections, warehouse)
    return _env().from_string(REPORT_TEMPLATE).render(
        caveat=CAVEAT, prop=prop, balance=balance_years, drift=drift, year=year, results=results,
        smd=number(SMD_THRESHOLD, 1), alpha=number(ALPHA, 2))


def add_to_report(html: str, table: pl.DataFrame, corrections: pl.DataFrame | None,
                  warehouse: Path | str | None) -> str:
    return insert_before(html, REPORT_MARKER, report_section(table, corrections, warehouse))
