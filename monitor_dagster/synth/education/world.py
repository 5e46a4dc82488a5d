"""EducationWorld: the latent careers assembled into the frames the file modules read (shared: writes no file).

Separate from ``careers.py`` (the simulation stages) to keep both readable.  :class:`_World` adds the assembly
to the simulation; it draws the HOOGSTEOPLTAB coverage and the mbo-schoolverlatersonderzoek answers after the
careers, in the same order as before the split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from monitor_dagster.synth.education.careers import _Sim
from monitor_dagster.synth.education.catalogue import _catalogue, _sbb_score
from monitor_dagster.synth.education.codes import (
    AANSLUITING_WORDING_SHIFT, FINE, FINE_COARSE, FINE_SOI, FINE_STAGE, WORDING_BREAK_YEAR, F, _SOI_ERA_START, _d,
    _month_of, _sigmoid, _year_of, _ymd)

# ---------------------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------------------


@dataclass
class EducationWorld:
    """Latent education careers (see the package docstring).

    ``person_edu``: pid, edu_soi, edu_niveau, school_leave_date, secondary_track, edu_abroad (+ abroad_soi).
    ``careers``: one row per stage (vo, mbo, hbo, wo) with programme, dates, diploma, leerweg, vorm.
    ``oplnr_ref``: programme catalogue.  Internal frames used by the projections: ``exams`` (one row per exam
    attempt), ``attainments`` (dated level events: attained / followed), ``coverage`` (register and EBB
    coverage of HOOGSTEOPLTAB), ``survey`` (pre-drawn answers of the mbo-schoolverlatersonderzoek).
    """

    person_edu: pl.DataFrame
    careers: pl.DataFrame
    oplnr_ref: pl.DataFrame
    exams: pl.DataFrame = field(default_factory=pl.DataFrame)
    attainments: pl.DataFrame = field(default_factory=pl.DataFrame)
    coverage: pl.DataFrame = field(default_factory=pl.DataFrame)
    survey: pl.DataFrame = field(default_factory=pl.DataFrame)
    first_year: int = 0
    last_year: int = 0


class _World(_Sim):
    """The simulation (:class:`careers._Sim`) plus its assembly into an :class:`EducationWorld`."""

    # -- assemble ----------------------------------------------------------------------------------------
    def build(self, first_year: int, last_year: int) -> EducationWorld:
        self.secondary()
        self.abroad()
        self.entry()
        self.followups()
        lk = self.lk
        parts = []
        for s in self.slots:
            idx = np.flatnonzero(s["valid"])
            fine = s["stage_fine"][idx]
            prog = s["prog"][idx]
            dip = s["diploma"][idx]
            is_mbo = (fine >= F["mbo1"]) & (fine <= F["mbo4"])
            is_ho = fine >= F["hbo_ad"]
            parts.append(pl.DataFrame({
                "pid": self.pid[idx],
                "seq": np.full(len(idx), s["seq"], dtype=np.int8),
                "fine": fine.astype(np.int8),
                "prog_row": prog.astype(np.int32),
                "start_d": s["start"][idx].astype(np.int32),
                "end_d": s["end"][idx].astype(np.int32),
                "diploma": dip,
                "ddate_d": np.where(dip, s["ddate"][idx], 0).astype(np.int32),
                "bbl": s["bbl"][idx],
                "bol_dt": s["bol_dt"][idx],
                "is_mbo": is_mbo,
                "is_ho": is_ho,
                "vorm": s["vorm"][idx].astype(np.int8),
                "exam_year": s["exam_year"][idx].astype(np.int32),
                "retake": s["retake"][idx],
                "first_pass": s["first_pass"][idx],
                "entry_leerjaar": s["entry_leerjaar"][idx].astype(np.int8),
                "neven_row": s["neven"][idx].astype(np.int32),
            }))
        raw = pl.concat(parts)
        progs = pl.DataFrame({
            "prog_row": np.arange(len(lk.oplnr), dtype=np.int32), "oplnr": lk.oplnr.astype(str),
            "sector": lk.sector.astype(str), "richting": lk.richting.astype(str),
            "crebo": pl.Series(lk.crebo.tolist(), dtype=pl.Utf8)})
        nev = progs.select(pl.col("prog_row").alias("neven_row"), pl.col("oplnr").alias("neven_oplnr"))
        fine_map = pl.DataFrame({
            "fine": np.arange(len(FINE), dtype=np.int8), "stage": FINE_STAGE, "level": FINE_COARSE,
            "vo_programme": [f if FINE_STAGE[i] == "vo" else None for i, f in enumerate(FINE)],
            "soi": [str(int(s)) for s in FINE_SOI]})
        careers = (raw.join(progs, on="prog_row", how="left").join(nev, on="neven_row", how="left")
                   .join(fine_map, on="fine", how="left")
                   .with_columns(
            pl.col("start_d").cast(pl.Date).alias("start"),
            pl.col("end_d").cast(pl.Date).alias("end"),
            pl.when(pl.col("diploma")).then(pl.col("ddate_d").cast(pl.Date)).otherwise(None).alias("diploma_date"),
            pl.when(pl.col("is_mbo")).then(pl.when(pl.col("bbl")).then(pl.lit("BBL")).otherwise(pl.lit("BOL")))
            .otherwise(None).alias("type_mbo"),
            pl.when(pl.col("is_mbo")).then(pl.col("bol_dt")).otherwise(None).alias("bol_deeltijd"),
            pl.when(pl.col("is_ho")).then(pl.col("vorm").cast(pl.Utf8)).otherwise(None).alias("vorm_ho"),
            pl.when(pl.col("exam_year") > 0).then(pl.col("exam_year").cast(pl.Int16)).otherwise(None)
            .alias("exam_year"),
            (pl.col("seq") != 7).alias("initial"),
        ).sort("pid", "start", "seq"))
        careers = careers.select(
            "pid", "stage", "seq", "oplnr", "level", "vo_programme", "sector", "richting", "crebo", "start", "end",
            "diploma", "diploma_date", "type_mbo", "bol_deeltijd", "vorm_ho", "exam_year", "retake", "first_pass",
            "entry_leerjaar", "neven_oplnr", "soi", "initial", "prog_row", "fine")

        # exams
        ex = pl.concat([pl.DataFrame({k: np.asarray(v) for k, v in r.items()}) for r in self.exam_rows])
        exams = (ex.with_columns(pl.col("fine").cast(pl.Int8), pl.col("prog_row").cast(pl.Int32),
                                 pl.col("exam_year").cast(pl.Int32))
                 .join(fine_map.select("fine", "vo_programme"), on="fine", how="left")
                 .join(progs.select("prog_row", "oplnr"), on="prog_row", how="left")
                 .select("pid", "exam_year", "attempt", "vo_programme", "oplnr", "passed")
                 .sort("pid", "exam_year", "attempt"))

        attain = self._attainments(careers)
        coverage = self._coverage(careers)
        person_edu = self._person_edu(careers, attain)
        survey = self._survey(careers)
        ref = _catalogue().drop("weight", "sbb_base")
        return EducationWorld(person_edu=person_edu, careers=careers.drop("prog_row", "fine"), oplnr_ref=ref,
                              exams=exams, attainments=attain, coverage=coverage, survey=survey,
                              first_year=first_year, last_year=last_year)

    def _attainments(self, careers: pl.DataFrame) -> pl.DataFrame:
        """Dated level events: ``attained`` True (HB) or False (only followed, HG); ``source`` 0 base,
        1 Dutch register, 2 abroad, 3 PhD."""
        ev = []
        nl = self.nl_school
        # base: completed primary school when entering vo
        idx = np.flatnonzero(nl)
        ev.append((self.pid[idx], _ymd(self.vo_S[idx], 8, 1), np.full(len(idx), 1112), True, 0, "000001"))
        # havo/vwo onderbouw completed when entering leerjaar 4 (vo1), or when stacking into havo 4/vwo 5
        vo1 = self.vo1
        hv = vo1["valid"] & (self.vo_fine >= F["havo"])
        ob_date = _ymd(self.vo_S + 3, 8, 1)
        m = hv & (vo1["end"] >= ob_date)
        idx = np.flatnonzero(m)
        ev.append((self.pid[idx], ob_date[idx], np.full(len(idx), 1222), True, 1, "000002"))
        idx = np.flatnonzero(self.vo2["valid"])
        ev.append((self.pid[idx], self.vo2["start"][idx], np.full(len(idx), 1222), True, 1, "000002"))
        # abroad level
        idx = np.flatnonzero(self.abroad_vo)
        ab = self.abroad_soi[idx]
        ev.append((self.pid[idx], self.abroad_leave[idx], ab, True, 2, np.char.add("09", ab.astype(str))))
        # PhD
        idx = np.flatnonzero(self.phd)
        ev.append((self.pid[idx], self.phd_date[idx], np.full(len(idx), 3213), True, 3, "000003"))
        frames = []
        for pid_, date_, soi_, att, src, opl in ev:
            k = len(pid_)
            frames.append(pl.DataFrame({
                "pid": pid_.astype(np.int64), "date_d": np.asarray(date_, dtype=np.int32),
                "soi": np.asarray(soi_, dtype=np.int16), "attained": np.full(k, att),
                "source": np.full(k, src, dtype=np.int8),
                "oplnr": np.full(k, opl) if isinstance(opl, str) else np.asarray(opl, dtype=str),
            }, schema_overrides={"oplnr": pl.Utf8}))
        c = careers
        # diplomas
        dip = c.filter(pl.col("diploma")).select(
            "pid", pl.col("diploma_date").cast(pl.Int32).alias("date_d"), pl.col("soi").cast(pl.Int16),
            pl.lit(True).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"), "oplnr")
        # followed: programme level at the start; havo/vwo pupils follow 1222 in leerjaar 1-3
        fol = c.select(
            "pid", pl.col("start").cast(pl.Int32).alias("date_d"),
            pl.when(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
            .then(pl.lit(1222)).otherwise(pl.col("soi").cast(pl.Int64)).cast(pl.Int16).alias("soi"),
            pl.lit(False).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"),
            pl.when(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
            .then(pl.lit("000002")).otherwise(pl.col("oplnr")).alias("oplnr"))
        hv_up = (c.filter(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
                 .with_columns(pl.col("start").dt.offset_by("3y").alias("_up"))
                 .filter(pl.col("_up") <= pl.col("end"))
                 .select("pid", pl.col("_up").cast(pl.Int32).alias("date_d"), pl.col("soi").cast(pl.Int16),
                         pl.lit(False).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"), "oplnr"))
        out = pl.concat(frames + [dip, fol, hv_up], how="vertical_relaxed")
        return (out.with_columns(pl.col("date_d").cast(pl.Date).alias("date"))
                .select("pid", "date", "soi", "attained", "source", "oplnr")
                .sort("pid", "date", "soi"))

    def _coverage(self, careers: pl.DataFrame) -> pl.DataFrame:
        """HOOGSTEOPLTAB coverage: register coverage from the first enrolment in the register era (vo 2003,
        mbo 2004, ho 1986) on; otherwise only through the EBB (a sample, so low and growing with the years)."""
        eras = pl.DataFrame({"stage": list(_SOI_ERA_START), "era": [_d(*v) for v in _SOI_ERA_START.values()]}
                            ).with_columns(pl.col("era").cast(pl.Int32).cast(pl.Date))
        reg = (careers.join(eras, on="stage", how="left")
               .filter(pl.col("end") >= pl.col("era"))
               .group_by("pid").agg(pl.max_horizontal("start", "era").min().alias("reg_date")))
        base = pl.DataFrame({"pid": self.pid, "u_ebb": self.u(),
                             "abroad_educated": self.abroad_vo})
        return base.join(reg, on="pid", how="left").sort("pid")

    def _person_edu(self, careers: pl.DataFrame, attain: pl.DataFrame) -> pl.DataFrame:
        final = attain.filter(pl.col("attained")).group_by("pid").agg(pl.col("soi").max().alias("soi_max"))
        last_end = careers.filter(pl.col("initial")).group_by("pid").agg(pl.col("end").max().alias("nl_end"))
        track_names = np.array(["praktijk", "vmbo_bk", "vmbo_gt", "havo", "vwo"], dtype=object)
        track = np.where(self.track >= 0, track_names[np.clip(self.track, 0, 4)], "buitenland")
        base = pl.DataFrame({
            "pid": self.pid,
            "secondary_track": track.astype(str),
            "edu_abroad": self.edu_abroad,
            "abroad_soi": np.where(self.abroad_soi > 0, self.abroad_soi, 0).astype(np.int16),
            "abroad_leave": self.abroad_leave.astype(np.int32),
        })
        pe = (base.join(final, on="pid", how="left").join(last_end, on="pid", how="left")
              .with_columns(
                  pl.col("soi_max").fill_null(1112).cast(pl.Utf8).alias("edu_soi"),
                  pl.coalesce("nl_end", pl.col("abroad_leave").cast(pl.Date)).alias("school_leave_date"),
                  pl.when(pl.col("abroad_soi") > 0).then(pl.col("abroad_soi").cast(pl.Utf8)).otherwise(None)
                  .alias("abroad_soi"))
              .with_columns(pl.col("edu_soi").str.slice(0, 1).replace_strict(
                  {"1": "laag", "2": "middelbaar", "3": "hoog"}, return_dtype=pl.Utf8).alias("edu_niveau")))
        return pe.select("pid", "edu_soi", "edu_niveau", "school_leave_date", "secondary_track", "edu_abroad",
                         "abroad_soi").sort("pid")

    def _survey(self, careers: pl.DataFrame) -> pl.DataFrame:
        """Pre-drawn mbo-schoolverlatersonderzoek answers for every mbo graduate (main diploma); survey year =
        end year of the graduation school year + 1 (report 5.1, 4b/4c)."""
        c = careers.filter((pl.col("stage") == "mbo") & pl.col("diploma")).sort("pid", "diploma_date", "oplnr")
        pidmap = pl.DataFrame({"pid": self.pid, "i": np.arange(self.n)})
        c = c.join(pidmap, on="pid", how="left")
        i = c["i"].to_numpy()
        m = len(i)
        dd = c["diploma_date"].to_physical().to_numpy().astype(np.int64)
        sy_end = _year_of(dd) + (_month_of(dd) >= 8)
        survey_year = sy_end + 1
        bbl = (c["type_mbo"] == "BBL").to_numpy()
        row = c["prog_row"].to_numpy().astype(np.int64)
        niveau = c["level"].str.slice(3, 1).to_numpy()
        sector = c["sector"].to_numpy()
        nw = self.nw[i]
        fem = self.female[i]
        abil = self.ability[i]
        rng = self.rng
        u_resp = rng.random(m)
        p_resp = 0.36 - 0.09 * nw + 0.05 * fem + 0.03 * bbl
        respond = u_resp < p_resp
        score = _sbb_score(row, bbl.astype(np.int64), sy_end, self.lk)
        z = (0.35 * abil + 0.35 * score + 0.35 * bbl - 0.15 * nw + rng.standard_normal(m)
             + AANSLUITING_WORDING_SHIFT * (survey_year >= WORDING_BREAK_YEAR))
        aans = 1 + np.searchsorted(np.array([-1.29, -0.58, 0.58]), z)
        mean_apps = 1.4 * np.exp(0.55 * nw + 0.25 * bbl - 0.15 * abil + 0.2 * (sector == "5"))
        apps = 1 + rng.poisson(rng.gamma(2.0, mean_apps / 2.0))
        app_cat = np.select([apps <= 1, apps <= 3, apps <= 6, apps <= 10], ["1", "2", "4", "7"], "11")
        p_prob = _sigmoid(-1.7 + 0.5 * (apps >= 4) + 0.5 * (apps >= 7) + 0.55 * nw + 0.2 * bbl)
        problems = rng.random(m) < p_prob
        return pl.DataFrame({
            "pid": c["pid"], "survey_year": survey_year.astype(np.int32),
            "schooljaar": np.char.add(np.char.add((sy_end - 1).astype(str), "/"), sy_end.astype(str)),
            "oplnr": c["oplnr"], "crebo": c["crebo"], "bbl": bbl, "niveau": niveau,
            "responded": respond, "aansluiting": aans.astype(str),
            "sollicitaties": app_cat, "problemen": problems, "nw": nw, "female": fem,
            "kind": self.kind[i].astype(np.int8),
        }).sort("pid", "survey_year", "oplnr")


def simulate_education(persons: pl.DataFrame, rng: np.random.Generator, first_year: int,
                       last_year: int) -> EducationWorld:
    """Simulate one education career per person (see the package docstring; report 2.2 and 5.1).

    Vectorised over persons; deterministic for a given ``rng`` state and set of persons (input is sorted by
    ``pid`` first, so the input row order does not matter).  ``first_year``/``last_year`` only matter for the
    projections; careers exist for every birth year (planned future dates for children).
    """
    return _World(persons, rng).build(first_year, last_year)
