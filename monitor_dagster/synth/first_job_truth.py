"""Truth of O25 (report 5.1, deelvraag 4c; docs/indicators_first_job.md): the **realised** months from the diploma to
work and to a vast contract of the graduates of each peiljaar, per herkomst group, from the latent world.

Computed from latent data only (no written file is read), with the monitor's rules:

* **graduates of t** (``core.education.education_careers`` ``cohort_4c`` as the education files project the
  latent careers, and ``core/population`` of t): the career row active on 1 October t of a person living in NL
  that day (ONDERWIJSINSCHRTAB t; several -> the lowest OPLNR, as the pipeline's main enrolment) is mbo BOL
  voltijd, or hbo/wo voltijd; no career row is active on 1 October t+1 of a person living in NL that day
  (ONDERWIJSINSCHRTAB t+1: "geen bekostigd onderwijs meer"); a diploma of that onderwijssoort in school year
  t/t+1 (mbo: 1 August t .. 31 July t+1, DIPLOMAMBOTAB t+1; hbo or wo for an hbo or wo enrolment: 1 September
  t .. 31 August t+1, DIPLOMAHOTAB t+1), its month = the month of the latest such diploma; living in NL the
  whole of t and the whole calendar year of the diploma (the residence periods chained like the address
  spells: gaps up to 31 days bridged).  Only
  peiljaren with t+1 in the zone (the pipeline needs ONDERWIJSINSCHRTAB t+1);
* **work** in a month: a substantial main job (``transitions_truth.year_events``, each year judged with its
  own WML of 1 January) or self-employment with INPPERSPRIM / working months >= the **full** monthly WML
  (40 hours, ``transitions_truth.FULL_WML_HOURS``); **vast**: the main job's recorded contract is O;
* **registration**: the chain of residence periods through the first day of the diploma month; it ends at
  the month of its end unless that end is after 31 December of the zone's last year (open in the last address
  release) or on/after 31 December t+4 (after the follow-up); no chain at the diploma month -> the month
  before it;
* **months** (``first_job.o25_duur_tot_baan``): follow-up to min(diploma month + 36, December of the zone's
  last year); left = the registration ends before that; first work month at or after the diploma month
  (0 = working in the diploma month) within the registration -> its distance; otherwise censored when left
  (``niet in BRP``, months registered after the diploma), else the months followed (36 at most).  Vast the
  same; graduates whose first work is self-employment only are out of the vast measure.

``first_job_events`` applies the month rule to a panel of codes (``transitions_truth.first_job_codes``);
``transitions_truth.labour_truths`` builds the panels once for both truths.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

#: first_job.FOLLOW_UP_MONTHS / FOLLOW_UP_YEARS (report 5.1: "drie jaar"; a diploma of August t+1 needs t+4)
FOLLOW_UP_MONTHS = 36
FOLLOW_UP_YEARS = 4
ROUTES = ("mbo", "hbo", "wo")
#: core.population.ADDRESS_GAP_TOLERANCE_DAYS: a gap of up to 31 days between two periods is bridged
GAP_DAYS = 31
#: events of the truth entry ``first_job`` (persons unless named ``..._months_sum``)
EVENTS = ("graduates", "censored", "censored_months_sum", "werk_n", "werk_months_sum", "werk_at_diploma",
          "werk_none", "vast_n", "vast_months_sum", "self_employed_first",
          *(f"{m}_{r}" for r in ROUTES
            for m in ("graduates", "werk_n", "werk_months_sum", "vast_n", "vast_months_sum")))
_NEVER = np.iinfo(np.int32).max // 2


def _mi(col: str) -> pl.Expr:
    """Month index year x 12 + month - 1 (core._intervals.month_index)."""
    return pl.col(col).dt.year().cast(pl.Int32) * 12 + pl.col(col).dt.month().cast(pl.Int32) - 1


def residence_chains(residence: pl.DataFrame) -> pl.DataFrame:
    """pid, start, end (null = open): the residence periods chained like ``core.population.address_chains``
    chains the address spells (a gap of at most :data:`GAP_DAYS` days bridged)."""
    far = dt.date(9999, 12, 31)
    r = residence.select("pid", "start", pl.col("end").fill_null(far)).sort("pid", "start", "end")
    pid = r["pid"].to_numpy()
    start = r["start"].to_physical().to_numpy().astype(np.int64)
    end = r["end"].to_physical().to_numpy().astype(np.int64)
    # latest end so far within the person (rows sorted by pid: pid x 2^32 + end keeps the running maximum
    # inside each person's rows); a new chain where the person changes or the gap exceeds GAP_DAYS
    run = np.maximum.accumulate(pid * 2**32 + end) - pid * 2**32
    new = np.r_[True, (pid[1:] != pid[:-1]) | (start[1:] - run[:-1] - 1 > GAP_DAYS)]
    return (r.with_columns(pl.Series("_c", np.cumsum(new)))
            .group_by("_c").agg(pl.col("pid").first(), pl.col("start").min(), pl.col("end").max())
            .select("pid", "start", pl.when(pl.col("end") == far).then(None).otherwise(pl.col("end")).alias("end")))


def _in_nl(residence: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return residence.filter((pl.col("start") <= day) & (pl.col("end").is_null() | (pl.col("end") >= day))).select("pid")


def _enrolled(careers: pl.DataFrame, residence: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The career rows ONDERWIJSINSCHRTAB projects for 1 October: active that day, person living in NL."""
    return (careers.filter((pl.col("start") <= day) & (pl.col("end") >= day))
            .join(_in_nl(residence, day), on="pid", how="semi"))


def graduates(careers: pl.DataFrame, residence: pl.DataFrame, chains: pl.DataFrame, t: int,
              last_year: int) -> pl.DataFrame:
    """The 4c cohort of peiljaar t in the population of t (module docstring): pid, ``route`` (mbo/hbo/wo),
    ``dmi`` (month index of the diploma month), ``reg_mi`` (last month of the registration through the
    diploma month, null while it has not ended within the follow-up and the zone)."""
    enrol = (_enrolled(careers, residence, dt.date(t, 10, 1)).sort("pid", "oplnr")
             .group_by("pid", maintain_order=True).first()
             .filter(pl.col("stage").is_in(ROUTES))
             .filter(pl.when(pl.col("stage") == "mbo")
                     .then((pl.col("type_mbo") != "BBL") & ~pl.col("bol_deeltijd").fill_null(False))
                     .otherwise(pl.col("vorm_ho") == "1"))
             .select("pid", pl.col("stage").alias("route")))
    nxt = _enrolled(careers, residence, dt.date(t + 1, 10, 1)).select("pid")

    def diploma(stages: list[str], lo: dt.date, hi: dt.date) -> pl.DataFrame:
        return (careers.filter(pl.col("stage").is_in(stages) & pl.col("diploma")
                               & pl.col("diploma_date").is_between(lo, hi))
                .group_by("pid").agg(pl.col("diploma_date").dt.month_start().max().alias("_d")))

    mbo = diploma(["mbo"], dt.date(t, 8, 1), dt.date(t + 1, 7, 31)).with_columns(pl.lit(True).alias("_mbo"))
    ho = diploma(["hbo", "wo"], dt.date(t, 9, 1), dt.date(t + 1, 8, 31)).with_columns(pl.lit(False).alias("_mbo"))
    whole = chains.filter((pl.col("start") <= dt.date(t, 1, 1))
                          & (pl.col("end").is_null() | (pl.col("end") >= dt.date(t, 12, 31)))).select("pid")
    g = (enrol.join(nxt, on="pid", how="anti").join(whole, on="pid", how="semi")
         .with_columns((pl.col("route") == "mbo").alias("_mbo"))
         .join(pl.concat([mbo, ho]), on=["pid", "_mbo"], how="inner")
         .select("pid", "route", _mi("_d").alias("dmi"), pl.col("_d")))
    # living in NL the whole calendar year of the diploma too (report 5.1: "in het jaar van afstuderen ... het
    # hele jaar in Nederland"; first_job.resident_in_diploma_year)
    y = pl.col("_d").dt.year()
    diploma_year = (g.join(chains, on="pid", how="inner")
                    .filter((pl.col("start") <= pl.date(y, 1, 1))
                            & (pl.col("end").is_null() | (pl.col("end") >= pl.date(y, 12, 31))))
                    .select("pid").unique())
    g = g.join(diploma_year, on="pid", how="semi")
    # registration through the first day of the diploma month (first_job.registered_until)
    cut = min(dt.date(last_year, 12, 31), dt.date(t + FOLLOW_UP_YEARS, 12, 30))   # later ends: not ended
    cover = (g.join(chains, on="pid", how="inner")
             .filter((pl.col("start") <= pl.col("_d")) & (pl.col("end").is_null() | (pl.col("end") >= pl.col("_d"))))
             .select("pid", pl.when(pl.col("end") <= cut).then(_mi("end")).alias("reg_mi"), pl.lit(True).alias("_cov")))
    return (g.join(cover, on="pid", how="left")
            .select("pid", "route", "dmi", pl.when(pl.col("_cov").is_null()).then(pl.col("dmi") - 1)
                    .otherwise(pl.col("reg_mi")).cast(pl.Int32).alias("reg_mi"))
            .sort("pid"))


def first_job_events(codes: np.ndarray, d: np.ndarray, reg: np.ndarray, route: np.ndarray) -> dict[str, np.ndarray]:
    """Per graduate: the events and month sums of :data:`EVENTS` (int arrays).

    ``codes`` [g, W]: the months January t .. December of the zone's last year (at most t+4) with
    ``transitions_truth`` codes (0 none, 1 tijdelijk main job, 2 vast main job, 3 self-employment only above
    the full monthly WML); ``d`` the column of the diploma month; ``reg`` the column of the last month of the
    registration (:data:`_NEVER`-like large values: not ended; d - 1: no registration at the diploma month);
    ``route`` mbo / hbo / wo."""
    g, width = codes.shape
    cols = np.arange(width, dtype=np.int32)

    def first_at_or_after(mask: np.ndarray) -> np.ndarray:
        col = np.where(mask, cols, np.int32(_NEVER))
        nxt = np.minimum.accumulate(col[:, ::-1], axis=1)[:, ::-1]
        return np.take_along_axis(nxt, d[:, None].astype(np.int64), axis=1)[:, 0]

    fw = first_at_or_after(codes > 0)
    fv = first_at_or_after(codes == 2)
    work_self = np.take_along_axis(codes, np.minimum(fw, width - 1)[:, None].astype(np.int64), axis=1)[:, 0] == 3
    end = np.minimum(d + FOLLOW_UP_MONTHS, width - 1)
    left = reg < end
    limit = np.where(left, reg, end)
    found, found_v = fw <= limit, fv <= limit
    censored = left & ~found
    werk = ~censored
    werk_m = np.where(found, fw - d, end - d) * werk
    self_first = found & work_self
    vast = ~(left & ~found_v) & ~self_first
    vast_m = np.where(found_v, fv - d, end - d) * vast
    out = {"graduates": np.ones(g, dtype=np.int64), "censored": censored,
           "censored_months_sum": np.clip(reg - d, 0, None) * censored,
           "werk_n": werk, "werk_months_sum": werk_m, "werk_at_diploma": found & (fw == d),
           "werk_none": werk & ~found, "vast_n": vast, "vast_months_sum": vast_m, "self_employed_first": self_first}
    for r in ROUTES:
        on = route == r
        out.update({f"graduates_{r}": on, f"werk_n_{r}": werk & on, f"werk_months_sum_{r}": werk_m * on,
                    f"vast_n_{r}": vast & on, f"vast_months_sum_{r}": vast_m * on})
    return {k: np.asarray(v).astype(np.int64) for k, v in out.items()}


def cohorts(careers: pl.DataFrame, residence: pl.DataFrame, first_year: int, last_year: int, *,
            persons: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """:func:`graduates` of every peiljaar whose t+1 is in the zone, without the first generation in NL six
    months or less on 1 January t (``synth.truth.short_stay``): core/population of t leaves them out of every
    analysis (report 2.2), so O25 never sees them.  None such on the zones measured (the national zone's 119,920
    graduates of 2020 equal the pipeline's), but the rule is the monitor's, as in the other truths."""
    from monitor_dagster.synth.truth import without_short_stay

    chains = residence_chains(residence)
    return {t: without_short_stay(graduates(careers, residence, chains, t, last_year), persons, residence, t)
            for t in range(first_year, last_year)}


def cohort_events(cohort: pl.DataFrame, t: int, last_year: int, codes_of_year: dict[int, np.ndarray],
                  row_of_pid: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`first_job_events` of one cohort, its panel January t .. December min(t+4, last year) cut from
    the yearly code panels (``codes_of_year[y]``: [persons of ``row_of_pid``, 12])."""
    rows = row_of_pid[cohort["pid"].to_numpy()]
    years = range(t, min(t + FOLLOW_UP_YEARS, last_year) + 1)
    codes = np.concatenate([codes_of_year[y][rows] for y in years], axis=1)
    reg = (cohort["reg_mi"].cast(pl.Int64) - t * 12).fill_null(_NEVER).to_numpy()
    return first_job_events(codes, cohort["dmi"].to_numpy().astype(np.int64) - t * 12, reg,
                            cohort["route"].to_numpy())
