"""Ingest one release of one CBS file into the warehouse (Dagster-free; the asset factory calls this).

The release is the highest landed version of the entry for the period (yearly files), or the newest release
(cumulative files: highest year, then highest version).  A release already in the warehouse with the same
content hash is not written again.  No silent rollback: a landed release older than the one the warehouse holds
(V1 copied back after V2 was ingested and removed, an older cumulative release) is skipped with the reason
(``IngestOutcome.skipped``), whether or not the newer file is still landed; only a release the operator names
(``allow_older``, ``monitor run --allow-older INPATAB2020V1``) replaces a newer one, and its manifest records
``rolled_back_from``.  Any failure leaves the warehouse as it was: the file is validated and
written chunk by chunk into a temporary folder, and the new version is only made current after the whole file
has been read, validated and written (``warehouse.Warehouse.write_with``).  The
manifest records the gate's non-blocking findings: ``missing_columns`` and ``warnings`` (one line each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from monitor_dagster.catalog import Catalog, Match
from monitor_dagster.ingest import IngestError, IngestResult, ingest_file
from monitor_dagster.landing import LandedFile, _pref, newest_release, scan, sha256
from monitor_dagster.warehouse import Warehouse, partition_for


class NoRelease(LookupError):
    """Nothing landed for the requested file and period."""


@dataclass
class IngestOutcome:
    entry: str
    period: int | None
    partition: str
    match: Match
    sha256: str
    manifest: dict
    result: IngestResult | None = None      # None when the release was already in the warehouse
    unchanged: bool = False
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None              # why the landed release was not ingested (older than the warehouse's)
    #: other landed files of this release that were not read (identical bytes, or the catalog's other pattern):
    #: `monitor run` prints them, so a copy in another location is not read in silence
    copies: list[str] = field(default_factory=list)


def find_release(landed: list[LandedFile], catalog: Catalog, entry: str, period: int | None,
                 allow_older: Iterable[str] = ()) -> LandedFile:
    """The file to ingest: highest version for the period (yearly), newest release (cumulative/reference);
    the same file the release sensor hashed for its run key (``landing.newest_release``).  A release named in
    ``allow_older`` (release ids, e.g. INPATAB2020V1) is taken instead when it is landed: the operator asked
    for that one."""
    kind = catalog.entry(entry).kind
    named = {str(x).upper() for x in allow_older}
    if named:
        hits = sorted((f for f in landed if f.match is not None and not f.temporary and f.match.entry == entry
                       and (kind != "yearly" or f.match.period == period)
                       and f.match.release_id.upper() in named), key=_pref)
        if hits:
            return hits[0]
    lf = newest_release(landed, catalog, entry, period if kind == "yearly" else None)
    if lf is None:
        what = f"{entry} {period}" if kind == "yearly" else entry
        raise NoRelease(f"no landed file for {what} (looked for the catalog patterns of {entry})")
    return lf


def ingest_release(catalog: Catalog, entry: str, period: int | None, landing_root: Path,
                   warehouse: Warehouse, landed: list[LandedFile] | None = None,
                   chunk_rows: int | None = None, allow_older: Iterable[str] = ()) -> IngestOutcome:
    """Ingest the release into the warehouse chunk by chunk: each normalised chunk is appended to the new
    version's parquet file as it is validated, so the file is never held whole (``chunk_rows``: default
    ``MONITOR_INGEST_CHUNK_ROWS`` or 1 million, docs/ingest.md "Chunked ingest").

    A release older than the warehouse's current one is skipped (``skipped`` says why; the warehouse is not
    touched) unless its release id is in ``allow_older``."""
    landed = scan(landing_root, catalog) if landed is None else landed
    allow = {str(x).upper() for x in allow_older}
    lf = find_release(landed, catalog, entry, period, allow)
    e = catalog.entry(entry)
    part = partition_for(e.kind, lf.match.period if e.kind == "yearly" else None)
    current = warehouse.manifest(entry, part)
    rid = lf.match.release_id
    notes = []
    rolled_back_from = None
    if current and current.get("release_id") and is_older(lf.match, current, catalog):
        held = str(current["release_id"])
        if rid.upper() not in allow:
            why = skip_reason(rid, lf.relpath, held)
            return IngestOutcome(entry, period, part, lf.match, str(current.get("sha256") or ""), current,
                                 unchanged=True, notes=[why], skipped=why)
        rolled_back_from = held
        notes.append(f"rolled back {held} to {rid} (--allow-older)")
    before = _stamp(landing_root / lf.relpath)
    digest = sha256(landing_root / lf.relpath)
    # another landed file of the same format and catalog pattern claims this very release (INPA2020TABV02.sav next
    # to INPA2020TABV2.sav): which one is meant cannot be told, and path order picked one in silence (an audit of
    # December 2026).  A copy under another pattern is the catalog's choice (its first pattern is the preferred
    # location, docs/ingest.md "Reference files"): noted, not read; a format conversion (the .sav and its CSV under
    # 'geconverteerde data/') is no such copy
    same = [f for f in landed if f is not lf and f.match is not None and not f.temporary
            and f.match.entry == lf.match.entry and f.match.period == lf.match.period
            and f.match.version == lf.match.version and f.match.ext == lf.match.ext]
    twins = [f for f in same if f.match.pattern == lf.match.pattern]
    differ = [f.relpath for f in twins if sha256(landing_root / f.relpath) != digest]
    if differ:
        raise IngestError(f"{rid}: {len(differ) + 1} landed files claim this release with different contents: "
                          f"{lf.relpath}; {'; '.join(differ)}. Which one is meant cannot be told: remove or rename "
                          "the others (the warehouse keeps what it held)")
    copies = [f"{f.relpath} holds the same bytes as {lf.relpath}: read once" for f in twins]
    copies += [f"{f.relpath} holds {rid} too, under another name or location: not read (the catalog prefers "
               f"{lf.relpath})" for f in same if f not in twins]
    if current and current.get("sha256") == digest and current.get("release_id") == rid:
        return IngestOutcome(entry, period, part, lf.match, digest, current, unchanged=True, copies=copies,
                             notes=[f"{rid} already in the warehouse (same sha256)"])
    if current and current.get("release_id") and rolled_back_from is None and current["release_id"] != rid:
        notes.append(f"replacing {current['release_id']} by {rid}")
    manifest = {
        "release_id": rid, "vintage": rid, "source": lf.relpath,
        "version": lf.match.version, "period": lf.match.period, "sha256": digest,
    }
    if rolled_back_from is not None:
        manifest["rolled_back_from"] = rolled_back_from
    done: list[tuple[IngestResult, dict]] = []

    def produce(data: Path) -> dict:
        """Ingest straight into the warehouse's temporary file; the manifest fields that need the ingest."""
        result = ingest_file(landing_root / lf.relpath, lf.match, catalog, chunk_rows=chunk_rows, out=data)
        held = int((current or {}).get("rows") or 0)
        if (e.kind == "cumulative" and held and result.rows < SHRINK_LIMIT * held and rolled_back_from is None
                and rid.upper() not in allow):
            # a cumulative release holds every earlier period too: one with clearly fewer rows than the release it
            # replaces is a partial copy or a wrong export, and it would silently shrink every year built on it (an
            # audit of December 2026: GBAPERSOONTAB with 2,000 of 2,948 persons, exit 0, n of O27 1,346 -> 896)
            raise IngestError(f"{rid} ({lf.relpath}): {result.rows:,} rows, {100 * (1 - result.rows / held):.0f} % "
                              f"fewer than {current.get('release_id')} ({held:,}) that it would replace: a cumulative "
                              "release holds the earlier periods too, so this looks like a partial file. The "
                              f"warehouse keeps {current.get('release_id')}; to take it anyway: monitor run "
                              f"--allow-older {rid}")
        after = _stamp(landing_root / lf.relpath)
        if after != before:
            # the release sensor waits for a file to stop changing; `monitor run` (Remote Access, no daemon) did
            # not, and made a copy in progress CURRENT (an audit of December 2026)
            raise IngestError(f"{rid} ({lf.relpath}): the file changed while it was read (size {before[0]:,} -> "
                              f"{after[0]:,} bytes): still being copied? The warehouse keeps what it held; run "
                              "again when the copy has finished")
        done.append((result, {
            "rows": result.rows, "columns": result.columns, "provisional": bool(result.provisional),
            "months_covered": result.months_covered, "rows_per_second": result.rows_per_second,
            "seconds": result.seconds,
            # the non-blocking part of the gate (docs/ingest.md, "Column roles"): catalog columns the file lacks
            # (in the warehouse as typed empty columns) and one line per warning
            "missing_columns": list(result.missing_columns), "warnings": result.warning_lines(),
            # columns the catalog does not know, dropped (the warnings hold a line on them)
            "extra_columns": list(result.extra_columns),
            "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }))
        return done[-1][1]

    # an IngestError leaves the warehouse as it was (write_with removes the temporary file)
    warehouse.write_with(entry, part, produce, manifest)
    result, fields = done[-1]
    manifest.update(fields)
    return IngestOutcome(entry, period, part, lf.match, digest, manifest, result=result, notes=notes, copies=copies)


#: a cumulative release with fewer rows than this share of the one it replaces is refused (ingest_release)
SHRINK_LIMIT = 0.9


def _stamp(path: Path) -> tuple[int, int]:
    """Size and modification time (ns) of a landed file: a file still being copied changes them."""
    st = Path(path).stat()
    return st.st_size, st.st_mtime_ns


def release_order(period: int | None, version: int | None) -> tuple[int, int]:
    """How releases of one warehouse partition are ordered: release year (cumulative files), then version."""
    return (period or 0, version or 0)


def ingested_order(manifest: dict, catalog: Catalog | None = None) -> tuple[int, int]:
    """The order of the release a manifest describes (from its source path when the catalog matches it)."""
    m = catalog.match(manifest["source"]) if catalog is not None and manifest.get("source") else None
    if m is not None:
        return release_order(m.period, m.version)
    return release_order(manifest.get("period"), manifest.get("version"))


def is_older(match: Match, manifest: dict, catalog: Catalog | None = None) -> bool:
    """Is the landed release older than the one the warehouse holds (so ingesting it would roll back)?"""
    return release_order(match.period, match.version) < ingested_order(manifest, catalog)


def skip_reason(release_id: str, relpath: str, held: str) -> str:
    """Why an older landed release is not ingested, and how to roll back on purpose (run summary, status)."""
    return (f"{release_id} is older than the ingested {held}: not ingested, the warehouse keeps {held} (no silent "
            f"rollback; {relpath}); to roll back on purpose: monitor run --allow-older {release_id}")


__all__ = ["IngestError", "IngestOutcome", "NoRelease", "find_release", "ingest_release", "is_older",
           "release_order", "skip_reason"]
