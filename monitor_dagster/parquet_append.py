"""One parquet file written part after part, the encoding of a part overlapping the production of the next
(issue 12).

pyarrow's ``ParquetWriter`` encodes and compresses a table on one thread; the parts it writes (the buckets of
a core table, the chunks of an ingested file) come from polars queries that use every core.  Written in the
caller's thread, one core idles while a part is encoded: about a sixth of the core layer at 1 M persons
(docs/scaling_measurements.md).  :class:`AppendingParquetWriter` hands each part to one background thread (pyarrow releases
the GIL while it writes) and waits for it only when the next part is ready, so at most one part is being
written while the next is computed: the memory of one more part, never more.  The parts are written in the
order they come, by the same writer with the same settings, so the file has the same bytes as when written in
the caller's thread (issue 15).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa


def range_columns(schema: pa.Schema) -> list[str]:
    """The columns whose min/max statistics a range predicate can use: integers (the person key, job ids),
    dates and times, booleans.  A bucket's scan skips row groups by ``person_id``'s; no query of the monitor
    filters on a float or a string, and pyarrow's statistics of those (and of dictionary columns) were about
    a third of the encoding time of a SPOLIS chunk (docs/scaling_measurements.md, twelfth session)."""
    return [f.name for f in schema
            if pa.types.is_integer(f.type) or pa.types.is_temporal(f.type) or pa.types.is_boolean(f.type)]


class AppendingParquetWriter:
    """``write(table)`` appends a part (a row group, or more for a large part); ``close()`` waits for the last
    part and closes the file; ``abort()`` waits, closes and removes it.  The schema is the first part's; later
    parts are cast to it.  Use as a context manager: an exception aborts, a normal exit closes.  ``options``
    go to pyarrow's ``ParquetWriter``; without ``write_statistics`` only the :func:`range_columns` get them."""

    def __init__(self, path: Path | str, row_group_size: int | None = None, **options):
        self.path = Path(path)
        self.row_group_size = row_group_size
        self.options = options
        self.writer = None
        self.schema: pa.Schema | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-append")
        self._pending: Future | None = None

    def _wait(self) -> None:
        """Wait for the part in flight; its exception (disk full, ...) is raised here, in the caller."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def write(self, table: pa.Table) -> None:
        self._wait()          # one part in flight at most
        if self.writer is None:
            import pyarrow.parquet as pq

            self.schema = table.schema
            options = {"write_statistics": range_columns(table.schema), **self.options}
            self.writer = pq.ParquetWriter(str(self.path), table.schema, **options)
        elif table.schema != self.schema:
            table = table.cast(self.schema)
        self._pending = self._pool.submit(self.writer.write_table, table, self.row_group_size)

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._shutdown()

    def abort(self) -> None:
        try:
            self._wait()
        except Exception:  # noqa: BLE001 - the file is removed anyway; the caller raises its own error
            pass
        finally:
            self._shutdown()
            self.path.unlink(missing_ok=True)

    def _shutdown(self) -> None:
        self._pool.shutdown(wait=True)
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()

    def __enter__(self) -> "AppendingParquetWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
