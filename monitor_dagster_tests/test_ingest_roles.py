"""Source gates that block only on what is used: column roles key / used / unused (docs/ingest.md).

One tiny synthetic parquet landing zone (GBAPERSOONTAB, GBAADRESOBJECTBUS, SECMBUS, SPOLISBUS; 120 persons)
per module; faulty files are made by dropping or altering columns with polars and writing them to a fresh
landing root under tmp_path.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.catalog import load_catalog
from monitor_dagster.core.inputs import BREAKDOWN_SOURCES
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import COLUMNS_CHECK, SCHEMA_CHECK, build_source_asset
from monitor_dagster.indicators.spec import needed_columns
from monitor_dagster.ingest import IngestError, IngestResult, build_gate, expected_dtypes, ingest_file
from monitor_dagster.ingest.roles import (
    CORE_KEY_COLUMNS,
    CORE_USED_COLUMNS,
    column_roles,
    declaration_problems,
    role_table,
)
from monitor_dagster.synth.generate import SynthConfig, generate
from monitor_dagster.warehouse import Warehouse

FILES = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "SECMBUS", "SPOLISBUS")

#: the smallest files the core layer can work with (the brief of the column roles)
MINIMAL = {
    "GBAPERSOONTAB": ["RINPERSOONS", "RINPERSOON", "GBAGEBOORTEJAAR", "GBAGEBOORTEMAAND", "GBAGESLACHT",
                      "GBAGENERATIE", "GBAHERKOMSTGROEPERING"],
    "GBAADRESOBJECTBUS": ["RINPERSOONS", "RINPERSOON", "GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING"],
    "SECMBUS": ["RINPERSOONS", "RINPERSOON", "AANVSECM", "EINDSECM", "SECM"],
    "SPOLISBUS": ["RINPERSOONS", "RINPERSOON", "IKVID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SBASISLOON",
                  "SBASISUREN", "SCONTRACTSOORT", "SSOORTBAAN"],
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    root = tmp_path_factory.mktemp("roles")
    return generate(SynthConfig(landing=root / "landing", persons=120, first_year=2019, last_year=2020, seed=3,
                                fmt="parquet", only_files=FILES))


def _file(res, file_id: str):
    """The newest release of a file in the zone."""
    return sorted((f for f in res.files if f.file_id == file_id), key=lambda f: (f.year, f.version))[-1]


def _raw(res, f) -> pl.DataFrame:
    return pl.read_parquet(res.config.landing / f.path)


def _set(df: pl.DataFrame, rows: list[int], column: str, value: str) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.int_range(pl.len()).is_in(rows)).then(pl.lit(value))
                           .otherwise(pl.col(column).cast(pl.String)).alias(column))


def _write(root: Path, relpath: str, df: pl.DataFrame) -> Path:
    out = root / "landing" / relpath
    out.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(out)
    return out


def _ingest(catalog, root: Path, f, df: pl.DataFrame) -> IngestResult:
    return ingest_file(_write(root, f.path, df), catalog.match(f.path), catalog)


def _blocked(catalog, root: Path, f, df: pl.DataFrame) -> IngestError:
    with pytest.raises(IngestError) as exc:
        _ingest(catalog, root, f, df)
    return exc.value


# ---------------------------------------------------------------------------------------------- unused
def test_missing_unused_column_is_a_warning_and_an_empty_column(zone, catalog, tmp_path, caplog):
    f = _file(zone, "GBAPERSOONTAB")
    raw = _raw(zone, f)
    with caplog.at_level(logging.WARNING, logger="monitor_dagster.ingest"):
        out = _ingest(catalog, tmp_path, f, raw.drop("GBAIMPUTATIECODE"))
    assert out.rows == raw.height
    assert out.missing_columns == ["GBAIMPUTATIECODE"]
    (w,) = out.warnings
    assert (w.file, w.column) == (f.path, "GBAIMPUTATIECODE")
    assert w.rule.startswith("column missing; ingested as an empty column") and "role unused" in w.rule
    line = out.warning_lines()[0]
    assert line.startswith(f"{out.release_id} ({f.path}): column GBAIMPUTATIECODE: column missing")
    assert line in caplog.text
    # the column is there, typed, empty: downstream code sees the catalog schema
    assert out.frame.schema["GBAIMPUTATIECODE"] == pl.Enum(["0", "1"])
    assert out.frame["GBAIMPUTATIECODE"].null_count() == raw.height
    assert out.frame.schema == pl.Schema(expected_dtypes(catalog.match(f.path), catalog))
    assert out.metadata()["missing_columns"] == ["GBAIMPUTATIECODE"] and out.metadata()["warnings"] == [line]


def test_unknown_code_in_unused_column_is_a_warning_and_set_to_empty(zone, catalog, tmp_path):
    f = _file(zone, "GBAPERSOONTAB")
    raw = _set(_raw(zone, f), [0, 3], "GBAIMPUTATIECODE", "7")
    out = _ingest(catalog, tmp_path, f, raw)
    assert out.missing_columns == []
    (w,) = out.warnings
    assert (w.file, w.column, w.count, w.examples) == (f.path, "GBAIMPUTATIECODE", 2, ["7"])
    assert "value not in code list [0, 1]" in w.rule and "set to empty" in w.rule and "role unused" in w.rule
    assert out.warning_lines()[0].endswith("(2 rows, e.g. '7')")
    col = out.frame["GBAIMPUTATIECODE"]
    assert col[0] is None and col[3] is None
    assert col.null_count() == 2, "only the undocumented values are emptied"


def test_bad_values_in_unused_columns_of_other_types(zone, catalog, tmp_path):
    """A bad flag (SECMBUS XKOPPEL*) and a bad code (GBAPERSOONTAB GBAAANTALOUDERSBUITENLAND): warnings, empty."""
    f = _file(zone, "SECMBUS")
    out = _ingest(catalog, tmp_path / "secm", f, _set(_raw(zone, f), [1], "XKOPPELWERKNSECM", "X"))
    (w,) = out.warnings
    assert (w.column, w.count, w.examples) == ("XKOPPELWERKNSECM", 1, ["X"]) and "flag" in w.rule
    assert out.frame["XKOPPELWERKNSECM"][1] is None
    assert out.frame["XKOPPELWERKNSECM"].null_count() == 1

    f = _file(zone, "GBAPERSOONTAB")
    out = _ingest(catalog, tmp_path / "gba", f, _set(_raw(zone, f), [0], "GBAAANTALOUDERSBUITENLAND", "7"))
    assert [(w.column, w.examples) for w in out.warnings] == [("GBAAANTALOUDERSBUITENLAND", ["7"])]
    assert out.frame["GBAAANTALOUDERSBUITENLAND"][0] is None

    # SOORTOBJECTNUMMER was unused until the regions (issue 18) joined the address object to VSLGWBTAB: a bad
    # code now blocks, like any used column
    f = _file(zone, "GBAADRESOBJECTBUS")
    err = _blocked(catalog, tmp_path / "adres", f, _set(_raw(zone, f), [0], "SOORTOBJECTNUMMER", "WOONBOOT"))
    assert [(x.column, x.examples) for x in err.failures] == [("SOORTOBJECTNUMMER", ["WOONBOOT"])]


def test_csv_copy_bad_number_in_unused_column(zone, catalog, tmp_path):
    """A CSV copy (decimal comma) with a bad value in an unused float column: the all-strings fallback read,
    a warning, the value empty; the used and key numbers are parsed as usual."""
    f = _file(zone, "SPOLISBUS")
    raw = _set(_raw(zone, f), [2], "SOVERWERKUREN", "veel").drop("SLNINGLD")
    p = Path(f.path)
    rel = (p.parent / "geconverteerde data" / p.name).with_suffix(".csv").as_posix()
    out_path = tmp_path / "landing" / rel
    out_path.parent.mkdir(parents=True)
    raw.write_csv(out_path, separator=";", decimal_comma=True, null_value="")
    out = ingest_file(out_path, catalog.match(rel), catalog)
    assert out.missing_columns == ["SLNINGLD"]
    got = {w.column: w for w in out.warnings}
    assert set(got) == {"SLNINGLD", "SOVERWERKUREN"}
    assert got["SOVERWERKUREN"].examples == ["veel"] and "not a number" in got["SOVERWERKUREN"].rule
    assert out.frame["SOVERWERKUREN"][2] is None and out.frame["SOVERWERKUREN"].null_count() == 1
    assert out.frame["SBASISUREN"].to_list() == _ingest(catalog, tmp_path / "pq", f, _raw(zone, f))\
        .frame["SBASISUREN"].to_list()


# ------------------------------------------------------------------------------------------------- key
def test_missing_key_column_blocks(zone, catalog, tmp_path):
    f = _file(zone, "GBAPERSOONTAB")
    err = _blocked(catalog, tmp_path, f, _raw(zone, f).drop("GBAGENERATIE"))
    assert [(x.file, x.column, x.rule) for x in err.failures] == [(f.path, "GBAGENERATIE", "required column missing")]
    assert f"({f.path}): column GBAGENERATIE: required column missing" in str(err)

    f = _file(zone, "SECMBUS")
    err = _blocked(catalog, tmp_path / "secm", f, _raw(zone, f).drop("EINDSECM"))
    assert [(x.column, x.rule) for x in err.failures] == [("EINDSECM", "required column missing")]


def test_unknown_code_in_key_column_blocks(zone, catalog, tmp_path):
    f = _file(zone, "GBAPERSOONTAB")
    err = _blocked(catalog, tmp_path, f, _set(_raw(zone, f), [2], "GBAGENERATIE", "7"))
    (fail,) = err.failures
    assert (fail.file, fail.column, fail.count, fail.examples) == (f.path, "GBAGENERATIE", 1, ["7"])
    assert "value not in code list" in fail.rule
    assert f"({f.path}): column GBAGENERATIE: value not in code list" in str(err)

    f = _file(zone, "SPOLISBUS")
    err = _blocked(catalog, tmp_path / "sp", f, _set(_raw(zone, f), [0], "SSOORTBAAN", "7"))
    assert [(x.column, x.examples) for x in err.failures] == [("SSOORTBAAN", ["7"])]


def test_a_blocked_file_reports_its_warnings_too(zone, catalog, tmp_path):
    f = _file(zone, "GBAPERSOONTAB")
    raw = _set(_raw(zone, f), [0], "GBAGENERATIE", "7").drop("GBAIMPUTATIECODE")
    err = _blocked(catalog, tmp_path, f, raw)
    assert [x.column for x in err.failures] == ["GBAGENERATIE"]
    assert [x.column for x in err.warnings] == ["GBAIMPUTATIECODE"]
    assert "1 warning (not blocking)" in str(err)


# ------------------------------------------------------------------------------------------------ used
def test_missing_used_column_is_ingested_empty_and_listed(zone, catalog, tmp_path):
    f = _file(zone, "SPOLISBUS")
    raw = _raw(zone, f)
    out = _ingest(catalog, tmp_path, f, raw.drop("SAANTVERLU"))
    assert out.missing_columns == ["SAANTVERLU"]
    (w,) = out.warnings
    assert (w.file, w.column) == (f.path, "SAANTVERLU")
    assert "column missing; ingested as an empty column" in w.rule and "role used" in w.rule and "O07" in w.rule
    assert out.frame.schema["SAANTVERLU"] == pl.Float64
    assert out.frame["SAANTVERLU"].null_count() == raw.height
    assert out.frame["SBASISUREN"].null_count() < raw.height


def test_invalid_value_in_used_column_still_blocks(zone, catalog, tmp_path):
    f = _file(zone, "SPOLISBUS")
    err = _blocked(catalog, tmp_path, f, _set(_raw(zone, f), [4], "SAANTVERLU", "veel"))
    (fail,) = err.failures
    assert (fail.file, fail.column, fail.rule, fail.examples) == (f.path, "SAANTVERLU", "not a number", ["veel"])

    f = _file(zone, "GBAPERSOONTAB")
    err = _blocked(catalog, tmp_path / "gba", f, _set(_raw(zone, f), [0], "GBAGESLACHT", "3"))
    assert [(x.column, x.examples) for x in err.failures] == [("GBAGESLACHT", ["3"])]


# ------------------------------------------------------------------------------------ minimal files
@pytest.mark.parametrize("file_id", FILES)
def test_minimal_files_ingest_with_warnings_only(zone, catalog, tmp_path, file_id):
    f = _file(zone, file_id)
    raw = _raw(zone, f)
    m = catalog.match(f.path)
    out = _ingest(catalog, tmp_path, f, raw.select(MINIMAL[file_id]))
    expected_missing = [c for c in catalog.entry(file_id).columns_for(m.period) if c not in MINIMAL[file_id]]
    assert out.rows == raw.height
    assert out.missing_columns == expected_missing
    assert [w.column for w in out.warnings] == expected_missing
    assert all("column missing; ingested as an empty column" in w.rule for w in out.warnings)
    assert out.frame.schema == pl.Schema(expected_dtypes(m, catalog))
    for c in expected_missing:
        assert out.frame[c].null_count() == raw.height, c
    assert out.frame["person_id"].null_count() == 0


# ---------------------------------------------------------------------------------------------- roles
def test_roles_derivation(catalog):
    roles = column_roles(catalog)
    assert declaration_problems(catalog) == []
    assert set(roles) == set(catalog.files)
    for name, e in catalog.files.items():
        assert set(roles[name]) == set(e.columns)
        if "RINPERSOON" in e.columns:
            assert roles[name]["RINPERSOON"] == roles[name]["RINPERSOONS"] == "key"
        for c in e.unique or ():
            assert roles[name][c] == "key", (name, c)
    # a column named in a spec's `columns` is used (or key, when the core layer cannot do without it)
    for (file, col), ids in needed_columns().items():
        assert roles[file][col] in ("key", "used"), (file, col, ids)
        if col not in CORE_KEY_COLUMNS.get(file, {}):
            assert roles[file][col] == "used", (file, col)
    assert roles["SPOLISBUS"]["SAANTVERLU"] == "used" and "O07" in role_table(catalog)["SPOLISBUS"]["SAANTVERLU"].why
    assert roles["GBAPERSOONTAB"]["GBAGEBOORTELANDMOEDER"] == "unused"
    assert roles["GBAPERSOONTAB"]["GBAIMPUTATIECODE"] == "unused"
    assert roles["GBAADRESOBJECTBUS"]["SOORTOBJECTNUMMER"] == "used"       # the object's municipality (issue 18)
    assert roles["GBAPERSOONTAB"]["GBAGESLACHT"] == "used"
    # a breakdown column of the indicator table (core.inputs.BREAKDOWN_SOURCES) is used or key
    for src in BREAKDOWN_SOURCES.values():
        file, _, col = src.partition(".")
        if col:
            assert roles[file][col] in ("key", "used"), src
    for c in ("GBAGEBOORTEJAAR", "GBAGEBOORTEMAAND", "GBAHERKOMSTGROEPERING", "GBAGENERATIE"):
        assert roles["GBAPERSOONTAB"][c] == "key", c
    for c in MINIMAL["SPOLISBUS"]:
        assert roles["SPOLISBUS"][c] == "key", c
    # a predecessor shares the roles of its successor (one series under the successor's names)
    assert roles["POLISBUS"] == roles["SPOLISBUS"]
    assert roles["IPI"]["INPPERSINK"] == "used"
    # every declaration has a why
    assert all(why for table in (CORE_KEY_COLUMNS, CORE_USED_COLUMNS) for cols in table.values()
               for why in cols.values())


def test_gate_requires_only_key_columns(catalog):
    e = catalog.entry("SPOLISBUS")
    gate = build_gate(e, 2020, catalog)
    assert gate.blocking.columns["SBASISUREN"].required
    assert not gate.blocking.columns["SAANTVERLU"].required
    assert "SAANTVERLU" not in gate.warning.columns
    assert "SWEKARBDUURKLASSE" in gate.warning.columns and "SWEKARBDUURKLASSE" not in gate.blocking.columns
    assert not gate.warning.columns["SWEKARBDUURKLASSE"].required
    assert gate.roles["SWEKARBDUURKLASSE"] == "unused"


# --------------------------------------------------------------------------------------------- Dagster
def _materialize(landing: Path, wh: Path, catalog, entry: str):
    asset = build_source_asset(catalog.entry(entry))
    with dg.instance_for_test() as inst:
        return dg.materialize([asset], instance=inst, raise_on_error=False,
                              resources={"monitor": MonitorResource(landing=str(landing), warehouse=str(wh))})


def _checks(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {ev.check_name: ev for ev in result.get_asset_check_evaluations()}


def test_source_asset_with_a_missing_unused_column(zone, catalog, tmp_path):
    f = _file(zone, "GBAPERSOONTAB")
    _write(tmp_path, f.path, _raw(zone, f).drop("GBAIMPUTATIECODE"))
    wh = tmp_path / "wh"
    result = _materialize(tmp_path / "landing", wh, catalog, "GBAPERSOONTAB")
    assert result.success
    checks = _checks(result)
    assert checks[SCHEMA_CHECK].passed
    assert not checks[COLUMNS_CHECK].passed
    assert checks[COLUMNS_CHECK].severity == dg.AssetCheckSeverity.WARN
    assert checks[COLUMNS_CHECK].metadata["missing_columns"].value == ["GBAIMPUTATIECODE"]
    (mat,) = result.asset_materializations_for_node("sources__GBAPERSOONTAB")
    assert mat.metadata["missing_columns"].value == ["GBAIMPUTATIECODE"]
    warnings = mat.metadata["warnings"].value
    assert isinstance(warnings, list) and len(warnings) == 1 and isinstance(warnings[0], str)
    assert "column GBAIMPUTATIECODE: column missing" in warnings[0] and f.path in warnings[0]
    # the warehouse manifest records them; the frame has the column, empty
    man = Warehouse(wh).manifest("GBAPERSOONTAB", "latest")
    assert man["missing_columns"] == ["GBAIMPUTATIECODE"] and man["warnings"] == warnings
    df = Warehouse(wh).read("GBAPERSOONTAB", "latest").collect()
    assert df["GBAIMPUTATIECODE"].null_count() == df.height
    # the same release again (unchanged, not re-ingested): the findings come from the manifest
    again = _materialize(tmp_path / "landing", wh, catalog, "GBAPERSOONTAB")
    assert again.success and not _checks(again)[COLUMNS_CHECK].passed
    (mat,) = again.asset_materializations_for_node("sources__GBAPERSOONTAB")
    assert mat.metadata["unchanged"].value and mat.metadata["warnings"].value == warnings


def test_source_asset_with_a_complete_file_passes_both_checks(zone, catalog, tmp_path):
    f = _file(zone, "SECMBUS")
    _write(tmp_path, f.path, _raw(zone, f))
    result = _materialize(tmp_path / "landing", tmp_path / "wh", catalog, "SECMBUS")
    assert result.success
    checks = _checks(result)
    assert checks[SCHEMA_CHECK].passed and checks[COLUMNS_CHECK].passed
    (mat,) = result.asset_materializations_for_node("sources__SECMBUS")
    assert mat.metadata["missing_columns"].value == [] and mat.metadata["warnings"].value == []


def test_source_asset_with_a_missing_key_column_fails(zone, catalog, tmp_path):
    f = _file(zone, "SECMBUS")
    _write(tmp_path, f.path, _raw(zone, f).drop("SECM"))
    result = _materialize(tmp_path / "landing", tmp_path / "wh", catalog, "SECMBUS")
    assert not result.success
    checks = _checks(result)
    assert not checks[SCHEMA_CHECK].passed and checks[SCHEMA_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert COLUMNS_CHECK not in checks
    assert Warehouse(tmp_path / "wh").manifest("SECMBUS", "latest") is None
