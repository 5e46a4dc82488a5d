"""The ``monitor`` command line (DESIGN.md, interfaces: contract).

Subcommands so far: ``synth`` (a synthetic CBS landing zone) and ``demo`` (the main job on a small landing
zone).  Every command exits 0 on success and non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monitor gelijke kansen: synthetic CBS data and the Dagster pipeline.")
console = Console(stderr=True)
out = Console()


def parse_years(text: str) -> tuple[int, int]:
    """'2013-2021' or '2019' -> (first, last)."""
    try:
        if "-" in text:
            a, b = text.split("-", 1)
            return int(a), int(b)
        return int(text), int(text)
    except ValueError:
        raise typer.BadParameter(f"years must look like 2013-2021 or 2019, got {text!r}") from None


def _run_synth(landing: Path, persons: int, years: str, seed: int, fmt: str, truth: Path | None):
    from monitor_dagster.synth.generate import SynthConfig, SynthError, generate

    first, last = parse_years(years)
    cfg = SynthConfig(landing=landing, persons=persons, first_year=first, last_year=last, seed=seed, fmt=fmt,
                      truth=truth)
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

        res = generate(cfg, progress)
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
    t = Table(title=f"Synthetic landing zone {res.config.landing} ({res.config.fmt})")
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
) -> None:
    """Write a synthetic CBS landing zone in the Remote Access layout, plus a truth file."""
    _run_synth(landing, persons, years, seed, fmt, truth)


@app.command()
def demo(
    landing: Path = typer.Option(Path("demo_data/landing"), "--landing"),
    warehouse: Path = typer.Option(Path("demo_data/warehouse"), "--warehouse"),
    persons: int = typer.Option(5_000, "--persons"),
    years: str = typer.Option("2013-2021", "--years"),
    fmt: str = typer.Option("sav", "--format"),
) -> None:
    """The main job on a small synthetic landing zone: generate it and summarise what was written."""
    _run_synth(landing, persons, years, 1, fmt, None)
    out.print(f"Landing zone ready under {landing}. Warehouse {warehouse} is filled by later pipeline stages "
              f"(see README).")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
