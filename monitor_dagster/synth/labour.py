"""The monthly labour-market life history of every synthetic person.

One latent state per person and calendar month (the state on the month's last day; a transition happens on a
random day of the month, so spells have day-precise dates), plus the jobs behind the employed states.  All
register files about work and benefits (SECMBUS, SPOLISBUS, the benefit, provision and trajectory files,
INPATAB, EBB) are projections of this one history, so they agree with each other by construction.

Transitions are group-specific (herkomst, generation, age, sex, education) so that the monitor's gaps exist
and are known: job finding, job loss, temporary-to-permanent, benefit inflow (report 4d-4g, 5.2).  The
simulation is vectorised over persons and loops over months only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from monitor_dagster import reference
from monitor_dagster.synth import params as P
from monitor_dagster.synth.timeutil import DAY, add_months, date, month_index, month_start, split

# Latent states and the SECM code each projects to (CBS file documentation, SECMBUS).
ABROAD, SCHOOL, STUDENT_JOB, EMP, DGA, SELF, WW, BIJSTAND, SOCVOORZ, AO, PENSION, OTHER = range(12)
STATE_NAMES = ["ABROAD", "SCHOOL", "STUDENT_JOB", "EMP", "DGA", "SELF", "WW", "BIJSTAND", "SOCVOORZ", "AO",
               "PENSION", "OTHER"]
SECM_OF_STATE = {SCHOOL: "31", STUDENT_JOB: "26", EMP: "11", DGA: "12", SELF: "13", WW: "21", BIJSTAND: "22",
                 SOCVOORZ: "23", AO: "24", PENSION: "25", OTHER: "32"}
WORKING = (EMP, DGA, SELF)

# Benefit subtypes (law codes), kept on the state spell.
SUB_NONE, SUB_ZW, SUB_WGA, SUB_IVA, SUB_WAO, SUB_WAJONG, SUB_IOAW, SUB_IOAZ, SUB_BBZ, SUB_ZZP, SUB_ONDERNEMER = range(11)
SUB_NAMES = ["", "ZW", "WGA", "IVA", "WAO", "Wajong", "IOAW", "IOAZ", "Bbz", "overige zelfstandige",
             "zelfstandig ondernemer"]

BROAD_SECTOR_WEIGHT = {
    "landbouw": 0.02, "industrie": 0.11, "bouw": 0.05, "handel": 0.16, "horeca": 0.06, "vervoer": 0.06,
    "zakelijke diensten": 0.14, "uitzendbedrijven": 0.07, "zorg": 0.17, "onderwijs": 0.07, "overheid": 0.06,
    "overig": 0.03,
}
SECTOR_TILT = {  # multiplicative tilts of the sector choice (planted sector differences, report 4d/4h)
    "nonwestern": {"uitzendbedrijven": 2.2, "horeca": 1.5, "zakelijke diensten": 1.3, "overheid": 0.6, "onderwijs": 0.55},
    "young": {"horeca": 2.5, "handel": 1.8, "overheid": 0.5, "onderwijs": 0.6},
    "female": {"zorg": 2.2, "onderwijs": 1.6, "bouw": 0.12, "industrie": 0.45, "vervoer": 0.5},
    "student": {"horeca": 4.0, "handel": 3.0, "industrie": 0.3, "bouw": 0.3, "overheid": 0.2, "uitzendbedrijven": 0.6},
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Employers:
    sbeid: np.ndarray          # employer id as CBS writes it (string)
    ssect: np.ndarray          # UWV sector code "01".."69"
    broad: np.ndarray          # monitor broad sector
    four_weekly: np.ndarray    # pays per 4 weeks
    payroll: np.ndarray        # payroll company (payrolling trend break 2017)
    by_broad: dict = field(default_factory=dict)   # broad -> (employer indices, cumulative weights)


def make_employers(n_persons: int, rng: np.random.Generator) -> Employers:
    """Employers with a Zipf size distribution; ids starting with F or P are not real firms (CBS file documentation)."""
    ref = reference.sectors().filter(pl.col("verified") == "yes")
    n_emp = max(60, n_persons // 12)
    broad_names = list(BROAD_SECTOR_WEIGHT)
    bw = np.array([BROAD_SECTOR_WEIGHT[b] for b in broad_names])
    broad = np.array(broad_names, dtype=object)[rng.choice(len(broad_names), size=n_emp, p=bw / bw.sum())]
    # every broad sector has some employers
    broad[: len(broad_names)] = broad_names
    ssect = np.empty(n_emp, dtype=object)
    for b in broad_names:
        idx = np.flatnonzero(broad == b)
        codes = ref.filter(pl.col("monitor_sector") == b)["code"].to_list()
        ssect[idx] = np.asarray(codes, dtype=object)[rng.integers(0, len(codes), len(idx))]
    four = rng.random(n_emp) < np.where(np.isin(broad, ["uitzendbedrijven", "horeca", "bouw"]), 0.5,
                                        P.FOUR_WEEKLY_EMPLOYER_SHARE)
    payroll = (broad == "uitzendbedrijven") & (rng.random(n_emp) < 0.4)
    payroll[np.flatnonzero(broad == "uitzendbedrijven")[:1]] = True
    num = rng.permutation(n_emp) * 7 + 100_000 + rng.integers(0, 7, n_emp)
    prefix = np.where(rng.random(n_emp) < 0.01, np.where(rng.random(n_emp) < 0.5, "F", "P"), "0")
    sbeid = np.char.add(prefix.astype(str), np.char.zfill(num.astype(str), 8))
    size = 1.0 / (1 + rng.permutation(n_emp)) ** 0.9
    emp = Employers(sbeid=sbeid, ssect=ssect, broad=broad, four_weekly=four, payroll=payroll)
    for b in broad_names:
        idx = np.flatnonzero(broad == b)
        w = size[idx]
        emp.by_broad[b] = (idx, np.cumsum(w) / w.sum())
    return emp


@dataclass
class LabourHistory:
    origin_year: int
    n_months: int
    state_m: np.ndarray        # int8 [n, months]: state on the month's last day
    hours_m: np.ndarray        # float32 [n, months]: weekly hours worked in all jobs (0 if none)
    spells: pl.DataFrame       # pid, state, subtype, start, end (null = open)
    jobs: pl.DataFrame         # one row per job (IKV), see _Jobs.frame
    employers: Employers


class _Jobs:
    """Append-only job register filled during the monthly loop."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.ends: list[tuple[np.ndarray, np.ndarray]] = []
        self.perms: list[tuple[np.ndarray, np.ndarray]] = []
        self.next_id = 0

    def add(self, **cols: np.ndarray) -> np.ndarray:
        n = len(cols["pid"])
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        cols["job_id"] = ids
        self.parts.append(cols)
        return ids

    def end(self, ids: np.ndarray, end: np.ndarray) -> None:
        if len(ids):
            self.ends.append((ids.copy(), end.copy()))

    def perm(self, ids: np.ndarray, when: np.ndarray) -> None:
        if len(ids):
            self.perms.append((ids.copy(), when.copy()))

    def arrays(self) -> dict[str, np.ndarray]:
        keys = self.parts[0].keys()
        out = {k: np.concatenate([p[k] for p in self.parts]) for k in keys}
        end = np.full(self.next_id, np.datetime64("NaT"), dtype="datetime64[D]")
        for ids, e in self.ends:
            end[ids] = e
        perm = np.full(self.next_id, np.datetime64("NaT"), dtype="datetime64[D]")
        for ids, w in self.perms:
            perm[ids] = w
        out["end"] = end[out["job_id"]]
        out["perm_date"] = perm[out["job_id"]]
        return out


def aow_date(birth: np.ndarray) -> np.ndarray:
    """Date the person reaches the AOW age (report table 1 and the law; reference/aow_age.csv)."""
    tab = reference.aow_age()
    years = tab["year"].to_numpy()
    months = (tab["aow_years"] * 12 + tab["aow_months"]).to_numpy()
    lookup = dict(zip(years.tolist(), months.tolist()))
    lo, hi = int(years.min()), int(years.max())
    by = split(birth)[0]
    est = np.clip(by + 65, lo, hi)
    for _ in range(3):   # the AOW age depends on the year in which it is reached: iterate to a fixed point
        m = np.array([lookup.get(int(y), 65 * 12) for y in np.unique(est)])
        mm = dict(zip(np.unique(est).tolist(), m.tolist()))
        age_m = np.vectorize(mm.get)(est) if len(est) else est
        d = add_months(birth, age_m)
        est = np.clip(split(d)[0], lo, hi)
    return d


def simulate_labour(persons: pl.DataFrame, residence: pl.DataFrame, person_edu: pl.DataFrame,
                    rng: np.random.Generator, first_year: int, last_year: int) -> LabourHistory:
    sim = _Sim(persons, residence, person_edu, rng, first_year, last_year)
    sim.run()
    return sim.result()


class _Sim:
    def __init__(self, persons, residence, person_edu, rng, first_year, last_year):
        self.rng = rng
        self.O = first_year - 2
        self.M = (last_year - self.O + 1) * 12
        pe = persons.join(person_edu, on="pid", how="left").sort("pid")
        self.n = n = pe.height
        self.pid = pe["pid"].to_numpy()
        self.birth = pe["birth_date"].to_numpy().astype("datetime64[D]")
        self.birth_m = month_index(self.birth, self.O)
        self.female = (pe["sex"] == "2").to_numpy()
        group = pe["herkomst_group"].to_numpy()
        self.group = group
        self.nw = pe["nonwestern"].to_numpy()
        self.gen = pe["generation"].to_numpy()
        self.refugee = pe["refugee_group"].to_numpy() & (self.gen == 1)
        self.motive = pe["motive"].to_numpy()
        self.ability = pe["ability"].to_numpy()
        self.edu = pe["edu_niveau"].to_numpy()
        leave = pe["school_leave_date"].to_numpy().astype("datetime64[D]")
        self.leave_m = month_index(leave, self.O)
        self.aow_m = month_index(aow_date(self.birth), self.O)
        arr = pe["first_arrival"].to_numpy().astype("datetime64[D]")
        self.arrival_m = np.where(np.isnat(arr), -10_000, month_index(np.where(np.isnat(arr), self.birth, arr), self.O))
        # fixed part of the employment propensity (params.EMP_*)
        base = np.full(n, P.EMP_BASE)
        base += np.array([P.EMP_GROUP[g] for g in group])
        base += np.where(self.gen == 2, P.EMP_SECOND_GEN, 0.0)
        base += np.array([P.EMP_EDU.get(e, 0.0) for e in self.edu])
        base += np.where(self.female, P.EMP_FEMALE + np.array([P.EMP_FEMALE_EXTRA.get(g, 0.0) for g in group])
                         * np.where(self.gen == 2, 0.5, 1.0), 0.0)
        base += 0.3 * self.ability
        self.base = base
        self.p_self = np.where(self.nw, P.P_SELF["nonwestern"], P.P_SELF["other"])
        self.self_hours = np.clip(rng.normal(38, 10, n), 8, 60)
        # presence in NL (month-end) and migration days
        self._presence(residence)
        self.state = np.full(n, ABROAD, dtype=np.int8)
        self.sub = np.zeros(n, dtype=np.int8)
        self.state_since_m = np.zeros(n, dtype=np.int32)
        self.ww_end_m = np.zeros(n, dtype=np.int32)
        self.main_job = np.full(n, -1, dtype=np.int64)
        self.second_job = np.full(n, -1, dtype=np.int64)
        self.job_start_m = np.zeros(n, dtype=np.int32)
        self.job_hours = np.zeros(n, dtype=np.float32)
        self.second_hours = np.zeros(n, dtype=np.float32)
        self.job_contract = np.full(n, "", dtype="<U1")
        self.job_wage = np.zeros(n)
        self.jobs = _Jobs()
        self.employers = make_employers(n, rng)
        self.events: list[tuple[np.ndarray, ...]] = []
        self.state_m = np.zeros((n, self.M), dtype=np.int8)
        self.hours_m = np.zeros((n, self.M), dtype=np.float32)

    # ------------------------------------------------------------------ presence
    def _presence(self, residence: pl.DataFrame) -> None:
        r = residence.sort("pid", "start")
        pid = r["pid"].to_numpy()
        s = r["start"].to_numpy().astype("datetime64[D]")
        e = r["end"].to_numpy().astype("datetime64[D]")
        far = date(9999, 12, 31)
        e = np.where(np.isnat(e), far, e)
        M = self.M
        month_ends = month_start(np.arange(1, M + 1), self.O) - DAY
        present = np.zeros((self.n, M), dtype=bool)
        # each person has at most a few periods; handle them by rank so that pids are unique per batch
        rank = r.select(pl.int_range(pl.len()).over("pid")).to_series().to_numpy()
        for k in np.unique(rank):
            sel = np.flatnonzero(rank == k)
            for lo in range(0, len(sel), 200_000):
                ss = sel[lo:lo + 200_000]
                present[pid[ss]] |= (s[ss, None] <= month_ends[None, :]) & (e[ss, None] >= month_ends[None, :])
        self.present = present
        # the exact day of arrivals and departures, looked up per (pid, month)
        self.arrive_day = {}
        self.depart_day = {}
        sm = month_index(s, self.O)
        em = month_index(np.where(e == far, date(9999, 1, 1), e + DAY), self.O)
        for mi, d, tgt in ((sm, s, self.arrive_day), (em, e + DAY, self.depart_day)):
            ok = (mi >= 0) & (mi < M)
            for p_, m_, d_ in zip(pid[ok], mi[ok], d[ok]):
                tgt[(int(p_), int(m_))] = d_

    # ------------------------------------------------------------------ helpers
    def lin(self, idx: np.ndarray, m: int) -> np.ndarray:
        """Logit of the employment propensity in month m (params.EMP_*, cycle, age, newcomer)."""
        year = self.O + m // 12
        u = P.UNEMPLOYMENT_TOTAL.get(year, 5.0)
        cyc = P.CYCLE_SLOPE * (u - 5.0) * np.where(self.nw[idx], P.CYCLE_GROUP_MULT_NONWESTERN, 1.0)
        age = (m - self.birth_m[idx]) / 12.0
        age_t = np.select([age < a for a, _ in P.AGE_TERMS], [t for _, t in P.AGE_TERMS], -1.5)
        since = (m - self.arrival_m[idx]) / 12.0
        nc = np.zeros(len(idx))
        ref = self.refugee[idx]
        for yrs, shift in reversed(P.NEWCOMER_PENALTY):
            nc = np.where(ref & (since < yrs), shift, nc)
        return self.base[idx] + cyc + age_t + nc

    def sep_base(self, idx: np.ndarray, m: int) -> np.ndarray:
        age = (m - self.birth_m[idx]) / 12.0
        return (P.SEPARATION_BASE * np.where(age < 27, P.SEPARATION_YOUNG, 1.0)
                * np.where(self.nw[idx], P.SEPARATION_NONWESTERN, 1.0))

    def find_rate(self, idx: np.ndarray, m: int) -> np.ndarray:
        e = _sigmoid(self.lin(idx, m))
        return np.minimum(self.sep_base(idx, m) * e / (1 - e), 0.6)

    def days(self, idx: np.ndarray, m: int) -> np.ndarray:
        ms = month_start(np.array([m]), self.O)[0]
        dim = int((month_start(np.array([m + 1]), self.O)[0] - ms).astype(int))
        return ms + self.rng.integers(0, dim, len(idx)).astype("timedelta64[D]")

    def set_state(self, idx: np.ndarray, new: np.ndarray | int, when: np.ndarray, m: int,
                  sub: np.ndarray | int = SUB_NONE) -> None:
        if not len(idx):
            return
        new = np.broadcast_to(np.asarray(new, dtype=np.int8), idx.shape).copy()
        sub = np.broadcast_to(np.asarray(sub, dtype=np.int8), idx.shape).copy()
        self.state[idx] = new
        self.sub[idx] = sub
        self.state_since_m[idx] = m
        self.events.append((self.pid[idx].copy(), new, sub, when.copy()))

    def start_jobs(self, idx: np.ndarray, when: np.ndarray, m: int, kind: str, second: bool = False,
                   prev_wage: np.ndarray | None = None) -> None:
        """Create jobs (IKVs) for persons idx starting on ``when``; attributes depend on person and kind."""
        if not len(idx):
            return
        rng = self.rng
        k = len(idx)
        age = (m - self.birth_m[idx]) / 12.0
        young = age < 27
        nw = self.nw[idx]
        fem = self.female[idx]
        # sector choice
        names = list(BROAD_SECTOR_WEIGHT)
        w = np.tile(np.array([BROAD_SECTOR_WEIGHT[b] for b in names]), (k, 1))
        for key, mask in (("nonwestern", nw), ("young", young), ("female", fem),
                          ("student", np.full(k, kind in ("student", "pension")))):
            tilt = np.array([SECTOR_TILT[key].get(b, 1.0) for b in names])
            w = np.where(mask[:, None], w * tilt, w)
        if kind == "migrant":
            w[:, names.index("uitzendbedrijven")] *= 12
        c = np.cumsum(w, axis=1)
        pick = (rng.random(k)[:, None] * c[:, -1:] > c).sum(axis=1)
        broad = np.array(names, dtype=object)[pick]
        employer = np.empty(k, dtype=np.int64)
        for b in names:
            sel = np.flatnonzero(broad == b)
            if len(sel):
                ids, cw = self.employers.by_broad[b]
                employer[sel] = ids[np.minimum(np.searchsorted(cw, rng.random(len(sel))), len(ids) - 1)]
        payroll = self.employers.payroll[employer]
        uitzend = (self.employers.broad[employer] == "uitzendbedrijven") & ~payroll
        # contract type and kind of job (SSOORTBAAN)
        p_temp = np.where(young, P.P_TEMP_START["young"], P.P_TEMP_START["adult"]) + np.where(nw, P.P_TEMP_START_NONWESTERN_EXTRA, 0)
        contract = np.where(rng.random(k) < p_temp, "B", "O")
        contract = np.where(uitzend, "B", contract)
        contract = np.where(payroll, "O", contract)   # latent contract of payroll jobs: open-ended
        soort = np.full(k, "9", dtype="<U1")
        soort[uitzend] = "4"
        on_call = (contract == "B") & young & (rng.random(k) < P.P_ON_CALL) & ~uitzend
        soort[on_call] = "5"
        if kind == "student":
            intern = rng.random(k) < P.P_INTERN
            soort[intern] = "2"
        else:
            intern = np.zeros(k, dtype=bool)
        if kind == "dga":
            soort[:] = "1"
            contract[:] = "N"
            # a director-major shareholder is not hired out by a payroll company: payroll jobs are never N (the
            # payrolling rule records them B from 2017; the transitions truth, like SPOLIS, leaves N jobs out),
            # and a DGA at one was written B while the truth had no job (found person by person, December 2026)
            payroll[:] = False
        wsw = (kind == "regular") & (self.ability[idx] < -2.2) & (rng.random(k) < 0.3)
        soort[wsw] = "3"
        contract = np.where((rng.random(k) < P.P_CONTRACT_N) & (kind == "regular") & ~payroll, "N", contract)
        # hours per week
        if kind in ("student", "pension") or second:
            hours = np.clip(rng.normal(11 if kind != "pension" else 13, 5, k), 2, 24)
        else:
            ft = np.where(fem, rng.random(k) < 0.3, rng.random(k) < 0.78)
            hours = np.where(ft, np.clip(rng.normal(37, 2.5, k), 32, 42), np.clip(rng.normal(23, 7, k), 6, 34))
        hours = np.round(hours).astype(np.float32)
        contract_hours = np.where(on_call, 0.0, hours).astype(np.float32)
        # hourly wage in euro of the start year (params.WAGE_*, floor near the hourly WML)
        year = self.O + m // 12
        wml_h = reference.wml_hour(min(max(year, 2006), 2026))
        prem = np.array([P.WAGE_PREMIUM.get(e, 0.3) for e in self.edu[idx]])
        lw = (np.log(wml_h) + prem + P.WAGE_AGE_SLOPE * np.clip(age - 20, 0, 30) - np.where(nw, P.WAGE_GAP_NONWESTERN, 0)
              + 0.06 * self.ability[idx] + rng.normal(0, P.WAGE_SD, k))
        wage = np.exp(lw)
        youth = np.clip(0.3 + 0.1 * (age - 15), 0.3, 1.0)   # youth minimum wage ladder
        wage = np.maximum(wage, wml_h * youth * rng.uniform(1.0, 1.08, k))
        if kind == "student":
            wage = np.maximum(wml_h * youth, wage * 0.7)
            wage[intern] = rng.uniform(1.5, 4.0, intern.sum())
        if kind == "dga":
            wage *= 1.6
        if prev_wage is not None:
            wage = np.where(prev_wage > 0, prev_wage * np.exp(rng.normal(0.03, 0.09, k)), wage)
        growth = rng.normal(P.WAGE_GROWTH_MEAN, P.WAGE_GROWTH_SD, k)
        ids = self.jobs.add(pid=self.pid[idx].copy(), employer=employer, start=when.copy(), contract0=contract,
                            soortbaan=soort, hours=hours, contract_hours=contract_hours, wage0=wage,
                            year0=np.full(k, year, dtype=np.int32), growth=growth, payroll=payroll,
                            second=np.full(k, second), kind=np.full(k, kind, dtype=object))
        if second:
            self.second_job[idx] = ids
            self.second_hours[idx] = hours
        else:
            self.main_job[idx] = ids
            self.job_start_m[idx] = m
            self.job_hours[idx] = hours
            self.job_contract[idx] = contract
            self.job_wage[idx] = wage

    def end_jobs(self, idx: np.ndarray, when_next: np.ndarray, second_too: bool = True) -> None:
        """End the main (and second) job of idx the day before ``when_next``."""
        has = idx[self.main_job[idx] >= 0]
        wn = when_next[self.main_job[idx] >= 0]
        self.jobs.end(self.main_job[has], wn - DAY)
        self.main_job[has] = -1
        self.job_hours[has] = 0
        if second_too:
            has2 = idx[self.second_job[idx] >= 0]
            wn2 = when_next[self.second_job[idx] >= 0]
            self.jobs.end(self.second_job[has2], wn2 - DAY)
            self.second_job[has2] = -1
            self.second_hours[has2] = 0

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        for m in range(self.M):
            self.step(m)
            self.state_m[:, m] = np.where(self.present[:, m], self.state, ABROAD)
            hrs = self.job_hours * (self.main_job >= 0) + self.second_hours * (self.second_job >= 0)
            hrs = np.where(np.isin(self.state, [SELF]), self.self_hours, hrs)
            self.hours_m[:, m] = np.where(self.present[:, m], hrs, 0)

    def _migration_days(self, idx: np.ndarray, m: int, table: dict) -> np.ndarray:
        return np.array([table[(int(p), m)] for p in self.pid[idx]], dtype="datetime64[D]")

    def step(self, m: int) -> None:
        rng = self.rng
        pres = self.present[:, m]
        was = self.present[:, m - 1] if m > 0 else np.zeros(self.n, dtype=bool)
        # departures
        dep = np.flatnonzero(was & ~pres)
        if len(dep):
            when = self._migration_days(dep, m, self.depart_day)
            self.end_jobs(dep, when)
            self.set_state(dep, ABROAD, when, m)
        # arrivals (and everyone present at the start of the simulation)
        arr = np.flatnonzero(pres & ~was)
        if len(arr):
            if m == 0:
                self.initial_states(arr)
            else:
                self.arrival_states(arr, self._migration_days(arr, m, self.arrive_day), m)
        act = np.flatnonzero(pres & was)
        if not len(act):
            return
        st = self.state[act]
        age_m = m - self.birth_m[act]
        in_school = m < self.leave_m[act]
        leaving = m == self.leave_m[act]
        pension_now = (m >= self.aow_m[act]) & (st != PENSION)
        early = (age_m >= 60 * 12) & (st != PENSION) & ~in_school & (rng.random(len(act)) < P.EARLY_PENSION_60)
        to_pension = act[(pension_now | early) & ~in_school]
        self.to_pension(to_pension, m)
        done = np.zeros(self.n, dtype=bool)
        done[to_pension] = True
        # school years
        sch = act[in_school & ~done[act]]
        self.school_step(sch, m)
        done[sch] = True
        lv = act[leaving & ~done[act]]
        self.leave_school(lv, m)
        done[lv] = True
        # pensioners with a job
        pen = act[(self.state[act] == PENSION) & ~done[act]]
        pj = pen[(self.main_job[pen] >= 0) & (rng.random(len(pen)) < P.PENSIONER_JOB_END)]
        self.end_jobs(pj, self.days(pj, m))
        done[pen] = True
        work = act[~done[act]]
        self.working_life(work, m)

    def initial_states(self, idx: np.ndarray) -> None:
        """States at the start of the simulation (two years before the first year), with past start dates."""
        rng = self.rng
        m = 0
        start0 = month_start(np.array([0]), self.O)[0]
        age_m = m - self.birth_m[idx]
        in_school = m < self.leave_m[idx]
        pension = (m >= self.aow_m[idx]) & ~in_school
        working = ~in_school & ~pension
        k = len(idx)
        # earliest plausible start of the current spell
        floor = np.maximum.reduce([self.birth.astype("datetime64[D]")[idx],
                                   month_start(np.maximum(self.leave_m[idx], -600), self.O),
                                   month_start(np.maximum(self.arrival_m[idx], -600), self.O)])
        back = (rng.exponential(5.0, k) * 365.25).astype(np.int64).astype("timedelta64[D]")
        when = np.maximum(start0 - back, floor)
        when = np.minimum(when, start0)
        s = idx[in_school]
        self.set_state(s, SCHOOL, when[in_school], m)
        a = (age_m[in_school] / 12.0)
        jmask = (a >= 15) & (rng.random(len(s)) < np.where(a < 18, P.STUDENT_JOB_INITIAL["15-17"], P.STUDENT_JOB_INITIAL["18+"]))
        withjob = s[jmask]
        jwhen = np.maximum(when[in_school][jmask], start0 - np.timedelta64(90, "D"))
        self.set_state(withjob, STUDENT_JOB, jwhen, m)
        self.start_jobs(withjob, jwhen, m, "student")
        p = idx[pension]
        self.set_state(p, PENSION, when[pension], m)
        w = idx[working]
        ww = when[working]
        e = _sigmoid(self.lin(w, m))
        u = rng.random(len(w))
        employed = u < e
        self_emp = employed & (rng.random(len(w)) < self.p_self[w])
        dga = employed & ~self_emp & (rng.random(len(w)) < P.P_DGA)
        emp = employed & ~self_emp & ~dga
        self.set_state(w[emp], EMP, ww[emp], m)
        self.start_jobs(w[emp], ww[emp], m, "regular")
        self.set_state(w[self_emp], SELF, ww[self_emp], m, np.where(rng.random(self_emp.sum()) < 0.7, SUB_ZZP, SUB_ONDERNEMER))
        self.set_state(w[dga], DGA, ww[dga], m)
        self.start_jobs(w[dga], ww[dga], m, "dga")
        non = ~employed
        age = (m - self.birth_m[w]) / 12.0
        p_ao = np.clip(0.08 + 0.01 * (age - 40), 0.03, 0.35)
        p_bij = np.where(self.nw[w], 0.32, 0.12) + np.where(self.refugee[w], 0.3, 0)
        p_ww = np.full(len(w), 0.12)
        v = rng.random(len(w))
        ao = non & (v < p_ao)
        bij = non & ~ao & (v < p_ao + p_bij)
        wwm = non & ~ao & ~bij & (v < p_ao + p_bij + p_ww)
        soc = non & ~ao & ~bij & ~wwm & (v < p_ao + p_bij + p_ww + 0.03)
        oth = non & ~ao & ~bij & ~wwm & ~soc
        self.set_state(w[ao], AO, ww[ao], m, rng.choice([SUB_WGA, SUB_IVA, SUB_WAO], ao.sum(), p=[0.5, 0.15, 0.35]))
        self.set_state(w[bij], BIJSTAND, ww[bij], m)
        recent = np.maximum(ww[wwm], start0 - np.timedelta64(300, "D"))
        self.set_state(w[wwm], WW, recent, m)
        self.ww_end_m[w[wwm]] = rng.integers(1, 18, wwm.sum())
        self.set_state(w[soc], SOCVOORZ, ww[soc], m, SUB_WAJONG)
        self.set_state(w[oth], OTHER, ww[oth], m)

    def arrival_states(self, idx: np.ndarray, when: np.ndarray, m: int) -> None:
        """Newborns, immigrants and returning emigrants (report 2.2 nieuwkomers; 7.2.5 statushouders)."""
        rng = self.rng
        in_school = m < self.leave_m[idx]
        pension = (m >= self.aow_m[idx]) & ~in_school
        self.set_state(idx[in_school], SCHOOL, when[in_school], m)
        self.set_state(idx[pension], PENSION, when[pension], m)
        w = ~in_school & ~pension
        wi, wd = idx[w], when[w]
        asiel = self.motive[wi] == "asiel"
        arbeid = self.motive[wi] == "arbeid"
        u = rng.random(len(wi))
        bij = asiel & (u < 0.75)
        job = arbeid & (u < 0.8)
        self.set_state(wi[bij], BIJSTAND, wd[bij], m)
        self.set_state(wi[job], EMP, wd[job], m)
        self.start_jobs(wi[job], wd[job], m, "migrant")
        rest = ~bij & ~job
        self.set_state(wi[rest], OTHER, wd[rest], m)

    def school_step(self, idx: np.ndarray, m: int) -> None:
        if not len(idx):
            return
        rng = self.rng
        age = (m - self.birth_m[idx]) / 12.0
        st = self.state[idx]
        # state may be PENSION/OTHER etc. only by data inconsistency; school years are SCHOOL/STUDENT_JOB
        start = idx[(st == SCHOOL) & (age >= 15) & (rng.random(len(idx)) < P.STUDENT_JOB_START)]
        when = self.days(start, m)
        self.set_state(start, STUDENT_JOB, when, m)
        self.start_jobs(start, when, m, "student")
        stop = idx[(st == STUDENT_JOB) & (rng.random(len(idx)) < P.STUDENT_JOB_END)]
        when = self.days(stop, m)
        self.end_jobs(stop, when)
        self.set_state(stop, SCHOOL, when, m)
        other = idx[~np.isin(st, [SCHOOL, STUDENT_JOB])]
        when = self.days(other, m)
        self.end_jobs(other, when)
        self.set_state(other, SCHOOL, when, m)

    def leave_school(self, idx: np.ndarray, m: int) -> None:
        """Leaving initial education: Wajong for a few, else searching (report 4c: duur tot baan)."""
        if not len(idx):
            return
        rng = self.rng
        when = self.days(idx, m)
        u = rng.random(len(idx))
        wajong = u < P.WAJONG_AT_SCHOOL_LEAVE * np.where(self.ability[idx] < -1, 4, 0.5)
        keep = ~wajong & (self.state[idx] == STUDENT_JOB) & (rng.random(len(idx)) < 0.25)
        self.end_jobs(idx[~keep], when[~keep])
        self.set_state(idx[wajong], SOCVOORZ, when[wajong], m, SUB_WAJONG)
        # a student job kept after school becomes a regular job (new IKV at the same date for simplicity)
        kk = idx[keep]
        self.end_jobs(kk, when[keep])
        self.set_state(kk, EMP, when[keep], m)
        self.start_jobs(kk, when[keep], m, "regular")
        rest = ~wajong & ~keep
        self.set_state(idx[rest], OTHER, when[rest], m)

    def to_pension(self, idx: np.ndarray, m: int) -> None:
        if not len(idx):
            return
        when = self.days(idx, m)
        keep = (self.state[idx] == EMP) & (self.rng.random(len(idx)) < P.PENSIONER_KEEP_JOB)
        self.end_jobs(idx[~keep], when[~keep])
        self.end_jobs(idx[keep], when[keep])
        self.set_state(idx, PENSION, when, m)
        self.start_jobs(idx[keep], when[keep], m, "pension")

    def working_life(self, idx: np.ndarray, m: int) -> None:
        rng = self.rng
        if not len(idx):
            return
        st = self.state[idx]
        f = self.find_rate(idx, m)
        sep = self.sep_base(idx, m)
        u = rng.random(len(idx))
        u2 = rng.random(len(idx))
        u3 = rng.random(len(idx))
        age = (m - self.birth_m[idx]) / 12.0

        # --- employees
        emp = st == EMP
        c = self.job_contract[idx]
        sep_job = sep * np.select([c == "B", c == "O"], [P.SEPARATION_TEMP, P.SEPARATION_PERM], 1.0)
        lose = emp & (u < sep_job)
        j2j = emp & ~lose & (u2 < P.JOB_TO_JOB)
        to_self = emp & ~lose & ~j2j & (u2 > 1 - P.EMP_TO_SELF)
        perm = emp & ~lose & ~j2j & (c == "B") & (u3 < P.TEMP_TO_PERM * np.where(self.nw[idx], P.TEMP_TO_PERM_NONWESTERN, 1.0))
        # temp -> permanent in the same job (report 4e, same employer)
        pi = idx[perm]
        self.jobs.perm(self.main_job[pi], self.days(pi, m))
        self.job_contract[pi] = "O"
        # job-to-job change of employer
        ji = idx[j2j]
        when = self.days(ji, m)
        prev = self.job_wage[ji].copy()
        self.end_jobs(ji, when, second_too=False)
        self.start_jobs(ji, when, m, "regular", prev_wage=prev)
        # job loss: destination WW / AO / bijstand / other (report 4f)
        li = idx[lose]
        when = self.days(li, m)
        tenure = m - self.job_start_m[li]
        v = rng.random(len(li))
        p_ao = P.P_AO_FROM_JOB * np.clip((age[lose] - 20) / 25, 0.3, 2.0)
        p_ww = np.where(tenure >= 6, P.P_WW_AFTER_TENURE, P.P_WW_SHORT_TENURE)
        p_bij = np.where(self.nw[li], P.P_BIJSTAND_DIRECT["nonwestern"], P.P_BIJSTAND_DIRECT["other"])
        dest = np.select([v < p_ao, v < p_ao + p_ww, v < p_ao + p_ww + p_bij], [AO, WW, BIJSTAND], OTHER).astype(np.int8)
        sub = np.where(dest == AO, np.where(rng.random(len(li)) < P.ZW_SHARE, SUB_ZW,
                                            np.where(rng.random(len(li)) < 0.8, SUB_WGA, SUB_IVA)), SUB_NONE)
        self.end_jobs(li, when)
        self.set_state(li, dest, when, m, sub)
        self.ww_end_m[li[dest == WW]] = m + rng.integers(P.WW_MAX_MONTHS[0], P.WW_MAX_MONTHS[1] + 1, (dest == WW).sum())
        # to self-employment
        si = idx[to_self]
        when = self.days(si, m)
        self.end_jobs(si, when)
        self.set_state(si, SELF, when, m, SUB_ZZP)
        # second jobs (report 3g)
        has2 = self.second_job[idx] >= 0
        keep_emp = emp & ~lose & ~to_self
        s2 = idx[keep_emp & ~has2 & (rng.random(len(idx)) < P.SECOND_JOB_START)]
        self.start_jobs(s2, self.days(s2, m), m, "regular", second=True)
        e2 = idx[keep_emp & has2 & (rng.random(len(idx)) < P.SECOND_JOB_END)]
        w2 = self.days(e2, m)
        self.jobs.end(self.second_job[e2], w2 - DAY)
        self.second_job[e2] = -1
        self.second_hours[e2] = 0

        # --- self-employed and DGA
        se = np.isin(st, [SELF, DGA]) & (u < P.SELF_EXIT)
        sei = idx[se]
        when = self.days(sei, m)
        self.end_jobs(sei, when)
        to_emp = rng.random(len(sei)) < 0.4
        self.set_state(sei[~to_emp], OTHER, when[~to_emp], m)
        self.set_state(sei[to_emp], EMP, when[to_emp], m)
        self.start_jobs(sei[to_emp], when[to_emp], m, "regular")

        # --- non-employed: job finding, benefit dynamics
        nonemp = np.isin(st, [WW, BIJSTAND, SOCVOORZ, AO, OTHER])
        factor = np.select([st == WW, st == BIJSTAND, st == SOCVOORZ, st == AO], [
            P.FIND_FACTOR["WW"], P.FIND_FACTOR["BIJSTAND"], P.FIND_FACTOR["SOCVOORZ"], P.FIND_FACTOR["AO"]],
            P.FIND_FACTOR["OTHER"])
        zw = (st == AO) & (self.sub[idx] == SUB_ZW)
        factor = np.where(zw, 3.0, factor)
        find = nonemp & (u < f * factor)
        fi = idx[find]
        when = self.days(fi, m)
        selfe = rng.random(len(fi)) < self.p_self[fi] * 0.5
        self.set_state(fi[selfe], SELF, when[selfe], m, SUB_ZZP)
        self.set_state(fi[~selfe], EMP, when[~selfe], m)
        self.start_jobs(fi[~selfe], when[~selfe], m, "regular")
        rest = nonemp & ~find
        # WW exhaustion
        exh = rest & (st == WW) & (m >= self.ww_end_m[idx])
        ei = idx[exh]
        when = self.days(ei, m)
        p_b = np.where(self.nw[ei], P.P_BIJSTAND_AFTER_WW["nonwestern"], P.P_BIJSTAND_AFTER_WW["other"])
        v = rng.random(len(ei))
        old = (m - self.birth_m[ei]) / 12.0 >= 50
        dest = np.select([v < p_b, old & (v < p_b + 0.15)], [BIJSTAND, SOCVOORZ], OTHER).astype(np.int8)
        self.set_state(ei, dest, when, m, np.where(dest == SOCVOORZ, SUB_IOAW, SUB_NONE))
        # bijstand inflow from no income; exits to no income
        b_in = rest & (st == OTHER) & (u2 < np.where(self.nw[idx], P.BIJSTAND_INFLOW_FROM_OTHER["nonwestern"],
                                                     P.BIJSTAND_INFLOW_FROM_OTHER["other"]))
        bi = idx[b_in]
        self.set_state(bi, BIJSTAND, self.days(bi, m), m)
        b_out = rest & (st == BIJSTAND) & (u2 < P.BIJSTAND_EXIT_OTHER)
        bo = idx[b_out]
        self.set_state(bo, OTHER, self.days(bo, m), m)
        # AO recovery, sickness benefit ends
        ao_out = rest & (st == AO) & (u2 < np.where(zw, P.ZW_EXIT, P.AO_RECOVERY))
        ai = idx[ao_out]
        self.set_state(ai, OTHER, self.days(ai, m), m)

    # ------------------------------------------------------------------ result
    def result(self) -> LabourHistory:
        pid = np.concatenate([e[0] for e in self.events])
        st = np.concatenate([e[1] for e in self.events])
        sub = np.concatenate([e[2] for e in self.events])
        when = np.concatenate([e[3] for e in self.events])
        order = np.lexsort((np.arange(len(pid)), when, pid))
        spells = pl.DataFrame({"pid": pid[order], "state": st[order], "subtype": sub[order],
                               "start": when[order]}).with_columns(pl.col("start").cast(pl.Date))
        # several events of one person on one day: the last one wins
        spells = spells.unique(subset=["pid", "start"], keep="last", maintain_order=True)
        spells = spells.with_columns((pl.col("start").shift(-1).over("pid") - pl.duration(days=1)).alias("end"))
        # merge consecutive spells of the same state and subtype
        spells = spells.with_columns(
            ((pl.col("state") != pl.col("state").shift(1).over("pid"))
             | (pl.col("subtype") != pl.col("subtype").shift(1).over("pid"))).fill_null(True).cum_sum().alias("run"))
        spells = (spells.group_by("pid", "run", maintain_order=True)
                  .agg(pl.col("state").first(), pl.col("subtype").first(), pl.col("start").first(), pl.col("end").last())
                  .drop("run"))
        a = self.jobs.arrays()
        jobs = pl.DataFrame({
            "job_id": a["job_id"], "pid": a["pid"], "employer": a["employer"],
            "sbeid": self.employers.sbeid[a["employer"]], "ssect": self.employers.ssect[a["employer"]],
            "broad_sector": self.employers.broad[a["employer"]].astype(str),
            "four_weekly": self.employers.four_weekly[a["employer"]],
            "start": a["start"], "end": a["end"], "perm_date": a["perm_date"], "contract0": a["contract0"],
            "soortbaan": a["soortbaan"], "hours": a["hours"], "contract_hours": a["contract_hours"],
            "wage0": a["wage0"], "year0": a["year0"], "growth": a["growth"], "payroll": a["payroll"],
            "second": a["second"], "kind": a["kind"].astype(str),
        }).with_columns(pl.col("start").cast(pl.Date), pl.col("end").cast(pl.Date), pl.col("perm_date").cast(pl.Date))
        # a job that ends before it starts (ended the day it began) is dropped
        jobs = jobs.filter(pl.col("end").is_null() | (pl.col("end") >= pl.col("start"))).sort("job_id")
        return LabourHistory(origin_year=self.O, n_months=self.M, state_m=self.state_m, hours_m=self.hours_m,
                             spells=spells, jobs=jobs, employers=self.employers)
