"""Indicator assets (group ``indicators``): O01-O18 per year, then one gated indicator table.

``indicators/by_year`` computes the indicators of year t from the core layer (register indicators) and the
EBB (O01-O03); ``indicators/indicator_table`` unions all years, marks registered trend breaks, applies the
disclosure gate (blocking check: nothing is exported that fails it) and runs the Great Expectations trend
check (a jump that no registered break explains fails it).
"""

from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.defs.core.assets import IO, SAME_YEAR, core_partitions, src
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
from monitor_dagster.indicators import ebb as EBB
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


@dg.asset(
    key=dg.AssetKey(["indicators", "indicator_table"]), group_name=GROUP, io_manager_key=IO,
    ins={"years": dg.AssetIn(key=dg.AssetKey(["indicators", "by_year"]), input_manager_key=IO,
                             partition_mapping=dg.AllPartitionMapping())},
    check_specs=[dg.AssetCheckSpec("disclosure", asset=dg.AssetKey(["indicators", "indicator_table"]), blocking=True,
                                   description="no cell under 10 persons (EBB: >15,000 weighted), no recoverable cell, no keys"),
                 dg.AssetCheckSpec("trend_breaks", asset=dg.AssetKey(["indicators", "indicator_table"]),
                                   description="Great Expectations: no year-on-year jump that a registered break does not explain")],
    description="The gated indicator table of all years: trend breaks marked, disclosure control applied. "
                "`monitor export` writes this table.",
    kinds={"polars"},
)
def indicator_table(context: AssetExecutionContext, monitor: MonitorResource, years):
    frames = [f for f in years.values() if f is not None] if isinstance(years, dict) else [years]
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


INDICATOR_ASSETS = [by_year, indicator_table]
