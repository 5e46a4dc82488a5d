"""Survey input indicators S-g1..S-g5 / S-w* / S-o* (monitor_dagster/surveys/indicators.py, docs/surveys_indicators.md;
technisch rapport Monitor gelijke kansen, §3.2.2 a-f, §3.3, §3.5): hand-built forms and responses in the export
format (one row per responding organisation, choice names as strings), values computed by hand, a planted truth
recovered within the margin of error while the unweighted estimate misses it, open answers kept out."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from monitor_dagster.surveys.form import Form, Question
from monitor_dagster.surveys.indicators import (NOT_RATED, open_answers, survey_indicators, to_table_rows)
from monitor_dagster.surveys.weights import nonresponse_weights
from monitor_dagster.indicators import table as T

PRIO = ("zeer_hoog", "tamelijk_hoog", "tamelijk_laag", "geen")
RATING = ("0", "1", "2", "3", "4", "5", "nvt", "weet niet")
ACTIONS = ("actie_01", "actie_02", "actie_03", "actie_04")
BARRIERS = ("middelen", "kosten", "onbekend", "geen_belemmering", "weet_niet")


def gemeenten_form(wave: str = "2023") -> Form:
    """The gemeenten questionnaire of §3.2.2 in miniature: a (priority), b (generic instruments, open),
    c (actions rated 0-5), d (top three), e (success factors, open), f (barriers, several answers)."""
    qs = [Question("org_id", "hidden", section="achtergrond"),
          Question("grootteklasse", "hidden", section="achtergrond"),
          Question("regio", "hidden", section="achtergrond"),
          Question("prio", "select_one", choices=PRIO, section="prioriteit"),
          Question("generiek", "text", section="instrumenten"),
          *[Question(f"inzet_{a}", "select_one", choices=RATING, section="acties") for a in ACTIONS[:2]],
          Question("andere_actie", "text", section="acties"),
          Question("top3", "select_multiple", choices=ACTIONS, section="top3"),
          Question("succes", "text", section="succes"),
          Question("belemmering", "select_multiple", choices=BARRIERS, section="belemmeringen")]
    return Form("gemeenten", wave, "v1", {q.name: q for q in qs})


def hand_case():
    """Two size classes: A has 10 municipalities, 5 respond (weight 2); B has 20, 4 respond (weight 5).
    One region, so the raking is post-stratification by size."""
    frame = pl.DataFrame({"org_id": [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(20)],
                          "grootteklasse": ["A"] * 10 + ["B"] * 20, "regio": ["AM01"] * 30})
    resp = pl.DataFrame({
        "org_id": ["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3"],
        "grootteklasse": ["A"] * 5 + ["B"] * 4, "regio": ["AM01"] * 9,
        "prio": ["zeer_hoog"] * 4 + ["geen"] + ["zeer_hoog"] + ["geen"] * 3,
        "generiek": ["GEHEIM-TEKST-1", None, None, None, None, None, None, None, "GEHEIM-TEKST-2"],
        "inzet_actie_01": ["5", "4", "3", "nvt", "weet niet", "0", "1", "1", None],
        "inzet_actie_02": ["2"] * 9,
        "andere_actie": [None] * 8 + ["Buurtproject Zuid in Gemeente Bdorp"],
        "top3": ["actie_01 actie_02", "actie_01", "actie_01 actie_02 actie_03", None, "actie_02",
                 "actie_03", "actie_03 actie_01", "actie_04", "actie_04"],
        "succes": ["GEHEIM-TEKST-3"] + [None] * 8,
        "belemmering": ["middelen kosten", "middelen", "geen_belemmering", "weet_niet", "middelen",
                        "kosten", "kosten", "onbekend kosten", "kosten"],
    })
    return frame, resp


def row(out, measure, breakdown="totaal", category="totaal"):
    r = out.filter((pl.col("measure") == measure) & (pl.col("breakdown") == breakdown)
                   & (pl.col("category") == category))
    assert r.height == 1, (measure, breakdown, category, r)
    return r.row(0, named=True)


@pytest.fixture(scope="module")
def hand():
    frame, resp = hand_case()
    w = nonresponse_weights(frame, resp, "gemeenten")
    return frame, resp, w, survey_indicators(gemeenten_form(), resp, frame, w)


def test_weights_of_the_hand_case_are_N_over_n_per_class(hand):
    _, _, w, _ = hand
    ws = dict(w.weights.select("org_id", "weight").iter_rows())
    assert ws["a0"] == pytest.approx(2.0) and ws["b0"] == pytest.approx(5.0)


def test_priority_share_by_hand(hand):
    """S-g1 (§3.2.2 a): weighted share 'zeer hoog' = (4 x 2 + 1 x 5) / (5 x 2 + 4 x 5) = 13/30; unweighted 5/9."""
    _, _, _, out = hand
    r = row(out, "prio: zeer_hoog")
    assert r["indicator_id"] == "S-g1" and r["unit"] == "%" and r["year"] == 2023
    assert r["value"] == pytest.approx(100 * 13 / 30)
    assert r["n"] == 9 and r["n_weighted"] == pytest.approx(30.0) and r["n_choice"] == 5
    assert r["response_rate"] == pytest.approx(9 / 30)
    assert row(out, "prio: zeer_hoog", "grootteklasse", "A")["value"] == pytest.approx(80.0)
    assert row(out, "prio: zeer_hoog", "grootteklasse", "B")["response_rate"] == pytest.approx(4 / 20)
    shares = out.filter((pl.col("indicator_id") == "S-g1") & (pl.col("breakdown") == "totaal"))
    assert shares["value"].sum() == pytest.approx(100.0) and shares["adds_to_100"].all()


def test_rating_mean_and_distribution_leave_out_nvt_and_weet_niet(hand):
    """S-g3 (§3.2.2 c, 0-5 scale): A rated 5, 4, 3 (weight 2), B rated 0, 1, 1 (weight 5), nvt / weet niet /
    missing left out: mean = (2 x 12 + 5 x 2) / (2 x 3 + 5 x 3) = 34/21; share rating 1 = 10/21."""
    _, _, _, out = hand
    m = row(out, "inzet_actie_01")
    assert m["indicator_id"] == "S-g3" and m["unit"] == "score 0-5"
    assert m["value"] == pytest.approx(34 / 21) and m["n"] == 6 and m["n_weighted"] == pytest.approx(21.0)
    d = row(out, "inzet_actie_01: 1")
    assert d["indicator_id"] == "S-g2" and d["value"] == pytest.approx(100 * 10 / 21) and d["n_choice"] == 2
    dist = out.filter((pl.col("question") == "inzet_actie_01") & (pl.col("indicator_id") == "S-g2")
                      & (pl.col("breakdown") == "totaal"))
    assert set(dist["measure"].str.split(": ").list.last()) == {"0", "1", "2", "3", "4", "5"}
    assert not any(x in NOT_RATED for x in dist["measure"].str.split(": ").list.last())
    assert dist["value"].sum() == pytest.approx(100.0)
    # a constant rating has no sampling error
    assert row(out, "inzet_actie_02")["moe"] == pytest.approx(0.0, abs=1e-12)


def test_top_three_counts_and_shares(hand):
    """S-g4 (§3.2.2 d): actie_01 named by a0, a1, a2 (weight 2) and b1 (5); a3 gave no top three:
    count 4, weighted share (3 x 2 + 5) / (4 x 2 + 4 x 5) = 11/28."""
    _, _, _, out = hand
    r = row(out, "top3: actie_01")
    assert r["indicator_id"] == "S-g4" and r["n_choice"] == 4 and r["n"] == 8
    assert r["value"] == pytest.approx(100 * 11 / 28)
    assert not r["adds_to_100"]


def test_barriers_shares(hand):
    """S-g5 (§3.2.2 f, several answers): 'kosten' by a0 (2) and all four of B (5): (2 + 20) / 30."""
    _, _, _, out = hand
    r = row(out, "belemmering: kosten")
    assert r["indicator_id"] == "S-g5" and r["value"] == pytest.approx(100 * 22 / 30) and r["n_choice"] == 5


def test_moe_equals_samplics_taylor_estimator(hand):
    """The numpy linearisation equals samplics' TaylorEstimator (stratified, fpc 1 - n_h/N_h, domain)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam
    from scipy import stats
    frame, resp, w, out = hand
    ww = w.weights.join(resp, on="org_id", maintain_order="left")
    y = (ww["prio"] == "zeer_hoog").cast(pl.Float64).to_numpy()
    est = TaylorEstimator(PopParam.mean)
    est.estimate(y=y, samp_weight=ww["weight"].to_numpy(), stratum=ww["grootteklasse"].to_numpy(),
                 fpc={"A": 1 - 5 / 10, "B": 1 - 4 / 20})
    r = row(out, "prio: zeer_hoog")
    assert est.point_est == pytest.approx(r["value"] / 100)
    assert r["moe"] == pytest.approx(100 * stats.t.ppf(0.975, 8) * est.stderror, rel=1e-9)
    # a domain (the rating, nvt left out) too
    rated = ww["inzet_actie_01"].is_in(list("012345")).to_numpy()
    yv = np.where(rated, ww["inzet_actie_01"].cast(pl.Float64, strict=False).fill_null(0).to_numpy(), 1.0)
    est2 = TaylorEstimator(PopParam.mean)
    est2.estimate(y=yv, samp_weight=ww["weight"].to_numpy(), stratum=ww["grootteklasse"].to_numpy(),
                  domain=np.where(rated, "r", "x"), fpc={"A": 0.5, "B": 0.8})
    m = row(out, "inzet_actie_01")
    assert est2.point_est["r"] == pytest.approx(m["value"])
    assert m["moe"] == pytest.approx(stats.t.ppf(0.975, 5) * est2.stderror["r"], rel=1e-9)


def test_open_answers_never_in_the_indicators_and_come_out_coded(hand):
    frame, resp, _, out = hand
    text = " ".join(str(v) for c in out.columns for v in out[c].to_list())
    for secret in ("GEHEIM-TEKST", "Buurtproject", "a0", "b3"):
        assert secret not in text
    assert not set(out["question"]) & {"generiek", "succes", "andere_actie"}
    oa = open_answers(gemeenten_form(), resp, seed=3, redact={"b3": ["Bdorp"]})
    assert set(oa.answers["question"]) == {"generiek", "succes", "andere_actie"}
    assert oa.answers.height == 4 and "org_id" not in oa.answers.columns
    assert not set(oa.answers["code"]) & set(resp["org_id"])
    assert "[organisatie]" in oa.answers.filter(pl.col("question") == "andere_actie")["answer"][0]
    back = oa.answers.join(oa.key, on="code")          # the warehouse's key links back
    assert set(back.filter(pl.col("question") == "succes")["org_id"]) == {"a0"}
    assert open_answers(gemeenten_form(), resp).key["code"].n_unique() == resp.height


def test_answer_not_in_the_form_is_refused(hand):
    frame, resp, w, _ = hand
    bad = resp.with_columns(pl.when(pl.col("org_id") == "a1").then(pl.lit("heel_hoog")).otherwise(pl.col("prio"))
                            .alias("prio"))
    with pytest.raises(ValueError, match="heel_hoog"):
        survey_indicators(gemeenten_form(), bad, frame, w)


def test_rows_map_onto_the_indicator_table(hand):
    frame, resp, w, out = hand
    rows = to_table_rows(out, vintages="enquete gemeenten 2023 v1")
    assert rows.columns[:len(T.COLUMNS)] == T.COLUMNS and rows.columns[len(T.COLUMNS):] == ["grootteklasse"]
    assert dict(rows.select(T.COLUMNS).schema) == T.SCHEMA
    assert (rows["herkomst"] == "totaal").all()
    assert set(rows.filter(pl.col("grootteklasse") != "totaal")["grootteklasse"]) == {"A", "B"}
    assert set(rows.filter(pl.col("regio") != "totaal")["regio"]) == {"AM01"}
    assert "moe" in to_table_rows(out, extra=True).columns


def _population(seed: int, N: int = 600):
    """A population of municipalities in 3 size classes x 4 regions; priority 'zeer hoog' and the rating rise
    with size, response rises with size: the unweighted estimate over-represents the large ones."""
    rng = np.random.default_rng(seed)
    size = rng.choice(["<20.000", "20.000-50.000", ">=50.000"], N, p=[0.5, 0.3, 0.2])
    regio = rng.choice(["AM01", "AM02", "AM03", "AM04"], N)
    p_prio = np.select([size == "<20.000", size == "20.000-50.000"], [0.15, 0.4], 0.75)
    prio = np.where(rng.random(N) < p_prio, "zeer_hoog", "geen")
    mean_r = np.select([size == "<20.000", size == "20.000-50.000"], [1.0, 2.5], 4.0)
    rating = np.clip(np.round(mean_r + rng.normal(0, 1, N)), 0, 5).astype(int).astype(str)
    frame = pl.DataFrame({"org_id": [f"g{i:04d}" for i in range(N)], "grootteklasse": size, "regio": regio})
    answers = frame.with_columns(pl.Series("prio", prio), pl.Series("inzet_actie_01", rating))
    return rng, frame, answers


def _wave(seed: int):
    rng, frame, answers = _population(seed)
    p_resp = np.select([answers["grootteklasse"] == "<20.000", answers["grootteklasse"] == "20.000-50.000"],
                       [0.25, 0.5], 0.9)
    resp = answers.filter(pl.Series(rng.random(frame.height) < p_resp))
    form = Form("gemeenten", "2023", "v1", {q.name: q for q in [
        Question("prio", "select_one", choices=PRIO, section="prioriteit"),
        Question("inzet_actie_01", "select_one", choices=RATING, section="acties")]})
    w = nonresponse_weights(frame, resp, "gemeenten")
    out = survey_indicators(form, resp, frame, w, breakdowns=())     # the totaal is what is checked
    truth = {"prio": 100 * (answers["prio"] == "zeer_hoog").mean(),
             "mean": answers["inzet_actie_01"].cast(pl.Float64).mean()}
    naive = {"prio": 100 * (resp["prio"] == "zeer_hoog").mean(), "mean": resp["inzet_actie_01"].cast(pl.Float64).mean()}
    return out, truth, naive


def test_planted_truth_recovered_within_the_margin_unweighted_is_biased():
    """The weighted estimate covers the population's true share and mean; the unweighted one lies outside
    that margin (this test fails without the weights)."""
    out, truth, naive = _wave(11)
    p, m = row(out, "prio: zeer_hoog"), row(out, "inzet_actie_01")
    assert abs(p["value"] - truth["prio"]) <= p["moe"]
    assert abs(m["value"] - truth["mean"]) <= m["moe"]
    assert abs(naive["prio"] - truth["prio"]) > p["moe"]
    assert abs(naive["mean"] - truth["mean"]) > m["moe"]
    assert 0 < p["moe"] < 10


def test_a_share_every_respondent_gave_alike_keeps_a_margin_while_some_did_not_respond(hand):
    """All 9 respondents rated action 02 a "2": the Taylor variance is 0, and the demo pages showed "0,0 ± 0,0"
    on shares of 85 of 124 institutions until December 2026 (report §3.8 c: a margin "voor een juiste
    interpretatie").  The margin is the far end of the Wilson interval, z²/(n + z²), with the finite-population
    correction of the 21 who did not respond; a class that all responded keeps 0; the mean keeps its 0."""
    from scipy import stats

    from monitor_dagster.surveys.indicators import _moe

    _, _, _, out = hand
    t = stats.t.ppf(0.975, 8)
    two, five = row(out, "inzet_actie_02: 2"), row(out, "inzet_actie_02: 5")
    want = 100 * t * t / (9 + t * t) * np.sqrt((30 - 9) / (30 - 1))
    assert two["value"] == 100.0 and two["moe"] == pytest.approx(want) and 25 < want < 35
    assert five["value"] == 0.0 and five["moe"] == pytest.approx(want)
    assert row(out, "inzet_actie_02")["moe"] == 0.0                       # the mean of a 0-5 rating
    assert 0 < row(out, "prio: zeer_hoog")["value"] < 100                 # in between: the Taylor margin
    assert _moe(t, 0.0, 0.0, 12, 12.0, True) == 0.0                       # every organisation responded


def test_margin_of_error_covers_about_95_percent():
    """Over 40 waves (each its own population and non-response) the 95 % interval holds the truth in at least
    33 (binomial(40, 0.95) gives fewer with probability ~0.1 %), and the mean margin is within 0.7-1.4 times
    1.96 x the spread of the errors (not uselessly wide either).  Measured: 35 of 40, ratio 0.85: the
    stratified-sampling formula ignores that the number responding per class is itself random."""
    hits, errs, moes = 0, [], []
    for s in range(40):
        out, truth, _ = _wave(100 + s)
        p = row(out, "prio: zeer_hoog")
        hits += abs(p["value"] - truth["prio"]) <= p["moe"]
        errs.append(p["value"] - truth["prio"])
        moes.append(p["moe"])
    assert hits >= 33
    assert 0.7 <= np.mean(moes) / (1.96 * np.std(errs)) <= 1.4


# --- disclosure (monitor_dagster/surveys/disclosure.py) --------------------------------------------------------

from monitor_dagster.surveys.disclosure import MIN_ORGS, apply_disclosure, check_disclosure  # noqa: E402
from monitor_dagster.surveys.indicators import SCHEMA  # noqa: E402


def cells(spec, *, iid="S-g1", question="prio", measure="prio: zeer_hoog", unit="%", adds=False):
    """Hand-built indicator rows: spec = [(breakdown, category, n, n_weighted, w_max, value)]."""
    return pl.DataFrame([{"indicator_id": iid, "year": 2023, "instrument": "gemeenten", "question": question,
                          "measure": measure, "breakdown": b, "category": c, "value": v, "unit": unit, "n": n,
                          "n_weighted": nw, "n_choice": None, "moe": 1.0, "response_rate": 0.5, "w_max": wm,
                          "adds_to_100": adds} for b, c, n, nw, wm, v in spec], schema=SCHEMA)


def reasons(out):
    return {(r["breakdown"], r["category"]): r["suppression_reason"] for r in out.iter_rows(named=True)}


def test_a_cell_of_fewer_than_five_organisations_is_hidden():
    t = cells([("totaal", "totaal", 30, 60.0, 4.0, 50.0), ("grootteklasse", "A", MIN_ORGS - 1, 8.0, 2.0, 25.0),
               ("grootteklasse", "B", 12, 24.0, 2.0, 50.0), ("grootteklasse", "C", 14, 28.0, 2.0, 57.0)])
    out = apply_disclosure(t)
    r = reasons(out)
    assert r[("grootteklasse", "A")] == "primary_n" and r[("totaal", "totaal")] is None
    a = out.filter(pl.col("category") == "A").row(0, named=True)
    assert a["value"] is None and a["n"] is None and a["n_weighted"] is None and a["moe"] is None
    assert "w_max" not in out.columns
    # exactly MIN_ORGS is shown
    assert reasons(apply_disclosure(cells([("totaal", "totaal", MIN_ORGS, 10.0, 2.0, 40.0)])))[("totaal", "totaal")] is None


def test_one_dominant_organisation_hides_the_cell():
    """Six respondents, one of them the only respondent of a class with 20 municipalities: weight 20 of 25."""
    t = cells([("totaal", "totaal", 6, 25.0, 20.0, 80.0)])
    assert reasons(apply_disclosure(t))[("totaal", "totaal")] == "dominance"
    t2 = cells([("totaal", "totaal", 6, 25.0, 12.0, 80.0)])          # 48 %: shown
    assert reasons(apply_disclosure(t2))[("totaal", "totaal")] is None


def test_a_hidden_class_cannot_be_had_from_totaal_minus_the_others():
    t = cells([("totaal", "totaal", 30, 60.0, 4.0, 50.0), ("grootteklasse", "A", 4, 8.0, 2.0, 25.0),
               ("grootteklasse", "B", 12, 24.0, 2.0, 50.0), ("grootteklasse", "C", 14, 28.0, 2.0, 57.142857)])
    # without secondary suppression the hidden A follows: (60 x 50 - 24 x 50 - 28 x 57.14) / 8 = 25
    assert (60 * 50 - 24 * 50 - 28 * 57.142857) / 8 == pytest.approx(25.0, abs=1e-4)
    out = apply_disclosure(t)
    r = reasons(out)
    assert r[("grootteklasse", "A")] == "primary_n" and r[("grootteklasse", "B")] == "secondary"
    assert r[("grootteklasse", "C")] is None and r[("totaal", "totaal")] is None
    assert check_disclosure(out) == []
    # the checker sees the leak when the secondary cell is shown again
    leaky = out.with_columns(pl.when(pl.col("category") == "B").then(False).otherwise(pl.col("suppressed"))
                             .alias("suppressed"))
    assert any("recoverable" in v for v in check_disclosure(leaky))


def test_hidden_classes_that_together_hold_fewer_than_five_organisations_are_protected():
    """Two hidden classes (mbo 2, wo 1) beside a shown hbo: totaal minus hbo gives their joint answer, three
    institutions told apart by their sector's weight (the demo's S-o2 ``aansluiting_anders`` by sector until
    December 2026).  The smallest shown class goes too; two hidden classes of 5 together need nothing."""
    t = cells([("totaal", "totaal", 8, 11.2, 1.7, 40.0), ("sector", "mbo", 2, 3.3, 1.7, 50.0),
               ("sector", "hbo", 5, 6.9, 1.4, 40.0), ("sector", "wo", 1, 1.1, 1.1, 0.0)], iid="S-o2")
    out = apply_disclosure(t)
    r = reasons(out)
    assert r[("sector", "mbo")] == "primary_n" and r[("sector", "wo")] == "primary_n"
    assert r[("sector", "hbo")] == "secondary" and r[("totaal", "totaal")] is None
    assert check_disclosure(out) == []
    leaky = out.with_columns(pl.when(pl.col("category") == "hbo").then(False).otherwise(pl.col("suppressed"))
                             .alias("suppressed"), pl.when(pl.col("category") == "hbo").then(5)
                             .otherwise(pl.col("n")).alias("n"))
    assert any("hold 3 organisations together" in v for v in check_disclosure(leaky))
    ok = cells([("totaal", "totaal", 30, 60.0, 4.0, 50.0), ("regio", "AM01", 4, 8.0, 2.0, 50.0),
                ("regio", "AM02", 4, 8.0, 2.0, 40.0), ("regio", "AM03", 22, 44.0, 2.0, 40.0)])
    r = reasons(apply_disclosure(ok))
    assert r[("regio", "AM01")] == r[("regio", "AM02")] == "primary_n" and r[("regio", "AM03")] is None


def test_a_small_residual_counts_as_a_hidden_class():
    """Totaal 30, classes 12 + 15 = 27: three organisations without class would follow by subtraction."""
    t = cells([("totaal", "totaal", 30, 60.0, 4.0, 50.0), ("regio", "AM01", 12, 24.0, 2.0, 50.0),
               ("regio", "AM02", 15, 30.0, 2.0, 40.0)])
    r = reasons(apply_disclosure(t))
    assert r[("regio", "AM01")] == "secondary" and r[("regio", "AM02")] is None


def test_rating_mean_and_distribution_are_hidden_together():
    """The mean of a 0-5 action follows from its distribution: hiding one hides the other."""
    dist = cells([("totaal", "totaal", 8, 16.0, 2.0, 50.0)], iid="S-g2", question="inzet_a", measure="inzet_a: 3")
    mean = cells([("totaal", "totaal", 8, 16.0, 9.0, 3.1)], iid="S-g3", question="inzet_a", measure="inzet_a",
                 unit="score 0-5")
    out = apply_disclosure(pl.concat([dist, mean]))
    assert dict(out.select("measure", "suppression_reason").iter_rows()) == {"inzet_a: 3": "secondary",
                                                                             "inzet_a": "dominance"}


def test_identifying_columns_and_breakdowns_are_refused():
    t = cells([("totaal", "totaal", 30, 60.0, 4.0, 50.0)])
    with pytest.raises(ValueError, match="org_id"):
        apply_disclosure(t.with_columns(pl.lit("g1").alias("org_id")))
    with pytest.raises(ValueError, match="gemeente"):
        apply_disclosure(cells([("gemeente", "Adorp", 1, 1.0, 1.0, 100.0)]))
    assert any("not passed" in v for v in check_disclosure(t))


def test_suppression_does_not_depend_on_row_order():
    t = cells([("totaal", "totaal", 40, 80.0, 4.0, 50.0), ("regio", "AM01", 3, 6.0, 2.0, 25.0),
               ("regio", "AM02", 9, 18.0, 2.0, 50.0), ("regio", "AM03", 9, 18.0, 2.0, 60.0),
               ("regio", "AM04", 19, 38.0, 2.0, 40.0)])
    a = apply_disclosure(t)
    b = apply_disclosure(t.sample(fraction=1.0, shuffle=True, seed=5))
    key = lambda f: sorted((r["category"], r["suppression_reason"] or "") for r in f.iter_rows(named=True))  # noqa: E731
    assert key(a) == key(b) and sum(a["suppressed"]) == 2


def test_a_full_wave_passes_its_own_check():
    rng, frame, answers = _population(7)
    resp = answers.sample(fraction=0.6, seed=1)
    form = Form("gemeenten", "2023", "v1", {q.name: q for q in [
        Question("prio", "select_one", choices=PRIO, section="prioriteit"),
        Question("inzet_actie_01", "select_one", choices=RATING, section="acties")]})
    w = nonresponse_weights(frame, resp, "gemeenten")
    out = apply_disclosure(survey_indicators(form, resp, frame, w))
    assert check_disclosure(out) == []
    assert out.filter(pl.col("breakdown") == "totaal")["suppressed"].sum() == 0
    rows = to_table_rows(out)
    assert rows["suppressed"].dtype == pl.Boolean and rows.height == out.height


def test_measures_of_the_form_are_the_measures_published(hand):
    from monitor_dagster.surveys.indicators import measures_of
    _, _, _, out = hand
    m = measures_of(gemeenten_form())
    assert sorted(m) == ["S-g1", "S-g2", "S-g3", "S-g4", "S-g5"]
    for iid, ms in m.items():
        assert set(out.filter(pl.col("indicator_id") == iid)["measure"]) <= set(ms)
    assert m["S-g3"] == ["inzet_actie_01", "inzet_actie_02"]


def test_compute_wave_chains_weights_indicators_and_disclosure(hand):
    from monitor_dagster.surveys.indicators import compute_wave
    frame, resp, _, _ = hand
    detail, rows, w = compute_wave(gemeenten_form(), resp, frame)
    assert "suppressed" in detail.columns and "w_max" not in detail.columns
    # class B has 4 respondents: hidden, and so is A (secondary: totaal - A would give B)
    b = detail.filter((pl.col("category") == "B") & (pl.col("measure") == "prio: zeer_hoog")).row(0, named=True)
    a = detail.filter((pl.col("category") == "A") & (pl.col("measure") == "prio: zeer_hoog")).row(0, named=True)
    assert b["suppression_reason"] == "primary_n" and a["suppression_reason"] == "secondary"
    assert rows["vintages"][0] == "enquete gemeenten 2023 (formulier v1)" and w.method == "raking"


def test_a_class_that_all_responded_and_answered_alike_is_hidden():
    """The group rule: the five municipalities of a region all responded (response rate 1, so who answered is
    public) and all chose "ja": a published 100 % would tell each named municipality's answer (docs/surveys_
    indicators.md, "Disclosure"; the demo's AM11 showed "specifiek_aanbod: ja" 100 % on 5 of 5).  Half of the
    region's municipalities answering alike, or all responding but answering differently, is shown."""
    def select_one(cat, n, counts, rr):
        return [{"indicator_id": "S-g2", "year": 2023, "instrument": "gemeenten", "question": "aanbod",
                 "measure": f"aanbod: {c}", "breakdown": "regio" if cat != "totaal" else "totaal", "category": cat,
                 "value": 100.0 * k / n, "unit": "%", "n": n, "n_weighted": float(n), "n_choice": k, "moe": 1.0,
                 "response_rate": rr, "w_max": 1.0, "adds_to_100": True} for c, k in counts.items()]
    rows = (select_one("totaal", 45, {"ja": 34, "nee": 11}, 0.6) + select_one("AM01", 5, {"ja": 5, "nee": 0}, 1.0)
            + select_one("AM02", 5, {"ja": 5, "nee": 0}, 0.5) + select_one("AM03", 6, {"ja": 4, "nee": 2}, 1.0)
            + select_one("AM04", 24, {"ja": 16, "nee": 8}, 0.6)
            # all responded, all but one said "ja": the one who said "nee" learns the other four's answers
            + select_one("AM07", 5, {"ja": 4, "nee": 1}, 1.0))
    # a top-3 action nobody in the region named ("not named" is everybody's answer), or one only: hidden
    top = [dict(r, question="top3", measure="top3: actie_07", indicator_id="S-g4", adds_to_100=False)
           for r in select_one("AM05", 7, {"x": 0}, 1.0) + select_one("AM06", 7, {"x": 3}, 1.0)
           + select_one("AM08", 7, {"x": 1}, 1.0)]
    out = apply_disclosure(pl.DataFrame(rows + top, schema=SCHEMA))
    r = {(x["category"], x["measure"]): x["suppression_reason"] for x in out.iter_rows(named=True)}
    assert r[("AM01", "aanbod: ja")] == "group" and r[("AM01", "aanbod: nee")] == "secondary"   # linked choices
    # AM02 answered alike but not all its municipalities responded, AM03 all responded but 4 of 6 alike: no group
    # rule (totaal 45 = 5 + 5 + 6 + 24 + 5: AM01 and AM07 hidden, no secondary class needed)
    assert r[("AM02", "aanbod: ja")] is None and r[("AM03", "aanbod: ja")] is None
    assert r[("AM04", "aanbod: ja")] is None and r[("totaal", "aanbod: ja")] is None
    assert r[("AM07", "aanbod: ja")] == "group" and r[("AM07", "aanbod: nee")] == "secondary"
    assert r[("AM05", "top3: actie_07")] == "group" and r[("AM06", "top3: actie_07")] is None
    assert r[("AM08", "top3: actie_07")] == "group"
    assert check_disclosure(out) == []
    shown_again = out.with_columns(pl.when(pl.col("category") == "AM01").then(False).otherwise(pl.col("suppressed"))
                                   .alias("suppressed"),
                                   pl.when(pl.col("category") == "AM01").then(5).otherwise(pl.col("n")).alias("n"),
                                   pl.when(pl.col("category") == "AM01").then(1.0).otherwise(pl.col("response_rate"))
                                   .alias("response_rate"),
                                   pl.when((pl.col("category") == "AM01") & (pl.col("measure") == "aanbod: ja"))
                                   .then(5).when(pl.col("category") == "AM01").then(0).otherwise(pl.col("n_choice"))
                                   .alias("n_choice"))
    assert any("AM01" in v and "5 of 5" in v for v in check_disclosure(shown_again))


def test_a_hidden_survey_cell_tells_readers_the_organisation_rule_not_the_person_rule():
    """The indicator page gives the reason of a hidden cell: for a survey of organisations "minder dan 10
    personen" was wrong (its threshold is 5 organisations), and "group" or "dominance" fell back to a generic
    text; a register indicator keeps the person texts."""
    from monitor_dagster.indicators.table import SCHEMA as TABLE
    from monitor_dagster.publication import data as D

    from .test_disclosure import row

    rows = [row("S-w1", measure="top3: x", sector="F", n=3, value=None, suppressed=True),
            row("S-w1", measure="top3: y", sector="G", n=3, value=None, suppressed=True),
            row("O04", sector="F", n=3, value=None, suppressed=True)]
    t = pl.DataFrame(rows, schema=TABLE).with_columns(
        pl.Series("suppression_reason", ["primary_n", "group", "primary_n"]))
    survey = dict(D.indicator_rows(t, "S-w1").select("measure", "reason").iter_rows())
    # one text per kind of unit, whatever the rule: a per-cell rule bounded the cell (an audit, December 2026)
    assert survey == {"top3: x": D.ORG_REASON, "top3: y": D.ORG_REASON} and "organisaties" in D.ORG_REASON
    assert D.indicator_rows(t, "O04")["reason"].to_list() == [D.PERSON_REASON]
    assert D.GENERIC_REASON not in D.ORG_REASONS.values() and "personen" not in D.ORG_REASON
