"""Publication asset (group ``publication``): the web publication, factsheet and technical report.

Wiring only: loads the gated ``indicators/indicator_table`` through the warehouse IO manager and calls
:func:`monitor_dagster.publication.site.build_site`, which refuses a table that fails the disclosure gate
(report 7.3; docs/disclosure.md).  The site is files, not a frame: the asset writes them itself
(atomically, see ``build_site``) and reports where they are.
"""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from monitor_dagster.defs.core.assets import IO
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.publication.site import build_site

GROUP = "publication"
SITE_KEY = dg.AssetKey(["publication", "site"])


def default_site_dir(warehouse: str | Path) -> Path:
    """Where the site goes unless told otherwise: ``<warehouse>/publication/site``."""
    return Path(warehouse) / "publication" / "site"


class PublishConfig(dg.Config):
    site_dir: str = ""   # empty: <warehouse>/publication/site


@dg.asset(
    key=SITE_KEY, group_name=GROUP,
    ins={"table": dg.AssetIn(key=dg.AssetKey(["indicators", "indicator_table"]), input_manager_key=IO)},
    description="Click-through web publication in Dutch (offline: all scripts bundled), one-page factsheet (HTML, "
                "PDF) and technical report, built only from the disclosure-controlled indicator table (report 7.3).",
    kinds={"html", "pdf"},
)
def site(context: AssetExecutionContext, config: PublishConfig, monitor: MonitorResource, table) -> dg.MaterializeResult:
    if table is None:
        raise dg.Failure(description="indicators/indicator_table is not in the warehouse: build the indicators first")
    target = Path(config.site_dir) if config.site_dir else default_site_dir(monitor.warehouse)
    frame = table.collect() if hasattr(table, "collect") else table
    # the warehouse holds the checks of this table (<warehouse>/gx/summary.json): the report shows them, not a re-run
    res = build_site(frame, target, progress=lambda d, i, n: context.log.debug(f"publication: {d} ({i}/{n})"),
                     warehouse=monitor.warehouse)
    context.log.info(f"publication written to {res.index}")
    return dg.MaterializeResult(metadata={
        "index": dg.MetadataValue.path(str(res.index)),
        "pages": len(res.pages), "indicators": ", ".join(res.indicators), "cells": res.cells,
        "suppressed_cells": res.suppressed, "provisional_years": ", ".join(map(str, res.provisional_years)) or "none",
        "unexplained_trend_jumps": res.trend_unexplained,
    })


PUBLICATION_ASSETS = [site]


def materialize_site(warehouse: Path, site_dir: Path | None = None, instance: dg.DagsterInstance | None = None,
                     log_level: str = "WARNING") -> dg.ExecuteInProcessResult:
    """``monitor publish``: materialise ``publication/site`` in-process (no daemon), on the instance of
    ``DAGSTER_HOME`` so the run shows in the UI like those of ``monitor run``."""
    from monitor_dagster.catalog import load_catalog
    from monitor_dagster.defs.core.assets import CORE_ASSETS
    from monitor_dagster.defs.indicators.assets import INDICATOR_ASSETS
    from monitor_dagster.defs.io import WarehouseIOManager
    from monitor_dagster.defs.sources.assets import source_assets
    from monitor_dagster.run_state import mark_interrupted, process_tags
    from monitor_dagster.runner import instance_from_env

    instance = instance or instance_from_env()
    mark_interrupted(instance, "monitor publish")   # a killed publish left its run STARTED: marked failed first
    resource = MonitorResource(warehouse=str(warehouse))
    cfg = {"ops": {"publication__site": {"config": {"site_dir": str(site_dir) if site_dir else ""}}},
           "loggers": {"console": {"config": {"log_level": log_level}}}}
    graph = [*source_assets(load_catalog()), *CORE_ASSETS, *INDICATOR_ASSETS, site]   # the whole graph: inputs resolve
    return dg.materialize(graph, selection=[SITE_KEY], run_config=cfg,
                          instance=instance, raise_on_error=False,
                          resources={"monitor": resource, IO: WarehouseIOManager(warehouse=str(warehouse))},
                          tags={"monitor/trigger": "cli", **process_tags()})
