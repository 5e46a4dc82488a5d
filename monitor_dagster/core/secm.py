"""Monthly socio-economic category (SECMBUS) for the monthly panels of the transitions (report 5.2).

SECM is the person's main source of income (report 4.2, 3d/3e).  The panel of year t covers November t-1 ..
December t (report 5.2: "Hiervoor werden ook maand 11 en 12 van het voorgaande jaar gebruikt").  Months are
produced by exploding each SECM spell into the calendar months it overlaps (interval logic,
docs/methodology.md "Spells"), never by a self-join.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from monitor_dagster.core._intervals import explode_months, in_year, keep_r
from monitor_dagster.core.layout import held
from monitor_dagster.core.sorting import person_key

__all__ = ["BENEFIT_GROUP", "SECM_BENEFIT", "SECM_EXCLUDED", "SECM_SELF_EMPLOYED", "secm_benefit_months", "secm_months"]

#: SECM codes of the self-employed (report 4.2: 13 zelfstandig ondernemer, 14 overige zelfstandige)
SECM_SELF_EMPLOYED = ("13", "14")
#: SECM codes excluded from most populations (report 2.1 / 5.2: 25 pensioen, 26 and 31 scholier/student)
SECM_EXCLUDED = ("25", "26", "31")
#: social security dependence (report 3e): SECM -> benefit group of O11-O18
SECM_BENEFIT = {"21": "WW", "22": "bijstand", "23": "overig", "24": "AO"}
#: the four benefit groups of O11-O14 / O15-O18 (WW, bijstand, AO of ZW, overige uitkering)
BENEFIT_GROUP = pl.Enum(["WW", "bijstand", "AO", "overig"])


def secm_months(secm: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """The SECM state per person and calendar month, Nov t-1 .. Dec t (report 5.2 monthly panels;
    monthly state = the state in that calendar month).

    Rule where the report is silent: when several SECM spells touch a month, the month takes the state that
    covers **most days of that month**; on equal days the spell that starts later wins (so a change on the
    16th of a 30-day month gives the new state).  Real SECMBUS spells run whole months, so the rule only
    matters for spells that start or end inside a month.  Months without any SECM spell are absent (the person
    is "off the radar" that month, report 4f).  Open ends (null EINDSECM) run through December t.

    Columns: person_id, month (pl.Date, first of month), SECM (the input's Enum).  RINPERSOONS R only.
    Reads only the person key, AANVSECM, EINDSECM and SECM: the XKOPPEL* columns may be missing (incomplete
    landing zone).  The months are collected here (one bucket of persons at a time in the core asset): which of
    the two ways to find the winners is taken depends on the rows (:func:`_winners_adjacent`)."""
    lo, hi = dt.date(year - 1, 11, 1), dt.date(year, 12, 31)
    s = (keep_r(secm).select("person_id", pl.col("AANVSECM").alias("start"), pl.col("EINDSECM").alias("end"), "SECM")
         .sort("person_id", "start"))
    m = (explode_months(s, lo, hi, month_no="_mno")
         .select("person_id", "_mno", "month", "days", "start", "SECM").collect(engine="streaming"))
    return held(_winners_adjacent(m).select("person_id", "month", "SECM"))


def _winners_adjacent(m: pl.DataFrame) -> pl.DataFrame:
    """The winning spell of each person-month from rows exploded from spells sorted by person and start.

    Spells that do not overlap (SECMBUS's: one state at a time) explode into rows already in person-month
    order, where the spells that share a month (one ends in it, the next starts in it) stand next to each
    other in start order: the month's winner is found by comparing a row with its neighbours, without the
    sort of all person-months that the rule otherwise needs (national SECM, 24 buckets of ~10 M months:
    1.05 -> 0.45 s a bucket, issue 12).  Rows out of that order (overlapping spells) or three spells in one
    month fall back to the sort, so the result is the same either way."""
    p, k, d = pl.col("person_id"), pl.col("_mno"), pl.col("days")
    same_prev = ((p == p.shift(1)) & (k == k.shift(1))).fill_null(False)
    same_next = ((p == p.shift(-1)) & (k == k.shift(-1))).fill_null(False)
    f = m.select(same_prev.alias("sp"), same_next.alias("sn"),
                 ((p.shift(1) < p) | ((p.shift(1) == p) & (k.shift(1) <= k))).fill_null(True).alias("ordered"),
                 (pl.col("start").shift(1) < pl.col("start")).alias("later"),
                 (d > d.shift(-1)).alias("beats_next"), (d >= d.shift(1)).alias("holds_prev"))
    sp, sn = pl.col("sp"), pl.col("sn")
    ok = f.select(pl.col("ordered").all().alias("a"), (sp & sn).any().not_().alias("b"),
                  (sp & pl.col("later").not_()).any().not_().alias("c")).row(0)
    if not all(ok):
        return _winners_sorted(m)
    # of two spells in a month the one with more days wins, on equal days the later one (the second row)
    return m.filter(f.select(((~sn | pl.col("beats_next")) & (~sp | pl.col("holds_prev"))).alias("w"))["w"])


def _winners_sorted(m: pl.DataFrame) -> pl.DataFrame:
    """The general case: sorted by person, month, days and start, the last row of each person-month wins (the
    table is stored sorted by person and month anyway, core/inputs.py ROW_ORDER, so this sort replaces a
    group-by, 17 % faster at 1 M); one packed key (core/sorting.py) instead of the four columns."""
    key = person_key("person_id", [(pl.col("_mno"), 4), (pl.col("days"), 5),
                                   (pl.col("start").cast(pl.Int32).cast(pl.Int64) + (1 << 31), 32)])
    last = ((pl.col("person_id") != pl.col("person_id").shift(-1)) | (pl.col("month") != pl.col("month").shift(-1))
            ).fill_null(True)
    return m.with_columns(key.alias("_k")).sort("_k").filter(last).drop("_k")


def secm_benefit_months(secm_month: pl.LazyFrame, year: int) -> pl.LazyFrame:
    """Months in year t with a benefit as main income source, per benefit group (report 3e: "het aantal
    maanden in een jaar waarvoor een vorm van een sociale zekerheidsvoorziening de belangrijkste bron van
    inkomen is ... SECM 21 - 25"; SECM codes: 21 WW, 22 bijstand, 23 sociale voorziening overig, 24 ziekte/AO).

    Input: :func:`secm_months`.  Whole months (a month has one SECM state).  The report's text says "21 - 25"
    but 25 is pensioen, so we use 21-24.  Columns: person_id, group (WW / bijstand / AO /
    overig), months (Int32, 1..12); persons without benefit months are absent."""
    # filter on the Enum and map the code to its group after counting: casting every SECM month to a string
    # cost 5x the rest (issue 12)
    return (secm_month.filter(in_year("month", year) & pl.col("SECM").is_in(list(SECM_BENEFIT)))
            .group_by("person_id", "SECM").agg(pl.len().cast(pl.Int32).alias("months"))
            .with_columns(pl.col("SECM").cast(pl.Utf8).replace_strict(SECM_BENEFIT).cast(BENEFIT_GROUP).alias("group"))
            .group_by("person_id", "group")
            .agg(pl.col("months").sum()))
