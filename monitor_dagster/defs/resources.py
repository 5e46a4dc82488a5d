"""Resources: where the landing zone, the warehouse and the catalog are (one object, configured once).

Nothing is read from the environment at import: ``resource_from_env`` (called by ``build_definitions`` when the
code location loads) turns each ``MONITOR_*`` variable that is set into a Dagster ``EnvVar``, which Dagster
resolves when a run or tick starts and shows as such in the UI (Deployment > Resources).
"""

import os
from functools import cached_property
from pathlib import Path

import dagster as dg
from pydantic import Field

from monitor_dagster.catalog import Catalog, default_catalog, load_catalog
from monitor_dagster.choices import MethodChoices

#: resource field -> (environment variable, default when the variable is not set)
ENV = {"landing": ("MONITOR_LANDING", "demo_data/landing"),
       "warehouse": ("MONITOR_WAREHOUSE", "demo_data/warehouse"),
       "catalog_path": ("MONITOR_CATALOG", None),
       "input_first_year": ("MONITOR_INPUT_FIRST_YEAR", 2022),
       "buckets": ("MONITOR_BUCKETS", 0),
       "bucket_memory_gb": ("MONITOR_BUCKET_MEMORY_GB", 2),
       "method": ("MONITOR_METHOD", ""),
       "sensitivity": ("MONITOR_SENSITIVITY", 1)}
_INT = {"input_first_year", "buckets", "bucket_memory_gb", "sensitivity"}


class MonitorResource(dg.ConfigurableResource):
    """Paths of one monitor installation and the first year of the two-yearly input measurement (report
    7.1.1: the next measurement from 2022).  ``make ui`` and ``monitor run`` look at the same warehouse because
    the Makefile exports MONITOR_LANDING / MONITOR_WAREHOUSE."""

    landing: str = ENV["landing"][1]
    warehouse: str = ENV["warehouse"][1]
    catalog_path: str = Field(default_factory=lambda: str(default_catalog()))
    input_first_year: int = ENV["input_first_year"][1]
    #: person buckets of the indicator families (indicators/engine.py, issue 12): 0 = chosen from the input
    #: size and ``bucket_memory_gb``, the memory one bucket's inputs may take
    buckets: int = ENV["buckets"][1]
    bucket_memory_gb: int = ENV["bucket_memory_gb"][1]
    #: method choices where the report is silent (monitor_dagster/choices.py), e.g.
    #: ``student_rule=any_day``; empty = the monitor's defaults.  Meant for sensitivity runs in a warehouse of
    #: their own: the choice is recorded in every table's manifest.
    method: str = ENV["method"][1]
    #: 1: the table job computes the sensitivity table (indicators/sensitivity) when its inputs changed; 0: it
    #: keeps the stored one (a national warehouse: each alternative rebuilds a population, docs/methodology.md)
    sensitivity: int = ENV["sensitivity"][1]

    @property
    def landing_root(self) -> Path:
        return Path(self.landing)

    @property
    def warehouse_root(self) -> Path:
        return Path(self.warehouse)

    @property
    def choices(self) -> MethodChoices:
        return MethodChoices.parse(self.method)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path)


def resource_from_env(**overrides) -> MonitorResource:
    """A MonitorResource whose fields are ``EnvVar`` for every MONITOR_* variable set now, defaults otherwise.
    A variable set to nothing (``MONITOR_BUCKETS= make run``, the shell's way of clearing one) counts as not
    set: before, Dagster refused every run with "cannot be coerced into an int" for the numeric ones."""
    kw = {}
    for field, (var, _) in ENV.items():
        if os.environ.get(var, "").strip():
            kw[field] = dg.EnvVar.int(var) if field in _INT else dg.EnvVar(var)
    return MonitorResource(**{**kw, **overrides})
