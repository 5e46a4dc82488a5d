"""Schedules (report 7.1.1: input indicators every two years; 7.1.2: outcome indicators yearly, from May).

Both schedules ask, at their tick, which year can be built and never run half-way: a tick whose inputs are
incomplete, provisional or missing skips with the list of what is missing.

* ``outcome_yearly`` (``MONITOR_OUTCOME_CRON``, default 06:00 on 1 May; report 7.1.2 "vanaf mei"): core and
  outcome indicators of the latest year whose required sources are in the warehouse in their final (not
  provisional) release.
* ``input_biennial`` (``MONITOR_INPUT_CRON``, default 06:30 on 1 May; runs in the years
  ``MONITOR_INPUT_FIRST_YEAR`` + 2k, default 2022, the report's next measurement): the input indicators of
  every benefit-inflow cohort since the previous measurement (t-4 .. t-2) whose one-year follow-up the spell
  files cover (not ``voorlopig``) and that the warehouse does not hold in full, one run each.  Cron has
  no "every other year", so the schedule ticks yearly and the off-years skip with the reason.

Both target a partitioned job that rebuilds one year; ``table_after_yearly_runs`` then rebuilds the
unpartitioned gated indicator table and the publication after such a run succeeds, so a scheduled year
reaches the table, its checks and the site without a manual step.
"""

import datetime as dt
from pathlib import Path
import os

import dagster as dg
import polars as pl

from monitor_dagster.defs.core.assets import CORE_YEARLY
from monitor_dagster.defs.indicators.assets import (
    FAMILY_ASSETS, INPUT_FAMILIES, OUTCOME_FAMILIES, durations, indicator_table, input_job, propensity_weights,
    sensitivity)
from monitor_dagster.defs.publication.assets import site
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.readiness import year_readiness
from monitor_dagster.warehouse import Warehouse

OUTCOME_CRON = "0 6 1 5 *"      # default; MONITOR_OUTCOME_CRON when the code location loads (build_schedules)
INPUT_CRON = "30 6 1 5 *"       # default; MONITOR_INPUT_CRON
INPUT_FIRST_YEAR = 2022         # default; MONITOR_INPUT_FIRST_YEAR, a field of MonitorResource
INPUT_EVERY_YEARS = 2

outcome_job = dg.define_asset_job(
    "outcome_indicators_yearly",
    selection=dg.AssetSelection.assets(*CORE_YEARLY, *[FAMILY_ASSETS[f] for f in OUTCOME_FAMILIES]),
    description="Core tables and outcome indicators of one year.")
core_spells_job = dg.define_asset_job(
    "core_spells", selection=dg.AssetSelection.groups("core") - dg.AssetSelection.assets(*CORE_YEARLY),
    description="The unpartitioned spell tables of the core layer (benefits, provisions, trajectories) from the "
                "latest releases; the input indicators read them.")
table_job = dg.define_asset_job(
    "indicator_table_and_publication", selection=dg.AssetSelection.assets(propensity_weights, indicator_table, sensitivity, durations, site),
    description="The gated indicator table of all years (disclosure and trend checks) and the publication built on it.")


def missing_for(warehouse: Warehouse | Path | str, year: int) -> list[str]:
    """What keeps ``year`` from a final outcome build (readiness.py: absent or part-year releases, breakdowns
    that cannot be computed, SECM not covering t)."""
    root = warehouse.root if isinstance(warehouse, Warehouse) else warehouse
    return year_readiness(root, year).blocking("yearly")


def outcome_decision(warehouse: Warehouse, today: dt.date, secm_fallback: bool = True) -> dg.RunRequest | dg.SkipReason:
    """Run for the latest year up to two years back that is complete; otherwise skip with what is missing.

    Report 7.1.3: SECMBUS comes a year after enrolment and age.  With ``secm_fallback`` (the default) a year
    that lacks only SECMBUS of t is built early, and before an older final year (the point is the more recent
    figure): students and pensioners from enrolment and age, the indicators that rest on SECM months not
    computable, the rest voorlopig (run tag ``monitor/secm``); once, not on every tick.  The sensor
    ``secm_replaces_fallback`` rebuilds the year when SECMBUS covering it lands."""
    root = warehouse.root if isinstance(warehouse, Warehouse) else warehouse
    problems: dict[int, list[str]] = {}
    for year in (today.year - 1, today.year - 2):
        r = year_readiness(root, year)
        miss = r.blocking("yearly")
        if not miss:
            return _first_ready("outcome", (year,), lambda y: [], today)
        if secm_fallback and not r.blocking("yearly", secm_fallback=True) and not _already_fallback(root, year):
            return _first_ready("outcome", (year,), lambda y: [], today,
                                tags={"monitor/secm": "fallback (report 7.1.3)"}, selection=buildable_keys(r))
        problems[year] = miss + _already_fallback(root, year)
    return dg.SkipReason("; ".join(f"{y}: " + ", ".join(m) for y, m in problems.items()))


def _already_fallback(root, year: int) -> list[str]:
    """A fallback build of ``year`` that is already in the warehouse is not repeated every year."""
    m = Warehouse(root, layer="core").manifest("population", str(year)) or {}
    return [f"{year} already built with the SECM fallback"] if m.get("secm_source") == "fallback" else []


def fallback_years(warehouse_root) -> list[int]:
    """Years whose core population rests on the SECM fallback while SECMBUS in the warehouse now covers them
    (report 7.1.3: "replaced when SECM lands")."""
    from monitor_dagster.readiness import _Manifests

    secm_until = _Manifests(warehouse_root).secm_period()
    core = Warehouse(warehouse_root, layer="core")
    out = []
    for p in core.partitions("population"):
        if p.isdigit() and (core.manifest("population", p) or {}).get("secm_source") == "fallback" \
                and secm_until is not None and int(p) <= secm_until:
            out.append(int(p))
    return sorted(out)


TRIGGER = {"outcome": "outcome_yearly", "input": "input_biennial"}   # the schedule names, as run tags


def year_assets(r) -> tuple[list[dg.AssetKey], list[dg.AssetKey], list[dg.AssetKey]]:
    """The assets of the outcome job a year can build (readiness: core tables whose inputs are there, families with
    a computable indicator): (core tables, families of year t alone, families that follow persons into later years,
    specs.yaml ``follow_up``).  ``monitor run`` plans its runs from them (runner.derived_plan)."""
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.readiness import buildable_core, buildable_families

    core = {a.key.path[-1]: a.key for a in CORE_YEARLY}
    fams = [f for f in buildable_families(r) if f in OUTCOME_FAMILIES]
    return ([core[a] for a in buildable_core(r) if a in core],
            [FAMILY_ASSETS[f].key for f in fams if SPEC.follow_up(f) is None],
            [FAMILY_ASSETS[f].key for f in fams if SPEC.follow_up(f) is not None])


def buildable_keys(r) -> list[dg.AssetKey]:
    """:func:`year_assets` as one selection.  An early build with the SECM fallback asks only these: core/secm_months
    of t is not built from a release that ends before t."""
    core, now, later = year_assets(r)
    return core + now + later


def _request(kind: str, year: int, today: dt.date, tags: dict | None = None,
             selection: list[dg.AssetKey] | None = None) -> dg.RunRequest:
    """The run of one year by a schedule: one run key per kind, year and tick."""
    return dg.RunRequest(run_key=f"{kind}-{year}-{today.isoformat()}", partition_key=str(year),
                         tags={"monitor/trigger": TRIGGER[kind], **(tags or {})}, asset_selection=selection)


def _first_ready(kind: str, years, missing, today: dt.date, tags: dict | None = None,
                 selection: list[dg.AssetKey] | None = None) -> dg.RunRequest | dg.SkipReason:
    """A run for the first of ``years`` with nothing ``missing`` (of the assets in ``selection``; None = the whole
    job); else a skip listing, per year, what is."""
    problems = {}
    for year in years:
        miss = missing(year)
        if not miss:
            return _request(kind, year, today, tags, selection)
        problems[year] = miss
    return dg.SkipReason("; ".join(f"{y}: " + ", ".join(m) for y, m in problems.items()))


def input_missing_for(warehouse_root, year: int) -> list[str]:
    """What keeps the inflow cohort of ``year`` from a final (not provisional) build: the core population of
    the year, and the benefit and follow-up files covering t+1 (report 3.2.1, 3.4: each cohort is followed one
    year); from readiness.py."""
    out = []
    if Warehouse(warehouse_root, layer="core").manifest("population", str(year)) is None:
        out.append(f"core/population {year} not built (run the outcome year first)")
    return out + year_readiness(warehouse_root, year).blocking("two-yearly")


def input_final(warehouse_root, year: int) -> bool:
    """Every input family of the cohort is in the warehouse with no row ``voorlopig``: an earlier measurement
    (or a hand-made run) built it in full."""
    w = Warehouse(warehouse_root, layer="indicators")
    for fam in INPUT_FAMILIES:
        if w.manifest(fam, str(year)) is None:
            return False
        if w.read(fam, str(year)).select((pl.col("status") == "voorlopig").any()).collect().item():
            return False
    return True


def input_cohorts(today: dt.date) -> list[int]:
    """The cohort years a measurement in ``today.year`` is for: every year since the cohorts of the previous
    measurement (t = today - 2 - 2 .. today - 2).  "voor elk cohort" (report 3.2.1), a measurement every two
    years (7.1.1): two new cohorts each time, and the one the previous measurement could not follow yet (a
    cohort of today - 2 is followed through today - 1, whose benefit files land in June, after the 1 May tick)."""
    return list(range(today.year - 2 - INPUT_EVERY_YEARS, today.year - 1))


def input_decision(warehouse_root, today: dt.date,
                   first_year: int = INPUT_FIRST_YEAR) -> list[dg.RunRequest] | dg.SkipReason:
    """In a measurement year, one run per cohort of :func:`input_cohorts` whose follow-up is covered and that
    the warehouse does not hold in full yet; a skip when none is, with what each year lacks."""
    if (today.year - first_year) % INPUT_EVERY_YEARS != 0:
        nxt = today.year + 1
        return dg.SkipReason(f"input indicators are measured every two years (report 7.1.1): not in {today.year}, "
                             f"next in {nxt} (MONITOR_INPUT_FIRST_YEAR={first_year})")
    requests, problems = [], {}
    for year in input_cohorts(today):
        if input_final(warehouse_root, year):
            problems[year] = ["built in full already"]
            continue
        miss = input_missing_for(warehouse_root, year)
        if miss:
            problems[year] = miss
        else:
            requests.append(_request("input", year, today))
    if requests:
        return requests
    return dg.SkipReason("; ".join(f"{y}: " + ", ".join(m) for y, m in problems.items()))


def build_schedules(outcome_cron: str | None = None, input_cron: str | None = None) -> tuple:
    """The two schedules with their cron expressions (a cron is part of a schedule's definition, so it is read
    when the code location loads: MONITOR_OUTCOME_CRON / MONITOR_INPUT_CRON, else the report's 1 May)."""
    outcome_cron = outcome_cron or os.environ.get("MONITOR_OUTCOME_CRON") or OUTCOME_CRON
    input_cron = input_cron or os.environ.get("MONITOR_INPUT_CRON") or INPUT_CRON

    @dg.schedule(name="outcome_yearly", cron_schedule=outcome_cron, job=outcome_job,
                 description="Yearly outcome run (report 7.1.2): core + indicators for the latest complete year.")
    def outcome_yearly(context: dg.ScheduleEvaluationContext, monitor: MonitorResource):
        today = (context.scheduled_execution_time or dt.datetime.now()).date()
        return outcome_decision(Warehouse(monitor.warehouse_root), today)

    @dg.schedule(name="input_biennial", cron_schedule=input_cron, job=input_job,
                 description="Two-yearly input run (report 7.1.1): P-a..P-f and U-a..U-c of every cohort since the "
                             "previous measurement whose one-year follow-up is in the warehouse; off-years skip.")
    def input_biennial(context: dg.ScheduleEvaluationContext, monitor: MonitorResource):
        today = (context.scheduled_execution_time or dt.datetime.now()).date()
        return input_decision(monitor.warehouse_root, today, first_year=monitor.input_first_year)

    return outcome_yearly, input_biennial


#: built with the defaults (importable for tests); build_definitions builds them from the environment
outcome_yearly, input_biennial = build_schedules(OUTCOME_CRON, INPUT_CRON)


FOLLOW_UP_TRIGGER = "follow_up_after_yearly_runs"


def follow_up_requests(run_id: str, tags: dict[str, str]) -> list[dg.RunRequest]:
    """After the outcome run of year t: rebuild the families that follow persons into later years (specs.yaml
    ``follow_up``: O38/O39 look three years ahead, report 5.2 4g; O25 four, report 5.1 4c) for t-1 .. t-n, whose follow-up has just
    grown by year t.  Not after such a rebuild itself (no chain), nor for years before the core's first year."""
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.readiness import CORE_FIRST_YEAR

    part = tags.get("dagster/partition", "")
    if tags.get("monitor/trigger") == FOLLOW_UP_TRIGGER or not part.isdigit():
        return []
    from monitor_dagster.core.inputs import CORE_INPUTS

    year, by_year = int(part), {}
    # core tables of t-1 that read a file of t (education careers: enrolment on 1 October t): rebuilt first,
    # in the same run, so the follow-up families of t-1 see the next year (O25's cohort has left education)
    reads_next = [dg.AssetKey(["core", a]) for a, (_, ins) in CORE_INPUTS.items()
                  if any(getattr(i, "window", None) == "year_and_next" for i in ins.values())]
    for fam in OUTCOME_FAMILIES:
        fu = SPEC.follow_up(fam)
        for y in range(year - (fu.years if fu else 0), year):
            if y >= CORE_FIRST_YEAR:
                by_year.setdefault(y, []).append(FAMILY_ASSETS[fam].key)
    if year - 1 in by_year and year - 1 >= CORE_FIRST_YEAR:
        by_year[year - 1] = reads_next + by_year[year - 1]
    # one run per year with every family whose window reaches year t (O25: t+4, O38/O39: t+3)
    return [dg.RunRequest(run_key=f"follow-up-{y}-after-{run_id}", partition_key=str(y), asset_selection=keys,
                          tags={"monitor/trigger": FOLLOW_UP_TRIGGER, "monitor/after_run": run_id})
            for y, keys in sorted(by_year.items())]


@dg.run_status_sensor(name=FOLLOW_UP_TRIGGER, run_status=dg.DagsterRunStatus.SUCCESS,
                      monitored_jobs=[outcome_job], request_job=outcome_job, minimum_interval_seconds=60,
                      description="After the yearly outcome run of t: rebuild the follow-up families of the years before "
                                  "(O38/O39: t..t+3, of t-1..t-3; O25: t..t+4, of t-1..t-4).")
def follow_up_after_yearly_runs(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    reqs = follow_up_requests(run.run_id, dict(run.tags))
    return reqs or dg.SkipReason("no follow-up family to rebuild after this run")


@dg.run_status_sensor(name="table_after_yearly_runs", run_status=dg.DagsterRunStatus.SUCCESS,
                      monitored_jobs=[outcome_job, input_job], request_job=table_job, minimum_interval_seconds=60,
                      description="After a yearly outcome or input run: rebuild the gated indicator table and the publication.")
def table_after_yearly_runs(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    return dg.RunRequest(run_key=f"table-after-{run.run_id}",
                         tags={"monitor/trigger": "table_after_yearly_runs", "monitor/after_run": run.run_id,
                               "monitor/after_partition": run.tags.get("dagster/partition", "")})


SECM_REPLACE_TRIGGER = "secm_replaces_fallback"


def secm_replacement_requests(warehouse_root) -> list[dg.RunRequest]:
    """One outcome run per year built with the SECM fallback that SECMBUS in the warehouse now covers: the
    year is rebuilt with SECM (report 7.1.3) and its rows become definitief (or stay voorlopig for other
    reasons).  The run key names the SECMBUS release, so a year is replaced once per release."""
    from monitor_dagster.readiness import _Manifests

    rid = (_Manifests(warehouse_root).cumulative("SECMBUS") or {}).get("release_id", "")
    return [dg.RunRequest(run_key=f"secm-replaces-fallback-{y}-{rid}", partition_key=str(y),
                          tags={"monitor/trigger": SECM_REPLACE_TRIGGER, "monitor/secm_release": str(rid)})
            for y in fallback_years(warehouse_root)]


def _warehouse_sensor(name: str, job, description: str, requests, skip: str,
                      default: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING) -> dg.SensorDefinition:
    """A sensor (every 10 minutes; on by default unless ``default`` says otherwise) that asks the warehouse what to
    rebuild: ``requests(warehouse root)`` -> run requests (their run keys name the releases, so each is asked
    once); ``skip`` when none."""
    @dg.sensor(name=name, job=job, minimum_interval_seconds=600, default_status=default, description=description)
    def _sensor(context: dg.SensorEvaluationContext, monitor: MonitorResource):
        return requests(monitor.warehouse_root) or dg.SkipReason(skip)
    return _sensor


secm_replaces_fallback = _warehouse_sensor(
    SECM_REPLACE_TRIGGER, outcome_job,
    "Report 7.1.3: a year built with students and pensioners from enrolment and age is rebuilt when SECMBUS "
    "covering it is in the warehouse.", secm_replacement_requests,
    "no year rests on the SECM fallback, or SECMBUS does not cover it yet")


SURVEY_TRIGGER = "survey_waves"


def survey_wave_requests(warehouse_root) -> list[dg.RunRequest]:
    """One input run of the survey family (S-g, S-w, S-o) per wave year whose response exports and sample frames
    in the warehouse are not the releases its stored figures were computed from (the family manifest's
    ``vintages``).  A wave needs its export and frame only, not the register files of the year: through the
    two-yearly input schedule alone, which waits for the population and the benefit follow-up of t+1 and takes
    only the cohorts t-4..t-2, the 2023 wave would have reached the site in May 2026 (report 7.1.1: "de
    uitkomsten hiervan samen met volgende VIA-voortgangsrapportages te publiceren").  The run key names the
    releases, so a wave runs once per set of releases (a corrected export runs again)."""
    from monitor_dagster.defs.indicators.surveys import FAMILY, KEY, SOURCES

    src, built = Warehouse(warehouse_root), Warehouse(warehouse_root, layer="indicators")
    years = {int(p) for pair in SOURCES.values() for e in pair for p in src.partitions(e) if p.isdigit()}
    out = []
    for y in sorted(years):
        rids = set()
        for pair in SOURCES.values():
            mans = [src.manifest(e, str(y)) for e in pair]
            if all(mans):                   # an export without its frame waits (compute_year refuses it)
                rids |= {m["release_id"] for m in mans}
        if not rids:
            continue
        have = set(((built.manifest(FAMILY, str(y)) or {}).get("vintages") or "").split(",")) - {""}
        if rids == have:
            continue
        out.append(dg.RunRequest(run_key=f"{SURVEY_TRIGGER}-{y}-{'+'.join(sorted(rids))}", partition_key=str(y),
                                 asset_selection=[KEY], tags={"monitor/trigger": SURVEY_TRIGGER}))
    return out


survey_waves = _warehouse_sensor(
    SURVEY_TRIGGER, input_job,
    "A survey wave (export + sample frame) in the warehouse whose figures are not built from those releases -> the "
    "survey family of that year; the table and site follow.", survey_wave_requests,
    "every survey wave in the warehouse is built from its current releases")


REVISED_TRIGGER = "rebuild_revised_years"


def revised_year_requests(warehouse_root) -> list[dg.RunRequest]:
    """One outcome run per built year whose tables rest on a source release the warehouse has replaced since
    (readiness.revised_years: a corrected SPOLISBUS 2019 V2 over V1, a later cumulative release), of the assets
    the year can build now; the run key names the new releases, so a revision is rebuilt once.  A year on the
    SECM fallback is left to ``secm_replaces_fallback``."""
    from monitor_dagster.readiness import revised_years

    skip = set(fallback_years(warehouse_root))
    out = []
    for year, changes in revised_years(warehouse_root).items():
        keys = buildable_keys(year_readiness(warehouse_root, year)) if year not in skip else []
        if keys:
            new = "+".join(sorted(c.split(" -> ")[1] for c in changes))
            out.append(dg.RunRequest(run_key=f"revised-{year}-{new}", partition_key=str(year), asset_selection=keys,
                                     tags={"monitor/trigger": REVISED_TRIGGER,
                                           "monitor/revised": "; ".join(changes)[:1000]}))
    return out


rebuild_revised_years = _warehouse_sensor(
    REVISED_TRIGGER, outcome_job,
    "A built year whose tables rest on a source release that a newer one replaced (a corrected file, a later "
    "cumulative release) -> the outcome run of that year; the table and site follow.", revised_year_requests,
    "no built year rests on a replaced release", default=dg.DefaultSensorStatus.STOPPED)

