"""Shared fixtures: small synthetic landing zones, generated once per test session.

Sizes are chosen so the whole suite runs in seconds; the 10,000-person and 1,000,000-person targets are
measured by ``make bench``, not here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import monitor_dagster  # noqa: F401  (before polars: its allocator options, monitor_dagster/allocator.py)
import polars as pl
import pytest

from monitor_dagster.synth.generate import SynthConfig, generate

_SCRATCH_HOME: str | None = None
_USER_HOME: str | None = None


def pytest_configure(config):
    """Every pytest process (each xdist worker too) gets its own empty DAGSTER_HOME, removed at the end: runs of
    CLI tests (``monitor run``/``publish`` use the DAGSTER_HOME instance) never land in the user's instance,
    whatever the shell or ``make`` exported (issue 15: a fixture's red run showed up in ``make ui``)."""
    global _SCRATCH_HOME, _USER_HOME
    _USER_HOME = os.environ.get("DAGSTER_HOME")
    _SCRATCH_HOME = tempfile.mkdtemp(prefix="monitor-test-dagster-home-")
    os.environ["DAGSTER_HOME"] = _SCRATCH_HOME
    # the sensitivity table (one population per method alternative) only where a test asks for it: the
    # `published` fixture of test_publication.py, test_sensitivity.py and the asset tests set their own
    os.environ["MONITOR_SENSITIVITY"] = "0"


#: the test files that use the session fixture ``published`` (a whole pipeline and site, the largest fixture):
#: one xdist work unit, so it is built on one worker only (checked below)
PUBLISHED_FILES = frozenset({"test_publication.py", "test_publication_browser.py", "test_publication_reading.py",
                             "test_disclosure_links.py"})


def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs two xdist workers.  Work units are files (module fixtures, such as a pipeline built
    twice, are built once), except that the files of :data:`PUBLISHED_FILES` form one unit.  (``--dist
    loadgroup`` with ``xdist_group`` marks would say this without a scheduler, but it does not group under
    pytest 9.2 / xdist 3.8: measured, every test of a marked file went to either worker.)"""
    from xdist.scheduler import LoadFileScheduling

    class FilesAndPublished(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "published" if path.rsplit("/", 1)[-1] in PUBLISHED_FILES else path

    return FilesAndPublished(config, log)


def pytest_collection_modifyitems(config, items):
    """A new user of ``published`` must be listed in :data:`PUBLISHED_FILES`, or two workers would build it."""
    stray = sorted({item.nodeid.split("::", 1)[0] for item in items
                    if "published" in getattr(item, "fixturenames", ())
                    and item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1] not in PUBLISHED_FILES})
    if stray:
        raise pytest.UsageError(f"tests in {', '.join(stray)} use the `published` fixture: add the file to "
                                "PUBLISHED_FILES in monitor_dagster_tests/conftest.py")


def pytest_unconfigure(config):
    if _SCRATCH_HOME:
        shutil.rmtree(_SCRATCH_HOME, ignore_errors=True)
        if _USER_HOME is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = _USER_HOME


def read_any(path: Path) -> pl.DataFrame:
    """Read a landing-zone file back the way a user would, by extension."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path)
    if suffix == ".csv":
        return pl.read_csv(path, separator=";", decimal_comma=True, infer_schema=False)
    if suffix == ".sav":
        import pyreadstat

        df, _ = pyreadstat.read_sav(str(path), output_format="polars")
        return df
    raise ValueError(path)


@pytest.fixture(scope="session")
def zone(tmp_path_factory):
    """3,000 persons, 2013-2021, parquet: the workhorse fixture (about 10 s)."""
    root = tmp_path_factory.mktemp("zone")
    cfg = SynthConfig(landing=root / "landing", persons=3_000, first_year=2013, last_year=2021, seed=7, fmt="parquet")
    res = generate(cfg)
    return res


@pytest.fixture(scope="session")
def zone_early(tmp_path_factory):
    """1,500 persons, 2008-2011: POLISBUS and IPI predecessors, the income cap up to 2010."""
    root = tmp_path_factory.mktemp("zone_early")
    cfg = SynthConfig(landing=root / "landing", persons=1_500, first_year=2008, last_year=2011, seed=3, fmt="parquet")
    return generate(cfg)


def files_of(res, file_id: str, year: int | None = None, version: int | None = None):
    out = [f for f in res.files if f.file_id == file_id and (year is None or f.year == year)
           and (version is None or f.version == version)]
    return sorted(out, key=lambda f: (f.year, f.version))


def load(res, file_id: str, year: int | None = None, version: int | None = None) -> pl.DataFrame:
    """The highest version of a file for a year (or the only one)."""
    fs = files_of(res, file_id, year, version)
    assert fs, f"no {file_id} {year} V{version} written"
    return read_any(res.config.landing / fs[-1].path)


def build_core_warehouse(root: Path, persons: int, first_year: int, last_year: int, seed: int) -> Path:
    """A synthetic parquet zone under ``root/landing`` through sources and core into ``root/wh`` (a temporary
    Dagster instance, never the user's DAGSTER_HOME)."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline

    res = generate(SynthConfig(landing=root / "landing", persons=persons, first_year=first_year,
                               last_year=last_year, seed=seed, fmt="parquet"))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, root / "wh", instance=inst, layers=("sources", "core"))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    return root / "wh"


@pytest.fixture(scope="session")
def core_wh(tmp_path_factory) -> Path:
    """2,000 persons, 2018-2019, parquet, through sources and core (about 30 s): the warehouse of the register
    indicator and bucket tests."""
    return build_core_warehouse(tmp_path_factory.mktemp("core_wh"), 2000, 2018, 2019, seed=5)


#: the years of the `published` fixture
PUBLICATION_FIRST, PUBLICATION_LAST = 2015, 2018


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """(warehouse, site, gated table): pipeline sources -> core -> indicators, then `publication/site`.  Here,
    not in a test module, so that the publication tests (test_publication*.py) build it once per session."""
    import dagster as dg

    from monitor_dagster.defs.publication.assets import materialize_site
    from monitor_dagster.publication import data as D
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("publication")
    res = generate(SynthConfig(landing=root / "landing", persons=2500, first_year=PUBLICATION_FIRST,
                               last_year=PUBLICATION_LAST, seed=11, fmt="parquet"))
    for f in res.files:   # the full-year releases of the last SPOLIS have not landed yet: t/m maand 6 only
        if f.file_id == "SPOLISBUS" and f.year == PUBLICATION_LAST and f.version > 1:
            (res.config.landing / f.path).unlink()
    wh = root / "warehouse"
    old = os.environ.get("MONITOR_SENSITIVITY")
    with dg.instance_for_test() as inst:
        os.environ["MONITOR_SENSITIVITY"] = "1"        # the technical report shows the sensitivity table
        try:
            summary = run_pipeline(res.config.landing, wh, instance=inst, layers=("sources", "core", "indicators"))
        finally:
            os.environ["MONITOR_SENSITIVITY"] = old if old is not None else "0"
        assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
        result = materialize_site(wh, root / "site", instance=inst)
        assert result.success
    return wh, root / "site", D.load_gated(wh)

