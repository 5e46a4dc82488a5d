"""Float sums that do not depend on the order of the rows (issue 15, determinism).

polars adds up the floats of a group in the order its threads happen to meet them, in the streaming and in the
in-memory engine alike (measured: one group-by over 5 M decimal values gave three different results in three
runs), so a sum of hours x days / 7, of euros with cents or of fractions of a month can differ in the last bits
between two identical runs, and a value in the indicator table with it.  Here every term is rounded to 1e-8 of
its unit and the integers are added, which is exact in any order; the result is Float64 again.  On whole
numbers (hours, days, euros) that is the float sum itself.  The indicator table's partial cells follow the same
rule (indicators/table.py ``FIXED``).

* :func:`exact_sum` inside a group-by: the simplest, for a few sums;
* :func:`to_fixed` before the group-by, plain ``sum()`` in it and :func:`from_fixed` after: keeps polars'
  fast path when a group-by has many sums (``indicators/register.py``, the person-month sums).

Int64: a group may sum to 92 billion of the unit (euro, hour, day), far beyond any person, job or employer.
"""

from __future__ import annotations

import polars as pl

#: 1e-8 of a euro, hour, day or month: the rounding of each term (far below what any indicator shows)
SCALE = 10 ** 8


def _expr(e: pl.Expr | str) -> pl.Expr:
    return pl.col(e) if isinstance(e, str) else e


def to_fixed(expr: pl.Expr | str) -> pl.Expr:
    """A float in fixed point (Int64, units of 1/SCALE): sums of these are exact in any order.  A NaN, an
    infinite value or one beyond 92 billion becomes null (skipped by the sum, like a missing amount)."""
    return (_expr(expr) * SCALE).round(0).cast(pl.Int64, strict=False)


def from_fixed(expr: pl.Expr | str) -> pl.Expr:
    """A fixed-point sum back to Float64."""
    return _expr(expr).cast(pl.Float64) / SCALE


def exact_sum(expr: pl.Expr | str) -> pl.Expr:
    """The sum of a float column or expression in a group-by (or select), the same in whatever order the rows
    come.  Nulls are skipped and an empty or all-null group sums to 0, as polars' ``sum``."""
    return from_fixed(to_fixed(expr).sum())


#: significant digits a model's estimate keeps when it is stored (:func:`settled`)
MODEL_DIGITS = 10


def settled(x: float | None, digits: int = MODEL_DIGITS) -> float | None:
    """A model's estimate (a hazard ratio, a confidence bound, a corrected gap) rounded to ``digits``
    significant digits.

    statsmodels fits through BLAS and LAPACK, and the duration model's person sandwich sums floats in polars:
    both add in an order that depends on the number of threads and the CPU's vector instructions, so the same
    cells gave estimates that differed in the last bit on another machine (twentieth session: one of 28 rows of
    indicators/durations with one thread instead of two), and with them the table's version.  Ten significant
    digits are far beyond any published figure and far above that noise (about 1e-15 relative): the same
    cells now give the same bytes, unless the noise happens to straddle a rounding boundary (about 1e-5 of a
    chance per value)."""
    if x is None:
        return None
    return float(f"{x:.{digits}g}")
