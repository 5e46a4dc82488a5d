"""Intermediates shared by the functions of one family within one bucket of persons (issue 12, "one pass per
family").

The functions of a family read the same inputs and often build the same intermediate from them (the
substantial job-months of t, the self-employed of :func:`register.secm_position`, the base population).  The
engine runs a bucket inside :func:`shared_intermediates`; there :func:`shared` evaluates such an intermediate
once and hands the same in-memory frame to every function that asks for it.  Outside that block (a test
calling one function on whole frames) :func:`shared` just builds the frame, so no function depends on it.

The key is the intermediate's name, its other arguments, and the *identity* of the input frames: a bucket's
frames are distinct objects, so two buckets (or two families) never share an entry; the entry keeps its input
frames alive, so an identity cannot be reused while the entry exists.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Hashable

import polars as pl

from monitor_dagster.core.layout import held

_CACHE: ContextVar[dict | None] = ContextVar("monitor_shared_intermediates", default=None)


@contextmanager
def shared_intermediates():
    """Within this block :func:`shared` evaluates each intermediate once (the engine: one block per bucket)."""
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def shared(name: str, frames: tuple[pl.LazyFrame | None, ...], build: Callable[[], pl.LazyFrame],
           *args: Hashable) -> pl.LazyFrame:
    """``build()`` evaluated once per bucket for these input frames and ``args`` (inside
    :func:`shared_intermediates`), else ``build()`` as it is (lazy)."""
    cache = _CACHE.get()
    if cache is None:
        return build()
    key = (name, tuple(id(f) for f in frames), args)
    hit = cache.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], frames)):
        return hit[1]
    value = held(build())            # one chunk, as the bucket it comes from (core/layout.held)
    cache[key] = (frames, value)
    return value
