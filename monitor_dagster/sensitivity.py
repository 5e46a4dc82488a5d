"""How much the choices where the report is silent move the headline figures (issue 16, item 3).

For one year of a built warehouse the pipeline's own functions run once with the defaults and once per
alternative of :data:`choices.ALTERNATIVES` (one configuration object, no forked code): the core population
(:func:`core.population.population` with the choice's keyword arguments) and the indicator families through
the one execution path (:func:`indicators.engine.compute_family` with the choices in ``extra``).  Only the
families a choice can move are recomputed; the others keep the default figures.

The table holds, per alternative and headline indicator, the figure for totaal, niet-westers and geen
migratieachtergrond, the gap (niet-westers minus geen migratieachtergrond) and the difference from the
default.  Disclosure (docs/disclosure.md: no cell on fewer than 10 persons, no cell derivable from others): a cell on
fewer than 10 persons is suppressed, and so is an alternative's cell whose person count differs from the
default's by 1 to 9 (the difference of two published cells would describe those few persons); EBB cells
follow the EBB rule (at least 15,000 weighted and 10 unweighted observations, report 4.1).

Plain polars, no Dagster: the asset ``indicators/sensitivity`` and ``monitor sensitivity`` call :func:`compute`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import polars as pl

from monitor_dagster.choices import ALTERNATIVES, DEFAULT, MethodChoices, alternative
from monitor_dagster.core import population as POP
from monitor_dagster.core.inputs import CORE_INPUTS, SourceInput
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators.register import base_population
from monitor_dagster.indicators.table import DIMENSIONS
from monitor_dagster.warehouse import Warehouse, WarehouseMissing

#: the headline figures: (indicator, measure) -> label; N is the population the register indicators describe
HEADLINES: dict[tuple[str, str], str] = {
    ("N", "personen"): "populatie (15 tot AOW-leeftijd, zonder studenten en gepensioneerden)",
    ("O01", "O01"): "werkloosheid (EBB)",
    ("O04", "vast contract"): "vast contract",
    ("O05", "zzp"): "zzp'er",
    ("O08", "uurloon"): "uurloon",
    ("O10", "1"): "één baan",
    ("O11", "WW"): "met WW",
    ("O12", "bijstand"): "met bijstand",
}
#: the families behind the headline figures
FAMILIES = ("contracts_hours", "secm", "ebb")
#: what a choice can move: the population (and so every register family) or one family
AFFECTS: dict[str, tuple[str, ...]] = {
    "student_rule": ("N", "contracts_hours", "secm"), "address_gap_days": ("N", "contracts_hours", "secm"),
    "short_stay": ("N", "contracts_hours", "secm"), "five_years": ("N", "contracts_hours", "secm"),
    "student_source": ("N", "contracts_hours", "secm"),
    "substantial": ("contracts_hours",), "o04_tie": ("contracts_hours",),
    "o05_denominator": ("secm",), "o05_tie": ("secm",), "ebb_classification": ("ebb",),
    "ebb_unemployed": ("ebb",),
}
HERKOMST = ("totaal", "niet-westers", "geen migratieachtergrond")
GAP = "verschil niet-westers - geen"
MIN_N = 10
EBB_MIN_WEIGHTED = 15_000
#: the EBB's headline figures: weighted survey rows, under the EBB rule (report 4.1)
EBB_IDS = ["O01", "O02", "O03"]
SCHEMA = {"year": pl.Int32, "choice": pl.String, "alternative": pl.String, "label": pl.String,
          "indicator_id": pl.String, "measure": pl.String, "headline": pl.String, "unit": pl.String,
          "herkomst": pl.String, "value": pl.Float64, "n": pl.Int64, "default_value": pl.Float64,
          "difference": pl.Float64, "suppressed": pl.Boolean, "reason": pl.String}


def _read(w: Warehouse, entry: str, part: str) -> pl.LazyFrame | None:
    try:
        return w.read(entry, part)
    except WarehouseMissing:
        return None


def population_inputs(warehouse_root: Path | str, year: int) -> dict[str, pl.LazyFrame | None]:
    """The source frames core/population reads for ``year`` (core/inputs.py), as its asset loads them (a release
    that does not cover t-1 where it must, readiness.prev_year_gap, as absent)."""
    from monitor_dagster.readiness import _Manifests, population_gaps

    w = Warehouse(warehouse_root)
    gaps = population_gaps(_Manifests(warehouse_root), year)
    out: dict[str, pl.LazyFrame | None] = {}
    for param, inp in CORE_INPUTS["population"][1].items():
        assert isinstance(inp, SourceInput)
        if param in gaps:
            out[param] = None
        elif inp.window == "latest":
            latest = _read(w, inp.entry, "latest")
            out[param] = latest if latest is not None else _read(w, inp.entry, "all")
        elif inp.window == "year":
            out[param] = _read(w, inp.entry, str(year))
        else:   # prev_and_year (enrolment: 1 October t-1 and t, as the asset concatenates them)
            parts = [f for f in (_read(w, inp.entry, str(year - 1)), _read(w, inp.entry, str(year))) if f is not None]
            out[param] = pl.concat(parts, how="diagonal_relaxed") if parts else None
    return out


def headline_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The headline cells of an indicator table: the year's figure (no quarter), every other dimension totaal."""
    if not table.height:
        return pl.DataFrame(schema={"indicator_id": pl.String, "measure": pl.String, "unit": pl.String,
                                    "herkomst": pl.String, "value": pl.Float64, "n": pl.Int64,
                                    "n_weighted": pl.Float64})
    others = [c for c in DIMENSIONS if c != "herkomst" and c in table.columns]
    keep = pl.lit(False)
    for iid, measure in HEADLINES:
        keep = keep | ((pl.col("indicator_id") == iid) & (pl.col("measure") == measure))
    t = table.filter(keep & pl.col("herkomst").is_in(HERKOMST))
    for c in others:
        t = t.filter(pl.col(c) == "totaal")
    return t.select("indicator_id", "measure", "unit", "herkomst", "value", pl.col("n").cast(pl.Int64),
                    pl.col("n_weighted").cast(pl.Float64))


def _population_n(pop: pl.LazyFrame, choices: MethodChoices) -> pl.DataFrame:
    """N: the persons of the base population (report 2.1/2.2) per herkomst aggregate, after the choices."""
    base = base_population(choices.analysis_population(pop))
    counts = base.group_by(pl.col("herkomst_aggregate").cast(pl.String).alias("agg"),
                           pl.col("herkomst_group").cast(pl.String).alias("grp")).agg(pl.len().alias("n")).collect()
    rows = [("totaal", int(counts["n"].sum()))]
    rows.append(("niet-westers", int(counts.filter(pl.col("agg") == "niet-westers")["n"].sum())))
    rows.append(("geen migratieachtergrond", int(counts.filter(pl.col("grp") == "geen migratieachtergrond")["n"].sum())))
    return pl.DataFrame({"indicator_id": "N", "measure": "personen", "unit": "personen",
                         "herkomst": [h for h, _ in rows], "value": [float(n) for _, n in rows],
                         "n": [n for _, n in rows], "n_weighted": [float(n) for _, n in rows]},
                        schema_overrides={"n": pl.Int64})


def _scenario(warehouse_root: Path, year: int, choices: MethodChoices, pop_inputs: dict, families: tuple[str, ...],
              scratch: Path, secm_until: int | None, progress: Callable[[str], None]) -> pl.DataFrame:
    """The headline rows of one configuration: the population rebuilt with its choices, then the families."""
    parts: list[pl.DataFrame] = []
    needs_population = "N" in families or any(f != "ebb" for f in families)
    pop = None
    if needs_population:
        secm_last = year - 1 if choices.student_source == "enrolment" else secm_until
        lf = POP.population(year, **pop_inputs, secm_last_year=secm_last, **choices.population_kwargs())
        path = scratch / f"population_{len(list(scratch.iterdir()))}.parquet"
        lf.sink_parquet(path)                       # streamed: the population is not held in memory
        pop = pl.scan_parquet(path)
    if "N" in families and pop is not None:
        parts.append(_population_n(pop, choices))
    for fam in families:
        if fam == "N":
            continue
        frames = ENG.warehouse_frames(warehouse_root, fam, year)
        if pop is not None and "core/population" in frames:
            frames["core/population"] = pop
        res = ENG.compute_family(fam, frames, year, extra={"method": str(choices), "quarterly": False,
                                                           "covariates": False})
        parts.append(headline_rows(res.table))
        progress(f"sensitivity {year}: {fam} with {str(choices) or 'the defaults'}")
    parts = [p for p in parts if p.height]
    return pl.concat(parts, how="vertical_relaxed") if parts else headline_rows(pl.DataFrame())


def _with_gap(rows: pl.DataFrame) -> pl.DataFrame:
    """Adds the gap row (niet-westers minus geen migratieachtergrond) per indicator; not for N."""
    w = rows.filter(pl.col("indicator_id") != "N").pivot(
        on="herkomst", index=["indicator_id", "measure", "unit"], values=["value", "n", "n_weighted"])
    need = {"value_niet-westers", "value_geen migratieachtergrond"}
    if not w.height or not need <= set(w.columns):
        return rows
    gap = w.select("indicator_id", "measure", "unit", pl.lit(GAP).alias("herkomst"),
                   (pl.col("value_niet-westers") - pl.col("value_geen migratieachtergrond")).alias("value"),
                   pl.min_horizontal("n_niet-westers", "n_geen migratieachtergrond").cast(pl.Int64).alias("n"),
                   pl.min_horizontal("n_weighted_niet-westers", "n_weighted_geen migratieachtergrond").alias("n_weighted"))
    return pl.concat([rows, gap], how="vertical_relaxed")


def compute(warehouse_root: Path | str, year: int, *, alternatives=ALTERNATIVES, families: tuple[str, ...] = FAMILIES,
            progress: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The sensitivity table of ``year`` (columns :data:`SCHEMA`): the defaults (``choice`` = ``default``)
    and every alternative, gated for disclosure.  Needs core/job_months, core/secm_months and the population
    sources of ``year`` in the warehouse (EBB: the EBB file of the year, else its rows are absent)."""
    root = Path(warehouse_root)
    progress = progress or (lambda _m: None)
    pop_inputs = population_inputs(root, year)
    for need in ("addresses", "secm", "gba"):
        if pop_inputs.get(need) is None:
            raise ValueError(f"sensitivity {year}: the warehouse lacks the source {CORE_INPUTS['population'][1][need].entry} "
                             "that the population needs")
    from monitor_dagster.readiness import _Manifests

    secm_until = _Manifests(root).secm_period()
    if secm_until is not None and secm_until < year:
        raise ValueError(f"sensitivity {year}: SECMBUS covers up to {secm_until}; choose a year SECM covers "
                         "(the alternatives are compared with the SECM-based default)")
    with tempfile.TemporaryDirectory(prefix="monitor-sensitivity-") as tmp:
        scratch = Path(tmp)
        default = _with_gap(_scenario(root, year, DEFAULT, pop_inputs, ("N", *families), scratch, secm_until, progress))
        out = [default.with_columns(pl.lit("default").alias("choice"), pl.lit("").alias("alternative"),
                                    pl.lit("standaard").alias("label"))]
        for choice, value, label in alternatives:
            ch = alternative(choice, value)
            fams = tuple(f for f in AFFECTS[choice] if f == "N" or f in families)
            if not fams:
                continue
            rows = _with_gap(_scenario(root, year, ch, pop_inputs, fams, scratch, secm_until, progress))
            ids = family_ids(set(fams))
            rows = pl.concat([rows, default.filter(~pl.col("indicator_id").is_in(list(ids)))], how="vertical_relaxed")
            out.append(rows.with_columns(pl.lit(choice).alias("choice"), pl.lit(str(value)).alias("alternative"),
                                         pl.lit(label).alias("label")))
    table = pl.concat(out, how="vertical_relaxed")
    return _gate(table, default, year)


#: what the sensitivity table of a year rests on: when none of these changed, the stored table stands
FINGERPRINT_INPUTS = (("core", "population"), ("core", "job_months"), ("core", "secm_months"),
                      ("indicators", "contracts_hours"), ("indicators", "secm"), ("indicators", "ebb"),
                      ("sources", "EBBNW"))


def fingerprint(warehouse_root: Path | str, year: int) -> str:
    """A hash of the data behind the table of ``year`` (the checksums of the year's core tables, family tables
    and EBB file, which change with the sources and with the code's rules) and of the alternatives asked."""
    import hashlib

    parts = [str(year), repr(ALTERNATIVES), repr(sorted(AFFECTS.items()))]
    for layer, name in FINGERPRINT_INPUTS:
        m = Warehouse(warehouse_root, layer=layer).manifest(name, str(year)) or {}
        parts.append(f"{layer}/{name}:{m.get('data_sha256') or m.get('sha256') or ''}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def family_ids(families: set[str]) -> set[str]:
    from monitor_dagster.indicators import spec as SPEC

    ids = {"N"} if "N" in families else set()
    for f in families - {"N"}:
        ids |= {s.id for s in SPEC.families().get(f, [])}
    return ids


def hide_with_table(table: pl.DataFrame, gated: pl.DataFrame | None) -> pl.DataFrame:
    """The sensitivity table with every row hidden (all choices) whose default cell the gated indicator table
    hides (same indicator, year, measure and herkomst, every breakdown totaal): the default row is that cell, and
    an alternative's value minus its difference gives it back; the gap of such a row goes too.  Found in the demo
    (December 2026): O10 "1" of niet-westers shown here while the table hid it, next to its categories."""
    if gated is None or table.height == 0 or gated.height == 0:
        return hide_derived(table)
    from monitor_dagster.indicators.table import hidden_totals

    hidden = hidden_totals(gated)
    # N is no cell of the indicator table, but it is the n of O11 (the whole base population, report 3e)
    same = [hidden.filter((pl.col("indicator_id") == cell[0]) & (pl.col("measure") == cell[1]))
            .with_columns(pl.lit(row[0]).alias("indicator_id"), pl.lit(row[1]).alias("measure"))
            for row, cell in SAME_PERSONS.items()]
    hidden = pl.concat([hidden, *same]).unique().with_columns(pl.lit(True).alias("_main_hidden"))
    t = table.join(hidden, on=["indicator_id", "year", "measure", "herkomst"], how="left")
    gone = pl.col("_main_hidden").fill_null(False) & ~pl.col("suppressed")
    gap_gone = (t.filter(pl.col("_main_hidden").fill_null(False)).select("indicator_id", "year", "measure").unique()
                .with_columns(pl.lit(True).alias("_gap_gone")))
    t = t.join(gap_gone, on=["indicator_id", "year", "measure"], how="left")
    gone = gone | ((pl.col("herkomst") == GAP) & pl.col("_gap_gone").fill_null(False) & ~pl.col("suppressed"))
    # what is left must not give a hidden default back, nor a rest of 1-9 persons (derived_leaks)
    return hide_derived(_hide(t, gone, pl.lit("hidden in the indicator table")).select(table.columns))


#: rows of this table that count the persons of an indicator table cell: hidden with it (hide_with_table)
SAME_PERSONS = {("N", "personen"): ("O11", "WW")}
#: the parts of totaal the table publishes; westers (the third) never is, so it is always one unknown
PARTS = HERKOMST[1:]
_GROUP = ["choice", "alternative", "indicator_id", "measure"]
_CELL = ["indicator_id", "measure", "herkomst"]


def _deltas(t: pl.DataFrame) -> pl.DataFrame:
    """Each row with its difference from the published default row of its cell in persons (``_dn``) and, for a
    share outside the EBB, in persons with the property (``_dk``, value x n / 100); ``_dn0`` null where the
    default row is not published."""
    d = t.filter((pl.col("choice") == "default") & ~pl.col("suppressed")).select(
        *_CELL, pl.col("n").alias("_dn0"), pl.col("value").alias("_dv0"))
    share = (pl.col("unit") == "%") & ~pl.col("indicator_id").is_in(EBB_IDS)
    return t.join(d, on=_CELL, how="left").with_columns(
        (pl.col("n") - pl.col("_dn0")).alias("_dn"),
        pl.when(share).then(((pl.col("value") * pl.col("n") - pl.col("_dv0") * pl.col("_dn0")) / 100).round(0))
        .alias("_dk"))


def derived_leaks(table: pl.DataFrame) -> pl.DataFrame:
    """Published rows of an alternative that tell about fewer than 10 persons together with others: (1) its
    default row is not published (value minus difference gives it back); (2) totaal = niet-westers + westers +
    geen migratieachtergrond, and westers is never published: totaal's difference minus those of the published
    parts is the difference of the rest, which must not be 1-9 persons (in the population, or in a share's
    persons with the property).  For (2) the row returned is the smallest published part (hiding it closes the
    equation; totaal alone is checked by the cell rule).  Columns: ``_i`` (row), ``why``.  Found in the demo
    (December 2026): "student/gepensioneerde al na één dag" showed N totaal -32 and geen -26, so 6 persons with a
    migration background moved."""
    t = _deltas(table.with_row_index("_i"))
    alt, shown, gap = pl.col("choice") != "default", ~pl.col("suppressed"), pl.col("herkomst") == GAP
    no_default = t.filter(alt & shown & ~gap & pl.col("_dn0").is_null()).select(
        "_i", pl.lit("its default is not published (the value minus the difference gives it back)").alias("why"))
    live = t.filter(alt & shown & ~gap & pl.col("_dn0").is_not_null())
    tot = live.filter(pl.col("herkomst") == "totaal").select(*_GROUP, pl.col("_dn").alias("_tn"),
                                                             pl.col("_dk").alias("_tk"))
    parts = (live.filter(pl.col("herkomst").is_in(PARTS)).sort("n", "herkomst")
             .group_by(_GROUP).agg(pl.col("_dn").sum().alias("_pn"), pl.col("_dk").sum().alias("_pk"),
                                   pl.col("_dk").null_count().alias("_k_null"), pl.col("_i").first().alias("_small")))
    rest = tot.join(parts, on=_GROUP, how="inner").with_columns(
        (pl.col("_tn") - pl.col("_pn")).abs().alias("_rn"),
        pl.when(pl.col("_tk").is_not_null() & (pl.col("_k_null") == 0)).then((pl.col("_tk") - pl.col("_pk")).abs())
        .alias("_rk"))
    small = rest.filter(pl.col("_rn").is_between(1, MIN_N - 1) | pl.col("_rk").is_between(1, MIN_N - 1)).select(
        pl.col("_small").alias("_i"),
        pl.format("with totaal and the other published part it tells about {} persons (the rest of totaal)",
                  pl.when(pl.col("_rn").is_between(1, MIN_N - 1)).then(pl.col("_rn")).otherwise(pl.col("_rk"))
                  .cast(pl.Int64)).alias("why"))
    return pl.concat([no_default, small]).unique("_i", keep="first").sort("_i")


def hide_derived(table: pl.DataFrame) -> pl.DataFrame:
    """The table with the rows of :func:`derived_leaks` hidden, until there are none, and every gap whose part
    went hidden with them."""
    t = table
    while True:
        leaks = derived_leaks(t)
        if leaks.height == 0:
            break
        t = _hide(t.with_row_index("_i").join(leaks, on="_i", how="left"), pl.col("why").is_not_null(),
                  pl.col("why")).select(table.columns)
    hidden_part = (t.filter(pl.col("herkomst").is_in(PARTS) & pl.col("suppressed")).select(_GROUP).unique()
                   .with_columns(pl.lit(True).alias("_part_gone")))
    t = t.join(hidden_part, on=_GROUP, how="left")
    return _hide(t, (pl.col("herkomst") == GAP) & pl.col("_part_gone").fill_null(False),
                 pl.lit("a part of the difference is not published")).select(table.columns)


def _hide(t: pl.DataFrame, mask: pl.Expr, reason: pl.Expr) -> pl.DataFrame:
    """Rows of ``mask`` not hidden yet: hidden with ``reason``, their value, difference and n emptied."""
    gone = mask & ~pl.col("suppressed")
    return t.with_columns(pl.when(gone).then(reason).otherwise(pl.col("reason")).alias("reason"),
                          *[pl.when(gone).then(None).otherwise(pl.col(c)).alias(c) for c in ("value", "difference", "n")],
                          (pl.col("suppressed") | gone).alias("suppressed"))


def stored_table(warehouse_root: Path | str) -> pl.DataFrame | None:
    """The gated indicator table of the warehouse, None when it has none."""
    w = Warehouse(warehouse_root, layer="indicators")
    return w.read("indicator_table", "all").collect() if w.manifest("indicator_table", "all") is not None else None


def _gate(table: pl.DataFrame, default: pl.DataFrame, year: int) -> pl.DataFrame:
    """Disclosure: fewer than 10 persons; an alternative differing from the default by 1-9 persons; EBB rule."""
    d = default.select("indicator_id", "measure", "herkomst", pl.col("value").alias("default_value"),
                       pl.col("n").alias("_n_default"))
    t = table.join(d, on=["indicator_id", "measure", "herkomst"], how="left")
    ebb = pl.col("indicator_id").is_in(EBB_IDS)
    dn = (pl.col("n") - pl.col("_n_default")).abs()
    # a share's persons with the property (value x n / 100): an alternative that moves 1-9 of them tells about
    # those few persons even when the denominator stayed the same (e.g. the persons with tied basic hours)
    share = pl.col("unit") == "%"
    dk = ((pl.col("value") * pl.col("n") - pl.col("default_value") * pl.col("_n_default")) / 100).abs().round(0)
    alt = pl.col("choice") != "default"
    reason = (pl.when(pl.col("n") < MIN_N).then(pl.lit("fewer than 10 persons"))
              .when(ebb & (pl.col("n_weighted") < EBB_MIN_WEIGHTED)).then(pl.lit("EBB: fewer than 15,000 weighted"))
              .when(alt & (dn > 0) & (dn < MIN_N))
              .then(pl.lit("differs from the default by fewer than 10 persons"))
              .when(alt & share & ~ebb & (dk > 0) & (dk < MIN_N))
              .then(pl.lit("moves fewer than 10 persons in or out of the share")))
    # the gap is a difference of two published cells: hidden exactly when one of them is (its own value and
    # n say nothing about persons that the two cells do not say already): hide_derived does that
    t = t.with_columns(pl.when(pl.col("herkomst") != GAP).then(reason).alias("reason"))
    sup = pl.col("reason").is_not_null()
    headline = pl.struct("indicator_id", "measure").map_elements(
        lambda s: HEADLINES.get((s["indicator_id"], s["measure"]), ""), return_dtype=pl.String)
    return hide_derived(t.with_columns(
                pl.lit(year).cast(pl.Int32).alias("year"),
                sup.alias("suppressed"),
                pl.when(sup).then(None).otherwise(pl.col("value")).alias("value"),
                pl.when(sup).then(None).otherwise(pl.col("value") - pl.col("default_value")).alias("difference"),
                pl.when(sup).then(None).otherwise(pl.col("n")).alias("n"),
                headline.alias("headline"))
            .select(list(SCHEMA)).cast(SCHEMA))
