"""Where a person lives on 1 January of year t and the region breakdowns that follow from it (technisch rapport
Monitor gelijke kansen, §7.2.4, §5.1 "randstad"; docs/regions.md, "Where people live").

Plain polars, no Dagster, nothing collected.

* gemeente - the municipality (VSLGWBTAB of year t: the municipality of every address object on 1 January t)
  of the address object of the person's address spell (GBAADRESOBJECTBUS) on the peildatum 1 January t;
* regio, randstad - the arbeidsmarktregio of that municipality in the mapping of year t
  (``reference/regions.py``; per year, because municipal reorganisations change the codes).

Peildatum rule (:func:`municipality_on_jan1`): the spell that covers 1 January t (start <= 1 January <= end or
open end); a mover on 1 March t therefore counts in the old municipality.  When spells overlap on 1 January
(not in CBS's files as far as we know) the one that started last.  When 1 January falls in a gap between two
spells (a move registered late), the first spell that starts after 1 January within the population's gap
tolerance (31 days, ``population.ADDRESS_GAP_TOLERANCE_DAYS``): the person lives there from the move on and the
whole-year rule bridged the gap the same way.  Anything else (no address around 1 January, an object VSLGWBTAB
does not know): gemeente null.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.core.characteristics import ensure_columns, keep_r

__all__ = ["RANDSTAD", "gemeente_code", "object_municipalities", "keyed_objects", "municipality_on_jan1",
           "with_regions", "unknown_municipalities"]

RANDSTAD = ("randstad", "overig")
_FAR_FUTURE = dt.date(9999, 12, 31)
_OBJECT = ["SOORTOBJECTNUMMER", "RINOBJECTNUMMER"]
#: a column a file lacks is taken as nulls (as the ingest delivers a missing used column): gemeente null
_OBJECT_COLUMNS = {"SOORTOBJECTNUMMER": pl.String, "RINOBJECTNUMMER": pl.String}


def gemeente_code(col: str = "GEMEENTE") -> pl.Expr:
    """VSLGWBTAB's municipality code as in the reference (``GM`` + 4 digits): ``363``/``0363``/``GM0363`` ->
    ``GM0363``; empty -> null."""
    v = pl.col(col).cast(pl.String).str.strip_chars().str.to_uppercase()
    digits = v.str.strip_prefix("GM")
    digits = pl.when(digits.str.contains(r"^\d+\.0+$")).then(digits.str.replace(r"\.0+$", "")).otherwise(digits)
    return pl.when(v.is_null() | (v == "")).then(None).otherwise(pl.lit("GM") + digits.str.zfill(4)).alias("gemeente")


def object_municipalities(vslgwb: pl.LazyFrame) -> pl.LazyFrame:
    """SOORTOBJECTNUMMER, RINOBJECTNUMMER, gemeente (one row per object; an object listed twice keeps its first
    non-null municipality)."""
    vslgwb = ensure_columns(vslgwb, {**_OBJECT_COLUMNS, "GEMEENTE": pl.String})
    return (vslgwb.select(pl.col("SOORTOBJECTNUMMER").cast(pl.String), pl.col("RINOBJECTNUMMER").cast(pl.String),
                          gemeente_code())
            .filter(pl.col("RINOBJECTNUMMER").is_not_null())
            .group_by(_OBJECT).agg(pl.col("gemeente").drop_nulls().first()))


#: one UInt64 per address object (see :func:`keyed_objects`)
_KEY = "_object_key"
_KEY_SEED = 20_190_101


def _object_key(soort: str = "SOORTOBJECTNUMMER", rin: str = "RINOBJECTNUMMER") -> pl.Expr:
    """A hash of the object's two numbers (null when either is: such an object never matches, as in a join on
    the two columns themselves).  Only compared within one process, so polars' hash need not be stable."""
    s, r = pl.col(soort).cast(pl.String), pl.col(rin).cast(pl.String)
    return (pl.when(s.is_not_null() & r.is_not_null())
            .then(pl.concat_str([s, r], separator="\x1f").hash(_KEY_SEED)).alias(_KEY))


def keyed_objects(objects: pl.DataFrame) -> pl.DataFrame:
    """:func:`object_municipalities` (collected) with a hash key per object, for a caller that looks up the
    objects of many buckets of persons: a bucket's join then builds its table on one integer column instead
    of two text columns (a national VSLGWBTAB has 3.2 M objects; the lookup of a bucket of 1 M persons 1.4 ->
    1.0 CPU-s, docs/scaling_measurements.md).  When two objects share a hash the frame comes back without the key and the
    join stays on the text (exact either way: with unique keys an address matches at most one object, and
    :func:`municipality_on_jan1` compares the text of that one)."""
    keyed = objects.with_columns(_object_key())
    if keyed.get_column(_KEY).drop_nulls().is_duplicated().any():
        return objects
    return keyed


def municipality_on_jan1(addresses: pl.LazyFrame, vslgwb: pl.LazyFrame, year: int,
                         tolerance_days: int = 31, objects: pl.DataFrame | None = None) -> pl.LazyFrame:
    """person_id, gemeente on 1 January ``year`` (the rule of the module docstring).  Only RINPERSOONS R; a
    person without an address on or just after 1 January is not returned.  ``objects``:
    :func:`object_municipalities` of ``vslgwb`` when the caller built it once for several buckets of persons
    (VSLGWBTAB is keyed by address object, so every bucket would otherwise read and group the whole file)."""
    jan1 = dt.date(year, 1, 1)
    late = jan1 + dt.timedelta(days=tolerance_days)
    s = (keep_r(ensure_columns(addresses, _OBJECT_COLUMNS))
         .select("person_id", pl.col("SOORTOBJECTNUMMER").cast(pl.String), pl.col("RINOBJECTNUMMER").cast(pl.String),
                 pl.col("GBADATUMAANVANGADRESHOUDING").alias("_s"),
                 pl.col("GBADATUMEINDEADRESHOUDING").fill_null(_FAR_FUTURE).alias("_e"))
         .filter(pl.col("_s").is_not_null() & (pl.col("_e") >= pl.col("_s"))
                 & (pl.col("_s") <= pl.lit(late)) & (pl.col("_e") >= pl.lit(jan1))))
    covers = pl.col("_s") <= pl.lit(jan1)
    # rank: a covering spell first (the latest start among them), else the earliest start after 1 January
    ranked = s.with_columns(
        pl.when(covers).then(0).otherwise(1).alias("_after"),
        pl.when(covers).then(pl.lit(jan1) - pl.col("_s")).otherwise(pl.col("_s") - pl.lit(jan1)).alias("_dist"),
    )
    chosen = (ranked.sort("person_id", "_after", "_dist", "_e", "RINOBJECTNUMMER", nulls_last=True)
              .group_by("person_id", maintain_order=True).first()
              .select("person_id", *_OBJECT))
    if objects is not None and _KEY in objects.columns:
        # keys unique among the objects (keyed_objects), so no row is repeated; equal text proves the match
        same = ((pl.col("_soort") == pl.col("SOORTOBJECTNUMMER")) & (pl.col("_rin") == pl.col("RINOBJECTNUMMER")))
        found = objects.lazy().select(_KEY, pl.col("SOORTOBJECTNUMMER").alias("_soort"),
                                      pl.col("RINOBJECTNUMMER").alias("_rin"), "gemeente")
        return (chosen.with_columns(_object_key()).join(found, on=_KEY, how="left")
                .select("person_id", pl.when(same).then(pl.col("gemeente")).alias("gemeente")))
    objects = object_municipalities(vslgwb) if objects is None else objects.lazy()
    return (chosen.join(objects, on=_OBJECT, how="left")
            .select("person_id", "gemeente"))


def with_regions(frame: pl.LazyFrame, mapping: pl.LazyFrame | pl.DataFrame | None) -> pl.LazyFrame:
    """``frame`` (with a ``gemeente`` column) plus regio and randstad from the year's mapping; both null for
    everybody when ``mapping`` is None (no mapping for the year), and for a municipality the mapping lacks."""
    if mapping is None:
        return frame.with_columns(pl.lit(None, pl.String).alias("regio"), pl.lit(None, pl.String).alias("randstad"))
    m = mapping.lazy().select(pl.col("gemeente_code").alias("gemeente"),
                              pl.col("arbeidsmarktregio_code").alias("regio"), "randstad").unique("gemeente")
    return frame.join(m, on="gemeente", how="left")


def unknown_municipalities(vslgwb: pl.LazyFrame | None, mapping: pl.LazyFrame | pl.DataFrame,
                           objects: pl.DataFrame | None = None) -> pl.LazyFrame:
    """gemeente, objects: municipality codes in VSLGWBTAB that the year's mapping does not know (their residents
    get regio null), with the number of address objects, most objects first.  ``objects``:
    :func:`object_municipalities` of ``vslgwb`` when the caller has built it already (the population asset
    builds it once for its buckets; building it again here took 1.6 s at 4 M persons)."""
    known = mapping.lazy().select(pl.col("gemeente_code").alias("gemeente"))
    found = object_municipalities(vslgwb) if objects is None else objects.lazy()
    return (found.filter(pl.col("gemeente").is_not_null())
            .join(known, on="gemeente", how="anti")
            .group_by("gemeente").agg(pl.len().alias("objects"))
            .sort(["objects", "gemeente"], descending=[True, False]))
