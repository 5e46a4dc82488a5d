"""Research question 5 on the warehouse (issue 20; technisch rapport Monitor gelijke kansen, hfd. 6 and §7.2.3):
the ingested Jobfeed file of a year -> the matcher with a versioned strategy -> V01-V05 as rows of the
indicator table.  No Dagster here (defs/indicators/vacancies.py is the asset); docs/vacancies.md, "Pipeline".

Mapping onto the table (indicators/table.py): herkomst and the person dimensions are ``totaal`` (vacancies
have no origin); V02 fills ``regio`` (AM code), V03 ``sector`` (SBI letter), both with a ``totaal`` row (= V01)
so the cube of the expectations gate is complete; ``measure`` is the category, followed by the split for
markt / overheid / rijk (``stage rijk``).  ``vintages`` names the release and the strategy version
(``JOBFEED2022V1,strategie_v1``; with labels also the label release), so two versions are never mixed
unknowingly.  The corrected count and its interval stay in the family table (:data:`EXTRA`): the indicator
table has no interval columns; the publication reads them from there."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from monitor_dagster.vacancies.indicators import FIRST_YEAR, compute_indicators
from monitor_dagster.vacancies.strategy import CATEGORIES

ENTRY = "JOBFEED"
#: the analysts' labels of a year's validation sample (a filled copy of the exported sample file)
LABEL_ENTRY = "JOBFEEDLABELS"
SPLITS = ("markt", "overheid", "rijk")
UNITS = {"V01": "aantal", "V02": "aantal", "V03": "aantal", "V04": "%", "V05": "index"}
#: the family table's columns beyond the indicator table's (the publication's)
EXTRA = {"corrected_value": pl.Float64, "lo": pl.Float64, "hi": pl.Float64, "strategy_version": pl.Int32,
         "precision": pl.Float64, "recall": pl.Float64}
#: warehouse layer of the validation samples (CSV files the analysts fill)
SAMPLE_LAYER = "vacancies"
#: sample sizes per category and stratum (docs/vacancies.md, "Validation")
SAMPLE_SIZES = {"n_match": 100, "n_bijna": 100, "n_rest": 200}


def measures(indicator_id: str) -> list[str]:
    """The measures of an indicator in the table: the category, and for V01, V04 and V05 also per split."""
    if indicator_id in ("V02", "V03"):
        return list(CATEGORIES)
    return [*CATEGORIES, *[f"{c} {s}" for c in CATEGORIES for s in SPLITS]]


def _date(col: str) -> pl.Expr:
    """A date the catalog keeps as text: ``YYYY-MM-DD`` from a CSV export, ``YYYYMMDD`` when the landed file
    held a real date (parquet, .sav: the ingest writes a date column as CBS date text)."""
    s = pl.col(col).cast(pl.String)
    return pl.coalesce(s.str.to_date("%Y-%m-%d", strict=False), s.str.to_date("%Y%m%d", strict=False)).alias(col)


def typed(raw: pl.DataFrame) -> pl.DataFrame:
    """The ingested frame (the catalog keeps dates as text) in the types of vacancies/schema.py."""
    out = raw.with_columns(_date("datum_gevonden"), _date("datum_vervallen"))
    bad = raw.filter(pl.col("datum_gevonden").is_not_null() & out["datum_gevonden"].is_null())
    if bad.height:
        raise ValueError(f"JOBFEED: column datum_gevonden: {bad.height} value(s) not a date YYYY-MM-DD or YYYYMMDD "
                         f"(e.g. {bad['datum_gevonden'][0]!r})")
    return out.with_columns(pl.col(c).cast(pl.String) for c in ("overheidslaag", "regio", "sector", "contract",
                                                                   "titel", "tekst", "vacature_id"))


def to_table_rows(ind: pl.DataFrame, vintages: str) -> pl.DataFrame:
    """compute_indicators' long frame -> indicator-table rows with :data:`EXTRA` (module docstring)."""
    from monitor_dagster.indicators import table as T

    v01_tot = ind.filter((pl.col("indicator_id") == "V01") & (pl.col("split") == "totaal"))
    tot = pl.concat([v01_tot.with_columns(indicator_id=pl.lit(i)) for i in ("V02", "V03")])
    ind = pl.concat([ind, tot.select(ind.columns)])
    general = pl.col("indicator_id").is_in(["V01", "V04", "V05"])
    measure = (pl.when(general & (pl.col("split") != "totaal"))
               .then(pl.concat_str([pl.col("categorie"), pl.lit(" "), pl.col("split")]))
               .otherwise(pl.col("categorie")))
    dims = {d: pl.lit(T.TOTAAL).alias(d) for d in T.DIMENSIONS}
    dims["regio"] = (pl.when(pl.col("indicator_id") == "V02").then(pl.col("split"))
                     .otherwise(pl.lit(T.TOTAAL)).alias("regio"))
    dims["sector"] = (pl.when(pl.col("indicator_id") == "V03").then(pl.col("split"))
                      .otherwise(pl.lit(T.TOTAAL)).alias("sector"))
    out = ind.select(
        pl.col("indicator_id"), pl.col("year").cast(pl.Int32), *dims.values(), pl.lit(T.GEEN).alias(T.CORRECTIE),
        measure.alias("measure"), pl.col("value"), pl.col("indicator_id").replace_strict(UNITS).alias("unit"),
        pl.col("n").cast(pl.Int64), pl.lit(None, pl.Float64).alias("n_weighted"), pl.lit("definitief").alias("status"),
        # counts of public vacancies, not of persons: no suppression (docs/vacancies.md, "Disclosure")
        pl.lit(False).alias("suppressed"), pl.lit(None, pl.String).alias("trend_break"),
        pl.lit(vintages).alias("vintages"), *[pl.col(c) for c in ("corrected_value", "lo", "hi", "strategy_version")],
        *[(pl.col(c) if c in ind.columns else pl.lit(None, pl.Float64)).alias(c) for c in ("precision", "recall")])
    # V04 of a split without internship vacancies has no value: not a row (a share of nothing)
    out = out.filter(pl.col("value").is_not_null())
    return out.select([*T.COLUMNS, *EXTRA]).cast({**T.SCHEMA, **EXTRA})


def empty() -> pl.DataFrame:
    from monitor_dagster.indicators import table as T
    return pl.DataFrame(schema={**T.SCHEMA, **EXTRA})


def _match_year(src, year: int, strategy, workers: int | None):
    from monitor_dagster.vacancies.match import match_frame

    vac = typed(src.read(ENTRY, str(year)).collect())
    return vac, match_frame(vac, strategy, workers=workers)


def _estimates(src, year: int, vac: pl.DataFrame, matches: pl.DataFrame, strategy_version: int, seed: int):
    """The validation estimate of ``year`` from the labels in the warehouse (None without labels).  The labels
    must be of this year's sample under this strategy version: the sample is drawn again (deterministic in
    seed) and every label row must belong to it; a wrong version or a missing row is a failure naming the
    row."""
    from monitor_dagster.vacancies.validation import LabelFileError, draw_sample, estimate

    man = src.manifest(LABEL_ENTRY, str(year))
    if man is None:
        return None, None
    labels = src.read(LABEL_ENTRY, str(year)).collect()
    wrong = labels.with_row_index("_row", 1).filter(pl.col("strategy_version").cast(pl.Int32) != strategy_version)
    if wrong.height:
        r = wrong.row(0, named=True)
        raise LabelFileError(f"{man['release_id']}: row {r['_row']}: column strategy_version: labels of version "
                             f"{r['strategy_version']}, the indicators use version {strategy_version} (label the "
                             "sample of this version)")
    sample = draw_sample(vac, matches, seed=seed, **SAMPLE_SIZES)
    keys = ["vacature_id", "categorie"]
    lab = labels.select(pl.col("vacature_id").cast(pl.String), pl.col("categorie").cast(pl.String),
                        pl.col("label").cast(pl.String).str.strip_chars().str.to_lowercase()).with_row_index("_row", 1)
    extra = lab.join(sample.select(keys), on=keys, how="anti")
    missing = sample.select(keys).join(lab, on=keys, how="anti")
    problems = [f"row {r}: vacature_id {v!r} with categorie {c!r} is not in the sample of {year}"
                for r, v, c, _ in extra.head(10).iter_rows()]
    problems += [f"sample row vacature_id {v!r} categorie {c!r} is missing" for v, c in missing.head(10).iter_rows()]
    if problems:
        raise LabelFileError(f"{man['release_id']}: {len(extra) + len(missing)} problem(s):\n  " + "\n  ".join(problems))
    labelled = sample.drop("label").join(lab.drop("_row"), on=keys, how="left")
    return estimate(labelled).with_columns(year=pl.lit(year, pl.Int32)), man["release_id"]


def _file_key(frame: pl.DataFrame, year: int) -> pl.DataFrame:
    """``vacature_id`` prefixed with the year of its file, so ids of two yearly files cannot meet."""
    return frame.with_columns(pl.concat_str(pl.lit(f"{year}/"), pl.col("vacature_id").cast(pl.String)).alias("vacature_id"))


def compute_year(warehouse, year: int, *, strategy_version: int = 1, workers: int | None = None,
                 seed: int = 1, write_sample: bool = True) -> tuple[pl.DataFrame, dict]:
    """V01-V05 of ``year`` (report hfd. 6, research question 5): the table rows (with :data:`EXTRA`) and metadata;
    empty when JOBFEED ``year`` is not in the warehouse.  V05 needs the places of 2021: matched again from JOBFEED 2021 (the same strategy version).
    ``write_sample``: the validation sample of the year as a CSV in the warehouse (layer :data:`SAMPLE_LAYER`,
    ``validation_sample_<year>_v<version>.csv``) for the analysts to label."""
    from monitor_dagster.vacancies.strategy import load_strategy
    from monitor_dagster.vacancies.validation import draw_sample, export_sample
    from monitor_dagster.warehouse import Warehouse

    src = Warehouse(warehouse)
    man = src.manifest(ENTRY, str(year))
    if man is None or year < FIRST_YEAR:
        return empty(), {}
    strategy = load_strategy(version=strategy_version)
    vac, matches = _match_year(src, year, strategy, workers)
    est, label_release = _estimates(src, year, vac, matches, strategy.version, seed)
    vintages = ",".join(x for x in (man["release_id"], label_release, f"strategie_v{strategy.version}") if x)
    parts_v, parts_m = [vac], [matches]
    base_release = None
    if year > FIRST_YEAR:
        bman = src.manifest(ENTRY, str(FIRST_YEAR))
        if bman is not None:
            bv, bm = _match_year(src, FIRST_YEAR, strategy, workers)
            # the vendor's id is unique within a file: the same id in the 2021 file is another vacancy (and
            # the indicators' one row per vacancy needs distinct keys; the pivot failed on a repeated id)
            parts_v, parts_m = ([_file_key(f, y) for f, y in ((vac, year), (bv, FIRST_YEAR))],
                                [_file_key(f, y) for f, y in ((matches, year), (bm, FIRST_YEAR))])
            base_release = bman["release_id"]
    ind = compute_indicators(pl.concat(parts_v, how="diagonal_relaxed"), pl.concat(parts_m), est)
    ind = ind.filter(pl.col("year") == year)
    if est is not None:     # the validation's precision and recall of the category, on each of its rows
        ind = ind.join(est.select("categorie", "precision", "recall"), on="categorie", how="left")
    if base_release:
        vintages = f"{vintages},{base_release}"
    rows = to_table_rows(ind, vintages)
    meta = {"release": man["release_id"], "vacancies": vac.height, "strategy_version": strategy.version,
            "strategy_date": str(strategy.date), "labels": label_release or "none",
            "places": {c: int(matches.filter((pl.col("categorie") == c) & pl.col("matched")).height)
                       for c in CATEGORIES}}
    if est is not None:
        meta["validation"] = {r["categorie"]: {k: (None if r[k] != r[k] else round(float(r[k]), 3))
                                               for k in ("precision", "recall", "corrected", "corrected_lo",
                                                         "corrected_hi")}
                              for r in est.iter_rows(named=True)}
    if write_sample:
        path = Path(warehouse) / SAMPLE_LAYER / f"validation_sample_{year}_v{strategy.version}.csv"
        export_sample(draw_sample(vac, matches, seed=seed, **SAMPLE_SIZES), path)
        meta["sample"] = str(path)
    return rows, meta
