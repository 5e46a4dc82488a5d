"""Disclosure control of the indicator table (docs/disclosure.md).

:func:`apply_disclosure` suppresses cells (primary: fewer than ``threshold`` persons, EBB also at most
15,000 weighted; secondary: so that no suppressed cell can be recovered by subtraction from a total and its
other parts).  :func:`check_disclosure` lists violations in a table claimed safe; the export refuses a table
for which that list is not empty.

Hierarchies ("a total and its parts"), within one (indicator_id, year, measure, unit):

* each non-herkomst dimension ``d``: the rows with ``d != totaal`` are the parts of the row with ``d ==
  totaal`` and the same values of every other column (herkomst and the other dimensions);
* herkomst (breakdowns.yaml): ``niet-westers`` = the 12 non-Western groups, ``westers`` = the 4 Western
  groups, ``totaal`` = all 17 groups, and ``totaal`` = niet-westers + westers + geen migratieachtergrond,
  each with the same values of the other dimensions.

* regio and randstad (issue 18): each randstad class (``randstad``, ``overig``) = the arbeidsmarktregio's of that
  class (reference/gemeente_arbeidsmarktregio_2020.csv), with the other columns equal.

A part absent from the table is taken as zero persons (conservative: the equation still counts).  A
suppressed cell has ``value``, ``n`` and ``n_weighted`` nulled: its count is itself disclosive.

Residuals (issue 18): the parts of a separate dimension (regio, randstad, asielstatus, inkomensklasse) need not
add up to their total: persons whose region (asylum status, income) is unknown count in the total and in no
part.  Where all members are shown, total minus parts *is* that residual group; when it holds 1-9 persons it
counts as a hidden member of the equation, so two parts are suppressed (docs/regions.md).
"""

from __future__ import annotations

import re

import polars as pl

from monitor_dagster.indicators import spec as SPEC
from functools import lru_cache
from importlib import resources

from monitor_dagster.indicators.table import CORRECTIE, DIMENSIONS, GEEN, SEPARATE, TOTAAL, breakdowns

#: a cell's key besides the dimensions; ``correctie`` (issue 17) keeps the corrected rows' equations apart from
#: the uncorrected ones (a table without the column is read as all ``geen``)
KEY = ["indicator_id", "year", "measure", "unit", CORRECTIE]
#: indicators under the EBB rule (weighted survey counts): the specs with ``disclosure: ebb``
EBB_INDICATORS = SPEC.ebb_indicators()
EBB_MIN_WEIGHTED = 15_000.0
#: indicators under the survey rule (spec ``disclosure: survey``: the mbo-schoolverlatersonderzoek, O23/O24/O26,
#: report 5.1 4b/4c): at least ``threshold`` respondents *and* at least SURVEY_MIN_WEIGHTED weighted, i.e. the
#: cell describes at least ten respondents and stands for at least ten graduates.  The EBB's 15,000 is CBS's
#: reliability norm on the EBB's weights (about a hundred persons per respondent-wave); on this survey's non-response
#: weights (about 3) it would ask for some 5,000 respondents per cell and hide every herkomst group
#: (docs/indicators_schoolleavers.md)
SURVEY_INDICATORS = frozenset(k for k, s in SPEC.built().items() if s.disclosure == "survey")
SURVEY_MIN_WEIGHTED = 10.0
#: a survey indicator publishes each measure for bol and bbl together and apart (``<m>``, ``<m> bol``,
#: ``<m> bbl``; report 5.1 4b: "de bol- en bbl-studenten nog afzonderlijk"): ``<m>`` = ``<m> bol`` + ``<m> bbl``
#: is an equation like a dimension's total and parts, so a hidden bbl cell cannot be had from the other two
MEASURE_PARTS = (" bol", " bbl")
PERSON_KEY = re.compile(r"(rinpersoon|person|persoon|bsn|a_?nummer|burgerservice)", re.IGNORECASE)
MINMAX = re.compile(r"^(min|max|minimum|maximum)([^a-z]|$)", re.IGNORECASE)
_ROW = "_row"
_ORIG = "_orig_row"


#: what to do when a table read from the warehouse fails the check: it was gated by an older version of the gate
#: (a rule added since, e.g. linked cells) or changed afterwards; the indicator layer runs the gate again
STORED_TABLE_HINT = ("the stored indicator table does not pass this version's gate (built by an older version, "
                     "or changed since): rebuild it with `monitor run --landing DIR --warehouse DIR --layers "
                     "indicators`")


class DisclosureError(ValueError):
    """A table failed the disclosure check; ``violations`` names the cells.  ``hint``: what to do, in the first
    line (callers that show only the first line of a long message, such as a failed Dagster step, keep it)."""

    def __init__(self, violations: list[str], hint: str | None = None):
        self.violations = list(violations)
        shown = "\n  ".join(self.violations[:20])
        more = f"\n  ... and {len(self.violations) - 20} more" if len(self.violations) > 20 else ""
        first = f"; first: {self.violations[0]}" if hint and self.violations else ""
        why = f": {hint}" if hint else ""
        super().__init__(f"disclosure check failed ({len(self.violations)} violations{first}){why}:\n  {shown}{more}")


# indicators whose categories (``measure`` values) are shares of one cell adding up to 100% (O10: 1 / 1-2 / >2
# jobs): hiding one category alone would be undone by subtraction from 100; the specs with ``adds_to_100``
CATEGORY_INDICATORS = SPEC.category_indicators()
#: the organisation surveys (issue 19, spec ``disclosure: organisaties``): protected before they reach the table
#: by the organisation rules of surveys/disclosure.py (>= 5 responding organisations, no dominance, classes and
#: totaal as one equation), so the 10-person rule must not hide a cell of 5-9 organisations: these rows bypass
#: the procedure and are checked against the organisation threshold
ORG_INDICATORS = SPEC.organisation_indicators()
#: surveys.disclosure.MIN_ORGS (not imported: that module pulls in the survey estimators)
ORG_MIN = 5
#: research question 5 (issue 20, spec ``disclosure: vacatures``): counts of public online vacancies (Jobfeed),
#: no persons, no CBS microdata (the report's option c: a research bureau receives them from Textkernel), so
#: neither the 10-person rule nor its secondary suppression applies (nothing about a person can be recovered
#: from how many advertisements a region had); these rows bypass the procedure, shown, and the check asks only
#: that a shown row has its value and n.  Small regional counts are uncertain, not secret: the publication
#: gives their interval (docs/vacancies.md, "Disclosure")
VACANCY_INDICATORS = SPEC.vacancy_indicators()
#: the indicators under a rule of their own, not the person procedure (the two above)
OWN_RULE_INDICATORS = ORG_INDICATORS | VACANCY_INDICATORS
_OWN_ROW = "_own_rule_order"


def _own_rule_rows(t: pl.DataFrame) -> pl.DataFrame:
    """Rows of :data:`OWN_RULE_INDICATORS` as apply_disclosure returns them: vacancy rows shown; organisation rows
    keep the suppression of the organisation rules (reason ``upstream`` when they carry none)."""
    is_org = pl.col("indicator_id").is_in(list(ORG_INDICATORS))
    prior = pl.col("suppressed").fill_null(False) if "suppressed" in t.columns else pl.lit(False)
    old = pl.col("suppression_reason") if "suppression_reason" in t.columns else pl.lit(None, pl.String)
    suppressed = pl.when(is_org).then(prior).otherwise(False)
    return t.with_columns(pl.when(suppressed).then(pl.coalesce(old, pl.lit("upstream")))
                          .otherwise(pl.lit(None, pl.String)).alias("suppression_reason"),
                          suppressed.alias("suppressed"))


def herkomst_hierarchy() -> list[tuple[str, str, list[str]]]:
    """(name, total, parts) of the herkomst equations, from breakdowns.yaml."""
    groups = list(breakdowns()["herkomst"]["groups"])
    westers = ["Duitsland", "Polen", "Indonesië", "westers overig"]
    geen = "geen migratieachtergrond"
    niet_westers = [g for g in groups if g not in westers and g != geen]
    return [("h:niet-westers", "niet-westers", niet_westers),
            ("h:westers", "westers", westers),
            ("h:totaal-groups", TOTAAL, groups),
            ("h:totaal-aggregates", TOTAAL, ["niet-westers", "westers", geen])]


@lru_cache(maxsize=1)
def region_classes() -> dict[str, str]:
    """arbeidsmarktregio code -> randstad class (``randstad`` / ``overig``), from the reference file of the
    municipalities (every municipality of a region has the region's class)."""
    text = resources.files("monitor_dagster.reference").joinpath("gemeente_arbeidsmarktregio_2020.csv")
    ref = pl.read_csv(text.read_bytes(), separator=";", infer_schema=False)
    pairs = ref.select("arbeidsmarktregio_code", "randstad").unique()
    if pairs["arbeidsmarktregio_code"].is_duplicated().any():
        raise ValueError("gemeente_arbeidsmarktregio_2020.csv: a region with municipalities in both randstad classes")
    return dict(pairs.iter_rows())


#: the herkomst group without a migration background, and the breakdowns that only describe the others (its
#: persons have no generation and no length of stay): in herkomst totaal its whole cell is one more part of them
GEEN_HERKOMST = "geen migratieachtergrond"
MIGRANTS_ONLY = ("generatie", "verblijfsduur")
#: equations whose parts partition their total, so that total minus parts is a group of persons (an unknown or
#: unpublished value: region, asylum status, the EBB's respondents from the AOW age to 74 outside both leeftijd
#: groups): every equation but the categories of one cell and the quarters (a person is in several); see
#: :func:`_residuals`
_NOT_PARTITIONS = ("c:", "d:kwartaal\x1f")
#: the equations whose total is a cell of the other breakdowns (the separate dimension's ``totaal``)
_SEPARATE_GID = "^d:(" + "|".join(SEPARATE) + ")\x1f"


def _dims(table: pl.DataFrame) -> list[str]:
    return [d for d in DIMENSIONS if d in table.columns]


def _membership(t: pl.DataFrame, survey_indicators: frozenset[str] | set[str] = SURVEY_INDICATORS) -> pl.DataFrame:
    """(gid, _row, is_total) for every hierarchy equation a row takes part in; only groups with a total
    and at least one part.  Survey indicators add the leerweg equations of their measures (MEASURE_PARTS)."""
    dims = _dims(t)
    sep = "\x1f"

    def gid(label: str, cols: list[str]) -> pl.Expr:
        return pl.concat_str([pl.lit(label), *[pl.col(c).cast(pl.String).fill_null("\x00") for c in cols]],
                             separator=sep).alias("gid")

    frames = []
    for d in dims:
        if d == "herkomst":
            continue
        others = [c for c in dims if c != d]
        frames.append(t.select(gid(f"d:{d}", KEY + others), pl.col(_ROW),
                               (pl.col(d) == TOTAAL).fill_null(False).alias("is_total")))
        if d in MIGRANTS_ONLY and "herkomst" in dims:
            # generatie and verblijfsduur describe persons with a migration background: in herkomst totaal the
            # persons without one are a part of their own (the whole cell of geen migratieachtergrond)
            g0 = t.filter((pl.col("herkomst") == GEEN_HERKOMST) & (pl.col(d) == TOTAAL)).with_columns(
                pl.lit(TOTAAL).alias("herkomst")).select(gid(f"d:{d}", KEY + others), pl.col(_ROW),
                                                        pl.lit(False).alias("is_total"))
            with_parts = t.filter((pl.col("herkomst") == TOTAAL) & (pl.col(d) != TOTAAL)).select(
                gid(f"d:{d}", KEY + others)).unique()
            frames.append(g0.join(with_parts, on="gid", how="semi"))
    if "herkomst" in dims:
        mapping = pl.DataFrame(
            [(name, total, True) for name, total, _ in herkomst_hierarchy()]
            + [(name, p, False) for name, _, parts in herkomst_hierarchy() for p in parts],
            schema={"_eq": pl.String, "herkomst": pl.String, "is_total": pl.Boolean}, orient="row")
        others = [c for c in dims if c != "herkomst"]
        h = t.select(KEY + others + ["herkomst", _ROW]).join(mapping, on="herkomst", how="inner")
        frames.append(h.select(pl.concat_str([pl.lit("h"), pl.col("_eq"), gid("", KEY + others)],
                                             separator=sep).alias("gid"), pl.col(_ROW), pl.col("is_total")))
    # issue 18: a randstad class = its arbeidsmarktregio's (the other dimensions equal)
    if "regio" in dims and "randstad" in dims:
        others = [c for c in dims if c not in ("regio", "randstad")]
        cls = pl.col("regio").replace_strict(region_classes(), default=None, return_dtype=pl.String)
        parts = t.filter((pl.col("regio") != TOTAAL) & (pl.col("randstad") == TOTAAL)).with_columns(cls.alias("_cls"))
        whole = t.filter((pl.col("randstad") != TOTAAL) & (pl.col("regio") == TOTAAL)).with_columns(
            pl.col("randstad").alias("_cls"))
        for frame, is_total in ((parts, False), (whole, True)):
            frames.append(frame.filter(pl.col("_cls").is_not_null()).select(
                gid("x:randstad", KEY + others + ["_cls"]), pl.col(_ROW), pl.lit(is_total).alias("is_total")))
    # categories of one cell of a multi-valued indicator add up to 100%: a group of parts whose total is known
    cat = t.filter(pl.col("indicator_id").is_in(list(CATEGORY_INDICATORS)))
    if cat.height:
        frames.append(cat.select(gid("c:", [c for c in KEY if c != "measure"] + dims), pl.col(_ROW),
                                 pl.lit(False).alias("is_total")))
    # survey indicators: "<m>" = "<m> bol" + "<m> bbl" (the same cell of the other columns)
    srv = t.filter(pl.col("indicator_id").is_in(list(survey_indicators)))
    if srv.height:
        m = pl.col("measure").fill_null("")
        suffix = "(" + "|".join(re.escape(sfx) for sfx in MEASURE_PARTS) + ")$"
        srv = srv.with_columns(m.str.replace(suffix, "").alias("_base"), (~m.str.contains(suffix)).alias("is_total"))
        frames.append(srv.select(gid("m:", [c for c in KEY if c != "measure"] + dims + ["_base"]), pl.col(_ROW),
                                 pl.col("is_total")))
    # measures that add up (spec measure_parts: O25 "werk" = "werk mbo" + "werk hbo" + "werk wo")
    eqs = SPEC.measure_equations()
    if eqs:
        em = pl.DataFrame(eqs, schema={"indicator_id": pl.String, "measure": pl.String, "_eq": pl.String,
                                       "is_total": pl.Boolean}, orient="row")
        e = t.select(KEY + dims + [_ROW]).join(em, on=["indicator_id", "measure"], how="inner")
        if e.height:
            frames.append(e.select(gid("p:", [c for c in KEY if c != "measure"] + dims + ["_eq"]), pl.col(_ROW),
                                   pl.col("is_total")))
    if not frames:
        return pl.DataFrame(schema={"gid": pl.String, _ROW: pl.UInt32, "is_total": pl.Boolean})
    mem = pl.concat(frames)
    ok = mem.group_by("gid").agg(pl.col("is_total").sum().alias("_t"), (~pl.col("is_total")).sum().alias("_p"))
    ok = ok.filter(((pl.col("_t") == 1) & (pl.col("_p") >= 1))
                   | (pl.col("gid").str.starts_with("c:") & (pl.col("_p") >= 2))).select("gid")
    return mem.join(ok, on="gid", how="semi")


#: the specs' linked cells (``persons``/``counts``): (indicator, measure) -> label, and whether the row's numerator
#: (not its n) counts the label's persons
_LINKS = pl.DataFrame(SPEC.person_links(), schema={"indicator_id": pl.String, "measure": pl.String,
                                                   "_label": pl.String, "_counts": pl.Boolean}, orient="row")


def _links(t: pl.DataFrame) -> pl.DataFrame:
    """Rows of linked cells (docs/disclosure.md "Linked cells"): ``lid`` = one label in one cell key (year and
    every dimension; uncorrected rows only, the corrected ones follow their uncorrected twin,
    corrections/apply.py), ``_counts`` = the row is a share whose numerator counts the label's persons."""
    if t.height == 0 or "measure" not in t.columns:
        return pl.DataFrame(schema={_ROW: pl.UInt32, "lid": pl.String, "_counts": pl.Boolean})
    cell = ["year", *_dims(t)]
    x = t.filter(pl.col(CORRECTIE).fill_null(GEEN) == GEEN).select(_ROW, "indicator_id", "measure", *cell) \
        .join(_LINKS, on=["indicator_id", "measure"], how="inner")
    return x.select(_ROW, pl.concat_str([pl.col("_label"), *[pl.col(c).cast(pl.String).fill_null("\x00") for c in cell]],
                                        separator="\x1f").alias("lid"), "_counts")


def _linked_hits(links: pl.DataFrame, sup: pl.DataFrame) -> list[int]:
    """Shown rows to hide: in a group (one label, one cell key) with a hidden member, every row whose n counts the
    label's persons, since its n is the hidden member's n (or a hidden share's numerator).  A share that counts
    them only in its numerator stays shown when their cells are hidden for being few: it rests on its own n."""
    if links.height == 0:
        return []
    m = links.join(sup, on=_ROW, how="inner")
    hit = m.group_by("lid").agg(pl.col("suppressed").any()).filter("suppressed").select("lid")
    new = m.join(hit, on="lid", how="semi").filter(~pl.col("_counts") & ~pl.col("suppressed"))
    return sorted(set(new[_ROW].to_list()))


def _recoverable(mem: pl.DataFrame, sup: pl.DataFrame, hidden: pl.DataFrame | None = None,
                 sizes: pl.DataFrame | None = None, threshold: int | None = None) -> pl.DataFrame:
    """Members of groups in which exactly one member is suppressed (so it follows by subtraction).  ``hidden``:
    gids whose residual (total minus parts, :func:`_residuals`) is a small group of its own: with no member
    suppressed it would be revealed, so they count as well, and the gate then hides two parts (the second one by
    the rule above, since the table's check cannot see the residual once a part is hidden).

    ``sizes`` (row -> n) and ``threshold``: also the groups with two or more hidden members whose total is shown
    and that hold fewer than ``threshold`` persons together (total n minus the shown parts' n, see
    :func:`_small_unions`): every hidden cell has at least one person, so total 12 with parts 10 shown and two
    hidden makes each hidden one exactly 1 person, and its share follows from the numerators (an audit of
    December 2026 pinned 823 hidden cells of the demo so, from single equations)."""
    m = mem.join(sup, on=_ROW, how="left")
    s = m.group_by("gid").agg(pl.col("suppressed").sum().alias("_s"))
    one = pl.col("_s") == 1
    if hidden is not None and hidden.height:
        s = s.join(hidden.with_columns(pl.lit(True).alias("_v")), on="gid", how="left")
        one = one | ((pl.col("_s") == 0) & pl.col("_v").fill_null(False))
    if sizes is not None and threshold is not None:
        small = _small_unions(m, sizes, threshold)
        if small.height:
            s = s.join(small.with_columns(pl.lit(True).alias("_u")), on="gid", how="left")
            one = one | pl.col("_u").fill_null(False)
    one = s.filter(one).select("gid")
    return m.join(one, on="gid", how="semi")


def _small_unions(m: pl.DataFrame, sizes: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Gids with two or more suppressed parts, a shown total and 1..threshold-1 persons in the suppressed parts
    together (with the residual: total n minus the shown parts' n).  ``m``: membership with ``suppressed``.  Not
    the categories of one cell nor the quarters of a year (no partition of persons, :data:`_NOT_PARTITIONS`)."""
    x = m.filter(~pl.any_horizontal([pl.col("gid").str.starts_with(p) for p in _NOT_PARTITIONS])) \
        .join(sizes.select(_ROW, "n"), on=_ROW, how="left")
    sup = pl.col("suppressed").fill_null(False)
    g = x.group_by("gid").agg(
        (sup & ~pl.col("is_total")).sum().alias("_h"),
        (pl.col("is_total") & ~sup).any().alias("_tot_shown"),
        pl.col("n").filter(pl.col("is_total")).sum().alias("_tot"),
        pl.col("n").filter(~pl.col("is_total") & ~sup).sum().alias("_shown"),
        pl.col("n").filter(~sup).null_count().alias("_nulls"))
    union = pl.col("_tot") - pl.col("_shown")
    return g.filter((pl.col("_h") >= 2) & pl.col("_tot_shown") & (pl.col("_nulls") == 0)
                    & union.is_between(1, threshold - 1)).select("gid")


def _residuals(mem: pl.DataFrame, t: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Gids of the equations whose total exceeds the sum of its parts by 1 to ``threshold - 1`` persons (all
    counts known): the persons with an unknown region (asylum status, income class; issue 18), or outside every
    published class (the EBB's respondents from the AOW age to 74, December 2026), form a small group that total
    minus parts would reveal when every member were shown.  Not the categories of one cell, nor the quarters of a
    year (:data:`_NOT_PARTITIONS`)."""
    m = mem.filter(~pl.any_horizontal([pl.col("gid").str.starts_with(p) for p in _NOT_PARTITIONS]))
    if m.height == 0:
        return pl.DataFrame(schema={"gid": pl.String})
    m = m.join(t.select(_ROW, "n"), on=_ROW, how="left")
    r = m.group_by("gid").agg(pl.col("n").filter(pl.col("is_total")).sum().alias("_tot"),
                              pl.col("n").filter(~pl.col("is_total")).sum().alias("_parts"),
                              pl.col("n").null_count().alias("_nulls"))
    res = pl.col("_tot") - pl.col("_parts")
    return r.filter((pl.col("_nulls") == 0) & (res > 0) & (res < threshold)).select("gid")


def _cell_label(row: dict) -> str:
    dims = ", ".join(f"{d}={row[d]}" for d in DIMENSIONS if d in row and row[d] != TOTAAL)
    return f"{row.get('indicator_id')} {row.get('year')} [{dims or 'totaal'}] measure={row.get('measure')}"


#: a row of the input of :func:`apply_disclosure`, to drop parts of a separate dimension (issue 18)
_SRC = "_src_row"


def apply_disclosure(table: pl.DataFrame, *, threshold: int = 10, ebb_indicators: set[str] = EBB_INDICATORS,
                     ebb_min_weighted: float = EBB_MIN_WEIGHTED,
                     survey_indicators: frozenset[str] | set[str] = SURVEY_INDICATORS,
                     survey_min_weighted: float = SURVEY_MIN_WEIGHTED) -> pl.DataFrame:
    """The table with ``suppressed`` set, ``value``/``n``/``n_weighted`` nulled where suppressed and a
    column ``suppression_reason`` (``primary_n``, ``primary_ebb``, ``primary_survey``, ``secondary``; null
    when shown).

    Deterministic: which of several equally small cells takes a secondary suppression does not depend on the
    order the rows arrive in (polars group-bys do not fix it), because the rows are numbered in a canonical
    order (the cell key) before the procedure and put back afterwards.  Otherwise two builds of the same data
    could hide different cells, and a reader holding both could recover them by subtraction.

    The separate dimensions (issue 18: regio, randstad, asielstatus, inkomensklasse) never cost a cell of the
    other breakdowns: where the gate would have to hide the total of such a breakdown (no shown part left, e.g.
    the only class of a group, which equals its total, or one class next to a small residual of unknown region),
    the parts of that breakdown are left out of the table instead and the gate runs again, so the national
    figures are suppressed exactly as without the new breakdowns."""
    kw = dict(threshold=threshold, ebb_indicators=ebb_indicators, ebb_min_weighted=ebb_min_weighted,
              survey_indicators=survey_indicators, survey_min_weighted=survey_min_weighted)
    own = pl.col("indicator_id").is_in(list(OWN_RULE_INDICATORS))
    if OWN_RULE_INDICATORS and table.height and table.select(own.any()).item():
        # rows under a rule of their own keep their place; the person procedure runs on the rest
        t = table.with_row_index(_OWN_ROW)
        rest = apply_disclosure(t.filter(~own), **kw)
        return pl.concat([rest, _own_rule_rows(t.filter(own))], how="diagonal_relaxed").sort(_OWN_ROW).select(
            [c for c in rest.columns if c != _OWN_ROW])
    table = table.with_row_index(_SRC)
    while True:
        out, drop = _apply_disclosure(table, **kw)
        if not drop:
            return out.drop(_SRC)
        table = table.filter(~pl.col(_SRC).is_in(sorted(drop)))


def _apply_disclosure(table: pl.DataFrame, *, threshold: int, ebb_indicators: set[str], ebb_min_weighted: float,
                      survey_indicators: frozenset[str] | set[str],
                      survey_min_weighted: float) -> tuple[pl.DataFrame, set[int]]:
    """One run of the gate: the gated table, or the input rows (``_SRC``) of the separate dimensions' parts to
    leave out before running again (see :func:`apply_disclosure`)."""
    added = CORRECTIE not in table.columns
    if added:
        table = table.with_columns(pl.lit(GEEN).alias(CORRECTIE))
    canon = [c for c in [*KEY, *_dims(table)] if c in table.columns]
    t = table.with_row_index(_ORIG).sort(canon, nulls_last=True).with_row_index(_ROW)
    n, nw = pl.col("n"), pl.col("n_weighted")
    ebb = pl.col("indicator_id").is_in(list(ebb_indicators))
    prior = pl.col("suppressed").fill_null(False) if "suppressed" in t.columns else pl.lit(False)
    old_reason = pl.col("suppression_reason") if "suppression_reason" in t.columns else pl.lit(None, pl.String)
    t = t.with_columns(
        # a row the gate hid before keeps its reason: a second pass (corrections/apply.gate) sees its n nulled
        pl.when(prior & old_reason.is_not_null()).then(old_reason)
        .when(n.is_null() | (n < threshold)).then(pl.lit("primary_n"))
        .when(ebb & (nw.is_null() | (nw <= ebb_min_weighted))).then(pl.lit("primary_ebb"))
        .when(pl.col("indicator_id").is_in(list(survey_indicators)) & (nw.is_null() | (nw < survey_min_weighted)))
        .then(pl.lit("primary_survey"))
        .when(prior).then(pl.coalesce(old_reason, pl.lit("upstream")))
        .otherwise(pl.lit(None, pl.String)).alias("suppression_reason"))
    t = t.with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))

    mem = _membership(t, survey_indicators)
    links = _links(t)
    hidden = _residuals(mem, t, threshold)
    sizes = t.select(_ROW, "n", "n_weighted")
    secondary: set[int] = set()
    while True:
        linked = _linked_hits(links, t.select(_ROW, "suppressed"))
        if linked:
            t = t.with_columns(
                pl.when(pl.col(_ROW).is_in(linked)).then(pl.lit("linked"))
                .otherwise(pl.col("suppression_reason")).alias("suppression_reason"))
            t = t.with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))
        sup = t.select(_ROW, "suppressed")
        rec = _recoverable(mem, sup, hidden, sizes, threshold)
        if rec.height == 0:
            if linked:
                continue
            break
        # per group: the smallest shown part (the total only if no part is left)
        pick = (rec.filter(~pl.col("suppressed")).join(sizes, on=_ROW)
                .sort(["gid", "is_total", "n", "n_weighted", _ROW], nulls_last=True)
                .group_by("gid", maintain_order=True).first())
        # issue 18: never the total of a separate dimension's breakdown (a cell of the other breakdowns): its
        # parts are left out instead, and the gate runs again without them
        sep_total = pick.filter(pl.col("is_total") & pl.col("gid").str.contains(_SEPARATE_GID))
        if sep_total.height:
            parts = mem.join(sep_total.select("gid"), on="gid", how="semi").filter(~pl.col("is_total"))
            return table, set(t.join(parts.select(_ROW).unique(), on=_ROW, how="semi")[_SRC].to_list())
        new = set(pick[_ROW].to_list()) - secondary
        if not new:  # cannot happen: a group with one suppressed member has a shown one
            break
        secondary |= new
        t = t.with_columns(
            pl.when(pl.col(_ROW).is_in(list(new))).then(pl.lit("secondary"))
            .otherwise(pl.col("suppression_reason")).alias("suppression_reason"))
        t = t.with_columns(pl.col("suppression_reason").is_not_null().alias("suppressed"))

    # asielstatus next to generatie: where the two together give away the first generation without a recorded
    # migration motive, or a hidden cell, the asielstatus parts of that cell are left out (issue 18's rule: a
    # separate breakdown never costs a cell of the others) and the gate runs again
    leak = _asylum_generation_leaks(t, threshold)
    if leak.height:
        return table, set(t.join(leak, on=_ROW, how="semi")[_SRC].to_list())

    s = pl.col("suppressed")
    t = t.with_columns(*[pl.when(s).then(pl.lit(None, t.schema[c])).otherwise(pl.col(c)).alias(c)
                         for c in ("value", "n", "n_weighted") if c in t.columns])
    t = t.sort(_ORIG).drop(_ROW, _ORIG)
    return (t.drop(CORRECTIE) if added else t), set()


#: the cells of one herkomst cell key that asielstatus and generatie tie together (see _asylum_generation_leaks)
_GEN_ASYL = {("generatie", "eerste"): "E", ("generatie", "tweede"): "T", ("asielstatus", "statushouder"): "SH",
             ("asielstatus", "overig migratiemotief"): "OV", ("asielstatus", "geen migratie"): "GM"}


def _asylum_generation_leaks(t: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Rows (``_ROW``) of asielstatus parts to leave out, because together with generatie they reveal something.

    ``geen migratie`` means "not in MIGMOTIEFBUS" (docs/regions.md): the second generation plus the first
    generation without a recorded motive (D).  So, in one cell key of herkomst X, with the other breakdowns
    totaal: eerste = statushouder + overig migratiemotief + D and geen migratie = tweede + D (for herkomst totaal
    also + the cell of geen migratieachtergrond).  Where one side is fully shown (a missing row is 0 persons), D
    is known: a D of 1-9 persons is a small group of its own (with its value, through value x n), and the other
    side's single hidden member follows.  Counted from the shown cells only, as a reader would."""
    empty = pl.DataFrame(schema={_ROW: pl.UInt32})
    dims = _dims(t)
    if not {"herkomst", "generatie", "asielstatus"} <= set(dims) or t.height == 0:
        return empty
    rest = [d for d in dims if d not in ("herkomst", "generatie", "asielstatus")]
    base = t.filter(pl.all_horizontal([pl.col(d) == TOTAAL for d in rest]))
    key = [c for c in KEY if c in t.columns] + ["herkomst"]
    labels = pl.DataFrame([(d, v, lab) for (d, v), lab in _GEN_ASYL.items()],
                          schema={"_d": pl.String, "_v": pl.String, "_lab": pl.String}, orient="row")
    one = base.with_columns(
        pl.when((pl.col("generatie") != TOTAAL) & (pl.col("asielstatus") == TOTAAL)).then(pl.lit("generatie"))
        .when((pl.col("asielstatus") != TOTAAL) & (pl.col("generatie") == TOTAAL)).then(pl.lit("asielstatus"))
        .alias("_d"),
        pl.when(pl.col("generatie") != TOTAAL).then(pl.col("generatie")).otherwise(pl.col("asielstatus")).alias("_v"))
    cells = one.join(labels, on=["_d", "_v"], how="inner").filter(pl.col("herkomst") != GEEN_HERKOMST)
    if cells.height == 0 or cells.filter(pl.col("_d") == "asielstatus").height == 0:
        return empty
    # herkomst totaal: geen migratie also holds the persons without a migration background (their whole cell)
    g0 = base.filter((pl.col("herkomst") == GEEN_HERKOMST) & (pl.col("generatie") == TOTAAL)
                     & (pl.col("asielstatus") == TOTAAL)).select(
        *[c for c in key if c != "herkomst"], pl.lit(TOTAAL).alias("herkomst"), pl.lit("G0").alias("_lab"),
        "n", "suppressed", _ROW)
    cells = pl.concat([cells.select(*key, "_lab", "n", "suppressed", _ROW), g0], how="vertical_relaxed")
    side_a = pl.col("_lab").is_in(["E", "SH", "OV"])
    sign = pl.when(pl.col("_lab").is_in(["E", "GM"])).then(1).otherwise(-1)
    shown_n = pl.when(~pl.col("suppressed")).then(pl.col("n") * sign).otherwise(0)
    per = cells.group_by(key).agg(
        pl.col("_lab").is_in(["E", "T"]).any().alias("_gen"), pl.col("_lab").is_in(["SH", "OV", "GM"]).any().alias("_asy"),
        shown_n.filter(side_a).sum().alias("_da"), shown_n.filter(~side_a).sum().alias("_db"),
        (pl.col("suppressed") & side_a).sum().alias("_ha"), (pl.col("suppressed") & ~side_a).sum().alias("_hb"))
    small = lambda d: (pl.col(d) >= 1) & (pl.col(d) < threshold)   # noqa: E731
    known_a, known_b = pl.col("_ha") == 0, pl.col("_hb") == 0
    bad = per.filter(pl.col("_gen") & pl.col("_asy") & (
        (known_a & (small("_da") | (pl.col("_hb") == 1))) | (known_b & (small("_db") | (pl.col("_ha") == 1)))))
    if bad.height == 0:
        return empty
    return (cells.join(bad.select(key), on=key, how="semi", nulls_equal=True)
            .filter(pl.col("_lab").is_in(["SH", "OV", "GM"])).select(_ROW))


def check_disclosure(table: pl.DataFrame, *, threshold: int = 10, ebb_indicators: set[str] = EBB_INDICATORS,
                     ebb_min_weighted: float = EBB_MIN_WEIGHTED,
                     survey_indicators: frozenset[str] | set[str] = SURVEY_INDICATORS,
                     survey_min_weighted: float = SURVEY_MIN_WEIGHTED) -> list[str]:
    """Violations of the disclosure rules in a table claimed safe (empty list = safe)."""
    out: list[str] = []
    for c in table.columns:
        if PERSON_KEY.search(c):
            out.append(f"column {c!r} looks like a person key")
    if "suppressed" not in table.columns:
        return out + ["no 'suppressed' column: table has not passed apply_disclosure"]
    kw = dict(threshold=threshold, ebb_indicators=ebb_indicators, ebb_min_weighted=ebb_min_weighted,
              survey_indicators=survey_indicators, survey_min_weighted=survey_min_weighted)
    own = pl.col("indicator_id").is_in(list(OWN_RULE_INDICATORS))
    if OWN_RULE_INDICATORS and table.height and table.select(own.any()).item():
        # vacancy rows (issue 20): no person rule; a shown row needs its value and n
        vac = table.filter(pl.col("indicator_id").is_in(list(VACANCY_INDICATORS))).with_columns(
            pl.col("suppressed").fill_null(False))
        bad = vac.filter(~pl.col("suppressed") & (pl.col("n").is_null() | pl.col("value").is_null()))
        out += [f"{_cell_label(r)}: vacancy cell shown without value or n" for r in bad.iter_rows(named=True)]
        # organisation rows (issue 19): the organisation threshold; their equations were kept upstream
        # (surveys.disclosure.check_disclosure runs on the full detail in the survey asset)
        org = table.filter(pl.col("indicator_id").is_in(list(ORG_INDICATORS))).with_columns(
            pl.col("suppressed").fill_null(False))
        shown = org.filter(~pl.col("suppressed") & (pl.col("n").is_null() | (pl.col("n") < ORG_MIN)))
        out += [f"{_cell_label(r)}: organisation cell shown with n < {ORG_MIN} or n missing" for r in shown.iter_rows(named=True)]
        leak = org.filter(pl.col("suppressed") & pl.any_horizontal(
            [pl.col(c).is_not_null() for c in ("value", "n", "n_weighted") if c in org.columns]))
        out += [f"{_cell_label(r)}: suppressed but value/n/n_weighted not null" for r in leak.iter_rows(named=True)]
        return out + check_disclosure(table.filter(~own), **kw)
    if CORRECTIE not in table.columns:
        table = table.with_columns(pl.lit(GEEN).alias(CORRECTIE))
    t = table.with_row_index(_ROW).with_columns(pl.col("suppressed").fill_null(False))
    shown = ~pl.col("suppressed")
    ebb = pl.col("indicator_id").is_in(list(ebb_indicators))
    rules = [
        ("shown with n < %d or n missing" % threshold, shown & (pl.col("n").is_null() | (pl.col("n") < threshold))),
        ("EBB cell shown with n_weighted <= %g" % ebb_min_weighted,
         shown & ebb & (pl.col("n_weighted").is_null() | (pl.col("n_weighted") <= ebb_min_weighted))),
        ("survey cell shown with n_weighted < %g" % survey_min_weighted,
         shown & pl.col("indicator_id").is_in(list(survey_indicators))
         & (pl.col("n_weighted").is_null() | (pl.col("n_weighted") < survey_min_weighted))),
        ("suppressed but value/n/n_weighted not null", pl.col("suppressed")
         & pl.any_horizontal([pl.col(c).is_not_null() for c in ("value", "n", "n_weighted") if c in t.columns])),
    ]
    if "measure" in t.columns:
        rules.append(("measure is a minimum/maximum", pl.col("measure").fill_null("").str.contains("(?i)" + MINMAX.pattern)))
    for why, expr in rules:
        for row in t.filter(expr).iter_rows(named=True):
            out.append(f"{_cell_label(row)}: {why}")
    mem = _membership(t, survey_indicators)
    rec = _recoverable(mem, t.select(_ROW, "suppressed"))
    bad = rec.filter(pl.col("suppressed")).select(_ROW).unique()
    for row in t.join(bad, on=_ROW, how="semi").iter_rows(named=True):
        out.append(f"{_cell_label(row)}: suppressed but recoverable by subtraction from its total and parts")
    few = mem.join(_small_unions(mem.join(t.select(_ROW, "suppressed"), on=_ROW, how="left"), t.select(_ROW, "n"),
                                 threshold), on="gid", how="semi")
    tot = t.join(few.filter(pl.col("is_total")).select(_ROW).unique(), on=_ROW, how="semi")
    for row in tot.iter_rows(named=True):
        out.append(f"{_cell_label(row)}: its suppressed parts hold fewer than {threshold} persons together (total "
                   "minus the shown parts), so each one's count is bounded to a few persons")
    for r in _linked_hits(_links(t), t.select(_ROW, "suppressed")):
        out.append(f"{_cell_label(t.row(r, named=True))}: shown but counts the same persons as a suppressed cell "
                   "(linked cells: its n gives that cell's count away)")
    asy = _asylum_generation_leaks(t, threshold)     # empty for a table without asielstatus (before issue 18)
    for row in (t.join(asy, on=_ROW, how="semi").filter(pl.col("asielstatus") == "geen migratie").iter_rows(named=True)
                if asy.height else []):
        out.append(f"{_cell_label(row)}: asielstatus and generatie together reveal the first generation without a "
                   f"recorded migration motive (fewer than {threshold} persons) or a hidden cell")
    # issue 18: every member shown and total minus parts = 1-9 persons of unknown region (status, income class)
    small = _residuals(mem, t.filter(~pl.col("suppressed")).select(_ROW, "n"), threshold)
    if small.height:
        full = mem.join(t.select(_ROW, "suppressed"), on=_ROW).group_by("gid").agg(pl.col("suppressed").any())
        small = small.join(full.filter(~pl.col("suppressed")), on="gid", how="semi")
        tot = mem.join(small, on="gid", how="semi").filter(pl.col("is_total")).select(_ROW).unique()
        for row in t.join(tot, on=_ROW, how="semi").iter_rows(named=True):
            out.append(f"{_cell_label(row)}: total minus its shown parts reveals a residual of fewer than "
                       f"{threshold} persons (outside every published class, or of unknown class)")
    return out
