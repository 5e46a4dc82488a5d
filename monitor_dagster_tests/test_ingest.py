"""Ingest of one landed file: readers, renames, the pandera schema gate and normalisation (docs/ingest.md).

Tiny synthetic landing zones are generated once per module; bad inputs are made by editing good files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError, IngestResult, SchemaFailure, expected_dtypes, ingest_file
from monitor_dagster.synth.generate import SynthConfig, generate

FEW = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "SECMBUS", "SPOLISBUS", "INPATAB", "HOOGSTEOPLTAB")
CSV_DIR = "geconverteerde data"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _zone(root: Path, fmt: str, **kw):
    cfg = dict(persons=400, first_year=2019, last_year=2020, seed=1)
    cfg.update(kw)
    return generate(SynthConfig(landing=root / "landing", fmt=fmt, **cfg))


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    """The same seed in three formats: every file as .sav, a few files as .csv and .parquet."""
    base = tmp_path_factory.mktemp("ingest")
    return {
        "sav": _zone(base / "sav", "sav"),
        "csv": _zone(base / "csv", "csv", only_files=FEW),
        "parquet": _zone(base / "parquet", "parquet", only_files=FEW),
    }


@pytest.fixture(scope="module")
def renamed_zones(tmp_path_factory):
    """Predecessor files (POLISBUS, IPI, SRGPERSOONPWETBUS) and the SOI 2016 -> 2021 switch."""
    base = tmp_path_factory.mktemp("ingest_renames")
    old = _zone(base / "old", "sav", persons=250, first_year=2008, last_year=2010, seed=2,
                only_files=("POLISBUS", "SPOLISBUS", "IPI"))
    soi = _zone(base / "soi", "sav", persons=250, first_year=2018, last_year=2019, seed=2,
                only_files=("HOOGSTEOPLTAB", "SRGPERSOONPWETBUS", "PWETSRGPERSOONBUS"))
    return old, soi


def _ingest(res, f, catalog) -> IngestResult:
    m = catalog.match(f.path)
    assert m is not None, f.path
    return ingest_file(res.config.landing / f.path, m, catalog)


def _file(res, file_id, year=None, version=None):
    fs = [f for f in res.files if f.file_id == file_id and (year is None or f.year == year)
          and (version is None or f.version == version)]
    assert fs, (file_id, year, version)
    return sorted(fs, key=lambda f: (f.year, f.version))[-1]


def _rel_as(relpath: str, fmt: str) -> str:
    """The path of the same file in another format's zone (CSV copies sit in 'geconverteerde data/')."""
    p = Path(relpath)
    if p.parent.name == CSV_DIR:
        p = p.parent.parent / p.name
    if fmt == "csv":
        p = p.parent / CSV_DIR / p.name
    return p.with_suffix("." + fmt).as_posix()


def _write_bad(tmp_path: Path, relpath: str, df: pl.DataFrame) -> Path:
    """Write a (broken) frame as a CBS CSV under the same relative path in a fresh landing root."""
    out = tmp_path / "landing" / relpath
    out.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(out, separator=";", decimal_comma=True, null_value="")
    return out


def _raw_csv(res, f) -> pl.DataFrame:
    return pl.read_csv(res.config.landing / f.path, separator=";", infer_schema=False)


def _set(df: pl.DataFrame, row: int, column: str, value: str) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(pl.col(column))
                           .alias(column))


# --------------------------------------------------------------------------------------------- good files
def test_every_sav_file_ingests_with_normalised_dtypes(zones, catalog):
    res = zones["sav"]
    empty = [f for f in res.files if f.rows == 0]
    for f in res.files:
        if f.rows == 0:
            continue
        out = _ingest(res, f, catalog)
        m = catalog.match(f.path)
        assert out.rows == f.rows and out.frame.height == f.rows
        assert out.release_id == m.release_id and out.source == f.path
        assert out.seconds > 0 and out.rows_per_second > 0
        expected = expected_dtypes(m, catalog)
        assert out.frame.columns[:len(expected)] == list(expected), f.path
        for col, dtype in expected.items():
            assert out.frame.schema[col] == dtype, (f.path, col, out.frame.schema[col], dtype)
        schema = out.frame.schema
        if "person_id" in schema:
            assert schema["person_id"] == pl.Int64 and "RINPERSOON" not in schema
            assert isinstance(schema["RINPERSOONS"], pl.Enum)
            # every row has its person, except the EBB respondents the file does not link (synth/ebb.py)
            assert out.frame["person_id"].null_count() == 0 or (
                m.entry == "EBBNW" and out.frame["person_id"].null_count() < 0.05 * out.frame.height), f.path
    # a tiny population can leave a survey file empty: that file fails the "at least one row" rule
    for f in empty:
        with pytest.raises(IngestError, match="no rows"):
            _ingest(res, f, catalog)


def test_dtypes_of_a_spell_file(zones, catalog):
    out = _ingest(zones["sav"], _file(zones["sav"], "SECMBUS", 2020), catalog)
    s = out.frame.schema
    assert s["person_id"] == pl.Int64
    assert s["AANVSECM"] == pl.Date and s["EINDSECM"] == pl.Date
    assert s["SECM"] == pl.Enum(["11", "12", "13", "14", "15", "21", "22", "23", "24", "25", "26", "31", "32"])
    assert s["XKOPPELWERKNSECM"] == pl.Boolean
    assert out.frame["XKOPPELWERKNSECM"].null_count() == 0 and out.frame["XKOPPELWERKNSECM"].any()
    # person_id = index of RINPERSOONS in [R, S, A, O] * 1e9 + RINPERSOON
    assert out.frame.filter(pl.col("RINPERSOONS") == "R")["person_id"].max() < 10 ** 9


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_formats_give_the_same_frame(zones, catalog, fmt):
    sav, other = zones["sav"], zones[fmt]
    compared = 0
    for f in other.files:
        if f.rows == 0:
            continue
        g = next(x for x in sav.files if x.path == _rel_as(f.path, "sav"))
        a = _ingest(other, f, catalog)
        b = _ingest(sav, g, catalog)
        assert_frame_equal(a.frame, b.frame)
        assert (a.months_covered, a.provisional, a.release_id) == (b.months_covered, b.provisional, b.release_id)
        compared += 1
    assert compared >= len(FEW) * 2


# --------------------------------------------------------------------------------------------- renames
def test_predecessor_columns_come_out_under_successor_names(renamed_zones, catalog):
    old, _ = renamed_zones
    polis = _ingest(old, _file(old, "POLISBUS", 2009), catalog)
    spolis = _ingest(old, _file(old, "SPOLISBUS", 2010), catalog)
    assert "BAANRUGID" not in polis.frame.columns and "BASISLOON" not in polis.frame.columns
    assert polis.frame.columns == spolis.frame.columns
    assert polis.frame.schema == spolis.frame.schema
    assert polis.frame["IKVID"].null_count() == 0 and polis.frame["SBASISLOON"].sum() > 0
    assert polis.release_id == "POLISBUS2009V1"
    ipi = _ingest(old, _file(old, "IPI", 2010), catalog)
    assert {"INPPERSINK", "INPPERSPRIM", "INPPERSBRUT"} <= set(ipi.frame.columns)
    assert "PERSINK" not in ipi.frame.columns
    assert ipi.frame.schema["INPPERSINK"] == pl.Float64


def test_soi2016_column_is_renamed_to_soi2021(renamed_zones, catalog):
    _, soi = renamed_zones
    col = "OPLNIVSOI2021AGG4HBmetNIRWO"
    for year in (2018, 2019):
        out = _ingest(soi, _file(soi, "HOOGSTEOPLTAB", year), catalog)
        assert col in out.frame.columns, year
        assert not any("SOI2016" in c for c in out.frame.columns)
        assert isinstance(out.frame.schema[col], pl.Enum)
        assert out.frame[col].drop_nulls().len() > 0
    srg = _ingest(soi, _file(soi, "SRGPERSOONPWETBUS", 2018), catalog)
    assert {"PWETAANVANGVOORZ", "PWETEINDEVOORZ", "PWETSOORTVOORZ"} <= set(srg.frame.columns)


# --------------------------------------------------------------------------------------- provisional
def test_provisional_part_year_releases(zones, catalog):
    res = zones["sav"]
    got = {}
    for v in (1, 2, 3):
        out = _ingest(res, _file(res, "SPOLISBUS", 2020, v), catalog)
        got[v] = (out.months_covered, out.provisional)
    assert got == {1: (6, True), 2: (9, True), 3: (12, False)}
    earlier = _ingest(res, _file(res, "SPOLISBUS", 2019), catalog)
    assert (earlier.months_covered, earlier.provisional) == (12, False)
    secm = _ingest(res, _file(res, "SECMBUS", 2020), catalog)
    assert (secm.months_covered, secm.provisional) == (None, False)


# ------------------------------------------------------------------------------------ normalisation
def test_open_end_sentinels_become_null_and_codes_upper_case(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "SECMBUS", 2020)
    raw = _raw_csv(res, f)
    n_open = raw.filter(pl.col("EINDSECM").is_in(["88888888", "99999999", "20500101", "99991231"])).height
    assert n_open > 0
    out = _ingest(res, f, catalog)
    assert out.frame["EINDSECM"].null_count() == n_open
    assert out.frame["AANVSECM"].null_count() == 0

    # every sentinel of the catalog means "open"; lower-case contract codes are normalised
    sp = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, sp)
    for i, s in enumerate(catalog.sentinels.open_end):
        raw = _set(raw, i, "SDATUMEINDEIKV", s)
    raw = _set(raw, 10, "SCONTRACTSOORT", "b")
    out = ingest_file(_write_bad(tmp_path, sp.path, raw), catalog.match(sp.path), catalog)
    n = len(catalog.sentinels.open_end)
    assert out.frame["SDATUMEINDEIKV"].head(n).null_count() == n
    assert out.frame["SCONTRACTSOORT"][10] == "B"
    assert set(out.frame["SCONTRACTSOORT"].drop_nulls().unique().to_list()) <= {"O", "B", "N"}
    assert out.frame["SDATUMAANVANGIKO"][0] == dt.date.fromisoformat(
        f"{raw['SDATUMAANVANGIKO'][0][:4]}-{raw['SDATUMAANVANGIKO'][0][4:6]}-{raw['SDATUMAANVANGIKO'][0][6:]}")


def test_missing_codes_become_null_and_extra_columns_are_dropped_with_a_warning(zones, catalog, tmp_path):
    """Columns the catalog does not know are dropped (docs/ingest.md, "Unknown columns") and named in one warning."""
    res = zones["csv"]
    f = _file(res, "GBAPERSOONTAB", 2019)
    raw = _raw_csv(res, f)
    raw = _set(raw, 0, "GBAGESLACHT", "-").with_columns(pl.lit("01").alias("EXTRAKOLOM"),
                                                        pl.lit("3,5").alias("EXTRABEDRAG"))
    out = ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    assert out.frame["GBAGESLACHT"][0] is None
    assert out.frame.columns == list(expected_dtypes(catalog.match(f.path), catalog))
    assert out.extra_columns == ["EXTRAKOLOM", "EXTRABEDRAG"]
    lines = [w for w in out.warning_lines() if "not in the catalog" in w]
    assert len(lines) == 1 and "columns EXTRAKOLOM, EXTRABEDRAG: not in the catalog; dropped (2 unknown columns" in lines[0]
    assert "files.GBAPERSOONTAB.columns" in lines[0]

    inc = _file(res, "INPATAB", 2020)
    raw = _set(_raw_csv(res, inc), 0, "INPPERSINK", "9999999999")
    out = ingest_file(_write_bad(tmp_path / "inc", inc.path, raw), catalog.match(inc.path), catalog)
    assert out.frame["INPPERSINK"][0] is None


# ---------------------------------------------------------------------------------------- bad input
def _failures(exc: pytest.ExceptionInfo) -> list[SchemaFailure]:
    return exc.value.failures


def test_truncated_sav_is_an_ingest_error(zones, catalog, tmp_path):
    res = zones["sav"]
    f = _file(res, "SECMBUS", 2020)
    data = (res.config.landing / f.path).read_bytes()
    for n, cut in enumerate((len(data) // 2, 300, len(data) - 7)):
        out = tmp_path / str(n) / f.path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data[:cut])
        with pytest.raises(IngestError) as exc:
            ingest_file(out, catalog.match(f.path), catalog)
        msg = str(exc.value)
        assert "SECMBUS2020V1" in msg and f.path in msg and "cannot read" in msg
        assert _failures(exc)[0].column is None


def test_unreadable_files_are_ingest_errors(zones, catalog, tmp_path):
    res = zones["parquet"]
    f = _file(res, "SECMBUS", 2020)
    m = catalog.match(f.path)
    with pytest.raises(IngestError, match="file not found"):
        ingest_file(tmp_path / "nowhere" / f.path, m, catalog)
    bad = tmp_path / "corrupt" / f.path
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(IngestError, match="cannot read"):
        ingest_file(bad, m, catalog)
    bad.write_bytes(b"")
    with pytest.raises(IngestError, match="empty"):
        ingest_file(bad, m, catalog)


def test_missing_column(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "SECMBUS", 2020)
    raw = _raw_csv(res, f).drop("EINDSECM")
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    (fail,) = _failures(exc)
    assert (fail.column, fail.rule, fail.file) == ("EINDSECM", "required column missing", f.path)
    assert "column EINDSECM: required column missing" in str(exc.value)
    assert f.path in str(exc.value)
    # a missing key column is one failure, not also a flood of "duplicate key"
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path / "key", f.path, _raw_csv(res, f).drop("AANVSECM")), catalog.match(f.path),
                    catalog)
    assert [(x.column, x.rule) for x in _failures(exc)] == [("AANVSECM", "required column missing")]


def test_unknown_code(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "SECMBUS", 2019, 2)
    raw = _set(_raw_csv(res, f), 4, "SECM", "99")
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    (fail,) = _failures(exc)
    assert (fail.column, fail.count, fail.examples) == ("SECM", 1, ["99"])
    assert "value not in code list" in fail.rule
    line = str(exc.value).splitlines()[1]
    assert line.strip().startswith(f"SECMBUS2019V2 ({f.path}): column SECM: value not in code list")
    assert line.endswith("(1 row, e.g. '99')")


def test_wrong_date(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2019)
    raw = _set(_set(_raw_csv(res, f), 2, "SDATUMAANVANGIKO", "20191340"), 3, "SDATUMEINDEIKO", "2019123")
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    got = {x.column: x for x in _failures(exc)}
    assert set(got) == {"SDATUMAANVANGIKO", "SDATUMEINDEIKO"}
    assert got["SDATUMAANVANGIKO"].examples == ["20191340"] and "valid date" in got["SDATUMAANVANGIKO"].rule
    assert got["SDATUMEINDEIKO"].examples == ["2019123"]
    assert "column SDATUMAANVANGIKO: not a valid date YYYYMMDD (1 row, e.g. '20191340')" in str(exc.value)


def test_duplicate_keys_in_gbapersoontab(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "GBAPERSOONTAB", 2020, 2)
    raw = _raw_csv(res, f)
    raw = pl.concat([raw, raw.slice(5, 1)])
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    (fail,) = _failures(exc)
    assert fail.column == "RINPERSOONS, RINPERSOON" and "duplicate key" in fail.rule and fail.count == 2
    assert fail.examples == [{"RINPERSOONS": raw["RINPERSOONS"][5], "RINPERSOON": raw["RINPERSOON"][5]}]
    assert "columns RINPERSOONS, RINPERSOON: duplicate key" in str(exc.value)


def test_zero_rows(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "INPATAB", 2019)
    raw = _raw_csv(res, f).head(0)
    path = _write_bad(tmp_path, f.path, raw)
    assert path.read_text().count("\n") == 1          # header only
    with pytest.raises(IngestError) as exc:
        ingest_file(path, catalog.match(f.path), catalog)
    (fail,) = _failures(exc)
    assert fail.column is None and "no rows" in fail.rule
    assert f"INPATAB2019V1 ({f.path}): file: no rows" in str(exc.value)


def test_all_failures_of_a_file_are_reported_together(zones, catalog, tmp_path):
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, f)
    raw = _set(raw, 1, "SSOORTBAAN", "7")
    raw = _set(raw, 2, "SBASISLOON", "veel")
    raw = _set(raw, 3, "SSOORTBAAN", "8")
    raw = _set(raw, 4, "IKVID", "12,5")
    raw = _set(raw, 5, "RINPERSOON", "12345678X")
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    got = {x.column: x for x in _failures(exc)}
    assert set(got) == {"SSOORTBAAN", "SBASISLOON", "IKVID", "RINPERSOON"}
    assert got["SSOORTBAAN"].count == 2 and got["SSOORTBAAN"].examples == ["7", "8"]
    assert got["SBASISLOON"].examples == ["veel"] and got["SBASISLOON"].rule == "not a number"
    assert got["IKVID"].examples == ["12,5"] and got["IKVID"].rule == "not a whole number"
    lines = str(exc.value).splitlines()
    assert lines[0] == f"SPOLISBUS2020V3 ({f.path}): 4 schema failures"
    assert len(lines) == 5 and all(f"SPOLISBUS2020V3 ({f.path}): column " in x for x in lines[1:])


def test_bad_values_in_a_sav_file(zones, catalog, tmp_path):
    """Schema failures are found in .sav input too (numbers and strings as SPSS stores them)."""
    import pyreadstat

    res = zones["sav"]
    f = _file(res, "SECMBUS", 2020)
    df, _ = pyreadstat.read_sav(str(res.config.landing / f.path), output_format="polars")
    df = _set(_set(df, 0, "SECM", "99"), 1, "EINDSECM", "20201301")
    out = tmp_path / f.path
    out.parent.mkdir(parents=True)
    pyreadstat.write_sav(df, str(out))
    with pytest.raises(IngestError) as exc:
        ingest_file(out, catalog.match(f.path), catalog)
    assert {(x.column, tuple(x.examples)) for x in _failures(exc)} == {("SECM", ("99",)), ("EINDSECM", ("20201301",))}


def test_stata_dta_copy_reads_like_the_sav(zones, catalog, tmp_path):
    """CBS's converted copies may be Stata .dta (name irregularities such as upper-case .DTA tolerated)."""
    import pyreadstat

    res = zones["sav"]
    f = _file(res, "SECMBUS", 2020)
    df, _ = pyreadstat.read_sav(str(res.config.landing / f.path), output_format="polars")
    rel = Path(f.path).with_suffix(".DTA").as_posix()
    out = tmp_path / rel
    out.parent.mkdir(parents=True)
    pyreadstat.write_dta(df, str(out))
    m = catalog.match(rel)
    assert m is not None and m.ext == "dta"
    assert_frame_equal(ingest_file(out, m, catalog).frame, _ingest(res, f, catalog).frame)


def test_a_file_of_an_earlier_year_under_this_years_name_is_refused(zones, catalog, tmp_path):
    """SPOLISBUS 2019 copied to SPOLISBUS2020V4.sav: its latest SDATUMEINDEIKO is in 2019, so it read as a part-year
    release covering 0 months, became CURRENT for 2020 and emptied the year's contract figures (an audit of
    December 2026).  Now refused, naming the date column and the latest date."""
    import shutil

    src = _file(zones["sav"], "SPOLISBUS", 2019)
    rel = "Spolis/SPOLISBUS/2020/SPOLISBUS2020V4.sav"
    (tmp_path / rel).parent.mkdir(parents=True)
    shutil.copy(zones["sav"].config.landing / src.path, tmp_path / rel)
    with pytest.raises(IngestError, match=r"column SDATUMEINDEIKO: no row dated in 2020, the year of the file's name: "
                                          r"the latest date is 2019-12-31"):
        ingest_file(tmp_path / rel, catalog.match(rel), catalog)
    assert _ingest(zones["sav"], src, catalog).months_covered == 12          # under its own name it passes
    # a later year under an earlier name (SPOLISBUS 2020 as 2019V2: it emptied job_months 2019, exit 0)
    later = _file(zones["sav"], "SPOLISBUS", 2020)
    rel = "Spolis/SPOLISBUS/2019/SPOLISBUS2019V9.sav"
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(zones["sav"].config.landing / later.path, tmp_path / rel)
    with pytest.raises(IngestError, match=r"column SDATUMEINDEIKO: no row dated in 2019, the year of the file's name: "
                                          r"the earliest date is 2020-"):
        ingest_file(tmp_path / rel, catalog.match(rel), catalog)


def test_an_impossible_birth_month_is_refused_at_the_gate(zones, catalog, tmp_path):
    """Birth month 13 passed the gate (a whole number) and stopped the core with "Invalid date components (1989,
    13, 1)", a polars trace naming no file, in every later run (an audit of December 2026).  The catalog's ranges
    (min/max of int columns) refuse it at ingest, naming the file, column and range."""
    from monitor_dagster_tests.conftest import read_any

    src = _file(zones["sav"], "GBAPERSOONTAB")
    df = read_any(zones["sav"].config.landing / src.path)
    bad = df.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("13"))
                          .otherwise(pl.col("GBAGEBOORTEMAAND").cast(pl.String)).alias("GBAGEBOORTEMAAND"))
    rel = str(Path(src.path).with_suffix(".parquet"))
    (tmp_path / rel).parent.mkdir(parents=True)
    bad.write_parquet(tmp_path / rel)
    with pytest.raises(IngestError, match=r"column GBAGEBOORTEMAAND: not a whole number in 1\.\.12 \(1 row, e\.g\. '13'\)"):
        ingest_file(tmp_path / rel, catalog.match(rel), catalog)
    df.write_parquet(tmp_path / rel)
    assert ingest_file(tmp_path / rel, catalog.match(rel), catalog).rows == df.height


def test_a_spolis_period_that_ends_before_it_starts_or_leaves_its_month_is_refused(zones, catalog, tmp_path):
    """A SPOLIS row is one payroll period inside one calendar month (CBS file documentation), and core.jobs counts
    its days from its start and end.  A row ending before it starts became a job-month of negative days, and one
    running into the next month was counted whole in its first month, both without a word (the thirty-eighth
    session's open doubts).  The catalog's row rules refuse the file, naming the two columns, count and rows."""
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, f)
    start = raw.get_column("SDATUMAANVANGIKO")
    raw = _set(raw, 0, "SDATUMEINDEIKO", str(int(start[0][:4]) - 1) + "1231")          # ends a year before its start
    s1 = dt.date(int(start[1][:4]), int(start[1][4:6]), int(start[1][6:]))
    nxt = s1 + dt.timedelta(days=35)                                                  # a day of a later month
    raw = _set(raw, 1, "SDATUMEINDEIKO", nxt.strftime("%Y%m%d"))
    with pytest.raises(IngestError) as exc:
        ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog, chunk_rows=50)
    got = {x.rule.split(" (")[0]: x for x in _failures(exc)}
    assert set(got) == {"period ends before it starts", "period runs into a later calendar month"}, got
    before, month = got["period ends before it starts"], got["period runs into a later calendar month"]
    assert before.column == month.column == "SDATUMAANVANGIKO, SDATUMEINDEIKO"
    assert before.count == 1 and month.count == 1      # row 0 is not counted twice
    s0 = dt.date(int(start[0][:4]), int(start[0][4:6]), int(start[0][6:]))
    assert before.examples == [{"SDATUMAANVANGIKO": s0.isoformat(), "SDATUMEINDEIKO": f"{s0.year - 1}-12-31"}]
    assert month.examples[0]["SDATUMEINDEIKO"] == nxt.isoformat()
    text = str(exc.value)
    assert f"SPOLISBUS2020V3 ({f.path}): columns SDATUMAANVANGIKO, SDATUMEINDEIKO: period ends before it starts" in text
    assert "a row is the overlap of a payroll period with one calendar month" in text


def test_negative_spolis_hours_and_wages_are_ingested_with_a_counted_warning(zones, catalog, tmp_path):
    """Payroll corrections reach SPOLIS as negative amounts, which the core sums with the job's other rows of the
    month: not a reason to block a year, but the data engineer should know how many there are (the thirty-eighth
    session's open doubts: they passed without a word).  Counted over every chunk of the file; values kept."""
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, f)
    n = raw.height
    rows = (0, n // 2, n - 1)                      # three chunks apart at chunk_rows=n // 3
    for r in rows:
        raw = _set(raw, r, "SBASISUREN", "-4,5")
    raw = _set(raw, 1, "SBASISLOON", "-100,0")
    out = ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog, chunk_rows=max(n // 3, 1))
    lines = [w for w in out.warning_lines() if "negative value" in w]
    assert lines == [
        f"SPOLISBUS2020V3 ({f.path}): column SBASISUREN: negative value; kept as delivered (a payroll correction? "
        "summed with the job's other rows of the month) (3 rows, e.g. -4.5)",
        f"SPOLISBUS2020V3 ({f.path}): column SBASISLOON: negative value; kept as delivered (a payroll correction? "
        "summed with the job's other rows of the month) (1 row, e.g. -100.0)"], out.warning_lines()
    assert out.frame.get_column("SBASISUREN").lt(0).sum() == 3          # kept as delivered
    clean = _ingest(res, f, catalog)
    assert not [w for w in clean.warning_lines() if "negative" in w or "period" in w]


def test_same_month_rule_on_hand_built_periods():
    """The edges of ``same_month`` (ingest/row_rules.py): the month's last day is inside it, the next month's first
    day is not, nor the same month a year later; a period ending before it starts is ``ordered``'s alone."""
    from monitor_dagster.catalog import RowRule
    from monitor_dagster.ingest.normalise import typed_name
    from monitor_dagster.ingest.row_rules import check_rows

    d = dt.date
    rules = (RowRule(rule="ordered", columns=("A", "B")), RowRule(rule="same_month", columns=("A", "B")))
    pairs = [(d(2020, 1, 5), d(2020, 1, 31)), (d(2020, 2, 1), d(2020, 2, 29)),        # inside: leap day too
             (d(2020, 1, 5), d(2021, 1, 6)), (d(2020, 1, 31), d(2020, 2, 1)),          # a later year / month
             (d(2020, 3, 1), d(2020, 2, 1)), (d(2020, 3, 1), None)]                     # before its start; open
    chunk = pl.DataFrame({typed_name("A"): [a for a, _ in pairs], typed_name("B"): [b for _, b in pairs]},
                         schema={typed_name("A"): pl.Date, typed_name("B"): pl.Date})
    blocked, warned = check_rows(rules, chunk, "f")
    got = {f.rule.split(" (")[0]: f for f in blocked}
    assert not warned and got["period ends before it starts"].count == 1
    month = got["period runs into a later calendar month"]
    assert month.count == 2 and [e["B"] for e in month.examples] == ["2021-01-06", "2020-02-01"]


def test_a_spolis_row_dated_outside_the_files_year_is_counted(zones, catalog, tmp_path):
    """A SPOLIS row dated in another year than the file's name is never read (core.jobs takes each file's own year,
    and November-December of t-1 from the file of t-1): it went unnoticed.  Now a counted warning; the rows stay
    as delivered, and a file with no row in its year at all is still refused (test above)."""
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, f)
    raw = _set(_set(raw, 2, "SDATUMAANVANGIKO", "20210301"), 2, "SDATUMEINDEIKO", "20210331")
    raw = _set(_set(raw, 3, "SDATUMAANVANGIKO", "20190301"), 3, "SDATUMEINDEIKO", "20190331")
    out = ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    (line,) = [w for w in out.warning_lines() if "outside" in w]
    assert line == (f"SPOLISBUS2020V3 ({f.path}): column SDATUMAANVANGIKO: dated outside 2020, the year of the file's "
                    "name; kept as delivered (the monitor reads each file's own year: this row is never read) "
                    "(2 rows, e.g. '2021-03-01', '2019-03-01')"), line
    assert out.rows == raw.height


def test_a_rule_on_columns_the_monitor_does_not_read_only_warns(zones, catalog, tmp_path):
    """The job's own start and end (SDATUMAANVANGIKV/-EINDEIKV) are unused columns: a job that ends before it starts
    is odd, but refusing a whole SPOLIS year for one such row in 124 million would stop the monitor over a column it
    never reads (docs/ingest.md, "Column roles").  The catalog's block rule therefore warns for them, and the row
    rules on the periods the core reads still refuse the file (tests above)."""
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    raw = _raw_csv(res, f)
    row = raw.with_row_index().filter(pl.col("SDATUMEINDEIKV") != "88888888").row(0, named=True)
    raw = _set(raw, row["index"], "SDATUMEINDEIKV", str(int(row["SDATUMAANVANGIKV"][:4]) - 1) + "0101")
    out = ingest_file(_write_bad(tmp_path, f.path, raw), catalog.match(f.path), catalog)
    (line,) = [w for w in out.warning_lines() if "ends before it starts" in w]
    assert "columns SDATUMAANVANGIKV, SDATUMEINDEIKV" in line and "1 row" in line
    assert "kept as delivered, the monitor does not read these columns" in line


def test_a_block_row_rule_set_to_warning_in_a_catalog_copy_lets_the_release_in(zones, catalog, tmp_path):
    """docs/ingest.md: a release that breaks a block rule in a few rows is taken by setting the rule's severity to
    warning in a copy of the catalog; the rows are then ingested as delivered and counted."""
    import yaml

    from monitor_dagster.catalog import DEFAULT_CATALOG, load_catalog

    raw_yaml = yaml.safe_load(DEFAULT_CATALOG.read_text())
    for r in raw_yaml["files"]["SPOLISBUS"]["row_rules"]:
        if r["rule"] == "same_month":
            r["severity"] = "warning"
    copy = tmp_path / "catalog.yaml"
    copy.write_text(yaml.safe_dump(raw_yaml, allow_unicode=True))
    relaxed = load_catalog(copy)
    res = zones["csv"]
    f = _file(res, "SPOLISBUS", 2020, 3)
    bad = _raw_csv(res, f)
    start = bad.get_column("SDATUMAANVANGIKO")[1]
    later = (dt.date(int(start[:4]), int(start[4:6]), int(start[6:])) + dt.timedelta(days=35)).strftime("%Y%m%d")
    bad = _set(bad, 1, "SDATUMEINDEIKO", later)
    path = _write_bad(tmp_path / "zone", f.path, bad)
    with pytest.raises(IngestError, match="period runs into a later calendar month"):
        ingest_file(path, catalog.match(f.path), catalog)
    out = ingest_file(path, relaxed.match(f.path), relaxed)
    (line,) = [w for w in out.warning_lines() if "later calendar month" in w]
    assert "kept as delivered" in line and "(1 row," in line and out.rows == bad.height
