"""polars' memory allocator, set for a pipeline that frees and allocates large buffers bucket after bucket.

polars allocates with jemalloc and, on import, tells it to give freed memory back to the operating system
after half a second (``dirty_decay_ms:500,muzzy_decay_ms:1000`` in polars/__init__.py; polars issue 18088),
while jemalloc sends every buffer over 8 MiB to an arena that gives it back at once (``oversize_threshold``).
A bucket's columns are such buffers: the next bucket asks for the same sizes a few seconds later and the
kernel has to hand out and zero every page again.  On the 2-core EPYC a fifth of the core layer's CPU was
page faults (4 M persons: 6.1-6.5 M faults, 28-33 s of 135-153 CPU-s).  Keeping freed memory ten seconds
and without the oversize arena: 2.5 M faults, 11-13 s of system time, the core layer 83-90 s -> 61-70 s and
the indicator layer 63-74 s -> 57-61 s; at 17.5 M persons the core layer 308 -> 241 s, for 1-1.4 GB more peak
memory (docs/scaling_measurements.md, "The allocator").  Memory stays bounded: jemalloc still returns what has not been
reused within ten seconds.

jemalloc reads its options when polars' library loads, so :func:`configure` must run before ``import
polars``; ``monitor_dagster/__init__.py`` calls it first thing.  A process that imported polars before
monitor_dagster keeps polars' own settings (nothing breaks, it is only slower).  The user's own
``_RJEM_MALLOC_CONF`` comes after these options, so any key set there wins (e.g.
``_RJEM_MALLOC_CONF=dirty_decay_ms:500,muzzy_decay_ms:1000,oversize_threshold:8388608`` restores polars'
behaviour).
"""

from __future__ import annotations

import os
import sys

#: options for polars' jemalloc (read through the environment variable polars itself passes on)
JEMALLOC_OPTIONS = "dirty_decay_ms:10000,muzzy_decay_ms:10000,oversize_threshold:0"
ENV = "_RJEM_MALLOC_CONF"


def configure(environ: dict | None = None) -> bool:
    """Put :data:`JEMALLOC_OPTIONS` before the user's own ``_RJEM_MALLOC_CONF``; returns whether they will
    apply (False when polars is already imported: jemalloc has read its options by then).  Idempotent: a
    worker process that inherits the variable does not get the options twice."""
    env = os.environ if environ is None else environ
    current = env.get(ENV, "")
    if JEMALLOC_OPTIONS not in current:
        env[ENV] = JEMALLOC_OPTIONS + ("," + current if current else "")
    return "polars" not in sys.modules
