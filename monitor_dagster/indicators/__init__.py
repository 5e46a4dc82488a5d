"""Indicators (issue 5): one small function per indicator of bijlage A, each returning rows of the indicator
table (``table.py``, the contract of docs/indicators.md).  No Dagster here."""
