"""Great Expectations suites of the indicator table, one per built indicator, generated from its spec (issue 11).

Every suite holds the same kinds of rules, with the parameters of its indicator (``indicators/specs.yaml``):

* ``unit`` / ``range``: the unit is the spec's, and ``value`` lies in the range of that unit (:data:`RANGES`);
* ``years``: no rows before the spec's ``first_year``;
* ``suppressed``: ``value`` and ``n`` are null exactly when ``suppressed`` is true (``n_weighted`` null too,
  ``suppressed`` itself never null): the disclosure gate's output contract;
* ``measures``: every ``measure`` is one of the spec's measures or categories (the spec is the contract;
  input indicators' SRG 2019 series are separate measures in the spec's list);
* ``completeness``: for every year the indicator has rows, every dimension of ``breakdowns.yaml`` (EBB
  indicators: ``ebb.EBB_DIMENSIONS``, no verblijfsduur) has rows at herkomst ``totaal`` (suppressed rows count:
  they are in the cube, only hidden), where the year's total cell rests on at least ``min_n`` persons (a small
  cell can lack a breakdown by nature: generatie is undefined without a migration background); breakdowns
  that readiness.py calls not computable are not expected.  The expected set "<year> <dimension>" is a suite parameter
  (``$PARAMETER: cube``) filled in at run time from the years present, so the suite itself is the spec's;
* ``trend`` (severity *warning*): no year-on-year jump that a registered break does not explain, among cells
  of at least ``min_n`` persons (``gates/trend_breaks.changes``; provisional cells are not judged).

:func:`validate` runs the suites of all indicators in a table in one GE context (GE takes seconds to start;
one context per indicator would cost that 27 times): ephemeral, or a file context under ``<docs_dir>/gx``
that also builds the HTML Data Docs.  Plain Python and pandas, no Dagster; derived columns are computed
with polars before the hand-over to GE's pandas engine.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import polars as pl

from monitor_dagster.indicators import spec as S
from monitor_dagster.indicators.table import DIMENSIONS, TOTAAL, breakdowns

#: unit -> (min, max, min excluded): the range a cell value of that unit can take
RANGES: dict[str, tuple[float, float, bool]] = {
    "%": (0.0, 100.0, False),
    "maanden": (0.0, 12.0, False),            # months within one year (durations are capped at 12)
    # register hours per week of a person, summed over simultaneous jobs (SPOLIS): the Arbeidstijdenwet allows
    # 60 hours a week per employer, several jobs can exceed that, but a cell *mean* above 80 (16 hours a day,
    # five days) only comes from a unit error (hours per month or per period not divided by the weeks)
    "uren per week": (0.0, 80.0, True),
    # basisloon / basisuren: far above any Dutch hourly wage; above it the hours are missing or mis-scaled
    "euro per uur": (0.0, 500.0, True),
    # report 4.2 (3f): incomes are capped at one million in every year; negative incomes exist (losses of
    # the self-employed), the same cap applies to them
    "euro": (-1_000_000.0, 1_000_000.0, False),
}
RULES = ("unit", "range", "years", "suppressed", "measures", "completeness", "trend")
#: a rule that fails only a warning: the trend rule (a jump is reported, the table is still built)
WARNING_RULES = frozenset({"trend"})
RUN_NAME = "indicator_table-trend_breaks"   # the Dagster asset check that runs the suites
DATA_SOURCE = "indicator_table"
#: columns handed to GE (the rest of the table is not looked at)
_FRAME = ["year", *DIMENSIONS, "measure", "value", "unit", "n", "n_weighted", "suppressed", "status",
          "change", "unexplained", "year_breakdown", "cell"]
# BASIC for the run (counts and up to 20 values; SUMMARY with index columns makes the whole run 2.5 times
# slower); a failed column-map expectation is re-run alone with the cell keys of its first rows
_RESULT_FORMAT = "BASIC"
_EXAMPLES_FORMAT = {"result_format": "SUMMARY", "unexpected_index_column_names": ["cell"],
                    "partial_unexpected_count": 3}


def dimensions(spec: S.IndicatorSpec) -> list[str]:
    """The breakdowns (``totaal`` = no breakdown) an indicator is published for at herkomst ``totaal``."""
    dims = list(breakdowns()["dimensions"])
    if spec.family == "ebb":
        from monitor_dagster.indicators.ebb import EBB_DIMENSIONS
        dims = [d for d in dims if d in EBB_DIMENSIONS]
    dims += list(spec.extra_dimensions)
    if spec.period == "quarter":
        dims.append("kwartaal")
    return dims


def value_range(spec: S.IndicatorSpec) -> tuple[float, float, bool]:
    """The range of the spec's unit (:data:`RANGES`), with the spec's own upper bound where it has one
    (``value_max``: O39's months to work run to 36, report 5.2 4g)."""
    lo, hi, strict = RANGES[spec.unit]
    return lo, spec.value_max if spec.value_max is not None else hi, strict


def range_label(unit: str, thousands: str = ",", hi: float | None = None) -> str:
    """``value in [0, 100]``, ``value in (0, 80]``, ``value in [-1,000,000, 1,000,000]``."""
    lo, hi_, strict = RANGES[unit]
    hi = hi_ if hi is None else hi

    def num(v: float) -> str:
        return f"{int(v):,}".replace(",", thousands) if float(v).is_integer() else f"{v:g}"
    return f"value in {'(' if strict else '['}{num(lo)}, {num(hi)}]"


def suite(spec: S.IndicatorSpec, min_n: int = 100):
    """The ExpectationSuite of one built indicator, named after its id.  Each expectation carries
    ``meta = {"rule": ..., "label": ...}``: the rule (:data:`RULES`) and a short text for reports."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    lo, hi, strict = value_range(spec)
    measures = list(spec.measures or spec.categories)

    def m(rule: str, label: str) -> dict:
        return {"rule": rule, "label": label}

    exps = [
        E.ExpectColumnValuesToBeInSet(column="unit", value_set=[spec.unit], meta=m("unit", f"unit is {spec.unit!r}")),
        E.ExpectColumnValuesToBeBetween(column="value", min_value=lo, max_value=hi, strict_min=strict,
                                        meta=m("range", range_label(spec.unit, hi=hi)),
                                        notes=f"allowed range of the unit {spec.unit!r} (gates/expectations.py)"),
        E.ExpectColumnValuesToBeBetween(column="year", min_value=spec.first_year,
                                        meta=m("years", f"year >= first_year {spec.first_year}")),
        E.ExpectColumnValuesToNotBeNull(column="suppressed", meta=m("suppressed", "suppressed not null")),
        E.ExpectColumnValuesToBeNull(column="value", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "value null when suppressed")),
        E.ExpectColumnValuesToNotBeNull(column="value", row_condition=Column("suppressed") == False,  # noqa: E712
                                        meta=m("suppressed", "value not null when not suppressed")),
        E.ExpectColumnValuesToBeNull(column="n", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "n null when suppressed")),
        E.ExpectColumnValuesToNotBeNull(column="n", row_condition=Column("suppressed") == False,  # noqa: E712
                                        meta=m("suppressed", "n not null when not suppressed")),
        E.ExpectColumnValuesToBeNull(column="n_weighted", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "n_weighted null when suppressed")),
        E.ExpectColumnValuesToBeInSet(column="measure", value_set=measures,
                                      meta=m("measures", "measure is one of the spec's measures")),
        E.ExpectColumnDistinctValuesToContainSet(
            column="year_breakdown", value_set={"$PARAMETER": "cube"}, row_condition=Column("herkomst") == TOTAAL,
            meta=m("completeness", "every dimension at herkomst totaal in every year"),
            notes=f"cube = every year the indicator has rows x the dimensions {', '.join(dimensions(spec))}, "
                  "as '<year> <dimension>' ('totaal' = no breakdown); filled in when the suite runs"),
        E.ExpectColumnValuesToBeInSet(column="unexplained", value_set=[False], row_condition=Column("n") >= min_n,
                                      severity="warning",
                                      meta=m("trend", f"no unexplained year-on-year jump (n >= {min_n})"),
                                      notes="unexplained = a change beyond the tolerance of trend_breaks.yaml that "
                                            "no registered break explains; null where not judged (first year of a "
                                            "series, suppressed, voorlopig)"),
    ]
    return gx.ExpectationSuite(name=spec.id, expectations=exps,
                               meta={"notes": f"{spec.id} {spec.title}: generated from indicators/specs.yaml"})


def frame(table: pl.DataFrame, ch: pl.DataFrame) -> pl.DataFrame:
    """The table with the columns the suites read: ``change`` / ``unexplained`` (from ``ch``, the output of
    ``trend_breaks.changes`` with a ``_row`` index; null where the row is not judged), ``year_breakdown``
    (``"<year> <dimension>"``) and ``cell``, a readable key for failure examples."""
    t = table.with_row_index("_row")
    bd = pl.lit(TOTAAL)
    cat = pl.lit("")
    for d in reversed([d for d in DIMENSIONS if d != "herkomst"]):
        bd = pl.when(pl.col(d) != TOTAAL).then(pl.lit(d)).otherwise(bd)
        cat = pl.when(pl.col(d) != TOTAAL).then(pl.lit(f" {d}=") + pl.col(d)).otherwise(cat)
    t = t.join(ch.select("_row", "change", "unexplained"), on="_row", how="left")
    return t.with_columns(
        pl.concat_str([pl.col("year").cast(pl.String), pl.lit(" "), bd]).alias("year_breakdown"),
        pl.concat_str([pl.col("year").cast(pl.String), pl.lit(" "), pl.col("herkomst").fill_null("?"),
                       cat.fill_null(""), pl.lit(" / "), pl.col("measure").fill_null("?")]).alias("cell"),
    ).sort("_row")


def _describe(res, examples=None) -> tuple[str, str, str]:
    """(rule, severity, short text) of a failed expectation result; ``examples()`` gives the result of the
    same expectation with cell keys (only asked for a failed column-map expectation)."""
    cfg = res.expectation_config
    meta = cfg.meta or {}
    label = meta.get("label", cfg.type)
    r = res.result or {}
    if res.exception_info and res.exception_info.get("raised_exception"):
        text = f"{label}: error {res.exception_info.get('exception_message')}"
    elif "partial_missing_list" in r:
        missing = [str(x) for x in r["partial_missing_list"]]
        text = f"{label}: missing {', '.join(missing[:6])}" + (" ..." if len(missing) > 6 else "")
    else:
        n = r.get("unexpected_count", 0)
        idx = r.get("partial_unexpected_index_list")
        if idx is None and n and examples is not None:
            try:
                idx = (examples(cfg).result or {}).get("partial_unexpected_index_list")
            except Exception:  # noqa: BLE001 - examples are a courtesy; the count stands
                idx = None
        cells = [x.get("cell") for x in idx or [] if isinstance(x, dict)]
        eg = f" (e.g. {'; '.join(str(c) for c in cells[:3])})" if cells else ""
        text = f"{label}: {n} row{'s' if n != 1 else ''}{eg}"
    sev = str(getattr(cfg, "severity", "critical") or "critical")
    sev = sev.split(".")[-1].lower()
    return meta.get("rule", "?"), sev, text


def _quiet(ctx) -> None:
    try:   # no tqdm bars on the console for every validation
        from great_expectations.data_context.types.base import ProgressBarsConfig
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # noqa: BLE001 - cosmetic only; other GE versions may move the class
        pass


def _get(collection, name: str):
    try:
        return collection.get(name)
    except Exception:  # noqa: BLE001 - GE raises different errors per store for "not found"
        return None


def _name_the_folder(fn):
    """GE writes many files and its OSErrors (a full disk, a read-only warehouse) carry no path: name
    ``<docs_dir>/gx``, so the run's one-line message says where."""
    @functools.wraps(fn)
    def wrapper(*args, docs_dir: Path | None = None, **kwargs):
        try:
            return fn(*args, docs_dir=docs_dir, **kwargs)
        except OSError as exc:
            if docs_dir is None or exc.filename or not exc.errno:
                raise
            raise OSError(exc.errno, exc.strerror, str(Path(docs_dir) / "gx")) from exc
    return wrapper


@_name_the_folder
def validate(table: pl.DataFrame, ch: pl.DataFrame, *, min_n: int = 100, docs_dir: Path | None = None,
             keep_runs: int = 5, not_computable: dict[int, set[str]] | None = None) -> tuple[dict[str, dict], str | None]:
    """Run the suite of every built indicator that has rows in ``table`` (one GE context for all).

    ``ch`` = ``trend_breaks.changes`` of the table with its ``_row`` index.  Returns ``(suites, data_docs)``:
    per indicator ``{"success", "failed": [{"rule", "severity", "text"}], "evaluated"}``, and the path of the
    Data Docs index (``None`` without ``docs_dir``).  With ``docs_dir`` the suites, validation definitions and
    results are kept in a file context ``<docs_dir>/gx``; suites of indicators no longer in the table are
    removed, and results older than the last ``keep_runs`` runs are dropped (the Data Docs show the current
    table and a short history, not every run since the start).  ``not_computable``: year -> breakdowns of the
    population that readiness.py says cannot be computed (their file is absent): not expected in the cube of
    the indicators that take their breakdowns from core/population."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    specs = S.built()
    present = set(table["indicator_id"].unique().to_list())
    ids = [i for i in specs if i in present]
    if docs_dir is not None:
        ctx = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    else:
        ctx = gx.get_context(mode="ephemeral")
    _quiet(ctx)
    if docs_dir is not None:
        _drop_stale(ctx, set(ids))
    ds = _get(ctx.data_sources, DATA_SOURCE) or ctx.data_sources.add_pandas(DATA_SOURCE)
    full = frame(table, ch)
    parts = full.partition_by("indicator_id", as_dict=True) if full.height else {}
    run_id = RunIdentifier(run_name=RUN_NAME)
    out: dict[str, dict] = {}
    for iid in ids:
        sp = specs[iid]
        sub = parts[(iid,)]
        asset = next((a for a in ds.assets if a.name == iid), None) or ds.add_dataframe_asset(iid)
        bd = next((b for b in asset.batch_definitions if b.name == "all"), None) or \
            asset.add_batch_definition_whole_dataframe("all")
        s = ctx.suites.add_or_update(suite(sp, min_n))
        vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=iid, data=bd, suite=s))
        from_population = "core/population" in sp.inputs.values()
        # a breakdown is expected where the year's total cell rests on >= min_n persons: a smaller cell can have
        # an empty breakdown by nature (generatie is undefined without a migration background, report 2.2)
        tot = sub.filter(pl.all_horizontal([pl.col(c) == TOTAAL for c in DIMENSIONS if c in sub.columns]))
        big = set(tot.group_by("year").agg(pl.col("n").max()).filter(pl.col("n") >= min_n)["year"].to_list())
        cube = sorted(f"{y} {d}" for y in sub["year"].unique().to_list() for d in dimensions(sp)
                      if (d == TOTAAL or y in big)
                      and not (from_population and d in (not_computable or {}).get(y, set())))
        pdf = sub.select(_FRAME).to_pandas()
        res = vd.run(batch_parameters={"dataframe": pdf}, expectation_parameters={"cube": cube},
                     result_format=_RESULT_FORMAT, run_id=run_id)

        def examples(cfg, bd=bd, pdf=pdf):
            batch = bd.get_batch(batch_parameters={"dataframe": pdf})
            return batch.validate(cfg.to_domain_obj(), result_format=_EXAMPLES_FORMAT)

        failed = []
        for r in res.results:
            if not r.success:
                rule, sev, text = _describe(r, examples)
                failed.append({"rule": rule, "severity": sev, "text": text})
        failed.sort(key=lambda f: RULES.index(f["rule"]) if f["rule"] in RULES else len(RULES))
        out[iid] = {"success": not failed, "failed": failed, "evaluated": len(res.results)}
    docs = None
    if docs_dir is not None:
        _prune(ctx, keep_runs)
        _build_docs(ctx, run_id, ids)
        unc = Path(docs_dir) / "gx" / "uncommitted"
        for root in (unc / "validations", unc / "data_docs" / "local_site" / "validations"):
            _remove_empty_dirs(root)
        docs = str(Path(docs_dir).resolve() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html")
    return out, docs


def _drop_stale(ctx, keep: set[str]) -> None:
    """Remove checkpoints, validation definitions, suites, data assets and stored results of indicators not in
    ``keep``, and those of the single "trend_breaks" suite this gate used before it had one suite per
    indicator (in this order: each refers to the next).  Their Data Docs pages go when the index is rebuilt
    (GE drops pages without a source)."""
    for cp in list(ctx.checkpoints.all()):
        ctx.checkpoints.delete(cp.name)
    for vd in list(ctx.validation_definitions.all()):
        if vd.name not in keep:
            ctx.validation_definitions.delete(vd.name)
    for s in list(ctx.suites.all()):
        if s.name not in keep:
            ctx.suites.delete(s.name)
    for ds in list(ctx.data_sources.all().values()):
        if ds.name != DATA_SOURCE:
            ctx.data_sources.delete(ds.name)
        else:
            for a in [a.name for a in ds.assets if a.name not in keep]:
                ds.delete_asset(a)
    store = ctx.validation_results_store
    for key in list(store.list_keys()):
        if key.expectation_suite_identifier.name not in keep:
            store.remove_key(key)


def _prune(ctx, keep_runs: int) -> None:
    """Keep the stored results of the last ``keep_runs`` runs."""
    store = ctx.validation_results_store
    keys = list(store.list_keys())
    times = sorted({k.run_id.run_time for k in keys}, reverse=True)
    old = set(times[keep_runs:])
    for k in keys:
        if k.run_id.run_time in old:
            store.remove_key(k)


def _build_docs(ctx, run_id, ids: list[str]) -> None:
    """Render the pages of this run's results and of the suites only (older pages are already there),
    then the index; building the index removes the pages whose results or suites are gone."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    new = [k for k in ctx.validation_results_store.list_keys() if k.run_id.to_tuple() == run_id.to_tuple()]
    ctx.build_data_docs(resource_identifiers=[*new, *[ExpectationSuiteIdentifier(name=i) for i in ids]])


def _remove_empty_dirs(root: Path) -> None:
    """GE's stores remove files, not the run folders they were in (``root`` itself stays)."""
    if not root.is_dir():
        return
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            d.rmdir()
        except OSError:
            pass
