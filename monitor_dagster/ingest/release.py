"""Ingest one release of one CBS file into the warehouse (Dagster-free; the asset factory calls this).

The release is the highest landed version of the entry for the period (yearly files), or the newest release
(cumulative files: highest year, then highest version).  A release already in the warehouse with the same
content hash is not written again.  Any failure leaves the warehouse as it was: the file is validated and
written chunk by chunk into a temporary folder, and the new version is only made current after the whole file
has been read, validated and written (``warehouse.Warehouse.write_with``).  The
manifest records the gate's non-blocking findings: ``missing_columns`` and ``warnings`` (one line each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from monitor_dagster.catalog import Catalog, Match
from monitor_dagster.ingest import IngestError, IngestResult, ingest_file
from monitor_dagster.landing import LandedFile, newest_release, scan, sha256
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


def find_release(landed: list[LandedFile], catalog: Catalog, entry: str, period: int | None) -> LandedFile:
    """The file to ingest: highest version for the period (yearly), newest release (cumulative/reference);
    the same file the release sensor hashed for its run key (``landing.newest_release``)."""
    kind = catalog.entry(entry).kind
    lf = newest_release(landed, catalog, entry, period if kind == "yearly" else None)
    if lf is None:
        what = f"{entry} {period}" if kind == "yearly" else entry
        raise NoRelease(f"no landed file for {what} (looked for the catalog patterns of {entry})")
    return lf


def ingest_release(catalog: Catalog, entry: str, period: int | None, landing_root: Path,
                   warehouse: Warehouse, landed: list[LandedFile] | None = None,
                   chunk_rows: int | None = None) -> IngestOutcome:
    """Ingest the release into the warehouse chunk by chunk: each normalised chunk is appended to the new
    version's parquet file as it is validated, so the file is never held whole (``chunk_rows``: default
    ``MONITOR_INGEST_CHUNK_ROWS`` or 1 million, docs/ingest.md "Chunked ingest")."""
    landed = scan(landing_root, catalog) if landed is None else landed
    lf = find_release(landed, catalog, entry, period)
    e = catalog.entry(entry)
    part = partition_for(e.kind, lf.match.period if e.kind == "yearly" else None)
    digest = sha256(landing_root / lf.relpath)
    current = warehouse.manifest(entry, part)
    if current and current.get("sha256") == digest and current.get("release_id") == lf.match.release_id:
        return IngestOutcome(entry, period, part, lf.match, digest, current, unchanged=True,
                             notes=[f"{lf.match.release_id} already in the warehouse (same sha256)"])
    notes = []
    if current and current.get("release_id") and _older(lf.match, current):
        notes.append(f"replacing {current['release_id']} by {lf.match.release_id}")
    manifest = {
        "release_id": lf.match.release_id, "vintage": lf.match.release_id, "source": lf.relpath,
        "version": lf.match.version, "period": lf.match.period, "sha256": digest,
    }
    done: list[tuple[IngestResult, dict]] = []

    def produce(data: Path) -> dict:
        """Ingest straight into the warehouse's temporary file; the manifest fields that need the ingest."""
        result = ingest_file(landing_root / lf.relpath, lf.match, catalog, chunk_rows=chunk_rows, out=data)
        done.append((result, {
            "rows": result.rows, "columns": result.columns, "provisional": bool(result.provisional),
            "months_covered": result.months_covered, "rows_per_second": result.rows_per_second,
            "seconds": result.seconds,
            # the non-blocking part of the gate (docs/ingest.md, "Column roles"): catalog columns the file lacks
            # (in the warehouse as typed empty columns) and one line per warning
            "missing_columns": list(result.missing_columns), "warnings": result.warning_lines(),
            "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }))
        return done[-1][1]

    # an IngestError leaves the warehouse as it was (write_with removes the temporary file)
    warehouse.write_with(entry, part, produce, manifest)
    result, fields = done[-1]
    manifest.update(fields)
    return IngestOutcome(entry, period, part, lf.match, digest, manifest, result=result, notes=notes)


def _older(match: Match, manifest: dict) -> bool:
    return (manifest.get("period") or 0, manifest.get("version") or 0) != (match.period or 0, match.version)


__all__ = ["IngestError", "IngestOutcome", "NoRelease", "find_release", "ingest_release"]
