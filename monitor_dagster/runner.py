"""``monitor run``: materialise source assets in-process, without a daemon (Remote Access has none).

Groups the requested (asset, partition) pairs into one Dagster run per partition key and partitions
definition (plus one run for the unpartitioned cumulative/reference files), executes them with the in-process
executor on the instance of ``DAGSTER_HOME`` (so the UI shows them) or an ephemeral one, and returns a
summary per step.  Exit codes are decided by the CLI: any failed step or failed check is a failure.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg

from monitor_dagster.catalog import Catalog, load_catalog
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import asset_key, source_assets
from monitor_dagster.landing import scan
from monitor_dagster.warehouse import Warehouse


@dataclass
class StepOutcome:
    entry: str
    partition: str | None
    ok: bool
    message: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass
class RunSummary:
    outcomes: list[StepOutcome] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)
    check_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def instance_from_env() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        cfg = Path(home) / "dagster.yaml"
        if not cfg.exists():   # embedded SQLite storage (the default); no telemetry from inside Remote Access
            cfg.write_text("telemetry:\n  enabled: false\n")
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def plan_targets(catalog: Catalog, landing: Path, years: tuple[int, int] | None,
                 select: list[str] | None) -> tuple[dict[tuple, list[str]], list[str]]:
    """(partitions key, partition) -> entries to run, from what has landed; plus unknown files."""
    landed = scan(landing, catalog)
    unknown = sorted(f.relpath for f in landed if f.match is None and not f.temporary)
    names = list(catalog.files) if not select else select
    for n in names:
        catalog.entry(n)   # clear error for a typo in --select
    groups: dict[tuple, list[str]] = defaultdict(list)
    for n in names:
        e = catalog.entry(n)
        got = [f for f in landed if f.match is not None and f.match.entry == n and not f.temporary]
        if not got:
            continue
        if e.kind == "yearly":
            for p in sorted({f.match.period for f in got}):
                if years is None or years[0] <= p <= years[1]:
                    groups[(e.periods, str(p))].append(n)
        else:
            groups[(None, None)].append(n)
    return dict(groups), unknown


def run_sources(landing: Path, warehouse: Path, years: tuple[int, int] | None = None,
                select: list[str] | None = None, catalog_path: Path | None = None,
                instance: dg.DagsterInstance | None = None,
                progress: Callable[[str, int, int], None] | None = None, log_level: str = "WARNING",
                layers: tuple[str, ...] = ("sources",)) -> RunSummary:
    """Materialise the source layer for what has landed (``select``: only these catalog entries) and, with
    "core" in ``layers``, the core layer for every year whose sources are in the warehouse (blocking: not
    after a failed source)."""
    catalog = load_catalog(catalog_path)
    summary = RunSummary()
    wh = Warehouse(warehouse)
    summary.orphans_removed = [str(p) for p in wh.cleanup_orphans()]
    groups, summary.unknown_files = plan_targets(catalog, landing, years, select)
    assets = {a.key: a for a in source_assets(catalog)}
    resource = MonitorResource(landing=str(landing), warehouse=str(warehouse),
                               catalog_path=str(catalog_path) if catalog_path else MonitorResource().catalog_path)
    instance = instance or instance_from_env()
    todo = sorted(groups.items(), key=lambda kv: (kv[0][1] or "", str(kv[0][0])))
    for i, ((_, pkey), names) in enumerate(todo):
        if progress:
            progress(f"{pkey or 'cumulative/reference'}: {len(names)} file(s)", i, len(todo))
        sel = [assets[asset_key(n)] for n in names]
        result = dg.materialize(sel, partition_key=pkey, resources={"monitor": resource}, instance=instance,
                                raise_on_error=False, tags={"monitor/trigger": "cli"},
                                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
        summary.outcomes.extend(_outcomes(result, names, pkey))
    if "core" in layers or "indicators" in layers:
        _run_core(summary, catalog, assets, resource, wh, instance, years, progress, log_level, layers)
    if progress:
        progress("done", len(todo), len(todo))
    return summary


def core_years(wh: Warehouse, years: tuple[int, int] | None) -> list[str]:
    """Years the core layer can be built for: SPOLISBUS and HOOGSTEOPLTAB of the year are ingested."""
    from monitor_dagster.defs.core.assets import CORE_FIRST_YEAR

    have = set(wh.partitions("SPOLISBUS")) & set(wh.partitions("HOOGSTEOPLTAB"))
    out = [p for p in sorted(have) if p.isdigit() and int(p) >= CORE_FIRST_YEAR]
    return [p for p in out if years is None or years[0] <= int(p) <= years[1]]


def _run_core(summary, catalog, assets, resource, wh, instance, years, progress, log_level, layers) -> None:
    """The derived layers, blocking on failure: core (spell tables once, yearly tables per year), then the
    indicators per year (outcome indicators and the input indicators of the year's inflow cohort, one run)
    and the gated indicator table."""
    from monitor_dagster.defs.core.assets import CORE_ASSETS, CORE_SPELLS, CORE_YEARLY, IO
    from monitor_dagster.defs.indicators.assets import INDICATOR_ASSETS, by_year, indicator_table, inputs_by_year
    from monitor_dagster.defs.io import WarehouseIOManager

    all_assets = [*assets.values(), *CORE_ASSETS, *INDICATOR_ASSETS]
    resources = {"monitor": resource, IO: WarehouseIOManager(warehouse=resource.warehouse)}
    cfg = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    yrs = core_years(wh, years)
    stages = []
    if "core" in layers:
        stages.append(("core", [(None, CORE_SPELLS)] + [(y, CORE_YEARLY) for y in yrs]))
    if "indicators" in layers:
        stages.append(("indicators", [(y, [by_year, inputs_by_year]) for y in yrs] + [(None, [indicator_table])]))
    for layer, runs in stages:
        if not summary.ok:
            return   # blocking: a layer never runs on a failed one below it
        for i, (year, group) in enumerate(runs):
            if progress:
                progress(f"{layer} {year or 'all years'}", i, len(runs))
            result = dg.materialize(all_assets, selection=dg.AssetSelection.assets(*group), partition_key=year,
                                    instance=instance, raise_on_error=False, resources=resources,
                                    tags={"monitor/trigger": "cli"}, run_config=cfg)
            summary.outcomes.extend(_outcomes(result, [a.key.path[-1] for a in group], year, prefix=f"{layer}__"))
            for ev in result.all_events:
                if ev.event_type_value == "ASSET_CHECK_EVALUATION" and not ev.event_specific_data.passed:
                    d = ev.event_specific_data
                    summary.check_failures.append(f"{d.asset_check_key.name}: {dict(d.metadata)}")


def _label(prefix: str, name: str) -> str:
    return name if prefix == "sources__" else f"{prefix[:-2]}/{name}"


def _outcomes(result: dg.ExecuteInProcessResult, names: list[str], pkey: str | None,
              prefix: str = "sources__") -> list[StepOutcome]:
    out = []
    failures = {}
    for ev in result.all_events:
        if ev.is_step_failure:
            err = ev.event_specific_data.error
            msg = (err.message if err else "step failed").strip()
            failures[ev.step_key] = re.sub(r"^dagster\._core\.[\w.]+\.Failure:\s*", "", msg)
    mats = {}
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        mats[mat.asset_key.path[-1]] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for n in names:
        step = [k for k in failures if k == prefix + n]
        if step:
            out.append(StepOutcome(_label(prefix, n), pkey, False, failures[step[0]]))
        elif n in mats:
            out.append(StepOutcome(_label(prefix, n), pkey, True, "", mats[n]))
        else:
            out.append(StepOutcome(_label(prefix, n), pkey, False, "not executed (upstream failure or run error)"))
    return out
