"""Writes DIPLOMAMBOTAB and DIPLOMAHOTAB (mbo, hbo/wo diplomas); one module: same career rows, two school-year cuts."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.codes import (
    MONTH_LABELS, RINPERSOONS_LABELS, TYPEMBO_LABELS, VORMHO_LABELS, _d, _rin, _ymd_str)
from monitor_dagster.synth.education.world import EducationWorld


def project_diplomambotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """DIPLOMAMBOTAB: mbo diplomas of the school year ending in ``year`` (1 Aug year-1 .. 31 Jul year).

    Columns: RINPERSOONS, RINPERSOON, EXAMENDATUMMBO (YYYYMMDD), OPLNR, TYPEMBODPL ("1" BOL voltijd,
    "2" BOL deeltijd, "3" BBL; numeric codes as in the real file, labels in ``LABELS``), SELECTIEHOOFDDPLMBO
    ("1" hoofddiploma, "2" nevendiploma: about 1.5% of graduates get a second diploma of the same level),
    SELECTIEHOOGSTEDPLMBO ("1" highest diploma of the person in the file year, "2" other).
    """
    lo, hi = _d(year - 1, 8, 1), _d(year, 7, 31)
    c = ew.careers.filter((pl.col("stage") == "mbo") & pl.col("diploma")
                          & pl.col("diploma_date").cast(pl.Int32).is_between(lo, hi))
    typ = (pl.when(pl.col("type_mbo") == "BBL").then(pl.lit("3"))
           .when(pl.col("bol_deeltijd")).then(pl.lit("2")).otherwise(pl.lit("1")))
    main = c.select("pid", "diploma_date", pl.col("oplnr").alias("OPLNR"), typ.alias("TYPEMBODPL"),
                    pl.lit("1").alias("SELECTIEHOOFDDPLMBO"), "level")
    nev = c.filter(pl.col("neven_oplnr").is_not_null()).select(
        "pid", "diploma_date", pl.col("neven_oplnr").alias("OPLNR"), typ.alias("TYPEMBODPL"),
        pl.lit("2").alias("SELECTIEHOOFDDPLMBO"), "level")
    # highest diploma of the year: the main diploma of the highest level (the later one on a tie)
    allr = (pl.concat([main, nev])
            .with_columns(pl.col("level").str.slice(3, 1).cast(pl.Int64).alias("_lvl"),
                          (pl.col("SELECTIEHOOFDDPLMBO") == "1").alias("_main"))
            .sort("pid", "_main", "_lvl", "diploma_date", "OPLNR").with_row_index("_r")
            .with_columns(pl.when(pl.col("_main") & (pl.col("_r") == pl.col("_r").max().over("pid")))
                          .then(pl.lit("1")).otherwise(pl.lit("2")).alias("SELECTIEHOOGSTEDPLMBO")))
    out = allr.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", _ymd_str("diploma_date").alias("EXAMENDATUMMBO"), "OPLNR", "TYPEMBODPL",
        "SELECTIEHOOFDDPLMBO", "SELECTIEHOOGSTEDPLMBO")
    return out.sort("RINPERSOON", "RINPERSOONS", "EXAMENDATUMMBO", "SELECTIEHOOFDDPLMBO", "OPLNR")


def project_diplomahotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """DIPLOMAHOTAB: hbo/wo diplomas of the academic year ending in ``year`` (1 Sep year-1 .. 31 Aug year).

    Columns: RINPERSOONS, RINPERSOON, OPLNR, STUDIEFASEDIPL ("A" associate degree, "B" bachelor, "M" master),
    EXAMENMAAND (two-digit month "01".."12" as in the real file: months 09-12 fall in calendar year
    ``year - 1``, months 01-08 in ``year``), VORMOPLEIDINGHODIP ("1" voltijd, "2" deeltijd, "3" duaal) and,
    from 2013 on only (as in the real files), EXAMENDATUMDIPLHO (YYYYMMDD).
    """
    lo, hi = _d(year - 1, 9, 1), _d(year, 8, 31)
    c = ew.careers.filter(pl.col("stage").is_in(["hbo", "wo"]) & pl.col("diploma")
                          & pl.col("diploma_date").cast(pl.Int32).is_between(lo, hi))
    cols = [
        "RINPERSOONS", "RINPERSOON", pl.col("oplnr").alias("OPLNR"),
        pl.col("level").replace_strict({"hbo_ad": "A", "hbo_ba": "B", "wo_ba": "B", "hbo_ma": "M", "wo_ma": "M"},
                                       return_dtype=pl.Utf8).alias("STUDIEFASEDIPL"),
        pl.col("diploma_date").dt.strftime("%m").alias("EXAMENMAAND"),
        pl.col("vorm_ho").fill_null("1").alias("VORMOPLEIDINGHODIP"),
    ]
    if year >= 2013:
        cols.append(_ymd_str("diploma_date").alias("EXAMENDATUMDIPLHO"))
    out = c.join(_rin(persons), on="pid", how="inner").select(cols)
    return out.sort("RINPERSOON", "RINPERSOONS", "EXAMENMAAND", "OPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "DIPLOMAMBOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "TYPEMBODPL": TYPEMBO_LABELS,
        "SELECTIEHOOFDDPLMBO": {"1": "hoofddiploma", "2": "nevendiploma"},
        "SELECTIEHOOGSTEDPLMBO": {"1": "hoogst behaalde diploma in het jaar", "2": "overig diploma"},
    },
    "DIPLOMAHOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "STUDIEFASEDIPL": {"A": "associate degree", "B": "bachelor", "M": "master"},
        "EXAMENMAAND": MONTH_LABELS,
        "VORMOPLEIDINGHODIP": VORMHO_LABELS,
    },
}
