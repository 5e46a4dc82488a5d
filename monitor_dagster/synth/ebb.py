"""EBBNW: the labour force survey (Enquete Beroepsbevolking), one row per respondent and wave.

Respondents are drawn from persons of 15 and over living in NL; each answers in 1-4 consecutive quarterly waves
of the year (``EbbTypGolf`` 1.. in the order of the waves); each row carries its own yearly weight, the
respondent's weight divided by his number of waves, so that the weights of a year add up to the real Dutch
population the synthetic one stands for and the sum over a respondent's waves is his person-year weight
(indicators.ebb, report 4.1 "nemen we de gewichten van de verschillende peilingen mee").  Birth year and
month (``EbbAflGebJaar``, ``EbbAflGebMaand``, names assumed) are the person's; 4 % of the respondents have no
birth date and 6 % a year without a month.  Labour-force
status follows the international definition (report 4.1): employed = paid work of at least 1 hour a week;
unemployed = no such work, searched in the last 4 weeks and available.  Only the first two variable names are
confirmed (CBS file documentation); the others are assumed and mapped in data_catalog.yaml.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth import params as P
from monitor_dagster.synth.labour import AO, BIJSTAND, OTHER, PENSION, SCHOOL, SOCVOORZ, WW, LabourHistory

HERKOMST_2D = {"Nederland": "00", "Marokko": "01", "Turkije": "02", "Suriname": "03", "Antillen en Aruba": "04",
               "Afghanistan": "05", "Irak": "06", "Iran": "07", "Somalië": "08", "Syrië": "09", "Eritrea": "10",
               "Afrika overig": "11", "overig niet-westers": "12", "Duitsland": "13", "Polen": "14", "Indonesië": "15",
               "westers overig": "16"}
OPL_CODE = {"laag": "1", "middelbaar": "2", "hoog": "3"}
#: birth year / month columns (names assumed, as in indicators.ebb) and the shares of respondents without a
#: birth date (age at the interview only) and with a birth year but no month, so both fallbacks are exercised
BIRTH_YEAR, BIRTH_MONTH = "EbbAflGebJaar", "EbbAflGebMaand"
EBB_NO_BIRTH_DATE = 0.04
EBB_NO_BIRTH_MONTH = 0.06
#: the survey's own person id (name assumed, as in indicators.ebb) and the share of respondents the file does not
#: link to RINPERSOON ("linkable to RINPERSOON for most respondents"): their person key is empty, and the ingest
#: and the EBB indicators must keep them (key across waves: the survey id)
SURVEY_ID = "EbbStkPersIdVersleuteld"
EBB_UNLINKED = 0.02


def represented_per_person(residence: pl.DataFrame) -> float:
    """Real persons one synthetic person stands for: NL population 1-1-2018 / synthetic one (StatLine 37296ned)."""
    import datetime as dt
    d = dt.date(2018, 1, 1)
    n = residence.filter((pl.col("start") <= d) & (pl.col("end").is_null() | (pl.col("end") >= d)))["pid"].n_unique()
    return P.POPULATION_2018_TOTAL / max(n, 1)


def project_ebbnw(lab: LabourHistory, persons: pl.DataFrame, person_edu: pl.DataFrame, year: int,
                  scale: float, rng: np.random.Generator) -> pl.DataFrame:
    m0 = (year - lab.origin_year) * 12
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    age_jan1 = (np.datetime64(f"{year}-01-01") - birth).astype(np.int64) / 365.25
    present = lab.state_m[:, m0] != 0
    eligible = np.flatnonzero(present & (age_jan1 >= 15) & (age_jan1 < 90))
    resp = eligible[rng.random(len(eligible)) < P.EBB_SAMPLE_SHARE]
    k = len(resp)
    n_waves = rng.integers(1, 5, k)
    first_q = rng.integers(0, 5 - n_waves)
    rows = np.repeat(np.arange(k), n_waves)
    wave_in_year = np.concatenate([np.arange(w) for w in n_waves]) if k else np.array([], dtype=int)
    quarter = first_q[rows] + wave_in_year            # 0..3
    month = m0 + quarter * 3 + rng.integers(0, 3, len(rows))
    pid = resp[rows]
    st = lab.state_m[pid, month]
    hours = lab.hours_m[pid, month]
    still = st != 0
    pid, st, hours, quarter, month, rows, wave_in_year = (
        pid[still], st[still], hours[still], quarter[still], month[still], rows[still], wave_in_year[still])
    employed = hours >= 1
    p_search = np.zeros(len(pid))
    for s_, p_ in ((WW, "WW"), (BIJSTAND, "BIJSTAND"), (OTHER, "OTHER"), (SOCVOORZ, "SOCVOORZ"), (AO, "AO"),
                   (SCHOOL, "SCHOOL"), (PENSION, "PENSION")):
        p_search[st == s_] = P.EBB_SEARCH[p_]
    age = (month - m0) / 12.0 + age_jan1[pid]
    p_search = np.where(age >= 65, p_search * 0.2, p_search)
    p_search = np.minimum(1.0, p_search * (P.UNEMPLOYMENT_TOTAL.get(year, 5.0) / 5.0) ** P.EBB_SEARCH_CYCLE_POWER)
    searched = ~employed & (rng.random(len(pid)) < p_search)
    available = rng.random(len(pid)) < P.EBB_AVAILABLE
    # weights: each wave's rows add up to the population; post-stratified by sex x age class, with noise
    waves_of = n_waves[rows]
    w = scale / P.EBB_SAMPLE_SHARE / waves_of * rng.uniform(0.8, 1.2, len(pid))
    p = persons.select("pid", "sex", "generation", "herkomst_group", "birth_date").join(
        person_edu.select("pid", "edu_niveau"), on="pid", how="left")
    info = pl.DataFrame({"pid": pid.astype(np.int64)}).join(p, on="pid", how="left")
    opl = info["edu_niveau"].replace_strict(OPL_CODE, default="9", return_dtype=pl.Utf8)
    opl = pl.Series(np.where(rng.random(len(pid)) < 0.03, "9", opl.to_numpy()))   # item non-response
    df = pl.DataFrame({
        "pid": pid.astype(np.int64),
        "EbbGewJaarGewichtA": np.round(w, 3),
        "EbbAflLft": np.floor(age).astype(np.int64),
        "EbbAflHerkomstGBA2d": info["herkomst_group"].replace_strict(HERKOMST_2D, return_dtype=pl.Utf8),
        "EbbAflGeneratie": info["generation"].cast(pl.Utf8),
        "EbbAflGeslacht": info["sex"],
        "EbbAflOpl3": opl,
        "EbbTypGolf": (wave_in_year + 1).astype(str),
        "EbbAflKwartaal": (quarter + 1).astype(str),
        "EbbAflUrenWerk": np.round(hours).astype(np.int64),
        "EbbAflZoek4Wk": np.where(searched, "1", "2"),
        "EbbAflBeschikb": np.where(available, "1", "2"),
    })
    # birth year and month (the AOW rule of the leeftijd breakdown, report 2.2): per respondent, so constant
    # over the waves; drawn last, so the columns above do not change with this step
    gap = rng.random(k)[rows]
    no_date = gap < EBB_NO_BIRTH_DATE
    no_month = gap < EBB_NO_BIRTH_DATE + EBB_NO_BIRTH_MONTH
    df = df.with_columns(
        pl.Series(BIRTH_YEAR, info["birth_date"].dt.year().cast(pl.Int64)).set(pl.Series(no_date), None),
        pl.Series(BIRTH_MONTH, info["birth_date"].dt.month().cast(pl.Int64)).set(pl.Series(no_month), None),
    )
    # the survey id and the unlinked respondents, from a generator of their own so that no other draw of the
    # zone changes with them
    own = np.random.default_rng([year, k, 7103])
    unlinked = pl.Series((own.random(k) < EBB_UNLINKED)[rows])
    df = df.with_columns(pl.format("{}{}", pl.lit(f"E{year}"), (pl.col("pid") * 7919 % 2_147_483_647).cast(pl.String)
                                   .str.zfill(10)).alias(SURVEY_ID))
    keys = persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))
    out = df.join(keys, on="pid", maintain_order="left").drop("pid")
    out = out.with_columns(pl.when(unlinked).then(pl.lit("")).otherwise(pl.col(c)).alias(c)
                           for c in ("RINPERSOONS", "RINPERSOON"))
    return out.select(["RINPERSOONS", "RINPERSOON", *df.columns[1:]]).sort("RINPERSOON", SURVEY_ID, "EbbTypGolf")

