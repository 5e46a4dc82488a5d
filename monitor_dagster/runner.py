"""``monitor run`` / ``backfill``: the pipeline in-process, without a daemon (Remote Access has none).

Groups the requested (asset, partition) pairs into one Dagster run per partition key and partitions
definition (plus one run for the unpartitioned cumulative/reference files), executes them with the in-process
executor on the instance of ``DAGSTER_HOME`` (so the UI shows them) or an ephemeral one, and returns a
summary per step.  Exit codes are decided by the CLI: any failed step or failed check is a failure.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg

from monitor_dagster.catalog import Catalog, load_catalog
from monitor_dagster.defs.resources import MonitorResource, resource_from_env
from monitor_dagster.defs.sources.assets import ALLOW_OLDER_TAG, asset_key
from monitor_dagster.defs.sources.jobs import job_name
from monitor_dagster.landing import LandedFile, scan
from monitor_dagster.run_state import Interrupted, mark_interrupted, process_tags
from monitor_dagster.warehouse import (SOURCES, Journal, Warehouse, cleanup_warehouse, recover_journals, storage_problem,
                                       verify_layer)


@dataclass
class StepOutcome:
    entry: str
    partition: str | None
    ok: bool
    message: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass
class CheckOutcome:
    """One asset check evaluation of a run, with plain metadata values (no Dagster ``MetadataValue`` reprs)."""
    asset: str
    partition: str | None
    name: str
    passed: bool
    severity: str          # "ERROR" (a failure) or "WARN" (a warning)
    metadata: dict = field(default_factory=dict)

    def text(self) -> str:
        """The metadata as one readable line: ``unexplained jumps 13, explained jumps 2, data docs: ...``."""
        parts = []
        for k, v in self.metadata.items():
            if v is None or v == "" or v == []:
                continue
            if isinstance(v, (list, tuple)):
                v = "; ".join(str(x) for x in v)
            key = k.replace("_", " ")
            parts.append(f"{key} {v}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{key}: {v}")
        return ", ".join(parts)


@dataclass
class RunSummary:
    outcomes: list[StepOutcome] = field(default_factory=list)
    unknown_files: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)
    #: every failed check evaluation of the runs (passed ones are not kept)
    checks: list[CheckOutcome] = field(default_factory=list)
    #: runs of killed processes found in the instance at the start, marked failed (run_state.py)
    interrupted: list[Interrupted] = field(default_factory=list)

    #: warehouse integrity notes: partitions put back after a failed or interrupted run, files without checksum
    warehouse_notes: list[str] = field(default_factory=list)
    #: indicator families the run did not build and why (:func:`unbuilt_families`): one line per family and reason
    not_built: list[str] = field(default_factory=list)

    @property
    def check_failures(self) -> list[str]:
        """Failed ERROR checks, ``name: readable metadata`` (a failure of the run)."""
        return [f"{c.name}: {c.text()}" for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes) and not self.check_failures


#: dagster.yaml of a new DAGSTER_HOME: no telemetry; run monitoring (`make ui` runs the daemon) fails runs stuck
#: STARTING or CANCELING; the default run launcher cannot resume a run, so no resume attempts (run_state.py)
LOCAL_INSTANCE_YAML = """\
telemetry:
  enabled: false
run_monitoring:
  enabled: true
  max_resume_run_attempts: 0
"""


def instance_from_env() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        cfg = Path(home) / "dagster.yaml"
        if not cfg.exists():   # embedded SQLite storage (the default); no telemetry from inside Remote Access
            cfg.write_text(LOCAL_INSTANCE_YAML)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


class YearsError(ValueError):
    """A ``years`` range that cannot select anything: refused before anything is read or written."""


def _span(years) -> str:
    ys = sorted(set(years))
    return "none" if not ys else str(ys[0]) if len(ys) == 1 else f"{ys[0]}-{ys[-1]}"


def check_years(catalog: Catalog, years: tuple[int, int] | None, layers: tuple[str, ...] = ("sources",),
                select: list[str] | None = None, landing: Path | None = None,
                warehouse: Path | None = None) -> None:
    """Raise :class:`YearsError` for a range that is reversed, outside the catalog's periods, wholly before the
    core's first year while derived layers are asked for, or (given ``landing``) holding no landed file of the
    selected entries and no warehouse year to build; the message says what would work.  Why: such a range used
    to run silently and build nothing (or ingest only the cumulative files)."""
    if years is None:
        return
    from monitor_dagster.readiness import CORE_FIRST_YEAR, candidate_years

    a, b = years
    text = f"{a}-{b}" if a != b else str(a)
    if a > b:
        raise YearsError(f"{text}: the first year {a} is after the last year {b} (did you mean {b}-{a}?)")
    names = select or list(catalog.files)
    entries = [catalog.entry(n) for n in names]
    first = min(e.periods[0] for e in entries)
    lasts = [e.periods[1] for e in entries]
    last = None if None in lasts else max(lasts)
    if b < first:
        raise YearsError(f"{text}: before the first period of the data catalog ({first}) - no CBS file "
                         f"{'of ' + ','.join(select) + ' ' if select else ''}exists for those years")
    if last is not None and a > last:
        raise YearsError(f"{text}: after the last period of the data catalog ({last}) - no CBS file "
                         f"{'of ' + ','.join(select) + ' ' if select else ''}exists for those years")
    derived = "core" in layers or "indicators" in layers
    if derived and b < CORE_FIRST_YEAR:
        raise YearsError(f"{text}: before {CORE_FIRST_YEAR}, the first year of the core layer (INPATAB and SPOLIS "
                         "of the year before), so nothing derived can be built; use --layers sources to ingest "
                         "only the files of those years")
    if landing is None:
        return
    yearly = [f for f in scan(landing, catalog) if f.match is not None and not f.temporary
              and f.match.entry in names and catalog.entry(f.match.entry).kind == "yearly"]
    landed = {f.match.period for f in yearly}
    built = candidate_years(warehouse) if derived and warehouse is not None and Path(warehouse).is_dir() else []
    if not any(a <= y <= b for y in [*landed, *built]):
        raise YearsError(f"{text}: nothing to do - no landed file{' and no warehouse year' if derived else ''} "
                         f"in that range (landed years: {_span(landed)}"
                         + (f"; warehouse years: {_span(built)}" if derived else "") + ")")


def plan_targets(catalog: Catalog, landed: list[LandedFile], years: tuple[int, int] | None,
                 select: list[str] | None) -> tuple[dict[tuple, list[str]], list[str]]:
    """(partitions key, partition) -> entries to run, from what has landed (``landing.scan``); plus unknown
    files."""
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


def run_pipeline(landing: Path, warehouse: Path, years: tuple[int, int] | None = None,
                 select: list[str] | None = None, catalog_path: Path | None = None,
                 instance: dg.DagsterInstance | None = None,
                 progress: Callable[[str, int, int], None] | None = None, log_level: str = "WARNING",
                 layers: tuple[str, ...] = ("sources",), allow_older: tuple[str, ...] = ()) -> RunSummary:
    """Run the requested ``layers`` (sources, core, indicators) for what has landed, in-process, executing the
    very jobs of ``definitions.build_definitions`` that the release sensor and the schedules launch:

    1. sources: one run of the source job per partitions definition and year (``select``: only these files);
    2. core: the spell tables (job ``core_spells``), then per year the job ``outcome_indicators_yearly`` with the
       yearly core tables (and, with "indicators", the outcome families) that readiness.py says can be built;
    3. indicators: per year the input families (job ``input_indicators_biennial``) when computable, then the
       gated table (job ``indicator_table_and_publication``, the table only: ``monitor publish`` builds the site).

    Blocking: nothing derived runs after a failed source, the table never after a failed year.
    ``allow_older``: release ids that may replace a newer ingested release (run tag ``monitor/allow_older``;
    without it an older landed release is skipped, ingest/release.py)."""
    catalog = load_catalog(catalog_path)
    check_years(catalog, years, layers, select, landing, warehouse)   # before anything is touched
    summary = RunSummary()
    wh = Warehouse(warehouse)
    # a run that died mid-year is rolled back first, then every layer loses what crashes left (docs/operations.md)
    summary.warehouse_notes += recover_journals(warehouse)
    summary.orphans_removed = [str(p) for p in cleanup_warehouse(warehouse)]
    landed = scan(landing, catalog)
    groups, summary.unknown_files = plan_targets(catalog, landed, years, select)
    defs = _definitions(landing, warehouse, catalog_path)
    instance = instance or instance_from_env()
    # runs a killed `monitor run` left STARTED are marked failed, with the reason, before new ones start
    summary.interrupted = mark_interrupted(instance, "monitor run")
    cfg = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if progress:     # step starts and buckets on the progress line (defs/progress.py), in this process's runs
        cfg["loggers"]["progress"] = {}
    todo = sorted(groups.items(), key=lambda kv: (kv[0][1] or "", str(kv[0][0])))
    runs = []           # one run per source job and partition, as before
    for (_, pkey), names in todo:
        by_job: dict[str, list[str]] = defaultdict(list)
        for n in names:
            by_job[job_name(catalog.entry(n))].append(n)
        runs += [(jname, ns, pkey) for jname, ns in by_job.items()]
    tags = {ALLOW_OLDER_TAG: ",".join(allow_older)} if allow_older else None
    sizes: dict[str, int] = defaultdict(int)
    for f in landed:
        if f.match is not None and not f.temporary:
            sizes[f.match.entry] += f.size
    workers = ingest_processes(len(runs), sum(sizes[n] for _, ns, _ in runs for n in set(ns)), instance)
    if workers > 1:
        done = _ingest_in_parallel(runs, workers, sizes, instance, cfg, tags, landing, warehouse, catalog_path,
                                   progress)
    else:
        done = []
        for i, (jname, ns, pkey) in enumerate(runs):
            if progress:
                progress(_run_label(pkey, ns), i, len(runs))
            with _steps_to(progress, _run_label(pkey, ns), i, len(runs)):
                result = _execute(defs, jname, [asset_key(n) for n in ns], pkey, instance, cfg, tags)
            done.append((_outcomes(result, ns, pkey), check_outcomes(result, pkey)))
    for outcomes, checks in done:
        summary.outcomes.extend(outcomes)
        summary.checks += checks
    if "core" in layers or "indicators" in layers:
        _verify_sources(summary, warehouse)
        _run_derived(summary, defs, wh, instance, years, progress, cfg, layers)
    if progress:
        progress("done", len(runs), len(runs))
    return summary


#: source runs at once in ``monitor run`` / ``backfill``; 1 = one after another in this process.  Unset: the
#: core count when the landed files of the runs reach PARALLEL_INGEST_MIN_BYTES, else 1
INGEST_PROCESSES_ENV = "MONITOR_INGEST_PROCESSES"
#: below this many landed bytes a second process costs about what it saves (its start: ~4 s of imports; a
#: zone of 1 M persons, 0.36 GB: 20 s either way; 17.5 M persons, 5 GB: 178 -> 147 s)
PARALLEL_INGEST_MIN_BYTES = 1024 ** 3


def ingest_processes(runs: int, landed_bytes: int, instance: dg.DagsterInstance) -> int:
    """How many source runs ``run_pipeline`` executes at once: ``MONITOR_INGEST_PROCESSES``, or by default the
    core count for a zone of at least :data:`PARALLEL_INGEST_MIN_BYTES` (a demo or test zone stays in this
    process); at most the number of runs.  An ephemeral instance (no DAGSTER_HOME) cannot be shared with
    other processes, so its runs stay one after another in this process."""
    raw = os.environ.get(INGEST_PROCESSES_ENV, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            raise ValueError(f"{INGEST_PROCESSES_ENV}={raw!r}: a whole number of processes (1 = one run at a time)")
    else:
        wanted = (os.cpu_count() or 1) if landed_bytes >= PARALLEL_INGEST_MIN_BYTES else 1
    if instance.is_ephemeral:
        return 1
    return max(1, min(wanted, runs))


def _definitions(landing: Path | str, warehouse: Path | str, catalog_path: Path | str | None) -> dg.Definitions:
    """The definitions of a ``monitor run``: its landing zone, warehouse and catalog; the other MONITOR_*
    settings from the environment, as in the UI."""
    from monitor_dagster.definitions import build_definitions

    resource = resource_from_env(landing=str(landing), warehouse=str(warehouse),
                                 catalog_path=str(catalog_path) if catalog_path else MonitorResource().catalog_path)
    return build_definitions(str(catalog_path) if catalog_path else None, resource=resource)


def _ingest_run(instance_ref, job: str, names: list[str], pkey: str | None, cfg: dict, tags: dict | None,
                landing: str, warehouse: str, catalog_path: str | None):
    """One source run in a worker process (:func:`_ingest_in_parallel`), in-process there and on the caller's
    instance; returns what the summary needs (plain data)."""
    result = _execute(_definitions(landing, warehouse, catalog_path), job, [asset_key(n) for n in names], pkey,
                      dg.DagsterInstance.from_ref(instance_ref), cfg, tags)
    return _outcomes(result, names, pkey), check_outcomes(result, pkey)


def _run_label(pkey: str | None, names: list[str]) -> str:
    """A source run in the progress lines, the same whether it runs here or in a worker."""
    return f"{pkey or 'cumulative/reference'}: {len(names)} file(s)"


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """Worker initializer: end this worker when the process that started it is gone.  A ``monitor run`` that
    is killed (Ctrl-C twice, SIGKILL, the session closed) would otherwise leave its ingest workers running,
    writing into the warehouse after the run itself has ended.  A daemon thread compares the parent pid once
    a second; the worker's temporary version is removed by the orphan cleanup, as after any crash."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _ingest_in_parallel(runs: list[tuple[str, list[str], str | None]], workers: int, sizes: dict[str, int],
                        instance: dg.DagsterInstance,
                        cfg: dict, tags: dict | None, landing: Path, warehouse: Path, catalog_path: Path | None,
                        progress: Callable[[str, int, int], None] | None) -> list[tuple[list, list]]:
    """The source runs in ``workers`` processes at once (issue 12: "independent files ingest in parallel up to
    the core count").  Every file is its own asset and writes only its own partition, so the runs are
    independent; the largest go first, so that the long SPOLISBUS ingest overlaps the many small files.  Each
    run is an ordinary run on the same instance (the UI shows them as before).  A worker that dies (out of
    memory) fails the files of its run with that message; the other runs go on."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    order = sorted(range(len(runs)), key=lambda i: -sum(sizes.get(n, 0) for n in runs[i][1]))
    if progress:
        progress(f"{len(runs)} source run(s) in {workers} processes, the largest first", 0, len(runs))
    ref = instance.get_ref()
    results: dict[int, tuple[list, list]] = {}
    ctx = multiprocessing.get_context("spawn")     # no fork of a process that holds threads and open storage
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_exit_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_ingest_run, ref, job, names, pkey, cfg, tags, str(landing), str(warehouse),
                               str(catalog_path) if catalog_path else None): i
                   for i in order for job, names, pkey in [runs[i]]}
        for n_done, fut in enumerate(as_completed(futures)):
            i = futures[fut]
            job, names, pkey = runs[i]
            try:
                results[i] = fut.result()
            except Exception as exc:     # a worker that died, or an error outside Dagster's step handling
                results[i] = ([StepOutcome(n, pkey, False, f"ingest process failed: {type(exc).__name__}: {exc}")
                               for n in names], [])
            if progress:
                progress(_run_label(pkey, names), n_done + 1, len(runs))
    return [results[i] for i in range(len(runs))]


def _execute(defs: dg.Definitions, job: str, keys: list[dg.AssetKey], partition: str | None,
             instance: dg.DagsterInstance, cfg: dict, tags: dict | None = None) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        run_config=cfg, instance=instance, partition_key=partition, asset_selection=keys, raise_on_error=False,
        tags={"monitor/trigger": "cli", **process_tags(), **(tags or {})})


def derived_plan(warehouse: Path, years: tuple[int, int] | None, layers: tuple[str, ...]) -> list[tuple[str, str | None, list[dg.AssetKey]]]:
    """(job, partition, asset keys) of the derived layers in run order, from readiness.py: only what can be
    built (a year without SPOLISBUS builds no job tables, a zone without EBB no EBB indicators)."""
    from monitor_dagster.core.inputs import CORE_INPUTS
    from monitor_dagster.defs.indicators.assets import INPUT_FAMILIES, family_key
    from monitor_dagster.defs.schedules import year_assets
    from monitor_dagster.readiness import buildable_families, candidate_years, year_readiness

    plan: list[tuple[str, str | None, list[dg.AssetKey]]] = []
    if "core" in layers:
        # a spell table is built when at least one of its files is in the warehouse (none: nothing to build)
        w = Warehouse(warehouse)
        spells = [dg.AssetKey(["core", a]) for a, (yearly, ins) in CORE_INPUTS.items() if not yearly
                  and any(w.manifest(i.entry, "latest") for i in ins.values())]
        if spells:
            plan.append(("core_spells", None, spells))
    inputs, follow_ups = [], []
    for y in candidate_years(warehouse, years):
        r = year_readiness(warehouse, y)
        core, now, later = year_assets(r)
        keys = list(core) if "core" in layers else []
        if "indicators" in layers:
            keys += now
            # a family that follows persons into t+1..t+n (O38/O39) runs after the core of every year is built
            if later:
                follow_ups.append(("outcome_indicators_yearly", str(y), later))
            fams = [family_key(f) for f in buildable_families(r) if f in INPUT_FAMILIES]
            if fams:
                inputs.append(("input_indicators_biennial", str(y), fams))
        if keys:
            plan.append(("outcome_indicators_yearly", str(y), keys))
    plan += follow_ups + inputs
    if "indicators" in layers:
        plan.append(("indicator_table_and_publication", None, [dg.AssetKey(["core", "propensity_weights"]),
                                                                dg.AssetKey(["indicators", "indicator_table"]),
                                                                dg.AssetKey(["indicators", "sensitivity"]),
                                                                dg.AssetKey(["indicators", "durations"])]))
    return plan


def unbuilt_families(warehouse: Path, years: tuple[int, int] | None) -> list[str]:
    """What the indicator layer of a run leaves out, from readiness.py (the same answer that planned the run):
    one line per reason and years, its families and years as ranges, e.g. ``indicators/ebb 2013-2016: needs EBBNW
    2013-2016`` or ``indicators/income, secm 2023: needs ...``.
    Without it a data engineer saw only what was built and had to run `monitor status` to learn that a family
    waited for a file (the thirty-eighth session's open doubts).  A family is listed when none of its indicators
    can be computed for the year; the reason is the first of the first indicator's (the family's indicators share
    inputs), "and more" when there are others."""
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.readiness import buildable_families, candidate_years, year_readiness

    why: dict[tuple[str, str], list[int]] = defaultdict(list)
    for y in candidate_years(warehouse, years):
        r = year_readiness(warehouse, y)
        built = set(buildable_families(r))
        nc = r.not_computable()
        for fam, specs in SPEC.families().items():
            if fam in built:
                continue
            reasons = next((nc[s.id] for s in specs if nc.get(s.id)), None)
            if reasons is None:
                continue        # not an indicator of this year (cadence, first year): nothing to wait for
            # the first reason only: the families of a year without its register files differ in the rest
            why[(fam, year_placeholder(reasons[0], y), len(reasons) > 1)].append(y)
    # families with the same first gap in the same years share a line (such a year would otherwise give one line
    # per family); `monitor status` lists every reason of every indicator
    lines: dict[tuple[str, str], list[str]] = defaultdict(list)
    more: dict[tuple[str, str], bool] = defaultdict(bool)
    for (fam, reason, more_reasons), ys in sorted(why.items()):
        span = year_ranges(ys)
        key = (span, reason.replace(_YEAR, span))
        lines[key].append(fam)
        more[key] |= more_reasons
    return [f"indicators/{', '.join(fams)} {span}: {reason}"
            + ("; and more (monitor status)" if more[(span, reason)] else "")
            for (span, reason), fams in lines.items()]


_YEAR = "\x00"


def year_placeholder(reason: str, year: int) -> str:
    """The year in a reason ("needs EBBNW 2018") as a placeholder, so that years with the same gap share a line;
    not a year inside a date ("spells up to 2021-12-31"), a file name (VSLGWB2021TAB) or a longer number."""
    return re.sub(rf"(?<![\w-]){year}(?![\w-])", _YEAR, reason)


def year_ranges(years: list[int]) -> str:
    """2013, 2014, 2015, 2017 -> '2013-2015, 2017'."""
    out: list[tuple[int, int]] = []
    for y in sorted(years):
        if out and out[-1][1] == y - 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def _verify_sources(summary: RunSummary, warehouse: Path) -> None:
    """Before anything is derived: every current source file against its checksum (verified reads; the reads
    of the derived steps then hit the cache).  A damaged file fails its source row, so nothing is built."""
    damaged, unverified = verify_layer(warehouse, SOURCES)
    for exc in damaged:
        _, entry, part = exc.where.split("/", 2)
        row = next((o for o in summary.outcomes if o.entry == entry and (o.partition or "") in (part, "")), None)
        if row is None:
            summary.outcomes.append(StepOutcome(entry, part, False, str(exc)))
        else:
            row.ok, row.message = False, str(exc)
    if unverified:
        summary.warehouse_notes.append(
            f"{len(unverified)} stored source file(s) have no checksum (written before verified reads, e.g. "
            f"{unverified[0]}): read without verification; `monitor repair --checksum --warehouse {warehouse}` adds them")


def _steps_to(progress: Callable[[str, int, int], None] | None, label: str, i: int, n: int):
    """While a run executes here: each step start and bucket done (defs/progress.py) as ``label: core/job_months
    12/37 buckets`` on the progress line; nothing without a progress callback."""
    from contextlib import nullcontext

    from monitor_dagster.defs.progress import listening

    if progress is None:
        return nullcontext()
    return listening(lambda text: progress(f"{label}: {text}", i, n))


def _run_derived(summary, defs, wh, instance, years, progress, cfg, layers) -> None:
    plan = derived_plan(wh.root, years, layers)
    if "indicators" in layers:
        summary.not_built = unbuilt_families(wh.root, years)
    for i, (job, partition, keys) in enumerate(plan):
        if not summary.ok:
            return   # blocking: nothing derived after a failed source; no table after a failed year
        label = f"{job} {partition or ''}".strip()
        if progress:
            progress(label, i, len(plan))
        # the job's derived partitions are replaced as a whole: a failed step puts back all of them
        with Journal(wh.root, f"{job}-{partition or 'all'}") as journal, _steps_to(progress, label, i, len(plan)):
            result = _execute(defs, job, keys, partition, instance, cfg)
            outcomes = _outcomes(result, ["/".join(k.path) for k in keys], partition, prefix="")
            if not all(o.ok for o in outcomes):
                restored = journal.rollback()
                _sync_instance(instance, restored, result.run_id)
                if restored:
                    summary.warehouse_notes.append(
                        f"{job} {partition or ''}: a step failed, so the {len(restored)} partition(s) this run had "
                        f"replaced were put back to their previous versions ({', '.join(k for k, _ in restored[:4])}"
                        f"{', ...' if len(restored) > 4 else ''})")
        summary.outcomes.extend(outcomes)
        summary.checks += check_outcomes(result, partition)


def _plain(v):
    """A metadata value as plain text or number (what the UI shows), never a ``MetadataValue`` repr."""
    v = getattr(v, "value", v)
    if isinstance(v, str):
        v = " ".join(v.split())
        return v if len(v) <= 300 else v[:297] + "..."
    return v


def check_outcomes(result: dg.ExecuteInProcessResult, partition: str | None) -> list[CheckOutcome]:
    """The failed check evaluations of a run (ERROR: a failure; WARN: a warning), with plain metadata."""
    out = []
    for ev in result.all_events:
        if ev.event_type_value != "ASSET_CHECK_EVALUATION" or ev.event_specific_data.passed:
            continue
        d = ev.event_specific_data
        out.append(CheckOutcome("/".join(d.asset_key.path), d.partition or partition, d.check_name, False,
                                d.severity.value, {k: _plain(v) for k, v in d.metadata.items()}))
    return out


def _sync_instance(instance: dg.DagsterInstance, restored: list[tuple[str, dict | None]], run_id: str) -> None:
    """After a rollback the instance's latest materialisation of each put-back partition would describe the
    version that was removed; provenance (defs/provenance.py) reads it first.  Record the restored version
    (runless, with its manifest's provenance), or wipe a partition that did not exist before."""
    for key, man in restored:
        layer, entry, part = key.split("/", 2)
        akey = dg.AssetKey([layer, entry])
        partition = None if part in ("all", "latest") else part
        try:
            if man is None:
                if partition is not None:
                    instance.wipe_asset_partitions(akey, [partition])
                continue
            md = {k: str(man[k]) for k in ("vintages", "provisional_releases") if man.get(k) is not None}
            md.update(rows=int(man.get("rows") or 0), warehouse_path=key,
                      restored=f"previous version put back after run {run_id} failed")
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=akey, partition=partition,
                                                                        metadata=md))
        except Exception:  # noqa: BLE001 - bookkeeping of the UI; the warehouse is already right
            continue


#: the former name (it ran every layer, not only the sources)
run_sources = run_pipeline


_WRAPPER = re.compile(r"^dagster\._core\.errors\.DagsterExecution\w+Error")


def error_message(err) -> str:
    """One readable message for a Dagster step failure: the cause behind Dagster's wrappers ("Error occurred
    while handling output ...") and without the exception's module path; a storage error (disk full,
    read-only, no permission) as one line naming the path and the cause."""
    if err is None:
        return "step failed"
    while err.cause is not None and (_WRAPPER.match(err.message) or err.cls_name.startswith("DagsterExecution")):
        err = err.cause
    msg = err.message.strip()
    msg = re.sub(r"^dagster\._core\.[\w.]+\.Failure:\s*", "", msg)
    msg = re.sub(r"^(?:monitor_dagster\.warehouse\.)?(?:WarehouseCorrupt|WarehouseWriteError):\s*", "", msg)
    if not err.cls_name.startswith("Warehouse"):     # an OSError of a write elsewhere (a full disk, read-only)
        m = re.search(r"\[Errno (\d+)\]|\(os error (\d+)\)", msg)
        problem = storage_problem(int(m.group(1) or m.group(2))) if m else None
        if problem:
            path = re.search(r"'([^']+)'", msg)
            return f"cannot write{' ' + path.group(1) if path else ''}: {problem} ({msg.splitlines()[0]})"
    return msg


def _outcomes(result: dg.ExecuteInProcessResult, names: list[str], pkey: str | None,
              prefix: str = "sources__") -> list[StepOutcome]:
    out = []
    failures = {}
    for ev in result.all_events:
        if ev.is_step_failure:
            failures[ev.step_key] = error_message(ev.event_specific_data.error)
    mats = {}
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        key = mat.asset_key.path[-1] if prefix == "sources__" else "/".join(mat.asset_key.path)
        mats[key] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    for n in names:
        step = [k for k in failures if k == prefix + n.replace("/", "__")]
        if step:
            out.append(StepOutcome(n, pkey, False, failures[step[0]]))
        elif n in mats:
            out.append(StepOutcome(n, pkey, True, "", mats[n]))
        else:
            out.append(StepOutcome(n, pkey, False, "not executed (upstream failure or run error)"))
    return out
