"""Non-response weights of the organisation surveys (monitor_dagster/surveys/weights.py, docs/surveys_indicators.md):
raking to the frame's margins, the post-stratification fallback and its messages."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from monitor_dagster.surveys.weights import WeightingError, nonresponse_weights


def _frame(seed=1, N=400):
    rng = np.random.default_rng(seed)
    size = rng.choice(["<20.000", "20.000-50.000", "50.000-100.000", ">=100.000"], N, p=[0.4, 0.35, 0.15, 0.1])
    regio = rng.choice([f"AM{k:02d}" for k in range(1, 8)], N)
    return rng, pl.DataFrame({"org_id": [f"g{i}" for i in range(N)], "grootteklasse": size, "regio": regio})


def _sample(rng, frame):
    p = frame["grootteklasse"].replace_strict({"<20.000": 0.3, "20.000-50.000": 0.5, "50.000-100.000": 0.7,
                                              ">=100.000": 0.9}).to_numpy()
    return frame.filter(pl.Series(rng.random(frame.height) < p)).select("org_id")


def test_raking_recovers_the_frame_margins_exactly():
    rng, frame = _frame()
    resp = _sample(rng, frame)
    w = nonresponse_weights(frame, resp, "gemeenten")
    assert w.method == "raking" and w.note is None
    assert w.weights["design_weight"].to_list() == pytest.approx([frame.height / resp.height] * resp.height)
    for m in ("grootteklasse", "regio"):
        got = dict(w.weights.group_by(m).agg(pl.col("weight").sum()).iter_rows())
        want = dict(frame.group_by(m).len().iter_rows())
        assert got.keys() == want.keys()
        for k in want:
            assert got[k] == pytest.approx(want[k], rel=1e-8), (m, k)
    assert w.weights["weight"].sum() == pytest.approx(frame.height)
    # the design weight alone misses the size margin (response rises with size)
    small = w.weights.filter(pl.col("grootteklasse") == "<20.000")["design_weight"].sum()
    assert abs(small - frame.filter(pl.col("grootteklasse") == "<20.000").height) > 10


def test_response_rate_per_class():
    frame = pl.DataFrame({"org_id": list("abcdef"), "sector": ["mbo", "mbo", "mbo", "hbo", "hbo", "wo"]})
    resp = pl.DataFrame({"org_id": ["a", "b", "d", "f"]})
    w = nonresponse_weights(frame, resp, "onderwijsinstellingen")
    rr = {(r["margin"], r["class"]): (r["N"], r["n"], r["response_rate"]) for r in w.response.iter_rows(named=True)}
    assert rr[("sector", "mbo")] == (3, 2, pytest.approx(2 / 3))
    assert rr[("sector", "hbo")] == (2, 1, 0.5) and rr[("totaal", "totaal")] == (6, 4, pytest.approx(4 / 6))
    ws = dict(w.weights.select("org_id", "weight").iter_rows())
    assert ws == {"a": pytest.approx(1.5), "b": pytest.approx(1.5), "d": pytest.approx(2.0), "f": pytest.approx(1.0)}
    assert w.method == "poststratificatie"
    assert dict(w.weights.select("org_id", "response_rate").iter_rows())["d"] == pytest.approx(0.5)


def test_region_without_respondents_falls_back_to_size_and_names_it():
    rng, frame = _frame(2)
    resp = _sample(rng, frame).join(frame, on="org_id").filter(pl.col("regio") != "AM03").select("org_id")
    w = nonresponse_weights(frame, resp, "gemeenten")
    assert w.method == "poststratificatie"
    assert "regio AM03" in w.note and "grootteklasse" in w.note
    got = dict(w.weights.group_by("grootteklasse").agg(pl.col("weight").sum()).iter_rows())
    for k, v in frame.group_by("grootteklasse").len().iter_rows():
        assert got[k] == pytest.approx(v)


def test_size_class_without_respondents_is_an_error_naming_it():
    rng, frame = _frame(3)
    resp = frame.filter(pl.col("grootteklasse") != ">=100.000").head(80).select("org_id")
    with pytest.raises(WeightingError, match=r"grootteklasse >=100\.000 \(\d+ in the frame\)"):
        nonresponse_weights(frame, resp, "gemeenten")


def test_raking_that_cannot_converge_falls_back():
    """Respondents of size A all in region R1, of B all in R2, but the frame has 10 A, 10 B and 5 R1, 15 R2:
    no weights meet both margins."""
    frame = pl.DataFrame({"org_id": [f"o{i}" for i in range(20)], "grootteklasse": ["A"] * 10 + ["B"] * 10,
                          "regio": ["R1"] * 5 + ["R2"] * 15})
    resp = pl.DataFrame({"org_id": ["o0", "o1", "o15", "o16"]})
    w = nonresponse_weights(frame, resp, "gemeenten")
    assert w.method == "poststratificatie" and "did not converge" in w.note
    assert dict(w.weights.select("org_id", "weight").iter_rows()) == {
        "o0": pytest.approx(5.0), "o1": pytest.approx(5.0), "o15": pytest.approx(5.0), "o16": pytest.approx(5.0)}


def test_werkgevers_rake_on_sector_and_size():
    rng = np.random.default_rng(5)
    N = 300
    frame = pl.DataFrame({"org_id": [f"w{i}" for i in range(N)], "sector": rng.choice(["bouw", "zorg", "ict"], N),
                          "grootteklasse": rng.choice(["<10", "10-100", ">=100"], N)})
    resp = frame.sample(120, seed=4).select("org_id")
    w = nonresponse_weights(frame, resp, "werkgevers")
    assert w.margins == ("sector", "grootteklasse") and w.method == "raking"
    got = dict(w.weights.group_by("sector").agg(pl.col("weight").sum()).iter_rows())
    assert got == {k: pytest.approx(v) for k, v in frame.group_by("sector").len().iter_rows()}


def test_bad_inputs_are_named():
    frame = pl.DataFrame({"org_id": ["a", "b"], "sector": ["mbo", "hbo"]})
    with pytest.raises(WeightingError, match="not in the frame"):
        nonresponse_weights(frame, pl.DataFrame({"org_id": ["a", "zz"]}), "onderwijsinstellingen")
    with pytest.raises(WeightingError, match="not unique"):
        nonresponse_weights(frame, pl.DataFrame({"org_id": ["a", "a"]}), "onderwijsinstellingen")
    with pytest.raises(WeightingError, match="no column 'grootteklasse'"):
        nonresponse_weights(frame, pl.DataFrame({"org_id": ["a"]}), "gemeenten")
