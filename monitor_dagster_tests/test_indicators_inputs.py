"""Input indicators P-a..P-f and U-a..U-c (indicators/inputs.py): tiny hand-built cohorts per rule, the
Dagster wiring (inputs_by_year, indicator_table, runner, input_job), and one run on the shared synthetic
zone checked against a plain-Python recomputation and the generator's planted provision rates."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.core.benefits import BENEFIT_KIND, KIND_GROUP, PROVISION_CODE, PROVISION_SERIES
from monitor_dagster.core.secm import BENEFIT_GROUP
from monitor_dagster.indicators import inputs as I
from monitor_dagster.indicators.table import COLUMNS, SCHEMA
from monitor_dagster_tests import _frames as frames

D = dt.date
Y = 2019


# ------------------------------------------------------------------------------------------ builders
def _pop(*ids, nonwestern=(), student=(), no_age=(), pensioner=()):
    """Persons of the core population (shared builder: monitor_dagster_tests/_frames.py)."""
    return frames.population(*ids, nonwestern=nonwestern, student=student, no_age=no_age, pensioner=pensioner,
                             geslacht="vrouw", opleiding="laag")


def _benefits(rows):
    """rows: (person, kind, start, end) -> core benefit_spells."""
    df = pl.DataFrame([{"person_id": p, "kind": k, "start": s, "end": e} for p, k, s, e in rows],
                      schema={"person_id": pl.Int64, "kind": pl.String, "start": pl.Date, "end": pl.Date})
    return df.with_columns(pl.col("kind").replace_strict(KIND_GROUP).cast(BENEFIT_GROUP).alias("group"),
                           pl.col("kind").cast(BENEFIT_KIND)).select("person_id", "kind", "group", "start",
                                                                     "end").lazy()


def _provisions(rows):
    """rows: (person, code, start, end) -> core provision_spells."""
    series = {**{c: "consistent" for c in map(str, range(11, 19))}, "19": "srg_only", "20": "srg_only",
              **{c: "pwet_fine" for c in map(str, range(21, 29))}}
    return pl.DataFrame([{"person_id": p, "code": c, "series": series[c], "start": s, "end": e} for p, c, s, e in rows],
                        schema={"person_id": pl.Int64, "code": PROVISION_CODE, "series": PROVISION_SERIES,
                                "start": pl.Date, "end": pl.Date}).lazy()


def _trajectories(rows):
    """rows: (person, client WW|AG, start, end) -> core trajectory_spells."""
    return pl.DataFrame([{"person_id": p, "client": c, "SOORTTRAJECT": "1", "start": s, "end": e}
                         for p, c, s, e in rows],
                        schema={"person_id": pl.Int64, "client": pl.Enum(["WW", "AG"]),
                                "SOORTTRAJECT": pl.Enum(["1", "2"]), "start": pl.Date, "end": pl.Date}).lazy()


def _total(t: pl.DataFrame, indicator: str, measure: str, herkomst: str = "totaal"):
    f = t.filter((pl.col("indicator_id") == indicator) & (pl.col("measure") == measure)
                 & (pl.col("herkomst") == herkomst))
    for d in ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector"):
        f = f.filter(pl.col(d) == "totaal")
    assert f.height == 1, (indicator, measure, f)
    return f.row(0, named=True)


def _contract(t: pl.DataFrame):
    assert t.columns == COLUMNS and dict(t.schema) == SCHEMA


# ------------------------------------------------------------------------------------------ rules
def test_completed_months_and_follow_up_window():
    f = pl.DataFrame({"a": [D(2019, 1, 15), D(2019, 1, 15), D(2019, 1, 31), D(2019, 1, 15), D(2019, 2, 10)],
                      "b": [D(2019, 1, 20), D(2019, 5, 15), D(2019, 2, 28), D(2019, 5, 14), D(2020, 2, 9)]})
    got = f.select(I.completed_months("a", "b")).to_series().to_list()
    assert got == [0, 4, 1, 3, 11]          # 15 Jan -> 15 May = 4 months; 31 Jan + 1 month = 28 Feb
    assert I.followup_last_day(2019) == D(2020, 12, 30)
    assert I.status_for(2019, None) == "definitief"
    assert I.status_for(2019, D(2020, 12, 31)) == "definitief"
    assert I.status_for(2019, D(2020, 6, 30)) == "voorlopig"
    assert I.status_for(2019, D(2019, 6, 30)) is None          # inflow year itself not covered


def test_inflow_rule_and_cohort():
    """Inflow = no day of the same benefit from the first day of the previous month; a December spell that
    continues in January is no inflow; one row per person with the first inflow of the year."""
    ben = _benefits([
        (1, "bijstand", D(2019, 3, 10), None),                                            # inflow
        (2, "bijstand", D(2018, 5, 1), D(2018, 12, 31)), (2, "bijstand", D(2019, 1, 1), None),   # continues
        (3, "bijstand", D(2018, 5, 1), D(2018, 12, 15)), (3, "bijstand", D(2019, 1, 20), None),  # Dec -> no
        (4, "bijstand", D(2018, 5, 1), D(2018, 11, 30)), (4, "bijstand", D(2019, 1, 2), None),   # Dec empty
        (5, "bijstand", D(2019, 2, 1), D(2019, 3, 31)), (5, "bijstand", D(2019, 6, 1), None),    # twice in t
        (6, "IOAW", D(2018, 6, 1), D(2019, 1, 31)), (6, "bijstand", D(2019, 2, 1), None),        # other law
        (7, "WW", D(2019, 4, 1), None),
        (8, "bijstand", D(2019, 5, 1), None),                                             # not in population
        (9, "bijstand", D(2019, 5, 1), None),                                             # no age group
        (10, "bijstand", D(2019, 5, 1), None),                                            # student: kept
        (11, "bijstand", D(2019, 1, 1), D(2019, 1, 31)), (11, "bijstand", D(2019, 1, 1), D(2019, 2, 28)),  # same day
        (12, "bijstand", D(2019, 5, 1), None),                       # pensioner (SECM, under the AOW age): left out
    ])
    pop = _pop(1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, student=(10,), no_age=(9,), pensioner=(12,))
    c = I.inflow_cohort(pop, ben, Y, "bijstand").collect().sort("person_id")
    assert c["person_id"].to_list() == [1, 4, 5, 6, 10, 11]
    got = dict(zip(c["person_id"], c["inflow"]))
    assert got[5] == D(2019, 2, 1) and got[4] == D(2019, 1, 2)
    assert dict(zip(c["person_id"], c["window_end"]))[1] == D(2020, 3, 10)
    assert I.inflow_cohort(pop, ben, 2018, "bijstand").collect()["person_id"].sort().to_list() == [2, 3, 4]


def _bijstand_case():
    """Five bijstand inflows of 2019 with provisions around them."""
    ben = _benefits([(p, "bijstand", s, None) for p, s in
                     ((1, D(2019, 1, 15)), (2, D(2019, 3, 1)), (3, D(2019, 2, 10)), (4, D(2019, 4, 1)),
                      (5, D(2019, 6, 1)))])
    prov = _provisions([
        (1, "11", D(2019, 5, 20), D(2019, 12, 31)),      # loonkostensubsidie after 4 completed months
        (3, "17", D(2020, 2, 9), None),                   # jobcoach on the last day of the window: 11
        (3, "16", D(2020, 2, 10), None),                  # participatieplaats at 12 months: outside
        (4, "18", D(2019, 4, 1), D(2019, 9, 30)),        # vervoersvoorziening: not a work provision
        (5, "11", D(2019, 1, 1), None),                   # started before the inflow: does not count
        (2, "21", D(2019, 5, 1), None),                   # finer 2019+ category: not in the consistent series
    ])
    return _pop(1, 2, 3, 4, 5, nonwestern=(1, 2)), ben, prov


def test_p_a_to_p_e_on_hand_built_cohort():
    pop, ben, prov = _bijstand_case()
    t = I.participation_indicators(pop, ben, prov, Y)
    _contract(t)
    assert set(t["indicator_id"]) == {"P-a", "P-b", "P-c", "P-d", "P-e", "P-f"}
    assert set(t["status"]) == {"definitief"}
    assert _total(t, "P-a", "loonkostensubsidie")["value"] == pytest.approx(20.0)
    assert _total(t, "P-a", "jobcoach")["value"] == pytest.approx(20.0)
    assert _total(t, "P-a", "participatieplaats")["value"] == 0.0      # 12 months after inflow: not counted
    assert _total(t, "P-a", "vervoersvoorziening")["value"] == pytest.approx(20.0)
    assert _total(t, "P-a", "vanaf 2019: proefplaatsing")["value"] == pytest.approx(20.0)
    assert _total(t, "P-b", "werkvoorziening")["value"] == pytest.approx(40.0)   # persons 1 and 3
    assert _total(t, "P-c", "voorziening")["value"] == pytest.approx(60.0)       # 1, 3, 4 (not 2: code 21)
    assert _total(t, "P-c", "vanaf 2019: voorziening")["value"] == pytest.approx(80.0)
    # P-d: 4 and 11 months among those with a work provision; 12 for the three without
    d = _total(t, "P-d", "werkvoorziening")
    assert (d["value"], d["n"], d["unit"]) == (pytest.approx(7.5), 2, "maanden")
    assert _total(t, "P-d", "werkvoorziening, geen = 12")["value"] == pytest.approx((4 + 12 + 11 + 12 + 12) / 5)
    assert _total(t, "P-e", "voorziening")["value"] == pytest.approx((4 + 11 + 0) / 3)
    assert _total(t, "P-e", "vanaf 2019: voorziening")["value"] == pytest.approx((4 + 2 + 11 + 0) / 4)
    # breakdowns: the two non-Western persons (1 with, 2 without a work provision)
    assert _total(t, "P-b", "werkvoorziening", herkomst="niet-westers")["value"] == pytest.approx(50.0)
    assert _total(t, "P-b", "werkvoorziening", herkomst="Marokko")["n"] == 2


def test_p_f_share_of_bijstand_time_with_a_work_provision():
    ben = _benefits([(1, "bijstand", D(2019, 1, 1), D(2019, 12, 31)),
                     (2, "bijstand", D(2019, 1, 1), D(2019, 6, 30)),
                     (2, "bijstand", D(2019, 9, 1), D(2019, 9, 30))])                  # back after 2 months
    prov = _provisions([(1, "11", D(2019, 7, 1), D(2020, 6, 30)),                      # 184 days in bijstand
                        (2, "16", D(2019, 4, 1), None),                                # 91 + 30 days
                        (2, "17", D(2019, 5, 1), D(2019, 5, 31)),                      # overlaps 16: once
                        (2, "18", D(2019, 1, 1), None)])                               # not a work provision
    t = I.p_f_time_with_work_provision(I.inflow_cohort(_pop(1, 2), ben, Y, "bijstand"), prov, ben, Y)
    _contract(t)
    row = _total(t, "P-f", "werkvoorziening")
    assert row["unit"] == "%" and row["n"] == 2
    assert row["value"] == pytest.approx(100 * (184 / 365 + (91 + 30) / (181 + 30)) / 2)


def test_srg_series_by_cohort_year():
    """Consistent series every year from 2015; 't/m 2018:' only when the whole window lies in SRG (<= 2017),
    'vanaf 2019:' only from 2019; nothing before the first SRG year."""
    def measures(year):
        ben = _benefits([(1, "bijstand", D(year, 3, 1), None)])
        prov = _provisions([(1, "19" if year < 2019 else "22", D(year, 4, 1), None)])
        t = I.participation_indicators(_pop(1), ben, prov, year)
        return set(t.filter(pl.col("indicator_id") == "P-a")["measure"]), t

    m17, t17 = measures(2017)
    assert "t/m 2018: voorziening arbeidsbeperking" in m17 and not any(m.startswith("vanaf") for m in m17)
    assert _total(t17, "P-c", "t/m 2018: voorziening")["value"] == 100.0
    assert _total(t17, "P-c", "voorziening")["value"] == 0.0
    m18, _ = measures(2018)
    assert m18 == set(I.P_A_CATEGORIES["consistent"])                 # window crosses the registry change
    m19, t19 = measures(2019)
    assert "vanaf 2019: overige werkplek" in m19 and not any(m.startswith("t/m") for m in m19)
    # no consistent provision: the mean among those with one has no cell, the censored mean is 12
    assert set(t19.filter(pl.col("indicator_id") == "P-e")["measure"]) == {
        "voorziening, geen = 12", "vanaf 2019: voorziening", "vanaf 2019: voorziening, geen = 12"}
    assert _total(t19, "P-e", "voorziening, geen = 12")["value"] == 12.0
    assert _total(t19, "P-e", "vanaf 2019: voorziening")["value"] == 1.0
    assert I.participation_indicators(_pop(1), _benefits([(1, "bijstand", D(2014, 3, 1), None)]),
                                      _provisions([]), 2014).height == 0


def test_voorlopig_when_the_follow_up_year_is_not_covered():
    pop, ben, prov = _bijstand_case()
    full = I.participation_indicators(pop, ben, prov, Y, observed_until=D(2020, 12, 31), vintages="X2020V1")
    assert set(full["status"]) == {"definitief"} and set(full["vintages"]) == {"X2020V1"}
    part = I.participation_indicators(pop, ben, prov, Y, observed_until=D(2019, 12, 31))
    assert set(part["status"]) == {"voorlopig"}
    # person 3's jobcoach (February 2020) is not observed yet
    assert _total(part, "P-b", "werkvoorziening")["value"] == pytest.approx(20.0)
    assert I.participation_indicators(pop, ben, prov, Y, observed_until=D(2018, 12, 31)).height == 0


def test_uwv_trajectories_ww_wia_wajong_without_iva():
    ben = _benefits([
        (1, "WW", D(2019, 2, 1), D(2019, 11, 30)),
        (2, "WW", D(2019, 3, 1), D(2020, 8, 31)),
        (3, "WW", D(2019, 5, 1), None),
        (4, "IVA", D(2019, 1, 1), None),                                    # IVA: left out
        (5, "WGA", D(2019, 3, 1), D(2019, 12, 31)),
        (6, "Wajong", D(2019, 7, 1), None),
        (7, "IVA", D(2018, 1, 1), D(2019, 2, 28)), (7, "WGA", D(2019, 3, 1), None),   # reassessment, no inflow
    ])
    traj = _trajectories([
        (1, "WW", D(2019, 4, 15), D(2019, 6, 14)),      # 2 completed months, 61 days
        (2, "WW", D(2020, 4, 1), None),                  # 13 months after inflow: not counted
        (3, "AG", D(2019, 6, 1), None),                  # the AO file: not for a WW inflow
        (4, "AG", D(2019, 2, 1), None),
        (5, "AG", D(2019, 3, 10), D(2019, 4, 8)),        # 0 months, 30 of 306 days
        (7, "AG", D(2019, 4, 1), None),
    ])
    t = I.uwv_indicators(_pop(1, 2, 3, 4, 5, 6, 7), ben, traj, Y)
    _contract(t)
    assert set(t["measure"]) == {"WW", "WW, geen = 12", "WIA (WGA)", "WIA (WGA), geen = 12", "Wajong",
                                 "Wajong, geen = 12", "AO", "AO, geen = 12", "AO overig", "AO overig, geen = 12"}
    # report 3.4/7.2: the AO total of the first measurement continues next to the split, and the parts add up
    # (IVA in "AO overig"): persons 4 (IVA), 5 (WGA), 6 (Wajong); 7 moved from IVA to WGA (no inflow)
    ao = _total(t, "U-a", "AO")
    assert ao["n"] == 3 and ao["value"] == pytest.approx(200 / 3)       # 4 and 5 started an AG trajectory
    assert _total(t, "U-a", "AO overig")["n"] == 1 and _total(t, "U-a", "AO overig")["value"] == 100.0
    assert sum(_total(t, "U-a", m)["n"] for m in ("Wajong", "WIA (WGA)", "AO overig")) == ao["n"]
    assert _total(t, "U-a", "WW")["value"] == pytest.approx(100 / 3) and _total(t, "U-a", "WW")["n"] == 3
    assert _total(t, "U-b", "WW")["value"] == 2.0
    assert _total(t, "U-b", "WW, geen = 12")["value"] == pytest.approx((2 + 12 + 12) / 3)
    assert _total(t, "U-c", "WW")["value"] == pytest.approx(100 * (61 / 303) / 3)
    wia = _total(t, "U-a", "WIA (WGA)")
    assert (wia["value"], wia["n"]) == (100.0, 1)                       # person 5 only (not 4: IVA, not 7)
    assert _total(t, "U-b", "WIA (WGA)")["value"] == 0.0
    assert _total(t, "U-c", "WIA (WGA)")["value"] == pytest.approx(100 * 30 / 306)
    assert _total(t, "U-a", "Wajong")["value"] == 0.0
    # per family coverage: the AO files one year behind -> AO rows voorlopig, WW rows definitief
    t2 = I.uwv_indicators(_pop(1, 2, 3, 4, 5, 6, 7), ben, traj, Y,
                          observed_until={"WW": D(2020, 12, 31), "AO": D(2019, 12, 31)}, families=("WW", "AO"))
    st = dict(t2.select("measure", "status").unique().iter_rows())
    assert st["WW"] == "definitief" and st["WIA (WGA)"] == "voorlopig"
    assert set(I.uwv_indicators(_pop(1, 5), ben, traj, Y, families=("WW",))["measure"]) == {"WW", "WW, geen = 12"}


def test_trend_break_registry_fits_the_measures():
    """srg_2019 marks every P row of 2019 (the consistent series continues through it, the other series
    start / stop at it); U-* carry no break of their own (only SOI 2021 on the education breakdown)."""
    from monitor_dagster.gates import trend_breaks as TB

    pop, ben, prov = _bijstand_case()
    t = pl.concat([I.participation_indicators(pop, ben, prov, Y),
                   I.uwv_indicators(pop, _benefits([(1, "WW", D(2019, 1, 1), None)]), _trajectories([]), Y)])
    marked = TB.explain(t)
    p = marked.filter(pl.col("indicator_id").str.starts_with("P-"))
    assert set(p.filter(pl.col("opleiding") == "totaal")["trend_break"]) == {"srg_2019"}
    assert set(p.filter(pl.col("opleiding") != "totaal")["trend_break"]) == {"srg_2019,soi_2021"}   # both apply
    u = marked.filter(pl.col("indicator_id").str.starts_with("U-"))
    assert u.filter(pl.col("opleiding") == "totaal")["trend_break"].is_null().all()
    assert set(u.filter(pl.col("opleiding") != "totaal")["trend_break"]) == {"soi_2021"}   # education breakdown only
    srg = next(b for b in TB.registry()["breaks"] if b["id"] == "srg_2019")
    assert set(srg["indicators"]) == {"P-a", "P-b", "P-c", "P-d", "P-e", "P-f"}


# ------------------------------------------------------------------------------------------ Dagster wiring
def test_runner_builds_inputs_per_year_before_the_table(tmp_path):
    """The CLI's plan (runner.derived_plan, from readiness.py): outcome families per year, then the input
    families of each year whose cohort is computable, then the table; the jobs are the schedules' jobs."""
    from monitor_dagster import runner
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(tmp_path)
    frame = pl.DataFrame({"x": [1]})
    for entry in ("SPOLISBUS", "HOOGSTEOPLTAB"):
        for y in ("2019", "2020"):
            w.write(entry, y, frame, {"release_id": f"{entry}{y}V1"})
    for entry in ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "SECMBUS", "BIJSTANDPERSOONBUS", "PWETSRGPERSOONBUS"):
        w.write(entry, "latest", frame, {"release_id": f"{entry}2020V1", "period": 2020})
    plan = [(job, part, sorted(k.to_user_string() for k in keys))
            for job, part, keys in runner.derived_plan(tmp_path, None, ("indicators",))]
    assert plan == [
        # no INPATAB: transitions and reemployment (the self-employed threshold) are not computable
        ("outcome_indicators_yearly", "2019", ["indicators/contracts_hours", "indicators/function_level",
                                               "indicators/secm"]),
        ("outcome_indicators_yearly", "2020", ["indicators/contracts_hours", "indicators/function_level",
                                               "indicators/secm"]),
        ("input_indicators_biennial", "2019", ["indicators/inputs_gemeente"]),
        ("input_indicators_biennial", "2020", ["indicators/inputs_gemeente"]),
        ("indicator_table_and_publication", None, ["core/propensity_weights", "indicators/durations",
                                                   "indicators/indicator_table", "indicators/sensitivity"])]


def test_input_job_and_assets_load():
    from monitor_dagster.definitions import build_definitions
    from monitor_dagster.defs.indicators.assets import FAMILY_ASSETS, INDICATOR_ASSETS, input_job

    inputs = [FAMILY_ASSETS["inputs_gemeente"], FAMILY_ASSETS["inputs_uwv"]]
    assert all(a in INDICATOR_ASSETS for a in inputs)
    spec = inputs[0].specs_by_key[dg.AssetKey(["indicators", "inputs_gemeente"])]
    assert spec.group_name == "indicators" and spec.description
    base = build_definitions()
    defs = dg.Definitions(assets=base.assets, jobs=[input_job], resources=base.resources)
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("input_indicators_biennial")
    assert job.partitions_def is not None and "2019" in job.partitions_def.get_partition_keys()
    # the two-yearly input job: the register input families and the organisation surveys (issue 19)
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {"indicators/inputs_gemeente",
                                                                                 "indicators/inputs_uwv",
                                                                                 "indicators/inputs_surveys"}
    table = next(a for a in INDICATOR_ASSETS if dg.AssetKey(["indicators", "indicator_table"]) in a.keys)
    assert dg.AssetKey(["indicators", "inputs_uwv"]) in table.dependency_keys


# ------------------------------------------------------------------------------------------ synthetic
NEEDED = ["GBAADRESOBJECTBUS", "SECMBUS", "GBAPERSOONTAB", "GBAMIGRATIEBUS", "MIGMOTIEFBUS", "LANDAKTUEELREF",
          "HOOGSTEOPLTAB", "ONDERWIJSINSCHRTAB", "BIJSTANDPERSOONBUS", "WWPERSOONBUS", "AOTOTPERSOONBUS",
          "SIRWWPERSOONBUS", "SIRAGPERSOONBUS", "SRGPERSOONPWETBUS", "PWETSRGPERSOONBUS"]
YEARS = ["2016", "2017", "2019", "2020", "2021"]
#: monitor_dagster/synth/project.py simulate_provisions: monthly chance of a first provision during a bijstand
#: spell, non-Western 0.022 and others 0.03 (geometric waiting time)
PLANTED_MONTHLY = (0.022, 0.03)


def _inputs(ind, year: str) -> pl.DataFrame:
    """The input indicators of a year: the rows of both input families."""
    return pl.concat([ind.read(f, year).collect() for f in ("inputs_gemeente", "inputs_uwv")])


@pytest.fixture(scope="module")
def synth_wh(zone, tmp_path_factory):
    """The zone's benefit, provision and trajectory files and the population's sources, ingested (the plain
    ingest function the source assets call; their Dagster runs are tested in test_sources_dagster); then
    through Dagster: core spell tables, populations and inputs_by_year of YEARS, and the gated table."""
    from monitor_dagster.catalog import load_catalog
    from monitor_dagster.defs.core.assets import CORE_ASSETS, CORE_SPELLS, IO, population
    from monitor_dagster.defs.indicators.assets import FAMILY_ASSETS, INDICATOR_ASSETS, indicator_table
    from monitor_dagster.defs.io import WarehouseIOManager
    from monitor_dagster.defs.resources import MonitorResource
    from monitor_dagster.defs.sources.assets import source_assets
    from monitor_dagster.landing import scan
    from monitor_dagster.ingest.release import ingest_release
    from monitor_dagster.warehouse import Warehouse

    wh = tmp_path_factory.mktemp("inputs") / "wh"
    landing = zone.config.landing
    catalog = load_catalog()
    landed, w = scan(landing, catalog), Warehouse(wh)
    for entry in NEEDED:
        yearly = catalog.entry(entry).kind == "yearly"
        for period in (range(min(map(int, YEARS)) - 1, 2022) if yearly else [None]):
            ingest_release(catalog, entry, period, landing, w, landed=landed)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with dg.instance_for_test() as inst:
        res = {"monitor": MonitorResource(landing=str(landing), warehouse=str(wh)),
               IO: WarehouseIOManager(warehouse=str(wh))}
        everything = [*source_assets(catalog), *CORE_ASSETS, *INDICATOR_ASSETS]
        dg.materialize(everything, selection=dg.AssetSelection.assets(*CORE_SPELLS), resources=res, instance=inst,
                       run_config=quiet)
        meta = {}
        for y in YEARS:
            r = dg.materialize(everything, selection=dg.AssetSelection.assets(
                population, FAMILY_ASSETS["inputs_gemeente"], FAMILY_ASSETS["inputs_uwv"]),
                partition_key=y, resources=res, instance=inst, run_config=quiet)
            meta[y] = {k: v for node in ("indicators__inputs_gemeente", "indicators__inputs_uwv")
                       for k, v in r.asset_materializations_for_node(node)[0].metadata.items()}
        r = dg.materialize(everything, selection=dg.AssetSelection.assets(indicator_table), resources=res,
                           instance=inst, run_config=quiet)
        checks = {e.check_name: e.passed for e in r.get_asset_check_evaluations()}
    return wh, meta, checks


def test_synthetic_rows_follow_the_contract(synth_wh):
    from monitor_dagster.warehouse import Warehouse

    wh, meta, checks = synth_wh
    ind = Warehouse(wh, layer="indicators")
    rows = pl.concat([_inputs(ind, y) for y in YEARS])
    _contract(rows)
    assert set(rows["indicator_id"]) == {"P-a", "P-b", "P-c", "P-d", "P-e", "P-f", "U-a", "U-b", "U-c"}
    pct, months = rows.filter(pl.col("unit") == "%"), rows.filter(pl.col("unit") == "maanden")
    assert set(rows["unit"]) == {"%", "maanden"}
    assert pct["value"].is_between(0, 100).all() and months["value"].is_between(0, 12).all()
    assert (rows["n"] > 0).all() and not rows["suppressed"].any()
    # the zone runs to 2021: the 2021 cohort has no follow-up year, every earlier one has
    assert set(rows.filter(pl.col("year") == 2021)["status"]) == {"voorlopig"}
    assert set(rows.filter(pl.col("year") < 2021)["status"]) == {"definitief"}
    assert all("BIJSTANDPERSOON" in v for v in rows.filter(pl.col("indicator_id") == "P-c")["vintages"])
    assert all("SIRWWPERSOON" in v for v in rows.filter(pl.col("measure") == "WW")["vintages"])
    # series by cohort year
    pa = rows.filter(pl.col("indicator_id") == "P-a")
    def years_of(prefix):
        return pa.filter(pl.col("measure").str.starts_with(prefix))["year"].unique().sort().to_list()

    assert years_of("t/m 2018: ") == [2016, 2017] and years_of("vanaf 2019: ") == [2019, 2020, 2021]
    assert "2021-12-31" in meta["2019"]["observed_until"].value
    # the gated table holds the input rows, trend break marked, and passes the disclosure check
    table = ind.read("indicator_table", "all").collect()
    inputs = table.filter(pl.col("indicator_id").is_in(["P-a", "P-c", "U-a"]))
    p19 = inputs.filter((pl.col("year") == 2019) & pl.col("indicator_id").str.starts_with("P-"))
    assert inputs.height and set(p19.filter(pl.col("opleiding") == "totaal")["trend_break"]) == {"srg_2019"}
    assert set(p19.filter(pl.col("opleiding") != "totaal")["trend_break"]) == {"srg_2019,soi_2021"}
    assert checks["disclosure"]


def _add_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    y += d.year
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _oracle(wh: Path, year: int):
    """Plain-Python recomputation of P-c (consistent) and U-a (WW) of cohort ``year`` from the core frames:
    inflow = no day of the benefit in [first day of the previous month, start - 1]."""
    from monitor_dagster.warehouse import Warehouse

    core = Warehouse(wh, layer="core")
    # report 2.2: persons in NL six months or less on the peildatum are not in the analysis (engine)
    pop = set(core.read("population", str(year)).filter(pl.col("leeftijd").is_not_null()
                                                        & ~pl.col("verblijfsduur_excluded").fill_null(False))
              .select("person_id").collect()["person_id"])
    ben = core.read("benefit_spells", "all").collect()
    far = dt.date(9999, 12, 31)
    out = {}
    provisions, trajectories = (core.read(n, "all").collect() for n in ("provision_spells", "trajectory_spells"))
    for kind, events, codes in (("bijstand", provisions, set(map(str, range(11, 19)))), ("WW", trajectories, None)):
        spells: dict[int, list] = {}
        for p, k, s, e in ben.select("person_id", pl.col("kind").cast(pl.String), "start", "end").iter_rows():
            if k == kind:
                spells.setdefault(p, []).append((s, e or far))
        starts: dict[int, list] = {}
        for r in events.iter_rows(named=True):
            if codes is None and str(r["client"]) != "WW":
                continue
            if codes is not None and str(r["code"]) not in codes:
                continue
            starts.setdefault(r["person_id"], []).append(r["start"])
        cohort = {}
        for p, ss in spells.items():
            if p not in pop:
                continue
            for s, _ in sorted(ss):
                prev_month = _add_months(s.replace(day=1), -1)
                if s.year == year and not any(s2 < s and e2 >= prev_month for s2, e2 in ss):
                    cohort[p] = s
                    break
        hits = sum(any(s <= x < _add_months(s, 12) for x in starts.get(p, [])) for p, s in cohort.items())
        out[kind] = (len(cohort), 100 * hits / len(cohort) if cohort else None)
    return out


def test_synthetic_matches_a_plain_python_recomputation(synth_wh):
    from monitor_dagster.warehouse import Warehouse

    wh, _, _ = synth_wh
    ind = Warehouse(wh, layer="indicators")
    for year in (2017, 2020):
        rows = _inputs(ind, str(year))
        want = _oracle(wh, year)
        pc, ua = _total(rows, "P-c", "voorziening"), _total(rows, "U-a", "WW")
        assert (pc["n"], pc["value"]) == (want["bijstand"][0], pytest.approx(want["bijstand"][1])), year
        assert (ua["n"], ua["value"]) == (want["WW"][0], pytest.approx(want["WW"][1])), year


def test_synthetic_p_c_is_plausible_against_the_planted_provisions(synth_wh, zone):
    """P-c over all provisions of a registry ('t/m 2018:' / 'vanaf 2019:' series), pooled over the complete
    cohorts, against the planted monthly rate: at most 1 - (1 - 0.03)^12 (31%) and not far below
    1 - (1 - 0.022)^12 (23%: spells ending before the provision starts lower it).  The consistent series
    (codes 11-18) carries about half of the planted weight (synth PROVISIONS weights 0.48 of 1.0)."""
    from monitor_dagster.warehouse import Warehouse

    wh, _, _ = synth_wh
    ind = Warehouse(wh, layer="indicators")
    rows = pl.concat([_inputs(ind, y) for y in YEARS if y != "2021"])
    tot = rows.filter((pl.col("indicator_id") == "P-c") & (pl.col("herkomst") == "totaal")
                      & pl.all_horizontal(pl.col(d) == "totaal" for d in
                                          ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding")))
    full = tot.filter(pl.col("measure") != "voorziening")
    n = full["n"].sum()
    share = (full["value"] * full["n"]).sum() / n / 100
    lo, hi = (1 - (1 - p) ** 12 for p in PLANTED_MONTHLY)
    assert n >= 50, n
    assert 0.5 * lo <= share <= hi + 0.05, (share, n)
    cons = tot.filter(pl.col("measure") == "voorziening")
    cons_share = (cons["value"] * cons["n"]).sum() / cons["n"].sum() / 100
    assert 0.2 * share <= cons_share <= 0.8 * share, (cons_share, share)
    # SRG 2019 (truth file): the generator planted voorzieningen arbeidsbeperking running into 2019+, which
    # PWETSRG no longer registers; they may only appear in the 't/m 2018:' series of cohorts up to 2017
    assert zone.truth["provisions"]["arbeidsbeperking_active_2019_plus_not_registered"] > 0
    ab = rows.filter(pl.col("measure").str.contains("arbeidsbeperking"))
    assert ab.height and set(ab["measure"]) == {"t/m 2018: voorziening arbeidsbeperking"} and ab["year"].max() <= 2017
