"""The latent education careers, stage by stage: shared by every file module (writes no file; model: package doc).

Stages in drawing order: vo (track, exams, stacking), education abroad, the first post-vo programme, mbo/hbo/wo
follow-ups and adult learning.  ``world.py`` assembles the result into an ``EducationWorld``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.catalogue import _LEVEL_TYPE, _Lookup, _catalogue, _sector_probs
from monitor_dagster.synth.education.codes import (
    ABROAD_LEVEL_SHARES, FINE_SOI, GROUP_TRACK_EFFECT, F, _DEFAULT_GROUP, _G, _draw, _logit, _month_of, _next_start,
    _sigmoid, _year_of, _ymd)
from monitor_dagster.synth.params import GROUPS, NON_WESTERN, WESTERN

# ---------------------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------------------


class _Sim:
    def __init__(self, persons: pl.DataFrame, rng: np.random.Generator):
        p = persons.sort("pid")
        self.rng = rng
        self.n = p.height
        self.pid = p["pid"].to_numpy().astype(np.int64)
        self.female = (p["sex"] == "2").to_numpy()
        self.sex_i = self.female.astype(np.int64)
        self.bdays = p["birth_date"].to_physical().to_numpy().astype(np.int64)
        self.by = _year_of(self.bdays)
        self.gen = p["generation"].to_numpy().astype(np.int64)
        self.grp = p["herkomst_group"].replace_strict(_G, default=_DEFAULT_GROUP, return_dtype=pl.Int64).to_numpy()
        arr = p["first_arrival"].to_physical().fill_null(-(10 ** 7)).to_numpy().astype(np.int64)
        self.has_arr = arr > -(10 ** 7)
        self.arr = np.where(self.has_arr, arr, self.bdays)
        self.ability = p["ability"].fill_null(0.0).to_numpy().astype(np.float64)
        gnames = np.array(GROUPS, dtype=object)[self.grp]
        self.nw = np.isin(gnames, NON_WESTERN)
        self.kind = np.where(self.nw, 2, np.where(np.isin(gnames, WESTERN), 1, 0))
        self.gnames = gnames
        self.k = np.clip((self.by - 1930) / 55.0, 0.0, 1.0)  # modernisation factor of the cohort
        self.arr_age = np.where(self.gen == 1, (self.arr - self.bdays) / 365.25, -1.0)
        self.lk = _Lookup(_catalogue())
        self.sect_p = _sector_probs()
        self.slots: list[dict] = []
        self.exam_rows: list[dict] = []

    # -- helpers -------------------------------------------------------------------------------------------
    def u(self) -> np.ndarray:
        return self.rng.random(self.n)

    def sector_draw(self, fine: np.ndarray, valid: np.ndarray, u: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        for name, lt in _LEVEL_TYPE.items():
            m = valid & (fine == F[name])
            if m.any():
                P = self.sect_p[lt][self.sex_i[m], self.kind[m]]
                out[m] = _draw(u[m], P)
        return out

    # -- vo ----------------------------------------------------------------------------------------------
    def _exam(self, valid, fine, e1, extra_logit, retake_p):
        """First attempt in e1, a retake in e1 + 1 for part of the failures."""
        p0 = np.array([0.0, 0.97, 0.96, 0.94, 0.93, 0.88, 0.91] + [0.0] * 9)[fine]
        lg = _logit(np.where(valid, p0, 0.5)) + 0.5 * self.ability + extra_logit
        pass1 = valid & (self.u() < _sigmoid(lg))
        retake = valid & ~pass1 & (self.u() < retake_p)
        pass2 = retake & (self.u() < 0.85)
        diploma = pass1 | pass2
        final_year = np.where(retake, e1 + 1, e1)
        dd = _ymd(final_year, 6, 1) + 9 + (self.u() * 11).astype(np.int64)
        return pass1, retake, pass2, diploma, final_year, dd

    def _record_exams(self, valid, fine, prog_row, e1, pass1, retake, pass2):
        for mask, year, ok, attempt in ((valid, e1, pass1, 1), (retake, e1 + 1, pass2, 2)):
            idx = np.flatnonzero(mask)
            self.exam_rows.append({
                "pid": self.pid[idx], "exam_year": year[idx], "fine": fine[idx], "prog_row": prog_row[idx],
                "passed": ok[idx], "attempt": np.full(len(idx), attempt, dtype=np.int8)})

    def secondary(self):
        n = self.n
        gen1 = self.gen == 1
        self.nl_school = ~(gen1 & (self.arr_age >= 16))
        self.abroad_vo = gen1 & (self.arr_age >= 16)
        self.edu_abroad = gen1 & (self.arr_age >= 18)
        early = self.u() < 0.03
        # arrived after the normal start of vo (1 August of the 12th year): enters vo late (after ISK)
        late = gen1 & (self.arr > _ymd(self.by + 12 - early, 8, 1)) & (self.arr_age < 16)
        young = gen1 & (self.arr_age >= 0.5) & ~late & (self.arr_age < 16)
        geff = np.array([GROUP_TRACK_EFFECT[g] for g in GROUPS])[self.grp]
        self.geff = geff
        cohort = -0.75 * (1 - self.k)
        sex_eff = np.where(self.female, np.interp(self.by, [1940, 1960, 1985], [-0.3, -0.15, 0.08]), 0.0)
        arrival_pen = np.where(late, -0.5, 0.0) + np.where(young, -0.15 - 0.03 * self.arr_age, 0.0)
        z = 0.85 * self.ability + geff + cohort + sex_eff + arrival_pen + 0.5 * self.rng.standard_normal(n)
        cuts = np.array([-1.855, -0.665, 0.049, 0.830])
        track = np.searchsorted(cuts, z)  # 0 praktijk, 1 vmbo_bk, 2 vmbo_gt, 3 havo, 4 vwo
        u_sub = self.u()
        fine = np.select(
            [track == 0, track == 1, track == 2, track == 3, track == 4],
            [F["praktijk"], np.where(z < -1.2 + 0.3 * (u_sub - 0.5), F["vmbo_b"], F["vmbo_k"]),
             np.where(u_sub < 0.10, F["vmbo_g"], F["vmbo_t"]), F["havo"], F["vwo"]])
        valid = self.nl_school.copy()
        self.track = np.where(valid, track, -1)
        # start year and exam year
        S = self.by + 12 - early
        arr_sy = _year_of(_next_start(self.arr, 8))
        S = np.where(late, np.maximum(S, arr_sy), S)
        dur = np.array([6, 4, 4, 4, 4, 5, 6] + [0] * 9)[fine]
        p_rep = np.where(track >= 3, 0.18, 0.10)
        rep = (self.u() < p_rep * np.exp(-0.4 * self.ability)).astype(np.int64)
        e1 = self.by + 12 + dur - early + rep
        e1 = np.where(late, np.maximum(e1, S + np.where(track >= 3, 3, 2)), e1)
        start = np.where(late, np.maximum(_ymd(S, 8, 1), self.arr + 14), _ymd(S, 8, 1))
        # vo drop-out before the exam (much more common in old cohorts: leaving at 14)
        p_drop = np.where(track >= 3, 0.015 + 0.12 * (1 - self.k), 0.02 + 0.33 * (1 - self.k)) + 0.04 * late
        drop = valid & (track > 0) & (self.u() < p_drop)
        drop_year = S + 2 + (self.u() * np.maximum(e1 - S - 2, 1)).astype(np.int64)
        drop_year = np.minimum(drop_year, e1)
        took_exam = valid & (track > 0) & ~drop
        u_prog = self.u()
        sect = self.sector_draw(fine, valid & (track.astype(bool)) & (fine <= F["vmbo_t"]), self.u())
        sect = np.where((fine == F["havo"]) | (fine == F["vwo"]) | (fine == F["praktijk"]), 0, sect)
        prog = self.lk.pick(np.where(valid, fine, F["havo"]), np.where(valid, sect, 0), u_prog)
        retake_p = np.where(track >= 3, 0.75, 0.55)
        pass1, retake, pass2, diploma, final_year, dd = self._exam(took_exam, fine, e1, 0.4 * geff, retake_p)
        self._record_exams(took_exam, fine, prog, e1, pass1, retake, pass2)
        # praktijkonderwijs: no exam; leaves at 18 with a certificate in 75% of cases
        prak = valid & (track == 0)
        prak_end_year = np.maximum(self.by + 18, S + 2)
        prak_cert = prak & (self.u() < 0.75)
        end_year = np.where(prak, prak_end_year, np.where(drop, drop_year, final_year))
        end = _ymd(end_year, 7, 31)
        end = np.maximum(end, start + 60)
        diploma = np.where(prak, prak_cert, diploma)
        dd = np.where(prak, end, dd)
        self.slots.append(dict(stage_fine=fine, valid=valid, start=start, end=end, diploma=diploma & valid,
                               ddate=dd, prog=prog, bbl=np.zeros(n, bool), bol_dt=np.zeros(n, bool),
                               vorm=np.zeros(n, np.int64), exam_year=np.where(took_exam, e1, -1),
                               retake=retake, first_pass=pass1, entry_leerjaar=np.ones(n, np.int64),
                               neven=np.full(n, -1), seq=0, vo_S=S))
        self.vo1 = self.slots[-1]
        self.vo_fine = fine
        self.vo_S = S
        # stacking: vmbo-g/t -> havo 4, havo -> vwo 5
        stack_grp = np.isin(self.gnames, ["Turkije", "Marokko", "Suriname", "Antillen en Aruba"])
        p_h = (0.04 + 0.06 * self.k) * np.where(stack_grp, 1.6, 1.0) * np.exp(0.5 * self.ability)
        p_v = 0.05 * self.k * np.exp(0.5 * self.ability)
        u_st = self.u()
        to_havo = valid & diploma & ((fine == F["vmbo_g"]) | (fine == F["vmbo_t"])) & (u_st < np.minimum(p_h, 0.4))
        to_vwo = valid & diploma & (fine == F["havo"]) & (u_st < np.minimum(p_v, 0.3))
        v2 = to_havo | to_vwo
        fine2 = np.where(to_vwo, F["vwo"], F["havo"])
        start2 = _ymd(final_year, 8, 1)
        rep2 = (self.u() < 0.12).astype(np.int64)
        e2 = final_year + 2 + rep2
        prog2 = self.lk.pick(fine2, np.zeros(n, np.int64), self.u())
        p1b, rt2, p2b, dip2, fy2, dd2 = self._exam(v2, fine2, e2, 0.4 * geff - 0.4, np.full(n, 0.5))
        self._record_exams(v2, fine2, prog2, e2, p1b, rt2, p2b)
        end2 = _ymd(fy2, 7, 31)
        self.slots.append(dict(stage_fine=fine2, valid=v2, start=start2, end=end2, diploma=dip2 & v2, ddate=dd2,
                               prog=prog2, bbl=np.zeros(n, bool), bol_dt=np.zeros(n, bool),
                               vorm=np.zeros(n, np.int64), exam_year=np.where(v2, e2, -1), retake=rt2,
                               first_pass=p1b, entry_leerjaar=np.where(to_vwo, 5, 4), neven=np.full(n, -1), seq=1,
                               vo_S=S))
        self.vo2 = self.slots[-1]
        # outcome class for the follow-up decision
        # 0 praktijk, 1 vmbo-b/k dipl, 2 vmbo-g/t dipl, 3 havo dipl, 4 vwo dipl, 5 vmbo no dipl, 6 havo/vwo no dipl
        vo_level = np.where(v2 & dip2, fine2, fine)
        has_dip = diploma | (v2 & dip2)
        cls = np.full(n, -1)
        cls = np.where(valid & (track == 0), 0, cls)
        vm_bk = (vo_level == F["vmbo_b"]) | (vo_level == F["vmbo_k"])
        vm_gt = (vo_level == F["vmbo_g"]) | (vo_level == F["vmbo_t"])
        cls = np.where(valid & (track > 0) & has_dip & vm_bk, 1, cls)
        cls = np.where(valid & (track > 0) & has_dip & vm_gt, 2, cls)
        cls = np.where(valid & (track > 0) & has_dip & (vo_level == F["havo"]), 3, cls)
        cls = np.where(valid & (track > 0) & has_dip & (vo_level == F["vwo"]), 4, cls)
        cls = np.where(valid & (track > 0) & ~has_dip & (track <= 2), 5, cls)
        cls = np.where(valid & (track > 0) & ~has_dip & (track >= 3), 6, cls)
        self.vo_cls = cls
        self.vo_end = np.where(v2, end2, end)
        self.vo_dip_fine = np.where(has_dip, vo_level, -1)

    # -- abroad ------------------------------------------------------------------------------------------
    def abroad(self):
        shares = np.array([ABROAD_LEVEL_SHARES[g] for g in GROUPS])[self.grp].copy()
        # older cohorts brought lower levels
        shares[:, 2] *= 0.5 + 0.5 * self.k
        shares[:, 0] += (1 - shares.sum(axis=1))
        lvl = _draw(self.u(), shares)  # 0 laag 1 mid 2 hoog
        lvl = np.where((lvl == 2) & (self.arr_age < 21.5), 1, lvl)
        u = self.u()
        soi = np.select(
            [lvl == 0, lvl == 1, lvl == 2],
            [np.select([u < 0.35, u < 0.60], [1112, 1212], 1221),
             np.select([u < 0.25, u < 0.50, u < 0.75], [2111, 2112, 2121], 2132),
             np.select([u < 0.40, u < 0.60, u < 0.95], [3112, 3113, 3212], 3213)])
        # arrivals at 16-17: a foreign secondary level only
        soi = np.where(self.abroad_vo & ~self.edu_abroad, np.where(lvl == 0, 1221, 2131), soi)
        leave_age = np.select([lvl == 0, lvl == 1], [15.5 + 1.5 * self.u(), 18.5 + 2.0 * self.u()],
                              22.5 + 3.0 * self.u())
        leave = self.bdays + (leave_age * 365.25).astype(np.int64)
        leave = np.minimum(leave, self.arr - 1)
        self.abroad_lvl = np.where(self.abroad_vo, lvl, -1)
        self.abroad_soi = np.where(self.abroad_vo, soi, -1)
        self.abroad_leave = leave

    # -- post-secondary entry ----------------------------------------------------------------------------
    def entry(self):
        """First post-vo programme: category 0 none, 1-4 mbo1-4, 5 hbo_ad, 6 hbo_ba, 7 wo_ba."""
        P_new = np.array([
            [.62, .35, .03, 0, 0, 0, 0, 0],
            [.04, .03, .55, .33, .05, 0, 0, 0],
            [.03, 0, .04, .17, .76, 0, 0, 0],
            [.07, 0, 0, 0, .12, .03, .78, 0],
            [.03, 0, 0, 0, 0, 0, .25, .72],
            [.30, .40, .30, 0, 0, 0, 0, 0],
            [.20, 0, .05, .12, .63, 0, 0, 0],
        ])
        P_old = np.array([
            [.92, .08, 0, 0, 0, 0, 0, 0],
            [.40, 0, .40, .20, 0, 0, 0, 0],
            [.28, 0, .15, .27, .30, 0, 0, 0],
            [.20, 0, 0, 0, .30, 0, .50, 0],
            [.12, 0, 0, 0, 0, 0, .30, .58],
            [.75, .05, .20, 0, 0, 0, 0, 0],
            [.50, 0, 0, .20, .30, 0, 0, 0],
        ])
        cls = np.where(self.vo_cls >= 0, self.vo_cls, 0)
        k = self.k[:, None]
        P = k * P_new[cls] + (1 - k) * P_old[cls]
        nxt = _draw(self.u(), P)
        nxt = np.where(self.vo_cls >= 0, nxt, 0)
        gap_p = np.where((cls == 3) | (cls == 4), 0.13, 0.05)
        gap = (self.u() < gap_p).astype(np.int64)
        base_end = self.vo_end
        start = np.where(nxt >= 5, _next_start(base_end, 9), _next_start(base_end, 8))
        start = np.where(gap == 1, _ymd(_year_of(start) + 1, _month_of(start), 1), start)
        # arrivals at 16-17 (foreign secondary level): ISK / schakeljaar, then mbo or hbo
        av = self.abroad_vo & ~self.edu_abroad
        u = self.u()
        mid = self.abroad_lvl >= 1
        a_nxt = np.where(mid, np.select([u < 0.35, u < 0.50], [4, 6], 0),
                         np.select([u < 0.20, u < 0.45, u < 0.55], [1, 2, 3], 0))
        a_start_m = np.where(a_nxt >= 5, 9, 8)
        a_start = np.where(a_start_m == 9, _next_start(self.arr + 365, 9), _next_start(self.arr + 365, 8))
        nxt = np.where(av, a_nxt, nxt)
        start = np.where(av, a_start, start)
        # adults arriving at 18+: international students and (refugee) newcomers entering mbo/hbo
        ad = self.edu_abroad
        g = self.gnames
        p_int = np.select([g == "Duitsland", g == "westers overig", g == "Polen", g == "Indonesië",
                           g == "overig niet-westers", g == "Iran"], [0.35, 0.25, 0.08, 0.10, 0.10, 0.08], 0.0)
        intl = ad & (self.arr_age < 24) & (self.u() < p_int)
        refugee = np.isin(g, ["Afghanistan", "Irak", "Iran", "Somalië", "Syrië", "Eritrea"])
        p_nc = np.where(refugee, 0.15, np.where(self.nw, 0.06, 0.0))
        newc = ad & ~intl & (self.arr_age < 30) & (self.u() < p_nc)
        u = self.u()
        i_nxt = np.where(u < 0.55, 7, 6)
        n_nxt = np.where(self.abroad_lvl >= 1, np.select([u < 0.2, u < 0.6], [6, 4], 3),
                         np.select([u < 0.5, u < 0.8], [2, 3], 4))
        nxt = np.where(intl, i_nxt, np.where(newc, n_nxt, nxt))
        # international students start on the first 1 September or 1 February (spring intake) after arrival
        start = np.where(intl, np.minimum(_next_start(self.arr - 1, 9), _next_start(self.arr - 1, 2)), start)
        n_start = self.arr + ((1.0 + self.u()) * 365.25).astype(np.int64)
        start = np.where(newc, np.where(n_nxt >= 5, _next_start(n_start, 9), _next_start(n_start, 8)), start)
        self.intl = intl
        # the international students bring a vwo-like level
        self.abroad_soi = np.where(intl, np.maximum(self.abroad_soi, 2132), self.abroad_soi)
        # hbo-ad exists from 2006 on
        nxt = np.where((nxt == 5) & (_year_of(start) < 2006), 6, nxt)
        self.nxt = nxt
        self.nxt_start = start

    # -- generic programme stage (mbo / hbo / wo) ------------------------------------------------------------
    def programme(self, enter, fine, start, seq, prev_sector=None, keep_p=0.0, dur_override=None, bbl_p=None):
        n = self.n
        fine = np.where(enter, fine, F["mbo2"])
        fi = fine - F["mbo1"]  # 0..8 over mbo1..wo_ma
        nomdur = np.array([1, 2, 3, 3, 2, 4, 1, 3, 1])[fi]
        u = self.u()
        alt = np.array([0, 0, -1, 1, 0, 0, 1, 0, 1])[fi]
        alt_p = np.array([0, 0, .3, .25, 0, 0, .3, 0, .4])[fi]
        dur = nomdur + np.where(u < alt_p, alt, 0)
        if dur_override is not None:
            dur = np.where(dur_override > 0, dur_override, dur)
        age_start = (start - self.bdays) / 365.25
        is_mbo = fi <= 3
        is_wo = fi >= 7
        # sector
        sect = self.sector_draw(fine, enter, self.u())
        if prev_sector is not None:
            keep = enter & (self.u() < keep_p) & (prev_sector >= 0)
            ok = self.lk.allowed[fine, np.clip(prev_sector, 0, 9)]
            sect = np.where(keep & ok, prev_sector, sect)
        prog = self.lk.pick(fine, sect, self.u(), enter)
        # leerweg / vorm
        p_bbl = (np.array([.22, .35, .28, .13, 0, 0, 0, 0, 0])[fi] + 0.30 * (age_start >= 20)
                 + 0.15 * (1 - self.k) + 0.06 * (sect == 3))
        if bbl_p is not None:
            p_bbl = np.full(n, bbl_p)
        bbl = enter & is_mbo & (self.u() < np.minimum(p_bbl, 0.9))
        bol_dt = enter & is_mbo & ~bbl & (self.u() < np.where(age_start >= 20, 0.15, 0.01))
        u = self.u()
        p_dt = np.select([age_start < 21, age_start < 25], [0.02, 0.10], 0.55) + 0.4 * (fine == F["hbo_ma"])
        p_dt = p_dt * np.where(is_wo, 0.3, 1.0)
        vorm = np.where(u < p_dt, 2, np.where((u > 0.97) & ~is_wo, 3, 1))
        vorm = np.where(enter & ~is_mbo, vorm, 0)
        # completion
        p_dip = np.array([.70, .74, .79, .80, .62, .72, .80, .78, .90])[fi]
        lg = (_logit(p_dip) + 0.55 * self.ability - np.where(self.nw, np.where(is_wo, 0.15, 0.25), 0.0)
              - 0.3 * (age_start >= 25) - 0.2 * (bbl & (fi <= 1)))
        dip = enter & (self.u() < _sigmoid(lg))
        extra_p = np.array([
            [.66, .26, .07, .01], [.66, .26, .07, .01], [.66, .26, .07, .01], [.66, .26, .07, .01],
            [.50, .35, .15, 0], [.40, .33, .19, .08], [.60, .30, .10, 0], [.33, .35, .22, .10], [.45, .38, .14, .03],
        ])[fi]
        extra = _draw(self.u(), extra_p)
        smonth = np.where(is_mbo, 8, 9)
        start_sy = _year_of(start) - (_month_of(start) < smonth)
        y_end = start_sy + dur + extra
        w_mbo = np.array([.02, .02, .02, .02, .04, .06, .04, .04, .04, .06, .30, .34])  # Aug..Jul
        w_ho = np.array([.05, .03, .03, .04, .07, .07, .03, .03, .03, .06, .30, .26])  # Sep..Aug
        um = self.u()
        m_off = np.where(is_mbo, np.searchsorted(np.cumsum(w_mbo)[:-1], um, side="right"),
                         np.searchsorted(np.cumsum(w_ho)[:-1], um, side="right"))
        mm = smonth + m_off - 1
        dd = _ymd((y_end - 1) + mm // 12, mm % 12 + 1, 1) + (self.u() * 28).astype(np.int64)
        min_len = np.where(is_mbo, 200, 300)
        dd = np.where(dd < start + min_len, _ymd(y_end, 6, 15), dd)
        dd = np.maximum(dd, start + min_len)
        month_end = _ymd(_year_of(dd) + (_month_of(dd) == 12), _month_of(dd) % 12 + 1, 1) - 1
        end_dip = np.where(is_mbo, dd, month_end)
        frac = self.rng.beta(0.9, 1.8, n)
        total = (dur + extra) * 365.25
        end_drop = start + np.maximum(30, frac * total).astype(np.int64)
        end = np.where(dip, end_dip, end_drop)
        # neven-inschrijving (ho, 2%) / neven-diploma (mbo, 1.5%)
        un = self.u()
        has_nev = enter & ((~is_mbo & (un < 0.02)) | (is_mbo & dip & (un < 0.015)))
        neven = np.full(n, -1, dtype=np.int64)
        neven[has_nev] = self.lk.neighbour(prog[has_nev])
        slot = dict(stage_fine=fine, valid=enter.copy(), start=start, end=end, diploma=dip, ddate=dd, prog=prog,
                    bbl=bbl, bol_dt=bol_dt, vorm=vorm, exam_year=np.full(n, -1), retake=np.zeros(n, bool),
                    first_pass=np.zeros(n, bool), entry_leerjaar=np.ones(n, np.int64), neven=neven, seq=seq,
                    sector=sect)
        self.slots.append(slot)
        return slot

    def followups(self):
        n = self.n
        k = self.k
        nxt = self.nxt
        # mbo (first)
        mbo_a = self.programme((nxt >= 1) & (nxt <= 4), F["mbo1"] + np.clip(nxt - 1, 0, 3), self.nxt_start, 2)
        la = mbo_a["stage_fine"] - F["mbo1"]  # 0..3
        u = self.u()
        kk = 0.5 + 0.5 * k
        cont_lvl = np.select([(la == 0) & (u < 0.55 * kk), (la == 1) & (u < 0.25 * kk),
                              (la == 1) & (u < 0.30 * kk), (la == 2) & (u < 0.18 * kk)], [1, 2, 3, 3], -1)
        cont = mbo_a["valid"] & mbo_a["diploma"] & (cont_lvl >= 0)
        u2 = self.u()
        switch = mbo_a["valid"] & ~mbo_a["diploma"] & (u2 < 0.40)
        sw_lvl = np.where((la >= 2) & (self.u() < 0.4), la - 1, la)
        b_lvl = np.where(cont, cont_lvl, sw_lvl)
        mbo_b = self.programme(cont | switch, F["mbo1"] + np.clip(b_lvl, 0, 3),
                               _next_start(mbo_a["end"], 8), 3, prev_sector=mbo_a["sector"], keep_p=0.8)
        last_valid_b = mbo_b["valid"]
        m_fine = np.where(last_valid_b, mbo_b["stage_fine"], mbo_a["stage_fine"])
        m_dip = np.where(last_valid_b, mbo_b["diploma"], mbo_a["diploma"] & mbo_a["valid"])
        m_end = np.where(last_valid_b, mbo_b["end"], mbo_a["end"])
        m_bbl = np.where(last_valid_b, mbo_b["bbl"], mbo_a["bbl"])
        m_sect = np.where(last_valid_b, mbo_b["sector"], mbo_a["sector"])
        # mbo-4 -> hbo
        mbo4 = (mbo_a["valid"] | last_valid_b) & m_dip & (m_fine == F["mbo4"])
        p_ho = np.where(m_bbl, 0.12, 0.45) * (0.4 + 0.6 * k) + 0.05 * self.nw
        to_ho = mbo4 & (self.u() < p_ho)
        ad_share = np.where(_year_of(m_end) >= 2006, 0.15, 0.0)
        ho_from_mbo = np.where(self.u() < ad_share, F["hbo_ad"], F["hbo_ba"])
        gap = (self.u() < 0.10).astype(np.int64)
        s_ho = _next_start(m_end, 9)
        s_ho = np.where(gap == 1, _ymd(_year_of(s_ho) + 1, 9, 1), s_ho)
        direct = nxt >= 5
        ho_fine = np.where(direct, np.select([nxt == 5, nxt == 6], [F["hbo_ad"], F["hbo_ba"]], F["wo_ba"]), ho_from_mbo)
        ho_start = np.where(direct, self.nxt_start, s_ho)
        ho1 = self.programme(direct | to_ho, ho_fine, ho_start, 4,
                             prev_sector=np.where(to_ho, m_sect, -1), keep_p=0.6)
        # switch after ho drop-out, or ad -> bachelor
        f1 = ho1["stage_fine"]
        u = self.u()
        sw = ho1["valid"] & ~ho1["diploma"] & (((f1 == F["wo_ba"]) & (u < 0.50)) | ((f1 == F["hbo_ba"]) & (u < 0.35)))
        ad_ba = ho1["valid"] & ho1["diploma"] & (f1 == F["hbo_ad"]) & (u < 0.45)
        s2 = _next_start(ho1["end"], 9)
        s2 = np.where(self.u() < 0.1, _ymd(_year_of(s2) + 1, 9, 1), s2)
        ho2 = self.programme(sw | ad_ba, np.full(n, F["hbo_ba"]), s2, 5, prev_sector=ho1["sector"],
                             keep_p=np.where(ad_ba, 0.95, 0.1), dur_override=np.where(ad_ba, 2, 0))
        # master
        b_valid = ho2["valid"] | ho1["valid"]
        b_fine = np.where(ho2["valid"], ho2["stage_fine"], f1)
        b_dip = np.where(ho2["valid"], ho2["diploma"], ho1["diploma"]) & b_valid
        b_end = np.where(ho2["valid"], ho2["end"], ho1["end"])
        b_sect = np.where(ho2["valid"], ho2["sector"], ho1["sector"])
        u = self.u()
        to_woma = b_dip & (((b_fine == F["wo_ba"]) & (u < 0.88)) | ((b_fine == F["hbo_ba"]) & (u < 0.09)))
        to_hbma = b_dip & (b_fine == F["hbo_ba"]) & (u >= 0.09) & (u < 0.14)
        s3 = _next_start(b_end, 9)
        premaster = to_woma & (b_fine == F["hbo_ba"])
        gap3 = premaster | (to_woma & (self.u() < 0.15)) | (to_hbma & (self.u() < 0.3))
        s3 = np.where(gap3, _ymd(_year_of(s3) + 1, 9, 1), s3)
        ho3 = self.programme(to_woma | to_hbma, np.where(to_woma, F["wo_ma"], F["hbo_ma"]), s3, 6,
                             prev_sector=b_sect, keep_p=0.85)
        # PhD
        u = self.u()
        phd = (ho3["valid"] & ho3["diploma"] & (ho3["stage_fine"] == F["wo_ma"])
               & (u < 0.07 * np.exp(0.5 * self.ability)))
        self.phd = phd
        self.phd_date = ho3["ddate"] + ((4.0 + 1.5 * self.u()) * 365.25).astype(np.int64)
        self.adult()

    def adult(self):
        """Adult (non-initial) learning: BBL for the low/middle educated, deeltijd hbo for mbo-4 and hbo
        graduates.  Not part of initial education, so it does not move ``school_leave_date``."""
        cur = np.where(self.nl_school, 1112, 0)
        cur = np.maximum(cur, np.where(self.abroad_vo, self.abroad_soi, 0))
        init_end = np.where(self.abroad_vo, np.maximum(self.abroad_leave, self.arr), 0)
        for s in self.slots:
            cur = np.maximum(cur, np.where(s["valid"] & s["diploma"], FINE_SOI[s["stage_fine"]], 0))
            init_end = np.maximum(init_end, np.where(s["valid"], s["end"], 0))
        self.initial_end = init_end
        u = self.u()
        p = np.select([cur < 2000, cur < 2121, cur < 3000, cur < 3200], [0.12, 0.08, 0.06, 0.04], 0.0)
        p = p * np.where(self.edu_abroad & ~self.intl, 0.6, 1.0)
        go = (u < p) & (cur > 0)
        u = self.u()
        fine = np.select(
            [cur < 2000, cur == 2111, cur < 2121, cur < 3000],
            [np.where(u < 0.6, F["mbo2"], F["mbo3"]), F["mbo3"], F["mbo4"],
             np.where(u < 0.2, F["hbo_ad"], F["hbo_ba"])], F["hbo_ma"])
        delay = (2.0 + 18.0 * self.u() ** 1.5) * 365.25
        t0 = np.maximum(init_end + delay.astype(np.int64), self.arr + 365)
        is_ho = fine >= F["hbo_ad"]
        start = np.where(is_ho, _next_start(t0, 9), _next_start(t0, 8))
        age = (start - self.bdays) / 365.25
        go &= age <= 55
        fine = np.where((fine == F["hbo_ad"]) & (_year_of(start) < 2006), F["hbo_ba"], fine)
        self.programme(go, fine, start, 7, bbl_p=0.85)
