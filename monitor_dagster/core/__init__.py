"""Core layer (issue 4): study population, subgroups and spells, as plain polars functions.

Every function takes and returns polars LazyFrames in the warehouse's normalised form (``person_id`` Int64,
dates as ``pl.Date``, codes as ``pl.Enum``) and cites the report paragraph it implements.  No Dagster here:
``defs/core`` wires these functions into yearly partitioned assets.
"""
