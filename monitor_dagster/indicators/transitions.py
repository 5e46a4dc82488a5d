"""Labour-market dynamics from month to month, research question 4d-4g (technisch rapport Monitor gelijke
kansen, §5.2): baanbehoud (O27), stijging en daling van het uurloon (O28), van tijdelijk naar vast (O29/O30), uitstroom uit werk (O31-O34) and from a
benefit to work or bijstand (O35-O37).

One monthly state per person (:func:`monthly_states`) over the panel of year t, November t-1 to December t
("Hiervoor werden ook maand 11 en 12 van het voorgaande jaar gebruikt"), built from the core job-months and
SECM months by a group-by and one join on (person, month): never a self-join of a person-month table.  A
transition is a state and the state of the next month (``shift`` within the person, ordered by month), so
the work is linear in the months.

Rules where the report is silent are written down in ``docs/indicators_transitions.md``; the main ones:

* **the 12 transitions of year t** are the month pairs whose *second* month lies in t (December t-1 ->
  January t ... November t -> December t): the follow-up month of December t lies in t+1, whose files a
  yearly run does not have;
* **denominators** are the persons in the state of origin in one of those 12 origin months (report: "het
  totaal aantal mensen met werk binnen het peiljaar"); the numerators are persons of the denominator;
* a person-month has **one state**: work first (a substantial job, or self-employment above the income
  threshold), then the SECM benefit (WW, bijstand, AO/ZW, overige uitkering), else ``geen`` (no work, no
  benefit, or absent from SECM and SPOLIS);
* the **main job** of a month (contract, employer, sector) is the substantial job with the most basic hours
  (a tie: the lowest job key).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster import reference
from monitor_dagster.core._intervals import calendar_part, in_year, keep_r
from monitor_dagster.core.exact import to_fixed
from monitor_dagster.core.jobs import SECTOR, is_substantial_job
from monitor_dagster.core.secm import SECM_BENEFIT, SECM_SELF_EMPLOYED
from monitor_dagster.core.sorting import person_key
from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.register import SECM_WORKING, _base, _concat, _once
from monitor_dagster.indicators.table import cells, cells_many, duration_cells

__all__ = ["MIN_SELF_EMPLOYED_HOURS", "STATE", "STATE_SECTOR", "WAGE_STEPS", "WORK", "monthly_states",
           "month_pairs", "reemployment_cohort", "self_employed_income_ok", "wage_changes", "o27_baanbehoud",
           "o28_uurloon_mobiliteit", "o29_o30_tijdelijk_vast", "o31_o34_uitstroom", "o35_o37_uit_uitkering"]

#: state of a person-month with work (a substantial job or self-employment above the threshold)
WORK = "werk"
NONE = "geen"
#: report 5.2: the self-employed count as working when they earn "minimaal het wettelijk minimummaandloon ...
#: op basis van 12 uur" per week
MIN_SELF_EMPLOYED_HOURS = 12
#: sector of a month of self-employment (report 5.2 4d: "Hierbij nemen we wederom zelfstandigen mee")
SELF_EMPLOYED_SECTOR = "zelfstandig"
_WEEKS_PER_MONTH = 52 / 12
#: the monthly state as an Enum, not text: every rule compares, shifts and groups it per person-month
STATE = pl.Enum([WORK, *dict.fromkeys(SECM_BENEFIT.values()), NONE])
#: the sector of a month at work: SPOLIS's sectors and ``zelfstandig`` (self-employment)
STATE_SECTOR = pl.Enum([*SECTOR.categories.to_list(), SELF_EMPLOYED_SECTOR])


def _wml_hour(year: int) -> float:
    """Hourly WML (40-hour week) of 1 January of the peiljaar (reference/wml.csv): report 5.2 judges every
    month of the panel, also November and December of t-1, by the WML of 1 January of t."""
    t = reference.wml()
    row = t.filter(pl.col("year") == year)
    if row.height == 0:
        raise ValueError(f"no WML for 1 January {year} in monitor_dagster/reference/wml.csv: add the year")
    return float(row["wml_hour_40h"][0])


def self_employed_income_ok(secm_month: pl.LazyFrame, inpatab: pl.LazyFrame | None, year: int,
                            hours: float = MIN_SELF_EMPLOYED_HOURS) -> pl.LazyFrame:
    """person_id of the self-employed whose income reaches the threshold of report 5.2: the monthly WML for
    12 hours a week (hourly WML of 1 January t x 12 x 52/12); ``hours`` = 40: the full monthly WML (report
    5.1, 4c: "ten minste het wettelijk minimum maandloon").

    Income (a choice: the report does not name the variable): INPATAB's personal primary income
    (INPPERSPRIM, labour and business income before transfers) of year t, made monthly by dividing it by the
    person's **working months** in t (SECM 11-15): the income was earned in those months.  Without INPATAB
    nobody passes (self-employment then does not count as work)."""
    if inpatab is None:
        return pl.LazyFrame(schema={"person_id": pl.Int64})
    threshold = _wml_hour(year) * hours * _WEEKS_PER_MONTH
    months = (secm_month.filter(in_year("month", year) & pl.col("SECM").is_in(SECM_WORKING))
              .group_by("person_id").agg(pl.len().alias("_m")))
    inc = keep_r(inpatab).select("person_id", pl.col("INPPERSPRIM").cast(pl.Float64).alias("_inc"))
    return (months.join(inc, on="person_id", how="inner")
            .filter(pl.col("_inc") / pl.col("_m") >= threshold - 1e-9).select("person_id").unique())


def _panel_months(year: int) -> tuple[dt.date, dt.date]:
    """First days of the first and last month of the panel of t: November t-1 .. December t."""
    return dt.date(year - 1, 11, 1), dt.date(year, 12, 1)


def _panel_mi(year: int) -> pl.Expr:
    """The month index of ``month`` in the panel of t, from a table of the window's days, not dt.year() and
    dt.month() per row (calendar_part)."""
    return calendar_part("month", _panel_months(year)[0], dt.date(year, 12, 31), "month_index")


def _panel_jobs(job_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """The substantial job-months of the panel of t (report 5.2: >= 12 basic hours a week, hourly wage >= the
    WML of 1 January of t for every month of the panel, contract vast or tijdelijk, no internship)."""
    lo, hi = _panel_months(year)
    return (job_month.filter(pl.col("month").is_between(pl.lit(lo), pl.lit(hi)))
            .filter(is_substantial_job(_wml_hour(year))))


def monthly_states(job_month: pl.LazyFrame, secm_month: pl.LazyFrame, inpatab: pl.LazyFrame | None,
                   year: int, persons: pl.LazyFrame | None = None,
                   self_employed_hours: float = MIN_SELF_EMPLOYED_HOURS) -> pl.LazyFrame:
    """One row per person and month of November t-1 .. December t in which he works or has a benefit:
    person_id, mi (month index), state (werk / WW / bijstand / AO / overig / geen), self_employed (the work
    is self-employment only), contract / employer / sector / job (IKVID) / wage (hourly) / hours (basic hours)
    / hours_pw (basic hours per week) of the main job (null without a job).

    Work (report 5.2): a **substantial job** (>= 12 basic hours a week, hourly wage >= the WML of 1 January
    of t, contract vast or tijdelijk, no internship: :func:`core.jobs.is_substantial_job` with that WML), or
    **self-employment** (SECM 13/14 that month) with income above :func:`self_employed_income_ok`.

    Months in any other state (``geen``) have no row: every rule reads a missing month as ``geen``, and
    leaving them out halves the rows (the SECM months hold every person every month).  ``persons``
    (person_id): only these persons (the base population of the indicators), so the rows of pupils,
    students and pensioners are never built.  ``self_employed_hours``: the weekly hours of the WML threshold
    of :func:`self_employed_income_ok`."""
    lo, hi = _panel_months(year)
    in_window = pl.col("month").is_between(pl.lit(lo), pl.lit(hi))
    jm = _panel_jobs(job_month, year)
    sm = secm_month.filter(in_window & pl.col("SECM").is_in([*SECM_SELF_EMPLOYED, *SECM_BENEFIT]))
    if persons is not None:
        jm, sm = jm.join(persons, on="person_id", how="semi"), sm.join(persons, on="person_id", how="semi")
    # the main job: the most basic hours, then the lowest IKVID.  Only the person-months with more than one
    # substantial job are sorted (3 % of them at national scale; sorting all took 0.27 of a bucket's 0.8 s for
    # the states, this 0.17); several sort_by().first() aggregations in one group-by measured 5x slower
    # contract, sector and state stay Enums and the employer a Categorical (compared, never printed): on
    # codes, not text, every rule's shifts and comparisons are cheaper (states 0.70 -> 0.46 s, the family
    # 1.83 -> 1.42 s on a national bucket of 203,000 persons; peak 4.5 -> 3.3 GB at 17.5 M)
    jm = jm.select("person_id", "month", "contract", pl.col("SBEID").cast(pl.Categorical).alias("employer"),
                   pl.col("sector").cast(STATE_SECTOR), pl.col("IKVID").alias("job"),
                   pl.col("hourly_wage").alias("wage"), pl.col("basisuren").alias("hours"),
                   pl.col("basisuren_pw").alias("hours_pw"),
                   pl.col("basisuren").fill_null(0.0).alias("_u"), pl.lit(True).alias("_job"),
                   (pl.len().over("person_id", "month") > 1).alias("_several"))
    several = (jm.filter(pl.col("_several"))
               .sort(["person_id", "month", "_u", "job"], descending=[False, False, True, False])
               .unique(["person_id", "month"], keep="first"))
    jobs = pl.concat([jm.filter(~pl.col("_several")), several]).drop("_u", "_several")
    ok = self_employed_income_ok(secm_month, inpatab, year, self_employed_hours).with_columns(pl.lit(True).alias("_inc_ok"))
    secm = (sm.select("person_id", "month", pl.col("SECM").alias("_secm"))
            .join(ok, on="person_id", how="left"))
    m = jobs.join(secm, on=["person_id", "month"], how="full", coalesce=True)
    self_work = pl.col("_secm").is_in(SECM_SELF_EMPLOYED).fill_null(False) & pl.col("_inc_ok").fill_null(False)
    job = pl.col("_job").fill_null(False)
    state = (pl.when(job | self_work).then(pl.lit(WORK, STATE))
             .otherwise(pl.col("_secm").replace_strict(SECM_BENEFIT, default=NONE, return_dtype=STATE)
                        .fill_null(pl.lit(NONE, STATE))))
    return m.select("person_id", _panel_mi(year).alias("mi"), state.alias("state"),
                    (~job & self_work).alias("self_employed"), "contract", "employer", "job", "wage", "hours",
                    "hours_pw",
                    pl.when(job).then(pl.col("sector")).when(self_work)
                    .then(pl.lit(SELF_EMPLOYED_SECTOR, STATE_SECTOR))
                    .alias("sector"))


#: person and month in one sort key (core/sorting.person_key): a month index (year x 12 + month) fits 16 bits
_PERSON_MONTH = person_key("person_id", [(pl.col("mi").cast(pl.Int64), 16)])


def _states(population, job_month, secm_month, inpatab, year) -> pl.LazyFrame:
    """:func:`monthly_states` of the base population, evaluated once per bucket for the whole family, sorted by
    person and month (what every rule reads them in, so :func:`month_pairs`, :func:`wage_changes` and O29/O30
    do not sort them again: 0.5 of a national bucket's 3.0 s).  One row per person and month, so the packed key
    gives the order of the two columns (0.07 s less a bucket)."""
    return shared("monthly_states", (population, job_month, secm_month, inpatab),
                  lambda: monthly_states(job_month, secm_month, inpatab, year,
                                         persons=_base(population).select("person_id")).sort(_PERSON_MONTH),
                  year)


def _previous(*cols: str) -> list[pl.Expr]:
    """``prev_<col>``: the column of the previous row of the same person, on rows sorted by person and month
    (a window ``shift().over("person_id", order_by="mi")`` did the same 3x slower)."""
    same = (pl.col("person_id").shift(1) == pl.col("person_id")).fill_null(False)
    return [pl.when(same).then(pl.col(c).shift(1)).alias(f"prev_{c}") for c in cols]


def _origin_months(year: int) -> tuple[int, int]:
    """Month indices of the origin months of the 12 transitions of year t: December t-1 .. November t."""
    return (year - 1) * 12 + 11, year * 12 + 10


#: on rows sorted by person and month: the next row is the next calendar month of the same person
_NEXT_IS_NEXT_MONTH = ((pl.col("person_id").shift(-1) == pl.col("person_id"))
                       & (pl.col("mi").shift(-1) == pl.col("mi") + 1)).fill_null(False)


def month_pairs(states: pl.LazyFrame, year: int, presorted: bool = False) -> pl.LazyFrame:
    """Each origin month (December t-1 .. November t) with the state of the next month: ``next_state`` is
    ``geen`` when the person has no row for that month.  Also ``next_employer``, ``next_hours_pw``,
    ``next_wage`` (of the main job) and ``next_self_employed``.  ``presorted``: ``states`` is in person and
    month order already (:func:`_states`), so it is not sorted again (0.2 s of a national bucket's 3 s)."""
    lo, hi = _origin_months(year)
    # one sort by person and month, then the next row: it is the next month of the same person when its key
    # and month say so (windows over the person measured 3x slower on 6 M rows)
    consecutive = _NEXT_IS_NEXT_MONTH
    return ((states if presorted else states.sort("person_id", "mi")).with_columns(
        pl.when(consecutive).then(pl.col("state").shift(-1)).otherwise(pl.lit(NONE)).alias("next_state"),
        pl.when(consecutive).then(pl.col("employer").shift(-1)).alias("next_employer"),
        pl.when(consecutive).then(pl.col("hours_pw").shift(-1)).alias("next_hours_pw"),
        pl.when(consecutive).then(pl.col("wage").shift(-1)).alias("next_wage"),
        (consecutive & pl.col("self_employed").shift(-1)).fill_null(False).alias("next_self_employed"))
        .filter(pl.col("mi").is_between(lo, hi)))


def _pairs(population, job_month, secm_month, inpatab, year) -> pl.LazyFrame:
    return shared("month_pairs", (population, job_month, secm_month, inpatab),
                  lambda: month_pairs(_states(population, job_month, secm_month, inpatab, year), year,
                                      presorted=True), year)


def modal_sector(rows: pl.LazyFrame, key: str = "person_id", count: str | None = None,
                 at_least: int | None = None) -> pl.LazyFrame:
    """key, sector: the sector of most of the ``rows`` (months) of each person (or employer); ``count``: a
    column of months per row (rows already summed per sector) instead of one month per row; ``at_least``:
    only the keys with at least that many months in all.  A tie goes to the first name alphabetically, so a
    person has one sector and is counted once in every cell."""
    k = pl.len() if count is None else pl.col(count).sum()
    # grouped on the sector as it comes (an Enum: codes), named only per group; the tie goes by the name
    per = rows.group_by(key, "sector").agg(k.alias("_k")).with_columns(pl.col("sector").cast(pl.String))
    if at_least is not None:
        per = per.filter(pl.col("_k").sum().over(key) >= at_least)
    return (per.sort([key, "_k", "sector"], descending=[False, True, False], nulls_last=True)
            .group_by(key, maintain_order=True).first().select(key, "sector"))


# ------------------------------------------------------------------------------------------------ O27
#: O27 "vergelijkbaar werk": basic hours per week and hourly wage of the next month's main job within 10 % of
#: this month's (a choice: the report's advice names "vergelijkbare uren en inkomen", no margin)
COMPARABLE = 0.10

def _window_durations(persons: pl.LazyFrame, event: str, cause: pl.Expr, year: int, **kw) -> pl.DataFrame:
    """Duration cells (report 7.2.2) of a spell inside the year's panel: from ``_start`` to the month after
    ``event`` (its last month in the old state) with ``cause``; without the event, censored at the end of the
    panel (December t)."""
    happened = pl.col(event).is_not_null()
    return duration_cells(
        persons.with_columns(pl.when(happened).then(pl.col(event) + 1).otherwise(_origin_months(year)[1] + 1)
                             .sub(pl.col("_start")).alias("duration"), pl.when(happened).then(cause).alias("cause")),
        year=year, **kw)


def o27_baanbehoud(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                   inpatab: pl.LazyFrame | None, year: int, dimensions: list[str] | None = None,
                   **kw) -> pl.DataFrame:
    """O27, report 5.2 deelvraag 4d: "de fractie personen die een substantiële baan hebben en die de maand
    erop nog steeds een substantiële baan hebben ... voor alle maanden binnen het betreffende peiljaar en
    vervolgens ... het gemiddelde over deze maanden", by sector (SSECT; overheid its own sector; the
    self-employed as sector ``zelfstandig``).

    Measures: ``werk`` (work in m and in m+1, self-employment included), ``zelfde werkgever`` (the main
    job of m+1 at the same employer, SBEID, or self-employed in both months: the advice after §5.3 b,
    retention of the job itself) and ``vergelijkbaar werk`` (the advice's "werk met vergelijkbare uren en
    inkomen": the main job of m+1 within :data:`COMPARABLE` of m's basic hours per week and hourly wage, so
    of its monthly income too; or self-employed in both months, whose income is known per year only).  The
    average over the months is the pooled share: retained person-months over person-months at work (the
    mean of the monthly shares weighted by the number at work; ``n_weighted`` holds those person-months).
    A person's sector is the sector he worked in for most of his months at risk (a tie: alphabetical).

    Duration cells (§7.2.2 baanbehoud, measure ``baanverlies``): from his first origin month at work, months
    to the first month without work (the ``werk`` event: cause ``baanverlies``), else censored at December t;
    1 = the next month.  The window starts in December t-1: a spell in progress is counted from there."""
    p = _pairs(population, job_month, secm_month, inpatab, year).filter(pl.col("state") == WORK)
    sector = modal_sector(p)
    kept = pl.col("next_state") == WORK
    both_self = pl.col("self_employed") & pl.col("next_self_employed")
    same = kept & ((pl.col("employer") == pl.col("next_employer")).fill_null(False) | both_self)
    near = [((pl.col(f"next_{c}") / pl.col(c) - 1).abs() <= COMPARABLE + 1e-9).fill_null(False)
            for c in ("hours_pw", "wage")]
    comparable = kept & ((near[0] & near[1]) | both_self)
    # the weight column must not be called "_w" (cells() uses that name for its own fixed-point weight)
    per = (p.group_by("person_id")
           .agg(pl.len().cast(pl.Float64).alias("months_at_work"), kept.sum().alias("_k"), same.sum().alias("_s"),
                comparable.sum().alias("_c"),
                # the duration of report 7.2.2: the run of work from his first row ends at the first row whose
                # next month is not at work (every row before it has its next month at work: a row of p)
                pl.col("mi").min().alias("_start"), pl.col("mi").filter(~kept).min().alias("_lost"))
           .join(sector, on="person_id", how="left"))
    # evaluated once: every cells() call below would otherwise run the joins behind it again
    persons = _once(_base(population).join(per, on="person_id", how="inner"))
    out = [cells_many(persons, {("O27", measure): pl.col(col) / pl.col("months_at_work")
                                for col, measure in (("_k", "werk"), ("_s", "zelfde werkgever"),
                                                     ("_c", "vergelijkbaar werk"))},
                      year=year, unit="%", weight="months_at_work", dimensions=dimensions, **kw)]
    out.append(_window_durations(persons, "_lost", pl.lit("baanverlies"), year, indicator_id="O27",
                                 measure="baanverlies", status=kw.get("status", "definitief")))
    return _concat(out)


# ------------------------------------------------------------------------------------------------ O28
#: report 5.2 4e b: "Een daling of stijging van het uurloon van minimaal 5% en minimaal 10%"
WAGE_STEPS = (5, 10)


def wage_changes(states: pl.LazyFrame, year: int, presorted: bool = False) -> pl.LazyFrame:
    """Changes of the hourly wage counted in year t (report 5.2 4e b), one row per event: person_id,
    change (new / old - 1), same_employer.

    "We berekenen het gemiddelde uurloon per baan (of inkomstenverhouding) per jaar": the mean hourly wage of
    a job in a calendar year, weighted by basic hours (as O08), over the months it is the person's main job.
    Events: (a) **the same job** in t-1 and t: its mean of t against its mean of t-1 ("binnen een baan alleen
    ... als het uurloon van jaar op jaar veranderd"; the panel holds November and December of t-1); (b) **a
    change of main job** whose new job starts in t with at most one month without a job in between ("altijd
    meegenomen als het om een andere baan gaat"): the new job's mean of t against the old job's mean of the
    year of its last month.  same_employer: the SBEID of both jobs (always for (a)); for (b) ``mi``, the month
    of the new job, and ``sector_from``, the old job's sector ("Bij verandering van sector kijken we naar sector
    waar de persoon vandaan komt"); null for (a).  ``presorted``: ``states`` is in person and month order
    (:func:`_states`; a filter keeps it), so the job months are not sorted again."""
    j = (states.filter(pl.col("job").is_not_null())
         .with_columns((pl.col("mi") // 12).alias("yr")))
    # wage x hours and hours in fixed point (core/exact.py): the same sums in any row order
    jy = (j.select("person_id", "job", "yr", to_fixed(pl.col("wage") * pl.col("hours")).alias("_wh"),
                   to_fixed("hours").alias("_h"))
          .group_by("person_id", "job", "yr").agg((pl.col("_wh").sum() / pl.col("_h").sum()).alias("w")))
    now, before = jy.filter(pl.col("yr") == year), jy.filter(pl.col("yr") == year - 1)
    within = (now.join(before, on=["person_id", "job"], how="inner", suffix="_old")
              .select("person_id", (pl.col("w") / pl.col("w_old") - 1).alias("change"),
                      pl.lit(True).alias("same_employer"), pl.lit(None, pl.Int32).alias("mi"),
                      pl.lit(None, pl.String).alias("sector_from")))
    ordered = j if presorted else j.sort("person_id", "mi")
    switch = (ordered.with_columns(_previous("mi", "job", "employer", "sector"))
              .filter((pl.col("yr") == year) & (pl.col("job") != pl.col("prev_job"))
                      & (pl.col("mi") - pl.col("prev_mi") <= 2))
              .select("person_id", "job", "yr", "prev_job", (pl.col("prev_mi") // 12).alias("prev_yr"),
                      (pl.col("employer") == pl.col("prev_employer")).fill_null(False).alias("same_employer"),
                      pl.col("mi").cast(pl.Int32), pl.col("prev_sector").cast(pl.String).alias("sector_from"))
              .join(jy, on=["person_id", "job", "yr"], how="inner")
              .join(jy.rename({"job": "prev_job", "yr": "prev_yr", "w": "w_old"}),
                    on=["person_id", "prev_job", "prev_yr"], how="inner")
              .select("person_id", (pl.col("w") / pl.col("w_old") - 1).alias("change"), "same_employer", "mi",
                      "sector_from"))
    return pl.concat([within, switch], how="vertical")


def o28_uurloon_mobiliteit(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                           inpatab: pl.LazyFrame | None, year: int, dimensions: list[str] | None = None,
                           **kw) -> pl.DataFrame:
    """O28, report 5.2 deelvraag 4e b: the share of persons with a rise (``stijging``) or a fall
    (``daling``) of the hourly wage of at least 5% and at least 10% (:func:`wage_changes`), also split into
    changes at the same employer and at another employer ("Deze resultaten splitsen we uit voor personen die
    bij dezelfde en personen die bij een andere werkgever (SBEID in de SPOLIS) doorstromen").  Denominator:
    "alle personen ... die ten minste twee maanden een baan hadden in loondienst" (main-job months of t);
    the self-employed are out ("het uurloon van zelfstandigen kan helaas niet berekend worden").  Sector:
    "Bij verandering van sector kijken we naar sector waar de persoon vandaan komt": the sector of the old job
    of his first change of job in t; without one (no change, or only changes within a job), the sector of most
    of his job months of t.  One sector per person, so he counts once in every cell."""
    s = _states(population, job_month, secm_month, inpatab, year)
    jobs_t = s.filter(pl.col("job").is_not_null() & (pl.col("mi") // 12 == year))
    ev = wage_changes(s, year, presorted=True)
    flags = []
    for step in WAGE_STEPS:
        up, down = pl.col("change") >= step / 100 - 1e-12, pl.col("change") <= -step / 100 + 1e-12
        for word, cond in (("stijging", up), ("daling", down)):
            name = f"{word} >= {step}%"
            flags += [cond.any().alias(name),
                      (cond & pl.col("same_employer")).any().alias(f"{name} zelfde werkgever"),
                      (cond & ~pl.col("same_employer")).any().alias(f"{name} andere werkgever")]
    names = [f.meta.output_name() for f in flags]
    # one group-by of the events gives the flags and the sector of the first change of job (its month is
    # unique: one main job a month), and one of the job months of t the denominator and its modal sector:
    # every intermediate read once (the person frame 0.25 -> 0.15 s of a national bucket)
    moved = pl.col("sector_from").is_not_null()
    per_event = ev.group_by("person_id").agg(
        *flags, pl.col("sector_from").filter(moved).get(pl.col("mi").filter(moved).arg_min()))
    per = (modal_sector(jobs_t, at_least=2).join(per_event, on="person_id", how="left")
           .select("person_id", pl.coalesce("sector_from", "sector").alias("sector"), *names))
    persons = _once(_base(population).join(per, on="person_id", how="inner"))
    return cells_many(persons, {("O28", n): pl.col(n).fill_null(False).cast(pl.Float64) for n in names},
                      year=year, unit="%", dimensions=dimensions, **kw)


# -------------------------------------------------------------------------------------------- O29/O30
def _substantial_vast_jobs(job_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """person_id, job (IKVID), mi: the substantial vast (O) job-months of the panel of t (the rule of
    :func:`monthly_states`), main job or not.  No unique(): core/job_months has one row per job and month, and
    O29/O30 only anti-join on these (a repeat would not matter there); it cost half of O29/O30's 0.13 s a
    national bucket."""
    return (_panel_jobs(job_month, year).filter(pl.col("contract") == "O")
            .select("person_id", pl.col("IKVID").alias("job"), _panel_mi(year).alias("mi")))


def o29_o30_tijdelijk_vast(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                           inpatab: pl.LazyFrame | None, year: int, dimensions: list[str] | None = None,
                           **kw) -> pl.DataFrame:
    """O29 / O30, report 5.2 deelvraag 4e a: from a temporary to a permanent contract at the same employer
    (O29) or at another employer (O30, SBEID of SPOLIS), "mag er maximaal een maand tussen zitten waarin
    een persoon niet werkt"; denominator "het totaal aantal mensen met een tijdelijk contract in het
    peiljaar".

    On the main job of each month with a job: a switch is a month of t with a vast (O) main job whose
    previous month with a job, at most two months earlier, had a tijdelijk (B) main job, and whose vast job he
    did not already hold (substantial) in that previous month next to the tijdelijk one (a side job that
    becomes the main job when the tijdelijk one ends is no move from temporary to permanent); the employer of
    those two months decides O29 or O30.  Denominator: persons with a tijdelijk main job in a month from
    which a switch into t can start (November t-1 .. November t).  A person can count in both.  Sector: the
    sector of most of his tijdelijk months (the sector he comes from, report 5.2 4e).

    Duration cells (§7.2.2 doorstroom, competing, measure ``tijdelijk naar vast``): months from his first
    tijdelijk month (December t-1 if earlier) to the first switch counted here, cause its employer route;
    else censored at December t, also when the temporary job ended (he stays in the denominator)."""
    lo, hi = _origin_months(year)
    s = _states(population, job_month, secm_month, inpatab, year).filter(pl.col("contract").is_not_null())
    # report 7.2.2 names "doorstroom binnen dezelfde organisatie naar een andere functie": a function is not in
    # SPOLIS, so the same-employer route of O29 stands for it (and another employer, O30, for the other cause)
    route = (pl.when(pl.col("employer") == pl.col("prev_employer")).then(pl.lit("zelfde werkgever"))
             .when(pl.col("employer") != pl.col("prev_employer")).then(pl.lit("andere werkgever")))
    # s is _states' rows (person and month order) filtered, so in that order: no second sort
    switch = (s.with_columns(_previous("mi", "contract", "employer"))
              .filter((pl.col("mi") >= year * 12) & (pl.col("contract") == "O") & (pl.col("prev_contract") == "B")
                      & (pl.col("mi") - pl.col("prev_mi") <= 2))
              # a vast job he already held (substantial) next to the tijdelijk main job is no move to vast
              .join(_substantial_vast_jobs(job_month, year), left_on=["person_id", "job", "prev_mi"],
                    right_on=["person_id", "job", "mi"], how="anti")
              .with_columns(route.alias("_route"))
              .group_by("person_id")
              .agg((pl.col("employer") == pl.col("prev_employer")).any().alias("_same"),
                   (pl.col("employer") != pl.col("prev_employer")).any().alias("_other"),
                   # the first switch with a known route (an unknown SBEID counts in neither O29 nor O30)
                   pl.col("mi").filter(pl.col("_route").is_not_null()).min().alias("_switch"),
                   pl.col("_route").sort_by("mi").drop_nulls().first().alias("cause")))
    tb = s.filter((pl.col("contract") == "B") & pl.col("mi").is_between(lo - 1, hi))
    temp = modal_sector(tb).join(tb.group_by("person_id").agg(pl.col("mi").min().alias("_start")), on="person_id")
    per = temp.join(switch, on="person_id", how="left")
    persons = _once(_base(population).join(per, on="person_id", how="inner"))
    out = [cells_many(persons, {(ind, measure): pl.col(col).fill_null(False).cast(pl.Float64)
                                for col, ind, measure in (("_same", "O29", "zelfde werkgever"),
                                                          ("_other", "O30", "andere werkgever"))},
                      year=year, unit="%", dimensions=dimensions, **kw)]
    # the clock starts at the first origin month of t's transitions at the latest (a switch counts from January t)
    switched = pl.col("_switch").is_not_null()
    out.append(duration_cells(
        persons.with_columns(pl.when(switched).then(pl.col("_switch")).otherwise(year * 12 + 11)
                             .sub(pl.max_horizontal(pl.col("_start"), pl.lit(lo))).alias("duration"),
                             pl.when(switched).then(pl.col("cause")).alias("cause")),
        indicator_id="O29", year=year, measure="tijdelijk naar vast", status=kw.get("status", "definitief")))
    return _concat(out)


# -------------------------------------------------------------------------------------------- O31-O34
#: destination state of the month after work -> indicator (report 5.2 4f); every other state (overige
#: uitkering, no SECM state, absent from SECM and SPOLIS) is O34 "overig"
OUTFLOW = {"WW": "O31", "bijstand": "O32", "AO": "O33"}
OUTFLOW_OTHER = "O34"
#: cause of the outflow duration (report 7.2.2: "Bij uitstroom uit werk zijn dit: a. Bijstand; b. Uitstroom
#: naar WW; c. Uitstroom anderszins"): the state of the first month without work; every other state (AO/ZW,
#: overige uitkering, geen) is ``anderszins``
OUTFLOW_CAUSE = {"WW": "WW", "bijstand": "bijstand"}
OUTFLOW_CAUSE_OTHER = "anderszins"


def o31_o34_uitstroom(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                      inpatab: pl.LazyFrame | None, year: int, **kw) -> pl.DataFrame:
    """O31-O34, report 5.2 deelvraag 4f: outflow from work to WW (O31), bijstand (O32), AO or ZW (O33) "wordt
    alleen geteld als het in de opeenvolgende maand plaatsvindt, anders wordt de uitstroom onder overige
    uitstroom geschaard. Onder overig vallen ook mensen die werk hadden en daarna van de 'radar
    verdwenen'" (O34).  Denominator "het totaal aantal mensen met werk binnen het peiljaar": persons with
    work in an origin month.  Measures ``werk`` (from any work) and ``zelfstandig`` ("We kijken ook naar
    mensen die vanuit hun werkzaamheden als zelfstandigen uitstromen": origin months of self-employment,
    denominator the self-employed).  A person who leaves work twice to different destinations counts in
    both; a person with WW starting two months after the job ended counts in O34 (the month in between is
    not work and not WW).

    Duration cells (§7.2.2 uitstroom, competing, measure ``uit werk``): from the first origin month at work,
    months to the first month without work, cause its state (:data:`OUTFLOW_CAUSE`: bijstand, WW, else
    ``anderszins``, AO/ZW included); else censored at December t (the event of O27's ``baanverlies``)."""
    p = _pairs(population, job_month, secm_month, inpatab, year).filter(pl.col("state") == WORK)
    nxt = pl.col("next_state")
    left = nxt != WORK
    # on the state codes per person-month, the destination's name only per person (mapping every month to
    # text first took twice as long)
    dest = {**{ind: nxt == s for s, ind in OUTFLOW.items()}, OUTFLOW_OTHER: ~nxt.is_in([WORK, *OUTFLOW])}
    # the duration of report 7.2.2 (from work only): the first row whose next month is not at work ends the
    # run of work from the first row (as O27), its next state is the cause (one row per person-month, so the
    # first month is unique)
    spell = [pl.col("mi").min().alias("_start"), pl.col("mi").filter(left).min().alias("_out"),
             nxt.filter(left).get(pl.col("mi").filter(left).arg_min()).alias("_first")]
    cause = pl.when(pl.col("_first").is_not_null()).then(
        pl.col("_first").replace_strict(OUTFLOW_CAUSE, default=OUTFLOW_CAUSE_OTHER, return_dtype=pl.String))
    out = []
    for measure, rows in (("werk", p), ("zelfstandig", p.filter(pl.col("self_employed")))):
        per = rows.group_by("person_id").agg(*[d.any().alias(ind) for ind, d in dest.items()],
                                             *(spell if measure == "werk" else []))
        persons = _once(_base(population).join(per, on="person_id", how="inner"))
        out.append(cells_many(persons, {(ind, measure): pl.col(ind).cast(pl.Float64) for ind in dest},
                              year=year, unit="%", **kw))
        if measure == "werk":
            out.append(_window_durations(persons, "_out", cause, year, indicator_id="O31",
                                         measure="uit werk", status=kw.get("status", "definitief")))
    return _concat(out)


# -------------------------------------------------------------------------------------------- O35-O37
#: (origin state, destination state) -> indicator, report 5.2 4f/4g: WW to work, WW to bijstand, bijstand to work
FROM_BENEFIT = {("WW", WORK): "O35", ("WW", "bijstand"): "O36", ("bijstand", WORK): "O37"}
_MEASURE = {"O35": "WW naar werk", "O36": "WW naar bijstand", "O37": "bijstand naar werk"}


def o35_o37_uit_uitkering(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                          inpatab: pl.LazyFrame | None, year: int, **kw) -> pl.DataFrame:
    """O35 WW -> work, O36 WW -> bijstand, O37 bijstand -> work, in the next month (report 5.2 4f: "Hetzelfde
    doen we voor de overgang van een WW-uitkering naar een bijstandsuitkering, overig of werk en van een
    bijstandsuitkering naar werk"; 4g: "de fractie die direct vanuit de WW weer een baan vindt (de
    opvolgende maand)").  Denominator: persons with WW (bijstand) as the state of an origin month ("het
    totaal aantal mensen met een WW-uitkering in het peiljaar")."""
    p = _pairs(population, job_month, secm_month, inpatab, year)
    # one row per person with a WW or bijstand origin month; an indicator's value is null for a person outside
    # its denominator (no origin month in that state), so the three come from one pass (cells_many)
    origin = pl.col("state")
    per = (p.filter(origin.is_in([o for o, _ in FROM_BENEFIT])).group_by("person_id")
           .agg(pl.when((origin == o).any()).then(((origin == o) & (pl.col("next_state") == t)).any())
                .cast(pl.Float64).alias(ind) for (o, t), ind in FROM_BENEFIT.items()))
    return cells_many(_base(population).join(per, on="person_id", how="inner"),
                      {(ind, _MEASURE[ind]): ind for ind in FROM_BENEFIT.values()}, year=year, unit="%", **kw)


# -------------------------------------------------------------------------------------------- O38/O39
#: report 5.2 4g: "We kijken voor deze analyse drie jaar vooruit. De duur is dus gemaximeerd op drie jaar."
FOLLOW_UP_MONTHS = 36
#: benefit -> measure prefix of O38/O39
_AFTER = {"WW": "na WW", "bijstand": "na bijstand"}


def follow_up_states(job_month: pl.LazyFrame, secm_month: pl.LazyFrame, inpatab: pl.LazyFrame | None, year: int,
                     persons: pl.LazyFrame | None = None,
                     self_employed_hours: float = MIN_SELF_EMPLOYED_HOURS) -> pl.LazyFrame:
    """:func:`monthly_states` over the follow-up window: the inputs hold the partitions t, t+1, ... with
    their year in ``_year`` (indicators.engine.window_frame); each year's months are judged with that year's
    files and WML of 1 January (the rule of the panel of that year), January t .. December of the last year
    present."""
    from monitor_dagster.indicators.engine import YEAR_COLUMN

    # the years of the window: those either input holds (a year without a job-month still has its SECM months)
    years = sorted(set().union(*(f.select(pl.col(YEAR_COLUMN).unique()).collect()[YEAR_COLUMN].to_list()
                                 for f in (job_month, secm_month))))
    parts = []
    for y in years:
        pick = pl.col(YEAR_COLUMN) == y
        inp = inpatab.filter(pick) if inpatab is not None and YEAR_COLUMN in inpatab.collect_schema().names() \
            else inpatab
        parts.append(monthly_states(job_month.filter(pick), secm_month.filter(pick), inp, y, persons,
                                    self_employed_hours).filter(pl.col("mi") // 12 == y))
    return pl.concat(parts, how="vertical") if parts else monthly_states(job_month, secm_month, inpatab, year,
                                                                         persons).clear()


#: advice after report 5.2/5.3: "duurzame uitstroom" = the work found lasts at least this many consecutive
#: months (a choice: the report names the idea, not a length; six months is the horizon UWV uses for
#: "duurzame werkhervatting")
DURABLE_MONTHS = 6
#: contract of the first month of work after a benefit (advice: "welk type contract")
_FOUND = {"O": "vast", "B": "flex"}


def time_to_work(states: pl.LazyFrame, year: int, benefit: str, last_year: int,
                 presorted: bool = False) -> pl.LazyFrame:
    """Per person with an exit from ``benefit`` in year t (a month m of t with that benefit whose next month
    has not; the first such exit of the year): ``months`` = months from m to the first month with work
    (1 = the next month), null when none by m + 36 or by the end of the observed months (December of
    ``last_year``); ``observed`` = months observed after m (at most 36).

    For the advice after §5.3 ("welk type contract" and "duurzame uitstroom"): ``found`` = the kind of that
    first work (``vast`` / ``flex`` by the contract of the main job, ``zelfstandig`` for self-employment
    only) and ``run`` = the consecutive months at work from it (cut at December of ``last_year``).
    ``presorted``: ``states`` is in person and month order already (O38/O39 sort the shared follow-up states
    once for both benefits)."""
    s = states.select("person_id", "mi", "state", "contract", "self_employed")
    s = s if presorted else s.sort("person_id", "mi")
    still = (_NEXT_IS_NEXT_MONTH & (pl.col("state").shift(-1) == benefit)).fill_null(False)
    end = last_year * 12 + 11
    exits = (s.filter((pl.col("state") == benefit) & ~still & (pl.col("mi") // 12 == year) & (pl.col("mi") < end))
             .group_by("person_id").agg(pl.col("mi").min().alias("exit")))
    # runs of consecutive work months: a run starts where the previous row is not the previous month of the
    # same person; the months left in the run from each of its months
    new_run = ~((pl.col("person_id").shift(1) == pl.col("person_id"))
                & (pl.col("mi").shift(1) == pl.col("mi") - 1)).fill_null(False)
    found = (pl.when(pl.col("self_employed")).then(pl.lit(SELF_EMPLOYED_SECTOR))
             .otherwise(pl.col("contract").replace_strict(_FOUND, default=None, return_dtype=pl.String)))
    work = (s.filter(pl.col("state") == WORK)
            .with_columns(new_run.cum_sum().alias("_run"))
            .with_columns((pl.col("mi").max().over("_run") - pl.col("mi") + 1).alias("run"))
            .select("person_id", pl.col("mi").alias("work_mi"), found.alias("found"), "run").sort("work_mi"))
    # the first work month after the exit: an as-of join (forward) per person, not a join of all months
    first = (exits.with_columns((pl.col("exit") + 1).alias("_from")).sort("_from")
             .join_asof(work, left_on="_from", right_on="work_mi", by="person_id", strategy="forward",
                        check_sortedness=False))      # both sorted just above
    within = pl.col("work_mi") <= pl.col("exit") + FOLLOW_UP_MONTHS
    return first.select("person_id", pl.when(within).then(pl.col("work_mi") - pl.col("exit")).alias("months"),
                        pl.min_horizontal(pl.lit(end) - pl.col("exit"), pl.lit(FOLLOW_UP_MONTHS)).alias("observed"),
                        pl.when(within).then(pl.col("found")).alias("found"),
                        pl.when(within).then(pl.col("run")).alias("run"))


def _at_risk(secm_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """person_id of everybody with a WW or bijstand month in t: only they can leave it in t (about a tenth of
    the base population)."""
    codes = [c for c, b in SECM_BENEFIT.items() if b in _AFTER]
    # on the SECM Enum itself: through strings, every SECM month of the bucket was copied as text first
    return secm_month.filter(in_year("month", year) & pl.col("SECM").is_in(codes)).select("person_id").unique()


def reemployment_cohort(frames: dict[str, pl.LazyFrame | None], year: int) -> pl.LazyFrame:
    """The persons O38/O39 follow (specs.yaml ``cohorts``): the engine holds their job-months, SECM months
    and INPATAB rows of the follow-up window and no one else's."""
    return _at_risk(frames["core/secm_months"], year)


def _reemployment(population, job_month, secm_month, inpatab, year, observed_year):
    """Per benefit the persons of the base population with an exit in t and their months to work."""
    last = observed_year if observed_year is not None else year + 3
    # the follow-up states of the window are built for the persons at risk alone
    persons = _base(population).select("person_id").join(_at_risk(secm_month, year), on="person_id", how="semi")
    # sorted once here for both benefits (time_to_work sorted them for each)
    states = shared("follow_up_states", (population, job_month, secm_month, inpatab),
                    lambda: follow_up_states(job_month, secm_month, inpatab, year, persons).sort(_PERSON_MONTH),
                    year)
    status = "definitief" if last >= year + 3 else "voorlopig"
    # one evaluation per bucket for O38 and O39 together (they read the same cohorts)
    frames = (population, job_month, secm_month, inpatab)
    return {b: _once(shared("time_to_work", frames, lambda b=b: _base(population).join(
        time_to_work(states, year, b, last, presorted=True), on="person_id", how="inner"), year, b, last))
        for b in _AFTER}, status


def _direct() -> pl.Expr:
    """Work in the month after the exit: "de fractie die direct vanuit de WW weer een baan vindt (de opvolgende
    maand)" (report 5.2, 4g)."""
    return (pl.col("months") == 1).fill_null(False)


#: O38's shares of those not directly at work: "voor degene die niet direct na de WW een baan vinden ... of
#: dit in een, twee of drie jaar gebeurt" (report 5.2, 4g)
WITHIN_YEARS = (1, 2, 3)


def o38_werk_binnen(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                    inpatab: pl.LazyFrame | None, year: int, observed_year: int | None = None,
                    **kw) -> pl.DataFrame:
    """O38, report 5.2 deelvraag 4g: "We kijken naar de fractie die direct vanuit de WW weer een baan vindt (de
    opvolgende maand). Daarnaast kijken we voor degene die niet direct na de WW een baan vinden hoe lang het dan
    duurt voordat ze een baan vinden en of dit in een, twee of drie jaar gebeurt."  Of the persons leaving WW
    (bijstand) in year t (the first exit of the year): ``direct`` = the share at work in the month after the
    last benefit month; ``binnen 1 / 2 / 3 jaar`` = of those not at work that month, the share at work within
    12 / 24 / 36 months after the last benefit month (work = the monthly state of 5.2: a substantial job or
    self-employment above the threshold; "We kijken voor deze analyse drie jaar vooruit").  ``voorlopig``
    while the follow-up years are not all in the warehouse (``observed_year`` < t+3): work not yet observed
    counts as none.

    Advice after §5.3 (extra measures, shares of the whole cohort, the direct finders included): work within a
    year that is ``vast``, ``flex`` (tijdelijk) or ``zelfstandig`` by its first month, and work within a year
    that lasts at least :data:`DURABLE_MONTHS` consecutive months (``duurzaam``).

    Duration cells (§7.2.2, measures ``na WW`` / ``na bijstand``, the whole cohort): ``months`` to work (cause
    ``werk``), else censored at ``observed`` (36, or the months observed while ``voorlopig``); 1 = the month
    after the exit."""
    groups, status = _reemployment(population, job_month, secm_month, inpatab, year, observed_year)
    out = []
    one_year = (pl.col("months") <= 12).fill_null(False)
    # advice after 5.3: the kind of work found within a year, and whether it lasts (duurzame uitstroom)
    advice = {f"binnen 1 jaar {k}": one_year & (pl.col("found") == k).fill_null(False)
              for k in (*_FOUND.values(), SELF_EMPLOYED_SECTOR)}
    advice["binnen 1 jaar duurzaam"] = one_year & (pl.col("run") >= DURABLE_MONTHS).fill_null(False)
    # of those not directly at work: null for the direct finders, so they are not in these measures' n (one pass)
    within = {f"binnen {k} jaar": pl.when(~_direct()).then((pl.col("months") <= 12 * k).fill_null(False))
              for k in WITHIN_YEARS}
    measures = {"direct": _direct(), **advice, **within}
    for b, persons in groups.items():
        out.append(cells_many(persons, {("O38", f"{_AFTER[b]} {label}"): v.cast(pl.Float64)
                                        for label, v in measures.items()}, year=year, unit="%", status=status, **kw))
        # the duration model of report 7.2.2, emitted here and not by O39 (the same cohorts: cells once only)
        found = pl.col("months").is_not_null()
        out.append(duration_cells(
            persons.with_columns(pl.coalesce(pl.col("months"), pl.col("observed")).alias("duration"),
                                 pl.when(found).then(pl.lit("werk")).alias("cause")),
            indicator_id="O38", year=year, measure=_AFTER[b], status=status))
    return _concat(out)


def o39_duur_tot_werk(population: pl.LazyFrame, job_month: pl.LazyFrame, secm_month: pl.LazyFrame,
                      inpatab: pl.LazyFrame | None, year: int, observed_year: int | None = None,
                      **kw) -> pl.DataFrame:
    """O39, report 5.2 deelvraag 4g: "voor degene die niet direct na de WW een baan vinden hoe lang het dan duurt
    voordat ze een baan vinden ... De duur is dus gemaximeerd op drie jaar": of the persons leaving WW
    (bijstand) in t who are not at work in the month after (O38 ``direct``), the months from the last benefit
    month of the first exit in t to work, capped at 36 (who has no work after 36 months counts 36; their share
    is 100 minus O38 "binnen 3 jaar").  The mean of the capped durations is the restricted mean time to work,
    additive over persons.  ``voorlopig`` while the follow-up is not complete: then capped at the months
    observed."""
    groups, status = _reemployment(population, job_month, secm_month, inpatab, year, observed_year)
    out = []
    for b, persons in groups.items():
        v = pl.coalesce(pl.col("months"), pl.col("observed")).cast(pl.Float64)
        out.append(cells(persons.filter(~_direct()).with_columns(v.alias("value")), indicator_id="O39", year=year,
                         unit="maanden", measure=_AFTER[b], status=status, **kw))
    return _concat(out)
