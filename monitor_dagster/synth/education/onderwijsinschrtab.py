"""Writes ONDERWIJSINSCHRTAB (enrolments on 1 October); separate: its own population (residence) and leerjaar logic."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.codes import (
    RINPERSOONS_LABELS, TYPEMBO_LABELS, TYPEONDERWIJS_LABELS, VORMHO_LABELS, _d, _in_nl_on, _rin)
from monitor_dagster.synth.education.world import EducationWorld


def project_onderwijsinschrtab(ew: EducationWorld, persons: pl.DataFrame, residence: pl.DataFrame,
                               year: int) -> pl.DataFrame:
    """ONDERWIJSINSCHRTAB: enrolments on 1 October of ``year`` of persons living in NL that day.

    Columns: RINPERSOONS, RINPERSOON, OPLNR, TYPEONDERWIJS ("VO", "MBO", "HBO", "WO"), HOOFDINSCHR ("1"
    hoofdinschrijving, "2" neveninschrijving: about 2% of hbo/wo students have a second programme),
    LEERJAAR **(assumed; the real file has VOLEERJAAR for vo)**, LEERWEGMBO **(assumed)** ("1" BOL voltijd,
    "2" BOL deeltijd, "3" BBL, "-" not mbo), VORMOPLEIDINGHO **(assumed)** ("1" voltijd, "2" deeltijd,
    "3" duaal, "-" not ho).  First-year students (report 5.1: link SBB to eerstejaars) have LEERJAAR "1"
    (stackers enter havo/vwo in leerjaar 4/5).  The real HOOFDINSCHR codes combine sector and main flag
    ("01", "11", ...); we follow the project contract ("1" main).
    """
    d = _d(year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    c = ew.careers.filter((pl.col("start") <= D) & (pl.col("end") >= D))
    c = c.join(_in_nl_on(residence, d), on="pid", how="semi")
    sm = pl.when(pl.col("stage") == "mbo").then(8).otherwise(9)
    elapsed = (year - pl.col("start").dt.year() + pl.when(pl.col("start").dt.month() < sm).then(1).otherwise(0))
    final_vo = pl.col("level").replace_strict({"praktijk": 6, "vmbo_bk": 4, "vmbo_gt": 4, "havo": 5, "vwo": 6},
                                              default=99, return_dtype=pl.Int64)
    leerjaar = pl.when(pl.col("stage") == "vo").then(
        pl.min_horizontal(pl.col("entry_leerjaar").cast(pl.Int64) + elapsed, final_vo)).otherwise(elapsed + 1)
    main = c.select(
        "pid", pl.col("oplnr").alias("OPLNR"), pl.col("stage").str.to_uppercase().alias("TYPEONDERWIJS"),
        pl.lit("1").alias("HOOFDINSCHR"), leerjaar.cast(pl.Utf8).alias("LEERJAAR"),
        pl.when(pl.col("stage") == "mbo").then(
            pl.when(pl.col("type_mbo") == "BBL").then(pl.lit("3"))
            .when(pl.col("bol_deeltijd")).then(pl.lit("2")).otherwise(pl.lit("1"))).otherwise(pl.lit("-"))
        .alias("LEERWEGMBO"),
        pl.col("vorm_ho").fill_null("-").alias("VORMOPLEIDINGHO"),
        "neven_oplnr", "stage")
    neven = main.filter(pl.col("neven_oplnr").is_not_null() & pl.col("stage").is_in(["hbo", "wo"])).with_columns(
        pl.col("neven_oplnr").alias("OPLNR"), pl.lit("2").alias("HOOFDINSCHR"))
    out = pl.concat([main, neven]).join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", "OPLNR", "TYPEONDERWIJS", "HOOFDINSCHR", "LEERJAAR", "LEERWEGMBO",
        "VORMOPLEIDINGHO")
    return out.sort("RINPERSOON", "RINPERSOONS", "HOOFDINSCHR", "OPLNR")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "ONDERWIJSINSCHRTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "TYPEONDERWIJS": {k: v for k, v in TYPEONDERWIJS_LABELS.items() if k in ("VO", "MBO", "HBO", "WO")},
        "HOOFDINSCHR": {"1": "hoofdinschrijving", "2": "neveninschrijving"},
        "LEERJAAR": {str(i): f"leerjaar {i}" for i in range(1, 16)},
        "LEERWEGMBO": {**TYPEMBO_LABELS, "-": "niet van toepassing"},
        "VORMOPLEIDINGHO": {**VORMHO_LABELS, "-": "niet van toepassing"},
    },
}
