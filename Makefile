# monitor_dagster build entry points. Plain python3.11 + venv + pip; no other tools needed.
#
#   make venv    create .venv and install the project (+dev extra) pinned by requirements.lock
#   make test    run the test suite on 2 xdist workers (TEST_WORKERS=0: serially; extra pytest args:
#                make test PYTEST_ARGS="-x -k publication")
#   make demo    run `monitor demo` on a synthetic landing zone under ./demo_data/
#   make bench   generator, ingest, core-layer, end-to-end, DuckDB-peer, indicator-layer, national and corrections benchmarks
#                (benchmarks/{run,ingest,core,pipeline,duckdb_peer,dynamics,corrections,vacancies}.py; installs the bench extra: duckdb)
#   make ui      start the Dagster UI on http://127.0.0.1:$(UI_PORT)
#   make lock    re-resolve all dependencies in a scratch venv and rewrite requirements.lock
#   make clean   remove .venv, generated data, caches

SHELL := /bin/bash
.DEFAULT_GOAL := test

# Interpreter used to create the venv: python3.11 if on PATH, else python3 (must be 3.11).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
LOCK   := requirements.lock
PIP_SPEC ?= pip>=24,<27

PYTEST_ARGS ?=
BENCH_ARGS  ?=
INGEST_BENCH_ARGS ?=
CORE_BENCH_ARGS ?=
PIPELINE_BENCH_ARGS ?=
# core_bucket_steps on the pipeline benchmark's warehouse (benchmarks/bucket_steps.py)
BUCKET_STEPS_BENCH_ARGS ?=
PEER_BENCH_ARGS ?=
INDICATOR_BENCH_ARGS ?=
NATIONAL_BENCH_ARGS ?=
DYNAMICS_BENCH_ARGS ?=
CORRECTIONS_BENCH_ARGS ?=
# issue 20: matching a year of one million vacancies (target < 60 s, < 2 GB)
VACANCY_BENCH_ARGS ?= --n 1000000
UI_PORT     ?= 3000

# Demo locations (relative to the repo root); exported so the CLI can read them too.
DEMO_DIR  ?= demo_data
LANDING   ?= $(DEMO_DIR)/landing
WAREHOUSE ?= $(DEMO_DIR)/warehouse
DEMO_ARGS ?= --landing $(LANDING) --warehouse $(WAREHOUSE)
BENCH_OUT ?= bench_output

# Environment for everything we run: local Dagster instance, no telemetry/analytics.
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# Tests and benchmarks never write into that instance (`make ui` shows it): their recipes run with a fresh
# DAGSTER_HOME from mktemp, removed when the recipe ends with the tmpfs scratch of SCRATCH_TMP if any (the test
# conftest makes its own one as well).
SCRATCH_HOME = home=$$(mktemp -d "$${TMPDIR:-/tmp}/monitor-dagster-home.XXXXXX") && trap 'rm -rf "$$home" $${tmp:+"$$tmp"}' EXIT \
               && export DAGSTER_HOME="$$home"
# The tests' scratch files (pytest's tmp_path, the scratch DAGSTER_HOME, warehouses) go to a tmpfs where there is
# one with room (/dev/shm, >= 8 GB free): Dagster's sqlite event log commits every event to disk, and on tmpfs
# test_secm_fallback took 106 s instead of 136 s.  TEST_TMP=disk keeps them under $$TMPDIR (or /tmp).
TEST_TMP ?= auto
SCRATCH_TMP = tmp=; if [ "$(TEST_TMP)" = auto ] && [ -d /dev/shm ] && [ -w /dev/shm ] \
                 && [ "$$(df -Pk /dev/shm | awk 'NR==2 {print $$4}')" -ge 8388608 ]; then \
                 tmp=$$(mktemp -d /dev/shm/monitor-test.XXXXXX) && export TMPDIR="$$tmp"; fi
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export MONITOR_LANDING := $(CURDIR)/$(LANDING)
export MONITOR_WAREHOUSE := $(CURDIR)/$(WAREHOUSE)
export MONITOR_BENCH_OUT := $(CURDIR)/$(BENCH_OUT)

.PHONY: venv test demo bench ui lock clean clean-data check-python

check-python:
	@test -n "$(PYTHON)" || { echo "error: no python3.11/python3 on PATH" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
	  { echo "error: $(PYTHON) is not Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

venv: $(STAMP)

# Re-runs only when pyproject.toml or the lock file changed (or the venv is missing).
$(STAMP): pyproject.toml $(LOCK)
	@$(MAKE) --no-print-directory check-python
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade "$(PIP_SPEC)"
	$(VPY) -m pip install -q --progress-bar off -c $(LOCK) -e '.[dev]'
	$(VPY) -m pip check
	@touch $@

$(DAGSTER_HOME):
	@mkdir -p $@

# two pytest-xdist workers (the CI machine has two cores; much of a test's time is single-threaded Python in
# Dagster and Great Expectations); the scheduler in conftest.py keeps each file, and the users of the
# `published` fixture, on one worker.  TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: venv
	@$(SCRATCH_TMP); $(SCRATCH_HOME); rc=0; $(VPY) -m pytest -q -rs -n $(TEST_WORKERS) --dist loadfile monitor_dagster_tests $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

demo: venv | $(DAGSTER_HOME)
	@mkdir -p $(LANDING) $(WAREHOUSE)
	$(VENV)/bin/monitor demo $(DEMO_ARGS)

# bench-only dependencies (the `bench` extra: duckdb for benchmarks/duckdb_peer.py), pinned by the lock
$(BENCH_STAMP): $(STAMP)
	$(VPY) -m pip install -q --progress-bar off -c $(LOCK) -e '.[dev,bench]'
	$(VPY) -m pip check
	@touch $@

bench: venv $(BENCH_STAMP)
	@mkdir -p $(BENCH_OUT)
	$(SCRATCH_HOME) \
	&& $(VPY) benchmarks/run.py $(BENCH_ARGS) \
	&& $(VPY) benchmarks/ingest.py $(INGEST_BENCH_ARGS) \
	&& $(VPY) benchmarks/core.py $(CORE_BENCH_ARGS) \
	&& $(VPY) benchmarks/pipeline.py $(PIPELINE_BENCH_ARGS) \
	&& $(VPY) benchmarks/bucket_steps.py $(BUCKET_STEPS_BENCH_ARGS) \
	&& $(VPY) benchmarks/duckdb_peer.py $(PEER_BENCH_ARGS) \
	&& $(VPY) benchmarks/indicators.py $(INDICATOR_BENCH_ARGS) \
	&& $(VPY) benchmarks/national.py $(NATIONAL_BENCH_ARGS) \
	&& $(VPY) benchmarks/dynamics.py $(DYNAMICS_BENCH_ARGS) \
	&& $(VPY) benchmarks/corrections.py $(CORRECTIONS_BENCH_ARGS) \
	&& $(VPY) benchmarks/vacancies.py $(VACANCY_BENCH_ARGS)

ui: venv | $(DAGSTER_HOME)
	$(VENV)/bin/dagster dev -m monitor_dagster.definitions -h 127.0.0.1 -p $(UI_PORT)

# Fresh resolution of pyproject.toml's ranges (+dev, +bench) in a scratch venv; every installed
# distribution except the project itself is pinned with ==. Review the diff, then run
# `make venv` (the stamp depends on the lock, so the venv is updated automatically).
LOCK_VENV := $(CURDIR)/.lock-venv
lock: check-python
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade "$(PIP_SPEC)"
	$(LOCK_VENV)/bin/python -m pip install -q '.[dev,bench]'
	$(LOCK_VENV)/bin/python -m pip check
	{ echo "# Fully pinned dependency set for monitor_dagster (linux x86_64, CPython 3.11)."; \
	  echo "# Generated by 'make lock' from pyproject.toml (+[dev,bench]); used as pip constraints by 'make venv'."; \
	  echo "# Do not edit by hand: change pyproject.toml and re-run 'make lock'. See docs/dependencies.md."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude monitor-dagster --exclude pip \
	    --exclude setuptools --exclude wheel | LC_ALL=C sort -f; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV) build *.egg-info
	@echo "wrote $(LOCK) ($$(grep -c '==' $(LOCK)) pins)"

clean-data:
	rm -rf $(DEMO_DIR) .dagster_home warehouse $(BENCH_OUT)

clean: clean-data
	rm -rf $(VENV) .lock-venv .pytest_cache build dist *.egg-info
	find . -path ./.git -prune -o -name __pycache__ -type d -exec rm -rf {} +
