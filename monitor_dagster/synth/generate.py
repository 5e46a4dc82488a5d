"""``monitor synth``: write a synthetic CBS landing zone and its truth file.

The order of work: one latent world (demography -> education -> monthly labour history -> provisions and
trajectories), then every file of every year projected from it and written in the chosen format.  Each
projection draws its random numbers from its own stream (seed, file, year), so adding a file or a year never
changes the bytes of another.  See docs/synthetic_data.md for what is planted and why.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from monitor_dagster.synth import education as edu_mod
from monitor_dagster.synth import ebb as ebb_mod
from monitor_dagster.synth import income as inc_mod
from monitor_dagster.synth import params as P
from monitor_dagster.synth import project as pj
from monitor_dagster.synth import spolis as sp
from monitor_dagster.synth.labels import LABELS
from monitor_dagster.synth.labour import simulate_labour
from monitor_dagster.synth.layout import has_year, relpath
from monitor_dagster.synth.persons import simulate_demography
from monitor_dagster.synth.timeutil import date
from monitor_dagster.synth.writers import write_frame

FORMATS = ("sav", "csv", "parquet")
YEAR_MIN, YEAR_MAX = 2006, 2026
SRG_YEARS = (2015, 2018)      # SRGPERSOONPWETBUS; PWETSRGPERSOONBUS from 2019 (report 3.2.1)


class SynthError(ValueError):
    """Bad arguments to the generator (reported by the CLI without a traceback)."""


@dataclass
class SynthConfig:
    landing: Path
    persons: int = 10_000
    first_year: int = 2013
    last_year: int = 2021
    seed: int = 1
    fmt: str = "parquet"
    truth: Path | None = None
    only_files: tuple[str, ...] | None = None    # restrict to some file ids (benchmarks, tests)
    replicate: int = 1    # write R shifted copies of the ``persons`` base zone (replicate.py; csv/parquet only)
    #: plant the truths of the corrected figures (corrections_plant.py: O04 with a group effect, O09 pure
    #: composition); off by default: it overrides contracts and incomes that other truths describe
    plant_corrections: bool = False
    #: waves of the input surveys to write (docs/surveys.md; report hoofdstuk 3): one response export and one
    #: sample frame per instrument under Enquetes/<instrument>/<wave>/; organisations, not person years, so off
    #: unless asked (``monitor synth --surveys 2023``; ``monitor demo`` writes the packaged waves)
    surveys: tuple[str, ...] = ()
    #: Jobfeed vacancies per year from 2021 (issue 20, docs/vacancies.md; ``monitor synth --vacancies N``): one
    #: yearly file per year with planted places and hard negatives, truth next to the zone; 0 = none
    vacancies: int = 0

    def validate(self) -> None:
        if self.fmt not in FORMATS:
            raise SynthError(f"unknown format {self.fmt!r}: choose one of {', '.join(FORMATS)}")
        if self.persons < 1:
            raise SynthError(f"--persons must be at least 1, got {self.persons}")
        if not (YEAR_MIN <= self.first_year <= self.last_year <= YEAR_MAX):
            raise SynthError(f"years {self.first_year}-{self.last_year} outside {YEAR_MIN}-{YEAR_MAX} "
                             f"(or first year after last year)")
        if self.replicate < 1:
            raise SynthError(f"--replicate must be at least 1, got {self.replicate}")
        if self.replicate > 1 and self.fmt == "sav":
            raise SynthError("--replicate writes csv or parquet: pyreadstat cannot append to a .sav file, so an "
                             "R-fold .sav file would need R times the memory (docs/synthetic_data.md)")
        from monitor_dagster.synth.replicate import MAX_PERSONS
        if self.surveys:
            from monitor_dagster.surveys.xlsform import forms
            have = sorted({w for _, w in forms()})
            bad = [w for w in self.surveys if str(w) not in have]
            if bad:
                raise SynthError(f"--surveys {','.join(bad)}: no packaged form for that wave (packaged waves: "
                                 f"{', '.join(have)}; monitor_dagster/surveys/forms/)")
        if self.plant_corrections:
            from monitor_dagster.synth.corrections_plant import FIRST_YEAR
            if self.last_year < FIRST_YEAR:
                raise SynthError(f"--plant-corrections plants O04 and O09, which start in {FIRST_YEAR}: choose a "
                                 f"last year from {FIRST_YEAR}")
            if self.only_files is not None and "HOOGSTEOPLTAB" not in self.only_files:
                raise SynthError("--plant-corrections: the planted chances depend on the education level of "
                                 "HOOGSTEOPLTAB, so the zone needs that file too")
        if self.persons * self.replicate > MAX_PERSONS:
            raise SynthError(f"{self.persons:,} persons x {self.replicate} copies exceed the {MAX_PERSONS:,} "
                             f"9-digit person keys")

    @property
    def truth_path(self) -> Path:
        return self.truth if self.truth is not None else self.landing.with_name(self.landing.name + ".truth.json")


@dataclass
class WrittenFile:
    file_id: str
    year: int
    version: int
    path: str
    rows: int
    columns: int
    bytes: int
    sha256: str
    note: str = ""


@dataclass
class SynthResult:
    config: SynthConfig
    files: list[WrittenFile] = field(default_factory=list)
    truth: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    skipped_empty: list[str] = field(default_factory=list)


def sub_rng(seed: int, *key: object) -> np.random.Generator:
    """An independent, reproducible stream per (seed, key...): crc32 keeps it stable across Python runs."""
    parts = [seed] + [zlib.crc32(str(k).encode()) for k in key]
    return np.random.default_rng(parts)


@dataclass(frozen=True)
class LatentWorld:
    """The latent world of a zone: demography, education careers, labour market and the planted top earners."""
    demo: object
    ew: object
    lab: object
    top: np.ndarray


def latent_world(persons: int, seed: int, first_year: int, last_year: int) -> LatentWorld:
    """The latent world :func:`generate` draws for ``persons``, ``seed`` and the years, from the same streams:
    what the truths are computed from, and what a comparison person by person draws again
    (``synth.verify_persons``, the tests of the planted truths)."""
    demo = simulate_demography(persons, sub_rng(seed, "demography"), first_year, last_year)
    ew = edu_mod.simulate_education(demo.persons, sub_rng(seed, "education"), first_year, last_year)
    lab = simulate_labour(demo.persons, demo.residence, ew.person_edu, sub_rng(seed, "labour"), first_year, last_year)
    return LatentWorld(demo, ew, lab, inc_mod.top_earners(demo.persons, sub_rng(seed, "top")))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def irregular_years(first: int, last: int) -> dict[str, int]:
    """Which year gets CBS's irregular name (CBS file documentation): GBAPERSOONTAB<Y>V1 and 'SPOLISBUS <Y>'."""
    pick = lambda pref: pref if first <= pref <= last else first  # noqa: E731
    spolis = pick(2014)
    if spolis == last and first < last:
        spolis = first
    return {"GBAPERSOONTAB": pick(2016), "SPOLISBUS": spolis}


def generate(cfg: SynthConfig, progress: Callable[[str, int, int], None] | None = None) -> SynthResult:
    cfg.validate()
    t0 = time.perf_counter()
    res = SynthResult(config=cfg)
    fy, ly, seed = cfg.first_year, cfg.last_year, cfg.seed
    wanted = (lambda f: cfg.only_files is None or f in cfg.only_files)

    world = latent_world(cfg.persons, seed, fy, ly)
    demo, ew, lab, top = world.demo, world.ew, world.lab, world.top
    persons, residence = demo.persons, demo.residence
    res.seconds["latent"] = time.perf_counter() - t0
    replication = None
    if cfg.replicate > 1:
        from monitor_dagster.synth.replicate import Replication
        max_job = int(lab.jobs["job_id"].max()) if lab.jobs.height else 0
        try:
            replication = Replication.plan(cfg.replicate, cfg.persons, max_job)
        except ValueError as exc:
            raise SynthError(str(exc)) from None
    secm = pj.secm_spells(lab, sub_rng(seed, "secm"))
    addresses = pj.address_spells(residence, sub_rng(seed, "addresses"), date(*P.GBA_START).astype(object))
    # a municipality per address object (regions.py; a stream of its own: the other files keep their bytes)
    from monitor_dagster.synth import regions as reg_mod
    addr_gem = reg_mod.draw_municipalities(addresses, persons, lab, sub_rng(seed, "municipalities"))
    prov = pj.simulate_provisions(lab, persons, sub_rng(seed, "provisions"))
    traj = pj.simulate_trajectories(lab, sub_rng(seed, "trajectories"))
    scale = ebb_mod.represented_per_person(residence)
    irregular = irregular_years(fy, ly)
    corrections: list[dict] = []
    spolis_cache: dict[int, pl.DataFrame] = {}
    plant = _Plant(cfg, persons, residence, ew) if cfg.plant_corrections else None

    def spolis(year: int) -> pl.DataFrame:
        if year not in spolis_cache:
            spolis_cache.clear()
            spolis_cache[year] = sp.project_spolisbus(lab.jobs, persons, year, sub_rng(seed, "SPOLISBUS", year))
            if plant is not None:
                spolis_cache[year] = plant.contracts(spolis_cache[year], year)
            # benefits paid through the payroll (SSRTIV 21+), after the planted contracts: not jobs
            df = spolis_cache[year]
            spolis_cache[year] = pl.concat([df, sp.benefit_rows(lab.spells, persons, year,
                                                                sub_rng(seed, "SPOLISBUS-benefits", year), df)])
        return spolis_cache[year]

    lm_cache: list[pl.DataFrame] = []

    def months_employed() -> pl.DataFrame:
        if not lm_cache:
            lm_cache.append(labour_months(lab, ew.survey["pid"].unique().sort().to_numpy()))
        return lm_cache[0]

    wages_cache: dict[int, pl.DataFrame] = {}

    def wages(year: int) -> pl.DataFrame:
        """Wages per person for INPATAB; the last consumer of the year's SPOLIS frame, which is then freed."""
        if year not in wages_cache:
            amount, srtiv = ("SLNINGLD", "SSRTIV") if year >= 2010 else ("LNINGLD", "SRTIV")
            # wages only: the benefit rows (SSRTIV 21+) are not INPATAB's primary income
            df = (spolis(year).filter((pl.col("RINPERSOONS") == "R") & (pl.col(srtiv).cast(pl.Int64) < 21))
                  .group_by("RINPERSOON").agg(pl.col(amount).sum().alias("wage")))
            wages_cache.clear()
            wages_cache[year] = df.join(persons.select("pid", pl.col("rinpersoon").alias("RINPERSOON")),
                                        on="RINPERSOON").select("pid", "wage")
            spolis_cache.clear()
        return wages_cache[year]

    def inpatab(year: int) -> pl.DataFrame:
        df = inc_mod.project_inpatab(lab, persons, wages(year), year, top, sub_rng(seed, "INPATAB", year))
        return plant.incomes(df, year) if plant is not None else df

    # (file id, year, version, irregular name or None, producer, note)
    plan: list[tuple[str, int, int, str | None, Callable[[], pl.DataFrame], str]] = []

    def add(fid, year, producer, version=1, name=None, note=""):
        if wanted(fid):
            plan.append((fid, year, version, name, producer, note))

    for y in range(fy, ly + 1):
        gname = f"GBAPERSOONTAB{y}" if irregular["GBAPERSOONTAB"] == y else None
        add("GBAPERSOONTAB", y, lambda y=y: pj.project_gbapersoontab(persons, residence, y), name=gname,
            note="irregular name" if gname else "")
        add("GBAADRESOBJECTBUS", y, lambda y=y: pj.project_gbaadresobjectbus(addresses, persons, y))
        add("GBAMIGRATIEBUS", y, lambda y=y: pj.project_gbamigratiebus(demo.migration, persons, y))
        add("MIGMOTIEFBUS", y, lambda y=y: pj.project_migmotiefbus(persons, residence, y))
        add("VSLGWBTAB", y, lambda y=y: reg_mod.project_vslgwbtab(addr_gem, y))
        add("SECMBUS", y, lambda y=y: pj.project_secmbus(secm, lab, persons, y))
        add("BIJSTANDPERSOONBUS", y, lambda y=y: pj.project_bijstandpersoonbus(lab, persons, y))
        add("WWPERSOONBUS", y, lambda y=y: pj.project_wwpersoonbus(lab, persons, y))
        add("AOTOTPERSOONBUS", y, lambda y=y: pj.project_aototpersoonbus(lab, persons, y))
        add("SIRWWPERSOONBUS", y, lambda y=y: pj.project_sirpersoonbus(traj, persons, y, "WW"))
        add("SIRAGPERSOONBUS", y, lambda y=y: pj.project_sirpersoonbus(traj, persons, y, "AG"))
        if SRG_YEARS[0] <= y <= SRG_YEARS[1]:
            add("SRGPERSOONPWETBUS", y, lambda y=y: pj.project_srgpersoonpwetbus(prov, persons, y))
        elif y > SRG_YEARS[1]:
            add("PWETSRGPERSOONBUS", y, lambda y=y: pj.project_pwetsrgpersoonbus(prov, persons, y))
        # SPOLISBUS: the last year also comes as provisional part-year releases (t/m maand 6 and 9)
        pol = "SPOLISBUS" if y >= 2010 else "POLISBUS"
        if y == ly and pol == "SPOLISBUS":
            for v, months in ((1, 6), (2, 9)):
                add(pol, y, lambda y=y, mo=months: sp.part_year(spolis(y), y, mo),
                    version=v, note=f"t/m maand {months} (provisional)")
            add(pol, y, lambda y=y: spolis(y), version=3, note="t/m maand 12")
        else:
            sname = f"SPOLISBUS {y}" if (pol == "SPOLISBUS" and irregular["SPOLISBUS"] == y) else None
            add(pol, y, lambda y=y: spolis(y), name=sname, note="name with a space" if sname else "")
        inc = "INPATAB" if y >= 2011 else "IPI"
        add(inc, y, lambda y=y: inpatab(y))
        add("EBBNW", y, lambda y=y: ebb_mod.project_ebbnw(lab, persons, ew.person_edu, y, scale, sub_rng(seed, "EBBNW", y)))
        add("HOOGSTEOPLTAB", y, lambda y=y: edu_mod.project_hoogsteopltab(ew, persons, residence, y))
        add("ONDERWIJSINSCHRTAB", y, lambda y=y: edu_mod.project_onderwijsinschrtab(ew, persons, residence, y))
        add("EXAMVOTAB", y, lambda y=y: edu_mod.project_examvotab(ew, persons, y))
        add("DIPLOMAMBOTAB", y, lambda y=y: edu_mod.project_diplomambotab(ew, persons, y))
        add("DIPLOMAHOTAB", y, lambda y=y: edu_mod.project_diplomahotab(ew, persons, y))
        add("MBOSCHOOLVERLATERS", y, lambda y=y: edu_mod.project_schoolverlaters(ew, persons, months_employed(), y))
        add("VSVMBOTAB", y, lambda y=y: edu_mod.project_vsvmbotab(ew, persons, y, sub_rng(seed, "VSVMBOTAB", y)))
    # CBS's reference files: year-less names on the code-listings share (layout.py); one listing for all years
    # (the whole programme catalogue), written once; ``year`` only records the run's last year in the truth
    add("LANDAKTUEELREF", ly, pj.project_landaktueelref)
    add("OPLEIDINGSNRREF", ly, lambda: edu_mod.project_opleidingsnrref(ew))
    add("SBBKANSOPWERK", ly, lambda: edu_mod.project_sbb(ew))

    # corrected versions: V1 carries a few errors that V2 repairs (CBS convention: the highest V supersedes)
    plan = _with_corrections(plan, fy, ly, corrections, seed)

    res.seconds["prepare"] = time.perf_counter() - t0 - res.seconds["latent"]
    t1 = time.perf_counter()
    for i, (fid, year, version, name, producer, note) in enumerate(plan):
        if progress:
            progress(f"{fid} {year} V{version}", i, len(plan))
        df = producer()
        if isinstance(df, pl.DataFrame) and df.height == 0:
            # a tiny population can leave a survey or spell file empty; CBS never delivers empty files
            res.skipped_empty.append(f"{fid} {year} V{version}")
            continue
        rel = relpath(fid, year, version, cfg.fmt, name)
        path = cfg.landing / rel
        labels = LABELS.get(fid) or edu_mod.LABELS.get(fid, {})
        # a year-less reference file (OPLEIDINGSNRREFV1) gets a year-less .sav label: same bytes for any --years
        label = f"{fid} {year} V{version} {note}" if has_year(fid) else f"{fid} V{version} {note}"
        size, rows, cols = write_frame(df, path, cfg.fmt, labels, file_label=label.strip(),
                                       replication=replication)
        res.files.append(WrittenFile(fid, year, version, str(rel), rows, cols, size, _sha256(path), note))
        del df   # free this file's rows before the next one is projected (peak memory at national scale)
    if progress:
        progress("done", len(plan), len(plan))
    res.seconds["write"] = time.perf_counter() - t1
    from monitor_dagster.synth.truth import build_truth
    res.truth = build_truth(cfg, demo, ew, lab, prov, top, scale, res.files, corrections, irregular)
    res.truth["regions"], res.truth["address_release_cut"] = reg_mod.regions_truth(addr_gem, persons, residence,
                                                                                  lab, fy, ly)
    res.truth["regions_model"] = reg_mod.model_truth()
    if plant is not None:
        res.truth["corrections_plant"] = plant.truth()
    if replication is not None:
        from monitor_dagster.synth.truth import scale_truth
        res.truth = scale_truth(res.truth, replication)
    res.truth["skipped_empty_files"] = res.skipped_empty
    if cfg.surveys:
        res.truth["surveys"] = write_surveys(cfg)
    if cfg.vacancies:
        res.truth["vacancies"] = write_vacancies(cfg, res)
    cfg.truth_path.parent.mkdir(parents=True, exist_ok=True)
    cfg.truth_path.write_text(json.dumps(res.truth, indent=1, ensure_ascii=False, default=str))
    res.seconds["total"] = time.perf_counter() - t0
    return res


SURVEY_INSTRUMENTS = ("gemeenten", "werkgevers", "onderwijsinstellingen")


def write_surveys(cfg: SynthConfig) -> dict:
    """One wave of each input survey into the zone (synth/surveys.py): the export as the fieldwork bureau
    delivers it (``<instrument>_<wave>V1.csv``, XLSX for a ``sav`` zone) and the sample frame next to it; the
    planted truth per instrument goes next to the zone, never inside (docs/synthetic_data.md).  The surveys
    draw from their own (seed, instrument, wave) streams, so no other file of the zone changes."""
    from monitor_dagster.synth import surveys as surveys_mod

    out = {}
    truth_dir = cfg.truth_path.parent / f"{cfg.landing.name}.surveys"
    for wave in cfg.surveys:
        for instrument in SURVEY_INSTRUMENTS:
            t = surveys_mod.generate_responses(cfg.landing / "Enquetes" / instrument / str(wave), instrument,
                                               str(wave), seed=cfg.seed, fmt="xlsx" if cfg.fmt == "sav" else "csv",
                                               stem=f"{instrument}_{wave}V1", truth_dir=truth_dir)
            t.pop("paths")
            out[f"{instrument}_{wave}"] = t
    return out


def write_vacancies(cfg: SynthConfig, res) -> dict:
    """The Jobfeed files of the years from 2021 (synth/vacancies.py), one per year (JOBFEED<year>V1: the catalog
    takes one release per year); the truth per vacancy next to the zone.  Their own random stream
    ([seed, year, 20]), so every other file keeps its bytes; a ``sav`` zone gets CSV (the vendor's format)."""
    from monitor_dagster.synth.vacancies import generate_vacancies

    out = {}
    for y in range(max(cfg.first_year, 2021), cfg.last_year + 1):
        vr = generate_vacancies(cfg.landing, y, cfg.vacancies, seed=cfg.seed,
                                fmt="parquet" if cfg.fmt == "parquet" else "csv", monthly=False,
                                truth=cfg.truth_path.with_name(f"{cfg.truth_path.stem}.vacatures_{y}.parquet"))
        f = vr.files[0]
        res.files.append(WrittenFile("JOBFEED", y, 1, f.relative_to(cfg.landing).as_posix(), vr.rows, 13,
                                     f.stat().st_size, _sha256(f)))
        out[str(y)] = str(vr.truth)
    return out


class _Plant:
    """The corrections plant of one run (corrections_plant.py): the characteristics of the year as the pipeline
    will derive them (one year kept: the plan goes year by year) and a random stream per file and year of its
    own, so the draws do not depend on which other files are written."""

    def __init__(self, cfg: SynthConfig, persons: pl.DataFrame, residence: pl.DataFrame, ew) -> None:
        from monitor_dagster.synth import corrections_plant as cp
        self.cp, self.cfg, self.persons, self.residence, self.ew = cp, cfg, persons, residence, ew
        self._cells: dict[int, pl.DataFrame] = {}

    def cells(self, year: int) -> pl.DataFrame:
        if year not in self._cells:
            self._cells.clear()
            hoogste = edu_mod.project_hoogsteopltab(self.ew, self.persons, self.residence, year)
            self._cells[year] = self.cp.person_cells(self.persons, hoogste, year)
        return self._cells[year]

    def rng(self, file_id: str, year: int) -> np.random.Generator:
        return sub_rng(self.cfg.seed, "plant_corrections", file_id, year)

    def contracts(self, df: pl.DataFrame, year: int) -> pl.DataFrame:
        if year < self.cp.FIRST_YEAR:
            return df
        return self.cp.plant_contracts(df, self.cells(year), self.rng("SPOLISBUS", year))

    def incomes(self, df: pl.DataFrame, year: int) -> pl.DataFrame:
        if year < self.cp.FIRST_YEAR:
            return df
        return self.cp.plant_incomes(df, self.cells(year), self.rng("INPATAB", year))

    def truth(self) -> dict:
        return self.cp.truth(self.cfg.first_year, self.cfg.last_year)


def labour_months(lab, pids: np.ndarray) -> pl.DataFrame:
    """pid, month (Date), employed for the persons ``pids`` (the survey population only: at national scale
    the full person-month table would cost ~0.5 GB for nothing)."""
    from monitor_dagster.synth.timeutil import month_start
    M = lab.hours_m.shape[1]
    months = month_start(np.arange(M), lab.origin_year)
    pids = np.asarray(pids, dtype=np.int64)
    return pl.DataFrame({
        "pid": np.repeat(pids, M),
        "month": np.tile(months, len(pids)),
        "employed": (lab.hours_m[pids] >= 1).reshape(-1),
    }).with_columns(pl.col("month").cast(pl.Date))


def _with_corrections(plan, fy, ly, corrections, seed):
    """Turn three releases into V1 (a few wrong rows) + V2 (corrected): GBAPERSOONTAB of the last year
    (sex unknown for a few persons), SECMBUS of the year before (a few spells coded 32), INPATAB of the
    second year (a decimal error in a few incomes)."""
    targets = {("GBAPERSOONTAB", ly): ("GBAGESLACHT", "-"), ("SECMBUS", max(fy, ly - 1)): ("SECM", "32"),
               ("INPATAB", min(ly, max(fy + 1, 2011))): ("INPPERSPRIM", "x10")}
    out = []
    for fid, year, version, name, producer, note in plan:
        t = targets.get((fid, year))
        if t is None or version != 1:
            out.append((fid, year, version, name, producer, note))
            continue
        col, how = t

        def broken(producer=producer, col=col, how=how, fid=fid, year=year):
            df = producer()
            rng = sub_rng(seed, "correction", fid, year)
            # only rows whose value really changes (not already "-", "32" or an income of 0 / missing)
            if how == "x10":
                eligible = ((df[col] > 0) & (df[col] < P.INCOME_MISSING)).to_numpy()
            else:
                eligible = (df[col] != how).to_numpy()
            cand = np.flatnonzero(eligible)
            k = min(max(2, df.height // 500), len(cand))
            idx = np.sort(rng.choice(cand, size=k, replace=False))
            mask = np.zeros(df.height, dtype=bool)
            mask[idx] = True
            new = (pl.col(col) * 10) if how == "x10" else pl.lit(how)
            corrections.append({"file": fid, "year": year, "column": col, "rows_changed_in_V1": int(mask.sum()),
                                "how": how})
            return df.with_columns(pl.when(pl.Series(mask)).then(new).otherwise(pl.col(col)).alias(col))

        out.append((fid, year, 1, name, broken, (note + " with errors corrected in V2").strip()))
        out.append((fid, year, 2, name, producer, (note + " corrected").strip()))
    return out
