"""Indicators of research question 5 (technisch rapport Monitor gelijke kansen, hfd. 6: "Hoeveel stage- en
werkervaringsplekken in zowel de marktsector als de overheidssector op rijksniveau zijn vanaf 2021 beschikbaar
voor inburgeringsplichtigen?").  Pure polars, no Dagster.

A *place* is a vacancy the strategy matched in a category, counted in the year it was first found online
(``datum_gevonden``).  Ids and definitions (docs/vacancies.md, "Indicators"):

* V01 places per year and category: ``totaal``, ``markt`` (no overheidslaag), ``overheid`` (every level) and
  ``rijk`` apart (the report's "overheidssector op rijksniveau"; rijk is part of overheid).
* V02 the same by arbeidsmarktregio (split = AM01..AM35), V03 by sector (split = SBI section letter).
* V04 share (%) of all internship vacancies (contract ``stage`` or a stage word in title or text) that the
  category matched; totaal / markt / overheid / rijk.
* V05 trend: places as an index, 2021 = 100 (the first year of the question); totaal / markt / overheid / rijk.

``corrected_value``, ``lo``, ``hi``: with a validation estimate (validation.estimate) the count times the
category's factor precision / recall and its interval, the same factor for every split and year it was not
estimated separately for (an assumption docs/vacancies.md names); null without an estimate."""

from __future__ import annotations

import polars as pl

FIRST_YEAR = 2021
OUTPUT = {"indicator_id": pl.String, "year": pl.Int32, "categorie": pl.String, "split": pl.String,
          "value": pl.Float64, "n": pl.Int64, "corrected_value": pl.Float64, "lo": pl.Float64, "hi": pl.Float64,
          "strategy_version": pl.Int32}
_STAGE_TITLE = r"\b(stage|stages|stageplaats\w*|stageplek\w*|stagiair\w*|\w+stage|\w+stages)\b"
_STAGE_TEXT = r"\b(stageplaats\w*|stageplek\w*|snuffelstage|meewerkstage|afstudeerstage|werkstage)\b"


def is_internship_expr() -> pl.Expr:
    """An internship vacancy: contract ``stage``, a stage word in the title, or a stage-place word in the text."""
    return ((pl.col("contract") == "stage")
            | pl.col("titel").fill_null("").str.to_lowercase().str.contains(_STAGE_TITLE)
            | pl.col("tekst").fill_null("").str.to_lowercase().str.contains(_STAGE_TEXT))


def _sector_splits(df: pl.DataFrame) -> pl.DataFrame:
    """One row per vacancy and general split it belongs to (totaal, markt or overheid, rijk)."""
    base = df.with_columns(
        pl.when(pl.col("overheidslaag").is_null()).then(pl.lit("markt")).otherwise(pl.lit("overheid")).alias("_mo"))
    return pl.concat([
        base.with_columns(split=pl.lit("totaal")),
        base.with_columns(split=pl.col("_mo")),
        base.filter(pl.col("overheidslaag") == "rijk").with_columns(split=pl.lit("rijk")),
    ]).drop("_mo")


def _counts(long: pl.DataFrame, key: str | None, iid: str) -> pl.DataFrame:
    """Places per (year, categorie, split); ``n`` = vacancies of the split in the year (the corpus size)."""
    split = pl.col(key) if key else pl.col("split")
    d = long.with_columns(split.cast(pl.String).alias("split")) if key else long
    n = d.select("year", "split", "vacature_id").unique().group_by("year", "split").len("n")
    v = d.group_by("year", "categorie", "split", "strategy_version").agg(pl.col("matched").sum().cast(pl.Float64).alias("value"))
    return v.join(n, on=["year", "split"], how="left").with_columns(indicator_id=pl.lit(iid))


def _apply_estimates(out: pl.DataFrame, estimates: pl.DataFrame | None) -> pl.DataFrame:
    if estimates is None or estimates.height == 0:
        return out.with_columns(corrected_value=pl.lit(None, pl.Float64), lo=pl.lit(None, pl.Float64),
                                hi=pl.lit(None, pl.Float64))
    e = estimates.with_columns(
        f=pl.col("corrected") / pl.col("matches"),
        f_lo=pl.col("corrected_lo") / pl.col("matches"),
        f_hi=pl.col("corrected_hi") / pl.col("matches"))
    on = ["categorie", "year"] if "year" in e.columns else ["categorie"]
    e = e.select(*on, "f", "f_lo", "f_hi")
    if "year" in on:
        e = e.with_columns(pl.col("year").cast(pl.Int32))
    j = out.join(e, on=on, how="left")
    counting = pl.col("indicator_id").is_in(["V01", "V02", "V03", "V04"])
    return j.with_columns(
        corrected_value=pl.when(counting).then(pl.col("value") * pl.col("f")),
        lo=pl.when(counting).then(pl.col("value") * pl.col("f_lo")),
        hi=pl.when(counting).then(pl.col("value") * pl.col("f_hi")),
    ).drop("f", "f_lo", "f_hi")


def compute_indicators(vacancies: pl.DataFrame, matches: pl.DataFrame,
                       estimates: pl.DataFrame | None = None) -> pl.DataFrame:
    """The long indicator frame (columns OUTPUT) from the vacancies (vacature_id, datum_gevonden, overheidslaag,
    regio, sector, contract, and ``is_stage`` or titel + tekst) and match.match_frame's long output."""
    v = vacancies
    if "is_stage" not in v.columns:
        v = v.with_columns(is_internship_expr().alias("is_stage"))
    v = v.select("vacature_id", pl.col("datum_gevonden").dt.year().cast(pl.Int32).alias("year"),
                 "overheidslaag", "regio", "sector", "is_stage")
    long = matches.select("vacature_id", "categorie", "matched", pl.col("strategy_version").cast(pl.Int32)) \
        .join(v, on="vacature_id", how="inner")
    general = _sector_splits(long)
    v01 = _counts(general, None, "V01")
    v02 = _counts(long, "regio", "V02")
    v03 = _counts(long, "sector", "V03")
    st = general.filter("is_stage")
    v04 = (st.group_by("year", "categorie", "split", "strategy_version")
           .agg((100.0 * pl.col("matched").sum() / pl.len()).alias("value"), pl.len().cast(pl.Int64).alias("n"))
           .with_columns(indicator_id=pl.lit("V04")))
    base = v01.filter(pl.col("year") == FIRST_YEAR).select("categorie", "split", pl.col("value").alias("_b"))
    v05 = (v01.filter(pl.col("year") >= FIRST_YEAR).join(base, on=["categorie", "split"], how="inner")
           .with_columns(value=pl.when(pl.col("_b") > 0).then(100.0 * pl.col("value") / pl.col("_b")),
                         n=pl.col("value").cast(pl.Int64), indicator_id=pl.lit("V05")).drop("_b"))
    cols = ["indicator_id", "year", "categorie", "split", "value", "n", "strategy_version"]
    out = pl.concat([x.select(cols).with_columns(pl.col("n").cast(pl.Int64)) for x in (v01, v02, v03, v04, v05)])
    out = _apply_estimates(out, estimates)
    return (out.select([pl.col(c).cast(t) for c, t in OUTPUT.items()])
            .sort("indicator_id", "year", "categorie", "split"))
