"""Discrete-time duration models on aggregated cells (technisch rapport Monitor gelijke kansen, §7.2.2).

For research questions 4c-4g (diploma to first job, WW or bijstand to work, job retention) the report advises
a duration analysis that handles censoring (the event has not happened yet when the observation window
closes), is weighted so that basisgroep and referentiegroep are comparable, and takes background
characteristics as explanatory variables; for doorstroom and uitstroom, with several ways out, a competing
risk model.  The population is 17.5 million persons, so everything here works on *duration cells*, never
on person rows: with categorical covariates and durations in whole months the cells are sufficient
statistics for every estimator below.

The cell schema (one row per group, covariate values, duration and cause; several rows with the same key
are summed):

============  =============  ==============================================================================
column        dtype          meaning
============  =============  ==============================================================================
``group``     String         ``"basis"``, ``"referentie"`` or another label (a category of its own)
covariates    String         one column per name in ``covariates`` (cast to String; null not allowed)
``duration``  integer        month of the spell in which the event or censoring happened, 1 = first month
``cause``     String / null  null: censored at the end of month ``duration`` (at risk in that month, no
                             event); otherwise the event with that cause happened in month ``duration``
``count``     integer        persons in the cell (>= 0)
``weight``    float          optional propensity weight of the cell's persons (>= 0); absent = 1
============  =============  ==============================================================================

Functions: :func:`person_period_cells` (risk sets by cumulative sums), :func:`fit_hazard` and
:func:`fit_competing` (complementary log-log binomial GLMs, statsmodels), :func:`survival_curves`
(product-limit with Greenwood errors) and :func:`cumulative_incidence` (discrete Aalen-Johansen).
Plain polars and statsmodels; numpy only at the statsmodels boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from scipy.stats import norm
# the GLM module, not statsmodels.api (which imports every model: 0.6 s more per process)
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from monitor_dagster.core.exact import exact_sum

#: group labels of the contract; the group effect is reported as BASIS versus REFERENTIE
BASIS, REFERENTIE = "basis", "referentie"
#: default piecewise-constant baseline: months 1-3, 4-6, 7-12, 13-24, 25+ (first month of each interval)
DEFAULT_BREAKS = (1, 4, 7, 13, 25)
#: name of the stand-in stratum column when a function is asked for no strata at all
_ALL = "__all__"

Frame = pl.DataFrame | pl.LazyFrame


# --------------------------------------------------------------------------------------------------------
# cells -> risk sets
# --------------------------------------------------------------------------------------------------------


def _prepared(cells: Frame, strata: Sequence[str], max_duration: int | None, weights: bool) -> pl.LazyFrame:
    """The cells with typed columns, ``weight`` filled and durations past ``max_duration`` censored there.

    Validation runs on the cells (one cheap lazy pass), so a bad contract fails loudly instead of producing
    a plausible-looking curve."""
    lf = cells.lazy() if isinstance(cells, pl.DataFrame) else cells
    schema = lf.collect_schema()
    missing = [c for c in ("duration", "cause", "count", *strata) if c not in schema]
    if missing:
        raise ValueError(f"duration cells lack column(s) {missing}; have {list(schema)}")
    if max_duration is not None and max_duration < 1:
        raise ValueError(f"max_duration must be >= 1, got {max_duration}")
    weight = pl.col("weight").cast(pl.Float64) if weights and "weight" in schema else pl.lit(1.0)
    lf = lf.select(
        *[pl.col(c).cast(pl.String) for c in strata],
        pl.col("duration").cast(pl.Int64),
        pl.col("cause").cast(pl.String),
        pl.col("count").cast(pl.Int64),
        weight.alias("weight"),
    )
    checks = lf.select(
        pl.col("duration").min().alias("min_duration"),
        pl.col("duration").null_count().alias("null_duration"),
        pl.col("count").min().alias("min_count"),
        pl.col("count").null_count().alias("null_count"),
        pl.col("weight").min().alias("min_weight"),
        (pl.col("weight").is_null() | ~pl.col("weight").is_finite()).sum().alias("bad_weight"),
        *[pl.col(c).null_count().alias(f"null:{c}") for c in strata],
    ).collect().row(0, named=True)
    if checks["null_duration"] or checks["null_count"]:
        raise ValueError("duration cells have null duration or count")
    if checks["min_duration"] is not None and checks["min_duration"] < 1:
        raise ValueError(f"duration must be >= 1 (1 = first month at risk), found {checks['min_duration']}")
    if checks["min_count"] is not None and checks["min_count"] < 0:
        raise ValueError("count must be >= 0")
    if checks["bad_weight"] or (checks["min_weight"] is not None and checks["min_weight"] < 0):
        raise ValueError("weight must be finite and >= 0")
    nulls = [c for c in strata if checks[f"null:{c}"]]
    if nulls:
        raise ValueError(f"null values in {nulls}: give unknowns an explicit category")
    lf = lf.filter(pl.col("count") > 0)
    if max_duration is not None:
        past = pl.col("duration") > max_duration
        lf = lf.with_columns(
            pl.when(past).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("cause")).alias("cause"),
            pl.when(past).then(pl.lit(max_duration, dtype=pl.Int64)).otherwise(pl.col("duration")).alias("duration"),
        )
    return lf


def _risk_table(lf: pl.LazyFrame, strata: Sequence[str]) -> pl.DataFrame:
    """Per stratum, month and cause: at risk at the start of the month and events, counted and weighted.

    At risk in month m = persons whose duration is >= m, a reverse cumulative sum of the exits per month over
    the stratum's months 1..max; every month of that range is present (months without any exit still
    contribute persons at risk to the likelihood).  Each event cause is a row (zero-filled); with no event
    at all in the data a single row with cause null and zero events is kept per month."""
    strata = list(strata)
    exits = (
        lf.group_by([*strata, "duration", "cause"])
        # weighted counts summed in fixed point (core/exact.py; whole counts stay exact): a float sum of a
        # group-by depends on the order it meets the rows in, and a weighted curve of the durations table
        # differed in its last bit between two runs of the same inputs (issue 15, sixteenth session)
        .agg(pl.col("count").sum().alias("n"), exact_sum(pl.col("count") * pl.col("weight")).alias("n_w"))
        .rename({"duration": "period"})
    )
    exits_df = exits.collect()
    if exits_df.height == 0:
        raise ValueError("no persons in the duration cells")
    months = exits_df.group_by([*strata, "period"]).agg(pl.col("n").sum(), exact_sum("n_w").alias("n_w"))
    grid = (
        months.group_by(strata)
        .agg(pl.int_range(1, pl.col("period").max() + 1, dtype=pl.Int64).alias("period"))
        .explode("period")
        .join(months, on=[*strata, "period"], how="left")
        .with_columns(pl.col("n").fill_null(0), pl.col("n_w").fill_null(0.0))
        .sort([*strata, "period"])
        .with_columns(
            pl.col("n").cum_sum(reverse=True).over(strata).alias("at_risk"),
            pl.col("n_w").cum_sum(reverse=True).over(strata).alias("at_risk_w"),
        )
        .drop("n", "n_w")
    )
    events = exits_df.filter(pl.col("cause").is_not_null())
    causes = events.select(pl.col("cause").unique().sort())
    if causes.height == 0:
        causes = pl.DataFrame({"cause": [None]}, schema={"cause": pl.String})
    return (
        grid.join(causes, how="cross")
        .join(events, on=[*strata, "period", "cause"], how="left")
        .with_columns(pl.col("n").fill_null(0).alias("events"), pl.col("n_w").fill_null(0.0).alias("events_w"))
        .select(*strata, "period", "at_risk", "at_risk_w", "cause", "events", "events_w")
        .sort([*strata, "period", "cause"], nulls_last=True)
    )


def _with_all(cells: Frame, by: Sequence[str]) -> tuple[Frame, list[str]]:
    """A constant stratum column when no ``by`` is asked for (one curve over everybody)."""
    if by:
        return cells, list(by)
    return cells.with_columns(pl.lit("alle").alias(_ALL)), [_ALL]


def _strata(covariates: Sequence[str]) -> list[str]:
    """``group`` and the covariates; a covariate may not reuse a column name of the contract or the output."""
    if isinstance(covariates, str):
        raise TypeError("covariates is a list of column names, not one string")
    clash = [c for c in covariates if c in ("group", "duration", "cause", "count", "weight", "period", _ALL)]
    if clash or len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates must be distinct and not named like a contract column: {list(covariates)}")
    return ["group", *covariates]


def person_period_cells(cells: Frame, covariates: Sequence[str], max_duration: int | None = None) -> pl.DataFrame:
    """The person-period table of the duration cells, per (group, covariates, month, cause), without
    expanding persons (technisch rapport Monitor gelijke kansen, §7.2.2: censoring-aware duration analysis
    on 17.5 million persons).

    Columns: ``group``, the covariates, ``period`` (month m, 1-based), ``at_risk`` (persons with duration
    >= m, i.e. at risk at the start of month m) and ``at_risk_w`` (the same weighted by ``weight``),
    ``cause``, ``events`` and ``events_w`` (events of that cause in month m).  There is one row per event
    cause for every month 1..the stratum's longest duration, so ``at_risk`` repeats on the cause rows of one
    month: sum ``events`` over causes, never ``at_risk``.  A person censored in month m, or leaving by
    another cause, is at risk in month m and not after.  Durations beyond ``max_duration`` are censored at
    ``max_duration`` (administrative censoring)."""
    strata = _strata(covariates)
    return _risk_table(_prepared(cells, strata, max_duration, weights=True), strata)


# --------------------------------------------------------------------------------------------------------
# hazard regression
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HazardFit:
    """One discrete-time proportional-hazards (cloglog) fit, for the report's tables and the technical
    report (technisch rapport Monitor gelijke kansen, §7.2.2).

    ``coefficients``: term, coef, se, hazard_ratio = exp(coef), ci_low, ci_high (of the hazard ratio),
    p_value.  ``group_hazard_ratio`` / ``group_ci``: basisgroep versus referentiegroep (None when the data
    have no basisgroep).  Counts are persons (unweighted) and, with ``_weighted``, propensity-weighted."""

    cause: str | None
    period: str
    weighted: bool
    cov_type: str
    coefficients: pl.DataFrame
    group_hazard_ratio: float | None
    group_ci: tuple[float, float] | None
    n_persons: int
    n_events: int
    n_persons_weighted: float
    n_events_weighted: float
    n_cells: int
    converged: bool
    iterations: int
    log_likelihood: float
    aic: float
    summary_text: str

    def hazard_ratio(self, term: str) -> float:
        """exp(coef) of one term, e.g. ``"group[basis]"`` or ``"geslacht[vrouw]"``."""
        row = self.coefficients.filter(pl.col("term") == term)
        if row.height != 1:
            raise KeyError(f"no term {term!r}; terms: {self.coefficients['term'].to_list()}")
        return float(row["hazard_ratio"][0])


def _interval_labels(breaks: Sequence[int]) -> list[tuple[int, int | None, str]]:
    """(first month, last month or None, label) per piecewise interval."""
    b = list(breaks)
    if not b or b[0] != 1 or any(x >= y for x, y in zip(b, b[1:])):
        raise ValueError(f"breaks must start at 1 and increase strictly, got {b}")
    out = []
    for i, lo in enumerate(b):
        hi = b[i + 1] - 1 if i + 1 < len(b) else None
        label = f"{lo}+" if hi is None else (f"{lo}" if hi == lo else f"{lo}-{hi}")
        out.append((lo, hi, label))
    return out


def _design(
    table: pl.DataFrame,
    covariates: Sequence[str],
    period: str,
    breaks: Sequence[int],
    reference_group: str,
    reference_levels: dict[str, str] | None,
) -> tuple[np.ndarray, list[str]]:
    """Dummy design: baseline per month (or interval) without intercept, group vs the referentiegroep,
    each covariate vs its reference level (``reference_levels`` or the first level in sort order)."""
    exprs: list[pl.Expr] = []
    terms: list[str] = []
    if period == "dummies":
        for m in table["period"].unique().sort().to_list():
            exprs.append((pl.col("period") == m).cast(pl.Float64))
            terms.append(f"period[{m}]")
    elif period == "piecewise":
        present = set(table["period"].unique().to_list())
        for lo, hi, label in _interval_labels(breaks):
            inside = pl.col("period") >= lo if hi is None else pl.col("period").is_between(lo, hi)
            if any(m >= lo and (hi is None or m <= hi) for m in present):
                exprs.append(inside.cast(pl.Float64))
                terms.append(f"period[{label}]")
    else:
        raise ValueError(f"period must be 'dummies' or 'piecewise', got {period!r}")
    groups = table["group"].unique().sort().to_list()
    if reference_group not in groups:
        raise ValueError(f"no referentiegroep {reference_group!r} in the cells (groups: {groups})")
    for g in groups:
        if g != reference_group:
            exprs.append((pl.col("group") == g).cast(pl.Float64))
            terms.append(f"group[{g}]")
    for c in covariates:
        levels = table[c].unique().sort().to_list()
        ref = (reference_levels or {}).get(c, levels[0])
        if ref not in levels:
            raise ValueError(f"reference level {ref!r} of {c} not in the cells (levels: {levels})")
        for lev in levels:
            if lev != ref:
                exprs.append((pl.col(c) == lev).cast(pl.Float64))
                terms.append(f"{c}[{lev}]")
    X = table.select([e.alias(t) for e, t in zip(exprs, terms)]).to_numpy().astype(np.float64)
    return X, terms


def _person_sandwich(
    bread: np.ndarray,
    params: np.ndarray,
    X_grid: np.ndarray,
    grid: pl.DataFrame,
    strata: list[str],
    lf: pl.LazyFrame,
    cause: str | None,
) -> np.ndarray:
    """Sandwich covariance clustered on persons, computed from the cells.

    Every person of a duration cell has the same covariates and the same path (at risk in months
    1..duration, event of interest or not in the last), hence the same score: for the cloglog Bernoulli
    model the score of one person-month is x * (y - h) * exp(eta) / h, so a person's score is
    -sum_{m<=d} x_m exp(eta_m) + y_d x_d exp(eta_d) / h_d.  The meat is sum over cells of count * weight^2 *
    s s'; the bread is the inverse observed (weighted) information.  Equal to statsmodels' cluster-robust
    covariance on person-period rows clustered by person (without small-sample correction)."""
    eta = X_grid @ params
    e = np.exp(eta)
    h = -np.expm1(-e)
    XE = X_grid * e[:, None]
    csum = np.cumsum(XE, axis=0)
    # grid is sorted by strata then period; subtract the running sum before each stratum's first month
    first = grid.with_row_index("r").select(pl.col("r").min().over(strata))["r"].to_numpy().astype(np.int64)
    before = np.where(first[:, None] > 0, csum[np.maximum(first - 1, 0)], 0.0)
    A = csum - before
    idx = grid.select(*strata, "period").with_row_index("row")
    y = pl.col("cause").is_not_null() if cause is None else (pl.col("cause") == cause).fill_null(False)
    persons = (
        lf.group_by([*strata, "duration", y.alias("y"), "weight"])
        .agg(pl.col("count").sum())
        .collect()
        .join(idx, left_on=[*strata, "duration"], right_on=[*strata, "period"], how="inner")
    )
    rows = persons["row"].to_numpy()
    yv = persons["y"].to_numpy().astype(np.float64)
    S = -A[rows] + (yv * e[rows] / h[rows])[:, None] * X_grid[rows]
    f = persons["count"].to_numpy().astype(np.float64) * persons["weight"].to_numpy() ** 2
    meat = (S * f[:, None]).T @ S
    return bread @ meat @ bread


def fit_hazard(
    cells: Frame,
    covariates: Sequence[str],
    cause: str | None = None,
    period: Literal["dummies", "piecewise"] = "dummies",
    weights: bool = True,
    *,
    breaks: Sequence[int] = DEFAULT_BREAKS,
    max_duration: int | None = None,
    cov_type: Literal["nonrobust", "robust"] = "nonrobust",
    reference_group: str = REFERENTIE,
    basis_group: str = BASIS,
    reference_levels: dict[str, str] | None = None,
    alpha: float = 0.05,
) -> HazardFit:
    """Discrete-time proportional hazard model on the person-period cells (technisch rapport Monitor
    gelijke kansen, §7.2.2: duration analysis with censoring, weighting and background characteristics).

    Complementary log-log binomial GLM (statsmodels): cloglog h(m | x) = alpha_m + beta'x, so exp(beta) is a
    hazard ratio of the grouped-time proportional hazards model.  One observation per (group, covariates,
    month): endog = events / at risk with ``var_weights`` = at risk (weighted: weighted events / weighted at
    risk, ``var_weights`` = weighted at risk).  Var weights rather than freq weights because a cell is one
    binomial observation of ``at_risk`` trials: the estimates and model-based SEs equal the person-period
    Bernoulli fit exactly (the binomial scale is fixed at 1), weighted counts need not be integers, and the
    log-likelihood is the grouped-binomial one (it differs from the person-period Bernoulli log-likelihood by
    the constant sum log C(n, d), so compare AIC only between fits on the same cells).

    Baseline: ``period="dummies"`` one parameter per month (no intercept); ``"piecewise"`` one per interval
    of ``breaks`` (default 1-3, 4-6, 7-12, 13-24, 25+).  The group enters as dummies versus
    ``reference_group`` (term ``group[basis]`` is basisgroep vs referentiegroep), the covariates as dummies
    versus their first level (or ``reference_levels``).  ``cause`` given: the cause-specific hazard; persons
    leaving by another cause are at risk in their last month and censored after it.  ``cause=None``: the
    hazard of any event.

    Standard errors: ``cov_type="nonrobust"`` is model-based.  With propensity weights it treats weighted
    counts as observed persons, ignores the variability of the weights and is in general too small.
    ``cov_type="robust"`` is the sandwich clustered on persons, computed exactly from the cells (every person
    of a cell has the same score); use it with weights.  statsmodels' own ``cov_type="HC0"`` is supported for
    GLMs with var_weights but would treat each person-period *cell* as the independent unit (a sandwich
    clustered on cells, not persons), so it is not offered.
    """
    if cov_type not in ("nonrobust", "robust"):
        raise ValueError(f"cov_type must be 'nonrobust' or 'robust', got {cov_type!r}")
    strata = _strata(covariates)
    lf = _prepared(cells, strata, max_duration, weights=weights)
    pp = _risk_table(lf, strata)
    causes = [c for c in pp["cause"].unique().to_list() if c is not None]
    if cause is None:
        grid = pp.group_by([*strata, "period"]).agg(
            pl.col("at_risk").first(), pl.col("at_risk_w").first(), pl.col("events").sum(), pl.col("events_w").sum()
        )
    else:
        if cause not in causes:
            raise ValueError(f"no events with cause {cause!r} (causes: {sorted(causes)})")
        grid = pp.filter(pl.col("cause") == cause).drop("cause")
    grid = grid.sort([*strata, "period"])
    X_grid, terms = _design(grid, covariates, period, breaks, reference_group, reference_levels)
    keep = (grid["at_risk_w"] > 0).to_numpy()
    table, X = grid.filter(pl.Series(keep)), X_grid[keep]

    n_col, d_col = ("at_risk_w", "events_w") if weights else ("at_risk", "events")
    trials = table[n_col].to_numpy().astype(np.float64)
    events = table[d_col].to_numpy().astype(np.float64)
    empty = [t for j, t in enumerate(terms) if t.startswith("period[") and events[X[:, j] > 0].sum() == 0]
    if empty:
        raise ValueError(
            f"no events in {empty}: their baseline hazard is 0 and the fit would not converge; "
            "use period='piecewise' or a smaller max_duration"
        )
    model = GLM(
        events / trials,
        X,
        family=families.Binomial(link=families.links.CLogLog()),
        var_weights=trials,
    )
    res = model.fit(maxiter=100, tol=1e-10)
    cov = res.cov_params()
    if cov_type == "robust":
        # bread: the observed information (as statsmodels' own sandwiches; cloglog is not the canonical link,
        # so it differs from the expected information of the IRLS covariance); linear in the events, so the
        # cells give the person-period value exactly
        bread = np.linalg.inv(-model.hessian(res.params, observed=True))
        cov = _person_sandwich(bread, res.params, X_grid, grid, strata, lf, cause)
        # as statsmodels' own get_robustcov_results(use_self=True) does: the (unwrapped) results carry the
        # chosen covariance, so summary() reports the person-clustered errors; checked below
        inner = getattr(res, "_results", res)
        inner.cov_params_default = cov
        inner.cov_type = "cluster: persons"
        inner.cov_kwds = {"description": "Standard errors are a sandwich clustered on persons, from the cells."}
    se = np.sqrt(np.diag(cov))
    z = float(norm.ppf(1 - alpha / 2))
    params = np.asarray(res.params)
    coefficients = pl.DataFrame(
        {
            "term": terms,
            "coef": params,
            "se": se,
            "hazard_ratio": np.exp(params),
            "ci_low": np.exp(params - z * se),
            "ci_high": np.exp(params + z * se),
            "p_value": 2 * norm.sf(np.abs(params / se)),
        }
    )
    gterm = f"group[{basis_group}]"
    if gterm in terms:
        g = coefficients.row(terms.index(gterm), named=True)
        group_hr, group_ci = g["hazard_ratio"], (g["ci_low"], g["ci_high"])
    else:
        group_hr, group_ci = None, None

    ev = (pl.col("cause").is_not_null() if cause is None else pl.col("cause") == cause).fill_null(False)
    counts = lf.select(
        pl.col("count").sum().alias("n"),
        (pl.col("count") * pl.col("weight")).sum().alias("n_w"),
        pl.col("count").filter(ev).sum().alias("d"),
        (pl.col("count") * pl.col("weight")).filter(ev).sum().alias("d_w"),
    ).collect().row(0, named=True)
    title = "cause-specific hazard of " + (repr(cause) if cause is not None else "any event")
    summary = str(res.summary(yname="hazard", xname=terms, title=f"Discrete-time cloglog {title}"))
    if not np.allclose(np.asarray(res.bse), se, rtol=1e-12, atol=0):  # a statsmodels without that mechanism
        summary += "\n\nThe std err above is model-based; person-clustered sandwich standard errors:\n" + "\n".join(
            f"{t:<40} {v:.6g}" for t, v in zip(terms, se)
        )
    return HazardFit(
        cause=cause,
        period=period,
        weighted=weights,
        cov_type=cov_type,
        coefficients=coefficients,
        group_hazard_ratio=group_hr,
        group_ci=group_ci,
        n_persons=int(counts["n"]),
        n_events=int(counts["d"]),
        n_persons_weighted=float(counts["n_w"]),
        n_events_weighted=float(counts["d_w"]),
        n_cells=int(table.height),
        converged=bool(res.converged),
        iterations=int(res.fit_history["iteration"]),
        log_likelihood=float(res.llf),
        aic=float(res.aic),
        summary_text=summary,
    )


def fit_competing(
    cells: Frame,
    covariates: Sequence[str],
    causes: Sequence[str] | None = None,
    period: Literal["dummies", "piecewise"] = "dummies",
    weights: bool = True,
    **kwargs,
) -> dict[str, HazardFit]:
    """Cause-specific hazard models for competing risks, one cloglog fit per cause (technisch rapport
    Monitor gelijke kansen, §7.2.2: doorstroom to the same employer in another function or to another
    employer; uitstroom to bijstand, WW or otherwise).  In each fit the other causes censor the person after
    the month of leaving.  ``causes`` default: every cause in the cells; ``kwargs`` go to :func:`fit_hazard`."""
    if causes is None:
        lf = cells.lazy() if isinstance(cells, pl.DataFrame) else cells
        causes = (
            lf.select(pl.col("cause").cast(pl.String).drop_nulls().unique().sort()).collect()["cause"].to_list()
        )
    return {
        c: fit_hazard(cells, covariates, cause=c, period=period, weights=weights, **kwargs) for c in causes
    }


# --------------------------------------------------------------------------------------------------------
# non-parametric curves
# --------------------------------------------------------------------------------------------------------


def survival_curves(
    cells: Frame,
    by: Sequence[str] = ("group",),
    weights: bool = True,
    *,
    max_duration: int | None = None,
    alpha: float = 0.05,
) -> pl.DataFrame:
    """Product-limit (Kaplan-Meier) survival per ``by`` group and month, from the cells (technisch rapport
    Monitor gelijke kansen, §7.2.2: the censored persons must not count as "no event").

    With whole months as time unit this is Kaplan-Meier with tied event times, censoring at the end of the
    month (censored persons are at risk in their last month): hazard h(m) = events / at risk, S(m) =
    prod_{k<=m} (1 - h(k)); Greenwood variance S(m)^2 * sum d / (n (n - d)); the confidence interval is
    log-log transformed (stays within [0, 1]).  An event of any cause is the event.

    Columns: the ``by`` columns, ``period``, ``at_risk``, ``events``, ``at_risk_w``, ``events_w``,
    ``hazard``, ``survival``, ``greenwood_se``, ``ci_low``, ``ci_high``.  ``weights=True``: the estimate
    uses the weighted counts (``weight``); the Greenwood error then treats weighted counts as persons and
    ignores the variability of the weights, so it is too small when the weights vary a lot.  Written here
    rather than with lifelines: lifelines (0.30) requires pandas < 3, this project runs pandas 3, and the
    estimator is three cumulative sums over the cells (tests compare it with lifelines' KaplanMeierFitter).
    """
    cells, strata = _with_all(cells, by)
    pp = _risk_table(_prepared(cells, strata, max_duration, weights=weights), strata)
    n, d = ("at_risk_w", "events_w") if weights else ("at_risk", "events")
    z = float(norm.ppf(1 - alpha / 2))
    out = (
        pp.group_by([*strata, "period"])
        .agg(
            pl.col("at_risk").first(),
            pl.col("events").sum(),
            pl.col("at_risk_w").first(),
            pl.col("events_w").sum(),
        )
        .sort([*strata, "period"])
        .with_columns(pl.col(d).cast(pl.Float64).truediv(pl.col(n)).fill_nan(0.0).alias("hazard"))
        .with_columns(
            (1 - pl.col("hazard")).cum_prod().over(strata).alias("survival"),
            pl.when(pl.col(n) > pl.col(d))
            .then(pl.col(d) / (pl.col(n) * (pl.col(n) - pl.col(d))))
            .otherwise(pl.when(pl.col(d) > 0).then(float("inf")).otherwise(0.0))
            .cum_sum()
            .over(strata)
            .alias("_v"),
        )
    )
    log_s = pl.col("survival").log()
    se_loglog = pl.col("_v").sqrt() / log_s.abs()
    theta = (-log_s).log()
    defined = (pl.col("survival") > 0) & (pl.col("survival") < 1) & pl.col("_v").is_finite()
    return out.with_columns(
        pl.when(pl.col("_v").is_finite()).then(pl.col("survival") * pl.col("_v").sqrt()).alias("greenwood_se"),
        pl.when(defined)
        .then((-(theta + z * se_loglog).exp()).exp())
        .otherwise(pl.col("survival"))
        .alias("ci_low"),
        pl.when(defined)
        .then((-(theta - z * se_loglog).exp()).exp())
        .otherwise(pl.col("survival"))
        .alias("ci_high"),
    ).drop("_v", *([_ALL] if _ALL in strata else []))


def cumulative_incidence(
    cells: Frame,
    by: Sequence[str] = ("group",),
    weights: bool = True,
    *,
    max_duration: int | None = None,
) -> pl.DataFrame:
    """Competing risks: cumulative incidence per ``by`` group, cause and month, the discrete Aalen-Johansen
    estimator (technisch rapport Monitor gelijke kansen, §7.2.2: doorstroom and uitstroom with several
    causes; 1 - KM of one cause would overstate its probability when other causes remove persons first).

    h_c(m) = events_c / at risk; S(m) = prod_{k<=m} (1 - sum_c h_c(k)) (survival from every cause);
    F_c(m) = sum_{k<=m} S(k-1) h_c(k).  Per group and month sum_c F_c(m) + S(m) = 1.  Columns: the ``by``
    columns, ``period``, ``cause``, ``at_risk``, ``events``, ``at_risk_w``, ``events_w``, ``hazard``
    (cause-specific), ``survival`` (overall, end of month m) and ``cumulative_incidence``; weighted counts
    with ``weights=True``.  Not lifelines' AalenJohansenFitter: it requires pandas < 3 and breaks tied event
    times (every monthly event is tied) by random jitter."""
    cells, strata = _with_all(cells, by)
    pp = _risk_table(_prepared(cells, strata, max_duration, weights=weights), strata)
    n, d = ("at_risk_w", "events_w") if weights else ("at_risk", "events")
    hazard = pl.col(d).cast(pl.Float64).truediv(pl.col(n)).fill_nan(0.0)
    overall = (
        pp.group_by([*strata, "period"])
        .agg(hazard.sum().alias("_h_all"))
        .sort([*strata, "period"])
        .with_columns((1 - pl.col("_h_all")).cum_prod().over(strata).alias("survival"))
        .with_columns(pl.col("survival").shift(1, fill_value=1.0).over(strata).alias("_s_prev"))
    )
    return (
        pp.join(overall, on=[*strata, "period"], how="left")
        .with_columns(hazard.alias("hazard"))
        .sort([*strata, "cause", "period"], nulls_last=True)
        .with_columns((pl.col("_s_prev") * pl.col("hazard")).cum_sum().over([*strata, "cause"]).alias("cumulative_incidence"))
        .select(*strata, "period", "cause", "at_risk", "events", "at_risk_w", "events_w", "hazard", "survival",
                "cumulative_incidence")
        .sort([*strata, "period", "cause"], nulls_last=True)
    ).drop([_ALL] if _ALL in strata else [])
