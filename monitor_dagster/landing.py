"""The landing zone: scanning it cheaply and deciding what to ingest (the heart of the release sensor).

Pure Python, no Dagster: the sensor calls ``scan`` then ``plan`` on every tick, turns each ``ingest``
decision into a ``RunRequest(run_key=decision.run_key)`` and stores ``cursor.to_json()``.  See
docs/operations.md for the rules in prose.

Rules:

* A *group* is what one asset partition holds: (entry, period) for yearly files; the whole entry for
  cumulative files (each release year replaces the previous one) and for reference files.  Within a group
  releases are ordered by (period, version); only the highest one is a *candidate* for ingestion.
* Stability: a file is only looked at once the same (size, mtime) was seen on the previous tick, and never
  while a temporary name (``.part``, ``.tmp``, ...) for the highest release exists.  So the first tick on a
  fresh zone answers ``wait`` for every file.
* Hashing: only a stable candidate whose (size, mtime) is not in ``cursor.hashes`` is hashed; older
  versions are never hashed.
* One release under two catalog patterns (a reference file on the code-listings share *and* under
  ``Referentie/``): the file of the entry's earlier pattern is the candidate, the other copy is reported as
  ``skip_copy`` (docs/ingest.md, "Reference files").
* Each non-ingest outcome (``skip_duplicate``, ``skip_older``, ``skip_copy``, ``unknown``) is reported once, on
  the tick the file (or its new size/mtime) is first settled; afterwards an unchanged file is silent.  ``ingest`` is
  repeated every tick until the sensor calls :func:`mark_processed` (the run_key makes repeats harmless).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from monitor_dagster.catalog import Catalog, Match
from monitor_dagster.warehouse import partition_for

Action = Literal["ingest", "wait", "skip_duplicate", "skip_older", "skip_copy", "unknown"]
BLOCK = 1 << 20
# When one release lands in several formats (e.g. the .sav and a converted .csv under "geconverteerde
# data/"), the candidate is taken in this order of preference, then by path (after the catalog's pattern order:
# _pref).
EXT_PREFERENCE = ("parquet", "sav", "dta", "csv")


@dataclass(frozen=True)
class LandedFile:
    relpath: str                 # posix, relative to the landing root (the real name, also for .part files)
    size: int
    mtime: float
    match: Match | None          # for temporary files: the match of the name without the temporary suffix
    temporary: bool = False


@dataclass(frozen=True)
class Decision:
    action: Action
    relpath: str                 # the file decided on (for a temporary file: its final name)
    reason: str
    entry: str | None = None
    period: int | None = None    # yearly: the year; cumulative: the release year; reference: None
    version: int | None = None
    sha256: str | None = None    # set for ingest and skip_duplicate
    run_key: str | None = None   # set for ingest only: "ENTRY|PERIOD|V<n>|<sha256[:16]>" (PERIOD "all" if None)
    release_id: str | None = None    # e.g. SPOLISBUS2021V3 (Match.release_id)
    entry_kind: str | None = None    # yearly | cumulative | reference
    partition: str | None = None     # the warehouse partition: "2021", "latest" or "all"
    cursor_key: str | None = None    # key in SensorCursor.processed
    supersedes: str | None = None    # release_id of the processed release this ingest replaces


@dataclass
class SensorCursor:
    # "ENTRY|PERIOD" (reference files: "ENTRY|all") -> {version, sha256, relpath, period}
    processed: dict[str, dict] = field(default_factory=dict)
    # relpath -> [size, mtime] seen on the last tick, not yet stable
    pending: dict[str, list] = field(default_factory=dict)
    # relpath -> [size, mtime, sha256 | None]: files settled at that size/mtime (None = not hashed: older
    # versions, unknown files); only files present on the last tick are kept
    hashes: dict[str, list] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"v": 1, "processed": self.processed, "pending": self.pending, "hashes": self.hashes},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> "SensorCursor":
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            cur = cls(processed=dict(raw.get("processed") or {}), pending=dict(raw.get("pending") or {}),
                      hashes=dict(raw.get("hashes") or {}))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid release-sensor cursor ({exc}); reset the sensor cursor to start over") from None
        return cur

    def copy(self) -> "SensorCursor":
        return SensorCursor(processed=copy.deepcopy(self.processed), pending=copy.deepcopy(self.pending),
                            hashes=copy.deepcopy(self.hashes))


# --------------------------------------------------------------------------------------------- scanning
def scan(landing_root: Path, catalog: Catalog) -> list[LandedFile]:
    """Every file under the landing root (names, sizes, mtimes; no hashing), sorted by path.

    Hidden files and folders (name starting with '.') are skipped; symlinked folders are not followed."""
    root = Path(landing_root)
    if not root.is_dir():
        raise FileNotFoundError(f"landing root {root} does not exist or is not a folder")
    suffixes = tuple(s.lower() for s in catalog.sentinels.temporary_suffixes)
    out: list[LandedFile] = []
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                items = list(it)
        except OSError:          # vanished or unreadable folder: nothing to report this tick
            continue
        for item in items:
            if item.name.startswith("."):
                continue
            rel = prefix + item.name
            try:
                if item.is_dir(follow_symlinks=False):
                    stack.append((Path(item.path), rel + "/"))
                    continue
                if not item.is_file():
                    continue
                st = item.stat()
            except OSError:      # removed between listing and stat, broken link
                continue
            temporary, name = False, rel
            low = rel.lower()
            for suf in suffixes:
                if low.endswith(suf) and len(item.name) > len(suf):
                    temporary, name = True, rel[: -len(suf)]
                    break
            out.append(LandedFile(relpath=rel, size=st.st_size, mtime=st.st_mtime, match=catalog.match(name),
                                  temporary=temporary))
    out.sort(key=lambda f: f.relpath)
    return out


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(BLOCK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- planning
def _order(m: Match) -> tuple[int, int]:
    return (m.period if m.period is not None else 0, m.version)


def _release_id(entry: str, rec: dict) -> str:
    period = rec.get("period")
    return f"{entry}{period if period is not None else ''}V{rec['version']}"


def cursor_key(entry: str, kind: str, period: int | None) -> str:
    return f"{entry}|all" if kind == "reference" or period is None else f"{entry}|{period}"


def _processed_for(cursor: SensorCursor, entry: str, kind: str, period: int | None) -> tuple[str, dict] | None:
    """The processed release a group is compared with (cumulative: the newest of the entry)."""
    if kind == "cumulative":
        found = [(k, v) for k, v in cursor.processed.items() if k.split("|", 1)[0] == entry]
        if not found:
            return None
        return max(found, key=lambda kv: (kv[1].get("period") or 0, kv[1]["version"]))
    key = cursor_key(entry, kind, period)
    rec = cursor.processed.get(key)
    return (key, rec) if rec is not None else None


def _pref(f: LandedFile) -> tuple[int, int, str]:
    """Which file of one release is read: the entry's earliest matching pattern (the preferred location: the
    code-listings share before ``Referentie/`` for reference files), then the format, then the path."""
    ext = f.match.ext if f.match else ""
    pattern = f.match.pattern if f.match else 0
    return (pattern, EXT_PREFERENCE.index(ext) if ext in EXT_PREFERENCE else len(EXT_PREFERENCE), f.relpath)


def other_copies(landed: list[LandedFile], chosen: LandedFile) -> list[LandedFile]:
    """Final files holding the same release as ``chosen`` (entry, period, version) under another catalog pattern,
    i.e. in another location or under another name (not just another format of the same name): a reference
    file on the code-listings share and a copy under ``Referentie/``.  ``chosen`` is read; these are not."""
    m = chosen.match
    if m is None:
        return []
    return [f for f in landed if f is not chosen and f.match is not None and not f.temporary
            and f.match.entry == m.entry and f.match.period == m.period and f.match.version == m.version
            and f.match.pattern != m.pattern]


def _processed_order(prec: dict, entry: str, catalog: Catalog) -> tuple[int, int]:
    """The order of a processed release, re-derived from its path under the current catalog when it still
    matches (as ``ingest.release.ingested_order`` does): a cursor written when OPLEIDINGSNRREF was named with a
    year (``OPLEIDINGSNR2021REFV1``, period 2021) must not make the year-less ``OPLEIDINGSNRREFV2`` look older."""
    m = catalog.match(prec["relpath"]) if prec.get("relpath") else None
    if m is not None and m.entry == entry:
        return _order(m)
    return ((prec.get("period") or 0), prec["version"])


def newest_release(landed: list[LandedFile], catalog: Catalog, entry: str,
                   period: int | None = None) -> LandedFile | None:
    """The file ``plan`` treats as the candidate of a group: the newest final (non-temporary) release of an
    entry (yearly: of that period), ties between formats broken by EXT_PREFERENCE then path.  The ingest
    should read this file so that it is the one whose hash is in the run_key."""
    kind = catalog.entry(entry).kind
    files = sorted((f for f in landed if f.match is not None and not f.temporary and f.match.entry == entry
                    and (kind != "yearly" or f.match.period == period)), key=_pref)
    return max(files, key=lambda f: _order(f.match), default=None)


def allow_older_problems(landed: list[LandedFile], catalog: Catalog, names: list[str],
                         select: list[str] | None = None, years: tuple[int, int] | None = None,
                         sources: bool = True) -> list[str]:
    """Why a release given to ``--allow-older`` cannot take effect in this run: no landed file carries it (a
    typo), or the run does not ingest it (``--select``, ``--years``, ``--layers`` without sources).  An explicit
    rollback must not be a silent no-op."""
    have = {f.match.release_id.upper(): f.match for f in landed if f.match is not None and not f.temporary}
    out = []
    for name in names:
        m = have.get(name.upper())
        if m is not None:
            kind = catalog.entry(m.entry).kind
            if not sources:
                out.append(f"--allow-older {name}: this run does not ingest (--layers without sources)")
            elif select is not None and m.entry not in select:
                out.append(f"--allow-older {name}: {m.entry} is not in --select {','.join(select)}")
            elif years is not None and kind == "yearly" and not years[0] <= (m.period or 0) <= years[1]:
                out.append(f"--allow-older {name}: {m.period} is outside --years {years[0]}-{years[1]}")
            continue
        entry = next((e for e in sorted(catalog.files, key=len, reverse=True) if name.upper().startswith(e.upper())),
                     None)
        same = sorted(rid for rid, m in have.items() if entry is not None and m.entry == entry)
        out.append(f"--allow-older {name}: no landed file is release {name} (not landed)"
                   + (f"; landed releases of {entry}: {', '.join(same)}" if same else
                      "" if entry is not None else "; not a catalog entry followed by a year and V<n>"))
    return out


def plan(landed: list[LandedFile], cursor: SensorCursor, landing_root: Path,
         catalog: Catalog) -> tuple[list[Decision], SensorCursor]:
    """Decide, for every catalog group, what this tick does; returns the decisions and the next cursor.

    The returned cursor has new ``pending``/``hashes`` but the same ``processed``: the sensor calls
    :func:`mark_processed` for each ingest decision it turns into a run."""
    root = Path(landing_root)
    old_pending, old_hashes = cursor.pending, cursor.hashes
    pending: dict[str, list] = {}
    hashes: dict[str, list] = {}
    decisions: list[Decision] = []
    groups: dict[tuple[str, int | None], list[LandedFile]] = defaultdict(list)

    for f in sorted(landed, key=lambda x: x.relpath):
        m = f.match
        reason = None
        if m is None:
            reason = f"{f.relpath}: matches no catalog entry" + (" (temporary name)" if f.temporary else "")
        elif m.period is not None and not catalog.files[m.entry].covers(m.period):
            first, last = catalog.files[m.entry].periods
            reason = (f"{f.relpath}: period {m.period} is outside the periods of {m.entry} "
                      f"({first}-{last if last is not None else ''}) in data_catalog.yaml")
        if reason is not None:
            # reported once per path (an unknown file that keeps growing is not re-reported)
            hashes[f.relpath] = [f.size, f.mtime, None]
            if f.relpath not in old_hashes:
                decisions.append(Decision(action="unknown", relpath=f.relpath, reason=reason,
                                          entry=m.entry if m else None, period=m.period if m else None,
                                          version=m.version if m else None))
            continue
        kind = catalog.files[m.entry].kind
        groups[(m.entry, m.period if kind == "yearly" else None)].append(f)

    for (entry, _), files in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        kind = catalog.files[entry].kind
        # stability of every final (non-temporary) file
        state: dict[str, str] = {}          # relpath -> known | settled | unstable
        for f in files:
            if f.temporary:
                continue
            sig = [f.size, f.mtime]
            h = old_hashes.get(f.relpath)
            if h is not None and list(h[:2]) == sig:
                hashes[f.relpath] = list(h)
                state[f.relpath] = "known"
            elif old_pending.get(f.relpath) is not None and list(old_pending[f.relpath]) == sig:
                state[f.relpath] = "settled"
            else:
                pending[f.relpath] = sig
                state[f.relpath] = "unstable"

        def wait(f: LandedFile, why: str | None = None) -> Decision:
            m = f.match
            if why is None:
                prev = old_pending.get(f.relpath) or old_hashes.get(f.relpath)
                why = ("first seen; ingested once size and mtime are unchanged on the next tick" if prev is None
                       else f"size/mtime changed since the last tick (size {prev[0]} -> {f.size}); "
                            f"waiting until stable")
            return Decision(action="wait", relpath=m.relpath, reason=f"{m.relpath}: {why}", entry=entry,
                            period=m.period if kind != "reference" else None, version=m.version,
                            release_id=m.release_id, entry_kind=kind)

        top = max(_order(f.match) for f in files)
        temps_top = [f for f in files if f.temporary and _order(f.match) == top]
        finals = sorted((f for f in files if not f.temporary), key=_pref)
        cand = None if temps_top else next((f for f in finals if _order(f.match) == top), None)

        # files that are not the candidate: report a newly settled older version once, wait for unstable ones
        for f in finals:
            if f is cand:
                continue
            st = state[f.relpath]
            if st == "unstable":
                decisions.append(wait(f))
            elif st == "settled":
                hashes[f.relpath] = [f.size, f.mtime, None]
                if _order(f.match) < top:
                    m = f.match
                    top_label = f"{entry}{top[0] or ''}V{top[1]}"
                    decisions.append(Decision(
                        action="skip_older", relpath=m.relpath, entry=entry,
                        period=m.period if kind != "reference" else None, version=m.version,
                        release_id=m.release_id, entry_kind=kind,
                        reason=f"{m.relpath}: {m.release_id} is older than {top_label}, also landed; ignored"))
        if temps_top:
            t = temps_top[0]
            decisions.append(wait(t, f"being copied (temporary file {t.relpath})"))
            continue
        # the same release under another pattern (another location): reported whenever the copy or the
        # candidate has just settled, so the warning comes whichever of the two landed first
        if cand is not None:
            for f in other_copies(finals, cand):
                if state[f.relpath] == "unstable" or "settled" not in (state[f.relpath], state[cand.relpath]):
                    continue
                m = f.match
                decisions.append(Decision(
                    action="skip_copy", relpath=m.relpath, entry=entry,
                    period=m.period if kind != "reference" else None, version=m.version,
                    release_id=m.release_id, entry_kind=kind,
                    reason=(f"{m.relpath}: {m.release_id} also landed as {cand.relpath}, the catalog's preferred "
                            f"location (its earlier pattern for {entry}); this copy is ignored: remove one of "
                            f"the two")))
        if cand is None:          # not reached: the newest release is either temporary or final
            continue

        m = cand.match
        st = state[cand.relpath]
        if st == "unstable":
            decisions.append(wait(cand))
            continue
        period = m.period if kind != "reference" else None
        base = dict(relpath=m.relpath, entry=entry, period=period, version=m.version, release_id=m.release_id,
                    entry_kind=kind, partition=partition_for(kind, period), cursor_key=cursor_key(entry, kind, period))
        prev = _processed_for(cursor, entry, kind, m.period)
        prec = prev[1] if prev else None
        prev_order = _processed_order(prec, entry, catalog) if prec else None
        prev_id = _release_id(entry, prec) if prec else None

        if prec is not None and _order(m) < prev_order:
            if st == "settled":      # reported once; "known" files keep their entry (and hash, if any)
                hashes[cand.relpath] = [cand.size, cand.mtime, None]
                decisions.append(Decision(action="skip_older", **base, reason=(
                    f"{m.relpath}: {m.release_id} is older than the processed {prev_id} "
                    f"({prec.get('relpath')}); ignored")))
            continue

        sha = hashes.get(cand.relpath, [None] * 3)[2] if st == "known" else None
        if sha is None:
            try:
                sha = sha256(root / cand.relpath)
            except OSError as exc:          # vanished or locked (still being copied on Windows)
                hashes.pop(cand.relpath, None)
                pending[cand.relpath] = [cand.size, cand.mtime]
                decisions.append(wait(cand, f"cannot be read yet ({exc.__class__.__name__}); waiting"))
                continue
        hashes[cand.relpath] = [cand.size, cand.mtime, sha]
        pstr = str(period) if period is not None else "all"
        ingest = dict(action="ingest", sha256=sha, run_key=f"{entry}|{pstr}|V{m.version}|{sha[:16]}",
                      supersedes=prev_id, **base)
        if prec is None:
            decisions.append(Decision(**ingest, reason=f"{m.relpath}: new release {m.release_id}"))
        elif _order(m) > prev_order:
            decisions.append(Decision(**ingest, reason=(
                f"{m.relpath}: {m.release_id} supersedes the processed {prev_id}")))
        elif prec.get("sha256") != sha:
            decisions.append(Decision(**ingest, reason=(
                f"{m.relpath}: corrected file: {m.release_id} content changed "
                f"(sha256 {str(prec.get('sha256'))[:12]} -> {sha[:12]})")))
        elif st == "settled":
            decisions.append(Decision(action="skip_duplicate", sha256=sha, **base, reason=(
                f"{m.relpath}: same content as the processed {prev_id} ({prec.get('relpath')}); no run")))

    new = SensorCursor(processed=copy.deepcopy(cursor.processed), pending=pending, hashes=hashes)
    return decisions, new


def mark_processed(cursor: SensorCursor, decision: Decision) -> SensorCursor:
    """Record an ingest decision as processed; returns a new cursor.

    The sensor calls this when it *emits* the run, not when the run succeeds: a failed run is therefore
    not retried by the sensor; it is re-run when the file changes again (new content = new run_key) or by
    a manual run/backfill of that partition.  For cumulative files only the newest processed release of the
    entry is kept (older ones can only be skip_older anyway)."""
    if decision.action != "ingest":
        raise ValueError(f"only ingest decisions are marked processed, got {decision.action}")
    new = cursor.copy()
    key = decision.cursor_key or cursor_key(decision.entry, decision.entry_kind or "yearly", decision.period)
    if decision.entry_kind == "cumulative":
        for k in [k for k in new.processed if k.split("|", 1)[0] == decision.entry]:
            del new.processed[k]
    new.processed[key] = {"version": decision.version, "sha256": decision.sha256, "relpath": decision.relpath,
                          "period": _release_period(decision)}
    return new


def _release_period(decision: Decision) -> int | None:
    """The release year (also for reference files named with a year, whose decision period is None)."""
    if decision.period is not None:
        return decision.period
    rid = decision.release_id or ""
    body = rid[len(decision.entry or ""):].rsplit("V", 1)[0]
    return int(body) if body.isdigit() else None
