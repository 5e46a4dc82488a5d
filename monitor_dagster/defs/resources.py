"""Resources: where the landing zone, the warehouse and the catalog are (one object, configured once)."""


import os
from functools import cached_property
from pathlib import Path

import dagster as dg

from monitor_dagster.catalog import DEFAULT_CATALOG, Catalog, load_catalog


class MonitorResource(dg.ConfigurableResource):
    """Paths of one monitor installation.  Defaults come from MONITOR_LANDING / MONITOR_WAREHOUSE (the
    Makefile exports them) so `make ui` and `monitor run` look at the same warehouse."""

    landing: str = os.environ.get("MONITOR_LANDING", "demo_data/landing")
    warehouse: str = os.environ.get("MONITOR_WAREHOUSE", "demo_data/warehouse")
    catalog_path: str = str(DEFAULT_CATALOG)

    @property
    def landing_root(self) -> Path:
        return Path(self.landing)

    @property
    def warehouse_root(self) -> Path:
        return Path(self.warehouse)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path)
