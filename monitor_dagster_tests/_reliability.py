"""Helpers of the fault-injection suite (``test_reliability_*.py``, docs/reliability.md).

Each case injects one fault and states the exit code, the message and the warehouse before and after: a refused
input must leave the warehouse byte for byte as it was, so the cases compare :func:`tree_hash` of the warehouse
root (every file's path and content; the empty advisory ``.lock`` files are left out, a reader may create them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SKIP_NAMES = frozenset({".lock"})


def tree_files(root: Path | str) -> dict[str, str]:
    """Relative posix path -> sha256 of every file under ``root`` (sorted; ``.lock`` files left out)."""
    root = Path(root)
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name not in SKIP_NAMES:
            h = hashlib.sha256()
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            out[p.relative_to(root).as_posix()] = h.hexdigest()
    return out


def tree_hash(root: Path | str) -> str:
    """One sha256 over the paths and contents of every file under ``root`` (``.lock`` files left out)."""
    h = hashlib.sha256()
    for rel, digest in tree_files(root).items():
        h.update(rel.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
    return h.hexdigest()


def tree_diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What changed between two :func:`tree_files` snapshots, one line per file (for assertion messages)."""
    lines = [f"+ {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"- {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"~ {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines
