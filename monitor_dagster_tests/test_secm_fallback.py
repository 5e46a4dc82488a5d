"""Report 7.1.3 as a real option (issue 16, item 2): SECMBUS comes a year after enrolment and age.  A year that
lacks only SECMBUS of t is built with students and pensioners from enrolment and age; the indicators that rest
on SECM months wait, the ones that only leave students and pensioners out are voorlopig and say why in their
vintages; the schedule builds such a year early, and when SECMBUS covering it lands the sensor's run replaces
it.  End to end through the real jobs on a small synthetic zone (temporary Dagster instance)."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.defs import schedules as S
from monitor_dagster.indicators.engine import SECM_FALLBACK_VINTAGE
from monitor_dagster.landing import scan
from monitor_dagster.readiness import SECM_REASON, year_readiness
from monitor_dagster.runner import _definitions, _execute, run_pipeline
from monitor_dagster.warehouse import Warehouse

Y = 2019


def _totaal(table: pl.DataFrame, iid: str) -> pl.DataFrame:
    t = table.filter((pl.col("indicator_id") == iid) & (pl.col("year") == Y) & (pl.col("herkomst") == "totaal"))
    for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal", "regio", "randstad", "asielstatus", "inkomensklasse"):
        t = t.filter(pl.col(d) == "totaal")
    return t


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """A zone 2018-2019 whose newest SECMBUS release covers only 2018 (the release of 2019 kept aside)."""
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("secm_fallback")
    landing = root / "landing"
    generate(SynthConfig(landing=landing, persons=800, first_year=2018, last_year=Y, seed=11, fmt="parquet"))
    # the generator writes the releases a real zone holds (SECMBUS2018V1, V2, SECMBUS2019V1): keep 2019's aside
    secm = [f for f in scan(landing, load_catalog()) if f.match and f.match.entry == "SECMBUS"]
    assert any(str(f.match.period) == "2018" for f in secm)
    real = landing / next(f for f in secm if str(f.match.period) == str(Y)).relpath
    kept = root / real.name
    shutil.move(real, kept)
    return root, landing, kept, real


def test_a_year_without_secm_is_built_early_marked_and_replaced_when_secm_lands(zone):
    root, landing, kept, real = zone
    wh = root / "wh"
    with dg.instance_for_test() as inst:
        s = run_pipeline(landing, wh, instance=inst, layers=("sources",))
        assert s.ok
        r = year_readiness(wh, Y)
        o11, o04, o19 = r.indicators["O11"], r.indicators["O04"], r.indicators["O19"]
        assert o11.state == "not computable" and o11.reasons[0].startswith(SECM_REASON)
        assert o04.state == "provisional" and any(x.startswith(SECM_REASON) for x in o04.reasons)
        assert not any(x.startswith(SECM_REASON) for x in o19.reasons)       # 4a: students are not left out
        assert r.blocking() and not [b for b in r.blocking(secm_fallback=True) if b.startswith(SECM_REASON)]
        # the schedule: not final, yet built early with the fallback (tag), unless the fallback is switched off
        req = S.outcome_decision(Warehouse(wh), dt.date(2020, 5, 1))
        assert isinstance(req, dg.RunRequest) and req.partition_key == str(Y) and "monitor/secm" in req.tags
        # the SECM months of 2019 cannot rest on the release of 2018 (its open spells would run on through 2019):
        # not buildable, with the indicators' reason, and the early build does not ask for them
        secm_reason = f"{SECM_REASON} {Y} yet (up to 2018): needs SECMBUS {Y} (SECM months)"
        assert r.core["secm_months"] == [secm_reason] and r.core["population"] == []
        assert o11.reasons.count(secm_reason) == 1
        asked = {"/".join(k.path) for k in req.asset_selection}
        assert "core/secm_months" not in asked
        assert {"core/population", "core/job_months", "indicators/contracts_hours"} <= asked
        assert "indicators/secm" not in asked            # O05, O11-O18: every one reads SECM months
        assert not [k for k in asked if k.startswith("core/") and r.core[k.split("/")[1]]]
        # the schedule's run, executed as the daemon would (the job, the partition, the selection)
        res = _execute(_definitions(landing, wh, None), "outcome_indicators_yearly", req.asset_selection, str(Y),
                       inst, {})
        assert res.success
        core = Warehouse(wh, layer="core")
        assert str(Y) in core.partitions("population") and str(Y) not in core.partitions("secm_months")
        reg = Warehouse(wh, layer="indicators").read("contracts_hours", str(Y)).collect()
        assert "O04" in set(reg["indicator_id"]) and "O06" not in set(reg["indicator_id"])
        # the whole job of 2019 (the UI's Materialize all, a backfill over the year): core/secm_months writes
        # nothing and says why; the families still run (a failure would have skipped every family reading it)
        res = _execute(_definitions(landing, wh, None), "outcome_indicators_yearly",
                       [dg.AssetKey(["core", "secm_months"]), dg.AssetKey(["indicators", "contracts_hours"])], str(Y),
                       inst, {})
        assert res.success
        mat = next(e for e in res.all_events if e.is_step_materialization
                   and e.asset_key == dg.AssetKey(["core", "secm_months"]))
        why = mat.materialization.metadata["not_built"].value
        assert "SECMBUS in the warehouse covers up to 2018" in why and f"SECM months of {Y}" in why
        assert str(Y) not in core.partitions("secm_months")
        assert "O04" in set(Warehouse(wh, layer="indicators").read("contracts_hours", str(Y)).collect()["indicator_id"])
        final = S.outcome_decision(Warehouse(wh), dt.date(2020, 5, 1), secm_fallback=False)
        assert final.partition_key == "2018" and "monitor/secm" not in final.tags      # the last final year

        s = run_pipeline(landing, wh, instance=inst, layers=("sources", "core", "indicators"))
        assert s.ok, [o.message for o in s.outcomes if not o.ok]
        assert sorted(core.partitions("secm_months")) == ["2018"]       # `monitor run` plans the same
        assert core.manifest("population", str(Y))["secm_source"] == "fallback"
        assert core.manifest("population", "2018")["secm_source"] == "SECM"
        pop = core.read("population", str(Y)).collect()
        assert set(pop["secm_source"]) == {"fallback"} and pop["student"].sum() > 0
        table = Warehouse(wh, layer="indicators").read("indicator_table", "all").collect()
        fb = table.filter((pl.col("year") == Y) & (pl.col("indicator_id") == "O04"))
        assert fb.height and set(fb["status"]) == {"voorlopig"}
        assert all(SECM_FALLBACK_VINTAGE in v.split(",") for v in fb["vintages"])
        assert not table.filter((pl.col("year") == Y) & pl.col("indicator_id").is_in(["O05", "O11", "O15"])).height
        # 4a does not leave students out: no fallback vintage; 2018 rests on SECM
        assert not table.filter(pl.col("vintages").str.contains(SECM_FALLBACK_VINTAGE, literal=True)
                                & ~pl.col("indicator_id").is_in(["O04", "O09", "O10", "O40"])).height
        assert not table.filter((pl.col("year") == 2018)
                                & pl.col("vintages").str.contains(SECM_FALLBACK_VINTAGE, literal=True)).height
        fallback_o04 = _totaal(table, "O04")["value"][0]
        # built once: the next tick does not build it again; nothing to replace while SECM does not cover 2019
        again = S.outcome_decision(Warehouse(wh), dt.date(2020, 5, 1))
        assert again.partition_key == "2018" and "monitor/secm" not in again.tags
        assert S.fallback_years(wh) == [] and S.secm_replacement_requests(wh) == []

        # SECMBUS covering 2019 lands: the sensor asks one outcome run of 2019, which replaces the fallback
        shutil.copy(kept, real)
        assert run_pipeline(landing, wh, instance=inst, layers=("sources",)).ok
        assert S.fallback_years(wh) == [Y]
        reqs = S.secm_replacement_requests(wh)
        assert [r.partition_key for r in reqs] == [str(Y)] and reqs[0].tags["monitor/trigger"] == S.SECM_REPLACE_TRIGGER
        # what the sensor's request asks: the outcome run of 2019 (2018 is not built again), then the table
        s = run_pipeline(landing, wh, instance=inst, layers=("sources", "core", "indicators"), years=(Y, Y))
        assert s.ok
        assert sorted(core.partitions("secm_months")) == ["2018", str(Y)]
        assert core.manifest("population", str(Y))["secm_source"] == "SECM" and S.fallback_years(wh) == []
        table = Warehouse(wh, layer="indicators").read("indicator_table", "all").collect()
        assert not table.filter(pl.col("vintages").str.contains(SECM_FALLBACK_VINTAGE, literal=True)).height
        assert _totaal(table, "O11").height == 1
        o04 = _totaal(table, "O04")
        assert o04["status"][0] == "definitief"
        # how far the fallback was from SECM on this zone (the sensitivity table measures it at scale)
        assert abs(o04["value"][0] - fallback_o04) < 5.0
