"""Schedules (report 7.1.1-7.1.2: outcome indicators yearly; the run from May, when most files have landed).

The yearly outcome schedule asks, at its tick, which year can be built: the latest year whose required
sources are in the warehouse in their final (not provisional) release.  A tick whose inputs are incomplete
does not run half-way: it skips with the list of what is missing.  Dates are configuration
(``MONITOR_OUTCOME_CRON``, default 06:00 on 1 May).  The two-yearly input run follows with the input
indicators (P-a..U-c), which are not built yet.
"""

import datetime as dt
import os

import dagster as dg

from monitor_dagster.defs.core.assets import CORE_YEARLY
from monitor_dagster.defs.indicators.assets import by_year
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.warehouse import Warehouse

OUTCOME_CRON = os.environ.get("MONITOR_OUTCOME_CRON", "0 6 1 5 *")
# sources an outcome year needs: (entry, partition: "year" or "latest")
REQUIRED = [("SPOLISBUS", "year"), ("INPATAB", "year"), ("EBBNW", "year"), ("HOOGSTEOPLTAB", "year"),
            ("GBAPERSOONTAB", "latest"), ("GBAADRESOBJECTBUS", "latest"), ("GBAMIGRATIEBUS", "latest"),
            ("SECMBUS", "latest"), ("LANDAKTUEELREF", "all")]

outcome_job = dg.define_asset_job("outcome_indicators_yearly", selection=dg.AssetSelection.assets(*CORE_YEARLY, by_year),
                                  description="Core tables and outcome indicators of one year.")


def missing_for(warehouse: Warehouse, year: int) -> list[str]:
    """What keeps ``year`` from being built: absent sources, or SPOLIS still provisional (part-year)."""
    out = []
    for entry, part in REQUIRED:
        p = str(year) if part == "year" else part
        m = warehouse.manifest(entry, p)
        if m is None:
            out.append(f"{entry} {year if part == 'year' else ''}".strip() + " not ingested")
        elif entry == "SPOLISBUS" and m.get("provisional"):
            out.append(f"SPOLISBUS {year} is provisional ({m.get('release_id')}, t/m maand {m.get('months_covered')})")
    if warehouse.manifest("SECMBUS", "latest") and (warehouse.manifest("SECMBUS", "latest").get("period") or 0) < year:
        out.append(f"SECMBUS does not cover {year} yet (latest release {warehouse.manifest('SECMBUS', 'latest')['release_id']}); "
                   "the population would fall back on enrolment + age")
    return out


def outcome_decision(warehouse: Warehouse, today: dt.date) -> dg.RunRequest | dg.SkipReason:
    """Run for the latest year up to two years back that is complete; otherwise skip with what is missing."""
    problems = {}
    for year in (today.year - 1, today.year - 2):
        miss = missing_for(warehouse, year)
        if not miss:
            return dg.RunRequest(run_key=f"outcome-{year}-{today.isoformat()}", partition_key=str(year),
                                 tags={"monitor/trigger": "outcome_yearly"})
        problems[year] = miss
    return dg.SkipReason("; ".join(f"{y}: " + ", ".join(m) for y, m in problems.items()))


@dg.schedule(name="outcome_yearly", cron_schedule=OUTCOME_CRON, job=outcome_job,
             description="Yearly outcome run (report 7.1.1): core + indicators for the latest complete year.")
def outcome_yearly(context: dg.ScheduleEvaluationContext, monitor: MonitorResource):
    today = (context.scheduled_execution_time or dt.datetime.now()).date()
    return outcome_decision(Warehouse(monitor.warehouse_root), today)
