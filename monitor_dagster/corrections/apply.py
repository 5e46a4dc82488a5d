"""Corrected rows of the indicator table (technisch rapport Monitor gelijke kansen, §7.2.2 a and b; issue 17).

Input: the covariate cells of the corrected families (rows ``correctie == "cel"`` of their tables,
indicators/table.py: per indicator, year, group, covariate cell and measure the persons ``n``, the mean
``value`` and the mean of the squared value ``value_sq``) and the weights of ``core/propensity_weights``.

* ``gewogen`` (§7.2.2 a, "de groepen die worden vergeleken te wegen naar persoonskenmerken"): the basisgroep
  and the referentiegroep, each weighted to the composition of the basisgroep over the whole period; for the
  totaal and the breakdowns the characteristics determine (leeftijd, geslacht, opleiding);
* ``model`` (§7.2.2 b, "de persoonskenmerken mee te nemen als verklarende variabelen"): the gap basisgroep minus
  referentiegroep adjusted for the characteristics, from a GLM on the cells with the group and the
  characteristics as explanatory variables: for a share a logistic model (binomial counts per cell: exactly the
  person-level fit) and its average marginal effect over the basisgroep in percentage points; for a mean a
  linear model (weighted least squares on the cell means with the residual variance from the within-cell sums
  of squares: exactly person-level OLS).  Published only when both groups have at least MIN_GROUP persons.

Both are computed from cells, never from persons, so their cost does not grow with the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from monitor_dagster.core.exact import settled
from monitor_dagster.corrections.propensity import (ALL, BASIS_LABEL, COVARIATES, REFERENTIE_LABEL, UNKNOWN, design,
                                                    fit_quietly, fit_weights, split_key)
from monitor_dagster.indicators.table import CEL, COLUMNS, CORRECTIE, DIMENSIONS, FIXED, SCHEMA, TOTAAL, _fixed

GEWOGEN, MODEL = "gewogen", "model"
#: standard error of the group coefficient (logit scale) above which a fit is taken as quasi-separated
MAX_LOGIT_SE = 5.0
#: the unit of a model-adjusted gap of a share
PROCENTPUNT = "procentpunt"
#: both groups need this many persons for a model row (the gate's threshold, so no coefficient rests on a
#: group smaller than a publishable cell)
MIN_GROUP = 10
#: breakdown dimension of the table -> covariate it is read from (the others exist for totaal only)
DIMENSION_OF = {"leeftijd": "leeftijdsklasse", "geslacht": "geslacht", "opleiding": "opleidingsniveau"}
_LEEFTIJD = {"15-19": "jongeren", "20-26": "jongeren"}


def cell_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The covariate cells of a family table (``correctie == "cel"``) with the group and the covariates split
    out of the key."""
    if CORRECTIE not in table.columns or "covariaten" not in table.columns:
        return pl.DataFrame()
    cells = table.filter(pl.col(CORRECTIE) == CEL)
    return cells.with_columns(
        pl.when(pl.col("herkomst") == BASIS_LABEL).then(pl.lit("basis")).otherwise(pl.lit("referentie")).alias("group"),
        *split_key())


def weighted_cells(cells: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """Cells with their weight (``w``): the weight of the group, year and covariate cell; 1 for a cell the
    weighting population has no weight for (age class ``onbekend``: outside the age groups), so the weighted
    rows count the same persons as the uncorrected ones.  Years the weights were not fitted on are left out."""
    fitted = weights.select("year").unique()
    return (cells.join(fitted, on="year", how="semi")     # a year the weights do not cover: no gewogen rows
            .join(weights.select("year", "group", "covariaten", pl.col("weight").alias("w")),
                  on=["year", "group", "covariaten"], how="left", maintain_order="left")
            .with_columns(pl.col("w").fill_null(1.0)))


def own_weights(cells: pl.DataFrame) -> pl.DataFrame:
    """Weights fitted on an indicator's own cells over all years, for the families corrected for fewer
    characteristics (specs.yaml ``corrected_covariates``; report 7.2.2 on 4a/4b: sex): the same model as
    ``core/propensity_weights`` (propensity.fit_weights), on the indicator's population instead of that of
    research question 3.  Per indicator (a category indicator: its categories together) and measure."""
    out = []
    unit = cells.with_columns(pl.when(pl.col("_share")).then(None).otherwise(pl.col("measure")).alias("_m"))
    for (iid, m), part in unit.group_by("indicator_id", "_m", maintain_order=True):
        persons = (part.group_by("year", "group", "covariaten", *COVARIATES).agg(pl.col("n").sum())
                   .sort("year", "group", "covariaten"))
        if persons["group"].n_unique() < 2:
            continue
        try:
            w = fit_weights(persons).weights
        except (ValueError, np.linalg.LinAlgError):
            continue
        out.append(w.select(pl.lit(iid).alias("indicator_id"), pl.lit(m, dtype=pl.String).alias("_m"),
                            "year", "group", "covariaten", "weight"))
    return pl.concat(out) if out else pl.DataFrame(schema={"indicator_id": pl.String, "_m": pl.String,
                                                           "year": pl.Int32, "group": pl.String,
                                                           "covariaten": pl.String, "weight": pl.Float64})


def _own_weighted_cells(cells: pl.DataFrame) -> pl.DataFrame:
    w = own_weights(cells)
    return (cells.with_columns(pl.when(pl.col("_share")).then(None).otherwise(pl.col("measure")).alias("_m"))
            .join(w.rename({"weight": "w"}), on=["indicator_id", "_m", "year", "group", "covariaten"], how="inner",
                  nulls_equal=True, maintain_order="left")
            .drop("_m"))


def _weighted(cells: pl.DataFrame) -> pl.DataFrame:
    """The ``gewogen`` rows: per indicator, year, herkomst, breakdown and measure the weighted mean (a share's
    categories: the weighted share of the cell).  The weighted sums are fixed-point integers like the partial
    cells' (indicators/table.py), so the order in which they are added cannot change a published value."""
    out = []
    base = cells.with_columns(
        pl.when(pl.col("leeftijdsklasse").is_in([UNKNOWN, ALL])).then(None)
        .otherwise(pl.col("leeftijdsklasse").replace_strict(_LEEFTIJD, default="niet-jongeren")).alias("_leeftijd"),
        (pl.col("value") / pl.when(pl.col("unit") == "%").then(100.0).otherwise(1.0)).alias("_v"))
    source = {"leeftijd": "_leeftijd", "geslacht": "geslacht", "opleiding": "opleidingsniveau"}
    keys = ["indicator_id", "year", "herkomst", "unit", "status", "vintages", "measure"]
    for dim in [TOTAAL, *DIMENSION_OF]:
        # like the uncorrected rows: a person without an age group is in the totaal and the other breakdowns
        src = base if dim == TOTAAL else base.filter(pl.col(source[dim]).is_not_null() & (pl.col(source[dim]) != ALL))
        by = keys + ([source[dim]] if dim != TOTAAL else [])
        # category rows (adds-to-100 indicators): n is the persons in the category; a share's value is
        # its weighted persons over the weighted persons of all categories of the cell
        g = (src.group_by(by + ["_share"])
             .agg(pl.col("n").sum(), _fixed(pl.col("n_weighted") * pl.col("w")).sum().alias("nw"),
                  _fixed(pl.col("n_weighted") * pl.col("w") * pl.col("_v")).sum().alias("nwv")))
        cell_keys = [k for k in by if k != "measure"]
        scale = pl.when(pl.col("unit") == "%").then(100.0).otherwise(1.0)
        value = (pl.when(pl.col("_share")).then(pl.col("nw") / pl.col("nw").sum().over(cell_keys))
                 .otherwise(pl.col("nwv") / pl.col("nw")).cast(pl.Float64) * scale)
        dims = {d: pl.lit(TOTAAL) for d in DIMENSIONS if d != "herkomst"}
        if dim != TOTAAL:
            dims[dim] = pl.col(source[dim])
        out.append(g.select(
            "indicator_id", "year", "herkomst", *[e.alias(d) for d, e in dims.items()],
            pl.lit(GEWOGEN).alias(CORRECTIE), "measure", value.alias("value"), "unit",
            pl.col("n").cast(pl.Int64), (pl.col("nw") / FIXED).cast(pl.Float64).alias("n_weighted"), "status",
            pl.lit(False).alias("suppressed"), pl.lit(None, dtype=pl.String).alias("trend_break"), "vintages"))
    return pl.concat(out, how="vertical").select(COLUMNS)


@dataclass
class GapModel:
    """One model-adjusted gap: what the table publishes and what the technical report prints."""
    indicator_id: str
    year: int
    measure: str
    unit: str
    gap: float
    se: float
    raw_gap: float
    n_basis: int
    n_referentie: int
    n_weighted: float           # both groups' persons (EBB: survey-weighted)
    family: str                 # logit | ols
    converged: bool
    coefficients: pl.DataFrame  # term, coef, se, publishable (the level has MIN_GROUP persons in both groups)


def _is_share(c: pl.DataFrame) -> bool:
    return bool(c["_share"].any())


def fit_gap(cells: pl.DataFrame) -> GapModel | None:
    """The adjusted gap of one indicator, year and measure from its covariate cells (both groups)."""
    # the GLM module, not statsmodels.api (which imports every model: 0.6 s more per process)
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    c = cells.sort("group", "covariaten")
    nb = int(c.filter(pl.col("group") == "basis")["n"].sum())
    nr = int(c.filter(pl.col("group") == "referentie")["n"].sum())
    if nb < MIN_GROUP or nr < MIN_GROUP or _is_share(c):
        return None
    if c["unit"][0] == "%":
        # a group in which everybody (or nobody) has the outcome separates the logit: no finite gap
        ev = c.group_by("group").agg((pl.col("n_weighted") * pl.col("value") / 100).sum().round(6).alias("e"),
                                     pl.col("n_weighted").sum().alias("n"))
        if ev.filter((pl.col("e") <= 0) | (pl.col("e") >= pl.col("n"))).height:
            return None
    row = c.row(0, named=True)
    pct = row["unit"] == "%"
    # the mass of a cell: its persons, or for the EBB its survey-weighted persons (n_weighted = n otherwise);
    # with survey weights the standard errors are model-based, not design-based (docs/corrections.md)
    n = c["n_weighted"].to_numpy().astype(float)
    persons = float(c["n"].sum())
    y = c["value"].to_numpy() / (100.0 if pct else 1.0)
    xc, names, _ = design(c, COVARIATES)
    basis = (c["group"] == "basis").to_numpy().astype(float)
    x = np.column_stack([xc[:, :1], basis, xc[:, 1:]])
    names = [names[0], "basisgroep", *names[1:]]
    # drop columns without variation (a level absent from both groups) so the design has full rank
    keep = [0] + [j for j in range(1, x.shape[1]) if x[:, j].std() > 0]
    x, names = x[:, keep], [names[j] for j in keep]
    raw = float(np.average(y[basis == 1], weights=n[basis == 1]) - np.average(y[basis == 0], weights=n[basis == 0]))
    if pct:
        succ = y * n                 # register: whole persons; EBB: survey-weighted persons
        res = fit_quietly(GLM(np.column_stack([succ, n - succ]), x, family=families.Binomial()))   # judged below
        x1, x0 = x.copy(), x.copy()
        x1[:, 1], x0[:, 1] = 1.0, 0.0
        p1, p0 = res.predict(x1), res.predict(x0)
        wb = n * basis
        gap = float(np.sum(wb * (p1 - p0)) / wb.sum())
        # delta method for the average marginal effect over the basisgroep
        d1 = (p1 * (1 - p1))[:, None] * x1
        d0 = (p0 * (1 - p0))[:, None] * x0
        grad = (wb[:, None] * (d1 - d0)).sum(axis=0) / wb.sum()
        se = float(np.sqrt(grad @ res.cov_params() @ grad))
        fam = "logit"
    else:
        # weighted least squares on the cell means; the person-level residual variance adds the within-cell
        # sums of squares (n * (mean of squares - square of mean)), so point estimates and standard errors are
        # those of person-level OLS
        mod = GLM(y, x, family=families.Gaussian(), var_weights=n)
        first = mod.fit()
        within = float(np.sum(n * np.maximum(c["value_sq"].to_numpy() - y ** 2, 0.0)))
        between = float(np.sum(n * (y - first.fittedvalues) ** 2))
        dof = persons - x.shape[1]
        res = mod.fit(scale=(within + between) / dof if dof > 0 else 1.0)
        gap, se, fam = float(res.params[1]), float(res.bse[1]), "ols"
    if not (res.converged and np.isfinite(gap) and np.isfinite(se)) or (pct and float(res.bse[1]) > MAX_LOGIT_SE):
        return None           # quasi-separation (a covariate cell with only events or none): not publishable
    scale = 100.0 if pct else 1.0
    # a coefficient is publishable only when its level has MIN_GROUP persons in both groups (issue 17: model
    # outputs only from cells that pass the gate); the constant and the group effect rest on both groups whole
    persons_n = c["n"].to_numpy().astype(float)
    publishable = []
    for j, nm in enumerate(names):
        if j < 2:
            publishable.append(True)
            continue
        level = x[:, j] > 0
        publishable.append(min(persons_n[level & (basis == 1)].sum(), persons_n[level & (basis == 0)].sum()) >= MIN_GROUP)
    coef = pl.DataFrame({"term": names, "coef": np.asarray(res.params), "se": np.asarray(res.bse),
                         "publishable": publishable})
    return GapModel(row["indicator_id"], int(row["year"]), row["measure"], PROCENTPUNT if pct else row["unit"],
                    gap * scale, se * scale, raw * scale, nb, nr, float(n.sum()), fam, bool(res.converged), coef)


def _model_rows(cells: pl.DataFrame) -> tuple[pl.DataFrame, list[GapModel]]:
    """A model row for every indicator, year and measure that has one (not the category indicators): the
    fitted gap, or a suppressed row where no gap can be fitted (a group under MIN_GROUP persons, separation),
    so that the cells of the table do not depend on the data (more persons would not add a row)."""
    models, rows = [], []
    for (iid, year, measure), part in cells.group_by("indicator_id", "year", "measure", maintain_order=True):
        if _is_share(part):
            continue
        m = fit_gap(part)
        pct = part["unit"][0] == "%"
        if m is not None:
            models.append(m)
        rows.append({"indicator_id": iid, "year": year, "measure": measure,
                     "unit": PROCENTPUNT if pct else part["unit"][0],
                     # settled: a GLM's estimate, the same bytes with any threads or CPU (core/exact.py)
                     "value": settled(m.gap) if m else None, "n": m.n_basis + m.n_referentie if m else None,
                     "n_weighted": m.n_weighted if m else None, "suppressed": m is None,
                     "status": part["status"][0], "vintages": part["vintages"][0]})
    if not rows:
        return pl.DataFrame(schema=SCHEMA), models
    out = pl.DataFrame(rows, schema_overrides={"year": pl.Int32, "value": pl.Float64, "n": pl.Int64,
                                               "n_weighted": pl.Float64})
    out = out.with_columns(
        pl.lit(BASIS_LABEL).alias("herkomst"), *[pl.lit(TOTAAL).alias(d) for d in DIMENSIONS if d != "herkomst"],
        pl.lit(MODEL).alias(CORRECTIE), pl.lit(None, dtype=pl.String).alias("trend_break"))
    return out.select(COLUMNS).cast(SCHEMA), models


def corrected(tables: list[pl.DataFrame], weights: pl.DataFrame | None) -> tuple[pl.DataFrame, list[GapModel]]:
    """The ``gewogen`` and ``model`` rows of the indicator table from the family tables' covariate cells, and
    the fitted gap models (for the technical report).  Without weights (``core/propensity_weights`` not built)
    only the model rows, which need none."""
    cells = [cell_rows(t) for t in tables]
    cells = [c for c in cells if c.height]
    if not cells:
        return pl.DataFrame(schema=SCHEMA), []
    cells = pl.concat(cells, how="vertical_relaxed")
    # a category indicator (adds to 100) has no mean of squares: its values are shares of the cell
    cells = cells.with_columns(pl.col("value_sq").is_null().alias("_share"))
    parts = []
    own = pl.col("covariaten").str.contains(ALL, literal=True)      # corrected for fewer characteristics
    if weights is not None and weights.height and cells.filter(~own).height:
        parts.append(_weighted(weighted_cells(cells.filter(~own), weights)))
    if cells.filter(own).height:
        fitted = _own_weighted_cells(cells.filter(own))
        if fitted.height:
            parts.append(_weighted(fitted))
    model_rows, models = _model_rows(cells)
    parts.append(model_rows)
    rows = pl.concat([p for p in parts if p.height] or [pl.DataFrame(schema=SCHEMA)], how="vertical")
    # a fixed order (group-bys return rows in any order): the same inputs give the same bytes (issue 15)
    return rows.sort(["indicator_id", "year", CORRECTIE, *DIMENSIONS, "measure"]), models


def models_table(models: list[GapModel]) -> pl.DataFrame:
    """The fitted gap models as a table for the technical report (no persons, only estimates and group sizes)."""
    return pl.DataFrame({
        "indicator_id": [m.indicator_id for m in models], "year": [m.year for m in models],
        "measure": [m.measure for m in models], "unit": [m.unit for m in models],
        "ruw_verschil": [m.raw_gap for m in models], "gecorrigeerd_verschil": [m.gap for m in models],
        "se": [m.se for m in models], "n_basis": [m.n_basis for m in models],
        "n_referentie": [m.n_referentie for m in models], "model": [m.family for m in models],
        "converged": [m.converged for m in models],
    }, schema_overrides={"year": pl.Int32})


def computed_breakdowns(corrected_rows: pl.DataFrame, uncorrected: pl.DataFrame) -> pl.DataFrame:
    """The corrected rows without a breakdown the uncorrected rows of the indicator and year do not have: a
    breakdown whose file is absent is not computable (readiness.py), and the corrected rows must not fill it
    in from the covariate cells (e.g. opleiding ``onbekend`` for everybody without HOOGSTEOPLTAB)."""
    if corrected_rows.height == 0:
        return corrected_rows
    keep = pl.lit(True)
    for dim in DIMENSION_OF:
        has = (uncorrected.filter(pl.col(dim) != TOTAAL).select("indicator_id", "year").unique()
               .with_columns(pl.lit(True).alias(f"_has_{dim}")))
        corrected_rows = corrected_rows.join(has, on=["indicator_id", "year"], how="left", maintain_order="left")
        keep = keep & ((pl.col(dim) == TOTAAL) | pl.col(f"_has_{dim}").fill_null(False))
    return corrected_rows.filter(keep).select(COLUMNS)


def gate(table: pl.DataFrame) -> pl.DataFrame:
    """The disclosure gate over uncorrected and corrected rows together.  A ``gewogen`` row describes the same
    persons as its uncorrected twin (same indicator, year, herkomst, breakdown and measure): it is hidden when
    the twin is; a ``model`` row when the uncorrected total of either group is; then the gate runs again so that
    no hidden corrected cell follows from its shown neighbours."""
    from monitor_dagster.gates.disclosure import apply_disclosure

    t = apply_disclosure(table)
    # a model gap rests on both groups' totals: hidden when either uncorrected total is
    tot = pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS if d != "herkomst")
    gone = (t.filter((pl.col(CORRECTIE) == "geen") & tot & pl.col("suppressed")
                     & pl.col("herkomst").is_in([BASIS_LABEL, REFERENTIE_LABEL]))
            .select("indicator_id", "year", "measure").unique().with_columns(pl.lit(True).alias("_gone")))
    if gone.height and t.filter(pl.col(CORRECTIE) == MODEL).height:
        t = t.join(gone, on=["indicator_id", "year", "measure"], how="left")
        hide = (pl.col(CORRECTIE) == MODEL) & pl.col("_gone").fill_null(False)
        t = t.with_columns(
            pl.when(hide & ~pl.col("suppressed")).then(pl.lit("uncorrected_twin"))
            .otherwise(pl.col("suppression_reason")).alias("suppression_reason"),
            (pl.col("suppressed") | hide).alias("suppressed"),
            *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ("value", "n", "n_weighted")],
        ).drop("_gone")
    twin = ["indicator_id", "year", *DIMENSIONS, "measure"]
    hidden = t.filter((pl.col(CORRECTIE) == "geen") & pl.col("suppressed")).select(twin).unique()
    if hidden.height == 0 or t.filter(pl.col(CORRECTIE) == GEWOGEN).height == 0:
        return t
    t = t.join(hidden.with_columns(pl.lit(True).alias("_hide")), on=twin, how="left")
    hide = (pl.col(CORRECTIE) == GEWOGEN) & pl.col("_hide").fill_null(False)
    t = t.with_columns(
        (pl.col("suppressed") | hide).alias("suppressed"),
        pl.when(hide & ~pl.col("suppressed")).then(pl.lit("uncorrected_twin"))
        .otherwise(pl.col("suppression_reason")).alias("suppression_reason"),
        *[pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ("value", "n", "n_weighted")],
    ).drop("_hide")
    return apply_disclosure(t)
