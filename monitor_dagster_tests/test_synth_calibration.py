"""Calibration of the synthetic population against public CBS StatLine figures (docs/synthetic_data.md).

Tolerances (why): with 40,000 synthetic persons the EBB sample holds ~5,000 respondents aged 15-75 per year,
so a weighted share has a sampling error of ~0.7 pp for the total, ~2 pp for the non-Western aggregate and
~4 pp for one origin country; on top the model is stylised (one logit per person, no regional or household
structure).  We therefore allow 3 pp for totals, 5 pp for the non-Western aggregate, 9 pp for a single
country, 2.5 pp for total unemployment, and demand the direction and rough size of every published gap.
"""

from __future__ import annotations

import pytest

from monitor_dagster.synth import calibration as cal
from monitor_dagster.synth import params as P
from monitor_dagster.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib")
    cfg = SynthConfig(landing=root / "landing", persons=40_000, first_year=2014, last_year=2018, seed=2,
                      fmt="parquet", only_files=("EBBNW", "SPOLISBUS", "GBAPERSOONTAB"))
    res = generate(cfg)
    return res, cal.report(cfg.landing, res)


def test_population_shares_2018(big):
    res, _ = big
    sh = res.truth["shares_2018"]
    tot = P.POPULATION_2018_TOTAL

    def share(pred):
        return 100 * sum(v for k, v in sh.items() if pred(*k.split("|")))

    nw = set(P.NON_WESTERN)
    assert share(lambda g, gen: gen == "0") == pytest.approx(100 * P.POPULATION_2018_NONE / tot, abs=1.5)
    assert share(lambda g, gen: g in nw) == pytest.approx(100 * 2_242_843 / tot, abs=1.5)
    assert share(lambda g, gen: gen == "1") == pytest.approx(100 * 2_079_329 / tot, abs=1.5)
    for g, published in (("Marokko", 396_539), ("Turkije", 404_459), ("Suriname", 351_681)):
        assert share(lambda g_, gen, g=g: g_ == g) == pytest.approx(100 * published / tot, rel=0.35), g


@pytest.mark.parametrize("year", [2014, 2018])
def test_netto_participation_near_statline(big, year):
    _, rep = big
    got, want = rep["ebb"][year], cal.STATLINE_PARTICIPATION[year]
    assert got["totaal"]["participation"] == pytest.approx(want["totaal"], abs=3)
    assert got["Nederland"]["participation"] == pytest.approx(want["Nederland"], abs=3)
    assert got["niet-westers"]["participation"] == pytest.approx(want["niet-westers"], abs=5)
    for g in ("Marokko", "Turkije"):
        assert got[g]["participation"] == pytest.approx(want[g], abs=9), g
    gap = got["Nederland"]["participation"] - got["niet-westers"]["participation"]
    assert 3 < gap < 15, gap


def test_unemployment_follows_the_cycle_and_the_gap(big):
    _, rep = big
    for year in (2014, 2016, 2018):
        assert rep["ebb"][year]["totaal"]["unemployment"] == pytest.approx(P.UNEMPLOYMENT_TOTAL[year], abs=2.5)
    assert rep["ebb"][2014]["totaal"]["unemployment"] > rep["ebb"][2018]["totaal"]["unemployment"] + 2
    u15 = rep["ebb"][2015]
    assert u15["niet-westers"]["unemployment"] > 2 * u15["Nederland"]["unemployment"]


def test_flex_gap_2017(big):
    _, rep = big
    flex = rep["flex_2017"]
    # register flex shares run above the survey's 21% / 34% (CBS Jaarrapport Integratie 2018); the gap must be there
    assert 15 < flex["Nederland"] < 35
    assert flex["niet-westers"] > flex["Nederland"] + 5
