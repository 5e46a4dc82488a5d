"""A landing zone holding only some files, with only the columns the monitor cannot do without (issue 11):
every indicator whose inputs are present comes out per herkomst; the rest is listed as not computable, with
the reason, in `monitor status`, the family assets' metadata and the readiness answer."""

from __future__ import annotations


import dagster as dg
import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.landing import scan
from monitor_dagster_tests.test_ingest_roles import MINIMAL

KEEP = MINIMAL   # the minimal columns of the issue (test_ingest_roles.py): the key columns of ingest/roles.py
EXPECTED = {"O04", "O05", "O08", "O10", "O11", "O12", "O13", "O14", "O15", "O16", "O17", "O18"}


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("partial")
    landing = root / "landing"
    generate(SynthConfig(landing=landing, persons=1500, first_year=2018, last_year=2019, seed=5, fmt="parquet",
                         truth=root / "truth.json"))
    catalog = load_catalog()
    for f in scan(landing, catalog):
        path = landing / f.relpath
        if f.match is None or f.match.entry not in KEEP:
            path.unlink()
            continue
        df = pl.read_parquet(path)
        raw = {c.upper(): c for c in df.columns}
        df.select([raw[c] for c in KEEP[f.match.entry] if c in raw]).write_parquet(path)
    from monitor_dagster.runner import run_pipeline

    with dg.instance_for_test() as inst:
        summary = run_pipeline(landing, root / "wh", instance=inst, layers=("sources", "core", "indicators"))
    return root, summary


def test_partial_zone_gives_what_its_files_allow(partial):
    from monitor_dagster.warehouse import Warehouse

    root, summary = partial
    assert summary.ok, [(o.entry, o.partition, o.message) for o in summary.outcomes if not o.ok]
    # the gated table passes its blocking checks: a breakdown that is not computable is no gap in the cube
    assert not [c for c in summary.check_failures if c.startswith(("expectations", "disclosure"))], \
        summary.check_failures
    # the files lacking unused / used columns were ingested with a warning, not refused
    spolis = [o for o in summary.outcomes if o.entry == "SPOLISBUS" and o.partition == "2019"][0]
    assert "SAANTVERLU" in spolis.metadata["missing_columns"] and spolis.metadata["warnings"]
    table = Warehouse(root / "wh", layer="indicators").read("indicator_table", "all").collect()
    got = set(table.filter(pl.col("year") == 2019)["indicator_id"])
    assert EXPECTED <= got, EXPECTED - got
    assert not got & {"O01", "O02", "O03", "O06", "O07", "O09"}
    per_herkomst = table.filter((pl.col("year") == 2019) & (pl.col("indicator_id") == "O04") & (pl.col("correctie") == "geen")
                                & (pl.col("herkomst") == "niet-westers") & (pl.col("generatie") == "totaal")
                                & (pl.col("verblijfsduur") == "totaal") & (pl.col("leeftijd") == "totaal")
                                & (pl.col("geslacht") == "totaal") & (pl.col("opleiding") == "totaal"))
    assert per_herkomst.height == 5                                       # the year and its four quarters
    assert sorted(per_herkomst["kwartaal"]) == ["K1", "K2", "K3", "K4", "totaal"]
    # breakdowns without their file are absent (not computable), never filled with a default; not in the
    # corrected rows either (issue 17), though those exist
    assert set(table.filter(pl.col("indicator_id") == "O04")["verblijfsduur"]) == {"totaal"}
    assert set(table.filter(pl.col("indicator_id") == "O04")["opleiding"]) == {"totaal"}
    assert set(table.filter(pl.col("indicator_id") == "O04")["correctie"]) == {"geen", "gewogen", "model"}


def test_partial_zone_lists_what_could_not_be_computed(partial):
    from typer.testing import CliRunner

    from monitor_dagster.cli import app
    from monitor_dagster.readiness import year_readiness

    root, _ = partial
    r = year_readiness(root / "wh", 2019)
    nc = r.not_computable()
    assert nc["O01"] == ["needs EBBNW 2019"] and nc["O09"] == ["needs INPATAB 2019"]
    assert nc["O06"] == ["needs SPOLISBUS.SAANTCTRCTURENPWK"]
    assert any("SAANTVERLU" in x for x in nc["O07"])
    assert r.breakdowns["verblijfsduur"] == "needs GBAMIGRATIEBUS" and r.breakdowns["opleiding"] == "needs HOOGSTEOPLTAB 2019"
    out = CliRunner().invoke(app, ["status", "--landing", str(root / "landing"), "--warehouse", str(root / "wh")],
                             terminal_width=500)
    assert out.exit_code == 0, out.output
    assert "O01: needs EBBNW 2019" in out.output and "O06: needs SPOLISBUS.SAANTCTRCTURENPWK" in out.output
    # the used columns a release lacked, with what they cost, for as long as the warehouse holds the release (the
    # run printed them once): SSRTIV missing means benefit rows count as jobs
    text = " ".join(out.output.split())
    assert "ingested without SPOLISBUS 2019 (SPOLISBUS2019V3): " in text, text[-3000:]
    assert "SSRTIV missing (benefit and pension rows (21 and up) are no jobs" in text
    assert "every row counts without it" in text


def test_monitor_run_says_which_families_it_did_not_build_and_why(partial):
    """`monitor run` printed what it built, and a family left out for lack of a file (here EBB and income) had no
    line at all: the data engineer learnt it only from `monitor status` (the thirty-eighth session's open doubts).
    The summary now holds one NOT BUILT line per family and reason, the years as ranges, from the same readiness
    answer that planned the run."""
    from monitor_dagster import cli

    _, summary = partial
    lines = {x.split(":", 1)[0]: x.split(": ", 1)[1] for x in summary.not_built}
    assert lines["indicators/ebb 2018-2019"] == "needs EBBNW 2018-2019", lines      # one line for both years
    assert any("income" in k and v.startswith("needs INPATAB") for k, v in lines.items()), lines
    # what was built is not listed; families with the same gap in the same years share one line
    families = {f for k in lines for f in k.rsplit(" ", 1)[0].removeprefix("indicators/").split(", ")}
    assert "ebb" in families and not families & {"contracts_hours", "secm"}, lines
    assert len(lines) == len({(k.rsplit(" ", 1)[-1], v) for k, v in lines.items()}), lines
    with cli.out.capture() as cap:
        cli._print_run_summary(summary)
    text = " ".join(cap.get().split())
    assert "NOT BUILT indicators/ebb 2018-2019: needs EBBNW 2018-2019" in text, text[-2000:]


def test_not_built_lines_group_years_by_their_reason():
    """The year of a reason is what differs between years with the same gap; a date is part of the reason."""
    from monitor_dagster.runner import _YEAR, year_placeholder, year_ranges

    assert year_ranges([2017, 2013, 2014, 2015]) == "2013-2015, 2017"
    assert year_placeholder("needs EBBNW 2018", 2018) == year_placeholder("needs EBBNW 2019", 2019)
    kept = year_placeholder("the follow-up needs spells up to 2021-12-31 of 2021", 2021)
    assert kept == f"the follow-up needs spells up to 2021-12-31 of {_YEAR}"
    assert year_placeholder("needs VSLGWB2021TAB 20210", 2021) == "needs VSLGWB2021TAB 20210"
