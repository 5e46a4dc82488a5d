"""Synthetic responses to the input surveys (monitor_dagster/synth/surveys.py): clean files pass the schema,
the planted bad cell is found, non-response and answer patterns depend on size class as planted, the truth
covers the whole frame."""

from __future__ import annotations

import json

import polars as pl
import pytest

from monitor_dagster.surveys.schema import ResponseError, read_responses
from monitor_dagster.surveys.xlsform import form
from monitor_dagster.synth import surveys as S


@pytest.fixture(scope="module")
def gem(tmp_path_factory):
    out = tmp_path_factory.mktemp("gem")
    return out, S.generate_responses(out, "gemeenten", "2023", seed=5)


def test_clean_gemeenten_file_passes_and_frame_is_written(gem):
    out, truth = gem
    resp = read_responses(out / "gemeenten_2023.csv", form("gemeenten", "2023"))
    frame = pl.read_csv(out / "gemeenten_2023_frame.csv", separator=";", infer_schema=False)
    assert frame.height == 355 and frame["org_id"].n_unique() == 355
    assert frame["grootteklasse"].value_counts().sort("grootteklasse").rows() == [
        ("20000_50000", 170), ("50000_100000", 50), ("ge_100000", 30), ("lt_20000", 105)]
    assert resp.height == truth["respondents"] < 355
    assert set(resp["org_id"]) <= set(frame["org_id"])
    # respondents carry their frame background
    joined = resp.join(frame, on="org_id", suffix="_frame")
    assert (joined["grootteklasse"] == joined["grootteklasse_frame"]).all()
    assert (joined["regio"] == joined["regio_frame"]).all()
    on_disk = json.loads((out / "gemeenten_2023_truth.json").read_text(encoding="utf-8"))
    assert on_disk["organisations"] == 355 and on_disk["respondents"] == truth["respondents"]


def test_nonresponse_depends_on_size_class_as_planted(gem):
    _, truth = gem
    rate = {k: v["respondents"] / v["frame"] for k, v in truth["by_class"].items()}
    assert rate["ge_100000"] > rate["lt_20000"] + 0.2
    assert truth["response_rate_planted"]["lt_20000"] == 0.40
    for k, v in truth["by_class"].items():           # within a few binomial SDs of the planted rate
        p = truth["response_rate_planted"][k]
        assert abs(rate[k] - p) < 4 * (p * (1 - p) / v["frame"]) ** 0.5


def test_answers_differ_by_size_as_planted(gem):
    out, _ = gem
    resp = read_responses(out / "gemeenten_2023.csv", form("gemeenten", "2023"))
    by = resp.group_by("grootteklasse").agg(
        (pl.col("specifiek_aanbod") == "ja").mean().alias("aanbod"),
        pl.col("freq_werkgevers").cast(pl.Float64).mean().alias("werkgevers"))
    d = {r["grootteklasse"]: r for r in by.iter_rows(named=True)}
    assert d["ge_100000"]["aanbod"] > d["lt_20000"]["aanbod"] + 0.2
    assert d["ge_100000"]["werkgevers"] > d["lt_20000"]["werkgevers"] + 1.0


def test_truth_is_over_the_whole_frame(gem):
    _, truth = gem
    assert truth["organisations"] == 355
    shares = truth["shares"]["prioriteit"]
    assert set(shares) == {"zeer_hoog", "tamelijk_hoog", "tamelijk_laag", "geen"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert 0 < truth["shares"]["specifiek_aanbod"]["ja"] < 1
    asked = round(truth["shares"]["specifiek_aanbod"]["ja"] * 355)
    assert truth["rated_n"]["freq_leerwerk"] == asked          # ratings only where specifiek_aanbod = 'ja'
    assert all(0 <= v <= 5 for v in truth["mean_rating"].values())
    assert set(truth["top3_share"]["top3"]) == set(form("gemeenten", "2023").questions["top3"].choices)


def test_planted_bad_value_is_named(tmp_path):
    truth = S.generate_responses(tmp_path, "gemeenten", "2023", seed=5,
                                 bad={"row": 17, "question": "prioriteit", "value": "misschien"})
    with pytest.raises(ResponseError) as exc:
        read_responses(tmp_path / "gemeenten_2023.csv", form("gemeenten", "2023"))
    assert [f.describe() for f in exc.value.failures] == [
        "gemeenten_2023.csv: question prioriteit, row 17: value 'misschien' not in the choice list "
        "[zeer_hoog, tamelijk_hoog, tamelijk_laag, geen]"]
    assert truth["planted_bad"]["row"] == 17


def test_planted_skip_logic_violation_is_found(gem, tmp_path):
    import shutil
    path = tmp_path / "gemeenten_2023.csv"
    shutil.copy(gem[0] / "gemeenten_2023.csv", path)
    resp = read_responses(path, form("gemeenten", "2023"))
    row = resp["specifiek_aanbod"].to_list().index("nee") + 1
    S.plant_bad_value(path, row, "freq_wep", "3")
    with pytest.raises(ResponseError, match=rf"question freq_wep, row {row}: value '3' answered where it is not"):
        read_responses(path, form("gemeenten", "2023"))


def test_same_seed_same_bytes(tmp_path):
    a = S.generate_responses(tmp_path / "a", "onderwijsinstellingen", "2023", seed=2)
    b = S.generate_responses(tmp_path / "b", "onderwijsinstellingen", "2023", seed=2)
    for key in ("responses", "frame", "truth"):
        assert open(a["paths"][key], "rb").read() == open(b["paths"][key], "rb").read()


def test_schools_and_employers(tmp_path):
    t = S.generate_responses(tmp_path, "onderwijsinstellingen", "2023", seed=2, fmt="xlsx")
    resp = read_responses(tmp_path / "onderwijsinstellingen_2023.xlsx", form("onderwijsinstellingen", "2023"))
    frame = pl.read_csv(tmp_path / "onderwijsinstellingen_2023_frame.csv", separator=";", infer_schema=False)
    assert frame["sector"].value_counts().sort("sector").rows() == [("hbo", 40), ("mbo", 70), ("wo", 14)]
    assert "mbo-instelling 017" in frame["naam"].to_list()
    assert resp.height == t["respondents"]
    S.generate_responses(tmp_path, "werkgevers", "2023", seed=2, n_employers=400)
    w = read_responses(tmp_path / "werkgevers_2023.csv", form("werkgevers", "2023"))
    assert 0 < w.height < 400
    assert set(w["grootteklasse"]) <= {"2_9", "10_49", "50_99", "ge_100"}
