"""Writes the "education" part of the truth file (planted facts); separate: read by the tests, not by the monitor."""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.catalogue import _Lookup, _catalogue, _sbb_category, _sbb_score
from monitor_dagster.synth.education.codes import (
    AANSLUITING_WORDING_SHIFT, GROUP_TRACK_EFFECT, VO_EXAM_CODE, WORDING_BREAK_YEAR, _d)
from monitor_dagster.synth.education.vsv import REASON_MISSING as VSV_REASON_MISSING
from monitor_dagster.synth.education.vsv import REASON_PROBS as VSV_REASON_PROBS
from monitor_dagster.synth.education.vsv import REASONS as VSV_REASONS
from monitor_dagster.synth.education.study_choice_truth import STUDY_CHOICE_KEYS, study_choice_truth
from monitor_dagster.synth.education.world import EducationWorld
from monitor_dagster.synth.params import NON_WESTERN, WESTERN


#: Keys of :func:`education_truth` and what they hold.
TRUTH_KEYS: dict[str, str] = {
    "group_track_effect": "planted latent shift of the secondary-track score per herkomst group",
    "aansluiting_wording_shift": "planted latent shift of SVOVRGAansluitwerk from the 2019 wording on",
    "exam_candidates": "{year: {herkomst_group: {EXAMENPROGRAMMAVO code: n}}} all exam rows of the year",
    "havo_vwo_share_first_exam": "{herkomst_group: {generation: share havo/vwo}} among first exam attempts "
                                 "(first vo programme) in first_year..last_year",
    "track_share_by_group": "{herkomst_group: {track: share}} among first exams (first vo programme) in the "
                            "window; praktijkonderwijs has no exam and is not included",
    "aansluiting_ge3_share": "{'before_2019': s, 'from_2019': s} share of answers >= 3 among all survey "
                             "respondents in the window (as if everyone had a job)",
    "stage_problems_share": "{'nederland'|'westers'|'niet-westers': share 'ja'} among respondents in window",
    "stage_apps_4plus_share": "{'nederland'|'westers'|'niet-westers': share with >= 4 applications}",
    "sbb_goed_share_mbo_entrants": "{year: {kind: share}} of mbo entrants (start in school year starting in "
                                   "year) whose programme x leerweg is rated 4 'goed' for that year",
    "mbo_dropout_rate": "{kind: share without diploma} among mbo stages started in the window",
    "vsv_reason_probs": "{'BOL'|'BBL': {VSVREDEN label: p}, 'missing': p} planted main reason of an early "
                        "leaver in VSVMBOTAB (drawn per file; 'missing' = no answer)",
    "level_shares_25_64": "{herkomst_group: {laag, middelbaar, hoog}} true level on 1 Oct last_year, age 25-64 "
                          "(all persons, no residence filter, no coverage)",
    "level_shares_25_64_native_gen0": "same for generation 0 (Nederland)",
    # research question 4a, O19-O22 (study_choice_truth.py; need the residence periods, else None)
    **STUDY_CHOICE_KEYS,
}


def education_truth(ew: EducationWorld, persons: pl.DataFrame, first_year: int, last_year: int,
                    residence: pl.DataFrame | None = None) -> dict:
    """Planted facts for tests and the truth file (see ``TRUTH_KEYS``); the keys of O19-O22
    (``STUDY_CHOICE_KEYS``) need the residence periods and are None without them."""
    p = persons.select("pid", "generation", "herkomst_group", "birth_date")
    kind_expr = (pl.when(pl.col("herkomst_group").is_in(list(NON_WESTERN))).then(pl.lit("niet-westers"))
                 .when(pl.col("herkomst_group").is_in(list(WESTERN))).then(pl.lit("westers"))
                 .otherwise(pl.lit("nederland")).alias("kind"))
    ex = ew.exams.filter(pl.col("exam_year").is_between(first_year, last_year)).join(p, on="pid", how="inner")
    ex = ex.with_columns(pl.col("vo_programme").replace_strict(VO_EXAM_CODE, return_dtype=pl.Utf8).alias("code"))
    cnt = ex.group_by("exam_year", "herkomst_group", "code").len().sort("exam_year", "herkomst_group", "code")
    exam_candidates: dict = {}
    for y, g, c, n in cnt.iter_rows():
        exam_candidates.setdefault(str(y), {}).setdefault(g, {})[c] = int(n)
    # first exam of the first vo programme
    first_vo = ew.careers.filter((pl.col("stage") == "vo") & (pl.col("entry_leerjaar") == 1)
                                 & pl.col("exam_year").is_not_null()
                                 & pl.col("exam_year").is_between(first_year, last_year)).join(p, on="pid")
    hv = (first_vo.group_by("herkomst_group", "generation")
          .agg(pl.col("level").is_in(["havo", "vwo"]).mean().alias("s"), pl.len().alias("n"))
          .sort("herkomst_group", "generation"))
    havo_vwo: dict = {}
    for g, gen, s, n in hv.iter_rows():
        havo_vwo.setdefault(g, {})[str(gen)] = float(s)
    tr = (first_vo.group_by("herkomst_group", "level").len()
          .with_columns((pl.col("len") / pl.col("len").sum().over("herkomst_group")).alias("s"))
          .sort("herkomst_group", "level"))
    track_share: dict = {}
    for g, lvl, _n, s in tr.iter_rows():
        track_share.setdefault(g, {})[lvl] = float(s)
    sv = ew.survey.filter(pl.col("survey_year").is_between(first_year, last_year) & pl.col("responded"))
    ge3 = sv.with_columns((pl.col("aansluiting").cast(pl.Int64) >= 3).alias("ge3"))
    before = ge3.filter(pl.col("survey_year") < WORDING_BREAK_YEAR)["ge3"].mean()
    after = ge3.filter(pl.col("survey_year") >= WORDING_BREAK_YEAR)["ge3"].mean()
    kinds = {0: "nederland", 1: "westers", 2: "niet-westers"}
    prob = sv.group_by("kind").agg(pl.col("problemen").mean().alias("s"),
                                   pl.col("sollicitaties").is_in(["4", "7", "11"]).mean().alias("a")).sort("kind")
    # SBB: entrants
    lk = _Lookup(_catalogue())
    ent = (ew.careers.filter((pl.col("stage") == "mbo"))
           .with_columns((pl.col("start").dt.year() - (pl.col("start").dt.month() < 8).cast(pl.Int32)).alias("sy"))
           .filter(pl.col("sy").is_between(first_year, last_year)).join(p, on="pid").with_columns(kind_expr))
    oplnr_to_row = {o: i for i, o in enumerate(lk.oplnr)}
    rows = np.array([oplnr_to_row[o] for o in ent["oplnr"].to_list()], dtype=np.int64)
    sbb_cat = _sbb_category(_sbb_score(rows, (ent["type_mbo"] == "BBL").to_numpy().astype(np.int64),
                                       ent["sy"].to_numpy(), lk)) if len(rows) else np.array([], dtype=np.int64)
    ent = ent.with_columns(pl.Series("goed", sbb_cat == 4))
    sg = ent.group_by("sy", "kind").agg(pl.col("goed").mean()).sort("sy", "kind")
    sbb_share: dict = {}
    for y, kd, s in sg.iter_rows():
        sbb_share.setdefault(str(y), {})[kd] = float(s)
    drop = ent.group_by("kind").agg((~pl.col("diploma")).mean().alias("s")).sort("kind")
    # levels on 1 Oct last_year, 25-64
    d = _d(last_year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    lv = (ew.attainments.filter(pl.col("attained") & (pl.col("date") <= D)).group_by("pid")
          .agg(pl.col("soi").max()).join(p, on="pid")
          .with_columns(((d - pl.col("birth_date").cast(pl.Int32)) / 365.25).floor().alias("age"))
          .filter(pl.col("age").is_between(25, 64))
          .with_columns(pl.col("soi").cast(pl.Utf8).str.slice(0, 1)
                        .replace_strict({"1": "laag", "2": "middelbaar", "3": "hoog"}, return_dtype=pl.Utf8)
                        .alias("niveau")))

    def shares(frame: pl.DataFrame) -> dict:
        out: dict = {}
        t = (frame.group_by("herkomst_group", "niveau").len()
             .with_columns((pl.col("len") / pl.col("len").sum().over("herkomst_group")).alias("s"))
             .sort("herkomst_group", "niveau"))
        for g, nv, _n, s in t.iter_rows():
            out.setdefault(g, {})[nv] = float(s)
        return out

    return {
        "group_track_effect": dict(GROUP_TRACK_EFFECT),
        "aansluiting_wording_shift": AANSLUITING_WORDING_SHIFT,
        "exam_candidates": exam_candidates,
        "havo_vwo_share_first_exam": havo_vwo,
        "track_share_by_group": track_share,
        "aansluiting_ge3_share": {"before_2019": None if before is None else float(before),
                                  "from_2019": None if after is None else float(after)},
        "stage_problems_share": {kinds[k]: float(s) for k, s, _a in prob.iter_rows()},
        "stage_apps_4plus_share": {kinds[k]: float(a) for k, _s, a in prob.iter_rows()},
        "sbb_goed_share_mbo_entrants": sbb_share,
        "mbo_dropout_rate": {k: float(s) for k, s in drop.iter_rows()},
        "vsv_reason_probs": {**{lw: dict(zip(VSV_REASONS.values(), p)) for lw, p in VSV_REASON_PROBS.items()},
                             "missing": VSV_REASON_MISSING},
        "level_shares_25_64": shares(lv),
        "level_shares_25_64_native_gen0": shares(lv.filter(pl.col("generation") == 0)),
        **(dict.fromkeys(STUDY_CHOICE_KEYS) if residence is None
           else study_choice_truth(ew, persons, residence, first_year, last_year)),
    }
