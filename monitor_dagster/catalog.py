"""The data catalog (``data_catalog.yaml``): the only place that knows CBS file names, columns and codes.

Loaded and validated once (pydantic); a typo in the YAML is a :class:`CatalogError` that names the entry and
the field.  Pure Python, no Dagster: the asset factory, the sensor, ``monitor status`` and the ingest all read
the catalog through this module.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor_dagster import yamlio

# the project's catalog next to the package; MONITOR_CATALOG points elsewhere (an installed image, a test copy)
PROJECT_CATALOG = Path(__file__).resolve().parents[1] / "data_catalog.yaml"
DEFAULT_CATALOG = PROJECT_CATALOG   # kept for readers of the project's file (tests)


def default_catalog() -> Path:
    """MONITOR_CATALOG when set (read when called, not at import), else the project's data_catalog.yaml."""
    return Path(os.environ.get("MONITOR_CATALOG") or PROJECT_CATALOG)
ColumnType = Literal["key", "code", "date", "flag", "int", "float", "str"]
Kind = Literal["yearly", "cumulative", "reference"]


class CatalogError(ValueError):
    """The catalog YAML is invalid; the message names the entry and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    type: ColumnType
    codes: tuple[str, ...] | None = None
    case: Literal["upper"] | None = None
    missing: tuple[str | int | float, ...] = ()
    open_end: bool = False
    from_: int | None = Field(default=None, alias="from")
    until: int | None = None
    assumed: bool = False
    #: the range of a number (int/float) column, bounds included: a value outside it fails the column's rule
    #: (a birth month 13 reached the core and failed there with a polars trace naming no file)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _codes_for_code(self) -> "Column":
        if self.type == "code" and not self.codes:
            raise ValueError("a column of type code needs a codes list")
        if self.type != "code" and self.codes:
            raise ValueError(f"codes given for a column of type {self.type}")
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            raise ValueError(f"min/max given for a column of type {self.type} (only int and float have a range)")
        return self

    def exists_in(self, period: int | None) -> bool:
        if period is None:
            return True
        return (self.from_ is None or period >= self.from_) and (self.until is None or period <= self.until)


#: in a raw column name of ``rename``/``renames``: the file's period (columns named with the year, e.g. gem2020)
YEAR_PLACEHOLDER = "{year}"


class Rename(_Strict):
    from_: int | None = Field(default=None, alias="from")
    until: int | None = None
    map: dict[str, str]


class Release(_Strict):
    report_period: int
    date: dt.date
    label: str | None = None


class Provisional(_Strict):
    column: str
    full_month: int = 12


RowRuleName = Literal["ordered", "same_month", "not_negative", "in_year"]


class RowRule(_Strict):
    """A rule across the columns of one row (ingest/row_rules.py), which a column's type cannot say:
    ``ordered`` (the second date not before the first), ``same_month`` (both dates in one calendar month),
    ``not_negative`` and ``in_year`` (each column on its own; the year of the file's name).  ``severity``:
    ``block`` refuses the file like a failed column rule; ``warning`` keeps the values as delivered and reports
    the count.  ``why``: shown with a failure."""
    rule: RowRuleName
    columns: tuple[str, ...]
    severity: Literal["block", "warning"] = "block"
    why: str = ""

    @model_validator(mode="after")
    def _arity(self) -> "RowRule":
        if self.rule in ("ordered", "same_month") and len(self.columns) != 2:
            raise ValueError(f"row rule {self.rule} takes two columns (start, end), not {list(self.columns)}")
        if not self.columns:
            raise ValueError(f"row rule {self.rule} needs at least one column")
        return self


#: separators a CBS CSV copy may use (``;`` is Remote Access's; the others are what a re-export produces)
CSV_SEPARATORS = (";", ",", "\t", "|")


class CsvFormat(_Strict):
    """How CBS's converted CSV copies of an entry are written (``csv:`` of an entry; .sav/.parquet carry their own).

    ``encoding``: any ASCII-compatible codec Python knows, stored under its canonical name (``utf-8`` default;
    ``cp1252``/``latin-1`` for Windows exports, which polars cannot read itself: the ingest transcodes them).
    ``separator``: ``;`` (with decimal comma, Remote Access) or ``,``/tab/``|`` (decimal point)."""
    encoding: str = "utf-8"
    separator: Literal[";", ",", "\t", "|"] = ";"

    @field_validator("encoding")
    @classmethod
    def _codec(cls, v: str) -> str:
        try:
            name = codecs.lookup(v).name
        except LookupError:
            raise ValueError(f"unknown encoding {v!r} (e.g. utf-8, cp1252, latin-1)") from None
        # a UTF-8 byte-order mark is accepted under utf-8 (readers.scan_csv drops it from the header)
        name = {"iso8859-1": "latin-1", "utf-8-sig": "utf-8"}.get(name, name)
        # the ingest finds lines, separators and quotes as single ASCII bytes (readers.py)
        probe = "RINPERSOONS;\"0-9,.|\t\r\n"
        try:
            ascii_ok = probe.encode(name) == probe.encode("ascii")
        except (UnicodeError, LookupError):
            ascii_ok = False
        if not ascii_ok:
            raise ValueError(f"encoding {v!r} is not ASCII-compatible (use utf-8, cp1252, latin-1, ...)")
        return name


class Entry(_Strict):
    name: str
    thema: str
    folder: str
    kind: Kind
    periods: tuple[int, int | None]
    predecessor: str | None = None
    successor: str | None = None
    patterns: tuple[str, ...]
    rename: dict[str, str] = {}
    renames: tuple[Rename, ...] = ()
    unique: tuple[str, ...] | None = None
    columns: dict[str, Column]
    provisional: Provisional | None = None
    #: rules across the columns of a row (ingest/row_rules.py): a SPOLIS row's period ends on or after its
    #: start, within one calendar month
    row_rules: tuple[RowRule, ...] = ()
    release: tuple[Release, ...] = ()
    trend_breaks: tuple[str, ...] = ()
    csv: CsvFormat = CsvFormat()
    #: an input survey's response export (docs/surveys.md): the instrument whose XLSForm of the file's year
    #: (the wave) is the schema, so ``columns`` stays empty; the ingest reads it with surveys.schema
    form: str | None = None
    #: figures another body published (NEA, WEA tables; surveys/published.py): the published-figures CSV format
    #: is the schema, so ``columns`` stays empty; shown apart from the monitor's own figures, never as its own
    published: bool = False
    #: a content gate of its own that runs on the file before the catalog's column gate, for rules the column
    #: types cannot say: ``vacancies`` = the Jobfeed export's gate (vacancies/schema.py: ISO dates, code lists,
    #: hours 1..80)
    content_gate: Literal["vacancies"] | None = None

    @field_validator("patterns")
    @classmethod
    def _compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            try:
                rx = re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regex: {exc}") from None
            missing = {"version", "ext"} - set(rx.groupindex)
            if missing:
                raise ValueError(f"pattern {p!r} lacks the named group(s) {sorted(missing)}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Entry":
        if self.form is not None:
            if self.kind != "yearly":
                raise ValueError(f"a survey export (form {self.form!r}) is one file per wave: kind must be yearly")
            if self.columns or self.unique:
                raise ValueError(f"a survey export takes its columns and key from the form {self.form!r}: "
                                 "leave columns and unique out")
        if self.published:
            if self.form is not None or self.columns or self.unique:
                raise ValueError("a published-figures file takes its columns from surveys/published.py: leave form, "
                                 "columns and unique out")
        for col in self.unique or ():
            if col not in self.columns:
                raise ValueError(f"unique column {col!r} is not among the columns")
        for r in self.row_rules:
            for col in r.columns:
                if col not in self.columns:
                    raise ValueError(f"row rule {r.rule}: column {col!r} is not among the columns")
        if self.provisional and self.provisional.column not in self.columns:
            raise ValueError(f"provisional column {self.provisional.column!r} is not among the columns")
        if self.kind == "yearly":
            for p in self.patterns:
                if "year" not in re.compile(p).groupindex:
                    raise ValueError(f"yearly file pattern {p!r} lacks the named group 'year'")
        return self

    @cached_property
    def regexes(self) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in self.patterns)

    def renames_for(self, period: int | None) -> dict[str, str]:
        """Raw column name -> canonical name for a period (predecessor names to successor names).

        A raw name may carry the period: ``{year}`` is replaced by it (``gem{year}`` -> ``gem2020`` in
        VSLGWB2020TAB, whose columns are named with the year); without a period such names are left out."""
        out = dict(self.rename)
        for r in self.renames:
            if period is None or ((r.from_ is None or period >= r.from_) and (r.until is None or period <= r.until)):
                out.update(r.map)
        return {(k.replace(YEAR_PLACEHOLDER, str(period)) if YEAR_PLACEHOLDER in k else k): v
                for k, v in out.items() if period is not None or YEAR_PLACEHOLDER not in k}

    def columns_for(self, period: int | None) -> dict[str, Column]:
        return {name: c for name, c in self.columns.items() if c.exists_in(period)}

    def covers(self, period: int) -> bool:
        first, last = self.periods
        return period >= first and (last is None or period <= last)

    def expected_releases(self, period: int) -> list[tuple[dt.date, str | None]]:
        """Release dates expected for ``period`` (bijlage D shifted by whole years); empty = no calendar."""
        out = []
        for r in self.release:
            shift = period - r.report_period
            try:
                d = r.date.replace(year=r.date.year + shift)
            except ValueError:   # 29 February
                d = r.date.replace(year=r.date.year + shift, day=28)
            out.append((d, r.label))
        return out


class TrendBreak(_Strict):
    year: int
    source: str
    description: str


class Sentinels(_Strict):
    open_end: tuple[str, ...]
    temporary_suffixes: tuple[str, ...]


class Catalog(_Strict):
    version: int
    sentinels: Sentinels
    trend_breaks: dict[str, TrendBreak]
    files: dict[str, Entry]

    @model_validator(mode="after")
    def _links(self) -> "Catalog":
        for name, e in self.files.items():
            for link in (e.predecessor, e.successor):
                if link is not None and link not in self.files:
                    raise ValueError(f"files.{name}: predecessor/successor {link!r} is not a catalog entry")
            for tb in e.trend_breaks:
                if tb not in self.trend_breaks:
                    raise ValueError(f"files.{name}: trend break {tb!r} is not in trend_breaks")
        return self

    def entry(self, name: str) -> Entry:
        try:
            return self.files[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a catalog entry (known: {', '.join(sorted(self.files))})") from None

    def match(self, relpath: str | PurePosixPath) -> "Match | None":
        """Which catalog entry a landing-zone path belongs to, with period and version; None if none."""
        rel = str(PurePosixPath(relpath))
        for e in self.files.values():
            for i, rx in enumerate(e.regexes):
                m = rx.fullmatch(rel)
                if m:
                    g = m.groupdict()
                    period = int(g["year"]) if g.get("year") else None
                    # an optional version group that did not match (a survey's frame file has no version): V1
                    version = int(g["version"]) if g.get("version") else 1
                    return Match(entry=e.name, period=period, version=version, ext=g["ext"].lower(),
                                 relpath=rel, pattern=i)
        return None


@dataclass(frozen=True)
class Match:
    entry: str
    period: int | None       # None for a name without a year (reference files: LANDAKTUEELREFV<n>)
    version: int
    ext: str
    relpath: str
    # index of the entry's pattern that matched: patterns are listed in order of preference, so when one release
    # lands under two names (a reference file on the code-listings share and under Referentie/) the lower wins
    pattern: int = 0

    @property
    def release_id(self) -> str:
        """The vintage id carried by every output row, e.g. ``SPOLISBUS2021V3``."""
        return f"{self.entry}{self.period if self.period is not None else ''}V{self.version}"


def _format_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        lines.append(f"{loc}: {err['msg']}")
    return "; ".join(lines)


@lru_cache(maxsize=8)
def _parsed(path: str, mtime_ns: int, size: int) -> dict:
    """The YAML of a catalog file, parsed once per version of the file (path, mtime and size): every source
    asset and the runner read the catalog, and parsing it was 14 of the 62 s of a 1 M-person sources layer.
    Callers get new dicts on top (load_catalog) and pydantic does not mutate its input, so sharing is safe."""
    return yamlio.safe_load(Path(path).read_text(encoding="utf-8"))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate the catalog; errors name the entry (``files.SECMBUS.kind: ...``).  A new Catalog
    each call (validated afresh), the file parsed once per version (:func:`_parsed`)."""
    path = Path(path) if path is not None else default_catalog()
    try:
        st = path.stat()
        raw = _parsed(str(path.resolve()), st.st_mtime_ns, st.st_size)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc}") from None
    if not isinstance(raw, dict) or "files" not in raw:
        raise CatalogError(f"{path}: the catalog needs a top-level 'files' mapping")
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}   # YAML anchors live under _codes
    files = raw.get("files") or {}
    raw["files"] = {name: {"name": name, **(spec or {})} for name, spec in files.items()}
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_format_error(exc)}") from None
