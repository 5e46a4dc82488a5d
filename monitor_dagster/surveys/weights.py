"""Non-response weights of the organisation surveys (issue 19; technisch rapport Monitor gelijke kansen, §3.2.2:
"Een variëteit in de grootte van de gemeente, bijstandspopulatie en type beleid is hierbij van belang" (size
and region are margins; the bijstand population is not: docs/surveys_indicators.md), gemeentegrootte uitvragen, regionale
uitsplitsingen; §3.3: "De steekproefomvang van de WEA varieert per bedrijfstak", "In de WEA zijn met name grote
bedrijven vertegenwoordigd").

Every organisation of the frame is approached, so the design weight is N/n for every respondent; raking
(iterative proportional fitting, ``samplics.weighting.SampleWeight().rake``) then makes the weights add up to the
frame's counts on each margin of :data:`MARGINS`.  Where raking cannot be done (a class of a margin with
organisations in the frame and no respondent, or no convergence) the weights are post-stratified on the
instrument's first margin alone and :attr:`Weights.note` says why; an empty class of that first margin is an
error naming the class (no weighting can represent it).

samplics is archived upstream (its successor is ``svy``); the pinned 0.6.1 is used as it is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

#: the frame's classes the weights are calibrated to, per instrument; the first is the fallback's
#: post-stratification margin and the variance strata (indicators.py)
MARGINS: dict[str, tuple[str, ...]] = {
    "gemeenten": ("grootteklasse", "regio"),
    "werkgevers": ("sector", "grootteklasse"),
    "onderwijsinstellingen": ("sector",),
}
RAKE_TOL = 1e-10
RAKE_MAX_ITER = 500
#: relative distance of a weighted margin from the frame's count above which raking counts as not converged
CONVERGED = 1e-6


class WeightingError(ValueError):
    """The responses cannot be weighted to the frame (message names the class or organisation)."""


@dataclass(frozen=True)
class Weights:
    """``weights``: one row per respondent (org key, the margin columns, ``design_weight``, ``weight`` and the
    ``response_rate`` of its class of the first margin);
    ``response``: per margin and class (and ``totaal``) N in the frame, n responding and ``response_rate``;
    ``method``: ``raking`` or ``poststratificatie``; ``note``: why the fallback was taken (None for raking)."""
    weights: pl.DataFrame
    response: pl.DataFrame
    method: str
    margins: tuple[str, ...]
    note: str | None = None


def _samplics_weight():
    with warnings.catch_warnings():          # "samplics is archived": said once, in the module docstring
        warnings.simplefilter("ignore", FutureWarning)
        from samplics.weighting import SampleWeight
    return SampleWeight()


def response_rates(frame: pl.DataFrame, respondents: pl.DataFrame, margins: tuple[str, ...],
                   org_key: str = "org_id") -> pl.DataFrame:
    """N, n and n/N per class of each margin, plus the whole frame (``margin`` = ``totaal``)."""
    flag = frame.with_columns(pl.col(org_key).is_in(respondents[org_key].implode()).alias("_resp"))
    parts = [flag.select(pl.lit("totaal").alias("margin"), pl.lit("totaal").alias("class"),
                         pl.len().cast(pl.Int64).alias("N"), pl.col("_resp").sum().cast(pl.Int64).alias("n"))]
    for m in margins:
        parts.append(flag.group_by(m).agg(pl.len().cast(pl.Int64).alias("N"),
                                          pl.col("_resp").sum().cast(pl.Int64).alias("n"))
                     .select(pl.lit(m).alias("margin"), pl.col(m).cast(pl.String).alias("class"), "N", "n"))
    return (pl.concat(parts).with_columns((pl.col("n") / pl.col("N")).alias("response_rate"))
            .sort("margin", "class"))


def nonresponse_weights(frame: pl.DataFrame, responses: pl.DataFrame, instrument: str | None = None, *,
                        margins: tuple[str, ...] | None = None, org_key: str = "org_id") -> Weights:
    """Weights per responding organisation, calibrated to the frame (see the module docstring).

    ``frame``: every organisation of the population with the margin columns; ``responses``: one row per
    responding organisation (its background columns are taken from the frame, which is the truth about the
    population).  Raises :class:`WeightingError` for a respondent not in the frame, a duplicate org key, a
    missing class in the frame, or a class of the first margin without respondents."""
    margins = tuple(margins if margins is not None else MARGINS[instrument])
    for col in (org_key, *margins):
        if col not in frame.columns:
            raise WeightingError(f"frame has no column {col!r} (needed for the weighting margins {margins})")
    if frame[org_key].is_duplicated().any():
        raise WeightingError(f"frame: {org_key} not unique")
    if responses[org_key].is_duplicated().any():
        raise WeightingError(f"responses: {org_key} not unique (one response per organisation)")
    for m in margins:
        if frame[m].null_count():
            raise WeightingError(f"frame: {frame[m].null_count()} organisations without {m}; "
                                 "every organisation needs its class to be weighted")
    resp = responses.select(org_key).join(frame.select(org_key, *margins), on=org_key, how="left")
    missing = resp.filter(pl.col(margins[0]).is_null())[org_key].to_list()
    if missing:
        raise WeightingError(f"{len(missing)} respondents are not in the frame (first: {missing[:3]})")
    N, n = frame.height, resp.height
    if n == 0:
        raise WeightingError("no respondents")
    rates = response_rates(frame, resp, margins, org_key)
    empty = rates.filter((pl.col("margin") != "totaal") & (pl.col("n") == 0))
    first_empty = empty.filter(pl.col("margin") == margins[0])
    if first_empty.height:
        cells = ", ".join(f"{r['margin']} {r['class']} ({r['N']} in the frame)" for r in first_empty.iter_rows(named=True))
        raise WeightingError(f"no respondents in {cells}: these organisations cannot be represented by any weight; "
                             "merge the class with a neighbouring one or report it apart")
    design = np.full(n, N / n)
    controls = {m: {r[m]: float(r["len"]) for r in frame.group_by(m).len().iter_rows(named=True)} for m in margins}
    note = None
    method = "raking"
    if empty.height:
        cells = ", ".join(f"{r['margin']} {r['class']} ({r['N']} in the frame)" for r in empty.iter_rows(named=True))
        note = f"raking not possible, no respondents in {cells}: post-stratified on {margins[0]} alone"
    elif len(margins) > 1:
        sw = _samplics_weight()
        arrays = {m: resp[m].cast(pl.String).to_numpy() for m in margins}
        w = sw.rake(samp_weight=design, margins=arrays, control={m: controls[m] for m in margins},
                    tol=RAKE_TOL, ctrl_tol=RAKE_TOL, max_iter=RAKE_MAX_ITER)
        worst = max(abs(w[arrays[m] == c].sum() - v) / v for m in margins for c, v in controls[m].items())
        if not np.isfinite(worst) or worst > CONVERGED:
            note = (f"raking did not converge in {RAKE_MAX_ITER} iterations (largest relative margin error "
                    f"{worst:.2e}): post-stratified on {margins[0]} alone")
        else:
            weight = np.asarray(w, dtype=float)
    if note is not None or len(margins) == 1:
        method = "poststratificatie"            # one margin: raking and post-stratification coincide
        dom = resp[margins[0]].cast(pl.String).to_numpy()
        weight = np.asarray(_samplics_weight().poststratify(
            samp_weight=design, control={c: controls[margins[0]][c] for c in np.unique(dom)}, domain=dom), dtype=float)
    first_rate = rates.filter(pl.col("margin") == margins[0]).select(pl.col("class").alias(margins[0]),
                                                                     "response_rate")
    out = (resp.with_columns(pl.Series("design_weight", design), pl.Series("weight", weight))
           .join(first_rate, on=margins[0], how="left", maintain_order="left"))
    return Weights(weights=out, response=rates, method=method, margins=margins, note=note)
