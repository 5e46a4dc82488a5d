"""Indicators (issue 5): one small function per indicator of bijlage A, each returning rows of the indicator
table (``table.py``, the DESIGN.md contract).  No Dagster here."""
