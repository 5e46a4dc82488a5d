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


def _herkomst_views(lf: pl.LazyFrame) -> list[tuple[str, pl.LazyFrame]]:
    """(herkomst value, persons) for each group and aggregate of breakdowns.yaml."""
    cfg = breakdowns()["herkomst"]
    out = [(g, lf.filter(pl.col("herkomst_group").cast(pl.String) == g)) for g in cfg["groups"]]
    for agg in cfg["aggregates"]:
        out.append((agg, lf if agg == TOTAAL else lf.filter(pl.col("herkomst_aggregate").cast(pl.String) == agg)))
    return out


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
    """
    dims = dimensions if dimensions is not None else breakdowns()["dimensions"]
    if weight is None:   # a real column: a literal does not broadcast inside group_by aggregations
        persons = persons.with_columns(pl.lit(1.0).alias("_w"))
    w = pl.col(weight or "_w")
    scale = 100.0 if unit == "%" else 1.0
    rows = []
    for herk, sub in _herkomst_views(persons):
        for dim in dims:
            keys = [] if dim == TOTAAL else [SOURCE_COLUMN[dim]]
            if by_measure is not None:
                base = sub.group_by(keys or [pl.lit(TOTAAL).alias("_all")]).agg(w.sum().alias("_wt"))
                g = (sub.group_by([*keys, by_measure]).agg(pl.len().alias("n"), w.sum().alias("n_weighted")))
                g = g.join(base, on=keys or None, how="left") if keys else g.join(base.drop("_all"), how="cross")
                g = g.with_columns((pl.col("n_weighted") / pl.col("_wt") * scale).alias("value"),
                                   pl.col(by_measure).cast(pl.String).alias("measure")).drop("_wt", by_measure)
            else:
                agg = [pl.len().alias("n"), w.sum().alias("n_weighted"),
                       ((pl.col("value") * w).sum() / w.filter(pl.col("value").is_not_null()).sum() * scale).alias("value")]
                g = sub.filter(pl.col("value").is_not_null()).group_by(keys).agg(agg) if keys else \
                    sub.filter(pl.col("value").is_not_null()).select(agg)
                g = g.with_columns(pl.lit(measure or indicator_id).alias("measure"))
            frame = g.collect().filter(pl.col("n") > 0)
            if frame.height == 0:
                continue
            out = {d: pl.lit(TOTAAL) for d in DIMENSIONS}
            out["herkomst"] = pl.lit(herk)
            if keys:
                out[dim] = pl.col(keys[0]).cast(pl.String)
            frame = frame.filter(pl.col(keys[0]).is_not_null()) if keys else frame
            rows.append(frame.select(
                pl.lit(indicator_id).alias("indicator_id"), pl.lit(year, dtype=pl.Int32).alias("year"),
                *[e.alias(d) for d, e in out.items()],
                pl.col("measure").cast(pl.String), pl.col("value").cast(pl.Float64), pl.lit(unit).alias("unit"),
                pl.col("n").cast(pl.Int64), pl.col("n_weighted").cast(pl.Float64), pl.lit(status).alias("status"),
                pl.lit(False).alias("suppressed"), pl.lit(None, dtype=pl.String).alias("trend_break"),
                pl.lit(vintages).alias("vintages")))
    return pl.concat(rows) if rows else empty()
