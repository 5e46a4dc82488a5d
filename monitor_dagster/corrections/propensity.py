"""Propensity-score weights over the whole period and the balance check (technisch rapport Monitor gelijke
kansen, §7.2.2; docs/corrections.md).

The report: compare the *basisgroep* (non-Western migration background) with a *referentiegroep* (no migration
background) that resembles it, "door middel van zogeheten propensity score weging. Daarbij krijgen personen in
de referentiegroep een hoger gewicht naarmate de voorspelde kans dat zij op basis van persoonskenmerken in de
basisgroep zouden zitten (de propensity score) hoger is", and "over de gehele periode te wegen en een
evenredigheidscontrole te doen voor elk jaar", so that "de samenstelling van beide groepen constant is over de
tijd".

* :func:`covariate_cells`: persons of one year counted per group and covariate cell (the only thing the model
  needs: the covariates are categorical, so the cells are sufficient statistics and the fit does not depend
  on the number of persons);
* :func:`fit_weights`: ONE model over the cells of all years: a multinomial logit of the stratum (group x year)
  on the characteristics (the generalised propensity score), fitted as its equivalent Poisson log-linear GLM
  (statsmodels).  Weight of a person in stratum s with characteristics x: P(basisgroep, any year | x) /
  P(s | x), scaled to mean 1 within the stratum, so the referentiegroep resembles the basisgroep and both keep
  the composition of the basisgroep over the whole period in every year;
* :func:`balance`: the evenredigheidscontrole per year and covariate level: standardised mean difference (SMD)
  and the report's significance test, between the groups and over time.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from monitor_dagster.indicators.table import FIXED

#: the background characteristics the registers hold for everybody (report §7.2.2: "leeftijd, geslacht,
#: opleidingsniveau"; social class, health and sexual orientation are not in the registers; household and
#: parents' characteristics are not in the warehouse yet)
COVARIATES = ("leeftijdsklasse", "geslacht", "opleidingsniveau")
#: herkomst_aggregate of the two groups (core/population)
BASIS, REFERENTIE = "niet-westers", "geen"
#: herkomst of their rows in the indicator table
BASIS_LABEL, REFERENTIE_LABEL = "niet-westers", "geen migratieachtergrond"
#: |SMD| above which a covariate level is out of balance (Austin 2009, "Balance diagnostics for comparing the
#: distribution of baseline covariates between treatment groups in propensity-score matched samples": 0.1).
#: At register scale every difference is statistically significant, so the test alone cannot be the criterion.
SMD_THRESHOLD = 0.1
#: ... and significant at this level: in a small population (the demo, a small group) a standardised
#: difference of 0.1 is within sampling noise; at register scale every difference is significant, so there
#: the SMD alone decides
ALPHA = 0.05
#: age classes within the monitor's two age groups (jongeren 15-27, niet-jongeren 27 to the AOW age, report 2.2),
#: so that the leeftijd breakdown is a sum of classes
AGE_CLASSES = {"jongeren": ((20, "15-19"), (None, "20-26")),
               "niet-jongeren": ((35, "27-34"), (45, "35-44"), (55, "45-54"), (None, "55-AOW"))}
KEY_SEPARATOR = "|"
UNKNOWN = "onbekend"
#: the value of a characteristic a family is not corrected for (specs.yaml corrected_covariates)
ALL = "alle"


#: every age class in AGE_CLASSES' order: the positions :func:`_age_class_index` gives
AGE_CLASS_LABELS = [label for classes in AGE_CLASSES.values() for _, label in classes]


def age_class(leeftijd: pl.Expr = pl.col("leeftijd"), age: pl.Expr = pl.col("age_jan1")) -> pl.Expr:
    """The age class of a person (String; null outside the monitor's age groups)."""
    return pl.lit(pl.Series([*AGE_CLASS_LABELS, None], dtype=pl.String)).gather(_age_class_index(leeftijd, age))


def _age_class_index(leeftijd: pl.Expr = pl.col("leeftijd"), age: pl.Expr = pl.col("age_jan1")) -> pl.Expr:
    """The position of the person's age class in :data:`AGE_CLASS_LABELS`, one past the last outside the age
    groups (UInt32).  ``leeftijd`` compared as it is stored (an Enum in the warehouse): a cast to text per
    person cost half the time."""
    expr, first = pl.lit(len(AGE_CLASS_LABELS), dtype=pl.UInt32), 0
    for group, classes in AGE_CLASSES.items():
        inner = pl.lit(first + len(classes) - 1, dtype=pl.UInt32)
        for k in range(len(classes) - 2, -1, -1):
            inner = pl.when(age < classes[k][0]).then(pl.lit(first + k, dtype=pl.UInt32)).otherwise(inner)
        expr = pl.when(leeftijd == group).then(inner).otherwise(expr)
        first += len(classes)
    return expr


def covariate_key(population: pl.LazyFrame, covariates: tuple[str, ...] | None = None) -> pl.LazyFrame:
    """``person_id``, ``herkomst_aggregate`` and ``covariaten`` = the person's covariate cell as one string
    (``20-26|man|laag``); outside the age groups the age class is ``onbekend`` (such persons have no weight,
    but count in the sex and education breakdowns like in the uncorrected rows)."""
    return population.select("person_id", pl.col("herkomst_aggregate").cast(pl.String),
                             covariate_cell(population.collect_schema(), covariates).alias("covariaten"))


def covariate_cell(schema: pl.Schema, covariates: tuple[str, ...] | None = None) -> pl.Expr:
    """The ``covariaten`` string of :func:`covariate_key` on a frame of ``schema`` (the age class from
    ``leeftijd`` and ``age_jan1``; without ``age_jan1`` the age group only): from the codes when the
    characteristics are Enums (:func:`_coded_key`), else from their text."""
    names = schema.names()
    fast = _coded_key(schema, covariates or COVARIATES)
    if fast is not None:
        return fast

    def col(c: str) -> pl.Expr:        # a frame without a characteristic (a hand-built one) has it unknown
        return pl.col(c).cast(pl.String) if c in names else pl.lit(None, dtype=pl.String)

    age = age_class() if "age_jan1" in names else col("leeftijd")     # without the age: the age group only
    parts = {"leeftijdsklasse": age.fill_null(UNKNOWN), "geslacht": col("geslacht").fill_null(UNKNOWN),
             "opleidingsniveau": col("opleidingsniveau").fill_null(UNKNOWN)}
    used = covariates or COVARIATES      # a characteristic not corrected for is ALL (one level)
    return pl.concat_str([parts[c] if c in used else pl.lit(ALL) for c in COVARIATES], separator=KEY_SEPARATOR)


def _coded_key(schema: pl.Schema, used: tuple[str, ...]) -> pl.Expr | None:
    """:func:`covariate_key`'s ``covariaten`` from the characteristics' codes: when each one used is an Enum (as
    in core/population) or absent, the person's cell is a number (age class, sex and education positions) and
    its text one of a few dozen, looked up in a table of all of them.  The same strings as the text path, about
    six times faster (0.27 -> 0.04 s for 1.9 M persons: a family's bucket computes the keys of all its
    persons; issue 12).  None when a column is stored as text (a hand-built frame): then the text path."""
    def coded(c: str) -> tuple[pl.Expr, list[str]] | None:
        if c not in schema:                                  # unknown for everybody, as the text path
            return pl.lit(0, dtype=pl.UInt32), [UNKNOWN]
        dtype = schema[c]
        if not isinstance(dtype, pl.Enum):
            return None
        cats = list(dtype.categories)                        # null: one past the categories
        return pl.col(c).to_physical().cast(pl.UInt32).fill_null(len(cats)), [*cats, UNKNOWN]

    parts = []
    for c in COVARIATES:
        if c not in used:                                    # not corrected for: one level
            parts.append((pl.lit(0, dtype=pl.UInt32), [ALL]))
        elif c == "leeftijdsklasse" and "age_jan1" in schema:
            if not isinstance(schema.get("leeftijd"), pl.Enum):
                return None
            parts.append((_age_class_index(), [*AGE_CLASS_LABELS, UNKNOWN]))
        else:
            part = coded("leeftijd" if c == "leeftijdsklasse" else c)
            if part is None:
                return None
            parts.append(part)
    code = pl.lit(0, dtype=pl.UInt32)
    for index, labels in parts:
        code = code * len(labels) + index
    table = pl.Series([KEY_SEPARATOR.join(p) for p in itertools.product(*(labels for _, labels in parts))],
                      dtype=pl.String)
    return pl.lit(table).gather(code)


def split_key(expr: pl.Expr = pl.col("covariaten")) -> list[pl.Expr]:
    """The covariate columns of a ``covariaten`` key."""
    parts = expr.str.split(KEY_SEPARATOR)
    return [parts.list.get(i).alias(c) for i, c in enumerate(COVARIATES)]


def weighting_population(population: pl.LazyFrame) -> pl.LazyFrame:
    """Who the weights are fitted on: the register population of research question 3 (report 2.1/2.2: living
    in NL the whole year, 15 to the AOW age, no pupils, students or pensioners), basis- and referentiegroep."""
    names = population.collect_schema().names()
    keep = pl.col("leeftijd").is_not_null() & pl.col("herkomst_aggregate").cast(pl.String).is_in([BASIS, REFERENTIE])
    if "student" in names:
        keep = keep & ~pl.col("student").fill_null(False) & ~pl.col("pensioner").fill_null(False)
    if "verblijfsduur_excluded" in names:    # report 2.2 (choices.py short_stay=analysis)
        keep = keep & ~pl.col("verblijfsduur_excluded").fill_null(False)
    return population.filter(keep)


def covariate_cells(population: pl.LazyFrame, year: int) -> pl.DataFrame:
    """Persons of year t per group (``basis`` / ``referentie``) and covariate cell: ``year``, ``group``, the
    covariates, ``n``.  One group-by of the population (streaming)."""
    keyed = covariate_key(weighting_population(population))
    return (keyed.filter(~pl.col("covariaten").str.starts_with(UNKNOWN + KEY_SEPARATOR))
            .group_by("herkomst_aggregate", "covariaten").agg(pl.len().cast(pl.Int64).alias("n"))
            .collect(engine="streaming")
            .select(pl.lit(year, dtype=pl.Int32).alias("year"),
                    pl.when(pl.col("herkomst_aggregate") == BASIS).then(pl.lit("basis"))
                    .otherwise(pl.lit("referentie")).alias("group"),
                    "covariaten", *split_key(), "n")
            .sort("year", "group", "covariaten"))


def years_to_weight(cells: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, list[str]]]:
    """The cells of the years the weighting model can use, and per year left out the characteristics it lacks.

    A year in which a characteristic is ``onbekend`` for every person (its source not in the warehouse: a
    population year built from the cumulative GBA files alone, without HOOGSTEOPLTAB of that year) says
    nothing about that characteristic, yet pooled into "de gehele periode" (report §7.2.2) it would make its
    ``onbekend`` level a large part of the target: in every other year the few persons of that level then got
    weights of 20-230 and the balance check failed (``monitor demo``, whose survey year 2023 has no
    HOOGSTEOPLTAB).  Such a year gets no weights, hence no gewogen rows; the caller says so.  A characteristic
    unknown in *every* year (a zone without HOOGSTEOPLTAB at all) leaves every year in: it is one level
    throughout, target included, so the weights rest on the other characteristics.  Age class and sex are
    known for nearly everybody, so in practice this is education."""
    if cells.height == 0:
        return cells, {}
    lacking: dict[int, list[str]] = {}
    for cov in COVARIATES:
        known = cells.group_by("year").agg(pl.col("n").filter(pl.col(cov) != UNKNOWN).sum().alias("known"))
        if known["known"].max() == 0:
            continue
        for y in known.filter(pl.col("known") == 0).sort("year")["year"].to_list():
            lacking.setdefault(int(y), []).append(cov)
    return cells.filter(~pl.col("year").is_in(list(lacking))), dict(sorted(lacking.items()))


@dataclass
class PropensityModel:
    """The fitted weighting model: weights per covariate cell and what the technical report prints."""
    weights: pl.DataFrame               # year, group, covariaten, covariates, n, p_basis, target_share, weight
    coefficients: pl.DataFrame          # term, coef, se, z, p
    years: list[int] = field(default_factory=list)
    n_basis: int = 0
    n_referentie: int = 0
    converged: bool = False
    iterations: int = 0
    llf: float = math.nan
    llnull: float = math.nan
    summary_text: str = ""

    @property
    def lr_chi2(self) -> float:
        """Likelihood-ratio statistic against the model without characteristics (how much the strata differ
        in composition)."""
        return 2.0 * (self.llf - self.llnull)

    def metadata(self) -> dict:
        return {"years": ", ".join(str(y) for y in self.years), "n_basis": self.n_basis,
                "n_referentie": self.n_referentie, "cells": self.weights.height, "converged": self.converged,
                "iterations": self.iterations, "loglik": round(self.llf, 3),
                "lr_chi2": round(self.lr_chi2, 1)}


#: the interaction the weighting model adds per stratum when main effects leave the groups out of balance
#: (:func:`weights_with_balance`): age and education are not independent (HOOGSTEOPLTAB's coverage: "onbekend"
#: falls with age and time).  Not the default: in a small population it separates (empty combinations)
INTERACTIONS: tuple[tuple[str, str], ...] = (("leeftijdsklasse", "opleidingsniveau"),)


def design(frame: pl.DataFrame, covariates: tuple[str, ...] = COVARIATES,
           levels: dict[str, list[str]] | None = None,
           interactions: tuple[tuple[str, str], ...] = ()) -> tuple[np.ndarray, list[str], dict[str, list[str]]]:
    """Dummy coding (intercept + one column per non-reference level; the reference level is the first in
    sorted order, or the first of ``levels``) of categorical covariates and their pairwise ``interactions``,
    for statsmodels."""
    levels = levels or {c: sorted(frame[c].drop_nulls().unique().to_list()) for c in covariates}
    cols, names = [np.ones(frame.height)], ["const"]
    dummies: dict[str, list[tuple[str, np.ndarray]]] = {}
    for c in covariates:
        values = frame[c].to_numpy()
        dummies[c] = [(lv, (values == lv).astype(float)) for lv in levels[c][1:]]
        for lv, col in dummies[c]:
            cols.append(col)
            names.append(f"{c}[{lv}]")
    for a, b in interactions:
        for la, ca in dummies[a]:
            for lb, cb in dummies[b]:
                cols.append(ca * cb)
                names.append(f"{a}[{la}]:{b}[{lb}]")
    return np.column_stack(cols), names, levels


#: decimals of a stored weight and target share (:func:`fit_weights`): the weight on the indicator table's
#: fixed-point grid (indicators/table.py FIXED), so that its product with a value is all that is rounded there
WEIGHT_DECIMALS, SHARE_DECIMALS = round(math.log10(FIXED)), 10


def fit_quietly(model):
    """A statsmodels GLM fitted without its warnings of an exact or separated fit, where the caller judges the
    fit itself.  The weighting model of cell counts (:func:`fit_weights`): with few characteristics (a family
    corrected for sex only, a small year) it has a parameter per cell, the fitted counts equal the observed ones,
    which statsmodels reports as "perfect separation or prediction", and its working least squares divide by zero
    residual degrees of freedom for a scale the Poisson family does not use (fixed at 1): the intended fit.  The
    gap models of ``corrections/apply.py``: a group in which a covariate cell has only events or none is
    separated, and ``fit_gap`` then leaves the row out by its own checks (convergence, finite estimates, the
    standard error), as documented there.  Both printed a dozen warnings into every run's log; anything else
    statsmodels warns about still shows."""
    import warnings

    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PerfectSeparationWarning)
        warnings.filterwarnings("ignore", message="divide by zero encountered in scalar divide",
                                category=RuntimeWarning, module=r"statsmodels\.regression\._tools")
        return model.fit()


def fit_weights(cells: pl.DataFrame, interactions: tuple[tuple[str, str], ...] = ()) -> PropensityModel:
    """Fit the weighting model once over the cells of all years (report §7.2.2 "over de gehele periode te
    wegen") and give every (group, year, covariate cell) its weight.

    The report wants the referentiegroep to resemble the basisgroep *and* "dat de samenstelling van beide
    groepen constant is over de tijd".  Both follow from one target: the basisgroep over the whole period.  The
    propensity model is therefore a multinomial logit of the *stratum* (group x year) on the characteristics
    (the generalised propensity score), fitted as its equivalent Poisson log-linear model of the cell counts
    (one parameter per covariate cell, plus per stratum an intercept, a main effect of every covariate and, when
    asked, the ``interactions`` where the stratum has persons in the combination):
    statsmodels GLM, binomial/multinomial likelihood on counts, so the fit is exactly the person-level one and
    its cost does not depend on the number of persons.  The weight of a person in stratum s with
    characteristics x is P(basisgroep, any year | x) / P(s | x), scaled to mean 1 within the stratum: every
    group in every year is weighted to the composition of the basisgroep over the period (for the basisgroep
    the weights stay near 1 while its composition is stable)."""
    # the GLM module, not statsmodels.api (which imports every model: 0.6 s more per process)
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    years = sorted(cells["year"].unique().to_list())
    if cells.filter(pl.col("group") == "basis").height == 0 or cells.filter(pl.col("group") == "referentie").height == 0:
        raise ValueError("propensity weights: the population has no persons of the basisgroep or of the "
                         "referentiegroep in any year; nothing to weight")
    strata = cells.select("group", "year").unique().sort("group", "year")
    xcells = cells.select("covariaten", *COVARIATES).unique().sort("covariaten")
    grid = (strata.join(xcells, how="cross")
            .join(cells.select("group", "year", "covariaten", "n"), on=["group", "year", "covariaten"], how="left")
            .with_columns(pl.col("n").fill_null(0)).sort("group", "year", "covariaten"))
    # design: a fixed effect per covariate cell; per stratum but the first, an intercept and covariate main effects
    _, cov_names, levels = design(grid, interactions=interactions)
    xcode = grid["covariaten"].to_numpy()
    cols, names = [], []
    for key in xcells["covariaten"].to_list():
        cols.append((xcode == key).astype(float))
        names.append(f"cel[{key}]")
    stratum = (grid["group"] + ":" + grid["year"].cast(pl.String)).to_numpy()
    labels = [f"{g}:{y}" for g, y in strata.iter_rows()]
    xcov, _, _ = design(grid, levels=levels, interactions=interactions)
    main = [j for j, nm in enumerate(cov_names) if ":" not in nm]
    for lab in labels[1:]:
        ind = (stratum == lab).astype(float)
        for j in main:
            cols.append(ind * xcov[:, j])
            names.append(f"{lab}:{'intercept' if cov_names[j] == 'const' else cov_names[j]}")
    # the interactions per stratum, where the stratum has persons in the combination: an empty combination
    # would send its parameter to minus infinity (separation); without the term the combination is smoothed by
    # the main effects (its cells hold nobody in that stratum, so no weight depends on it)
    n_all = grid["n"].to_numpy().astype(float)
    for lab in labels[1:]:
        ind = (stratum == lab).astype(float)
        for j, nm in enumerate(cov_names):
            if ":" in nm and (ind * xcov[:, j] * n_all).sum() > 0:
                cols.append(ind * xcov[:, j])
                names.append(f"{lab}:{nm}")
    x = np.column_stack(cols)
    n = grid["n"].to_numpy().astype(float)
    res = fit_quietly(GLM(n, x, family=families.Poisson()))
    mu = res.predict(x)
    # sums in numpy over the sorted grid (a fixed order: the same cells give the same bytes, issue 15)
    keys = xcells["covariaten"].to_list()
    xi = np.searchsorted(np.array(keys, dtype=object), xcode)
    is_basis = (grid["group"] == "basis").to_numpy()
    mu_basis = np.zeros(len(keys))
    np.add.at(mu_basis, xi[is_basis], mu[is_basis])
    raw = mu_basis[xi] / mu
    si = np.searchsorted(np.array(labels, dtype=object), stratum)
    n_s, rn_s = np.zeros(len(labels)), np.zeros(len(labels))
    np.add.at(n_s, si, n)
    np.add.at(rn_s, si, raw * n)
    # rounded where they leave the model: the fit runs through BLAS/LAPACK, whose sums depend on the number of
    # threads and the CPU (one thread instead of two changed 40 of 96 weights of a 1 M-person year by up to
    # 9e-15, and the table's version with them); the weight on the indicator table's fixed-point grid (1e-8,
    # indicators/table.py FIXED), the share to 1e-10: the same cells give the same bytes on any machine
    # unless that noise straddles a rounding boundary (about 1e-6 of a chance per value)
    w = grid.with_columns(pl.Series("mu", mu), pl.Series("mu_basis", mu_basis[xi]),
                          pl.Series("target_share", np.round((mu_basis / mu_basis.sum())[xi], SHARE_DECIMALS)),
                          pl.Series("weight", np.round(raw * n_s[si] / rn_s[si], WEIGHT_DECIMALS)))
    # the between-group propensity score of the pooled period, for readers (the weights do not use it)
    pooled = w.group_by("covariaten").agg(
        pl.col("n").filter(pl.col("group") == "basis").sum().alias("n_basis_cel"),
        pl.col("n").sum().alias("n_cel"))
    w = w.join(pooled, on="covariaten").with_columns(
        (pl.col("n_basis_cel") / pl.col("n_cel")).alias("p_basis"))
    coef = pl.DataFrame({"term": names, "coef": res.params, "se": res.bse, "z": res.tvalues, "p": res.pvalues})
    # the null model (stratum sizes only) for McFadden's R^2 of the stratum model
    null = fit_quietly(GLM(n, np.column_stack([(xcode == k).astype(float) for k in xcells["covariaten"].to_list()]
                                              + [(stratum == lab).astype(float) for lab in labels[1:]]),
                           family=families.Poisson()))
    n_b = int(cells.filter(pl.col("group") == "basis")["n"].sum())
    n_r = int(cells.filter(pl.col("group") == "referentie")["n"].sum())
    return PropensityModel(
        weights=w.select("year", "group", "covariaten", *COVARIATES, "n", "p_basis", "target_share", "weight")
        .sort("year", "group", "covariaten"),
        coefficients=coef.filter(~pl.col("term").str.starts_with("cel[")), years=years,
        n_basis=n_b, n_referentie=n_r, converged=bool(res.converged),
        iterations=int(getattr(res, "fit_history", {}).get("iteration", 0)), llf=float(res.llf),
        llnull=float(null.llf), summary_text=str(res.summary()))


def balance(cells: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """The evenredigheidscontrole (report §7.2.2: "geen statistisch significante verschillen ... in de
    prevalentie van kenmerken tussen de basisgroep en de referentiegroep en over de tijd") per year, covariate
    and level:

    * ``share_basis`` / ``share_referentie`` unweighted, ``share_basis_gewogen`` / ``share_gewogen`` weighted,
      ``share_doel`` the target (the basisgroep over the whole period, fitted);
    * ``smd_voor`` / ``smd_na``: standardised difference basis - referentiegroep before and after weighting,
      (p_b - p_r) / sqrt((p_b(1-p_b) + p_r(1-p_r)) / 2) with the unweighted shares in the denominator (so the
      scale does not move with the weights);
    * ``z`` and ``p_waarde``: the report's test, a two-sample test of proportions between the weighted groups
      (each with Kish's effective sample size);
    * ``smd_tijd_basis`` / ``smd_tijd_gewogen``: each weighted group of the year against the target ("en over
      de tijd");
    * ``balanced``: |smd_na| <= SMD_THRESHOLD or not significant (p >= ALPHA): the blocking rule;
      ``stabiel_over_tijd``: both time differences within SMD_THRESHOLD (reported, not blocking).
    """
    w = cells.join(weights.select("year", "group", "covariaten", "weight"), on=["year", "group", "covariaten"],
                   how="left").with_columns(pl.col("weight").fill_null(0.0))
    target_cells = weights.select("covariaten", *COVARIATES, "target_share").unique("covariaten")
    rows = []
    for cov in COVARIATES:
        per = (w.group_by("year", "group", cov)
               .agg(pl.col("n").sum().alias("n"), (pl.col("n") * pl.col("weight")).sum().alias("nw"),
                    (pl.col("n") * pl.col("weight") ** 2).sum().alias("nw2")))
        per = per.with_columns(
            (pl.col("n") / pl.col("n").sum().over("year", "group")).alias("share"),
            (pl.col("nw") / pl.col("nw").sum().over("year", "group")).alias("share_w"),
            pl.col("n").sum().over("year", "group").alias("N"),
            (pl.col("nw").sum().over("year", "group") ** 2 / pl.col("nw2").sum().over("year", "group")).alias("n_eff"))
        target = target_cells.group_by(cov).agg(pl.col("target_share").sum().alias("share_doel"))

        def side(g: str, suffix: str) -> pl.DataFrame:
            return per.filter(pl.col("group") == g).select(
                "year", pl.col(cov).alias("niveau"), pl.col("share").alias(f"share_{suffix}"),
                pl.col("share_w").alias(f"share_{suffix}_w"), pl.col("N").alias(f"n_{suffix}"),
                pl.col("n_eff").alias(f"neff_{suffix}"))

        b, r = side("basis", "basis"), side("referentie", "referentie")
        grid = pl.concat([b.select("year", "niveau"), r.select("year", "niveau")]).unique()
        t = (grid.join(b, on=["year", "niveau"], how="left").join(r, on=["year", "niveau"], how="left")
             .join(target.rename({cov: "niveau"}), on="niveau", how="left"))
        shares = [c for c in t.columns if c.startswith("share_")]
        sizes = [c for c in t.columns if c.startswith(("n_", "neff_"))]
        t = t.with_columns(pl.col(shares).fill_null(0.0), *[pl.col(c).fill_null(pl.col(c).max().over("year"))
                                                            for c in sizes])
        rows.append(t.with_columns(pl.lit(cov).alias("kenmerk")))
    t = pl.concat(rows, how="diagonal_relaxed").rename({"share_basis_w": "share_basis_gewogen",
                                                        "share_referentie_w": "share_gewogen"})

    def smd(a: pl.Expr, b: pl.Expr, sa: pl.Expr, sb: pl.Expr) -> pl.Expr:
        s = ((sa * (1 - sa) + sb * (1 - sb)) / 2).sqrt()
        return pl.when(s > 0).then((a - b) / s).otherwise(0.0)

    pb, pr = pl.col("share_basis"), pl.col("share_referentie")
    bw, rw, doel = pl.col("share_basis_gewogen"), pl.col("share_gewogen"), pl.col("share_doel")
    se = (bw * (1 - bw) / pl.col("neff_basis") + rw * (1 - rw) / pl.col("neff_referentie")).sqrt()
    t = t.with_columns(
        smd(pb, pr, pb, pr).alias("smd_voor"), smd(bw, rw, pb, pr).alias("smd_na"),
        pl.when(se > 0).then((bw - rw) / se).otherwise(0.0).alias("z"),
        smd(bw, doel, pb, doel).alias("smd_tijd_basis"), smd(rw, doel, pr, doel).alias("smd_tijd_gewogen"),
    )
    from scipy.stats import norm
    p = 2 * norm.sf(np.abs(t["z"].to_numpy()))
    stable = pl.all_horizontal(pl.col(c).abs() <= SMD_THRESHOLD for c in ("smd_tijd_basis", "smd_tijd_gewogen"))
    return (t.with_columns(pl.Series("p_waarde", p))
            .with_columns(((pl.col("smd_na").abs() <= SMD_THRESHOLD) | (pl.col("p_waarde") >= ALPHA)).alias("balanced"),
                          stable.alias("stabiel_over_tijd"))
            .select("year", "kenmerk", "niveau", "n_basis", "n_referentie", "share_basis", "share_referentie",
                    "share_basis_gewogen", "share_gewogen", "share_doel", "smd_voor", "smd_na", "z", "p_waarde",
                    "smd_tijd_basis", "smd_tijd_gewogen", "balanced", "stabiel_over_tijd")
            .sort("year", "kenmerk", "niveau"))


def balance_problems(table: pl.DataFrame) -> list[str]:
    """The covariate levels out of balance between the weighted groups (the blocking rule: |SMD| above
    SMD_THRESHOLD *and* significant at ALPHA), as readable lines; empty: balanced."""
    return [f"{r['year']} {r['kenmerk']}={r['niveau']}: SMD {r['smd_na']:+.3f} tussen basisgroep "
            f"({r['share_basis_gewogen']:.3f}) en gewogen referentiegroep ({r['share_gewogen']:.3f}), p = "
            f"{r['p_waarde']:.3g} (drempel |SMD| {SMD_THRESHOLD}, p {ALPHA})"
            for r in table.filter(~pl.col("balanced")).iter_rows(named=True)]


def drift_problems(table: pl.DataFrame) -> list[str]:
    """Levels whose weighted share in a year is more than SMD_THRESHOLD from the target (composition not
    constant over time): reported, not blocking."""
    return [f"{r['year']} {r['kenmerk']}={r['niveau']}: basis {r['smd_tijd_basis']:+.3f}, referentie "
            f"{r['smd_tijd_gewogen']:+.3f} van de samenstelling over de hele periode"
            for r in table.filter(~pl.col("stabiel_over_tijd")).iter_rows(named=True)]


def weights_with_balance(cells: pl.DataFrame) -> tuple[PropensityModel, pl.DataFrame, str]:
    """The analyst's loop of report §7.2.2, automated: fit with main effects; when the evenredigheidscontrole
    fails, refit with :data:`INTERACTIONS` and keep that model if it converges and balances better.
    Returns (model, balance table, specification used)."""
    model = fit_weights(cells)
    table = balance(cells, model.weights)
    spec = "hoofdeffecten"
    if balance_problems(table):
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                richer = fit_weights(cells, INTERACTIONS)
        except (ValueError, np.linalg.LinAlgError):
            return model, table, spec
        if richer.converged:
            t2 = balance(cells, richer.weights)
            if len(balance_problems(t2)) < len(balance_problems(table)):
                return richer, t2, "hoofdeffecten + " + ", ".join(f"{a} x {b}" for a, b in INTERACTIONS)
    return model, table, spec
