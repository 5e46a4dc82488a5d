"""The vendor export of online vacancies (Jobfeed by Textkernel, technisch rapport Monitor gelijke kansen, hfd. 6)
and its blocking gate.

No real Jobfeed export layout was at hand when this was written: EVERY column below is *assumed* (named and
coded after what the report says the monitor needs: market / government with rijk apart, region, sector,
internships, the full text).  One file per month or per year, CSV (UTF-8, ``;``-separated, a header line,
fields with ``;`` or line breaks quoted) or parquet.  Columns the gate does not know are kept and ignored.

``read_vacancies(path)`` reads one file, validates it (pandera, polars backend) and returns the typed frame;
bad input raises :class:`VacancyFileError` whose message names the file, the column, the row and the rule."""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

# --------------------------------------------------------------------------------------------- the columns
WERKGEVER_TYPES = ["direct", "intermediair", "overheid"]                      # assumed
SECTORS = [chr(c) for c in range(ord("A"), ord("U") + 1)]                    # assumed: SBI 2008 sections A-U
OVERHEIDSLAGEN = ["rijk", "provincie", "gemeente", "waterschap", "overig"]   # assumed; empty = market
OPLEIDINGSNIVEAUS = ["laag", "middelbaar", "hoog"]                            # assumed; empty = unknown
CONTRACTS = ["vast", "tijdelijk", "stage", "onbekend"]                        # assumed


def region_codes() -> list[str]:
    """Arbeidsmarktregio codes AM01..AM35 from the project's reference table (reference/README.md)."""
    text = resources.files("monitor_dagster.reference").joinpath("gemeente_arbeidsmarktregio_2020.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter=";")
    return sorted({r["arbeidsmarktregio_code"] for r in rows})


REGIONS = region_codes()

#: column -> polars dtype after reading (every one assumed: no Jobfeed layout at hand)
COLUMNS: dict[str, pl.DataType] = {
    "vacature_id": pl.String(),       # assumed: the vendor's id, unique in a file
    "datum_gevonden": pl.Date(),      # assumed: date first found online (YYYY-MM-DD); the year of the vacancy
    "datum_vervallen": pl.Date(),     # assumed: date taken offline (empty = still online)
    "titel": pl.String(),             # assumed
    "werkgever": pl.String(),         # assumed: employer name (of the client for an intermediary, if known)
    "werkgever_type": pl.String(),    # assumed: direct | intermediair | overheid
    "sector": pl.String(),            # assumed: SBI section letter A-U
    "overheidslaag": pl.String(),     # assumed: rijk | provincie | gemeente | waterschap | overig; empty = market
    "regio": pl.String(),             # assumed: arbeidsmarktregio AM01..AM35 of the work location
    "opleidingsniveau": pl.String(),  # assumed: laag | middelbaar | hoog; empty = not stated
    "contract": pl.String(),          # assumed: vast | tijdelijk | stage | onbekend
    "uren_per_week": pl.Int64(),      # assumed: hours per week, empty = not stated
    "tekst": pl.String(),             # assumed: the full Dutch vacancy text
}
REQUIRED = list(COLUMNS)
#: columns that may be empty
NULLABLE = {"datum_vervallen", "overheidslaag", "opleidingsniveau", "uren_per_week", "werkgever", "titel"}


class VacancyFileError(ValueError):
    """A vendor file the gate refuses; ``failures`` holds one line per failure."""

    def __init__(self, path: Path | str, failures: list[str]):
        self.path, self.failures = str(path), failures
        head = f"{path}: {len(failures)} schema failure{'s' if len(failures) != 1 else ''}"
        super().__init__("\n  ".join([head, *failures]))


def _schema() -> pa.DataFrameSchema:
    codes = {"werkgever_type": WERKGEVER_TYPES, "sector": SECTORS, "overheidslaag": OVERHEIDSLAGEN,
             "regio": REGIONS, "opleidingsniveau": OPLEIDINGSNIVEAUS, "contract": CONTRACTS}
    cols = {}
    for name, dtype in COLUMNS.items():
        checks = [pa.Check.isin(codes[name])] if name in codes else []
        if name == "uren_per_week":
            checks = [pa.Check.in_range(1, 80)]
        cols[name] = pa.Column(dtype, checks=checks, nullable=name in NULLABLE, unique=name == "vacature_id",
                               required=True, coerce=False)
    return pa.DataFrameSchema(cols, strict=False, name="vacancies")


SCHEMA = _schema()


def _rule(check: str) -> str:
    if check.startswith("isin"):
        return "value not in code list " + check[len("isin("):-1]
    return {"field_uniqueness": "duplicate vacature_id", "not_nullable": "empty value not allowed",
            "in_range(1, 80)": "hours per week outside 1..80"}.get(check, check)


def _read_raw(path: Path) -> pl.DataFrame:
    if path.suffix.lower() == ".parquet":
        try:
            return pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a refused file
            raise VacancyFileError(path, [f"cannot read the file: {type(exc).__name__}: {exc}"]) from None
    if path.suffix.lower() != ".csv":
        raise VacancyFileError(path, [f"unknown file type {path.suffix!r}: expected .csv or .parquet"])
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise VacancyFileError(path, [f"line {line}, byte {exc.start}: not valid UTF-8 ({raw[exc.start:exc.start + 1]!r}); "
                                      "the export must be UTF-8 (re-export, or convert e.g. from cp1252)"]) from None
    header = raw.split(b"\n", 1)[0].decode("utf-8")
    if ";" not in header and ("," in header or "\t" in header):
        raise VacancyFileError(path, ["line 1: the header has no ';': the export must be ';'-separated"])
    try:
        return pl.read_csv(io.BytesIO(raw), separator=";", infer_schema=False, quote_char='"')
    except Exception as exc:  # noqa: BLE001
        raise VacancyFileError(path, [f"cannot parse the CSV: {type(exc).__name__}: {exc}"]) from None


def _parse(df: pl.DataFrame, path: Path, failures: list[str]) -> pl.DataFrame:
    """CSV strings -> typed columns; a value that does not parse is a failure naming its row."""
    out = {}
    for name, dtype in COLUMNS.items():
        s = df[name]
        if s.dtype == pl.String:
            if name != "tekst":     # the long text is kept as delivered (stripping it costs a copy of the file)
                s = s.str.strip_chars()
            s = pl.select(pl.when(s.str.len_bytes() == 0).then(None).otherwise(s).alias(name)).to_series()
        if dtype == pl.Date() and s.dtype != pl.Date:
            parsed = s.cast(pl.String).str.to_date("%Y-%m-%d", strict=False)
        elif dtype == pl.Int64() and s.dtype != pl.Int64:
            parsed = s.cast(pl.Int64, strict=False)
        else:
            parsed = s.cast(dtype, strict=False) if s.dtype != dtype else s
        bad = (s.is_not_null() & parsed.is_null()).arg_true()
        if bad.len():
            what = "a date YYYY-MM-DD" if dtype == pl.Date() else "a whole number" if dtype == pl.Int64() else str(dtype)
            ex = ", ".join(f"row {i + 1} {s[i]!r}" for i in bad.head(5).to_list())
            failures.append(f"column {name}: not {what} ({bad.len()} row{'s' if bad.len() > 1 else ''}, e.g. {ex})")
        out[name] = parsed
    extra = [c for c in df.columns if c not in COLUMNS]
    return pl.DataFrame(out).hstack(df.select(extra)) if extra else pl.DataFrame(out)


def validate_frame(df: pl.DataFrame, path: Path | str = "<frame>") -> pl.DataFrame:
    """Validate a typed frame (the pandera schema); raises :class:`VacancyFileError`."""
    failures: list[str] = []
    try:
        SCHEMA.validate(df, lazy=True)
    except SchemaErrors as err:
        fc = err.failure_cases
        for (col, check), grp in fc.group_by(["column", "check"], maintain_order=True):
            rows = grp.filter(pl.col("index").is_not_null())
            if rows.height == 0:
                failures.append(f"column {col}: {_rule(str(check))}")
                continue
            ex = ", ".join(f"row {int(i) + 1} {v!r}" for i, v in rows.select("index", "failure_case").head(5).iter_rows())
            failures.append(f"column {col}: {_rule(str(check))} ({rows.height} row{'s' if rows.height > 1 else ''}, e.g. {ex})")
    if df.height == 0:
        failures.append("the file holds no vacancies")
    if failures:
        raise VacancyFileError(path, failures)
    return df


def _outside_year(df: pl.DataFrame, year: int) -> list[str]:
    """A vacancy counts in the year it was first found online (``datum_gevonden``; docs/vacancies.md): the file
    of year t holds those of t.  A row of another year would be counted nowhere (the indicators of t keep t's)
    or twice (next to the file of its own year), and the 2021 base of V05 would differ from V01 2021."""
    bad = df.with_row_index("_row", 1).filter(pl.col("datum_gevonden").dt.year() != year)
    if bad.height == 0:
        return []
    ex = ", ".join(f"row {r} {d.isoformat()!r}" for r, d in bad.select("_row", "datum_gevonden").head(5).iter_rows())
    return [f"column datum_gevonden: not in {year}, the year of the file ({bad.height} row"
            f"{'s' if bad.height > 1 else ''}, e.g. {ex}): a vacancy counts in the year it was first found; move "
            f"such rows to the file of their year (docs/vacancies.md)"]


def read_vacancies(path: Path | str, year: int | None = None) -> pl.DataFrame:
    """Read and validate one vendor file (CSV or parquet); rows are numbered from 1 (the first data row).
    ``year``: the file's year (JOBFEED<year>): every ``datum_gevonden`` must lie in it."""
    path = Path(path)
    df = _read_raw(path)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise VacancyFileError(path, [f"column {c}: required column missing" for c in missing])
    failures: list[str] = []
    typed = _parse(df, path, failures)
    if failures:
        raise VacancyFileError(path, failures)
    typed = validate_frame(typed, path)
    if year is not None and (outside := _outside_year(typed, year)):
        raise VacancyFileError(path, outside)
    return typed


def read_vacancy_dir(root: Path | str, pattern: str = "**/JOBFEED*.*") -> pl.DataFrame:
    """Every vendor file under ``root`` (sorted by name), validated one by one and concatenated; an id that
    repeats across files of one delivery is refused too."""
    paths = sorted(p for p in Path(root).glob(pattern) if p.suffix.lower() in (".csv", ".parquet"))
    if not paths:
        raise VacancyFileError(root, ["no vendor files (JOBFEED*.csv / .parquet) found"])
    frames = [read_vacancies(p).select(list(COLUMNS)) for p in paths]
    df = pl.concat(frames)
    dup = df["vacature_id"].is_duplicated()
    if dup.any():
        ex = df.filter(dup)["vacature_id"].unique().head(5).to_list()
        raise VacancyFileError(root, [f"column vacature_id: duplicate vacature_id across files (e.g. {ex})"])
    return df
