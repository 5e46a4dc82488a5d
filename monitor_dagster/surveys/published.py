"""Published figures from others' reports, taken over as they are (issue 19; technisch rapport Monitor gelijke
kansen, §3.3 WEA, §3.3.1 NEA module 19 "Opleiding en ontwikkeling", and for question 1a2 the NEA modules 8-12).

The monitor has no microdata of the NEA or the WEA (TNO has the first year alone; §3.3.1), so their figures
enter as a small CSV typed in from the published tables, one row per figure.  The report asks TNO to "Geef bij
elke analyse ook de omvang van de populatie en de varianties" (§3.3.1 e) and to report trends (c): hence the
nullable ``marge`` (half the 95 % interval, in the unit of ``waarde``) and ``populatie``, and ``jaar`` per row.
:func:`read_published` checks a file against a pandera schema and names row, line and column of every error;
:func:`to_table_rows` turns it into indicator-table rows marked ``status = extern`` with the source in
``vintages``, so the publication can show them apart from the monitor's own figures (never as its own).

Columns (CSV, UTF-8, comma, ``.`` decimals): ``bron`` (e.g. ``TNO NEA 2020``), ``tabel`` (table or figure
number in the source), ``jaar`` (the year the figure describes), ``indicator`` (the source's wording),
``groep`` (``niet-westerse migratieachtergrond``, ``geen migratieachtergrond``, ``totaal``, ...), ``waarde``,
``eenheid`` (:data:`UNITS`), ``marge``, ``populatie`` (both may be empty), ``url`` and ``referentie`` (at
least one of the two filled in).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pandera.polars as pa

COLUMNS = ["bron", "tabel", "jaar", "indicator", "groep", "waarde", "eenheid", "marge", "populatie", "url", "referentie"]
KEY = ["bron", "tabel", "jaar", "indicator", "groep"]
REQUIRED = ["bron", "tabel", "jaar", "indicator", "groep", "waarde", "eenheid"]
NUMERIC = {"jaar": pl.Int32, "waarde": pl.Float64, "marge": pl.Float64, "populatie": pl.Float64}
UNITS = frozenset({"%", "score", "gemiddelde", "aantal", "euro", "uren per week", "maanden", "index"})
EXTERN = "extern"
#: the source's group wording -> the herkomst value of the indicator table (others are kept as written)
GROUPS = {"niet-westerse migratieachtergrond": "niet-westers", "westerse migratieachtergrond": "westers",
          "zonder migratieachtergrond": "geen migratieachtergrond", "geen migratieachtergrond": "geen migratieachtergrond",
          "totaal": "totaal", "alle werknemers": "totaal", "alle werkgevers": "totaal"}


class PublishedFormatError(ValueError):
    """A published-figures file does not fit the format; ``errors`` lists them (row, line, column, problem)."""

    def __init__(self, path: str, errors: list[str]):
        self.errors = errors
        shown = "\n  ".join(errors[:30])
        more = f"\n  ... and {len(errors) - 30} more" if len(errors) > 30 else ""
        super().__init__(f"{path}: {len(errors)} error(s) in the published-figures format:\n  {shown}{more}")


def _filled(col: str) -> pl.Expr:
    return pl.col(col).is_not_null() & (pl.col(col).str.strip_chars() != "")


SCHEMA = pa.DataFrameSchema(
    {
        "bron": pa.Column(pl.String, pa.Check.str_length(min_value=1), nullable=False),
        "tabel": pa.Column(pl.String, pa.Check.str_length(min_value=1), nullable=False),
        "jaar": pa.Column(pl.Int32, pa.Check.in_range(1990, 2100), nullable=False),
        "indicator": pa.Column(pl.String, pa.Check.str_length(min_value=1), nullable=False),
        "groep": pa.Column(pl.String, pa.Check.str_length(min_value=1), nullable=False),
        "waarde": pa.Column(pl.Float64, nullable=False),
        "eenheid": pa.Column(pl.String, pa.Check.isin(sorted(UNITS)), nullable=False),
        "marge": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
        "populatie": pa.Column(pl.Float64, pa.Check.ge(0), nullable=True),
        "url": pa.Column(pl.String, nullable=True),
        "referentie": pa.Column(pl.String, nullable=True),
    },
    checks=[
        pa.Check(lambda d: d.lazyframe.select(_filled("url") | _filled("referentie")),
                 name="url_of_referentie_ingevuld", error="fill in url or referentie"),
        pa.Check(lambda d: d.lazyframe.select((pl.col("eenheid") != "%") | pl.col("waarde").is_between(0, 100)),
                 name="percentage_tussen_0_en_100", error="a % lies between 0 and 100"),
    ],
    strict=True, ordered=False,
)


def read_published(path: str | Path) -> pl.DataFrame:
    """Read and check one file; raises :class:`PublishedFormatError` listing every problem as ``row R (line L),
    column C: ...`` (row 1 = the first figure, line = the line in the file with the header as line 1)."""
    path = str(path)
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    errors: list[str] = []
    missing = [c for c in REQUIRED if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in COLUMNS]
    errors += [f"column {c!r} is missing" for c in missing]
    errors += [f"column {c!r} is not part of the format (columns: {', '.join(COLUMNS)})" for c in unknown]
    if errors:
        raise PublishedFormatError(path, errors)
    raw = raw.with_columns(*[pl.lit(None, dtype=pl.String).alias(c) for c in COLUMNS if c not in raw.columns])
    raw = raw.with_columns(*[pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c).str.strip_chars())
                             .alias(c) for c in COLUMNS])
    typed = raw.with_columns(*[pl.col(c).cast(t, strict=False) for c, t in NUMERIC.items()])
    for c in NUMERIC:
        bad = raw.with_row_index("_i").filter(pl.col(c).is_not_null() & typed[c].is_null())
        errors += [f"row {r['_i'] + 1} (line {r['_i'] + 2}), column {c!r}: {r[c]!r} is not a "
                   f"{'whole number' if c == 'jaar' else 'number (use . for decimals)'}" for r in bad.iter_rows(named=True)]
    if errors:
        raise PublishedFormatError(path, errors)
    typed = typed.select(COLUMNS)
    # uniqueness by hand: pandera's ``unique`` names both rows and stops the other checks
    first = typed.with_row_index("_i").group_by(KEY, maintain_order=True).agg(pl.col("_i"))
    for r in first.filter(pl.col("_i").list.len() > 1).iter_rows(named=True):
        errors += [f"row {i + 1} (line {i + 2}), row: the same (bron, tabel, jaar, indicator, groep) twice, first in "
                   f"row {r['_i'][0] + 1}" for i in r["_i"][1:]]
    try:
        SCHEMA.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases.sort("index", "column", nulls_last=True)
        for r in fc.iter_rows(named=True):
            where = f"row {r['index'] + 1} (line {r['index'] + 2})" if r["index"] is not None else "file"
            col = f"column {r['column']!r}" if r["column"] else "row"
            what = {"not_nullable": "empty, but required"}.get(r["check"], r["check"])
            errors.append(f"{where}, {col}: {what} (value {r['failure_case']})")
    if errors:
        raise PublishedFormatError(path, sorted(errors, key=_row_number))
    return typed


def _row_number(msg: str) -> int:
    return int(msg.split()[1]) if msg.startswith("row ") else 0


def to_table_rows(published: pl.DataFrame, *, extra: bool = False) -> pl.DataFrame:
    """Indicator-table rows (indicators/table.py SCHEMA) of checked published figures: ``indicator_id``
    ``extern:<bron>:<tabel>``, ``measure`` the source's indicator, ``herkomst`` the group (:data:`GROUPS`),
    ``n`` null (not ours to know), ``n_weighted`` the population size where given, ``status`` ``extern`` and
    ``vintages`` ``extern: <bron>, <tabel>, <url or referentie>``.  Not for the disclosure gate (the source
    published them) nor the monitor's trend checks.  ``extra``: keep ``marge``."""
    from monitor_dagster.indicators import table as T

    out = published.select(
        pl.concat_str([pl.lit(EXTERN), pl.col("bron"), pl.col("tabel")], separator=":").alias("indicator_id"),
        pl.col("jaar").cast(pl.Int32).alias("year"),
        *[(pl.col("groep").replace(GROUPS) if d == "herkomst" else pl.lit(T.TOTAAL)).alias(d) for d in T.DIMENSIONS],
        pl.lit(T.GEEN).alias(T.CORRECTIE), pl.col("indicator").alias("measure"),
        pl.col("waarde").cast(pl.Float64).alias("value"), pl.col("eenheid").alias("unit"),
        pl.lit(None, dtype=pl.Int64).alias("n"), pl.col("populatie").cast(pl.Float64).alias("n_weighted"),
        pl.lit(EXTERN).alias("status"), pl.lit(False).alias("suppressed"),
        pl.lit(None, dtype=pl.String).alias("trend_break"),
        pl.concat_str([pl.lit("extern: "), pl.col("bron"), pl.lit(", "), pl.col("tabel"), pl.lit(", "),
                       pl.coalesce("url", "referentie")]).alias("vintages"),
        pl.col("marge"))
    return out.select([*T.COLUMNS, "marge"] if extra else T.COLUMNS)
