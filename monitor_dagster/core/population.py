"""The monitor's study population of a year (report ch. 2.1) with its breakdown columns (ch. 2.2).

Plain polars, no Dagster, nothing collected: LazyFrames of the warehouse's normalised source files in, one
LazyFrame out.  Population rules *flag*, they do not filter (except living in NL the whole year, which defines
the population): each indicator decides whom it leaves out (report 2.1: students and pensioners are left out
"bij de meeste vragen", not for questions 4a-4c).  Choices where the report is silent are written down in the
docstrings and in ``docs/methodology.md`` ("Population and subgroups").
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from monitor_dagster.core.characteristics import (
    EDUCATION_LEVEL_COLUMN,
    GESLACHT,
    OPLEIDINGSNIVEAU,
    aow_date,
    age_group,
    age_jan1,
    asylum_columns,
    asylum_flag,
    birth_date,
    education_level,
    ensure_columns,
    has_values,
    herkomst,
    keep_r,
    verblijfsduur,
)
from monitor_dagster.core.regions import municipality_on_jan1, with_regions
from monitor_dagster.core.sorting import person_key

__all__ = [
    "ADDRESS_GAP_TOLERANCE_DAYS",
    "SECM_STUDENT",
    "SECM_PENSIONER",
    "SECM_SOURCE",
    "ASIELSTATUS",
    "whole_year_residents",
    "student_pensioner_flags",
    "population",
]

ADDRESS_GAP_TOLERANCE_DAYS = 31
"""Days without an address between two address spells that do not count as an absence from NL (report 2.1;
the report gives no tolerance: docs/methodology.md).  CBS address files have gaps of a few days when a move is
registered late; public CBS-microdata code allows a 31-day slack (CBS file documentation, GBAADRESOBJECTBUS);
one month is also the smallest period anyone would call "living abroad" and far below the shortest real
emigration we see."""

SECM_STUDENT = ("26", "31")   # scholier/student met inkomen, scholier/student zonder inkomen
SECM_PENSIONER = ("25",)      # pensioenuitkering
SECM_SOURCE = pl.Enum(["SECM", "fallback"])
#: values of asielstatus (report 7.2.5; docs/regions.md, "Asylum status")
ASIELSTATUS = ("statushouder", "overig migratiemotief", "geen migratie")

Rule = Literal["majority", "any_day", "dec31"]

_FAR_FUTURE = dt.date(9999, 12, 31)

#: GBAPERSOONTAB columns the population reads besides the key and the herkomst columns; a column the file
#: lacks is taken as nulls (birth month -> 1 July, birth day -> the 1st, geslacht null)
_GBA_COLUMNS = {"GBAGEBOORTEJAAR": pl.Int64, "GBAGEBOORTEMAAND": pl.Int64, "GBAGEBOORTEDAG": pl.Int64,
                "GBAGESLACHT": pl.String}


# ------------------------------------------------------------------------------------- whole-year rule
def whole_year_residents(
    addresses: pl.LazyFrame, year: int, tolerance_days: int = ADDRESS_GAP_TOLERANCE_DAYS
) -> pl.LazyFrame:
    """Persons who lived in NL the whole of ``year`` (report 2.1: "We nemen alleen mensen mee die gehele jaar
    in Nederland wonen (... GBAADRESOBJECTBUS)").

    Address spells (GBADATUMAANVANGADRESHOUDING..GBADATUMEINDEADRESHOUDING, both days inclusive, open end
    null) are chained per person; a gap of at most ``tolerance_days`` days without an address between two
    spells is bridged (a late-registered move, not an absence), a longer gap breaks the chain.  A person
    counts when one bridged chain runs from 1 January or earlier to 31 December or later.  No slack at the
    ends of the year: arrival on 2 January or emigration on 30 December of the year removes the person for
    that year (the gap tolerance is about *gaps between* spells; a gap around 1 January is bridged like any
    other).  Only RINPERSOONS R.  Returns person_id (one row per person).
    """
    jan1, dec31 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return (address_chains(addresses, jan1, dec31, tolerance_days)
            .filter((pl.col("start") <= pl.lit(jan1)) & (pl.col("end") >= pl.lit(dec31)))
            .select("person_id")
            .unique())


def address_chains(addresses: pl.LazyFrame, lo: dt.date, hi: dt.date,
                   tolerance_days: int = ADDRESS_GAP_TOLERANCE_DAYS) -> pl.LazyFrame:
    """person_id, start, end: the chains of address spells (GBAADRESOBJECTBUS, RINPERSOONS R) that touch
    ``lo`` .. ``hi``, a gap of at most ``tolerance_days`` days between two spells bridged (see
    :func:`whole_year_residents`); ``end`` 9999-12-31 for an address that has not ended.  A chain is a
    period of registration in the BRP (report 5.1, 4c advice: "controleren of de personen in de drie jaar na
    het afstuderen ook nog staan ingeschreven in de basisregistratie persoonsgegevens")."""
    slack = dt.timedelta(days=tolerance_days + 1)
    spells = (
        keep_r(addresses)
        .select(
            "person_id",
            pl.col("GBADATUMAANVANGADRESHOUDING").alias("_s"),
            pl.col("GBADATUMEINDEADRESHOUDING").fill_null(_FAR_FUTURE).alias("_e"),
        )
        .filter(pl.col("_s").is_not_null() & (pl.col("_e") >= pl.col("_s")))
        # only spells that can touch the period through a bridgeable gap; a spell starting just after it
        # still bridges a move gap around its end
        .filter(
            (pl.col("_e") >= pl.lit(lo - slack)) & (pl.col("_s") <= pl.lit(hi + slack))
        )
    )
    # The running maximum of the ends per person, without a window over the person (a window sorts within
    # every group: 6x slower at 1 M persons, issue 12): the spells sorted by person and start, one running
    # maximum over the whole frame of the packed (person, end) key (core/sorting.person_key).  Every key of a
    # person is above every key of a lower person_id, so the global maximum up to the previous row of the
    # same person is that person's own; exact for any person key and date.  The cast comes after the mask:
    # polars computes a then-branch for every row, and at a person's first row the difference is another
    # person's key, far outside Int32 (the in-memory engine raised there; a test runs both engines)
    end_days = pl.col("_e").cast(pl.Int32).cast(pl.Int64) + (1 << 31)
    key = person_key("person_id", [(end_days, 32)])
    base = pl.col("person_id").cast(pl.Int128) * (1 << 32) + (1 << 31)
    same = (pl.col("person_id") == pl.col("person_id").shift(1)).fill_null(False)
    prev_end = pl.when(same).then(key.cum_max().shift(1) - base).cast(pl.Int32).cast(pl.Date)
    missing_days = (pl.col("_s") - pl.col("_prev_end")).dt.total_days() - 1   # days without address before
    chained = (
        spells.filter(pl.col("person_id").is_not_null())
        .sort("person_id", "_s", "_e")
        .with_columns(prev_end.alias("_prev_end"))
        .with_columns((~same | (missing_days > tolerance_days)).cum_sum().alias("_chain"))
    )
    return (
        chained.group_by("_chain")
        .agg(pl.col("person_id").first(), pl.col("_s").min().alias("start"), pl.col("_e").max().alias("end"))
        .drop("_chain")
    )


# ---------------------------------------------------------------------------- students and pensioners
def _days_in_year(year: int) -> int:
    return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


def _decide(days: pl.Expr, on_dec31: pl.Expr, year: int, rule: Rule) -> pl.Expr:
    if rule == "majority":
        return days * 2 > _days_in_year(year)
    if rule == "any_day":
        return days > 0
    if rule == "dec31":
        return on_dec31
    raise ValueError(f"unknown rule {rule!r}: majority | any_day | dec31")


def _secm_flags(secm: pl.LazyFrame, year: int, rule: Rule) -> pl.LazyFrame:
    """person_id, student, pensioner from SECMBUS spells overlapping ``year``."""
    jan1, dec31 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    s = keep_r(secm).select(
        "person_id",
        pl.col("AANVSECM").alias("_s"),
        pl.col("EINDSECM").fill_null(_FAR_FUTURE).alias("_e"),
        pl.col("SECM").alias("_secm"),          # the Enum as it is: is_in below compares its codes
    ).filter((pl.col("_s") <= pl.lit(dec31)) & (pl.col("_e") >= pl.lit(jan1)))
    days = (
        pl.min_horizontal(pl.col("_e"), pl.lit(dec31)) - pl.max_horizontal(pl.col("_s"), pl.lit(jan1))
    ).dt.total_days() + 1
    dec = pl.col("_e") >= pl.lit(dec31)
    per = s.group_by("person_id").agg(
        days.filter(pl.col("_secm").is_in(SECM_STUDENT)).sum().alias("_stud_days"),
        days.filter(pl.col("_secm").is_in(SECM_PENSIONER)).sum().alias("_pens_days"),
        (dec & pl.col("_secm").is_in(SECM_STUDENT)).any().alias("_stud_dec"),
        (dec & pl.col("_secm").is_in(SECM_PENSIONER)).any().alias("_pens_dec"),
    )
    return per.select(
        "person_id",
        _decide(pl.col("_stud_days"), pl.col("_stud_dec"), year, rule).alias("student"),
        _decide(pl.col("_pens_days"), pl.col("_pens_dec"), year, rule).alias("pensioner"),
    )


def _full_time_enrolment(enrolment: pl.LazyFrame) -> pl.Expr:
    """Main enrolment (HOOFDINSCHR 1) that is not a working learner's: BBL (LEERWEGMBO 3), BOL deeltijd (2)
    and part-time or dual hbo/wo (VORMOPLEIDINGHO 2, 3) are in SECM mostly employees, not scholier/student.
    Columns the file lacks are not used."""
    cols = enrolment.collect_schema().names()
    ok = pl.lit(True)
    if "HOOFDINSCHR" in cols:
        ok = ok & (pl.col("HOOFDINSCHR").cast(pl.String).fill_null("1") == "1")
    if "LEERWEGMBO" in cols:
        ok = ok & ~pl.col("LEERWEGMBO").cast(pl.String).is_in(["2", "3"]).fill_null(False)
    if "VORMOPLEIDINGHO" in cols:
        ok = ok & ~pl.col("VORMOPLEIDINGHO").cast(pl.String).is_in(["2", "3"]).fill_null(False)
    return ok


def _fallback_flags(gba: pl.LazyFrame, enrolment: pl.LazyFrame | None, year: int, rule: Rule) -> pl.LazyFrame:
    """person_id, student, pensioner without SECM (report 7.1.3: enrolment plus age).

    student = a full-time main enrolment in ONDERWIJSINSCHRTAB (enrolments on 1 October of the file's year;
    null when no enrolment file is given); pensioner = at or above the AOW age, with the same ``rule`` applied
    to the days of ``year`` from the AOW date on.
    """
    jan1, dec31 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    aow = aow_date(birth_date())
    from_ = pl.max_horizontal(aow, pl.lit(jan1))
    pens_days = ((pl.lit(dec31) - from_).dt.total_days() + 1).clip(lower_bound=0)
    people = keep_r(ensure_columns(gba, _GBA_COLUMNS)).select(
        "person_id",
        _decide(pens_days, aow <= pl.lit(dec31), year, rule).fill_null(False).alias("pensioner"),
    )
    if enrolment is None:
        return people.with_columns(pl.lit(None, pl.Boolean).alias("student"))
    enrolled = keep_r(enrolment).filter(_full_time_enrolment(enrolment)).select("person_id").unique()
    enrolled = enrolled.with_columns(pl.lit(True).alias("student"))
    return people.join(enrolled, on="person_id", how="left").with_columns(pl.col("student").fill_null(False))


def student_pensioner_flags(
    secm: pl.LazyFrame,
    year: int,
    *,
    gba: pl.LazyFrame | None = None,
    enrolment: pl.LazyFrame | None = None,
    persons: pl.LazyFrame | None = None,
    secm_last_year: int | None = None,
    rule: Rule = "majority",
) -> pl.LazyFrame:
    """Pupils/students and pensioners of ``year`` (report 2.1: left out "bij de meeste vragen", not for 4a-4c).

    From SECMBUS: ``student`` = SECM 26/31 (scholier/student met/zonder inkomen), ``pensioner`` = SECM 25
    (pensioenuitkering).  The report does not say *when* in the year; default ``rule="majority"``: in that
    position for the larger part of year t (more than half its days).  Reasons: the yearly indicators
    describe the whole year, so the position that dominates the year decides; one short spell (a summer
    between school and work, a month of early pension) does not remove a worker, and a school-leaver or new
    pensioner is not dropped from the year in which she mostly worked.  ``"any_day"`` (the strictest
    exclusion) and ``"dec31"`` (position on 31 December, as the generator's truth counts) are available for
    sensitivity checks.

    When SECM does not cover ``year`` (report 7.1.3) the fallback is enrolment plus age: full-time
    main enrolment in ONDERWIJSINSCHRTAB (``enrolment``: the asset passes the files of t-1 and t together) = student, AOW age reached
    (same ``rule`` over the days from the AOW date) = pensioner; ``secm_source`` is ``"fallback"`` so such
    years are marked.  Coverage: ``year <= secm_last_year`` when given (the release period of the cumulative
    SECMBUS file, the warehouse manifest's ``period``); otherwise it is read from the data, lazily: SECM covers
    the year when a spell starts in it or later.

    ``persons`` (person_id) fixes the output rows, with False for persons without a student/pension spell;
    without it, the persons with a SECM spell in the year (and, when the fallback may apply, those in
    ``gba``).  Returns person_id, student, pensioner, secm_source.
    """
    if rule not in ("majority", "any_day", "dec31"):
        raise ValueError(f"unknown rule {rule!r}: majority | any_day | dec31")
    known = secm_last_year is not None
    covered = known and year <= secm_last_year
    if known and not covered and gba is None:
        raise ValueError(f"SECMBUS covers up to {secm_last_year}, not {year}: the fallback needs gba (birth dates)")

    sf = _secm_flags(secm, year, rule)
    if covered or (not known and gba is None):
        base = persons.select("person_id").unique() if persons is not None else sf.select("person_id")
        return base.join(sf, on="person_id", how="left").select(
            "person_id",
            pl.col("student").fill_null(False),
            pl.col("pensioner").fill_null(False),
            pl.lit("SECM").cast(SECM_SOURCE).alias("secm_source"),
        )

    ff = _fallback_flags(gba, enrolment, year, rule)
    if known:  # not covered
        base = persons.select("person_id").unique() if persons is not None else ff.select("person_id")
        return base.join(ff, on="person_id", how="left").select(
            "person_id",
            "student",
            pl.col("pensioner").fill_null(False),
            pl.lit("fallback").cast(SECM_SOURCE).alias("secm_source"),
        )

    # coverage unknown: decide from the data, row-wise on a one-row frame (no collect here)
    cov = keep_r(secm).select((pl.col("AANVSECM").max().dt.year() >= year).fill_null(False).alias("_covered"))
    if persons is not None:
        base = persons.select("person_id").unique()
    else:
        base = pl.concat([sf.select("person_id"), ff.select("person_id")]).unique()
    x = (
        base.join(sf, on="person_id", how="left")
        .join(ff.rename({"student": "_fb_student", "pensioner": "_fb_pensioner"}), on="person_id", how="left")
        .join(cov, how="cross")
    )
    c = pl.col("_covered")
    return x.select(
        "person_id",
        pl.when(c).then(pl.col("student").fill_null(False)).otherwise(pl.col("_fb_student")).alias("student"),
        pl.when(c).then(pl.col("pensioner").fill_null(False)).otherwise(pl.col("_fb_pensioner").fill_null(False))
        .alias("pensioner"),
        pl.when(c).then(pl.lit("SECM")).otherwise(pl.lit("fallback")).cast(SECM_SOURCE).alias("secm_source"),
    )


# ----------------------------------------------------------------------------------------- population
def population(
    year: int,
    addresses: pl.LazyFrame,
    secm: pl.LazyFrame,
    gba: pl.LazyFrame,
    migration: pl.LazyFrame | None = None,
    hoogsteopl: pl.LazyFrame | None = None,
    migmotief: pl.LazyFrame | None = None,
    countries: pl.LazyFrame | None = None,
    enrolment: pl.LazyFrame | None = None,
    vslgwb: pl.LazyFrame | None = None,
    *,
    regio_map: pl.LazyFrame | pl.DataFrame | None = None,
    secm_last_year: int | None = None,
    tolerance_days: int = ADDRESS_GAP_TOLERANCE_DAYS,
    student_rule: Rule = "majority",
    five_years: str = "oudkomer",
    objects: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """The study population of ``year``: one row per person who lived in NL the whole year (report 2.1),
    with flags and breakdowns (report 2.2, 7.2.5).  Flags, not filters: indicators decide whom to leave out.

    Inputs are the warehouse frames: GBAADRESOBJECTBUS, SECMBUS, GBAPERSOONTAB, GBAMIGRATIEBUS (cumulative,
    partition ``latest``), HOOGSTEOPLTAB and ONDERWIJSINSCHRTAB of ``year``, MIGMOTIEFBUS, LANDAKTUEELREF.

    Columns: year, person_id, student, pensioner, secm_source (:func:`student_pensioner_flags`),
    herkomst_group, herkomst_aggregate, generatie, herkomst_check_ok (:func:`~characteristics.herkomst`),
    verblijfsduur, verblijfsduur_excluded, years_in_nl (:func:`~characteristics.verblijfsduur`), leeftijd,
    age_jan1 (:func:`~characteristics.age_group`), geslacht (man/vrouw, null when GBAGESLACHT is missing),
    opleidingsniveau (onbekend when the person is not in HOOGSTEOPLTAB), asielmotief (True/False; null for
    eerste generatie without a MIGMOTIEFBUS row: arrived before the file or not recorded), and the regional and
    asylum-status breakdowns (report 7.2.4, 7.2.5; docs/regions.md): gemeente (``GM0363``: municipality on
    1 January t, :func:`~regions.municipality_on_jan1`), regio (arbeidsmarktregio ``AM18``) and randstad
    (``randstad``/``overig``) from ``regio_map``, the municipality -> arbeidsmarktregio mapping of ``year``
    (``reference.regions.regio_mapping``), asielstatus (``statushouder`` = an asylum motive in MIGMOTIEFBUS,
    ``overig migratiemotief`` = in MIGMOTIEFBUS with another motive, ``geen migratie`` = not in MIGMOTIEFBUS, all
    from the same MIGMOTIEFBUS rows as asielmotief: spells begun by 31 December t).

    Incomplete landing zone (docs/methodology.md, "An incomplete landing zone"): addresses, secm and gba are
    required; ``migration``, ``hoogsteopl``, ``migmotief``, ``countries`` and ``enrolment`` may be None (the
    file is not in the warehouse), and a non-key column a file lacked may be all null or absent.  Then:

    * no GBAMIGRATIEBUS (or no migration dates/kinds): verblijfsduur, verblijfsduur_excluded and years_in_nl
      null for everybody (not computable; first generation is *not* taken as oudkomer);
    * no HOOGSTEOPLTAB (or no level column): opleidingsniveau null for everybody (not ``onbekend``);
    * no MIGMOTIEFBUS (or no motive/date column): asielmotief null for everybody;
    * no LANDAKTUEELREF: herkomst groups from the shipped reference table (``reference/countries.csv``);
    * no birth countries in GBAPERSOONTAB: the published herkomst and generatie stand, herkomst_check_ok null;
    * GBAGESLACHT null: geslacht null; GBAGEBOORTEDAG null: born on the 1st (month null: 1 July);
    * no enrolment: the SECM fallback (years SECM does not cover) has student null;
    * no VSLGWBTAB of ``year`` (``vslgwb`` None): gemeente, regio and randstad null for everybody;
    * no mapping for ``year`` (``regio_map`` None): regio and randstad null for everybody (gemeente stands);
    * no MIGMOTIEFBUS (or no motive/date column): asielstatus null for everybody, like asielmotief.

    The population itself (the whole-year rule) rests on GBAADRESOBJECTBUS only, so its size does not change.

    ``objects``: :func:`~regions.object_municipalities` of ``vslgwb`` (or :func:`~regions.keyed_objects` of it),
    built once by a caller that computes the population in buckets of persons
    (:func:`~regions.municipality_on_jan1`).

    ``tolerance_days``, ``student_rule`` and ``five_years`` carry the method choices where the report is silent
    (``choices.MethodChoices.population_kwargs``); persons in NL six months or less on the peildatum are
    flagged here (``verblijfsduur_excluded``) and left out of every indicator by the engine
    (``MethodChoices.analysis_population``, report 2.2 "niet meegenomen in de analyse").
    """
    residents = whole_year_residents(addresses, year, tolerance_days)
    gba = ensure_columns(gba, _GBA_COLUMNS)
    g = keep_r(gba).select(
        "person_id",
        birth_date().alias("_birth"),
        pl.col("GBAGESLACHT").cast(pl.String).replace_strict({"1": "man", "2": "vrouw"}, default=None)
        .cast(GESLACHT).alias("geslacht"),
        pl.lit(True).alias("_in_gba"),
    ).unique("person_id", keep="first")
    flags = student_pensioner_flags(
        secm, year, gba=gba, enrolment=enrolment, persons=residents, secm_last_year=secm_last_year,
        rule=student_rule,
    )
    out = (
        residents.join(g, on="person_id", how="left")
        .join(flags, on="person_id", how="left")
        .join(herkomst(gba, countries), on="person_id", how="left")
        .join(verblijfsduur(migration, gba, year, five_years), on="person_id", how="left")
    )
    in_gba = pl.col("_in_gba").fill_null(False)
    # optional files: a file that is absent, or whose columns hold no value, makes its breakdown null for all
    if hoogsteopl is None:
        opleiding = pl.lit(None, OPLEIDINGSNIVEAU)
    else:
        out = (out.join(education_level(hoogsteopl), on="person_id", how="left")
               .join(has_values(keep_r(hoogsteopl), [EDUCATION_LEVEL_COLUMN], "_edu_ok"), how="cross"))
        opleiding = pl.when(pl.col("_edu_ok")).then(pl.col("opleidingsniveau").fill_null("onbekend"))
    if migmotief is None:
        asiel = pl.lit(None, pl.Boolean)
        status = pl.lit(None, pl.String)
    else:
        out = (out.join(asylum_flag(migmotief, year), on="person_id", how="left")
               .join(has_values(keep_r(migmotief), asylum_columns(year), "_asiel_ok"), how="cross"))
        asiel = (pl.when(~pl.col("_asiel_ok")).then(None)
                 .when(pl.col("asielmotief").is_not_null()).then(pl.col("asielmotief"))
                 .when(pl.col("generatie") == "eerste").then(None)
                 .otherwise(False))
        # asylum_flag's raw column: True/False for persons in MIGMOTIEFBUS (a spell begun by 31 December t)
        status = (pl.when(~pl.col("_asiel_ok")).then(None)
                  .when(pl.col("asielmotief")).then(pl.lit(ASIELSTATUS[0]))
                  .when(pl.col("asielmotief").is_not_null()).then(pl.lit(ASIELSTATUS[1]))
                  .otherwise(pl.lit(ASIELSTATUS[2])))
    if vslgwb is None:
        out = out.with_columns(pl.lit(None, pl.String).alias("gemeente"))
    else:
        out = out.join(municipality_on_jan1(addresses, vslgwb, year, tolerance_days, objects), on="person_id",
                       how="left")
    out = with_regions(out, regio_map)
    return out.select(
        pl.lit(year).cast(pl.Int32).alias("year"),
        "person_id",
        "student",
        "pensioner",
        "secm_source",
        "herkomst_group",
        "herkomst_aggregate",
        "generatie",
        "verblijfsduur",
        # persons without a GBA row: False as before; null only when verblijfsduur is not computable
        pl.when(in_gba).then(pl.col("verblijfsduur_excluded")).otherwise(False).alias("verblijfsduur_excluded"),
        "years_in_nl",
        age_group(pl.col("_birth"), year),
        age_jan1(pl.col("_birth"), year),
        "geslacht",
        opleiding.alias("opleidingsniveau"),
        asiel.alias("asielmotief"),
        pl.col("gemeente").cast(pl.String),
        pl.col("regio").cast(pl.String),
        pl.col("randstad").cast(pl.String),
        status.alias("asielstatus"),
        # persons without a GBA row: False (cannot be determined); null only when no check is possible
        pl.when(in_gba).then(pl.col("herkomst_check_ok")).otherwise(False).alias("herkomst_check_ok"),
    )
