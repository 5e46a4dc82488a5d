"""Hand-built core frames shared by the indicator tests (register O04-O18, inputs P-a..U-c)."""

from __future__ import annotations

import polars as pl

POPULATION_SCHEMA = {"person_id": pl.Int64, "student": pl.Boolean, "pensioner": pl.Boolean,
                     "herkomst_group": pl.String, "herkomst_aggregate": pl.String, "generatie": pl.String,
                     "verblijfsduur": pl.String, "leeftijd": pl.String, "geslacht": pl.String,
                     "opleidingsniveau": pl.String}


def population(*ids, student=(), pensioner=(), no_age=(), nonwestern=(), geslacht="man",
               opleiding="middelbaar") -> pl.LazyFrame:
    """Persons of core/population: adults without migration background unless ``nonwestern`` (first-generation
    Marokko, oudkomer); ``no_age`` = outside 15 to AOW age (leeftijd null)."""
    rows = []
    for i in ids:
        nw = i in nonwestern
        rows.append({"person_id": i, "student": i in student, "pensioner": i in pensioner,
                     "herkomst_group": "Marokko" if nw else "geen migratieachtergrond",
                     "herkomst_aggregate": "niet-westers" if nw else "geen",
                     "generatie": "eerste" if nw else None, "verblijfsduur": "oudkomer" if nw else None,
                     "leeftijd": None if i in no_age else "niet-jongeren", "geslacht": geslacht,
                     "opleidingsniveau": opleiding})
    return pl.LazyFrame(rows, schema=POPULATION_SCHEMA)


def family_on_warehouse(warehouse, family: str, year: int, observed_year: int):
    """(frames, result) of a follow-up family computed on a warehouse through the engine, after checking that
    its window is observed up to ``observed_year`` and that K = 1 and K = 3 buckets give the same table."""
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(warehouse, family, year)
    extra = ENG.follow_up_extras(family, warehouse, year)
    assert extra == {"observed_year": observed_year}
    one = ENG.compute_family(family, fr, year, extra=extra, buckets=1)
    three = ENG.compute_family(family, fr, year, extra=extra, buckets=3)
    assert not one.not_computable and one.table.equals(three.table)
    return fr, one
