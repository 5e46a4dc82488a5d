"""The Dagster code location: ``dagster dev -m monitor_dagster.definitions`` (``make ui``).

``build_definitions`` is also what ``monitor run`` / ``backfill`` execute (runner.py): the CLI runs the very jobs
that the sensors and schedules launch, on the same resources, in-process.
"""

from __future__ import annotations

import dagster as dg

from monitor_dagster.catalog import load_catalog
from monitor_dagster.defs.core.assets import CORE_ASSETS, IO
from monitor_dagster.defs.core.bucket_steps import build_core_bucket_steps_job
from monitor_dagster.defs.indicators.assets import INDICATOR_ASSETS, input_job
from monitor_dagster.defs.indicators.bucket_steps import build_bucket_steps_job
from monitor_dagster.defs.io import WarehouseIOManager
from monitor_dagster.defs.progress import progress_logger
from monitor_dagster.defs.publication.assets import PUBLICATION_ASSETS
from monitor_dagster.defs.resources import MonitorResource, resource_from_env
from monitor_dagster.defs.schedules import (
    build_schedules,
    core_spells_job,
    outcome_job,
    follow_up_after_yearly_runs,
    table_after_yearly_runs,
    rebuild_revised_years,
    secm_replaces_fallback,
    survey_waves,
    table_job,
)
from monitor_dagster.defs.sources.assets import source_assets
from monitor_dagster.defs.sources.jobs import source_jobs
from monitor_dagster.defs.sources.sensors import overdue_sensor, release_sensor
from monitor_dagster.run_state import interrupted_runs_sensor


def build_definitions(catalog_path: str | None = None, resource: MonitorResource | None = None) -> dg.Definitions:
    catalog = load_catalog(catalog_path)
    if resource is None:   # EnvVar for each MONITOR_* variable set: resolved when a run or tick starts
        resource = resource_from_env() if catalog_path is None else resource_from_env(catalog_path=catalog_path)
    return dg.Definitions(
        assets=[*source_assets(catalog), *CORE_ASSETS, *INDICATOR_ASSETS, *PUBLICATION_ASSETS],
        # the same job objects the sensor, the schedules and `monitor run` target
        jobs=[*source_jobs(), outcome_job, core_spells_job, input_job, table_job, build_bucket_steps_job(),
              build_core_bucket_steps_job()],
        sensors=[release_sensor, overdue_sensor, table_after_yearly_runs, follow_up_after_yearly_runs,
                 secm_replaces_fallback, survey_waves, rebuild_revised_years,
                 interrupted_runs_sensor],
        schedules=list(build_schedules()),
        resources={"monitor": resource, IO: WarehouseIOManager(warehouse=resource.warehouse)},
        # a run uses the loggers its run config names, else Dagster's default console logger: `monitor run` names
        # both (defs/progress.py), the daemon's and the UI's runs neither
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )


def bucket_steps_job_from_env() -> dg.JobDefinition:
    """The bucket-step job bound to the resources (MONITOR_* variables): a module-level function, so that
    ``dg.reconstructable`` can hand it to the multiprocess executor's subprocesses (tests, scripts)."""
    return build_definitions().get_job_def("indicators_bucket_steps")


def core_bucket_steps_job_from_env() -> dg.JobDefinition:
    """The job ``core_bucket_steps`` bound to the resources, for ``dg.reconstructable`` (as above)."""
    return build_definitions().get_job_def("core_bucket_steps")


defs = build_definitions()
