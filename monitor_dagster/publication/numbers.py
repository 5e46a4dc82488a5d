"""How the publication writes a number (issue 16): one function for every page, the PDF, tables and tooltips.

Dutch style: a decimal comma and a point between thousands (``57.086``, ``1.234,5``), also for a four-digit
count, so that two counts side by side never look different (``57.086`` next to ``32317`` did).  A negative
number gets the minus sign U+2212 (``−1,5``), not the hyphen, which is shorter and reads as a dash.  A value
that rounds to zero has no sign (``0,0``, never ``−0,0``).  Rounding is half away from zero on the shortest
decimal form of the float, which is what ``Intl.NumberFormat('nl-NL')`` does in the browser: the page script
(``static/numbers.js``) formats the same way, and a browser test compares the two.

The CSV downloads are data, not text: they keep plain numbers (no thousands separator, hyphen-minus).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MINUS = "\u2212"
#: what a cell without a published value shows (the en dash: it is no number and no minus)
MISSING = "–"
#: decimals per unit: the same on every page, in the PDF and in the page script (``page.decimals``)
DECIMALS = {"%": 1, "uren per week": 1, "euro per uur": 2, "euro": 0, "maanden": 1, "score 0-5": 2}
#: d3-format locale of the charts (Vega ``config.locale.number``): axis labels in the same style
VEGA_NUMBER_LOCALE = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["€\u00a0", ""], "minus": MINUS}


def number(value: float | int | None, decimals: int = 0, signed: bool = False) -> str:
    """``value`` with ``decimals`` decimals in Dutch style; ``signed`` adds ``+`` to a positive number (a gap,
    a change).  ``None`` (not published) gives :data:`MISSING`, never a zero."""
    if value is None or value != value:      # None or NaN: nothing to show, and certainly not 0
        return MISSING
    q = Decimal(repr(float(value)) if isinstance(value, float) else int(value))
    q = abs(q).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:,.{decimals}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    if q == 0:
        return text
    if value < 0:
        return MINUS + text
    return "+" + text if signed else text


def count(n: int | None) -> str:
    """A number of persons or cells: ``57.086``."""
    return number(n, 0)


def fmt(value: float | None, unit: str, signed: bool = False) -> str:
    """A value of an indicator in its unit's decimals (:data:`DECIMALS`)."""
    return number(value, DECIMALS.get(unit, 1), signed)
