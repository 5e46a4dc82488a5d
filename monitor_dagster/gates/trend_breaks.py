"""Trend-break gate (DESIGN.md "Gates"; SPEC.md trend breaks): Great Expectations on each indicator series.

A series is one indicator, measure and breakdown cell over the years.  The year-on-year change of every row
must stay within the tolerance of ``indicators/trend_breaks.yaml`` unless a registered break explains it;
explained rows get the break id in ``trend_break`` (carried into the output and the publication).
Great Expectations 1.x is called directly (dagster-ge supports only GE < 1.0), on an ephemeral context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from importlib import resources

import polars as pl
import yaml

SERIES = ["indicator_id", "measure", "unit", "herkomst", "generatie", "verblijfsduur", "leeftijd", "geslacht",
          "opleiding", "sector"]


@lru_cache(maxsize=1)
def registry() -> dict:
    text = resources.files("monitor_dagster.indicators").joinpath("trend_breaks.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def explain(table: pl.DataFrame) -> pl.DataFrame:
    """Fill ``trend_break`` with the registered break(s) that apply to a row's indicator, year and cells."""
    label = pl.lit(None, dtype=pl.String)
    for b in reversed(registry()["breaks"]):
        cond = pl.col("year") == b["year"]
        if b["indicators"] != ["*"]:
            cond &= pl.col("indicator_id").is_in(b["indicators"])
        if b.get("dimension"):
            cond &= pl.col(b["dimension"]) != "totaal"
        label = pl.when(cond).then(pl.lit(b["id"])).otherwise(label)
    return table.with_columns(pl.coalesce(pl.col("trend_break"), label).alias("trend_break"))


def changes(table: pl.DataFrame) -> pl.DataFrame:
    """Year-on-year change per series, with the tolerance and whether a registered break explains it."""
    tol = registry()["tolerance"]
    # provisional cells (part-year SPOLIS, an input cohort whose follow-up year has not landed) are known to be
    # incomplete and are marked as such in every output: they are not judged as jumps (they would always be)
    t = (explain(table).filter(~pl.col("suppressed") & pl.col("value").is_not_null()
                               & (pl.col("status").fill_null("definitief") != "voorlopig"))
         .sort(SERIES + ["year"]))
    prev = pl.col("value").shift(1).over(SERIES)
    gap = (pl.col("year") - pl.col("year").shift(1).over(SERIES)) == 1
    return t.with_columns(
        pl.when(gap).then(pl.col("value") - prev).alias("change"),
        # shares: at least the registry's pp, widened to 3 standard errors of a year-on-year difference of
        # two independent samples of this size (small cells move by sampling noise alone)
        pl.when(pl.col("unit") == "%").then(pl.max_horizontal(
            pl.lit(tol["%"]),
            3 * 100 * (2 * (prev / 100) * (1 - prev / 100) / pl.col("n")).sqrt()))
        .otherwise(pl.lit(tol["relative"]) * prev.abs()).alias("tolerance"),
    ).with_columns(
        (pl.col("change").abs() > pl.col("tolerance")).fill_null(False).alias("jump"),
    ).with_columns(
        (pl.col("jump") & pl.col("trend_break").is_null()).alias("unexplained"))


@dataclass
class TrendReport:
    success: bool
    unexplained: pl.DataFrame      # rows with a jump no registered break explains
    explained: pl.DataFrame        # rows whose jump a registered break explains
    ge_result: dict


def check(table: pl.DataFrame, min_n: int = 100, docs_dir: Path | None = None) -> TrendReport:
    """Run the GE expectation "no unexplained year-on-year jump" on series whose cells rest on at least
    ``min_n`` persons (smaller cells move by sampling noise alone).  With ``docs_dir`` the validation runs as a
    checkpoint of a file context there and GE's HTML Data Docs are built
    (``<docs_dir>/gx/uncommitted/data_docs/local_site/index.html``)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    ch = changes(table).filter(pl.col("n") >= min_n)
    if docs_dir is not None:
        return _check_with_docs(gx, ch, Path(docs_dir))
    ctx = gx.get_context(mode="ephemeral")
    try:   # no tqdm bars on the console for every validation
        from great_expectations.data_context.types.base import ProgressBarsConfig
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: BLE001 - cosmetic only; older/newer GE may move the class
        pass
    pdf = ch.select(*SERIES, "year", "value", "change", "tolerance", "jump", "unexplained", "trend_break").to_pandas()
    batch = (ctx.data_sources.add_pandas("indicators").add_dataframe_asset("changes")
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": pdf}))
    expectation = gx.expectations.ExpectColumnValuesToBeInSet(column="unexplained", value_set=[False])
    res = batch.validate(expectation)
    return TrendReport(success=bool(res.success), unexplained=ch.filter(pl.col("unexplained")),
                       explained=ch.filter(pl.col("jump") & pl.col("trend_break").is_not_null()),
                       ge_result=res.to_json_dict())


def _check_with_docs(gx, ch: pl.DataFrame, docs_dir: Path) -> TrendReport:
    ctx = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: BLE001 - cosmetic only
        pass
    pdf = ch.select(*SERIES, "year", "value", "change", "tolerance", "jump", "unexplained", "trend_break").to_pandas()
    ds = ctx.data_sources.add_or_update_pandas("indicators")
    asset = next((a for a in ds.assets if a.name == "year_on_year_changes"), None) or \
        ds.add_dataframe_asset("year_on_year_changes")
    bd = next((b for b in asset.batch_definitions if b.name == "all"), None) or \
        asset.add_batch_definition_whole_dataframe("all")
    suite = ctx.suites.add_or_update(gx.ExpectationSuite(name="trend_breaks", expectations=[
        gx.expectations.ExpectColumnValuesToBeInSet(column="unexplained", value_set=[False])]))
    vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name="trend_breaks", data=bd, suite=suite))
    cp = ctx.checkpoints.add_or_update(gx.Checkpoint(name="trend_breaks", validation_definitions=[vd],
                                                     actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
    res = cp.run(batch_parameters={"dataframe": pdf})
    return TrendReport(success=bool(res.success), unexplained=ch.filter(pl.col("unexplained")),
                       explained=ch.filter(pl.col("jump") & pl.col("trend_break").is_not_null()),
                       ge_result={"success": bool(res.success),
                                  "data_docs": str(docs_dir / "gx/uncommitted/data_docs/local_site/index.html")})
