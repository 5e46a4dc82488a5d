"""Benefit, Participatiewet-provision and re-integration-trajectory spells.

Report 3.2.1 (Participatiewet provisions P-a..P-f), 3.4 (UWV trajectories U-a..U-c), 4.2 question 3e
(benefit type and duration, O11-O18), 5.2 (outflow from work to WW / bijstand / AO, 4f-4g); docs/methodology.md
"Spells".

Spells are ``[start, end]`` with both days included, ``end`` null when still open.  Only RINPERSOONS R.
Spells whose end lies before their start are data errors and are dropped.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.core._intervals import explode_months, keep_r, merge_intervals
from monitor_dagster.core.exact import exact_sum
from monitor_dagster.core.secm import BENEFIT_GROUP

__all__ = [
    "BENEFIT_KIND",
    "KIND_GROUP",
    "PROVISION_CODE",
    "PROVISION_SERIES",
    "SRG_LAST_DAY",
    "benefit_months_in_year",
    "benefit_spells",
    "provision_spells",
    "trajectory_spells",
]

#: SOORTBIJSTAND 1 bijstand (Participatiewet), 2 IOAW, 3 IOAZ, 4 Bbz; AOWET 1 WAO, 2 WAZ, 3 Wajong, 4 IVA, 5 WGA
_BIJSTAND = {"1": "bijstand", "2": "IOAW", "3": "IOAZ", "4": "Bbz"}
_AO = {"1": "AO-WAO", "2": "WAZ", "3": "Wajong", "4": "IVA", "5": "WGA"}
BENEFIT_KIND = pl.Enum(["WW", "bijstand", "IOAW", "IOAZ", "Bbz", "AO-WAO", "WAZ", "Wajong", "IVA", "WGA"])
#: kind -> benefit group of O11-O18, following SECM (report 3e: "uitkering sociale voorzieningen overig
#: (zoals de IOAW, IOAZ, Bbz, WWIK en de Wajong)" = SECM 23; WAO, WAZ and WIA (IVA, WGA) = SECM 24 ziekte/AO)
KIND_GROUP = {"WW": "WW", "bijstand": "bijstand", "IOAW": "overig", "IOAZ": "overig", "Bbz": "overig",
              "Wajong": "overig", "AO-WAO": "AO", "WAZ": "AO", "IVA": "AO", "WGA": "AO"}

#: last day SRGPERSOONPWETBUS observes (periods 2015-2018 in data_catalog.yaml); PWETSRGPERSOONBUS from 2019
SRG_LAST_DAY = dt.date(2018, 12, 31)
PROVISION_CODE = pl.Enum([str(c) for c in range(11, 29)])
PROVISION_SERIES = pl.Enum(["consistent", "srg_only", "pwet_fine"])
_CONSISTENT = [str(c) for c in range(11, 19)]
_SRG_ONLY = ["19", "20"]


def _spells(lf: pl.LazyFrame, start: str, end: str, *extra: pl.Expr) -> pl.LazyFrame:
    return (keep_r(lf).select("person_id", pl.col(start).alias("start"), pl.col(end).alias("end"), *extra)
            .filter(pl.col("end").is_null() | (pl.col("end") >= pl.col("start"))))


# ------------------------------------------------------------------------------------------- benefits
def benefit_spells(ww: pl.LazyFrame | None, bijstand: pl.LazyFrame | None, ao: pl.LazyFrame | None) -> pl.LazyFrame:
    """All benefit spells of a person in one frame (report 3e, 4f, 4g).

    * WWPERSOONBUS (AANVANGWW, EINDEWW) -> kind ``WW``;
    * BIJSTANDPERSOONBUS (AANVANGBIJSTAND, EINDEBIJSTAND, SOORTBIJSTAND 1-4) -> ``bijstand`` / ``IOAW`` /
      ``IOAZ`` / ``Bbz``;
    * AOTOTPERSOONBUS (AANVANGAO, EINDEAO, AOWET 1-5) -> ``AO-WAO`` / ``WAZ`` / ``Wajong`` / ``IVA`` / ``WGA``.

    ``group`` is the benefit group of O11-O18 (WW, bijstand, AO, overig) as SECM groups them.  Sickness
    benefit (ZW) has no spell file in the monitor's list: it is only visible as SECM 24.  Any input may be
    None.  Columns: person_id, kind (Enum), group (Enum), start, end."""
    parts = []
    if ww is not None:
        parts.append(_spells(ww, "AANVANGWW", "EINDEWW", pl.lit("WW").alias("kind")))
    if bijstand is not None:
        parts.append(_spells(bijstand, "AANVANGBIJSTAND", "EINDEBIJSTAND",
                             pl.col("SOORTBIJSTAND").cast(pl.Utf8).replace_strict(_BIJSTAND, default=None)
                             .alias("kind")))
    if ao is not None:
        parts.append(_spells(ao, "AANVANGAO", "EINDEAO",
                             pl.col("AOWET").cast(pl.Utf8).replace_strict(_AO, default=None).alias("kind")))
    if not parts:
        raise ValueError("benefit_spells needs at least one of ww, bijstand, ao")
    out = pl.concat([p.with_columns(pl.col("kind").cast(pl.Utf8)) for p in parts], how="vertical")
    return (out.filter(pl.col("kind").is_not_null())
            .with_columns(pl.col("kind").replace_strict(KIND_GROUP).cast(BENEFIT_GROUP).alias("group"),
                          pl.col("kind").cast(BENEFIT_KIND))
            .select("person_id", "kind", "group", "start", "end"))


def benefit_months_in_year(spells: pl.LazyFrame, year: int, by: str = "kind") -> pl.LazyFrame:
    """Months with a benefit in year t per person and ``by`` (``kind`` or ``group``), summed over spells
    (report 3e: "Wanneer iemand verschillende periodes in een jaar een uitkering heeft worden de duren
    hiervan bij elkaar opgeteld"; O15-O18).

    A partial month counts as the fraction of its days covered (15 days of a 30-day month = 0.5): the
    benefit files have exact dates, so the duration is measured exactly and two short spells in one month add
    up.  Overlapping spells of the same ``by`` value (double registrations, or two kinds of one group at the
    same time when ``by="group"``) are first merged, so a day never counts twice.  ``months_any`` counts the
    calendar months touched (the whole-month reading, as SECM months are counted in
    :func:`monitor_dagster.core.secm.secm_benefit_months`).

    Columns: person_id, ``by``, months (Float64, 0 < months <= 12), months_any (Int32)."""
    lo, hi = dt.date(year, 1, 1), dt.date(year, 12, 31)
    window = spells.filter((pl.col("start") <= hi) & (pl.col("end").is_null() | (pl.col("end") >= lo)))
    merged = merge_intervals(window.select("person_id", by, "start", "end"), by=["person_id", by], gap_days=0)
    m = explode_months(merged, lo, hi)
    per_month = (m.group_by("person_id", by, "month")
                 .agg((pl.col("days").sum() / pl.col("month_days").first()).clip(upper_bound=1.0).alias("_f")))
    return (per_month.group_by("person_id", by)
            .agg(exact_sum("_f").alias("months"), pl.len().cast(pl.Int32).alias("months_any")))   # fractions


# ----------------------------------------------------------------------------------------- provisions
def provision_spells(srg: pl.LazyFrame | None, pwet: pl.LazyFrame | None,
                     srg_last_day: dt.date = SRG_LAST_DAY) -> pl.LazyFrame:
    """Participatiewet provisions, SRGPERSOONPWETBUS (2015-2018) and PWETSRGPERSOONBUS (2019+) harmonised
    (report 3.2.1: "We hebben in deze eerste meting alleen de voorzieningen meegenomen die in de periode 2015
    tot en met 2019 op dezelfde manier zijn uitgevraagd ... is ons advies om hier bij een vervolgmeting op aan
    te sluiten [de uitsplitsingen vanaf 2019]").

    Both files are normalised to PWETAANVANGVOORZ, PWETEINDEVOORZ, PWETSOORTVOORZ.  ``series``:

    * ``consistent`` - codes 11-18 (loonkostensubsidie, tijdelijke / forfaitaire loonkostensubsidie,
      WIW/ID-baan, beschut werk, participatieplaats, jobcoach, vervoersvoorziening), recorded the same way
      in both files: one series over 2015+;
    * ``srg_only`` - 19 voorziening arbeidsbeperking and 20 overige voorziening (SRG only; ends 2018);
    * ``pwet_fine`` - 21-28, the finer 2019+ categories (proefplaatsing ... overige faciliterende
      voorzieningen); before 2019 they were part of 20.

    Rules where the report is silent: SRG observes nothing after ``srg_last_day``, so an SRG spell that is
    open (or ends later) is cut there; spells of the same person and code that overlap or touch (next day)
    are one spell - this joins a provision running across 1 January 2019 that is in both files (same or new
    start date) into one spell, so nothing is counted twice.  Either input may be None; both None gives an
    empty table.

    Columns: person_id, code (Enum 11-28), series (Enum), start, end (null = open in PWETSRG)."""
    parts = []
    if srg is not None:
        s = _spells(srg, "PWETAANVANGVOORZ", "PWETEINDEVOORZ", pl.col("PWETSOORTVOORZ").cast(pl.Utf8).alias("code"))
        s = (s.filter(pl.col("start") <= srg_last_day)
             .with_columns(pl.min_horizontal(pl.col("end").fill_null(pl.lit(srg_last_day)), pl.lit(srg_last_day))
                           .alias("end")))
        parts.append(s)
    if pwet is not None:
        parts.append(_spells(pwet, "PWETAANVANGVOORZ", "PWETEINDEVOORZ",
                             pl.col("PWETSOORTVOORZ").cast(pl.Utf8).alias("code")))
    if not parts:   # neither file ingested (a zone before 2015, or none delivered): an empty table, so the core
        # layer does not fail on it; the input indicators P-a..P-f see the files missing and are not built
        return pl.LazyFrame(schema={"person_id": pl.Int64, "code": PROVISION_CODE, "series": PROVISION_SERIES,
                                    "start": pl.Date, "end": pl.Date})
    allp = pl.concat(parts, how="vertical")
    merged = merge_intervals(allp, by=["person_id", "code"])
    series = (pl.when(pl.col("code").is_in(_CONSISTENT)).then(pl.lit("consistent"))
              .when(pl.col("code").is_in(_SRG_ONLY)).then(pl.lit("srg_only"))
              .otherwise(pl.lit("pwet_fine")))
    return (merged.with_columns(series.cast(PROVISION_SERIES).alias("series"),
                                pl.col("code").cast(PROVISION_CODE))
            .select("person_id", "code", "series", "start", "end"))


# --------------------------------------------------------------------------------------- trajectories
def trajectory_spells(sirww: pl.LazyFrame | None, sirag: pl.LazyFrame | None) -> pl.LazyFrame:
    """UWV re-integration trajectories (report 3.4: "Aandeel van de mensen met een gestart traject (deze
    informatie halen we uit SIRAGPERSOONBUS respectievelijk SIRWWPERSOONBUS) in het jaar na instroom").

    SIRWWPERSOONBUS -> client ``WW``, SIRAGPERSOONBUS -> client ``AG`` (arbeidsgehandicapten: AO, Wajong).
    Columns: person_id, client (Enum WW/AG), SOORTTRAJECT (Enum of the codes in the inputs), start, end.
    Either input may be None."""
    parts = []
    for lf, client in ((sirww, "WW"), (sirag, "AG")):
        if lf is not None:
            parts.append(_spells(lf, "AANVANGTRAJECT", "EINDETRAJECT", pl.lit(client).alias("client"),
                                 pl.col("SOORTTRAJECT").cast(pl.Utf8)))
    if not parts:   # neither file ingested: an empty table (U-a..U-c are then not built), not a failed layer
        return pl.LazyFrame(schema={"person_id": pl.Int64, "client": pl.Enum(["WW", "AG"]), "SOORTTRAJECT": pl.Utf8,
                                    "start": pl.Date, "end": pl.Date})
    cats: list[str] = []
    for lf in (sirww, sirag):
        if lf is not None:
            dtype = keep_r(lf).collect_schema().get("SOORTTRAJECT")
            for c in (dtype.categories.to_list() if isinstance(dtype, pl.Enum) else []):
                if c not in cats:
                    cats.append(c)
    kind = pl.Enum(cats) if cats else pl.Utf8
    return (pl.concat(parts, how="vertical")
            .with_columns(pl.col("client").cast(pl.Enum(["WW", "AG"])), pl.col("SOORTTRAJECT").cast(kind))
            .select("person_id", "client", "SOORTTRAJECT", "start", "end"))
