"""Writes VSVMBOTAB (voortijdig verlaten van een mbo-opleiding, with the main reason); separate: the only file with
a reason for leaving, drawn per file from its own random stream."""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.codes import RINPERSOONS_LABELS, _d, _rin
from monitor_dagster.synth.education.world import EducationWorld

#: VSVREDEN codes: the five main reasons of the VSV-onderzoek (report 5.1, advice after 4a: "schoolgerelateerd,
#: gezondheid, persoonlijk, arbeidsmarkt of overig").
REASONS: dict[str, str] = {"1": "schoolgerelateerd", "2": "gezondheid", "3": "persoonlijk", "4": "arbeidsmarkt",
                           "5": "overig"}
#: Planted probabilities of the main reason per leerweg (order of ``REASONS``): BBL students leave more often
#: for the labour market (they lose or outgrow their leerbaan), BOL students more often for school reasons.
REASON_PROBS: dict[str, tuple[float, ...]] = {"BOL": (0.42, 0.13, 0.22, 0.10, 0.13),
                                              "BBL": (0.28, 0.10, 0.17, 0.33, 0.12)}
#: Planted share of early leavers without a reason ("-": the leaver did not answer the VSV-onderzoek).
REASON_MISSING = 0.15


def project_vsvmbotab(ew: EducationWorld, persons: pl.DataFrame, year: int,
                      rng: np.random.Generator) -> pl.DataFrame:
    """VSVMBOTAB: the mbo enrolments that ended in the school year ending in ``year`` (1 Aug year-1 .. 31 Jul
    year; a diploma ends the enrolment on its exam date), one row each, with or without diploma; the early
    leavers carry their main reason (report 5.1, advice after deelvraag 4a: "Voortijdige uitval kunnen we in
    kaart brengen voor het mbo met behulp van het voortijdig schoolverlatersonderzoek (VSV) ... de belangrijkste
    reden").  Like DIPLOMAMBOTAB a school register: no residence filter.

    All column names are **(assumed)**: RINPERSOONS, RINPERSOON, VSVSCHOOLJAAR ("2018/2019"), OPLNR, CREBO,
    VSVLEERWEG ("1" BOL, "2" BBL), VSVINDICATOR ("1" left without the diploma of this enrolment: voortijdig,
    "0" left with it), VSVREDEN (early leavers: "1" schoolgerelateerd, "2" gezondheid, "3" persoonlijk,
    "4" arbeidsmarkt, "5" overig, drawn per leerweg from ``REASON_PROBS``; "-" no answer (``REASON_MISSING``)
    and for every enrolment left with a diploma).

    The early-leaving share among the enrolments ending in a year estimates the generator's truth
    ``mbo_dropout_rate`` (share without diploma of the mbo enrolments started): every enrolment ends once, so
    with a steady inflow the year's leavers have the composition of a starting cohort.
    """
    lo, hi = _d(year - 1, 8, 1), _d(year, 7, 31)
    c = (ew.careers.filter((pl.col("stage") == "mbo") & pl.col("end").cast(pl.Int32).is_between(lo, hi))
         .join(_rin(persons), on="pid", how="inner")
         .sort("pid", "start", "oplnr"))
    m = c.height
    early = ~c["diploma"].to_numpy()
    bbl = (c["type_mbo"] == "BBL").to_numpy()
    probs = np.where(bbl[:, None], np.array(REASON_PROBS["BBL"]), np.array(REASON_PROBS["BOL"]))
    cum = np.cumsum(probs, axis=1)[:, :-1]
    u_missing, u_reason = rng.random(m), rng.random(m)
    reason = 1 + (u_reason[:, None] >= cum).sum(axis=1)
    reden = np.where(early & (u_missing >= REASON_MISSING), reason.astype(str), "-")
    out = c.select(
        "RINPERSOONS", "RINPERSOON",
        pl.lit(f"{year - 1}/{year}").alias("VSVSCHOOLJAAR"),
        pl.col("oplnr").alias("OPLNR"), pl.col("crebo").alias("CREBO"),
        pl.when(pl.col("type_mbo") == "BBL").then(pl.lit("2")).otherwise(pl.lit("1")).alias("VSVLEERWEG"),
        pl.when(pl.col("diploma")).then(pl.lit("0")).otherwise(pl.lit("1")).alias("VSVINDICATOR"),
        pl.Series("VSVREDEN", reden, dtype=pl.Utf8),
    )
    return out.sort("RINPERSOON", "RINPERSOONS", "OPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "VSVMBOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "VSVLEERWEG": {"1": "BOL", "2": "BBL"},
        "VSVINDICATOR": {"0": "opleiding verlaten met diploma", "1": "voortijdig verlaten (zonder diploma)"},
        "VSVREDEN": {**REASONS, "-": "geen reden (geen antwoord, of met diploma)"},
    },
}
