"""Writes OPLEIDINGSNRREF (the programme reference); separate: one file per run, straight from the catalogue."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.catalogue import _catalogue
from monitor_dagster.synth.education.codes import SECTOR_LABELS, TYPEONDERWIJS_LABELS, _SOI_CODES
from monitor_dagster.synth.education.world import EducationWorld


def project_opleidingsnrref(ew: EducationWorld) -> pl.DataFrame:
    """OPLEIDINGSNRREF: programme reference (report 5.1: OPLNR -> mbo-sector / ho-richting, level).

    Columns: OPLNR, OPLNAAM, TYPEONDERWIJS (BO/VO/MBO/HBO/WO/BTL), OPLNIVEAU (e.g. "MBO4", "HBO-BA"),
    OPLNIVSOI2016AGG4HB, OPLNIVSOI2021AGG4HB (identical 4-digit codes), OPLSECTOR (code list in ``LABELS``),
    OPLRICHTING, CREBO (mbo only, "-" otherwise).  Real OPLEIDINGSNRREF goes OPLNR -> CTO -> SOI; the synthetic
    file carries the SOI level directly **(assumed simplification)**.  Generic rows: 000001 basisonderwijs,
    000002 havo/vwo onderbouw, 000003 promotie, 09xxxx foreign diplomas per SOI level.
    """
    r = ew.oplnr_ref
    return r.select(
        pl.col("oplnr").alias("OPLNR"), pl.col("name").alias("OPLNAAM"),
        pl.col("typeonderwijs").alias("TYPEONDERWIJS"), pl.col("niveau_code").alias("OPLNIVEAU"),
        pl.col("soi").alias("OPLNIVSOI2016AGG4HB"), pl.col("soi").alias("OPLNIVSOI2021AGG4HB"),
        pl.col("sector").alias("OPLSECTOR"), pl.col("richting").alias("OPLRICHTING"),
        pl.col("crebo").fill_null("-").alias("CREBO")).sort("OPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

_NIVEAU_LABELS = {"PRO": "Praktijkonderwijs", "VMBO-B": "Vmbo basisberoepsgerichte leerweg",
                  "VMBO-K": "Vmbo kaderberoepsgerichte leerweg", "VMBO-G": "Vmbo gemengde leerweg",
                  "VMBO-T": "Vmbo theoretische leerweg", "HAVO": "Havo", "VWO": "Vwo", "MBO1": "Mbo niveau 1 (entree)",
                  "MBO2": "Mbo niveau 2", "MBO3": "Mbo niveau 3", "MBO4": "Mbo niveau 4",
                  "HBO-AD": "Hbo associate degree", "HBO-BA": "Hbo bachelor", "HBO-MA": "Hbo master",
                  "WO-BA": "Wo bachelor", "WO-MA": "Wo master", "BO": "Basisonderwijs",
                  "HV-OB": "Havo/vwo onderbouw", "DR": "Promotie", "BTL": "Buitenlandse opleiding"}


def _richting_labels() -> dict[str, str]:
    c = _catalogue().select("richting", "richting_name").unique().sort("richting")
    return dict(zip(c["richting"].to_list(), c["richting_name"].to_list()))


VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "OPLEIDINGSNRREF": {
        "TYPEONDERWIJS": TYPEONDERWIJS_LABELS,
        "OPLNIVEAU": _NIVEAU_LABELS,
        "OPLNIVSOI2016AGG4HB": _SOI_CODES,
        "OPLNIVSOI2021AGG4HB": _SOI_CODES,
        "OPLSECTOR": SECTOR_LABELS,
        "OPLRICHTING": _richting_labels(),
    },
}
