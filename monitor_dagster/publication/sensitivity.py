"""The sensitivity table in the technical report (issue 16): how far the headline figures move under each
choice the report leaves open (``monitor_dagster/sensitivity.py`` computes it, the asset
``indicators/sensitivity`` stores it).  Only what the warehouse holds, already disclosure-gated; numbers in the
publication's one format (``numbers.py``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from monitor_dagster.publication import data as D
from monitor_dagster.publication.numbers import count, fmt

#: the order of the herkomst columns, and the gap
COLUMNS = ("totaal", "niet-westers", "geen migratieachtergrond", "verschil niet-westers - geen")


def load(warehouse: Path | str | None, gated: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """The stored sensitivity table, None when the warehouse has none (an incomplete zone).  With the ``gated``
    indicator table it is published under this version's rules (``sensitivity.hide_with_table``, which hides a
    figure whose cell the table hides and what ``derived_leaks`` finds): a table stored by an older version
    only loses cells, never shows more."""
    t = D.stored_table(warehouse, "indicators", "sensitivity")
    if t is None or gated is None:
        return t
    from monitor_dagster.sensitivity import hide_with_table

    return hide_with_table(t, gated)


def context(table: pl.DataFrame | None) -> dict | None:
    """Rows for the report template: per alternative and headline figure the four cells (value, and the
    difference from the default in brackets), suppressed cells as the missing sign."""
    if table is None or not table.height:
        return None
    from monitor_dagster.choices import DEFAULT_LABELS

    rows = []
    keys = table.select("choice", "alternative", "label", "indicator_id", "measure", "headline", "unit").unique(
        maintain_order=True)
    from monitor_dagster.sensitivity import AFFECTS, family_ids

    moved = {c: family_ids(set(fams)) for c, fams in AFFECTS.items()}
    for k in keys.iter_rows(named=True):
        if k["choice"] != "default" and k["indicator_id"] not in moved.get(k["choice"], set()):
            continue     # a figure the choice cannot move is the default's: shown once, in the first block
        cells = table.filter((pl.col("choice") == k["choice"]) & (pl.col("alternative") == k["alternative"])
                             & (pl.col("indicator_id") == k["indicator_id"]) & (pl.col("measure") == k["measure"]))
        by = {r["herkomst"]: r for r in cells.iter_rows(named=True)}
        unit = "%" if k["unit"] == "%" else k["unit"]
        out = []
        for h in COLUMNS:
            r = by.get(h)
            if k["indicator_id"] == "N" and h.startswith("verschil"):
                out.append({"text": "n.v.t.", "diff": "", "suppressed": False})     # no gap of counts
                continue
            if r is None or r["value"] is None:
                out.append({"text": "–", "diff": "", "suppressed": r is not None})
                continue
            text = count(int(r["value"])) if k["indicator_id"] == "N" else fmt(r["value"], unit,
                                                                              signed=h.startswith("verschil"))
            diff = ""
            if k["choice"] != "default" and r["difference"] is not None and round(r["difference"], 2) != 0:
                diff = (count(int(r["difference"])) if k["indicator_id"] == "N"
                        else fmt(r["difference"], unit, signed=True))
                if k["indicator_id"] == "N" and r["difference"] > 0:
                    diff = "+" + diff
            out.append({"text": text, "diff": diff, "suppressed": False})
        block = (k["choice"], k["alternative"])
        rows.append({"default": k["choice"] == "default", "first": not rows or rows[-1]["_block"] != block,
                     "_block": block,
                     "choice": k["choice"], "label": "standaard" if k["choice"] == "default" else k["label"],
                     "default_label": DEFAULT_LABELS.get(k["choice"], ""),
                     "indicator": f"{k['indicator_id']} {k['headline']}", "unit": k["unit"], "cells": out})
    return {"year": int(table["year"][0]), "rows": rows, "columns": list(COLUMNS),
            "suppressed": int(table["suppressed"].sum())}
