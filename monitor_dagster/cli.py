"""The ``monitor`` command line (README.md, "Commands").

Subcommands: ``synth`` (a synthetic CBS landing zone), ``run`` (ingest into the warehouse, in-process),
``status`` (landed / ingested / stale / provisional / overdue), ``export`` (the gated table), ``publish`` (web
publication, factsheet, technical report), ``repair`` (stored files against their checksums) and ``demo`` (all
of it on a small zone).  Every command exits 0 on success and non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monitor gelijke kansen: synthetic CBS data and the Dagster pipeline.")
console = Console(stderr=True)
# tables stay readable when piped or captured (no terminal width to fit): use a wide virtual width then
out = Console(width=None if sys.stdout.isatty() else 200)


def _stop_on_warehouse_error(exc: BaseException, path: Path | None = None) -> None:
    """One line and exit 1, not a traceback, for a damaged stored file (verified reads) or a storage that
    refuses writes (disk full, read-only, no permission: the path and the cause; ``path`` when the error
    names none, e.g. polars' 'os error 28'); returns for anything else."""
    from monitor_dagster.warehouse import WarehouseCorrupt, WarehouseWriteError, os_errno, storage_problem

    if isinstance(exc, (WarehouseCorrupt, WarehouseWriteError)):
        msg = str(exc)
    else:
        problem = storage_problem(os_errno(exc))
        if problem is None:
            return
        msg = f"cannot write {getattr(exc, 'filename', None) or path or ''}: {problem}".replace("write :", "write:")
    console.print(f"[red]error:[/red] {escape(msg)}", soft_wrap=True)      # one line, also in a narrow terminal
    raise typer.Exit(1) from None


def _dagster_log_level() -> str:
    """Dagster's console log in ``run``/``publish``/``demo``: CRITICAL unless ``MONITOR_LOG_LEVEL`` says otherwise.
    The summary reports every failure in one line; the full log with tracebacks is in the instance (``make ui``)."""
    import os

    return os.environ.get("MONITOR_LOG_LEVEL", "CRITICAL").upper()


def parse_years(text: str) -> tuple[int, int]:
    """'2013-2021' or '2019' -> (first, last); a malformed or reversed range exits 2 at once with the reason."""
    try:
        a, b = (int(x) for x in text.split("-", 1)) if "-" in text else (int(text), int(text))
    except ValueError:
        raise typer.BadParameter(f"years must look like 2013-2021 or 2019, got {text!r}") from None
    if a > b:
        console.print(f"[red]error:[/red] --years {escape(text)}: the first year {a} is after the last year {b} "
                      f"(did you mean {b}-{a}?)")
        raise typer.Exit(2)
    return a, b


def _run_synth(landing: Path, persons: int, years: str, seed: int, fmt: str, truth: Path | None,
               replicate: int = 1, plant_corrections: bool = False, surveys: tuple[str, ...] = (),
               vacancies: int = 0):
    from monitor_dagster.synth.generate import SynthConfig, SynthError, generate

    first, last = parse_years(years)
    cfg = SynthConfig(landing=landing, persons=persons, first_year=first, last_year=last, seed=seed, fmt=fmt,
                      truth=truth, replicate=replicate, plant_corrections=plant_corrections, surveys=surveys,
                      vacancies=vacancies)
    try:
        cfg.validate()
    except SynthError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    with Progress(TextColumn("[bold]synth[/bold] {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("building the latent world", total=None)

        def progress(desc: str, i: int, n: int) -> None:
            bar.update(task, description=desc, completed=i, total=n)

        try:
            res = generate(cfg, progress)
        except SynthError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    _print_summary(res)
    return res


def _print_summary(res) -> None:
    agg: dict[str, list] = defaultdict(lambda: [0, 0, 0, set()])
    for f in res.files:
        a = agg[f.file_id]
        a[0] += 1
        a[1] += f.rows
        a[2] += f.bytes
        a[3].add(f.year)
    rep = res.config.replicate
    t = Table(title=f"Synthetic landing zone {res.config.landing} ({res.config.fmt})"
                    + (f": {rep} copies of {res.config.persons:,} persons" if rep > 1 else ""))
    for c in ("file", "files", "years", "rows", "MB"):
        t.add_column(c, justify="right" if c != "file" else "left")
    for fid, (nf, rows, size, years) in sorted(agg.items()):
        t.add_row(fid, str(nf), f"{min(years)}-{max(years)}" if len(years) > 1 else str(min(years)), f"{rows:,}",
                  f"{size / 1e6:.1f}")
    out.print(t)
    s = res.seconds
    out.print(f"{len(res.files)} files, {sum(f.rows for f in res.files):,} rows, "
              f"{sum(f.bytes for f in res.files) / 1e6:.1f} MB in {s['total']:.1f} s "
              f"(latent world {s['latent']:.1f} s, writing {s['write']:.1f} s). Truth file: {res.config.truth_path}")


@app.command()
def synth(
    landing: Path = typer.Option(..., "--landing", help="Root of the landing zone to write (created if missing)."),
    persons: int = typer.Option(10_000, "--persons", help="Number of synthetic persons (ever registered)."),
    years: str = typer.Option("2013-2021", "--years", help="Years to write, e.g. 2013-2021 (2006-2026)."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed and arguments give identical files."),
    fmt: str = typer.Option("sav", "--format", help="sav (SPSS, as in Remote Access), csv (CBS converted copy: ; and "
                                                    "decimal comma) or parquet."),
    truth: Path | None = typer.Option(None, "--truth", help="Where to write the truth file "
                                                            "(default: <landing>.truth.json next to the landing zone)."),
    replicate: int = typer.Option(1, "--replicate", min=1,
                                  help="Write R copies of the --persons base zone with shifted person and job keys "
                                       "(R x persons in all, memory of one base zone; csv/parquet only; "
                                       "docs/synthetic_data.md)."),
    plant_corrections: bool = typer.Option(False, "--plant-corrections",
                                           help="Plant known truths for the corrected figures (report 7.2.2): O09 "
                                                "income pure composition, O04 permanent contract with a group effect "
                                                "of -8 points; overrides contracts and incomes, so off by default "
                                                "(docs/synthetic_data.md)."),
    surveys: str = typer.Option("", "--surveys",
                                help="Also write synthetic responses of the input surveys (gemeenten, werkgevers, "
                                     "onderwijsinstellingen) for these waves, e.g. 2023 (comma-separated; a wave "
                                     "needs its packaged form; docs/surveys.md)."),
    vacancies: int = typer.Option(0, "--vacancies", min=0,
                                  help="Also write N synthetic Jobfeed vacancies per year from 2021 (research "
                                       "question 5; one file per year, truth next to the zone; docs/vacancies.md)."),
) -> None:
    """Write a synthetic CBS landing zone in the Remote Access layout, plus a truth file."""
    _run_synth(landing, persons, years, seed, fmt, truth, replicate, plant_corrections,
               tuple(w.strip() for w in surveys.split(",") if w.strip()), vacancies=vacancies)


def _layers(text: str) -> tuple[str, ...]:
    got = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [x for x in got if x not in ("sources", "core", "indicators")]
    if bad or not got:
        raise typer.BadParameter(f"unknown layer(s) {bad}: choose from sources, core, indicators")
    return got


def _years_opt(years: str | None) -> tuple[int, int] | None:
    return parse_years(years) if years else None


@app.command()
def run(
    landing: Path = typer.Option(..., "--landing", help="Landing zone root (files exactly as CBS delivers them)."),
    warehouse: Path = typer.Option(..., "--warehouse", help="Warehouse root (normalised parquet)."),
    years: str | None = typer.Option(None, "--years", help="Only these periods of yearly files, e.g. 2019-2021."),
    select: str | None = typer.Option(None, "--select", help="Comma-separated catalog entries, e.g. SPOLISBUS,SECMBUS."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Another data_catalog.yaml (default: the project's)."),
    layers: str = typer.Option("sources,core,indicators", "--layers",
                               help="Layers to build: sources, core, indicators (comma-separated)."),
    allow_older: list[str] | None = typer.Option(
        None, "--allow-older", help="Roll back on purpose: ingest this landed release (e.g. INPATAB2020V1) even "
                                    "though the warehouse holds a newer one (repeat or comma-separate)."),
) -> None:
    """Ingest what has landed into the warehouse and build the layers on top, in-process (no daemon);
    non-zero exit if anything fails.  An older release never replaces an ingested newer one unless named in
    --allow-older (the run summary says why it was skipped)."""
    from monitor_dagster.catalog import CatalogError
    from monitor_dagster.runner import YearsError, run_pipeline

    if not landing.is_dir():
        console.print(f"[red]error:[/red] landing zone {landing} does not exist")
        raise typer.Exit(2)
    sel = [s.strip() for s in select.split(",") if s.strip()] if select else None
    older = tuple(x.strip() for a in (allow_older or []) for x in a.split(",") if x.strip())
    if older:
        from monitor_dagster.catalog import load_catalog
        from monitor_dagster.landing import allow_older_problems, scan

        try:
            cat = load_catalog(catalog)
            problems = allow_older_problems(scan(landing, cat), cat, list(older), sel, _years_opt(years),
                                            "sources" in _layers(layers))
        except CatalogError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
        if problems:
            console.print(f"[red]error:[/red] {escape('; '.join(problems))}")
            raise typer.Exit(2)
    try:
        with Progress(TextColumn("[bold]run[/bold] {task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} runs"), TimeElapsedColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task("planning", total=None)
            summary = run_pipeline(landing, warehouse, _years_opt(years), sel, catalog,
                                  progress=lambda d, i, n: bar.update(task, description=d, completed=i, total=n),
                                  layers=_layers(layers), allow_older=older, log_level=_dagster_log_level())
    except YearsError as exc:   # checked before anything is read or written
        console.print(f"[red]error:[/red] --years {escape(str(exc))}")
        raise typer.Exit(2) from None
    except (CatalogError, KeyError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except Exception as exc:
        _stop_on_warehouse_error(exc)
        raise
    _print_run_summary(summary)
    if not summary.ok:
        raise typer.Exit(1)


@app.command()
def backfill(
    landing: Path = typer.Option(..., "--landing"),
    warehouse: Path = typer.Option(..., "--warehouse"),
    years: str = typer.Option(..., "--years", help="The years to bring up to date, e.g. 2015-2019."),
    select: str | None = typer.Option(None, "--select", help="Comma-separated catalog entries."),
    layers: str = typer.Option("sources,core,indicators", "--layers"),
) -> None:
    """Bring a range of years up to date after CBS revised a file: re-ingests what changed in the landing zone
    and rebuilds the core and indicator partitions of those years (and the indicator table).  The same as
    selecting a partition range in the UI and launching a backfill."""
    run(landing=landing, warehouse=warehouse, years=years, select=select, catalog=None, layers=layers, allow_older=None)


def _print_interrupted(marked) -> None:
    """Runs a killed process had left STARTED, marked failed now (run_state.py)."""
    for m in marked:
        out.print(f"[yellow]interrupted:[/yellow] {escape(m.line())} - the warehouse keeps its last complete "
                  "versions; re-run the command to finish that work")


def _print_checks(summary) -> tuple[int, int]:
    """Failed checks as text: ``FAILED check <name> of <asset>: ...`` (ERROR) and ``WARN check ...``; returns
    (failures, warnings) printed.  A check of a step that failed is already in that step's FAILED line, and
    the source ``columns`` check is printed line by line from the ingest's warnings."""
    failed_steps = {(o.entry.split("/")[-1], o.partition) for o in summary.outcomes if not o.ok}
    n_bad = n_warn = 0
    for c in summary.checks:
        if c.passed or (c.asset.split("/")[-1], c.partition) in failed_steps or c.name == "columns":
            continue
        where = f"{c.asset} {c.partition}" if c.partition else c.asset
        detail = c.text()
        if c.severity == "ERROR":
            n_bad += 1
            out.print(f"[red]FAILED[/red] check {c.name} of {escape(where)}: {escape(detail or 'failed')}")
        else:
            n_warn += 1
            out.print(f"[yellow]WARN[/yellow] check {c.name} of {escape(where)}: {escape(detail or 'warned')}")
    return n_bad, n_warn


def _print_run_summary(summary) -> None:
    t = Table(title="monitor run")
    for c in ("asset", "period", "result", "vintage", "rows", "rows/s", "note"):
        t.add_column(c, justify="right" if c in ("rows", "rows/s") else "left")
    for o in sorted(summary.outcomes, key=lambda o: (o.entry, o.partition or "")):
        md = o.metadata
        result = ("[yellow]skipped[/yellow]" if md.get("skipped") else "[green]ok[/green]") if o.ok else "[red]FAILED[/red]"
        note = ("provisional; " if md.get("provisional") else "") + ("unchanged" if md.get("unchanged") else "")
        if md.get("skipped"):
            note = "older release landed; kept"
        elif md.get("rolled_back_from"):
            note = f"rolled back from {md['rolled_back_from']}"
        t.add_row(o.entry, o.partition or "-", result, str(md.get("vintage", "")),
                  f"{md['rows']:,}" if "rows" in md else "", f"{md['rows_per_second']:,.0f}" if md.get("rows_per_second") else "",
                  note.strip("; ") if o.ok else "")
    out.print(t)
    _print_interrupted(getattr(summary, "interrupted", []))
    for o in summary.outcomes:
        if not o.ok:
            out.print(f"[red]FAILED[/red] {o.entry} {o.partition or ''}: {escape(o.message)}")
    for o in summary.outcomes:   # no silent rollback (ingest/release.py): why an older release was not ingested
        if o.ok and o.metadata.get("skipped"):
            out.print(f"[yellow]SKIPPED[/yellow] {o.entry} {o.partition or ''}: {escape(str(o.metadata['skipped']))}")
        elif o.ok and o.metadata.get("rolled_back_from"):
            out.print(f"[yellow]ROLLED BACK[/yellow] {o.entry} {o.partition or ''}: rolled back "
                      f"{o.metadata['rolled_back_from']} to {o.metadata.get('vintage')} (--allow-older)")
        for c in (o.metadata.get("copies") or []) if o.ok else []:   # other files of the release, not read
            out.print(f"[yellow]COPY[/yellow] {o.entry} {o.partition or ''}: {escape(str(c))}")
    n_check_bad, n_warn = _print_checks(summary)
    for o in summary.outcomes:   # source gates: unused/used columns missing or odd (ingested; ingest/roles.py)
        for w in (o.metadata.get("warnings") or []) if o.ok else []:
            out.print(f"[yellow]WARN[/yellow] {escape(str(w))}")
            n_warn += 1
        nc = o.metadata.get("not_computable") if o.ok else None
        if nc:
            out.print(f"[yellow]not computable[/yellow] {o.entry} {o.partition or ''}: {escape(str(nc))}")
    for line in getattr(summary, "not_built", []):   # families readiness.py left out of the run, with the reason
        out.print(f"[yellow]NOT BUILT[/yellow] {escape(line)}")
    for u in summary.unknown_files:
        out.print(f"[yellow]not in the catalog (not ingested):[/yellow] {escape(u)}")
    for n in getattr(summary, "warehouse_notes", []):   # put back after a failed/interrupted run; no checksum
        out.print(f"[yellow]warehouse:[/yellow] {escape(n)}")
    n_bad = sum(not o.ok for o in summary.outcomes)
    n_core = sum(o.ok and "/" in o.entry for o in summary.outcomes)
    n_skip = sum(o.ok and bool(o.metadata.get("skipped")) for o in summary.outcomes)
    out.print(f"{len(summary.outcomes) - n_bad - n_core - n_skip} source file(s) ingested, "
              + (f"{n_skip} skipped (older than the warehouse's), " if n_skip else "")
              + f"{n_core} derived table(s) built, "
              f"{n_bad + n_check_bad} failed, {n_warn} warning(s), {len(summary.unknown_files)} unknown file(s)"
              + (f"; removed {len(summary.orphans_removed)} orphaned temporary folder(s)" if summary.orphans_removed else ""))


def _print_population(warehouse: Path) -> None:
    """Population counts by herkomst for the last year built (issue 4: the demo shows them)."""
    import polars as pl

    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="core")
    years = [p for p in w.partitions("population") if p.isdigit()]
    if not years:
        return
    y = max(years)
    pop = w.read("population", y).with_columns(pl.col("generatie").cast(pl.String).fill_null("n.v.t."))
    df = (pop.group_by("herkomst_group", "generatie").len().collect()
          .pivot(on="generatie", index="herkomst_group", values="len").fill_null(0))
    order = [c for c in ("eerste", "tweede", "n.v.t.") if c in df.columns]
    df = df.select("herkomst_group", *order).with_columns(pl.sum_horizontal(order).alias("totaal"))
    t = Table(title=f"Study population {y}: persons living in NL the whole year, by herkomst and generation")
    cols = [c for c in df.columns if c != "herkomst_group"]
    t.add_column("herkomst")
    for c in cols:
        t.add_column(str(c) if c is not None else "-", justify="right")
    for row in df.sort("herkomst_group").iter_rows():
        t.add_row(str(row[0]), *[f"{v:,}" for v in row[1:]])
    out.print(t)


def _export_and_summarise(warehouse: Path) -> None:
    """Demo ending (issue 5): export the gated table and show O03 and O04, niet-westers vs geen."""
    import polars as pl

    from monitor_dagster.export import export_table
    from monitor_dagster.indicators.table import DIMENSIONS
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="indicators")
    if w.manifest("indicator_table", "all") is None:
        return
    table = w.read("indicator_table", "all").collect()
    out_file = warehouse.parent / "indicators.csv"
    export_table(table.drop("suppression_reason", strict=False), "csv", out_file)
    sel = table.filter(pl.col("indicator_id").is_in(["O03", "O04"]) & pl.col("herkomst").is_in(["niet-westers", "geen migratieachtergrond"])
                       & pl.all_horizontal(pl.col(d) == "totaal" for d in DIMENSIONS if d != "herkomst"))
    t = Table(title="O03 netto participatie (EBB) and O04 % vast contract (register), by year")
    for c in ("indicator", "herkomst", "year", "value", "n", "status", "trend break"):
        t.add_column(c)
    for r in sel.sort("indicator_id", "herkomst", "year").iter_rows(named=True):
        t.add_row(r["indicator_id"], r["herkomst"], str(r["year"]), "suppressed" if r["suppressed"] else f"{r['value']:.1f}",
                  "" if r["n"] is None else str(r["n"]), r["status"], r["trend_break"] or "")
    out.print(t)
    out.print(f"Exported {table.height:,} cells ({int(table['suppressed'].sum()):,} suppressed) to {out_file}")


@app.command()
def export(
    warehouse: Path = typer.Option(..., "--warehouse"),
    fmt: str = typer.Option("csv", "--format", help="csv, parquet or xlsx"),
    out_path: Path = typer.Option(..., "--out"),
) -> None:
    """Write the disclosure-controlled indicator table; refuses if any cell fails the gate."""
    from monitor_dagster.export import export_table
    from monitor_dagster.gates.disclosure import STORED_TABLE_HINT, DisclosureError
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="indicators")
    if w.manifest("indicator_table", "all") is None:
        console.print(f"[red]error:[/red] no indicator table in {warehouse}: run `monitor run` first")
        raise typer.Exit(2)
    try:
        export_table(w.read("indicator_table", "all").collect(), fmt, out_path,   # read: verified (checksum)
                     hint=STORED_TABLE_HINT)
    except (DisclosureError, ValueError) as exc:
        _stop_on_warehouse_error(exc, out_path)
        console.print(f"[red]error:[/red] {escape(str(exc)[:2000])}")
        raise typer.Exit(1) from None
    except Exception as exc:
        _stop_on_warehouse_error(exc, out_path)
        raise
    out.print(f"written {out_path}")


@app.command()
def sensitivity(
    warehouse: Path = typer.Option(..., "--warehouse"),
    year: int = typer.Option(0, "--year", help="compute for this year now (default: the table the last run stored)"),
    out_path: Path = typer.Option(None, "--out", help="also write it (csv, parquet or xlsx by the extension)"),
) -> None:
    """How far the headline figures move under each choice the report leaves open (docs/methodology.md)."""
    from monitor_dagster.export import export_sensitivity
    from monitor_dagster.gates.disclosure import DisclosureError
    from monitor_dagster.sensitivity import compute, hide_with_table, stored_table
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(warehouse, layer="indicators")
    try:
        if year:
            with console.status(f"[bold]sensitivity[/bold] {year}: the pipeline once per alternative") as st:
                table = compute(warehouse, year, progress=lambda m: st.update(f"[bold]sensitivity[/bold] {m}"))
        elif w.manifest("sensitivity", "all") is not None:
            table = w.read("sensitivity", "all").collect()
        else:
            console.print(f"[red]error:[/red] no sensitivity table in {warehouse}: run `monitor run` first, or "
                          "give --year")
            raise typer.Exit(2)
        table = hide_with_table(table, stored_table(warehouse))   # what the gated indicator table hides
        if out_path is not None:
            fmt = out_path.suffix.lstrip(".").lower() or "csv"
            export_sensitivity(table, fmt, out_path)
    except (DisclosureError, ValueError) as exc:
        _stop_on_warehouse_error(exc, out_path)
        console.print(f"[red]error:[/red] {escape(str(exc)[:2000])}")
        raise typer.Exit(1) from None
    if not table.height:
        out.print("The sensitivity table is empty: no year with the population on SECM and job and SECM months.")
        return
    t = Table(title=f"Gevoeligheid voor keuzes, {table['year'][0]} (totaal / niet-westers / geen / verschil)")
    for c in ("keuze", "indicator", "totaal", "niet-westers", "geen", "verschil"):
        t.add_column(c, justify="right" if c not in ("keuze", "indicator") else "left")
    wide = table.pivot(on="herkomst", index=["choice", "alternative", "label", "indicator_id", "measure"],
                       values="value", maintain_order=True)
    def f(v):
        return "–" if v is None else f"{v:,.1f}"
    for r in wide.iter_rows(named=True):
        t.add_row(r["label"] if r["choice"] != "default" else "standaard", f"{r['indicator_id']} {r['measure']}",
                  f(r.get("totaal")), f(r.get("niet-westers")), f(r.get("geen migratieachtergrond")),
                  f(r.get("verschil niet-westers - geen")))
    out.print(t)
    if out_path is not None:
        out.print(f"written {out_path}")


def _publish(warehouse: Path, site: Path | None) -> Path:
    """Materialise ``publication/site``; returns the index page or exits non-zero with the reason."""
    from monitor_dagster.defs.publication.assets import materialize_site

    from monitor_dagster.runner import error_message

    try:
        with console.status("[bold]publish[/bold] web publication, factsheet, technical report"):
            result = materialize_site(warehouse, site, log_level=_dagster_log_level())
    except Exception as exc:
        _stop_on_warehouse_error(exc)
        raise
    if not result.success:
        # the cause behind Dagster's "Error occurred while loading input" (e.g. a table failing its checksum)
        msgs = [error_message(ev.event_specific_data.error) for ev in result.all_events
                if ev.is_step_failure and ev.event_specific_data.error]
        msg = "; ".join(m.splitlines()[0] if len(m) > 2000 else m for m in msgs) or "the publication run failed"
        console.print(f"[red]error:[/red] {escape(msg[:3000])}")
        raise typer.Exit(1)
    mat = result.asset_materializations_for_node("publication__site")[0]
    index = Path(mat.metadata["index"].value)
    out.print(f"Publication: {mat.metadata['pages'].value} pages, {mat.metadata['cells'].value:,} cells "
              f"({mat.metadata['suppressed_cells'].value:,} not published by the disclosure gate), provisional years: "
              f"{mat.metadata['provisional_years'].value}")
    return index


@app.command()
def publish(
    warehouse: Path = typer.Option(..., "--warehouse", help="Warehouse root with the gated indicator table."),
    site: Path | None = typer.Option(None, "--site", help="Folder for the site (default: <warehouse>/publication/site); "
                                                          "replaced as a whole when the new site is complete."),
) -> None:
    """Build the web publication (offline static site in Dutch), the factsheet (HTML + PDF) and the technical
    report from the disclosure-controlled indicator table; refuses a table that fails the gate."""
    from monitor_dagster.warehouse import Warehouse

    if Warehouse(warehouse, layer="indicators").manifest("indicator_table", "all") is None:
        console.print(f"[red]error:[/red] no indicator table in {warehouse}: run `monitor run` first")
        raise typer.Exit(2)
    index = _publish(warehouse, site)
    out.print(f"Open {index.resolve()}")


@app.command()
def repair(
    warehouse: Path = typer.Option(..., "--warehouse", help="Warehouse root."),
    checksum: bool = typer.Option(False, "--checksum", help="Add checksums to manifests written before verified "
                                                            "reads (trusts the files as they are now)."),
    previous: bool = typer.Option(False, "--previous", help="Point a damaged partition to the newest kept version "
                                                            "that verifies, also an older release or build."),
    remove: bool = typer.Option(False, "--remove", help="Remove a damaged source version even when an older kept "
                                                        "version verifies (`monitor run` re-ingests the release)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what is damaged and what would be done."),
) -> None:
    """Check every stored file of every layer against its checksum; a damaged version is removed and its
    partition points to an identical kept copy, or is left for `monitor run` to re-ingest or rebuild
    (docs/operations.md, "Verified reads").  Exit 1 while damaged files remain."""
    from monitor_dagster.warehouse import LAYERS
    from monitor_dagster.warehouse import repair as repair_warehouse

    if not any((warehouse / layer).is_dir() for layer in LAYERS):
        console.print(f"[red]error:[/red] no warehouse at {warehouse} (no {', '.join(LAYERS)} folder)")
        raise typer.Exit(2)
    if previous and remove:
        console.print("[red]error:[/red] --previous and --remove exclude each other")
        raise typer.Exit(2)
    try:
        found = repair_warehouse(warehouse, checksum=checksum, previous=previous, remove=remove, dry_run=dry_run)
    except Exception as exc:
        _stop_on_warehouse_error(exc)
        raise
    legacy = [f for f in found if f[1].startswith("no checksum") and not checksum]
    damaged = [f for f in found if f not in legacy]
    if dry_run and damaged:
        out.print("dry run: nothing changed")
    for where, finding, action in damaged:      # one line each: greppable in a log
        out.print(f"{where}: {escape(finding)} -> {escape(action)}", soft_wrap=True)
    if legacy:
        out.print(f"[yellow]{len(legacy)} partition(s) without checksum[/yellow] (written before verified reads, "
                  f"e.g. {legacy[0][0]}): read without verification; `monitor repair --checksum` adds them")
    left = [f for f in damaged if f[2].startswith(("nothing done", "would be"))
            and not f[1].startswith("no checksum")]
    out.print(f"{len(damaged) - len(left)} partition(s) repaired, {len(left)} damaged left"
              + ("" if damaged or legacy else ": every stored file matches its checksum"))
    if left:
        raise typer.Exit(1)


@app.command()
def status(
    landing: Path = typer.Option(..., "--landing"),
    warehouse: Path = typer.Option(..., "--warehouse"),
    today: str | None = typer.Option(None, "--today", help="Reference date for overdue releases (YYYY-MM-DD)."),
    catalog: Path | None = typer.Option(None, "--catalog"),
    all_rows: bool = typer.Option(False, "--all", help="Also list cumulative releases superseded by a later one."),
) -> None:
    """Per file and period: landed versions, ingested vintage, stale, provisional, overdue."""
    import datetime as dt

    from monitor_dagster.catalog import load_catalog
    from monitor_dagster.status import status as compute_status
    from monitor_dagster.warehouse import Warehouse

    from monitor_dagster.run_state import mark_interrupted_in_home

    day = dt.date.fromisoformat(today) if today else dt.date.today()
    _print_interrupted(mark_interrupted_in_home("monitor status"))
    sources, cat = Warehouse(warehouse), load_catalog(catalog)
    rows = compute_status(landing, sources, cat, day)
    hidden = 0 if all_rows else sum(r.note.startswith("superseded") for r in rows)
    shown = rows if all_rows else [r for r in rows if not r.note.startswith("superseded")]
    t = Table(title=f"monitor status on {day}")
    for c in ("file", "period", "landed", "ingested", "stale", "provisional", "overdue", "note"):
        t.add_column(c)
    flag = lambda b, style: f"[{style}]yes[/{style}]" if b else ""  # noqa: E731
    for r in shown:
        t.add_row(r.entry, str(r.period if r.period is not None else "-"), r.landed_versions, r.ingested,
                  flag(r.stale, "yellow"), flag(r.provisional, "cyan"), flag(r.overdue, "red"), r.note)
    out.print(t)
    from monitor_dagster.indicator_status import indicator_years

    from monitor_dagster.warehouse import WarehouseCorrupt

    try:
        years_built = indicator_years(warehouse)
    except WarehouseCorrupt as exc:   # a diagnostic: show the rest, name the damaged table
        out.print(f"[red]damaged:[/red] {escape(str(exc))}")
        years_built = []
    if years_built:
        t2 = Table(title="Indicator years: built from these source vintages")
        for c in ("year", "vintages", "newer in the warehouse (backfill to update)", "stale indicators"):
            t2.add_column(c)
        for iy in years_built:
            t2.add_row(str(iy.year), iy.vintages, "; ".join(iy.newer) or "-", ", ".join(iy.stale) or "-")
        out.print(t2)
    _print_readiness(warehouse)
    from monitor_dagster.status import ingest_gaps

    for line in ingest_gaps(sources, cat):   # used columns a release lacked
        out.print(f"[yellow]ingested without[/yellow] {escape(line)}")
    out.print(f"{sum(r.stale for r in rows)} stale, {sum(r.provisional for r in rows)} provisional, "
              f"{sum(r.overdue for r in rows)} overdue"
              + (f"; {hidden} superseded cumulative release(s) not shown (--all)" if hidden else ""))


def _print_readiness(warehouse: Path) -> None:
    """Per year (readiness.py, the same answer the schedules and `monitor run` use): final or what blocks it,
    and which indicators are provisional or not computable, with the reason."""
    from monitor_dagster.readiness import candidate_years, unweighted_years, year_readiness
    from monitor_dagster.warehouse import Warehouse

    years = candidate_years(warehouse)
    if not years:
        return
    t = Table(title="Indicator years: readiness (what `monitor run` can build, what the schedules wait for)")
    for c in ("year", "outcome (yearly)", "input (two-yearly)", "provisional", "not computable"):
        t.add_column(c)
    regional: list[str] = []
    kept: list[str] = []
    core = Warehouse(warehouse, layer="core")
    for y in years:
        r = year_readiness(warehouse, y)
        # a core table in the warehouse that this version would not build for y (an older version built it)
        kept += [f"core/{a} {y} ({'; '.join(why)})" for a, why in r.core.items()
                 if why and core.manifest(a, str(y)) is not None]
        prov = sorted(k for k, x in r.indicators.items() if x.state == "provisional")
        nc = r.not_computable()
        final = lambda cad: "final" if not r.blocking(cad) else "; ".join(r.blocking(cad)[:3])  # noqa: E731
        t.add_row(str(y), escape(final("yearly")), escape(final("two-yearly")), ", ".join(prov) or "-",
                  escape("; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(nc.items())) or "-"))
        if r.regions:
            why: dict[str, list[str]] = {}
            for col, reason in r.regions.items():
                why.setdefault(reason, []).append(col)
            regional.append(f"{y}: " + "; ".join(f"{', '.join(cs)} null ({reason})" for reason, cs in why.items()))
    out.print(t)
    if regional:   # optional (docs/regions.md): never blocks a year
        out.print(escape("Regional breakdowns and asielstatus (optional: VSLGWBTAB + mapping per year, MIGMOTIEFBUS): "
                         + " | ".join(regional)))
    if kept:   # docs/operations.md, after an upgrade
        out.print(escape("Kept from an older build, not built by this version (no indicator of the year reads it; "
                         "rebuild the year when its files land): " + " | ".join(kept)))
    unweighted = unweighted_years(warehouse)
    if unweighted:   # docs/corrections.md, "Years the model leaves out"
        out.print(escape("Corrected comparisons (gewogen): no weights for " + ", ".join(map(str, unweighted))
                         + ": the weighting model left the year out, a characteristic (education: HOOGSTEOPLTAB) "
                           "is unknown for every person of it; the first run after that file lands weights it"))


@app.command()
def demo(
    landing: Path = typer.Option(Path("demo_data/landing"), "--landing"),
    warehouse: Path = typer.Option(Path("demo_data/warehouse"), "--warehouse"),
    persons: int = typer.Option(5_000, "--persons"),
    years: str = typer.Option("2013-2021", "--years"),
    fmt: str = typer.Option("sav", "--format"),
    surveys: bool = typer.Option(True, "--surveys/--no-surveys",
                                 help="Also one synthetic wave of each input survey (every packaged form's wave; "
                                      "docs/surveys.md)."),
    vacancies: int = typer.Option(3_000, "--vacancies", min=0,
                                  help="Synthetic Jobfeed vacancies per year from 2021 (research question 5; 0 = "
                                       "none; docs/vacancies.md)."),
) -> None:
    """The main job on a small synthetic landing zone: generate it, ingest it, show the status."""
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.surveys.xlsform import forms

    waves = tuple(sorted({w for _, w in forms()})) if surveys else ()
    _run_synth(landing, persons, years, 1, fmt, None, surveys=waves, vacancies=vacancies)
    with Progress(TextColumn("[bold]run[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} runs"), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("planning", total=None)
        summary = run_pipeline(landing, warehouse, progress=lambda d, i, n: bar.update(task, description=d,
                                                                                        completed=i, total=n),
                              layers=("sources", "core", "indicators"), log_level=_dagster_log_level())
    _print_run_summary(summary)
    _print_population(warehouse)
    _export_and_summarise(warehouse)
    # the synthetic zone holds every release up to its last year: look at it as of mid-next-year
    as_of = f"{parse_years(years)[1] + 1}-06-30"
    out.print(f"Status as of {as_of} (the synthetic landing zone's point in time; real use: today).")
    status(landing=landing, warehouse=warehouse, today=as_of, catalog=None, all_rows=False)
    out.print(f"Landing zone: {landing}; warehouse: {warehouse}; `make ui` shows the asset graph and these runs.")
    if not summary.ok:
        raise typer.Exit(1)
    index = _publish(warehouse, warehouse.parent / "site")
    out.print(f"Web publication (open in a browser, works offline): {index.resolve()}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
