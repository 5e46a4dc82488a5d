"""Indicator assets (group ``indicators``): O01-O18 and the input indicators per year, then one gated table.

``indicators/by_year`` computes the indicators of year t from the core layer (register indicators) and the
EBB (O01-O03); ``indicators/inputs_by_year`` the input indicators P-a..P-f and U-a..U-c of the benefit-inflow
cohorts of year t (report 3.2.1, 3.4; built every two years by ``input_job``, report 7.1.1);
``indicators/indicator_table`` unions all years of both, marks registered trend breaks, applies the
disclosure gate (blocking check: nothing is exported that fails it) and runs the Great Expectations trend
check (a jump that no registered break explains fails it).
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.defs.core.assets import IO, SAME_YEAR, core_partitions, src
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
from monitor_dagster.indicators import ebb as EBB
from monitor_dagster.indicators import inputs as INP
from monitor_dagster.indicators import register as REG
from monitor_dagster.indicators.table import empty
from monitor_dagster.warehouse import Warehouse

GROUP = "indicators"
SPOLIS_BASED = ["O04", "O06", "O07", "O08", "O10"]


def core(name: str) -> dg.AssetIn:
    return dg.AssetIn(key=dg.AssetKey(["core", name]), input_manager_key=IO)


def vintages(warehouse: str, year: int) -> tuple[str, bool]:
    """Release ids of the sources a year's indicators rest on, and whether SPOLIS of the year is provisional."""
    w = Warehouse(warehouse)
    ids, provisional = [], False
    for entry, part in (("GBAPERSOONTAB", "latest"), ("GBAADRESOBJECTBUS", "latest"), ("SECMBUS", "latest"),
                        ("SPOLISBUS", str(year)), ("INPATAB", str(year)), ("EBBNW", str(year)), ("HOOGSTEOPLTAB", str(year))):
        m = w.manifest(entry, part)
        if m:
            ids.append(m["release_id"])
            provisional |= entry == "SPOLISBUS" and bool(m.get("provisional"))
    return ",".join(ids), provisional


@dg.asset(
    key=dg.AssetKey(["indicators", "by_year"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins={"population": core("population"), "secm_months": core("secm_months"), "job_months": core("job_months"),
         "ebb": src("EBBNW", SAME_YEAR), "inpatab": src("INPATAB", SAME_YEAR)},
    description="Indicators O01-O18 of year t as rows of the indicator table (DESIGN.md contract), not yet gated.",
    kinds={"polars"},
)
def by_year(context: AssetExecutionContext, monitor: MonitorResource, population, secm_months, job_months, ebb,
            inpatab) -> dg.Output:
    year = int(context.partition_key)
    key = str(year)
    vint, provisional = vintages(monitor.warehouse, year)
    parts = [REG.register_indicators(_one(population, key), _one(secm_months, key), _one(job_months, key), year,
                                     inpatab=inpatab.get(key), vintages=vint)]
    e = ebb.get(key)
    if e is not None:
        parts += [EBB.o01_werkloosheid(e, year, vint), EBB.o02_bruto_participatie(e, year, vint),
                  EBB.o03_netto_participatie(e, year, vint)]
    df = pl.concat([p for p in parts if p.height], how="vertical") if any(p.height for p in parts) else empty()
    if provisional:   # part-year SPOLIS: the indicators resting on it are provisional (DESIGN.md)
        df = df.with_columns(pl.when(pl.col("indicator_id").is_in(SPOLIS_BASED)).then(pl.lit("voorlopig"))
                             .otherwise(pl.col("status")).alias("status"))
    return dg.Output(df, metadata={"rows": df.height, "indicators": ", ".join(sorted(df["indicator_id"].unique())),
                                   "provisional": provisional, "vintages": vint})


def _one(x, key):
    return x.get(key) if isinstance(x, dict) else x


# ------------------------------------------------------------------------------------ input indicators
#: cumulative source files behind each inflow family: (benefit file(s), follow-up file(s)); within a tuple the
#: files succeed each other (SRGPERSOONPWETBUS 2015-2018, then PWETSRGPERSOONBUS), so the newest one counts
INPUT_SOURCES = {"bijstand": (("BIJSTANDPERSOONBUS",), ("SRGPERSOONPWETBUS", "PWETSRGPERSOONBUS")),
                 "WW": (("WWPERSOONBUS",), ("SIRWWPERSOONBUS",)),
                 "AO": (("AOTOTPERSOONBUS",), ("SIRAGPERSOONBUS",))}


def input_coverage(warehouse: str, family: str, year: int) -> tuple[bool, dt.date | None, str]:
    """(available, observed_until, vintages) of an inflow family.

    The spell files are cumulative: a release of period P holds the spells up to 31 December P.  The family is
    observed up to the **oldest** of its files' coverage (for successor files the newest of the pair), read
    from the warehouse manifests of the releases ingested (``period``); not ``available`` when a file is not in
    the warehouse at all; ``observed_until`` None when a manifest has no period (coverage unknown: taken as
    complete).  ``vintages``: release ids of the population's sources and of the family's files.
    The spell tables are built from the same releases when the core layer ran after the last ingest."""
    w = Warehouse(warehouse)
    ids = []
    for entry, part in (("GBAPERSOONTAB", "latest"), ("GBAADRESOBJECTBUS", "latest"), ("SECMBUS", "latest"),
                        ("HOOGSTEOPLTAB", str(year))):
        m = w.manifest(entry, part)
        if m:
            ids.append(m["release_id"])
    ends: list[dt.date | None] = []
    for files in INPUT_SOURCES[family]:
        manifests = [m for m in (w.manifest(e, "latest") for e in files) if m]
        if not manifests:
            return False, None, ",".join(ids)
        ids += [m["release_id"] for m in manifests]
        periods = [m.get("period") for m in manifests]
        ends.append(None if any(p is None for p in periods) else dt.date(max(periods), 12, 31))
    until = None if any(e is None for e in ends) else min(ends)
    return True, until, ",".join(ids)


@dg.asset(
    key=dg.AssetKey(["indicators", "inputs_by_year"]), group_name=GROUP, partitions_def=core_partitions,
    io_manager_key=IO,
    ins={"population": core("population"), "benefit_spells": core("benefit_spells"),
         "provision_spells": core("provision_spells"), "trajectory_spells": core("trajectory_spells")},
    description="Input indicators of the benefit-inflow cohort of year t, followed 12 months (report 3.2.1, 3.4): "
                "P-a..P-f Participatiewet provisions after a bijstand inflow, U-a..U-c UWV re-integration "
                "trajectories after a WW / Wajong / WIA (WGA) inflow. Rows of the indicator table, not yet gated; "
                "status voorlopig while the spell files do not cover t+1.",
    kinds={"polars"},
)
def inputs_by_year(context: AssetExecutionContext, monitor: MonitorResource, population, benefit_spells,
                   provision_spells, trajectory_spells) -> dg.Output:
    year = int(context.partition_key)
    pop = _one(population, str(year))
    if pop is None:
        raise dg.Failure(description=f"core/population {year} is not in the warehouse: build the core layer first")
    if benefit_spells is None:
        raise dg.Failure(description="core/benefit_spells is not in the warehouse: build the core layer first")
    cov = {fam: input_coverage(monitor.warehouse, fam, year) for fam in INPUT_SOURCES}
    parts, notes = [], []
    if provision_spells is not None and cov["bijstand"][0]:
        parts.append(INP.participation_indicators(pop, benefit_spells, provision_spells, year,
                                                  observed_until=cov["bijstand"][1], vintages=cov["bijstand"][2]))
    else:
        notes.append("P-a..P-f: bijstand or provision files not in the warehouse")
    uwv = tuple(f for f in ("WW", "AO") if cov[f][0])
    if trajectory_spells is not None and uwv:
        parts.append(INP.uwv_indicators(pop, benefit_spells, trajectory_spells, year,
                                        observed_until={f: cov[f][1] for f in uwv},
                                        vintages={f: cov[f][2] for f in uwv}, families=uwv))
    if len(uwv) < 2 or trajectory_spells is None:
        notes.append("U-a..U-c: missing files for " + ", ".join(f for f in ("WW", "AO") if f not in uwv or
                                                                 trajectory_spells is None))
    parts = [p for p in parts if p.height]
    df = pl.concat(parts, how="vertical") if parts else empty()
    tot = df.filter(pl.col("indicator_id").is_in(["P-c", "U-a"]) & (pl.col("herkomst") == "totaal")
                    & pl.all_horizontal(pl.col(c) == "totaal" for c in
                                        ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding")))
    md = "| indicator | measure | cohort | % | status |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r['indicator_id']} | {r['measure']} | {r['n']} | {r['value']:.1f} | {r['status']} |"
        for r in tot.iter_rows(named=True))
    return dg.Output(df, metadata={
        "rows": df.height, "indicators": ", ".join(sorted(df["indicator_id"].unique())),
        "cohorts": dg.MetadataValue.md(md),
        "observed_until": ", ".join(f"{f}: {c[1]}" for f, c in cov.items() if c[0]),
        "status": ", ".join(sorted(df["status"].unique())) if df.height else "",
        "notes": "; ".join(notes)})


#: the two-yearly run of the input indicators (report 7.1.1); the schedule lives in defs/schedules.py
input_job = dg.define_asset_job(
    "input_indicators_biennial", selection=dg.AssetSelection.assets(inputs_by_year),
    description="Input indicators P-a..P-f and U-a..U-c of one cohort year (report 3.2.1, 3.4, 7.1.1); needs the "
                "core layer of that year and the spell tables; rebuild indicators/indicator_table afterwards.",
    tags={"monitor/trigger": "input_biennial"})


@dg.asset(
    key=dg.AssetKey(["indicators", "indicator_table"]), group_name=GROUP, io_manager_key=IO,
    ins={"years": dg.AssetIn(key=dg.AssetKey(["indicators", "by_year"]), input_manager_key=IO,
                             partition_mapping=dg.AllPartitionMapping()),
         "inputs": dg.AssetIn(key=dg.AssetKey(["indicators", "inputs_by_year"]), input_manager_key=IO,
                              partition_mapping=dg.AllPartitionMapping())},
    check_specs=[dg.AssetCheckSpec("disclosure", asset=dg.AssetKey(["indicators", "indicator_table"]), blocking=True,
                                   description="no cell under 10 persons (EBB: >15,000 weighted), no recoverable cell, no keys"),
                 dg.AssetCheckSpec("trend_breaks", asset=dg.AssetKey(["indicators", "indicator_table"]),
                                   description="Great Expectations: no year-on-year jump that a registered break does not explain")],
    description="The gated indicator table of all years (outcome indicators of by_year and input indicators of "
                "inputs_by_year): trend breaks marked, disclosure control applied. `monitor export` writes this table.",
    kinds={"polars"},
)
def indicator_table(context: AssetExecutionContext, monitor: MonitorResource, years, inputs):
    frames = []
    for got in (years, inputs):   # {year: LazyFrame, or None for a partition never built}
        if isinstance(got, dict):
            frames += [f for f in got.values() if f is not None]
        elif got is not None:
            frames.append(got)
    table = pl.concat([f.collect() for f in frames], how="vertical") if frames else empty()
    table = apply_disclosure(TB.explain(table))
    problems = check_disclosure(table)
    trend = TB.check(table, docs_dir=Path(monitor.warehouse))   # GE Data Docs in <warehouse>/gx/
    yield dg.Output(table, metadata={"rows": table.height, "suppressed": int(table["suppressed"].sum()),
                                     "years": ", ".join(str(y) for y in sorted(table["year"].unique()))})
    yield dg.AssetCheckResult(check_name="disclosure", passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"violations": len(problems), "first": "; ".join(problems[:5])})
    yield dg.AssetCheckResult(check_name="trend_breaks", passed=trend.success, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"unexplained_jumps": trend.unexplained.height,
                                        "explained_jumps": trend.explained.height,
                                        "data_docs": trend.ge_result.get("data_docs", "")})


INDICATOR_ASSETS = [by_year, inputs_by_year, indicator_table]
