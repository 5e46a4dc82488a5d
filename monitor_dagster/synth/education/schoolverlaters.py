"""Writes MBOSCHOOLVERLATERS (mbo-schoolverlatersonderzoek); separate: a weighted survey with the 2019 wording break."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.codes import (
    RINPERSOONS_LABELS, WORDING_BREAK_YEAR, WORDING_NEW, WORDING_OLD, _d, _rin)
from monitor_dagster.synth.education.world import EducationWorld


def project_schoolverlaters(ew: EducationWorld, persons: pl.DataFrame, labour_months: pl.DataFrame,
                            year: int) -> pl.DataFrame:
    """mbo-schoolverlatersonderzoek (report 5.1, 4b and 4c; items 23, 24, 26): mbo graduates of the school
    year ending in ``year - 1`` (e.g. 2017/2018 for 2019), surveyed in autumn ``year``; about 35% respond
    (less among non-Western graduates); SVOGEWICHT corrects non-response within sex x herkomst x leerweg x
    niveau cells.

    All column names except SVOVRGAansluitwerk are **(assumed)**:
    RINPERSOONS, RINPERSOON, SVOENQUETEJAAR, SVOSCHOOLJAAR ("2017/2018"), SVOOPLNR, SVOCREBO,
    SVOLEERWEG ("1" BOL, "2" BBL), SVONIVEAU ("1".."4"), SVOWERKZAAM ("1" ja, "2" nee: employed in
    September-November of ``year`` according to ``labour_months``), SVOVRGAansluitwerk ("1" slecht, "2" matig,
    "3" voldoende, "4" goed; "-" not asked because no job), SVOVRAAGVERSIEAANSLUITING ("1" wording 2016-2018,
    "2" wording from 2019: the planted trend break shifts answers upwards), SVOVRGSollicitatiesStage
    ("1" een keer, "2" minstens twee, "4" minstens vier, "7" minstens zeven, "11" minstens elf keer),
    SVOVRGProblemenStage ("1" ja, "2" nee), SVOGEWICHT (float).
    """
    s = ew.survey.filter(pl.col("survey_year") == year)
    cells = ["female", "kind", "bbl", "niveau"]
    w = (s.group_by(cells).agg(pl.len().alias("n_pop"), pl.col("responded").sum().alias("n_resp"))
         .filter(pl.col("n_resp") > 0)
         .with_columns((pl.col("n_pop") / pl.col("n_resp")).alias("SVOGEWICHT")))
    lo, hi = _d(year, 9, 1), _d(year, 11, 1)
    lm = labour_months.filter(pl.col("month").cast(pl.Int32).is_between(lo, hi) & pl.col("employed"))
    working = lm.select("pid").unique()
    r = (s.filter(pl.col("responded")).join(w, on=cells, how="left")
         .join(working.with_columns(pl.lit(True).alias("_work")), on="pid", how="left")
         .with_columns(pl.col("_work").fill_null(False)))
    out = r.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", pl.col("survey_year").cast(pl.Utf8).alias("SVOENQUETEJAAR"),
        pl.col("schooljaar").alias("SVOSCHOOLJAAR"), pl.col("oplnr").alias("SVOOPLNR"),
        pl.col("crebo").alias("SVOCREBO"),
        pl.when(pl.col("bbl")).then(pl.lit("2")).otherwise(pl.lit("1")).alias("SVOLEERWEG"),
        pl.col("niveau").alias("SVONIVEAU"),
        pl.when(pl.col("_work")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("SVOWERKZAAM"),
        pl.when(pl.col("_work")).then(pl.col("aansluiting")).otherwise(pl.lit("-")).alias("SVOVRGAansluitwerk"),
        pl.lit("2" if year >= WORDING_BREAK_YEAR else "1").alias("SVOVRAAGVERSIEAANSLUITING"),
        pl.col("sollicitaties").alias("SVOVRGSollicitatiesStage"),
        pl.when(pl.col("problemen")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("SVOVRGProblemenStage"),
        pl.col("SVOGEWICHT").cast(pl.Float64))
    return out.sort("RINPERSOON", "RINPERSOONS", "SVOOPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "MBOSCHOOLVERLATERS": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "SVOLEERWEG": {"1": "BOL", "2": "BBL"},
        "SVONIVEAU": {"1": "mbo niveau 1", "2": "mbo niveau 2", "3": "mbo niveau 3", "4": "mbo niveau 4"},
        "SVOWERKZAAM": {"1": "ja", "2": "nee"},
        "SVOVRGAansluitwerk": {"1": "slecht", "2": "matig", "3": "voldoende", "4": "goed",
                               "-": "niet gevraagd (geen baan)"},
        "SVOVRAAGVERSIEAANSLUITING": {"1": WORDING_OLD, "2": WORDING_NEW},
        "SVOVRGSollicitatiesStage": {"1": "een keer", "2": "minstens twee keer (2-3)",
                                     "4": "minstens vier keer (4-6)", "7": "minstens zeven keer (7-10)",
                                     "11": "minstens elf keer"},
        "SVOVRGProblemenStage": {"1": "ja", "2": "nee"},
    },
}
