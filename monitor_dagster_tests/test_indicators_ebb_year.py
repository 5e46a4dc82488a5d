"""EBB O01-O03 per year (report 4.1) and the AOW rule of the leeftijd breakdown (report 2.2), issue 16.

Hand-built respondents from the report's words first ("Iemand is werkloos in een bepaald jaar als diegene
maximaal 52 uur per jaar betaald werk heeft (oftewel een uur per week). Als iemand de EBB op meerdere
peilmomenten heeft ingevuld, nemen we de gewichten van de verschillende peilingen mee."; table 1: AOW age
66 + 4 months in 2019), then a synthetic EBBNW with the person's true birth date from GBAPERSOONTAB as truth.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.core.characteristics import aow_date
from monitor_dagster.indicators.ebb import (SURVEY_ID, age_basis, ebb_person_years, ebb_persons, ebb_waves, o01_werkloosheid,
                                            o02_bruto_participatie, o03_netto_participatie)

COLS = ["person_id", "EbbTypGolf", "EbbGewJaarGewichtA", "EbbAflLft", "EbbAflHerkomstGBA2d", "EbbAflGeneratie",
        "EbbAflGeslacht", "EbbAflOpl3", "EbbAflUrenWerk", "EbbAflZoek4Wk", "EbbAflBeschikb", "EbbAflGebJaar",
        "EbbAflGebMaand"]


def _frame(rows: list[tuple], extra: dict | None = None) -> pl.LazyFrame:
    """Rows (person, wave, weight, age, hours, searched, available[, birth year, birth month]) of a native
    man with middelbaar onderwijs; other columns through ``extra``."""
    full = []
    for r in rows:
        pid, wave, w, age, hours, zoek, beschikb, *birth = r
        by, bm = (birth + [None, None])[:2]
        full.append((pid, wave, w, age, "00", "0", "1", "2", hours, zoek, beschikb, by, bm))
    df = pl.DataFrame(full, schema={c: t for c, t in zip(COLS, [pl.Int64, pl.String, pl.Float64, pl.Int64, pl.String,
                                                                 pl.String, pl.String, pl.String, pl.Int64,
                                                                 pl.String, pl.String, pl.Int64, pl.Int64])},
                      orient="row")
    return (df.with_columns(**{k: pl.Series(v) for k, v in extra.items()}) if extra else df).lazy()


def _years(rows, year=2020, **kw) -> dict:
    p = ebb_person_years(_frame(rows, **kw), year).collect()
    return {r["person_key"]: r for r in p.iter_rows(named=True)}


def _totaal(df: pl.DataFrame) -> dict:
    rows = df.filter((pl.col("herkomst") == "totaal") & (pl.col("leeftijd") == "totaal")
                     & (pl.col("generatie") == "totaal") & (pl.col("geslacht") == "totaal")
                     & (pl.col("opleiding") == "totaal"))
    assert rows.height == 1
    return rows.row(0, named=True)


# ------------------------------------------------------------------------------------------ the yearly rule
def test_two_waves_0_and_2_hours_make_52_hours_a_year_werkzaam():
    """0 h in one wave, 2 h a week in the other: 1 hour a week on average = 52 hours a year -> werkzaam
    ("oftewel een uur per week"); per wave only one of the two waves is werkzaam."""
    y = _years([(1, "1", 100.0, 40, 0, "2", "2"), (1, "2", 100.0, 40, 2, "2", "2")])["p1"]
    assert y["hours_year"] == pytest.approx(52.0) and y["employed"] is True and y["waves"] == 2
    f = _frame([(1, "1", 100.0, 40, 0, "2", "2"), (1, "2", 100.0, 40, 2, "2", "2")])
    assert _totaal(o03_netto_participatie(f, 2020))["value"] == pytest.approx(100.0)
    assert _totaal(o03_netto_participatie(f, 2020, classification="wave"))["value"] == pytest.approx(50.0)


def test_less_than_52_hours_a_year_is_not_werkzaam():
    """0 h and 1 h a week: 26 hours a year, "maximaal 52 uur" -> not werkzaam, although one wave is; the
    searching wave without work makes the year werkloos."""
    y = _years([(1, "1", 100.0, 40, 0, "1", "1"), (1, "2", 100.0, 40, 1, "2", "1")])["p1"]
    assert y["hours_year"] == pytest.approx(26.0)
    assert (y["employed"], y["unemployed"], y["labour_force"]) == (False, True, True)


def test_werkloos_when_searching_and_available_in_at_least_one_wave():
    """0 h in both waves, searching and available in one, not searching in the other: werkloos in the year
    (rule: at least one CBS-werkloos wave); per wave half a person."""
    rows = [(1, "1", 100.0, 40, 0, "1", "1"), (1, "2", 300.0, 40, 0, "2", "1"),
            (2, "1", 600.0, 40, 40, "2", "2")]
    y = _years(rows)["p1"]
    assert (y["employed"], y["unemployed"]) == (False, True)
    f = _frame(rows)
    assert _totaal(o01_werkloosheid(f, 2020))["value"] == pytest.approx(100 * 400 / 1000)
    assert _totaal(o01_werkloosheid(f, 2020, classification="wave"))["value"] == pytest.approx(100 * 100 / 700)


def test_searching_while_working_is_not_werkloos():
    """A wave with an hour of work and a search for (other) work is not a werkloos wave: a year of 26 hours
    with that wave and a wave not searching is outside the labour force."""
    y = _years([(1, "1", 100.0, 40, 1, "1", "1"), (1, "2", 100.0, 40, 0, "2", "1")])["p1"]
    assert (y["employed"], y["unemployed"], y["labour_force"]) == (False, False, False)


def test_weights_of_the_waves_add_up_to_the_person_year():
    """Person-year weight = the sum of its waves' weights: the weighted population 15-75 (O02/O03) is the same
    per year and per wave; n counts person-years per year and respondent-waves per wave."""
    rows = [(1, "1", 100.0, 40, 40, "2", "2"), (1, "2", 250.0, 40, 0, "1", "1"), (1, "3", 50.0, 40, 0, "1", "1"),
            (2, "2", 700.0, 30, 0, "2", "2")]
    assert _years(rows)["p1"]["EbbGewJaarGewichtA"] == pytest.approx(400.0)
    f = _frame(rows)
    yr, wv = _totaal(o02_bruto_participatie(f, 2020)), _totaal(o02_bruto_participatie(f, 2020, classification="wave"))
    assert yr["n_weighted"] == pytest.approx(1100.0) == wv["n_weighted"]
    assert (yr["n"], wv["n"]) == (2, 4)
    # person 1: 40, 0, 0 h -> 13.3 h a week -> werkzaam with all 400; per wave 100 werkzaam + 300 werkloos
    assert _totaal(o03_netto_participatie(f, 2020))["value"] == pytest.approx(100 * 400 / 1100)
    assert _totaal(o03_netto_participatie(f, 2020, classification="wave"))["value"] == pytest.approx(100 * 100 / 1100)
    assert _totaal(o01_werkloosheid(f, 2020))["value"] == 0.0


def test_waves_outside_15_75_are_left_out_before_the_year_is_formed():
    """A respondent 74 in one wave and 75 in the next keeps only the wave in the 15-75 population (CBS
    definition, report 4.1): its weight and hours alone make the person-year."""
    y = _years([(1, "1", 100.0, 74, 0, "2", "2"), (1, "2", 900.0, 75, 40, "2", "2")])["p1"]
    assert (y["waves"], y["EbbGewJaarGewichtA"], y["employed"]) == (1, 100.0, False)


def test_unknown_hours():
    """Waves with unknown hours do not count in the year's mean; a person-year without known hours drops out."""
    ys = _years([(1, "1", 100.0, 40, None, "2", "2"), (1, "2", 100.0, 40, 3, "2", "2"),
                 (2, "1", 100.0, 40, None, "1", "1")])
    assert ys["p1"]["employed"] is True and ys["p1"]["hours_year"] == pytest.approx(156.0)
    assert ys["p2"]["employed"] is None and ys["p2"]["labour_force"] is None
    f = _frame([(1, "1", 100.0, 40, None, "2", "2"), (1, "2", 100.0, 40, 3, "2", "2"), (2, "1", 100.0, 40, None, "1", "1")])
    assert _totaal(o02_bruto_participatie(f, 2020))["n"] == 1


def test_characteristics_come_from_the_earliest_wave():
    """Education and the age at the interview (no birth date) of the first wave by EbbTypGolf, whatever the
    row order: 26 in wave 1 and 27 in wave 2 is a jongere, middelbaar then hoog is middelbaar."""
    f = _frame([(1, "2", 100.0, 27, 40, "2", "2"), (1, "1", 100.0, 26, 40, "2", "2")]).with_columns(
        pl.Series("EbbAflOpl3", ["3", "2"]))
    p = ebb_person_years(f, 2020).collect().row(0, named=True)
    assert (p["leeftijd"], p["opleidingsniveau"], p["leeftijd_bron"]) == ("jongeren", "middelbaar", "leeftijd")
    w = ebb_waves(f, 2020).collect()
    assert sorted(w["leeftijd"].to_list()) == ["jongeren", "niet-jongeren"]


def test_person_key_survey_id_and_rows_without_a_key():
    """Without RINPERSOON the survey's person id joins the waves; a row with neither stays a person-year of
    its own (so two such waves count twice)."""
    rows = [(None, "1", 100.0, 40, 0, "2", "2"), (None, "2", 100.0, 40, 4, "2", "2"),
            (None, "1", 100.0, 40, 0, "2", "2"), (None, "2", 100.0, 40, 4, "2", "2")]
    f = _frame(rows, extra={"EbbStkPersIdVersleuteld": ["A7", "A7", None, None]})
    p = ebb_person_years(f, 2020).collect()
    assert p.height == 3
    assert p.filter(pl.col("person_key") == "sA7")["employed"].to_list() == [True]
    assert sorted(p.filter(pl.col("person_key").str.starts_with("w"))["employed"].to_list()) == [False, True]
    # without the survey id column every keyless row is its own person-year
    assert ebb_person_years(_frame(rows), 2020).collect().height == 4


def test_person_years_of_a_bucket_in_several_chunks_with_the_streaming_engine():
    """A bucket of the engine is an in-memory frame of several chunks (core/buckets.bucket_frames), and the pipeline
    collects with the streaming engine.  There, polars 2.1's ``pl.format`` of the survey id panicked ("assertion
    failed: i < self.len()"): at national scale the bucket holding the respondents without RINPERSOON stopped
    the EBB family (thirty-ninth session).  The person-years must be what the in-memory engine gives."""
    chunks = []
    for c in range(5):       # five chunks of five rows, the first of each unlinked: a layout that panicked
        rows = [(None if i == 0 else 5 * c + i, "1", 100.0, 40, 40 if i % 2 else 0, "1", "1") for i in range(5)]
        ids = [f"E{5 * c}" if i == 0 else None for i in range(5)]
        chunks.append(_frame(rows, extra={"EbbStkPersIdVersleuteld": ids}).collect())
    bucket = pl.concat(chunks, rechunk=False)
    assert bucket.n_chunks() == 5
    streamed = ebb_person_years(bucket.lazy(), 2020).collect(engine="streaming").sort("person_key")
    in_memory = ebb_person_years(bucket.lazy(), 2020).collect(engine="in-memory").sort("person_key")
    assert streamed.equals(in_memory) and streamed.height == 25
    assert set(streamed.filter(pl.col("person_id").is_null())["person_key"]) == {"sE0", "sE5", "sE10", "sE15", "sE20"}


def test_codes_stored_as_enum_give_what_codes_as_text_give():
    """The ingest stores the EBB's codes as Enums, hand-built frames as text: the recoding looks the first up by
    category number and the second by text, and both give the same person-years and waves, with a code outside
    the mapping (opleiding 9, herkomst 99) and a missing one (null) alike; then the earliest wave by
    EbbTypGolf decides, a wave without EbbTypGolf before the others (as a null sorts), also for respondents
    keyed by the survey id."""
    rows = [(1, "2", 100.0, 40, 40, "2", "2"), (1, "1", 100.0, 25, 0, "1", "1"), (2, None, 50.0, 30, 0, "1", "1"),
            (2, "1", 50.0, 60, 8, "2", "2"), (None, "3", 70.0, 20, 0, "2", "1"), (None, "2", 70.0, 21, 2, "1", "1"),
            (None, "1", 80.0, 50, 12, None, None)]
    extra = {"EbbAflOpl3": ["3", "1", "9", "2", None, "3", "1"], "EbbAflHerkomstGBA2d": ["01", "13", "99", "00", "05", None, "16"],
             "EbbAflGeneratie": ["1", "2", "0", None, "1", "2", "0"], "EbbAflGeslacht": ["1", "2", None, "2", "1", "1", "2"],
             "EbbStkPersIdVersleuteld": [None, None, None, None, "X1", "X1", None]}
    text = _frame(rows, extra=extra)
    enums = {"EbbAflOpl3": ["1", "2", "3", "9"], "EbbAflHerkomstGBA2d": ["00", "01", "05", "13", "16", "99"],
             "EbbAflGeneratie": ["0", "1", "2"], "EbbAflGeslacht": ["1", "2"], "EbbTypGolf": ["1", "2", "3"],
             "EbbAflZoek4Wk": ["1", "2"], "EbbAflBeschikb": ["1", "2"]}
    coded = text.with_columns(pl.col(c).cast(pl.Enum(cats)) for c, cats in enums.items())
    a = ebb_person_years(text, 2020).collect().sort("person_key")
    b = ebb_person_years(coded, 2020).collect().sort("person_key")
    assert a.equals(b) and a.height == 4
    assert ebb_waves(text, 2020).collect().sort("person_key", "wave_order").equals(
        ebb_waves(coded, 2020).collect().sort("person_key", "wave_order"))
    by = {r["person_key"]: r for r in a.iter_rows(named=True)}
    # person 1: wave 1 (the second row) is the earliest: herkomst 13 Duitsland, 25 -> jongeren, laag
    assert (by["p1"]["herkomst_group"], by["p1"]["leeftijd"], by["p1"]["opleidingsniveau"]) == \
        ("Duitsland", "jongeren", "laag")
    # person 2: the wave without EbbTypGolf first: herkomst 99 unknown, opleiding 9 -> onbekend, no geslacht
    assert (by["p2"]["herkomst_group"], by["p2"]["herkomst_aggregate"], by["p2"]["opleidingsniveau"],
            by["p2"]["geslacht"], by["p2"]["leeftijd"]) == (None, None, "onbekend", None, "niet-jongeren")
    # the survey id X1: wave 2 before wave 3 (herkomst missing, age 21); the keyless row a person-year alone
    assert (by["sX1"]["waves"], by["sX1"]["herkomst_group"], by["sX1"]["opleidingsniveau"]) == (2, None, "hoog")
    assert [k for k in by if k.startswith("w")] and by["p1"]["generatie"] == "tweede"
    assert _totaal(o02_bruto_participatie(text, 2020)) == _totaal(o02_bruto_participatie(coded, 2020))


def test_o01_to_o03_from_one_aggregation_equal_one_cells_call_each():
    """The engine computes O01-O03 in one pass (cells_many): every row the same as one cells() call per indicator
    on its own denominator (the labour force for O01, everybody 15-75 for O02 and O03), for person-years and
    respondent-waves; unknown hours (labour force unknown) are in no denominator."""
    from monitor_dagster.indicators.ebb import EBB_DIMENSIONS, WEIGHT, o01_o03_werkloosheid_participatie
    from monitor_dagster.indicators.table import cells

    rows = [(1, "1", 100.0, 40, 0, "1", "1"), (1, "2", 300.0, 40, 0, "2", "1"), (2, "1", 600.0, 30, 40, "2", "2"),
            (3, "1", 50.0, 20, None, "1", "1"), (4, "2", 80.0, 60, 0, "2", "2"), (5, "1", 70.0, 22, 3, "2", "2")]
    f = _frame(rows, extra={"EbbAflHerkomstGBA2d": ["01", "01", "00", "02", "00", "01"]})
    for classification in ("year", "wave"):
        p = ebb_persons(f, 2020, classification)
        one = {"O01": p.filter(pl.col("labour_force")).with_columns(pl.col("unemployed").cast(pl.Float64).alias("value")),
               "O02": p.with_columns(pl.col("labour_force").cast(pl.Float64).alias("value")),
               "O03": p.with_columns(pl.col("employed").cast(pl.Float64).alias("value"))}
        want = pl.concat([cells(v, indicator_id=i, year=2020, unit="%", weight=WEIGHT, dimensions=EBB_DIMENSIONS)
                          for i, v in one.items()])
        got = o01_o03_werkloosheid_participatie(f, 2020, classification=classification)
        key = ["indicator_id", "herkomst", "generatie", "leeftijd", "geslacht", "opleiding", "measure"]
        assert got.sort(key).equals(want.sort(key)) and got.height > 20
        # labour force: person 1 (werkloos in wave 1), 2 and 5; everybody with known hours: 4 persons, 5 waves
        assert _totaal(got.filter(pl.col("indicator_id") == "O01"))["n"] == 3
        assert _totaal(got.filter(pl.col("indicator_id") == "O02"))["n"] == (4 if classification == "year" else 5)


def test_classification_must_be_year_or_wave():
    with pytest.raises(ValueError, match="classification"):
        ebb_persons(_frame([(1, "1", 1.0, 40, 0, "2", "2")]), 2020, classification="quarter")


# ------------------------------------------------------------------------------------------ age and AOW
def test_aow_age_2019_table_1():
    """2019: AOW age 66 + 4 months (report table 1).  Born September 1953: 66 + 4 months on 1 January 2020,
    under the AOW age all of 2019 -> niet-jongeren.  Born August 1953: AOW on 1 December 2019 -> not
    niet-jongeren (leeftijd null: in the totaal rows only).  Both are 66 at an interview in the fourth quarter.
    Only a birth year 1953: 1 January 1953 (earliest) -> AOW in May 2019 -> not niet-jongeren (conservative).
    No birth date: age 66 at the interview -> niet-jongeren 27-74, flagged ``leeftijd``."""
    rows = [(1, "1", 100.0, 66, 40, "2", "2", 1953, 9), (2, "1", 100.0, 66, 40, "2", "2", 1953, 8),
            (3, "1", 100.0, 66, 40, "2", "2", 1953), (4, "1", 100.0, 66, 40, "2", "2")]
    ys = _years(rows, year=2019)
    got = {k: (v["leeftijd"], v["leeftijd_bron"]) for k, v in ys.items()}
    assert got == {"p1": ("niet-jongeren", "geboortedatum"), "p2": (None, "geboortedatum"),
                   "p3": (None, "geboortejaar"), "p4": ("niet-jongeren", "leeftijd")}
    # 2018 (AOW age 66): born September 1953 is 65 all year; August 1953 too -> both niet-jongeren
    ys18 = _years([(r[0], r[1], r[2], 65, *r[4:]) for r in rows], year=2018)
    assert ys18["p1"]["leeftijd"] == ys18["p2"]["leeftijd"] == "niet-jongeren"
    o3 = o03_netto_participatie(_frame(rows), 2019)
    nj = o3.filter((pl.col("herkomst") == "totaal") & (pl.col("leeftijd") == "niet-jongeren")).row(0, named=True)
    assert nj["n"] == 2 and _totaal(o3)["n"] == 4                  # p2, p3 out of the breakdown, in the totaal
    b = age_basis(_frame(rows), 2019)
    assert dict(zip(b["leeftijd_bron"].to_list(), b["n"].to_list())) == {
        "geboortedatum": 2, "geboortejaar": 1, "leeftijd": 1}


def test_birth_year_only_is_read_as_1_january():
    """2016: AOW age 65 + 6 months (table 1).  Born July 1951: AOW on 1 January 2017 -> niet-jongeren; June
    1951: 1 December 2016 -> not.  Birth year 1951 without month: read as 1 January 1951 (AOW July 2016) ->
    not niet-jongeren, although a mid-year reading (1 July) would keep him: nobody above the AOW age is kept."""
    ys = _years([(1, "1", 1.0, 65, 40, "2", "2", 1951, 7), (2, "1", 1.0, 65, 40, "2", "2", 1951, 6),
                 (3, "1", 1.0, 65, 40, "2", "2", 1951)], year=2016)
    assert [ys[k]["leeftijd"] for k in ("p1", "p2", "p3")] == ["niet-jongeren", None, None]


def test_jongeren_on_1_january_with_a_birth_date():
    """Report 2.2: jongeren 15 to 27 on 1 January of year t.  Born June 1992: 26 on 1 January 2019 ->
    jongere, even when 27 at the interview; without the birth date the age at the interview (27) decides."""
    ys = _years([(1, "1", 1.0, 27, 40, "2", "2", 1992, 6), (2, "1", 1.0, 27, 40, "2", "2")], year=2019)
    assert (ys["p1"]["leeftijd"], ys["p2"]["leeftijd"]) == ("jongeren", "niet-jongeren")
    # 14 on 1 January, 15 at the interview: in the population 15-75, in no leeftijd group
    y = _years([(1, "1", 1.0, 15, 0, "2", "2", 2004, 3)], year=2019)["p1"]
    assert y["leeftijd"] is None


# ------------------------------------------------------------------------------------------ synthetic EBBNW
@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """A synthetic EBBNW 2019 read as the indicators see it (person_id from RINPERSOON), and the persons'
    true birth dates (GBAPERSOONTAB), read from the landing files; the ingested frame is compared with it in
    test_year_rule_on_the_ingested_warehouse_frame."""
    from monitor_dagster.synth import calibration
    from monitor_dagster.synth.generate import SynthConfig, generate

    tmp = tmp_path_factory.mktemp("ebb_year")
    res = generate(SynthConfig(landing=tmp / "landing", persons=20_000, first_year=2019, last_year=2019, seed=11,
                               fmt="parquet", only_files=("EBBNW", "GBAPERSOONTAB")))
    path = {f.file_id: res.config.landing / f.path for f in res.files if f.year == 2019}
    # an unlinked respondent's RINPERSOON is empty (cbs_files: "linkable ... for most respondents"): no person_id
    ebb = calibration._read(path["EBBNW"]).with_columns(pl.col("RINPERSOON").cast(pl.Int64, strict=False)
                                                        .alias("person_id"))
    gba = calibration._read(path["GBAPERSOONTAB"]).select(
        pl.col("RINPERSOON").cast(pl.Int64).alias("person_id"),
        pl.date(pl.col("GBAGEBOORTEJAAR").cast(pl.Int64), pl.col("GBAGEBOORTEMAAND").cast(pl.Int64),
                pl.col("GBAGEBOORTEDAG").cast(pl.Int64)).alias("true_birth"))
    return ebb.lazy(), gba, res.config.landing


YEAR = 2019
year_vs_wave: dict = {}


def test_synthetic_year_versus_wave(synth):
    """The yearly rule on synthetic data: n = distinct respondents aged 15-75, the same weighted population as
    per wave, single-wave respondents classified as their wave, and the year-wave difference of O03 bounded
    by the weight of respondents whose waves disagree (only they can move).  The measured differences are
    printed (``-s``) for docs/indicators_ebb.md."""
    ebb, _, _ = synth
    raw = ebb.filter(pl.col("EbbAflLft").is_between(15, 74)).collect()
    assert raw.group_by("person_id").len()["len"].max() >= 3            # multi-wave respondents exercised
    unlinked = raw.filter(pl.col("person_id").is_null())
    assert unlinked.height and unlinked[SURVEY_ID].n_unique() < unlinked.height   # ... unlinked ones too
    respondents = raw.select(pl.coalesce(pl.format("p{}", "person_id"), pl.format("s{}", SURVEY_ID))).to_series()
    res = {}
    for f in (o01_werkloosheid, o02_bruto_participatie, o03_netto_participatie):
        y, w = f(ebb, YEAR), f(ebb, YEAR, classification="wave")
        for h in ("totaal", "niet-westers", "geen migratieachtergrond"):
            ry, rw = (t.filter((pl.col("herkomst") == h) & (pl.col("leeftijd") == "totaal") & (pl.col("generatie") == "totaal")
                               & (pl.col("geslacht") == "totaal") & (pl.col("opleiding") == "totaal")).row(0, named=True)
                      for t in (y, w))
            res[(f.__name__[:3].upper(), h)] = (ry, rw)
    ty, tw = res[("O02", "totaal")]
    assert ty["n"] == respondents.n_unique() and tw["n"] == raw.height
    assert ty["n_weighted"] == pytest.approx(tw["n_weighted"], rel=1e-9)
    # single-wave respondents: the year rule is the CBS rule of their wave
    waves = ebb_waves(ebb, YEAR).collect()
    years = ebb_person_years(ebb, YEAR).collect()
    one = years.filter(pl.col("waves") == 1).join(waves.select("person_key", pl.col("employed").alias("e_w"),
                                                               pl.col("unemployed").alias("u_w")), on="person_key")
    assert one.height > 100
    assert (one["employed"] == one["e_w"]).all() and (one["unemployed"] == one["u_w"]).all()
    # O03: only respondents with both werkzaam and not-werkzaam waves can change between the rules
    mixed = waves.group_by("person_key").agg(pl.col("employed").n_unique().alias("k"),
                                             pl.col("EbbGewJaarGewichtA").sum().alias("w"))
    share = 100 * mixed.filter(pl.col("k") > 1)["w"].sum() / mixed["w"].sum()
    oy, ow = res[("O03", "totaal")]
    assert 0 < abs(oy["value"] - ow["value"]) <= share
    year_vs_wave.update({k: (round(a["value"], 2), round(b["value"], 2)) for k, (a, b) in res.items()})
    print("\nyear vs wave (synthetic 2019, 20,000 persons, seed 11):", year_vs_wave, f"mixed share {share:.1f}%")


def test_synthetic_aow_rule_against_true_birth_dates(synth):
    """Against the true birth date (GBAPERSOONTAB, day included): nobody classified niet-jongeren by the
    birth-date rule reaches the AOW age in the year; the only true niet-jongeren lost have a known month
    and their AOW date in January of t+1 (the day unknown, taken as the 1st), or only a birth year; jongeren
    differ only for a birthday on 1 January.  The planted shares of respondents without birth date (4 %) and
    without month (6 %) come back in ``leeftijd_bron`` within 4 standard errors."""
    from monitor_dagster.synth.ebb import EBB_NO_BIRTH_DATE, EBB_NO_BIRTH_MONTH

    ebb, gba, _ = synth
    p = ebb_person_years(ebb, YEAR).collect().join(gba, on="person_id", how="left")
    linked = p.filter(pl.col("person_id").is_not_null())    # the unlinked respondents have no GBA birth date
    assert linked["true_birth"].null_count() == 0 and 0 < p.height - linked.height < 0.05 * p.height
    end = dt.date(YEAR, 12, 31)
    born = pl.col("true_birth")
    age1 = YEAR - 1 - born.dt.year() + ((born.dt.month() == 1) & (born.dt.day() == 1)).cast(pl.Int32)
    t = linked.with_columns(aow_date(born).alias("aow_true"), age1.alias("age1")).with_columns(
        pl.when(pl.col("age1").is_between(15, 26)).then(pl.lit("jongeren"))
        .when((pl.col("age1") >= 27) & (pl.col("aow_true") > end)).then(pl.lit("niet-jongeren")).alias("truth"))
    by_birth = t.filter(pl.col("leeftijd_bron") != "leeftijd")
    got = by_birth["leeftijd"].cast(pl.String)
    assert by_birth.filter((got == "niet-jongeren") & (pl.col("truth") != "niet-jongeren").fill_null(True)).height == 0
    lost = by_birth.filter((pl.col("truth") == "niet-jongeren") & (got != "niet-jongeren").fill_null(True))
    assert lost.height > 0                                               # the conservative side is exercised
    month_lost = lost.filter(pl.col("leeftijd_bron") == "geboortedatum")
    assert (month_lost["aow_true"] < dt.date(YEAR + 1, 2, 1)).all()
    jong = by_birth.filter((got == "jongeren") != (pl.col("truth") == "jongeren").fill_null(False))
    assert ((jong["true_birth"].dt.month() == 1) & (jong["true_birth"].dt.day() == 1)).all()
    # planted shares of the generator
    n = p.height
    for bron, share in (("leeftijd", EBB_NO_BIRTH_DATE), ("geboortejaar", EBB_NO_BIRTH_MONTH)):
        k = p.filter(pl.col("leeftijd_bron") == bron).height
        assert abs(k / n - share) <= 4 * (share * (1 - share) / n) ** 0.5, (bron, k / n)
    # without a birth date the 27-74 rule keeps persons above the AOW age among niet-jongeren
    no_date = t.filter(pl.col("leeftijd_bron") == "leeftijd")
    assert no_date.filter((pl.col("leeftijd") == "niet-jongeren") & (pl.col("aow_true") <= end)).height > 0


def test_year_rule_on_the_ingested_warehouse_frame(synth, tmp_path):
    """The same file through the ingest (codes as categoricals, person_id from RINPERSOONS + RINPERSOON): the
    yearly O01-O03 equal those of the raw file; the birth-date columns survive the ingest where the catalog
    declares them (all three ``leeftijd_bron`` bases), else everything falls back on the age at the interview."""
    import dagster as dg

    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.warehouse import Warehouse

    ebb, _, landing = synth
    with dg.instance_for_test() as inst:
        assert run_pipeline(landing, tmp_path / "wh", instance=inst, select=["EBBNW"]).ok
    wh = Warehouse(tmp_path / "wh").read("EBBNW", str(YEAR))
    for f in (o01_werkloosheid, o02_bruto_participatie, o03_netto_participatie):
        a, b = f(wh, YEAR), f(ebb, YEAR)
        a, b = (t.sort("herkomst", "generatie", "leeftijd", "geslacht", "opleiding") for t in (a, b))
        assert a["herkomst"].to_list() == b["herkomst"].to_list() and a["n"].to_list() == b["n"].to_list()
        assert a["value"].to_list() == pytest.approx(b["value"].to_list(), abs=1e-9)
    bron = set(age_basis(wh, YEAR)["leeftijd_bron"].to_list())
    if "EbbAflGebJaar" in wh.collect_schema().names():           # once the catalog declares the columns
        assert {"geboortedatum", "geboortejaar", "leeftijd"} == bron
    else:
        assert bron == {"leeftijd"}


def test_method_choice_reaches_the_functions_through_the_engine():
    """``ebb_classification`` of the run's method choices (choices.py) switches the rule in the one execution
    path; without it the yearly rule applies."""
    from monitor_dagster.indicators.engine import compute_family

    f = _frame([(1, "1", 100.0, 40, 0, "2", "2"), (1, "2", 100.0, 40, 2, "2", "2")])
    got = {}
    for method in ("", "ebb_classification=wave", "ebb_classification=year"):
        t = compute_family("ebb", {"sources/EBBNW": f}, 2020, extra={"method": method}).table
        got[method] = _totaal(t.filter(pl.col("indicator_id") == "O03"))["value"]
    assert got == {"": pytest.approx(100.0), "ebb_classification=wave": pytest.approx(50.0),
                   "ebb_classification=year": pytest.approx(100.0)}
