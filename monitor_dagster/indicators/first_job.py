"""The first job after graduation, research question 4c (technisch rapport Monitor gelijke kansen, §5.1): O25,
the months from the diploma to work and to a permanent contract.

Report 5.1, 4c: "De populatie bestaat uit studenten die op 1 oktober van het peiljaar in het voltijdsonderwijs
mbo, associate degree, bachelor of master stonden ingeschreven en op 1 oktober een jaar later geen bekostigd
onderwijs meer volgden. Hierbij worden alleen personen meegenomen die een diploma behaalden in de
onderwijssoort ... van de inschrijving in het peiljaar" (``cohort_4c`` of ``core/education_careers``, with the
month of the diploma).  Work is the monthly state of §5.2 (:func:`indicators.transitions.monthly_states`): a
substantial job, or self-employment as the main income source earning "gemiddeld per gewerkte maand ten minste
het wettelijk minimum maandloon" (here the full monthly WML, 40 hours, not the 12 hours of §5.2).

The family reads the job-months, SECM months and INPATAB of t .. t+4 through its follow-up window
(``follow_up`` in specs.yaml): a diploma of school year t/t+1 falls in September t .. August t+1, and the
report follows graduates "drie jaar" (36 months), so the last month needed lies in t+4.  Until t+4 is in the
warehouse the rows are ``voorlopig`` and durations are cut at December of the last observed year.
Rules where the report is silent: docs/indicators_first_job.md.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.core._intervals import month_index
from monitor_dagster.core.exact import exact_sum
from monitor_dagster.core.layout import held
from monitor_dagster.core.population import address_chains
from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.register import _concat
from monitor_dagster.indicators.table import cells_many, duration_cells, empty
from monitor_dagster.indicators.transitions import WORK, follow_up_states

__all__ = ["FOLLOW_UP_MONTHS", "FOLLOW_UP_YEARS", "ROUTES", "SELF_EMPLOYED_HOURS", "WAGE_MONTHS", "graduates",
           "graduate_chains", "resident_in_diploma_year", "diploma_of_the_phase", "SOI_PHASE",
           "first_work", "first_job_wage", "graduate_cohort", "o25_duur_tot_baan", "o25b_uurloon_eerste_baan"]

#: report 5.1: "hoeveel maanden na het afstuderen" ... followed three years, as 5.2 ("drie jaar vooruit")
FOLLOW_UP_MONTHS = 36
#: the follow-up window in years after t (a diploma in August t+1 is followed until August t+4)
FOLLOW_UP_YEARS = 4
#: report 5.1, 4c: self-employment counts from "ten minste het wettelijk minimum maandloon" per worked month:
#: the monthly WML of a full (40-hour) week
SELF_EMPLOYED_HOURS = 40
#: onderwijssoort of the enrolment on 1 October t (associate degree and bachelor are hbo)
ROUTES = {"MBO": "mbo", "HBO": "hbo", "WO": "wo"}
#: the phase of an hbo/wo programme from its SOI level (OPLEIDINGSNRREF OPLNIVSOI2021AGG4HB / 2016, reference/
#: soi_levels.csv) as DIPLOMAHOTAB's STUDIEFASEDIPL writes it: associate degree, bachelor, master
SOI_PHASE = {"3111": "A", "3112": "B", "3113": "B", "3211": "M", "3212": "M"}
#: O25b: the routes of the advice ("bbl-, bol, hbo- of wo-opleiding"); LEERWEGMBO 3 = BBL, 1/2 = BOL
WAGE_ROUTES = ("bol", "bbl", "hbo", "wo")
#: O25b: the hourly wage of the first job is its mean over its first months as the main job (holiday pay and
#: the first short month even out; a choice, the report does not say)
WAGE_MONTHS = 12


def graduates(population: pl.LazyFrame, careers: pl.LazyFrame) -> pl.LazyFrame:
    """The persons of the 4c population of peiljaar t: ``cohort_4c`` of core/education_careers (full-time mbo,
    hbo or wo on 1 October t, no funded education on 1 October t+1, a diploma of that onderwijssoort) who are
    in core/population of t (living in NL all of t; its characteristics are the breakdowns; O25 adds the whole
    year of the diploma, :func:`resident_in_diploma_year`).  Pupils and students are not excluded (report
    2.1), nor any age.  Adds ``dmi`` (month index of the diploma month) and ``route`` (mbo / hbo / wo)."""
    c = careers.filter(pl.col("cohort_4c").fill_null(False)).select(
        "person_id", month_index("diploma_month").alias("dmi"),
        pl.col("enrol_type").cast(pl.String).replace_strict(ROUTES, default=None).alias("route"))
    return population.join(c, on="person_id", how="inner")


def graduate_chains(addresses: pl.LazyFrame, persons: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """person_id, dmi, start, end: the BRP registrations (chains of address spells, gaps of up to 31 days
    bridged as in core/population) of the ``persons`` (with ``dmi``) over t .. t+4, the diploma years and the
    follow-up; built once for :func:`resident_in_diploma_year` and :func:`registered_until`."""
    lo, hi = dt.date(year, 1, 1), dt.date(year + FOLLOW_UP_YEARS, 12, 31)
    # the address spells of these persons only (a chain is built per person): the bucket holds everybody's
    return (address_chains(addresses.join(persons.select("person_id"), on="person_id", how="semi"), lo, hi)
            .join(persons.select("person_id", "dmi"), on="person_id", how="inner"))


def resident_in_diploma_year(chains: pl.LazyFrame) -> pl.LazyFrame:
    """person_id of those who lived in NL the whole calendar year of their diploma (``chains``:
    :func:`graduate_chains`): "Deze personen woonden in het jaar van afstuderen (2017) het hele jaar in
    Nederland" (report 5.1, 4c; the peiljaar was 2016, so that is mostly t+1); no slack at the ends of the
    year, as for core/population."""
    y = pl.col("dmi") // 12
    return (chains.filter((pl.col("start") <= pl.date(y, 1, 1)) & (pl.col("end") >= pl.date(y, 12, 31)))
            .select("person_id").unique())


def diploma_of_the_phase(careers: pl.LazyFrame, oplref: pl.LazyFrame | None) -> pl.LazyFrame:
    """person_id of the 4c cohort whose hbo/wo diploma is of the phase of the enrolment: "alleen personen ... die
    een diploma behaalden in de onderwijssoort (mbo, associate degree, bachelor of master) van de inschrijving
    in het peiljaar" (report 5.1, 4c).  The enrolment's phase comes from its programme's SOI level
    (:data:`SOI_PHASE`); a programme OPLEIDINGSNRREF does not place (or no OPLEIDINGSNRREF) keeps the person, as
    does every mbo enrolment (education_careers already matches mbo to an mbo diploma)."""
    c = careers.filter(pl.col("cohort_4c").fill_null(False))
    if oplref is None:
        return c.select("person_id")
    from monitor_dagster.indicators.study_choice import _programmes

    phase = _programmes(oplref).select("oplnr", pl.col("soi").replace_strict(SOI_PHASE, default=None).alias("_ph"))
    j = c.select("person_id", "enrol_type", pl.col("enrol_oplnr").cast(pl.String).alias("oplnr"),
                 pl.col("ho_diploma_phase").cast(pl.String)).join(phase, on="oplnr", how="left")
    ho = pl.col("enrol_type").cast(pl.String).is_in(["HBO", "WO"])
    return j.filter(~ho | pl.col("_ph").is_null() | (pl.col("_ph") == pl.col("ho_diploma_phase"))).select("person_id")


def _month_start(mi: pl.Expr) -> pl.Expr:
    return pl.date(mi // 12, mi % 12 + 1, 1)


def registered_until(addresses: pl.LazyFrame, persons: pl.LazyFrame, year: int,
                     chains: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """person_id, ``reg_mi``: the last month of the BRP registration (:func:`graduate_chains`, or ``chains``
    when already built) that runs through the first day of the diploma month; null while the registration has
    not ended (or ends after the follow-up).  Without a registration at the diploma month ``reg_mi`` is the
    month before it (censored at 0 months).  Report 5.1, 4c advice: graduates who leave the BRP ("mogelijk
    daarna in Duitsland gaan werken") are censored, not counted as without a job."""
    hi = dt.date(year + FOLLOW_UP_YEARS, 12, 31)
    chains = graduate_chains(addresses, persons, year) if chains is None else chains
    at = _month_start(pl.col("dmi"))
    covering = (chains.filter((pl.col("start") <= at) & (pl.col("end") >= at))
                .group_by("person_id").agg(pl.col("end").max()))
    end_mi = month_index("end")
    far = pl.col("end") >= pl.lit(hi)
    return (persons.select("person_id", "dmi").join(covering, on="person_id", how="left")
            .select("person_id", pl.when(pl.col("end").is_null()).then(pl.col("dmi") - 1)
                    .when(far).then(None).otherwise(end_mi).alias("reg_mi")))


def first_work(states: pl.LazyFrame, persons: pl.LazyFrame) -> pl.LazyFrame:
    """person_id, ``work_mi`` (first month at or after the diploma month with work), ``work_self`` (that work
    is self-employment only), ``vast_mi`` (first such month whose main job is vast, contract O).  Work in the
    diploma month itself gives 0 months ("Als iemand al een baan had of als zelfstandige werkte voor de
    afstudeerdatum dan tellen we de duur als nul").  As-of joins per person, not a join of all months."""
    s = states.filter(pl.col("state") == WORK).select("person_id", "mi", "self_employed", "contract").sort("mi")
    start = persons.select("person_id", "dmi").sort("dmi")
    work = (start.join_asof(s.select("person_id", pl.col("mi").alias("work_mi"),
                                     pl.col("self_employed").alias("work_self")),
                            left_on="dmi", right_on="work_mi", by="person_id", strategy="forward",
                            check_sortedness=False)
            .sort("dmi")
            .join_asof(s.filter((pl.col("contract") == "O") & ~pl.col("self_employed"))
                       .select("person_id", pl.col("mi").alias("vast_mi")),
                       left_on="dmi", right_on="vast_mi", by="person_id", strategy="forward",
                       check_sortedness=False))       # both sides sorted just above
    return work.select("person_id", "work_mi", "work_self", "vast_mi")


def _states(population, careers, job_month, secm_month, inpatab, year) -> pl.LazyFrame:
    """The monthly states t .. t+4 of everybody who left mbo/hbo/wo with a diploma (the O25 cohort and the
    O25b graduates), evaluated once per bucket for both indicators."""
    def build():
        persons = _leavers(careers).select("person_id").join(population.select("person_id"), on="person_id",
                                                             how="semi")
        return follow_up_states(job_month, secm_month, inpatab, year, persons,
                                self_employed_hours=SELF_EMPLOYED_HOURS)
    return shared("first_job_states", (population, careers, job_month, secm_month, inpatab), build, year)


def graduate_cohort(frames: dict[str, pl.LazyFrame | None], year: int) -> pl.LazyFrame:
    """The persons O25 and O25b follow (specs.yaml ``cohorts``; every graduate of the O25 cohort and of O25b is
    one of :func:`_leavers`): the engine holds their job-months, SECM months and INPATAB rows of the follow-up
    window and no one else's."""
    return _leavers(frames["core/education_careers"]).select("person_id").unique()


def _leavers(careers: pl.LazyFrame) -> pl.LazyFrame:
    """Enrolled in mbo, hbo or wo on 1 October t (any leerweg or form), left education by 1 October t+1, with
    a diploma of that onderwijssoort: the 4c cohort without its full-time condition."""
    return careers.filter(pl.col("enrol_type").cast(pl.String).is_in(list(ROUTES))
                          & pl.col("left_education").fill_null(False) & pl.col("diploma_month").is_not_null())


def o25_duur_tot_baan(population: pl.LazyFrame, careers: pl.LazyFrame, addresses: pl.LazyFrame,
                      job_month: pl.LazyFrame, secm_month: pl.LazyFrame, inpatab: pl.LazyFrame | None, year: int,
                      observed_year: int | None = None, oplref: pl.LazyFrame | None = None,
                      **kw) -> pl.DataFrame:
    """O25, report 5.1 deelvraag 4c: "hoe lang na het afstuderen iemand werk heeft (vast of flex) en hoe lang
    na het afstuderen iemand een vast dienstverband heeft" - mean months from the diploma month to work,
    capped at :data:`FOLLOW_UP_MONTHS` (no work within 36 months counts 36: the restricted mean, additive
    over persons and buckets).

    * ``werk``: the first month with a substantial job or self-employment above the full monthly WML ("We
      tellen alleen de kortste duur mee");
    * ``vast contract``: the first month whose main job is vast; "Zelfstandig ondernemers worden bij duur tot
      het hebben van een vast contract ook buiten beschouwing gelaten": persons whose first work is
      self-employment are not in this measure;
    * both also per onderwijssoort (``werk mbo`` ...);
    * ``niet in BRP``: graduates who leave the BRP within the follow-up before any work (the advice after the
      first measurement): censored, so not in ``werk`` / ``vast contract``; value = months registered after
      the diploma, n = their number (shown, not hidden).

    Graduates: :func:`graduates` (in core/population of t, which gives the breakdowns) who also lived in NL the
    whole calendar year of their diploma (:func:`resident_in_diploma_year`, report 5.1 "in het jaar van
    afstuderen ... het hele jaar in Nederland") and, for hbo/wo, whose diploma is of the enrolment's phase
    (:func:`diploma_of_the_phase`, with ``oplref`` = OPLEIDINGSNRREF when it is in the warehouse).

    ``voorlopig`` while the follow-up years are not all in the warehouse (``observed_year`` < t+4): work not
    yet observed counts as none so far (durations cut at December of ``observed_year``)."""
    last = observed_year if observed_year is not None else year + FOLLOW_UP_YEARS
    status = "definitief" if last >= year + FOLLOW_UP_YEARS else "voorlopig"
    # a diploma after the last observed month (the diplomas run to August t+1, and ``observed_year`` is t while
    # SPOLIS t+1 has not landed in full, readiness.follow_up_gaps): no month of its follow-up is observed, so
    # the graduate is not in the cells yet; kept in, the durations "cut at December t" came out negative
    grads = (graduates(population, careers).filter(pl.col("dmi") <= last * 12 + 11)
             .join(diploma_of_the_phase(careers, oplref), on="person_id", how="semi").collect())
    if grads.height == 0:       # no diplomas of t+1 yet (or none in this bucket): no cells, no states to build
        return empty()
    # living in NL the whole year of the diploma (mostly t+1), besides all of t (core/population: the breakdowns);
    # the registrations are built once for this and for leaving the BRP (registered_until)
    chains = held(graduate_chains(addresses, grads.lazy(), year))
    grads = grads.lazy().join(resident_in_diploma_year(chains), on="person_id", how="semi")
    states = _states(population, careers, job_month, secm_month, inpatab, year)
    p = (grads.join(first_work(states, grads), on="person_id", how="left")
         .join(registered_until(addresses, grads, year, chains), on="person_id", how="left"))
    end = pl.min_horizontal(pl.col("dmi") + FOLLOW_UP_MONTHS, pl.lit(last * 12 + 11))
    # a registration that ends before the end of the follow-up (and before the last observed month)
    left = pl.col("reg_mi").is_not_null() & (pl.col("reg_mi") < end)
    limit = pl.when(left).then(pl.col("reg_mi")).otherwise(end)

    def months(found: str) -> pl.Expr:
        """Months to ``found`` within the limit; censored (left the BRP first) -> null; none -> the months
        observed, at most 36."""
        return (pl.when(pl.col(found) <= limit).then(pl.col(found) - pl.col("dmi"))
                .when(left).then(None)
                .otherwise(end - pl.col("dmi")).cast(pl.Float64))

    p = p.with_columns(months("work_mi").alias("_werk"), months("vast_mi").alias("_vast"),
                       (pl.col("work_mi") <= limit).fill_null(False).alias("_found"),
                       pl.when(left & ~(pl.col("work_mi") <= limit).fill_null(False))
                       .then((pl.col("reg_mi") - pl.col("dmi")).clip(0).cast(pl.Float64)).alias("_brp"))
    # self-employed first: out of the vast-contract measure
    p = held(p.with_columns(pl.when(pl.col("_found") & pl.col("work_self").fill_null(False)).then(None)
                            .otherwise(pl.col("_vast")).alias("_vast")))
    values = {}
    for label, col in (("werk", "_werk"), ("vast contract", "_vast")):
        values[("O25", label)] = pl.col(col)
        for route in ROUTES.values():   # per onderwijssoort: null outside the route, so not in its denominator
            values[("O25", f"{label} {route}")] = pl.when(pl.col("route") == route).then(pl.col(col))
    values[("O25", "niet in BRP")] = pl.col("_brp")
    out = [cells_many(p, values, year=year, unit="maanden", status=status, **kw)]
    # the duration model of report 7.2.2 (issue 17): month 1 = the diploma month; work ends the spell, leaving
    # the BRP or the end of the observed follow-up censors it after the last month observed
    found = pl.col("_found")
    out.append(duration_cells(
        p.with_columns(pl.when(found).then(pl.col("work_mi") - pl.col("dmi") + 1)
                       .otherwise(limit - pl.col("dmi") + 1).alias("duration"),
                       pl.when(found).then(pl.lit("werk")).alias("cause")),
        indicator_id="O25", year=year, measure="werk", status=status))
    return _concat(out)


def first_job_wage(states: pl.LazyFrame, persons: pl.LazyFrame) -> pl.LazyFrame:
    """person_id, ``wage``: the hourly wage of the first substantial job at or after the diploma month (``dmi``)
    within :data:`FOLLOW_UP_MONTHS` - the main job of the first month with one (self-employment has no hourly
    wage) - as its mean over its first :data:`WAGE_MONTHS` months as the main job, weighted by basic hours."""
    jobs = states.filter(pl.col("job").is_not_null()).select("person_id", "mi", "job", "wage", "hours")
    first = (persons.select("person_id", "dmi").sort("dmi")
             .join_asof(jobs.select("person_id", pl.col("mi").alias("job_mi"), pl.col("job").alias("first_job"))
                        .sort("job_mi"), left_on="dmi", right_on="job_mi", by="person_id", strategy="forward",
                        check_sortedness=False)
             .filter(pl.col("job_mi") <= pl.col("dmi") + FOLLOW_UP_MONTHS))
    months = (jobs.join(first, on="person_id", how="inner")
              .filter((pl.col("job") == pl.col("first_job"))
                      & pl.col("mi").is_between(pl.col("job_mi"), pl.col("job_mi") + WAGE_MONTHS - 1)))
    return (months.group_by("person_id")
            .agg((exact_sum(pl.col("wage") * pl.col("hours")) / exact_sum("hours")).alias("wage"))
            .filter(pl.col("wage").is_finite()))


def o25b_uurloon_eerste_baan(population: pl.LazyFrame, careers: pl.LazyFrame, job_month: pl.LazyFrame,
                             secm_month: pl.LazyFrame, inpatab: pl.LazyFrame | None, oplref: pl.LazyFrame,
                             year: int, observed_year: int | None = None, **kw) -> pl.DataFrame:
    """O25b, the advice after report 5.1 deelvraag 4c: "per combinatie van studierichting en bbl, bol, hbo of wo
    het uurloon in de eerste baan te vergelijken voor personen met en zonder (niet-westerse)
    migratieachtergrond" - the mean hourly wage of the first job (:func:`first_job_wage`) of those who left
    mbo (bol or bbl: unlike O25 not only full-time), hbo or wo with a diploma, per route and per route x field
    (the sector of the programme in OPLEIDINGSNRREF, as O21); the herkomst breakdown gives the comparison.
    ``voorlopig`` while the follow-up is not complete (a first job not yet observed is not in the mean)."""
    from monitor_dagster.indicators.study_choice import FIELD_UNKNOWN, _programmes

    last = observed_year if observed_year is not None else year + FOLLOW_UP_YEARS
    status = "definitief" if last >= year + FOLLOW_UP_YEARS else "voorlopig"
    route = (pl.when(pl.col("enrol_type").cast(pl.String) == "MBO")
             .then(pl.when(pl.col("enrol_leerweg_mbo").cast(pl.String) == "3").then(pl.lit("bbl"))
                   .otherwise(pl.lit("bol")))
             .otherwise(pl.col("enrol_type").cast(pl.String).str.to_lowercase()))
    leavers = (_leavers(careers)
               .select("person_id", month_index("diploma_month").alias("dmi"), route.alias("route"),
                       pl.col("enrol_oplnr").cast(pl.String).alias("oplnr"))
               .join(_programmes(oplref).select("oplnr", "field"), on="oplnr", how="left")
               .with_columns(pl.col("field").fill_null(FIELD_UNKNOWN)))
    p = population.join(leavers, on="person_id", how="inner").collect()
    if p.height == 0:           # nobody left with a diploma (yet, or in this bucket)
        return empty()
    states = _states(population, careers, job_month, secm_month, inpatab, year)
    p = p.lazy().join(first_job_wage(states, p.lazy()), on="person_id", how="inner").collect()
    # per route and per route x field, from one pass (cells_many): the wage is null outside the measure's part
    values = {}
    for r in WAGE_ROUTES:
        in_route = pl.col("route") == r
        values[("O25b", r)] = pl.when(in_route).then(pl.col("wage"))
        for field in sorted(p.filter(in_route)["field"].unique().to_list()):
            values[("O25b", f"{r} {field}")] = pl.when(in_route & (pl.col("field") == field)).then(pl.col("wage"))
    return cells_many(p.lazy(), values, year=year, unit="euro per uur", status=status, **kw)
