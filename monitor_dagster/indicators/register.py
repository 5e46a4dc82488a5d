"""Register indicators O04-O18 (report ch. 4.2, research questions 3c-3g; docs/indicators_register.md).

Each function takes the core frames (LazyFrames from ``Warehouse(root, layer="core")``) and the year and
returns rows of the indicator table (:func:`monitor_dagster.indicators.table.cells`).  Plain polars, no
Dagster.  The rules and the choices where the report is silent are in ``docs/indicators_register.md`` and
repeated in the docstrings.

Population of every indicator here (report 2.1, 2.2): the core population of year t (lived in NL the whole
year) **without pupils/students and pensioners** (``~student & ~pensioner``) and **15 to the AOW age**
(``leeftijd`` not null: jongeren 15-27 and niet-jongeren 27-AOW, under the AOW age the whole year).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.choices import DEFAULT, MethodChoices
from monitor_dagster.core._intervals import calendar_part, in_year, keep_r
from monitor_dagster.core.exact import SCALE, exact_sum, from_fixed, to_fixed
from monitor_dagster.core.jobs import MIN_HOURS_PER_WEEK, contract_of, round_half_up, wml_hour_of
from monitor_dagster.core.layout import held
from monitor_dagster.core.secm import SECM_SELF_EMPLOYED, secm_benefit_months
from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.table import KWARTAAL, cells, cells_many, empty

__all__ = [
    "BENEFIT_INDICATORS", "DURATION_INDICATORS", "INCOME_CAP", "INCOME_COLUMNS", "SECM_WORKING",
    "base_population", "o04_vast_contract", "o05_zzp", "o06_contracturen", "o07_uren", "o08_uurloon",
    "o04_o08_contract_uren_uurloon", "o09_inkomen", "o10_banen", "o11_o14_benefit_share", "o15_o18_benefit_months",
    "secm_position", "simultaneous_jobs_from_months",
]

_PERSON_COLS = ["person_id", "herkomst_group", "herkomst_aggregate", "generatie", "verblijfsduur", "leeftijd",
                "geslacht", "opleidingsniveau"]
#: report 3e: benefit group (core.secm.SECM_BENEFIT) -> share indicator and duration indicator
BENEFIT_INDICATORS = {"WW": "O11", "bijstand": "O12", "AO": "O13", "overig": "O14"}
DURATION_INDICATORS = {"WW": "O15", "bijstand": "O16", "AO": "O17", "overig": "O18"}
_MEASURE = {"WW": "WW", "bijstand": "bijstand", "AO": "AO of ZW", "overig": "overige uitkering"}
#: SECM codes of persons at work: 11 werknemer, 12 DGA, 13/14 zelfstandig, 15 meewerkend gezinslid
SECM_WORKING = ("11", "12", "13", "14", "15")
#: report 4.2 (3f): incomes above one million were capped in INPATAB/IPI 2006-2010; capped in every year
INCOME_CAP = 1_000_000.0
INCOME_COLUMNS = ("INPPERSPRIM", "INPPERSINK", "INPPERSBRUT")
_IPI_NAMES = {"PERSPRIM": "INPPERSPRIM", "PERSINK": "INPPERSINK", "PERSBRUT": "INPPERSBRUT"}
CONTRACTUREN_FIRST_YEAR = 2016


# ------------------------------------------------------------------------------------------- helpers
#: columns of core/population for the breakdowns of issue 18 (indicators/table.py SEPARATE), carried when the
#: population has them (an older warehouse or a zone without VSLGWBTAB / MIGMOTIEFBUS has not: no such cells)
REGIONAL_COLS = ("regio", "randstad", "asielstatus")


def base_population(population: pl.LazyFrame) -> pl.LazyFrame:
    """Report 2.1/2.2: persons living in NL all year, not student, not pensioner, 15 to AOW age."""
    names = population.collect_schema().names()
    return (population.filter(~pl.col("student") & ~pl.col("pensioner") & pl.col("leeftijd").is_not_null())
            .select(*_PERSON_COLS, *[c for c in (*REGIONAL_COLS, "covariaten") if c in names]))


def _year_months(frame: pl.LazyFrame, year: int) -> pl.LazyFrame:
    return frame.filter(in_year("month", year))


def _month_part(part: str, year: int) -> pl.Expr:
    """``part`` of the ``month`` of rows of :func:`_year_months` (core/_intervals.calendar_part over year t)."""
    return calendar_part("month", dt.date(year, 1, 1), dt.date(year, 12, 31), part)


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p for p in parts if p.height]
    return pl.concat(parts) if parts else empty()


def secm_position(secm_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """Per person with at least one working SECM month (11-15) in year t: ``working_months``,
    ``self_employed_months`` (SECM 13/14) and ``zzp`` = self-employed in **more than half** of the working
    months (a tie counts as employee).  Input: core ``secm_months``."""
    code = pl.col("SECM")            # the Enum itself: a cast to string per SECM month cost 3x the rest
    return (_year_months(secm_month, year).filter(code.is_in(SECM_WORKING))
            .group_by("person_id")
            .agg(pl.len().cast(pl.Int32).alias("working_months"),
                 code.is_in(SECM_SELF_EMPLOYED).sum().cast(pl.Int32).alias("self_employed_months"))
            .with_columns((pl.col("self_employed_months") * 2 > pl.col("working_months")).alias("zzp")))


def _base(population: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`base_population`, evaluated once per bucket for all functions of a family (indicators.memo)."""
    return shared("base_population", (population,), lambda: base_population(population))


def _once(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Evaluate a lazy intermediate once when several cells() calls read it (each call collects its input:
    without this the joins behind it run again per call; issue 12 "no repeated scans"), as one chunk."""
    return held(lf)


def _substantial_year(job_month: pl.LazyFrame, year: int, choices: MethodChoices = DEFAULT) -> pl.LazyFrame:
    """Substantial job-months of calendar year t (report 4.2: register analyses use substantial jobs only).

    The report does not say over which period "een baan van ten minste 12 basisuren per week ... minstens het
    ... WML" is judged: by default per job-month (core ``substantial``, the monthly statistics of report 5.2);
    ``choices.substantial == "year"`` judges each job (IKVID) over its months of t together (basic hours per
    week of the days in the job, basic wage per basic hour against the WML of 1 January t) and keeps all its
    months of t with a known contract that are not an internship."""
    months = _year_months(job_month, year)
    if choices.substantial == "month":
        return months.filter(pl.col("substantial"))
    ok = pl.col("contract").is_in(["O", "B"])           # the codes as stored (Enum or text), not copied as text
    if "soortbaan" in months.collect_schema().names():
        ok = ok & (pl.col("soortbaan") != "2")
    jobs = (months.filter(ok.fill_null(False))
            .group_by("person_id", "IKVID")
            .agg(exact_sum("basisuren").alias("_u"), exact_sum("basisloon").alias("_l"), exact_sum("days").alias("_d"))
            .filter((pl.col("_d") > 0) & (pl.col("_u") > 0)
                    & (pl.col("_u") * 7.0 / pl.col("_d") >= MIN_HOURS_PER_WEEK - 1e-9)
                    & (pl.col("_l") / pl.col("_u") >= _wml(year) - 1e-9))
            .select("person_id", "IKVID"))
    return months.filter(ok.fill_null(False)).join(jobs, on=["person_id", "IKVID"], how="semi")


def _wml(year: int) -> float:
    """The hourly WML (40-hour week) of 1 January of ``year`` (reference/wml.csv)."""
    v = pl.select(wml_hour_of(pl.lit(dt.date(year, 1, 1)))).item()
    if v is None:
        raise ValueError(f"no WML for {year} in reference/wml.csv")
    return float(v)


#: a person and a month of t (0-11), or a person and a period (0 = the year, 1-4 = its quarters), packed into one
#: Int64 key: person_id * 16 + month, person_id * 8 + period.  polars groups one integer key about a third faster
#: than person_id with a date or a text (0.32 -> 0.22 s for 1.9 M job-months with 16 sums, issue 12); floor
#: division and modulo unpack it for any person_id below 5.7e17 (person_id is RINPERSOONS x 10^9 + RINPERSOON)
_MONTHS, _PERIODS = 16, 8
#: the period's name (KWARTAAL) from its number, on one row per person and period, not per job-month.  Not
#: pl.format("K{}", ...): in polars 2.1 that panics ("i < self.len()") when a filter is pushed below it
_PERIOD_NAME = {1: "K1", 2: "K2", 3: "K3", 4: "K4"}


def _month_key(year: int) -> pl.Expr:
    """person_id * 16 + the month of t (0-11) of rows of :func:`_year_months`."""
    return pl.col("person_id") * _MONTHS + (_month_part("month_index", year) - year * 12)


def _month_days(year: int) -> pl.Series:
    """The days of each month of t in fixed point (core/exact.py), by the month's number 0-11."""
    starts = [dt.date(year, m, 1) for m in range(1, 13)] + [dt.date(year + 1, 1, 1)]
    return pl.Series([(b - a).days * SCALE for a, b in zip(starts, starts[1:])], dtype=pl.Int64)


def _days_of_month(year: int, key: str = "_pm") -> pl.Expr:
    """The days (fixed point) of the month of a :func:`_month_key` column, from a table of the year's months
    (polars' dt.month_end() took 1 s a bucket)."""
    return pl.lit(_month_days(year)).gather(pl.col(key) % _MONTHS)


def _periods_of(rows: pl.LazyFrame, key: str, by: list[str], sums: list[str], quarterly: bool,
                ors: tuple[str, ...] | list[str] = ()) -> pl.LazyFrame:
    """Additive sums per person and period (column ``_kp`` = person_id * 8 + period; 0 the year, 1-4 the quarters)
    and ``by``, from ``rows`` keyed by month (``key`` = :func:`_month_key`); ``ors``: bit flags, or-ed.

    Report 7.1.3 c asks for quarterly SPOLIS figures "consistent ... voor de gehele periode": the yearly rule
    applied to the quarter's months.  Every rule here rests on sums over months (hours, days, wages, all
    integers here: fixed point, core/exact.py), so the rows are summed per quarter once and the year is the sum
    of its quarters: the quarters cost one more group-by over at most four rows per person, not a second pass
    over the job-months."""
    month = pl.col(key) % _MONTHS
    person = pl.col(key) // _MONTHS
    aggs = [*(pl.col(c).sum() for c in sums), *(pl.col(c).bitwise_or() for c in ors)]
    if not quarterly:
        return rows.group_by((person * _PERIODS).alias("_kp"), *by).agg(aggs)
    q = rows.group_by((person * _PERIODS + month // 3 + 1).alias("_kp"), *by).agg(aggs)
    y = q.group_by((pl.col("_kp") // _PERIODS * _PERIODS).alias("_kp"), *by).agg(aggs)
    return pl.concat([y, q], how="vertical")


def _unpacked(kp: str = "_kp") -> list[pl.Expr]:
    """``person_id`` and KWARTAAL (null for the year) of a key of :func:`_periods_of`."""
    return [(pl.col(kp) // _PERIODS).alias("person_id"),
            (pl.col(kp) % _PERIODS).replace_strict(_PERIOD_NAME, default=None, return_dtype=pl.String).alias(KWARTAAL)]


_BY = ["person_id", KWARTAAL]


# ------------------------------------------------------------------------------------------ O11-O18
def o11_o14_benefit_share(population: pl.LazyFrame, secm_month: pl.LazyFrame, year: int, **kw) -> pl.DataFrame:
    """O11-O14, report 4.2 deelvraag 3e: % with WW (SECM 21) / bijstand (22) / AO or ZW (24) / other benefit
    (23: IOAW, IOAZ, Bbz, WWIK, Wajong) as main income source in at least one month of year t ("We maken
    hierbij dummyvariabelen (ook voor zelfstandigen)").  Denominator: the base population (self-employed
    included).  The report's "21 - 25" includes 25 pensioen; core.secm uses 21-24."""
    months = _once(shared("benefit_months", (secm_month,), lambda: secm_benefit_months(secm_month, year), year))
    # one 0/1 column per benefit group on the base population, the four indicators from one pass (cells_many)
    per = months.group_by("person_id").agg((pl.col("group").cast(pl.Utf8) == g).any().alias(ind)
                                           for g, ind in BENEFIT_INDICATORS.items())
    p = _base(population).join(per, on="person_id", how="left").with_columns(
        pl.col(ind).fill_null(False).cast(pl.Float64) for ind in BENEFIT_INDICATORS.values())
    return cells_many(p, {(ind, _MEASURE[g]): ind for g, ind in BENEFIT_INDICATORS.items()}, year=year, unit="%",
                      **kw)


def o15_o18_benefit_months(population: pl.LazyFrame, secm_month: pl.LazyFrame, year: int, **kw) -> pl.DataFrame:
    """O15-O18, report 4.2 deelvraag 3e: months in year t with WW / bijstand / AO or ZW / other benefit as
    main income source, summed over spells ("Wanneer iemand verschillende periodes in een jaar een uitkering
    heeft worden de duren hiervan bij elkaar opgeteld"), mean among persons of the base population with at
    least one such month."""
    months = _once(shared("benefit_months", (secm_month,), lambda: secm_benefit_months(secm_month, year), year))
    # the months of each group in a column of its own, null for a person without that benefit (not in its
    # denominator): the four indicators from one pass (cells_many)
    per = months.group_by("person_id").agg(
        pl.col("months").filter(pl.col("group").cast(pl.Utf8) == g).sum().cast(pl.Float64).alias(ind)
        for g, ind in DURATION_INDICATORS.items())
    per = per.with_columns(pl.when(pl.col(ind) > 0).then(pl.col(ind)).alias(ind) for ind in DURATION_INDICATORS.values())
    return cells_many(_base(population).join(per, on="person_id", how="inner"),
                      {(ind, _MEASURE[g]): ind for g, ind in DURATION_INDICATORS.items()}, year=year,
                      unit="maanden", **kw)


# ------------------------------------------------------------------------------------------ O04, O05
def o04_vast_contract(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int, quarterly: bool = False,
                      choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O04, report 4.2 deelvraag 3d: % with a permanent contract (SCONTRACTSOORT O) among persons with a
    substantial job in year t; "Bij meerdere banen kijken we of de meest gemaakte basisuren dat jaar vast of
    tijdelijk zijn": basic hours of substantial job-months of t summed per contract type over all jobs
    (the rule of :func:`core.jobs.contract_by_basic_hours`, per period); a tie counts as vast (the report is
    silent; ``choices.o04_tie``).  Footnote 13: payrolling moves from
    vast to flex from 2017: the break ``payrolling_2017`` is named in the spec and marked by the trend gate.
    Self-employed included.  Computed with O06-O08 (:func:`o04_o08_contract_uren_uurloon`)."""
    return _only(o04_o08_contract_uren_uurloon(population, job_month, year, None, quarterly, choices, **kw), "O04")


#: income classes of the personal primary income (INPATAB INPPERSPRIM, euro per year) of O05's breakdown
#: ``inkomensklasse`` (technisch rapport Monitor gelijke kansen, §4.3 advies b: zelfstandigen naar inkomensniveau):
#: fixed nominal bounds, the same in every year and for every group (a quantile class would move with the
#: population of the year and is not in INPATAB); lower bound included
INCOME_CLASSES = ((10_000, "minder dan 10.000"), (20_000, "10.000 tot 20.000"), (35_000, "20.000 tot 35.000"),
                  (50_000, "35.000 tot 50.000"), (None, "50.000 of meer"))
INCOME_CLASS_COLUMN = "INPPERSPRIM"


def income_class(inpatab: pl.LazyFrame) -> pl.LazyFrame:
    """``person_id``, ``inkomensklasse`` (:data:`INCOME_CLASSES`) of the persons of INPATAB with a known
    personal primary income (IPI's PERSPRIM before 2011); negative incomes in the lowest class."""
    lf = keep_r(inpatab)
    names = lf.collect_schema().names()
    lf = lf.rename({k: v for k, v in _IPI_NAMES.items() if k in names and v not in names})
    inc = pl.col(INCOME_CLASS_COLUMN).cast(pl.Float64)
    expr = None
    for bound, label in INCOME_CLASSES:
        cond = inc < bound if bound is not None else inc.is_not_null()
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(pl.lit(label))
    return lf.filter(inc.is_not_null()).select("person_id", expr.alias("inkomensklasse"))


def o05_zzp(population: pl.LazyFrame, secm_month: pl.LazyFrame, year: int, choices: MethodChoices = DEFAULT,
            inpatab: pl.LazyFrame | None = None, **kw) -> pl.DataFrame:
    """O05, report 4.2 deelvraag 3d: % zzp'er - "We definiëren iemand als zelfstandig als iemands
    belangrijkste inkomstenbron (SECM) 'zelfstandig ondernemer' of 'overig zelfstandige' is" (SECM 13/14).
    Denominator: persons of the base population with a working SECM (11-15) in at least one month of t;
    a person is zzp when SECM 13/14 covers more than half of those months (:func:`secm_position`).
    With INPATAB of t (optional) also by income class of the personal primary income (:func:`income_class`,
    breakdown ``inkomensklasse``, report §4.3 advies b); persons without an income record count in the
    totals only.
    The report names neither the base nor the tie: ``choices.o05_denominator="all"`` divides by the whole
    base population (no work: not zzp), ``choices.o05_tie="zzp"`` counts exactly half as zzp."""
    pos = secm_position(secm_month, year)
    if choices.o05_tie == "zzp":
        pos = pos.with_columns((pl.col("self_employed_months") * 2 >= pl.col("working_months")).alias("zzp"))
    pos = pos.select("person_id", pl.col("zzp").cast(pl.Float64).alias("value"))
    persons = _base(population)
    if choices.o05_denominator == "all":
        joined = persons.join(pos, on="person_id", how="left").with_columns(pl.col("value").fill_null(0.0))
    else:
        joined = persons.join(pos, on="person_id", how="inner")
    if inpatab is not None:
        joined = joined.join(income_class(inpatab), on="person_id", how="left")
    return cells(joined, indicator_id="O05",
                 year=year, unit="%", measure="zzp", **kw)


# ------------------------------------------------------------------------------------------ O06-O08
#: hour columns of O06/O07 -> whether the column is a per-week figure weighted by the job's days (contracturen)
#: or a monthly total (hours * 7 / days gives the week)
_HOURS = {"contracturen": True, "verloonde_uren": False, "basisuren": False}
#: the amounts among the person-month sums (hours, days, wages): in fixed point (core/exact.py) from the
#: job-months until :func:`_person_periods` has summed them, so that no float is added in a varying order
_AMOUNTS = [*(f"_h_{c}" for c in _HOURS), *(f"_d_{c}" for c in _HOURS), "_o", "_b", "_l", "_u"]
#: days of all substantial job-months per person and month (O10), summed in fixed point and left so
_JOB_DAYS = "_j"


#: the rules' row conditions, one bit each of the flag column ``_f`` of :func:`_month_rows` (or-ed per period, then
#: one 0/1 column each): the rules only ask whether some job-month of the period met them
_FLAGS = [*(f"_n_{c}" for c in _HOURS), "_nob", "_nu", "_z"]


def _month_rows(job_month: pl.LazyFrame, year: int, choices: MethodChoices = DEFAULT) -> pl.LazyFrame:
    """Per substantial job-month of t, keyed by person and month (``_pm``, :func:`_month_key`), what O04 and
    O06-O08 sum (issue 12, one pass per family):

    * ``_h_<col>`` / ``_d_<col>`` for the hour columns (:data:`_HOURS`): hours and days of the job-months where
      the column is known and days > 0 (null elsewhere), and bit ``_n_<col>`` of ``_f`` for those rows;
    * ``_o`` / ``_b``: basic hours of vast (O) and tijdelijk (B) contracts, bit ``_nob`` for either (O04);
    * ``_l`` / ``_u``: basic wage and basic hours of the rows with basic hours > 0, bit ``_nu`` (O08);
    * bit ``_z``: 0 contract hours (O07 nulurencontract);
    * ``_j``: days of every substantial job-month (O10, :func:`simultaneous_jobs_from_months`).

    The amounts (:data:`_AMOUNTS`, ``_j``) in fixed point (core/exact.py), a per-week figure as its hours x days;
    :func:`_person_periods` sums them and returns them as floats, that one divided by 7."""
    # masked columns (null where a rule does not count the row) and plain sums: polars' fast group-by path
    # (filtered aggregations in the group-by measured 3x slower).  Each quantity is put in fixed point once and
    # then masked (the days served five sums, the basic hours four): the same integers as fixed point after the
    # mask, a null staying null, for 5 conversions a row instead of 11 (issue 12: the float -> fixed conversions
    # were about 6 % of contracts_hours' CPU at 4 M)
    d, k, u = pl.col("days"), pl.col("contract"), pl.col("basisuren")
    fixed: dict[str, pl.Expr] = {"_fd": to_fixed(d)}

    def fx(name: str, expr: pl.Expr) -> pl.Expr:
        fixed.setdefault(name, to_fixed(expr))
        return pl.col(name)
    cols: dict[str, pl.Expr] = {}
    flags: dict[str, pl.Expr] = {}
    for col, weighted in _HOURS.items():
        ok = pl.col(col).is_not_null() & (d > 0)
        # / 7 after the sums: exact in fixed point
        amount = fx(f"_fw_{col}", pl.col(col) * d) if weighted else fx(f"_f_{col}", pl.col(col))
        cols |= {f"_h_{col}": pl.when(ok).then(amount), f"_d_{col}": pl.when(ok).then(pl.col("_fd"))}
        flags[f"_n_{col}"] = ok
    fu = fx("_f_basisuren", u)
    cols |= {"_o": pl.when(k == "O").then(fu), "_b": pl.when(k == "B").then(fu),
             "_l": pl.when(u > 0).then(fx("_f_basisloon", pl.col("basisloon"))), "_u": pl.when(u > 0).then(fu),
             _JOB_DAYS: pl.col("_fd")}
    flags |= {"_nob": k.is_in(["O", "B"]), "_nu": u > 0, "_z": pl.col("contracturen") == 0}
    bits = pl.sum_horizontal(flags[f].fill_null(False).cast(pl.Int32) * (1 << i) for i, f in enumerate(_FLAGS))
    return (_substantial_year(job_month, year, choices).with_columns(**fixed)
            .select(_month_key(year).alias("_pm"), **cols, _f=bits))


def _person_periods(job_month: pl.LazyFrame, year: int, quarterly: bool,
                    choices: MethodChoices = DEFAULT) -> pl.LazyFrame:
    """Per person and period (the year, and its quarters with ``quarterly``) the sums of :func:`_month_rows`
    that every rule of O04 and O06-O08 rests on, so the job-months are grouped once per bucket; the flags as
    0/1 columns (:data:`_FLAGS`).

    The days of an hour column count at most the days of each month (simultaneous jobs do not count a day twice,
    consecutive jobs within a month add up, report 3c): summed per period and less, per month, what its days
    exceed the month by.  Only a person-month with more days than the month has such an excess (two jobs at
    once, or SBAANDAGEN of a 4-weekly row), so the job-months are grouped by person-month for the three day
    sums alone and the rest straight by period: for the 96.5 M national job-months a person-month group-by of
    every sum and a second one by period took about 0.45 s a bucket, this about 0.34 s (issue 12,
    docs/scaling_measurements.md).  Every term is an integer in fixed point: the same sums as capping month by month, bit
    for bit."""
    def build() -> pl.LazyFrame:
        rows = _month_rows(job_month, year, choices)
        days = [f"_d_{c}" for c in _HOURS]
        sums = [c for c in rows.collect_schema().names() if c not in ("_pm", "_f")]
        month_days = _days_of_month(year)
        excess = (rows.group_by("_pm").agg(pl.col(c).sum() for c in days)
                  .filter(pl.any_horizontal(pl.col(c) > month_days for c in days))
                  .select("_pm", *((pl.col(c) - month_days).clip(lower_bound=0).alias(c) for c in days)))
        excess = _periods_of(excess, "_pm", [], days, quarterly).rename({c: f"_x{c}" for c in days})
        return (_periods_of(rows, "_pm", [], sums, quarterly, ors=["_f"])
                .join(excess, on="_kp", how="left")
                .select("_kp", *_unpacked(),
                        *((pl.col(c) - pl.col(f"_x{c}").fill_null(0)).alias(c) if c in days else pl.col(c)
                          for c in sums),
                        *(((pl.col("_f") & (1 << i)) != 0).cast(pl.Int32).alias(f) for i, f in enumerate(_FLAGS)))
                .with_columns(from_fixed(c).alias(c) for c in _AMOUNTS)
                .with_columns((pl.col(f"_h_{c}") / 7.0).alias(f"_h_{c}") for c, w in _HOURS.items() if w))
    return shared("person_periods", (job_month,), build, year, quarterly, choices)


def _base_zzp(population: pl.LazyFrame, secm_month: pl.LazyFrame | None, year: int) -> pl.LazyFrame:
    """:func:`_base` with ``_zzp``: self-employed by :func:`secm_position` (False without SECM months).  Evaluated
    once per bucket and materialised (one person row, a few columns; O04 and O06-O08 aggregate it together)."""
    def build() -> pl.LazyFrame:
        persons = _base(population)
        if secm_month is None:
            return persons.with_columns(pl.lit(False).alias("_zzp"))
        zzp = secm_position(secm_month, year).filter(pl.col("zzp")).select("person_id", pl.lit(True).alias("_zzp"))
        return persons.join(zzp, on="person_id", how="left").with_columns(pl.col("_zzp").fill_null(False))
    return _once(shared("base_zzp", (population, secm_month), build, year))


def o04_o08_contract_uren_uurloon(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int,
                                  secm_month: pl.LazyFrame | None = None, quarterly: bool = False,
                                  choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O04, O06, O07 and O08 (report 4.2 deelvraag 3c, 3d and 3f) of the same person-periods, from one
    aggregation (:func:`cells_many`; issue 12, one pass per family: O04 had a :func:`cells` call of its own,
    together 1-1.4 s less of contracts_hours' 36-38 s at 17.5 M persons).  O04 counts everybody of the base
    population with a vast or tijdelijk job-month in the period; O06-O08 leave the self-employed out ("Bij deze
    vraag laten we zelfstandigen buiten beschouwing", ``_zzp`` of :func:`_base_zzp`: their values null, so not in
    those denominators).  The rules per indicator: :func:`o04_vast_contract`, :func:`o06_contracturen`,
    :func:`o07_uren`, :func:`o08_uurloon`."""
    per = _person_periods(job_month, year, quarterly, choices)

    def hours(col: str) -> pl.Expr:
        """Hours per week of the period worked, over all his substantial jobs (report 3c: "ten opzichte van de
        periode dat iemand werkte ... aggregeren we de uren ... over eventuele verschillende banen"): hours x 7
        / days worked, a month's days capped at its length (:func:`_person_periods`); null where the column is
        unknown for all his job-months of the period (not in that measure's denominator)."""
        return pl.when(pl.col(f"_n_{col}") > 0).then(pl.col(f"_h_{col}") * 7.0 / pl.col(f"_d_{col}"))

    vast = (contract_of("_o", "_b", tie=choices.o04_tie).cast(pl.Utf8) == "O").cast(pl.Float64)
    values: dict[tuple[str, str], pl.Expr] = {("O04", "vast contract"): pl.when(pl.col("_nob") > 0).then(vast)}
    employee: dict[tuple[str, str], pl.Expr] = {}
    if year >= CONTRACTUREN_FIRST_YEAR:   # SAANTCTRCTURENPWK exists from 2016
        employee[("O06", "contracturen")] = hours("contracturen")
    o07 = {"verloonde uren": hours("verloonde_uren"), "basisuren": hours("basisuren")}
    employee |= {("O07", m): v for m, v in o07.items()}
    if year >= CONTRACTUREN_FIRST_YEAR:   # the nulurencontract (0 contract hours) from 2016
        employee |= {("O07", f"{m} nulurencontract"): pl.when(pl.col("_z") > 0).then(v) for m, v in o07.items()}
    employee[("O08", "uurloon")] = pl.when(pl.col("_nu") > 0).then(pl.col("_l") / pl.col("_u"))
    values |= {k: pl.when(~pl.col("_zzp")).then(v) for k, v in employee.items()}
    units = {"O04": "%", "O06": "uren per week", "O07": "uren per week", "O08": "euro per uur"}
    persons = _base_zzp(population, secm_month, year).join(per, on="person_id", how="inner")
    return cells_many(persons, values, year=year, unit=units, **kw)


def _only(rows: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    return rows.filter(pl.col("indicator_id") == indicator_id)


def o06_contracturen(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int,
                     secm_month: pl.LazyFrame | None = None, quarterly: bool = False,
                     choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O06, report 4.2 deelvraag 3c: contract hours per week (SAANTCTRCTURENPWK, "pas sinds 2016
    beschikbaar"): empty before 2016.  Per person the jobs' contract hours added up over simultaneous jobs
    and averaged over the period worked (weighted by days); substantial job-months of t; self-employed left
    out ("Bij deze vraag laten we zelfstandigen buiten beschouwing").  Computed with O04, O07 and O08
    (:func:`o04_o08_contract_uren_uurloon`)."""
    if year < CONTRACTUREN_FIRST_YEAR:
        return empty()
    return _only(o04_o08_contract_uren_uurloon(population, job_month, year, secm_month, quarterly, choices,
                                               **kw), "O06")


def o07_uren(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int,
             secm_month: pl.LazyFrame | None = None, quarterly: bool = False,
             choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O07, report 4.2 deelvraag 3c: "het gewogen wekelijkse aantal verloonde uren (SAANTVERLU) en BASISUREN
    ... ten opzichte van de periode dat iemand werkte": measures ``verloonde uren`` and ``basisuren``
    (hours summed over jobs / weeks worked).  "Voor mensen met een nulurencontract brengen we ook het aantal
    basisuren en verloonde uren in beeld": from 2016 also ``... nulurencontract``, persons with a
    substantial job-month with 0 contract hours in t (their hours over all their jobs).  Self-employed out.
    Computed with O04, O06 and O08 (:func:`o04_o08_contract_uren_uurloon`)."""
    return _only(o04_o08_contract_uren_uurloon(population, job_month, year, secm_month, quarterly, choices,
                                               **kw), "O07")


def o08_uurloon(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int,
                secm_month: pl.LazyFrame | None = None, quarterly: bool = False,
                choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O08, report 4.2 deelvraag 3f: hourly wage = SBASISLOON / SBASISUREN, "op jaarniveau door het
    gemiddelde (gewogen naar het aantal basisuren) te nemen over de verschillende maanden": sum of basisloon
    / sum of basisuren over the substantial job-months (all jobs) of t with basic hours.  Self-employed out.
    Computed with O04, O06 and O07 (:func:`o04_o08_contract_uren_uurloon`)."""
    return _only(o04_o08_contract_uren_uurloon(population, job_month, year, secm_month, quarterly, choices,
                                               **kw), "O08")


# ------------------------------------------------------------------------------------------------ O09
def o09_inkomen(population: pl.LazyFrame, inpatab: pl.LazyFrame, year: int, **kw) -> pl.DataFrame:
    """O09, report 4.2 deelvraag 3f: mean personal primary income (INPPERSPRIM) and personal income
    (INPPERSINK) and gross income (INPPERSBRUT) of year t (INPATAB; IPI's PERS* names before 2011 are
    renamed), self-employed included.  "Voor de oude bestanden van INPATAB (van 2006 tot en met 2010) werd
    het persoonlijk (bruto) inkomen boven de miljoen euro afgekapt ... dit ook gedaan voor de jaren vanaf
    2011": every income is capped at 1,000,000 (negative incomes are kept).  Persons without a record or with
    a null income are left out of that measure."""
    lf = keep_r(inpatab)
    names = lf.collect_schema().names()
    lf = lf.rename({k: v for k, v in _IPI_NAMES.items() if k in names and v not in names})
    inc = lf.select("person_id", *[pl.col(c).cast(pl.Float64).clip(upper_bound=INCOME_CAP) for c in INCOME_COLUMNS])
    return cells_many(_base(population).join(inc, on="person_id", how="inner"),
                      {("O09", c): c for c in INCOME_COLUMNS}, year=year, unit="euro", **kw)


# ------------------------------------------------------------------------------------------------ O10
def simultaneous_jobs_from_months(job_month: pl.LazyFrame, year: int, quarterly: bool = False,
                                  choices: MethodChoices = DEFAULT) -> pl.LazyFrame:
    """:func:`core.jobs.simultaneous_jobs` on the core job-months (same formula, without re-reading SPOLIS):
    n_jobs = sum over jobs of (days of substantial job-months in t, at most the year) / days in year, rounded
    half-up to one decimal (report 3g: 35 days + a full year = 1.1).  Per quarter (``quarterly``) the same
    with the days of the quarter.

    Computed as all his days (``_j`` of :func:`_person_periods`, which O04 and O06-O08 read too) minus what
    the cap takes off: sum over jobs of max(0, days of the job - days of the period).  A job's days exceed the
    period only when one of its months has more days than the month (SBAANDAGEN of 4-weekly rows; core
    job_months has one row per person, job and month), so the per-job sums run only for the persons with such
    a month (issue 12: the group-by of every job-month by person, period and job made O10 a fifth of
    contracts_hours with quarters; 0.47-0.55 -> 0.26-0.31 s a bucket of 380,000 persons at 4 M).
    Every term is an integer in fixed point, so the result is the one of capping job by job, bit for bit."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    # days of the period by its number (0 the year, 1-4 the quarters; :func:`_periods_of`) in fixed point
    ndays = [366 if leap else 365, 91 if leap else 90, 91, 92, 92]
    n_fixed = pl.lit(pl.Series([v * SCALE for v in ndays], dtype=pl.Int64)).gather(pl.col("_kp") % _PERIODS)
    rows = _substantial_year(job_month, year, choices).select(_month_key(year).alias("_pm"), "IKVID", "days")
    # a month of more days than the month in fixed point has more than the month's days less one as a float:
    # that cheap test first, the fixed point for the few rows it leaves (the same rows, not every job-month)
    over = (rows.filter(pl.col("days") > pl.lit(_month_days(year) // SCALE - 1).gather(pl.col("_pm") % _MONTHS))
            .filter(to_fixed("days") > _days_of_month(year))
            .select((pl.col("_pm") // _MONTHS).alias("person_id")).unique())
    capped = (_periods_of(rows.join(over, left_on=pl.col("_pm") // _MONTHS, right_on="person_id", how="semi")
                          .select("_pm", "IKVID", to_fixed("days").alias("_d")),
                          "_pm", ["IKVID"], ["_d"], quarterly)
              .select("_kp", (pl.col("_d") - n_fixed).clip(lower_bound=0).alias("_c"))
              .group_by("_kp").agg(pl.col("_c").sum()))
    per = _person_periods(job_month, year, quarterly, choices).select("_kp", *_BY, _JOB_DAYS)
    return (per.join(capped, on="_kp", how="left")
            .select(*_BY, (from_fixed(pl.col(_JOB_DAYS) - pl.col("_c").fill_null(0)) / from_fixed(n_fixed))
                    .alias("n_jobs_exact"))
            .with_columns(round_half_up(pl.col("n_jobs_exact"), 1).alias("n_jobs")))


def o10_banen(population: pl.LazyFrame, job_month: pl.LazyFrame, year: int, quarterly: bool = False,
              choices: MethodChoices = DEFAULT, **kw) -> pl.DataFrame:
    """O10, report 4.2 deelvraag 3g: % of persons with a substantial job in t holding ``1`` (n_jobs <= 1.0),
    ``1-2`` (1.0 < n_jobs <= 2.0) or ``>2`` (n_jobs > 2.0) jobs at the same time, n_jobs from
    :func:`simultaneous_jobs_from_months` (rounded to one decimal first, so 1.04 counts as 1).
    Self-employment is not in SPOLIS, so never counted."""
    n = pl.col("n_jobs")
    # evaluated once: cells() runs its group-bys in one collect_all, but the filters on kwartaal it pushes down
    # make their plans differ, so the job-level sums behind them ran again per group-by (0.76 -> 0.40 s a bucket
    # of 410,000 persons with quarters)
    j = _once(simultaneous_jobs_from_months(job_month, year, quarterly, choices).select(
        *_BY, pl.when(n <= 1.0).then(pl.lit("1")).when(n <= 2.0).then(pl.lit("1-2"))
        .otherwise(pl.lit(">2")).alias("banen")))
    return cells(_base(population).join(j, on="person_id", how="inner"), indicator_id="O10",
                 year=year, unit="%", by_measure="banen", **kw)
