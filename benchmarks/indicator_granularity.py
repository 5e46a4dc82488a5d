"""Dagster overhead of the indicator granularity (issue 11): one asset per family vs the plain engine.

    .venv/bin/python benchmarks/indicator_granularity.py --warehouse demo_data/warehouse --year 2019

Runs the outcome families of one year (a) as plain ``engine.compute_family`` calls and (b) as one Dagster run
of the family assets (in-process, ephemeral instance, a copy of the warehouse so nothing is overwritten), and
reports the wall time of each and the overhead per asset step; the per-indicator alternative would pay that
overhead once per indicator instead of once per family.  Not a test: numbers go to docs/adding_an_indicator.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--year", type=int, default=2019)
    args = ap.parse_args()

    from monitor_dagster.defs.indicators.assets import FAMILY_ASSETS, OUTCOME_FAMILIES
    from monitor_dagster.definitions import build_definitions
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.indicators import engine as ENG
    from monitor_dagster.indicators import spec as SPEC
    from monitor_dagster.warehouse import Warehouse

    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp) / "wh"
        shutil.copytree(args.warehouse, wh, ignore=shutil.ignore_patterns("gx", "publication"))
        y = str(args.year)
        t0 = time.perf_counter()
        n_rows = 0
        for fam in OUTCOME_FAMILIES:
            frames = {}
            for key in SPEC.family_inputs(fam).values():
                layer, name = key.split("/")
                w = Warehouse(wh, layer=layer)
                part = y if w.manifest(name, y) else "latest"
                frames[key] = w.read(name, part) if w.manifest(name, part) else None
            n_rows += ENG.compute_family(fam, frames, args.year,
                                         extra=ENG.follow_up_extras(fam, wh)).table.height
        plain = time.perf_counter() - t0
        defs = build_definitions(resource=MonitorResource(landing=tmp, warehouse=str(wh)))
        job = defs.resolve_job_def("outcome_indicators_yearly")
        keys = [FAMILY_ASSETS[f].key for f in OUTCOME_FAMILIES]
        with dg.instance_for_test() as inst:
            t0 = time.perf_counter()
            res = job.execute_in_process(instance=inst, partition_key=y, asset_selection=keys,
                                         run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
            dag = time.perf_counter() - t0
        assert res.success
        steps = len(keys)
        print(f"year {y}: {n_rows:,} rows; plain engine {plain:.2f} s; Dagster run of {steps} family assets "
              f"{dag:.2f} s; overhead {dag - plain:.2f} s = {(dag - plain) / steps:.2f} s per asset step; "
              f"per-indicator assets ({len([s for f in OUTCOME_FAMILIES for s in SPEC.families()[f]])} steps) "
              f"would add about {(dag - plain) / steps * len([s for f in OUTCOME_FAMILIES for s in SPEC.families()[f]]):.1f} s")


if __name__ == "__main__":
    main()
