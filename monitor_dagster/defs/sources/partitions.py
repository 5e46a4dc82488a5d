"""Yearly partitions of source files; defined once, imported by assets,
sensors and the runner.  One definition per (first, last) period range, so assets with the same range share
it and run together."""

from __future__ import annotations

from functools import lru_cache

import dagster as dg

from monitor_dagster.catalog import Entry


@lru_cache(maxsize=None)
def yearly(first: int, last: int | None) -> dg.TimeWindowPartitionsDefinition:
    """Years ``first``..``last`` (open: up to and including the current year, since synthetic and provisional
    releases of the running year exist)."""
    if last is None:
        return dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start=str(first), end_offset=1)
    return dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start=str(first), end=str(last + 1))


def partitions_for(entry: Entry) -> dg.TimeWindowPartitionsDefinition | None:
    """Yearly files are partitioned by year; cumulative files hold their latest release, reference files one table."""
    return yearly(*entry.periods) if entry.kind == "yearly" else None


def warehouse_partition(entry: Entry, period: int | None) -> str:
    if entry.kind == "yearly":
        return str(period)
    return "latest" if entry.kind == "cumulative" else "all"
