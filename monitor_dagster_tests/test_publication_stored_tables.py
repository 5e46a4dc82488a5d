"""The publication shows the tables a warehouse stores next to the indicator table (the sensitivity table, the
duration curves, the organisation surveys) under the rules of the version that publishes, not of the version that
stored them ("Nothing is published that was not verified").  December 2026: the gate of these tables grew (the
rest of totaal in the sensitivity table, curves over hidden cohort cells, the survey group rule) and
`monitor publish` of a warehouse built before printed them as stored."""

from __future__ import annotations

import polars as pl
import pytest

from monitor_dagster.gates import DisclosureError
from monitor_dagster.indicators.table import DIMENSIONS
from monitor_dagster.indicators.table import SCHEMA as TABLE
from monitor_dagster.publication import durations as PDUR
from monitor_dagster.publication import sensitivity as PSENS
from monitor_dagster.publication import surveys as PSURV
from monitor_dagster.warehouse import Warehouse

from .test_sensitivity import _published

NW, GEEN = "niet-westers", "geen migratieachtergrond"


def _gated(rows: list[dict]) -> pl.DataFrame:
    base = {d: "totaal" for d in DIMENSIONS} | {"correctie": "geen", "unit": "%", "status": "definitief",
                                                 "trend_break": None, "vintages": "x", "n_weighted": None}
    return pl.DataFrame([base | r for r in rows], schema=TABLE)


def test_a_stored_sensitivity_table_is_published_under_the_current_rules(tmp_path):
    """Stored as an older version gated it: N totaal -32 and geen -26 shown with niet-westers hidden (6 persons
    with a migration background readable).  Loaded for the report, geen goes; the stored table is unchanged."""
    t = _published([("default", "N", "totaal", 2596, 2596.0, False), ("default", "N", NW, 377, 377.0, False),
                    ("default", "N", GEEN, 1939, 1939.0, False), ("a", "N", "totaal", 2564, 2564.0, False),
                    ("a", "N", NW, None, None, True), ("a", "N", GEEN, 1913, 1913.0, False)])
    Warehouse(tmp_path, layer="indicators").write("sensitivity", "all", t, {"rows": t.height})
    shown = PSENS.load(tmp_path, _gated([]))
    assert shown.filter((pl.col("choice") == "a") & (pl.col("herkomst") == GEEN))["suppressed"].item()
    assert PSENS.context(shown)["suppressed"] == 2
    assert PSENS.load(tmp_path).equals(t)         # without the gated table: as stored (the asset's own use)


def test_stored_duration_curves_over_a_hidden_cohort_cell_are_not_published(tmp_path):
    """O25 "werk" of niet-westers is hidden in the gated table; its curve publishes the cohort's n."""
    curve = pl.DataFrame({"indicator_id": ["O25"] * 2, "year": [2019] * 2, "measure": ["werk"] * 2,
                          "herkomst": [NW, GEEN], "correctie": ["geen"] * 2, "oorzaak": ["werk"] * 2,
                          "maand": [1, 1], "value": [0.9, 0.8], "n": [25, 400], "status": ["definitief"] * 2,
                          "suppressed": [False, False], "kind": ["curve"] * 2}).with_columns(pl.col("year").cast(pl.Int32))
    Warehouse(tmp_path, layer="indicators").write("durations", "all", curve, {"rows": 2})
    gated = _gated([{"indicator_id": "O25", "year": 2019, "herkomst": NW, "measure": "werk", "value": None,
                     "n": None, "suppressed": True},
                    {"indicator_id": "O25", "year": 2019, "herkomst": GEEN, "measure": "werk", "value": 60.0,
                     "n": 400, "suppressed": False}])
    out = dict(PDUR.load(tmp_path, gated).select("herkomst", "suppressed").iter_rows())
    assert out == {NW: True, GEEN: False}
    assert PDUR.load(tmp_path, gated).filter(pl.col("herkomst") == NW)["n"].is_null().all()


def test_a_stored_survey_wave_that_shows_a_unanimous_full_class_is_refused(tmp_path):
    """Built before the group rule: AM11's five municipalities all responded and all said "ja" (100 % on 5)."""
    row = _gated([{"indicator_id": "S-g2", "year": 2023, "regio": "AM11", "measure": "specifiek_aanbod: ja",
                   "value": 100.0, "n": 5, "suppressed": False}]).with_columns(
        pl.lit(1.0).alias("moe"), pl.lit(1.0).alias("response_rate"), pl.lit(5, pl.Int64).alias("n_choice"),
        pl.lit(None, pl.String).alias("suppression_reason"))
    w = Warehouse(tmp_path, layer="indicators")
    w.write("inputs_surveys", "2023", row, {"rows": 1})
    with pytest.raises(DisclosureError, match=r"S-g2 2023 'specifiek_aanbod: ja' regio=AM11.*rule group") as e:
        PSURV.load(tmp_path)
    assert "rebuild it with `monitor run" in str(e.value)
    # rebuilt under the rule, the cell is hidden: loads
    w.write("inputs_surveys", "2023", row.with_columns(pl.lit(True).alias("suppressed"), pl.lit(None, pl.Int64)
                                                        .alias("n_choice"), pl.lit(None, pl.Int64).alias("n")),
            {"rows": 1})
    assert PSURV.load(tmp_path).height == 1
