"""Indicator assets (group ``indicators``), generated from the indicator specs (``indicators/specs.yaml``).

One yearly partitioned asset per *family* (``indicators/contracts_hours``, ``indicators/secm``, ...): its
inputs are the union of its specs' ``inputs``, so the lineage in the UI shows which core tables and source
files feed O04.  Family, not indicator, granularity: O11-O18 share one function and all register indicators of
a family read the same person-level frames; the measured Dagster overhead per asset step is in
docs/adding_an_indicator.md.  Every family asset runs the one execution path of ``indicators/engine.py``;
``indicators/indicator_table`` unions all families and years, marks registered trend breaks, applies the
disclosure gate (blocking check) and runs the Great Expectations suites.
"""

import warnings
from pathlib import Path

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.core.inputs import direct_source
from monitor_dagster.defs.core.assets import IO, SAME_YEAR, core_partitions
from monitor_dagster.defs.provenance import as_metadata, merged, upstream_provenance
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.gates import trend_breaks as TB
from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.corrections import apply as CORR
from monitor_dagster.defs.core.weights import WEIGHTS_KEY, propensity_weights
from monitor_dagster.indicators.table import (CEL, COLUMNS, CORRECTIE, DIMENSIONS, DUUR, FAMILY_SCHEMA, GEEN,
                                              SCHEMA, empty, with_separate_dimensions)
from monitor_dagster.readiness import year_readiness

GROUP = "indicators"


def family_key(family: str) -> dg.AssetKey:
    return dg.AssetKey(["indicators", family])


def _asset_in(key: str, follow_up_years: int = 0, optional: bool = False) -> dg.AssetIn:
    layer, name = key.split("/")
    # yearly sources have their own partitions definition: map year t onto it; core tables share core_partitions;
    # cumulative and reference sources (OPLEIDINGSNRREF, SBBKANSOPWERK) are unpartitioned: their latest release
    mapping = SAME_YEAR if layer == "sources" and direct_source(name).window == "year" else None
    if optional and mapping is not None:
        # an optional input (spec optional_inputs, issue 18) of a year without that file loads as None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            mapping = dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    if follow_up_years:
        # a follow-up window t .. t+n (specs.yaml follow_up); years not materialised yet load as None.  The
        # parameter that lets t+n lie beyond the last partition is "beta" in dagster 1.13 (docs/dependencies.md)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            mapping = dg.TimeWindowPartitionMapping(start_offset=0, end_offset=follow_up_years,
                                                    allow_nonexistent_upstream_partitions=True)
    return dg.AssetIn(key=dg.AssetKey([layer, name]), partition_mapping=mapping, input_manager_key=IO)


def _frame(got, year: str, follow_up_years: int = 0):
    if follow_up_years:
        got = got if isinstance(got, dict) else {year: got}
        return ENG.window_frame({int(k): v for k, v in got.items()}, int(year))
    return got.get(year) if isinstance(got, dict) else got


def _summary(df: pl.DataFrame, ids: list[str]) -> str:
    tot = df.filter(pl.col("indicator_id").is_in(ids) & (pl.col("herkomst") == "totaal")
                    & pl.all_horizontal(pl.col(c) == "totaal" for c in DIMENSIONS[1:]))
    return "| indicator | measure | n | value | status |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r['indicator_id']} | {r['measure']} | {r['n']} | {r['value']:.1f} | {r['status']} |"
        for r in tot.head(40).iter_rows(named=True))


def _until(x) -> str:
    """Coverage of the spell files behind an inflow cohort (report 3.2.1, 3.4), for the asset metadata."""
    if isinstance(x, dict):
        return ", ".join(f"{k}: {v}" for k, v in x.items())
    return str(x)


def family_setup(monitor: MonitorResource, family: str, year: int) -> tuple[dict[str, str], dict]:
    """What readiness says is not computable (indicator -> reason) and the follow-up extras of a family."""
    skip = ENG.readiness_skips(monitor.warehouse, family, year)
    extra = ENG.follow_up_extras(family, monitor.warehouse, year)
    if str(monitor.choices):      # method choices (choices.py): the engine hands them to the functions
        extra["method"] = str(monitor.choices)
    return skip, extra


def family_metadata(res: ENG.FamilyResult, ids: list[str], prov: dict, extra: dict) -> dict:
    df = res.table
    return {"rows": df.height, "indicators": ", ".join(res.computed), "buckets": res.buckets,
            "not_computable": "; ".join(f"{i}: {w}" for i, w in sorted(res.not_computable.items())),
            "status": ", ".join(sorted(df["status"].unique())) if df.height else "",
            "cells": dg.MetadataValue.md(_summary(df, ids)), **as_metadata(merged(prov)),
            **({"observed_until": _until(extra["observed_until"])} if "observed_until" in extra else {}),
            **({"observed_year": str(extra["observed_year"])} if "observed_year" in extra else {}),
            **({"method": extra["method"]} if extra.get("method") else {})}


def build_family_asset(family: str) -> dg.AssetsDefinition:
    specs = SPEC.families()[family]
    params = SPEC.family_inputs(family)
    required = {k for s in specs for k in s.inputs.values()}
    ids = [s.id for s in specs]
    cadence = {s.cadence for s in specs}.pop()
    input_names = {p: k.replace("/", "__") for p, k in params.items()}
    fu = SPEC.follow_up(family)
    window = {k: (fu.years if fu is not None and k in fu.inputs else 0) for k in params.values()}

    @dg.asset(
        key=family_key(family), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
        ins={input_names[p]: _asset_in(k, window[k], optional=k not in required) for p, k in params.items()},
        description=f"{SPEC.registry().families[family]}: indicators {', '.join(ids)} of year t as rows of the "
                    f"indicator table, not yet gated ({cadence}; specs in indicators/specs.yaml).",
        kinds={"polars"}, tags={"monitor/cadence": cadence},
        metadata={"indicators": ", ".join(ids), "family": family},
    )
    def _asset(context: AssetExecutionContext, monitor: MonitorResource, **loaded) -> dg.Output:
        year = int(context.partition_key)
        frames = {k: _frame(loaded[input_names[p]], str(year), window[k]) for p, k in params.items()}
        skip, extra = family_setup(monitor, family, year)
        prov = upstream_provenance(context, monitor.warehouse)
        res = ENG.compute_family(family, frames, year, provenance=prov, skip=skip, extra=extra,
                                 buckets=monitor.buckets, memory_gb=monitor.bucket_memory_gb,
                                 progress=context.log.info)
        for i, why in res.not_computable.items():
            context.log.warning(f"{i} {year} not computable: {why}")
        return dg.Output(res.stored, metadata=family_metadata(res, ids, prov, extra))

    return _asset


from monitor_dagster.defs.indicators.surveys import FAMILY as SURVEY_FAMILY, inputs_surveys  # noqa: E402

from monitor_dagster.defs.indicators.vacancies import FAMILY as VACANCY_FAMILY, vacancies  # noqa: E402

# the organisation surveys are no person cells: their own asset (defs/indicators/surveys.py), in the same place
OWN_ASSETS = {SURVEY_FAMILY: inputs_surveys, VACANCY_FAMILY: vacancies}   # vacancies: issue 20
FAMILY_ASSETS = {f: (OWN_ASSETS[f] if f in OWN_ASSETS else build_family_asset(f)) for f in SPEC.families()}
OUTCOME_FAMILIES = [f for f, v in SPEC.families().items() if v[0].cadence == "yearly"]
INPUT_FAMILIES = [f for f, v in SPEC.families().items() if v[0].cadence == "two-yearly"]

#: the two-yearly run of the input indicators (report 7.1.1); the schedule lives in defs/schedules.py
input_job = dg.define_asset_job(
    "input_indicators_biennial", selection=dg.AssetSelection.assets(*[FAMILY_ASSETS[f] for f in INPUT_FAMILIES]),
    description="Input indicators P-a..P-f and U-a..U-c of one cohort year (report 3.2.1, 3.4, 7.1.1) and the "
                "organisation surveys of a wave (S-g, S-w, S-o); needs the core layer of that year and the spell "
                "tables, resp. the survey exports and frames; rebuild indicators/indicator_table afterwards.",
    tags={"monitor/trigger": "input_biennial"})


@dg.asset(
    key=dg.AssetKey(["indicators", "indicator_table"]), group_name=GROUP, io_manager_key=IO,
    ins={f: dg.AssetIn(key=family_key(f), input_manager_key=IO, partition_mapping=dg.AllPartitionMapping())
         for f in FAMILY_ASSETS},
    check_specs=[dg.AssetCheckSpec("disclosure", asset=dg.AssetKey(["indicators", "indicator_table"]), blocking=True,
                                   description="no cell under 10 persons (EBB: >15,000 weighted), no recoverable cell, no keys"),
                 dg.AssetCheckSpec("expectations", asset=dg.AssetKey(["indicators", "indicator_table"]), blocking=True,
                                   description="Great Expectations, one suite per indicator from its spec: range by unit, "
                                               "value and n null exactly when suppressed, measures of the spec, "
                                               "every breakdown present (gates/expectations.py)"),
                 dg.AssetCheckSpec("trend_breaks", asset=dg.AssetKey(["indicators", "indicator_table"]),
                                   description="Great Expectations: no year-on-year jump that a registered break does not explain")],
    description="The gated indicator table of all years and families (outcome and input indicators): trend breaks "
                "marked, disclosure control applied. `monitor export` writes this table.",
    kinds={"polars"}, deps=[WEIGHTS_KEY],
)
def indicator_table(context: AssetExecutionContext, monitor: MonitorResource, **families):
    frames = []
    for got in families.values():   # {year: LazyFrame, or None for a partition never built}
        if isinstance(got, dict):
            frames += [f for f in got.values() if f is not None]
        elif got is not None:
            frames.append(got)
    # family tables hold their covariate cells too (correctie = cel, issue 17); tables built before the
    # correctie column read as uncorrected
    table = (pl.concat([f.collect() for f in frames], how="diagonal_relaxed") if frames
             else pl.DataFrame(schema=FAMILY_SCHEMA))
    if CORRECTIE not in table.columns:
        table = table.with_columns(pl.lit(GEEN).alias(CORRECTIE))
    table = table.with_columns(pl.col(CORRECTIE).fill_null(GEEN))
    table = with_separate_dimensions(table)     # family tables built before issue 18: not split by them
    cells = table.filter(pl.col(CORRECTIE) == CEL) if "covariaten" in table.columns else table.clear()
    table = table.filter(pl.col(CORRECTIE) == GEEN).select(COLUMNS).cast(SCHEMA)
    order = {k: i for i, k in enumerate(SPEC.specs())}
    table = (table.with_columns(pl.col("indicator_id").replace_strict(order, default=len(order)).alias("_o"))
             .sort(["year", "_o"], maintain_order=True).drop("_o"))
    corr, models = CORR.corrected([cells], _weights(monitor.warehouse)) if cells.height else (empty().clear(), [])
    corr = CORR.computed_breakdowns(corr, table)
    if corr.height:
        context.log.info(f"corrections (report 7.2.2): {corr.height} rows, {len(models)} model-adjusted gaps")
    # a registered break concerns the corrected series of the indicator as much as the uncorrected one
    table = CORR.gate(TB.explain(pl.concat([table, corr], how="vertical_relaxed")))
    problems = check_disclosure(table)
    # breakdowns whose file is absent are not computable (readiness.py): not a gap in the cube
    missing = {int(y): set(year_readiness(monitor.warehouse, int(y)).breakdowns) for y in table["year"].unique()}
    # the expectations and trend rules describe the uncorrected series (corrected rows: docs/corrections.md)
    trend = TB.check(table.filter(pl.col(CORRECTIE) == GEEN), docs_dir=Path(monitor.warehouse), not_computable=missing)   # Data Docs in <warehouse>/gx/
    yield dg.Output(table, metadata={"rows": table.height, "suppressed": int(table["suppressed"].sum()),
                                     "years": ", ".join(str(y) for y in sorted(table["year"].unique()))})
    yield dg.AssetCheckResult(check_name="disclosure", passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"violations": len(problems), "first": "; ".join(problems[:5])})
    yield dg.AssetCheckResult(check_name="expectations", passed=trend.contract_success,
                              severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"failures": len(trend.failures), "first": "; ".join(trend.failures[:5]),
                                        "data_docs": trend.ge_result.get("data_docs", "")})
    yield dg.AssetCheckResult(check_name="trend_breaks", passed=trend.success, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"unexplained_jumps": trend.unexplained.height,
                                        "explained_jumps": trend.explained.height,
                                        "largest": _largest_jumps(trend.unexplained),
                                        "data_docs": trend.ge_result.get("data_docs", "")})


def _weights(warehouse) -> pl.DataFrame | None:
    """The weights of core/propensity_weights (None before it is built: then no gewogen rows)."""
    from monitor_dagster.warehouse import Warehouse

    core = Warehouse(warehouse, layer="core")
    return core.read("propensity_weights", "all").collect() if core.manifest("propensity_weights", "all") else None


def _largest_jumps(unexplained: pl.DataFrame, k: int = 3) -> str:
    """The ``k`` largest unexplained year-on-year changes as text (``O04 2019 niet-westers vast: +12.3``), so
    the run summary says where to look, not only how many."""
    rows = unexplained.sort(pl.col("change").abs(), descending=True).head(k).iter_rows(named=True)
    return "; ".join(f"{r['indicator_id']} {r['year']} {r['herkomst']}{' ' + r['measure'] if r['measure'] else ''}: "
                     f"{r['change']:+.1f}" for r in rows)


SENSITIVITY_KEY = dg.AssetKey(["indicators", "sensitivity"])


def sensitivity_year(warehouse: str | Path) -> int | None:
    """The year the sensitivity table describes: the latest whose core population rests on SECM (not on the
    fallback of report 7.1.3) and whose job and SECM months are built; None when there is none."""
    from monitor_dagster.warehouse import Warehouse

    core = Warehouse(warehouse, layer="core")
    years = [int(p) for p in core.partitions("population") if p.isdigit()
             and (core.manifest("population", p) or {}).get("secm_source") != "fallback"
             and core.manifest("job_months", p) and core.manifest("secm_months", p)]
    return max(years) if years else None


@dg.asset(
    key=SENSITIVITY_KEY, group_name=GROUP, io_manager_key=IO, deps=[indicator_table],
    description="Issue 16: the headline figures (N, O01, O04, O05, O08, O10, O11, O12 for totaal, niet-westers, geen "
                "migratieachtergrond and the gap) of the latest SECM-based year under the defaults and under each "
                "alternative of a choice the report leaves open (monitor_dagster/choices.py), computed by the pipeline's "
                "own functions; disclosure-gated. The technical report prints it, `monitor export` writes it.",
    kinds={"polars"},
)
def sensitivity(context: AssetExecutionContext, monitor: MonitorResource) -> dg.Output:
    from monitor_dagster.sensitivity import SCHEMA, compute, fingerprint, hide_with_table, stored_table
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(monitor.warehouse, layer="indicators")
    stored = w.manifest("sensitivity", "all")
    year = sensitivity_year(monitor.warehouse)
    if year is None:   # an incomplete zone: no table, said once; the publication then says it is absent
        context.log.warning("sensitivity: no year with core/population (on SECM), job_months and secm_months in "
                            "the warehouse; nothing to compare")
        return dg.Output(pl.DataFrame(schema=SCHEMA), metadata={"year": "none", "rows": 0})
    fp = fingerprint(monitor.warehouse, year)
    if stored is not None and (stored.get("fingerprint") == fp or not monitor.sensitivity):
        # the same inputs as the stored table (or switched off, MONITOR_SENSITIVITY=0): kept, not recomputed
        why = "its inputs did not change" if stored.get("fingerprint") == fp else "MONITOR_SENSITIVITY=0"
        context.log.info(f"sensitivity: the stored table is kept ({why})")
        # the gated table may hide more than when it was stored (a rebuilt table, a newer gate)
        kept = hide_with_table(w.read("sensitivity", "all").collect(), stored_table(monitor.warehouse))
        return dg.Output(kept, metadata={"year": year, "rows": kept.height, "reused": why,
                                         "fingerprint": stored.get("fingerprint") or ""})
    if not monitor.sensitivity:
        context.log.warning("sensitivity: switched off (MONITOR_SENSITIVITY=0) and none stored: empty table")
        return dg.Output(pl.DataFrame(schema=SCHEMA), metadata={"year": "off", "rows": 0})
    # a cell the gated indicator table hides is hidden here too (its default row is that cell)
    table = hide_with_table(compute(monitor.warehouse, year, progress=context.log.debug), stored_table(monitor.warehouse))
    return dg.Output(table, metadata={"year": year, "rows": table.height, "fingerprint": fp,
                                      "suppressed": int(table["suppressed"].sum()),
                                      "alternatives": int(table.select("choice", "alternative").n_unique() - 1)})


DURATIONS_KEY = dg.AssetKey(["indicators", "durations"])


@dg.asset(
    key=DURATIONS_KEY, group_name=GROUP, io_manager_key=IO, deps=[indicator_table, WEIGHTS_KEY],
    description="Issue 17 (report 7.2.2): duration models of 4c-4g from the families' duration cells: the cumulative "
                "incidence per group and cause at 1-36 months (uncorrected and weighted) and the hazard ratio "
                "basisgroep / referentiegroep (cloglog discrete-time model, weighted, with age class, sex and "
                "education; competing causes for doorstroom and uitstroom); disclosure-gated "
                "(corrections/durations.py). The publication draws the curves.",
    kinds={"polars", "statsmodels"},
)
def durations(context: AssetExecutionContext, monitor: MonitorResource) -> dg.Output:
    from monitor_dagster.corrections import durations as DURS
    from monitor_dagster.warehouse import Warehouse

    ind = Warehouse(monitor.warehouse, layer="indicators")
    tables = []
    for fam in FAMILY_ASSETS:
        if not SPEC.corrected(fam):
            continue
        for part in ind.partitions(fam):
            t = ind.read(fam, part)
            if CORRECTIE in t.collect_schema().names():
                tables.append(t.filter(pl.col(CORRECTIE) == DUUR).collect())
    curves, hazards = DURS.results(tables, _weights(monitor.warehouse))
    table = DURS.combined(curves, hazards)
    if ind.manifest("indicator_table", "all") is not None:   # a curve over a hidden cell's persons is hidden too
        table = DURS.hide_with_cohort(table, ind.read("indicator_table", "all").collect())
    shown = table.filter(~pl.col("suppressed"))
    return dg.Output(table, metadata={
        "rows": table.height, "shown": shown.height,
        "indicators": ", ".join(sorted(table["indicator_id"].unique().to_list())) if table.height else "",
        "hazard_ratios": dg.MetadataValue.md(
            "| indicator | year | measure | cause | correctie | HR |\n|---|---|---|---|---|---|\n" + "\n".join(
                f"| {r['indicator_id']} | {r['year']} | {r['measure']} | {r['oorzaak']} | {r[CORRECTIE]} | "
                f"{r['hazard_ratio']:.2f} |" for r in shown.filter(pl.col("kind") == "hazard").head(30).iter_rows(named=True)))})


INDICATOR_ASSETS = [*FAMILY_ASSETS.values(), propensity_weights, indicator_table, sensitivity, durations]
