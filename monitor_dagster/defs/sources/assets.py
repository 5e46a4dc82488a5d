"""One asset per catalog entry (group ``sources``), each with a blocking pandera schema check and a
non-blocking ``columns`` check.

The asset reads the landed release, validates it (all failures collected) and writes normalised parquet to
the warehouse.  On a schema failure (a key column missing or invalid, a used column invalid: docs/ingest.md
"Column roles") it reports the failed check (with the failures as metadata), raises, and writes nothing:
the previous good version stays current and downstream assets do not run.  Missing used/unused columns and
invalid values in unused columns do not block: the check ``columns`` fails with severity WARN and lists them,
and the materialization carries ``missing_columns`` and ``warnings`` (plain string lists, for the CLI).  So do
columns the catalog does not know (dropped; ``extra_columns``).

No silent rollback: a landed release older than the one the warehouse holds is not ingested; the asset reports
the warehouse's release unchanged with ``skipped`` (the reason) and a logged warning.  The run tag
``monitor/allow_older`` (release ids, comma-separated; ``monitor run --allow-older``) names releases that may
replace a newer one.
"""


import dagster as dg
from dagster import AssetExecutionContext

from monitor_dagster.catalog import Catalog, Entry
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.partitions import partitions_for
from monitor_dagster.ingest.release import IngestError, NoRelease, ingest_release
from monitor_dagster.warehouse import Warehouse

SCHEMA_CHECK = "schema"
COLUMNS_CHECK = "columns"
GROUP = "sources"
#: run tag naming the releases that may replace a newer ingested one (``monitor run --allow-older``)
ALLOW_OLDER_TAG = "monitor/allow_older"


def allow_older_from_tags(tags: dict) -> list[str]:
    """Release ids of the ``monitor/allow_older`` run tag (comma-separated)."""
    return [x.strip() for x in str(tags.get(ALLOW_OLDER_TAG) or "").split(",") if x.strip()]


def asset_key(entry_name: str) -> dg.AssetKey:
    return dg.AssetKey(["sources", entry_name])


def optional_source_deps(entries) -> list[dg.AssetDep]:
    """Dependencies on yearly sources that a year may lack (a two-yearly survey wave, vacancies from 2021,
    labels only once analysts filled them): the same year, a missing upstream partition allowed."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        mapping = dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    return [dg.AssetDep(asset_key(e), partition_mapping=mapping) for e in entries]


def _description(e: Entry) -> str:
    kind = {"yearly": "one file per year (partitioned by year)",
            "cumulative": "cumulative: each release holds the whole history; the asset holds the latest release",
            "reference": "reference table"}[e.kind]
    links = []
    if e.predecessor:
        links.append(f"successor of {e.predecessor}")
    if e.successor:
        links.append(f"replaced by {e.successor}")
    first, last = e.periods
    return (f"CBS file {e.name} ({e.thema}/{e.folder}), {kind}; periods {first}-{last or 'now'}"
            + (f"; {', '.join(links)}" if links else "")
            + (f"; trend breaks: {', '.join(e.trend_breaks)}" if e.trend_breaks else "")
            + ". Normalised parquet: one integer person key, dates as Date, codes as Enum.")


def _failure_table(failures) -> str:
    lines = ["| column | rule | rows | examples |", "|---|---|---|---|"]
    for f in failures[:50]:
        ex = ", ".join(repr(x) for x in list(f.examples)[:3])
        lines.append(f"| {f.column or '-'} | {f.rule} | {f.count} | {ex} |")
    return "\n".join(lines)


def _columns_check(missing: list[str], warnings: list[str], extra: list[str] | None = None) -> dg.AssetCheckResult:
    """Non-blocking: fails (WARN) when the file lacks catalog columns, has columns the catalog does not know
    (dropped) or has warnings; passes otherwise."""
    extra = list(extra or [])
    ok = not missing and not warnings and not extra
    meta = {"missing_columns": dg.MetadataValue.json(list(missing)), "extra_columns": dg.MetadataValue.json(extra),
            "warnings": dg.MetadataValue.json(list(warnings)), "n_warnings": len(warnings)}
    if warnings:
        meta["detail"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings[:50]))
    return dg.AssetCheckResult(check_name=COLUMNS_CHECK, passed=ok, severity=dg.AssetCheckSeverity.WARN,
                               metadata=meta)


def build_source_asset(e: Entry) -> dg.AssetsDefinition:
    key = asset_key(e.name)

    @dg.asset(
        key=key,
        group_name=GROUP,
        description=_description(e),
        partitions_def=partitions_for(e),
        check_specs=[dg.AssetCheckSpec(SCHEMA_CHECK, asset=key, blocking=True,
                                       description="pandera schema from data_catalog.yaml: key columns present and "
                                                   "valid, used columns valid, unique keys, at least one row"),
                     dg.AssetCheckSpec(COLUMNS_CHECK, asset=key, blocking=False,
                                       description="non-blocking (WARN): catalog columns missing from the file "
                                                   "(used/unused, ingested as empty columns), invalid values "
                                                   "in unused columns (set to empty) and columns not in the "
                                                   "catalog (dropped)")],
        kinds={"polars", "parquet"},
        tags={"cbs_kind": e.kind},
        metadata={"catalog_entry": e.name, "thema": e.thema, "kind": e.kind,
                  "trend_breaks": ", ".join(e.trend_breaks) or "-"},
    )
    def _asset(context: AssetExecutionContext, monitor: MonitorResource):
        catalog: Catalog = monitor.catalog
        period = int(context.partition_key) if context.has_partition_key else None
        wh = Warehouse(monitor.warehouse_root)
        try:
            out = ingest_release(catalog, e.name, period, monitor.landing_root, wh,
                                 allow_older=allow_older_from_tags(context.run.tags))
        except NoRelease as exc:
            yield dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                      metadata={"reason": str(exc)})
            raise dg.Failure(description=str(exc)) from None
        except IngestError as exc:
            yield dg.AssetCheckResult(
                check_name=SCHEMA_CHECK, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                metadata={"failures": dg.MetadataValue.md(_failure_table(exc.failures)),
                          "n_failures": len(exc.failures)})
            raise dg.Failure(description=str(exc), metadata={"n_failures": len(exc.failures)}) from None
        m = out.manifest
        for note in out.notes:
            (context.log.warning if out.skipped or note.startswith("rolled back") else context.log.info)(note)
        # an unchanged (or skipped) release reports the findings of its ingest from the manifest
        missing = list(m.get("missing_columns") or [])
        warnings = list(m.get("warnings") or [])
        extra = list(m.get("extra_columns") or [])
        for w in warnings:
            context.log.warning(w)
        meta = {
            "source": m["source"], "vintage": m["release_id"], "version": m.get("version"), "sha256": m["sha256"],
            "rows": dg.MetadataValue.int(int(m["rows"])), "columns": dg.MetadataValue.int(int(m["columns"])),
            "rows_per_second": dg.MetadataValue.float(float(m.get("rows_per_second") or 0.0)),
            "provisional": bool(m.get("provisional")), "months_covered": m.get("months_covered"),
            "warehouse_partition": out.partition, "unchanged": out.unchanged,
            "missing_columns": dg.MetadataValue.json(missing), "warnings": dg.MetadataValue.json(warnings),
            "extra_columns": dg.MetadataValue.json(extra),
        }
        if out.skipped:
            meta["skipped"] = out.skipped
        if out.copies:
            meta["copies"] = dg.MetadataValue.json(list(out.copies))
            for c in out.copies:
                context.log.info(c)
        if m.get("rolled_back_from") and not out.unchanged:
            meta["rolled_back_from"] = m["rolled_back_from"]
            meta["notes"] = dg.MetadataValue.json(list(out.notes))
        if out.result is not None:
            meta["schema"] = dg.MetadataValue.md(
                "| column | dtype |\n|---|---|\n" + "\n".join(f"| {c} | {t} |" for c, t in out.result.schema.items()))
        yield dg.MaterializeResult(
            metadata=meta,
            data_version=dg.DataVersion(f"{m['release_id']}:{m['sha256'][:12]}"),
            check_results=[dg.AssetCheckResult(check_name=SCHEMA_CHECK, passed=True,
                                               metadata={"rows": dg.MetadataValue.int(int(m["rows"]))}),
                           _columns_check(missing, warnings, extra)],
        )

    return _asset


def source_assets(catalog: Catalog) -> list[dg.AssetsDefinition]:
    return [build_source_asset(e) for e in catalog.files.values()]
