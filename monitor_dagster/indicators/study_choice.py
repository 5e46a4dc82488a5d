"""Study choice and its labour-market prospects, research question 4a (technisch rapport Monitor gelijke
kansen, §5.1): school type of the exam candidates (O19), what they do the next year (O20), the chosen field
of study (O21) and the SBB "kans op werk" of the chosen mbo programme, bol and bbl separately (O22).

Report §5.1, 4a: "kijken we wat de eindexamenkandidaten van een bepaald cohort in het jaar erna gaan doen:
gaan zij door naar een vorm van vervolgonderwijs (mbo, hbo, wo), volgen zij een hoger niveau op de
middelbare school of stoppen zij met studeren.  Vervolgens kijken we ook naar de studierichting door het
opleidingsnummer van iemands hoofdinschrijving in het mbo, hbo of wo aan de mbo-sector of richting in het
hoger onderwijs (op basis van de ONDERWIJSINSCHRTAB) te koppelen."

Rules where the report is silent (docs/indicators_education.md, "4a: study choice"):

* **years**: the cohort of year t = the exam candidates of EXAMVOTAB t (school year t-1/t, exams in spring
  t); "het jaar erna" = their main enrolment on **1 October t** (ONDERWIJSINSCHRTAB t), the first school year
  after the exam (t/t+1).  The first-year enrolments of O21/O22 are those of 1 October t as well, so O22
  links the SBB file of studiekeuzejaar t to the first-years of t (the report's advice);
* **population**: persons of core/population t (living in NL the whole year, report 2.1) *including* pupils
  and students (report 2.1: not left out for 4a-4c); only RINPERSOONS R;
* **main enrolment**: HOOFDINSCHR 1, one per person (the core's rule, ``core.education``);
* **first-year** (O21, O22): LEERJAAR 1 of the main enrolment, i.e. in the first year of that programme (the
  choice was made this year: school-leavers, switchers, mbo students going one level up, adults);
* the ``sector`` breakdown (``extra_dimensions``) holds the *onderwijssoort* for these indicators, the
  usual Dutch sense of "onderwijssector": O20 the exam's school type, O21 mbo/hbo/wo (the report's advice:
  "de combinatie van studierichting en niveau"), O22 bol/bbl (the report's advice: "bol en bbl afzonderlijk").
  Each is a partition of the cell's persons, so categories add to 100% within every cell and the disclosure
  gate protects them together (spec ``adds_to_100``).
"""

from __future__ import annotations

import polars as pl

from monitor_dagster.core._intervals import keep_r
from monitor_dagster.core.layout import held
from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.table import cells, empty

__all__ = ["EXAM_GROUPS", "NEXT_YEAR", "FIELDS", "FIELD_UNKNOWN", "SBB_CATEGORIES", "UNMATCHED",
           "main_enrolment", "o19_schoolsoort", "o20_vervolgonderwijs", "o21_studierichting", "o22_kans_op_werk"]

#: O19 categories (core.education.EXAM_GROUP: vmbo-theoretisch = vmbo-g/t, vmbo-overig = vmbo-b/k)
EXAM_GROUPS = ["vmbo-theoretisch", "vmbo-overig", "havo", "vwo"]
#: O20 categories: the report's five outcomes plus the candidates still in vo at the same (or a lower) level,
#: mostly those who failed and retake the exam year - without it the categories would not add to 100%
NEXT_YEAR = ["mbo", "hbo", "wo", "hoger niveau vo", "zelfde niveau vo", "stopt"]
#: OPLEIDINGSNRREF.OPLSECTOR -> O21 category: the mbo sectors and the hoger-onderwijs (HOOP) sectors share
#: one code list (landbouw, techniek, zorg en welzijn / gezondheidszorg, economie in both)
FIELDS = {"1": "Onderwijs", "2": "Landbouw en natuurlijke omgeving", "3": "Techniek",
          "4": "Zorg en welzijn / gezondheidszorg", "5": "Economie", "6": "Gedrag en maatschappij",
          "7": "Taal en cultuur", "8": "Recht", "9": "Natuur"}
#: a programme without a sector in the reference (sector 0, or an OPLNR that OPLEIDINGSNRREF lacks): counted,
#: never dropped
FIELD_UNKNOWN = "overig of onbekend"
#: SBBKANSOPWERK.KANSOPWERK -> O22 category (SBB's four verbal categories)
SBB_CATEGORY = {"4": "goed", "3": "voldoende", "2": "matig", "1": "onvoldoende"}
#: a first-year whose programme x leerweg has no SBB row for studiekeuzejaar t (programmes appear and vanish
#: every year, report §5.1): reported with its count, never silently dropped
UNMATCHED = "niet gekoppeld"
SBB_CATEGORIES = [*SBB_CATEGORY.values(), UNMATCHED]

#: school type of the exam (core exam_group) and of a vo enrolment (SOI code of its programme) on one scale:
#: vmbo-b/k < vmbo-g/t (= havo/vwo onderbouw, the same SOI level 1.2.2) < havo < vwo
_EXAM_RANK = {"vmbo-overig": 1, "vmbo-theoretisch": 2, "havo": 3, "vwo": 4}
_SOI_RANK = {"1212": 1, "1221": 2, "1222": 2, "2131": 3, "2132": 4}
_LEVEL = {"MBO": "mbo", "HBO": "hbo", "WO": "wo"}
#: LEERWEGMBO -> SBB leerweg: BOL voltijd and BOL deeltijd are both BOL
_LEERWEG = {"1": "BOL", "2": "BOL", "3": "BBL"}
_DIMS = ["herkomst_group", "herkomst_aggregate", "generatie", "verblijfsduur", "leeftijd", "geslacht",
         "opleidingsniveau",
         # issue 18's separate breakdowns where core/population has them: report 5.1 advises, for O22, "te kijken
         # naar studenten die in de randstad wonen en studenten die niet in de randstad wonen"; 7.2.4 regions
         "regio", "randstad", "asielstatus"]


def _col(lf: pl.LazyFrame, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    """The column as ``dtype``, or nulls when the frame lacks it (a missing used column: not computable, the
    readiness module says so; the function must still not fail)."""
    if name in lf.collect_schema().names():
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def _persons(population: pl.LazyFrame) -> pl.LazyFrame:
    """The breakdown columns of core/population: everybody living in NL the whole year, pupils and students
    included (report 2.1: not left out for 4a-4c)."""
    names = population.collect_schema().names()
    return population.select("person_id", *[c for c in _DIMS if c in names])


def main_enrolment(enrolment: pl.LazyFrame) -> pl.LazyFrame:
    """person_id, type (VO/MBO/HBO/WO), oplnr, leerjaar, leerweg_mbo of the main enrolment (HOOFDINSCHR 1) on
    1 October of the file's year; several main rows (not expected) -> the lowest OPLNR, as
    ``core.education.education_careers`` does."""
    e = keep_r(enrolment)
    main = e.filter(_col(e, "HOOFDINSCHR").fill_null("1") == "1").select(
        "person_id", _col(e, "TYPEONDERWIJS").alias("type"), _col(e, "OPLNR").alias("oplnr"),
        _col(e, "LEERJAAR").alias("leerjaar"), _col(e, "LEERWEGMBO").alias("leerweg_mbo"))
    return main.group_by("person_id").agg(pl.all().sort_by("oplnr").first())


def _enrolled(enrolment: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`main_enrolment`, evaluated once per bucket for O20-O22."""
    return shared("study_choice_main_enrolment", (enrolment,), lambda: main_enrolment(enrolment))


def _programmes(oplref: pl.LazyFrame) -> pl.LazyFrame:
    """oplnr -> soi (OPLNIVSOI2021AGG4HB, else the 2016 code), field (O21 category), crebo (null for "-")."""
    names = oplref.collect_schema().names()
    soi = pl.coalesce(*[pl.col(c).cast(pl.String) for c in ("OPLNIVSOI2021AGG4HB", "OPLNIVSOI2016AGG4HB")
                        if c in names], pl.lit(None, pl.String))
    crebo = _col(oplref, "CREBO")
    return oplref.select(
        _col(oplref, "OPLNR").alias("oplnr"), soi.alias("soi"),
        _col(oplref, "OPLSECTOR").replace_strict(FIELDS, default=FIELD_UNKNOWN, return_dtype=pl.String)
        .alias("field"),
        pl.when(crebo.is_in(["-", ""])).then(None).otherwise(crebo).alias("crebo"),
    ).unique("oplnr", keep="first")


def _first_years(population: pl.LazyFrame, enrolment: pl.LazyFrame, oplref: pl.LazyFrame,
                 types: list[str]) -> pl.LazyFrame:
    """Persons of the population whose main enrolment on 1 October t is in the first year (LEERJAAR 1) of a
    programme of ``types``, with the programme's field and crebo (null when OPLEIDINGSNRREF lacks the OPLNR:
    such a student is still counted)."""
    e = _enrolled(enrolment).filter(pl.col("type").is_in(types) & (pl.col("leerjaar").str.strip_chars() == "1"))
    return (_persons(population).join(e, on="person_id", how="inner")
            .join(_programmes(oplref), on="oplnr", how="left")
            .with_columns(pl.col("field").fill_null(FIELD_UNKNOWN)))


# ------------------------------------------------------------------------------------------------ O19
def o19_schoolsoort(population: pl.LazyFrame, careers: pl.LazyFrame, year: int, **kw) -> pl.DataFrame:
    """O19, report §5.1 deelvraag 4a: the exam candidates of cohort t over vmbo-theoretisch, vmbo-overig,
    havo and vwo (categories adding to 100%).

    Exam candidates = persons in EXAMVOTAB t (core/education_careers ``exam_group``: vmbo-theoretisch =
    vmbo-g/t, vmbo-overig = vmbo-b/k), passed or not, who lived in NL the whole year t (core/population;
    pupils are not left out, report 2.1).  A candidate without a known exam programme is left out (the code
    is validated at ingest)."""
    ex = careers.filter(pl.col("exam_group").is_not_null()).select(
        "person_id", pl.col("exam_group").cast(pl.String).alias("schoolsoort"))
    persons = _persons(population).join(ex, on="person_id", how="inner")
    return cells(persons, indicator_id="O19", year=year, unit="%", by_measure="schoolsoort")


# ------------------------------------------------------------------------------------------------ O20
def next_year_category() -> pl.Expr:
    """O20 category from ``type`` / ``soi`` of the main enrolment on 1 October t and ``exam_group``: mbo, hbo,
    wo; a vo programme of a higher school type than the exam's (vmbo -> havo, havo -> vwo: "volgen zij een
    hoger niveau op de middelbare school") or not (same or lower, or a programme whose level is unknown);
    no enrolment at all: "stopt"."""
    higher = (pl.col("soi").replace_strict(_SOI_RANK, default=None, return_dtype=pl.Int8)
              > pl.col("exam_group").cast(pl.String).replace_strict(_EXAM_RANK, default=None, return_dtype=pl.Int8))
    return (pl.when(pl.col("type").is_null()).then(pl.lit("stopt"))
            .when(pl.col("type").is_in(list(_LEVEL))).then(pl.col("type").replace_strict(_LEVEL, default=None))
            .when(higher.fill_null(False)).then(pl.lit("hoger niveau vo"))
            .otherwise(pl.lit("zelfde niveau vo")))


def o20_vervolgonderwijs(population: pl.LazyFrame, careers: pl.LazyFrame, enrolment: pl.LazyFrame,
                         oplref: pl.LazyFrame, year: int, dimensions: list[str] | None = None,
                         **kw) -> pl.DataFrame:
    """O20, report §5.1 deelvraag 4a: "wat de eindexamenkandidaten van een bepaald cohort in het jaar erna
    gaan doen: gaan zij door naar een vorm van vervolgonderwijs (mbo, hbo, wo), volgen zij een hoger niveau
    op de middelbare school of stoppen zij met studeren".

    Cohort t = the exam candidates of O19 (EXAMVOTAB t, passed or not); "het jaar erna" = their main
    enrolment on 1 October t (ONDERWIJSINSCHRTAB t: the school year after the exam) - categories
    :data:`NEXT_YEAR` by :func:`next_year_category`, adding to 100%.  Breakdown ``sector``: the exam's
    school type (what havo candidates do differs from what vmbo candidates do)."""
    ex = careers.filter(pl.col("exam_group").is_not_null()).select("person_id", "exam_group")
    persons = (_persons(population).join(ex, on="person_id", how="inner")
               .join(_enrolled(enrolment).select("person_id", "type", "oplnr"), on="person_id", how="left")
               .join(_programmes(oplref).select("oplnr", "soi"), on="oplnr", how="left")
               .with_columns(next_year_category().alias("vervolg"),
                             pl.col("exam_group").cast(pl.String).alias("sector")))
    return cells(persons, indicator_id="O20", year=year, unit="%", by_measure="vervolg", dimensions=dimensions)


# ------------------------------------------------------------------------------------------------ O21
def o21_studierichting(population: pl.LazyFrame, enrolment: pl.LazyFrame, oplref: pl.LazyFrame, year: int,
                       dimensions: list[str] | None = None, **kw) -> pl.DataFrame:
    """O21, report §5.1 deelvraag 4a: the field of study, "het opleidingsnummer van iemands hoofdinschrijving
    in het mbo, hbo of wo aan de mbo-sector of richting in het hoger onderwijs ... te koppelen"; and, the
    report's advice for later measurements, "de combinatie van studierichting en niveau".

    Population (the report is silent): the **first-year** main enrolments (LEERJAAR 1) in mbo, hbo or wo on
    1 October t - the programmes chosen this year.  Category: OPLEIDINGSNRREF.OPLSECTOR of the OPLNR
    (:data:`FIELDS`; no sector: :data:`FIELD_UNKNOWN`).  Field x level: breakdown ``sector`` = mbo / hbo /
    wo, so every cell's categories add to 100% (the field distribution within mbo, within hbo, within wo)."""
    persons = _first_years(population, enrolment, oplref, list(_LEVEL)).with_columns(
        pl.col("type").replace_strict(_LEVEL, default=None).alias("sector"))
    return cells(persons, indicator_id="O21", year=year, unit="%", by_measure="field", dimensions=dimensions)


# ------------------------------------------------------------------------------------------------ O22
def o22_kans_op_werk(population: pl.LazyFrame, enrolment: pl.LazyFrame, oplref: pl.LazyFrame,
                     sbb: pl.LazyFrame, year: int, dimensions: list[str] | None = None, **kw) -> pl.DataFrame:
    """O22, report §5.1 deelvraag 4a: the SBB "kans op werk" of the chosen mbo programme.  The report's advice:
    "het SBB-bestand over de kansrijkheid van studiekeuze 2021 te koppelen aan onderwijsinschrijvingen voor
    eerstejaars 2021" and "bol en bbl afzonderlijk weer te geven".

    Population: the first-year (LEERJAAR 1) main enrolments in mbo on 1 October t.  Link: the programme's
    CREBO (OPLEIDINGSNRREF.CREBO of the OPLNR) and leerweg (LEERWEGMBO 1/2 BOL, 3 BBL) to SBBKANSOPWERK of
    STUDIEKEUZEJAAR t, so bol and bbl of one crebo get their own rating.  Categories goed / voldoende /
    matig / onvoldoende and :data:`UNMATCHED` (no SBB row for that crebo x leerweg in year t: the programme
    appeared or vanished, or has no crebo), adding to 100%.  Breakdown ``sector``: bol / bbl.

    An SBB file without any row of studiekeuzejaar t gives no rows at all: another year's file is never
    linked (the first measurement's 2021-to-2020 link was second best, report §5.1)."""
    s = sbb.select(_col(sbb, "STUDIEKEUZEJAAR", pl.Int64).alias("_y"), _col(sbb, "CREBO").alias("crebo"),
                   _col(sbb, "LEERWEG").str.to_uppercase().alias("leerweg"),
                   _col(sbb, "KANSOPWERK").replace_strict(SBB_CATEGORY, default=None, return_dtype=pl.String)
                   .alias("kans")).filter(pl.col("_y") == year).drop("_y")
    s = s.collect()          # a few thousand programme rows of one year
    if s.height == 0:
        return empty()
    persons = (_first_years(population, enrolment, oplref, ["MBO"])
               .with_columns(pl.col("leerweg_mbo").replace_strict(_LEERWEG, default=None).alias("leerweg"))
               .join(held(s).unique(["crebo", "leerweg"], keep="first"), on=["crebo", "leerweg"], how="left")
               .with_columns(pl.col("kans").fill_null(UNMATCHED),
                             pl.col("leerweg").str.to_lowercase().alias("sector")))
    return cells(persons, indicator_id="O22", year=year, unit="%", by_measure="kans", dimensions=dimensions)
