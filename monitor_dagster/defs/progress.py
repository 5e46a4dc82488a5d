"""Where an in-process run is, for the progress line of ``monitor run`` / ``backfill`` (issue 12).

A national year is one Dagster run of three to four minutes (core and outcome families of the year); without
this the progress line said only ``outcome_indicators_yearly 2021`` for all that time.  The logger
:data:`progress_logger` is one of the code location's loggers; a run gets it only when its run config names it
(``runner.run_pipeline`` does, the daemon's and the UI's runs do not), and it forwards two kinds of record to
the callbacks registered with :func:`listening`: a step starting (``core/job_months``) and a bucket done
(``core/job_months 12/37 buckets``, counted from the bucket lines the core tables and the indicator engine
log).  It reads what Dagster attaches to every record (``dagster_meta``: the step key, the event); nothing else
changes, the event log gets the same records as before.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

__all__ = ["listening", "progress_event", "progress_logger", "step_label"]

#: the bucket lines of core/buckets.BucketedFrame ("bucket 3/37: 2,646,015 rows") and of the indicator engine
#: ("contracts_hours 2021: bucket 3/41 in 2.1 s")
_BUCKET = re.compile(r"\bbucket (\d+)/(\d+)\b")

_lock = threading.Lock()
_listeners: list[Callable[[str], None]] = []


@contextmanager
def listening(fn: Callable[[str], None]) -> Iterator[None]:
    """Call ``fn(text)`` for every step start and bucket of the runs executed in this process meanwhile whose run
    config names the logger ``progress``."""
    with _lock:
        _listeners.append(fn)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(fn)


def step_label(step_key: str) -> str:
    """``core__job_months`` -> ``core/job_months`` (an asset step is named by its key joined with ``__``)."""
    return step_key.replace("__", "/")


def progress_event(meta: dict) -> tuple[str, int | None] | None:
    """What a record says about the run's progress: (``core/job_months``, None) when the step starts,
    (``core/job_months``, K) when one of its K buckets is done, None for anything else."""
    step = meta.get("step_key")
    if not step:
        return None
    event = meta.get("dagster_event")
    if event is not None:
        return (step_label(step), None) if event.event_type_value == "STEP_START" else None
    m = _BUCKET.search(meta.get("orig_message") or "")
    return (step_label(step), int(m.group(2))) if m else None


class _Forward(logging.Handler):
    """Counts the buckets done per step (the indicator engine computes two at once and logs them as they end,
    so a bucket's own number says less than the count) and hands ``core/job_months`` / ``core/job_months
    12/37 buckets`` to the listeners."""

    def __init__(self) -> None:
        super().__init__()
        self.done: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = progress_event(meta) if isinstance(meta, dict) else None
        if event is None:
            return
        step, k = event
        self.done[step] = 0 if k is None else self.done.get(step, 0) + 1
        text = step if k is None else f"{step} {self.done[step]}/{k} buckets"
        with _lock:
            listeners = list(_listeners)
        for fn in listeners:
            try:
                fn(text)
            except Exception:  # noqa: BLE001 - a progress display must never fail a step
                pass


@dg.logger(description="Step starts and buckets done, to the progress line of `monitor run` (in-process runs "
                       "only; defs/progress.py)")
def progress_logger(init_context) -> logging.Logger:
    # DEBUG: Dagster logs STEP_START at that level
    out = logging.Logger("monitor.progress", level=logging.DEBUG)
    out.addHandler(_Forward())
    return out
