"""Corrections benchmark (issue 17; technisch rapport Monitor gelijke kansen, §7.2.2): propensity weights over
all years and the balance check, and the duration models of one year, at national-like sizes.  A benchmark,
not a test: it measures seconds and peak memory, it checks no figure.

Both parts run on synthetic data built here with numpy/polars (no landing zone, no warehouse), each in its
own process so its peak RSS is its own:

- ``weights``: per year a population frame of ``--persons`` rows with the columns of core/population that
  :func:`corrections.propensity.covariate_cells` reads (person_id, herkomst_aggregate, leeftijd, age_jan1,
  geslacht, opleidingsniveau, student, pensioner, verblijfsduur_excluded), with the composition differences
  between the groups the registers show (the basisgroep younger, more often low or unknown education,
  education rising over the years); timed: ``covariate_cells`` of every year, ``fit_weights`` once over all
  years (the call of the asset core/propensity_weights), ``balance`` of all years.  Target: under 60 s and
  4 GB at 1 M persons per year and 9 years (generating the frames is not counted in the time; it is in the
  peak);
- ``duration``: ``--durations`` simulated spells of one year (months to work or to bijstand after WW, censored
  at 36 months), aggregated to duration cells (group x age class x sex x education x month x cause) with a
  propensity weight per cell; timed: the aggregation, ``fit_hazard`` (any event, person-clustered sandwich),
  ``fit_competing`` (two causes), ``survival_curves`` and ``cumulative_incidence``.  Target: under 60 s.

    .venv/bin/python benchmarks/corrections.py                         # 1,000,000 persons x 9 years, 1,000,000 spells
    .venv/bin/python benchmarks/corrections.py --persons 200000 --years 2019-2021 --durations 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import monitor_dagster  # noqa: F401  (before polars: its allocator options, monitor_dagster/allocator.py)
import polars as pl

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
TARGET_SECONDS, TARGET_GB = 60.0, 4.0

#: age classes of corrections.propensity.AGE_CLASSES as (first age, last age) for the simulation
AGE_RANGES = {"15-19": (15, 19), "20-26": (20, 26), "27-34": (27, 34), "35-44": (35, 44), "45-54": (45, 54),
              "55-AOW": (55, 66)}
#: share of the 15-AOW population per herkomst_aggregate (roughly the registers: about one in six non-Western)
HERKOMST = {"geen": 0.72, "niet-westers": 0.16, "westers": 0.12}
#: age-class distribution per group: the basisgroep is younger
AGE_P = {"geen": [0.10, 0.14, 0.14, 0.16, 0.20, 0.26], "niet-westers": [0.13, 0.19, 0.19, 0.20, 0.16, 0.13],
         "westers": [0.09, 0.14, 0.17, 0.18, 0.20, 0.22]}
#: education (laag, middelbaar, hoog, onbekend) per group and jongeren / niet-jongeren in the first year;
#: each later year moves 1 point from onbekend to hoog (HOOGSTEOPLTAB's coverage grows)
EDU_P = {("geen", True): [0.30, 0.35, 0.20, 0.15], ("geen", False): [0.18, 0.32, 0.30, 0.20],
         ("niet-westers", True): [0.36, 0.32, 0.14, 0.18], ("niet-westers", False): [0.22, 0.20, 0.15, 0.43],
         ("westers", True): [0.28, 0.33, 0.22, 0.17], ("westers", False): [0.15, 0.25, 0.30, 0.30]}
EDU = ["laag", "middelbaar", "hoog", "onbekend"]


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def population(persons: int, year: int, first_year: int, seed: int) -> pl.DataFrame:
    """A core/population-like frame of one year (the columns covariate_cells reads, with core's dtypes)."""
    from monitor_dagster.core.characteristics import GESLACHT, HERKOMST_AGGREGATE, LEEFTIJD, OPLEIDINGSNIVEAU

    rng = np.random.default_rng(seed + year)
    groups = list(HERKOMST)
    g = rng.choice(len(groups), size=persons, p=list(HERKOMST.values()))
    classes = list(AGE_RANGES)
    age = np.empty(persons, dtype=np.int16)
    edu = np.empty(persons, dtype=np.int8)
    shift = year - first_year
    for gi, name in enumerate(groups):
        idx = np.flatnonzero(g == gi)
        c = rng.choice(len(classes), size=idx.size, p=AGE_P[name])
        lo = np.array([AGE_RANGES[k][0] for k in classes])[c]
        hi = np.array([AGE_RANGES[k][1] for k in classes])[c]
        age[idx] = lo + (rng.random(idx.size) * (hi - lo + 1)).astype(np.int16)
        for young in (True, False):
            p = np.array(EDU_P[(name, young)], dtype=float)
            move = min(0.01 * shift, p[3] - 0.02)
            p[2] += move
            p[3] -= move
            sub = idx[(age[idx] < 27) == young]
            edu[sub] = rng.choice(4, size=sub.size, p=p)
    young = age < 27
    basis = g == groups.index("niet-westers")
    student = young & (rng.random(persons) < np.where(age < 20, 0.75, 0.30))
    pensioner = (age >= 60) & (rng.random(persons) < 0.05)
    excluded = basis & (rng.random(persons) < 0.01)
    return pl.DataFrame({
        "person_id": np.arange(persons, dtype=np.int64) + year * 10_000_000,
        "herkomst_aggregate": pl.Series(np.array(groups)[g]).cast(HERKOMST_AGGREGATE),
        "leeftijd": pl.Series(np.where(young, "jongeren", "niet-jongeren")).cast(LEEFTIJD),
        "age_jan1": age.astype(np.int32),
        "geslacht": pl.Series(np.where(rng.random(persons) < 0.5, "man", "vrouw")).cast(GESLACHT),
        "opleidingsniveau": pl.Series(np.array(EDU)[edu]).cast(OPLEIDINGSNIVEAU),
        "student": student, "pensioner": pensioner, "verblijfsduur_excluded": excluded,
    })


def run_weights(persons: int, first: int, last: int, seed: int) -> dict:
    from monitor_dagster.corrections.propensity import balance, balance_problems, covariate_cells, fit_weights

    t_cells = t_gen = 0.0
    parts = []
    for year in range(first, last + 1):
        t = time.perf_counter()
        frame = population(persons, year, first, seed)
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        parts.append(covariate_cells(frame.lazy(), year))
        t_cells += time.perf_counter() - t
        del frame
    cells = pl.concat(parts, how="vertical")
    t = time.perf_counter()
    model = fit_weights(cells)
    t_fit = time.perf_counter() - t
    t = time.perf_counter()
    table = balance(cells, model.weights)
    t_bal = time.perf_counter() - t
    return {"part": "weights", "persons_per_year": persons, "years": last - first + 1,
            "weighted_persons": int(cells["n"].sum()), "cells": cells.height, "model_cells": model.weights.height,
            "parameters": model.coefficients.height, "converged": model.converged,
            "seconds_generate": t_gen, "seconds_covariate_cells": t_cells, "seconds_fit_weights": t_fit,
            "seconds_balance": t_bal, "seconds": t_cells + t_fit + t_bal,
            "out_of_balance": len(balance_problems(table)),
            "max_abs_smd_voor": float(table["smd_voor"].abs().max()),
            "max_abs_smd_na": float(table["smd_na"].abs().max()), "peak_rss_gb": rss_gb()}


def durations(n: int, seed: int) -> pl.DataFrame:
    """``n`` spells after WW with two competing exits (werk, bijstand), monthly hazards depending on group and
    covariates, censored at 36 months or earlier (end of the observation window)."""
    rng = np.random.default_rng(seed)
    basis = rng.random(n) < 0.25
    cls = rng.choice(len(AGE_RANGES), size=n, p=[0.04, 0.16, 0.22, 0.22, 0.20, 0.16])
    vrouw = rng.random(n) < 0.48
    edu = rng.choice(4, size=n, p=[0.30, 0.35, 0.25, 0.10])
    # monthly hazards: werk ~6%, lower for the basisgroep, older and low educated; bijstand ~0.8%
    eta = np.log(0.06) - 0.35 * basis - 0.12 * np.maximum(cls - 2, 0) + np.array([-0.3, 0.0, 0.2, -0.1])[edu] \
        - 0.05 * vrouw
    h_werk = 1 - np.exp(-np.exp(eta))
    h_bijst = 1 - np.exp(-np.exp(np.log(0.008) + 0.5 * basis - 0.2 * (edu == 2)))
    h_any = 1 - (1 - h_werk) * (1 - h_bijst)
    t_event = rng.geometric(h_any)                          # month of the first exit
    werk = rng.random(n) < h_werk / (h_werk + h_bijst)      # which exit (proportional to the hazards)
    t_cens = rng.integers(6, 37, size=n)                    # the window closes between month 6 and 36
    event = t_event <= t_cens
    return pl.DataFrame({
        "group": np.where(basis, "basis", "referentie"),
        "leeftijdsklasse": np.array(list(AGE_RANGES))[cls],
        "geslacht": np.where(vrouw, "vrouw", "man"),
        "opleidingsniveau": np.array(EDU)[edu],
        "duration": np.minimum(t_event, t_cens).astype(np.int32),
        "_event": event, "_werk": werk,
    }).with_columns(
        pl.when(pl.col("_event")).then(pl.when(pl.col("_werk")).then(pl.lit("werk")).otherwise(pl.lit("bijstand")))
        .alias("cause")).drop("_event", "_werk")


def run_duration(n: int, seed: int) -> dict:
    from monitor_dagster.corrections import duration as D

    cov = ["leeftijdsklasse", "geslacht", "opleidingsniveau"]
    spells = durations(n, seed)
    times = {}
    t = time.perf_counter()
    cells = (spells.lazy().group_by("group", *cov, "duration", "cause").agg(pl.len().cast(pl.Int64).alias("count"))
             .with_columns(   # a propensity weight per cell (stand-in: the referentiegroep reweighted by age class)
                 pl.when(pl.col("group") == "basis").then(1.0)
                 .otherwise(pl.col("leeftijdsklasse").replace_strict(
                     {"15-19": 1.3, "20-26": 1.2, "27-34": 1.1, "35-44": 1.0, "45-54": 0.9, "55-AOW": 0.8},
                     return_dtype=pl.Float64)).alias("weight"))
             .collect(engine="streaming"))
    times["aggregate"] = time.perf_counter() - t
    del spells
    t = time.perf_counter()
    fit = D.fit_hazard(cells, cov, cov_type="robust")
    times["fit_hazard"] = time.perf_counter() - t
    t = time.perf_counter()
    comp = D.fit_competing(cells, cov, cov_type="robust")
    times["fit_competing"] = time.perf_counter() - t
    t = time.perf_counter()
    km = D.survival_curves(cells)
    times["survival_curves"] = time.perf_counter() - t
    t = time.perf_counter()
    aj = D.cumulative_incidence(cells)
    times["cumulative_incidence"] = time.perf_counter() - t
    return {"part": "duration", "spells": n, "cells": cells.height, "person_period_rows": fit.n_cells,
            "group_hazard_ratio": fit.group_hazard_ratio,
            "competing_hr": {c: f.group_hazard_ratio for c, f in comp.items()},
            "curve_rows": km.height, "incidence_rows": aj.height,
            **{f"seconds_{k}": v for k, v in times.items()}, "seconds": sum(times.values()),
            "peak_rss_gb": rss_gb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000, help="persons per year (population frame rows)")
    ap.add_argument("--years", default="2013-2021", help="years of the weighting model")
    ap.add_argument("--durations", type=int, default=1_000_000, help="simulated spells of the duration part")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--parts", default="weights,duration")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    a = ap.parse_args()
    first, last = (int(x) for x in a.years.split("-"))
    if a.part == "weights":
        print(json.dumps(run_weights(a.persons, first, last, a.seed)))
        return
    if a.part == "duration":
        print(json.dumps(run_duration(a.durations, a.seed)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    rows, ok = [], True
    for part in a.parts.split(","):
        p = subprocess.run([sys.executable, __file__, "--part", part, "--persons", str(a.persons), "--years", a.years,
                            "--durations", str(a.durations), "--seed", str(a.seed)], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{part}: FAILED\n{p.stderr[-2000:]}")
            ok = False
            continue
        res = json.loads(p.stdout.strip().splitlines()[-1])
        rows.append(res)
        steps = "  ".join(f"{k[len('seconds_'):]} {v:.2f} s" for k, v in res.items() if k.startswith("seconds_"))
        print(f"{part}: {res['seconds']:.1f} s  peak {res['peak_rss_gb']:.2f} GB  ({steps})", flush=True)
    print("| part | size | seconds | peak GB | target |\n|---|---|---|---|---|")
    for r in rows:
        if r["part"] == "weights":
            size = f"{r['persons_per_year']:,} persons x {r['years']} years"
            met = r["seconds"] < TARGET_SECONDS and r["peak_rss_gb"] < TARGET_GB
            target = f"< {TARGET_SECONDS:.0f} s, < {TARGET_GB:.0f} GB: {'met' if met else 'MISSED'}"
        else:
            size = f"{r['spells']:,} spells, {r['cells']:,} cells"
            target = f"< {TARGET_SECONDS:.0f} s: {'met' if r['seconds'] < TARGET_SECONDS else 'MISSED'}"
        print(f"| {r['part']} | {size} | {r['seconds']:.1f} | {r['peak_rss_gb']:.2f} | {target} |")
    (OUT / "bench_corrections.json").write_text(json.dumps(rows, indent=1))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
