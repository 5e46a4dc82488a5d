"""The verdict lines of benchmarks/pipeline.py (issue 12): the national target times landing zone -> gated
table, not the synthetic zone's generation nor the site."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench(monkeypatch, name: str):
    # the benchmark modules set MONITOR_SENSITIVITY for their own runs: keep that out of this test process
    monkeypatch.setenv("MONITOR_SENSITIVITY", "1")
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pipeline(monkeypatch):
    return _bench(monkeypatch, "pipeline")


def _run(**seconds):
    return [{"step": s, "seconds": v, "peak_rss_gb": 1.0} for s, v in seconds.items()]


def test_gated_verdict_leaves_out_synth_and_site(monkeypatch):
    p = _pipeline(monkeypatch)
    rows = _run(synth=900.0, sources=150.0, core=200.0, indicators=200.0, export=1.0, publish=60.0)
    rows[0]["peak_rss_gb"] = 20.0          # the generator's peak is not the pipeline's
    rows[1]["peak_rss_worker_gb"] = 3.5    # an ingest worker's is
    line = p.gated_verdict(rows)
    assert "551 s" in line and "peak 3.50 GB" in line and line.endswith(": met")


def test_gated_verdict_over_ten_minutes_or_twelve_gb_is_not_met(monkeypatch):
    p = _pipeline(monkeypatch)
    assert p.gated_verdict(_run(sources=200.0, core=250.0, indicators=200.0, export=1.0)).endswith("NOT met")
    rows = _run(sources=100.0, core=100.0, indicators=100.0, export=1.0)
    rows[2]["peak_rss_gb"] = 12.5
    assert p.gated_verdict(rows).endswith("NOT met")


def test_gated_verdict_needs_every_layer(monkeypatch):
    p = _pipeline(monkeypatch)
    assert p.gated_verdict(_run(sources=1.0, core=1.0, indicators=1.0)) is None


def test_gated_verdict_of_one_monitor_run_and_the_export(monkeypatch):
    # step `run`: sources, core and indicators in one process, as `monitor run` does them
    p = _pipeline(monkeypatch)
    rows = _run(run=590.0, export=1.0)
    rows[0]["peak_rss_worker_gb"] = 4.5
    line = p.gated_verdict(rows)
    assert "(run, export) 591 s" in line and "peak 4.50 GB" in line and line.endswith(": met")
    assert p.gated_verdict(_run(run=600.0, export=1.0)).endswith("NOT met")
    assert p.gated_verdict(_run(run=1.0)) is None
    assert p.LAYERS["run"] == ("sources", "core", "indicators")


def test_the_generators_mapping_stands_in_for_years_without_one(monkeypatch, tmp_path):
    """Without a mapping for the year, core/population leaves regio and randstad null and the indicator layer
    computes none of their cells: the national runs up to the twenty-second session measured 2021 without them."""
    from monitor_dagster.reference.regions import REGIO_DIR_ENV, gemeente_arbeidsmarktregio, mapping_file

    p = _pipeline(monkeypatch)
    monkeypatch.delenv(REGIO_DIR_ENV, raising=False)
    folder, years = p.stand_in_mappings(2019, 2021, tmp_path / "maps")
    assert years == [2019, 2021]                       # the package has 2020's
    assert sorted(f.name for f in folder.iterdir()) == [mapping_file(2019), mapping_file(2021)]
    monkeypatch.setenv(REGIO_DIR_ENV, str(folder))
    assert gemeente_arbeidsmarktregio(2021).equals(gemeente_arbeidsmarktregio(2020))
    # a folder the user set is theirs: nothing is written, nothing replaced
    assert p.stand_in_mappings(2019, 2021, tmp_path / "other") is None and not (tmp_path / "other").exists()
    monkeypatch.delenv(REGIO_DIR_ENV)
    assert p.stand_in_mappings(2020, 2020, tmp_path / "none") is None


def test_scan_verdict_divides_core_and_indicators_by_the_scan(monkeypatch):
    p = _pipeline(monkeypatch)
    rows = _run(sources=150.0, core=200.0, indicators=100.0, export=1.0, scan=20.0)
    rows[-1]["inputs"] = 23
    line = p.scan_verdict(rows)
    assert "300 s = 15.0x" in line and "23 source tables" in line and line.endswith("NOT met")
    assert p.scan_verdict(_run(core=60.0, indicators=40.0, scan=10.0)).endswith(": met")
    assert p.scan_verdict(_run(core=60.0, indicators=40.0)) is None      # no scan ran
    # the scan is a measuring stick: the gated time leaves it out
    assert "351 s" in p.gated_verdict(_run(sources=150.0, core=100.0, indicators=100.0, export=1.0, scan=500.0))


def test_scan_sources_reads_every_current_source_table(monkeypatch, tmp_path):
    import polars as pl

    from monitor_dagster.warehouse import Warehouse

    p = _pipeline(monkeypatch)
    w = Warehouse(tmp_path / "warehouse")
    w.write("SPOLISBUS", "2021", pl.DataFrame({"person_id": [1, 2], "SBASISUREN": [1.0, 2.0]}), {"rows": 2})
    w.write("SPOLISBUS", "2020", pl.DataFrame({"person_id": [1], "SBASISUREN": [3.0]}), {"rows": 1})
    w.write("LANDAKTUEELREF", "all", pl.DataFrame({"code": ["5001"], "label": ["x"]}), {"rows": 1})   # no numbers
    assert p.scan_sources(tmp_path / "warehouse") == 3
    assert p.scan_sources(tmp_path / "empty") == 0


def test_duckdb_peer_says_the_bench_extra_is_missing_before_any_step(monkeypatch):
    """Without DuckDB the peer stops at once with how to install it, instead of running the monitor step first."""
    peer = _bench(monkeypatch, "duckdb_peer")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "duckdb" else real(name, *a))
    msg = peer.missing_extra(["monitor", "duckdb"])
    assert msg is not None and "'bench' extra" in msg and "make bench" in msg
    assert peer.missing_extra(["monitor"]) is None      # the monitor step alone needs no DuckDB
