"""The warehouse as a Dagster IO manager, for derived layers (core, indicators).

Inputs from source assets are read from the ``sources`` tree; a partition mapping on the input (e.g. year
t-1 and t of SPOLISBUS) arrives as ``context.asset_partition_keys`` and is loaded as a dict
``{partition key: LazyFrame}``, so windows are declared to Dagster rather than read behind its back.
Every input is checked against the checksum in its manifest before it is scanned (``Warehouse.read``, verified
reads: a damaged file fails the step with ``WarehouseCorrupt`` naming it).
Outputs (polars frames) are written crash-safely to ``<warehouse>/<layer>/<asset>/<partition>``.  We wrote our
own IO manager because dagster-polars 0.27 breaks on polars 2 (docs/dependencies.md).
"""

import datetime as dt

import dagster as dg
import polars as pl

from monitor_dagster import allocator
from monitor_dagster.core.buckets import BucketedFrame
from monitor_dagster.warehouse import Warehouse, WarehouseMissing


def _source_partition(context: dg.InputContext) -> list[str]:
    if context.has_asset_partitions:
        return list(context.asset_partition_keys)
    return []


def layer_of(key: dg.AssetKey) -> tuple[str, str]:
    return (key.path[0], key.path[-1]) if len(key.path) > 1 else ("core", key.path[-1])


def load_frames(warehouse: str, key: dg.AssetKey, partitions: list[str]):
    """What an input of ``key`` receives: for ``partitions`` {partition: frame, or None when not ingested (e.g.
    t-1): the asset decides whether it can do without}; without partitions (a cumulative or reference source, an
    unpartitioned core table) its latest/all frame, or None (e.g. SRGPERSOONPWETBUS in a zone from 2019 on).
    The IO manager and the core bucket steps (defs/core/bucket_steps.py ``core_inputs``) load through here."""
    layer, name = layer_of(key)
    w = Warehouse(warehouse, layer=layer)
    if not partitions:
        return next((w.read(name, p) for p in ("latest", "all") if w.manifest(name, p) is not None), None)
    out: dict[str, pl.LazyFrame | None] = {}
    for k in partitions:
        try:
            out[k] = w.read(name, k)
        except WarehouseMissing:
            out[k] = None
    return out


def write_asset(warehouse: str, key: dg.AssetKey, part: str, obj, run_id: str, metadata: dict) -> dict:
    """Write one asset partition crash-safely with its manifest; returns the metadata to record (rows, columns,
    path).  Used by the IO manager and by steps that materialise an asset themselves (bucket_steps.py)."""
    layer, name = layer_of(key)
    # a LazyFrame is streamed to parquet (sink_parquet): a person-level table is never held whole in memory
    lazy = isinstance(obj, (pl.LazyFrame, BucketedFrame))
    manifest = {"asset": key.to_user_string(), "partition": part,
                "rows": None if lazy else obj.height, "columns": None if lazy else obj.width,
                "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "run_id": run_id}
    # provenance (defs/provenance.py) also in the manifest: readable without the Dagster instance
    # and the method facts readiness and `monitor status` read: SECM or its fallback (report 7.1.3), choices
    for k in ("vintages", "provisional_releases", "secm_source", "method", "fingerprint"):
        v = metadata.get(k)
        if v is not None:
            manifest[k] = str(getattr(v, "value", v))
    w = Warehouse(warehouse, layer=layer)
    extra = {}
    if isinstance(obj, BucketedFrame):   # person buckets written one after another (core/buckets.py)
        w.write_with(name, part, obj.write_parquet, manifest)
        extra = {"buckets": obj.plan.k, **(obj.describe(w.read(name, part)) if obj.describe else {})}
    else:
        w.write(name, part, obj, manifest)
    stored = w.manifest(name, part) or manifest
    # the step's work is done: with MONITOR_RELEASE_MEMORY=1 what it freed goes back to the OS before the next step
    # (monitor_dagster/allocator.py)
    allocator.release()
    return {"rows": dg.MetadataValue.int(int(stored["rows"])), "columns": int(stored["columns"]),
            "warehouse_path": f"{layer}/{name}/{part}", **extra}


class WarehouseIOManager(dg.ConfigurableIOManager):
    warehouse: str

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        part = context.asset_partition_key if context.has_asset_partitions else "all"
        meta = write_asset(self.warehouse, context.asset_key, part, obj, context.run_id, context.output_metadata or {})
        context.add_output_metadata(meta)

    def load_input(self, context: dg.InputContext):
        return load_frames(self.warehouse, context.asset_key, _source_partition(context))
