"""Trend-break gate and the Great Expectations suites of the indicator table (docs/indicators.md "Gates"; trend
breaks of trend_breaks.yaml; issue 11).

A series is one indicator, measure and breakdown cell over the years.  The year-on-year change of every row
must stay within the tolerance of ``indicators/trend_breaks.yaml`` unless a registered break explains it;
explained rows get the break id in ``trend_break`` (carried into the output and the publication).

Which indicators a break concerns comes from the specs (``indicators/specs.yaml``, ``trend_breaks`` of each
indicator); ``trend_breaks.yaml`` lists ``indicators: ["*"]`` only for the breaks that concern every
indicator (a classification change of a breakdown).  :func:`registry` fills in the lists.

:func:`check` runs one GE ExpectationSuite per indicator (``gates/expectations.py``: unit range, null when
suppressed, measures of the spec, complete cube, and this trend rule) in one GE context.  Great Expectations
1.x is called directly (dagster-ge supports only GE < 1.0).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from monitor_dagster import yamlio
from monitor_dagster.indicators.table import DIMENSIONS

#: one series = one cell through the years: every dimension, the quarter too (a K1 is compared with the K1
#: of the year before, never with the year or another quarter; report 7.1.3 c)
SERIES = ["indicator_id", "measure", "unit", *DIMENSIONS]
SUMMARY = "summary.json"   # <docs_dir>/gx/summary.json: the stored result of the last check


@lru_cache(maxsize=1)
def registry() -> dict:
    """``trend_breaks.yaml`` with every break's ``indicators`` filled in: ``["*"]`` as registered, else the
    specs (built and planned) that name the break in their ``trend_breaks``."""
    from monitor_dagster.indicators import spec as S

    text = resources.files("monitor_dagster.indicators").joinpath("trend_breaks.yaml").read_text(encoding="utf-8")
    reg = yamlio.safe_load(text)
    named: dict[str, list[str]] = {}
    for iid, s in S.specs().items():
        for b in s.trend_breaks:
            named.setdefault(b, []).append(iid)
    ids = {b["id"] for b in reg["breaks"]}
    unknown = sorted(set(named) - ids)
    if unknown:
        which = "; ".join(f"{b} (named by {', '.join(named[b])})" for b in unknown)
        raise ValueError(f"indicators/specs.yaml names trend breaks that indicators/trend_breaks.yaml does not "
                         f"register: {which}")
    for b in reg["breaks"]:
        if b.get("via"):
            # a classification change of one source's breakdown concerns the indicators that take the breakdown
            # from that table (soi_2021: opleiding from HOOGSTEOPLTAB through core/population; the EBB
            # indicators have the survey's own education level, report 4.1)
            b["indicators"] = sorted(i for i, s in S.specs().items() if b["via"] in (s.inputs or {}).values())
            continue
        if b.get("indicators") == ["*"]:
            continue
        if b.get("indicators"):
            raise ValueError(f"trend break {b['id']}: list its indicators in specs.yaml (trend_breaks), not in "
                             "trend_breaks.yaml (only indicators: ['*'] is allowed there)")
        b["indicators"] = named.get(b["id"], [])
    return reg


#: between the ids of a row that more than one break concerns ("schoolverlaters_2019,soi_2021": O26 by opleiding)
SEPARATOR = ","


def split_ids(label: str | None) -> list[str]:
    """The break ids of a ``trend_break`` value."""
    return [x for x in (label or "").split(SEPARATOR) if x]


def explain(table: pl.DataFrame) -> pl.DataFrame:
    """Fill ``trend_break`` with every registered break that applies to a row's indicator, year and cells, in
    registry order (one id per break, :data:`SEPARATOR` between): a reader of an O26 cell of 2019 by opleiding
    must learn of the re-worded question and of the new education classification."""
    ids = []
    for b in registry()["breaks"]:
        cond = pl.col("year") == b["year"]
        if b["indicators"] != ["*"]:
            cond &= pl.col("indicator_id").is_in(b["indicators"])
        if b.get("dimension"):
            cond &= pl.col(b["dimension"]) != "totaal"
        ids.append(pl.when(cond).then(pl.lit(b["id"])))
    label = pl.concat_str(ids, separator=SEPARATOR, ignore_nulls=True) if ids else pl.lit("")
    label = pl.when(label != "").then(label)
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
    pooled = (prev + pl.col("value")) / 2
    gap = (pl.col("year") - pl.col("year").shift(1).over(SERIES)) == 1
    return t.with_columns(
        pl.when(gap).then(pl.col("value") - prev).alias("change"),
        # shares: at least the registry's pp, widened to 3 standard errors of a year-on-year difference of
        # two independent samples of this size (small cells move by sampling noise alone); the share in the
        # standard error is the mean of both years (the pooled estimate under "no change"): with the
        # previous year's alone a rare event (0.8 % -> 6 % on 127 persons, a monthly outflow) got no width
        pl.when(pl.col("unit") == "%").then(pl.max_horizontal(
            pl.lit(tol["%"]),
            3 * 100 * (2 * (pooled / 100) * (1 - pooled / 100) / pl.col("n")).sqrt()))
        .otherwise(pl.lit(tol["relative"]) * prev.abs()).alias("tolerance"),
    ).with_columns(
        (pl.col("change").abs() > pl.col("tolerance")).fill_null(False).alias("jump"),
    ).with_columns(
        (pl.col("jump") & pl.col("trend_break").is_null()).alias("unexplained"))


@dataclass
class TrendReport:
    """``success``: the trend rule (no unexplained jump; the Dagster check reports it as a WARN).  The other
    rules of the suites are in ``failures`` ("O04: value in [0, 100]: 3 rows"): a caller that wants them
    blocking tests ``contract_success``.  ``suites``: per indicator ``{success, failed: [{rule, severity,
    text}], evaluated, explained, unexplained, unexplained_examples}``."""
    success: bool
    unexplained: pl.DataFrame      # rows with a jump no registered break explains
    explained: pl.DataFrame        # rows whose jump a registered break explains
    ge_result: dict
    suites: dict[str, dict] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    data_docs: str | None = None
    min_n: int = 100

    @property
    def contract_success(self) -> bool:
        """Every suite passes apart from the trend rule (range, null when suppressed, measures, cube)."""
        return not self.failures

    def summary(self) -> dict:
        """JSON-able summary (what :func:`write_summary` stores and the technical report reads)."""
        return {"trend": {"success": self.success, "explained": self.explained.height,
                          "unexplained": self.unexplained.height, "min_n": self.min_n},
                "contract_success": self.contract_success, "failures": list(self.failures),
                "suites": self.suites, "data_docs": self.data_docs}


def check(table: pl.DataFrame, min_n: int = 100, docs_dir: Path | None = None,
          not_computable: dict[int, set[str]] | None = None) -> TrendReport:
    """Run the suite of every indicator in ``table`` (``gates/expectations.py``); the trend rule judges series
    whose cells rest on at least ``min_n`` persons (smaller cells move by sampling noise alone).  With
    ``docs_dir`` the suites run in a file context ``<docs_dir>/gx``, GE's HTML Data Docs are built
    (``<docs_dir>/gx/uncommitted/data_docs/local_site/index.html``, one suite per indicator) and a summary is
    written to ``<docs_dir>/gx/summary.json`` (:func:`read_summary`).  ``not_computable``: year -> breakdowns
    that cannot be computed from the warehouse (readiness.py), left out of the completeness rule."""
    from monitor_dagster.gates import expectations as X
    from monitor_dagster.indicators import spec as S

    ch_all = changes(table.with_row_index("_row"))
    ch = ch_all.filter(pl.col("n") >= min_n).drop("_row")
    unexplained = ch.filter(pl.col("unexplained"))
    explained = ch.filter(pl.col("jump") & pl.col("trend_break").is_not_null())
    suites, docs = X.validate(table, ch_all, min_n=min_n, docs_dir=docs_dir, not_computable=not_computable)
    failures = [f"{iid}: {f['text']}" for iid, r in suites.items() for f in r["failed"]
                if f["rule"] not in X.WARNING_RULES]
    built = set(S.built())
    for iid, n in table.group_by("indicator_id").len().sort("indicator_id").iter_rows():
        if iid not in built:
            failures.append(f"{iid}: not a built indicator of indicators/specs.yaml: {n} rows")
    for iid, r in suites.items():
        mine = unexplained.filter(pl.col("indicator_id") == iid)
        r["explained"] = explained.filter(pl.col("indicator_id") == iid).height
        r["unexplained"] = mine.height
        r["unexplained_examples"] = [   # the three largest jumps
            {"year": int(x["year"]), "herkomst": x["herkomst"], "measure": x["measure"], "change": float(x["change"])}
            for x in mine.sort(pl.col("change").abs(), descending=True).head(3).iter_rows(named=True)]
    success = unexplained.height == 0
    rep = TrendReport(success=success, unexplained=unexplained, explained=explained,
                      ge_result={"success": success, "suites": suites, **({"data_docs": docs} if docs else {})},
                      suites=suites, failures=failures, data_docs=docs, min_n=min_n)
    if docs_dir is not None:
        write_summary(rep, table, Path(docs_dir) / "gx" / SUMMARY)
    return rep


# ----------------------------------------------------------------------------------- stored summary
def fingerprint(table: pl.DataFrame) -> str:
    """Rows and an order-independent hash of the contract columns: ties a summary to the table it judged."""
    import numpy as np

    from monitor_dagster.indicators.table import COLUMNS, SCHEMA

    t = table.select([pl.col(c).cast(SCHEMA[c]) for c in COLUMNS if c in table.columns])
    h = t.hash_rows(seed=0).to_numpy()
    return f"polars {pl.__version__}; {t.height} rows; {int(h.sum(dtype=np.uint64))}"


def write_summary(report: TrendReport, table: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "table": fingerprint(table), **report.summary()}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_summary(docs_dir: Path | str, table: pl.DataFrame | None = None) -> dict | None:
    """The summary :func:`check` wrote under ``<docs_dir>/gx``; ``None`` when there is none, it cannot be
    read, or (with ``table``) it was written for another table."""
    path = Path(docs_dir) / "gx" / SUMMARY
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if table is not None and doc.get("table") != fingerprint(table):
        return None
    return doc
