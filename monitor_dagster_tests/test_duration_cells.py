"""Duration cells (correctie ``duur``) of the transitions and reemployment families (issue 17; technisch rapport
Monitor gelijke kansen §7.2.2, definitions of §5.2): hand-built persons whose months to the event and cause are
known, run as the engine runs a corrected family (partial mode inside a covariate context)."""

from __future__ import annotations

from collections import Counter

import polars as pl

from monitor_dagster.corrections.propensity import covariate_key
from monitor_dagster.indicators import transitions as T
from monitor_dagster.indicators.table import (CORRECTIE, DIMENSIONS, DURATION_UNIT, covariate_cells_of, finalize,
                                              partial_mode)
from monitor_dagster_tests import _frames as frames
from monitor_dagster_tests.test_indicators_transitions import (SECTOR_DIMS, Y, _frames, _job, _reemployment_frames,
                                                               _secm)

CELL = "35-44|man|middelbaar"             # covariate cell of every person below (age 40, man, middelbaar)
REF, BASIS = "geen migratieachtergrond", "niet-westers"


def _population(*ids, nonwestern=(), student=()):
    return frames.population(*ids, nonwestern=nonwestern, student=student).with_columns(
        pl.lit(40, dtype=pl.Int32).alias("age_jan1"))


def _in_engine(fn, population, *args, **kw) -> pl.DataFrame:
    """The function on one bucket as indicators.engine runs a corrected family, finalised with the cells."""
    keys = covariate_key(population).collect().lazy()
    with partial_mode(), covariate_cells_of(keys):
        part = fn(population, *args, **kw)
    return finalize(part, keep_cells=True)


def _durations(table: pl.DataFrame, indicator: str, measure: str) -> dict[str, Counter]:
    """herkomst -> Counter of (duration, cause) -> persons; cause "" = censored."""
    rows = table.filter((pl.col(CORRECTIE) == "duur") & (pl.col("indicator_id") == indicator)
                        & (pl.col("measure") == measure))
    assert rows.height and set(rows["unit"]) == {DURATION_UNIT}
    out: dict[str, Counter] = {}
    for r in rows.iter_rows(named=True):
        cell, d, cause = r["covariaten"].rsplit("|", 2)
        assert cell == CELL
        out.setdefault(r["herkomst"], Counter())[(int(d), cause)] += r["n"]
    return out


def _statuses(table: pl.DataFrame, indicator: str) -> set[str]:
    return set(table.filter((pl.col(CORRECTIE) == "duur") & (pl.col("indicator_id") == indicator))["status"])


def _outside_unchanged(fn, population, *args, **kw):
    """Outside the engine's context no duration rows, and the ordinary rows are those of the engine's run."""
    plain = fn(population, *args, **kw)
    assert plain.filter(pl.col("unit") == DURATION_UNIT).height == 0
    keys = covariate_key(population).collect().lazy()
    with partial_mode(), covariate_cells_of(keys):
        part = fn(population, *args, **kw)
    # finalize() orders the rows of all calls together, the plain output is the calls' rows one after another
    assert finalize(part).sort(pl.all()).equals(plain.sort(pl.all()))


# ------------------------------------------------------------------------------------ O27 / O31 (from work)
def _work_spells():
    """Origin months December 2018 .. November 2019, observed up to December 2019."""
    jobs = (_job(1, 1, "A", (2018, 12), (2019, 6))        # July nothing: 7 months, anderszins
            + _job(2, 2, "A", (2018, 11), (2019, 12))     # at work throughout: censored at 12
            + _job(3, 3, "A", (2019, 3), (2019, 4))       # WW from May: 2
            + _job(4, 4, "A", (2019, 2), (2019, 2))       # bijstand from March: 1
            + _job(5, 5, "A", (2019, 1), (2019, 3))       # AO from April: 3, anderszins
            + _job(6, 6, "A", (2019, 1), (2019, 3))       # April nothing, WW from May: 3, anderszins;
            + _job(6, 7, "B", (2019, 6), (2019, 12))      # ... work again from June: the first event counts
            + _job(7, 8, "A", (2019, 11), (2019, 12))     # from November: censored at 1
            + _job(8, 9, "A", (2019, 12), (2019, 12))     # December only: no origin month, no spell
            + _job(9, 10, "A", (2019, 1), (2019, 12))     # niet-westers, censored at 11
            + _job(10, 11, "A", (2019, 1), (2019, 4))     # niet-westers, WW from May: 4
            + _job(11, 12, "A", (2019, 1), (2019, 3)))    # a student: out
    secm = (_secm(3, "21", (2019, 5), (2019, 12)) + _secm(4, "22", (2019, 3), (2019, 12))
            + _secm(5, "24", (2019, 4), (2019, 12)) + _secm(6, "21", (2019, 5), (2019, 5))
            + _secm(10, "21", (2019, 5), (2019, 12)))
    pop = _population(*range(1, 12), nonwestern=(9, 10), student=(11,))
    return (pop, *_frames(jobs, secm))


def test_baanbehoud_duration_to_the_first_month_without_work():
    """Baanbehoud (§7.2.2: "Bij baanbehoud is dit het moment dat iemand de baan weer verliest"), O27's event:
    from the first origin month at work, months to the first month without work, else censored at December."""
    pop, jm, sm, inp = _work_spells()
    t = _in_engine(T.o27_baanbehoud, pop, jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    assert _durations(t, "O27", "baanverlies") == {
        REF: Counter({(7, "baanverlies"): 1, (12, ""): 1, (2, "baanverlies"): 1, (1, "baanverlies"): 1,
                      (3, "baanverlies"): 2, (1, ""): 1}),
        BASIS: Counter({(11, ""): 1, (4, "baanverlies"): 1})}
    assert _statuses(t, "O27") == {"definitief"}
    # the ordinary rows count the same persons at work
    at_work = t.filter((pl.col(CORRECTIE) == "geen") & (pl.col("measure") == "werk")
                       & pl.all_horizontal(pl.col(d) == "totaal" for d in DIMENSIONS))
    assert at_work["n"].to_list() == [9]


def test_outflow_duration_competing_bijstand_ww_anderszins():
    """Uitstroom uit werk (§7.2.2: "a. Bijstand; b. Uitstroom naar WW; c. Uitstroom anderszins"): the state of
    the first month without work is the cause, as O31-O34 read the month after work (AO and a month without
    anything are anderszins)."""
    pop, jm, sm, inp = _work_spells()
    t = _in_engine(T.o31_o34_uitstroom, pop, jm, sm, inp, Y)
    assert _durations(t, "O31", "uit werk") == {
        REF: Counter({(7, "anderszins"): 1, (12, ""): 1, (2, "WW"): 1, (1, "bijstand"): 1, (3, "anderszins"): 2,
                      (1, ""): 1}),
        BASIS: Counter({(11, ""): 1, (4, "WW"): 1})}
    # emitted once, under O31 only (not per O32-O34, not for the zelfstandig measure)
    duur = t.filter(pl.col(CORRECTIE) == "duur")
    assert set(duur["indicator_id"]) == {"O31"} and set(duur["measure"]) == {"uit werk"}


def test_no_duration_cells_outside_the_engine_from_work():
    pop, jm, sm, inp = _work_spells()
    _outside_unchanged(T.o27_baanbehoud, pop, jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    _outside_unchanged(T.o31_o34_uitstroom, pop, jm, sm, inp, Y)


# --------------------------------------------------------------------------------------- O29 (doorstroom)
def _temporary():
    jobs = (_job(8, 1, "A", (2019, 1), (2019, 4), "B") + _job(8, 2, "A", (2019, 6), (2019, 12), "O")   # 5, same
            + _job(9, 3, "A", (2019, 1), (2019, 3), "B") + _job(9, 4, "B", (2019, 6), (2019, 12), "O")  # censored 11
            + _job(10, 5, "A", (2019, 1), (2019, 3), "B") + _job(10, 6, "B", (2019, 4), (2019, 12), "O")  # 3, other
            + _job(11, 7, "A", (2019, 1), (2019, 12), "B")                                          # censored 11
            + _job(12, 8, "A", (2018, 11), (2018, 11), "B") + _job(12, 9, "A", (2019, 1), (2019, 12), "O")  # 1, same
            + _job(13, 10, "A", (2019, 1), (2019, 12), "O")                                         # not at risk
            + _job(14, 11, "A", (2018, 12), (2019, 2), "B") + _job(14, 12, "C", (2019, 3), (2019, 12), "O")  # 3
            + _job(15, 13, "A", (2019, 11), (2019, 11), "B") + _job(15, 14, "A", (2019, 12), (2019, 12), "O")  # 1
            + _job(16, 15, "A", (2019, 11), (2019, 12), "B"))                                        # censored 1
    return (_population(*range(8, 17), nonwestern=(14, 15, 16)), *_frames(jobs, []))


def test_temporary_to_permanent_duration_competing_same_or_other_employer():
    """Doorstroom (§7.2.2) from a temporary main job: months from the first tijdelijk month (December t-1 at
    the earliest: a switch counts from January t, as O29) to the first switch O29/O30 count, cause the route;
    else censored at December t (person 9's switch after two months without work is none)."""
    pop, jm, sm, inp = _temporary()
    t = _in_engine(T.o29_o30_tijdelijk_vast, pop, jm, sm, inp, Y, dimensions=SECTOR_DIMS)
    assert _durations(t, "O29", "tijdelijk naar vast") == {
        REF: Counter({(5, "zelfde werkgever"): 1, (11, ""): 2, (3, "andere werkgever"): 1,
                      (1, "zelfde werkgever"): 1}),
        BASIS: Counter({(3, "andere werkgever"): 1, (1, "zelfde werkgever"): 1, (1, ""): 1})}
    assert set(t.filter(pl.col(CORRECTIE) == "duur")["indicator_id"]) == {"O29"}


def test_no_duration_cells_outside_the_engine_temporary():
    pop, jm, sm, inp = _temporary()
    _outside_unchanged(T.o29_o30_tijdelijk_vast, pop, jm, sm, inp, Y, dimensions=SECTOR_DIMS)


# ---------------------------------------------------------------------------------- O38 (after a benefit)
def test_after_ww_and_bijstand_duration_to_work_censored_at_36_months():
    """4g (§7.2.2): months from the last benefit month of the first exit in t to work (``time_to_work``),
    censored at 36; emitted by O38 only, not by O39.  WW cohort 1 (1), 2 (19), 3 (never: 36), 5 (5), 8 (work
    after 41: 36); bijstand 4 (3)."""
    jm, sm, inp = _reemployment_frames(2022)
    pop = _population(1, 2, 3, 4, 5, 6, 8, nonwestern=(2, 4))
    t = _in_engine(T.o38_werk_binnen, pop, jm, sm, inp, Y, observed_year=2022)
    assert _durations(t, "O38", "na WW") == {
        REF: Counter({(1, "werk"): 1, (36, ""): 2, (5, "werk"): 1}), BASIS: Counter({(19, "werk"): 1})}
    assert _durations(t, "O38", "na bijstand") == {BASIS: Counter({(3, "werk"): 1})}
    assert _statuses(t, "O38") == {"definitief"}
    t39 = _in_engine(T.o39_duur_tot_werk, pop, jm, sm, inp, Y, observed_year=2022)
    assert t39.filter(pl.col(CORRECTIE) == "duur").height == 0


def test_after_ww_duration_censored_at_the_months_observed_while_voorlopig():
    """Files up to 2020 only: censored at the months observed (2: 18, 3: 12, 8: 23), status voorlopig."""
    jm, sm, inp = _reemployment_frames(2020)
    pop = _population(1, 2, 3, 4, 5, 6, 8, nonwestern=(2, 4))
    t = _in_engine(T.o38_werk_binnen, pop, jm, sm, inp, Y, observed_year=2020)
    assert _durations(t, "O38", "na WW") == {
        REF: Counter({(1, "werk"): 1, (12, ""): 1, (5, "werk"): 1, (23, ""): 1}), BASIS: Counter({(18, ""): 1})}
    assert _statuses(t, "O38") == {"voorlopig"}


def test_no_duration_cells_outside_the_engine_after_a_benefit():
    jm, sm, inp = _reemployment_frames(2022)
    pop = _population(1, 2, 3, 4, 5, 6, 8, nonwestern=(2, 4))
    _outside_unchanged(T.o38_werk_binnen, pop, jm, sm, inp, Y, observed_year=2022)
