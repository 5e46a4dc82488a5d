"""Education careers: exam candidates, enrolment on 1 October, diplomas with their month (report 5.1, 4a-4c).

Report 5.1, 4a: "kijken we wat de eindexamenkandidaten van een bepaald cohort in het jaar erna gaan doen:
gaan zij door naar een vorm van vervolgonderwijs (mbo, hbo, wo), volgen zij een hoger niveau op de middelbare
school of stoppen zij met studeren" (EXAMVOTAB + ONDERWIJSINSCHRTAB).  4c: "De populatie bestaat uit studenten
die op 1 oktober van het peiljaar in het voltijdsonderwijs mbo, associate degree, bachelor of master stonden
ingeschreven en op 1 oktober een jaar later geen bekostigd onderwijs meer volgden. Hierbij worden alleen
personen meegenomen die een diploma behaalden in de onderwijssoort ... van de inschrijving in het peiljaar.
Vanuit de onderwijsbestanden DIPLOMAMBOTAB en DIPLOMAHOTAB weten we in welke maand studenten hun diploma
behalen (EXAMENDATUMMBO en EXAMENMAAND)."
"""

from __future__ import annotations

import polars as pl

from monitor_dagster.core._intervals import keep_r

__all__ = ["EXAM_GROUP", "education_careers"]

#: EXAMENPROGRAMMAVO -> the groups of O19 (vmbo-theoretisch, vmbo-overig, havo, vwo).  vmbo-g (gemengde
#: leerweg) goes with vmbo-t as "vmbo-gt", the usual CBS grouping; the report does not say.
EXAM_GROUP = {"1": "vmbo-overig", "2": "vmbo-overig", "3": "vmbo-theoretisch", "4": "vmbo-theoretisch",
              "5": "havo", "6": "vwo"}
_EXAM_GROUP_ENUM = pl.Enum(["vmbo-theoretisch", "vmbo-overig", "havo", "vwo"])


def _col(lf: pl.LazyFrame, name: str, dtype: pl.DataType = pl.Utf8) -> pl.Expr:
    """The column as Utf8 (codes compare as strings), or a null column when the file lacks it."""
    if name in lf.collect_schema().names():
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype).alias(name)


def _main_enrolment(enrol: pl.LazyFrame, prefix: str) -> pl.LazyFrame:
    """One main enrolment (HOOFDINSCHR 1) per person; several main rows (not expected) -> the first OPLNR."""
    e = keep_r(enrol)
    typ, vorm, leerweg = _col(e, "TYPEONDERWIJS"), _col(e, "VORMOPLEIDINGHO"), _col(e, "LEERWEGMBO")
    fulltime = (pl.when(typ == "MBO").then(leerweg == "1")            # BOL voltijd
                .when(typ.is_in(["HBO", "WO"])).then(vorm == "1")     # voltijd
                .when(typ == "VO").then(pl.lit(True)))
    main = e.filter(_col(e, "HOOFDINSCHR").fill_null("1") == "1").select(
        "person_id", typ.alias("type"), _col(e, "OPLNR").alias("oplnr"), _col(e, "LEERJAAR").alias("leerjaar"),
        leerweg.alias("leerweg_mbo"), vorm.alias("vorm_ho"), fulltime.alias("fulltime"))
    return (main.group_by("person_id").agg(pl.all().sort_by("oplnr").first())
            .rename({c: f"{prefix}_{c}" for c in ("type", "oplnr", "leerjaar", "leerweg_mbo", "vorm_ho", "fulltime")}))


def education_careers(exam: pl.LazyFrame | None, enrol: pl.LazyFrame | None, dipl_mbo: pl.LazyFrame | None,
                      dipl_ho: pl.LazyFrame | None, year: int, *, enrol_next: pl.LazyFrame | None = None,
                      dipl_year: int | None = None) -> pl.LazyFrame:
    """One row per person who appears in any input (RINPERSOONS R), for peiljaar ``year`` = t.

    Inputs (any may be None):

    * ``exam`` - EXAMVOTAB t (exam candidates of the school year ending in t);
    * ``enrol`` - ONDERWIJSINSCHRTAB t (enrolments on 1 October t); ``enrol_next`` - ONDERWIJSINSCHRTAB t+1;
    * ``dipl_mbo`` / ``dipl_ho`` - DIPLOMAMBOTAB / DIPLOMAHOTAB of school year ``dipl_year`` (default t+1:
      the school year that starts with the 1 October t enrolment, i.e. the diplomas of the 4c cohort).

    Columns:

    * ``exam_oplnr``, ``exam_programme`` (EXAMENPROGRAMMAVO), ``exam_group`` (O19: vmbo-theoretisch = vmbo-g/t,
      vmbo-overig = vmbo-b/k, havo, vwo), ``exam_passed`` (UITSLAGEXAMENVO 1).  Two rows of one person in one
      year: the passed one, then the higher programme;
    * ``enrol_type`` (VO/MBO/HBO/WO), ``enrol_oplnr``, ``enrol_leerjaar``, ``enrol_leerweg_mbo``,
      ``enrol_vorm_ho``, ``enrol_fulltime`` (mbo: BOL voltijd, LEERWEGMBO 1; hbo/wo: VORMOPLEIDINGHO 1 voltijd;
      vo: true) - the main enrolment (HOOFDINSCHR 1) on 1 October t; the same with prefix ``next_`` for
      1 October t+1, and ``left_education`` (enrolled on 1 Oct t, no enrolment at all on 1 Oct t+1: "geen
      bekostigd onderwijs meer"; null without ``enrol_next``);
    * ``mbo_diploma_month`` (first of the month of EXAMENDATUMMBO), ``mbo_diploma_oplnr``,
      ``mbo_diploma_type`` (TYPEMBODPL) - the person's latest main diploma (SELECTIEHOOFDDPLMBO 1) in the file;
    * ``ho_diploma_month``, ``ho_diploma_phase`` (STUDIEFASEDIPL A/B/M), ``ho_diploma_oplnr``,
      ``ho_diploma_vorm`` - the latest hbo/wo diploma; the month from EXAMENDATUMDIPLHO, or where that is
      missing (files before 2013) from EXAMENMAAND, with months 9-12 in calendar year ``dipl_year - 1`` and
      1-8 in ``dipl_year`` (academic year 1 Sep - 31 Aug);
    * ``diploma_month`` - the diploma "in de onderwijssoort van de inschrijving": the mbo diploma for an mbo
      enrolment, the hbo/wo diploma for an hbo or wo enrolment, else null;
    * ``cohort_4c`` - full-time mbo/hbo/wo on 1 Oct t, left education by 1 Oct t+1 and a matching diploma
      (the population of 4c / O25; null without ``enrol_next``)."""
    dyear = year + 1 if dipl_year is None else dipl_year
    pieces: list[pl.LazyFrame] = []
    if exam is not None:
        e = keep_r(exam)
        prog = _col(e, "EXAMENPROGRAMMAVO")
        ex = (e.select("person_id", _col(e, "OPLNR").alias("exam_oplnr"), prog.alias("exam_programme"),
                       (_col(e, "UITSLAGEXAMENVO") == "1").fill_null(False).alias("exam_passed"))
              # every column in the sort: a tie would let the run pick the row (issue 15, determinism)
              .sort("person_id", "exam_passed", "exam_programme", "exam_oplnr", descending=[False, True, True, False],
                    nulls_last=True)
              .group_by("person_id").agg(pl.all().first())
              .with_columns(pl.col("exam_programme").replace_strict(EXAM_GROUP, default=None)
                            .cast(_EXAM_GROUP_ENUM).alias("exam_group")))
        pieces.append(ex)
    if enrol is not None:
        pieces.append(_main_enrolment(enrol, "enrol"))
    if enrol_next is not None:
        pieces.append(_main_enrolment(enrol_next, "next"))
    if dipl_mbo is not None:
        d = keep_r(dipl_mbo)
        mbo = (d.filter(_col(d, "SELECTIEHOOFDDPLMBO").fill_null("1") == "1")
               .select("person_id", pl.col("EXAMENDATUMMBO").dt.month_start().alias("mbo_diploma_month"),
                       _col(d, "OPLNR").alias("mbo_diploma_oplnr"), _col(d, "TYPEMBODPL").alias("mbo_diploma_type"))
               .sort("person_id", "mbo_diploma_month", "mbo_diploma_oplnr", "mbo_diploma_type")
               .group_by("person_id").agg(pl.all().last()))
        pieces.append(mbo)
    if dipl_ho is not None:
        d = keep_r(dipl_ho)
        m = _col(d, "EXAMENMAAND", pl.Int32)
        from_month = pl.date(pl.when(m >= 9).then(dyear - 1).otherwise(dyear), m, 1)
        month = _col(d, "EXAMENDATUMDIPLHO", pl.Date).dt.month_start().fill_null(from_month)
        ho = (d.select("person_id", month.alias("ho_diploma_month"),
                       _col(d, "STUDIEFASEDIPL").alias("ho_diploma_phase"), _col(d, "OPLNR").alias("ho_diploma_oplnr"),
                       _col(d, "VORMOPLEIDINGHODIP").alias("ho_diploma_vorm"))
              .sort("person_id", "ho_diploma_month", "ho_diploma_oplnr", "ho_diploma_phase", "ho_diploma_vorm")
              .group_by("person_id").agg(pl.all().last()))
        pieces.append(ho)
    if not pieces:
        raise ValueError("education_careers needs at least one input")
    out = pieces[0]
    for p in pieces[1:]:
        out = out.join(p, on="person_id", how="full", coalesce=True)

    names = out.collect_schema().names()
    need = {"exam_oplnr": pl.Utf8, "exam_programme": pl.Utf8, "exam_group": _EXAM_GROUP_ENUM, "exam_passed": pl.Boolean,
            **{f"{p}_{c}": t for p in ("enrol", "next") for c, t in
               (("type", pl.Utf8), ("oplnr", pl.Utf8), ("leerjaar", pl.Utf8), ("leerweg_mbo", pl.Utf8),
                ("vorm_ho", pl.Utf8), ("fulltime", pl.Boolean))},
            "mbo_diploma_month": pl.Date, "mbo_diploma_oplnr": pl.Utf8, "mbo_diploma_type": pl.Utf8,
            "ho_diploma_month": pl.Date, "ho_diploma_phase": pl.Utf8, "ho_diploma_oplnr": pl.Utf8,
            "ho_diploma_vorm": pl.Utf8}
    out = out.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in need.items() if c not in names])
    enrolled = pl.col("enrol_type").is_not_null()
    left = (enrolled & pl.col("next_type").is_null()) if enrol_next is not None else pl.lit(None, dtype=pl.Boolean)
    diploma = (pl.when(pl.col("enrol_type") == "MBO").then(pl.col("mbo_diploma_month"))
               .when(pl.col("enrol_type").is_in(["HBO", "WO"])).then(pl.col("ho_diploma_month")))
    out = out.with_columns(left.alias("left_education"), diploma.alias("diploma_month"))
    cohort = ((pl.col("enrol_type").is_in(["MBO", "HBO", "WO"]) & pl.col("enrol_fulltime")).fill_null(False)
              & pl.col("left_education") & pl.col("diploma_month").is_not_null())
    return out.with_columns(cohort.alias("cohort_4c")).select(
        "person_id", *need.keys(), "left_education", "diploma_month", "cohort_4c")
