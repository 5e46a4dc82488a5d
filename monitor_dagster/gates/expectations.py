"""The Great Expectations suite of the indicator table, its parameters generated from the specs (issue 11).

One suite, ``indicator_table``, judges every built indicator with the parameters of its spec
(``indicators/specs.yaml``; per-indicator columns of the frame, the (indicator, measure) pairs, the cube); the
result is reported per indicator.  The rules:

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
  that readiness.py calls not computable are not expected.  The expected set "<indicator> <year> <dimension>" is a suite parameter
  (``$PARAMETER: cube``) filled in at run time from the years present, so the suite itself is the spec's;
* ``trend`` (severity *warning*): no year-on-year jump that a registered break does not explain, among cells
  of at least ``min_n`` persons (``gates/trend_breaks.changes``; provisional cells are not judged).

:func:`validate` runs the suite once in one GE context (GE takes seconds to start, and its cost is per
expectation, not per row: one suite per indicator, 12 x 46 expectations, took 28-44 s per table): ephemeral,
or a file context under ``<docs_dir>/gx`` that also builds the HTML Data Docs.  Plain Python and pandas, no Dagster; derived columns are computed
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
    # the organisation surveys' mean rating of an action (issue 19; technisch rapport §3.1: "op een schaal van 0
    # tot en met 5")
    "score 0-5": (0.0, 5.0, False),
    # research question 5 (issue 20): counts of online vacancies a year (Jobfeed finds a few million) and their
    # index 2021 = 100, which grows without a fixed bound where 2021 had few places
    "aantal": (0.0, 100_000_000.0, False),
    "index": (0.0, 1_000_000.0, False),
}
RULES = ("unit", "range", "years", "suppressed", "measures", "completeness", "trend")
#: a rule that fails only a warning: the trend rule (a jump is reported, the table is still built)
WARNING_RULES = frozenset({"trend"})
RUN_NAME = "indicator_table-trend_breaks"   # the Dagster asset check that runs the suites
DATA_SOURCE = "indicator_table"
TABLE_SUITE = "indicator_table"            # the one suite (and data asset, validation definition) of the table
#: columns handed to GE (the rest of the table is not looked at)
_FRAME = ["indicator_id", "year", *DIMENSIONS, "measure", "value", "unit", "n", "n_weighted", "suppressed",
          "status", "change", "unexplained", "year_breakdown", "cube_key", "cell", "indicator_measure",
          "spec_unit", "range_lo", "range_hi", "range_strict", "first_year"]
# BASIC for the run (counts and up to 20 values); a failed row-map rule is run again alone, COMPLETE with the
# indicator and cell key of every failing row (only then: index columns make a run several times slower)
_RESULT_FORMAT = "BASIC"
_EXAMPLES_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["indicator_id", "cell"],
                    "return_unexpected_index_query": False}


def dimensions(spec: S.IndicatorSpec) -> list[str]:
    """The breakdowns (``totaal`` = no breakdown) an indicator is published for at herkomst ``totaal``."""
    if spec.disclosure == "vacatures":
        # vacancies (issue 20): no persons; V02 by arbeidsmarktregio, V03 by sector, each with its totaal
        return [TOTAAL, *{"V02": ["regio"], "V03": ["sector"]}.get(spec.id, [])]
    if spec.disclosure == "organisaties":
        # organisation surveys (issue 19): no persons, so no person breakdowns; the instrument's background
        # classes that are table dimensions (surveys/indicators.BREAKDOWNS; size class is not one yet)
        from monitor_dagster.surveys.indicators import BREAKDOWNS, PREFIX
        instrument = next(i for i, p in PREFIX.items() if spec.id.startswith(p))
        return [TOTAAL, *[d for d in BREAKDOWNS[instrument] if d in DIMENSIONS]]
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


#: per-indicator parameters of the table suite, from the specs (columns added to the frame GE reads)
_PARAMS = ["spec_unit", "range_lo", "range_hi", "range_strict", "first_year"]


def label(key: str, spec: S.IndicatorSpec, min_n: int = 100) -> str:
    """The text of a rule for one indicator (``meta.key`` of an expectation of :func:`table_suite`), as the
    per-indicator results and the technical report say it: ``value in [0, 100]``, ``unit is '%'``."""
    lo, hi, strict = value_range(spec)
    return {
        "unit": f"unit is {spec.unit!r}",
        "range_lo": range_label(spec.unit, hi=hi), "range_lo_strict": range_label(spec.unit, hi=hi),
        "range_hi": range_label(spec.unit, hi=hi),
        "years": f"year >= first_year {spec.first_year}",
        "suppressed_not_null": "suppressed not null",
        "value_null": "value null when suppressed", "value_not_null": "value not null when not suppressed",
        "n_null": "n null when suppressed", "n_not_null": "n not null when not suppressed",
        "n_weighted_null": "n_weighted null when suppressed",
        "measures": "measure is one of the spec's measures",
        "completeness": "every dimension at herkomst totaal in every year",
        "trend": f"no unexplained year-on-year jump (n >= {min_n})",
    }[key]


def table_suite(specs: dict[str, S.IndicatorSpec], min_n: int = 100):
    """The ExpectationSuite of the indicator table: every rule once for all indicators, its parameters per
    indicator generated from the specs (the unit and range columns of :func:`frame`, the (indicator, measure)
    pairs of the measures rule, the cube).  One suite and not one per indicator: GE's cost is per expectation
    (~50 ms), 12 rules x 46 indicators took 28-44 s per table.  Each expectation carries ``meta = {"rule",
    "key", "label"}``: the rule (:data:`RULES`), the key of its per-indicator text (:func:`label`)."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    E = gx.expectations
    # "<indicator> <measure>" (ids have no spaces): GE's ExpectColumnPairValuesToBeInSet runs a pandas
    # iterrows over the table (21 s for 40,000 rows, linear in the years); a value set is one vectorised isin
    pairs = sorted(f"{iid} {m}" for iid, sp in specs.items() for m in (sp.measures or sp.categories))
    units = ", ".join(f"{u} {range_label(u)}" for u in RANGES)

    def m(rule: str, key: str, text: str) -> dict:
        return {"rule": rule, "key": key, "label": text}

    skip = "either_value_is_missing"     # a suppressed cell has no value: the suppressed rules judge it
    exps = [
        E.ExpectColumnPairValuesToBeEqual(column_A="unit", column_B="spec_unit", ignore_row_if="neither",
                                          meta=m("unit", "unit", "unit is the spec's")),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="value", column_B="range_lo", or_equal=True, ignore_row_if=skip,
            row_condition=Column("range_strict") == False,  # noqa: E712
            meta=m("range", "range_lo", "value >= the lower bound of the unit"),
            notes=f"allowed ranges of the units (gates/expectations.py): {units}"),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="value", column_B="range_lo", or_equal=False, ignore_row_if=skip,
            row_condition=Column("range_strict") == True,  # noqa: E712
            meta=m("range", "range_lo_strict", "value > the lower bound of the unit (bound excluded)")),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="range_hi", column_B="value", or_equal=True, ignore_row_if=skip,
            meta=m("range", "range_hi", "value <= the upper bound of the unit or the spec's value_max")),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="year", column_B="first_year", or_equal=True,
                                                  ignore_row_if="neither",
                                                  meta=m("years", "years", "year >= the spec's first_year")),
        E.ExpectColumnValuesToNotBeNull(column="suppressed",
                                        meta=m("suppressed", "suppressed_not_null", "suppressed not null")),
        E.ExpectColumnValuesToBeNull(column="value", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "value_null", "value null when suppressed")),
        E.ExpectColumnValuesToNotBeNull(column="value", row_condition=Column("suppressed") == False,  # noqa: E712
                                        meta=m("suppressed", "value_not_null", "value not null when not suppressed")),
        E.ExpectColumnValuesToBeNull(column="n", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "n_null", "n null when suppressed")),
        E.ExpectColumnValuesToNotBeNull(column="n", row_condition=Column("suppressed") == False,  # noqa: E712
                                        meta=m("suppressed", "n_not_null", "n not null when not suppressed")),
        E.ExpectColumnValuesToBeNull(column="n_weighted", row_condition=Column("suppressed") == True,  # noqa: E712
                                     meta=m("suppressed", "n_weighted_null", "n_weighted null when suppressed")),
        E.ExpectColumnValuesToBeInSet(column="indicator_measure", value_set=pairs,
                                      meta=m("measures", "measures", "measure is one of the spec's measures"),
                                      notes="indicator_measure = '<indicator> <measure>', the pairs of the specs"),
        E.ExpectColumnDistinctValuesToContainSet(
            column="cube_key", value_set={"$PARAMETER": "cube"}, row_condition=Column("herkomst") == TOTAAL,
            meta=m("completeness", "completeness", "every dimension at herkomst totaal in every year"),
            notes="cube = per indicator, every year it has rows x its dimensions, as '<indicator> <year> "
                  "<dimension>' ('totaal' = no breakdown); filled in when the suite runs"),
        E.ExpectColumnValuesToBeInSet(column="unexplained", value_set=[False], row_condition=Column("n") >= min_n,
                                      severity="warning",
                                      meta=m("trend", "trend", f"no unexplained year-on-year jump (n >= {min_n})"),
                                      notes="unexplained = a change beyond the tolerance of trend_breaks.yaml that "
                                            "no registered break explains; null where not judged (first year of a "
                                            "series, suppressed, voorlopig)"),
    ]
    return gx.ExpectationSuite(name=TABLE_SUITE, expectations=exps,
                               meta={"notes": "the contract of every built indicator of indicators/specs.yaml "
                                              f"({len(specs)} indicators; parameters generated from the specs)"})


def params(specs: dict[str, S.IndicatorSpec]) -> pl.DataFrame:
    """Per indicator the parameters its rows are judged by: unit, range (bounds, lower bound excluded) and
    first year of the spec."""
    rows = [{"indicator_id": iid, "spec_unit": sp.unit, "range_lo": float(value_range(sp)[0]),
             "range_hi": float(value_range(sp)[1]), "range_strict": bool(value_range(sp)[2]),
             "first_year": int(sp.first_year)} for iid, sp in specs.items()]
    return pl.DataFrame(rows, schema={"indicator_id": pl.String, "spec_unit": pl.String, "range_lo": pl.Float64,
                                      "range_hi": pl.Float64, "range_strict": pl.Boolean, "first_year": pl.Int64})


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
        pl.concat_str([pl.col("indicator_id").fill_null("?"), pl.lit(" "),
                       pl.col("measure").fill_null("?")]).alias("indicator_measure"),
    ).sort("_row")


def _count(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _per_indicator(res, rerun, cube: list[str], present: set[str]) -> dict[str, tuple[int, list[str]]]:
    """Indicator id -> (count, examples) of a failed expectation of the table suite.  A row-map rule is run
    again alone with the ``indicator_id`` and ``cell`` of every failing row (``rerun(cfg)``; only for a
    failed rule); for the completeness rule, the cube keys missing from ``present`` (GE reports the count
    and at most 20 of them)."""
    cfg = res.expectation_config
    if cfg.meta.get("rule") == "completeness":
        out: dict[str, tuple[int, list[str]]] = {}
        for key in sorted(set(cube) - present):
            iid, rest = key.split(" ", 1)
            n, eg = out.get(iid, (0, []))
            out[iid] = (n + 1, [*eg, rest])
        return out
    rows = (rerun(cfg).result or {}).get("unexpected_index_list") or []
    out = {}
    for r in rows:
        n, eg = out.get(r["indicator_id"], (0, []))
        out[r["indicator_id"]] = (n + 1, eg if len(eg) >= 3 else [*eg, str(r.get("cell"))])
    return out


def _text(key: str, spec, min_n: int, n: int, examples: list[str]) -> str:
    """``O05: value in [0, 100]: 1 row (e.g. ...)`` without the id; completeness lists what is missing."""
    lab = label(key, spec, min_n)
    if key == "completeness":
        return f"{lab}: missing {', '.join(examples[:6])}" + (" ..." if len(examples) > 6 else "")
    eg = f" (e.g. {'; '.join(examples[:3])})" if examples else ""
    return f"{lab}: {_count(n)}{eg}"


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
    """Run the table suite on the rows of every built indicator in ``table`` (one GE context, one run).

    ``ch`` = ``trend_breaks.changes`` of the table with its ``_row`` index.  Returns ``(suites, data_docs)``:
    per indicator ``{"success", "failed": [{"rule", "severity", "text"}], "evaluated"}``, and the path of the
    Data Docs index (``None`` without ``docs_dir``).  With ``docs_dir`` the suite, validation definition and
    results are kept in a file context ``<docs_dir>/gx``; other suites (one per indicator before December 2026)
    are removed, and results older than the last ``keep_runs`` runs are dropped (the Data Docs show the current
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
        _drop_stale(ctx, {TABLE_SUITE})
    run_id = RunIdentifier(run_name=RUN_NAME)
    out: dict[str, dict] = {}
    if not ids:
        return out, _docs(ctx, docs_dir, run_id, keep_runs, [])
    mine = {i: specs[i] for i in ids}
    ds = _get(ctx.data_sources, DATA_SOURCE) or ctx.data_sources.add_pandas(DATA_SOURCE)
    asset = next((a for a in ds.assets if a.name == TABLE_SUITE), None) or ds.add_dataframe_asset(TABLE_SUITE)
    bd = next((b for b in asset.batch_definitions if b.name == "all"), None) or \
        asset.add_batch_definition_whole_dataframe("all")
    suite_ = ctx.suites.add_or_update(table_suite(mine, min_n))
    vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=TABLE_SUITE, data=bd, suite=suite_))

    full = (frame(table.filter(pl.col("indicator_id").is_in(ids)), ch)
            .join(params(mine), on="indicator_id", how="left")
            .with_columns((pl.col("indicator_id") + " " + pl.col("year_breakdown")).alias("cube_key")))
    cube = _cube(full, mine, min_n, not_computable)
    pdf = full.select(_FRAME).to_pandas()
    res = vd.run(batch_parameters={"dataframe": pdf}, expectation_parameters={"cube": cube},
                 result_format=_RESULT_FORMAT, run_id=run_id)

    def rerun(cfg):
        batch = bd.get_batch(batch_parameters={"dataframe": pdf})
        return batch.validate(cfg.to_domain_obj(), result_format=_EXAMPLES_FORMAT)

    have = set(full.filter(pl.col("herkomst") == TOTAAL)["cube_key"].unique().to_list())
    failed: dict[str, dict[tuple, dict]] = {i: {} for i in ids}
    for r in res.results:
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rule, key = meta.get("rule", "?"), meta.get("key", "?")
        sev = str(getattr(r.expectation_config, "severity", "critical") or "critical").split(".")[-1].lower()
        if r.exception_info and r.exception_info.get("raised_exception"):
            for i in ids:   # an error of GE itself concerns every indicator the rule judges
                failed[i][(rule, key)] = {"rule": rule, "severity": sev,
                                          "text": f"{label(key, mine[i], min_n)}: error "
                                                  f"{r.exception_info.get('exception_message')}"}
            continue
        for i, (n, eg) in _per_indicator(r, rerun, cube, have).items():
            # the lower and upper range bounds are one rule for the reader: one entry, counts summed
            slot = ("range", "range") if rule == "range" else (rule, key)
            prev = failed[i].get(slot)
            if prev is not None:
                n, eg = prev["_n"] + n, prev["_eg"] + eg
            failed[i][slot] = {"rule": rule, "severity": sev, "text": _text(key, mine[i], min_n, n, eg),
                               "_n": n, "_eg": eg}
    n_rules = len(suite_.expectations)
    for i in ids:
        fs = [{k: v for k, v in f.items() if not k.startswith("_")} for f in failed[i].values()]
        fs.sort(key=lambda f: RULES.index(f["rule"]) if f["rule"] in RULES else len(RULES))
        out[i] = {"success": not fs, "failed": fs, "evaluated": n_rules}
    return out, _docs(ctx, docs_dir, run_id, keep_runs, [TABLE_SUITE])


def _cube(full: pl.DataFrame, specs: dict[str, S.IndicatorSpec], min_n: int,
          not_computable: dict[int, set[str]] | None) -> list[str]:
    """``<indicator> <year> <dimension>`` expected at herkomst totaal: every year an indicator has rows x its
    dimensions, where the year's total cell rests on >= ``min_n`` persons (a smaller cell can have an empty
    breakdown by nature: generatie is undefined without a migration background, report 2.2), without the
    breakdowns readiness.py calls not computable for indicators built on core/population."""
    tot = full.filter(pl.all_horizontal([pl.col(c) == TOTAAL for c in DIMENSIONS]))
    big = {(i, y) for i, y in tot.group_by("indicator_id", "year").agg(pl.col("n").max())
           .filter(pl.col("n") >= min_n).select("indicator_id", "year").iter_rows()}
    cube = []
    for (iid, ), years in full.select("indicator_id", "year").unique().partition_by(
            "indicator_id", as_dict=True).items():
        sp = specs[iid]
        from_population = "core/population" in sp.inputs.values()
        for y in sorted(years["year"].to_list()):
            for d in dimensions(sp):
                if (d == TOTAAL or (iid, y) in big) and not (from_population
                                                             and d in (not_computable or {}).get(y, set())):
                    cube.append(f"{iid} {y} {d}")
    return sorted(cube)


def _docs(ctx, docs_dir: Path | None, run_id, keep_runs: int, suites: list[str]) -> str | None:
    """Prune old results and build the Data Docs of a file context; the path of their index."""
    if docs_dir is None:
        return None
    _prune(ctx, keep_runs)
    _build_docs(ctx, run_id, suites)
    unc = Path(docs_dir) / "gx" / "uncommitted"
    for root in (unc / "validations", unc / "data_docs" / "local_site" / "validations"):
        _remove_empty_dirs(root)
    return str(Path(docs_dir).resolve() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html")




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
