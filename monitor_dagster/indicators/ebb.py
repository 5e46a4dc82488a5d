"""EBB indicators O01-O03: werkloosheid, bruto and netto arbeidsparticipatie (report 4.1, onderzoeksvraag 3a/3b).

Report 4.1: "Werkloosheid = werkloze beroepsbevolking/totale beroepsbevolking; Beroepsbevolking = werkzame
beroepsbevolking + werkloze beroepsbevolking (geen betaald werk, recent gezocht naar betaald werk en direct
beschikbaar)"; "Bruto arbeidsparticipatie = hoeveel procent van de bevolking van 15 tot 75 jaar werkzaam of
werkloos is"; "Netto arbeidsparticipatie = hoeveel procent van de bevolking van 15 tot 75 jaar betaald werk
heeft"; werkzaam = "ten minste een uur per week een betaalde baan".  "Als iemand de EBB op meerdere
peilmomenten heeft ingevuld, nemen we de gewichten van de verschillende peilingen mee": every row of EBBNW
(one respondent-wave) counts with its own yearly weight ``EbbGewJaarGewichtA``.  "Voor de uitsplitsing naar
subgroepen maken we gebruik van de kenmerken die al in de EBB-bestanden zelf zitten ... met uitzondering van
verblijfduur."  The publication threshold (more than 15.000 weighted and at least ten unweighted
observations) is the disclosure gate's job; the rows carry ``n`` and ``n_weighted`` for it.

The same definitions are applied to the raw files by :func:`monitor_dagster.synth.calibration.ebb_figures`;
the tests check that both agree.  See docs/indicators_ebb.md.
"""

from __future__ import annotations

import polars as pl

from monitor_dagster.core.characteristics import (GENERATIE, GESLACHT, HERKOMST_AGGREGATE, HERKOMST_GROUP,
                                                  LEEFTIJD, NO_BACKGROUND, OPLEIDINGSNIVEAU)
from monitor_dagster.indicators.table import cells

WEIGHT = "EbbGewJaarGewichtA"
#: EBB indicators break down by the EBB's own variables: no verblijfsduur (report 4.1, SPEC.md).
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


def ebb_persons(ebb: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """One row per respondent-wave aged 15-75 (EbbAflLft 15..74) with labour status and breakdowns.

    Columns: person_id, EbbTypGolf, EbbGewJaarGewichtA, year, employed (>= 1 hour a week, EbbAflUrenWerk),
    unemployed (no such work, searched in the last 4 weeks and available: EbbAflZoek4Wk = 1 and
    EbbAflBeschikb = 1), labour_force (employed or unemployed), herkomst_group / herkomst_aggregate
    (EbbAflHerkomstGBA2d), generatie (EbbAflGeneratie 1 eerste, 2 tweede, 0 null), geslacht
    (EbbAflGeslacht 1 man, 2 vrouw), leeftijd (jongeren 15-26, niet-jongeren 27-74: the EBB has no birth date,
    so the register definition's "1 januari" reference date and AOW-age cut-off cannot be applied; age is
    the EBB's age at the interview and the upper bound is the 15-75 population of report 4.1),
    opleidingsniveau (EbbAflOpl3 1 laag, 2 middelbaar, 3 hoog, missing onbekend).

    Unknown hours worked leave employed / unemployed / labour_force null (the row then drops out of every
    indicator rather than counting as not working); a missing search or availability answer is "not
    unemployed".  The institutional population is outside the EBB sample already (report 4.1).
    """
    hours = pl.col("EbbAflUrenWerk")
    employed = hours >= 1
    unemployed = (hours < 1) & (pl.col("EbbAflZoek4Wk").cast(pl.String) == "1").fill_null(False) \
        & (pl.col("EbbAflBeschikb").cast(pl.String) == "1").fill_null(False)
    code = pl.col("EbbAflHerkomstGBA2d").cast(pl.String)
    age = pl.col("EbbAflLft")
    return (
        ebb.filter(age.is_between(15, 74))
        .select(
            "person_id", "EbbTypGolf", pl.col(WEIGHT).cast(pl.Float64),
            pl.lit(year, dtype=pl.Int32).alias("year"),
            employed.alias("employed"), unemployed.alias("unemployed"),
            (employed | unemployed).alias("labour_force"),
            code.replace_strict(HERKOMST_CODE, default=None, return_dtype=pl.String)
            .cast(HERKOMST_GROUP).alias("herkomst_group"),
            pl.when(code.is_in(NON_WESTERN_CODES)).then(pl.lit("niet-westers"))
            .when(code.is_in(WESTERN_CODES)).then(pl.lit("westers"))
            .when(code == "00").then(pl.lit("geen"))
            .cast(HERKOMST_AGGREGATE).alias("herkomst_aggregate"),
            pl.col("EbbAflGeneratie").cast(pl.String)
            .replace_strict({"1": "eerste", "2": "tweede"}, default=None, return_dtype=pl.String)
            .cast(GENERATIE).alias("generatie"),
            pl.col("EbbAflGeslacht").cast(pl.String)
            .replace_strict({"1": "man", "2": "vrouw"}, default=None, return_dtype=pl.String)
            .cast(GESLACHT).alias("geslacht"),
            pl.when(age <= 26).then(pl.lit("jongeren")).otherwise(pl.lit("niet-jongeren"))
            .cast(LEEFTIJD).alias("leeftijd"),
            pl.col("EbbAflOpl3").cast(pl.String)
            .replace_strict(OPLEIDING_CODE, default="onbekend", return_dtype=pl.String).fill_null("onbekend")
            .cast(OPLEIDINGSNIVEAU).alias("opleidingsniveau"),
        )
    )


def _cells(persons: pl.LazyFrame, indicator_id: str, year: int, vintages: str) -> pl.DataFrame:
    return cells(persons, indicator_id=indicator_id, year=year, unit="%", weight=WEIGHT,
                 dimensions=EBB_DIMENSIONS, vintages=vintages)


def o01_werkloosheid(ebb: pl.LazyFrame, year: int, vintages: str = "") -> pl.DataFrame:
    """O01 werkloosheid (report 4.1, 3a): weighted unemployed / weighted labour force, 15-75, in %.

    Rows over respondent-waves in the labour force; ``n`` / ``n_weighted`` count the labour force.
    """
    p = ebb_persons(ebb, year).filter(pl.col("labour_force"))
    return _cells(p.with_columns(pl.col("unemployed").cast(pl.Float64).alias("value")), "O01", year, vintages)


def o02_bruto_participatie(ebb: pl.LazyFrame, year: int, vintages: str = "") -> pl.DataFrame:
    """O02 bruto arbeidsparticipatie (report 4.1, 3b): weighted labour force / weighted population 15-75, in %."""
    p = ebb_persons(ebb, year)
    return _cells(p.with_columns(pl.col("labour_force").cast(pl.Float64).alias("value")), "O02", year, vintages)


def o03_netto_participatie(ebb: pl.LazyFrame, year: int, vintages: str = "") -> pl.DataFrame:
    """O03 netto arbeidsparticipatie (report 4.1, 3b): weighted employed (>= 1 hour a week) / weighted
    population 15-75, in %."""
    p = ebb_persons(ebb, year)
    return _cells(p.with_columns(pl.col("employed").cast(pl.Float64).alias("value")), "O03", year, vintages)
