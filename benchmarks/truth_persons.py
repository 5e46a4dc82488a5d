"""Person by person: the persons whose O29, O30 or O38 differ between a synthetic zone's warehouse and its latent
world, with what the file showed of the first few (``monitor_dagster/synth/verify_persons.py``).

Use it when ``benchmarks/pipeline.py``'s step ``truth`` (``synth/verify.py``) comes close to a tolerance, or
fails: each difference should be a SPOLIS flicker (a job of about 12 hours a week, on-call hours, a short first
or last month, two jobs of nearly equal hours); a difference without one is a defect.  The zone must not be
replicated (compare the base zone: the copies repeat its flickers).

    .venv/bin/python benchmarks/truth_persons.py --persons 200000 --years 2020-2021 --year 2021
    .venv/bin/python benchmarks/truth_persons.py --zone bench_output/truth_persons_200000_2020_2021 --show 5

Builds ``bench_output/truth_persons_<persons>_<years>`` (only the files these indicators read; about 40 s at
200,000 persons) unless ``--zone`` names one with ``landing.truth.json`` and ``wh/``.  Never writes into
DAGSTER_HOME (an ephemeral instance) or ``demo_data/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
#: the files the population, the job-months, the SECM months and INPATAB need (GBAMIGRATIEBUS: the newly
#: arrived every analysis leaves out, report 2.2)
FILES = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "GBAMIGRATIEBUS", "SECMBUS", "SPOLISBUS", "INPATAB")


def build(root: Path, persons: int, first: int, last: int, seed: int) -> Path:
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    res = generate(SynthConfig(landing=root / "landing", persons=persons, first_year=first, last_year=last,
                               seed=seed, fmt="parquet", only_files=FILES))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, root / "wh", instance=inst, layers=("sources", "core"))
    if not summary.ok:
        sys.exit("the zone's sources or core failed: " + "; ".join(o.message for o in summary.outcomes if not o.ok))
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zone", type=Path, help="a zone with landing.truth.json and wh/ (else one is built)")
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--years", default="2020-2021", help="the zone's years, first-last")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--year", type=int, help="the year compared (default: the zone's last)")
    ap.add_argument("--show", type=int, default=3, help="persons shown with their job-months per measure")
    a = ap.parse_args(argv)
    from monitor_dagster.synth import verify_persons as VP

    first, last = (int(x) for x in a.years.split("-"))
    zone = a.zone or OUT / f"truth_persons_{a.persons}_{first}_{last}"
    t0 = time.perf_counter()
    if not (zone / "wh").is_dir():
        print(f"building {zone} ({a.persons:,} persons, {first}-{last}, seed {a.seed}) ...", flush=True)
        build(zone, a.persons, first, last, a.seed)
    truth = json.loads((zone / "landing.truth.json").read_text())
    year = a.year or truth["config"]["last_year"]
    diff = VP.differences(zone / "wh", truth, year)
    print(f"{zone}: {truth['config']['persons']:,} persons, year {year} ({time.perf_counter() - t0:.0f} s)")
    for measure, d in diff.items():
        only_p, only_l = d["latent"].is_null().sum(), d["pipeline"].is_null().sum()
        print(f"  {measure}: {d.height} persons differ - in the pipeline's cohort only {only_p}, in the latent "
              f"cohort only {only_l}, flag differs {d.height - only_p - only_l}")
        for r in d.head(a.show).iter_rows(named=True):
            jm, sm = VP.person_months(zone / "wh", year, r["rin"])
            print(f"    rin {r['rin']} (pid {r['pid']}): pipeline {r['pipeline']}, latent {r['latent']}")
            for m in jm.filter(jm["month"].dt.year() == year).iter_rows(named=True):
                print(f"      {m['month']:%Y-%m} job {m['IKVID']} employer {m['SBEID']} {m['basisuren_pw']:.2f} h/wk "
                      f"{m['contract']} {'substantial' if m['substantial'] else 'not substantial'}")
            print("      SECM " + " ".join(str(s) for s in sm.filter(sm["month"].dt.year() == year)["SECM"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
