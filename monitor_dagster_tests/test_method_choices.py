"""Issue 16: the choices where the report is silent are one configuration object (monitor_dagster/choices.py),
read by the core population, the engine and the indicator functions; each alternative changes exactly what
its rule says, on hand-built persons (cases from the report's wording)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.choices import ALTERNATIVES, DEFAULT, MethodChoices, alternative
from monitor_dagster.indicators import engine as ENG
from monitor_dagster.indicators import register as R
from monitor_dagster_tests.test_indicators_register import Y, _full_year, _jm, _pop, _secm, _total

D = dt.date


def test_choices_parse_validate_and_print_only_what_differs():
    c = MethodChoices.parse("student_rule=any_day, address_gap_days=0")
    assert c.student_rule == "any_day" and c.address_gap_days == 0 and c.substantial == "month"
    assert str(c) == "student_rule=any_day,address_gap_days=0" and str(DEFAULT) == ""
    assert MethodChoices.parse(str(c)) == c and MethodChoices.parse(None) == DEFAULT
    with pytest.raises(ValueError, match="student_rule='sometimes'.*majority, any_day, dec31"):
        MethodChoices.parse("student_rule=sometimes")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        MethodChoices.parse("rule")
    with pytest.raises(ValueError, match="address_gap_days"):
        MethodChoices(address_gap_days=-1)
    # every alternative of the sensitivity table is a valid value of its field, and differs from the default
    for choice, value, _ in ALTERNATIVES:
        assert getattr(alternative(choice, value), choice) != getattr(DEFAULT, choice)


def test_o04_tie_of_basic_hours():
    """§4.2 "of de meest gemaakte basisuren dat jaar vast of tijdelijk zijn": equal hours, the report is silent."""
    pop = _pop(1, 2)
    jm = _jm(_full_year(1, 10, hours=20, contract="O") + _full_year(1, 11, hours=20, contract="B")   # tie
             + _full_year(2, 20, hours=30, contract="B"))
    assert _total(R.o04_vast_contract(pop, jm, Y), "O04")["value"] == pytest.approx(50.0)
    assert _total(R.o04_vast_contract(pop, jm, Y, choices=alternative("o04_tie", "tijdelijk")), "O04")["value"] == 0.0


def test_o05_denominator_and_tie():
    pop = _pop(1, 2, 3, 4)
    secm = _secm({1: [(1, 7, "13", Y), (8, 12, "11", Y)],     # zzp
                  2: [(1, 12, "11", Y)],
                  3: [(1, 12, "22", Y)],                       # not at work
                  4: [(1, 6, "14", Y), (7, 12, "12", Y)]})     # self-employed exactly half the months
    workers = _total(R.o05_zzp(pop, secm, Y), "O05")
    assert workers["n"] == 3 and workers["value"] == pytest.approx(100 / 3)
    everyone = _total(R.o05_zzp(pop, secm, Y, choices=alternative("o05_denominator", "all")), "O05")
    assert everyone["n"] == 4 and everyone["value"] == pytest.approx(25.0)
    tie = _total(R.o05_zzp(pop, secm, Y, choices=alternative("o05_tie", "zzp")), "O05")
    assert tie["n"] == 3 and tie["value"] == pytest.approx(200 / 3)


def test_substantial_per_month_or_per_job_year():
    """§4.2 "een baan van ten minste 12 basisuren per week": per job-month (default) or over the job's year."""
    pop = _pop(1)
    days = {m: (D(Y + (m == 12), m % 12 + 1, 1) - D(Y, m, 1)).days for m in range(1, 13)}
    # one job: 11 months of 60 h (~14 h/week, substantial) and one month of 20 h (~4.5 h/week, not);
    # over the year 680 h in 365 days = 13 h/week: substantial as a job-year
    rows = [(1, 10, m, h, h * 20.0, h, 0.0, float(days[m]), "O", h >= 52) for m in range(1, 13)
            for h in [20.0 if m == 6 else 60.0]]
    jm = _jm(rows)
    per_month = _total(R.o07_uren(pop, jm, Y), "O07", "basisuren")
    per_year = _total(R.o07_uren(pop, jm, Y, choices=alternative("substantial", "year")), "O07", "basisuren")
    assert per_month["value"] == pytest.approx(660 * 7 / (365 - 30))          # June left out
    assert per_year["value"] == pytest.approx(680 * 7 / 365)                  # June in
    # a job-year under 12 h a week is out entirely under the year rule, while its 14 h months count per month
    low = _jm([(1, 10, m, 60.0 if m <= 3 else 20.0, 1200.0 if m <= 3 else 400.0, 0.0, 0.0, float(days[m]), "O",
                m <= 3) for m in range(1, 13)])
    assert _total(R.o07_uren(pop, low, Y), "O07", "basisuren")["n"] == 1
    assert not R.o07_uren(pop, low, Y, choices=alternative("substantial", "year")).filter(
        pl.col("indicator_id") == "O07").height


def _population_with_short_stay() -> pl.LazyFrame:
    pop = _pop(1, 2, 3, nonwestern=(2, 3)).with_columns(pl.lit(False).alias("verblijfsduur_excluded"))
    # person 3 arrived on 1 August of t-1: in NL six months or less on the peildatum (§2.2)
    return pop.with_columns(pl.when(pl.col("person_id") == 3).then(True).otherwise(pl.col("verblijfsduur_excluded"))
                            .alias("verblijfsduur_excluded"),
                            pl.when(pl.col("person_id") == 3).then(None).otherwise(pl.col("verblijfsduur"))
                            .alias("verblijfsduur"))


def test_short_stay_is_left_out_of_every_analysis_by_the_engine():
    """§2.2 "Personen met een migratieachtergrond die op de peildatum zes maanden of korter in Nederland
    verblijven, zijn niet meegenomen in de analyse": out of every indicator (default), or only out of the
    verblijfsduur breakdown (alternative)."""
    pop = _population_with_short_stay()
    secm = _secm({1: [(1, 12, "22", Y)], 2: [(1, 12, "11", Y)], 3: [(1, 12, "22", Y)]})
    frames = {"core/population": pop, "core/secm_months": secm}
    res = ENG.compute_family("secm", frames, Y)
    o12 = _total(res.table, "O12", "bijstand")
    assert o12["n"] == 2 and o12["value"] == pytest.approx(50.0)
    nw = _total(res.table, "O12", "bijstand", herkomst="niet-westers")
    assert nw["n"] == 1 and nw["value"] == 0.0
    alt = ENG.compute_family("secm", frames, Y, extra={"method": "short_stay=breakdown"})
    assert _total(alt.table, "O12", "bijstand")["n"] == 3
    assert _total(alt.table, "O12", "bijstand", herkomst="niet-westers")["value"] == pytest.approx(50.0)


def test_the_engine_hands_the_choices_to_the_functions():
    pop = _pop(1, 2)
    jm = _jm(_full_year(1, 10, hours=20, contract="O") + _full_year(1, 11, hours=20, contract="B")
             + _full_year(2, 20, hours=30, contract="O"))
    frames = {"core/population": pop.with_columns(pl.lit(False).alias("verblijfsduur_excluded")),
              "core/job_months": jm, "core/secm_months": _secm({})}
    d = ENG.compute_family("contracts_hours", frames, Y, extra={"quarterly": False})
    a = ENG.compute_family("contracts_hours", frames, Y, extra={"quarterly": False, "method": "o04_tie=tijdelijk"})
    assert _total(d.table, "O04")["value"] == 100.0 and _total(a.table, "O04")["value"] == 50.0


def test_months_of_t_minus_1_are_judged_by_the_wml_of_the_peiljaar():
    """§4.2 "(dat geldt op 1 januari van het peiljaar)" and §5.2 (months 11 and 12 of t-1 in the monthly
    statistics): November 2018 in the panel of 2019 is judged by the WML of 1 January 2019 (9.3219 an hour),
    so a wage of 9.20 (above 2018's 9.1038) is not substantial there."""
    from monitor_dagster.core.jobs import job_months
    from monitor_dagster_tests.test_core_spells import spolis

    prev = spolis([{"person": 1, "ikv": 1, "start": D(2018, 11, 1), "end": D(2018, 11, 30), "hours": 80, "wage": 9.20}])
    this = spolis([{"person": 1, "ikv": 1, "start": D(2019, 1, 1), "end": D(2019, 1, 31), "hours": 80, "wage": 9.40}])
    jm = job_months(this, prev, 2019).collect().sort("month")
    assert jm["substantial"].to_list() == [False, True]
    # the same November in the panel of its own year: judged by the WML of 2018
    own = job_months(prev, None, 2018).collect()
    assert own["substantial"].to_list() == [True]


def test_o04_sums_basic_hours_over_all_jobs_and_says_so():
    """§4.2 "Bij meerdere banen kijken we of de meest gemaakte basisuren dat jaar vast of tijdelijk zijn": the
    hours of all jobs per contract type, not the contract of the single largest job; the published definition
    says what is computed."""
    from monitor_dagster.indicators import spec as SPEC

    pop = _pop(1)
    # the largest job is vast (30 h), but two temporary jobs of 20 h carry more basic hours together
    jm = _jm(_full_year(1, 10, hours=30, contract="O") + _full_year(1, 11, hours=20, contract="B")
             + _full_year(1, 12, hours=20, contract="B"))
    assert _total(R.o04_vast_contract(pop, jm, Y), "O04")["value"] == 0.0
    text = SPEC.spec("O04").definition
    assert "hoofdbaan" not in text and "opgeteld over al hun banen" in text


def test_ebb_werkloos_in_one_wave_or_in_half_of_them():
    """§4.1 ties the year to the hours only; the search questions are answered per wave.  Default: CBS-werkloos
    in at least one wave; alternative ``ebb_unemployed=half_waves``: in at least half of them."""
    from monitor_dagster.indicators.ebb import o01_werkloosheid
    from monitor_dagster_tests.test_indicators_ebb_year import _frame, _totaal

    # person 1: three waves without work, searching and available in one of them; person 2: searching in 2 of 3
    rows = [(1, "1", 100.0, 40, 0, "1", "1"), (1, "2", 100.0, 40, 0, "2", "1"), (1, "3", 100.0, 40, 0, "2", "2"),
            (2, "1", 100.0, 40, 0, "1", "1"), (2, "2", 100.0, 40, 0, "1", "1"), (2, "3", 100.0, 40, 0, "2", "2"),
            (3, "1", 300.0, 40, 40, "2", "2")]
    f = _frame(rows)
    assert _totaal(o01_werkloosheid(f, 2020))["value"] == pytest.approx(100 * 600 / 900)   # weights summed per person
    half = o01_werkloosheid(f, 2020, choices=alternative("ebb_unemployed", "half_waves"))
    assert _totaal(half)["value"] == pytest.approx(100 * 300 / 600)      # person 1 leaves the labour force
