"""The covariate cell of a person (technisch rapport Monitor gelijke kansen §7.2.2; issue 17): the coded fast
path of ``covariate_key`` (Enum columns, as in core/population; issue 12) gives exactly the strings of the text
path (columns stored as text, as in hand-built frames)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from monitor_dagster.corrections import propensity as P

LEEFTIJD = pl.Enum(["jongeren", "niet-jongeren"])
GESLACHT = pl.Enum(["man", "vrouw"])
OPLEIDING = pl.Enum(["laag", "middelbaar", "hoog", "onbekend"])


def _persons(n: int = 4_000, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)

    def pick(values: list, p_null: float = 0.1) -> list:
        return [None if rng.random() < p_null else values[i] for i in rng.integers(0, len(values), n)]

    return pl.DataFrame({
        "person_id": np.arange(n, dtype=np.int64),
        "herkomst_aggregate": pick(["niet-westers", "westers", "geen"], 0.0),
        "leeftijd": pick(["jongeren", "niet-jongeren"]),
        # every bound of AGE_CLASSES and its neighbours, and ages outside the groups
        "age_jan1": pick([14, 15, 19, 20, 26, 27, 34, 35, 44, 45, 54, 55, 66, 67]),
        "geslacht": pick(["man", "vrouw"]),
        "opleidingsniveau": pick(["laag", "middelbaar", "hoog", "onbekend"]),
    }).with_columns(pl.col("herkomst_aggregate").cast(pl.Enum(["niet-westers", "westers", "geen"])),
                    pl.col("leeftijd").cast(LEEFTIJD), pl.col("geslacht").cast(GESLACHT),
                    pl.col("opleidingsniveau").cast(OPLEIDING))


def _as_text(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Enum).cast(pl.String))


@pytest.mark.parametrize("covariates", [None, ("geslacht",), ("leeftijdsklasse", "opleidingsniveau")])
@pytest.mark.parametrize("drop", [None, "age_jan1", "opleidingsniveau"])
def test_coded_key_equals_the_text_key(covariates, drop):
    persons = _persons()
    if drop:
        persons = persons.drop(drop)
    coded_schema = persons.collect_schema()
    assert P._coded_key(coded_schema, covariates or P.COVARIATES) is not None     # the fast path is taken
    assert P._coded_key(_as_text(persons).collect_schema(), covariates or P.COVARIATES) is None
    fast = P.covariate_key(persons.lazy(), covariates).collect()
    text = P.covariate_key(_as_text(persons).lazy(), covariates).collect()
    assert fast.equals(text)
    assert fast["covariaten"].n_unique() > 1 or covariates == ()


def test_coded_key_names_the_cells_of_the_report():
    persons = pl.DataFrame({"person_id": [1, 2, 3, 4], "herkomst_aggregate": ["geen"] * 4,
                            "leeftijd": ["jongeren", "niet-jongeren", None, "niet-jongeren"],
                            "age_jan1": [19, 45, 70, 30], "geslacht": ["vrouw", None, "man", "man"],
                            "opleidingsniveau": ["hoog", "laag", None, "onbekend"]}).with_columns(
        pl.col("leeftijd").cast(LEEFTIJD), pl.col("geslacht").cast(GESLACHT),
        pl.col("opleidingsniveau").cast(OPLEIDING))
    assert P.covariate_key(persons.lazy()).collect()["covariaten"].to_list() == [
        "15-19|vrouw|hoog", "45-54|onbekend|laag", "onbekend|man|onbekend", "27-34|man|onbekend"]
