"""Truth of the month-to-month transitions O29-O37 (docs/indicators_transitions.md): the **realised** events of
the latent world, counted per herkomst group and year with the monitor's definitions.

Computed from the latent world only (no written file is read): the state spells (``lab.spells``, what SECMBUS
projects), the jobs with start, end, conversion date, contract, employer, hours and wage (``lab.jobs``, what
SPOLISBUS projects), the residence periods, the birth dates and the latent incomes (``income.income_draws``).
Vectorised: one numpy explode of spells and jobs into months, dense person x month arrays per year (each
year's panel is built once; O38 reuses the January-December columns of the following years' panels).

The rules are the monitor's, applied to latent quantities:

* **base population of t**: living in NL the whole year (one residence period covering it), not a pupil /
  student (SECM 26/31) nor pensioner (25) for more than half of the days of t (the pipeline's ``majority``
  rule, core.population), age 15-26 on 1 January or 27+ and under the AOW age the whole year;
* **SECM of a month**: the state spell with most days in that month, on equal days the later start (as
  core.secm.secm_months);
* **work** in a month of the panel of t (November t-1 .. December t): a *substantial* job-month - latent weekly
  hours >= 12, latent hourly wage of the month's calendar year >= the WML of 1 January t, the contract SPOLIS
  records that month is O or B (conversion date, payroll jobs B from 2017, N stays N), not an intern - or a
  self-employed month (SECM 13/14) of a person whose INPPERSPRIM / working months reaches the WML for 12 h a
  week (profit and the 1% missing incomes from the INPATAB stream, wages from the latent jobs);
* **main job** of a month: the substantial job with most hours x days that month (tie: the lowest job id);
* the 12 transitions of t are the pairs (m, m+1) with m in December t-1 .. November t; a person counts once per
  event; temporary -> permanent: a month of t with a vast main job whose previous month with a main job, at
  most two months earlier, had a tijdelijk one, the vast job not already held (substantial) in that month
  (same / other employer); denominator: a tijdelijk main job in November t-1 .. November t;
* **re-employment O38** (REEMPLOYMENT, follow-up t .. t+3 as ``transitions.follow_up_states`` /
  ``time_to_work``): the months January t .. December of the zone's last year, each year's months taken from
  that year's own panel (its WML of 1 January and INPATAB, the pipeline's rule for a follow-up year; absent
  from NL = geen); cohort = persons of the base population of t with an exit from WW (bijstand) in t, a month
  m of t in that state whose next month is another state (m before December of the last year, so the next
  month is observed; the first exit of the year counts); events = work in month m+1 (``direct``), else
  (``niet_direct``) the first work month after m at most 12 / 24 / 36 months later and not after December of
  the last year (a zone ending before t+3 is cut like the pipeline's ``voorlopig`` figures).

The same panels give O25 (``first_job_codes`` for synth/first_job_truth.py): the months of the graduates with a
tijdelijk or vast main job, or self-employment above the **full** monthly WML (40 hours, report 5.1 4c) instead
of the 12 hours of 5.2 (``self_employed_ok``: one income rule, the hours a parameter).

What the written files add on top (4-weekly payroll rounding, the +-3% noise on SBASISUREN, on-call hours,
address gaps, ...) is measured in ``monitor_dagster_tests/test_synth_transitions_truth.py`` and
docs/synthetic_data.md ("Transitions truth").
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from monitor_dagster import reference
from monitor_dagster.synth import params as P
from monitor_dagster.synth.labour import (ABROAD, AO, BIJSTAND, DGA, EMP, PENSION, SCHOOL, SELF, SOCVOORZ,
                                          STUDENT_JOB, WW)
from monitor_dagster.synth.timeutil import DAY, month_index, month_start

#: event names of the truth entry ``transitions`` (denominators first)
EVENTS = ("werk", "werk_naar_WW", "werk_naar_bijstand", "WW", "WW_naar_werk", "WW_naar_bijstand",
          "bijstand", "bijstand_naar_werk", "tijdelijk", "tijdelijk_naar_vast_zelfde_werkgever",
          "tijdelijk_naar_vast_andere_werkgever")
#: hazard of temporary -> permanent within the same job: B main-job months whose job continues next month
HAZARD = ("tijdelijk_maanden", "omzetting_zelfde_baan")
#: O38 (persons): exit from WW / bijstand in t; at work the month after (direct); not (niet direct), and of
#: those at work within 12 / 24 / 36 months after the exit month (report 5.2, 4g)
_WITHIN = (("1_jaar", 12), ("2_jaar", 24), ("3_jaar", 36))
REEMPLOYMENT = tuple(f"{b}_{e}" for b in ("WW", "bijstand")
                     for e in ("uitstroom", "direct", "niet_direct", *(f"werk_binnen_{k}" for k, _ in _WITHIN)))
#: transitions.FOLLOW_UP_MONTHS (report 5.2 4g: three years ahead)
FOLLOW_UP_MONTHS = 36
NO_BACKGROUND = "geen migratieachtergrond"

# monthly state codes of the panel
_GEEN, _WERK, _WW, _BIJ, _AO, _OVERIG = range(6)
# recorded contract of a main job (0 = no substantial job that month)
_O, _B = 1, 2
_BENEFIT_OF_STATE = {WW: _WW, BIJSTAND: _BIJ, AO: _AO, SOCVOORZ: _OVERIG}
_FAR = np.datetime64("9999-12-31")
_WEEKS_PER_MONTH = 52 / 12
_MIN_HOURS = 12.0
#: report 5.1, 4c (O25): self-employment is work from the full monthly WML (first_job.SELF_EMPLOYED_HOURS)
FULL_WML_HOURS = 40.0
# month codes of the O25 panel (first_job_codes)
_FJ_NONE, _FJ_JOB, _FJ_VAST, _FJ_SELF = range(4)


def _explode(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index and month of every (row, month) with first <= month <= last (rows with first > last drop)."""
    k = np.maximum(last - first + 1, 0)
    row = np.repeat(np.arange(len(k)), k)
    off = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    return row, first[row] + off


def _secm_months(lab, lo: int, width: int) -> np.ndarray:
    """Dense [n, width] latent state (int8, -1 = no SECM spell) of months lo .. lo+width-1: the non-abroad spell
    with most days in the month, on equal days the later start (core.secm.secm_months).

    A month that no spell starts or ends in holds one spell, whose state is the month-end state ``state_m``;
    only the months where a non-abroad spell starts or ends are decided by days (two rows per spell, not one
    per spell-month)."""
    origin = lab.origin_year
    n = lab.state_m.shape[0]
    out = lab.state_m[:, lo:lo + width].astype(np.int8, copy=True)
    out[out == ABROAD] = -1
    s = lab.spells.filter(pl.col("state") != ABROAD)
    pid = s["pid"].to_numpy().astype(np.int64)
    st = s["state"].to_numpy().astype(np.int8)
    a = s["start"].to_numpy().astype("datetime64[D]")
    e = s["end"].to_numpy().astype("datetime64[D]")
    e = np.where(np.isnat(e), _FAR, e)
    sm = month_index(a, origin)
    em = month_index(np.minimum(e, np.datetime64("2200-01-01")), origin)
    mi = np.concatenate([sm, em])
    row = np.concatenate([np.arange(len(sm)), np.arange(len(sm))])
    keep = (mi >= lo) & (mi < lo + width)
    mi, row = mi[keep], row[keep]
    starts = month_start(np.arange(lo, lo + width + 1), origin)
    ms, me = starts[mi - lo], starts[mi - lo + 1] - DAY
    days = (np.minimum(e[row], me) - np.maximum(a[row], ms)).astype(np.int64) + 1
    key = days * 10_000_000 + a[row].astype(np.int64)
    cell = pid[row] * width + (mi - lo)
    order = np.lexsort((key, cell))          # the last row of each cell has the largest key
    c = cell[order]
    last_of_cell = np.r_[c[1:] != c[:-1], True]
    flat = out.reshape(-1)
    flat[c[last_of_cell]] = st[row[order][last_of_cell]]
    return flat.reshape(n, width)


def _job_months(jobs: pl.DataFrame, origin: int, lo: int, hi: int) -> dict[str, np.ndarray]:
    """Latent job-months of months lo..hi of the jobs that can be substantial (weekly hours >= 12, not an
    intern, contract not N) with what SPOLIS records: pid, job, employer, mi, hd (hours x days, the main-job
    order), wage (hourly, of the month's calendar year), contract (the
    recorded one: 1 = O, 2 = B)."""
    from monitor_dagster.synth.spolis import PAYROLL_BREAK_YEAR
    j = jobs.filter((pl.col("hours") >= _MIN_HOURS) & (pl.col("soortbaan") != "2") & (pl.col("contract0") != "N"))
    start = j["start"].to_numpy().astype("datetime64[D]")
    end = j["end"].to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end), _FAR, end)
    first = np.maximum(month_index(start, origin), lo)
    last = np.minimum(month_index(np.minimum(end, np.datetime64("2200-01-01")), origin), hi)
    row, mi = _explode(first, last)
    starts = month_start(np.arange(lo, hi + 2), origin)
    ms, me = starts[mi - lo], starts[mi - lo + 1] - DAY
    s, e = start[row], end[row]
    d = np.minimum(e, me)
    days = (d - np.maximum(s, ms)).astype(np.int64) + 1
    year = origin + mi // 12
    hours = j["hours"].to_numpy().astype(np.float64)[row]
    wage = j["wage0"].to_numpy()[row] * (1 + j["growth"].to_numpy()[row]) ** (year - j["year0"].to_numpy()[row])
    # the contract SPOLIS records in a month is that of the month's last payroll piece (core.jobs.job_months):
    # it starts at the month start (monthly payroll) or at the 4-weekly period start inside the month
    jan1 = starts[(mi - lo) - (mi % 12)]
    k = np.minimum((d - jan1).astype(np.int64) // 28, 12)
    four = j["four_weekly"].to_numpy()[row]
    piece = np.where(four, np.maximum(jan1 + (28 * k).astype("timedelta64[D]"), ms), ms)
    a = np.maximum(piece, s)
    perm = j["perm_date"].to_numpy().astype("datetime64[D]")
    perm = np.where(np.isnat(perm), _FAR, perm)[row]
    c0 = np.where(j["contract0"].to_numpy() == "B", 2, 1).astype(np.int8)[row]
    payroll = j["payroll"].to_numpy()[row]
    contract = np.where(payroll & (year >= PAYROLL_BREAK_YEAR), 2, np.where(a >= perm, 1, c0)).astype(np.int8)
    return {"pid": j["pid"].to_numpy()[row], "job": j["job_id"].to_numpy()[row], "employer": j["employer"].to_numpy()[row],
            "mi": mi, "hd": hours * days, "wage": wage, "contract": contract}


def _majority_flags(spells: pl.DataFrame, n: int, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Pupil/student and pensioner of ``year``: more than half of its days in SECM 26/31 resp. 25."""
    a0, b0 = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    s = spells.filter(pl.col("state").is_in([SCHOOL, STUDENT_JOB, PENSION]))
    a = s["start"].to_numpy().astype("datetime64[D]")
    e = s["end"].to_numpy().astype("datetime64[D]")
    e = np.where(np.isnat(e), _FAR, e)
    days = np.clip((np.minimum(e, b0) - np.maximum(a, a0)).astype(np.int64) + 1, 0, None)
    st, pid = s["state"].to_numpy(), s["pid"].to_numpy()
    half = ((b0 - a0).astype(np.int64) + 1) / 2
    stud = np.bincount(pid, weights=np.where(st != PENSION, days, 0), minlength=n) > half
    pens = np.bincount(pid, weights=np.where(st == PENSION, days, 0), minlength=n) > half
    return stud, pens


def _whole_year(residence: pl.DataFrame, n: int, year: int) -> np.ndarray:
    a, b = dt.date(year, 1, 1), dt.date(year, 12, 31)
    ok = residence.filter((pl.col("start") <= a) & (pl.col("end").is_null() | (pl.col("end") >= b)))["pid"].to_numpy()
    out = np.zeros(n, dtype=bool)
    out[ok] = True
    return out


def _age_ok(birth: np.ndarray, aow: np.ndarray, year: int) -> np.ndarray:
    """Leeftijd not null (core.characteristics.age_group): 15-26 on 1 January, or 27+ and under the AOW age on
    every day of the year."""
    by = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    jan1 = (birth - birth.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) == 0
    age = year - 1 - by + jan1
    return ((age >= 15) & (age < 27)) | ((age >= 27) & (aow > np.datetime64(f"{year}-12-31")))


def _first_by_cell(cell: np.ndarray, size: int, *keys: np.ndarray) -> np.ndarray:
    """Positions of the first row per cell when sorted by cell then ``keys`` (ascending).  Most cells hold one
    row; only the cells with several are sorted."""
    count = np.bincount(cell, minlength=size)
    multi = count[cell] > 1
    single = np.flatnonzero(~multi)
    idx = np.flatnonzero(multi)
    order = idx[np.lexsort((*(k[idx] for k in reversed(keys)), cell[idx]))]
    c = cell[order]
    return np.concatenate([single, order[np.r_[True, c[1:] != c[:-1]]] if len(c) else order])


def _wages(jobs: pl.DataFrame, n: int, year: int) -> np.ndarray:
    """Latent wages of ``year`` per person (hourly wage x weekly hours x days / 7 over all jobs): the wage
    part of INPPERSPRIM (SPOLIS adds rounding, overtime and bonuses)."""
    a0, b0 = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    start = jobs["start"].to_numpy().astype("datetime64[D]")
    end = jobs["end"].to_numpy().astype("datetime64[D]")
    end = np.where(np.isnat(end), _FAR, end)
    days = np.clip((np.minimum(end, b0) - np.maximum(start, a0)).astype(np.int64) + 1, 0, None)
    w = jobs["wage0"].to_numpy() * (1 + jobs["growth"].to_numpy()) ** (year - jobs["year0"].to_numpy())
    return np.bincount(jobs["pid"].to_numpy(), weights=w * jobs["hours"].to_numpy() * days / 7.0, minlength=n)


def prepare(lab, persons: pl.DataFrame, residence: pl.DataFrame, top: np.ndarray, seed: int, first_year: int,
            last_year: int) -> dict:
    """Everything the years share: person attributes, the SECM months and the job-months of November
    first_year-1 .. December last_year."""
    origin = lab.origin_year
    p = persons.sort("pid")
    group = np.asarray(p["herkomst_group"].to_list(), dtype=object)
    lo = (first_year - 1 - origin) * 12 + 10            # November of the year before the first year
    hi = (last_year - origin) * 12 + 11
    jm = _job_months(lab.jobs, origin, lo, hi)
    order = np.argsort(jm["mi"], kind="stable")
    return {"lab": lab, "persons": p, "residence": residence, "top": top, "seed": seed, "n": p.height, "lo": lo,
            "group": np.where(group == "Nederland", NO_BACKGROUND, group), "nw": p["nonwestern"].to_numpy(),
            "secm": _secm_months(lab, lo, hi - lo + 1),
            "jm": {k: v[order] for k, v in jm.items()},
            "wml": dict(zip(reference.wml()["year"].to_list(), reference.wml()["wml_hour_40h"].to_list()))}


def year_events(ctx: dict, t: int) -> dict[str, np.ndarray]:
    """Per person (index = pid) of year t: ``base`` (base population), every event of EVENTS (bool) and the
    hazard counts of HAZARD (months), plus the panel itself (``state``, ``contract``, ``employer``, ``job``:
    [n, 14] for November t-1 .. December t) for diagnostics."""
    from monitor_dagster.synth.generate import sub_rng
    from monitor_dagster.synth.income import income_draws

    lab, n, jm = ctx["lab"], ctx["n"], ctx["jm"]
    m0 = (t - 1 - lab.origin_year) * 12 + 10          # lab month of November t-1
    c0 = m0 - ctx["lo"]                               # its column in the SECM months
    wml = ctx["wml"][t]
    sl = slice(*np.searchsorted(jm["mi"], [m0, m0 + 14]))
    j = {k: v[sl] for k, v in jm.items()}
    sub = j["wage"] >= wml - 1e-9
    # main job per person-month among the substantial jobs
    js = {k: v[sub] for k, v in j.items()}
    cell = js["pid"].astype(np.int64) * 14 + (js["mi"] - m0)
    first = _first_by_cell(cell, n * 14, -js["hd"], js["job"])
    at = cell[first]
    has = np.zeros(n * 14, dtype=bool)
    has[at] = True
    contract = np.zeros(n * 14, dtype=np.int8)
    contract[at] = js["contract"][first]
    employer = np.full(n * 14, -1, dtype=np.int64)
    employer[at] = js["employer"][first]
    mainjob = np.full(n * 14, -1, dtype=np.int64)
    mainjob[at] = js["job"][first]
    has, contract, employer, mainjob = (x.reshape(n, 14) for x in (has, contract, employer, mainjob))
    # self-employment above the income threshold (transitions.self_employed_income_ok): INPPERSPRIM of t
    # (latent profit + latent wages; missing for 1%) over the working months (SECM 11-15) of t
    s = ctx["secm"][:, c0:c0 + 14]
    working = np.isin(s[:, 2:14], [EMP, DGA, SELF]).sum(axis=1)
    inc = income_draws(lab, t, ctx["top"], sub_rng(ctx["seed"], "INPATAB", t))
    wage = _wages(lab.jobs, n, t)
    income = np.full(n, np.nan)
    ip = inc["pid"].to_numpy()
    income[ip] = np.where(inc["missing"].to_numpy(), np.nan, np.round(inc["profit"].to_numpy() + wage[ip]))
    with np.errstate(invalid="ignore"):
        per_month = np.where(working > 0, income / np.maximum(working, 1), np.nan)
    self_m = s == SELF
    state = np.full((n, 14), _GEEN, dtype=np.int8)
    for code, v in _BENEFIT_OF_STATE.items():
        state[s == code] = v
    state[has | (self_m & self_employed_ok(per_month, wml, _MIN_HOURS)[:, None])] = _WERK
    # base population of t, without the first generation in NL six months or less on 1 January (report 2.2: left
    # out of every analysis, as the monitor's engine does; until December 2026 the truth kept them, and the
    # national zone's O29 and O37 of the migration groups differed by them beyond the tolerance)
    from monitor_dagster.synth.truth import _base_population      # the rule of the O09 and payrolling truths too

    base = _base_population(lab, ctx["persons"], ctx["residence"], t)
    o, nx = state[:, 1:13], state[:, 2:14]              # origin months December t-1 .. November t, and the next
    ev = {
        "werk": (o == _WERK).any(axis=1),
        "werk_naar_WW": ((o == _WERK) & (nx == _WW)).any(axis=1),
        "werk_naar_bijstand": ((o == _WERK) & (nx == _BIJ)).any(axis=1),
        "WW": (o == _WW).any(axis=1),
        "WW_naar_werk": ((o == _WW) & (nx == _WERK)).any(axis=1),
        "WW_naar_bijstand": ((o == _WW) & (nx == _BIJ)).any(axis=1),
        "bijstand": (o == _BIJ).any(axis=1),
        "bijstand_naar_werk": ((o == _BIJ) & (nx == _WERK)).any(axis=1),
        "tijdelijk": (contract[:, 0:13] == _B).any(axis=1),
    }
    # temporary -> permanent: a vast month of t whose previous month with a main job (<= 2 back) was tijdelijk
    prev1 = has[:, 1:13]
    prev_c = np.where(prev1, contract[:, 1:13], contract[:, 0:12])
    prev_e = np.where(prev1, employer[:, 1:13], employer[:, 0:12])
    sw = (contract[:, 2:14] == _O) & (prev1 | has[:, 0:12]) & (prev_c == _B)
    # ... unless the new vast main job was already held (substantial, vast) in that previous month
    # (transitions.o29_o30_tijdelijk_vast): a side job that becomes the main job is no move to vast
    m_key = int(js["job"].max()) + 1 if len(js["job"]) else 1
    vast = js["contract"] == _O
    held_keys = (js["pid"][vast].astype(np.int64) * 14 + (js["mi"][vast] - m0)) * m_key + js["job"][vast]
    pid = np.arange(n, dtype=np.int64)[:, None]
    prev_col = np.where(prev1, np.arange(1, 13), np.arange(0, 12))
    held = np.isin((pid * 14 + prev_col) * m_key + mainjob[:, 2:14], held_keys) & (mainjob[:, 2:14] >= 0)
    sw &= ~held
    ev["tijdelijk_naar_vast_zelfde_werkgever"] = (sw & (employer[:, 2:14] == prev_e)).any(axis=1)
    ev["tijdelijk_naar_vast_andere_werkgever"] = (sw & (employer[:, 2:14] != prev_e)).any(axis=1)
    # hazard within the job: a B main-job month m (December t-1 .. November t) whose job is the main job in m+1
    risk = (contract[:, 1:13] == _B) & (mainjob[:, 1:13] == mainjob[:, 2:14]) & (mainjob[:, 1:13] >= 0)
    risk &= base[:, None]
    return {"base": base, **{k: v & base for k, v in ev.items()},
            "tijdelijk_maanden": risk.sum(axis=1), "omzetting_zelfde_baan": (risk & (contract[:, 2:14] == _O)).sum(axis=1),
            "state": state, "contract": contract, "employer": employer, "job": mainjob,
            "self_employed": self_m, "self_income": per_month, "wml": wml}


def self_employed_ok(per_month: np.ndarray, wml: float, hours: float) -> np.ndarray:
    """``transitions.self_employed_income_ok`` on latent incomes: INPPERSPRIM of the year over its working months
    (``per_month``, NaN without working months or with a missing income) reaches the hourly WML of 1 January x
    ``hours`` x 52/12 - 12 hours for report 5.2 (O27-O39), 40 (:data:`FULL_WML_HOURS`, the full monthly WML)
    for O25."""
    with np.errstate(invalid="ignore"):
        return per_month >= wml * hours * _WEEKS_PER_MONTH - 1e-9


def first_job_codes(ev: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """[len(rows), 12] months January .. December of the panel ``ev`` (:func:`year_events`) of the persons
    ``rows`` for O25 (``first_job_truth``): :data:`_FJ_NONE`, a substantial main job that is tijdelijk
    (:data:`_FJ_JOB`) or vast (:data:`_FJ_VAST`), or self-employment only above the **full** monthly WML
    (:data:`_FJ_SELF`; report 5.1, 4c, ``first_job.SELF_EMPLOYED_HOURS``)."""
    contract = ev["contract"][rows, 2:14]
    full_wml = self_employed_ok(ev["self_income"][rows], ev["wml"], FULL_WML_HOURS)
    self_ok = ev["self_employed"][rows, 2:14] & full_wml[:, None]
    return np.select([contract == _O, contract == _B, self_ok], [_FJ_VAST, _FJ_JOB, _FJ_SELF], _FJ_NONE).astype(np.int8)


def reemployment_events(months: list[np.ndarray], base: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per person of year first_year + k: the events REEMPLOYMENT (bool, persons of ``base``).

    ``months[j]``: the [n, 12] states January .. December of year first_year + j from that year's own panel
    (``year_events(ctx, y)["state"][:, 2:14]``), j = 0 .. last year of the zone.  The rule of
    ``transitions.time_to_work``: an exit is a month m of t in state b whose next month is not b, with m
    before December of the last year (the next month observed); the first exit of t counts; the months to
    work = first work month after m minus m: 1 is ``direct``; the others (``niet_direct``) counted when
    <= 12 / 24 / 36 and observed (not after December of the last year), report 5.2 4g."""
    w = np.concatenate(months[k:k + 1 + FOLLOW_UP_MONTHS // 12], axis=1)
    w = w[:, :12 + FOLLOW_UP_MONTHS]                  # exit months 0..11, work up to exit + 36 <= 47
    width = w.shape[1]
    exit_months = min(12, width - 1)                  # December of the last year has no observed next month
    # first work month at or after each column (width when none): a reverse running minimum
    col = np.where(w == _WERK, np.arange(width, dtype=np.int16), np.int16(width))
    next_work = np.minimum.accumulate(col[:, ::-1], axis=1)[:, ::-1]
    out = {}
    for b, name in ((_WW, "WW"), (_BIJ, "bijstand")):
        ex = (w[:, :exit_months] == b) & (w[:, 1:exit_months + 1] != b)
        cohort = ex.any(axis=1) & base
        m = ex.argmax(axis=1)                         # the first exit of the year
        found = np.take_along_axis(next_work, (m + 1)[:, None], axis=1)[:, 0]
        months_to_work = np.where(found < width, found - m, np.iinfo(np.int16).max)
        out[f"{name}_uitstroom"] = cohort
        out[f"{name}_direct"] = cohort & (months_to_work == 1)
        out[f"{name}_niet_direct"] = not_direct = cohort & (months_to_work != 1)
        for label, limit in _WITHIN:
            out[f"{name}_werk_binnen_{label}"] = not_direct & (months_to_work <= limit)
    return out


def _counter(group: np.ndarray, nw: np.ndarray):
    """``count(ev, rows=None)`` -> ``{herkomst: {event: int}}``: the per-person arrays of ``ev`` (persons
    ``rows``, all when None) summed per herkomst group of the indicator table plus niet-westers, westers and
    totaal (bincount per group instead of a mask per group and event)."""
    masks = {"totaal": np.ones(len(group), dtype=bool), "niet-westers": nw, "westers": np.isin(group, list(P.WESTERN))}
    names = sorted(set(group.tolist()))
    code = np.searchsorted(np.array(names, dtype=object), group)

    def count(ev: dict[str, np.ndarray], rows: np.ndarray | None = None) -> dict[str, dict[str, int]]:
        c = code if rows is None else code[rows]
        per = {e: np.bincount(c, weights=ev[e], minlength=len(names)).astype(np.int64) for e in ev}
        out = {name: {e: int(ev[e][m if rows is None else m[rows]].sum()) for e in ev} for name, m in masks.items()}
        out.update({name: {e: int(per[e][i]) for e in per} for i, name in enumerate(names)})
        return out

    return count


def transitions_truth(lab, persons: pl.DataFrame, residence: pl.DataFrame, top: np.ndarray, seed: int,
                      first_year: int, last_year: int) -> dict:
    """``{year: {herkomst: {event: persons}}}`` for every year of the zone (:func:`labour_truths`)."""
    return labour_truths(lab, persons, residence, top, seed, first_year, last_year)["transitions"]


def labour_truths(lab, persons: pl.DataFrame, residence: pl.DataFrame, top: np.ndarray, seed: int,
                  first_year: int, last_year: int, ew=None) -> dict:
    """The truth entries built from the yearly state panels, each panel built once:

    * ``transitions``: ``{year: {herkomst: {event: persons}}}`` for every year of the zone; herkomst = the
      groups of the indicator table (``geen migratieachtergrond`` for Nederland) plus niet-westers, westers
      and totaal; events EVENTS (persons of the base population), HAZARD (months) and REEMPLOYMENT (persons
      of the base population; O38 of t needs the panels of t .. t+3, so it is counted once every year's
      panel is built);
    * ``first_job`` (with the education world ``ew``): ``{year: {herkomst: {event: ...}}}`` of O25 for every
      peiljaar t whose t+1 is in the zone, events ``first_job_truth.EVENTS`` (graduates, censored, the sums
      of the capped months ...; synth/first_job_truth.py)."""
    ctx = prepare(lab, persons, residence, top, seed, first_year, last_year)
    count = _counter(ctx["group"], ctx["nw"])
    years = range(first_year, last_year + 1)
    if ew is not None:
        from monitor_dagster.synth import first_job_truth as FJ
        grads = FJ.cohorts(ew.careers, residence, first_year, last_year, persons=persons)
        fj_rows = np.unique(np.concatenate([g["pid"].to_numpy() for g in grads.values()] + [np.zeros(0, np.int64)]))
        row_of_pid = np.full(ctx["n"], -1, dtype=np.int64)
        row_of_pid[fj_rows] = np.arange(len(fj_rows))
    # each year's panel once: its events are counted at once; its January-December states (int8) and base are
    # kept for O38, whose cohort of t needs the panels of t .. t+3, and the O25 month codes of the graduates
    out: dict = {}
    months, bases, codes = [], [], {}
    for t in years:
        ev = year_events(ctx, t)
        out[str(t)] = count({k: ev[k] for k in (*EVENTS, *HAZARD)})
        months.append(ev["state"][:, 2:14].copy())
        bases.append(ev["base"])
        if ew is not None:
            codes[t] = first_job_codes(ev, fj_rows)
        del ev
    for k, t in enumerate(years):
        re = count(reemployment_events(months, bases[k], k))
        for name in out[str(t)]:
            out[str(t)][name].update(re[name])
    res = {"transitions": out}
    if ew is not None:
        res["first_job"] = {str(t): count(FJ.cohort_events(g, t, last_year, codes, row_of_pid), g["pid"].to_numpy())
                            for t, g in grads.items()}
    return res
