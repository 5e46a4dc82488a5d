"""EBB indicators O01-O03: werkloosheid, bruto and netto arbeidsparticipatie (report 4.1, onderzoeksvraag 3a/3b).

Report 4.1: "Werkloosheid = werkloze beroepsbevolking/totale beroepsbevolking; Beroepsbevolking = werkzame
beroepsbevolking + werkloze beroepsbevolking (geen betaald werk, recent gezocht naar betaald werk en direct
beschikbaar)"; "Bruto arbeidsparticipatie = hoeveel procent van de bevolking van 15 tot 75 jaar werkzaam of
werkloos is"; "Netto arbeidsparticipatie = hoeveel procent van de bevolking van 15 tot 75 jaar betaald werk
heeft"; werkzaam = "ten minste een uur per week een betaalde baan".

Classification per year (the default, ``classification="year"``).  Report 4.1: "We analyseren deze vraag op
jaarniveau. Iemand is werkloos in een bepaald jaar als diegene maximaal 52 uur per jaar betaald werk heeft
(oftewel een uur per week). Als iemand de EBB op meerdere peilmomenten heeft ingevuld, nemen we de gewichten
van de verschillende peilingen mee."  So all waves (rows of EBBNW) of one respondent in year t make one
person-year:

* hours per year = the mean of the waves' weekly hours (``EbbAflUrenWerk``) x 52: each wave observes one
  reference week standing for its quarter, and the quarters without a wave are assumed to be like the observed
  ones (counting them as zero would make a one-wave respondent with 3 hours a week "not working");
* werkzaam when the hours per year are at least 52, i.e. a mean of at least one hour a week: "oftewel een uur
  per week" and the CBS definition "ten minste een uur per week" (the same report paragraph, twice) decide the
  boundary that "maximaal 52 uur" alone would put the other way; for a respondent seen once the year rule is
  then exactly the CBS rule of the wave;
* werkloos when not werkzaam in the year and, in at least one wave, without work, searching and available
  (the wave is CBS-werkloos): "werkloos in een bepaald jaar" is a status reached in the year, and the search
  and availability questions are point-in-time answers the report does not average;
* weight of the person-year = the sum of the weights of its waves ("nemen we de gewichten van de verschillende
  peilingen mee"): ``EbbGewJaarGewichtA`` of the rows of a year add up to the population, so the sum keeps the
  year's weighted total, and the population 15-75 of O02/O03, identical to the per-wave count;
* breakdown characteristics and the age of a respondent without birth date come from the earliest wave of
  the year (lowest ``EbbTypGolf``, nearest to the 1 January peildatum of report 2.2).

The person key across waves is ``person_id`` (RINPERSOONS + RINPERSOON), else the survey's own person id
``EbbStkPersIdVersleuteld`` when the file has it; a row with neither stays a person-year of its own (counted
per wave).  ``classification="wave"`` keeps every respondent-wave as its own observation with its own weight
(the CBS quarterly figures; the sensitivity table of issue 16 shows both).

Age (report 2.2): jongeren 15-26 on 1 January of year t; niet-jongeren from 27 up to the AOW age, under the
AOW age the whole year (reference/aow_age.csv, :func:`core.characteristics.under_aow_whole_year`) - where the
EBB gives a birth year (``EbbAflGebJaar``) and month (``EbbAflGebMaand``).  Without a month the birth date is
taken as 1 January (the earliest date: nobody above the AOW age is kept); the age on 1 January is year - 1 -
birth year in both cases (exact except for a birthday on 1 January).  Without a birth year the EBB's age at
the interview (``EbbAflLft``) decides: jongeren 15-26, niet-jongeren 27-74; the person frame says so in
``leeftijd_bron`` (``geboortedatum`` | ``geboortejaar`` | ``leeftijd``), :func:`age_basis` counts it.  The
population of O01-O03 is 15-75 at the interview (``EbbAflLft`` 15..74, CBS definition, report 4.1) for
every rule.

"Voor de uitsplitsing naar subgroepen maken we gebruik van de kenmerken die al in de EBB-bestanden zelf zitten
... met uitzondering van verblijfduur."  The publication threshold (more than 15.000 weighted and at least ten
unweighted observations) is the disclosure gate's job; the rows carry ``n`` (person-years, or respondent-waves
per wave) and ``n_weighted``.

:func:`monitor_dagster.synth.calibration.ebb_figures` applies the per-wave definitions to the raw files; the
tests check that ``classification="wave"`` agrees with it.  See docs/indicators_ebb.md.
"""

from __future__ import annotations

import logging

import polars as pl

from monitor_dagster.corrections.propensity import covariate_cell
from monitor_dagster.choices import DEFAULT, MethodChoices
from monitor_dagster.core.characteristics import (GENERATIE, GESLACHT, HERKOMST_AGGREGATE, HERKOMST_GROUP,
                                                  LEEFTIJD, NO_BACKGROUND, OPLEIDINGSNIVEAU, ensure_columns,
                                                  under_aow_whole_year)
from monitor_dagster.indicators.memo import shared
from monitor_dagster.indicators.table import cells_many

log = logging.getLogger(__name__)

WEIGHT = "EbbGewJaarGewichtA"
HOURS = "EbbAflUrenWerk"
#: birth year and month of the respondent (names assumed; absent or null: age at the interview decides)
BIRTH_YEAR, BIRTH_MONTH = "EbbAflGebJaar", "EbbAflGebMaand"
#: the survey's own (pseudonymised) person id: key across waves for respondents without RINPERSOON
SURVEY_ID = "EbbStkPersIdVersleuteld"
#: report 4.1: werkzaam in a year with at least 52 hours of paid work, "oftewel een uur per week"
WEEKS_PER_YEAR = 52
YEAR_HOURS = 52
CLASSIFICATIONS = ("year", "wave")
#: what the leeftijd breakdown of a row rests on (documented flag, see module docstring)
AGE_BASIS = pl.Enum(["geboortedatum", "geboortejaar", "leeftijd"])
#: EBB indicators break down by the EBB's own variables: no verblijfsduur (report 4.1).
EBB_DIMENSIONS = ["totaal", "generatie", "leeftijd", "geslacht", "opleiding"]

#: EbbAflHerkomstGBA2d -> herkomst group of the indicator table (names of reference.MONITOR_GROUPS).
HERKOMST_CODE = {
    "00": NO_BACKGROUND, "01": "Marokko", "02": "Turkije", "03": "Suriname", "04": "Antillen en Aruba",
    "05": "Afghanistan", "06": "Irak", "07": "Iran", "08": "Somalië", "09": "Syrië", "10": "Eritrea",
    "11": "Afrika overig", "12": "overig niet-westers", "13": "Duitsland", "14": "Polen", "15": "Indonesië",
    "16": "westers overig",
}
NON_WESTERN_CODES = [f"{i:02d}" for i in range(1, 13)]
WESTERN_CODES = ["13", "14", "15", "16"]
OPLEIDING_CODE = {"1": "laag", "2": "middelbaar", "3": "hoog"}

#: characteristics of a person-year, taken from its earliest wave
_TRAITS = ["herkomst_group", "herkomst_aggregate", "generatie", "geslacht", "opleidingsniveau", "leeftijd",
           "leeftijd_bron", "covariaten"]


def _leeftijd(year: int) -> tuple[pl.Expr, pl.Expr]:
    """(leeftijd, leeftijd_bron) of a respondent-wave: from the birth date where the EBB gives one (report 2.2:
    age on 1 January, under the AOW age the whole year), else from the age at the interview (27-74)."""
    by = pl.col(BIRTH_YEAR).cast(pl.Int64, strict=False)
    bm = pl.col(BIRTH_MONTH).cast(pl.Int64, strict=False)
    known = by.is_between(1850, year)
    month_known = bm.is_between(1, 12)
    earliest = pl.date(by, pl.when(month_known).then(bm).otherwise(1), 1)   # conservative for the AOW age
    a_jan1 = pl.lit(year - 1, dtype=pl.Int64) - by
    try:
        under_aow = under_aow_whole_year(earliest, year)
    except ValueError:          # AOW age of the year not in reference/aow_age.csv: no AOW rule, say so
        log.warning("EBB %d: AOW age not in reference/aow_age.csv; leeftijd from the age at the interview", year)
        known = pl.lit(False)
        under_aow = pl.lit(None, dtype=pl.Boolean)
    from_birth = (pl.when(a_jan1.is_between(15, 26)).then(pl.lit("jongeren"))
                  .when((a_jan1 >= 27) & under_aow).then(pl.lit("niet-jongeren")))
    age = pl.col("EbbAflLft")
    from_age = pl.when(age.is_between(15, 26)).then(pl.lit("jongeren")).when(age.is_between(27, 74)) \
        .then(pl.lit("niet-jongeren"))
    leeftijd = pl.when(known).then(from_birth).otherwise(from_age).cast(LEEFTIJD)
    bron = (pl.when(known & month_known).then(pl.lit("geboortedatum")).when(known).then(pl.lit("geboortejaar"))
            .otherwise(pl.lit("leeftijd")).cast(AGE_BASIS))
    return leeftijd.alias("leeftijd"), bron.alias("leeftijd_bron")


#: the EBB's own characteristics of a respondent-wave, as the file gives them: :func:`_traits` turns them into the
#: breakdown columns (on the person-years after the group-by, not on every wave: issue 12)
_RAW = ["EbbAflHerkomstGBA2d", "EbbAflGeneratie", "EbbAflGeslacht", "EbbAflOpl3", BIRTH_YEAR, BIRTH_MONTH, "EbbAflLft"]
#: the parts of the person key (module docstring): person_id, else the survey id, else the row
_KEY = ["person_id", "_sid", "_wrow"]


def _code_is(schema: pl.Schema, column: str, code: str) -> pl.Expr:
    """``column == code`` on the column as stored: an Enum compared as it is (a cast to text per row cost more
    than the rest of the comparison), a text or number column as text."""
    dtype = schema[column]
    if isinstance(dtype, pl.Enum) and code in dtype.categories.to_list():
        return pl.col(column) == code
    return pl.col(column).cast(pl.String) == code


def _recode(schema: pl.Schema, column: str, mapping: dict[str, str], dtype: pl.DataType,
            default: str | None = None) -> pl.Expr:
    """The EBB code of ``column`` through ``mapping`` (``default`` for a code outside it, null for null) as
    ``dtype``.  An Enum column is looked up by its category number in a table of its categories (one gather,
    no text per row); a text or number column goes through ``replace_strict``: the same values either way."""
    src = schema[column]
    if isinstance(src, pl.Enum):
        table = pl.Series([mapping.get(c, default) for c in src.categories.to_list()], dtype=pl.String).cast(dtype)
        return pl.lit(table).gather(pl.col(column).to_physical())
    return (pl.col(column).cast(pl.String).replace_strict(mapping, default=default, return_dtype=pl.String)
            .cast(dtype))


def _raw_waves(ebb: pl.LazyFrame) -> pl.LazyFrame:
    """The respondent-waves aged 15-75 (EbbAflLft 15..74): the parts of the person key (:data:`_KEY`), the wave
    order (``_golf`` = EbbTypGolf as a number, ``_row`` = the row of the file), weight, hours, the CBS labour
    status of the wave (:func:`ebb_waves`) and the raw characteristics (:data:`_RAW`)."""
    ebb = ensure_columns(ebb, {BIRTH_YEAR: pl.Int64, BIRTH_MONTH: pl.Int64, SURVEY_ID: pl.String})
    schema = ebb.collect_schema()
    hours = pl.col(HOURS)
    employed = hours >= 1
    unemployed = (hours < 1) & _code_is(schema, "EbbAflZoek4Wk", "1").fill_null(False) \
        & _code_is(schema, "EbbAflBeschikb", "1").fill_null(False)
    pid, sid = pl.col("person_id"), pl.col(SURVEY_ID).cast(pl.String)
    return (
        ebb.with_row_index("_row")
        .filter(pl.col("EbbAflLft").is_between(15, 74))
        .select(
            "person_id", pl.when(pid.is_null()).then(sid).alias("_sid"),
            pl.when(pid.is_null() & sid.is_null()).then(pl.col("_row")).alias("_wrow"),
            pl.col("EbbTypGolf").cast(pl.String).cast(pl.Int64, strict=False).alias("_golf"), "_row",
            "EbbTypGolf", pl.col(WEIGHT).cast(pl.Float64), pl.col(HOURS).cast(pl.Float64),
            employed.alias("employed"), unemployed.alias("unemployed"), *_RAW,
        )
    )


def _tagged(tag: str, col: str) -> pl.Expr:
    """``tag`` + the column as text.  Not ``pl.format``: in polars 2.1 its streaming evaluation panics ("assertion
    failed: i < self.len()") on an in-memory frame of several chunks, which a bucket of the engine is
    (core/buckets.bucket_frames); at national scale the EBB bucket holding the respondents without RINPERSOON
    stopped the whole family (thirty-ninth session; indicators/register.py met the same panic)."""
    return pl.lit(tag) + pl.col(col).cast(pl.String)


def _person_key() -> pl.Expr:
    """The person key as text (module docstring): ``p`` + person_id, ``s`` + the survey id, ``w`` + the row."""
    return (pl.when(pl.col("person_id").is_not_null()).then(_tagged("p", "person_id"))
            .when(pl.col("_sid").is_not_null()).then(_tagged("s", "_sid"))
            .otherwise(_tagged("w", "_wrow"))).alias("person_key")


def _traits(year: int, schema: pl.Schema) -> list[pl.Expr]:
    """The breakdown characteristics (:data:`_TRAITS`) from the raw ones of :data:`_RAW` (``schema``: their
    types as the file gives them).  ``covariaten`` comes after, from these (:func:`_with_covariates`)."""
    aggregate = {c: "niet-westers" for c in NON_WESTERN_CODES} | {c: "westers" for c in WESTERN_CODES} \
        | {"00": "geen"}
    leeftijd, bron = _leeftijd(year)
    # the missing opleiding filled with a typed "onbekend": an untyped text filled into the Enum made polars 2.1's
    # streaming group-by of cells() panic ("keys do not match the key schema of this table")
    return [
        _recode(schema, "EbbAflHerkomstGBA2d", HERKOMST_CODE, HERKOMST_GROUP).alias("herkomst_group"),
        _recode(schema, "EbbAflHerkomstGBA2d", aggregate, HERKOMST_AGGREGATE).alias("herkomst_aggregate"),
        _recode(schema, "EbbAflGeneratie", {"1": "eerste", "2": "tweede"}, GENERATIE).alias("generatie"),
        _recode(schema, "EbbAflGeslacht", {"1": "man", "2": "vrouw"}, GESLACHT).alias("geslacht"),
        leeftijd, bron,
        _recode(schema, "EbbAflOpl3", OPLEIDING_CODE, OPLEIDINGSNIVEAU, default="onbekend")
        .fill_null(pl.lit("onbekend", dtype=OPLEIDINGSNIVEAU)).alias("opleidingsniveau"),
    ]


def _with_covariates(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The covariate cell of the corrections (issue 17, report 7.2.2) from the EBB's own characteristics: the age
    class by the age at the interview within the monitor's age group; the raw columns dropped.  The register's
    key (:func:`corrections.propensity.covariate_cell`, its age column the age at the interview here): from the
    Enums' codes, a third of the person-years' time as text (issue 12)."""
    with_age = frame.with_columns(pl.col("EbbAflLft").cast(pl.Int64).alias("age_jan1"))
    return (with_age.with_columns(covariate_cell(with_age.collect_schema()).alias("covariaten"))
            .drop("age_jan1", *_RAW, *_KEY[1:], strict=False))


def ebb_waves(ebb: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """One row per respondent-wave aged 15-75 (EbbAflLft 15..74) with the CBS labour status of the wave.

    Columns: person_key (see module docstring), wave_order, person_id, EbbTypGolf, EbbGewJaarGewichtA,
    EbbAflUrenWerk, year, employed (>= 1 hour a week), unemployed (no such work, searched in the last 4 weeks
    and available: EbbAflZoek4Wk = 1 and EbbAflBeschikb = 1), labour_force, herkomst_group /
    herkomst_aggregate (EbbAflHerkomstGBA2d), generatie (EbbAflGeneratie 1 eerste, 2 tweede, 0 null),
    geslacht (EbbAflGeslacht 1 man, 2 vrouw), leeftijd and leeftijd_bron (:func:`_leeftijd`),
    opleidingsniveau (EbbAflOpl3 1 laag, 2 middelbaar, 3 hoog, missing onbekend), covariaten.

    Unknown hours worked leave employed / unemployed / labour_force null (the row then drops out of every
    indicator rather than counting as not working); a missing search or availability answer is "not
    unemployed".  The institutional population is outside the EBB sample already (report 4.1).
    """
    raw = _raw_waves(ebb)
    schema = raw.collect_schema()
    return _with_covariates(raw.select(
        _person_key(), pl.struct(pl.col("_golf").alias("EbbTypGolf"), "_row").alias("wave_order"), *_KEY,
        "EbbTypGolf", WEIGHT, HOURS,
        pl.lit(year, dtype=pl.Int32).alias("year"), "employed", "unemployed",
        (pl.col("employed") | pl.col("unemployed")).alias("labour_force"), *_traits(year, schema), *_RAW,
    ))


def ebb_person_years(ebb: pl.LazyFrame, year: int, unemployed_rule: str = "any_wave") -> pl.LazyFrame:
    """One row per respondent in year t (report 4.1, "op jaarniveau"), the rule of the module docstring.

    Columns as :func:`ebb_waves` without the wave columns, plus ``waves`` (waves aged 15-75 in the year),
    ``hours_year`` (mean weekly hours of the waves with known hours x 52; null when none is known) and
    ``EbbGewJaarGewichtA`` = the sum of the waves' weights.  ``unemployed_rule`` (the report is silent on the
    waves; choices.MethodChoices.ebb_unemployed): ``any_wave`` = CBS-werkloos in at least one wave (default),
    ``half_waves`` = in at least half of them."""
    w = _raw_waves(ebb)
    schema = w.collect_schema()
    hours = pl.col(HOURS)
    # the earliest wave by one number per wave (EbbTypGolf, then the row of the file; a wave without EbbTypGolf
    # first, as a null sorts first): its smallest value per person is a key of that wave, whose raw
    # characteristics are joined to the person's sums and recoded once per person.  For 7.7 M national
    # respondent-waves a sort of all waves by a text key and the recoding of every wave took 4.9-5.8 s, the
    # group-by with the sort of each person's waves (sort_by().first()) 1.1 s, this 0.5 s (issue 12,
    # docs/scaling_measurements.md).  EbbTypGolf is 1-5 in the ingest's schema; the clip keeps any other code above the
    # row's 40 bits
    order = (pl.col("_golf").fill_null(-1).clip(-1, (1 << 22) - 2) + 1) * (1 << 40) + pl.col("_row").cast(pl.Int64)
    aggs = [
        pl.len().cast(pl.Int32).alias("waves"),
        pl.col(WEIGHT).sum(),
        hours.sum().alias("_h_sum"), hours.count().alias("_h_n"),
        (pl.col("unemployed").any() if unemployed_rule == "any_wave"
         else pl.col("unemployed").sum() * 2 >= pl.len()).alias("_unemployed_wave"),
        pl.col("_wo").min(),
    ]
    w = w.with_columns(order.alias("_wo"))
    first = w.select("_wo", *_RAW)
    pid = pl.col("person_id")
    # grouped by person_id alone where there is one (nearly every respondent: one integer key, the fast
    # group-by), by the key as text for the few without
    g = pl.concat([
        w.filter(pid.is_not_null()).group_by("person_id").agg(aggs)
        .with_columns(_tagged("p", "person_id").alias("person_key")),
        w.filter(pid.is_null()).with_columns(_person_key()).group_by("person_key").agg(aggs)
        .with_columns(pl.lit(None, dtype=schema["person_id"]).alias("person_id")),
    ], how="diagonal").join(first, on="_wo")
    known = pl.col("_h_n") > 0
    # mean hours a week >= 1  <=>  hours a year >= 52, compared on the integer sums (no rounding at the edge)
    employed = pl.when(known).then(pl.col("_h_sum") * WEEKS_PER_YEAR >= YEAR_HOURS * pl.col("_h_n"))
    unemployed = ~employed & pl.col("_unemployed_wave")
    return _with_covariates(g.select(
        "person_key", "person_id", "waves", WEIGHT, pl.lit(year, dtype=pl.Int32).alias("year"),
        pl.when(known).then(pl.col("_h_sum") / pl.col("_h_n") * WEEKS_PER_YEAR).alias("hours_year"),
        employed.alias("employed"), unemployed.alias("unemployed"), (employed | unemployed).alias("labour_force"),
        *_traits(year, schema), *_RAW,
    )).select("person_key", "person_id", "waves", WEIGHT, "year", "hours_year", "employed", "unemployed",
              "labour_force", *_TRAITS)


def ebb_persons(ebb: pl.LazyFrame, year: int, classification: str = "year",
                unemployed_rule: str = "any_wave") -> pl.LazyFrame:
    """The observations of O01-O03: person-years (``"year"``, report 4.1, default) or respondent-waves
    (``"wave"``, the CBS quarterly classification kept for the sensitivity table)."""
    if classification not in CLASSIFICATIONS:
        raise ValueError(f"classification must be one of {CLASSIFICATIONS}, not {classification!r}")
    if unemployed_rule not in ("any_wave", "half_waves"):
        raise ValueError(f"unemployed_rule must be any_wave or half_waves, not {unemployed_rule!r}")
    # O01-O03 read the same persons: built once per bucket inside the engine (indicators/memo.py; issue 12)
    return shared("ebb_persons", (ebb,), lambda: ebb_person_years(ebb, year, unemployed_rule)
                  if classification == "year" else ebb_waves(ebb, year), year, classification, unemployed_rule)


def age_basis(ebb: pl.LazyFrame, year: int, classification: str = "year") -> pl.DataFrame:
    """Observations (``n``) and weights (``n_weighted``) per ``leeftijd_bron``: how much of the leeftijd
    breakdown rests on a birth date (AOW rule of report 2.2) and how much on the age at the interview
    (niet-jongeren 27-74), for the docs and the run's metadata."""
    return (ebb_persons(ebb, year, classification).group_by("leeftijd_bron")
            .agg(pl.len().alias("n"), pl.col(WEIGHT).sum().alias("n_weighted")).sort("leeftijd_bron").collect())


def _classification(classification: str | None, choices: MethodChoices) -> str:
    """``classification`` when given, else the run's method choice ``ebb_classification`` (choices.py; the
    engine passes ``choices``), default ``year``."""
    return classification or choices.ebb_classification


def o01_o03_werkloosheid_participatie(ebb: pl.LazyFrame, year: int, vintages: str = "",
                                      classification: str | None = None,
                                      choices: MethodChoices = DEFAULT) -> pl.DataFrame:
    """O01-O03 (report 4.1, 3a/3b) of the same person-years (or respondent-waves) from one aggregation
    (:func:`cells_many`; issue 12, one pass per family: three :func:`cells` calls took a third of the family's time
    at 17.5 M persons).  The rules per indicator: :func:`o01_werkloosheid`, :func:`o02_bruto_participatie`,
    :func:`o03_netto_participatie`; each row's ``n`` / ``n_weighted`` count the observations in its denominator
    (the labour force for O01, the population 15-75 for O02 and O03)."""
    p = ebb_persons(ebb, year, _classification(classification, choices), choices.ebb_unemployed)
    values = {("O01", "O01"): pl.when(pl.col("labour_force")).then(pl.col("unemployed").cast(pl.Float64)),
              ("O02", "O02"): pl.col("labour_force").cast(pl.Float64),
              ("O03", "O03"): pl.col("employed").cast(pl.Float64)}
    return cells_many(p, values, year=year, unit="%", weight=WEIGHT, dimensions=EBB_DIMENSIONS, vintages=vintages)


def _only(indicator_id: str, ebb: pl.LazyFrame, year: int, vintages: str, classification: str | None,
          choices: MethodChoices) -> pl.DataFrame:
    rows = o01_o03_werkloosheid_participatie(ebb, year, vintages, classification, choices)
    return rows.filter(pl.col("indicator_id") == indicator_id)


def o01_werkloosheid(ebb: pl.LazyFrame, year: int, vintages: str = "", classification: str | None = None,
                     choices: MethodChoices = DEFAULT) -> pl.DataFrame:
    """O01 werkloosheid (report 4.1, 3a): weighted unemployed / weighted labour force, 15-75, in %.

    Rows over person-years (or respondent-waves) in the labour force; ``n`` / ``n_weighted`` count it.
    """
    return _only("O01", ebb, year, vintages, classification, choices)


def o02_bruto_participatie(ebb: pl.LazyFrame, year: int, vintages: str = "", classification: str | None = None,
                           choices: MethodChoices = DEFAULT) -> pl.DataFrame:
    """O02 bruto arbeidsparticipatie (report 4.1, 3b): weighted labour force / weighted population 15-75, in %."""
    return _only("O02", ebb, year, vintages, classification, choices)


def o03_netto_participatie(ebb: pl.LazyFrame, year: int, vintages: str = "", classification: str | None = None,
                           choices: MethodChoices = DEFAULT) -> pl.DataFrame:
    """O03 netto arbeidsparticipatie (report 4.1, 3b): weighted werkzaam (at least one hour of paid work a
    week; per year: at least 52 hours) / weighted population 15-75, in %."""
    return _only("O03", ebb, year, vintages, classification, choices)
