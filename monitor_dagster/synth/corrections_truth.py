"""A planted population for the corrections of technisch rapport Monitor gelijke kansen §7.2.2 (issue 17).

Two outcomes with a known truth, on persons whose characteristics differ by group as in the registers (the
basisgroep younger and more often with a low or unknown education level):

* ``compositie``: the chance depends on education (and age) only: the whole raw gap between the groups is
  composition, so the corrected gap must be 0 within sampling error;
* ``groepseffect``: the same plus a true group effect of ``GROUP_EFFECT`` (percentage points, the same for every
  person of the basisgroep), so the corrected gap must be that effect within sampling error.

``population(n, years, seed)`` returns the columns core/population has (so ``corrections.propensity`` reads it
unchanged) plus the two outcomes; the truth is in the constants.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: planted group effect on ``groepseffect`` (percentage points)
GROUP_EFFECT = -8.0
#: chance of the outcome by education level (and +5 points for niet-jongeren), the same for both groups
BASE_CHANCE = {"laag": 0.40, "middelbaar": 0.60, "hoog": 0.80, "onbekend": 0.50}
_EDU = ["laag", "middelbaar", "hoog", "onbekend"]
_EDU_P = {"niet-westers": [0.35, 0.25, 0.15, 0.25], "geen": [0.15, 0.35, 0.40, 0.10]}
_YOUNG_P = {"niet-westers": 0.40, "geen": 0.20}


def population(n: int = 40_000, years: tuple[int, ...] = (2020, 2021), seed: int = 17,
               basis_share: float = 0.3) -> pl.DataFrame:
    """Persons of several years (a fresh draw per year, ids unique over the years) with the planted outcomes."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, year in enumerate(years):
        basis = rng.random(n) < basis_share
        agg = np.where(basis, "niet-westers", "geen")
        young = rng.random(n) < np.where(basis, _YOUNG_P["niet-westers"], _YOUNG_P["geen"])
        age = np.where(young, rng.integers(15, 27, n), rng.integers(27, 67, n))
        u = rng.random(n)
        edu = np.empty(n, dtype=object)
        for g in ("niet-westers", "geen"):
            m = agg == g
            edu[m] = np.array(_EDU)[np.searchsorted(np.cumsum(_EDU_P[g]), u[m], side="right").clip(0, 3)]
        sex = np.where(rng.random(n) < 0.5, "man", "vrouw")
        p = np.vectorize(BASE_CHANCE.get)(edu) + np.where(young, 0.0, 0.05)
        comp = rng.random(n) < p
        eff = rng.random(n) < (p + np.where(basis, GROUP_EFFECT / 100.0, 0.0))
        parts.append(pl.DataFrame({
            "year": np.full(n, year, dtype=np.int32), "person_id": np.arange(n, dtype=np.int64) + k * n,
            "herkomst_aggregate": agg, "herkomst_group": np.where(basis, "Turkije", "geen migratieachtergrond"),
            "leeftijd": np.where(young, "jongeren", "niet-jongeren"), "age_jan1": age.astype(np.int64),
            "geslacht": sex, "opleidingsniveau": edu.astype(str), "student": np.zeros(n, bool),
            "pensioner": np.zeros(n, bool), "verblijfsduur_excluded": np.zeros(n, bool),
            "compositie": comp.astype(np.float64), "groepseffect": eff.astype(np.float64),
        }).with_columns(
            pl.when(pl.col("herkomst_aggregate") == "niet-westers").then(pl.lit("eerste")).alias("generatie"),
            pl.when(pl.col("herkomst_aggregate") == "niet-westers").then(pl.lit("oudkomer")).alias("verblijfsduur")))
    return pl.concat(parts)
