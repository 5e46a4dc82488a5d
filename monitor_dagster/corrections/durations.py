"""The published duration results (technisch rapport Monitor gelijke kansen, §7.2.2; issue 17): curves per group
and the group's hazard ratio, from the duration cells of the families (rows ``correctie == "duur"``).

* **curves**: per indicator, year, measure, herkomst (niet-westers, geen migratieachtergrond) and cause the
  cumulative incidence by month ("aandeel met een baan binnen m maanden"; for one cause 1 - Kaplan-Meier, for
  several the Aalen-Johansen estimate), uncorrected (``geen``) and with the propensity weights (``gewogen``);
* **hazards**: the hazard ratio basisgroep / referentiegroep of a cause from a discrete-time proportional
  hazards model (complementary log-log) with the background characteristics as explanatory variables,
  weighted (``model``; person-clustered robust errors) and, for comparison, without weights or characteristics
  (``geen``).

Disclosure: a curve is published at months of :data:`GRID` only; a point is shown when at least
:data:`MIN_PERSONS` persons are still at risk there and every cause has none or at least MIN_PERSONS events
since the previous shown point (so no count of 1-9 persons follows from two points); the weighted curve shows
the same points as the uncorrected one.  A hazard ratio needs MIN_PERSONS persons and events in each group.
"""

from __future__ import annotations

import logging
import warnings

import polars as pl

from monitor_dagster.core.exact import settled
from monitor_dagster.corrections import duration as DUR
from monitor_dagster.corrections.propensity import BASIS_LABEL, COVARIATES, REFERENTIE_LABEL, split_key
from monitor_dagster.indicators.table import CORRECTIE, DUUR

log = logging.getLogger(__name__)

#: months at which a curve is published
GRID = (1, 3, 6, 12, 18, 24, 36)
MIN_PERSONS = 10
CURVE_SCHEMA = {"indicator_id": pl.String, "year": pl.Int32, "measure": pl.String, "herkomst": pl.String,
                CORRECTIE: pl.String, "oorzaak": pl.String, "maand": pl.Int64, "value": pl.Float64,
                "n": pl.Int64, "status": pl.String, "suppressed": pl.Boolean}
HAZARD_SCHEMA = {"indicator_id": pl.String, "year": pl.Int32, "measure": pl.String, "oorzaak": pl.String,
                 CORRECTIE: pl.String, "hazard_ratio": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                 "n_basis": pl.Int64, "n_referentie": pl.Int64, "events_basis": pl.Int64,
                 "events_referentie": pl.Int64, "converged": pl.Boolean, "status": pl.String,
                 "suppressed": pl.Boolean}


def duration_cells(tables: list[pl.DataFrame], weights: pl.DataFrame | None) -> pl.DataFrame:
    """The duration cells of the family tables in the schema of ``corrections.duration`` (group, covariates,
    duration, cause, count, weight) with indicator, year, measure and status."""
    parts = [t.filter(pl.col(CORRECTIE) == DUUR) for t in tables if CORRECTIE in t.columns and t.height]
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame()
    d = pl.concat(parts, how="vertical_relaxed")
    key = pl.col("covariaten").str.split("|")
    d = d.select(
        "indicator_id", "year", "measure", "status",
        pl.when(pl.col("herkomst") == BASIS_LABEL).then(pl.lit(DUR.BASIS)).otherwise(pl.lit(DUR.REFERENTIE)).alias("group"),
        pl.concat_str([key.list.get(0), key.list.get(1), key.list.get(2)], separator="|").alias("covariaten"),
        key.list.get(3).cast(pl.Int64).alias("duration"),
        key.list.get(4).replace("", None).alias("cause"), pl.col("n").alias("count"))
    d = d.with_columns(*split_key())
    if weights is not None and weights.height:
        d = d.join(weights.select("year", "group", "covariaten", "weight"), on=["year", "group", "covariaten"],
                   how="left").with_columns(pl.col("weight").fill_null(1.0))
    else:
        d = d.with_columns(pl.lit(1.0).alias("weight"))
    # a fixed order (joins and group-bys return rows in any order): the same inputs give the same fits and bytes
    return d.sort("indicator_id", "year", "measure", "group", "covariaten", "duration", "cause", nulls_last=True)


def _shown_months(inc: pl.DataFrame) -> set[int]:
    """The grid months a curve may show (unweighted counts; module docstring)."""
    shown, since = set(), {}
    at_risk = dict(inc.group_by("period").agg(pl.col("at_risk").first()).iter_rows())
    events = inc.group_by("period", "cause").agg(pl.col("events").sum())
    by_month: dict[int, dict[str, int]] = {}
    for m, c, e in events.iter_rows():
        by_month.setdefault(m, {})[c] = e
    for m in range(1, max(GRID) + 1):
        for c, e in by_month.get(m, {}).items():
            since[c] = since.get(c, 0) + e
        if m in GRID:
            ok = at_risk.get(m, 0) >= MIN_PERSONS and all(v == 0 or v >= MIN_PERSONS for v in since.values())
            if ok:
                shown.add(m)
                since = {}
    return shown


def curves(cells: pl.DataFrame) -> pl.DataFrame:
    """Cumulative incidence per group and cause at the grid months, geen and gewogen, gated."""
    out = []
    for (iid, year, measure), part in cells.group_by("indicator_id", "year", "measure", maintain_order=True):
        status = part["status"][0]
        for group, label in ((DUR.BASIS, BASIS_LABEL), (DUR.REFERENTIE, REFERENTIE_LABEL)):
            g = part.filter(pl.col("group") == group)
            n = int(g["count"].sum())
            if n == 0:
                continue
            raw = DUR.cumulative_incidence(g, by=("group",), weights=False)
            shown = _shown_months(raw) if n >= MIN_PERSONS else set()
            for corr, weighted in (("geen", False), ("gewogen", True)):
                inc = raw if not weighted else DUR.cumulative_incidence(g, by=("group",), weights=True)
                # the last month observed carries on (a curve is flat after its last event); a group without
                # any event has only rows of cause null (censored): no curve, as in hazards()
                for cause in sorted(inc["cause"].drop_nulls().unique().to_list()):
                    ci = inc.filter(pl.col("cause") == cause).sort("period")
                    for m in GRID:
                        upto = ci.filter(pl.col("period") <= m)
                        if upto.height == 0 or m > int(ci["period"].max()):
                            continue
                        ok = m in shown
                        out.append({"indicator_id": iid, "year": year, "measure": measure, "herkomst": label,
                                    CORRECTIE: corr, "oorzaak": cause, "maand": m,
                                    "value": 100.0 * float(upto["cumulative_incidence"][-1]) if ok else None,
                                    "n": n if ok else None, "status": status, "suppressed": not ok})
    return pl.DataFrame(out, schema=CURVE_SCHEMA) if out else pl.DataFrame(schema=CURVE_SCHEMA)


def hazards(cells: pl.DataFrame) -> pl.DataFrame:
    """Hazard ratio basisgroep / referentiegroep per indicator, year, measure and cause: ``geen`` (no weights,
    no characteristics) and ``model`` (weighted, characteristics as explanatory variables, robust errors)."""
    out = []
    for (iid, year, measure), part in cells.group_by("indicator_id", "year", "measure", maintain_order=True):
        status = part["status"][0]
        for cause in sorted(part["cause"].drop_nulls().unique().to_list()):
            per = {g: part.filter(pl.col("group") == g) for g in (DUR.BASIS, DUR.REFERENTIE)}
            n = {g: int(p["count"].sum()) for g, p in per.items()}
            ev = {g: int(p.filter(pl.col("cause") == cause)["count"].sum()) for g, p in per.items()}
            ok = min(n.values()) >= MIN_PERSONS and min(ev.values()) >= MIN_PERSONS
            for corr, covs, weighted in (("geen", [], False), ("model", list(COVARIATES), True)):
                fit = None
                if ok:
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            fit = DUR.fit_hazard(part, covs, cause=cause, period="piecewise", weights=weighted,
                                                 cov_type="robust")
                    except Exception as err:   # sparse cells, a singular design: no fit, said once
                        log.info(f"duration model {iid} {year} {measure} {cause} ({corr}): {err}")
                show = fit is not None and fit.converged and fit.group_hazard_ratio is not None
                out.append({"indicator_id": iid, "year": year, "measure": measure, "oorzaak": cause, CORRECTIE: corr,
                            # settled: the same cells give the same bytes on any machine (core/exact.py)
                            "hazard_ratio": settled(fit.group_hazard_ratio) if show else None,
                            "ci_low": settled(fit.group_ci[0]) if show else None,
                            "ci_high": settled(fit.group_ci[1]) if show else None,
                            "n_basis": n[DUR.BASIS] if show else None, "n_referentie": n[DUR.REFERENTIE] if show else None,
                            "events_basis": ev[DUR.BASIS] if show else None,
                            "events_referentie": ev[DUR.REFERENTIE] if show else None,
                            "converged": bool(fit.converged) if fit is not None else False,
                            "status": status, "suppressed": not show})
    return pl.DataFrame(out, schema=HAZARD_SCHEMA) if out else pl.DataFrame(schema=HAZARD_SCHEMA)


def results(tables: list[pl.DataFrame], weights: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(curves, hazards) of every duration in the family tables."""
    cells = duration_cells(tables, weights)
    if cells.height == 0:
        return pl.DataFrame(schema=CURVE_SCHEMA), pl.DataFrame(schema=HAZARD_SCHEMA)
    return curves(cells), hazards(cells)


#: the cell of the indicator table over the same persons as a curve, its cohort (all breakdowns totaal, herkomst
#: niet-westers or geen migratieachtergrond): a curve's n is that cell's n (equal in every cell of the demo
#: warehouse, December 2026): (indicator, curve measure) -> the table's measure.  O31's curve ("uit werk") starts
#: with the persons at work, O31's (and O27's) cell "werk": until December 2026 it was missing here, so a hidden
#: cohort cell of O31 would have left its curve and hazard ratio shown (an audit found it on a gated table where
#: that cell is hidden; the demo never hid it)
COHORT_CELL = {("O25", "werk"): "werk", ("O27", "baanverlies"): "werk", ("O29", "tijdelijk naar vast"): "zelfde werkgever",
               ("O31", "uit werk"): "werk",
               ("O38", "na WW"): "na WW direct", ("O38", "na bijstand"): "na bijstand direct"}
#: the groups a hazard ratio compares (corrections/duration.py: basis and referentie): only their hidden cohort
#: cells hide it, not a hidden single-country cell (which hid every O27 hazard ratio of the demo)
HAZARD_GROUPS = (BASIS_LABEL, REFERENTIE_LABEL)


def hide_with_cohort(durations: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The duration results with every curve (all points, geen and gewogen) hidden whose cohort cell is hidden in
    the gated indicator table, and every hazard ratio of which either group's cohort cell is: a shown curve
    publishes its n, and with it the hidden cell's count (linked cells, docs/disclosure.md)."""
    if durations.height == 0 or table.height == 0:
        return durations
    from monitor_dagster.indicators.table import hidden_totals

    cohort = pl.DataFrame([(i, m, tm) for (i, m), tm in COHORT_CELL.items()],
                          schema={"indicator_id": pl.String, "measure": pl.String, "_tm": pl.String}, orient="row")
    hidden = hidden_totals(table).rename({"measure": "_tm"})
    gone = cohort.join(hidden, on=["indicator_id", "_tm"]).select("indicator_id", "year", "measure", "herkomst")
    if gone.height == 0:
        return durations
    curve_gone = (pl.col("kind") == "curve") & pl.struct("indicator_id", "year", "measure", "herkomst").is_in(
        gone.to_struct().implode())
    hazard_gone = (pl.col("kind") == "hazard") & pl.struct("indicator_id", "year", "measure").is_in(
        gone.filter(pl.col("herkomst").is_in(HAZARD_GROUPS)).select("indicator_id", "year", "measure")
        .to_struct().implode())
    hide = (curve_gone | hazard_gone) & ~pl.col("suppressed")
    nulls = [c for c in ("value", "n", "hazard_ratio", "ci_low", "ci_high", "n_basis", "n_referentie", "events_basis",
                         "events_referentie") if c in durations.columns]
    return durations.with_columns(*[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in nulls],
                                  (pl.col("suppressed") | hide).alias("suppressed"))


def combined(curves_: pl.DataFrame, hazards_: pl.DataFrame) -> pl.DataFrame:
    """Both results in one long table (the warehouse asset ``indicators/durations``): ``kind`` = curve or
    hazard, the columns of the other kind null."""
    c = curves_.with_columns(pl.lit("curve").alias("kind"))
    h = hazards_.with_columns(pl.lit("hazard").alias("kind"))
    return pl.concat([c, h], how="diagonal_relaxed")
