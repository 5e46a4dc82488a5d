"""One readiness module (issue 11): the CLI's plan, the schedules and `monitor status` agree on what a year
is; vintages and provisional status are per indicator (only the releases it reads)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
from typer.testing import CliRunner

from monitor_dagster import readiness as R
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.readiness import final_sources
from monitor_dagster.warehouse import Warehouse

FRAME = pl.DataFrame({"person_id": [1]})


def _zone(root) -> None:
    """Manifests of a zone 2020-2021: SPOLIS 2021 only as V1 (t/m 6, provisional), EBBNW 2021 missing."""
    w = Warehouse(root)
    for year in (2020, 2021):
        for entry, part in final_sources("yearly"):
            if entry == "EBBNW" and year == 2021:
                continue
            p = str(year) if part == "year" else part
            prov = entry == "SPOLISBUS" and year == 2021
            w.write(entry, p, FRAME, {"release_id": f"{entry}{year}V1", "period": year, "provisional": prov,
                                      "months_covered": 6 if prov else 12})


def test_cli_schedules_and_status_agree(tmp_path):
    from monitor_dagster.cli import app
    from monitor_dagster.defs.schedules import missing_for, outcome_decision
    from monitor_dagster.runner import derived_plan

    _zone(tmp_path)
    r21 = R.year_readiness(tmp_path, 2021)
    assert r21.indicators["O04"].state == "provisional" and "SPOLISBUS 2021 is provisional" in r21.indicators["O04"].reasons[0]
    assert r21.indicators["O05"].state == "ready"        # SECM-based: SPOLIS does not concern it
    assert r21.indicators["O01"].state == "not computable" and r21.indicators["O01"].reasons == ["needs EBBNW 2021"]
    assert R.year_readiness(tmp_path, 2020).blocking("yearly") == []
    # the schedule: 2021 is not final (and says why), 2020 is
    assert set(missing_for(Warehouse(tmp_path), 2021)) == set(r21.blocking("yearly"))
    d = outcome_decision(Warehouse(tmp_path), dt.date(2022, 5, 1))
    assert isinstance(d, dg.RunRequest) and d.partition_key == "2021" or d.partition_key == "2020"
    assert d.partition_key == "2020"
    # the CLI builds what is computable: 2021 without the EBB family, with the provisional SPOLIS family
    plan: dict[tuple, list[str]] = {}    # a year can have two runs: its families, later its follow-up family
    for job, part, keys in derived_plan(tmp_path, None, ("core", "indicators")):
        plan.setdefault((job, part), []).extend(k.to_user_string() for k in keys)
    assert "indicators/ebb" in plan[("outcome_indicators_yearly", "2020")]
    assert "indicators/ebb" not in plan[("outcome_indicators_yearly", "2021")]
    assert "indicators/contracts_hours" in plan[("outcome_indicators_yearly", "2021")]
    # monitor status shows the same
    out = CliRunner().invoke(app, ["status", "--landing", str(tmp_path), "--warehouse", str(tmp_path),
                                   "--today", "2022-05-01"], terminal_width=400)
    assert out.exit_code == 0, out.output
    line21 = next(ln for ln in out.output.splitlines() if ln.lstrip("│ ").startswith("2021") and "O01" in ln)
    assert "needs EBBNW 2021" in line21 and "O04" in line21
    line20 = next(ln for ln in out.output.splitlines() if ln.lstrip("│ ").startswith("2020") and "final" in ln)
    assert line20


def test_missing_used_column_makes_exactly_its_indicators_not_computable(tmp_path):
    _zone(tmp_path)
    w = Warehouse(tmp_path)
    w.write("SPOLISBUS", "2020", FRAME, {"release_id": "SPOLISBUS2020V2", "period": 2020,
                                         "missing_columns": ["SAANTCTRCTURENPWK"]})
    r = R.year_readiness(tmp_path, 2020)
    assert r.indicators["O06"].state == "not computable"
    assert r.indicators["O06"].reasons == ["needs SPOLISBUS.SAANTCTRCTURENPWK"]
    assert r.indicators["O07"].state == "not computable"        # its nulurencontract measures need them too
    assert r.indicators["O04"].state == "ready" and r.indicators["O08"].state == "ready"


def test_breakdown_without_its_file_is_not_computable(tmp_path):
    _zone(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "sources" / "GBAMIGRATIEBUS")
    r = R.year_readiness(tmp_path, 2020)
    assert r.breakdowns == {"verblijfsduur": "needs GBAMIGRATIEBUS"}
    assert r.indicators["O04"].state == "ready"
    assert "breakdown verblijfsduur not computable: needs GBAMIGRATIEBUS" in r.blocking("yearly")
    # the same file says who is in NL six months or less (report 2.2): without it they stay in every indicator
    assert r.notes == [R.short_stay_note(2020, "needs GBAMIGRATIEBUS")]
    assert "six months or less on 1 January 2020 cannot be left out" in r.notes[0]
    assert r.notes[0] in r.blocking("yearly")


def test_vintages_and_provisional_status_per_indicator():
    """compute_family stamps each indicator with the releases of its own inputs: O05 (SECM) does not carry
    SPOLIS, and a part-year SPOLIS makes the SPOLIS family voorlopig but not O05."""
    from monitor_dagster_tests.test_indicators_register import _full_year, _jm, _pop

    pop = _pop(*range(1, 13))
    jm = _jm([r for p in range(1, 13) for r in _full_year(p, 100 + p, contract="O")])
    secm = pl.LazyFrame({"person_id": list(range(1, 13)), "month": [dt.date(2019, 6, 1)] * 12,
                         "SECM": ["11"] * 12}).with_columns(pl.col("SECM").cast(pl.Enum(["11", "13", "21"])))
    prov = {"core/population": ENG.Provenance(frozenset({"GBAPERSOONTAB2019V1"})),
            "core/job_months": ENG.Provenance(frozenset({"SPOLISBUS2019V1"}), frozenset({"SPOLISBUS2019V1"})),
            "core/secm_months": ENG.Provenance(frozenset({"SECMBUS2019V1"}))}
    frames = {"core/population": pop, "core/job_months": jm, "core/secm_months": secm}
    ch = ENG.compute_family("contracts_hours", frames, 2019, provenance=prov).table
    assert set(ch.filter(pl.col("indicator_id").is_in(["O04", "O10"]))["vintages"]) == {
        "GBAPERSOONTAB2019V1,SPOLISBUS2019V1"}
    o06_o08 = ch.filter(pl.col("indicator_id").is_in(["O06", "O07", "O08"]))   # these leave the zzp out (SECM)
    assert o06_o08.height and set(o06_o08["vintages"]) == {"GBAPERSOONTAB2019V1,SECMBUS2019V1,SPOLISBUS2019V1"}
    assert set(ch["status"]) == {"voorlopig"}
    se = ENG.compute_family("secm", frames, 2019, provenance=prov)
    o05 = se.table.filter(pl.col("indicator_id") == "O05")
    assert o05.height and set(o05["vintages"]) == {"GBAPERSOONTAB2019V1,SECMBUS2019V1"}
    assert set(o05["status"]) == {"definitief"}
    # an absent input makes exactly the indicators reading it not computable
    res = ENG.compute_family("contracts_hours", {**frames, "core/secm_months": None}, 2019, provenance=prov)
    assert set(res.not_computable) == {"O06", "O07", "O08"} and set(res.computed) == {"O04", "O10"}


def test_a_follow_up_window_makes_o38_provisional_without_blocking_the_year(tmp_path):
    """O38/O39 look three years ahead (report 5.2 4g): voorlopig with the first missing year named, but the
    yearly build of t is final all the same (they are rebuilt when t+3 lands)."""
    _zone(tmp_path)
    r = R.year_readiness(tmp_path, 2020)
    assert r.indicators["O38"].state == "provisional"
    # the zone's SPOLIS 2021 is t/m maand 6: 2021 is not observed in full (test below)
    assert r.indicators["O38"].reasons[0].startswith(
        "the follow-up of 2020 runs to 2023; 2021: SPOLISBUS 2021 is provisional (SPOLISBUS2021V1, t/m maand 6)")
    assert r.blocking("yearly") == []
    _final_spolis_2021(tmp_path)
    r = R.year_readiness(tmp_path, 2020)
    assert r.indicators["O38"].reasons[0].startswith("the follow-up of 2020 runs to 2023; 2022: needs SPOLISBUS 2022")
    assert r.blocking("yearly") == []


def _final_spolis_2021(root) -> None:
    Warehouse(root).write("SPOLISBUS", "2021", FRAME, {"release_id": "SPOLISBUS2021V3", "period": 2021,
                                                       "provisional": False, "months_covered": 12})


def _core(root, name: str, year: int, provisional: str = "") -> None:
    Warehouse(root, layer="core").write(name, str(year), FRAME, {"provisional_releases": provisional})


def test_a_follow_up_year_from_a_part_year_spolis_or_beyond_secm_is_not_observed(tmp_path):
    """A later year of a follow-up window counts as observed only in full (readiness.follow_up_gaps,
    engine.observed_years): built from SPOLIS t/m maand 6 its last six months would count as months without
    work, and from a SECMBUS that ends the year before its SECM months would carry the last known state on.
    Until December 2026 both counted as soon as the tables existed: O24b (school year October t - September
    t+1) of 2020 was ready and its table definitief with SPOLIS 2021 t/m maand 6."""
    _zone(tmp_path)
    r = R.year_readiness(tmp_path, 2020)
    assert r.indicators["O24b"].state == "provisional"
    assert r.indicators["O24b"].reasons == [
        "the follow-up of 2020 runs to 2021; 2021: SPOLISBUS 2021 is provisional (SPOLISBUS2021V1, t/m maand 6)"]
    assert r.blocking("yearly") == []                # it does not hold the year back
    # the engine censors at the same year: job_months 2021 built from the part-year release
    for y in (2020, 2021):
        _core(tmp_path, "job_months", y, "SPOLISBUS2021V1" if y == 2021 else "")
        _core(tmp_path, "secm_months", y)
    assert ENG.observed_years("student_jobs", tmp_path, 2020) == 2020
    # the final release lands and job_months 2021 is rebuilt from it: 2021 is observed
    _final_spolis_2021(tmp_path)
    assert ENG.observed_years("student_jobs", tmp_path, 2020) == 2020    # the table is still the part-year one
    _core(tmp_path, "job_months", 2021)
    assert ENG.observed_years("student_jobs", tmp_path, 2020) == 2021
    assert R.year_readiness(tmp_path, 2020).indicators["O24b"].state == "ready"
    # SECMBUS ending in 2020: the SECM months of 2021 are not observed (O38/O39 read them), the job months are
    Warehouse(tmp_path).write("SECMBUS", "latest", FRAME, {"release_id": "SECMBUS2020V1", "period": 2020})
    assert ENG.observed_years("reemployment", tmp_path, 2020) == 2020
    assert ENG.observed_years("student_jobs", tmp_path, 2020) == 2021
    o38 = R.year_readiness(tmp_path, 2020).indicators["O38"]
    assert o38.reasons[0].startswith("the follow-up of 2020 runs to 2023; 2021: SECMBUS does not cover 2021 yet "
                                     "(up to 2020)"), o38.reasons


def test_o25_needs_the_enrolment_of_the_next_year_without_blocking_the_year(tmp_path):
    """Report 5.1 4c: the graduates "op 1 oktober een jaar later geen bekostigd onderwijs meer volgden": O25 of
    the last year is not computable until ONDERWIJSINSCHRTAB t+1 lands, which does not hold back year t."""
    _zone(tmp_path)
    r21 = R.year_readiness(tmp_path, 2021)
    assert r21.indicators["O25"].state == "not computable"
    assert r21.indicators["O25"].reasons == [
        "the follow-up of 2021 needs ONDERWIJSINSCHRTAB 2022 (report 5.1: the next year)"]
    assert not any("ONDERWIJSINSCHRTAB 2022" in b for b in r21.blocking("yearly"))
    r20 = R.year_readiness(tmp_path, 2020)
    assert r20.indicators["O25"].state == "provisional"                  # follow-up to 2024, 2022 missing
    assert r20.blocking("yearly") == []


def test_transitions_need_the_spolis_of_the_year_before():
    """Report 5.2: the panel of t starts in November t-1 ("2006 hebben we namelijk niet kunnen verrijken met
    gegevens van eind 2005"): the first SPOLIS year of the warehouse gives no O27-O37 (not applicable, not
    blocking); a missing year inside the series is a missing file."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        _zone(Path(d))
        r20 = R.year_readiness(d, 2020)
        assert r20.indicators["O28"].state == "not applicable" and "SPOLISBUS" in r20.indicators["O28"].reasons[0]
        assert r20.indicators["O04"].state == "ready" and r20.blocking("yearly") == []
        # SPOLIS 2021 is V1 (t/m maand 6): a year of transitions waits for the full year (report 7.1.3 b), a
        # mean over job-months is voorlopig
        r21 = R.year_readiness(d, 2021)
        assert r21.indicators["O28"].state == "not computable" and r21.indicators["O28"].reasons == [
            "needs SPOLISBUS 2021 t/m maand 12 (landed: SPOLISBUS2021V1, t/m maand 6): O28 counts the whole year "
            "(report 7.1.3 b)"]
        assert r21.indicators["O04"].state == "provisional"
        Warehouse(d).write("SPOLISBUS", "2018", FRAME, {"release_id": "SPOLISBUS2018V1", "period": 2018})
        r20 = R.year_readiness(d, 2020)
        assert r20.indicators["O28"].state == "not computable"
        assert r20.indicators["O28"].reasons == ["needs SPOLISBUS 2019 (months 11 and 12 of t-1, report 5.2)"]


def test_o25_counts_a_later_year_only_when_the_addresses_cover_it(tmp_path):
    """Report 5.1 4c advice: a graduate who leaves the BRP is censored, not counted as without a job.  O25 reads
    leaving from GBAADRESOBJECTBUS (its latest release, read whole): a year after that release is not observed,
    whatever job months there are, or an emigration then would count as months without work."""
    _zone(tmp_path)
    _final_spolis_2021(tmp_path)
    for y in (2020, 2021):
        _core(tmp_path, "job_months", y)
        _core(tmp_path, "secm_months", y)
    assert ENG.observed_years("first_job", tmp_path, 2020) == 2021          # the zone's addresses cover 2021
    Warehouse(tmp_path).write("GBAADRESOBJECTBUS", "latest", FRAME,
                              {"release_id": "GBAADRESOBJECTBUS2020V1", "period": 2020})
    assert ENG.observed_years("first_job", tmp_path, 2020) == 2020
    assert ENG.observed_years("reemployment", tmp_path, 2020) == 2021      # O38/O39 do not read the addresses
    o25 = R.year_readiness(tmp_path, 2020).indicators["O25"]
    assert any("2021: GBAADRESOBJECTBUS does not cover 2021 yet (up to 2020)" in r for r in o25.reasons), o25.reasons


def test_status_names_a_core_table_an_older_version_built_that_this_one_would_not(tmp_path):
    """After an upgrade the warehouse can hold a core table the new rules do not build (December 2026: SECM
    months of a year SECMBUS does not cover, e.g. the demo's survey year 2023): `monitor status` names it with the
    reason, so the data engineer knows it is left over, not current."""
    from monitor_dagster.cli import app

    _zone(tmp_path)
    Warehouse(tmp_path).write("SECMBUS", "latest", FRAME, {"release_id": "SECMBUS2020V1", "period": 2020})
    _core(tmp_path, "secm_months", 2021)
    _core(tmp_path, "secm_months", 2020)
    out = CliRunner().invoke(app, ["status", "--landing", str(tmp_path), "--warehouse", str(tmp_path),
                                   "--today", "2022-05-01"], terminal_width=2000)
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if ln.startswith("Kept from an older build"))
    assert "core/secm_months 2021 (SECMBUS does not cover 2021 yet (up to 2020)" in line
    assert "secm_months 2020" not in line


def test_a_part_year_release_of_t_minus_1_makes_the_spolis_indicators_of_t_provisional(tmp_path):
    """Report 5.2: the monthly panel of t starts with November and December of t-1.  A SPOLISBUS of t-1 that runs
    t/m maand 6 lacks them; the engine marks the rows voorlopig (job_months of t rests on the part-year release),
    and readiness said "ready", so the schedule took the year for final.  Now both say voorlopig, with why; the
    transitions (spec ``part_year: wait``) are not computable: December t-1 would read as "no job"."""
    w = Warehouse(tmp_path)
    for year in (2020, 2021):
        for entry, part in final_sources("yearly"):
            prov = entry == "SPOLISBUS" and year == 2020
            w.write(entry, str(year) if part == "year" else part, FRAME,
                    {"release_id": f"{entry}{year}V1", "period": year, "provisional": prov,
                     "months_covered": 6 if prov else 12})
    r = R.year_readiness(tmp_path, 2021)
    why = "SPOLISBUS 2020 is provisional (SPOLISBUS2020V1, t/m maand 6): months 11 and 12 of 2020 (report 5.2)"
    assert r.indicators["O04"].state == "provisional" and r.indicators["O04"].reasons == [why]
    wait = ("needs SPOLISBUS 2020 t/m maand 12 (landed: SPOLISBUS2020V1, t/m maand 6): months 11 and 12 of 2020 "
            "(report 5.2)")
    for iid in ("O27", "O29"):
        assert r.indicators[iid].state == "not computable" and r.indicators[iid].reasons == [wait], iid
    assert r.indicators["O05"].state == "ready"        # SECM months only
    assert why in r.blocking("yearly")


def test_a_replaced_release_marks_the_years_built_on_it(tmp_path):
    """A corrected SPOLISBUS 2020 (V2 over V1) or a later cumulative release: the release sensor ingests it, and
    the years whose tables rest on the old one are found from the manifests' vintages and rebuilt by the sensor
    rebuild_revised_years (the mission: "runs what they affect"; until December 2026 they waited for a hand-made
    backfill).  Years on the current releases are left alone; a year on the SECM fallback is the other sensor's."""
    from monitor_dagster.defs.schedules import revised_year_requests

    _zone(tmp_path)
    w, core, ind = Warehouse(tmp_path), Warehouse(tmp_path, layer="core"), Warehouse(tmp_path, layer="indicators")
    core.write("population", "2020", FRAME, {"vintages": "GBAPERSOONTAB2021V1,SPOLISBUS2020V1"})
    ind.write("ebb", "2020", FRAME, {"vintages": "EBBNW2020V1"})
    ind.write("contracts_hours", "2021", FRAME, {"vintages": "SPOLISBUS2021V1,SPOLISBUS2020V1"})
    assert R.revised_years(tmp_path) == {}
    w.write("SPOLISBUS", "2020", FRAME, {"release_id": "SPOLISBUS2020V2", "period": 2020})
    assert R.revised_years(tmp_path) == {2020: ["SPOLISBUS2020V1 -> SPOLISBUS2020V2"],
                                         2021: ["SPOLISBUS2020V1 -> SPOLISBUS2020V2"]}
    reqs = {r.partition_key: r for r in revised_year_requests(tmp_path)}
    assert set(reqs) == {"2020", "2021"} and reqs["2020"].run_key == "revised-2020-SPOLISBUS2020V2"
    assert reqs["2020"].tags["monitor/revised"] == "SPOLISBUS2020V1 -> SPOLISBUS2020V2"
    assert any(k.to_user_string() == "core/population" for k in reqs["2020"].asset_selection)
    # a cumulative file: the release the 'latest' partition holds now
    gba = next(p for e, p in final_sources("yearly") if e == "GBAPERSOONTAB")        # 'latest'
    w.write("GBAPERSOONTAB", gba, FRAME, {"release_id": "GBAPERSOONTAB2022V1"})
    assert "GBAPERSOONTAB2021V1 -> GBAPERSOONTAB2022V1" in R.revised_years(tmp_path)[2020]
