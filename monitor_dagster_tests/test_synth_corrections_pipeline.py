"""The generator's planted truths of the corrected figures (technisch rapport Monitor gelijke kansen, §7.2.2;
issue 17; ``synth/corrections_plant.py``) through the real pipeline: the landing zone with
``plant_corrections=True``, sources and core through ``runner.run_pipeline``, the weights with the domain logic of
``core/propensity_weights`` (``weights_with_balance`` over the years of ``core/population`` it can weight), O04 and O09 through
``indicators.engine.compute_family`` with their covariate cells, and the corrected rows of ``corrections.apply``,
as the indicator table makes them.

* O09 INPPERSPRIM (*compositie*): a large raw gap (more than 5 standard errors from 0), a ``gewogen`` gap and a
  model gap within 3 standard errors of 0;
* O04 vast contract (*groepseffect* of -8 points): ``gewogen`` and model gap within 3 standard errors of -8,
  while the raw gap is not -8 (the composition adds to it);
* the characteristics the plant draws on are those ``core/population`` derives, person by person;
* the plant is off by default and touches nothing but its columns.

The standard errors are those of the planted draws given the persons (their characteristics fixed): the draws
are independent per person with the truth's variance (a share p(1 - p) of the planted chance, an income the noise
variance), so Var(weighted mean) = sum over cells of w^2 n var / (sum of n w)^2.

Zone: 30,000 persons, 2020 only (the weights are fitted over the years of core/population, so one year is
enough; it gives a standard error of 1.4 points on O04's gap, small enough to tell -8 from 0), seed 17, only the
files the population, O04 and O09 read.  The fixture takes about 22 s once dagster, the definitions and statsmodels
are imported (about 33 s alone); measured gaps are in docs/synthetic_data.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from monitor_dagster.corrections import apply as CORR
from monitor_dagster.corrections import propensity as PR
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators import spec as SPEC

#: the population's files (GBAMIGRATIEBUS for the short stays every analysis leaves out, report §2.2;
#: HOOGSTEOPLTAB for the education level), SPOLISBUS for O04, INPATAB for O09
FILES = ("GBAADRESOBJECTBUS", "GBAPERSOONTAB", "GBAMIGRATIEBUS", "SECMBUS", "HOOGSTEOPLTAB", "SPOLISBUS", "INPATAB")
PERSONS, YEAR, SEED = 30_000, 2020, 17
#: the indicators planted, their measure and the family that computes them
PLANTED = {"O04": ("vast contract", "contracts_hours"), "O09": ("INPPERSPRIM", "income")}
K_SE = 3.0                      # a corrected gap lies within K_SE standard errors of the truth
K_RAW = 5.0                     # the raw gap of the composition outcome lies further than K_RAW from 0
#: the model row of a share is a logit, which a constant effect on the probability scale does not fit exactly
LOGIT_SLACK = 0.5
DIMENSIONS = ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector", "kwartaal", "regio", "randstad", "asielstatus", "inkomensklasse")


@dataclass
class Planted:
    truth: dict
    wh: Path
    uncorrected: pl.DataFrame     # rows correctie = geen of O04 and O09
    cells: pl.DataFrame           # their covariate cells (correctie = cel)
    corrected: pl.DataFrame       # rows gewogen and model
    models: list                  # corrections.apply.GapModel
    weights: pl.DataFrame         # core/propensity_weights
    spec: str


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Planted:
    import dagster as dg

    from monitor_dagster.defs.core.weights import population_cells
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("corrections_plant")
    res = generate(SynthConfig(landing=root / "landing", persons=PERSONS, first_year=YEAR, last_year=YEAR,
                               seed=SEED, fmt="parquet", only_files=FILES, plant_corrections=True))
    wh = root / "wh"
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, wh, instance=inst, layers=("sources", "core"))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    model, _, spec = PR.weights_with_balance(PR.years_to_weight(population_cells(wh))[0])   # as the asset
    stored = []
    for ind, (_, family) in PLANTED.items():
        skip = {s.id: "not planted" for s in SPEC.families()[family] if s.id != ind}
        stored.append(ENG.compute_family(family, ENG.warehouse_frames(wh, family, YEAR), YEAR, skip=skip).stored)
    table = pl.concat(stored, how="diagonal_relaxed")
    cells = table.filter(pl.col("correctie") == "cel")
    corrected, models = CORR.corrected([cells], model.weights)
    return Planted(res.truth, wh, table.filter(pl.col("correctie") == "geen"), cells, corrected, models,
                   model.weights, spec)


# ------------------------------------------------------------------------------------------- helpers
def total(rows: pl.DataFrame, indicator: str, correctie: str, herkomst: str) -> dict:
    """The row of a group without breakdown."""
    t = rows.filter((pl.col("indicator_id") == indicator) & (pl.col("measure") == PLANTED[indicator][0])
                    & (pl.col("year") == YEAR) & (pl.col("correctie") == correctie) & (pl.col("herkomst") == herkomst),
                    *[pl.col(d) == "totaal" for d in DIMENSIONS])
    assert t.height == 1, t
    return t.row(0, named=True)


def planted_mean(truth: dict, indicator: str) -> pl.Expr:
    """Per covariate cell and group, the expected value of one person's planted draw (the truth's formula, in
    the table's unit: a share in %)."""
    o = truth["corrections_plant"]["outcomes"][indicator]
    effect = o["group_effect_pp"] / 100 if indicator == "O04" else o["group_effect"]
    mean = (o["base"] + pl.col("leeftijdsklasse").replace_strict(o["age"], return_dtype=pl.Float64)
            + pl.col("geslacht").replace_strict(o["sex"], return_dtype=pl.Float64)
            + pl.col("opleidingsniveau").replace_strict(o["education"], return_dtype=pl.Float64)
            + pl.when(pl.col("group") == "basis").then(effect).otherwise(0.0))
    return mean * 100 if indicator == "O04" else mean


def planted_variance(truth: dict, indicator: str) -> pl.Expr:
    """Per covariate cell and group, the variance of one person's planted draw: a share p(1 - p) (in %^2), an
    income the noise variance plus that of the rounding to whole euros."""
    if indicator == "O09":
        return pl.lit(truth["corrections_plant"]["outcomes"]["O09"]["noise_sd"] ** 2 + 1 / 12)
    p = planted_mean(truth, indicator) / 100
    return p * (1 - p) * 100 ** 2


def weighted_cells(p: Planted, indicator: str) -> pl.DataFrame:
    """The indicator's covariate cells of YEAR with their weight ``w`` (1 where the weights have none, as in
    ``corrections.apply``), planted expectation ``mean`` and variance ``var``."""
    c = CORR.cell_rows(p.cells.filter((pl.col("indicator_id") == indicator) & (pl.col("year") == YEAR)
                                      & (pl.col("measure") == PLANTED[indicator][0])))
    w = p.weights.select("year", "group", "covariaten", pl.col("weight").alias("w"))
    return (c.join(w, on=["year", "group", "covariaten"], how="left").with_columns(pl.col("w").fill_null(1.0))
            .with_columns(planted_mean(p.truth, indicator).alias("mean"),
                          planted_variance(p.truth, indicator).alias("var")))


def gap_se(p: Planted, indicator: str, weighted: bool) -> float:
    """Standard error of the (weighted) gap given the persons: the root of the sum over both groups of
    sum_c w_c^2 n_c var_c / (sum_c n_c w_c)^2."""
    c = weighted_cells(p, indicator)
    if not weighted:
        c = c.with_columns(pl.lit(1.0).alias("w"))
    g = c.group_by("group").agg(((pl.col("w") ** 2 * pl.col("n") * pl.col("var")).sum()
                                 / (pl.col("n") * pl.col("w")).sum() ** 2).alias("v"))
    assert g.height == 2
    return math.sqrt(g["v"].sum())


def expected_gap(p: Planted, indicator: str, weighted: bool) -> float:
    """The gap the planted expectations give on these persons (no noise): with weights, what is left of the
    composition after weighting plus the planted effect."""
    c = weighted_cells(p, indicator)
    if not weighted:
        c = c.with_columns(pl.lit(1.0).alias("w"))
    g = dict(c.group_by("group").agg(((pl.col("n") * pl.col("w") * pl.col("mean")).sum()
                                      / (pl.col("n") * pl.col("w")).sum()).alias("m")).iter_rows())
    return g["basis"] - g["referentie"]


def gaps(p: Planted, indicator: str) -> dict:
    def gap(correctie: str) -> float:
        rows = p.uncorrected if correctie == "geen" else p.corrected
        return (total(rows, indicator, correctie, "niet-westers")["value"]
                - total(rows, indicator, correctie, "geen migratieachtergrond")["value"])
    m = [g for g in p.models if g.indicator_id == indicator and g.year == YEAR and g.measure == PLANTED[indicator][0]]
    assert len(m) == 1
    model_row = total(p.corrected, indicator, "model", "niet-westers")
    assert model_row["value"] == pytest.approx(m[0].gap)
    return {"geen": gap("geen"), "gewogen": gap("gewogen"), "model": m[0].gap, "model_se": m[0].se,
            "se_geen": gap_se(p, indicator, weighted=False), "se_gewogen": gap_se(p, indicator, weighted=True)}


# --------------------------------------------------------------------------------------------- tests
def test_the_truth_file_records_the_plant(planted):
    t = planted.truth["corrections_plant"]
    assert planted.truth["config"]["plant_corrections"] is True
    assert t["years"] == [YEAR] and t["report"] == "technisch rapport Monitor gelijke kansen, §7.2.2"
    assert t["outcomes"]["O09"]["case"] == "compositie" and t["outcomes"]["O09"]["expected_corrected_gap"] == 0.0
    assert t["outcomes"]["O04"]["case"] == "groepseffect"
    assert t["outcomes"]["O04"]["expected_corrected_gap"] == t["outcomes"]["O04"]["group_effect_pp"] == -8.0
    assert set(t["invalidates"]) <= set(planted.truth), "names truth entries that exist"


def test_composition_gap_vanishes_after_correction(planted):
    """O09: the income depends on age class, sex and education only, so the raw gap is composition, and the
    gewogen and model gaps are 0 within sampling error (seed 17: raw -5,116 euro, 28 standard errors; gewogen
    -324, 1.7 standard errors)."""
    g = gaps(planted, "O09")
    assert abs(g["geen"]) > K_RAW * g["se_geen"], g
    assert abs(g["gewogen"]) < K_SE * g["se_gewogen"], g
    assert abs(g["model"]) < K_SE * g["model_se"], g
    # without the noise: the weights leave less than a tenth of the composition gap (the main-effects weighting
    # balances the margins to within about a point, not exactly: -134 of -5,007 euro)
    composition = expected_gap(planted, "O09", weighted=False)
    assert abs(composition) > K_RAW * g["se_geen"]
    assert abs(expected_gap(planted, "O09", weighted=True)) < 0.1 * abs(composition), g
    # the corrected rows count the persons of their uncorrected twins
    for h in ("niet-westers", "geen migratieachtergrond"):
        assert total(planted.corrected, "O09", "gewogen", h)["n"] == total(planted.uncorrected, "O09", "geen", h)["n"]


def test_group_effect_remains_after_correction(planted):
    """O04: a permanent contract is 8 points less likely for the basisgroep in every cell; the gewogen and
    model gaps are -8 within sampling error, the raw gap is not (the basisgroep is younger and lower educated;
    seed 17: raw -14.2, gewogen -7.0, model -7.5 points, standard errors 1.3-1.4)."""
    effect = planted.truth["corrections_plant"]["outcomes"]["O04"]["expected_corrected_gap"]
    g = gaps(planted, "O04")
    assert abs(g["gewogen"] - effect) < K_SE * g["se_gewogen"], g
    assert abs(g["model"] - effect) < K_SE * g["model_se"] + LOGIT_SLACK, g
    assert abs(g["geen"] - effect) > K_SE * g["se_geen"], g
    # the band of +-K_SE standard errors around the effect leaves out 0 by 2 more: without the effect the test fails
    assert abs(effect) > (K_SE + 2) * g["se_gewogen"], g


def test_weights_balance_the_planted_zone(planted):
    """The corrections rest on balanced weights (the asset's blocking check)."""
    from monitor_dagster.defs.core.weights import population_cells

    cells = population_cells(planted.wh)
    assert PR.balance_problems(PR.balance(cells, planted.weights)) == [], planted.spec


def test_the_plant_draws_on_the_characteristics_the_pipeline_derives(planted):
    """Person by person, the generator's age class, sex, education level and group (``person_cells``) equal
    what ``core/population`` derives for the weighting population: the planted chance depends on the very cell
    the corrections weight on."""
    from monitor_dagster.synth import education as edu_mod
    from monitor_dagster.synth.corrections_plant import person_cells
    from monitor_dagster.synth.generate import sub_rng
    from monitor_dagster.synth.persons import simulate_demography
    from monitor_dagster.warehouse import Warehouse

    demo = simulate_demography(PERSONS, sub_rng(SEED, "demography"), YEAR, YEAR)
    ew = edu_mod.simulate_education(demo.persons, sub_rng(SEED, "education"), YEAR, YEAR)
    mine = person_cells(demo.persons, edu_mod.project_hoogsteopltab(ew, demo.persons, demo.residence, YEAR), YEAR)
    pop = PR.weighting_population(Warehouse(planted.wh, layer="core").read("population", str(YEAR))).select(
        "person_id", (pl.col("herkomst_aggregate").cast(pl.String) == PR.BASIS).alias("basis"),
        PR.age_class().alias("leeftijdsklasse"), pl.col("geslacht").cast(pl.String),
        pl.col("opleidingsniveau").cast(pl.String)).collect()
    joined = pop.join(mine.with_columns(pl.col("rinpersoon").cast(pl.Int64).alias("person_id")), on="person_id",
                      how="left", suffix="_synth")
    assert pop.height > 10_000 and joined["pid"].null_count() == 0
    for c in ("basis", "leeftijdsklasse", "geslacht", "opleidingsniveau"):
        assert (joined[c] == joined[f"{c}_synth"]).all(), c
    assert joined["basis"].sum() > 1_500 and joined["opleidingsniveau"].n_unique() == 4


# ------------------------------------------------------------------------------- off by default, only its columns
SMALL_FILES = ("GBAPERSOONTAB", "HOOGSTEOPLTAB", "SPOLISBUS", "INPATAB")


def _small(tmp_path: Path, name: str, **kw):
    from monitor_dagster.synth.generate import SynthConfig, generate

    return generate(SynthConfig(landing=tmp_path / name, persons=1_500, first_year=YEAR, last_year=YEAR, seed=SEED,
                                fmt="parquet", only_files=SMALL_FILES, **kw))


def test_off_by_default_and_only_its_columns_change(tmp_path):
    """Default: no plant in the truth.  With the plant the same seed writes the same files but for the planted
    columns: SCONTRACTSOORT of SPOLISBUS, the incomes of INPATAB."""
    default, plant = _small(tmp_path, "default"), _small(tmp_path, "plant", plant_corrections=True)
    written = {n: json.loads(r.config.truth_path.read_text()) for n, r in (("default", default), ("plant", plant))}
    assert "corrections_plant" not in written["default"] and written["default"]["config"]["plant_corrections"] is False
    assert "corrections_plant" in written["plant"]
    a, b = ({f.path: f for f in r.files} for r in (default, plant))
    assert a.keys() == b.keys()
    changed = {a[k].file_id for k in a if a[k].sha256 != b[k].sha256}
    assert changed == {"SPOLISBUS", "INPATAB"}, changed
    planted_columns = {"SPOLISBUS": {"SCONTRACTSOORT"}, "INPATAB": {"INPPERSPRIM", "INPPERSBRUT", "INPPERSINK"}}
    for k in a:
        if a[k].file_id not in planted_columns:
            continue
        x = pl.read_parquet(default.config.landing / k)
        y = pl.read_parquet(plant.config.landing / k)
        assert x.columns == y.columns and x.height == y.height
        differ = {c for c in x.columns if not x[c].equals(y[c])}
        assert differ == planted_columns[a[k].file_id], (k, differ)


def test_cli_flag_reaches_the_config(tmp_path):
    """``monitor synth --plant-corrections`` sets the parameter (its check of the years answers before anything
    is written)."""
    from typer.testing import CliRunner

    from monitor_dagster.cli import app

    r = CliRunner().invoke(app, ["synth", "--landing", str(tmp_path / "z"), "--years", "2008-2010",
                                 "--plant-corrections"])
    assert r.exit_code != 0 and "start in 2011" in r.output, r.output
    assert not (tmp_path / "z").exists()
