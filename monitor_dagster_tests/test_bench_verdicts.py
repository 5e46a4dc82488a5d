"""The verdict lines of benchmarks/pipeline.py (issue 12): the national target times landing zone -> gated
table, not the synthetic zone's generation nor the site; how the DuckDB peer finds the files of a zone; the
national ladder's line for the peer."""

import importlib.util
from pathlib import Path

import pytest

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


def test_layer_verdict_holds_each_layer_against_a_scan_of_what_it_reads(monkeypatch):
    """The reading for the author: core against the scan of the sources, indicators against one scan of the
    sources and the core tables, the whole against that scan; only when both scans ran; scan_core, like the
    scan, is not part of the run's time."""
    p = _pipeline(monkeypatch)
    rows = _run(sources=150.0, core=140.0, indicators=120.0, export=1.0, scan=10.0, scan_core=6.0)
    rows[-1]["inputs"] = 10
    line = p.layer_verdict(rows)
    assert "core 140 s = 14.0x the scan of the sources" in line
    assert "indicators 120 s = 7.5x one scan of the sources and the 10 core tables (16.0 s)" in line
    assert line.endswith("= 16.2x that scan of every table the compute reads")
    assert p.every_table_ratio(rows) == 260.0 / 16.0
    assert p.layer_verdict(rows[:-1]) is None and p.every_table_ratio(rows[:-1]) is None     # no scan_core
    assert "411 s" in p.gated_verdict(rows)


def test_steps_that_ingest_start_from_a_new_warehouse(monkeypatch, tmp_path):
    """`--steps sources,...` or `--steps run,export` on the zone of an earlier run: the old warehouse would make the
    monitor skip every file it already holds, and the benchmark time an ingest that did not happen; later steps
    re-use it."""
    bench = _pipeline(monkeypatch)

    def old_run():
        (tmp_path / "warehouse" / "sources").mkdir(parents=True, exist_ok=True)
        (tmp_path / "landing").mkdir(exist_ok=True)

    for steps in (["sources", "core", "indicators", "export", "scan"], ["run", "export"]):
        old_run()
        assert bench.fresh_warehouse(tmp_path, steps)
        assert not (tmp_path / "warehouse").exists() and (tmp_path / "landing").is_dir()   # the zone stays
    for steps in (["core", "indicators"], ["indicators", "export"], ["scan"], []):
        old_run()
        assert not bench.fresh_warehouse(tmp_path, steps)
        assert (tmp_path / "warehouse" / "sources").is_dir()
    assert not bench.fresh_warehouse(tmp_path / "nothing_yet", ["sources"])


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
    assert peer.missing_extra(["scan"]) is not None      # the scan is DuckDB's too
    assert peer.missing_extra(["monitor"]) is None      # the monitor step alone needs no DuckDB


def _zone(peer, root, names: dict[str, list[str]]):
    """A landing zone of empty files in the peer's folders: only the names count for locating them."""
    for file_id, files in names.items():
        for name in files:
            p = root / peer.FILES[file_id][0] / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
    return root


def test_duckdb_peer_reads_a_parquet_zone_with_typed_numbers(monkeypatch, tmp_path):
    """The peer runs on the national parquet zone of benchmarks/pipeline.py as well as on its own CSV zone: the
    latest release of each file, in either format, and the number macro of that format (a parquet file's doubles
    are not text, so the CSV macro's replace() would fail on them)."""
    peer = _bench(monkeypatch, "duckdb_peer")
    zone = _zone(peer, tmp_path / "parquet", {
        "GBAPERSOONTAB": ["GBAPERSOONTAB2021V1.parquet", "GBAPERSOONTAB2021V2.parquet"],
        "GBAADRESOBJECTBUS": ["GBAADRESOBJECT2021BUSV1.parquet"], "SECMBUS": ["SECMBUS2021V2.parquet"],
        "LANDAKTUEELREF": ["LANDAKTUEELREFV1.parquet"],
        "SPOLISBUS": ["2021/SPOLISBUS2021V3.parquet", "2021/SPOLISBUS2021V1.parquet", "2020/SPOLISBUS2020V1.parquet"]})
    assert peer.zone_years(zone) == [2020, 2021]
    files, num = peer.zone_files(zone, [2020, 2021])
    assert files["GBAPERSOONTAB"].name == "GBAPERSOONTAB2021V2.parquet"
    assert files[("SPOLISBUS", 2021)].name == "SPOLISBUS2021V3.parquet"
    assert num == peer.NUM_TYPED and "replace" not in num
    assert peer._src(files["SECMBUS"]).startswith("read_parquet(")
    csv = _zone(peer, tmp_path / "csv", {"GBAPERSOONTAB": ["GBAPERSOONTAB2021V1.csv"], "SECMBUS": ["SECMBUS2021V1.csv"],
                                   "GBAADRESOBJECTBUS": ["GBAADRESOBJECT2021BUSV1.csv"],
                                   "LANDAKTUEELREF": ["LANDAKTUEELREFV1.csv"], "SPOLISBUS": ["SPOLISBUS2021V1.csv"]})
    files, num = peer.zone_files(csv, [2021])
    assert num == peer.NUM_CSV and peer._src(files["SECMBUS"]).startswith("read_csv(")


def test_duckdb_peer_refuses_a_mixed_zone_and_a_zone_it_cannot_use(monkeypatch, tmp_path):
    peer = _bench(monkeypatch, "duckdb_peer")
    zone = _zone(peer, tmp_path / "z", {"GBAPERSOONTAB": ["GBAPERSOONTAB2021V1.csv"], "SECMBUS": ["SECMBUS2021V1.parquet"],
                                  "GBAADRESOBJECTBUS": ["GBAADRESOBJECT2021BUSV1.csv"],
                                  "LANDAKTUEELREF": ["LANDAKTUEELREFV1.csv"], "SPOLISBUS": ["SPOLISBUS2021V1.csv"]})
    with pytest.raises(SystemExit, match="mixes CSV and parquet"):
        peer.zone_files(zone, [2021])
    assert peer.zone_problem(None, ["synth", "monitor"]) is None           # the generated zone
    assert peer.zone_problem(zone, ["monitor", "duckdb"]) is None
    assert "overwrite" in peer.zone_problem(zone, ["synth", "monitor"])
    assert "no such folder" in peer.zone_problem(tmp_path / "nowhere", ["duckdb"])
    assert "no SPOLISBUS file" in peer.zone_problem(_zone(peer, tmp_path / "empty", {"SECMBUS": ["SECMBUS2021V1.csv"]}),
                                                    ["duckdb"])


def _peer_report(monitor_s: float, duckdb_s: float, dn: int = 0, dv: float = 7.9e-11) -> dict:
    cell = {"cells": 20, "max_abs_diff_value": dv, "max_abs_diff_n": dn, "suppressed_in_monitor": 0,
            "only_monitor": 0, "only_duckdb": 0}
    return {"steps": {"monitor": {"process_wall_s": monitor_s, "peak_rss_gb": 4.3, "peak_rss_worker_gb": 1.5},
                      "duckdb": {"process_wall_s": duckdb_s, "peak_rss_gb": 19.65}},
            "comparison": {"O04": dict(cell), "O08": dict(cell)}}


def test_national_ladder_ends_with_the_peer_on_the_largest_zone(monkeypatch, tmp_path):
    """benchmarks/national.py's last line: the monitor against the DuckDB peer on the national zone, with both
    peaks, and whether every cell agrees; the peer's JSON for a given zone does not overwrite the 250,000-person
    one that `make bench` writes first."""
    national, peer = _bench(monkeypatch, "national"), _bench(monkeypatch, "duckdb_peer")
    line = national.peer_line(17_500_000, _peer_report(438.1, 186.5))
    assert "17,500,000-person zone" in line and "438 s (peak 4.3 GB)" in line and "186 s (peak 19.6 GB)" in line
    assert "2.3x" in line and line.endswith("40 cells, every one equal")
    assert "NOT all equal" in national.peer_line(17_500_000, _peer_report(438.1, 186.5, dn=1))
    # values: within the monitor's fixed point (1/10,000: O08 may differ by ~1e-4 euro), not beyond
    assert "every one equal" in national.peer_line(17_500_000, _peer_report(438.1, 186.5, dv=5e-5))
    assert "NOT all equal" in national.peer_line(17_500_000, _peer_report(438.1, 186.5, dv=3e-4))
    assert peer.report_path(None).name == "bench_duckdb_peer.json"
    zone = tmp_path / "pipeline_17500000_2021_2021" / "landing"
    assert peer.report_path(zone).name == "bench_duckdb_peer_pipeline_17500000_2021_2021.json"


def test_peer_scan_reads_every_column_and_says_where_the_peer_stands_against_ten_times(monkeypatch):
    """The peer's scan step (issue 12's measuring stick applied to the DuckDB script): every column of a file
    reduced by its kind, quoted names too, and the verdict line against 10x; the national line carries it."""
    peer, national = _bench(monkeypatch, "duckdb_peer"), _bench(monkeypatch, "national")
    sql = peer.scan_select("read_parquet('x.parquet')", [("RINPERSOON", "BIGINT"), ("SBASISLOON", "DOUBLE"),
                                                         ("SECM", "VARCHAR"), ("AANVSECM", "DATE"),
                                                         ("OK", "BOOLEAN"), ('A"B', "DECIMAL(9,2)")])
    assert sql == ("SELECT count(*), sum(TRY_CAST(\"RINPERSOON\" AS DOUBLE)), sum(TRY_CAST(\"SBASISLOON\" AS DOUBLE)), "
                   "sum(strlen(\"SECM\")), sum(epoch(\"AANVSECM\")), sum(\"OK\"::INTEGER), "
                   "sum(TRY_CAST(\"A\"\"B\" AS DOUBLE)) FROM read_parquet('x.parquet')")
    steps = {"duckdb": {"seconds": 159.2}, "scan": {"seconds": 11.4, "files": 5}}
    line = peer.scan_line(steps)
    assert "159.2 s = 14.0x" in line and "5 files" in line and "(11.4 s;" in line and "beyond it" in line
    assert "within it" in peer.scan_line({"duckdb": {"seconds": 90.0}, "scan": {"seconds": 10.0, "files": 5}})
    report = _peer_report(438.1, 186.5)
    assert "scan" not in national.peer_line(17_500_000, report)       # a report of a peer run without the scan
    report["steps"]["duckdb"]["seconds"], report["steps"]["scan"] = 159.2, {"seconds": 11.4, "files": 5}
    assert national.peer_line(17_500_000, report).endswith(line)


def test_family_scan_decodes_every_column_kind(monkeypatch):
    """The scans (of the sources, and per family of its own inputs) decode every column: codes, strings, dates
    too, not only numbers."""
    import datetime as dt

    import polars as pl

    bench = _pipeline(monkeypatch)
    lf = pl.LazyFrame({"n": [1, 2], "s": ["ab", None], "e": pl.Series(["x", "y"], dtype=pl.Enum(["x", "y"])),
                       "d": [dt.date(1970, 1, 2), dt.date(1970, 1, 3)], "b": [True, True]})
    got = lf.select(bench.reduced(c, d) for c, d in lf.collect_schema().items()).collect(
        engine="streaming").row(0, named=True)
    assert got == {"n": 3.0, "s": 2.0, "e": 1.0, "d": 3.0, "b": 2.0}


def test_family_lines_say_which_families_are_within_ten_times_their_inputs(monkeypatch):
    bench = _bench(monkeypatch, "indicators")
    results = [{"family": "a", "computed": ["O01", "O02"], "buckets": 4, "input_rows": 1000, "scan_s": 2.0,
                "compute_s": 30.0},
               {"family": "b", "computed": ["O03"], "buckets": 1, "input_rows": 10, "scan_s": 1.0, "compute_s": 5.0},
               {"family": "c", "computed": [], "why": "needs core/x"}]
    lines = bench.family_lines(results)
    assert lines[2].startswith("| a | 2 | 4 | 1,000 | 2.0 s | 30.0 s | 15.0x")       # slowest first
    assert lines[3].startswith("| b | 1 | 1 |") and lines[3].endswith("5.0x |")
    assert lines[4] == "| c | not computed: needs core/x | | | | | |"
    assert lines[-1] == ("within 10x of their own inputs: 1 of 2 families (b); all together 35.0 s = 11.7x "
                         "their scans (3.0 s)")
    # the national ladder's column: the same sums
    assert _bench(monkeypatch, "national").families_cell(results) == "11.7x (1 of 2 within 10x)"
    assert _bench(monkeypatch, "national").families_cell([]) == "-"


def test_per_family_benchmark_runs_a_family_as_the_monitor_does(monkeypatch, core_wh):
    """One family on the test warehouse: computed with readiness's skips (the transitions need months of the
    year before the first SPOLIS year), its inputs scanned, the same rows as the engine gives."""
    from monitor_dagster.indicators import engine as ENG

    bench = _bench(monkeypatch, "indicators")
    assert "contracts_hours" in bench.engine_families() and "vacancies" not in bench.engine_families()
    assert "inputs_uwv" not in bench.engine_families()          # two-yearly: the input run, not the outcome one
    r = bench.run_family("contracts_hours", core_wh, 2019, memory_gb=2)
    assert r["computed"] and r["scan_s"] > 0 and r["compute_s"] > 0 and r["buckets"] >= 1
    want = ENG.compute_family("contracts_hours", ENG.warehouse_frames(core_wh, "contracts_hours", 2019), 2019)
    assert r["rows"] == want.table.height > 0
    assert r["input_rows"] == sum(f.select("person_id").collect().height
                                  for k, f in ENG.warehouse_frames(core_wh, "contracts_hours", 2019).items()
                                  if f is not None)
    t = bench.run_family("transitions", core_wh, 2018, memory_gb=2)
    assert not t["computed"] and "5.2" in t["why"]


def test_profile_kinds_sorts_perf_samples_into_the_kinds_of_the_scaling_doc(monkeypatch):
    """benchmarks/profile_kinds.py: each sample line of `perf report --sort dso,sym` goes to one kind, first
    match winning (zstd decoding inside polars is parquet reading; a polars sort is a sort, not "other"), and
    the percentages of a kind add up."""
    k = _bench(monkeypatch, "profile_kinds")
    report = "\n".join([
        "# Overhead  Shared Object  Symbol",
        "    14.70%  [kernel.kallsyms]  [k] clear_page_erms",
        "     4.31%  libparquet.so.2600  [.] arrow::internal::ScalarMemoTable<double>::GetOrInsert",
        "     2.18%  _polars_runtime.abi3.so  [.] ZSTD_decompressSequences_default.constprop.0",
        "     1.11%  _polars_runtime.abi3.so  [.] <polars_parquet::parquet::encoding::hybrid_rle::HybridRleDecoder>::next_chunk",
        "     7.72%  libc.so.6  [.] __memmove_avx512_unaligned_erms",
        "     1.14%  libcrypto.so.3  [.] sha256_block_data_order_shaext",
        "     1.24%  libpython3.11.so.1.0  [.] _PyEval_EvalFrameDefault",
        "     3.94%  _polars_runtime.abi3.so  [.] rayon::slice::sort::par_merge::<(u32, i128)>",
        "     2.72%  _polars_runtime.abi3.so  [.] polars_core::chunked_array::ops::gather::gather_idx_array_unchecked",
        "     1.83%  _polars_runtime.abi3.so  [.] <polars_expr::idx_table::single_key::SingleKeyIdxTable>::probe_subset",
        "     0.62%  _polars_runtime.abi3.so  [.] polars_compute::cast::primitive_to::primitive_to_primitive_dyn::<f64, i64>",
        "     0.50%  _polars_runtime.abi3.so  [.] polars_compute::cast::primitive_to::primitive_to_primitive_dyn::<f64, i64>",
    ])
    got = k.kinds(report)
    assert got["kernel (page faults, zeroing, the page cache)"] == pytest.approx(14.70)
    assert got["parquet write (pyarrow)"] == pytest.approx(4.31)
    assert got["parquet read (polars: decoding, zstd)"] == pytest.approx(2.18 + 1.11)
    assert got["libc (memmove, memcmp, memset)"] == pytest.approx(7.72)
    assert got["checksums of the verified reads (libcrypto)"] == pytest.approx(1.14)
    assert got["the Python interpreter"] == pytest.approx(1.24)
    assert got["polars: sorts"] == pytest.approx(3.94)
    assert got["polars: gathers"] == pytest.approx(2.72)
    assert got["polars: group-bys, joins, hash tables"] == pytest.approx(1.83)
    assert got["polars: other expressions"] == pytest.approx(1.12)
    assert sum(got.values()) == pytest.approx(42.01)


def test_each_step_gets_the_peak_sampled_while_it_ran(monkeypatch):
    # pipeline.py's "largest steps": the resident memory sampled during a step's window is that step's
    from types import SimpleNamespace as NS

    p = _pipeline(monkeypatch)
    stats = {"r1": [NS(step_key="a", start_time=10.0, end_time=20.0), NS(step_key="b", start_time=20.5, end_time=30.0),
                    NS(step_key="never_ran", start_time=None, end_time=None)]}
    inst = NS(get_runs=lambda: [NS(run_id="r1")], get_run_step_stats=lambda rid: stats[rid])
    samples = [(9.0, 9.9), (11.0, 1.5), (19.0, 2.25), (21.0, 3.0), (29.0, 0.5), (31.0, 7.0)]
    assert p._step_peaks(inst, samples) == [("b", 3.0), ("a", 2.25)]
    import time

    with p.RssSampler(every=0.01) as rss:
        time.sleep(0.05)
        big = bytearray(200 * 1024**2)
        big[::4096] = b"x" * len(big[::4096])       # touch every page: resident, not only reserved
        time.sleep(0.05)
    del big
    times = [t for t, _ in rss.samples]
    assert times == sorted(times) and len(times) >= 4
    assert max(gb for _, gb in rss.samples) - rss.samples[0][1] > 0.15     # the 200 MB seen while held


def test_the_truth_step_reports_failures_first_and_takes_no_time(monkeypatch, tmp_path):
    """pipeline.py's step ``truth`` (synth/verify.py on the benchmark's warehouse): failures lead the report, and
    the step counts neither in the run's time nor in its peak."""
    pipe = _pipeline(monkeypatch)
    checks = [{"name": "population 2021", "ok": True, "detail": "33 cells"},
              {"name": "gemeente 2021", "ok": False, "detail": "GM0014: 1 vs 2"}]
    lines = pipe.truth_lines(checks).splitlines()
    assert "1 of 2 checks" in lines[0]
    assert lines[1].strip().startswith("FAILS: gemeente 2021") and lines[2].strip().startswith("holds: population")
    assert "nothing to compare" in pipe.truth_lines([])
    assert "truth" in pipe.CHECKS and "truth" not in pipe.LAYERS


def test_the_truth_step_on_a_zone_without_truth_or_warehouse(monkeypatch, tmp_path):
    """A zone without its truth file is a failed check, not a crash that stops the steps after it; a truth
    whose years the warehouse has not built compares nothing and says so."""
    import json

    pipe = _pipeline(monkeypatch)
    out = pipe.layer("truth", tmp_path, 1000, 2021, 2021)
    assert [c["ok"] for c in out["checks"]] == [False] and "missing" in out["checks"][0]["detail"]
    (tmp_path / "landing.truth.json").write_text(json.dumps({"population_whole_year": {"2021": {"Nederland|0": 5}}}))
    out = pipe.layer("truth", tmp_path, 1000, 2021, 2021)
    assert [(c["name"], c["ok"]) for c in out["checks"]] == [("population 2021", True)]
    assert "not in the warehouse" in out["checks"][0]["detail"]


def test_peer_breakdown_counts_the_step_lines_of_each_run(monkeypatch):
    """`monitor run`'s progress lines name the step within a run (defs/progress.py): the peer's breakdown still
    gives each derived run all of its seconds, also a run without a partition (`core_spells: core/...`)."""
    peer = _bench(monkeypatch, "duckdb_peer")
    marks = [("start", 0.0), ("2021: 9 file(s)", 1.0), ("2021: 9 file(s): sources/SPOLISBUS", 2.0),
             ("core_spells", 3.0), ("core_spells: core/benefit_spells", 3.5),
             ("outcome_indicators_yearly 2021", 4.0), ("outcome_indicators_yearly 2021: core/job_months", 5.0),
             ("outcome_indicators_yearly 2021: core/job_months 1/2 buckets", 6.0),
             ("indicator_table_and_publication", 9.0),
             ("indicator_table_and_publication: indicators/indicator_table", 10.0), ("done", 14.0), ("done", 14.5)]
    got = peer._breakdown(0.5, marks, 0.0, [], [], 0.2)
    assert got["sources_s"] == 2.0 and got["run_pipeline_s"] == 14.5
    assert got["derived_runs_s"] == {"core_spells": 1.0, "outcome_indicators_yearly": 5.0,
                                     "indicator_table_and_publication": 5.0}


def test_bucket_steps_bench_runs_on_benchmark_warehouses_only(monkeypatch, tmp_path):
    """benchmarks/bucket_steps.py writes a new version of a core table: never into demo_data or a warehouse
    outside the benchmark output."""
    monkeypatch.setenv("MONITOR_BENCH_OUT", str(tmp_path / "bench"))
    bench = _bench(monkeypatch, "bucket_steps")
    with pytest.raises(SystemExit, match="is not under the benchmark output"):
        bench.bench_warehouse(tmp_path / "demo_data" / "warehouse")
    (tmp_path / "bench" / "zone" / "warehouse").mkdir(parents=True)
    with pytest.raises(SystemExit, match="holds no core layer"):
        bench.bench_warehouse(tmp_path / "bench" / "zone" / "warehouse")
    (tmp_path / "bench" / "zone" / "warehouse" / "core").mkdir()
    assert bench.bench_warehouse(tmp_path / "bench" / "zone" / "warehouse").name == "warehouse"


def test_duckdb_peer_says_when_its_spill_fills_the_disk(monkeypatch, tmp_path):
    """Held to 12 GB on the national zone, DuckDB spilled more than the disk had free and the step died with a bare
    "No space left on device" in a traceback (forty-sixth session).  Now the step stops with what happened and what
    to do (--duckdb-temp), removes the spill folder it made, and leaves the folder the user gave and its files alone;
    any other DuckDB error is raised as it is.  A stand-in for duckdb (the bench extra is not in the test venv)."""
    import sys
    import types

    peer = _bench(monkeypatch, "duckdb_peer")
    zone = _zone(peer, tmp_path / "zone", {"GBAPERSOONTAB": ["GBAPERSOONTAB2021V1.csv"], "SECMBUS": ["SECMBUS2021V1.csv"],
                                           "GBAADRESOBJECTBUS": ["GBAADRESOBJECT2021BUSV1.csv"],
                                           "LANDAKTUEELREF": ["LANDAKTUEELREFV1.csv"],
                                           "SPOLISBUS": ["SPOLISBUS2021V1.csv"]})

    class Error(Exception):
        pass

    class Con:
        def __init__(self, fail: str):
            self.fail, self.sql, self.closed = fail, [], False

        def execute(self, sql):
            self.sql.append(sql)
            if "SPOLISBUS2021V1" in sql:          # the year's query, after the setup
                raise Error(self.fail)
            return self

        def close(self):
            self.closed = True

    cons = []

    def connect(fail):
        cons.append(Con(fail))
        return cons[-1]

    fake = types.ModuleType("duckdb")
    fake.Error = Error
    monkeypatch.setitem(sys.modules, "duckdb", fake)
    mine = tmp_path / "scratch"
    mine.mkdir()
    (mine / "keep.txt").write_text("the user's")
    out = tmp_path / "base" / "duckdb_indicators.csv"
    out.parent.mkdir()

    fake.connect = lambda: connect('IO Error: Could not write file "x/duckdb_temp_1.tmp": No space left on device')
    with pytest.raises(SystemExit) as e:
        peer.run_duckdb(zone, out, memory_gb=12, spill=mine)
    msg = str(e.value)
    assert "ran out of disk" in msg and str(mine) in msg and "--duckdb-temp" in msg and "held to 12 GB" in msg
    assert "No space left on device" in msg and "GB free now" in msg
    spill_sql = next(s for s in cons[-1].sql if "temp_directory" in s)
    assert str(mine / "duckdb_spill-") in spill_sql            # a folder of its own under the given one ...
    assert sorted(p.name for p in mine.iterdir()) == ["keep.txt"]   # ... removed; the user's file kept
    assert cons[-1].closed

    fake.connect = lambda: connect("Binder Error: column x not found")
    with pytest.raises(Error, match="Binder Error"):
        peer.run_duckdb(zone, out)
    assert cons[-1].closed and not any(out.parent.glob("duckdb_spill-*"))   # the default: next to the output


def test_the_whole_run_verdict_is_given_for_its_own_workload_only(monkeypatch):
    """Issues 5 and 7 set the whole run (10 minutes, 8 GB) on 1 M persons x 2015-2021; a two-year national run
    printed "NOT met" against it (forty-sixth session)."""
    p = _pipeline(monkeypatch)
    assert p.whole_run_verdict(550.0, 3.0, 1_000_000, 2015, 2021).endswith("target < 10 min and < 8 GB: met")
    assert p.whole_run_verdict(610.0, 3.0, 1_000_000, 2015, 2021).endswith("NOT met")
    assert p.whole_run_verdict(550.0, 8.5, 1_000_000, 2015, 2021).endswith("NOT met")
    other = p.whole_run_verdict(739.0, 3.51, 17_500_000, 2020, 2021)
    assert other.startswith("total 739 s (12.3 min), max peak 3.51 GB")
    assert "met" not in other and "not this workload" in other and "1,000,000 persons x 2015-2021" in other
