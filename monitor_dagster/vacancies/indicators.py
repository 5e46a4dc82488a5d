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


def _by(w: pl.DataFrame, cats: list[str], split: pl.Expr, iid: str, version: int) -> pl.DataFrame:
    """Places per (year, split) for every category at once (one group-by over one row per vacancy), long."""
    g = (w.with_columns(split.cast(pl.String).alias("split")).filter(pl.col("split").is_not_null())
         .group_by("year", "split").agg(pl.len().cast(pl.Int64).alias("n"), *[pl.col(c).sum().alias(c) for c in cats]))
    return (g.unpivot(index=["year", "split", "n"], on=cats, variable_name="categorie", value_name="value")
            .with_columns(pl.col("value").cast(pl.Float64), indicator_id=pl.lit(iid),
                          strategy_version=pl.lit(version, pl.Int32)))


def _wide(matches: pl.DataFrame, cats: list[str]) -> pl.DataFrame:
    """One row per vacancy, a boolean per category: match_frame writes each vacancy's categories next to each
    other, so the columns are the per-category filters when their ids agree (checked); a pivot otherwise."""
    parts = {c: matches.filter(pl.col("categorie") == c) for c in cats}
    ids = parts[cats[0]]["vacature_id"]
    if all(p["vacature_id"].equals(ids) for p in parts.values()) and not ids.is_duplicated().any():
        return pl.DataFrame({"vacature_id": ids, **{c: parts[c]["matched"] for c in cats}})
    return matches.pivot(on="categorie", index="vacature_id", values="matched")


_GENERAL = [pl.lit("totaal"),
            pl.when(pl.col("overheidslaag").is_null()).then(pl.lit("markt")).otherwise(pl.lit("overheid")),
            pl.when(pl.col("overheidslaag") == "rijk").then(pl.lit("rijk"))]


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
    regio, sector, contract, and ``is_stage`` or titel + tekst) and match.match_frame's long output (one
    strategy version)."""
    versions = matches["strategy_version"].unique().to_list()
    if len(versions) != 1:
        raise ValueError(f"matches of {len(versions)} strategy versions {sorted(versions)}: compute them apart")
    version = int(versions[0])
    v = vacancies
    if "is_stage" not in v.columns:
        v = v.with_columns(is_internship_expr().alias("is_stage"))
    cats = matches["categorie"].unique(maintain_order=True).to_list()
    wide = _wide(matches, cats)
    w = v.select("vacature_id", pl.col("datum_gevonden").dt.year().cast(pl.Int32).alias("year"),
                 "overheidslaag", "regio", "sector", "is_stage").join(wide, on="vacature_id", how="inner")
    v01 = pl.concat([_by(w, cats, s, "V01", version) for s in _GENERAL])
    v02 = _by(w, cats, pl.col("regio"), "V02", version)
    v03 = _by(w, cats, pl.col("sector"), "V03", version)
    v04 = (pl.concat([_by(w.filter("is_stage"), cats, s, "V04", version) for s in _GENERAL])
           .with_columns(value=100.0 * pl.col("value") / pl.col("n")))
    base = v01.filter(pl.col("year") == FIRST_YEAR).select("categorie", "split", pl.col("value").alias("_b"))
    v05 = (v01.filter(pl.col("year") >= FIRST_YEAR).join(base, on=["categorie", "split"], how="inner")
           .with_columns(value=pl.when(pl.col("_b") > 0).then(100.0 * pl.col("value") / pl.col("_b")),
                         n=pl.col("value").cast(pl.Int64), indicator_id=pl.lit("V05")).drop("_b"))
    cols = ["indicator_id", "year", "categorie", "split", "value", "n", "strategy_version"]
    out = pl.concat([x.select(cols) for x in (v01, v02, v03, v04, v05)])
    out = _apply_estimates(out, estimates)
    return (out.select([pl.col(c).cast(t) for c, t in OUTPUT.items()])
            .sort("indicator_id", "year", "categorie", "split"))
