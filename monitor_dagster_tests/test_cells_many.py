"""cells_many (issue 12, "aggregate once at the finest breakdown level"): several measures of the same persons
from one group-by give exactly the rows of one cells() call per measure, finished or as partial cells, with the
covariate cells of the corrections, the quarters and the separate breakdowns of issue 18."""

from __future__ import annotations

import random

import polars as pl
import pytest

from monitor_dagster.corrections.propensity import covariate_key
from monitor_dagster.indicators.table import (PARTIAL_SCHEMA, cells, cells_many, covariate_cells_of, finalize,
                                              partial_mode)

GROUPS = [("Turkije", "niet-westers"), ("Marokko", "niet-westers"), ("Polen", "westers"),
          ("geen migratieachtergrond", "geen migratieachtergrond")]


def _persons(n: int = 400, seed: int = 3, quarters: bool = False) -> pl.DataFrame:
    """Persons with the breakdown columns, two 0/1 values with nulls (not in that measure's denominator) in
    different places, an amount and a survey weight; with ``quarters`` also a row per quarter he counts in."""
    r = random.Random(seed)
    rows = []
    for pid in range(n):
        g, a = r.choice(GROUPS)
        base = {"person_id": pid, "herkomst_group": g, "herkomst_aggregate": a,
                "generatie": r.choice(["eerste generatie", "tweede generatie", None]),
                "verblijfsduur": r.choice(["0-5 jaar", "5+ jaar", None]),
                "leeftijd": r.choice(["15-26", "27-49", "50-AOW"]), "geslacht": r.choice(["man", "vrouw"]),
                "opleidingsniveau": r.choice(["laag", "middelbaar", "hoog", None]),
                "age_jan1": r.randint(15, 66),
                "regio": r.choice(["Groot Amsterdam", "Rijnmond", None]), "randstad": r.choice(["randstad", "overig"]),
                "a": r.choice([0.0, 1.0, None]), "b": r.choice([0.0, 1.0, 1.0, None, None]),
                "amount": r.choice([None, r.randint(0, 5000) + 0.37]), "wt": r.uniform(0.5, 3.0)}
        if quarters:
            rows.append({**base, "kwartaal": None})
            rows += [{**base, "kwartaal": k} for k in ("K1", "K2", "K3", "K4") if r.random() < 0.6]
        else:
            rows.append(base)
    return pl.DataFrame(rows, infer_schema_length=None)


def _one_by_one(p: pl.DataFrame, measures: dict, **kw) -> pl.DataFrame:
    return pl.concat([cells(p.lazy().with_columns(pl.col(col).alias("value")), indicator_id=i, measure=m, **kw)
                      for (i, m), col in measures.items()], how="vertical")


MEASURES = {("O91", "a"): "a", ("O91", "b"): "b", ("O92", "bedrag"): "amount"}


def _same(x: pl.DataFrame, y: pl.DataFrame) -> None:
    key = pl.all()
    assert x.height > 0
    assert x.schema == y.schema
    assert x.sort(key, nulls_last=True).equals(y.sort(key, nulls_last=True))


@pytest.mark.parametrize("weight", [None, "wt"])
@pytest.mark.parametrize("quarters", [False, True])
def test_many_measures_give_the_rows_of_one_call_each(weight, quarters):
    p = _persons(quarters=quarters)
    kw = {"year": 2021, "unit": "%", "weight": weight}
    _same(cells_many(p.lazy(), MEASURES, **kw), _one_by_one(p, MEASURES, **kw))


def test_many_measures_as_partial_cells_with_covariate_cells():
    """In the engine (partial cells, covariate cells of the corrections): the same partial rows, including the
    covariate cells of each measure with their sums of squares, and no covariate cell of a measure that has no
    person with a value there."""
    # c: a value for three persons only, so most covariate cells have nobody in its denominator
    p = _persons(n=300, seed=11).with_columns(pl.when(pl.col("person_id") < 3).then(1.0).alias("c"))
    measures = {**MEASURES, ("O93", "c"): "c"}
    keys = covariate_key(p.lazy()).collect().lazy()
    kw = {"year": 2021, "unit": "%"}
    with partial_mode(), covariate_cells_of(keys):
        many = cells_many(p.lazy(), measures, **kw)
        single = _one_by_one(p, measures, **kw)
    assert many.schema == pl.Schema(PARTIAL_SCHEMA)
    assert many.filter(pl.col("covariaten").is_not_null()).height > 0
    assert many.filter(pl.col("wvv_sum").is_not_null()).height > 0
    assert many.filter(pl.col("n") == 0).height == 0
    _same(many, single)
    _same(finalize(many, keep_cells=True), finalize(single, keep_cells=True))


def test_a_measure_without_any_value_has_no_rows():
    p = _persons(n=50).with_columns(pl.lit(None, dtype=pl.Float64).alias("b"))
    out = cells_many(p.lazy(), MEASURES, year=2021, unit="%")
    assert set(out["measure"]) == {"a", "bedrag"}
    _same(out, _one_by_one(p, {k: v for k, v in MEASURES.items() if v != "b"}, year=2021, unit="%"))


def test_a_unit_per_indicator():
    """O04-O08 in one pass (register.o04_o08_contract_uren_uurloon): hours per week and euro per hour side by side; each
    row gets its indicator's unit, a share is scaled to % and an amount is not, as in one cells() call each."""
    p = _persons()
    units = {"O91": "%", "O92": "euro"}
    many = cells_many(p.lazy(), MEASURES, year=2021, unit=units)
    one = pl.concat([_one_by_one(p, {k: v for k, v in MEASURES.items() if k[0] == i}, year=2021, unit=u)
                     for i, u in units.items()], how="vertical")
    _same(many, one)
    assert set(many.filter(pl.col("indicator_id") == "O92")["unit"]) == {"euro"}
    assert many.filter(pl.col("indicator_id") == "O91")["value"].max() > 1.0        # a percentage
    with pytest.raises(ValueError, match="no unit for O92"):
        cells_many(p.lazy(), MEASURES, year=2021, unit={"O91": "%"})
