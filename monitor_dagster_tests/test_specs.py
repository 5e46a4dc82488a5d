"""One spec per indicator drives everything (issue 11): every built indicator has a function, a docstring
citing the report, a unit, measures, and a hand-built test naming it; everything else is derived."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from monitor_dagster.indicators import spec as SPEC

TESTS = Path(__file__).parent
BUILT = sorted(SPEC.built())
#: test modules with hand-built cases (small frames written in the test itself, from the report's wording)
#: the hand-built indicator tests: one file per family module (test_indicators_<module>.py)
HAND_BUILT = sorted([*(p.name for p in TESTS.glob("test_indicators_*.py") if p.name != "test_indicators_memo.py"),
                     "test_surveys_indicators.py",    # the organisation surveys (issue 19)
                     "test_vacancies_synth.py"])      # the vacancy indicators V01-V05 (issue 20)


def _hand_built_tests() -> str:
    return "\n".join((TESTS / f).read_text(encoding="utf-8") for f in HAND_BUILT)


@pytest.mark.parametrize("iid", BUILT)
def test_every_built_indicator_is_complete(iid):
    s = SPEC.spec(iid)
    fn = s.load_function()
    doc = inspect.getdoc(fn) or ""
    assert re.search(r"\breport\b", doc), f"{iid}: docstring of {s.function} does not cite the report"
    assert s.unit in SPEC.UNITS and (s.measures or s.categories)
    assert s.family in SPEC.registry().families and s.first_year
    assert s.cadence == ("yearly" if s.kind == "outcome" else "two-yearly")   # report 7.1.1 / 7.1.2
    # a hand-built test names the indicator (its id, or the function that computes it)
    text = _hand_built_tests()
    name = s.function.split(":")[1]
    assert re.search(rf"\b{re.escape(iid)}\b", text) or name in text, f"{iid}: no hand-built test names it"


def test_planned_indicators_have_no_function_yet():
    """Since issue 14 every indicator of bijlage A is built; a planned one (a later addition) has no function."""
    for iid in sorted(set(SPEC.specs()) - set(BUILT)):
        s = SPEC.spec(iid)
        assert s.planned and s.function is None and s.family is None, iid
    assert {f"O{i:02d}" for i in range(1, 41)} <= set(BUILT)


def test_everything_else_is_derived_from_the_specs():
    from monitor_dagster.defs.indicators.assets import FAMILY_ASSETS
    from monitor_dagster.gates import disclosure
    from monitor_dagster.publication import data as D

    assert SPEC.ebb_indicators() == {"O01", "O02", "O03"} == disclosure.EBB_INDICATORS
    # (a subset: indicators built later add their own categories)
    assert {"O10", "O40", "O19", "O20", "O21", "O22"} <= SPEC.category_indicators() == set(
        disclosure.CATEGORY_INDICATORS)
    assert set(D.registry()["indicators"]) == set(SPEC.specs())
    # one asset per family; its inputs are the union of its specs' inputs (lineage: what feeds O04)
    assert set(FAMILY_ASSETS) == set(SPEC.families())
    ch = FAMILY_ASSETS[SPEC.family_of("O04")]
    deps = {k.to_user_string() for k in ch.dependency_keys}
    assert {"core/population", "core/job_months"} <= deps
    assert {k.to_user_string() for k in FAMILY_ASSETS["ebb"].dependency_keys} == {"sources/EBBNW"}


def test_a_spec_that_is_incomplete_is_refused():
    from pydantic import ValidationError

    base = SPEC.spec("O04").model_dump()
    with pytest.raises(ValidationError, match="unit"):
        SPEC.IndicatorSpec.model_validate({**base, "unit": "furlongs"})
    with pytest.raises(ValidationError, match="needs family"):
        SPEC.IndicatorSpec.model_validate({**base, "function": None})
    with pytest.raises(ValidationError, match="core/<asset>"):
        SPEC.IndicatorSpec.model_validate({**base, "inputs": {"population": "population"}})
