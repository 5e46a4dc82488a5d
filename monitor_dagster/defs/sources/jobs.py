"""Asset jobs of the source layer: one per partitions definition (Dagster runs one partitions definition per
run), plus one for the unpartitioned cumulative and reference files.  The release sensor targets these jobs;
in the UI they are the natural unit for backfills ("ingest SPOLISBUS 2015-2019")."""

from functools import lru_cache

import dagster as dg

from monitor_dagster.catalog import Entry, load_catalog
from monitor_dagster.defs.sources.assets import asset_key


def job_name(e: Entry) -> str:
    if e.kind != "yearly":
        return "ingest_cumulative_and_reference"
    first, last = e.periods
    return f"ingest_yearly_{first}_{last or 'now'}"


@lru_cache(maxsize=None)
def source_jobs(catalog_path: str | None = None) -> tuple:
    catalog = load_catalog(catalog_path)
    groups: dict[str, list[Entry]] = {}
    for e in catalog.files.values():
        groups.setdefault(job_name(e), []).append(e)
    jobs = []
    for name, entries in sorted(groups.items()):
        jobs.append(dg.define_asset_job(
            name=name, selection=dg.AssetSelection.assets(*[asset_key(e.name) for e in entries]),
            description="Ingest of " + ", ".join(e.name for e in entries)))
    return tuple(jobs)
