"""The warehouse store: parquet per source and partition, written atomically, the previous versions kept.

Layout (docs/operations.md, "Warehouse layout")::

    <root>/sources/<ENTRY>/<partition>/          partition: "2019" (yearly), "latest" (cumulative), "all" (reference)
        <release_id>-<hash12>/data.parquet       one version directory per write (zstd parquet)
        <release_id>-<hash12>/manifest.json      the manifest given to write() plus "written_at"
        CURRENT                                  JSON {"version": <dir name>, "manifest": {...}, "previous": [...]}
        .lock                                    writers of one partition take turns (advisory file lock)

A write goes to ``.tmp-<uuid>/`` (fsync file and folder), is renamed to its version directory, and only then
``CURRENT`` is replaced (``CURRENT.tmp`` + fsync + rename).  A crash at any point leaves the previous CURRENT
and its data intact; ``cleanup_warehouse()`` (start of every run) removes what a crash left behind in every
layer.  The current version and the 2 previous ones are kept (readers holding an older LazyFrame keep working).

Verified reads: the manifest holds ``data_sha256``, the sha256 of ``data.parquet`` computed by the writer
after the file is written and before it becomes visible; :meth:`Warehouse.read` checks it (once per process
per file, cached by path, size, mtime and inode) and raises :class:`WarehouseCorrupt` on a mismatch, so
nothing is computed, exported or published from a file that changed after it was written.
:func:`repair` removes a damaged version (or points to an identical kept copy) and adds checksums to
manifests written before they existed.

Atomic years: :class:`Journal` is an undo journal of one job run over the derived layers; a run that fails
(or dies: :func:`recover_journals` at the next start) gets the previous CURRENT of every derived partition it
replaced back, so a year is never left half-rebuilt from two vintages.

Pure Python + polars, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import errno as _errno
import hashlib
import json
import logging
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
#: every versioned layer of the warehouse (cleanup and repair walk these; ``gx/`` and ``publication/`` are not)
LAYERS = (SOURCES, "core", "indicators")
#: the manifest field with the sha256 of the version's data.parquet (verified reads)
CHECKSUM = "data_sha256"
JOURNALS = ".journal"
CURRENT = "CURRENT"
CURRENT_TMP = "CURRENT.tmp"
TMP_PREFIX = ".tmp-"
LOCK = ".lock"
KEEP_PREVIOUS = 2
PARTITION_LATEST = "latest"
PARTITION_ALL = "all"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


log = logging.getLogger(__name__)


class WarehouseMissing(KeyError):
    """Nothing in the warehouse for that entry and partition."""

    def __str__(self) -> str:          # KeyError would quote the message
        return str(self.args[0]) if self.args else "missing"


class WarehouseCorrupt(ValueError):
    """A stored file is not what its manifest says it is (checksum mismatch, missing file, unreadable CURRENT):
    one line naming layer/entry/partition, the version and the file, and how to recover."""

    def __init__(self, root: Path, where: str, detail: str, version: str | None = None, path: Path | None = None):
        self.where, self.detail, self.version, self.path = where, detail, version, path
        what = f"{where} version {version} ({path})" if version else where
        super().__init__(
            f"{what}: {detail}; it changed after it was written, so nothing is computed, exported or published "
            f"from it. Recover: `monitor repair --warehouse {root}` (removes the damaged version, or points to an "
            f"identical kept copy; --dry-run shows what it would do), then `monitor run` re-ingests or rebuilds it")


#: errno values that mean "this storage cannot take the write": one-line message instead of a traceback
WRITE_ERRNOS = {_errno.ENOSPC: "no space left on device", _errno.EDQUOT: "disk quota exceeded",
                _errno.EROFS: "read-only file system", _errno.EACCES: "permission denied",
                _errno.EPERM: "operation not permitted"}


def os_errno(exc: BaseException) -> int | None:
    """The errno behind an exception: an OSError's own, or the ``(os error N)`` polars puts in its message
    (polars reports a full disk as ``ComputeError: ... No space left on device (os error 28)``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        m = re.search(r"\(os error (\d+)\)", str(exc))
        if m:
            return int(m.group(1))
        exc = exc.__cause__ or exc.__context__
    return None


class WarehouseWriteError(OSError):
    """A write the storage refused (disk full, read-only, no permission): one line with the path and cause."""

    def __str__(self) -> str:          # OSError would prefix "[Errno 28]"
        return str(self.strerror)


def storage_problem(code: int | None) -> str | None:
    """'<cause> (<ERRNO>); <what to do>' for the errno values of :data:`WRITE_ERRNOS`, else None."""
    if code not in WRITE_ERRNOS:
        return None
    fix = ("free space there (or point the warehouse elsewhere) and run again" if code in (_errno.ENOSPC, _errno.EDQUOT)
           else "it must be writable by this user: check the mount and the permissions")
    return f"{WRITE_ERRNOS[code]} ({_errno.errorcode.get(code, code)}); {fix}"


def write_error(exc: BaseException, path: Path, what: str) -> WarehouseWriteError | None:
    """A :class:`WarehouseWriteError` for ``exc`` if its errno is one of :data:`WRITE_ERRNOS`, else None."""
    code = os_errno(exc)
    problem = storage_problem(code)
    if problem is None:
        return None
    cause, fix = problem.split("; ", 1)
    return WarehouseWriteError(code, f"cannot write {what} at {path}: {cause}; the previous version stays "
                                     f"current; {fix}")


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


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks (hashlib's OpenSSL sha256 runs at about 1.2 GB/s with SHA-NI:
    docs/operations.md, "Verified reads")."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


#: files verified in this process: path -> (size, mtime_ns, inode, sha256); a file that was replaced or
#: rewritten has another stat and is verified again
_VERIFIED: dict[str, tuple[int, int, int, str]] = {}
_UNVERIFIED_WARNED: set[str] = set()


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def _remember(path: Path, digest: str) -> None:
    try:
        _VERIFIED[str(path)] = (*_stat_key(path), digest)
    except OSError:
        pass


def _write_json(path: Path, obj: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())


def _write_current(pdir: Path, cur: dict | str) -> None:
    """Replace ``CURRENT`` atomically (``CURRENT.tmp`` + fsync + rename + fsync of the folder); ``cur`` as a
    dict, or the exact text of an earlier CURRENT (a rollback restores it byte for byte)."""
    ctmp = pdir / CURRENT_TMP
    if isinstance(cur, str):
        with open(ctmp, "w", encoding="utf-8") as fh:
            fh.write(cur)
            fh.flush()
            os.fsync(fh.fileno())
    else:
        _write_json(ctmp, cur)
    _rename(ctmp, pdir / CURRENT)
    _fsync_dir(pdir)


def _prune(pdir: Path, keep: set[str]) -> list[Path]:
    """Remove the version folders of ``pdir`` not in ``keep`` (Windows: a reader may hold one open; then the
    next write or cleanup removes it)."""
    gone = []
    for d in sorted(pdir.iterdir()):
        if d.is_dir() and not d.name.startswith(".") and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
    return gone


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
            raise WarehouseCorrupt(self.root, self._where(pdir), f"{pdir / CURRENT} is unreadable ({exc})") from None
        return cur

    def _where(self, pdir: Path) -> str:
        return f"{self.layer}/{pdir.parent.name}/{pdir.name}"

    def current(self, entry: str, partition: str | int) -> dict | None:
        """The CURRENT pointer: {"version": dir name, "manifest": {...}, "previous": [dir names]} or None."""
        return self._current(self.partition_dir(entry, partition))

    def _current_or_missing(self, entry: str, partition: str | int) -> tuple[Path, dict]:
        """(partition folder, CURRENT pointer); WarehouseMissing when the partition has no current version."""
        pdir = self.partition_dir(entry, partition)
        cur = self._current(pdir)
        if cur is None:
            raise WarehouseMissing(f"the warehouse has no data for {entry} partition {partition} "
                                   f"(no {pdir / CURRENT}); materialise that source first")
        return pdir, cur

    def data_path(self, entry: str, partition: str | int) -> Path:
        pdir, cur = self._current_or_missing(entry, partition)
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
            else:   # one chunk per column: the writer's pages follow the chunks, the bytes would too (issue 15)
                frame.rechunk().write_parquet(data, compression="zstd", statistics=True)
            return {}

        return self.write_with(entry, partition, produce, manifest)

    def write_with(self, entry: str, partition: str | int, produce: Callable[[Path], dict | None],
                   manifest: dict) -> Path:
        """:meth:`write`, but ``produce(path)`` writes the parquet file itself (e.g. chunk by chunk, the chunked
        ingest) and returns manifest fields known only afterwards (rows, ...), which update ``manifest``.
        Same crash safety: the file is written inside the temporary folder; if ``produce`` raises, that folder
        is removed and the partition stays as it was."""
        pdir = self.partition_dir(entry, partition)
        try:
            return self._write_with(pdir, produce, manifest)
        except BaseException as exc:
            err = write_error(exc, pdir, f"{self.layer}/{entry}/{partition}")
            if err is None:
                raise
            raise err from exc

    def _write_with(self, pdir: Path, produce: Callable[[Path], dict | None], manifest: dict) -> Path:
        pdir.mkdir(parents=True, exist_ok=True)
        man = dict(manifest)
        with _locked(pdir / LOCK):
            tmp = pdir / f"{TMP_PREFIX}{uuid.uuid4().hex}"
            tmp.mkdir()
            data = tmp / "data.parquet"
            mpath = tmp / "manifest.json"
            try:     # a failure before the rename (an invalid file, a full disk) leaves no temporary folder
                man.update(produce(data) or {})
                _fsync_file(data)
                # the checksum of what is on disk, taken before the version becomes visible (verified reads)
                man[CHECKSUM] = file_sha256(data)
                man["written_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
                _write_json(mpath, man)
                _fsync_dir(tmp)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            man = json.loads(mpath.read_text(encoding="utf-8"))     # what is stored (dates as text)

            name = self._version_name(pdir, man, data)
            final = pdir / name
            _rename(tmp, final)
            _fsync_dir(pdir)
            _remember(final / "data.parquet", man[CHECKSUM])

            try:
                raw = (pdir / CURRENT).read_text(encoding="utf-8")
            except FileNotFoundError:
                raw = None
            old = self._current(pdir)
            previous = [] if old is None else [old["version"], *old.get("previous", [])]
            previous = [p for p in dict.fromkeys(previous) if p != name and (pdir / p).is_dir()]
            journal = _active_journal(self.root) if self.layer != SOURCES else None
            if journal is not None:      # the run's journal holds the old CURRENT first; pruning waits for commit
                journal.record(self.layer, pdir.parent.name, pdir.name, raw, name)
            else:
                previous = previous[:KEEP_PREVIOUS]
            _write_current(pdir, {"version": name, "manifest": man, "previous": previous})
            if journal is None:
                _prune(pdir, {name, *previous})
        return final

    @staticmethod
    def _version_name(pdir: Path, manifest: dict, data: Path) -> str:
        release = _SAFE.sub("_", str(manifest.get("release_id") or "v")).strip("._") or "v"
        digest = str(manifest.get("sha256") or "")
        if not re.fullmatch(r"[0-9a-fA-F]{12,}", digest):
            digest = str(manifest.get(CHECKSUM) or "") or file_sha256(data)
        base = f"{release}-{digest[:12].lower()}"
        name, n = base, 1
        while (pdir / name).exists():     # the same release written again (e.g. after a code change)
            n += 1
            name = f"{base}-r{n}"
        return name

    # ------------------------------------------------------------------------------------------ read
    def read(self, entry: str, partition: str | int) -> pl.LazyFrame:
        """A lazy scan of the current version, after checking its file against the manifest's checksum (raises
        WarehouseMissing if there is none, WarehouseCorrupt if the file changed after it was written)."""
        return pl.scan_parquet(self.verified_path(entry, partition))

    def verified_path(self, entry: str, partition: str | int) -> Path:
        """The current version's data file, verified (see :meth:`read`)."""
        pdir, cur = self._current_or_missing(entry, partition)
        path = pdir / cur["version"] / "data.parquet"
        self._verify(pdir, cur["version"], path, (cur.get("manifest") or {}).get(CHECKSUM))
        return path

    def _verify(self, pdir: Path, version: str, path: Path, expected: str | None) -> None:
        """Raise WarehouseCorrupt unless ``path`` has the sha256 ``expected`` (cached per process, see
        :data:`_VERIFIED`); a manifest from before checksums (``expected`` None) is not verified: one warning
        per process."""
        where = self._where(pdir)
        try:
            key = _stat_key(path)
        except FileNotFoundError:
            raise WarehouseCorrupt(self.root, where, "the data file is missing", version, path) from None
        if not expected:
            if str(self.root) not in _UNVERIFIED_WARNED:
                _UNVERIFIED_WARNED.add(str(self.root))
                log.warning("%s: written before checksums, read without verification; `monitor repair --checksum "
                            "--warehouse %s` adds the checksums (docs/operations.md, 'Verified reads')", where, self.root)
            return
        hit = _VERIFIED.get(str(path))
        if hit is not None and hit[:3] == key and hit[3] == expected:
            return
        got = file_sha256(path)
        if got != expected:
            raise WarehouseCorrupt(self.root, where, f"the data file does not match its checksum (sha256 "
                                                     f"{got[:12]}..., manifest {expected[:12]}...)", version, path)
        _VERIFIED[str(path)] = (*key, got)

    def check(self, entry: str, partition: str | int, version: str | None = None) -> str:
        """'ok', 'no checksum' or 'damaged: <detail>' for the current (or the given kept) version; never raises
        for a damaged file, and always hashes (no cache): for ``monitor repair``."""
        pdir = self.partition_dir(entry, partition)
        try:
            if version is None:
                cur = self._current(pdir)
                if cur is None:
                    return "missing"
                version, man = cur["version"], cur.get("manifest") or {}
            else:
                man = json.loads((pdir / version / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"damaged: {exc}"
        path = pdir / version / "data.parquet"
        if not path.is_file():
            return "damaged: the data file is missing"
        if not man.get(CHECKSUM):
            return "no checksum"
        got = file_sha256(path)
        return "ok" if got == man[CHECKSUM] else f"damaged: sha256 {got[:12]}..., manifest {man[CHECKSUM][:12]}..."

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

    # ------------------------------------------------------------------------------------------ repair

    def _versions_newest_first(self, pdir: Path) -> list[tuple[str, dict]]:
        got = []
        for d in pdir.iterdir():
            if d.is_dir() and not d.name.startswith("."):
                try:
                    got.append((d.name, json.loads((d / "manifest.json").read_text(encoding="utf-8"))))
                except (OSError, ValueError):
                    continue
        return sorted(got, key=lambda x: str(x[1].get("written_at", "")), reverse=True)

    def _repair_partition(self, pdir: Path, checksum: bool, previous: bool, remove: bool,
                          dry_run: bool) -> list[tuple[str, str, str]]:
        where, entry, part = self._where(pdir), pdir.parent.name, pdir.name
        try:
            cur = self._current(pdir)
        except WarehouseCorrupt:
            cur = "unreadable"
        if cur is None:
            return []        # no current version: crash leftovers only, for cleanup_warehouse
        if cur == "unreadable":
            finding, damaged, dman = "CURRENT is unreadable", None, {}
            kept = [v for v, _ in self._versions_newest_first(pdir)]
        else:
            state = self.check(entry, part)
            if state == "ok":
                return []
            if state == "no checksum":
                if not checksum:
                    return [(where, "no checksum (written before verified reads)",
                             "not verified; `monitor repair --checksum` adds it")]
                n = 0 if dry_run else self._add_checksums(pdir)
                return [(where, "no checksum (written before verified reads)",
                         "would add the checksum" if dry_run else f"checksum added ({n} version(s))")]
            finding, damaged, dman = state, cur["version"], cur.get("manifest") or {}
            kept = [v for v in cur.get("previous", []) if (pdir / v).is_dir()]
        same, other = None, None
        for v in kept:
            if v == damaged or self.check(entry, part, v) != "ok":
                continue
            vman = json.loads((pdir / v / "manifest.json").read_text(encoding="utf-8"))
            if cur == "unreadable" or _same_inputs(self.layer, dman, vman):
                same = same or (v, vman)
            else:
                other = other or (v, vman)
        if damaged:
            finding = f"version {damaged} {finding}"
        chosen = same or (other if previous else None)
        if chosen is None and other is not None and self.layer == SOURCES and not remove:
            return [(where, finding, f"nothing done: kept version {other[0]} ({_describe(self.layer, other[1])}) "
                                     "verifies; `monitor repair --previous` points to it, `monitor repair --remove` "
                                     "removes the damaged version so that `monitor run` re-ingests the release "
                                     "from the landing zone")]
        if chosen is not None:
            v, vman = chosen
            how = "the same data" if chosen is same else f"an older version: {_describe(self.layer, vman)}"
            action = f"now points to kept version {v} ({how})"
        else:
            action = ("partition removed: `monitor run` re-ingests it from the landing zone" if self.layer == SOURCES
                      else "partition removed: `monitor run` rebuilds it")
        if damaged:
            action = f"damaged version removed; {action}"
        if dry_run:
            return [(where, finding, f"would be: {action}")]
        with _locked(pdir / LOCK):
            if chosen is not None:
                rest = [p for p in (cur.get("previous", []) if isinstance(cur, dict) else kept)
                        if p not in (chosen[0], damaged) and (pdir / p).is_dir()][:KEEP_PREVIOUS]
                _write_current(pdir, {"version": chosen[0], "manifest": chosen[1], "previous": rest})
            else:
                (pdir / CURRENT).unlink(missing_ok=True)
                _fsync_dir(pdir)
            if damaged:
                shutil.rmtree(pdir / damaged, ignore_errors=True)
        return [(where, finding, action)]

    def _add_checksums(self, pdir: Path) -> int:
        """Add ``data_sha256`` to the manifests (version folders and CURRENT) that lack it."""
        n = 0
        with _locked(pdir / LOCK):
            cur = self._current(pdir)
            for d in sorted(pdir.iterdir()):
                mpath = d / "manifest.json"
                if not d.is_dir() or d.name.startswith(".") or not mpath.is_file() or not (d / "data.parquet").is_file():
                    continue
                man = json.loads(mpath.read_text(encoding="utf-8"))
                if man.get(CHECKSUM):
                    continue
                man[CHECKSUM] = file_sha256(d / "data.parquet")
                tmp = d / "manifest.json.tmp"
                _write_json(tmp, man)
                _rename(tmp, mpath)
                n += 1
                if cur is not None and cur["version"] == d.name:
                    cur = {**cur, "manifest": {**cur.get("manifest", {}), CHECKSUM: man[CHECKSUM]}}
                    _write_current(pdir, cur)
        return n

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


# ---------------------------------------------------------------------------------------------- all layers
def cleanup_warehouse(root: Path | str) -> list[Path]:
    """:meth:`Warehouse.cleanup_orphans` over every layer (:data:`LAYERS`): what crashed or failed writes left in
    sources, core and indicators.  Call :func:`recover_journals` first, so that a run that died is rolled back
    before its versions are judged."""
    removed: list[Path] = []
    for layer in LAYERS:
        removed += Warehouse(root, layer).cleanup_orphans()
    return removed


def verify_layer(root: Path | str, layer: str = SOURCES) -> tuple[list[WarehouseCorrupt], list[str]]:
    """Verify the current version of every partition of a layer (cached like :meth:`Warehouse.read`, so the
    reads that follow in this process cost nothing more): the damaged ones, and the partitions without a
    checksum (written before verified reads)."""
    w = Warehouse(root, layer)
    damaged, unverified = [], []
    for entry in w.entries():
        for part in w.partitions(entry):
            pdir = w.partition_dir(entry, part)
            try:
                cur = w._current(pdir)
                if cur is None:
                    continue
                man = cur.get("manifest") or {}
                if not man.get(CHECKSUM):
                    unverified.append(f"{layer}/{entry}/{part}")
                    continue
                w._verify(pdir, cur["version"], pdir / cur["version"] / "data.parquet", man[CHECKSUM])
            except WarehouseCorrupt as exc:
                damaged.append(exc)
    return damaged, unverified


# ---------------------------------------------------------------------------------------------- atomic years
_ACTIVE: "Journal | None" = None


def _active_journal(root: Path) -> "Journal | None":
    j = _ACTIVE
    if j is None:
        return None
    try:
        return j if Path(root).resolve() == j.root else None
    except OSError:
        return None


class Journal:
    """Undo journal of one job run over the derived layers (core, indicators), so that the partitions of a year
    are replaced as a whole or not at all.

    ``with Journal(root, label) as j:`` makes every derived write of this process record the partition's old
    ``CURRENT`` in ``<root>/.journal/<id>.json`` (fsynced before the new CURRENT replaces it) and keep the old
    versions.  Leaving the block normally commits (drops the journal, prunes to 2 previous versions); an
    exception, or :meth:`rollback` (the runner calls it when a step of the job failed), puts every recorded
    CURRENT back byte for byte and removes the versions the run wrote.  A process that dies leaves the
    journal, whose lock (``<id>.lock``) the OS releases: :func:`recover_journals` rolls it back at the next
    start.  Nothing is written until the first derived write (a job that writes nothing leaves no trace)."""

    def __init__(self, root: Path | str, label: str):
        self.root = Path(root).resolve()
        self.label = label
        self.id = f"{_SAFE.sub('_', label).strip('._') or 'run'}-{uuid.uuid4().hex[:12]}"
        self.dir = self.root / JOURNALS
        self.entries: dict[str, dict] = {}
        self.done = False
        self._lock = None

    @property
    def path(self) -> Path:
        return self.dir / f"{self.id}.json"

    def __enter__(self) -> "Journal":
        global _ACTIVE
        if _ACTIVE is not None:
            raise RuntimeError(f"journal {_ACTIVE.id} is still active in this process")
        _ACTIVE = self
        return self

    def __exit__(self, et, ev, tb) -> bool:
        global _ACTIVE
        _ACTIVE = None
        if not self.done:
            self.rollback() if et is not None else self.commit()
        return False

    def record(self, layer: str, entry: str, partition: str, raw_current: str | None, written: str) -> None:
        """Before a derived write replaces ``CURRENT``: remember its old text (the first time per partition)
        and the version this run wrote."""
        key = f"{layer}/{entry}/{partition}"
        if self._lock is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock = _locked(self.dir / f"{self.id}.lock")
            self._lock.__enter__()
        e = self.entries.setdefault(key, {"current": raw_current, "written": []})
        e["written"].append(written)
        tmp = self.dir / f"{self.id}.json.tmp"
        _write_json(tmp, {"label": self.label, "entries": self.entries})
        _rename(tmp, self.path)
        _fsync_dir(self.dir)

    def _release(self) -> None:
        self.done = True
        self.path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None
            (self.dir / f"{self.id}.lock").unlink(missing_ok=True)

    def commit(self) -> None:
        """Keep what the run wrote: drop the journal (the commit point), then prune each partition it wrote to
        the current and 2 previous versions."""
        entries, _ = self.entries, self._release()
        for key in entries:
            pdir = self.root / key
            try:
                with _locked(pdir / LOCK):
                    cur = json.loads((pdir / CURRENT).read_text(encoding="utf-8"))
                    prev = [p for p in cur.get("previous", []) if (pdir / p).is_dir()][:KEEP_PREVIOUS]
                    if prev != cur.get("previous", []):
                        _write_current(pdir, {**cur, "previous": prev})
                    _prune(pdir, {cur["version"], *prev})
            except (OSError, ValueError, KeyError):
                continue          # pruning is housekeeping: the next write of that partition prunes

    def rollback(self) -> list[tuple[str, dict | None]]:
        """Put back the CURRENT each recorded partition had before the run and remove the versions the run
        wrote; returns (layer/entry/partition, the manifest now current or None) per partition."""
        return _undo(self.root, self.entries, self._release)


def _undo(root: Path, entries: dict[str, dict], release: Callable[[], None]) -> list[tuple[str, dict | None]]:
    out = []
    for key, e in reversed(list(entries.items())):
        pdir = root / key
        with _locked(pdir / LOCK):
            raw = e.get("current")
            if raw is None:
                (pdir / CURRENT).unlink(missing_ok=True)
                _fsync_dir(pdir)
                keep, man = set(), None
            else:
                _write_current(pdir, raw)
                cur = json.loads(raw)
                keep, man = {cur["version"], *cur.get("previous", [])}, cur.get("manifest")
            for v in e.get("written", []):
                if v not in keep:
                    shutil.rmtree(pdir / v, ignore_errors=True)
        out.append((key, man))
    release()
    return out


def recover_journals(root: Path | str) -> list[str]:
    """Roll back the journals of runs that died (their lock is free): start of every run, before
    :func:`cleanup_warehouse`.  Returns one line per partition put back."""
    jdir = Path(root) / JOURNALS
    if not jdir.is_dir():
        return []
    lines = []
    for path in sorted(jdir.glob("*.json*")):
        jid = path.name.split(".json")[0]
        lock = jdir / f"{jid}.lock"
        with _locked(lock, blocking=False) as got:
            if not got:
                continue          # a running job holds it
            if path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)    # died before its first record: nothing was replaced
            else:
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    continue
                except ValueError:
                    path.unlink(missing_ok=True)
                    continue
                done = _undo(Path(root).resolve(), doc.get("entries", {}), lambda p=path: p.unlink(missing_ok=True))
                lines += [f"{key}: put back the version before the interrupted run {doc.get('label', jid)}"
                          for key, _ in done]
        lock.unlink(missing_ok=True)
    return lines


# ---------------------------------------------------------------------------------------------- repair
def _same_inputs(layer: str, a: dict, b: dict) -> bool:
    """Whether two manifests describe the same data: the same release (sources: release id and file hash) or
    the same source vintages (derived layers; a manifest without vintages, e.g. the indicator table, is
    never 'the same')."""
    if layer == SOURCES:
        return bool(a.get("sha256")) and (a.get("release_id"), a.get("sha256")) == (b.get("release_id"), b.get("sha256"))
    return a.get("vintages") is not None and (a.get("vintages"), a.get("provisional_releases")) == \
        (b.get("vintages"), b.get("provisional_releases"))


def _describe(layer: str, man: dict) -> str:
    if layer == SOURCES and man.get("release_id"):
        return f"release {man['release_id']}"
    return f"built {man.get('written_at', '?')}" + (f" from {man['vintages']}" if man.get("vintages") else "")


def repair(root: Path | str, checksum: bool = False, previous: bool = False, remove: bool = False,
           dry_run: bool = False) -> list[tuple[str, str, str]]:
    """``monitor repair``: check every stored file of every layer against its checksum, always hashing
    (no cache), and deal with the damaged ones; returns (layer/entry/partition, finding, action) per finding.

    A damaged current version (or an unreadable CURRENT) is removed and the partition points to

    * a kept previous version that verifies and holds the same data (same release, same source vintages);
    * else, with ``previous``, the newest kept version that verifies (an older release or build: reported);
    * else nothing: the partition is absent and ``monitor run`` re-ingests it from the landing zone (sources)
      or rebuilds it (core, indicators).  For a source with another kept version that verifies, this needs
      ``remove`` (the landing zone may no longer hold the release; ``previous`` keeps what is there).

    ``checksum`` adds ``data_sha256`` to manifests written before verified reads (it trusts the files as they
    are now).  ``dry_run`` reports and changes nothing."""
    out: list[tuple[str, str, str]] = []
    for layer in LAYERS:
        w = Warehouse(root, layer)
        for entry in w.entries():
            for pdir in sorted(d for d in (w.base / entry).iterdir() if d.is_dir() and not d.name.startswith(".")):
                out += w._repair_partition(pdir, checksum, previous, remove, dry_run)
    return out
