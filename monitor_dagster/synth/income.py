"""INPATAB (from 2011) and its predecessor IPI (PERSOONINK<Y>TAB, before 2011): yearly personal income.

Primary income = wages (SPOLIS SLNINGLD) + profit of the self-employed; gross income adds benefits and
pensions; personal income subtracts premiums.  Files up to 2010 were capped at 1,000,000 euro (report 4.2:
apply the cap to all years); a few planted top incomes above the cap make the break visible.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth import params as P
from monitor_dagster.synth.labour import AO, BIJSTAND, DGA, PENSION, SELF, SOCVOORZ, WW, LabourHistory

MONTHLY_BENEFIT = {WW: 1650.0, BIJSTAND: 1050.0, SOCVOORZ: 1100.0, AO: 1500.0, PENSION: 1400.0}
IPI_RENAME = {"INPPERSINK": "PERSINK", "INPPERSPRIM": "PERSPRIM", "INPPERSBRUT": "PERSBRUT"}


def top_earners(persons: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """pids with a planted yearly profit above the 1 million cap (at least 3, ~1 per 3,000 persons)."""
    k = max(3, persons.height // 3000)
    adults = persons.filter(pl.col("birth_date").dt.year() < 1980)["pid"].to_numpy()
    return np.sort(rng.choice(adults, size=min(k, len(adults)), replace=False))


def income_draws(lab: LabourHistory, year: int, top: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """The latent part of INPATAB ``year`` for the persons living in NL on 31 Dec: pid, profit (of the
    self-employed months, or a planted top income), benefits, missing (the 1% written as 9999999999).  The
    draws come in the order :func:`project_inpatab` has always made them, so the truth file
    (``transitions_truth``) can see the same profits and missing incomes from the same stream."""
    m0 = (year - lab.origin_year) * 12
    sm = lab.state_m[:, m0:m0 + 12]
    present = sm[:, -1] != 0
    months = {s: (sm == s).sum(axis=1) for s in (SELF, DGA, *MONTHLY_BENEFIT)}
    n = len(present)
    profit_month = np.exp(rng.normal(np.log(2600), 0.6, n))
    profit = (months[SELF] * profit_month).astype(float)
    pid = np.arange(n)
    is_top = np.isin(pid, top)
    profit = np.where(is_top, rng.uniform(1.2e6, 3e6, n), profit)
    benefits = sum(months[s] * MONTHLY_BENEFIT[s] for s in MONTHLY_BENEFIT) * rng.uniform(0.9, 1.1, n)
    df = pl.DataFrame({"pid": pid, "present": present, "profit": profit, "benefits": benefits})
    df = df.filter(pl.col("present")).drop("present")
    return df.with_columns(pl.Series("missing", rng.random(df.height) < 0.01))


def project_inpatab(lab: LabourHistory, persons: pl.DataFrame, wages: pl.DataFrame, year: int,
                    top: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """``wages``: pid, wage (sum of SLNINGLD in the year).  Population: persons living in NL on 31 Dec
    of the year (assumed; documented in docs/synthetic_data.md)."""
    df = income_draws(lab, year, top, rng)
    df = df.join(wages, on="pid", how="left").with_columns(pl.col("wage").fill_null(0.0))
    df = df.with_columns((pl.col("wage") + pl.col("profit")).round(0).alias("INPPERSPRIM"))
    df = df.with_columns((pl.col("INPPERSPRIM") + pl.col("benefits")).round(0).alias("INPPERSBRUT"))
    df = df.with_columns((pl.col("INPPERSBRUT") * 0.86).round(0).alias("INPPERSINK"))
    if year <= 2010:   # IPI files were capped at 1 million euro
        df = df.with_columns(*[pl.col(c).clip(upper_bound=P.INCOME_CAP) for c in ("INPPERSPRIM", "INPPERSBRUT", "INPPERSINK")])
    missing = df["missing"].to_numpy()
    df = df.with_columns(*[pl.when(pl.Series(missing)).then(pl.lit(float(P.INCOME_MISSING))).otherwise(pl.col(c)).alias(c)
                           for c in ("INPPERSPRIM", "INPPERSBRUT", "INPPERSINK")])
    keys = persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))
    out = df.join(keys, on="pid").select("RINPERSOONS", "RINPERSOON", "INPPERSINK", "INPPERSPRIM", "INPPERSBRUT").sort("RINPERSOON")
    if year <= 2010:
        out = out.rename(IPI_RENAME)
    return out
