"""Diversity at the function levels of employers, research question 4h (technisch rapport Monitor gelijke
kansen, §5.2): O40, the distribution of each group over the hourly-wage quartiles *within its employer*.

The family groups across persons (every employee of an employer is ranked against the others), so its inputs
are split into buckets of employers (``bucket_keys: {function_level: SBEID}`` in specs.yaml; a string key is
split by its hash, core/buckets.py): all employees of an employer are in one bucket.  The family reads
``core/employers`` (one row per person, employer and sector, built per person from the job-months), not the
job-months themselves: a bucket of employers must scan the whole table.
"""

from __future__ import annotations

import polars as pl

from monitor_dagster.core.exact import exact_sum
from monitor_dagster.indicators.register import _base
from monitor_dagster.indicators.table import cells
from monitor_dagster.indicators.transitions import modal_sector

__all__ = ["MIN_EMPLOYEES", "QUARTILES", "employer_quartiles", "o40_functieniveau"]

#: smallest employer for which quartiles are published: with fewer employees a "quartile" is one or two
#: persons and mostly a matter of ties (a choice; the report is silent)
MIN_EMPLOYEES = 10
QUARTILES = ("kwartiel 1", "kwartiel 2", "kwartiel 3", "kwartiel 4")


def employer_quartiles(employers: pl.LazyFrame, min_employees: int = MIN_EMPLOYEES) -> pl.LazyFrame:
    """SBEID, person_id, wage, sector, quartile (1-4) for every employee of an employer with at least
    ``min_employees`` employees in year t (``employers``: the core table ``core/employers`` of year t).

    Report 5.2 4h: "We berekenen de inkomenskwartielen van de uurlonen (uit SPOLIS) van de werknemers per
    werkgever (SBEID) door ze te sorteren op uurloon binnen het bedrijf en te delen door het aantal werknemers
    in dit bedrijf": quartile = ceil(4 x rank / n).  An employee's hourly wage at the employer is his basic
    wage over his basic hours in the substantial job-months of t there (as O08).  Everyone with a substantial
    job at the employer is ranked (students and pensioners too: they are part of the firm's wage structure).
    **Ties** share the average of their ranks, so equal wages land in the same quartile.  The employer's
    sector: the sector of most of its job-months of t (a tie: alphabetical)."""
    e = employers.filter(pl.col("basisuren") > 0)
    sector = modal_sector(e, key="SBEID", count="months")
    wages = (e.group_by("SBEID", "person_id")
             .agg((exact_sum("basisloon") / exact_sum("basisuren")).alias("wage"))
             .with_columns(pl.len().over("SBEID").alias("_n"))
             .filter(pl.col("_n") >= min_employees))
    rank = pl.col("wage").rank("average").over("SBEID")
    q = (4 * rank / pl.col("_n")).ceil().clip(1, 4).cast(pl.Int8)
    return wages.with_columns(q.alias("quartile")).join(sector, on="SBEID", how="left").drop("_n")


def o40_functieniveau(population: pl.LazyFrame, employers: pl.LazyFrame, year: int,
                      dimensions: list[str] | None = None, **kw) -> pl.DataFrame:
    """O40, report 5.2 deelvraag 4h: "Vervolgens berekenen we per subgroep wat de verdeling is over de
    kwartielen", by sector ("uitgesplitst per sector").  Each person of the base population (report 2.1: no
    students or pensioners, 15 to AOW age) counts once, in the quartile he has at his **main employer** of
    the year (the most basic hours, ``main`` in ``core/employers``), when that employer has at least
    :data:`MIN_EMPLOYEES` employees; sector = that employer's sector.  The four quartiles of a cell add up
    to 100 %."""
    main = employers.filter(pl.col("main")).select("person_id", "SBEID").unique()
    q = employer_quartiles(employers).join(main, on=["person_id", "SBEID"], how="semi")
    persons = _base(population).join(q.select("person_id", "sector", "quartile"), on="person_id", how="inner")
    names = pl.col("quartile").replace_strict({i + 1: n for i, n in enumerate(QUARTILES)}, return_dtype=pl.String)
    return cells(persons.with_columns(names.alias("kwartiel"), pl.lit(1.0).alias("value")), indicator_id="O40",
                 year=year, unit="%", by_measure="kwartiel", dimensions=dimensions, **kw)
