"""Where the synthetic persons live: a municipality for every address object, the file VSLGWBTAB, and the truth
of the regional and asylum-status breakdowns (technisch rapport Monitor gelijke kansen, §7.2.4, §7.2.5;
docs/regions.md, "Synthetic data").

* Every address object (RINOBJECTNUMMER of GBAADRESOBJECTBUS) gets one municipality of the 2020 reference
  (``reference/gemeente_arbeidsmarktregio_2020.csv``, 355 municipalities), the same in every year (an address
  does not move; the generator uses the 2020 codes for every year, docs/regions.md).
* The draw weights are approximate population sizes (:data:`LARGE`: the 30 largest municipalities, rounded 2020
  figures; every other municipality the same share of the rest) times the share of residents with a
  non-Western migration background (:data:`NW_SHARE`: about 0.35 in the four largest cities, 0.17 in the other
  large ones, 0.07 elsewhere); persons with a non-Western background draw with weights ``size x share``,
  the others with ``size x (1 - share)``, so they are concentrated in the large cities, as in reality.
* A move keeps the municipality with probability :data:`STAY` (a move within the municipality), else the
  municipality is drawn anew.
* Planted regional difference (:data:`PLANT`): persons with a bijstand spell at any time of the latent history
  draw the municipalities of one labour-market region (AM01 Groningen) with weight x3: the bijstand share there
  is higher than the composition explains.  Only *where* people live is drawn, from a random stream of its own:
  no other file changes, the national calibration neither.

Random numbers come from their own stream (``sub_rng(seed, "municipalities")``), so the other files of a zone
keep their bytes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from monitor_dagster.reference.regions import gemeente_arbeidsmarktregio

MAPPING_YEAR = 2020
#: approximate inhabitants (thousands, 2020, rounded) of the 30 largest municipalities; the rest share the remainder
LARGE = {"GM0363": 872, "GM0599": 651, "GM0518": 545, "GM0344": 357, "GM0772": 234, "GM0014": 232, "GM0855": 219,
         "GM0034": 211, "GM0758": 184, "GM0268": 177, "GM0200": 163, "GM0202": 161, "GM0392": 162, "GM0394": 156,
         "GM0307": 157, "GM0479": 156, "GM0153": 159, "GM0796": 155, "GM0193": 129, "GM0637": 125, "GM0546": 124,
         "GM0935": 121, "GM0505": 119, "GM0228": 116, "GM0080": 123, "GM0361": 109, "GM0114": 107, "GM1783": 110,
         "GM0503": 103, "GM0983": 101}
NL_THOUSANDS = 17_408
G4 = ("GM0363", "GM0599", "GM0518", "GM0344")
#: approximate share of residents with a non-Western migration background: G4, other large, the rest
NW_SHARE = {"g4": 0.35, "large": 0.17, "rest": 0.07}
STAY = 0.6
PLANT = {"outcome": "bijstand", "region": "AM01", "factor": 3.0,
         "description": "persons with a bijstand spell at any time of the latent history draw the municipalities of "
                        "arbeidsmarktregio AM01 (Groningen) with weight x3 (their address, not their bijstand, is "
                        "moved): the share of persons with bijstand in AM01 is higher than elsewhere"}


def municipality_table() -> pl.DataFrame:
    """gemeente, regio, randstad, size (thousands), nw_share: the 2020 reference with the draw weights."""
    ref = gemeente_arbeidsmarktregio(MAPPING_YEAR)
    rest = (NL_THOUSANDS - sum(LARGE.values())) / (ref.height - len(LARGE))
    return ref.select(
        pl.col("gemeente_code").alias("gemeente"), pl.col("arbeidsmarktregio_code").alias("regio"), "randstad",
        pl.col("gemeente_code").replace_strict(LARGE, default=rest, return_dtype=pl.Float64).alias("size"),
        pl.when(pl.col("gemeente_code").is_in(G4)).then(NW_SHARE["g4"])
        .when(pl.col("gemeente_code").is_in(list(LARGE))).then(NW_SHARE["large"])
        .otherwise(NW_SHARE["rest"]).alias("nw_share"))


def bijstand_ever(lab, n: int) -> np.ndarray:
    from monitor_dagster.synth.labour import BIJSTAND

    out = np.zeros(n, dtype=bool)
    out[lab.spells.filter(pl.col("state") == BIJSTAND)["pid"].unique().to_numpy()] = True
    return out


def draw_municipalities(addresses: pl.DataFrame, persons: pl.DataFrame, lab, rng: np.random.Generator) -> pl.DataFrame:
    """``addresses`` (pid, start, end, SOORTOBJECTNUMMER, RINOBJECTNUMMER) sorted by pid and start, with the
    municipality of each spell's address object (``gemeente``, ``GM`` code).  An object number drawn twice
    (two persons, same random number) keeps the municipality of its first spell, so every object has one."""
    tab = municipality_table()
    codes = tab["gemeente"].to_numpy()
    size, share = tab["size"].to_numpy(), tab["nw_share"].to_numpy()
    plant = np.where(tab["regio"].to_numpy() == PLANT["region"], PLANT["factor"], 1.0)
    n = persons.height
    nw = persons.sort("pid")["nonwestern"].to_numpy()
    bij = bijstand_ever(lab, n)
    cum = {}
    for is_nw in (False, True):
        for is_bij in (False, True):
            w = size * (share if is_nw else 1 - share) * (plant if is_bij else 1.0)
            cum[(is_nw, is_bij)] = np.cumsum(w) / w.sum()
    a = addresses.sort("pid", "start")
    pid = a["pid"].to_numpy()
    u, stay = rng.random(a.height), rng.random(a.height) < STAY
    cat = nw[pid].astype(int) * 2 + bij[pid].astype(int)
    idx = np.empty(a.height, dtype=np.int64)
    for (is_nw, is_bij), c in cum.items():
        sel = cat == int(is_nw) * 2 + int(is_bij)
        idx[sel] = np.minimum(np.searchsorted(c, u[sel], side="right"), len(codes) - 1)
    first = np.ones(a.height, dtype=bool)
    first[1:] = pid[1:] != pid[:-1]
    own = pl.Series("gemeente", np.where(first | ~stay, codes[idx], None), dtype=pl.String)
    a = a.with_columns(own).with_columns(pl.col("gemeente").forward_fill().over("pid"))
    # one municipality per object: the first spell's (objects are random 8-digit numbers; a rare collision)
    obj = (a.with_row_index("_r").sort("SOORTOBJECTNUMMER", "RINOBJECTNUMMER", "_r")
           .group_by("SOORTOBJECTNUMMER", "RINOBJECTNUMMER", maintain_order=True).agg(pl.col("gemeente").first()))
    return a.drop("gemeente").join(obj, on=["SOORTOBJECTNUMMER", "RINOBJECTNUMMER"], how="left")


def project_vslgwbtab(addr: pl.DataFrame, year: int) -> pl.DataFrame:
    """VSLGWB<year>TAB: every address object of a spell begun by 31 December ``year`` with its municipality
    (``gem<year>``, 4 digits), wijk (``wc<year>``) and buurt (``bc<year>``) codes, columns named with the year
    as in Remote Access (names assumed: data_catalog.yaml)."""
    cut = dt.date(year, 12, 31)
    obj = (addr.filter(pl.col("start") <= cut)
           .select("SOORTOBJECTNUMMER", "RINOBJECTNUMMER", "gemeente")
           .unique(["SOORTOBJECTNUMMER", "RINOBJECTNUMMER"]).sort("RINOBJECTNUMMER", "SOORTOBJECTNUMMER"))
    gem = pl.col("gemeente").str.strip_prefix("GM")
    num = pl.col("RINOBJECTNUMMER").cast(pl.Int64)
    wc = gem + (num % 7).cast(pl.String).str.zfill(2)
    return obj.select("SOORTOBJECTNUMMER", "RINOBJECTNUMMER", gem.alias(f"gem{year}"), wc.alias(f"wc{year}"),
                      (wc + ((num // 7) % 5).cast(pl.String).str.zfill(2)).alias(f"bc{year}"))


def municipality_jan1(addr: pl.DataFrame, year: int, tolerance_days: int = 31) -> pl.DataFrame:
    """pid, gemeente on 1 January ``year`` with the pipeline's rule (core/regions.py): the spell covering
    1 January (latest start), else the first spell starting within ``tolerance_days`` after it."""
    jan1 = dt.date(year, 1, 1)
    s = addr.filter((pl.col("start") <= jan1 + dt.timedelta(days=tolerance_days))
                    & (pl.col("end").is_null() | (pl.col("end") >= jan1)))
    covers = pl.col("start") <= jan1
    return (s.with_columns(pl.when(covers).then(0).otherwise(1).alias("_after"),
                           pl.when(covers).then(-pl.col("start").cast(pl.Int64)).otherwise(pl.col("start").cast(pl.Int64))
                           .alias("_k"))
            .sort("pid", "_after", "_k").group_by("pid", maintain_order=True).first().select("pid", "gemeente"))


def _whole_year_frames(addr: pl.DataFrame, persons: pl.DataFrame, residence: pl.DataFrame, lab, fy: int, ly: int):
    """Per year ``y``: (y, the persons living in NL the whole year with pid, herkomst_group, generation, gemeente
    on 1 January, regio, randstad (2020 mapping), asielstatus and ``_bij`` (a bijstand spell overlapping y)).
    What :func:`regions_truth` counts."""
    from monitor_dagster.synth.labour import BIJSTAND
    from monitor_dagster.synth.truth import whole_year_population

    tab = municipality_table().select("gemeente", "regio", "randstad")
    first = (residence.filter(pl.col("origin").is_not_null() & (pl.col("start") >= dt.date(1995, 1, 1)))
             .group_by("pid").agg(pl.col("start").min().alias("_motive_start")))
    motive = persons.filter(pl.col("motive").is_not_null() & (pl.col("motive") != "")).select("pid", "motive").join(
        first, on="pid")
    bij = lab.spells.filter(pl.col("state") == BIJSTAND)
    for y in range(fy, ly + 1):
        wy = whole_year_population(residence, persons, y).select("pid", "herkomst_group", "generation")
        g = wy.join(municipality_jan1(addr, y), on="pid", how="left").join(tab, on="gemeente", how="left")
        m = motive.filter(pl.col("_motive_start") <= dt.date(y, 12, 31))
        g = g.join(m.select("pid", "motive"), on="pid", how="left").with_columns(
            pl.when(pl.col("motive") == "asiel").then(pl.lit("statushouder"))
            .when(pl.col("motive").is_not_null()).then(pl.lit("overig migratiemotief"))
            .otherwise(pl.lit("geen migratie")).alias("asielstatus"))
        on_bij = bij.filter((pl.col("start") <= dt.date(y, 12, 31))
                            & (pl.col("end").is_null() | (pl.col("end") >= dt.date(y, 1, 1)))).select("pid").unique()
        yield y, g.join(on_bij.with_columns(pl.lit(True).alias("_bij")), on="pid", how="left")


def counts_by(frame: pl.DataFrame, col: str) -> dict:
    """{value of ``col``: persons}, a null value as ``onbekend``: the form of the truth's ``regions`` entries,
    so the truth and ``synth.verify`` count the same way."""
    c = frame.group_by(col).len().sort(col, nulls_last=True)
    return {(v if v is not None else "onbekend"): int(k) for v, k in c.iter_rows()}


def _region_counts(g: pl.DataFrame) -> dict:
    return {key: counts_by(g, col) for col, key in (("gemeente", "gemeente"), ("regio", "arbeidsmarktregio"),
                                                    ("randstad", "randstad"), ("asielstatus", "asielstatus"))}


def regions_truth(addr: pl.DataFrame, persons: pl.DataFrame, residence: pl.DataFrame, lab, fy: int,
                  ly: int) -> tuple[dict, dict]:
    """The truth entries ``regions`` and ``address_release_cut``, from one pass over the years.

    ``regions``: ``{year: {gemeente|arbeidsmarktregio|randstad|asielstatus: {value: persons}, planted_bijstand:
    {...}}}`` of the persons living in NL the whole year (``population_whole_year``, what core/population holds),
    regions under the 2020 mapping, municipality on 1 January (docs/regions.md); asielstatus as core/population
    derives it from MIGMOTIEFBUS (a motive whose first stay from 1995 began by 31 December t).
    ``planted_bijstand``: persons and persons with a bijstand spell overlapping the year, in the planted region
    and elsewhere.

    ``address_release_cut``: ``{year: {persons, population_whole_year: {cell: n}, gemeente|arbeidsmarktregio|
    randstad|asielstatus: {value: n}}}``: the persons living in NL the whole year whom GBAADRESOBJECTBUS's
    release of that year cannot show so.  Their address gap (a move registered late,
    :func:`project.address_spells`) spans 31 December: the old address ends in the last days of the year and
    the next one begins in the next year, after the release (a cumulative release holds the spells begun by
    31 December).  A monitor built on that release leaves them out of the year; a later release shows the next
    address and bridges the gap (docs/methodology.md, "Address gaps", the known limitation).  ``synth.verify``
    subtracts them when the warehouse's address release is the year's own."""
    regions, cut = {}, {}
    for y, g in _whole_year_frames(addr, persons, residence, lab, fy, ly):
        row = _region_counts(g)
        inr = g["regio"] == PLANT["region"]
        b = g["_bij"].fill_null(False)
        row["planted_bijstand"] = {"region_persons": int(inr.sum()), "region_bijstand": int((inr & b).sum()),
                                   "rest_persons": int((~inr).sum()), "rest_bijstand": int((~inr & b).sum())}
        regions[str(y)] = row
        dec31 = dt.date(y, 12, 31)
        shown = addr.filter((pl.col("start") <= dec31) & (pl.col("end").is_null() | (pl.col("end") >= dec31)))
        missed = g.join(shown.select("pid").unique(), on="pid", how="anti")
        cells = missed.group_by("herkomst_group", "generation").len()
        cut[str(y)] = {"persons": missed.height,
                       "population_whole_year": {f"{h}|{n}": int(k) for h, n, k in cells.iter_rows()},
                       **_region_counts(missed)}
    return regions, cut


def release_cut_truth(addr: pl.DataFrame, persons: pl.DataFrame, residence: pl.DataFrame, lab, fy: int,
                      ly: int) -> dict:
    """``address_release_cut`` alone (:func:`regions_truth`)."""
    return regions_truth(addr, persons, residence, lab, fy, ly)[1]


def model_truth() -> dict:
    return {"mapping_year": MAPPING_YEAR, "stay_on_move": STAY, "nw_share": NW_SHARE, "large_thousands": LARGE,
            "planted": PLANT,
            "note": "regions of every year under the 2020 mapping (the generator's municipality codes are the 2020 "
                    "ones); persons of population_whole_year, municipality on 1 January (docs/regions.md)"}


__all__ = ["LARGE", "MAPPING_YEAR", "NW_SHARE", "PLANT", "STAY", "counts_by", "draw_municipalities", "model_truth",
           "municipality_jan1", "municipality_table", "project_vslgwbtab", "regions_truth",
           "release_cut_truth"]
