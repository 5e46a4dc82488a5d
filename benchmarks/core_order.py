"""What the sorted core tables cost (issue 15, determinism): each yearly core table of one year built as its asset
builds it (the same buckets of persons, core/buckets.py BucketedFrame) and written to parquet, once as the query
returns the rows and once sorted by its key (core/inputs.py ROW_ORDER), each in a fresh process (peak memory =
max RSS), repeated and interleaved.  Also: whether two sorted writes are byte-identical and two unsorted are not.

    .venv/bin/python benchmarks/core_order.py --warehouse WH --year 2021 --out /tmp/core_order [--repeat 2]

The warehouse is only read (its sources and, for job_spells and employers, its core/job_months); the tables
are written under ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import monitor_dagster  # noqa: F401  (before polars: its allocator options, monitor_dagster/allocator.py)
import polars as pl

TABLES = ("population", "job_months", "job_spells", "employers", "secm_months", "education_careers")


def _frames(wh: Path, table: str, year: int) -> tuple[object, dict, dict]:
    """(function of the bucket's frames, the frames, choose_buckets/plan arguments) as in defs/core/assets.py."""
    from monitor_dagster.core import buckets as BK
    from monitor_dagster.core import education as E
    from monitor_dagster.core import jobs as J
    from monitor_dagster.core import population as POP
    from monitor_dagster.core import secm as S
    from monitor_dagster.core.inputs import ROW_ORDER
    from monitor_dagster.core.sorting import sorted_frame
    from monitor_dagster.defs.core.assets import JOB_SPELLS_OVERHEAD, SPELL_BUCKETS
    from monitor_dagster.warehouse import Warehouse, WarehouseMissing

    src, core = Warehouse(wh), Warehouse(wh, layer="core")

    def r(w, entry, part="latest"):
        try:
            return w.read(entry, str(part))
        except WarehouseMissing:
            return None

    y = year
    if table == "population":
        enrol = [f for f in (r(src, "ONDERWIJSINSCHRTAB", y - 1), r(src, "ONDERWIJSINSCHRTAB", y)) if f is not None]
        period = (src.manifest("SECMBUS", "latest") or {}).get("period")
        frames = {"gba": r(src, "GBAPERSOONTAB"), "addresses": r(src, "GBAADRESOBJECTBUS"), "secm": r(src, "SECMBUS"),
                  "migration": r(src, "GBAMIGRATIEBUS"), "hoogsteopl": r(src, "HOOGSTEOPLTAB", y),
                  "migmotief": r(src, "MIGMOTIEFBUS"), "countries": r(src, "LANDAKTUEELREF", "all"),
                  "enrolment": pl.concat(enrol, how="diagonal_relaxed") if enrol else None}
        return (lambda **kw: POP.population(y, secm_last_year=int(period) if period else None, **kw)), frames, {}
    if table == "job_months":
        return ((lambda spolis, spolis_prev: J.job_months(spolis, spolis_prev, y)),
                {"spolis": r(src, "SPOLISBUS", y), "spolis_prev": r(src, "SPOLISBUS", y - 1)}, {})
    if table == "job_spells":
        # as the asset: the stored job-months come in order, checked in one pass, and the spells skip their sort
        order = ROW_ORDER["job_months"]
        return ((lambda months: J.job_spells(sorted_frame(months, order), presorted=True)),
                {"months": r(core, "job_months", y)}, {"min": SPELL_BUCKETS, "overhead": JOB_SPELLS_OVERHEAD})
    if table == "employers":
        return (lambda months: J.employers(months, y)), {"months": r(core, "job_months", y)}, {}
    if table == "secm_months":
        return ((lambda secm: S.secm_months(secm, y)), {"secm": r(src, "SECMBUS")},
                {"overhead": 4 * BK.BUCKET_OVERHEAD})
    if table == "education_careers":
        frames = {"exam": r(src, "EXAMVOTAB", y), "enrol": r(src, "ONDERWIJSINSCHRTAB", y),
                  "dipl_mbo": r(src, "DIPLOMAMBOTAB", y + 1), "dipl_ho": r(src, "DIPLOMAHOTAB", y + 1),
                  "enrol_next": r(src, "ONDERWIJSINSCHRTAB", y + 1)}
        return (lambda exam, enrol, dipl_mbo, dipl_ho, enrol_next: E.education_careers(
            exam, enrol, dipl_mbo, dipl_ho, y, enrol_next=enrol_next)), frames, {}
    raise ValueError(table)


def child(wh: Path, table: str, year: int, sort: bool, path: Path) -> dict:
    from monitor_dagster.core import buckets as BK

    fn, frames, opt = _frames(wh, table, year)
    k = BK.choose_buckets(frames, "person_id", None, opt.get("overhead", BK.BUCKET_OVERHEAD))
    plan = BK.plan_buckets(frames, "person_id", max(k, opt.get("min", 1)))
    t = time.perf_counter()
    if sort:
        from monitor_dagster.core.inputs import ROW_ORDER

        bf = BK.BucketedFrame(fn, frames, plan, sort_by=ROW_ORDER[table])
    else:                # no sort_by at all: also runs on code from before issue 15 (PYTHONPATH), to compare
        bf = BK.BucketedFrame(fn, frames, plan)
    got = bf.write_parquet(path)
    return {"seconds": time.perf_counter() - t, "rows": got["rows"], "buckets": plan.k,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--unsorted-only", action="store_true",
                    help="time only the unsorted write (e.g. code from before issue 15 on PYTHONPATH)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        table, sort, res = a.child
        r = child(a.warehouse, table, a.year, sort == "1", Path(res).with_suffix(".parquet"))
        Path(res).write_text(json.dumps(r))
        return
    a.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for table in a.tables.split(","):
        runs = {False: [], True: []}
        for i in range(a.repeat):
            for sort in (False,) if a.unsorted_only else (False, True):
                res = a.out / f"{table}-{'sorted' if sort else 'unsorted'}-{i}.json"
                subprocess.run([sys.executable, __file__, "--warehouse", str(a.warehouse), "--year", str(a.year),
                                "--out", str(a.out), "--child", table, "1" if sort else "0", str(res)], check=True)
                runs[sort].append(json.loads(res.read_text()))
        r = {"rows": runs[False][0]["rows"], "buckets": runs[False][0]["buckets"]}
        line = f"{table:18s} {r['rows']:>11,} rows, K={r['buckets']:<3d}"
        for sort, rs in runs.items():
            if rs:
                name = "sorted" if sort else "unsorted"
                r |= {f"{name}_s": min(x["seconds"] for x in rs), f"{name}_gb": max(x["peak_rss_gb"] for x in rs),
                      f"{name}_identical": len({x["sha256"] for x in rs}) == 1}
                line += (f" {name} {r[f'{name}_s']:6.2f} s {r[f'{name}_gb']:.2f} GB"
                         f" (identical bytes: {r[f'{name}_identical']})")
        if "sorted_s" in r:
            line += f"; sorted/unsorted x{r['sorted_s'] / r['unsorted_s']:.2f}"
        results[table] = r
        print(line, flush=True)
    tot = {s: sum(r[f"{s}_s"] for r in results.values()) for s in ("unsorted", "sorted") if f"{s}_s" in r}
    print("total: " + ", ".join(f"{s} {v:.1f} s" for s, v in tot.items())
          + (f" (x{tot['sorted'] / tot['unsorted']:.2f})" if len(tot) == 2 else ""))
    (a.out / "core_order.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
