"""Writes SBBKANSOPWERK (SBB kans op werk per crebo x leerweg); separate: a programme-level file, not a person file."""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.catalogue import _Lookup, _catalogue, _sbb_category, _sbb_score
from monitor_dagster.synth.education.world import EducationWorld


def project_sbb(ew: EducationWorld) -> pl.DataFrame:
    """SBB "kans op werk" per mbo programme (crebo) and leerweg (report 5.1, 4a; bijlage A item 22).

    One row per studiekeuzejaar (``first_year`` .. ``last_year + 1``) x crebo x leerweg.  Columns
    **(assumed)**: STUDIEKEUZEJAAR, CREBO, OPLNAAM, NIVEAU ("1".."4"), LEERWEG ("BOL", "BBL"), KANSOPWERK
    ("1" onvoldoende, "2" matig, "3" voldoende, "4" goed - SBB's four verbal categories, coded ascending).
    The underlying score (demand/supply for recent graduates) depends on sector, level and programme, is
    higher for BBL, and moves with a stylised labour-market cycle.
    """
    lk = _Lookup(_catalogue())
    mbo = np.flatnonzero(np.array([c is not None for c in lk.crebo]))
    years = np.arange(ew.first_year, ew.last_year + 2)
    rows = np.repeat(mbo, len(years) * 2)
    yy = np.tile(np.repeat(years, 2), len(mbo))
    bbl = np.tile(np.array([0, 1]), len(mbo) * len(years))
    cat = _sbb_category(_sbb_score(rows, bbl, yy, lk))
    names = lk.cat["name"].to_numpy()[lk.order]
    fines = lk.cat["fine"].to_numpy()[lk.order]
    out = pl.DataFrame({
        "STUDIEKEUZEJAAR": yy.astype(str), "CREBO": lk.crebo[rows].astype(str),
        "OPLNAAM": names[rows].astype(str), "NIVEAU": np.array([f[-1] for f in fines[rows]]),
        "LEERWEG": np.where(bbl == 1, "BBL", "BOL"), "KANSOPWERK": cat.astype(str)})
    return out.sort("STUDIEKEUZEJAAR", "CREBO", "LEERWEG")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "SBBKANSOPWERK": {
        "NIVEAU": {"1": "mbo niveau 1", "2": "mbo niveau 2", "3": "mbo niveau 3", "4": "mbo niveau 4"},
        "LEERWEG": {"BOL": "beroepsopleidende leerweg", "BBL": "beroepsbegeleidende leerweg"},
        "KANSOPWERK": {"1": "onvoldoende", "2": "matig", "3": "voldoende", "4": "goed"},
    },
}
