"""Release sensor and overdue-release sensor (docs/operations.md).

The release sensor scans the landing zone cheaply, asks :func:`monitor_dagster.landing.plan` what is new,
and requests one run per new release with a run key of file, version and content hash: re-delivery of the
same file asks nothing, a corrected file runs again, a file still being copied waits, an older version after
a newer one is ignored with a logged reason.  Declarative automation only watches the latest partition, so
revised older years are requested explicitly here.  The overdue sensor never launches runs: it reports
releases whose bijlage D date has passed without a file.
"""


import datetime as dt

import dagster as dg

from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import asset_key
from monitor_dagster.defs.sources.jobs import job_name, source_jobs
from monitor_dagster.landing import SensorCursor, mark_processed, plan, scan
from monitor_dagster.status import status
from monitor_dagster.warehouse import Warehouse


@dg.sensor(name="release_sensor", jobs=source_jobs(), minimum_interval_seconds=60,
           description="New CBS files or versions in the landing zone -> runs for the files and periods they affect.")
def release_sensor(context: dg.SensorEvaluationContext, monitor: MonitorResource) -> dg.SensorResult:
    catalog = monitor.catalog
    landed = scan(monitor.landing_root, catalog)
    cursor = SensorCursor.from_json(context.cursor)
    decisions, cursor = plan(landed, cursor, monitor.landing_root, catalog)
    requests = []
    for d in decisions:
        if d.action == "ingest":
            e = catalog.entry(d.entry)
            requests.append(dg.RunRequest(
                run_key=d.run_key, job_name=job_name(e), asset_selection=[asset_key(d.entry)],
                partition_key=str(d.period) if e.kind == "yearly" else None,
                tags={"monitor/file": d.relpath, "monitor/version": f"V{d.version}", "monitor/sha256": d.sha256[:16],
                      "monitor/trigger": "release_sensor"}))
            cursor = mark_processed(cursor, d)
        elif d.action in ("skip_older", "skip_copy", "unknown"):
            context.log.warning(d.reason)
        elif d.action == "wait":
            context.log.info(d.reason)
    skip = None if requests else dg.SkipReason("no new or changed release in the landing zone")
    return dg.SensorResult(run_requests=requests, cursor=cursor.to_json(), skip_reason=skip)


@dg.sensor(name="overdue_releases", minimum_interval_seconds=24 * 3600,
           description="Reports releases whose bijlage D date has passed while no file has landed (never runs anything).")
def overdue_sensor(context: dg.SensorEvaluationContext, monitor: MonitorResource) -> dg.SkipReason:
    rows = status(monitor.landing_root, Warehouse(monitor.warehouse_root), monitor.catalog, dt.date.today())
    late = [r for r in rows if r.overdue]
    for r in late:
        context.log.warning(f"overdue: {r.entry} {r.period} ({r.note})")
    return dg.SkipReason(f"{len(late)} overdue release(s)" + (": " + ", ".join(f"{r.entry} {r.period}" for r in late[:20])
                                                               if late else ""))
