"""The indicator table (DESIGN.md, interfaces: *contract*): one long table, one row per cell.

Columns: indicator_id, year, herkomst, generatie, verblijfsduur, leeftijd, geslacht, opleiding, sector,
measure, value, unit, n, n_weighted, status, suppressed, trend_break, vintages.  A dimension not broken down
holds ``totaal``; ``measure`` names the category of a multi-valued indicator (e.g. ``1``, ``1-2``, ``>2``
jobs), else the indicator's own measure name.  Indicator functions build person-level frames with the
dimension columns and a ``value`` column and call :func:`cells`, which produces the rows for every breakdown
of ``breakdowns.yaml``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import polars as pl
import yaml

DIMENSIONS = ["herkomst", "generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector"]
SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.String, "year": pl.Int32,
    **{d: pl.String for d in DIMENSIONS},
    "measure": pl.String, "value": pl.Float64, "unit": pl.String, "n": pl.Int64, "n_weighted": pl.Float64,
    "status": pl.String, "suppressed": pl.Boolean, "trend_break": pl.String, "vintages": pl.String,
}
COLUMNS = list(SCHEMA)
TOTAAL = "totaal"
# person-level column that feeds each dimension (core/population names -> table names)
SOURCE_COLUMN = {"herkomst": "herkomst_group", "generatie": "generatie", "verblijfsduur": "verblijfsduur",
                 "leeftijd": "leeftijd", "geslacht": "geslacht", "opleiding": "opleidingsniveau", "sector": "sector"}


@lru_cache(maxsize=1)
def breakdowns() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("breakdowns.yaml").read_text(encoding="utf-8"))


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


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

    All breakdowns are built as lazy group-bys at three herkomst levels (group, aggregate, totaal) and
    collected together in one ``pl.collect_all`` (one pass per breakdown, not one per cell).
    """
    dims = dimensions if dimensions is not None else breakdowns()["dimensions"]
    cfg = breakdowns()["herkomst"]
    wcol = weight or "_w"
    # the person-level frame (one row per person, a few columns) is materialised once: every breakdown
    # below re-uses it instead of re-running the joins behind it (at 1M persons that was minutes per indicator)
    lf = persons.with_columns(pl.lit(1, dtype=pl.Int8).alias("_one"),
                              *([pl.lit(1.0).alias("_w")] if weight is None else [])).collect().lazy()
    if by_measure is None:
        lf = lf.filter(pl.col("value").is_not_null())
    w = pl.col(wcol)
    scale = 100.0 if unit == "%" else 1.0
    levels = [("herkomst_group", list(cfg["groups"])),
              ("herkomst_aggregate", [a for a in cfg["aggregates"] if a != TOTAAL]),
              (None, [TOTAAL])]
    queries = []
    for dim in dims:
        dcol = None if dim == TOTAAL else SOURCE_COLUMN[dim]
        for hcol, allowed in levels:
            keys = ["_one"] + ([hcol] if hcol else []) + ([dcol] if dcol else [])
            src = lf.filter(pl.col(dcol).is_not_null()) if dcol else lf
            if by_measure is not None:
                base = src.group_by(keys).agg(w.sum().alias("_wt"))
                q = (src.group_by([*keys, by_measure]).agg(pl.len().alias("n"), w.sum().alias("n_weighted"))
                     .join(base, on=keys, how="left")
                     .with_columns((pl.col("n_weighted") / pl.col("_wt") * scale).alias("value"),
                                   pl.col(by_measure).cast(pl.String).alias("measure")))
            else:
                q = (src.group_by(keys).agg(pl.len().alias("n"), w.sum().alias("n_weighted"),
                                            ((pl.col("value") * w).sum() / w.sum() * scale).alias("value"))
                     .with_columns(pl.lit(measure or indicator_id).alias("measure")))
            out = {d: pl.lit(TOTAAL) for d in DIMENSIONS}
            out["herkomst"] = pl.col(hcol).cast(pl.String) if hcol else pl.lit(TOTAAL)
            if dcol:
                out[dim] = pl.col(dcol).cast(pl.String)
            q = q.select(
                pl.lit(indicator_id).alias("indicator_id"), pl.lit(year, dtype=pl.Int32).alias("year"),
                *[e.alias(d) for d, e in out.items()],
                pl.col("measure").cast(pl.String), pl.col("value").cast(pl.Float64), pl.lit(unit).alias("unit"),
                pl.col("n").cast(pl.Int64), pl.col("n_weighted").cast(pl.Float64), pl.lit(status).alias("status"),
                pl.lit(False).alias("suppressed"), pl.lit(None, dtype=pl.String).alias("trend_break"),
                pl.lit(vintages).alias("vintages"),
            ).filter(pl.col("herkomst").is_in(allowed) & (pl.col("n") > 0))
            queries.append(q)
    frames = [f for f in pl.collect_all(queries) if f.height]
    if not frames:
        return empty()
    order = {g: i for i, g in enumerate([*cfg["groups"], *cfg["aggregates"]])}
    return (pl.concat(frames, how="vertical")
            .with_columns(pl.col("herkomst").replace_strict(order, default=len(order)).alias("_o"))
            .sort("_o", maintain_order=True).drop("_o"))
