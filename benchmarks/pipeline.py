"""End-to-end benchmark (issues 5, 7): landing zone -> sources -> core -> indicators -> exported table -> site.

Workload: N persons (default 1,000,000) x 2015-2021 in parquet.  Each layer runs in its own process so its
peak memory (max RSS) is its own; wall time per layer and in total.  Two verdicts: the whole run (synth and
site included) under 10 minutes and 8 GB (issues 5, 7: 1 M persons x 2015-2021), and landing zone -> gated table
(sources, core, indicators, export; no synth, no site) within 10 minutes and 12 GB (issue 12: a national year,
``--persons 17500000 --years 2021-2021 --replicate 20``).  Step ``run`` runs the three layers in one process, as
``monitor run`` does (``--steps run,export``): what a user waits for; the layers' own steps say where the time goes.

Regions: the synthetic zone uses the municipality codes of 2020 in every year and the package ships the 2020
mapping only, so for the other years the benchmark writes the 2020 mapping under their names to a folder of its
output and sets ``MONITOR_REGIO_DIR`` (unless you set it): the regional breakdowns are computed as in a real run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
# the per-year pipeline is measured: the sensitivity table (one population per method alternative, computed once
# per publication; docs/methodology.md) is kept out of the timings
os.environ.setdefault("MONITOR_SENSITIVITY", "0")


#: the benchmark's steps that are ``monitor run``s: one layer each (in its own process, so that its peak memory is
#: its own), or ``run``, all three in one process as ``monitor run`` does them (one start of the interpreter, the
#: definitions and the Dagster instance instead of three; docs/scaling_measurements.md, twenty-fifth session)
LAYERS = {"sources": ("sources",), "core": ("core",), "indicators": ("indicators",),
          "run": ("sources", "core", "indicators")}
#: measuring sticks, not part of the run: one streaming scan of the source tables, and one of the core tables
SCANS = ("scan", "scan_core")
#: checks, not part of the run either: the warehouse against the zone's planted truth (synth/verify.py)
CHECKS = ("truth",)


def fresh_warehouse(base: Path, steps: list[str]) -> bool:
    """Remove the warehouse of an earlier run when the steps start by ingesting (``sources`` or ``run``), so that
    they time the ingest: the monitor does not ingest a file again that the warehouse holds already (the same
    release), so on an old warehouse the sources took 6 instead of 13 s at 1 M persons and the landing -> gated
    table verdict would have said "met" for work not done.  Steps that start later (``core``, ``indicators``, ...)
    re-use the warehouse, as they must.  The warehouse is the benchmark's own (under ``MONITOR_BENCH_OUT``), never
    the user's.  True when one was removed."""
    wh = base / "warehouse"
    if steps and steps[0] in ("sources", "run") and wh.is_dir():
        shutil.rmtree(wh)
        return True
    return False


def layer(step: str, base: Path, persons: int, first: int, last: int, replicate: int = 1) -> dict:
    import dagster as dg

    t = time.perf_counter()
    if step == "synth":
        from monitor_dagster.synth.generate import SynthConfig, generate
        generate(SynthConfig(landing=base / "landing", persons=persons // replicate, first_year=first,
                             last_year=last, seed=1, fmt="parquet", replicate=replicate))
    elif step in LAYERS:
        from monitor_dagster.runner import run_pipeline
        with dg.instance_for_test() as inst, RssSampler() as rss:
            s = run_pipeline(base / "landing", base / "warehouse", instance=inst, layers=LAYERS[step],
                             select=["LANDAKTUEELREF"] if "sources" not in LAYERS[step] else None)
            steps = _step_seconds(inst, top=12 if step == "run" else 8)
            step_peaks = _step_peaks(inst, rss.samples, top=12 if step == "run" else 8)
        bad = [o for o in s.outcomes if not o.ok]
        if bad:
            raise SystemExit(f"{step}: {bad[:3]}")
    elif step == "scan":
        scanned = scan_sources(base / "warehouse")
    elif step == "scan_core":
        scanned = scan_sources(base / "warehouse", layer="core")
    elif step == "truth":
        from monitor_dagster.synth.verify import verify_warehouse
        path = base / "landing.truth.json"
        checks = ([c.__dict__ for c in verify_warehouse(base / "warehouse", json.loads(path.read_text()))]
                  if path.exists() else [{"name": "truth file", "ok": False, "detail": f"{path} is missing"}])
    elif step == "export":
        from monitor_dagster.export import export_table
        from monitor_dagster.warehouse import Warehouse
        t_ = Warehouse(base / "warehouse", layer="indicators").read("indicator_table", "all").collect()
        export_table(t_.drop("suppression_reason", strict=False), "csv", base / "indicators.csv")
    elif step == "publish":
        from monitor_dagster.publication.data import load_gated
        from monitor_dagster.publication.site import build_site
        build_site(load_gated(base / "warehouse"), base / "site")
    # the source runs may go to worker processes (MONITOR_INGEST_PROCESSES): the largest child's peak is shown
    # when it exceeds the step's own (up to that many run at once, so their sum may be higher; a child forked
    # from a large process counts the pages it shares, hence only shown when larger)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {"step": step, "seconds": time.perf_counter() - t,
           # CPU seconds over wall seconds: how many of the cores the layer kept busy
           "cpu_seconds": ru.ru_utime + ru.ru_stime,
           "cpu_seconds_workers": sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f)
                                      for f in ("ru_utime", "ru_stime")),
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
           "peak_rss_worker_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2}
    if step in LAYERS:
        out["slowest_steps"] = steps
        out["largest_steps"] = step_peaks
    if step in SCANS:
        out["inputs"] = scanned
    if step in CHECKS:
        out["checks"] = checks
    return out


def scan_sources(warehouse: Path, layer: str = "sources") -> int:
    """One streaming scan of every source table in the warehouse (every partition with a current version),
    every column read and reduced (numbers summed, dates and codes by their physical values, text by its
    bytes): the floor under any computation on the files that core and indicators read (issue 12: compute
    <= 10x one streaming scan of its inputs).  Returns the tables scanned.  ``benchmarks/indicators.py``'s
    scan sums only the numeric columns of the register families' inputs, as it has since it was written.
    ``layer="core"`` (step ``scan_core``): the same of the core tables, which the indicator layer reads as
    well (:func:`layer_verdict`)."""
    from monitor_dagster.warehouse import Warehouse     # first: the allocator options (monitor_dagster/allocator.py)

    w, n = Warehouse(warehouse, layer=layer), 0
    for entry in w.entries():
        for part in w.partitions(entry):
            lf = w.read(entry, part)
            lf.select(reduced(c, d) for c, d in lf.collect_schema().items()).collect(engine="streaming")
            n += 1
    return n


def reduced(name: str, dtype):
    """A column reduced so that every value of it is decoded: numbers summed, dates and codes by their physical
    values, text by its bytes (the scans of this file and of ``indicators.py --per-family``)."""
    import polars as pl

    c = pl.col(name)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return c.cast(pl.Float64).sum()
    if dtype == pl.String:
        return c.str.len_bytes().sum()
    return c.to_physical().cast(pl.Float64).sum()     # dates, Enums, Categoricals


def steal_seconds() -> float:
    """CPU seconds the hypervisor gave to other guests so far, all cores (``steal`` of /proc/stat; 0 where
    there is none).  A layer that ran while the host took cores is slower with the same code: the twelfth
    session saw 258 s of steal during one national run, its layers' cores busy falling from 1.8 to 1.6."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _step_seconds(instance, top: int = 8) -> list[tuple[str, float]]:
    """The slowest Dagster steps of the layer's runs (step key, seconds): where a layer's time goes."""
    stats = [(st.step_key, st.end_time - st.start_time) for run in instance.get_runs()
             for st in instance.get_run_step_stats(run.run_id) if st.start_time and st.end_time]
    return sorted(stats, key=lambda kv: -kv[1])[:top]


class RssSampler:
    """The process's resident memory every ``every`` seconds in a thread, as (epoch seconds, GB): which step of a
    layer holds its peak (:func:`_step_peaks`).  Only this process: the in-process executor runs the derived
    layers' steps here (the sources' worker processes are not sampled)."""

    def __init__(self, every: float = 0.2):
        import threading

        self.every, self.samples, self._stop = every, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            try:
                pages = int(Path("/proc/self/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                return                      # no /proc (not Linux): no step peaks
            self.samples.append((time.time(), pages * page / 1024**3))
            self._stop.wait(self.every)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _step_peaks(instance, samples: list[tuple[float, float]], top: int = 8) -> list[tuple[str, float]]:
    """The steps whose sampled resident memory was highest (step key, GB), largest first: the peak of a layer is
    one step's, plus what earlier steps left to the allocator (monitor_dagster/allocator.py)."""
    peaks = []
    for run in instance.get_runs():
        for st in instance.get_run_step_stats(run.run_id):
            if st.start_time and st.end_time:
                inside = [gb for t, gb in samples if st.start_time <= t <= st.end_time]
                if inside:
                    peaks.append((st.step_key, round(max(inside), 2)))
    return sorted(peaks, key=lambda kv: -kv[1])[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--years", default="2015-2021")
    ap.add_argument("--replicate", type=int, default=1,
                    help="generate persons/R and write R shifted copies (monitor synth --replicate): a national "
                         "zone within the generator's memory")
    ap.add_argument("--steps", default="synth,sources,core,indicators,export,truth,scan,scan_core,publish",
                    help="steps to run; starting with sources or run re-uses the zone of an earlier run with a "
                         "new warehouse, starting later re-uses its warehouse too")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    a = ap.parse_args()
    first, last = (int(x) for x in a.years.split("-"))
    base = OUT / f"pipeline_{a.persons}_{first}_{last}"
    if a.step:
        print(json.dumps(layer(a.step, base, a.persons, first, last, a.replicate)))
        return
    steps = a.steps.split(",")
    if steps[0] == "synth":
        shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True, exist_ok=True)
    results, total = [], 0.0
    print(f"pipeline benchmark: {a.persons:,} persons x {first}-{last}", flush=True)
    if fresh_warehouse(base, steps):
        print(f"  the warehouse of an earlier run ({base / 'warehouse'}) removed: the sources are ingested anew",
              flush=True)
    if steps[0] != "synth" and (base / "landing").exists():
        from monitor_dagster.synth.truth import stale_zone
        why = stale_zone(base / "landing.truth.json")
        if why:        # measured on an old zone, a change of the generator goes unseen (thirty-ninth session)
            print(f"  WARNING: {why}; start the steps with synth to write the zone anew", flush=True)
    stand_in = stand_in_mappings(first, last, base / "regio_mappings")
    if stand_in is not None:       # the layers run in child processes, which inherit it
        from monitor_dagster.reference.regions import REGIO_DIR_ENV
        os.environ[REGIO_DIR_ENV] = str(stand_in[0])
        print(f"  regions: the generator's mapping stands in for {', '.join(map(str, stand_in[1]))} "
              f"({REGIO_DIR_ENV}={stand_in[0]}), so that the regional breakdowns are measured", flush=True)
    for step in steps:
        steal0 = steal_seconds()
        p = subprocess.run([sys.executable, __file__, "--persons", str(a.persons), "--years", a.years,
                            "--replicate", str(a.replicate), "--step", step],
                           capture_output=True, text=True)
        steal = steal_seconds() - steal0
        if p.returncode != 0:
            print(f"  {step}: FAILED\n{p.stderr[-2000:]}")
            break
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["steal_seconds"] = steal
        total += r["seconds"] if step not in SCANS + CHECKS else 0.0     # a measuring stick, not part of the run
        results.append(r)
        if step in CHECKS:
            print(truth_lines(r["checks"]), flush=True)
            continue
        worker = r.get("peak_rss_worker_gb", 0)
        cpu = r.get("cpu_seconds", 0) + r.get("cpu_seconds_workers", 0)
        print(f"  {step:<11} {r['seconds']:7.1f} s   peak {r['peak_rss_gb']:.2f} GB   cores busy {cpu / r['seconds']:.2f}"
              + (f" (largest worker process {worker:.2f} GB)" if worker > r["peak_rss_gb"] + 0.05 else "")
              + (f"   cores taken by the host {steal / r['seconds']:.2f}" if steal > 0.05 * r["seconds"] else ""),
              flush=True)
        if r.get("slowest_steps"):
            print("      slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in r["slowest_steps"]), flush=True)
        if r.get("largest_steps"):
            print("      largest steps: " + ", ".join(f"{k} {v:.2f} GB" for k, v in r["largest_steps"]), flush=True)
    peak = max((step_peak(r) for r in results if r["step"] not in SCANS + CHECKS), default=0)
    if any(r["step"] not in SCANS + CHECKS for r in results):
        print("  " + whole_run_verdict(total, peak, a.persons, first, last))
    gated = gated_verdict(results)
    if gated:
        print("  " + gated)
    for line in (scan_verdict(results), layer_verdict(results)):
        if line:
            print("  " + line)
    if "indicators" in steps and (base / "warehouse").is_dir():
        left = _families_not_built(base / "warehouse", last)
        if left:    # e.g. transitions needs SPOLISBUS t-1: a zone of one year does not measure it
            print(f"  not built for {last} (readiness), so not in the times above: " + "; ".join(left))
    (OUT / "bench_pipeline.json").write_text(json.dumps(results, indent=1))


def truth_lines(checks: list[dict]) -> str:
    """The truth step's report: one line per check, failures first, and a verdict line."""
    bad = [c for c in checks if not c["ok"]]
    lines = [f"  truth       {len(checks) - len(bad)} of {len(checks)} checks against the zone's planted truth hold"
             + ("" if checks else " (nothing to compare: no core/population of a year of the truth)")]
    lines += [f"      {'FAILS' if not c['ok'] else 'holds'}: {c['name']}: {c['detail']}"
              for c in sorted(checks, key=lambda c: c["ok"])]
    return "\n".join(lines)


def stand_in_mappings(first: int, last: int, folder: Path) -> tuple[Path, list[int]] | None:
    """A folder for ``MONITOR_REGIO_DIR`` with the municipality -> arbeidsmarktregio mapping whose codes the
    generator uses (``synth.regions.MAPPING_YEAR``) under the name of every year of the run the package has no
    mapping of, and those years; None when the user set ``MONITOR_REGIO_DIR`` (theirs is used as it is) or no
    year lacks one.

    Why: the synthetic zone gives every address the municipality codes of the 2020 reference in every year
    (docs/regions.md, "Synthetic data"), and a year without a mapping builds core/population with regio and
    randstad null, so the indicator layer computes none of their cells.  A benchmark of 2021 without this left
    out breakdowns that a real run with the year's mapping makes (the national runs up to the twenty-second
    session did; the tests use the 2020 mapping under the year's name in the same way)."""
    from monitor_dagster.reference.regions import REGIO_DIR_ENV, find_mapping, mapping_file
    from monitor_dagster.synth.regions import MAPPING_YEAR

    if os.environ.get(REGIO_DIR_ENV, "").strip():
        return None
    missing = [y for y in range(first, last + 1) if find_mapping(y) is None]
    if not missing:
        return None
    text, _ = find_mapping(MAPPING_YEAR)
    folder.mkdir(parents=True, exist_ok=True)
    for y in missing:
        (folder / mapping_file(y)).write_text(text, encoding="utf-8")
    return folder, missing


#: the layers between a landing zone and the gated table: what issue 12's national target times, layer by layer
#: or as one ``monitor run`` (step ``run``) and the export
GATED_STEPS = ("sources", "core", "indicators", "export")
GATED_RUN = ("run", "export")


def step_peak(r: dict) -> float:
    """A layer's peak (GB): its own process or its largest worker process (the ingest runs files in workers)."""
    return max(r["peak_rss_gb"], r.get("peak_rss_worker_gb", 0))


#: the workload of the whole-run target of issues 5 and 7 (persons, first year, last year)
WHOLE_RUN_WORKLOAD = (1_000_000, 2015, 2021)


def whole_run_verdict(total: float, peak: float, persons: int, first: int, last: int) -> str:
    """The run's seconds and largest peak, with the verdict of issues 5 and 7 (the whole run under 10 minutes and
    8 GB) only for the workload that target is set on (:data:`WHOLE_RUN_WORKLOAD`): a two-year national run
    printed "NOT met" against a target that is not its own (forty-sixth session)."""
    line = f"total {total:.0f} s ({total / 60:.1f} min), max peak {peak:.2f} GB"
    n, lo, hi = WHOLE_RUN_WORKLOAD
    if (persons, first, last) != WHOLE_RUN_WORKLOAD:
        return f"{line} (the whole-run target of issues 5 and 7 is set on {n:,} persons x {lo}-{hi}, not this workload)"
    return f"{line}; whole run (issues 5, 7) target < 10 min and < 8 GB: {'met' if total < 600 and peak < 8 else 'NOT met'}"


def gated_verdict(results: list[dict]) -> str | None:
    """Landing zone -> gated table (issue 12: a national year within 10 minutes and 12 GB): the seconds and the
    largest peak of :data:`GATED_STEPS` (or of :data:`GATED_RUN` when those ran: one ``monitor run``), not the
    synth (the zone is given) nor the site; None unless all steps of one of the two ran."""
    by_step = {r["step"]: r for r in results}
    gated = next((g for g in (GATED_RUN, GATED_STEPS) if all(s in by_step for s in g)), None)
    if gated is None:
        return None
    secs = sum(by_step[s]["seconds"] for s in gated)
    peak = max(step_peak(by_step[s]) for s in gated)
    ok = secs <= 600 and peak <= 12
    return (f"landing -> gated table ({', '.join(gated)}) {secs:.0f} s ({secs / 60:.1f} min), peak {peak:.2f} "
            f"GB; issue 12 target <= 10 min and <= 12 GB: {'met' if ok else 'NOT met'}")


def scan_ratio(results: list[dict]) -> tuple[float, float] | None:
    """Compute against reading (issue 12: core + indicators <= 10x one streaming scan of their inputs): the
    seconds of the core and indicator layers, and those over the seconds of the ``scan`` step; None unless all
    three ran.  One definition for this verdict and ``national.py``'s table."""
    by_step = {r["step"]: r for r in results}
    if any(s not in by_step for s in ("core", "indicators", "scan")) or by_step["scan"]["seconds"] <= 0:
        return None
    compute = by_step["core"]["seconds"] + by_step["indicators"]["seconds"]
    return compute, compute / by_step["scan"]["seconds"]


def scan_verdict(results: list[dict]) -> str | None:
    """:func:`scan_ratio` as a line of the benchmark's output; None unless it can be computed."""
    got = scan_ratio(results)
    if got is None:
        return None
    compute, ratio = got
    scan = next(r for r in results if r["step"] == "scan")
    return (f"compute (core + indicators) {compute:.0f} s = {ratio:.1f}x one streaming scan of the "
            f"{scan.get('inputs', '?')} source tables ({scan['seconds']:.1f} s); issue 12 target "
            f"<= 10x: {'met' if ratio <= 10 else 'NOT met'}")


def every_table_ratio(results: list[dict]) -> float | None:
    """Core + indicators over one scan of every table they read (the sources and the core tables, once each);
    None unless core, indicators, ``scan`` and ``scan_core`` ran (and the scan of the sources took time)."""
    by_step = {r["step"]: r for r in results}
    if any(s not in by_step for s in ("core", "indicators", *SCANS)) or by_step["scan"]["seconds"] <= 0:
        return None
    return ((by_step["core"]["seconds"] + by_step["indicators"]["seconds"])
            / (by_step["scan"]["seconds"] + by_step["scan_core"]["seconds"]))


def layer_verdict(results: list[dict]) -> str | None:
    """The compute target layer by layer (a reading for the author, not the issue's verdict): the core layer
    against the scan of the sources it reads, the indicator layer against one scan of the sources and the core
    tables (what its families read), and the whole against that scan of every table the compute reads, once
    each.  None unless core, indicators, ``scan`` and ``scan_core`` ran."""
    every = every_table_ratio(results)
    if every is None:
        return None
    by_step = {r["step"]: r for r in results}
    core, ind = by_step["core"]["seconds"], by_step["indicators"]["seconds"]
    src, both = by_step["scan"]["seconds"], by_step["scan"]["seconds"] + by_step["scan_core"]["seconds"]
    return (f"per layer: core {core:.0f} s = {core / src:.1f}x the scan of the sources; indicators {ind:.0f} s = "
            f"{ind / both:.1f}x one scan of the sources and the {by_step['scan_core'].get('inputs', '?')} core "
            f"tables ({both:.1f} s); core + indicators = {every:.1f}x that scan of every table the compute reads")


def _families_not_built(warehouse: Path, year: int) -> list[str]:
    """The engine families without a partition ``year`` in the warehouse, each with the first reason
    readiness gives for one of its indicators."""
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.readiness import year_readiness
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="indicators")
    ready = year_readiness(warehouse, year).indicators
    out = []
    for fam, specs in SPEC.families().items():
        if specs and w.manifest(fam, str(year)) is None:
            why = next((f"{r.state}: {r.reasons[0]}" for s in specs if (r := ready.get(s.id)) and r.reasons),
                       "not built")
            out.append(f"{fam} ({why})")
    return out


if __name__ == "__main__":
    main()
