"""SPOLISBUS / POLISBUS rows from the latent jobs.

One row per job (IKV) per overlap of a payroll period with a calendar month (CBS file documentation): monthly payrolls
give one row per month, 4-weekly payrolls (13 periods of 28 days) give 2-3 rows per job in some months.
Planted here: the payrolling break (payroll jobs recorded O until 2016 and B from 2017 with no change in the
job, report footnote 13), SAANTCTRCTURENPWK only from 2016, interns (SSOORTBAAN 2), contract type N, lower
case contract codes, RINPERSOONS other than R (cross-border workers), part-year releases (t/m maand 6/9), and
benefits paid through the payroll (:func:`benefit_rows`: UWV's WW and disability benefits, SSRTIV 21+, which
the monitor must not count as jobs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from monitor_dagster.synth import params as P
from monitor_dagster.synth.timeutil import yyyymmdd

OPEN_IKV = "88888888"
PAYROLL_BREAK_YEAR = 2017
CONTRACT_HOURS_FROM = 2016


def _segments(year: int, four_weekly: bool) -> pl.DataFrame:
    """Calendar pieces of the payroll periods of ``year`` (period x month overlaps)."""
    months = [(dt.date(year, m, 1), (dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))) for m in range(1, 13)]
    if not four_weekly:
        return pl.DataFrame({"seg_start": [a for a, _ in months], "seg_end": [b for _, b in months],
                             "month": list(range(1, 13))})
    jan1 = dt.date(year, 1, 1)
    periods = [(jan1 + dt.timedelta(days=28 * k), jan1 + dt.timedelta(days=28 * k + 27)) for k in range(13)]
    periods[-1] = (periods[-1][0], dt.date(year, 12, 31))   # the 13th period takes the last day(s)
    rows = []
    for ps, pe in periods:
        for i, (ms, me) in enumerate(months, start=1):
            a, b = max(ps, ms), min(pe, me)
            if a <= b:
                rows.append((a, b, i))
    return pl.DataFrame(rows, schema=["seg_start", "seg_end", "month"], orient="row")


def _hours_class(h: pl.Expr) -> pl.Expr:
    return (pl.when(h < 12).then(pl.lit("1")).when(h < 20).then(pl.lit("2")).when(h < 25).then(pl.lit("3"))
            .when(h < 30).then(pl.lit("4")).when(h < 35).then(pl.lit("5")).otherwise(pl.lit("6")))


JOB_COLUMNS = ["job_id", "pid", "sbeid", "ssect", "broad_sector", "four_weekly", "start", "end", "perm_date", "contract0",
               "soortbaan", "hours", "contract_hours", "wage0", "year0", "growth", "payroll"]
CHUNK_JOBS = 50_000   # jobs per projection chunk: bounds memory at national scale


def project_spolisbus(jobs: pl.DataFrame, persons: pl.DataFrame, year: int, rng: np.random.Generator) -> pl.DataFrame:
    """SPOLISBUS (from 2010) or POLISBUS (before 2010) rows of the whole ``year``.  Part-year releases are
    cut from this frame by :func:`part_year`, so a provisional release agrees with the final one on the months
    it covers."""
    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    j = (jobs.select(JOB_COLUMNS).filter((pl.col("start") <= y1) & (pl.col("end").is_null() | (pl.col("end") >= y0)))
         .sort("job_id"))
    keys = persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))
    segs = {fw: _segments(year, fw) for fw in (False, True)}
    parts = [_project_chunk(j.slice(lo, CHUNK_JOBS), segs, keys, year, rng) for lo in range(0, max(j.height, 1), CHUNK_JOBS)]
    out = pl.concat(parts, rechunk=False)
    # rows stay in IKVID order (chunks are sorted); the non-resident (S) rows follow at the end
    out = pl.concat([out, _non_resident_rows(out, rng)], rechunk=False)
    if year < 2010:
        out = to_polis(out)
    return out


def part_year(df: pl.DataFrame, year: int, months: int) -> pl.LazyFrame:
    """A provisional release 't/m maand ``months``': rows up to that month; jobs ending later are open.
    Lazy, so that the cut is streamed to disk instead of copied in memory."""
    polis = "AANVBUS" in df.columns
    start_c, end_ikv = ("AANVBUS", "DATUMEINDEIKV") if polis else ("SDATUMAANVANGIKO", "SDATUMEINDEIKV")
    cut = (dt.date(year + (months == 12), months % 12 + 1, 1) - dt.timedelta(days=1)).strftime("%Y%m%d")
    return df.lazy().filter(pl.col(start_c) <= cut).with_columns(
        pl.when(pl.col(end_ikv) > cut).then(pl.lit(OPEN_IKV)).otherwise(pl.col(end_ikv)).alias(end_ikv))


def _project_chunk(j: pl.DataFrame, segs: dict, keys: pl.DataFrame, year: int, rng: np.random.Generator) -> pl.DataFrame:
    cover_end = dt.date(year, 12, 31)
    parts = []
    for fw in (False, True):
        x = j.filter(pl.col("four_weekly") == fw).join(segs[fw], how="cross")
        x = x.with_columns(pl.max_horizontal("seg_start", "start").alias("a"),
                           pl.min_horizontal("seg_end", pl.col("end").fill_null(dt.date(9999, 12, 31))).alias("b"))
        parts.append(x.filter(pl.col("a") <= pl.col("b")).drop("seg_start", "seg_end"))
    x = pl.concat(parts).sort("job_id", "a")
    n = x.height
    days = (x["b"] - x["a"]).dt.total_days().to_numpy() + 1
    hours = x["hours"].to_numpy().astype(float)
    on_call = (x["soortbaan"] == "5").to_numpy()
    hours = np.where(on_call, hours * rng.uniform(0.2, 1.8, n), hours)
    basisuren = np.round(hours * days / 7.0 * rng.uniform(0.97, 1.03, n))
    basisuren = np.maximum(basisuren, np.where(days > 0, 1, 0))
    overwerk = np.where(rng.random(n) < 0.08, rng.integers(1, 11, n), 0)
    wage = x["wage0"].to_numpy() * (1 + x["growth"].to_numpy()) ** (year - x["year0"].to_numpy())
    basisloon = np.round(wage * basisuren)
    month = x["month"].to_numpy()
    job = x["job_id"].to_numpy()
    annual = wage * hours * 52
    last_seg_of_month = np.r_[(job[1:] != job[:-1]) | (month[1:] != month[:-1]), True]
    bijz = np.where((month == 5) & last_seg_of_month, np.round(0.08 * annual), 0)
    bijz = bijz + np.where((month == 12) & last_seg_of_month & (job % 4 == 0), np.round(annual / 12), 0)
    lningld = basisloon + np.round(overwerk * wage * 1.25) + bijz
    lower = rng.random(n) < P.P_LOWERCASE_CODE
    # recorded contract type: permanent from the conversion date; payroll jobs B from 2017 (footnote 13)
    contract = (pl.when(pl.col("payroll") & pl.lit(year >= PAYROLL_BREAK_YEAR)).then(pl.lit("B"))
                .when(pl.col("perm_date").is_not_null() & (pl.col("a") >= pl.col("perm_date"))).then(pl.lit("O"))
                .otherwise(pl.col("contract0")))
    contract = pl.when(pl.Series(lower)).then(contract.str.to_lowercase()).otherwise(contract)
    srtiv = (pl.when(pl.col("soortbaan") == "1").then(pl.lit(JOB_SRTIV["dga"]))
             .when(pl.col("broad_sector").is_in(["overheid", "onderwijs"])).then(pl.lit(JOB_SRTIV["ambtenaar"]))
             .otherwise(pl.lit(JOB_SRTIV["werknemer"])))
    cao = (pl.when(pl.col("broad_sector") == "overheid").then(pl.lit("3000"))
           .when(pl.col("broad_sector") == "onderwijs").then(pl.lit("3400"))
           .when(pl.col("broad_sector") == "zorg").then(pl.lit("2000")).otherwise(pl.lit("1000")))
    out = x.select(
        "pid",
        pl.col("job_id").alias("IKVID"),
        pl.col("sbeid").alias("SBEID"),
        yyyymmdd("a").alias("SDATUMAANVANGIKO"), yyyymmdd("b").alias("SDATUMEINDEIKO"),
        yyyymmdd("start").alias("SDATUMAANVANGIKV"),
        pl.when(pl.col("end").is_null() | (pl.col("end") > cover_end)).then(pl.lit(OPEN_IKV))
        .otherwise(yyyymmdd("end")).alias("SDATUMEINDEIKV"),
        pl.Series("SBASISLOON", basisloon), pl.Series("SBASISUREN", basisuren),
        pl.Series("SAANTVERLU", basisuren + overwerk), pl.Series("SOVERWERKUREN", overwerk.astype(float)),
        pl.Series("SREGULIEREUREN", basisuren),
        pl.col("contract_hours").cast(pl.Float64).alias("SAANTCTRCTURENPWK"),
        pl.Series("SBAANDAGEN", days.astype(float)),
        pl.Series("SVOLTIJDDAGEN", np.round(days * np.minimum(hours / 38.0, 1.0), 1)),
        pl.Series("SBIJZONDEREBELONING", bijz.astype(float)), pl.Series("SLNINGLD", lningld),
        contract.alias("SCONTRACTSOORT"),
        pl.col("soortbaan").alias("SSOORTBAAN"), srtiv.alias("SSRTIV"), pl.col("ssect").alias("SSECT"),
        cao.alias("SCAOSECTOR"),
        pl.when(pl.col("hours") >= 35).then(pl.lit("1")).otherwise(pl.lit("2")).alias("SPOLISDIENSTVERBAND"),
        _hours_class(pl.col("hours")).alias("SWEKARBDUURKLASSE"),
    )
    if year < CONTRACT_HOURS_FROM:
        out = out.drop("SAANTCTRCTURENPWK")
    out = out.join(keys, on="pid", how="left").drop("pid")
    return out.select("RINPERSOONS", "RINPERSOON", *[c for c in out.columns if c not in ("RINPERSOONS", "RINPERSOON")])


#: cross-border workers: the repeated job gets IKVID + S_JOB_SHIFT and the person RINPERSOONS S with
#: RINPERSOON = job % S_KEY_MOD + S_KEY_LOW (replicate.py relies on these to keep copies' keys apart)
S_JOB_SHIFT = 900_000_000
S_KEY_MOD = 99_999_999
S_KEY_LOW = 800_000_000


def _non_resident_rows(out: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Jobs of persons not in the population register (RINPERSOONS S): cross-border workers."""
    ikv = out["IKVID"].unique().sort().to_numpy()
    pick = ikv[rng.random(len(ikv)) < P.NON_R_JOB_SHARE]
    x = out.filter(pl.col("IKVID").is_in(pick))
    return x.with_columns(pl.lit("S").alias("RINPERSOONS"),
                          (pl.col("IKVID") % S_KEY_MOD + S_KEY_LOW).cast(pl.Utf8).alias("RINPERSOON"),
                          (pl.col("IKVID") + S_JOB_SHIFT).alias("IKVID"))


#: benefits paid through the payroll: IKVID = BENEFIT_JOB_SHIFT + the spell's number, below S_JOB_SHIFT so that the
#: replication's job offset (replicate.py, a power of ten above S_JOB_SHIFT + the largest job) covers them
BENEFIT_JOB_SHIFT = 500_000_000
#: the paying body (UWV) as the withholding agent
UWV_SBEID = "000099990"
#: SSRTIV of a benefit row: the code "soort inkomstenverhouding" of the loonaangifte (Belastingdienst, Handboek
#: loonheffingen, table of codes soort inkomstenverhouding): 31 Ziektewet, 32 WAO, 33 WW, 39 IVA, 40 WGA
BENEFIT_SRTIV = {"WW": "33", "ZW": "31", "WAO": "32", "IVA": "39", "WGA": "40"}
#: SSRTIV of a job row: 11 ambtenaren, 15 other employees, 17 a director-major shareholder (DGA), who is not
#: insured for the employee insurances (13 is a director who is)
JOB_SRTIV = {"ambtenaar": "11", "werknemer": "15", "dga": "17"}


def benefit_rows(spells: pl.DataFrame, persons: pl.DataFrame, year: int, rng: np.random.Generator,
                 like: pl.DataFrame) -> pl.DataFrame:
    """SPOLIS rows of the WW and disability benefits UWV pays in ``year``: one row per benefit and calendar month
    (a monthly payment), SSRTIV by the benefit's law (:data:`BENEFIT_SRTIV`: 33 WW, 31 ZW, 32 WAO, 39 IVA,
    40 WGA), no hours, contract type N.  The real file holds them
    next to the jobs (9-10 million persons a year, more than there are employees; CBS file documentation), and
    core.jobs keeps only wage relationships (SSRTIV < 21): these rows test that, and the planted truths, drawn
    from the jobs, would break if they were counted.  ``spells``: the latent state spells (labour.py; WW = 6,
    AO = 9); ``like``: the year's job rows, whose columns and types the rows take.  A stream of their own
    (``rng``), so that no other draw changes."""
    from monitor_dagster.synth.labour import AO, SUB_IVA, SUB_WAO, SUB_WGA, SUB_ZW, WW

    _AO_SRTIV = {SUB_ZW: BENEFIT_SRTIV["ZW"], SUB_WAO: BENEFIT_SRTIV["WAO"], SUB_IVA: BENEFIT_SRTIV["IVA"],
                 SUB_WGA: BENEFIT_SRTIV["WGA"]}

    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    sp = (spells.with_row_index("spell_no").filter(pl.col("state").is_in([WW, AO]) & (pl.col("start") <= y1)
                                                  & (pl.col("end").is_null() | (pl.col("end") >= y0))))
    if sp.height == 0 or like.height == 0:
        return like.clear()
    daily = rng.uniform(35.0, 95.0, sp.height).round(2)
    sp = sp.with_columns(pl.Series("daily", daily))
    x = sp.join(_segments(year, False), how="cross").with_columns(
        pl.max_horizontal("seg_start", "start").alias("a"),
        pl.min_horizontal("seg_end", pl.col("end").fill_null(dt.date(9999, 12, 31))).alias("b"))
    x = x.filter(pl.col("a") <= pl.col("b")).with_columns(
        ((pl.col("b") - pl.col("a")).dt.total_days() + 1).cast(pl.Float64).alias("days"))
    keys = persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))
    ww = pl.col("state") == WW
    rows = x.join(keys, on="pid", how="inner").sort("spell_no", "a").select(
        "RINPERSOONS", "RINPERSOON",
        (pl.col("spell_no").cast(pl.Int64) + BENEFIT_JOB_SHIFT).alias("IKVID"),
        pl.lit(UWV_SBEID).alias("SBEID"),
        yyyymmdd("a").alias("SDATUMAANVANGIKO"), yyyymmdd("b").alias("SDATUMEINDEIKO"),
        yyyymmdd("start").alias("SDATUMAANVANGIKV"),
        pl.when(pl.col("end").is_null() | (pl.col("end") > y1)).then(pl.lit(OPEN_IKV)).otherwise(yyyymmdd("end"))
        .alias("SDATUMEINDEIKV"),
        (pl.col("daily") * pl.col("days")).round(0).alias("SBASISLOON"),
        *[pl.lit(0.0).alias(c) for c in ("SBASISUREN", "SAANTVERLU", "SOVERWERKUREN", "SREGULIEREUREN")],
        pl.lit(None, dtype=pl.Float64).alias("SAANTCTRCTURENPWK"),
        pl.col("days").alias("SBAANDAGEN"), pl.lit(0.0).alias("SVOLTIJDDAGEN"),
        pl.lit(0.0).alias("SBIJZONDEREBELONING"),
        (pl.col("daily") * pl.col("days")).round(0).alias("SLNINGLD"),
        pl.lit("N").alias("SCONTRACTSOORT"), pl.lit("9").alias("SSOORTBAAN"),
        pl.when(ww).then(pl.lit(BENEFIT_SRTIV["WW"]))
        .otherwise(pl.col("subtype").replace_strict(_AO_SRTIV, default=BENEFIT_SRTIV["WGA"], return_dtype=pl.Utf8))
        .alias("SSRTIV"),
        pl.lit("64").alias("SSECT"), pl.lit("3000").alias("SCAOSECTOR"), pl.lit("2").alias("SPOLISDIENSTVERBAND"),
        pl.lit("1").alias("SWEKARBDUURKLASSE"))
    if year < 2010:
        rows = to_polis(rows)
    return rows.select([pl.col(c).cast(t) if c in rows.columns else pl.lit(None, dtype=t).alias(c)
                        for c, t in like.schema.items()])


POLIS_RENAME = {"IKVID": "BAANRUGID", "SDATUMAANVANGIKO": "AANVBUS", "SDATUMEINDEIKO": "EINDBUS"}


def to_polis(df: pl.DataFrame) -> pl.DataFrame:
    """POLISBUS (2006-2009) names: BAANRUGID and no S prefix (CBS file documentation)."""
    ren = {c: POLIS_RENAME.get(c, c[1:] if c.startswith("S") and c not in ("SECT",) else c) for c in df.columns}
    ren["RINPERSOONS"] = "RINPERSOONS"
    return df.rename(ren)
