"""The table behind ``monitor status``: what landed, what the warehouse holds, what is stale, provisional
or overdue.  Pure Python (reads the landing zone's names/sizes/mtimes and the warehouse's CURRENT files;
hashes nothing unless asked)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from monitor_dagster.catalog import Catalog, Entry
from monitor_dagster.landing import LandedFile, SensorCursor, cursor_key, scan, sha256
from monitor_dagster.warehouse import Warehouse, partition_for

UNKNOWN = "?"


@dataclass(frozen=True)
class StatusRow:
    entry: str                 # catalog entry ("?" for a file matching no entry)
    period: int | None         # yearly: the year; cumulative: the release year; reference: None (or its year)
    landed_versions: str       # e.g. "V1,V2" (final files only; files being copied are in the note)
    ingested: str              # release_id held by the warehouse for this row, or ""
    stale: bool                # the landing zone has a higher (or, when known, different) release than ingested
    provisional: bool          # the ingested release is provisional (manifest)
    overdue: bool              # an expected release date has passed and nothing landed for the period
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


_RELEASE = re.compile(r"^(?P<entry>.*?)(?P<year>\d{4})?V(?P<version>\d+)$")


def _release_of(manifest: dict, entry: str, catalog: Catalog) -> tuple[int | None, int | None]:
    """(period, version) of an ingested release, from its source path or else its release_id."""
    src = manifest.get("source")
    if src:
        m = catalog.match(src)
        if m is not None:
            return m.period, m.version
    rid = str(manifest.get("release_id") or "")
    if rid.startswith(entry):
        mm = _RELEASE.match(rid[len(entry):]) or _RELEASE.match(rid)
        if mm:
            return (int(mm["year"]) if mm["year"] else None), int(mm["version"])
    return None, None


def _pref(f: LandedFile) -> tuple[int, int, str]:
    """The same file the sensor and the ingest read (landing._pref: preferred location, format, path)."""
    from monitor_dagster.landing import _pref as landing_pref

    return landing_pref(f)


#: the months a labelled release covers (catalog ``release`` labels, bijlage D: "t/m maand 6")
_MONTHS = re.compile(r"t/m maand (\d+)")


def _due(releases: list[tuple[dt.date, str | None]]) -> str:
    return ", ".join(f"{label + ' ' if label else ''}due {d.isoformat()}" for d, label in releases)


def status(landing_root: Path, warehouse: Warehouse, catalog: Catalog, today: dt.date,
           cursor: SensorCursor | None = None, *, hash_files: bool = False) -> list[StatusRow]:
    """One row per (entry, period) that is landed, ingested or expected (see docs/operations.md).

    Content changes under the same name are detected only when the file's hash is known: from the sensor
    cursor (same size and mtime) or, with ``hash_files=True``, by hashing the landed file."""
    root = Path(landing_root)
    landed = scan(root, catalog)
    files: dict[tuple[str, int | None], list[LandedFile]] = defaultdict(list)
    temps: dict[tuple[str, int | None], list[LandedFile]] = defaultdict(list)
    unknown: list[LandedFile] = []
    for f in landed:
        if f.match is None:
            unknown.append(f)
        else:
            (temps if f.temporary else files)[(f.match.entry, f.match.period)].append(f)

    def known_sha(f: LandedFile) -> str | None:
        if cursor is not None:
            h = cursor.hashes.get(f.relpath)
            if h is not None and list(h[:2]) == [f.size, f.mtime] and h[2]:
                return h[2]
        return sha256(root / f.relpath) if hash_files else None

    global_first = min((p for (_, p) in files if p is not None), default=None)
    rows: list[StatusRow] = []
    for name in sorted(catalog.files):
        entry: Entry = catalog.files[name]
        kind = entry.kind
        # ingested releases: yearly per year, cumulative/reference one (the latest)
        ingested: dict[int | None, tuple[dict, int | None]] = {}     # period -> (manifest, version)
        if kind == "yearly":
            for part in warehouse.partitions(name):
                if part.isdigit():
                    man = warehouse.manifest(name, part) or {}
                    ingested[int(part)] = (man, _release_of(man, name, catalog)[1])
        else:
            man = warehouse.manifest(name, partition_for(kind, None))
            if man is not None:
                period, version = _release_of(man, name, catalog)
                ingested[period] = (man, version)

        periods: set[int | None] = {p for (e, p) in list(files) + list(temps) if e == name} | set(ingested)
        # expected periods (release calendar): from the first landed/ingested period to today's year
        expected: dict[int, list[tuple[dt.date, str | None]]] = {}
        if entry.release and kind != "reference":
            known_years = [p for p in periods if p is not None]
            first = min(known_years) if known_years else global_first
            if first is not None:
                for p in range(max(first, entry.periods[0]), today.year + 1):
                    if not entry.covers(p):
                        continue
                    rel = sorted(entry.expected_releases(p))
                    if p == today.year and not any(d < today for d, _ in rel):
                        continue          # this year's releases are all still to come
                    expected[p] = rel
                    periods.add(p)

        # cumulative/reference: the newest landed release of the whole entry (ties: preferred format)
        all_finals = sorted((f for (e, _), fs in files.items() if e == name for f in fs), key=_pref)
        top = max(all_finals, key=lambda f: (f.match.period or 0, f.match.version), default=None)
        ing_period = next(iter(ingested)) if kind != "yearly" and ingested else None

        for period in sorted(periods, key=lambda p: (p is not None, p or 0)):
            fs = sorted(files.get((name, period), []), key=_pref)
            landed_versions = ",".join(f"V{v}" for v in sorted({f.match.version for f in fs}))
            notes: list[str] = []
            if temps.get((name, period)):
                notes.append("being copied: " + ", ".join(t.relpath.rsplit("/", 1)[-1] for t in temps[(name, period)]))
            if period is not None and not entry.covers(period):
                notes.append(f"period outside the catalog's {entry.periods[0]}-{entry.periods[1] or ''}: not ingested")
            man, ing_version = ingested.get(period, (None, None))
            ingested_id = ""
            if man is not None:
                ingested_id = str(man.get("release_id") or f"{name}{period or ''}V{ing_version}")
            provisional = bool(man.get("provisional")) if man is not None else False
            stale = False
            # the landed release this row is compared with: yearly the highest version of the year,
            # otherwise the newest release of the entry (on its own row)
            if kind == "yearly":
                cand = max(fs, key=lambda f: f.match.version, default=None)
                if cand is not None and not entry.covers(period):
                    cand = None
            else:
                cand = top if top is not None and top.match.period == period else None
                if fs and cand is None:
                    notes.append(f"superseded by {top.match.release_id}")
            if kind == "yearly":
                ref = (man, ing_version) if man is not None else None
                ref_id = ingested_id
            else:
                ref = ingested.get(ing_period) if ingested else None
                ref_id = (str(ref[0].get("release_id") or "") if ref else "")
            if cand is not None:
                c_order = (cand.match.period or 0, cand.match.version)
                if ref is None:
                    stale = True
                    notes.append(_not_ingested(cursor, name, kind, period, cand.match.version))
                else:
                    r_period = period if kind == "yearly" else ing_period
                    r_order = (r_period or 0, ref[1] or 0)
                    if c_order > r_order:
                        stale = True
                        notes.append(f"{cand.match.release_id} landed, warehouse holds {ref_id}")
                    elif c_order < r_order:      # no silent rollback (ingest/release.py): say why and how
                        notes.append(f"{cand.match.release_id} is older than the ingested {ref_id}: not ingested; "
                                     f"to roll back on purpose: monitor run --allow-older {cand.match.release_id}")
                    elif c_order == r_order and cand.relpath == ref[0].get("source") and ref[0].get("sha256"):
                        sha = known_sha(cand)
                        if sha is not None and sha != ref[0].get("sha256"):
                            stale = True
                            notes.append("landed file changed since it was ingested (corrected file)")
            if man is not None and ing_version is not None and all(f.match.version != ing_version for f in fs):
                notes.append(f"the ingested V{ing_version} is no longer in the landing zone")
            if man is not None and man.get("rolled_back_from"):
                notes.append(f"rolled back from {man['rolled_back_from']} on request (--allow-older)")
            extra = list(man.get("extra_columns") or []) if man is not None else []
            if extra:                    # dropped at ingest (docs/ingest.md, "Unknown columns")
                notes.append(f"unknown column{'s' if len(extra) != 1 else ''} dropped: {', '.join(extra[:5])}"
                             + (f" (+{len(extra) - 5})" if len(extra) > 5 else ""))

            overdue = False
            if period in expected and not fs and not temps.get((name, period)):
                rel = expected[period]
                passed = [(d, lbl) for d, lbl in rel if d < today]
                later_cumulative = (kind == "cumulative" and top is not None
                                    and (top.match.period or 0) > period)
                if later_cumulative:
                    notes.append(f"no release of its own; covered by {top.match.release_id}")
                elif passed:
                    overdue = True
                    notes.append(f"overdue: {_due(passed)}")
                else:
                    notes.append(f"expected: {_due(rel[:1])}")
            elif period in expected and provisional and not stale:
                # a part-year release is in; the release that completes it (bijlage D: SPOLISBUS t/m maand 12 on
                # 15 March t+2) is late when its date has passed.  Until December 2026 a landed part-year
                # release kept the row from ever being overdue, and the schedules wait for that release
                have = man.get("months_covered") or 0
                late = [(d, lbl) for d, lbl in expected[period]
                        if d < today and lbl and (m := _MONTHS.search(lbl)) and int(m.group(1)) > have]
                if late:
                    overdue = True
                    notes.append(f"overdue: {_due(late[-1:])}; the warehouse holds t/m maand {have}")
            rows.append(StatusRow(entry=name, period=period, landed_versions=landed_versions, ingested=ingested_id,
                                  stale=stale, provisional=provisional, overdue=overdue, note="; ".join(notes)))

    for f in unknown:
        rows.append(StatusRow(entry=UNKNOWN, period=None, landed_versions="", ingested="", stale=False,
                              provisional=False, overdue=False,
                              note=f"matches no catalog entry: {f.relpath}" + (" (temporary)" if f.temporary else "")))
    return rows


def _not_ingested(cursor: SensorCursor | None, entry: str, kind: str, period: int | None, version: int) -> str:
    if cursor is not None:
        rec = cursor.processed.get(cursor_key(entry, kind, period))
        if rec is not None and rec.get("version") == version:
            return "not ingested yet (run requested by the sensor)"
    return "landed, not ingested"


COLUMNS = ("entry", "period", "landed", "ingested", "stale", "provisional", "overdue", "note")


def _cells(r: StatusRow) -> list[str]:
    yes = lambda b: "yes" if b else ""   # noqa: E731
    return [r.entry, "" if r.period is None else str(r.period), r.landed_versions, r.ingested, yes(r.stale),
            yes(r.provisional), yes(r.overdue), r.note]


def format_status(rows: list[StatusRow]) -> str:
    """A plain aligned text table (one line per row, header and rule first)."""
    table = [list(COLUMNS)] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def ingest_gaps(warehouse: Warehouse, catalog: Catalog) -> list[str]:
    """One line per current source release that was ingested with *used* columns missing (typed empty columns,
    ingest/roles.py), with what each missing column costs, e.g. ``SPOLISBUS 2019 (SPOLISBUS2019V1): SSRTIV
    missing (benefit and pension rows (21 and up) are no jobs ...; every row counts without it)``.  The run that
    ingested the release printed these as warnings; afterwards they were only in its manifest, so `monitor
    status` says them again for as long as the release is the one the warehouse holds."""
    from monitor_dagster.ingest.roles import role_table

    roles = role_table(catalog)
    out = []
    for entry in sorted(catalog.files):
        for part in warehouse.partitions(entry):
            man = warehouse.manifest(entry, part) or {}
            used = [c for c in man.get("missing_columns") or []
                    if roles.get(entry, {}).get(c) is not None and roles[entry][c].role == "used"]
            if used:
                why = "; ".join(f"{c} missing ({roles[entry][c].why})" for c in used)
                out.append(f"{entry} {part} ({man.get('release_id', '?')}): {why}")
    return out
