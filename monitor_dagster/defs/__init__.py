"""The Dagster layer: wiring only (assets, partitions, checks, sensors, resources).

Domain logic lives outside this package (``catalog``, ``ingest``, ``landing``, ``warehouse``, ``synth``) so it
can be read and tested without Dagster.  Layout per source system, as in dagster-open-platform:
``defs/<layer>/{assets,partitions,sensors}.py``.
"""
