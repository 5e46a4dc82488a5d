"""Input indicators from the organisation surveys (issue 19; technisch rapport Monitor gelijke kansen, §3.1, §3.2.2
a-f, §3.3, §3.5; two-yearly, §7.1.1).

Every questionnaire of the report follows one pattern (§3.1): priority of activities for persons with a
non-Western migration background (four levels, ``prioriteit``), the actions and "op een schaal van 0 tot en met
5 ... hoe vaak deze actie wordt ingezet" (``acties``), "Kies maximaal drie maatregelen die volgens u het meeste
effect hebben" (``top3``), success factors and generic instruments as open answers (``succes``,
``instrumenten``, ``open``) and barriers (``belemmeringen``).  Per instrument and wave this module turns the
responses, the frame and the non-response weights (weights.py) into a long frame of weighted estimates with the
unweighted n, the weighted n, a 95 % margin of error and the class's response rate, for the totaal and per
background class.  Open answers never enter it: :func:`open_answers` hands them out for coding under a random
code instead of the organisation.

Margin of error: Taylor linearisation of a (domain) ratio mean, stratified by the first weighting margin, each
stratum with its finite population correction ``1 - n_h / N_h`` (every organisation was approached: the
respondents are read as a stratified sample without replacement of the frame), times Student's t with
``n - 1`` degrees of freedom of the cell (``n`` = its respondents; conservative for the small cells this survey
has).  The same estimator as samplics' ``TaylorEstimator`` (test_surveys_indicators checks one cell against it),
written out in numpy because the frame has thousands of cells.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from monitor_dagster.surveys.form import Form, Question
from monitor_dagster.surveys.weights import Weights, response_rates

#: the indicator id's prefix per instrument (S = survey; g gemeenten, w werkgevers, o onderwijsinstellingen)
PREFIX = {"gemeenten": "S-g", "werkgevers": "S-w", "onderwijsinstellingen": "S-o"}
#: number of the indicator per kind: 1 priority shares, 2 actions (distribution of the 0-5 rating; share
#: naming an action where the form asks it without a scale), 3 mean rating, 4 top three, 5 barriers
KIND = {"prioriteit": 1, "acties": 2, "score": 3, "top3": 4, "belemmeringen": 5}
UNIT_SHARE, UNIT_SCORE = "%", "score 0-5"
#: background classes each instrument is published by, besides totaal (frame columns)
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "gemeenten": ("grootteklasse", "regio"),
    "werkgevers": ("sector", "grootteklasse"),
    "onderwijsinstellingen": ("sector",),
}
TOTAAL = "totaal"
RATING = tuple(str(k) for k in range(6))
#: answers to a 0-5 action that are no frequency: left out of the rating's distribution and mean (an action
#: that does not apply to the organisation, or that the respondent cannot judge, is not "0 = never")
NOT_RATED = frozenset({"nvt", "n.v.t.", "weet niet", "weet_niet", "weetniet", "nvt/weet niet", "geen antwoord"})
#: sections whose answers are free text for coding, never figures
OPEN_SECTIONS = frozenset({"open", "succes"})
TEXT_TYPES = frozenset({"text"})
SELECT_TYPES = frozenset({"select_one", "select_multiple"})
Z_LEVEL = 0.975

SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.String, "year": pl.Int32, "instrument": pl.String, "question": pl.String,
    "measure": pl.String, "breakdown": pl.String, "category": pl.String, "value": pl.Float64, "unit": pl.String,
    "n": pl.Int64, "n_weighted": pl.Float64, "n_choice": pl.Int64, "moe": pl.Float64,
    "response_rate": pl.Float64, "w_max": pl.Float64, "adds_to_100": pl.Boolean,
}
COLUMNS = list(SCHEMA)


def indicator_id(instrument: str, kind: str) -> str:
    return f"{PREFIX[instrument]}{KIND[kind]}"


def is_rating(q: Question) -> bool:
    """A 0-5 action scale: a select_one whose choices include 0..5 (the rest: nvt / weet niet)."""
    return q.type == "select_one" and q.choices is not None and set(RATING) <= set(q.choices)


def is_open(q: Question) -> bool:
    """Free text: any ``text`` item (also an "andere actie, namelijk ..." field) or an item of an open section."""
    return q.type in TEXT_TYPES or (q.section in OPEN_SECTIONS and q.type not in SELECT_TYPES)


class _Design:
    """The respondents' weights and variance strata (the first weighting margin; strata with a single
    respondent that do not hold their whole class are collapsed into one, so each has a variance)."""

    def __init__(self, weights: Weights, frame: pl.DataFrame, org_key: str):
        first = weights.margins[0]
        w = weights.weights
        self.w = w["weight"].to_numpy().astype(float)
        strata = w[first].cast(pl.String).to_numpy()
        N = dict(frame.group_by(pl.col(first).cast(pl.String)).len().iter_rows())
        labels, counts = np.unique(strata, return_counts=True)
        n = dict(zip(labels, counts))
        single = {h for h in labels if n[h] == 1 and N[h] > 1}
        if single:
            strata = np.where(np.isin(strata, list(single)), "_samengevoegd", strata)
            N["_samengevoegd"] = sum(N[h] for h in single)
            n["_samengevoegd"] = len(single)
        self.groups = []
        for h in np.unique(strata):
            idx = np.flatnonzero(strata == h)
            nh = len(idx)
            c = (1.0 - nh / N[h]) * nh / (nh - 1) if nh > 1 else 0.0
            self.groups.append((idx, c))

    def estimate(self, Y: np.ndarray, dm: np.ndarray):
        """Weighted means of the columns of Y over the respondents in ``dm`` and their linearised variances."""
        wd = self.w * dm
        nw = wd.sum()
        est = wd @ Y / nw
        Z = wd[:, None] * (Y - est) / nw
        var = np.zeros(Y.shape[1])
        for idx, c in self.groups:
            if c:
                Zh = Z[idx]
                var += c * ((Zh - Zh.mean(axis=0)) ** 2).sum(axis=0)
        return est, var, nw, (self.w[dm].max() if dm.any() else np.nan)


def _values(responses: pl.DataFrame, q: Question) -> list:
    if q.name not in responses.columns:
        raise ValueError(f"question {q.name!r} of the form is not a column of the responses")
    vals = responses[q.name].cast(pl.String).to_list()
    allowed = set(q.choices or ())
    for v in vals:
        if v is None:
            continue
        for c in (v.split() if q.type == "select_multiple" else [v]):
            if c not in allowed:
                raise ValueError(f"question {q.name!r}: answer {c!r} is not a choice of the form ({sorted(allowed)})")
    return vals


def _share_matrix(vals: list, q: Question, choices: tuple[str, ...]):
    answered = np.array([v is not None and (q.type == "select_one" or v.strip() != "") for v in vals])
    picked = [set(v.split()) if q.type == "select_multiple" else {v} for v in (x or "" for x in vals)]
    Y = np.array([[1.0 if c in p else 0.0 for c in choices] for p in picked]).reshape(len(vals), len(choices))
    return Y, answered


def _moe(t: float, var: float, est: float, n: int, n_weighted: float, share: bool) -> float:
    """Half the 95 % interval: the Taylor one, except for a share of 0 or 1 with non-response in the cell.  Every
    respondent then answered alike, the Taylor variance is exactly 0, and "0,0 ± 0,0" would say that the
    non-respondents cannot differ (report §3.8 c: "een onnauwkeurigheidsmarge ... voor een juiste interpretatie").
    There the margin is the distance to the far end of the Wilson score interval, z² / (n + z²), times the
    finite-population correction sqrt((N - n) / (N - 1)) with N the weighted n (the class's frame count): 0 for
    a class that all responded, 2.4 points for 85 of 124 institutions (the demo's S-o cells until December 2026
    showed 0,0)."""
    taylor = t * np.sqrt(max(var, 0.0))
    if not share or taylor > 0 or not (est <= 0.0 or est >= 1.0) or n_weighted <= n or n_weighted <= 1:
        return float(taylor)
    z2 = t * t
    return float(z2 / (n + z2) * np.sqrt((n_weighted - n) / (n_weighted - 1)))


def survey_indicators(form: Form, responses: pl.DataFrame, frame: pl.DataFrame, weights: Weights, *,
                      breakdowns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The long frame (:data:`SCHEMA`) of one instrument and wave (report 3.2.2 a-f, 3.3, 3.5; two-yearly, 7.1.1).

    Per ``prioriteit`` select: the weighted share per choice among the organisations that answered it
    (``adds_to_100``).  Per 0-5 action (``acties``): the weighted distribution over 0..5 and the weighted mean
    (:data:`NOT_RATED` answers left out of both); an action list without scale: the share naming each action.
    Per ``top3`` select_multiple: the weighted share of organisations naming each action, with ``n_choice`` the
    unweighted count naming it.  Per ``belemmeringen`` select: the share per choice (``adds_to_100`` only for a
    select_one).  ``n``: responding organisations in the cell's denominator; ``n_weighted``: their weights;
    ``w_max``: the largest single weight among them (for the dominance rule of disclosure.py, dropped there);
    ``moe``: half the 95 % interval (module docstring), in the unit of ``value``."""
    key = form.org_key
    inst = form.instrument
    year = int(form.wave)
    bds = tuple(breakdowns if breakdowns is not None else BREAKDOWNS[inst])
    order = weights.weights.select(key)
    resp = order.join(responses, on=key, how="left", maintain_order="left")
    classes = order.join(frame.select(key, *[b for b in bds if b in frame.columns]), on=key, how="left",
                         maintain_order="left")
    for b in bds:
        if b not in classes.columns:
            raise ValueError(f"breakdown {b!r} is not a column of the frame")
    design = _Design(weights, frame, key)
    rates = response_rates(frame, order, bds, key)
    rate = {(r["margin"], r["class"]): r["response_rate"] for r in rates.iter_rows(named=True)}
    domains = [(TOTAAL, TOTAAL, np.ones(resp.height, dtype=bool), rate[(TOTAAL, TOTAAL)])]
    for b in bds:
        col = classes[b].cast(pl.String).to_numpy()
        for c in sorted({x for x in col if x is not None}):
            domains.append((b, c, col == c, rate.get((b, c))))
    rows: list[dict] = []

    def emit(iid, q, measures, Y, answered, unit, share, adds):
        for bd, cat, dom, rr in domains:
            dm = answered & dom
            n = int(dm.sum())
            if n == 0:
                continue
            est, var, nw, wmax = design.estimate(Y, dm)
            t = stats.t.ppf(Z_LEVEL, max(n - 1, 1))
            scale = 100.0 if unit == UNIT_SHARE else 1.0
            counts = Y[dm].sum(axis=0) if share else [None] * len(measures)
            for j, m in enumerate(measures):
                rows.append({"indicator_id": iid, "year": year, "instrument": inst, "question": q.name,
                             "measure": m, "breakdown": bd, "category": cat, "value": float(est[j] * scale),
                             "unit": unit, "n": n, "n_weighted": float(nw),
                             "n_choice": None if counts[j] is None else int(counts[j]),
                             "moe": float(_moe(t, var[j], est[j], n, nw, share) * scale), "response_rate": rr,
                             "w_max": float(wmax), "adds_to_100": adds})

    for q in form.questions.values():
        if q.type not in SELECT_TYPES or q.name == key or q.section not in ("prioriteit", "acties", "instrumenten",
                                                                               "top3", "belemmeringen"):
            continue
        vals = _values(resp, q)
        if q.section == "acties" and is_rating(q):
            rated = np.array([v in RATING for v in vals])
            Y, _ = _share_matrix([v if v in RATING else None for v in vals], q, RATING)
            emit(indicator_id(inst, "acties"), q, [f"{q.name}: {k}" for k in RATING], Y, rated, UNIT_SHARE, True, True)
            score = np.array([[float(v)] if v in RATING else [0.0] for v in vals])
            emit(indicator_id(inst, "score"), q, [q.name], score, rated, UNIT_SCORE, False, False)
            continue
        kind = "acties" if q.section == "instrumenten" else q.section
        choices = tuple(q.choices or ())
        Y, answered = _share_matrix(vals, q, choices)
        emit(indicator_id(inst, kind), q, [f"{q.name}: {c}" for c in choices], Y, answered, UNIT_SHARE, True,
             q.type == "select_one")
    return pl.DataFrame(rows, schema=SCHEMA) if rows else pl.DataFrame(schema=SCHEMA)


def compute_wave(form: Form, responses: pl.DataFrame, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, Weights]:
    """One instrument and wave end to end, for the Dagster asset: weights (weights.py), indicators, disclosure
    (disclosure.py).  Returns (the disclosed long frame with margins and response rates: the publication's
    detail; its rows for the indicator table; the weights with their method and note: asset metadata, kept in
    the warehouse with the org key)."""
    from monitor_dagster.surveys.disclosure import apply_disclosure
    from monitor_dagster.surveys.weights import nonresponse_weights

    weights = nonresponse_weights(frame, responses, form.instrument, org_key=form.org_key)
    detail = apply_disclosure(survey_indicators(form, responses, frame, weights))
    vintages = f"enquete {form.instrument} {form.wave} (formulier {form.version})"
    return detail, to_table_rows(detail, vintages=vintages), weights


def measures_of(form: Form) -> dict[str, list[str]]:
    """Indicator id -> the ``measure`` values :func:`survey_indicators` publishes for this form (for the
    ``measures`` of the specs in indicators/specs.yaml: they follow the form's question and choice names)."""
    out: dict[str, list[str]] = {}
    for q in form.questions.values():
        if q.type not in SELECT_TYPES or q.name == form.org_key or q.section not in ("prioriteit", "acties",
                                                                                      "instrumenten", "top3",
                                                                                      "belemmeringen"):
            continue
        if q.section == "acties" and is_rating(q):
            out.setdefault(indicator_id(form.instrument, "acties"), []).extend(f"{q.name}: {k}" for k in RATING)
            out.setdefault(indicator_id(form.instrument, "score"), []).append(q.name)
            continue
        kind = "acties" if q.section == "instrumenten" else q.section
        out.setdefault(indicator_id(form.instrument, kind), []).extend(f"{q.name}: {c}" for c in q.choices or ())
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class OpenAnswers:
    """``answers``: one row per (organisation, open question) with a non-empty answer, the organisation replaced
    by ``code`` (for the coders); ``key``: code -> org key, to be kept in the warehouse only (re-contact, a
    second wave), never handed out with the answers."""
    answers: pl.DataFrame
    key: pl.DataFrame


def names_by_org(frame: pl.DataFrame, key: str = "org_id") -> dict[str, list[str]]:
    """Per organisation the names a coder must not read in its open answers: the sample frame's ``naam`` (the
    municipality's, the institution's), for :func:`open_answers` ``redact``.  A frame without names (werkgevers)
    gives none.  The open answers went to the coders unredacted until December 2026 (the report asks for
    confidentiality, §3.1 and §3.8)."""
    if "naam" not in frame.columns or key not in frame.columns:
        return {}
    return {o: [n] for o, n in frame.select(pl.col(key).cast(pl.String), pl.col("naam").cast(pl.String)).iter_rows()
            if o is not None and n}


def open_answers(form: Form, responses: pl.DataFrame, *, seed: int | None = None,
                 redact: dict[str, list[str]] | None = None) -> OpenAnswers:
    """The open answers (success factors, generic instruments, "andere ..., namelijk") for coding.

    The order of the rows is shuffled with the codes, so the row order of the export does not give the
    organisation away either.  ``redact``: per org key, names (the municipality's, the employer's) replaced by
    ``[organisatie]`` in its answers; a coder still reads for other identifying detail.  ``seed`` only for
    tests: by default the codes come from :mod:`secrets`."""
    key = form.org_key
    qs = [q for q in form.questions.values() if is_open(q) and q.name != key and q.name in responses.columns]
    orgs = responses[key].cast(pl.String).to_list()
    if seed is None:
        codes = [secrets.token_hex(5) for _ in orgs]
    else:
        rng = np.random.default_rng(seed)
        codes = [f"{x:010x}" for x in rng.integers(0, 16 ** 10, len(orgs))]
    if len(set(codes)) < len(codes):                 # astronomically rare: draw again
        return open_answers(form, responses, seed=None if seed is None else seed + 1, redact=redact)
    code_of = dict(zip(orgs, codes))
    rows = []
    for q in qs:
        for org, ans in zip(orgs, responses[q.name].cast(pl.String).to_list()):
            if ans is None or not ans.strip():
                continue
            for name in (redact or {}).get(org, []):
                ans = ans.replace(name, "[organisatie]")
            rows.append({"code": code_of[org], "instrument": form.instrument, "wave": form.wave,
                         "question": q.name, "section": q.section, "answer": ans})
    schema = {"code": pl.String, "instrument": pl.String, "wave": pl.String, "question": pl.String,
              "section": pl.String, "answer": pl.String}
    answers = pl.DataFrame(rows, schema=schema)
    if answers.height:
        answers = answers.sample(fraction=1.0, shuffle=True, seed=seed).sort("question", maintain_order=True)
    keyframe = pl.DataFrame({"code": codes, key: orgs}, schema={"code": pl.String, key: pl.String})
    return OpenAnswers(answers=answers, key=keyframe)


def to_table_rows(frame: pl.DataFrame, *, vintages: str = "", status: str = "definitief",
                  extra: bool = False) -> pl.DataFrame:
    """Rows of the indicator table (indicators/table.py SCHEMA) from :func:`survey_indicators` (after
    disclosure.py, whose ``suppressed`` is kept).  A breakdown that is a table dimension (``regio``, ``sector``)
    fills that column; one that is not (``grootteklasse``) fills a column of its own, which the table gets when
    the integrator adds it to DIMENSIONS (docs/surveys_indicators.md, Integration); herkomst is ``totaal``:
    organisations have none.  ``extra``: keep ``moe``, ``response_rate`` and ``n_choice`` (the publication's)."""
    from monitor_dagster.indicators import table as T

    cols = {}
    bds = [b for b in frame["breakdown"].unique().to_list() if b != TOTAAL]
    for d in [*T.DIMENSIONS, *[b for b in sorted(bds) if b not in T.DIMENSIONS]]:
        cols[d] = pl.when(pl.col("breakdown") == d).then(pl.col("category")).otherwise(pl.lit(TOTAAL)).alias(d)
    out = frame.select(
        pl.col("indicator_id"), pl.col("year").cast(pl.Int32), *cols.values(), pl.lit(T.GEEN).alias(T.CORRECTIE),
        pl.col("measure"), pl.col("value"), pl.col("unit"), pl.col("n").cast(pl.Int64),
        pl.col("n_weighted").cast(pl.Float64), pl.lit(status).alias("status"),
        (pl.col("suppressed") if "suppressed" in frame.columns else pl.lit(False)).alias("suppressed"),
        pl.lit(None, dtype=pl.String).alias("trend_break"), pl.lit(vintages).alias("vintages"),
        *[pl.col(c) for c in ("moe", "response_rate", "n_choice", "suppression_reason") if c in frame.columns])
    own = [c for c in cols if c not in T.DIMENSIONS]
    keep = [*T.COLUMNS, *own]
    if extra:
        keep += [c for c in ("moe", "response_rate", "n_choice", "suppression_reason") if c in out.columns]
    return out.select(keep)
