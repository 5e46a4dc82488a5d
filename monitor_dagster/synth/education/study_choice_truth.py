"""Truth for research question 4a (O19-O22): counts from the latent careers, restricted like the monitor.

Separate from ``truth.py`` because it needs the residence periods: the monitor counts persons living in NL the
whole year t (report 2.1), and ONDERWIJSINSCHRTAB only holds persons living in NL on 1 October.  The counts
come from the latent world (exam attempts, career stages, the SBB score function), not from the written files,
so a test comparing the pipeline with them checks the projection, the ingest and the linking together.

Rules applied (the monitor's documented ones, docs/indicators_education.md):

* cohort t = exam attempts of exam year t (EXAMVOTAB t); one per person (a passed attempt first, then the
  higher programme; no person has two in one year in this generator);
* "the next year" = the career stage active on 1 October t (ONDERWIJSINSCHRTAB t); a person with two active
  stages: the one with the lowest programme number (the monitor's main enrolment);
* first-year = the stage started in school year t (LEERJAAR 1 on 1 October t);
* left out, as the monitor leaves them out of every indicator (report 2.2, ``core.characteristics.verblijfsduur``):
  first-generation persons in NL six months or less on 1 January t (``synth.truth.short_stay``).  Until December
  2026 the truth kept them, and a 20,000-person zone's O21 differed from the pipeline by one such person
  (found by ``synth.verify``, the benchmark's check).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.catalogue import _Lookup, _catalogue, _sbb_category, _sbb_score
from monitor_dagster.synth.education.codes import VO_EXAM_CODE, _d
from monitor_dagster.synth.education.world import EducationWorld

#: keys of :func:`study_choice_truth` (listed in ``truth.TRUTH_KEYS`` too)
STUDY_CHOICE_KEYS: dict[str, str] = {
    "exam_candidates_whole_year": "{year: {herkomst_group: {EXAMENPROGRAMMAVO code: n}}} exam candidates "
                                  "(persons) of the year living in NL the whole year (O19)",
    "after_exam_whole_year": "{year: {EXAMENPROGRAMMAVO code: {mbo|hbo|wo|vo_higher|vo_same|none: n}}} "
                             "what those candidates follow on 1 October of the exam year: the main stage's "
                             "type, a vo programme of a higher or the same/lower track, or nothing (O20)",
    "first_year_field_whole_year": "{year: {mbo|hbo|wo: {OPLSECTOR code: n}}} main stages on 1 October of "
                                   "the year started in the school year starting that year, persons living "
                                   "in NL the whole year (O21)",
    "first_year_mbo_sbb_whole_year": "{year: {BOL|BBL: {KANSOPWERK code: n}}} the mbo ones of "
                                     "first_year_field_whole_year by leerweg and the SBB rating of their "
                                     "programme x leerweg for that studiekeuzejaar (O22)",
}

_TRACK_RANK = {"vmbo_b": 1, "vmbo_k": 1, "vmbo_g": 2, "vmbo_t": 2, "havo": 3, "vwo": 4}
_LEVEL_RANK = {"praktijk": 0, "vmbo_bk": 1, "vmbo_gt": 2, "havo": 3, "vwo": 4}


def _whole_year(residence: pl.DataFrame, year: int) -> pl.DataFrame:
    a = pl.lit(_d(year, 1, 1)).cast(pl.Int32).cast(pl.Date)
    b = pl.lit(_d(year, 12, 31)).cast(pl.Int32).cast(pl.Date)
    return (residence.filter((pl.col("start") <= a) & (pl.col("end").is_null() | (pl.col("end") >= b)))
            .select("pid").unique())


def _nested(df: pl.DataFrame, keys: list[str]) -> dict:
    out: dict = {}
    for row in df.sort(keys).iter_rows():
        node = out
        for k in row[:-2]:
            node = node.setdefault(str(k), {})
        node[str(row[-2])] = int(row[-1])
    return out


def study_choice_truth(ew: EducationWorld, persons: pl.DataFrame, residence: pl.DataFrame, first_year: int,
                       last_year: int) -> dict:
    """The keys of :data:`STUDY_CHOICE_KEYS` for ``first_year`` .. ``last_year``."""
    from monitor_dagster.synth.truth import without_short_stay

    lk = _Lookup(_catalogue())
    row_of = {o: i for i, o in enumerate(lk.oplnr)}
    code = pl.col("vo_programme").replace_strict(VO_EXAM_CODE, return_dtype=pl.Utf8)
    out: dict = {k: {} for k in STUDY_CHOICE_KEYS}
    for y in range(first_year, last_year + 1):
        # without the first generation in NL six months or less on 1 January (report 2.2, as the monitor)
        res = without_short_stay(_whole_year(residence, y), persons, residence, y)
        ex = (ew.exams.filter(pl.col("exam_year") == y).join(res, on="pid", how="semi")
              .with_columns(code.alias("code"))
              .sort("pid", "passed", "code", descending=[False, True, True]).unique("pid", keep="first")
              .join(persons.select("pid", "herkomst_group"), on="pid", how="left"))
        out["exam_candidates_whole_year"][str(y)] = _nested(ex.group_by("herkomst_group", "code").len(),
                                                            ["herkomst_group", "code"])
        oct1 = pl.lit(_d(y, 10, 1)).cast(pl.Int32).cast(pl.Date)
        main = (ew.careers.filter((pl.col("start") <= oct1) & (pl.col("end") >= oct1))
                .join(res, on="pid", how="semi").sort("pid", "oplnr").unique("pid", keep="first"))
        after = (ex.join(main.select("pid", "stage", "level"), on="pid", how="left").with_columns(
            pl.when(pl.col("stage").is_null()).then(pl.lit("none"))
            .when(pl.col("stage") != "vo").then(pl.col("stage"))
            .when(pl.col("level").replace_strict(_LEVEL_RANK, default=None, return_dtype=pl.Int8)
                  > pl.col("vo_programme").replace_strict(_TRACK_RANK, default=None, return_dtype=pl.Int8))
            .then(pl.lit("vo_higher")).otherwise(pl.lit("vo_same")).alias("next")))
        out["after_exam_whole_year"][str(y)] = _nested(after.group_by("code", "next").len(), ["code", "next"])
        sm = pl.when(pl.col("stage") == "mbo").then(8).otherwise(9)
        first = main.filter(pl.col("stage").is_in(["mbo", "hbo", "wo"])
                            & ((pl.col("start").dt.year() - (pl.col("start").dt.month() < sm).cast(pl.Int32)) == y))
        out["first_year_field_whole_year"][str(y)] = _nested(first.group_by("stage", "sector").len(),
                                                             ["stage", "sector"])
        mbo = first.filter(pl.col("stage") == "mbo")
        rows = np.array([row_of[o] for o in mbo["oplnr"].to_list()], dtype=np.int64)
        bbl = (mbo["type_mbo"] == "BBL").to_numpy().astype(np.int64)
        cat = (_sbb_category(_sbb_score(rows, bbl, np.full(len(rows), y), lk)) if len(rows)
               else np.array([], dtype=np.int64))
        sbb = mbo.select("type_mbo").with_columns(pl.Series("kans", cat.astype(str)))
        out["first_year_mbo_sbb_whole_year"][str(y)] = _nested(sbb.group_by("type_mbo", "kans").len(),
                                                               ["type_mbo", "kans"])
    return out
