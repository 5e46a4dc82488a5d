"""The gate's one-query fast path (ingest/schemas.Gate.passes): a chunk it lets through is one pandera would
pass, and every chunk pandera fails goes to pandera, which names the failures (docs/ingest.md, "Gate per chunk")."""

from __future__ import annotations

import polars as pl
import pytest

import monitor_dagster.ingest as ingest_mod
from monitor_dagster.catalog import load_catalog
from monitor_dagster.ingest import IngestError, ingest_file
from monitor_dagster.ingest.normalise import canonical_renames, stage
from monitor_dagster.ingest.roles import role_table
from monitor_dagster.ingest.schemas import build_gate, validate
from monitor_dagster.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    root = tmp_path_factory.mktemp("fast_gate")
    return generate(SynthConfig(landing=root / "landing", fmt="csv", persons=300, first_year=2020, last_year=2020,
                                seed=3, only_files=("SPOLISBUS", "SECMBUS", "GBAPERSOONTAB")))


def _raw(zone, file_id: str) -> tuple[pl.DataFrame, str]:
    f = sorted((f for f in zone.files if f.file_id == file_id), key=lambda f: f.version)[-1]
    return pl.read_csv(zone.config.landing / f.path, separator=";", infer_schema=False), f.path


def _set(df: pl.DataFrame, row: int, column: str, value: str | None) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype=pl.String))
                           .otherwise(pl.col(column)).alias(column))


def _both(catalog, relpath: str, raw: pl.DataFrame) -> tuple[bool, list]:
    """(the fast path's verdict, pandera's failures and warnings) on the staged frame of ``raw``."""
    m = catalog.match(relpath)
    entry = catalog.entry(m.entry)
    roles = {c: r.role for c, r in role_table(catalog)[entry.name].items()}
    gate = build_gate(entry, m.period, catalog, roles, frame_checks=False)
    renames, _ = canonical_renames(raw.columns, entry, m.period)
    staged = stage(raw.rename(renames), entry.columns_for(m.period), gate.open_end, tuple(entry.unique or ()))
    pandera = validate(gate.blocking, staged, relpath) + validate(gate.warning, staged, relpath)
    return gate.passes(staged), pandera


#: (file, change) -> whether pandera fails it: a used, key and unused column each, every rule kind
CASES = [
    ("SPOLISBUS", lambda d: d, False),
    ("SPOLISBUS", lambda d: _set(d, 3, "SCONTRACTSOORT", "X"), True),          # code, used
    ("SPOLISBUS", lambda d: _set(d, 5, "SWEKARBDUURKLASSE", "9"), True),       # code, unused: a warning
    ("SPOLISBUS", lambda d: _set(d, 1, "SDATUMAANVANGIKO", "20201340"), True),  # date, key
    ("SPOLISBUS", lambda d: _set(d, 2, "SDATUMEINDEIKV", "2020133"), True),      # date with open end
    ("SPOLISBUS", lambda d: _set(d, 0, "SBASISUREN", "veel"), True),            # float
    ("SPOLISBUS", lambda d: _set(d, 4, "RINPERSOON", "abc"), True),             # person key
    ("SPOLISBUS", lambda d: _set(d, 4, "RINPERSOON", None), True),              # empty key
    ("SPOLISBUS", lambda d: _set(d, 0, "SBASISUREN", None), False),             # an empty number is allowed
    ("SPOLISBUS", lambda d: d.drop("SBASISUREN"), True),                        # required column missing
    ("SPOLISBUS", lambda d: d.drop("SWEKARBDUURKLASSE"), False),                # unused column missing
    ("SPOLISBUS", lambda d: d.with_columns(pl.lit("x").alias("ONBEKEND")), False),   # extra column
    ("SPOLISBUS", lambda d: d.head(0), False),
    ("SECMBUS", lambda d: d, False),
    ("SECMBUS", lambda d: _set(d, 4, "SECM", "99"), True),
    ("GBAPERSOONTAB", lambda d: d, False),
    ("GBAPERSOONTAB", lambda d: _set(d, 7, "GBAGESLACHT", "7"), True),
]


@pytest.mark.parametrize("file_id,change,fails", CASES)
def test_fast_path_agrees_with_pandera(zone, catalog, file_id, change, fails):
    raw, relpath = _raw(zone, file_id)
    passes, pandera = _both(catalog, relpath, change(raw))
    assert bool(pandera) is fails, pandera          # the case is what it claims to be
    assert passes is not fails                      # the fast path lets through exactly the clean chunks


def test_a_clean_file_never_reaches_pandera_and_a_bad_one_does(zone, catalog, tmp_path, monkeypatch):
    raw, relpath = _raw(zone, "SPOLISBUS")
    calls = []
    real = ingest_mod.validate

    def counting(*args, **kw):
        calls.append(args[0].name)
        return real(*args, **kw)

    monkeypatch.setattr(ingest_mod, "validate", counting)
    m = catalog.match(relpath)
    res = ingest_file(zone.config.landing / relpath, m, catalog, chunk_rows=500)
    assert res.rows == raw.height and res.chunks > 1
    assert calls == []
    bad = tmp_path / "landing" / relpath
    bad.parent.mkdir(parents=True)
    _set(raw, raw.height - 2, "SCONTRACTSOORT", "X").write_csv(bad, separator=";", null_value="")
    with pytest.raises(IngestError) as exc:
        ingest_file(bad, m, catalog, chunk_rows=500)
    # only the last chunk holds the bad value: pandera ran on it alone (both schemas) and named the failure
    assert len(calls) == 2
    assert f"({relpath}): column SCONTRACTSOORT: value not in code list" in str(exc.value)
    assert "(1 row, e.g. 'X')" in str(exc.value)


def test_gate_carries_the_period_columns(catalog):
    e = catalog.entry("SPOLISBUS")
    assert "SAANTCTRCTURENPWK" not in build_gate(e, 2015, catalog).columns      # from 2016 only
    assert "SAANTCTRCTURENPWK" in build_gate(e, 2020, catalog).columns
