"""Writes EXAMVOTAB (exam candidates vo, one row per exam attempt); its own module like every CBS education file."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.codes import RINPERSOONS_LABELS, VO_EXAM_CODE, _rin
from monitor_dagster.synth.education.world import EducationWorld


def project_examvotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """EXAMVOTAB: exam candidates vo of the school year ending in ``year`` (report 5.1 / bijlage A item 19).

    Columns: RINPERSOONS, RINPERSOON, OPLNR, EXAMENPROGRAMMAVO **(assumed)** ("1" vmbo-b, "2" vmbo-k,
    "3" vmbo-g, "4" vmbo-t, "5" havo, "6" vwo), UITSLAGEXAMENVO **(assumed)** ("1" geslaagd, "2" gezakt).
    A candidate who fails and retakes appears again the next year.  Praktijkonderwijs has no exam.
    """
    ex = ew.exams.filter(pl.col("exam_year") == year)
    out = ex.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", pl.col("oplnr").alias("OPLNR"),
        pl.col("vo_programme").replace_strict(VO_EXAM_CODE, return_dtype=pl.Utf8).alias("EXAMENPROGRAMMAVO"),
        pl.when(pl.col("passed")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("UITSLAGEXAMENVO"))
    return out.sort("RINPERSOON", "RINPERSOONS", "OPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "EXAMVOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "EXAMENPROGRAMMAVO": {"1": "vmbo basisberoepsgerichte leerweg", "2": "vmbo kaderberoepsgerichte leerweg",
                              "3": "vmbo gemengde leerweg", "4": "vmbo theoretische leerweg", "5": "havo",
                              "6": "vwo"},
        "UITSLAGEXAMENVO": {"1": "geslaagd", "2": "gezakt"},
    },
}
