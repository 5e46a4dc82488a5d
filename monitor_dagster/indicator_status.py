"""Per indicator year: the source vintages it was built from, and whether newer ones are in the warehouse
(issue 6: ``monitor status`` shows what a backfill would change)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from monitor_dagster.warehouse import Warehouse

_RELEASE = re.compile(r"^([A-Z]+?)(\d{4})?V(\d+)$")


@dataclass
class IndicatorYear:
    year: int
    vintages: str
    newer: list[str]
    stale: list[str] = field(default_factory=list)   # indicators whose own vintages have a newer release


def _current_release(w: Warehouse, entry: str, period: str | None) -> str | None:
    for part in ([period] if period else []) + ["latest", "all"]:
        m = w.manifest(entry, part)
        if m:
            return m.get("release_id")
    return None


def indicator_years(warehouse_root) -> list[IndicatorYear]:
    ind = Warehouse(warehouse_root, layer="indicators")
    if ind.manifest("indicator_table", "all") is None:
        return []
    src = Warehouse(warehouse_root)
    per = ind.read("indicator_table", "all").select("indicator_id", "year", "vintages").unique().collect()
    rows = per.group_by("year").agg(pl.col("vintages").str.split(",").explode().unique().sort().str.join(","))
    out = []
    for year, vint in rows.sort("year").iter_rows():
        newer, old = [], set()
        for rid in [v for v in vint.split(",") if v]:
            m = _RELEASE.match(rid)
            if not m:
                continue
            current = _current_release(src, m.group(1), m.group(2))
            if current and current != rid:
                newer.append(f"{rid} -> {current}")
                old.add(rid)
        # vintages are per indicator (issue 11): only the indicators that read a replaced release are stale
        stale = sorted({i for i, v in per.filter(pl.col("year") == year).select("indicator_id", "vintages").iter_rows()
                        if old & set((v or "").split(","))})
        out.append(IndicatorYear(int(year), vint, newer, stale))
    return out
