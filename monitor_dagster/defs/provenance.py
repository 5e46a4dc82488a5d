"""Provenance from Dagster (issue 11): which source releases an asset partition rests on, read from the
materialisation metadata of its upstream assets - the one function every derived asset calls.

A source asset records ``vintage`` (its release id) and ``provisional``; a derived asset (core table, indicator
family) records ``vintages`` and ``provisional_releases`` = the union over its inputs, so an indicator's
vintages are exactly the releases of what it reads (through the core layer), not the whole year's build.
When the instance holds no materialisation of an upstream partition (a warehouse built on another instance,
e.g. copied from another machine), the warehouse manifest of that partition answers instead: the IO manager
and the source ingest write the same fields there.
"""

from __future__ import annotations

import dagster as dg

from monitor_dagster.indicators.engine import Provenance
from monitor_dagster.warehouse import Warehouse

VINTAGES = "vintages"
PROVISIONAL = "provisional_releases"


def _value(md: dict, key: str):
    v = md.get(key)
    return getattr(v, "value", v)


def _split(s) -> frozenset[str]:
    return frozenset(x for x in str(s or "").split(",") if x)


def from_metadata(md: dict) -> Provenance:
    """Provenance recorded in one materialisation's (or manifest's) metadata."""
    if _value(md, VINTAGES) is not None:
        return Provenance(_split(_value(md, VINTAGES)), _split(_value(md, PROVISIONAL)))
    rid = _value(md, "vintage") or _value(md, "release_id")
    if not rid:
        return Provenance()
    return Provenance(frozenset({rid}), frozenset({rid}) if _value(md, "provisional") else frozenset())


def as_metadata(p: Provenance) -> dict:
    return {VINTAGES: ",".join(sorted(p.releases)), PROVISIONAL: ",".join(sorted(p.provisional))}


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None) -> dict | None:
    flt = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None)
    recs = instance.fetch_materializations(flt, limit=1).records
    if not recs:
        return None
    return dict(recs[0].asset_materialization.metadata)


def manifest_of(warehouse: str, key: dg.AssetKey, partition: str | None) -> dict | None:
    """The current manifest of a partition (None: the latest/all of an unpartitioned one), or None."""
    from monitor_dagster.defs.io import layer_of

    layer, name = layer_of(key)
    w = Warehouse(warehouse, layer=layer)
    for p in ([partition] if partition else ["latest", "all"]):
        m = w.manifest(name, p)
        if m:
            return m
    return None


def upstream_provenance(context: dg.AssetExecutionContext, warehouse: str) -> dict[str, Provenance]:
    """Input asset key (``core/population``, ``sources/SPOLISBUS``) -> the releases behind the partitions this
    step reads of it."""
    out: dict[str, Provenance] = {}
    for name, key in context.assets_def.keys_by_input_name.items():
        try:
            parts: list[str | None] = list(context.asset_partition_keys_for_input(name))
        except Exception:  # noqa: BLE001 - unpartitioned upstream (cumulative file, spell table)
            parts = [None]
        out["/".join(key.path)] = _union(_latest(context.instance, key, p) or manifest_of(warehouse, key, p)
                                         for p in parts)
    return out


def manifest_provenance(warehouse: str, keys: list[str], year: int) -> dict[str, Provenance]:
    """Like :func:`upstream_provenance`, from the warehouse manifests only (year t, else latest/all): for a
    step that is not an asset step (the bucket steps of defs/indicators/bucket_steps.py)."""
    out = {}
    for k in keys:
        key = dg.AssetKey(k.split("/"))
        out[k] = _union([manifest_of(warehouse, key, str(year)) or manifest_of(warehouse, key, None)])
    return out


def partitions_provenance(warehouse: str, reads: dict[str, list[str | None]]) -> dict[str, Provenance]:
    """Like :func:`upstream_provenance`, from the manifests of the partitions each input reads (``None``: the
    unpartitioned latest/all); for the core bucket steps (defs/core/bucket_steps.py), whose windows span years."""
    return {k: _union(manifest_of(warehouse, dg.AssetKey(k.split("/")), p) for p in parts)
            for k, parts in reads.items()}


def _union(mds) -> Provenance:
    """The releases behind the metadata or manifests ``mds`` of the partitions a step reads (None: absent)."""
    out = Provenance()
    for md in mds:
        if md:
            out = out | from_metadata(md)
    return out


def merged(provs: dict[str, Provenance]) -> Provenance:
    out = Provenance()
    for p in provs.values():
        out = out | p
    return out
