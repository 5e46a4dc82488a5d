"""core/population of a year the address files do not cover yet (technisch rapport Monitor gelijke kansen, §2.1:
"We nemen alleen mensen mee die gehele jaar in Nederland wonen (deze informatie halen we uit GBAADRESOBJECTBUS)").

A release of the cumulative GBAADRESOBJECTBUS of period P holds the address spells up to 31 December P; a person
who left the country or died in P+1 still has an open spell there.  Built from it, a population of P+1 counted
those persons as residents of the whole year (for the monitor's groups the emigrants weigh most) and, in the demo,
the survey year 2023 got a population from the 2021 files.  Such a year is now "not computable" for the core
population (readiness.core_missing, core/inputs.py ``covers_year``), `monitor run` does not build it, and the asset
stops when asked for it by hand; once the release of the year lands the population is built.
"""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from monitor_dagster import readiness as R
from monitor_dagster.defs.core.assets import POPULATION_KEY
from monitor_dagster.runner import _definitions, _execute, run_pipeline
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse

FILES = ("GBAADRESOBJECTBUS", "GBAPERSOONTAB", "SECMBUS", "SPOLISBUS")
REASON = ("needs GBAADRESOBJECTBUS 2022 (the latest release covers up to 2021: living in NL the whole year 2022 "
          "is not known yet, report 2.1)")


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """1,000 persons 2020-2022; the address release of 2022 kept aside, as if it had not landed yet."""
    tmp = tmp_path_factory.mktemp("coverage")
    res = generate(SynthConfig(landing=tmp / "landing", persons=1000, first_year=2020, last_year=2022, seed=3,
                               fmt="parquet", only_files=FILES))
    late = [f for f in res.files if f.file_id == "GBAADRESOBJECTBUS" and f.year == 2022]
    assert len(late) == 1
    aside = tmp / "aside"
    aside.mkdir()
    shutil.move(res.config.landing / late[0].path, aside / "addresses_2022")
    return res.config.landing, tmp / "wh", aside / "addresses_2022", res.config.landing / late[0].path


def test_a_year_after_the_address_release_gets_no_population_until_its_release_lands(zone):
    landing, wh, kept, place = zone
    with dg.instance_for_test() as inst:
        summary = run_pipeline(landing, wh, instance=inst, layers=("sources", "core"))
        assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
        core = Warehouse(wh, layer="core")
        assert Warehouse(wh).manifest("GBAADRESOBJECTBUS", "latest")["period"] == 2021
        # the years the addresses cover are built; 2022 has its job months (SPOLIS 2022) but no population
        assert sorted(core.partitions("population")) == ["2020", "2021"]
        assert "2022" in core.partitions("job_months")
        r = R.year_readiness(wh, 2022)
        assert r.core["population"] == [REASON]
        assert R.year_readiness(wh, 2021).core["population"] == []
        # every indicator of the year reads the population: not computable, with the reason, and it holds the
        # year back from a final build
        assert r.indicators["O04"].state == "not computable" and REASON in r.indicators["O04"].reasons
        assert REASON in r.blocking("yearly")

        # asked for by hand (the UI's Materialize), the asset stops and names the file, the year and the rule
        result = _execute(_definitions(landing, wh, None), "outcome_indicators_yearly", [POPULATION_KEY], "2022",
                          inst, {})
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        text = str(failure.step_failure_data.user_failure_data.description)
        assert "GBAADRESOBJECTBUS in the warehouse covers up to 2021" in text and "whole year 2022" in text
        assert "2022" not in core.partitions("population")

        # the release of 2022 lands: the population of 2022 is built
        shutil.move(kept, place)
        summary = run_pipeline(landing, wh, instance=inst, layers=("sources", "core"))
        assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    assert sorted(core.partitions("population")) == ["2020", "2021", "2022"]
    assert R.year_readiness(wh, 2022).core["population"] == []
