"""The Monitor gelijke kansen pipeline (README.md).  The allocator options go first: polars reads them when it
loads (monitor_dagster/allocator.py)."""

from monitor_dagster import allocator as _allocator

_allocator.configure()
