"""Issue 20: the hand-labelling validation of the search strategy (technisch rapport Monitor gelijke kansen,
hfd. 6, stap b "een aantal vacatures handmatig ... bekeken"): the stratified sample file for the analysts, the
filled file read back with clear errors, Wilson intervals, and the corrected count whose interval covers the
planted truth when the labels come from the truth helper (docs/vacancies.md, "Validation")."""

from __future__ import annotations

import polars as pl
import pytest

from monitor_dagster.synth.vacancies import CATS, build_frame
from monitor_dagster.vacancies import validation as V
from monitor_dagster.vacancies.indicators import compute_indicators
from monitor_dagster.vacancies.match import match_frame


@pytest.fixture(scope="module")
def corpus():
    v, t = build_frame(2022, 5000, seed=5)
    return v, t, match_frame(v, workers=1)


def test_wilson_known_values():
    lo, hi = V.wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = V.wilson(0, 300)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(3.8415 / (300 + 3.8415), rel=1e-3)   # not 0 when 0 of n are found
    assert V.wilson(0, 0) == (0.0, 1.0)


def test_estimate_on_hand_built_strata():
    """100 matches (50 labelled, 45 ja) and 1,000 non-matches (100 labelled, 1 ja): corrected = 100 x 0.9 +
    1,000 x 0.01 = 100 = matches x precision / recall."""
    rows = ([("m", "match", 100, 50, "ja")] * 45 + [("m", "match", 100, 50, "nee")] * 5
            + [("r", "rest", 1000, 100, "ja")] + [("r", "rest", 1000, 100, "nee")] * 99)
    lab = pl.DataFrame({"vacature_id": [f"{r[0]}{i}" for i, r in enumerate(rows)], "categorie": "stage",
                        "stratum": [r[1] for r in rows], "N_stratum": [r[2] for r in rows],
                        "n_stratum": [r[3] for r in rows], "label": [r[4] for r in rows], "strategy_version": 1})
    e = V.estimate(lab).row(0, named=True)
    assert e["precision"] == pytest.approx(0.9)
    assert e["recall"] == pytest.approx(90 / 100)
    assert e["corrected"] == pytest.approx(100.0)
    assert e["corrected"] == pytest.approx(e["matches"] * e["precision"] / e["recall"])
    assert e["corrected_lo"] < 100 < e["corrected_hi"]
    assert e["precision_lo"] < 0.9 < e["precision_hi"] and e["recall_lo"] < 0.9 < e["recall_hi"]


def test_sample_file_for_the_analysts(corpus, tmp_path):
    v, _, m = corpus
    s = V.draw_sample(v, m, n_match=40, n_bijna=30, n_rest=50, seed=1)
    assert set(s["categorie"]) == set(CATS)
    sizes = s.group_by("categorie", "stratum").agg(pl.len(), pl.col("N_stratum").first(), pl.col("gewicht").first())
    for cat, stratum, n, N, w in sizes.iter_rows():
        assert n == min({"match": 40, "bijna": 30, "rest": 50}[stratum], N)
        assert w == pytest.approx(N / n)
    # non-matches are sampled at a far lower rate than matches
    rate = {st: n / N for _, st, n, N, _ in sizes.filter(pl.col("categorie") == "werkervaringsplaats").iter_rows()}
    assert rate["rest"] < rate["match"] / 10
    p = V.export_sample(s, tmp_path / "steekproef.csv")
    back = pl.read_csv(p, separator=";", infer_schema=False)
    assert set(back["label"].fill_null("")) == {""}               # empty, for the analysts
    assert back.filter(pl.col("stratum") == "match")["explanation"].null_count() == 0
    assert set(back["strategy_version"]) == {"1"}
    assert V.draw_sample(v, m, n_match=40, n_bijna=30, n_rest=50, seed=1).equals(s)   # reproducible


def test_filled_file_is_read_back_and_bad_labels_are_named(corpus, tmp_path):
    v, t, m = corpus
    s = V.draw_sample(v, m, n_match=20, n_bijna=10, n_rest=20, seed=2)
    filled = V.label_from_truth(s, t)
    p = V.export_sample(filled, tmp_path / "gelabeld.csv")
    back = V.read_labels(p, s)
    assert back.sort("categorie", "vacature_id")["label"].equals(filled.sort("categorie", "vacature_id")["label"])

    df = pl.read_csv(p, separator=";", infer_schema=False)
    bad = df.with_columns(
        label=pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("misschien"))
        .when(pl.int_range(pl.len()) == 4).then(pl.lit("")).otherwise(pl.col("label")),
        vacature_id=pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("JF_ONBEKEND")).otherwise(pl.col("vacature_id")))
    q = tmp_path / "fout.csv"
    bad.write_csv(q, separator=";")
    with pytest.raises(V.LabelFileError) as exc:
        V.read_labels(q, s)
    msg = str(exc.value)
    assert f"{q}: row 3: column label: unknown label 'misschien' (allowed: ja, nee)" in msg
    assert f"{q}: row 5: column label: empty" in msg
    assert f"{q}: row 7: vacature_id 'JF_ONBEKEND'" in msg and "is not in the sample" in msg
    assert "is missing from the file" in msg                     # the sample row whose id was overwritten


def test_corrected_count_interval_covers_the_truth(corpus):
    """Over 20 independent samples (labels from the truth helper) each category's 95 % interval covers the
    planted count at least 17 times (a binomial(20, 0.95) falls below 17 with probability 1.6 %), and the mean
    corrected count is within 10 % of the truth."""
    v, t, m = corpus
    strata = V.assign_strata(v, m)
    runs = pl.concat([V.estimate(V.label_from_truth(V.draw_sample(None, None, seed=s, strata=strata), t))
                      for s in range(20)])
    assert set(runs["strategy_version"]) == {1}
    for cat in CATS:
        r = runs.filter(pl.col("categorie") == cat)
        true = t[f"is_{cat}"].sum()
        covered = r.filter((pl.col("corrected_lo") <= true) & (true <= pl.col("corrected_hi"))).height
        assert covered >= 17, (cat, true, covered)
        assert abs(r["corrected"].mean() - true) <= 0.1 * true, (cat, true, r["corrected"].mean())
        for row in r.iter_rows(named=True):
            assert row["corrected"] == pytest.approx(row["matches"] * row["precision"] / row["recall"])


def test_precision_below_one_is_detected(corpus):
    """The planted false positive (a jobcoach whose clients are statushouders) shows as precision < 1 in the
    sample of open_voor_statushouders matches, and the correction lowers the count."""
    v, t, m = corpus
    s = V.draw_sample(v, m, n_match=10_000, seed=1)          # every match labelled
    e = V.estimate(V.label_from_truth(s, t)).filter(pl.col("categorie") == "open_voor_statushouders").row(0, named=True)
    fp = t.filter(pl.col("hard_negative") == "doelgroep_als_klant").height
    assert e["matches"] - e["ja_match"] == fp > 0
    assert e["precision"] < 1


def test_indicators_carry_the_correction(corpus):
    v, t, m = corpus
    e = V.estimate(V.label_from_truth(V.draw_sample(v, m, seed=1), t))
    ind = compute_indicators(v, m, e).filter((pl.col("indicator_id") == "V01") & (pl.col("split") == "totaal"))
    for r in ind.iter_rows(named=True):
        est = e.filter(pl.col("categorie") == r["categorie"]).row(0, named=True)
        assert r["corrected_value"] == pytest.approx(est["corrected"])
        assert r["lo"] == pytest.approx(est["corrected_lo"]) and r["hi"] == pytest.approx(est["corrected_hi"])
    assert compute_indicators(v, m)["corrected_value"].null_count() == compute_indicators(v, m).height
