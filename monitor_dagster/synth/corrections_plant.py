"""Planted truths for the corrected figures in the landing zone (technisch rapport Monitor gelijke kansen,
§7.2.2; issue 17; docs/corrections.md), behind ``SynthConfig.plant_corrections`` / ``monitor synth
--plant-corrections``, off by default.

Two published indicators with corrected rows get an outcome whose truth is known by construction:

* **O09 INPPERSPRIM** (mean personal primary income), *compositie*: the expected income of a person is
  ``INCOME_BASE + INCOME_AGE[age class] + INCOME_SEX[sex] + INCOME_EDU[education level]`` plus symmetric noise,
  the same for every group.  The basisgroep is younger and lower educated than the referentiegroep, so the raw
  gap is large, but all of it is composition: the corrected gap is 0.
* **O04 vast contract** (share with a permanent contract), *groepseffect*: the chance of a permanent contract is
  ``VAST_BASE + VAST_AGE + VAST_SEX + VAST_EDU`` for everybody, plus ``GROUP_EFFECT`` percentage points for
  the basisgroep (non-Western migration background): the corrected gap is ``GROUP_EFFECT``.

Both are additive in the characteristics the corrections use (age class, sex, education level), so the
weighted gap (``gewogen``) is exact whatever the target composition, and for the mean the model row's OLS is
correctly specified too (the share's logit is not, by a fraction of a point).

Why the files are overridden instead of the labour model: the monthly simulation makes job finding, job loss,
temporary-to-permanent and benefits depend on the group on purpose (the monitor's raw gaps), so no outcome of it
has a known conditional expectation given the characteristics.  The override is drawn per person and year from
streams of its own, after the latent world is projected, so the population, the jobs, the hours and the
denominators do not change and nothing depends on the draw but the planted column.  The characteristics are the
ones the pipeline derives (``core/population``): age on 1 January from the birth date, sex from GBAGESLACHT, and
the education level from the very HOOGSTEOPLTAB rows the generator writes for the year (SOI code ->
``reference/soi_levels.csv``; a person not in the file is ``onbekend``).

Off by default because the override replaces the latent contracts and incomes that other planted truths describe
(:data:`INVALIDATES`) and would move every figure of O04 and O09 away from the calibration.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster import reference
from monitor_dagster.synth import params as P
from monitor_dagster.synth.education.hoogsteopltab import hoogsteopl_column

REPORT = "technisch rapport Monitor gelijke kansen, §7.2.2"
#: first year planted: O04 and O09 are computed from 2011 (INPATAB; IPI before has other names)
FIRST_YEAR = 2011
#: the groups compared (core/population herkomst_aggregate): basisgroep and referentiegroep
BASIS, REFERENTIE = "niet-westers", "geen"

#: age classes as the corrections use them (age on 1 January; lower bound, label), jongeren 15-26 and
#: niet-jongeren 27 to the AOW age.  Ages outside the monitor's groups get the nearest class (such persons are
#: not in the indicators' population, so their draw is never read)
AGE_CLASSES = ((0, "15-19"), (20, "20-26"), (27, "27-34"), (35, "35-44"), (45, "45-54"), (55, "55-AOW"))
EDU_LEVELS = ("laag", "middelbaar", "hoog", "onbekend")

#: O04: chance of a permanent contract, additive on the probability scale (between 0.13 and 0.87 before the
#: group effect, so the basisgroep's chance stays positive); strong enough in age and education that the
#: composition adds several points to the raw gap
VAST_BASE = 0.62
VAST_AGE = {"15-19": -0.35, "20-26": -0.22, "27-34": -0.06, "35-44": 0.0, "45-54": 0.05, "55-AOW": 0.07}
VAST_SEX = {"man": 0.0, "vrouw": -0.04}
VAST_EDU = {"laag": -0.10, "middelbaar": 0.05, "hoog": 0.18, "onbekend": -0.06}
#: O04: planted group effect of the basisgroep, percentage points (as synth/corrections_truth.py)
GROUP_EFFECT = -8.0

#: O09: expected INPPERSPRIM (euro), additive; the noise is normal, rounded to whole euros (symmetric, so the
#: expectation stays exact)
INCOME_BASE = 30_000
INCOME_AGE = {"15-19": -20_000, "20-26": -12_000, "27-34": -4_000, "35-44": 0, "45-54": 3_000, "55-AOW": 2_000}
INCOME_SEX = {"man": 0, "vrouw": -7_000}
INCOME_EDU = {"laag": -6_000, "middelbaar": 2_000, "hoog": 18_000, "onbekend": -2_000}
INCOME_SD = 8_000.0

#: truth entries that describe the latent contracts or incomes the plant overrides in the files
INVALIDATES = ("payroll_jobs_reclassified_2017", "payrolling_2017", "top_incomes_above_cap", "transitions",
               "first_job")


def person_cells(persons: pl.DataFrame, hoogsteopltab: pl.DataFrame | None, year: int) -> pl.DataFrame:
    """Per person (all of them, in pid order): ``pid``, ``rinpersoon``, ``basis`` (non-Western migration
    background), ``leeftijdsklasse``, ``geslacht``, ``opleidingsniveau`` as the pipeline derives them for
    ``year``.  ``hoogsteopltab``: the generator's HOOGSTEOPLTAB frame of the year (None: everybody
    ``onbekend``)."""
    p = persons.sort("pid")
    birth = p["birth_date"]
    # completed years on 1 January (born on 1 January: the birthday counts), core.characteristics.age_jan1
    jan1 = ((birth.dt.month() == 1) & (birth.dt.day() == 1)).cast(pl.Int64).to_numpy()
    age = year - 1 - birth.dt.year().cast(pl.Int64).to_numpy() + jan1
    bounds = np.array([b for b, _ in AGE_CLASSES])
    labels = np.array([lab for _, lab in AGE_CLASSES], dtype=object)
    klasse = labels[np.searchsorted(bounds, age, side="right") - 1]
    levels = dict(reference.soi_levels().select("code", "niveau").iter_rows())
    if hoogsteopltab is None or hoogsteopltab.height == 0:
        edu = pl.DataFrame(schema={"rinpersoon": pl.String, "opleidingsniveau": pl.String})
    else:
        col = hoogsteopl_column(year, "HB")
        edu = hoogsteopltab.filter(pl.col("RINPERSOONS") == "R").select(
            pl.col("RINPERSOON").alias("rinpersoon"),
            pl.col(col).cast(pl.String).replace_strict(levels, default="onbekend", return_dtype=pl.String)
            .fill_null("onbekend").alias("opleidingsniveau")).unique("rinpersoon", keep="first")
    return (p.select("pid", "rinpersoon", pl.col("nonwestern").alias("basis"),
                     pl.Series("leeftijdsklasse", klasse, dtype=pl.String),
                     pl.col("sex").replace_strict({"1": "man", "2": "vrouw"}, default="man").alias("geslacht"))
            .join(edu, on="rinpersoon", how="left", maintain_order="left")
            .with_columns(pl.col("opleidingsniveau").fill_null("onbekend")))


def vast_chance(cells: pl.DataFrame) -> np.ndarray:
    """O04: the planted chance of a permanent contract per person (group effect included)."""
    p = (VAST_BASE + cells["leeftijdsklasse"].replace_strict(VAST_AGE, return_dtype=pl.Float64).to_numpy()
         + cells["geslacht"].replace_strict(VAST_SEX, return_dtype=pl.Float64).to_numpy()
         + cells["opleidingsniveau"].replace_strict(VAST_EDU, return_dtype=pl.Float64).to_numpy())
    return p + np.where(cells["basis"].to_numpy(), GROUP_EFFECT / 100.0, 0.0)


def expected_income(cells: pl.DataFrame) -> np.ndarray:
    """O09: the planted expected INPPERSPRIM per person (the same rule for every group)."""
    return (INCOME_BASE + cells["leeftijdsklasse"].replace_strict(INCOME_AGE, return_dtype=pl.Int64).to_numpy()
            + cells["geslacht"].replace_strict(INCOME_SEX, return_dtype=pl.Int64).to_numpy()
            + cells["opleidingsniveau"].replace_strict(INCOME_EDU, return_dtype=pl.Int64).to_numpy())


def plant_contracts(spolis: pl.DataFrame, cells: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """SPOLISBUS of a year with SCONTRACTSOORT drawn per person: every O or B row of a person gets the same
    type (O with :func:`vast_chance`), so O04's "most basic hours vast" is the draw whatever the person's jobs
    and hours.  N rows (unknown, left out by O04) and the rows of persons without RINPERSOONS R (cross-border
    workers) keep what they had, a lower-case code stays lower case.  One draw per person in pid order: the
    draws do not depend on who has a job."""
    vast = rng.random(cells.height) < vast_chance(cells)
    draw = pl.DataFrame({"RINPERSOON": cells["rinpersoon"], "_vast": vast})
    orig = pl.col("SCONTRACTSOORT")
    up = orig.str.to_uppercase()
    new = pl.when(pl.col("_vast")).then(pl.lit("O")).otherwise(pl.lit("B"))
    new = pl.when(orig != up).then(new.str.to_lowercase()).otherwise(new)
    hit = (pl.col("RINPERSOONS") == "R") & up.is_in(["O", "B"]) & pl.col("_vast").is_not_null()
    return (spolis.join(draw, on="RINPERSOON", how="left", maintain_order="left")
            .with_columns(pl.when(hit).then(new).otherwise(orig).alias("SCONTRACTSOORT")).drop("_vast"))


def plant_incomes(inpatab: pl.DataFrame, cells: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """INPATAB of a year with INPPERSPRIM drawn per person (:func:`expected_income` + rounded normal noise);
    INPPERSBRUT keeps the person's benefits on top of it and INPPERSINK stays 86 % of that (income.py), so the
    file stays consistent.  Missing incomes (9999999999) stay missing: which incomes are missing was drawn
    before and does not depend on the planted value."""
    prim = expected_income(cells) + np.round(rng.normal(0.0, INCOME_SD, cells.height))
    draw = pl.DataFrame({"RINPERSOON": cells["rinpersoon"], "_prim": prim.astype(np.float64)})
    missing = pl.col("INPPERSPRIM") == float(P.INCOME_MISSING)
    hit = (pl.col("RINPERSOONS") == "R") & ~missing & pl.col("_prim").is_not_null()
    dtype = inpatab.schema["INPPERSPRIM"]
    brut = pl.col("_prim") + (pl.col("INPPERSBRUT") - pl.col("INPPERSPRIM"))
    return (inpatab.join(draw, on="RINPERSOON", how="left", maintain_order="left")
            .with_columns(pl.when(hit).then(brut).otherwise(pl.col("INPPERSBRUT")).alias("_brut"))
            .with_columns(pl.when(hit).then(pl.col("_prim")).otherwise(pl.col("INPPERSPRIM")).cast(dtype)
                          .alias("INPPERSPRIM"),
                          pl.col("_brut").cast(dtype).alias("INPPERSBRUT"),
                          pl.when(hit).then((pl.col("_brut") * 0.86).round(0)).otherwise(pl.col("INPPERSINK"))
                          .cast(dtype).alias("INPPERSINK"))
            .drop("_prim", "_brut").select(inpatab.columns))


def truth(first_year: int, last_year: int) -> dict:
    """The truth file's ``corrections_plant``: what is planted, where, and the gaps the corrected rows must
    show (``gewogen`` and ``model``, basisgroep minus referentiegroep)."""
    years = list(range(max(first_year, FIRST_YEAR), last_year + 1))
    return {
        "report": REPORT,
        "years": years,
        "basisgroep": BASIS, "referentiegroep": REFERENTIE,
        "characteristics": {"leeftijdsklasse": [lab for _, lab in AGE_CLASSES], "geslacht": ["man", "vrouw"],
                            "opleidingsniveau": list(EDU_LEVELS),
                            "from": "age on 1 January (GBAPERSOONTAB birth date), GBAGESLACHT, HOOGSTEOPLTAB of the "
                                    "year (SOI level via reference/soi_levels.csv, not in the file: onbekend)"},
        "outcomes": {
            "O04": {"measure": "vast contract", "unit": "%", "case": "groepseffect",
                    "file": "SPOLISBUS SCONTRACTSOORT (O/B rows of RINPERSOONS R; one draw per person and year)",
                    "chance": "base + age class + sex + education level; + group effect for the basisgroep",
                    "base": VAST_BASE, "age": VAST_AGE, "sex": VAST_SEX, "education": VAST_EDU,
                    "group_effect_pp": GROUP_EFFECT, "expected_corrected_gap": GROUP_EFFECT},
            "O09": {"measure": "INPPERSPRIM", "unit": "euro", "case": "compositie",
                    "file": "INPATAB INPPERSPRIM (INPPERSBRUT and INPPERSINK follow; missing incomes stay missing)",
                    "mean": "base + age class + sex + education level, the same for every group",
                    "base": INCOME_BASE, "age": INCOME_AGE, "sex": INCOME_SEX, "education": INCOME_EDU,
                    "noise_sd": INCOME_SD, "group_effect": 0.0, "expected_corrected_gap": 0.0},
        },
        "invalidates": list(INVALIDATES),
    }
