"""Jobs from SPOLISBUS: job-months, the substantial-job rule, job spells, main job and simultaneous jobs.

Report (technisch rapport) 4.2 and 5.2; docs/methodology.md "Spells" (definitions and performance).  The chain is

    SPOLIS rows --job_months--> one row per (person, job, month) --job_spells--> spells per (person, job, contract)

and every indicator that looks at work (3c-3g, 4c-4h) starts from job-months or job spells, never from a
self-join of a person-month table.  All functions take and return LazyFrames; nothing is collected here.
Choices where the report is silent are written down in ``docs/methodology_spells.md`` and repeated in the
docstrings below.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster import reference
from monitor_dagster.core._intervals import calendar_part, in_year, keep_r
from monitor_dagster.core.exact import exact_sum, from_fixed, to_fixed

__all__ = [
    "CONTRACT",
    "MIN_HOURS_PER_WEEK",
    "SECTOR",
    "SOORTBAAN",
    "SPOLIS_READ",
    "SSECT",
    "contract_by_basic_hours",
    "contract_of",
    "is_substantial_job",
    "employers",
    "job_months",
    "job_spells",
    "main_job",
    "round_half_up",
    "simultaneous_jobs",
    "wml_hour_of",
]

#: report 4.2: a substantial job has at least 12 basic hours per week
MIN_HOURS_PER_WEEK = 12.0
#: float slack for the thresholds (hours*7/days and loon/uren are not exact in binary floating point)
_EPS = 1e-9
#: SCONTRACTSOORT: O onbepaalde tijd (vast), B bepaalde tijd (flex), N niet van toepassing / onbekend
CONTRACT = pl.Enum(["O", "B", "N"])
#: SSOORTBAAN codes (catalog); 2 = stagiair
SOORTBAAN = pl.Enum(["1", "2", "3", "4", "5", "9"])
_SECTORS = reference.sectors()
#: UWV sector codes "01".."69" (SSECT) and the broad monitor sector (reference/sectors.csv)
SSECT = pl.Enum(_SECTORS["code"].to_list())
SECTOR = pl.Enum(sorted(set(_SECTORS["monitor_sector"].to_list())))
_TO_SECTOR = dict(zip(_SECTORS["code"].to_list(), _SECTORS["monitor_sector"].to_list()))
#: the same by the SSECT Enum's physical index (an integer lookup: 0.09 s against 0.21 s through the strings of
#: 5.6 M job-months)
_TO_SECTOR_BY_INDEX = {i: _TO_SECTOR[c] for i, c in enumerate(SSECT.categories.to_list())}

_SPOLIS_COLS = ["person_id", "IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SBASISLOON", "SBASISUREN",
                "SAANTVERLU", "SAANTCTRCTURENPWK", "SBAANDAGEN", "SCONTRACTSOORT", "SSOORTBAAN", "SSECT"]
#: SPOLISBUS holds income relationships, not only jobs: SSRTIV 11 civil servants, 13/17 directors, 15 regular
#: wage; 21 and up benefits and pensions paid through the payroll (CBS file description of SPOLISBUS; the codes
#: are the loonaangifte's "soort inkomstenverhouding", Belastingdienst, Handboek loonheffingen: 21-24 pensions,
#: AOW, ANW, 31-46 benefits such as 31 ZW, 32 WAO, 33 WW, 39 IVA, 40 WGA).  A row with a code from this one up is
#: no job: a WW benefit with contract N and hours would otherwise be a job-month (a student's benefit a
#: "bijbaan" in O24b).  Two codes the rule decides without a source: 18 (wachtgeld van een overheidsinstelling)
#: counts as a job, 81 (overige fictieve dienstbetrekkingen) does not (docs/methodology.md, "Job-months").
#: Without the column (an incomplete zone) every row counts, as before
FIRST_NON_JOB_SRTIV = 21
#: the SPOLISBUS columns :func:`job_months` reads (RINPERSOONS for :func:`keep_r`, SSRTIV for :func:`_is_job`):
#: what a bucket holds
SPOLIS_READ = ("RINPERSOONS", "SSRTIV", *_SPOLIS_COLS)


def _is_job(schema) -> pl.Expr:
    """A wage relationship (:data:`FIRST_NON_JOB_SRTIV`); an empty or non-numeric code counts as a job."""
    if "SSRTIV" not in schema:
        return pl.lit(True)
    code = pl.col("SSRTIV").cast(pl.Utf8).str.strip_chars().cast(pl.Int32, strict=False)
    return (code < FIRST_NON_JOB_SRTIV).fill_null(True)


def _sum_or_null(col: str, alias: str) -> list[pl.Expr]:
    """Aggregations for a sum that stays null when the group has no value (polars' ``sum`` of nulls is 0):
    the sum and its count; :func:`_null_without_values` turns the sum back into null afterwards.  Two plain
    aggregations, so the group-by stays streamable.  Needed for an incomplete landing zone, where a column
    the file lacked (e.g. SAANTVERLU) arrives as nulls and must not become 0 hours.  ``col`` is in fixed
    point (:func:`core.exact.to_fixed` before the group-by), so the sum is the same in any row order."""
    return [pl.col(col).sum().alias(alias), pl.col(col).count().alias(f"_n_{alias}")]


def _null_without_values(*aliases: str) -> list[pl.Expr]:
    """The sums of :func:`_sum_or_null` as Float64, null where the group had no value."""
    return [pl.when(pl.col(f"_n_{a}") > 0).then(from_fixed(a)).alias(a) for a in aliases]


# --------------------------------------------------------------------------------------------- rules
def wml_hour_of(month: str | pl.Expr = "month") -> pl.Expr:
    """Hourly WML (40-hour week) of 1 January of the calendar year of ``month`` (reference/wml.csv).

    :func:`job_months` passes 1 January of the peiljaar, so every month of a panel is judged by the WML of
    its peiljaar (report 4.2, 5.2).  Years outside the table give null (-> not substantial)."""
    m = pl.col(month) if isinstance(month, str) else month
    table = reference.wml()
    mapping = dict(zip(table["year"].to_list(), table["wml_hour_40h"].to_list()))
    return m.dt.year().cast(pl.Int64).replace_strict(mapping, default=None, return_dtype=pl.Float64)


def is_substantial_job(wml_hourly: float | pl.Expr | None = None, *, basisuren_pw: str = "basisuren_pw",
                       hourly_wage: str = "hourly_wage", contract: str = "contract",
                       soortbaan: str = "soortbaan") -> pl.Expr:
    """Report 4.2 ("Een substantiële baan hebben we gedefinieerd als een baan van ten minste 12 basisuren per
    week, waarbij minstens het 40-urige werkweek wettelijk minimumloon (WML) wordt verdiend (dat geldt op
    1 januari van het peiljaar) ... Stages worden niet meegeteld ... Ook werk waarvan de contractsoort
    onbekend is ... wordt buiten beschouwing gelaten") and 5.2 ("minimaal 12 uur per week en boven het
    wettelijk minimumloon ... Contracten waarvan de contractsoort onbekend en stages zijn, laten we buiten
    beschouwing").

    On a job-month (columns of :func:`job_months`):

    * ``basisuren_pw >= 12``: basic hours (SBASISUREN, paid hours minus overtime) per week *of the period the
      job existed in that month*, ``basisuren * 7 / days`` (report 3c: hours "ten opzichte van de periode dat
      iemand werkte", so a job that starts on the 20th is not penalised);
    * ``hourly_wage >= wml_hourly``: SBASISLOON / SBASISUREN at least the hourly WML of a 40-hour week on
      1 January (default: of the month's calendar year, :func:`wml_hour_of`);
    * SCONTRACTSOORT O or B (N = unknown excluded) and SSOORTBAAN not 2 (stagiair).

    Null anywhere makes the job-month not substantial (the expression never returns null)."""
    wml = wml_hour_of("month") if wml_hourly is None else (
        wml_hourly if isinstance(wml_hourly, pl.Expr) else pl.lit(float(wml_hourly)))
    return ((pl.col(basisuren_pw) >= MIN_HOURS_PER_WEEK - _EPS)
            & (pl.col(hourly_wage) >= wml - _EPS)
            # on the codes as they are (strings or the Enums of job_months): through strings took 0.2 s per
            # 5.6 M job-months, the Enum comparison 0.01 s
            & pl.col(contract).is_in(["O", "B"])
            & (pl.col(soortbaan) != "2")).fill_null(False)


# ---------------------------------------------------------------------------------------- job-months
def _spolis_window(spolis: pl.LazyFrame, lo: dt.date, hi: dt.date) -> pl.LazyFrame:
    lf = keep_r(spolis)
    schema = lf.collect_schema()
    cols = [pl.col(c) if c in schema else pl.lit(None, dtype=pl.Float64).alias(c) for c in _SPOLIS_COLS]

    def as_enum(c: str, dtype: pl.Enum) -> pl.Expr:
        # the warehouse stores these codes as this very Enum: recasting through strings took 0.3 of the 4 s
        # of a bucket of 7 M SPOLIS rows (4 M persons)
        return pl.col(c) if schema.get(c) == dtype else pl.col(c).cast(pl.Utf8).cast(dtype)
    return (lf.filter(pl.col("SDATUMAANVANGIKO").is_between(lo, hi) & _is_job(schema))
            .select(cols)
            .with_columns(as_enum("SCONTRACTSOORT", CONTRACT), as_enum("SSOORTBAAN", SOORTBAAN),
                          # a code outside the Enum becomes null: a cast, half the time of replace_strict.  A
                          # copy that stored the two-digit code as a number ("3" for "03") lost the leading zero, and
                          # its job-months lost their sector without a word (audit, December 2026): padded back
                          pl.col("SSECT").cast(pl.Utf8).str.zfill(2).cast(SSECT, strict=False),
                          # the employer without leading zeros: a copy that stored the id as a number
                          # ("100296" for "000100296") would otherwise make the same employer two, and a job
                          # that crosses from the file of t-1 into that of t an employer change (O29/O30).
                          # 1.3 s over a national SPOLIS; an id starting with a letter (F, P) is unchanged
                          pl.col("SBEID").cast(pl.Utf8).str.strip_chars_start("0")))


def job_months(spolis: pl.LazyFrame, spolis_prev: pl.LazyFrame | None, year: int) -> pl.LazyFrame:
    """One row per (person, job, calendar month) for the 14 months Nov t-1 .. Dec t (report 5.2: "Voor het
    samenstellen van het analysebestand hebben we steeds per jaar maandstatistieken berekend. Hiervoor werden
    ook maand 11 en 12 van het voorgaande jaar gebruikt").

    SPOLIS rows are the overlap of a payroll period with a calendar month, so a 4-weekly payroll gives 2-3
    rows of one job in some months (CBS file documentation); they are collapsed here:

    * month = first day of the month of SDATUMAANVANGIKO (rows never cross a month boundary in SPOLIS);
    * sums: ``basisuren`` (SBASISUREN), ``basisloon`` (SBASISLOON), ``verloonde_uren`` (SAANTVERLU),
      ``days`` (SBAANDAGEN; when missing or null, the calendar days of the row's period); a sum over rows
      that are all null is null, not 0;
    * the row with the latest period start wins for ``SBEID``, ``contract`` (SCONTRACTSOORT), ``soortbaan``
      (SSOORTBAAN), ``SSECT`` and ``contracturen`` (SAANTCTRCTURENPWK, a per-week figure, not summed; null
      before 2016: trend break contracturen_2016);
    * ``SSECT`` as an Enum of the UWV sector codes "01".."69" (a code outside reference/sectors.csv becomes
      null) and ``sector`` = its monitor_sector (reference.sectors(); the report itself breaks down by raw
      SSECT, 4d/4h, which is why SSECT is kept);
    * ``hourly_wage`` = basisloon / basisuren (report 3f), null for zero hours;
    * ``basisuren_pw`` / ``verloonde_uren_pw`` = hours * 7 / days (hours per week of the period worked, 3c);
    * ``substantial``: :func:`is_substantial_job` with the WML of 1 January of the **peiljaar** t, also for the
      months of t-1 (report 4.2: "dat geldt op 1 januari van het peiljaar"; 5.2), so November t-1 can be
      substantial in the panel of t and not in that of t-1.

    Only RINPERSOONS R.  ``spolis_prev`` (SPOLISBUS t-1) may be None: the panel then starts in January.

    Incomplete landing zone: only person key, IKVID, SDATUMAANVANGIKO, SDATUMEINDEIKO, SBASISUREN,
    SBASISLOON, SCONTRACTSOORT and SSOORTBAAN are needed; any other column the file lacks (absent, or all null
    from the ingest) leaves its output null: ``verloonde_uren``/``verloonde_uren_pw`` (SAANTVERLU),
    ``contracturen`` (SAANTCTRCTURENPWK), ``SSECT``/``sector`` (SSECT), ``SBEID``; ``days`` then comes from the
    period dates, as for a null SBAANDAGEN.  ``substantial`` only needs the required columns.

    Performance: rows that cover their whole calendar month are job-months as they are (the periods of one
    job do not overlap in S-Polis, so such a row is alone in its month); only the partial rows - 4-weekly
    payrolls, first and last months of jobs, about half of all rows - go through the group-by."""
    lo, hi = dt.date(year - 1, 11, 1), dt.date(year, 12, 31)
    parts = [_spolis_window(spolis, dt.date(year, 1, 1), hi)]
    if spolis_prev is not None:
        parts.append(_spolis_window(spolis_prev, lo, dt.date(year - 1, 12, 31)))
    rows = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
    # days as integers and the month's first and last day from a table of the window's days: polars' date
    # functions took 1.5 of the 6.7 CPU-seconds of a bucket of 7 M rows (calendar_part)
    start, end = pl.col("SDATUMAANVANGIKO"), pl.col("SDATUMEINDEIKO")
    period_days = end.to_physical().cast(pl.Int64) - start.to_physical().cast(pl.Int64) + 1
    rows = rows.with_columns(calendar_part(start, lo, hi, "month_start").alias("month"),
                             pl.col("SBAANDAGEN").fill_null(period_days.cast(pl.Float64)).alias("_days"))
    # Fast path: a row covering its whole calendar month is the only row of its job that month (periods of
    # one job do not overlap), so it is a job-month as it is; only the partial rows (4-weekly payrolls,
    # starts and ends of jobs) go through the group-by.  Halves the group-by state at national scale.
    full = (start == pl.col("month")) & (end == calendar_part(start, lo, hi, "month_end"))
    whole = rows.filter(full).select(
        "person_id", "IKVID", "month", "SBEID", pl.col("SBASISUREN").alias("basisuren"),
        pl.col("SBASISLOON").alias("basisloon"), pl.col("SAANTVERLU").alias("verloonde_uren"),
        pl.col("SAANTCTRCTURENPWK").alias("contracturen"), pl.col("_days").alias("days"),
        pl.col("SCONTRACTSOORT").alias("contract"), pl.col("SSOORTBAAN").alias("soortbaan"), "SSECT")
    last = "SDATUMAANVANGIKO"
    parts = (rows.filter(~full)
             .with_columns(to_fixed(c).alias(c) for c in ("SBASISUREN", "SBASISLOON", "SAANTVERLU", "_days"))
             .group_by("person_id", "IKVID", "month")
             .agg(pl.col("SBEID").max_by(last),
                  *_sum_or_null("SBASISUREN", "basisuren"),
                  *_sum_or_null("SBASISLOON", "basisloon"),
                  *_sum_or_null("SAANTVERLU", "verloonde_uren"),
                  pl.col("SAANTCTRCTURENPWK").max_by(last).alias("contracturen"),
                  from_fixed(pl.col("_days").sum()).alias("days"),
                  pl.col("SCONTRACTSOORT").max_by(last).alias("contract"),
                  pl.col("SSOORTBAAN").max_by(last).alias("soortbaan"),
                  pl.col("SSECT").max_by(last))
             .with_columns(_null_without_values("basisuren", "basisloon", "verloonde_uren"))
             .select(whole.collect_schema().names()))
    jm = pl.concat([whole, parts], how="vertical")
    hours_pw = pl.when(pl.col("days") > 0).then(pl.col("basisuren") * 7.0 / pl.col("days"))
    paid_pw = pl.when(pl.col("days") > 0).then(pl.col("verloonde_uren") * 7.0 / pl.col("days"))
    jm = jm.with_columns(
        pl.col("SSECT").to_physical().replace_strict(_TO_SECTOR_BY_INDEX, default=None, return_dtype=SECTOR)
        .alias("sector"),
        pl.when(pl.col("basisuren") > 0).then(pl.col("basisloon") / pl.col("basisuren")).alias("hourly_wage"),
        hours_pw.alias("basisuren_pw"), paid_pw.alias("verloonde_uren_pw"))
    # report 4.2 "(dat geldt op 1 januari van het peiljaar)" and 5.2 (monthly statistics with months 11 and 12
    # of t-1): every month of the panel of year t is judged by the WML of 1 January t
    jm = jm.with_columns(is_substantial_job(wml_hour_of(pl.lit(dt.date(year, 1, 1)))).alias("substantial"))
    return jm.select("person_id", "IKVID", "SBEID", "month", "basisuren", "basisloon", "verloonde_uren",
                     "contracturen", "days", "contract", "soortbaan", "SSECT", "sector", "hourly_wage",
                     "basisuren_pw", "verloonde_uren_pw", "substantial")


# ----------------------------------------------------------------------------------------- job spells
def job_spells(job_months: pl.LazyFrame, split_on: tuple[str, ...] = ("contract",), *,
               presorted: bool = False) -> pl.LazyFrame:
    """Spells per (person, job): runs of consecutive calendar months of one IKVID (report 5.2: "veranderingen
    van maand op maand").

    A spell ends when the job has no row in the next month (a one-month gap ends the spell; the indicators
    that allow "maximaal een maand tussen" (4e) bridge gaps between spells with interval logic) and when a
    column of ``split_on`` changes.  By default that is the contract type: a job that goes from B (tijdelijk)
    to O (vast) gives two spells of the same IKVID and SBEID, the second with ``prev_contract`` B and
    ``prev_end_month`` the month before its start - that is temp->permanent in the same firm (O29) without any
    join.  Pass ``split_on=("contract", "substantial")`` to get spells of substantial work only.

    Columns: person_id, IKVID, spell_no (1.. within the job), SBEID (of the last month), start_month,
    end_month (first day of the first/last month), n_months, contract (and the other ``split_on`` columns;
    a contract that is not split on is the last month's),
    sector and SSECT (of the last month), basisuren, basisloon, verloonde_uren, days (sums; null when every
    month is null, e.g. SAANTVERLU missing from an incomplete landing zone),
    ``basisuren_pw`` (mean basic hours per week of the period worked = sum hours * 7 / sum days),
    ``contracturen`` (mean of the months), ``hourly_wage`` (mean weighted by basic hours = sum loon / sum
    uren, report 3f: "gewogen naar het aantal basisuren"), substantial_months (when the input has
    ``substantial``), prev_contract / prev_end_month (previous spell of the same job, null for the first).

    Cost: one sort of the job-months and a streaming group-by; no self-join.  ``presorted``: the job-months
    already come sorted by person_id, IKVID and month (the core asset sorts each bucket with
    :func:`core.sorting.sorted_frame`, which finds the stored table in order), so the sort is skipped: the
    streaming engine's sort of sorted rows was half of job_spells (issue 12).

    ``month`` is the first day of the month (as :func:`job_months` gives it): two such days are consecutive
    months exactly when they lie 28 to 31 days apart, an integer comparison (month numbers from
    ``dt.year()`` and ``dt.month()`` took 0.3 s a bucket of 5.5 M job-months)."""
    names = job_months.collect_schema().names()
    split = [c for c in split_on if c in names]
    day = pl.col("month").to_physical().cast(pl.Int32)
    step = day - day.shift(1)
    key_change = (pl.col("person_id").ne_missing(pl.col("person_id").shift(1))
                  | pl.col("IKVID").ne_missing(pl.col("IKVID").shift(1)))
    new_spell = key_change | ~step.is_between(28, 31).fill_null(False)
    for c in split:
        new_spell = new_spell | pl.col(c).ne_missing(pl.col(c).shift(1))
    amounts = ["basisuren", "basisloon", "verloonde_uren", "days", "contracturen"]   # summed in fixed point
    s = ((job_months if presorted else job_months.sort("person_id", "IKVID", "month"))
         .with_columns(key_change.alias("_new_job"), new_spell.alias("_new_spell"),
                       *(to_fixed(c).alias(c) for c in amounts))
         .with_columns(pl.col("_new_spell").cum_sum().alias("_spell"))
         .with_columns(pl.when(pl.col("_new_job")).then(pl.col("_spell")).forward_fill().alias("_first")))
    aggs = [pl.col("person_id").first(), pl.col("IKVID").first(),
            (pl.col("_spell").first() - pl.col("_first").first() + 1).cast(pl.Int32).alias("spell_no"),
            pl.col("SBEID").max_by("month"),
            pl.col("month").min().alias("start_month"), pl.col("month").max().alias("end_month"),
            pl.len().cast(pl.Int32).alias("n_months"),
            *[pl.col(c).first() for c in split],
            *([pl.col("contract").max_by("month")] if "contract" in names and "contract" not in split else []),
            pl.col("sector").max_by("month"), pl.col("SSECT").max_by("month"),
            *_sum_or_null("basisuren", "basisuren"), *_sum_or_null("basisloon", "basisloon"),
            *_sum_or_null("verloonde_uren", "verloonde_uren"),
            from_fixed(pl.col("days").sum()).alias("days"), *_sum_or_null("contracturen", "contracturen")]
    if "substantial" in names and "substantial" not in split:
        aggs.append(pl.col("substantial").sum().cast(pl.Int32).alias("substantial_months"))
    sp = (s.group_by("_spell").agg(aggs)
          .with_columns(*_null_without_values("basisuren", "basisloon", "verloonde_uren"),
                        pl.when(pl.col("_n_contracturen") > 0)      # the mean of the months that have it
                        .then(from_fixed("contracturen") / pl.col("_n_contracturen")).alias("contracturen"))
          .drop("_n_basisuren", "_n_basisloon", "_n_verloonde_uren", "_n_contracturen"))
    same_job = ((pl.col("person_id") == pl.col("person_id").shift(1))
                & (pl.col("IKVID") == pl.col("IKVID").shift(1)))
    sp = (sp.sort("_spell")
          .with_columns(
              pl.when(pl.col("days") > 0).then(pl.col("basisuren") * 7.0 / pl.col("days")).alias("basisuren_pw"),
              pl.when(pl.col("basisuren") > 0).then(pl.col("basisloon") / pl.col("basisuren")).alias("hourly_wage"),
              pl.when(same_job).then(pl.col("contract").shift(1)).alias("prev_contract"),
              pl.when(same_job).then(pl.col("end_month").shift(1)).alias("prev_end_month"))
          .drop("_spell"))
    return sp


# ------------------------------------------------------------------------------------------ main job
def main_job(job_months: pl.LazyFrame) -> pl.LazyFrame:
    """Per person-month the job with the most basic hours (O04 "main job by basic hours"; report 3d: "Bij
    meerdere banen kijken we of de meest gemaakte basisuren ... vast of tijdelijk zijn").

    Ties: higher basisloon, then the lower IKVID (deterministic).  Filter the job-months first (e.g. on
    ``substantial``) to choose among substantial jobs only.  Returns the job-month row of the main job plus
    ``n_jobs_month`` (jobs of the person that month).  Sort + first per group; no self-join."""
    return (job_months.sort(["person_id", "month", "basisuren", "basisloon", "IKVID"],
                            descending=[False, False, True, True, False], nulls_last=True)
            .group_by("person_id", "month")
            .agg(pl.all().first(), pl.len().cast(pl.Int32).alias("n_jobs_month")))


def contract_by_basic_hours(job_months: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """Per person, the contract type (O or B) that carries the most basic hours in year ``year`` (report 3d,
    read literally: "Bij meerdere banen kijken we of de meest gemaakte basisuren dat jaar vast of tijdelijk
    zijn").  Substantial job-months of year t only (not the Nov-Dec t-1 of the panel); a tie goes to O.

    Columns: person_id, contract, basisuren_O, basisuren_B."""
    jm = job_months.filter(in_year("month", year))
    if "substantial" in job_months.collect_schema().names():
        jm = jm.filter(pl.col("substantial"))
    c = pl.col("contract")          # Enum or text: compared as it is (a copy as text cost more than the rule)
    out = (jm.filter(c.is_in(["O", "B"]))
           .group_by("person_id")
           .agg(exact_sum(pl.col("basisuren").filter(c == "O")).alias("basisuren_O"),
                exact_sum(pl.col("basisuren").filter(c == "B")).alias("basisuren_B")))
    return out.with_columns(contract_of("basisuren_O", "basisuren_B")).select(
        "person_id", "contract", "basisuren_O", "basisuren_B")


def contract_of(basisuren_o: str, basisuren_b: str, tie: str = "vast") -> pl.Expr:
    """The contract type with the most basic hours, as column ``contract``; a tie goes to O (``tie="vast"``,
    the report is silent) or to B (``"tijdelijk"``, a sensitivity alternative, choices.py)."""
    o, b = pl.col(basisuren_o), pl.col(basisuren_b)
    vast = o >= b if tie == "vast" else o > b
    return pl.when(vast).then(pl.lit("O")).otherwise(pl.lit("B")).cast(CONTRACT).alias("contract")


# ------------------------------------------------------------------------------------------ main employer
def employers(job_months: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """A person's employers of calendar year t over his substantial job-months: person_id, SBEID, sector,
    months (job-months in that sector), basisloon and basisuren (their sums) and ``main``: the employer of
    the most basic hours of the year (a tie: the smallest SBEID).

    Built per person (buckets of persons read only their own row groups); O40 (report 5.2, 4h) ranks the
    employees *within* an employer and reads this table in buckets of employers: one row per person and
    employer (and sector) instead of the job-months, so a bucket of employers, which must scan the whole
    table, scans a few columns of a tenth of the rows."""
    # wages and hours summed in fixed point (core/exact.py): the same sums in any row order
    pairs = (job_months.filter(in_year("month", year) & pl.col("substantial")
                               & pl.col("SBEID").is_not_null())
             .with_columns(to_fixed("basisloon").alias("basisloon"), to_fixed("basisuren").alias("basisuren"))
             .group_by("person_id", "SBEID", "sector")      # on the Enum's codes, named per group (0.15 -> 0.13 s)
             .agg(pl.len().cast(pl.UInt32).alias("months"), pl.col("basisloon").sum(), pl.col("basisuren").sum())
             .with_columns(pl.col("sector").cast(pl.String)))
    main = (pairs.group_by("person_id", "SBEID").agg(pl.col("basisuren").sum().alias("_u"))
            .sort(["person_id", "_u", "SBEID"], descending=[False, True, False])
            .group_by("person_id", maintain_order=True).first()
            .select("person_id", "SBEID", pl.lit(True).alias("main")))
    return (pairs.join(main, on=["person_id", "SBEID"], how="left")
            .with_columns(from_fixed("basisloon").alias("basisloon"), from_fixed("basisuren").alias("basisuren"),
                          pl.col("main").fill_null(False)))


# ---------------------------------------------------------------------------------- simultaneous jobs
def round_half_up(x: pl.Expr, decimals: int = 1) -> pl.Expr:
    """Commercial rounding (0.05 -> 0.1), with a tiny slack against binary floating point."""
    f = 10 ** decimals
    return ((x * f + 0.5 + 1e-9).floor() / f)


def simultaneous_jobs(spolis_year: pl.LazyFrame, year: int, substantial_only: bool = True) -> pl.LazyFrame:
    """Number of jobs held at the same time (report 3g): "tellen we het aantal banen dat iemand gelijktijdig
    werkt bij elkaar op ... Dus wanneer iemand 35 dagen baan A heeft plus het hele jaar baan B heeft deze
    persoon 1,1 baan. Wanneer iemand baan A 200 dagen heeft en baan B 200 dagen dan heeft deze persoon ook
    1,1 baan. Hierbij worden werkzaamheden als zelfstandige buiten beschouwing gelaten".

    n_jobs = sum over the person's jobs of (days of the job in year t / days in year t).  Days of a job are
    the SBAANDAGEN of its SPOLIS rows in the year (calendar days with a registration; at most the days of the
    year).  With ``substantial_only`` (default, report 4.2: register analyses use substantial jobs only) only
    the days of substantial job-months count.  Self-employment is not in SPOLIS, so it is never counted.

    Columns: person_id, n_jobs (rounded half-up to one decimal as the report's examples: 35/365 + 1 = 1.096
    -> 1.1; 400/365 = 1.096 -> 1.1), n_jobs_exact (unrounded), jobs (number of distinct jobs).  Only persons
    with at least one (substantial) job-day in the year."""
    jm = job_months(spolis_year, None, year)
    if substantial_only:
        jm = jm.filter(pl.col("substantial"))
    ndays = float((dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1)
    per_job = (jm.group_by("person_id", "IKVID")
               .agg(exact_sum("days").clip(upper_bound=ndays).alias("_d")))
    return (per_job.group_by("person_id")
            .agg((exact_sum("_d") / ndays).alias("n_jobs_exact"), pl.len().cast(pl.Int32).alias("jobs"))
            .with_columns(round_half_up(pl.col("n_jobs_exact"), 1).alias("n_jobs"))
            .select("person_id", "n_jobs", "n_jobs_exact", "jobs"))
