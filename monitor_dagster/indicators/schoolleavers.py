"""mbo-schoolverlatersonderzoek O23, O24, O26 (report 5.1, deelvragen 4b and 4c) and early school leaving in
mbo O22b (report 5.1, advice after deelvraag 4a).

Report 5.1, 4b: "In het mbo-schoolverlatersonderzoek wordt aan mbo-studenten gevraagd hoe vaak zij hebben moeten
solliciteren voor een stageplaats ... De enquêtegegevens bevatten burgerservicenummers waardoor het te koppelen is
aan informatie over migratieachtergrond ... Wij hebben hierbij gekeken naar het minimale aantal keren dat een
student moest solliciteren 1: een keer, 2: minstens twee keer, 4: minstens vier keer, 7: minstens zeven keer, 11:
minstens elf keer. Daarnaast hebben we in beeld gebracht of de studenten problemen hadden bij het vinden van een
stage ... Eventueel kunnen hierbij de bol- en bbl-studenten nog afzonderlijk worden weergegeven."  4c: "de
variabele SVOVRGAansluitwerk ... (1=slecht, 2=matig, 3=voldoende, 4=goed) ... in 2019 net iets anders is gesteld.
Dit kan leiden tot een trendbreuk."  Advice after 4a: "Voortijdige uitval kunnen we in kaart brengen voor het mbo
met behulp van het voortijdig schoolverlatersonderzoek (VSV) ... de belangrijkste reden ... (schoolgerelateerd,
gezondheid, persoonlijk, arbeidsmarkt of overig)."

Choices where the report is silent (docs/indicators_schoolleavers.md):

* **Year**: the survey of autumn t (file MBOSCHOOLVERLATERS t, graduates of school year t-2/t-1) is indicator
  year t; the 2019 re-wording is trend break ``schoolverlaters_2019`` of O26 (specs.yaml, trend_breaks.yaml).
* **Respondents and persons**: one row of the file is one respondent.  Respondents are linked by person key to
  core/population of t (herkomst and the other breakdowns); pupils and students are not left out (report 2.1,
  4a-4c).  A respondent not in the population (not living in NL the whole of t, or a key without a BRP
  registration) has no herkomst and is left out of every cell - kept in the total alone, total minus the groups
  would show a handful of persons - and counted: :func:`linkage`, and a log warning per bucket.
* **Weights**: the survey's weight SVOGEWICHT when the file has it; a file without it (the column is empty) gives
  unweighted figures (``n_weighted`` = ``n``, a log warning; the source gate warns that the column is missing).
  A respondent without a weight in a weighted file is left out (logged).
* **bol and bbl**: every measure for bol and bbl together and apart (``<m>``, ``<m> bol``, ``<m> bbl``; SVOLEERWEG
  1 bol, 2 bbl).  A respondent without a leerweg is left out of all three (logged), so the two parts add up to
  the whole and the disclosure gate can protect them together (``disclosure: survey``).
* **O24**: cumulative shares of the report's "minimale aantal keren": "minstens vier keer" counts the answers 4, 7
  and 11; "een keer" is the answer 1 alone.  Respondents without an answer are left out.
* **O26**: respondents with an answer 1-4 (the question is asked of those with a job): the share of each answer
  (adding to 100) and of "voldoende of goed" (3 or 4).  A mean has no unit of the indicator table.
* **O22b** (VSVMBOTAB t: the mbo enrolments that ended in school year t-1/t, with or without diploma): per person,
  voortijdig = at least one enrolment ended without its diploma (also when a new programme follows: the advice
  asks how good the study choice was); the main reason (VSVREDEN) of that enrolment, "onbekend" without an
  answer.  Linked to core/population of t like the survey.
"""

from __future__ import annotations

import logging

import polars as pl

from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.table import SEPARATE, SOURCE_COLUMN, cells, empty

log = logging.getLogger(__name__)

WEIGHT = "SVOGEWICHT"
LEERWEG_COLUMN = "SVOLEERWEG"
#: SVOLEERWEG / VSVLEERWEG code -> measure suffix
LEERWEG = {"1": "bol", "2": "bbl"}
PROBLEMS = "SVOVRGProblemenStage"          # 1 ja, 2 nee
APPLICATIONS = "SVOVRGSollicitatiesStage"  # 1, 2, 4, 7, 11: the minimum number of applications
FIT = "SVOVRGAansluitwerk"                 # 1 slecht, 2 matig, 3 voldoende, 4 goed
#: O24 measure -> the answers that count ("minstens vier keer" includes seven and eleven, report 5.1 4b)
APPLICATION_MEASURES: dict[str, tuple[str, ...]] = {
    "een keer": ("1",), "minstens twee keer": ("2", "4", "7", "11"), "minstens vier keer": ("4", "7", "11"),
    "minstens zeven keer": ("7", "11"), "minstens elf keer": ("11",)}
#: O26 measure -> the answers that count
FIT_MEASURES: dict[str, tuple[str, ...]] = {
    "slecht": ("1",), "matig": ("2",), "voldoende": ("3",), "goed": ("4",), "voldoende of goed": ("3", "4")}
#: VSVREDEN code -> reason (report 5.1, advice after 4a); no answer: UNKNOWN_REASON
VSV_REASONS = {"1": "schoolgerelateerd", "2": "gezondheid", "3": "persoonlijk", "4": "arbeidsmarkt", "5": "overig"}
UNKNOWN_REASON = "onbekend"
#: the population's breakdown columns a cell needs (indicators.table.cells); not the regional ones of issue 18
#: (a survey of its own; docs/regions.md)
PERSON_COLUMNS = list(dict.fromkeys(["herkomst_group", "herkomst_aggregate",
                                     *(c for d, c in SOURCE_COLUMN.items()
                                       if d not in ("sector", "kwartaal", *SEPARATE))]))
_W = "weight"


# ------------------------------------------------------------------------------------------ linking
def _codes(frame: pl.LazyFrame, column: str) -> pl.Expr:
    """A code column as a string (the warehouse holds codes as Enums); null when the file lacks the column."""
    if column in frame.collect_schema().names():
        return pl.col(column).cast(pl.String)
    return pl.lit(None, dtype=pl.String)


def is_weighted(survey: pl.LazyFrame) -> bool:
    """Does the file carry the survey weight?  An absent catalog column is ingested as an empty one, so: is any
    SVOGEWICHT filled in."""
    if WEIGHT not in survey.collect_schema().names():
        return False
    return bool(survey.select(pl.col(WEIGHT).is_not_null().any()).collect().item())


def linkage(frame: pl.LazyFrame, population: pl.LazyFrame) -> dict[str, int]:
    """Rows of a survey (or VSV) frame, how many link to core/population by person key, how many do not."""
    keys = population.select("person_id").unique()
    total = frame.select(pl.len()).collect().item()
    linked = frame.join(keys, on="person_id", how="semi").select(pl.len()).collect().item()
    return {"rows": total, "linked": linked, "not_in_population": total - linked}


def _report(what: str, year: int, counts: dict[str, int]) -> None:
    if counts["not_in_population"]:
        log.warning("%s %d: %d of %d rows not in core/population (not living in NL the whole year, or no BRP "
                    "person key): left out of every cell", what, year, counts["not_in_population"], counts["rows"])


def respondents(survey: pl.LazyFrame, population: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """The respondents of the mbo-schoolverlatersonderzoek of ``year`` with their breakdowns (report 5.1, 4b/4c:
    "te koppelen aan informatie over migratieachtergrond"): person_id, ``leerweg`` (bol/bbl), ``weight`` (the
    survey weight; 1.0 in an unweighted file), the three answers as code strings and the population's breakdown
    columns.  Left out, and logged: respondents not in core/population, without a leerweg, or without a weight
    in a weighted file.  Evaluated once per bucket (memo.shared)."""
    def build() -> pl.LazyFrame:
        weighted = is_weighted(survey)
        if not weighted:
            log.warning("MBOSCHOOLVERLATERS %d has no SVOGEWICHT: O23, O24 and O26 are unweighted", year)
        s = survey.select(
            "person_id",
            _codes(survey, LEERWEG_COLUMN).replace_strict(LEERWEG, default=None, return_dtype=pl.String)
            .alias("leerweg"),
            (pl.col(WEIGHT).cast(pl.Float64) if weighted else pl.lit(1.0)).alias(_W),
            _codes(survey, PROBLEMS).alias(PROBLEMS), _codes(survey, APPLICATIONS).alias(APPLICATIONS),
            _codes(survey, FIT).alias(FIT))
        _report("MBOSCHOOLVERLATERS", year, linkage(s, population))
        dropped = s.select(pl.col("leerweg").is_null().sum().alias("leerweg"),
                           pl.col(_W).is_null().sum().alias("weight")).collect().row(0, named=True)
        if dropped["leerweg"] or dropped["weight"]:
            log.warning("MBOSCHOOLVERLATERS %d: left out %d respondents without SVOLEERWEG and %d without "
                        "SVOGEWICHT", year, dropped["leerweg"], dropped["weight"])
        return (s.filter(pl.col("leerweg").is_not_null() & pl.col(_W).is_not_null())
                .join(population.select("person_id", *PERSON_COLUMNS), on="person_id", how="inner"))

    return shared("schoolleavers_respondents", (survey, population), build, year)


def _by_leerweg(persons: pl.LazyFrame, indicator_id: str, year: int, measures: dict[str, pl.Expr],
                answered: pl.Expr, vintages: str) -> pl.DataFrame:
    """Cells of every measure (value = its 0/1 expression, among the respondents who ``answered``) for bol and
    bbl together (``<m>``) and apart (``<m> bol``, ``<m> bbl``)."""
    p = persons.filter(answered)
    parts = []
    for name, expr in measures.items():
        valued = p.with_columns(expr.cast(pl.Float64).alias("value"))
        parts.append(cells(valued, indicator_id=indicator_id, year=year, unit="%", measure=name, weight=_W,
                           vintages=vintages))
        for lw in LEERWEG.values():
            parts.append(cells(valued.filter(pl.col("leerweg") == lw), indicator_id=indicator_id, year=year,
                               unit="%", measure=f"{name} {lw}", weight=_W, vintages=vintages))
    parts = [f for f in parts if f.height]
    return pl.concat(parts, how="vertical") if parts else empty()


# ------------------------------------------------------------------------------------------- O23, O24, O26
def o23_problemen_stage(population: pl.LazyFrame, survey: pl.LazyFrame, year: int,
                        vintages: str = "") -> pl.DataFrame:
    """O23 problems finding an internship (report 5.1, 4b: "Daarnaast hebben we in beeld gebracht of de
    studenten problemen hadden bij het vinden van een stage"): weighted share of the respondents answering
    SVOVRGProblemenStage with 1 (ja) among those answering 1 or 2; bol and bbl together and apart."""
    p = respondents(survey, population, year)
    answer = pl.col(PROBLEMS)
    return _by_leerweg(p, "O23", year, {"problemen": answer == "1"}, answer.is_in(["1", "2"]), vintages)


def o24_sollicitaties_stage(population: pl.LazyFrame, survey: pl.LazyFrame, year: int,
                            vintages: str = "") -> pl.DataFrame:
    """O24 applications for an internship (report 5.1, 4b: "het minimale aantal keren dat een student moest
    solliciteren 1: een keer, 2: minstens twee keer, 4: minstens vier keer, 7: minstens zeven keer, 11: minstens
    elf keer"): weighted cumulative shares of the respondents with an answer - "minstens vier keer" counts 4, 7
    and 11; bol and bbl together and apart."""
    p = respondents(survey, population, year)
    answer = pl.col(APPLICATIONS)
    measures = {m: answer.is_in(list(codes)) for m, codes in APPLICATION_MEASURES.items()}
    return _by_leerweg(p, "O24", year, measures, answer.is_in(list(APPLICATION_MEASURES["een keer"]
                                                                  + APPLICATION_MEASURES["minstens twee keer"])),
                       vintages)


def o26_aansluiting_werk(population: pl.LazyFrame, survey: pl.LazyFrame, year: int,
                         vintages: str = "") -> pl.DataFrame:
    """O26 fit between the current job and the mbo programme (report 5.1, 4c: "SVOVRGAansluitwerk (Hoe is de
    aansluiting tussen de gevolgde mbo-opleiding en uw/je huidige functie?) ... (1=slecht, 2=matig,
    3=voldoende, 4=goed)"): of the respondents with an answer (the question is put to those with a job), the
    weighted share of each answer and of voldoende of goed; bol and bbl together and apart.  The 2019 wording
    ("hoe past uw huidige baan bij de opleiding ...") is trend break schoolverlaters_2019 (spec trend_breaks)."""
    p = respondents(survey, population, year)
    answer = pl.col(FIT)
    measures = {m: answer.is_in(list(codes)) for m, codes in FIT_MEASURES.items()}
    return _by_leerweg(p, "O26", year, measures, answer.is_in(["1", "2", "3", "4"]), vintages)


# -------------------------------------------------------------------------------------------------- O22b
def vsv_leavers(vsv: pl.LazyFrame, population: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """One row per person who left an mbo programme in school year ``year``-1/``year`` (VSVMBOTAB of
    ``year``): ``voortijdig`` (at least one enrolment ended without its diploma, VSVINDICATOR 1) and ``reden``
    (VSVREDEN of that enrolment - of two, the lowest code -, "onbekend" without an answer; null for those who
    left with a diploma), with the population's breakdowns.  Left out, and logged: persons not in
    core/population and rows without VSVINDICATOR."""
    rows = vsv.select("person_id", _codes(vsv, "VSVINDICATOR").alias("_ind"), _codes(vsv, "VSVREDEN").alias("_r"))
    _report("VSVMBOTAB", year, linkage(rows, population))
    missing = rows.select(pl.col("_ind").is_null().sum()).collect().item()
    if missing:
        log.warning("VSVMBOTAB %d: left out %d rows without VSVINDICATOR", year, missing)
    early = pl.col("_ind") == "1"
    persons = (rows.filter(pl.col("_ind").is_not_null())
               .group_by("person_id")
               .agg(early.any().alias("voortijdig"),
                    pl.col("_r").filter(early).sort(nulls_last=True).first().alias("_r")))
    reden = (pl.when(~pl.col("voortijdig")).then(None)
             .otherwise(pl.col("_r").replace_strict(VSV_REASONS, default=UNKNOWN_REASON, return_dtype=pl.String)))
    return (persons.with_columns(reden.alias("reden")).drop("_r")
            .join(population.select("person_id", *PERSON_COLUMNS), on="person_id", how="inner"))


def o22b_voortijdig_schoolverlaten(population: pl.LazyFrame, vsv: pl.LazyFrame, year: int,
                                   vintages: str = "") -> pl.DataFrame:
    """O22b early school leaving in mbo with its main reason (report 5.1, advice after deelvraag 4a: "in hoeverre
    er uitval is op de opleiding. Dit zou een goede indicator zijn voor hoe goed de studiekeuze is. Voortijdige
    uitval kunnen we in kaart brengen voor het mbo met behulp van het voortijdig schoolverlatersonderzoek (VSV)
    ... de belangrijkste reden ... (schoolgerelateerd, gezondheid, persoonlijk, arbeidsmarkt of overig)"):
    ``voortijdig`` = share of the persons leaving an mbo programme in school year t-1/t who left one without its
    diploma; ``reden <r>`` = share of the early leavers with main reason r (adding to 100 with ``reden
    onbekend``)."""
    p = vsv_leavers(vsv, population, year)
    parts = [cells(p.with_columns(pl.col("voortijdig").cast(pl.Float64).alias("value")), indicator_id="O22b",
                   year=year, unit="%", measure="voortijdig", vintages=vintages)]
    early = p.filter(pl.col("voortijdig"))
    for r in [*VSV_REASONS.values(), UNKNOWN_REASON]:
        parts.append(cells(early.with_columns((pl.col("reden") == r).cast(pl.Float64).alias("value")),
                           indicator_id="O22b", year=year, unit="%", measure=f"reden {r}", vintages=vintages))
    parts = [f for f in parts if f.height]
    return pl.concat(parts, how="vertical") if parts else empty()
