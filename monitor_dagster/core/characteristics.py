"""Person characteristics of the monitor's breakdowns (report ch. 2.2, 7.2.5).

Plain polars: every function takes LazyFrames in the warehouse's normalised form (``person_id`` Int64,
``RINPERSOONS`` Enum, dates as ``pl.Date`` with open ends null, codes as ``pl.Enum``) and returns a LazyFrame
or a ``pl.Expr``; nothing is collected.  Every rule cites the report paragraph it implements; where the report
is silent the choice and its reason are in the docstring and in ``docs/methodology.md`` ("Population and
subgroups").

Categories are ``pl.Enum``s with the Dutch labels of the report, so a typo cannot create a new category.

Incomplete landing zone (``docs/methodology.md``, "An incomplete landing zone"): an optional file that is not
in the warehouse arrives as ``None``, a non-key column the file lacks as a column of typed nulls (the ingest)
or not at all (:func:`ensure_columns` adds it).  A breakdown whose source is absent, or whose source columns
hold no value at all, is null for everybody ("not computable"), never a default category.
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl

from monitor_dagster.core._intervals import keep_r as _keep_r

from monitor_dagster import reference

__all__ = [
    "HERKOMST_GROUPS",
    "HERKOMST_GROUP",
    "HERKOMST_AGGREGATE",
    "GENERATIE",
    "VERBLIJFSDUUR",
    "LEEFTIJD",
    "GESLACHT",
    "OPLEIDINGSNIVEAU",
    "NL",
    "MIGRATION_FILE_START",
    "keep_r",
    "ensure_columns",
    "has_values",
    "birth_date",
    "age_jan1",
    "aow_date",
    "under_aow_whole_year",
    "age_group",
    "country_groups",
    "herkomst",
    "verblijfsduur",
    "six_months_days",
    "five_years_days",
    "EDUCATION_LEVEL_COLUMN",
    "education_level",
    "asylum_flag",
    "asylum_columns",
]

NL = "6030"
"""GBA country code of Nederland (RvIG Tabel 34)."""

MIGRATION_FILE_START = dt.date(1994, 10, 1)
"""GBAMIGRATIEBUS starts on 1 October 1994 (report 2.2, oudkomers)."""

NO_BACKGROUND = "geen migratieachtergrond"

HERKOMST_GROUPS: tuple[str, ...] = reference.NON_WESTERN_GROUPS + (
    "Duitsland",
    "Polen",
    "Indonesië",
    "westers overig",
    NO_BACKGROUND,
)
"""The 12 non-Western groups the report lists (2.2), the Western groups it splits out, westers overig and
geen migratieachtergrond (the reference table's ``Nederland``)."""

HERKOMST_GROUP = pl.Enum(list(HERKOMST_GROUPS))
HERKOMST_AGGREGATE = pl.Enum(["niet-westers", "westers", "geen"])
GENERATIE = pl.Enum(["eerste", "tweede"])
VERBLIJFSDUUR = pl.Enum(["nieuwkomer", "oudkomer"])
LEEFTIJD = pl.Enum(["jongeren", "niet-jongeren"])
GESLACHT = pl.Enum(["man", "vrouw"])
OPLEIDINGSNIVEAU = pl.Enum(["laag", "middelbaar", "hoog", "onbekend"])

_FAR_FUTURE = dt.date(9999, 12, 31)


def keep_r(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of persons in the population register only (``RINPERSOONS == "R"``, CBS file conventions);
    the column is kept.  Frames without the column (reference tables) pass unchanged."""
    return _keep_r(frame, drop=False)


def ensure_columns(frame: pl.LazyFrame, columns: dict[str, pl.DataType]) -> pl.LazyFrame:
    """``frame`` with every column of ``columns`` that it lacks added as typed nulls, the form in which the ingest
    delivers a non-key column missing from a file; columns it has are left as they are."""
    names = frame.collect_schema().names()
    absent = [pl.lit(None, dtype).alias(c) for c, dtype in columns.items() if c not in names]
    return frame.with_columns(absent) if absent else frame


def has_values(frame: pl.LazyFrame, columns: list[str], alias: str) -> pl.LazyFrame:
    """A one-row LazyFrame with one Boolean column ``alias``: True when every column of ``columns`` is in
    ``frame`` and holds at least one non-null value.  A column of nulls only is a column the file did not
    have (the ingest fills it with typed nulls): what rests on it is not computable.  Lazy (cross-join the
    result), nothing collected here."""
    names = frame.collect_schema().names()
    if any(c not in names for c in columns):
        return pl.LazyFrame({alias: [False]})
    return frame.select(pl.all_horizontal([pl.col(c).is_not_null().any() for c in columns]).alias(alias))


# ------------------------------------------------------------------------------------------------- age
def birth_date(
    year: str = "GBAGEBOORTEJAAR", month: str = "GBAGEBOORTEMAAND", day: str = "GBAGEBOORTEDAG"
) -> pl.Expr:
    """Date of birth from GBAPERSOONTAB's year, month and day.

    A missing month is read as 1 July (CBS imputes unknown birth dates to 1 July, GBAIMPUTATIECODE); a missing
    day as the 1st of the month (the earliest date: a person then reaches the AOW age no later than the true
    date, so nobody above the AOW age is kept in 27-AOW).  A day beyond the month's end is clamped to it.
    """
    m = pl.col(month).cast(pl.Int64, strict=False)
    d = pl.col(day).cast(pl.Int64, strict=False)
    first = pl.date(pl.col(year), pl.when(m.is_null()).then(7).otherwise(m), 1)
    raw = first + pl.duration(days=pl.when(m.is_null() | d.is_null()).then(1).otherwise(d) - 1)
    return pl.min_horizontal(raw, first.dt.month_end()).alias("birth_date")


def age_jan1(birth: pl.Expr, year: int) -> pl.Expr:
    """Age in completed years on 1 January of ``year`` (peildatum of the leeftijd breakdown, report 2.2).

    A person born on 1 January has her birthday on the peildatum and counts the new age.
    """
    born_jan1 = (birth.dt.month() == 1) & (birth.dt.day() == 1)
    return (pl.lit(year - 1) - birth.dt.year().cast(pl.Int64) + born_jan1.cast(pl.Int64)).alias("age_jan1")


def _aow_months_by_year() -> tuple[dict[int, int], int, int]:
    t = reference.aow_age()
    months = {int(y): int(a) * 12 + int(m) for y, a, m in t.select("year", "aow_years", "aow_months").iter_rows()}
    return months, min(months), max(months)


def _aow_months(year: pl.Expr) -> pl.Expr:
    """AOW age (months) in a calendar year: table years from reference/aow_age.csv; before the table 65
    (AOW age since 1957 up to 2012), after it the last known age (a lower bound: the law only raises it)."""
    months, first, last = _aow_months_by_year()
    y = year.clip(first, last)
    return y.replace_strict(months, return_dtype=pl.Int64)


def aow_date(birth: pl.Expr) -> pl.Expr:
    """Date on which a person reaches the AOW (state pension) age (report 2.2 and table 1, law for later years).

    The AOW age depends on the year in which it is reached: the person gets the age A(Y) of the first year Y
    with ``birth + A(Y)`` falling in Y.  This reproduces the law's birth-cohort thresholds, e.g. Rijksoverheid
    ("Wanneer gaat mijn AOW in?"): 2024, 67 years, for persons born after 28 February 1957, so a person born
    on 28 February 1957 reaches 66+10m on 28 December 2023 and one born on 1 March 1957 reaches 67 on
    1 March 2024; 2028, 67+3m, for persons born after 31 December 1960.  Birth + months is calendar
    arithmetic; a day that does not exist in the target month is clamped to its last day.
    """
    b = birth
    by = b.dt.year().cast(pl.Int64)
    out = None
    # A is at least 65 years and at most 67+3 months here: Y lies in by+65 .. by+68.
    for k in (68, 67, 66, 65):
        y = by + k
        # not pl.format, which polars 2.1 can panic on in a bucket of several chunks (docs/dependencies.md)
        d = b.dt.offset_by(_aow_months(y).cast(pl.String) + pl.lit("mo"))
        cand = pl.when(d.dt.year().cast(pl.Int64) <= y).then(d)
        out = cand if out is None else pl.coalesce(cand, out)
    return out.alias("aow_date")


def under_aow_whole_year(birth: pl.Expr, year: int) -> pl.Expr:
    """True when the person is under the AOW age on every day of ``year`` (report 2.2: "We kijken of iemand
    in het gehele jaar onder de pensioengerechtigde leeftijd valt"); a person who reaches the AOW age in the
    year, even on 31 December, is not.  Equivalent to ``birth + A(year) > 31 December year``, the report's
    table of birth dates.
    """
    _, _, last = _aow_months_by_year()
    if year > last:
        raise ValueError(f"AOW age for {year} is not in reference/aow_age.csv (covers up to {last}); add it first")
    # looked up by the birth day in a table of the rule over the days that matter (issue 12): aow_date() per
    # person adds months given as text, 0.77 s per million persons, the lookup about 0.01 s.  Outside the table the
    # answer is certain: born after 31 December of the year (under the AOW age all year), or more than 120
    # years before it (over it: the AOW age is at most 68 years)
    lo, table = _under_aow_table(year)
    n = len(table)
    idx = birth.to_physical().cast(pl.Int64) - (lo - _EPOCH).days
    inside = pl.lit(table).gather(idx.clip(0, n - 1))
    return (pl.when(idx < 0).then(pl.lit(False)).when(idx >= n).then(pl.lit(True)).otherwise(inside)
            .alias("under_aow_whole_year"))


_EPOCH = dt.date(1970, 1, 1)


@functools.lru_cache(maxsize=32)
def _under_aow_table(year: int) -> tuple[dt.date, pl.Series]:
    """(first day, under the AOW age all of ``year`` for each birth day from it to 31 December ``year``), by
    :func:`aow_date` itself, so the lookup gives its answer for every day of the table."""
    lo, hi = dt.date(year - 120, 1, 1), dt.date(year, 12, 31)
    days = pl.date_range(lo, hi, interval="1d", eager=True)
    return lo, pl.select(aow_date(pl.lit(days)) > pl.lit(hi)).to_series()


def age_group(birth: pl.Expr, year: int) -> pl.Expr:
    """Leeftijd breakdown (report 2.2): ``jongeren`` = 15 up to (not including) 27 on 1 January of ``year``;
    ``niet-jongeren`` = 27 or older on 1 January and under the AOW age for the whole year; otherwise null
    (under 15, or at/above the AOW age at some day of the year)."""
    age = age_jan1(birth, year)
    return (
        pl.when((age >= 15) & (age < 27))
        .then(pl.lit("jongeren"))
        .when((age >= 27) & under_aow_whole_year(birth, year))
        .then(pl.lit("niet-jongeren"))
        .otherwise(None)
        .cast(LEEFTIJD)
        .alias("leeftijd")
    )


# ---------------------------------------------------------------------------------------------- herkomst
def country_groups(countries: pl.LazyFrame | None) -> pl.LazyFrame:
    """Country code -> monitor herkomst group, from LANDAKTUEELREF (report 2.2).

    The group is taken from ``LANDGROEPMONITOR`` when the reference carries it; otherwise from the project's
    shipped table (``reference/countries.csv``, monitor_group); for a code in neither, from LANDTYPE: 2 ->
    overig niet-westers, 1 -> westers overig, 0 -> geen migratieachtergrond (the shipped table holds every
    African code of RvIG Tabel 34, so none falls to overig niet-westers; report 2.2 "Afrika overig").
    Without LANDAKTUEELREF (``countries`` None) the shipped table alone is used, with its own landtype.
    Returns LAND (String), herkomst_group (Enum HERKOMST_GROUP).
    """
    shipped = reference.countries().lazy().select(
        pl.col("code").alias("LAND"), pl.col("monitor_group").alias("_shipped")
    )
    if countries is None:
        countries = reference.countries().lazy().select(
            pl.col("code").alias("LAND"), pl.col("landtype").alias("LANDTYPE")
        )
    cols = countries.collect_schema().names()

    def optional(name: str, alias: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name in cols else pl.lit(None, pl.String)).alias(alias)

    ref = countries.select(
        pl.col("LAND").cast(pl.String), optional("LANDTYPE", "_landtype"), optional("LANDGROEPMONITOR", "_given")
    ).unique("LAND", keep="first")
    by_type = (
        pl.when(pl.col("_landtype") == "2").then(pl.lit("overig niet-westers"))
        .when(pl.col("_landtype") == "1").then(pl.lit("westers overig"))
        .when(pl.col("_landtype") == "0").then(pl.lit("Nederland"))
    )
    group = pl.coalesce("_given", "_shipped", by_type)
    return ref.join(shipped, on="LAND", how="left").select(
        "LAND",
        pl.when(group == "Nederland").then(pl.lit(NO_BACKGROUND)).otherwise(group)
        .cast(HERKOMST_GROUP, strict=False).alias("herkomst_group"),
    )


def _aggregate(group: pl.Expr) -> pl.Expr:
    """niet-westers / westers / geen from the group (report 2.2; old CBS definition valid until 2022)."""
    return (
        pl.when(group.cast(pl.String).is_in(list(reference.NON_WESTERN_GROUPS))).then(pl.lit("niet-westers"))
        .when(group.cast(pl.String) == NO_BACKGROUND).then(pl.lit("geen"))
        .when(group.is_not_null()).then(pl.lit("westers"))
        .cast(HERKOMST_AGGREGATE)
    )


def _abroad(code: str) -> pl.Expr:
    c = pl.col(code).cast(pl.String)
    return c.is_not_null() & (c != NL)


_HERKOMST_COLUMNS = {"GBAGEBOORTELAND": pl.String, "GBAGEBOORTELANDMOEDER": pl.String,
                     "GBAGEBOORTELANDVADER": pl.String, "GBAHERKOMSTGROEPERING": pl.String,
                     "GBAGENERATIE": pl.String}
_BIRTH_COUNTRIES = ["GBAGEBOORTELAND", "GBAGEBOORTELANDMOEDER", "GBAGEBOORTELANDVADER"]


def herkomst(gba: pl.LazyFrame, countries: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Herkomst and generatie per person (report 2.2, footnote 4; CBS definition valid until 2022).

    Published values come from GBAHERKOMSTGROEPERING and GBAGENERATIE (CBS's own derivation), mapped to the
    monitor's groups through LANDAKTUEELREF (:func:`country_groups`).  As a check they are recomputed from the
    birth countries:

    * a parent born abroad (mother or father not NL) and born abroad oneself -> eerste generatie, herkomst =
      own birth country (report 2.2 a, footnote 4);
    * a parent born abroad and born in NL -> tweede generatie, herkomst = the mother's birth country unless
      that is NL, then the father's (2.2 b, footnote 4);
    * both parents born in NL -> geen migratieachtergrond, also when born abroad;
    * both parents' countries unknown and born abroad -> eerste generatie with the own birth country (CBS
      practice when the parents are not in the register); one parent NL and the other unknown counts as
      "no parent abroad".

    ``herkomst_check_ok`` is False when the recomputed group or generation differs from the published one, or
    when either cannot be determined (unknown code, missing birth country); such persons are kept with the
    published values (flag, not filter) so that the disagreement can be reported.  When the file has no
    birth countries at all (one of GBAGEBOORTELAND/-MOEDER/-VADER missing or null in every row: a column the
    file lacked) the check is not computable and ``herkomst_check_ok`` is null for everybody; the published
    values stand either way, the birth countries never override them.  ``countries`` None (no
    LANDAKTUEELREF): groups from the shipped table (:func:`country_groups`).

    Returns person_id, herkomst_group, herkomst_aggregate, generatie (eerste/tweede/null), herkomst_check_ok.
    """
    groups = country_groups(countries)
    gba = ensure_columns(gba, _HERKOMST_COLUMNS)
    possible = has_values(keep_r(gba), _BIRTH_COUNTRIES, "_check_possible")
    g = keep_r(gba).select(
        "person_id",
        pl.col("GBAHERKOMSTGROEPERING").cast(pl.String).alias("_published"),
        pl.col("GBAGENERATIE").cast(pl.String).alias("_gen_published"),
        _abroad("GBAGEBOORTELAND").alias("_born_abroad"),
        pl.col("GBAGEBOORTELAND").cast(pl.String).is_null().alias("_born_unknown"),
        _abroad("GBAGEBOORTELANDMOEDER").alias("_m_abroad"),
        _abroad("GBAGEBOORTELANDVADER").alias("_f_abroad"),
        (pl.col("GBAGEBOORTELANDMOEDER").is_null() & pl.col("GBAGEBOORTELANDVADER").is_null())
        .alias("_parents_unknown"),
        pl.col("GBAGEBOORTELAND").cast(pl.String).alias("_own"),
        pl.col("GBAGEBOORTELANDMOEDER").cast(pl.String).alias("_mother"),
        pl.col("GBAGEBOORTELANDVADER").cast(pl.String).alias("_father"),
    )
    parent_abroad = pl.col("_m_abroad") | pl.col("_f_abroad")
    first = pl.col("_born_abroad") & (parent_abroad | pl.col("_parents_unknown"))
    second = parent_abroad & ~pl.col("_born_abroad") & ~pl.col("_born_unknown")
    g = g.with_columns(
        pl.when(pl.col("_born_unknown")).then(None)
        .when(first).then(pl.lit("1")).when(second).then(pl.lit("2")).otherwise(pl.lit("0")).alias("_gen_calc"),
        pl.when(pl.col("_born_unknown")).then(None)
        .when(first).then(pl.col("_own"))
        .when(second).then(pl.when(pl.col("_m_abroad")).then(pl.col("_mother")).otherwise(pl.col("_father")))
        .otherwise(pl.lit(NL)).alias("_calc"),
    )
    pub = groups.select(pl.col("LAND").alias("_published"), pl.col("herkomst_group"))
    calc = groups.select(pl.col("LAND").alias("_calc"), pl.col("herkomst_group").alias("_group_calc"))
    g = g.join(pub, on="_published", how="left").join(calc, on="_calc", how="left")
    gen = pl.col("_gen_published")
    consistent_pub = (  # the published generation agrees with the published group (geen <-> 0)
        (gen == "0") == (pl.col("herkomst_group") == NO_BACKGROUND)
    )
    check = (
        (pl.col("herkomst_group") == pl.col("_group_calc"))
        & (gen == pl.col("_gen_calc"))
        & consistent_pub
    ).fill_null(False)
    return g.join(possible, how="cross").select(
        "person_id",
        "herkomst_group",
        _aggregate(pl.col("herkomst_group")).alias("herkomst_aggregate"),
        pl.when(gen == "1").then(pl.lit("eerste")).when(gen == "2").then(pl.lit("tweede"))
        .cast(GENERATIE).alias("generatie"),
        pl.when(pl.col("_check_possible")).then(check).alias("herkomst_check_ok"),
    )


# ------------------------------------------------------------------------------------------ verblijfsduur
def six_months_days(year: int) -> int:
    """Days from 1 July of ``year - 1`` to the peildatum 1 January ``year``: exactly six months (184)."""
    return (dt.date(year, 1, 1) - dt.date(year - 1, 7, 1)).days


def five_years_days(year: int) -> int:
    """Days from 1 January ``year - 5`` to the peildatum 1 January ``year``: exactly five years (1826/1827)."""
    return (dt.date(year, 1, 1) - dt.date(year - 5, 1, 1)).days


def verblijfsduur(migration: pl.LazyFrame | None, gba: pl.LazyFrame, year: int,
                  five_years: str = "oudkomer") -> pl.LazyFrame:
    """Nieuwkomer / oudkomer on the peildatum 1 January of ``year`` (report 2.2, after SEO 2018).

    Time in NL is the number of days, before the peildatum, inside immigration periods of GBAMIGRATIEBUS
    (MIGRATIESOORT ``I``; a period ends at the next emigration ``E`` or administrative removal ``A``), summed
    over repeated migration ("We tellen periodes bij elkaar op").  Thresholds are calendar-exact for a single
    stay: six months = the days from 1 July of t-1 (184), five years = the days from 1 January t-5.

    * in NL six months or less (days <= 184: arrival on 1 July t-1 or later) -> ``verblijfsduur`` null and
      ``verblijfsduur_excluded`` True (left out of analyses by verblijfsduur); arrival on 1 June t-1 is a
      nieuwkomer;
    * less than five years -> nieuwkomer; five years or more -> oudkomer.  Exactly five years (arrival on
      1 January t-5) is an **oudkomer**: the report's two definitions overlap at 5 ("maximaal" / "minstens
      vijf jaar"); we put the boundary on the oudkomer side, as CBS's "5 jaar of langer" classes do;
    * tweede generatie -> oudkomer (report 2.2 b);
    * eerste generatie without any GBAMIGRATIEBUS row (migration date unknown, settled before 1 Oct 1994) ->
      oudkomer; likewise when the first row is an emigration/removal (a stay that began before the file) —
      its length is unknown, so ``years_in_nl`` is null for both;
    * geen migratieachtergrond -> not applicable (null, not excluded).

    ``five_years="nieuwkomer"`` puts exactly five years on the nieuwkomer side instead (a sensitivity
    alternative, ``choices.MethodChoices.five_years``).

    Generation is GBAGENERATIE (the published one).  Returns person_id, years_in_nl (days/365.25, only where
    measured), verblijfsduur (Enum nieuwkomer/oudkomer), verblijfsduur_excluded (bool).

    Without GBAMIGRATIEBUS (``migration`` None), or when its AANVANGMIGRATIEDATUM or MIGRATIESOORT holds no
    value at all (a column the file lacked), the breakdown is **not computable**: all three columns are null
    for everybody.  Not oudkomer for the first generation (that rule is about persons *absent from* a file we
    have), and not oudkomer for the second generation either: a breakdown whose oudkomer cell holds only the
    second generation while every first-generation person is missing would be misread.  A period whose end
    is null (open, or EINDEMIGRATIEDATUM missing) ends the day before the person's next migration row.
    """
    g = keep_r(ensure_columns(gba, {"GBAGENERATIE": pl.String})).select(
        "person_id", pl.col("GBAGENERATIE").cast(pl.String).alias("_gen"))
    if migration is None:
        return g.select(
            "person_id",
            pl.lit(None, pl.Float64).alias("years_in_nl"),
            pl.lit(None, VERBLIJFSDUUR).alias("verblijfsduur"),
            pl.lit(None, pl.Boolean).alias("verblijfsduur_excluded"),
        )
    peil = dt.date(year, 1, 1)
    last_day = dt.date(year - 1, 12, 31)
    migration = keep_r(ensure_columns(migration, {"AANVANGMIGRATIEDATUM": pl.Date, "EINDEMIGRATIEDATUM": pl.Date,
                                                  "MIGRATIESOORT": pl.String}))
    computable = has_values(migration, ["AANVANGMIGRATIEDATUM", "MIGRATIESOORT"], "_computable")
    next_start = pl.col("AANVANGMIGRATIEDATUM").shift(-1).over("person_id", order_by="AANVANGMIGRATIEDATUM")
    m = migration.select(
        "person_id",
        pl.col("AANVANGMIGRATIEDATUM").alias("_s"),
        pl.coalesce(pl.col("EINDEMIGRATIEDATUM"), next_start.dt.offset_by("-1d"), pl.lit(_FAR_FUTURE)).alias("_e"),
        pl.col("MIGRATIESOORT").cast(pl.String).alias("_kind"),
    ).filter(pl.col("_s") < pl.lit(peil))
    end = pl.min_horizontal(pl.col("_e"), pl.lit(last_day))
    days = pl.when(pl.col("_kind") == "I").then(((end - pl.col("_s")).dt.total_days() + 1).clip(lower_bound=0))
    per_person = m.group_by("person_id").agg(
        days.sum().alias("_days"),
        (pl.col("_kind").sort_by("_s").first() != "I").alias("_before_file"),
    )
    x = g.join(per_person, on="person_id", how="left").join(computable, how="cross")
    before_file = pl.col("_before_file").fill_null(False)
    measured = (pl.col("_gen") == "1") & pl.col("_days").is_not_null() & ~before_file
    short = measured & (pl.col("_days") <= six_months_days(year))
    klass = (
        pl.when(pl.col("_gen") == "2").then(pl.lit("oudkomer"))
        .when((pl.col("_gen") == "1") & ~measured).then(pl.lit("oudkomer"))
        .when(short).then(None)
        .when(measured & (pl.col("_days") < five_years_days(year) + (five_years == "nieuwkomer")))
        .then(pl.lit("nieuwkomer"))
        .when(measured).then(pl.lit("oudkomer"))
    )
    ok = pl.col("_computable")
    return x.select(
        "person_id",
        pl.when(ok & measured).then(pl.col("_days") / 365.25).alias("years_in_nl"),
        pl.when(ok).then(klass).cast(VERBLIJFSDUUR).alias("verblijfsduur"),
        pl.when(ok).then(short.fill_null(False)).alias("verblijfsduur_excluded"),
    )


# -------------------------------------------------------------------------------------------- education
EDUCATION_LEVEL_COLUMN = "OPLNIVSOI2021AGG4HBmetNIRWO"
"""HOOGSTEOPLTAB's highest attained level (SOI 2021; the ingest renames the SOI 2016 column of earlier years)."""


def education_level(hoogsteopl: pl.LazyFrame) -> pl.LazyFrame:
    """Opleidingsniveau laag / middelbaar / hoog from HOOGSTEOPLTAB of year t (report 2.2).

    Uses the highest level *attained* (``OPLNIVSOI2021AGG4HBmetNIRWO``, HB = hoogst behaald; the ingest has
    already renamed the SOI 2016 column of years up to 2018): SOI 1xxx laag (up to mbo-1 and the lower years
    of havo/vwo), 2xxx middelbaar (mbo-2..4, upper havo/vwo), 3xxx hoog (hbo, wo), via
    ``reference/soi_levels.csv``.  Missing codes (``----``/``9999``, null after ingest) are ``onbekend``;
    persons not in the file at all get ``onbekend`` in :func:`population` (report 2.2 treats it as a level).
    When the level column holds no value at all (a column the file lacked) the level is not computable: null
    for everybody, not ``onbekend``.  Returns person_id, opleidingsniveau (Enum).
    """
    levels = dict(reference.soi_levels().select("code", "niveau").iter_rows())
    hoogsteopl = keep_r(ensure_columns(hoogsteopl, {EDUCATION_LEVEL_COLUMN: pl.String}))
    code = pl.col(EDUCATION_LEVEL_COLUMN).cast(pl.String)
    level = (code.replace_strict(levels, default="onbekend", return_dtype=pl.String)
             .fill_null("onbekend").cast(OPLEIDINGSNIVEAU))
    return hoogsteopl.join(has_values(hoogsteopl, [EDUCATION_LEVEL_COLUMN], "_ok"), how="cross").select(
        "person_id",
        pl.when(pl.col("_ok")).then(level).alias("opleidingsniveau"),
    ).unique("person_id", keep="first")


# ----------------------------------------------------------------------------------------------- asylum
def asylum_flag(migmotief: pl.LazyFrame, year: int | None = None) -> pl.LazyFrame:
    """Asielmotief from MIGMOTIEFBUS (report 7.2.5, asielstatushouders): MIGMOTIEF ``"2"`` (asiel).

    True when the person has an asylum-motive spell that began on or before 31 December of ``year`` (any
    spell when ``year`` is None); the motive describes the migration, so it stays after the spell ends.
    Only persons in the file are returned: MIGMOTIEFBUS covers immigrants from 1995 on, so a missing row is
    "unknown" for the first generation and "no" for others (decided in :func:`population`).  When the columns
    it needs (:func:`asylum_columns`) hold no value at all, ``asielmotief`` is null (not computable).
    Returns person_id, asielmotief (bool).
    """
    m = keep_r(ensure_columns(migmotief, {"DATUMAANVANGMOTIEF": pl.Date, "MIGMOTIEF": pl.String}))
    ok = has_values(m, asylum_columns(year), "_ok")
    if year is not None:
        m = m.filter(pl.col("DATUMAANVANGMOTIEF") <= pl.lit(dt.date(year, 12, 31)))
    return m.group_by("person_id").agg(
        (pl.col("MIGMOTIEF").cast(pl.String) == "2").any().alias("asielmotief")
    ).join(ok, how="cross").select("person_id", pl.when(pl.col("_ok")).then(pl.col("asielmotief")).alias("asielmotief"))


def asylum_columns(year: int | None = None) -> list[str]:
    """MIGMOTIEFBUS columns :func:`asylum_flag` needs: MIGMOTIEF, and DATUMAANVANGMOTIEF when ``year`` is given."""
    return ["MIGMOTIEF"] if year is None else ["DATUMAANVANGMOTIEF", "MIGMOTIEF"]
