"""What the publication shows, derived from the gated indicator table only (report 7.3; docs/disclosure.md).

:func:`load_gated` refuses a table that fails :func:`~monitor_dagster.gates.disclosure.check_disclosure`:
nothing reaches the site that did not pass the disclosure gate.  The rest are plain functions from that
table to what the pages need: per-indicator rows for the interactive chart and table, the registered trend
breaks that touch an indicator, the headline gaps of the latest year, the factsheet rows.  No Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl
import yaml

from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.gates.disclosure import STORED_TABLE_HINT, DisclosureError, check_disclosure
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.indicators.table import (COLUMNS, CORRECTIE, DIMENSIONS, GEEN, SEPARATE, TOTAAL, breakdowns,
                                              totals, with_separate_dimensions)
from monitor_dagster.warehouse import Warehouse, WarehouseMissing

#: the three groups of the report's comparison, shown by default (report 2.2)
DEFAULT_GROUPS = ["niet-westers", "westers", "geen migratieachtergrond"]
BASE, REFERENCE = "niet-westers", "geen migratieachtergrond"
#: breakdowns a reader can switch between (report 2.2); herkomst is always the series
BREAKDOWNS = {"herkomst": "Herkomst", "generatie": "Generatie", "verblijfsduur": "Verblijfsduur",
              "leeftijd": "Leeftijd", "geslacht": "Geslacht", "opleiding": "Opleidingsniveau", "sector": "Sector",
              "kwartaal": "Kwartaal", "randstad": "Randstad of niet", "asielstatus": "Asielstatus (migratiemotief)",
              "inkomensklasse": "Inkomensklasse"}
#: the breakdowns of the table beyond breakdowns.yaml (issue 18) an indicator page offers next to the others; the
#: regions have the map page (report 7.3: "nog veel meer uitsplitsingen"; 7.2.5 "Licht ... asielstatushouders
#: uit": until December 2026 these cells were in the CSV download only)
PAGE_SEPARATE = ("randstad", "asielstatus", "inkomensklasse")
#: the measure that stands for a multi-valued indicator on the home page and the factsheet
HEADLINE_MEASURE = {"O07": "verloonde uren", "O09": "INPPERSPRIM", "O10": "1-2",
                    # input indicators (docs/indicators_inputs.md): the consistent SRG series, WW for UWV
                    "P-a": "loonkostensubsidie", "P-b": "werkvoorziening", "P-c": "voorziening",
                    "P-d": "werkvoorziening", "P-e": "voorziening", "P-f": "werkvoorziening",
                    "U-a": "WW", "U-b": "WW", "U-c": "WW"}
#: what a page says of a hidden cell: one text for every rule.  Until December 2026 each cell said why ("minder dan
#: 10 personen" for a primary, "anders terug te rekenen" for a secondary one), and that bounded it: a primary holds
#: 1-9 persons, a secondary one at least 10, so total 11 with hidden nieuwkomer (secondary) and oudkomer (primary)
#: made them exactly 10 and 1 (an audit pinned 550 hidden demo cells so).  The technical report gives the counts
#: per rule (PRIMARY_REASONS, SECONDARY_REASONS), never per cell
PERSON_REASON = "onderdrukt (onthullingscontrole: te weinig personen, of terug te rekenen uit andere cellen)"
ORG_REASON = "onderdrukt (onthullingscontrole: te weinig organisaties, of terug te rekenen uit andere cellen)"
REASONS = {r: PERSON_REASON for r in ("primary_n", "primary_ebb", "primary_survey", "secondary", "linked",
                                      "upstream")}
#: the organisation surveys (surveys/disclosure.py): the same for organisations, not "personen"
ORG_REASONS = {r: ORG_REASON for r in (*REASONS, "dominance", "group")}
#: how the technical report counts them: primary (the cell itself is too small) and secondary (hidden so that a
#: small one cannot be derived: by subtraction from a total, or from a linked cell over the same persons)
PRIMARY_REASONS = ("primary_n", "primary_ebb", "primary_survey")
SECONDARY_REASONS = ("secondary", "linked")
GENERIC_REASON = "onderdrukt (onthullingscontrole)"
#: a value on fewer persons than this is drawn as uncertain (open point, its interval, no solid line): the
#: bound below which the trend check takes a series' moves for noise (gates/trend_breaks.check ``min_n``)
FEW_PERSONS = 100
#: the normal quantile of a two-sided 95% interval
Z95 = 1.959963984540054


class PublicationError(RuntimeError):
    """The warehouse holds nothing that can be published (no table, or a table that fails the gate)."""


@lru_cache(maxsize=1)
def registry() -> dict:
    """Titles, definitions, report paragraphs, themes (Dutch), from the indicator specs (indicators/specs.yaml)."""
    reg = SPEC.registry()
    return {"themes": dict(reg.themes),
            "indicators": {k: s.model_dump(include={"title", "theme", "question", "paragraph", "source", "kind",
                                                     "definition", "cadence", "unit"})
                           for k, s in reg.indicators.items()}}


def meta(indicator_id: str) -> dict:
    reg = registry()["indicators"]
    if indicator_id not in reg:
        raise PublicationError(f"indicator {indicator_id} is in the table but not in indicators/specs.yaml: "
                               "add its title and definition there")
    return {"id": indicator_id, **reg[indicator_id], "theme_title": registry()["themes"][reg[indicator_id]["theme"]]}


#: what the ``n`` of a cell counts, by the indicator's disclosure rule (spec ``disclosure``): the pages' column and
#: tooltip headers and their "op minder dan 100 ..." notes.  Persons only where the cells are of persons: the EBB
#: and the school-leaver survey count respondents, the organisation surveys organisations (report § 3.2.2), the
#: vacancy indicators online vacancies (hoofdstuk 6)
COUNTED = {"register": "personen", "ebb": "respondenten", "survey": "respondenten", "organisaties": "organisaties",
           "vacatures": "vacatures"}
#: the primary rule of the disclosure gate by spec ``disclosure``, for the pages' note on hidden cells (each cell's
#: own ``reason`` says which rule hid it); vacancy counts are never hidden
SUPPRESSION_RULE = {"register": "minder dan 10 personen",
                    "ebb": "minder dan 10 respondenten of minder dan 15.000 personen gewogen",
                    "survey": "minder dan 10 respondenten of minder dan 10 gediplomeerden gewogen",
                    "organisaties": "minder dan 5 organisaties, of één organisatie met meer dan de helft van het gewicht",
                    "vacatures": "geen minimum"}
#: the footer's source line of an organisation survey's pages (the base template's default is the CBS microdata of
#: the register indicators, the EBB and the school-leaver survey, all read in Remote Access)
ORGANISATION_SOURCES = "de enquête van de monitor onder {who} (technisch rapport § {paragraph})"


def counted(indicator_id: str) -> str:
    """What an indicator's ``n`` counts, plural and lower case (:data:`COUNTED`)."""
    return COUNTED[SPEC.spec(indicator_id).disclosure]


def suppression_rule(indicator_id: str) -> str:
    """The disclosure gate's primary rule of an indicator, in words (:data:`SUPPRESSION_RULE`)."""
    return SUPPRESSION_RULE[SPEC.spec(indicator_id).disclosure]


def with_sources(indicator_id: str, common: dict) -> dict:
    """The page context of an indicator's pages (indicator, map) with the footer's source line where it is not
    CBS microdata: Jobfeed for V01-V05, the monitor's own questionnaires for the organisation surveys."""
    from monitor_dagster.publication import vacancies as VAC

    rule = SPEC.spec(indicator_id).disclosure
    if rule == "vacatures":
        return {**common, "sources": VAC.SOURCES}
    if rule == "organisaties":
        from monitor_dagster.publication.surveys import instrument_of

        return {**common, "sources": ORGANISATION_SOURCES.format(who=instrument_of(indicator_id),
                                                                 paragraph=meta(indicator_id)["paragraph"])}
    return common


def stored_table(warehouse: Path | str | None, layer: str, name: str, partition: str = "all") -> pl.DataFrame | None:
    """A table the publication shows when it is there (sensitivity, weights, durations): None when there is no
    warehouse, no such table, or it is empty (an incomplete zone), never an error."""
    if warehouse is None:
        return None
    w = Warehouse(warehouse, layer=layer)
    if w.manifest(name, partition) is None:
        return None
    try:
        t = w.read(name, partition).collect()
    except WarehouseMissing:
        return None
    return t if t.height else None


def load_family(warehouse: Path | str | None, family: str, needs: str | None = None) -> pl.DataFrame | None:
    """Every stored partition of an indicator family table (``indicators/<family>``), with the columns the
    gated table drops (margins, corrected counts) for a page of its own; partitions without rows, or without
    the column ``needs``, are left out.  None without a warehouse or a partition."""
    if warehouse is None:
        return None
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="indicators")
    parts = []
    for p in w.partitions(family):
        if w.manifest(family, p) is None:
            continue
        t = w.read(family, p).collect()
        if t.height and (needs is None or needs in t.columns):
            parts.append(t)
    return pl.concat(parts, how="diagonal_relaxed") if parts else None


def load_gated(warehouse: Path | str) -> pl.DataFrame:
    """The gated indicator table of the warehouse; refuses (``DisclosureError``) one that fails the gate."""
    w = Warehouse(warehouse, layer="indicators")
    if w.manifest("indicator_table", "all") is None:
        raise PublicationError(f"no indicator table in {warehouse}: run `monitor run` (layers up to indicators) first")
    return gated(w.read("indicator_table", "all").collect(), hint=STORED_TABLE_HINT)


def gated(table: pl.DataFrame, hint: str | None = None) -> pl.DataFrame:
    problems = check_disclosure(table.drop("suppression_reason", strict=False))
    if problems:
        raise DisclosureError(problems, hint=hint)
    if "suppression_reason" not in table.columns:
        table = table.with_columns(pl.lit(None, pl.String).alias("suppression_reason"))
    if CORRECTIE not in table.columns:      # a table from before issue 17: all uncorrected
        table = table.with_columns(pl.lit(GEEN).alias(CORRECTIE))
    table = with_separate_dimensions(table)  # a table from before issue 18: not split by region
    return table.select(*COLUMNS, "suppression_reason")


def indicator_ids(table: pl.DataFrame) -> list[str]:
    """Ids in the table, outcome before input (report 7.3), then in registry order."""
    order = {k: i for i, k in enumerate(registry()["indicators"])}
    ids = sorted(set(table["indicator_id"].unique()), key=lambda i: (meta(i)["kind"] != "outcome", order.get(i, 999)))
    return ids


def breakdown_of(df: pl.DataFrame) -> pl.Expr:
    """The dimension a row is broken down by (at most one besides herkomst: breakdowns.yaml, or one of
    :data:`PAGE_SEPARATE`), else totaal."""
    dims = [d for d in DIMENSIONS if d != "herkomst"] + [d for d in PAGE_SEPARATE if d in df.columns]
    expr = pl.lit(TOTAAL)
    for d in reversed(dims):
        expr = pl.when(pl.col(d) != TOTAAL).then(pl.lit(d)).otherwise(expr)
    return expr


def wilson(value_pct: pl.Expr, n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The 95% Wilson score interval of a share (in %) on ``n`` persons, in %.

    Wilson, not p ± 1.96·SE: it stays within 0-100 and does not shrink to nothing at 0% or 100% (a share of
    0,0% on 18 persons still allows up to 17,6%).  ``n`` is the unweighted count of the cell; for the EBB
    (weighted survey) this ignores the design effect, so the interval is rather too narrow than too wide."""
    p, z2 = value_pct / 100, Z95 ** 2
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt() / denom
    return (100 * (centre - half)).clip(0, 100), (100 * (centre + half)).clip(0, 100)


def reading(df: pl.DataFrame, series: list[str]) -> pl.DataFrame:
    """How a chart draws each cell (issue 16): ``firm`` (solid line, filled point), ``link`` (part of a dotted
    segment) and the 95% interval ``lo``/``hi`` of a share.

    A value is firm when it is published, definitief and rests on at least :data:`FEW_PERSONS` persons; the
    solid line joins firm values only and breaks at any other.  An uncertain value is an open point:

    * voorlopig on enough persons (part of the year, an unfinished follow-up): a dotted segment joins it to
      its neighbours in the same ``series`` (rows ordered by year): the trend goes on, marked as not final;
    * on fewer than :data:`FEW_PERSONS` persons (voorlopig or not): no line at all, since chance alone can
      move such a value far (a 0,0% on 18 persons is no collapse); a share carries its Wilson interval.

    A suppressed cell (value null) is none of these: it stays a gap, never a zero.  The table has no
    standard error of a mean, so euro, hours and months get no interval."""
    shown = pl.col("value").is_not_null()
    enough = (pl.col("n") >= FEW_PERSONS).fill_null(False)
    firm = shown & (pl.col("status") != "voorlopig") & enough
    lo, hi = wilson(pl.col("value"), pl.col("n").cast(pl.Float64))
    share = shown & (pl.col("unit") == "%") & (pl.col("n") > 0).fill_null(False)
    out = (df.sort(*series, "year")
           .with_columns(firm.alias("firm"),
                         pl.when(share).then(lo.round(4)).alias("lo"),
                         pl.when(share).then(hi.round(4)).alias("hi"),
                         (shown & enough & (pl.col("status") == "voorlopig")).alias("_dotted")))
    near = pl.col("_dotted").shift(1).over(series).fill_null(False) | \
        pl.col("_dotted").shift(-1).over(series).fill_null(False)
    return out.with_columns((shown & enough & (pl.col("_dotted") | near)).alias("link")).drop("_dotted")


def indicator_rows(table: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    """Rows of one indicator in the compact form the indicator page embeds: year, herkomst, breakdown
    (``bd``), category (``cat``), measure, value, n, status, suppressed with its reason, trend break, and how
    the chart draws it (:func:`reading`: ``firm``, ``link``, interval ``lo``/``hi``)."""
    # the regional cells (issue 18) have a page of their own (the map); randstad, asielstatus and inkomensklasse
    # are breakdowns here like the others (each crossed with herkomst only)
    t = table.filter((pl.col("indicator_id") == indicator_id)
                     & pl.all_horizontal([pl.col(d) == TOTAAL for d in SEPARATE
                                          if d in table.columns and d not in PAGE_SEPARATE]))
    bd = breakdown_of(t)
    cat = pl.lit(TOTAAL)
    for d in [*DIMENSIONS, *PAGE_SEPARATE]:
        if d != "herkomst" and d in t.columns:
            cat = pl.when(pl.col(d) != TOTAAL).then(pl.col(d)).otherwise(cat)
    rows = (t.with_columns(bd.alias("bd"), cat.alias("cat"))
            .select(pl.col("year").cast(pl.Int32), "herkomst", "bd", "cat", "measure", "unit",
                    pl.col("value").round(4), "n", "status", "suppressed",
                    pl.when(pl.col("suppressed"))
                    .then(pl.col("suppression_reason").replace_strict(
                        ORG_REASONS if indicator_id in SPEC.organisation_indicators() else REASONS,
                        default=GENERIC_REASON))
                    .alias("reason"),
                    "trend_break"))
    return reading(rows, ["measure", "bd", "cat", "herkomst"])


def herkomst_order() -> list[str]:
    cfg = breakdowns()["herkomst"]
    return [*cfg["aggregates"], *cfg["groups"]]


def breaks_for(indicator_id: str, years: list[int], table_breaks: set[str] | None = None) -> list[dict]:
    """Registered trend breaks (indicators/trend_breaks.yaml) that touch this indicator within the years
    shown; ``dimension`` says when a break concerns one breakdown only (e.g. SOI 2021: opleiding)."""
    out = []
    lo, hi = (min(years), max(years)) if years else (0, 0)
    for b in TB.registry()["breaks"]:
        applies = b["indicators"] == ["*"] or indicator_id in b["indicators"]
        if (applies and lo < b["year"] <= hi) or (table_breaks and b["id"] in table_breaks):
            out.append({"id": b["id"], "year": int(b["year"]), "description": b.get("toelichting", b["description"]),
                        "dimension": b.get("dimension")})
    return sorted(out, key=lambda b: (b["year"], b["id"]))


def headline_measure(table: pl.DataFrame, indicator_id: str) -> str:
    ms = sorted(table.filter(pl.col("indicator_id") == indicator_id)["measure"].unique().to_list())
    want = HEADLINE_MEASURE.get(indicator_id)
    return want if want in ms else ms[0]


@dataclass
class Gap:
    indicator_id: str
    title: str
    measure: str
    n_measures: int
    unit: str
    year: int
    base: float | None           # niet-westers
    reference: float | None      # geen migratieachtergrond
    status: str
    first_year: int | None
    first_gap: float | None
    trend_breaks: list[str]

    @property
    def gap(self) -> float | None:
        return None if self.base is None or self.reference is None else self.base - self.reference

    @property
    def change(self) -> float | None:
        return None if self.gap is None or self.first_gap is None else self.gap - self.first_gap

    @property
    def gap_unit(self) -> str:
        return "procentpunt" if self.unit == "%" else self.unit


def gaps(table: pl.DataFrame, kind: str | None = "outcome") -> list[Gap]:
    """Per indicator (headline measure): niet-westers vs geen migratieachtergrond in the latest year with
    both shown, and the gap in the first year with both shown (the factsheet's "change since the first year").
    A suppressed cell gives no gap: never a zero."""
    t = totals(table).filter(pl.col("herkomst").is_in([BASE, REFERENCE]))
    out = []
    for iid in indicator_ids(table):
        m = meta(iid)
        if kind and m["kind"] != kind:
            continue
        measure = headline_measure(table, iid)
        s = t.filter((pl.col("indicator_id") == iid) & (pl.col("measure") == measure))
        wide = (s.select("year", "herkomst", "value", "status", "unit")
                .pivot(on="herkomst", index=["year", "unit"], values=["value", "status"], aggregate_function="first")
                .sort("year"))
        vb, vr = f"value_{BASE}", f"value_{REFERENCE}"
        if vb not in wide.columns or vr not in wide.columns:
            continue
        both = wide.filter(pl.col(vb).is_not_null() & pl.col(vr).is_not_null())
        last_year = int(wide["year"].max())
        last = wide.filter(pl.col("year") == last_year).row(0, named=True)
        first = both.row(0, named=True) if both.height and int(both["year"][0]) < last_year else None
        statuses = {last.get(f"status_{BASE}"), last.get(f"status_{REFERENCE}")}
        yrs = [int(y) for y in wide["year"]]
        n_measures = table.filter(pl.col("indicator_id") == iid)["measure"].n_unique()
        out.append(Gap(iid, m["title"], measure, n_measures, last["unit"], last_year, last[vb], last[vr],
                       "voorlopig" if "voorlopig" in statuses else "definitief",
                       int(first["year"]) if first else None, (first[vb] - first[vr]) if first else None,
                       [b["id"] for b in breaks_for(iid, yrs) if not b["dimension"]]))
    return out


def vintages_by_year(table: pl.DataFrame, indicator_id: str) -> list[tuple[int, str]]:
    s = table.filter(pl.col("indicator_id") == indicator_id).group_by("year").agg(pl.col("vintages").unique())
    return [(int(y), ", ".join(sorted({x for v in vs if v for x in v.split(",")})))
            for y, vs in s.sort("year").iter_rows()]
