"""The duplicate-key check over a whole file in memory that does not grow with the file.

Each chunk of a file contributes the 64-bit hashes of its typed key (``__key__``, normalise.stage); a key hash
that occurs twice marks the rows the exact check must compare (schemas.duplicate_failure).  Held in one list,
those hashes take 8 bytes a row and 16 while they are sorted: 2 GB at the end of a national SPOLIS file
(124 million rows), enough to end the flat memory of the ingest (docs/ingest.md, "Duplicate keys in bounded
memory").  So above ``spill_rows`` buffered hashes the buffer is sorted and cut into ``2**PARTITION_BITS``
partitions by the hash's top bits, each appended to its own file; equal hashes always land in the same
partition, so at the end each partition is read, sorted and compared on its own.  Peak memory is then the
buffer plus one partition (about 1/64 of the file's hashes), whatever the file's size.  A file of fewer rows
than ``spill_rows`` never touches the disk.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from monitor_dagster.ingest.normalise import KEY_HASH
from monitor_dagster.ingest.readers import positive_int_env

#: hashes buffered before they are spilled (8 bytes each: 32 MB); ``MONITOR_INGEST_HASH_SPILL_ROWS`` overrides
SPILL_ROWS = 4_000_000
SPILL_ROWS_ENV = "MONITOR_INGEST_HASH_SPILL_ROWS"
#: spilled hashes are partitioned by their top bits: 64 partitions, so the last step holds 1/64 of them
PARTITION_BITS = 6


def spill_rows() -> int:
    """The spill threshold: ``MONITOR_INGEST_HASH_SPILL_ROWS`` when set (at least 1), else :data:`SPILL_ROWS`."""
    return positive_int_env(SPILL_ROWS_ENV, SPILL_ROWS)


def _repeats(h: pl.Series) -> pl.Series:
    """The values of ``h`` that occur more than once, each once (sort, compare neighbours)."""
    if h.len() < 2:
        return h.clear().alias(KEY_HASH)
    h = h.sort()
    later = h.slice(1)
    return later.filter(later == h.slice(0, h.len() - 1)).unique().alias(KEY_HASH)


class KeyHashes:
    """The key hashes of one pass over a file; :meth:`repeated` gives those that occur more than once.

    ``spill_dir`` is where the partition files go (a temporary directory is made inside it and removed by
    :meth:`close`); the ingest passes the output's directory, so they sit on the warehouse's volume."""

    def __init__(self, spill_dir: Path | None = None, spill_at: int | None = None) -> None:
        self.spill_at = spill_rows() if spill_at is None else spill_at
        self._parent = spill_dir
        self._buffer: list[pl.Series] = []
        self._dir: Path | None = None
        self.spilled = 0                    # hashes written to the partition files so far

    @property
    def buffered(self) -> int:
        """Hashes held in memory now."""
        return sum(h.len() for h in self._buffer)

    def _drain(self) -> pl.Series:
        """The buffered hashes as one series; the buffer is emptied."""
        h = (pl.concat(self._buffer, rechunk=True) if len(self._buffer) > 1
             else self._buffer[0] if self._buffer else pl.Series(KEY_HASH, [], dtype=pl.UInt64))
        self._buffer.clear()
        return h

    def add(self, hashes: pl.Series) -> None:
        """Take one chunk's ``__key__`` column (UInt64; null for a row without a full key: not counted)."""
        hashes = hashes.drop_nulls()
        if hashes.len() == 0:
            return
        self._buffer.append(hashes.rechunk())
        if self.buffered >= self.spill_at:
            self._spill()

    def _spill(self) -> None:
        if not self._buffer:
            return
        if self._dir is None:
            if self._parent is not None:
                Path(self._parent).mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=".keyhashes-", dir=self._parent))
        a = self._drain().sort().to_numpy()
        shift = 64 - PARTITION_BITS
        # sorted, so each partition (the top bits) is one slice; its bounds by binary search
        bounds = np.searchsorted(a, np.arange(1, 2 ** PARTITION_BITS, dtype=np.uint64) << np.uint64(shift))
        lo = 0
        for p, hi in enumerate([*bounds.tolist(), len(a)]):
            if hi > lo:
                with open(self._dir / f"{p:02d}.u64", "ab") as f:
                    a[lo:hi].tofile(f)
            lo = hi
        self.spilled += len(a)

    def repeated(self) -> pl.Series:
        """The hashes that occur more than once over all chunks, each once; the partition files are removed."""
        try:
            if self._dir is None:       # everything fitted in the buffer: no disk at all
                return _repeats(self._drain())
            self._spill()
            found = [_repeats(pl.Series(KEY_HASH, np.fromfile(f, dtype=np.uint64)))
                     for f in sorted(self._dir.glob("*.u64"))]
            return pl.concat(found) if found else pl.Series(KEY_HASH, [], dtype=pl.UInt64)
        finally:
            self.close()

    def close(self) -> None:
        """Drop the buffer and remove the partition files (idempotent)."""
        self._buffer.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
