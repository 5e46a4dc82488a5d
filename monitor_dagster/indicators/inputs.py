"""Input indicators from microdata: P-a..P-f (report 3.2.1) and U-a..U-c (report 3.4).

Cohorts of persons who flow into a benefit in year t are followed for one year: Participatiewet provisions
(gemeente) after a bijstand inflow, UWV re-integration trajectories after a WW resp. AO inflow (report 3.2.1:
"volgden we ... cohorten van mensen die instromen in de bijstand ... in een bepaald jaar en kijken vervolgens
een jaar vooruit welke voorzieningen zij krijgen"; 3.4: "We volgen cohorten van mensen die instromen in de WW
... respectievelijk een arbeidsongeschiktheidsuitkering ... in een bepaald jaar en kijken vervolgens een jaar
vooruit").  The report asks for them every two years (7.1.1), the microdata allow a yearly update (7.1.2).

Plain polars, no Dagster.  Inputs are the core frames: ``core/population`` of year t and the unpartitioned
spell tables ``core/benefit_spells``, ``core/provision_spells`` and ``core/trajectory_spells``
(:mod:`monitor_dagster.core.benefits`).  Every function returns rows of the indicator table
(:func:`monitor_dagster.indicators.table.cells`).  The rules below, and the choices where the report is
silent, are also in ``docs/indicators_inputs.md``.

Rules
-----
* **Inflow** (report silent): a spell of the benefit starting on day *s* is an inflow when the person had
  **no day of the same benefit from the first day of the calendar month before s up to s - 1**.  A spell
  that continues one ending in the previous month (31 December -> 1 January, a short interruption, a
  re-registration) is not an inflow; a return after at least one whole calendar month without it is.  "The
  same benefit": bijstand = Participatiewet bijstand (SOORTBIJSTAND 1; IOAW/IOAZ/Bbz are other laws and
  SECM puts them in 23, not 22); WW = WW; AO = any AO law (WAO, WAZ, Wajong, WIA-IVA, WIA-WGA), so a move
  from IVA to WGA is a reassessment, not an inflow.
* **Cohort of year t**: persons with an inflow whose day *s* falls in year t; a person with several
  inflows in t is in the cohort once, with the first one.  ``AO`` is every AO law (the series of the first
  measurement, report 3.4), split by the law of the spell that opens the inflow into ``Wajong``, ``WIA (WGA)``
  and ``AO overig`` (IVA, WAO, WAZ), so the parts add up to ``AO``; the advice to leave IVA out (7.2.1 c:
  "omdat mensen die volledig en duurzaam arbeidsongeschikt zijn verklaard geen re-integratietraject zullen
  starten") is followed by showing Wajong and WIA (WGA) apart, not by dropping IVA from ``AO``.
* **Persons**: the core population of year t (lived in NL the whole year, report 2.1) aged 15 to the AOW
  age the whole year (``leeftijd`` not null).  Students are **not** left out (3.2.1, 3.4: "laten we studenten
  die de bijstand zijn ingestroomd niet buiten beschouwing"); pensioners (SECM, the rule of core/population)
  are, as for most questions (2.1), since the report names only students as the exception.  The age rule only drops persons
  who reach the AOW age in year t, who cannot be followed a year in the benefit, and keeps the leeftijd
  breakdown adding up to its total (disclosure by subtraction).
* **Follow-up window**: ``[s, s + 12 months)`` (calendar months, polars ``offset_by("12mo")``).  An event
  (provision, trajectory) counts when it **starts** in the window, also after the benefit has ended ("welke
  voorzieningen zij krijgen").  Provisions / trajectories that started before *s* do not count, not even
  while they run on (the cohort is followed from the inflow).
* **Months to the first event** (P-d, P-e, U-b): *completed* months from *s* to the start, the largest k
  with ``s + k months <= start`` (0 = within the first month), so 0..11 inside the window.  Two measures:
  the bare measure is the mean among persons **with** an event in the window ("met een maximum van een
  jaar" read as: only events within the year); the measure with suffix ``, geen = 12`` is the mean over the
  whole cohort with 12 for persons without one (the cap read as censoring).  The share with an event is
  P-b / P-c / U-a.
* **Share of time** (P-f, U-c): per person, days in the window with both the benefit and an activity that
  started in the window, divided by the days in the window with the benefit; the cell is the mean of these
  person shares ("het aandeel van de tijd dat iemand ... ten opzichte van de tijd dat iemand in de bijstand
  zit": a share per person).  Overlapping spells are merged first; a day counts once.
* **Trajectories**: WW inflow <-> SIRWWPERSOONBUS (client ``WW``), AO inflow <-> SIRAGPERSOONBUS (client
  ``AG``).
* **SRG 2019** (report 3.2.1): three series, told apart by the ``measure``
  prefix:

  - no prefix: the **consistent** series, codes 11-18 recorded the same way in SRGPERSOONPWETBUS
    (2015-2018) and PWETSRGPERSOONBUS (2019+), cohorts from 2015 (the first SRG year);
  - ``vanaf 2019: ``: the finer 2019+ categories (codes 21-28) and "any provision" including them; only
    for cohorts whose whole window lies in PWETSRG (t >= 2019);
  - ``t/m 2018: ``: voorziening arbeidsbeperking (19) and overige voorziening (20), and "any provision"
    including them, which exist only in SRG; only for cohorts whose whole window lies in SRG (t <= 2017).

  P-b, P-d and P-f use the work provisions the report lists (loonkostensubsidie incl. tijdelijk and
  forfaitair, WIW/ID-baan, beschut werk, participatieplaats, jobcoach = codes 11-17): consistent series only.
* **Coverage** (``observed_until``): the last day the spell files of a family cover (in the pipeline the
  31 December of the oldest latest-release period among the files it needs).  Rows are ``voorlopig`` when
  the window of the last possible inflow (31 December t -> 30 December t+1) is not covered, ``definitief``
  otherwise; when year t itself is not covered there are no rows.  In a ``voorlopig`` cohort events after
  ``observed_until`` are unknown (treated as absent) and time shares are measured up to that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping

import polars as pl

from monitor_dagster.core._intervals import FAR_FUTURE, merge_intervals
from monitor_dagster.core.benefits import SRG_LAST_DAY
from monitor_dagster.core.layout import held
from monitor_dagster.indicators.table import cells, columns, empty

__all__ = [
    "AO_COHORTS", "FAMILY_KINDS", "FOLLOW_UP_MONTHS", "P_A_CATEGORIES", "PROVISIONS_FIRST_YEAR", "SERIES_PREFIX",
    "TRAJECT_CLIENT", "WORK_CODES", "completed_months", "followup_last_day", "inflow_cohort", "inflows",
    "p_a_provision_shares", "p_b_work_provision_share", "p_c_any_provision_share", "p_d_months_to_work_provision",
    "p_e_months_to_any_provision", "p_f_time_with_work_provision", "participation_indicators",
    "provision_series", "status_for", "u_a_trajectory_share", "u_b_months_to_trajectory",
    "u_c_time_in_trajectory", "uwv_cohorts", "uwv_indicators",
]

FOLLOW_UP_MONTHS = 12
#: SRGPERSOONPWETBUS starts in 2015 (report 3.2.1 "2015 tot en met 2018"; data_catalog.yaml periods)
PROVISIONS_FIRST_YEAR = 2015
#: benefit kinds (core.benefits.BENEFIT_KIND) whose spells make one benefit for the inflow rule
FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "bijstand": ("bijstand",),
    "WW": ("WW",),
    "AO": ("AO-WAO", "WAZ", "Wajong", "IVA", "WGA"),
}
#: measure of U-a..U-c -> (family, kind of the spell that opens the person's first inflow of t); ``AO`` is every
#: AO law, the series of the first measurement (report 3.4 "geen onderscheid ... naar regeling"; advice 7.2:
#: keep the indicator set), split into Wajong, WIA (WGA) and the rest (IVA, WAO, WAZ: not apart, report 7.2),
#: so the parts add up to the total exactly (the disclosure gate protects them as one equation)
AO_COHORTS: dict[str, tuple[str, str | tuple[str, ...] | None]] = {
    "AO": ("AO", None), "Wajong": ("AO", "Wajong"), "WIA (WGA)": ("AO", "WGA"),
    "AO overig": ("AO", ("AO-WAO", "WAZ", "IVA"))}
UWV_COHORTS: dict[str, tuple[str, str | tuple[str, ...] | None]] = {"WW": ("WW", "WW"), **AO_COHORTS}
#: trajectory file (core.benefits.trajectory_spells ``client``) that belongs to a family
TRAJECT_CLIENT = {"WW": "WW", "AO": "AG"}

# provision codes (core.benefits.provision_spells; labels in data_catalog.yaml / report 3.2.1)
_LKS = ("11", "12", "13")                       # loonkostensubsidie, tijdelijk, forfaitair (from 2017)
WORK_CODES = (*_LKS, "14", "15", "16", "17")    # P-b, P-d, P-f: the report's work provisions
_CONSISTENT = (*WORK_CODES, "18")               # + vervoersvoorziening
_SRG_ONLY = ("19", "20")
_FINE = tuple(str(c) for c in range(21, 29))
SERIES_PREFIX = {"consistent": "", "srg_only": "t/m 2018: ", "pwet_fine": "vanaf 2019: "}
#: P-a categories per series (measure = prefix + name)
P_A_CATEGORIES: dict[str, dict[str, tuple[str, ...]]] = {
    "consistent": {"loonkostensubsidie": _LKS, "WIW/ID-baan": ("14",), "beschut werk": ("15",),
                   "participatieplaats": ("16",), "jobcoach": ("17",), "vervoersvoorziening": ("18",)},
    "srg_only": {"voorziening arbeidsbeperking": ("19",), "overige voorziening": ("20",)},
    "pwet_fine": {"proefplaatsing": ("21",), "overige werkplek": ("22",), "werkplekaanpassing": ("23",),
                  "coaching naar werk": ("24",), "training": ("25",), "vrijwilligerswerk": ("26",),
                  "overige sociale activering": ("27",), "overige faciliterende voorzieningen": ("28",)},
}
#: "any provision" (P-c, P-e) per series
_ANY = {"consistent": _CONSISTENT, "srg_only": (*_CONSISTENT, *_SRG_ONLY), "pwet_fine": (*_CONSISTENT, *_FINE)}
_WORK = "werkvoorziening"
_ANY_NAME = "voorziening"
CENSORED_SUFFIX = ", geen = 12"

_PERSON_COLS = ["person_id", "herkomst_group", "herkomst_aggregate", "generatie", "verblijfsduur", "leeftijd",
                "geslacht", "opleidingsniveau"]


# ------------------------------------------------------------------------------------------- rules
def followup_last_day(year: int) -> dt.date:
    """Last day of the window of the last possible inflow of year t (31 December t + 12 months - 1 day)."""
    return dt.date(year + 1, 12, 31) - dt.timedelta(days=1)


def status_for(year: int, observed_until: dt.date | None) -> str | None:
    """``definitief`` when the spell files cover every window of cohort t, ``voorlopig`` when they cover year t
    but not the whole follow-up into t+1, None when year t itself is not covered (no rows).
    ``observed_until`` None = coverage not known, taken as complete (hand-built frames)."""
    if observed_until is None:
        return "definitief"
    if observed_until < dt.date(year, 12, 31):
        return None
    return "definitief" if observed_until >= followup_last_day(year) else "voorlopig"


def provision_series(year: int) -> list[str]:
    """The provision series a bijstand cohort of year t gets (see the module docstring, SRG 2019): the
    consistent series from 2015; ``srg_only`` when the whole window lies in SRG (up to ``SRG_LAST_DAY``);
    ``pwet_fine`` when it lies wholly in PWETSRG (cohorts from the year after ``SRG_LAST_DAY``)."""
    if year < PROVISIONS_FIRST_YEAR:
        return []
    out = ["consistent"]
    if followup_last_day(year) <= SRG_LAST_DAY:
        out.append("srg_only")
    if dt.date(year, 1, 1) > SRG_LAST_DAY:
        out.append("pwet_fine")
    return out


def completed_months(start: str, event: str) -> pl.Expr:
    """Completed calendar months from ``start`` to ``event`` (``event >= start``): the largest k with
    ``start + k months <= event`` (polars ``offset_by``: 31 January + 1 month = 28/29 February), like an age in
    months.  Within the 12-month window the value is 0..11."""
    s, e = pl.col(start), pl.col(event)
    k0 = (e.dt.year().cast(pl.Int32) - s.dt.year().cast(pl.Int32)) * 12 + (
        e.dt.month().cast(pl.Int32) - s.dt.month().cast(pl.Int32))
    # the offset as text without pl.format, which polars 2.1 can panic on in a bucket (docs/dependencies.md)
    back = (s.dt.offset_by(k0.cast(pl.String) + pl.lit("mo")) > e).cast(pl.Int32)
    return (k0 - back).cast(pl.Int32)


def inflows(benefit_spells: pl.LazyFrame, kinds: tuple[str, ...] | list[str]) -> pl.LazyFrame:
    """Inflows into the benefit made of ``kinds``: spells whose start has no day of these kinds from the first
    day of the previous calendar month up to the day before (module docstring, "Inflow").

    A sweep per person in start order: the running maximum of the earlier spells' ends (open = far future)
    must lie before the first day of the month before the start.  Of spells starting on the same day only the
    first (by end, then kind) can be an inflow.  Columns: person_id, inflow (Date), kind (String: the kind of
    the spell that opens the inflow)."""
    s = (benefit_spells.filter(pl.col("kind").cast(pl.String).is_in(list(kinds)))
         .select("person_id", pl.col("kind").cast(pl.String), "start",
                 pl.col("end").fill_null(pl.lit(FAR_FUTURE)).alias("_e")))
    order = ["start", "_e", "kind"]
    prev_end = pl.col("_e").cum_max().shift(1).over("person_id", order_by=order)
    month_before = pl.col("start").dt.month_start().dt.offset_by("-1mo")
    return (s.with_columns(prev_end.alias("_prev"))
            .filter(pl.col("_prev").is_null() | (pl.col("_prev") < month_before))
            .select("person_id", pl.col("start").alias("inflow"), "kind"))


def study_persons(population: pl.LazyFrame) -> pl.LazyFrame:
    """The core population of year t aged 15 to the AOW age the whole year, students kept ("laten we studenten
    die de bijstand zijn ingestroomd niet buiten beschouwing", 3.2.1; the same for WW and AO, 3.4) and
    pensioners (SECM) left out as for most questions (2.1: "We laten schoolgaande, studerende en
    pensioengerechtigden ... bij de meeste vragen buiten beschouwing"): only students are named as an
    exception."""
    return population.filter(pl.col("leeftijd").is_not_null() & ~pl.col("pensioner")).select(_PERSON_COLS)


def inflow_cohort(population: pl.LazyFrame, benefit_spells: pl.LazyFrame, year: int, family: str,
                  kind: str | None = None) -> pl.LazyFrame:
    """Persons of :func:`study_persons` with an inflow into ``family`` (FAMILY_KINDS) in year t, opened by a
    spell of ``kind`` (default: any kind of the family), the first such inflow of the year per person.

    Columns: the breakdown columns, inflow (Date), window_end (Date, exclusive: inflow + 12 months)."""
    inf = inflows(benefit_spells, FAMILY_KINDS[family]).filter(pl.col("inflow").dt.year() == year)
    return _cohort(population, inf, kind)


def _cohort(population: pl.LazyFrame, year_inflows: pl.LazyFrame, kind: str | tuple[str, ...] | None) -> pl.LazyFrame:
    """The cohort of the inflows of ``kind`` (None: all), each person once with his first inflow of the year;
    for a split of one family (AO) the kind of the person's *first* inflow decides, so the parts add up."""
    first = (year_inflows.with_columns(pl.col("kind").cast(pl.String))
             .sort("person_id", "inflow", "kind")
             .group_by("person_id").agg(pl.col("inflow").first(), pl.col("kind").first()))
    if kind is not None:
        first = first.filter(pl.col("kind").is_in([kind] if isinstance(kind, str) else list(kind)))
    first = first.drop("kind")
    return (first.with_columns(pl.col("inflow").dt.offset_by(f"{FOLLOW_UP_MONTHS}mo").alias("window_end"))
            .join(study_persons(population), on="person_id", how="inner"))


# ----------------------------------------------------------------------------------------- helpers
def _events_in_window(cohort: pl.LazyFrame, events: pl.LazyFrame, observed_until: dt.date | None) -> pl.LazyFrame:
    """Events (person_id, start, end, ...) that start in the person's window (and by ``observed_until``),
    with ``months`` = completed months from the inflow."""
    ev = cohort.select("person_id", "inflow", "window_end").join(events, on="person_id", how="inner")
    cond = (pl.col("start") >= pl.col("inflow")) & (pl.col("start") < pl.col("window_end"))
    if observed_until is not None:
        cond &= pl.col("start") <= pl.lit(observed_until)
    return ev.filter(cond).with_columns(completed_months("inflow", "start").alias("months"))


def _share(cohort: pl.LazyFrame, hits: pl.LazyFrame, **kw) -> pl.DataFrame:
    """Cell rows of the share of the cohort with at least one row in ``hits`` (person_id)."""
    has = hits.select("person_id").unique().with_columns(pl.lit(1.0).alias("value"))
    p = cohort.join(has, on="person_id", how="left").with_columns(pl.col("value").fill_null(0.0))
    return cells(p, unit="%", **kw)


def _months(cohort: pl.LazyFrame, hits: pl.LazyFrame, measure: str, **kw) -> list[pl.DataFrame]:
    """Mean completed months to the first event: among those with one (``measure``) and over the whole cohort
    with 12 for those without (``measure`` + CENSORED_SUFFIX)."""
    first = hits.group_by("person_id").agg(pl.col("months").min().cast(pl.Float64).alias("value"))
    with_one = cohort.join(first, on="person_id", how="inner")
    everyone = (cohort.join(first, on="person_id", how="left")
                .with_columns(pl.col("value").fill_null(float(FOLLOW_UP_MONTHS))))
    return [cells(with_one, unit="maanden", measure=measure, **kw),
            cells(everyone, unit="maanden", measure=measure + CENSORED_SUFFIX, **kw)]


def _time_share(cohort: pl.LazyFrame, benefit: pl.LazyFrame, activity: pl.LazyFrame,
                observed_until: dt.date | None) -> pl.LazyFrame:
    """person_id, value = days in the window with the benefit and an activity / days with the benefit.
    ``benefit`` and ``activity``: person_id, start, end (null = open).  The window runs from the inflow to
    ``window_end - 1 day`` or ``observed_until`` when earlier; spells are cut to it and merged per person."""
    hi = pl.col("window_end").dt.offset_by("-1d")
    if observed_until is not None:
        hi = pl.min_horizontal(hi, pl.lit(observed_until))
    win = cohort.select("person_id", pl.col("inflow").alias("_lo"), hi.alias("_hi"))

    def cut(lf: pl.LazyFrame) -> pl.LazyFrame:
        c = (lf.select("person_id", "start", "end").join(win, on="person_id", how="inner")
             .with_columns(pl.max_horizontal("start", "_lo").alias("start"),
                           pl.min_horizontal(pl.col("end").fill_null(pl.lit(FAR_FUTURE)), pl.col("_hi")).alias("end"))
             .filter(pl.col("start") <= pl.col("end")))
        return merge_intervals(c.select("person_id", "start", "end"), by=["person_id"])

    b, a = cut(benefit), cut(activity)
    days = (pl.col("end") - pl.col("start")).dt.total_days() + 1
    b_days = b.group_by("person_id").agg(days.sum().alias("_db"))
    overlap = ((pl.min_horizontal("end", "end_a") - pl.max_horizontal("start", "start_a")).dt.total_days() + 1).clip(
        lower_bound=0)
    both = (b.join(a, on="person_id", how="inner", suffix="_a").group_by("person_id")
            .agg(overlap.sum().alias("_dboth")))
    return (b_days.join(both, on="person_id", how="left")
            .select("person_id", (pl.col("_dboth").fill_null(0) / pl.col("_db")).cast(pl.Float64).alias("value")))


def _concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [p for p in parts if p.height]
    return pl.concat(parts, how="vertical").select(columns()) if parts else empty()


def _provision_events(cohort: pl.LazyFrame, provisions: pl.LazyFrame, observed_until: dt.date | None) -> pl.LazyFrame:
    ev = provisions.select("person_id", pl.col("code").cast(pl.String), "start", "end")
    return held(_events_in_window(cohort, ev, observed_until))


def _codes(ev: pl.LazyFrame, codes: tuple[str, ...]) -> pl.LazyFrame:
    return ev.filter(pl.col("code").is_in(list(codes)))


# ------------------------------------------------------------------------------------- P-a .. P-f
def p_a_provision_shares(cohort: pl.LazyFrame, provisions: pl.LazyFrame, year: int, *,
                         observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-a, report 3.2.1 a: "Aandeel met loonkostensubsidie (inclusief tijdelijke loonkostensubsidie en vanaf
    2017 forfaitaire loonkostensubsidie), WIW/ID-baan, beschut werk, participatieplaats, jobcoach
    respectievelijk een vervoersvoorziening": % of the bijstand cohort with a provision of the category
    starting within a year of the inflow; ``measure`` = category.  Categories are not exclusive (a person
    with two provisions counts in both).  Also, as separate series (``measure`` prefix, SRG 2019): ``t/m
    2018: `` voorziening arbeidsbeperking / overige voorziening and ``vanaf 2019: `` the eight finer
    categories the report advises to follow (proefplaatsing ... overige faciliterende voorzieningen)."""
    ev = _provision_events(cohort, provisions, observed_until)
    out = []
    for series in provision_series(year):
        for name, codes in P_A_CATEGORIES[series].items():
            out.append(_share(cohort, _codes(ev, codes), indicator_id="P-a", year=year,
                              measure=SERIES_PREFIX[series] + name, **kw))
    return _concat(out)


def p_b_work_provision_share(cohort: pl.LazyFrame, provisions: pl.LazyFrame, year: int, *,
                             observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-b, report 3.2.1 b: "Aandeel met ten minste een van de voorzieningen onder punt a, waarbij
    vervoersvoorziening buiten beschouwing wordt gelaten" (they all concern work, a vervoersvoorziening does
    not): % with a work provision (codes 11-17) within a year; consistent series, measure ``werkvoorziening``."""
    if not provision_series(year):
        return empty()
    ev = _provision_events(cohort, provisions, observed_until)
    return _share(cohort, _codes(ev, WORK_CODES), indicator_id="P-b", year=year, measure=_WORK, **kw)


def p_c_any_provision_share(cohort: pl.LazyFrame, provisions: pl.LazyFrame, year: int, *,
                            observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-c, report 3.2.1 c: "Aandeel met een voorziening in het kader van de Participatiewet ongeacht welke".
    Measure ``voorziening`` = any provision of the consistent series (codes 11-18, as in the first
    measurement: "alleen de voorzieningen ... die in de periode 2015 tot en met 2019 op dezelfde manier zijn
    uitgevraagd"); ``t/m 2018: voorziening`` adds 19/20 (SRG only), ``vanaf 2019: voorziening`` adds the finer
    categories 21-28 - the literal "ongeacht welke" of each registry, not comparable across 2019."""
    ev = _provision_events(cohort, provisions, observed_until)
    out = [_share(cohort, _codes(ev, _ANY[s]), indicator_id="P-c", year=year, measure=SERIES_PREFIX[s] + _ANY_NAME,
                  **kw) for s in provision_series(year)]
    return _concat(out)


def p_d_months_to_work_provision(cohort: pl.LazyFrame, provisions: pl.LazyFrame, year: int, *,
                                 observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-d, report 3.2.1 d: "Aantal maanden start van de eerste voorziening (loonkostensubsidie, WIW/ID-baan,
    beschut werk, participatieplaats, jobcoach) na instroom in de bijstand met een maximum van een jaar":
    completed months from the inflow to the start of the first work provision (11-17) in the window.
    ``werkvoorziening``: mean among those with one (share: P-b); ``werkvoorziening, geen = 12``: mean over
    the cohort with 12 for those without."""
    if not provision_series(year):
        return empty()
    ev = _provision_events(cohort, provisions, observed_until)
    return _concat(_months(cohort, _codes(ev, WORK_CODES), _WORK, indicator_id="P-d", year=year, **kw))


def p_e_months_to_any_provision(cohort: pl.LazyFrame, provisions: pl.LazyFrame, year: int, *,
                                observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-e, report 3.2.1 e: "Aantal maanden tot de start van de eerste voorziening ongeacht welke na instroom
    in de bijstand met een maximum van een jaar": as P-d for any provision, per series as P-c
    (``voorziening``, ``t/m 2018: voorziening``, ``vanaf 2019: voorziening``, each also ``, geen = 12``)."""
    ev = _provision_events(cohort, provisions, observed_until)
    out = []
    for s in provision_series(year):
        out += _months(cohort, _codes(ev, _ANY[s]), SERIES_PREFIX[s] + _ANY_NAME, indicator_id="P-e", year=year,
                       **kw)
    return _concat(out)


def p_f_time_with_work_provision(cohort: pl.LazyFrame, provisions: pl.LazyFrame, benefit_spells: pl.LazyFrame,
                                 year: int, *, observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """P-f, report 3.2.1 f: "Aandeel van de tijd dat iemand een voorziening (loonkostensubsidie, WIW/ID-baan,
    beschut werk, participatieplaats, jobcoach) heeft ten opzichte van de tijd dat iemand in de bijstand zit":
    per person, days in the first year after the inflow with bijstand and a work provision (started in the
    window) / days with bijstand in that year; mean over the cohort.  Measure ``werkvoorziening``, unit %."""
    if not provision_series(year):
        return empty()
    ev = _codes(_provision_events(cohort, provisions, observed_until), WORK_CODES)
    bij = benefit_spells.filter(pl.col("kind").cast(pl.String).is_in(list(FAMILY_KINDS["bijstand"])))
    share = _time_share(cohort, bij, ev, observed_until)
    return cells(cohort.join(share, on="person_id", how="inner"), indicator_id="P-f", year=year, unit="%",
                 measure=_WORK, **kw)


def participation_indicators(population: pl.LazyFrame, benefit_spells: pl.LazyFrame, provision_spells: pl.LazyFrame,
                             year: int, *, observed_until: dt.date | None = None, vintages: str = "") -> pl.DataFrame:
    """P-a..P-f, report 3.2.1 a-f, of the bijstand inflow cohort of year t, each followed 12 months from its
    inflow (nothing before 2015, when the Participatiewet files start, or when year t is not covered)."""
    status = status_for(year, observed_until)
    if status is None or not provision_series(year):
        return empty()
    cohort = held(inflow_cohort(population, benefit_spells, year, "bijstand"))
    kw = {"observed_until": observed_until, "status": status, "vintages": vintages}
    return _concat([p_a_provision_shares(cohort, provision_spells, year, **kw),
                    p_b_work_provision_share(cohort, provision_spells, year, **kw),
                    p_c_any_provision_share(cohort, provision_spells, year, **kw),
                    p_d_months_to_work_provision(cohort, provision_spells, year, **kw),
                    p_e_months_to_any_provision(cohort, provision_spells, year, **kw),
                    p_f_time_with_work_provision(cohort, provision_spells, benefit_spells, year, **kw)])


# ------------------------------------------------------------------------------------- U-a .. U-c
def uwv_cohorts(population: pl.LazyFrame, benefit_spells: pl.LazyFrame, year: int,
                families: tuple[str, ...] = ("WW", "AO")) -> dict[str, pl.LazyFrame]:
    """measure (``WW``, ``AO``, ``Wajong``, ``WIA (WGA)``, ``AO overig``) -> inflow cohort of year t (collected once; the inflows of
    a family are computed once for all its cohorts)."""
    year_inflows = {fam: held(inflows(benefit_spells, FAMILY_KINDS[fam]).filter(pl.col("inflow").dt.year() == year))
                    for fam in families}
    return {m: held(_cohort(population, year_inflows[fam], kind))
            for m, (fam, kind) in UWV_COHORTS.items() if fam in families}


def _trajectory_events(cohort: pl.LazyFrame, trajectories: pl.LazyFrame, family: str,
                       observed_until: dt.date | None) -> pl.LazyFrame:
    tr = (trajectories.filter(pl.col("client").cast(pl.String) == TRAJECT_CLIENT[family])
          .select("person_id", "start", "end"))
    return held(_events_in_window(cohort, tr, observed_until))


def u_a_trajectory_share(cohort: pl.LazyFrame, trajectories: pl.LazyFrame, year: int, measure: str, *,
                         observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """U-a, report 3.4 a: "Aandeel van de mensen met een gestart traject (... SIRAGPERSOONBUS respectievelijk
    SIRWWPERSOONBUS) in het jaar na instroom in de uitkering": % of the WW (resp. AO) inflow
    cohort with a re-integration trajectory of the matching UWV file starting within 12 months of the
    inflow; ``measure`` names the cohort (:data:`UWV_COHORTS`: WW, AO and its parts)."""
    family = UWV_COHORTS[measure][0]
    ev = _trajectory_events(cohort, trajectories, family, observed_until)
    return _share(cohort, ev, indicator_id="U-a", year=year, measure=measure, **kw)


def u_b_months_to_trajectory(cohort: pl.LazyFrame, trajectories: pl.LazyFrame, year: int, measure: str, *,
                             observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """U-b, report 3.4 b: "Aantal maanden na de start van het eerste traject na instroom WW respectievelijk AO
    (peiljaar is instroomjaar ...) met een maximum van een jaar": completed months from the inflow to the
    first trajectory in the window; mean among those with one (``measure``) and over the cohort with 12 for
    those without (``measure, geen = 12``)."""
    family = UWV_COHORTS[measure][0]
    ev = _trajectory_events(cohort, trajectories, family, observed_until)
    return _concat(_months(cohort, ev, measure, indicator_id="U-b", year=year, **kw))


def u_c_time_in_trajectory(cohort: pl.LazyFrame, trajectories: pl.LazyFrame, benefit_spells: pl.LazyFrame,
                           year: int, measure: str, *, observed_until: dt.date | None = None, **kw) -> pl.DataFrame:
    """U-c, report 3.4 c: "Aandeel van de tijd dat iemand in een traject zit ten opzichte van de tijd dat
    iemand in de WW respectievelijk AO zit": per person, days in the first year after the inflow with the
    benefit (WW; for AO cohorts any AO law) and a trajectory started in the window / days with the benefit;
    mean over the cohort, unit %."""
    family = UWV_COHORTS[measure][0]
    ev = _trajectory_events(cohort, trajectories, family, observed_until)
    ben = benefit_spells.filter(pl.col("kind").cast(pl.String).is_in(list(FAMILY_KINDS[family])))
    share = _time_share(cohort, ben, ev, observed_until)
    return cells(cohort.join(share, on="person_id", how="inner"), indicator_id="U-c", year=year, unit="%",
                 measure=measure, **kw)


def uwv_indicators(population: pl.LazyFrame, benefit_spells: pl.LazyFrame, trajectory_spells: pl.LazyFrame,
                   year: int, *, observed_until: dt.date | Mapping[str, dt.date | None] | None = None,
                   vintages: str | Mapping[str, str] = "", families: tuple[str, ...] = ("WW", "AO")) -> pl.DataFrame:
    """U-a..U-c, report 3.4 a-c, for the inflow cohorts of year t of :data:`UWV_COHORTS` (WW; AO, Wajong, WIA (WGA),
    AO overig).  ``observed_until`` and
    ``vintages`` may be given per family (``WW``, ``AO``); ``families`` limits the cohorts (e.g. when the
    SIRAG file is not in the warehouse)."""
    def per(x, fam):
        return x.get(fam) if isinstance(x, Mapping) else x

    out = []
    for measure, cohort in uwv_cohorts(population, benefit_spells, year, families).items():
        fam = UWV_COHORTS[measure][0]
        until = per(observed_until, fam)
        status = status_for(year, until)
        if status is None:
            continue
        kw = {"observed_until": until, "status": status, "vintages": per(vintages, fam) or ""}
        out += [u_a_trajectory_share(cohort, trajectory_spells, year, measure, **kw),
                u_b_months_to_trajectory(cohort, trajectory_spells, year, measure, **kw),
                u_c_time_in_trajectory(cohort, trajectory_spells, benefit_spells, year, measure, **kw)]
    return _concat(out)
