"""The warehouse store: parquet per source and partition, written atomically, the previous versions kept.

Layout (DESIGN.md, "Storage and instance")::

    <root>/sources/<ENTRY>/<partition>/          partition: "2019" (yearly), "latest" (cumulative), "all" (reference)
        <release_id>-<hash12>/data.parquet       one version directory per write (zstd parquet)
        <release_id>-<hash12>/manifest.json      the manifest given to write() plus "written_at"
        CURRENT                                  JSON {"version": <dir name>, "manifest": {...}, "previous": [...]}
        .lock                                    writers of one partition take turns (advisory file lock)

A write goes to ``.tmp-<uuid>/`` (fsync file and folder), is renamed to its version directory, and only then
``CURRENT`` is replaced (``CURRENT.tmp`` + fsync + rename).  A crash at any point leaves the previous CURRENT
and its data intact; ``cleanup_orphans()`` (start of every run) removes what a crash left behind.  The
current version and the 2 previous ones are kept (readers holding an older LazyFrame keep working).

Pure Python + polars, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

try:                         # POSIX
    import fcntl
except ImportError:          # pragma: no cover - Windows (Remote Access)
    fcntl = None
try:                         # pragma: no cover - Windows
    import msvcrt
except ImportError:
    msvcrt = None

SOURCES = "sources"
CURRENT = "CURRENT"
CURRENT_TMP = "CURRENT.tmp"
TMP_PREFIX = ".tmp-"
LOCK = ".lock"
KEEP_PREVIOUS = 2
PARTITION_LATEST = "latest"
PARTITION_ALL = "all"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class WarehouseMissing(KeyError):
    """Nothing in the warehouse for that entry and partition."""

    def __str__(self) -> str:          # KeyError would quote the message
        return str(self.args[0]) if self.args else "missing"


def partition_for(kind: str, period: int | None) -> str:
    """The warehouse partition of a release: the year for yearly files, 'latest' for cumulative files
    (the asset holds the latest release) and 'all' for reference files."""
    if kind == "yearly":
        if period is None:
            raise ValueError("a yearly file needs a period")
        return str(period)
    return PARTITION_LATEST if kind == "cumulative" else PARTITION_ALL


def _check_name(what: str, name: str) -> str:
    name = str(name)
    if not name or name.startswith(".") or "/" in name or "\\" in name or name != name.strip():
        raise ValueError(f"invalid warehouse {what} {name!r}")
    return name


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (a no-op where folders cannot be opened: Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _rename(src: Path, dst: Path) -> None:
    """Atomic rename (one place, so tests can simulate a crash at each step)."""
    os.replace(src, dst)


@contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    """An advisory exclusive lock on ``path`` (released by the OS if the process dies); yields whether it was
    obtained (always True when blocking, or where locking is not supported)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    got = True
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                got = False
            except OSError:          # e.g. a file system without locks: best effort
                got = True
        elif msvcrt is not None:     # pragma: no cover - Windows
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if not blocking:
                        got = False
                        break
                    time.sleep(0.2)
        yield got
    finally:
        try:
            if got and fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            elif got and msvcrt is not None:     # pragma: no cover - Windows
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
        os.close(fd)


class Warehouse:
    def __init__(self, root: Path | str, layer: str = SOURCES):
        """``layer``: ``sources`` (ingested CBS files) or a derived layer such as ``core``, each its own tree
        with the same crash-safe versioning."""
        self.root = Path(root)
        self.layer = _check_name("layer", layer)
        self.base = self.root / self.layer

    # ------------------------------------------------------------------------------------------ paths
    def partition_dir(self, entry: str, partition: str | int) -> Path:
        return self.base / _check_name("entry", entry) / _check_name("partition", str(partition))

    def _current(self, pdir: Path) -> dict | None:
        try:
            text = (pdir / CURRENT).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            cur = json.loads(text)
            cur["version"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{pdir / CURRENT} is unreadable ({exc}); restore it or delete the partition") from None
        return cur

    def current(self, entry: str, partition: str | int) -> dict | None:
        """The CURRENT pointer: {"version": dir name, "manifest": {...}, "previous": [dir names]} or None."""
        return self._current(self.partition_dir(entry, partition))

    def data_path(self, entry: str, partition: str | int) -> Path:
        pdir = self.partition_dir(entry, partition)
        cur = self._current(pdir)
        if cur is None:
            raise WarehouseMissing(f"the warehouse has no data for {entry} partition {partition} "
                                   f"(no {pdir / CURRENT}); materialise that source first")
        return pdir / cur["version"] / "data.parquet"

    # ------------------------------------------------------------------------------------------ write
    def write(self, entry: str, partition: str | int, frame: pl.DataFrame | pl.LazyFrame, manifest: dict) -> Path:
        """Write a new version of a partition atomically and make it current; returns the version folder.

        A LazyFrame is streamed (``sink_parquet``).  The manifest is stored as given plus "written_at"."""
        def produce(data: Path) -> dict:
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(data, compression="zstd", statistics=True)
                if manifest.get("rows") is None:   # streamed: the count comes from the file's footer, not a collect
                    import pyarrow.parquet as pq

                    md = pq.read_metadata(data)
                    return {"rows": md.num_rows, "columns": md.num_columns}
            else:
                frame.write_parquet(data, compression="zstd", statistics=True)
            return {}

        return self.write_with(entry, partition, produce, manifest)

    def write_with(self, entry: str, partition: str | int, produce: Callable[[Path], dict | None],
                   manifest: dict) -> Path:
        """:meth:`write`, but ``produce(path)`` writes the parquet file itself (e.g. chunk by chunk, the chunked
        ingest) and returns manifest fields known only afterwards (rows, ...), which update ``manifest``.
        Same crash safety: the file is written inside the temporary folder; if ``produce`` raises, that folder
        is removed and the partition stays as it was."""
        pdir = self.partition_dir(entry, partition)
        pdir.mkdir(parents=True, exist_ok=True)
        man = dict(manifest)
        with _locked(pdir / LOCK):
            tmp = pdir / f"{TMP_PREFIX}{uuid.uuid4().hex}"
            tmp.mkdir()
            data = tmp / "data.parquet"
            try:
                man.update(produce(data) or {})
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _fsync_file(data)
            man["written_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            mpath = tmp / "manifest.json"
            with open(mpath, "w", encoding="utf-8") as fh:
                json.dump(man, fh, indent=1, sort_keys=True, default=str)
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(tmp)
            man = json.loads(mpath.read_text(encoding="utf-8"))     # what is stored (dates as text)

            name = self._version_name(pdir, man, data)
            final = pdir / name
            _rename(tmp, final)
            _fsync_dir(pdir)

            old = self._current(pdir)
            previous = [] if old is None else [old["version"], *old.get("previous", [])]
            previous = [p for p in dict.fromkeys(previous) if p != name and (pdir / p).is_dir()][:KEEP_PREVIOUS]
            ctmp = pdir / CURRENT_TMP
            with open(ctmp, "w", encoding="utf-8") as fh:
                json.dump({"version": name, "manifest": man, "previous": previous}, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            _rename(ctmp, pdir / CURRENT)
            _fsync_dir(pdir)

            keep = {name, *previous}
            for d in pdir.iterdir():
                if d.is_dir() and not d.name.startswith(".") and d.name not in keep:
                    shutil.rmtree(d, ignore_errors=True)     # Windows: a reader may hold it open; next write
        return final

    @staticmethod
    def _version_name(pdir: Path, manifest: dict, data: Path) -> str:
        release = _SAFE.sub("_", str(manifest.get("release_id") or "v")).strip("._") or "v"
        digest = str(manifest.get("sha256") or "")
        if not re.fullmatch(r"[0-9a-fA-F]{12,}", digest):
            h = hashlib.sha256()
            with open(data, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            digest = h.hexdigest()
        base = f"{release}-{digest[:12].lower()}"
        name, n = base, 1
        while (pdir / name).exists():     # the same release written again (e.g. after a code change)
            n += 1
            name = f"{base}-r{n}"
        return name

    # ------------------------------------------------------------------------------------------ read
    def read(self, entry: str, partition: str | int) -> pl.LazyFrame:
        """A lazy scan of the current version (raises WarehouseMissing if there is none)."""
        return pl.scan_parquet(self.data_path(entry, partition))

    def manifest(self, entry: str, partition: str | int) -> dict | None:
        cur = self.current(entry, partition)
        return None if cur is None else cur.get("manifest")

    def entries(self) -> list[str]:
        if not self.base.is_dir():
            return []
        return sorted(d.name for d in self.base.iterdir() if d.is_dir() and not d.name.startswith("."))

    def partitions(self, entry: str) -> list[str]:
        """Partitions of an entry that have a current version (years sort before 'latest'/'all')."""
        edir = self.base / _check_name("entry", entry)
        if not edir.is_dir():
            return []
        return sorted(d.name for d in edir.iterdir()
                      if d.is_dir() and not d.name.startswith(".") and (d / CURRENT).is_file())

    def versions(self, entry: str, partition: str | int) -> list[str]:
        """Version folders present in a partition (current and kept previous ones, plus crash leftovers)."""
        pdir = self.partition_dir(entry, partition)
        if not pdir.is_dir():
            return []
        return sorted(d.name for d in pdir.iterdir() if d.is_dir() and not d.name.startswith("."))

    # ------------------------------------------------------------------------------------------ cleanup
    def cleanup_orphans(self) -> list[Path]:
        """Remove what crashed writes left: ``.tmp-*`` folders, ``CURRENT.tmp``, and version folders that
        CURRENT does not reference.  Partitions that are being written right now (lock held) are skipped,
        so this is safe to call at the start of every run, also with runs in parallel."""
        removed: list[Path] = []
        if not self.base.is_dir():
            return removed
        for edir in sorted(self.base.iterdir()):
            if not edir.is_dir() or edir.name.startswith("."):
                continue
            for pdir in sorted(edir.iterdir()):
                if not pdir.is_dir() or pdir.name.startswith("."):
                    continue
                with _locked(pdir / LOCK, blocking=False) as got:
                    if not got:
                        continue
                    try:
                        cur = self._current(pdir)
                    except ValueError:
                        cur = False          # unreadable CURRENT: remove temp files only, keep every version
                    keep = set() if not cur else {cur["version"], *cur.get("previous", [])}
                    for p in sorted(pdir.iterdir()):
                        orphan = (p.name.startswith(TMP_PREFIX) or p.name == CURRENT_TMP
                                  or (cur is not False and p.is_dir() and not p.name.startswith(".")
                                      and p.name not in keep))
                        if not orphan:
                            continue
                        if p.is_dir():
                            shutil.rmtree(p, ignore_errors=True)
                        else:
                            p.unlink(missing_ok=True)
                        removed.append(p)
        return removed
