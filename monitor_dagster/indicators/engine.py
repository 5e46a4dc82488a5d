"""One execution path for every indicator: a family's specs in, rows of the indicator table out (issue 11).

The Dagster asset of a family (``defs/indicators/assets.py``) loads the frames named in its specs' ``inputs``
and calls :func:`compute_family`; tests call the same function without Dagster.  Each distinct computing
function is called once (O11-O14 share one), with the frames its parameters name (spec ``inputs``), the year,
and extras it accepts (``observed_until``/``families`` of the inflow cohorts, report 3.2.1, 3.4).  Afterwards
every row gets the ``vintages`` of the releases *its* indicator rests on and, for ``provisional: sources``,
status ``voorlopig`` when one of them is part-year (DESIGN.md: provisional figures are marked, never hidden).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.indicators.table import COLUMNS, empty


@dataclass(frozen=True)
class Provenance:
    """The source releases behind one input (an asset and partition), and which of them are part-year."""
    releases: frozenset[str] = frozenset()
    provisional: frozenset[str] = frozenset()

    def __or__(self, other: "Provenance") -> "Provenance":
        return Provenance(self.releases | other.releases, self.provisional | other.provisional)


@dataclass
class FamilyResult:
    table: pl.DataFrame
    computed: list[str] = field(default_factory=list)
    not_computable: dict[str, str] = field(default_factory=dict)
    vintages: dict[str, str] = field(default_factory=dict)


def follow_up_extras(family: str, warehouse_root: Path | str) -> dict:
    """``observed_until`` (and ``families``) for the input indicator families, from the spell files' coverage
    (readiness.input_coverage); {} for other families."""
    from monitor_dagster.readiness import FOLLOW_UP_OF, input_coverage

    if family not in FOLLOW_UP_OF:
        return {}
    cov = {f: input_coverage(warehouse_root, f) for f in FOLLOW_UP_OF[family]}
    avail = tuple(f for f, c in cov.items() if c[0])
    if family == "inputs_gemeente":
        return {"observed_until": cov["bijstand"][1]}
    return {"observed_until": {f: cov[f][1] for f in avail}, "families": avail}


def compute_family(family: str, frames: dict[str, pl.LazyFrame | None], year: int, *,
                   provenance: dict[str, Provenance] | None = None, skip: dict[str, str] | None = None,
                   extra: dict | None = None) -> FamilyResult:
    """Rows of the indicator table of the family's indicators for ``year``.

    ``frames``: asset key (``core/population``, ``sources/EBBNW``) -> the frame of year t (None: absent);
    ``skip``: indicator -> reason it is not computable (readiness); ``provenance``: asset key -> releases."""
    provenance = provenance or {}
    skip = dict(skip or {})
    extra = extra or {}
    res = FamilyResult(empty())
    todo: dict[str, list[SPEC.IndicatorSpec]] = {}
    for s in SPEC.families()[family]:
        if year < (s.first_year or 0):
            continue
        absent = [k for k in s.inputs.values() if frames.get(k) is None]
        if s.id in skip or absent:
            res.not_computable[s.id] = skip.get(s.id) or "needs " + ", ".join(absent)
            continue
        todo.setdefault(s.function, []).append(s)
    parts = []
    for fn_name, group in todo.items():
        fn = group[0].load_function()
        params = inspect.signature(fn).parameters
        kwargs = {p: frames[k] for p, k in group[0].inputs.items() if p in params}
        kwargs.update({k: v for k, v in extra.items() if k in params})
        if "year" in params:
            kwargs["year"] = year
        rows = fn(**kwargs)
        ids = [s.id for s in group]
        parts.append(rows.filter(pl.col("indicator_id").is_in(ids)))
        res.computed += [i for i in ids if i in set(rows["indicator_id"].unique())]
    parts = [p for p in parts if p.height]
    if not parts:
        return res
    table = pl.concat(parts, how="vertical")
    vint_expr = pl.col("vintages")
    status_expr = pl.col("status")
    for s in SPEC.families()[family]:
        prov = Provenance()
        for k in s.inputs.values():
            prov = prov | provenance.get(k, Provenance())
        v = ",".join(sorted(prov.releases))
        res.vintages[s.id] = v
        is_s = pl.col("indicator_id") == s.id
        vint_expr = pl.when(is_s).then(pl.lit(v)).otherwise(vint_expr)
        if s.provisional == "sources" and prov.provisional:
            status_expr = pl.when(is_s).then(pl.lit("voorlopig")).otherwise(status_expr)
    res.table = table.with_columns(vint_expr.alias("vintages"), status_expr.alias("status")).select(COLUMNS)
    return res
