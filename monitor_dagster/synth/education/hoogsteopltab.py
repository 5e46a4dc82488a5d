"""Writes HOOGSTEOPLTAB (highest level attained/followed); separate: coverage, weights, the SOI 2016 -> 2021 break."""

from __future__ import annotations

import polars as pl

from monitor_dagster.synth.education.codes import RINPERSOONS_LABELS, _SOI_CODES, _d, _in_nl_on, _rin
from monitor_dagster.synth.education.world import EducationWorld
from monitor_dagster.synth.params import NON_WESTERN, WESTERN


def _ebb_p(year: int) -> tuple[float, float]:
    """Probability that a person's level is known from the EBB (Dutch-educated, abroad-educated)."""
    t = max(0, year - 2000)
    return min(0.65, 0.35 + 0.015 * t), min(0.40, 0.12 + 0.014 * t)


def hoogsteopl_column(year: int, kind: str = "HB") -> str:
    """Name of the SOI level column of HOOGSTEOPLTAB (trend break SOI 2016 -> SOI 2021 in 2019)."""
    if year <= 2018:
        return f"OPLNIVSOI2016AGG4{kind}METNIRWO"
    return f"OPLNIVSOI2021AGG4{kind}metNIRWO"


def project_hoogsteopltab(ew: EducationWorld, persons: pl.DataFrame, residence: pl.DataFrame,
                          year: int) -> pl.DataFrame:
    """HOOGSTEOPLTAB: highest level attained (HB) and followed (HG) on 1 October of ``year`` (report 2.2).

    Population: persons living in NL on 1 October aged 15 or over.  Coverage is incomplete as in the real
    file: a person is in the file when known from the education registers (enrolment after the start of the
    register: ho 1986, vo 2003, mbo 2004) or from the EBB and older sources (35% + 1.5 points per year after
    2000, max 65%, for the Dutch-educated; 12% + 1.4 points per year, max 40%, for the abroad-educated).  Persons
    not covered are **left out** (not coded "----").  Register-only persons show their Dutch level (a foreign
    diploma is only known through the EBB).

    Columns: RINPERSOONS, RINPERSOON, OPLNRHB, OPLNRHG, OPLNIVSOI2016AGG4HBMETNIRWO and
    OPLNIVSOI2016AGG4HGMETNIRWO (year <= 2018) or OPLNIVSOI2021AGG4HBmetNIRWO and
    OPLNIVSOI2021AGG4HGmetNIRWO (year >= 2019; trend break SOI 2016 -> 2021, the 4-digit codes are the same),
    OPLGEWICHT **(assumed name)**: weight = persons in the population / persons in the file within cells of
    age band x sex x generation x (Nederland / westers / niet-westers), correcting for non-coverage.
    """
    d = _d(year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    p_nl, p_ab = _ebb_p(year)
    pop = (persons.select("pid", "sex", "generation", "herkomst_group", "birth_date")
           .join(_in_nl_on(residence, d), on="pid", how="semi")
           .with_columns(((d - pl.col("birth_date").cast(pl.Int32)) / 365.25).floor().cast(pl.Int64).alias("age"))
           .filter(pl.col("age") >= 15)
           .join(ew.coverage, on="pid", how="left")
           .with_columns(
               (pl.col("reg_date").is_not_null() & (pl.col("reg_date") <= D)).alias("reg"),
               (pl.col("u_ebb") < pl.when(pl.col("abroad_educated")).then(p_ab).otherwise(p_nl)).alias("ebb"),
               pl.min_horizontal(pl.col("age") // 10, 7).alias("ageband"),
               pl.when(pl.col("herkomst_group").is_in(list(NON_WESTERN))).then(2)
               .when(pl.col("herkomst_group").is_in(list(WESTERN))).then(1).otherwise(0).alias("kind")))
    cov = pop.filter(pl.col("reg") | pl.col("ebb"))
    ev = (ew.attainments.filter(pl.col("date") <= D)
          .join(cov.select("pid", "ebb"), on="pid", how="inner")
          .filter(pl.col("ebb") | (pl.col("source") != 2)))
    hb = (ev.filter(pl.col("attained")).group_by("pid")
          .agg(pl.col("soi").max().alias("hb"), pl.col("oplnr").sort_by("soi", "date").last().alias("OPLNRHB")))
    hg = ev.group_by("pid").agg(pl.col("soi").max().alias("hg"),
                                pl.col("oplnr").sort_by("soi", "date").last().alias("OPLNRHG"))
    cells = ["ageband", "sex", "generation", "kind"]
    w = (pop.group_by(cells).agg(pl.len().alias("n_pop"))
         .join(cov.join(hb, on="pid", how="semi").group_by(cells).agg(pl.len().alias("n_cov")), on=cells, how="inner")
         .with_columns((pl.col("n_pop") / pl.col("n_cov")).alias("OPLGEWICHT")))
    out = (cov.join(hb, on="pid", how="inner").join(hg, on="pid", how="left").join(w, on=cells, how="left")
           .join(_rin(persons), on="pid", how="inner")
           .select("RINPERSOONS", "RINPERSOON", "OPLNRHB", "OPLNRHG",
                   pl.col("hb").cast(pl.Utf8).alias(hoogsteopl_column(year, "HB")),
                   pl.col("hg").cast(pl.Utf8).alias(hoogsteopl_column(year, "HG")),
                   pl.col("OPLGEWICHT").cast(pl.Float64)))
    return out.sort("RINPERSOON", "RINPERSOONS")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

VALUE_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "HOOGSTEOPLTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "OPLNIVSOI2016AGG4HBMETNIRWO": _SOI_CODES,
        "OPLNIVSOI2016AGG4HGMETNIRWO": _SOI_CODES,
        "OPLNIVSOI2021AGG4HBmetNIRWO": _SOI_CODES,
        "OPLNIVSOI2021AGG4HGmetNIRWO": _SOI_CODES,
    },
}
