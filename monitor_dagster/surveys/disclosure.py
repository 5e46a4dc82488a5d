"""Disclosure control of the organisation survey figures (issue 19; docs/surveys_indicators.md, "Disclosure").

Organisations are few and known by name: there are some 340 municipalities, a size class x region cell holds a
handful, and the report asks to state in every questionnaire "dat het invullen van de vragenlijst anoniem is"
(technisch rapport Monitor gelijke kansen, §3.1).  So, on the long frame of indicators.py:

* **primary_n**: a cell rests on fewer than :data:`MIN_ORGS` responding organisations;
* **dominance**: one organisation carries more than :data:`MAX_WEIGHT_SHARE` of the cell's weighted total
  (``w_max / n_weighted``): the published share is then mostly that organisation's answer;
* **group**: every organisation of the class responded (``response_rate`` 1: who answered is then as public as
  the class, e.g. the municipalities of an arbeidsmarktregio) and they all, or all but one, gave the same answer
  (one choice holds n or n - 1 of the answering organisations; a choice that stands alone was named by n, n - 1,
  1 or none): a share of 0 or 100 % would tell each named organisation's answer (the "group disclosure" of
  Hundepool et al.), and n - 1 of n would tell it to the one who differs;
* **secondary**: a breakdown's classes and its totaal form an equation (value x n_weighted adds up, and
  n_weighted is published): when exactly one member is hidden, the smallest shown class (by n, n_weighted,
  name) is hidden too; a residual of 1..MIN_ORGS-1 organisations without a class counts as a hidden member.
  Several hidden members follow together (totaal minus the shown classes): when they hold fewer than
  MIN_ORGS organisations together, the smallest shown class is hidden too;
  The choices of one select_one question (they add to 100 %) and the distribution and mean of one 0-5 action
  (the mean follows from the distribution) are one cell: hiding one hides all;
* no identifiers: a column or breakdown that names organisations (org key, name, code) is refused.

A suppressed row keeps its place with ``value``, ``n``, ``n_weighted``, ``n_choice``, ``moe`` and
``response_rate`` null and ``suppression_reason`` set; ``w_max`` (a single organisation's weight) is dropped.
"""

from __future__ import annotations

import re

import polars as pl

from monitor_dagster.surveys.indicators import TOTAAL

#: the fewest responding organisations a published cell may rest on (docs/surveys_indicators.md: why 5)
MIN_ORGS = 5
#: the largest share of a cell's weighted total one organisation may carry
MAX_WEIGHT_SHARE = 0.5
#: a response rate at or above this: every organisation of the class responded (the group rule)
FULL_RESPONSE = 1.0 - 1e-9
#: the group rule also holds when all but this many answered alike (the one who differs learns the others)
GROUP_SLACK = 1
IDENTIFYING = re.compile(r"^(org_?id|org_?key|organisatie|naam|name|gemeente(_?code|_?naam)?|gemeentenaam|kvk.*|"
                         r"brin.*|vestiging.*|bedrijf.*|instelling(_?naam)?)$", re.IGNORECASE)
NULLED = ("value", "n", "n_weighted", "n_choice", "moe", "response_rate")
CELL = ["year", "instrument", "question", "breakdown", "category"]
_ROW = "_row"


def _identifiers(frame: pl.DataFrame) -> list[str]:
    bad = [f"column {c!r} identifies organisations" for c in frame.columns if IDENTIFYING.match(c)]
    if "breakdown" in frame.columns:
        bad += [f"breakdown {b!r} publishes single organisations"
                for b in frame["breakdown"].unique().to_list() if b and IDENTIFYING.match(b)]
    return bad


def _unanimous(t: pl.DataFrame) -> pl.Expr:
    """Rows of a class whose organisations all responded and all, or all but :data:`GROUP_SLACK`, gave the same
    answer: a choice of a select_one or of a 0-5 distribution (``adds_to_100``) that at least n - 1 answering
    organisations chose, or a choice of its own (a top-3 action, a named barrier) that at least n - 1 or at most 1
    named.  All alike tells each one's answer to anyone; all but one alike tells it to the one who differs (she
    knows her own answer), the insider the p % rule of business statistics guards against.  Without
    ``adds_to_100`` (a stored table) whether a choice stands alone is unknown: only the first part is judged."""
    if not {"response_rate", "n_choice"} <= set(t.columns):
        return pl.lit(False)
    k, n = pl.col("n_choice"), pl.col("n")
    alone = ~pl.col("adds_to_100").fill_null(False) if "adds_to_100" in t.columns else pl.lit(False)
    return ((pl.col("response_rate").fill_null(0.0) >= FULL_RESPONSE) & k.is_not_null() & n.is_not_null()
            & ((k >= n - GROUP_SLACK) | (alone & (k <= GROUP_SLACK))))


def _linked(t: pl.DataFrame) -> pl.Expr:
    """Rows that share a cell with others that follow from them: select_one choices (adds_to_100) and both
    the distribution and the mean of a 0-5 action (unit score rows have a distribution beside them)."""
    rating_q = t.filter(pl.col("unit") != "%")["question"].unique().implode()
    return pl.col("adds_to_100") | pl.col("question").is_in(rating_q)


def _part_sums(t: pl.DataFrame) -> pl.DataFrame:
    """Per equation (indicator_id, year, measure, breakdown != totaal): the total's row, the parts' hidden count,
    residual organisations, the organisations of the shown parts and the smallest shown part."""
    key = ["indicator_id", "year", "measure"]
    tot = t.filter(pl.col("breakdown") == TOTAAL).select(*key, pl.col(_ROW).alias("_tot_row"),
                                                         pl.col("_n0").alias("_tot_n"), pl.col("_sup").alias("_tot_sup"))
    parts = t.filter(pl.col("breakdown") != TOTAAL)
    return (parts.sort("_n0", "_nw0", "category", nulls_last=True)
            .group_by(*key, "breakdown")
            .agg(pl.col("_sup").sum().alias("_hidden"), pl.col("_n0").sum().alias("_parts_n"),
                 pl.col("_n0").filter(~pl.col("_sup")).sum().alias("_shown_n"),
                 pl.col(_ROW).filter(~pl.col("_sup")).first().alias("_smallest"))
            .join(tot, on=key, how="inner"))


def _union_small(min_orgs: int) -> pl.Expr:
    """An equation whose hidden members together (the residual included) hold 1..min_orgs - 1 organisations:
    totaal minus the shown classes gives their joint answer (value x n_weighted subtracts).  In the demo of
    December 2026 S-o2 ``aansluiting_anders`` by sector hid mbo (2) and wo (1) beside a shown hbo: the three
    institutions' ratings followed, each told apart by the sector's weight."""
    return (pl.col("_tot_n") - pl.col("_shown_n")).is_between(1, min_orgs - 1)


def apply_disclosure(frame: pl.DataFrame, *, min_orgs: int = MIN_ORGS,
                     max_weight_share: float = MAX_WEIGHT_SHARE) -> pl.DataFrame:
    """The frame of indicators.survey_indicators with ``suppressed`` and ``suppression_reason`` (module
    docstring).  Raises ValueError for identifying columns or breakdowns.  Deterministic: rows are ranked in the
    canonical order of the cell key first, so the same figures give the same pattern in any row order."""
    bad = _identifiers(frame)
    if bad:
        raise ValueError("survey figures would identify organisations: " + "; ".join(bad))
    order = ["indicator_id", "year", "question", "measure", "breakdown", "category"]
    t = (frame.with_row_index("_orig").sort(order).with_row_index(_ROW)
         .with_columns(pl.col("n").alias("_n0"), pl.col("n_weighted").alias("_nw0")))
    share = (pl.col("w_max") / pl.col("n_weighted")) if "w_max" in t.columns else pl.lit(0.0)
    t = t.with_columns(
        pl.when(pl.col("n").is_null() | (pl.col("n") < min_orgs)).then(pl.lit("primary_n"))
        .when(share.fill_null(1.0) > max_weight_share).then(pl.lit("dominance"))
        .when(_unanimous(t)).then(pl.lit("group"))
        .otherwise(pl.lit(None, dtype=pl.String)).alias("suppression_reason"))
    linked = _linked(t)
    while True:
        t = t.with_columns(pl.col("suppression_reason").is_not_null().alias("_sup"))
        new: set[int] = set()
        # a linked cell is hidden whole
        hid = t.filter(linked & pl.col("_sup")).select(CELL).unique()
        if hid.height:
            new |= set(t.join(hid, on=CELL, how="semi").filter(linked & ~pl.col("_sup"))[_ROW].to_list())
        # totaal = the classes of a breakdown
        eq = _part_sums(t).with_columns(
            (pl.col("_hidden") + pl.col("_tot_sup").cast(pl.Int64)
             + ((pl.col("_tot_n") - pl.col("_parts_n")).is_between(1, min_orgs - 1)).cast(pl.Int64)).alias("_k"))
        # one hidden member follows exactly; several hidden members (with the residual) follow together, as one
        # cell of totaal n - shown n organisations: too few of them and it is that cell's answer that is told
        one = eq.filter((pl.col("_k") == 1) | ((pl.col("_k") >= 2) & ~pl.col("_tot_sup") & _union_small(min_orgs)))
        new |= set(one.filter(pl.col("_smallest").is_not_null())["_smallest"].to_list())
        new |= set(one.filter(pl.col("_smallest").is_null() & ~pl.col("_tot_sup"))["_tot_row"].to_list())
        if not new:
            break
        t = t.with_columns(pl.when(pl.col(_ROW).is_in(list(new))).then(pl.lit("secondary"))
                           .otherwise(pl.col("suppression_reason")).alias("suppression_reason"))
    t = t.with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))
    t = t.with_columns(*[pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
                         for c in NULLED if c in t.columns])
    keep = [c for c in frame.columns if c != "w_max"] + ["suppressed", "suppression_reason"]
    return t.sort("_orig").select(keep)


def check_disclosure(frame: pl.DataFrame, *, min_orgs: int = MIN_ORGS,
                     max_weight_share: float = MAX_WEIGHT_SHARE) -> list[str]:
    """Violations in survey figures claimed safe (empty = safe), each naming the cell."""
    out = _identifiers(frame)
    if "suppressed" not in frame.columns:
        return out + ["no 'suppressed' column: the figures have not passed apply_disclosure"]

    def label(r):
        return f"{r['indicator_id']} {r['year']} {r['measure']!r} {r['breakdown']}={r['category']}"
    shown = frame.filter(~pl.col("suppressed"))
    out += [f"{label(r)}: shown with n={r['n']} < {min_orgs}"
            for r in shown.filter(pl.col("n").is_null() | (pl.col("n") < min_orgs)).iter_rows(named=True)]
    if "w_max" in frame.columns:
        out += [f"{label(r)}: one organisation carries {r['w_max'] / r['n_weighted']:.0%} of the weight"
                for r in shown.filter(pl.col("w_max") / pl.col("n_weighted") > max_weight_share).iter_rows(named=True)]
    out += [f"{label(r)}: every organisation of the class responded and {r['n_choice']} of {r['n']} gave this "
            "answer (each one's answer follows)" for r in shown.filter(_unanimous(shown)).iter_rows(named=True)]
    leak = frame.filter(pl.col("suppressed") & pl.any_horizontal(
        *[pl.col(c).is_not_null() for c in NULLED if c in frame.columns]))
    out += [f"{label(r)}: suppressed but still carries a value or count" for r in leak.iter_rows(named=True)]
    t = frame.with_row_index(_ROW).with_columns(pl.col("suppressed").alias("_sup"), pl.col("n").alias("_n0"),
                                                pl.col("n_weighted").alias("_nw0"))
    eq = _part_sums(t)
    one = eq.filter(pl.col("_hidden") + pl.col("_tot_sup").cast(pl.Int64) == 1)
    out += [f"{r['indicator_id']} {r['year']} {r['measure']!r} by {r['breakdown']}: one hidden member, recoverable "
            "from the totaal and the other classes" for r in one.iter_rows(named=True)]
    many = eq.filter((pl.col("_hidden") >= 2) & ~pl.col("_tot_sup") & _union_small(min_orgs))
    out += [f"{r['indicator_id']} {r['year']} {r['measure']!r} by {r['breakdown']}: {r['_hidden']} hidden members "
            f"hold {r['_tot_n'] - r['_shown_n']} organisations together (< {min_orgs}), recoverable together from "
            "the totaal and the shown classes" for r in many.iter_rows(named=True)]
    return out


def stored_leaks(detail: pl.DataFrame) -> list[str]:
    """What a stored survey table (``indicators/inputs_surveys``, the table's columns with ``response_rate`` and
    ``n_choice``) shows that this version's rules hide and that can be told from its columns: a choice all, or all
    but one, organisations of a fully responding class gave (the group rule, :func:`_unanimous`).  The publication
    refuses such a table (built by a version before the group rule) until it is rebuilt."""
    if "suppressed" not in detail.columns:
        return []
    bad = detail.filter(~pl.col("suppressed") & _unanimous(detail))
    dims = [c for c in detail.columns if c not in NULLED and detail.schema[c] == pl.String
            and c not in ("indicator_id", "measure", "unit", "status", "trend_break", "vintages", "suppression_reason",
                          "correctie")]
    return [f"{r['indicator_id']} {r['year']} {r['measure']!r} "
            + " ".join(f"{c}={r[c]}" for c in dims if r[c] not in (None, TOTAAL))
            + f": all {r['n']} organisations of the class responded and {r['n_choice']} gave this answer (rule group)"
            for r in bad.iter_rows(named=True)]

