"""The indicator table (docs/indicators.md, *contract*): one long table, one row per cell.

Columns: indicator_id, year, herkomst, generatie, verblijfsduur, leeftijd, geslacht, opleiding, sector,
kwartaal, regio, randstad, asielstatus, inkomensklasse, correctie, measure, value, unit, n, n_weighted, status, suppressed, trend_break, vintages.  A dimension not broken down
holds ``totaal``; ``measure`` names the category of a multi-valued indicator (e.g. ``1``, ``1-2``, ``>2``
jobs), else the indicator's own measure name.  Indicator functions build person-level frames with the
dimension columns and a ``value`` column and call :func:`cells`, which produces the rows for every breakdown
of ``breakdowns.yaml``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources

import polars as pl

from monitor_dagster import yamlio

DIMENSIONS = ["herkomst", "generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal",
              "regio", "randstad", "asielstatus", "inkomensklasse"]
#: the quarter breakdown (report 7.1.3 c; spec ``period: quarter``): K1-K4; ``totaal`` = the whole year
KWARTAAL = "kwartaal"
#: the dimensions of issue 18 (technisch rapport Monitor gelijke kansen, §7.2.4 arbeidsmarktregio, §5.1 randstad,
#: §7.2.5 asielstatushouders, §4.3 advies b zelfstandigen naar inkomensniveau): rolled up from a group-by of their
#: own (herkomst x these columns), never crossed with the other dimensions (breakdowns.yaml ``separate``)
SEPARATE = ("regio", "randstad", "asielstatus", "inkomensklasse")
#: the correction for background characteristics (issue 17; technisch rapport §7.2.2): ``geen`` (every row of
#: the uncorrected monitor), ``gewogen`` (groups weighted to the basisgroep's composition over the period),
#: ``model`` (the gap adjusted by a model with the characteristics as explanatory variables)
CORRECTIE = "correctie"
GEEN = "geen"
SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.String, "year": pl.Int32,
    **{d: pl.String for d in DIMENSIONS}, CORRECTIE: pl.String,
    "measure": pl.String, "value": pl.Float64, "unit": pl.String, "n": pl.Int64, "n_weighted": pl.Float64,
    "status": pl.String, "suppressed": pl.Boolean, "trend_break": pl.String, "vintages": pl.String,
}
COLUMNS = list(SCHEMA)
#: covariate cells (issue 17): rows ``correctie == "cel"`` of a family's own table, one per indicator, group
#: (basis- or referentiegroep), covariate cell (``covariaten``, corrections/propensity.py) and measure, with the
#: mean of the squared value for the model's variance; the indicator table turns them into the corrected rows
CEL = "cel"
FAMILY_SCHEMA: dict[str, pl.DataType] = {**SCHEMA, "covariaten": pl.String, "value_sq": pl.Float64}
FAMILY_COLUMNS = list(FAMILY_SCHEMA)
#: partial cells (issue 12): additive sums per breakdown cell, merged over buckets of persons by finalize()
PARTIAL_KEYS = ["indicator_id", "year", *DIMENSIONS, "measure", "unit", "status", "vintages", "share", "covariaten"]
PARTIAL_SCHEMA: dict[str, pl.DataType] = {
    **{k: FAMILY_SCHEMA.get(k, pl.Boolean) for k in PARTIAL_KEYS},
    "n": pl.Int64, "w_sum": pl.Int128, "wv_sum": pl.Int128, "wvv_sum": pl.Int128,
}
#: fixed-point scale of w_sum / wv_sum: 1e-8 of a euro, hour, month or weight unit, so a mean moves by less
#: than 1e-8 (value x FIXED stays below 2**53, exact in float64, up to 90 million).  Int128, because 17.5
#: million persons x an income of 1,000,000 euro x 1e8 (1.75e21) overflows Int64
FIXED = 10 ** 8
_PARTIAL: ContextVar[bool] = ContextVar("monitor_partial_cells", default=False)
#: the bucket's persons with their covariate cell (person_id, herkomst_aggregate, covariaten), set by the
#: engine for the families that are corrected (specs.yaml ``corrected``): cells() then adds covariate cells
_COVARIATES: ContextVar[pl.LazyFrame | None] = ContextVar("monitor_covariate_cells", default=None)
TOTAAL = "totaal"
# person-level column that feeds each dimension (core/population names -> table names)
SOURCE_COLUMN = {"herkomst": "herkomst_group", "generatie": "generatie", "verblijfsduur": "verblijfsduur",
                 "leeftijd": "leeftijd", "geslacht": "geslacht", "opleiding": "opleidingsniveau", "sector": "sector",
                 KWARTAAL: KWARTAAL, **{d: d for d in SEPARATE}}


@lru_cache(maxsize=1)
def breakdowns() -> dict:
    return yamlio.safe_load(resources.files(__package__).joinpath("breakdowns.yaml").read_text(encoding="utf-8"))


def separate_breakdowns() -> dict[str, list[str] | None]:
    """Dimension of :data:`SEPARATE` -> the herkomst values it is crossed with (None: all), breakdowns.yaml."""
    cfg = breakdowns().get("separate") or {}
    return {d: (None if v == "all" else list(v)) for d, v in cfg.items()}


def with_separate_dimensions(table: pl.DataFrame) -> pl.DataFrame:
    """A table (or family table) written before issue 18 has no regio, randstad, asielstatus, inkomensklasse:
    its rows are not split by them (``totaal``), as a table from before issue 17 reads as ``correctie`` geen."""
    return table.with_columns(
        (pl.col(d).fill_null(TOTAAL) if d in table.columns else pl.lit(TOTAAL)).alias(d) for d in SEPARATE)


def totals(table: pl.DataFrame) -> pl.DataFrame:
    """Rows without any breakdown besides herkomst (the headline cells)."""
    return table.filter(pl.all_horizontal([pl.col(d) == TOTAAL for d in DIMENSIONS if d in table.columns
                                           and d != "herkomst"]))


def hidden_totals(table: pl.DataFrame) -> pl.DataFrame:
    """(indicator_id, year, measure, herkomst) of the uncorrected headline cells a gated table hides: what the
    outputs beside the table (duration curves, the sensitivity table) must not show either."""
    t = totals(table).filter(pl.col("suppressed"))
    if CORRECTIE in t.columns:
        t = t.filter(pl.col(CORRECTIE) == GEEN)
    return t.select("indicator_id", "year", "measure", "herkomst").unique()


def empty() -> pl.DataFrame:
    """An empty frame of what :func:`cells` returns now: finished rows, or partial cells in
    :func:`partial_mode`."""
    return pl.DataFrame(schema=PARTIAL_SCHEMA if _PARTIAL.get() else SCHEMA)


def columns() -> list[str]:
    """The columns :func:`cells` returns now (see :func:`empty`)."""
    return list(PARTIAL_SCHEMA) if _PARTIAL.get() else COLUMNS


@contextmanager
def covariate_cells_of(keys: pl.LazyFrame | None):
    """Within this block :func:`cells` also returns covariate cells (``correctie == "cel"``) of the persons in
    ``keys`` (``person_id``, ``herkomst_aggregate``, ``covariaten``; corrections/propensity.covariate_key), for
    the corrected figures of technisch rapport §7.2.2.  None: no covariate cells."""
    token = _COVARIATES.set(keys)
    try:
        yield
    finally:
        _COVARIATES.reset(token)


@contextmanager
def partial_mode():
    """Within this block :func:`cells` returns additive partial cells instead of finished rows.

    The indicator engine runs a family's functions once per bucket of persons inside this block and merges
    the buckets' partial cells with :func:`finalize` (issue 12): the indicator functions themselves do not
    know about buckets."""
    token = _PARTIAL.set(True)
    try:
        yield
    finally:
        _PARTIAL.reset(token)


def _fixed(expr: pl.Expr) -> pl.Expr:
    """A quantity in fixed point (1/FIXED units) as Int64: sums of these are exact, so the order in which
    buckets are merged cannot change a published value."""
    return (expr * FIXED).round(0).cast(pl.Int128)


def cells(persons: pl.LazyFrame, *, indicator_id: str, year: int, unit: str, measure: str | None = None,
          weight: str | None = None, dimensions: list[str] | None = None, status: str = "definitief",
          vintages: str = "", by_measure: str | None = None) -> pl.DataFrame:
    """Aggregate a person-level frame into indicator rows for every breakdown.

    ``persons`` has ``herkomst_group``, ``herkomst_aggregate`` and the dimension columns of SOURCE_COLUMN
    that the breakdowns need, a numeric ``value`` (0/1 for a share, a quantity for a mean) and optionally a
    weight column (EBB).  ``value`` of a cell = weighted mean of ``value`` (x100 when unit is ``%``);
    ``n`` = persons (unweighted), ``n_weighted`` = sum of weights (= n without weights).  With ``by_measure``
    (a column with categories) each category becomes a row with ``measure`` = category and value = its share.
    Not yet suppressed: the disclosure gate decides ``suppressed``.

    Quarters (report 7.1.3 c): a frame with a ``kwartaal`` column has a row per person for the year
    (``kwartaal`` null) and one per quarter he counts in (``K1``-``K4``); every breakdown reads the year's rows,
    and the breakdown ``kwartaal`` (crossed with herkomst, like the others) the quarters' rows.

    Computed in two steps so that persons can be processed in buckets (issue 12): additive *partial cells*
    (n, sum of weights and sum of weight x value, both in fixed point) per breakdown cell, then
    :func:`finalize`.  In :func:`partial_mode` the partial cells are returned as they are.
    """
    part = partial_cells(persons, indicator_id=indicator_id, year=year, unit=unit, measure=measure,
                         weight=weight, dimensions=dimensions, status=status, vintages=vintages,
                         by_measure=by_measure)
    return part if _PARTIAL.get() else finalize(part)


def cells_many(persons: pl.LazyFrame, values: dict[tuple[str, str], pl.Expr | str], *, year: int,
               unit: str | dict[str, str], weight: str | None = None, dimensions: list[str] | None = None,
               status: str = "definitief", vintages: str = "") -> pl.DataFrame:
    """:func:`cells` of several measures of the same persons in one pass: ``values`` maps (indicator_id,
    measure) to the person's value (a column name or expression; null = the person is not in that measure's
    denominator).  The same rows as one :func:`cells` call per measure, from one group-by over the persons
    instead of one each (issue 12 "aggregate once at the finest breakdown level"; O28 has 12 measures).
    ``unit``: one for all, or per indicator_id (O06-O08: hours per week and euro per hour)."""
    part = _partial(persons, [(i, m, pl.col(v) if isinstance(v, str) else v) for (i, m), v in values.items()],
                    year=year, unit=unit, weight=weight, dimensions=dimensions, status=status, vintages=vintages)
    return part if _PARTIAL.get() else finalize(part)


def partial_cells(persons: pl.LazyFrame, *, indicator_id: str, year: int, unit: str, measure: str | None = None,
                  weight: str | None = None, dimensions: list[str] | None = None, status: str = "definitief",
                  vintages: str = "", by_measure: str | None = None) -> pl.DataFrame:
    """The additive partial cells of :func:`cells` (PARTIAL_SCHEMA): per breakdown cell (and category)
    ``n``, ``w_sum`` = sum of weights and ``wv_sum`` = sum of weight x value, the sums in fixed point.

    One group-by over the persons at the finest level (herkomst group x every dimension x category), then
    every breakdown (three herkomst levels x each dimension) is a roll-up of that small frame: the sums are
    additive, so rolling up is exact and the persons are read once.  The separate dimensions of issue 18
    (:data:`SEPARATE`: regio, randstad, asielstatus, inkomensklasse) that the frame carries are rolled up from a
    second group-by of their own (herkomst x those columns), crossed with the herkomst values breakdowns.yaml
    lists for them; a person whose value is null (region unknown) counts in the totals, in none of the parts.
    """
    return _partial(persons, [(indicator_id, measure or indicator_id, pl.col("value"))], year=year, unit=unit,
                    weight=weight, dimensions=dimensions, status=status, vintages=vintages, by_measure=by_measure)


#: the category column of the partial cells of several measures (:func:`cells_many`): the measure's index
_M = "_m"


def _partial(persons: pl.LazyFrame, values: list[tuple[str, str, pl.Expr]], *, year: int, unit: str | dict[str, str],
             weight: str | None = None, dimensions: list[str] | None = None, status: str = "definitief",
             vintages: str = "", by_measure: str | None = None) -> pl.DataFrame:
    """:func:`partial_cells` of the measures ``values`` ((indicator_id, measure, value expression)); with
    ``by_measure`` one value whose categories are the measures.  Several measures are summed side by side in
    each group-by (masked by their own non-null values) and stacked afterwards under a category ``_m``."""
    dims = dimensions if dimensions is not None else breakdowns()["dimensions"]
    if weight in ("_w", "_wv"):
        raise ValueError(f"weight column {weight!r}: that name is used by cells() itself, rename the column")
    w = _fixed(pl.col(weight)) if weight else pl.lit(FIXED, dtype=pl.Int128)
    wt = pl.col(weight) if weight else pl.lit(1.0)
    lf = persons.with_columns(w.alias("_w"))    # a column: the sum of a literal in an agg is the literal
    many = len(values) > 1
    if by_measure is not None:
        lf = lf.with_columns(pl.lit(None, dtype=pl.Int128).alias("_wv"))
    elif not many:      # one measure: the persons without a value are left out before the group-by
        lf = lf.filter(values[0][2].is_not_null()).with_columns(_fixed(values[0][2] * wt).alias("_wv"))
    sums = _measure_sums(values, wt) if many else \
        [pl.len().alias("n"), pl.col("_w").sum().alias("w_sum"), pl.col("_wv").sum().alias("wv_sum")]
    quarterly = KWARTAAL in persons.collect_schema().names()
    dims = [d for d in dims if d != KWARTAAL and d not in SEPARATE]
    dcols = [SOURCE_COLUMN[d] for d in dims if d != TOTAAL]
    herk = ["herkomst_group", "herkomst_aggregate"]
    cat = [by_measure] if by_measure else []
    # the year's rows at the finest level of every dimension; the quarters' rows only by herkomst (the
    # breakdown kwartaal is crossed with herkomst alone)
    year_rows = lf.filter(pl.col(KWARTAAL).is_null()) if quarterly else lf
    fines = [year_rows.group_by([*herk, *dict.fromkeys(dcols), *cat]).agg(sums)]
    if quarterly:
        fines.append(lf.filter(pl.col(KWARTAAL).is_not_null()).group_by([*herk, KWARTAAL, *cat]).agg(sums))
    # issue 18: the separate dimensions the frame carries, from one group-by of their own (herkomst x regio x
    # randstad x asielstatus x inkomensklasse: at most a few thousand cells), the year's rows only
    names = persons.collect_schema().names()
    sep = {d: allowed for d, allowed in separate_breakdowns().items() if d in SEPARATE and SOURCE_COLUMN[d] in names}
    if sep:
        fines.append(year_rows.group_by([*herk, *[SOURCE_COLUMN[d] for d in sep], *cat]).agg(sums))
    keys = _COVARIATES.get()
    cov = keys is not None and ("covariaten" in names or "person_id" in names)
    if cov:      # in the same collect_all as the group-bys: polars reads the persons' plan once for all
        fines.append(_covariate_query(year_rows, keys, values, weight=weight, by_measure=by_measure))
    fines = pl.collect_all(fines)
    if many:     # one block of rows per measure, told apart by the category _m
        cat = [_M]
        fines = [pl.concat([f.select(pl.exclude(r"^(n|w_sum|wv_sum|wvv_sum)\d+$"), pl.lit(j, dtype=pl.Int32).alias(_M),
                                     *[pl.col(f"{c}{j}").alias(c) for c in ("n", "w_sum", "wv_sum", "wvv_sum")
                                       if f"{c}{j}" in f.columns])
                            for j in range(len(values))], how="vertical") for f in fines]
    fine_year, *rest = fines
    cov_cells = rest.pop() if cov else None
    fine_q = rest[0] if quarterly else None
    fine_sep = rest[-1] if sep else None
    if quarterly:
        dims = [*dims, KWARTAAL]
    dims = [*dims, *sep]
    rows = _rollup({dim: (fine_q if dim == KWARTAAL else fine_sep if dim in sep else fine_year) for dim in dims},
                   {dim: sep.get(dim) for dim in dims}, cat)
    rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias("covariaten"),
                             pl.lit(None, dtype=pl.Int128).alias("wvv_sum"))
    if cov_cells is not None:   # several measures: a measure without a value in a covariate cell has n = 0 there
        rows = pl.concat([rows, cov_cells.filter(pl.col("n") > 0).select(rows.columns)], how="vertical_relaxed")
    ids = {j: i for j, (i, _, _) in enumerate(values)}
    if isinstance(unit, dict):      # a unit per indicator (cells_many)
        if missing := sorted({i for i, _, _ in values} - set(unit)):
            raise ValueError(f"cells_many: no unit for {', '.join(missing)}")
        unit_expr = pl.col(_M).replace_strict({j: unit[i] for j, i in ids.items()}, return_dtype=pl.String) \
            if many else pl.lit(unit[values[0][0]])
    else:
        unit_expr = pl.lit(unit)
    if by_measure:
        indicator, measure = pl.lit(values[0][0]), pl.col(by_measure).cast(pl.String)
    elif many:
        indicator = pl.col(_M).replace_strict(ids, return_dtype=pl.String)
        measure = pl.col(_M).replace_strict({j: m for j, (_, m, _) in enumerate(values)}, return_dtype=pl.String)
    else:
        indicator, measure = pl.lit(values[0][0]), pl.lit(values[0][1])
    out = rows.select(
        indicator.alias("indicator_id"), pl.lit(year, dtype=pl.Int32).alias("year"),
        *[pl.col(d).cast(pl.String) for d in DIMENSIONS], measure.alias("measure"),
        unit_expr.alias("unit"), pl.lit(status).alias("status"), pl.lit(vintages).alias("vintages"),
        pl.lit(by_measure is not None).alias("share"), pl.col("covariaten").cast(pl.String),
        pl.col("n").cast(pl.Int64), pl.col("w_sum").cast(pl.Int128),
        (pl.lit(None, dtype=pl.Int128) if by_measure else pl.col("wv_sum")).cast(pl.Int128).alias("wv_sum"),
        pl.col("wvv_sum").cast(pl.Int128))
    return out if out.height else pl.DataFrame(schema=PARTIAL_SCHEMA)


def _rollup(fine: dict[str, pl.DataFrame], sep_allowed: dict[str, list[str] | None], cat: list[str]) -> pl.DataFrame:
    """Every breakdown of :func:`partial_cells` from the small fine frames (a few hundred to thousand cells):
    dimension -> the fine frame it is rolled up from.  The fine cells are stacked once per dimension (``_dim``,
    ``_val``), then one group-by per herkomst level (group, aggregate, totaal) gives every breakdown at once;
    eager, in a handful of operations (one lazy query per breakdown and level cost ~100 ms of planning per
    call, more than the group-by over the persons).  Returns the DIMENSIONS columns, the category columns
    ``cat``, n, w_sum, wv_sum; only cells with persons and herkomst values the breakdown allows."""
    cfg = breakdowns()["herkomst"]
    herk = ["herkomst_group", "herkomst_aggregate"]
    stacked = []
    for dim, frame in fine.items():
        dcol = None if dim == TOTAAL else SOURCE_COLUMN[dim]
        part = frame.select(*[pl.col(h).cast(pl.String) for h in herk], *cat, "n", "w_sum", "wv_sum",
                            pl.lit(dim).alias("_dim"),
                            (pl.col(dcol).cast(pl.String) if dcol else pl.lit(None, dtype=pl.String)).alias("_val"))
        stacked.append(part.filter(pl.col("_val").is_not_null()) if dcol else part)
    long = pl.concat(stacked, how="vertical")
    levels = [("herkomst_group", list(cfg["groups"])),
              ("herkomst_aggregate", [a for a in cfg["aggregates"] if a != TOTAAL]),
              (None, [TOTAAL])]
    sums = [pl.col("n").sum(), pl.col("w_sum").sum(), pl.col("wv_sum").sum()]
    out = []
    for hcol, level_allowed in levels:
        g = long.group_by(["_dim", "_val", *([hcol] if hcol else []), *cat]).agg(sums)
        herkomst = pl.col(hcol) if hcol else pl.lit(TOTAAL)
        g = g.with_columns(herkomst.alias("herkomst")).filter(pl.col("herkomst").is_in(level_allowed))
        out.append(g.select("_dim", "_val", "herkomst", *cat, "n", "w_sum", "wv_sum"))
    rows = pl.concat(out, how="vertical")
    # the separate dimensions (issue 18) are crossed only with the herkomst values breakdowns.yaml lists
    ok = pl.lit(True)
    for dim, allowed in sep_allowed.items():
        if allowed is not None:
            ok = ok & ((pl.col("_dim") != dim) | pl.col("herkomst").is_in(allowed))
    rows = rows.filter(ok & (pl.col("n") > 0))
    return rows.select(
        *[pl.col("herkomst") if d == "herkomst" else
          pl.when(pl.col("_dim") == d).then(pl.col("_val")).otherwise(pl.lit(TOTAAL)).alias(d) for d in DIMENSIONS],
        *cat, "n", "w_sum", "wv_sum")


def _measure_sums(values: list[tuple[str, str, pl.Expr]], wt: pl.Expr, squares: bool = False) -> list[pl.Expr]:
    """The sums of several measures side by side in one group-by (:func:`cells_many`), each over the rows with
    a value for it: ``n<j>``, ``w_sum<j>``, ``wv_sum<j>`` (and ``wvv_sum<j>``, the squares of the covariate cells)."""
    sums = []
    for j, (_, _, v) in enumerate(values):
        has = v.is_not_null()
        sums += [has.sum().alias(f"n{j}"), pl.when(has).then(pl.col("_w")).sum().alias(f"w_sum{j}"),
                 _fixed(v * wt).sum().alias(f"wv_sum{j}")]
        if squares:
            sums.append(_fixed(v * v * wt).sum().alias(f"wvv_sum{j}"))
    return sums


def _with_covariate_cell(rows: pl.LazyFrame, keys: pl.LazyFrame) -> pl.LazyFrame:
    """``covariaten`` of each row: its own (the engine's population carries it; a survey frame brings the EBB's),
    else joined from ``keys``; a person without one is in cell ``onbekend``."""
    if "covariaten" not in rows.collect_schema().names():
        rows = rows.join(keys.select("person_id", "covariaten"), on="person_id", how="left")
    return rows.with_columns(pl.col("covariaten").fill_null("onbekend|onbekend|onbekend"))


def _group_dimensions() -> dict[str, pl.Expr]:
    """The DIMENSIONS of a covariate or duration cell: herkomst the basis- or referentiegroep's label (from
    ``herkomst_aggregate``), every other dimension ``totaal``."""
    from monitor_dagster.corrections.propensity import BASIS, BASIS_LABEL, REFERENTIE_LABEL

    out = {d: pl.lit(TOTAAL) for d in DIMENSIONS}
    out["herkomst"] = (pl.when(pl.col("herkomst_aggregate") == BASIS).then(pl.lit(BASIS_LABEL))
                       .otherwise(pl.lit(REFERENTIE_LABEL)))
    return out


def _covariate_query(rows: pl.LazyFrame, keys: pl.LazyFrame, values: list[tuple[str, str, pl.Expr]], *,
                     weight: str | None = None, by_measure: str | None = None) -> pl.LazyFrame:
    """Partial covariate cells (issue 17): the persons of the basis- and referentiegroep per covariate cell
    (and category), with the sum of squared values for the model's residual variance.  A person without a
    covariate cell (outside the age groups) is in cell ``onbekend``, so the corrected rows count the same
    persons as the uncorrected ones (no difference of a few persons can be derived).  Returns the
    DIMENSIONS columns (herkomst = basis/referentie label), ``covariaten``, the category and the sums (with a
    suffix per measure when there are several, as the group-bys of :func:`_partial`)."""
    from monitor_dagster.corrections.propensity import BASIS, REFERENTIE

    cat = [by_measure] if by_measure else []
    lf = _with_covariate_cell(rows.filter(pl.col("herkomst_aggregate").cast(pl.String).is_in([BASIS, REFERENTIE])),
                              keys)
    wt = pl.col(weight) if weight else pl.lit(1.0)
    if by_measure is not None or len(values) == 1:     # _partial filtered the persons without a value already
        v = values[0][2]
        sums = [pl.len().alias("n"), pl.col("_w").sum().alias("w_sum"),
                (pl.lit(None, dtype=pl.Int128) if by_measure else pl.col("_wv").sum()).alias("wv_sum"),
                (pl.lit(None, dtype=pl.Int128) if by_measure else _fixed(v * v * wt).sum()).alias("wvv_sum")]
    else:
        sums = _measure_sums(values, wt, squares=True)
    q = lf.group_by(pl.col("herkomst_aggregate").cast(pl.String), "covariaten", *cat).agg(sums)
    out = _group_dimensions()
    return q.select(*[e.alias(d) for d, e in out.items()], pl.col("covariaten"), *cat,
                    pl.exclude("herkomst_aggregate", "covariaten", *cat))


#: unit of the duration cells (issue 17): their rows carry correctie ``duur`` and, in ``covariaten``, the
#: covariate cell, the duration in months and the cause (``<cel>|<months>|<cause>``; cause empty = censored)
DUUR, DURATION_UNIT = "duur", "duurcel"


def duration_cells(persons: pl.LazyFrame, *, indicator_id: str, year: int, measure: str, duration: str = "duration",
                   cause: str = "cause", status: str = "definitief", vintages: str = "") -> pl.DataFrame:
    """Duration cells of the basis- and referentiegroep for the duration models of technisch rapport §7.2.2
    ("door middel van een duuranalyse ... rekening worden gehouden met censoring"): persons counted per
    covariate cell, duration (whole months, 1 = the first month at risk) and cause (null: censored at the end
    of that month).  Additive over buckets like every partial cell; empty outside the engine's covariate
    context (a function called on its own, or a family that is not corrected), so callers need no condition.
    ``persons``: ``person_id``, ``herkomst_aggregate``, ``duration`` (>= 1) and ``cause``."""
    from monitor_dagster.corrections.propensity import BASIS, REFERENTIE

    keys = _COVARIATES.get()
    if keys is None:
        return empty()
    q = (_with_covariate_cell(persons.filter(pl.col("herkomst_aggregate").cast(pl.String).is_in([BASIS, REFERENTIE])
                                             & pl.col(duration).is_not_null() & (pl.col(duration) >= 1)), keys)
         .group_by(pl.col("herkomst_aggregate").cast(pl.String), "covariaten",
                   pl.col(duration).cast(pl.Int64).alias("_d"), pl.col(cause).cast(pl.String).alias("_c"))
         .agg(pl.len().alias("n")))
    out = _group_dimensions()
    part = q.select(
        pl.lit(indicator_id).alias("indicator_id"), pl.lit(year, dtype=pl.Int32).alias("year"),
        *[e.alias(d) for d, e in out.items()], pl.lit(measure).alias("measure"),
        pl.lit(DURATION_UNIT).alias("unit"), pl.lit(status).alias("status"), pl.lit(vintages).alias("vintages"),
        pl.lit(False).alias("share"),
        pl.concat_str([pl.col("covariaten"), pl.col("_d").cast(pl.String), pl.col("_c").fill_null("")],
                      separator="|").alias("covariaten"),
        pl.col("n").cast(pl.Int64), (pl.col("n").cast(pl.Int128) * FIXED).alias("w_sum"),
        (pl.col("n").cast(pl.Int128) * FIXED).alias("wv_sum"), pl.lit(None, dtype=pl.Int128).alias("wvv_sum"),
    ).collect()
    return part if _PARTIAL.get() else finalize(part)


def finalize(partials: pl.DataFrame, keep_cells: bool = False) -> pl.DataFrame:
    """Merge partial cells (of any number of buckets, in any order) and turn them into indicator rows.

    A cell's value is wv_sum / w_sum (x100 for %), a category's value its w_sum over the cell's w_sum of
    all categories; the sums are integers, so the result does not depend on how persons were bucketed.
    Rows come in a fixed order: indicator, herkomst (groups, aggregates), breakdown dimension, category."""
    if partials.height == 0:
        return pl.DataFrame(schema=FAMILY_SCHEMA if keep_cells else SCHEMA)
    keys = PARTIAL_KEYS
    if not keep_cells:
        partials = partials.filter(pl.col("covariaten").is_null())
    merged = partials.group_by(keys).agg(pl.col("n").sum(), pl.col("w_sum").sum(), pl.col("wv_sum").sum(),
                                         pl.col("wvv_sum").sum())
    cell = [c for c in keys if c not in ("measure",)]
    scale = pl.when(pl.col("unit") == "%").then(100.0).otherwise(1.0)
    value = (pl.when(pl.col("share"))
             .then(pl.col("w_sum") / pl.col("w_sum").sum().over(cell))
             .otherwise(pl.col("wv_sum") / pl.col("w_sum")) * scale)
    cfg = breakdowns()["herkomst"]
    horder = {g: i for i, g in enumerate([*cfg["groups"], *cfg["aggregates"]])}
    dim_index = pl.lit(0)
    for i, d in enumerate(reversed(DIMENSIONS)):   # which dimension (if any) the row breaks down
        dim_index = pl.when(pl.col(d) != TOTAAL).then(pl.lit(len(DIMENSIONS) - i)).otherwise(dim_index)
    return (merged.with_columns(value.cast(pl.Float64).alias("value"),
                                (pl.col("w_sum") / FIXED).cast(pl.Float64).alias("n_weighted"),
                                pl.when(pl.col("covariaten").is_null()).then(pl.lit(GEEN))
                                .when(pl.col("unit") == DURATION_UNIT).then(pl.lit(DUUR))
                                .otherwise(pl.lit(CEL)).alias(CORRECTIE),
                                pl.when(pl.col("share")).then(None)
                                .otherwise(pl.col("wvv_sum") / pl.col("w_sum")).cast(pl.Float64).alias("value_sq"),
                                pl.lit(False).alias("suppressed"), pl.lit(None, dtype=pl.String).alias("trend_break"),
                                dim_index.alias("_d"),
                                pl.col("herkomst").replace_strict(horder, default=len(horder)).alias("_h"))
            .sort(["indicator_id", "year", "_h", "_d", *DIMENSIONS[1:], "covariaten", "measure"], nulls_last=True)
            .select(FAMILY_COLUMNS if keep_cells else COLUMNS))
