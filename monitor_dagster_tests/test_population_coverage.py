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

import logging
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


def test_a_migration_release_that_ends_before_t_minus_1_is_read_as_absent(tmp_path):
    """Report 2.2: verblijfsduur on 1 January t and the six-month rule need every arrival up to 31 December t-1;
    asielstatus needs their motive.  From a GBAMIGRATIEBUS that ends earlier a recent arrival has no row and read as
    settled before the file (oudkomer; in MIGMOTIEFBUS: "geen migratie").  Such a release is taken as absent for t:
    the breakdowns are not computable (readiness says why), the year before still uses it."""
    from monitor_dagster.readiness import population_gaps

    late = ("GBAMIGRATIEBUS", "MIGMOTIEFBUS")
    res = generate(SynthConfig(landing=tmp_path / "landing", persons=600, first_year=2019, last_year=2021, seed=5,
                               fmt="parquet", only_files=FILES + late))
    # the cumulative releases of 2020 and 2021 of both files have not landed: the newest is that of 2019
    for f in res.files:
        if f.file_id in late and f.year in (2020, 2021):
            (res.config.landing / f.path).unlink()
    wh = tmp_path / "wh"
    with dg.instance_for_test() as inst:
        assert run_pipeline(res.config.landing, wh, instance=inst, layers=("sources",)).ok
        assert Warehouse(wh).manifest("GBAMIGRATIEBUS", "latest")["period"] == 2019
        r21, r20 = R.year_readiness(wh, 2021), R.year_readiness(wh, 2020)
        why = ("needs GBAMIGRATIEBUS 2020 (the latest release covers up to 2019: who arrived in NL after it is not "
               "in it, report 2.2)")
        assert r21.breakdowns["verblijfsduur"] == why and "verblijfsduur" not in r20.breakdowns
        assert r21.regions["asielstatus"].startswith("needs MIGMOTIEFBUS 2020") and "asielstatus" not in r20.regions
        assert f"breakdown verblijfsduur not computable: {why}" in r21.blocking("yearly")
        assert set(population_gaps(R._Manifests(wh), 2021)) == {"migration", "migmotief"}
        summary = run_pipeline(res.config.landing, wh, instance=inst, layers=("core",))
        assert summary.ok
        # ... and `monitor run` prints it with the warnings: a failed WARN check of 2021 only (2020 passes)
        warned = [c for c in summary.checks if c.name == "short_stay"]
        assert [(c.partition, c.severity) for c in warned] == [("2021", "WARN")], warned
        assert "cannot be left out of the analyses" in warned[0].text()
        mat = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=POPULATION_KEY, asset_partitions=["2021"]),
                                          limit=1).records
        md = mat[0].asset_materialization.metadata
        assert "needs MIGMOTIEFBUS 2020" in md["releases_too_old"].value
        # nor can the newly arrived be left out (report 2.2): said in the metadata, the readiness and the log
        assert md["short_stay"].value == f"not recognisable: {why}"
        assert R.short_stay_note(2021, why) in r21.notes and not r20.notes
        logs = [e.message for e in inst.all_logs(mat[0].run_id) if e.level == logging.WARNING]
        assert any("cannot be left out of the analyses" in m and "core/population 2021" in m for m in logs), logs
        md20 = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=POPULATION_KEY, asset_partitions=["2020"]),
                                           limit=1).records[0].asset_materialization.metadata
        assert md20["short_stay"].value == "left out of the analyses (report 2.2)"
        # read as absent, so the year does not rest on them: not among its source releases (2020 still is)
        assert "MIGMOTIEFBUS" not in md["vintages"].value and "GBAMIGRATIEBUS" not in md["vintages"].value
    core = Warehouse(wh, layer="core")
    assert "MIGMOTIEFBUS2019V1" in core.manifest("population", "2020")["vintages"]
    assert "MIGMOTIEFBUS" not in core.manifest("population", "2021")["vintages"]
    p21, p20 = core.read("population", "2021").collect(), core.read("population", "2020").collect()
    for col in ("verblijfsduur", "asielstatus"):
        assert p21[col].null_count() == p21.height, col          # not computable for 2021
        assert p20[col].null_count() < p20.height, col           # 2020 still reads the release of 2019


def test_a_person_file_that_ends_before_t_minus_1_keeps_the_year_from_being_built(tmp_path):
    """GBAPERSOONTAB holds herkomst, generation and birth date of everybody registered; a person living in NL the
    whole year t registered by 1 January t.  From a release that ends before t-1 the newest arrivals have no row:
    their herkomst is unknown and the groups lose their newest members.  Like the addresses (report 2.1), the
    year is then not built, with the reason; the release of t-1 suffices."""
    res = generate(SynthConfig(landing=tmp_path / "landing", persons=400, first_year=2019, last_year=2021, seed=9,
                               fmt="parquet", only_files=FILES))
    for f in res.files:
        if f.file_id == "GBAPERSOONTAB" and f.year in (2020, 2021):
            (res.config.landing / f.path).unlink()
    wh = tmp_path / "wh"
    why = ("needs GBAPERSOONTAB 2020 (the latest release covers up to 2019: who arrived in NL after it is not in "
           "it, report 2.2)")
    with dg.instance_for_test() as inst:
        assert run_pipeline(res.config.landing, wh, instance=inst, layers=("sources",)).ok
        assert R.year_readiness(wh, 2021).core["population"] == [why]
        assert R.year_readiness(wh, 2020).core["population"] == []
        assert why in R.year_readiness(wh, 2021).indicators["O04"].reasons
        assert run_pipeline(res.config.landing, wh, instance=inst, layers=("core",)).ok
        assert sorted(Warehouse(wh, layer="core").partitions("population")) == ["2019", "2020"]
        # asked for by hand, the asset stops and names the file and the year
        result = _execute(_definitions(res.config.landing, wh, None), "outcome_indicators_yearly", [POPULATION_KEY],
                          "2021", inst, {})
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert why in str(failure.step_failure_data.user_failure_data.description)
