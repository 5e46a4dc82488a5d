"""Peer benchmark (issue 12): ``monitor run`` + ``export`` against a plain DuckDB SQL script on the same zone.

The peer is an independent implementation, in DuckDB SQL only, of the register indicators O04, O05, O08,
O10 and O11-O18 per herkomst (the 17 groups, niet-westers, westers and totaal; no further breakdown) for every
year of a landing zone (CSV or parquet), read straight from its files (no warehouse, no monitor code: the
file locations are found with the Remote Access naming, the AOW ages and the minimum wage are read from the
project's reference CSVs).  Steps, each in its own process (wall time and peak RSS of that process):

1. ``synth``: a 250,000-person CSV zone (default one year, 2021) with ``monitor_dagster.synth.generate``,
   re-used when it exists (``--fresh`` regenerates); or, with ``--landing``, a zone that exists, CSV or parquet
   (e.g. the national zone of ``benchmarks/pipeline.py``, where the fixed costs below no longer count; DuckDB's
   memory can be held to the monitor's budget with ``--duckdb-memory-gb 12``);
2. ``monitor``: what ``monitor run`` + ``monitor export`` do, in-process (``run_pipeline`` over sources, core
   and indicators on an ephemeral Dagster instance, then ``export_table`` of the gated table to CSV);
3. ``duckdb``: the SQL below, writing its own CSV;
4. ``scan``: DuckDB's streaming scan of the files the SQL reads, every column reduced (``scan_select``): the
   measuring stick of issue 12's compute target (<= 10x one scan of the inputs), here applied to the peer
   itself; on the national zone the SQL took 10-16x (docs/scaling_measurements.md, thirty-second session);
5. the ratio monitor / DuckDB (issue 12 target: <= 1.5), both as whole-process wall times (interpreter start
   and imports included), and, per indicator, the largest absolute difference of ``value`` and ``n`` between
   the two per herkomst, with every other breakdown column of the monitor's table (generatie ... sector, and
   any it gains, such as a quarter) at ``totaal``.

Rules replicated from the monitor (docs/indicators_register.md, core/population.py, core/jobs.py,
core/secm.py): base population = RINPERSOONS R living in NL the whole year (address spells chained with a
31-day gap tolerance), not pupil/student (SECM 26/31) nor pensioner (SECM 25) for more than half the year's
days, 15 to AOW age (15-27 on 1 January, or older and under the AOW age the whole year); SECM month state =
the spell covering most days of the month (later start wins a tie); job-months = SPOLIS rows of the year
summed per (person, IKVID, month), the last row's contract and soortbaan; substantial = >= 12 basic hours a
week of the days worked, hourly wage >= the 40-hour WML of 1 January, contract O/B, not a stagiair.  O04 vast
by the contract with the most substantial basic hours (tie = vast); O05 zzp = SECM 13/14 in more than half
the working (11-15) months; O08 sum basisloon / sum basisuren of substantial months, zzp left out; O10
sum over jobs of min(days, year) / days of the year, rounded half up to 0.1; O11-O14 share with >= 1 month of
SECM 21/22/24/23; O15-O18 mean months among those.  Cumulative files: the latest release, highest version;
yearly files: the highest version of the year.

The one rule the SQL does not replicate is the default reading of technisch rapport §2.2 (persons in the
Netherlands six months or less on the peildatum are left out of every analysis, ``choices.py`` short_stay):
the monitor step runs with ``MONITOR_METHOD=short_stay=breakdown``, which keeps them (without it, 130-210
persons per herkomst cell differ at 250,000 persons).  The comparison reads the uncorrected rows
(``correctie`` = geen) of the monitor's table.

Known differences (why the values need not agree to the last digit):
* the monitor sums per-person values in fixed point (1/10,000), so O08 can differ by up to ~1e-4 euro;
* the monitor's gated table suppresses cells (n < 10, and their secondary partners): those are compared only
  for presence (``suppressed`` in the output), not for value;
* ties between two SECM spells with the same days in a month and the same start, and null contract codes on
  the last SPOLIS row of a job-month, are resolved the way DuckDB's ``arg_max`` does, not necessarily as
  polars' ``max_by``; the synthetic data have neither;
* the herkomst group comes from LANDAKTUEELREF's LANDGROEPMONITOR (LANDTYPE as a fallback), not from the
  shipped reference table the monitor falls back on: the synthetic reference table carries the group.
Any other difference is a bug in one of the two.  Measured 2026-12-01 on 250,000 persons x 2021 (2 cores,
24 GB, shared with other jobs): every shown cell equal (O08 within 5e-10), n equal everywhere; on the national
parquet zone (17.5 M persons x 2021, 2026-12-04, AMD EPYC): every one of the 260 cells equal (O08 within 8e-11).

The monitor computes far more (every breakdown, every family, checks, lineage); the ratio measures what a
user waits for, end to end, against the smallest program that answers the same question.  The monitor step
also says where its seconds go (``breakdown`` in the JSON): interpreter start and imports, setup, the sources
runs, each kind of derived run, the export, and across them the Dagster steps, the writes of Dagster's SQLite
event log and the Great Expectations validation: the fixed costs that do not shrink with the zone.
Results: printed and in $MONITOR_BENCH_OUT/bench_duckdb_peer.json (``bench_duckdb_peer_<zone>.json`` for a
zone given with ``--landing``).  Requires the ``bench`` extra (duckdb).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("MONITOR_BENCH_OUT", "bench_output"))
# the per-year pipeline is measured: the sensitivity table (one population per method alternative, computed once
# per publication; docs/methodology.md) is kept out of the timings
os.environ.setdefault("MONITOR_SENSITIVITY", "0")
REFERENCE = Path(__file__).resolve().parents[1] / "monitor_dagster" / "reference"
INDICATORS = ["O04", "O05", "O08", "O10", "O11", "O12", "O13", "O14", "O15", "O16", "O17", "O18"]
NON_WESTERN = ["Turkije", "Marokko", "Suriname", "Antillen en Aruba", "Afghanistan", "Irak", "Iran", "Somalië",
               "Syrië", "Eritrea", "Afrika overig", "overig niet-westers"]
GROUPS = NON_WESTERN + ["Duitsland", "Polen", "Indonesië", "westers overig", "geen migratieachtergrond"]
OPEN_END = ("88888888", "99999999", "20500101", "99991231")   # the catalog's open-end sentinels


# ------------------------------------------------------------------------------------------ locating files
#: a landed file: CSV (the peer's own zone) or parquet (``monitor synth --format parquet``, e.g. the national zone
#: of benchmarks/pipeline.py)
EXT = r"\.(?:csv|parquet)"
#: file -> (folder under the landing root, regex on the file name with groups year and version)
FILES = {
    "GBAPERSOONTAB": ("Bevolking/GBAPERSOONTAB", r"GBAPERSOON(?:TAB)?(?P<year>\d{4})(?:TAB)?V(?P<version>\d+)" + EXT),
    "GBAADRESOBJECTBUS": ("Bevolking/GBAADRESOBJECTBUS", r"GBAADRESOBJECT(?P<year>\d{4})BUSV(?P<version>\d+)" + EXT),
    "SECMBUS": ("InkomenBestedingen/SECMBUS", r"SECMBUS(?P<year>\d{4})V(?P<version>\d+)" + EXT),
    "LANDAKTUEELREF": ("Utilities/Code_Listings/SSBreferentiebestanden", r"LANDAKTUEELREF(?P<year>)V(?P<version>\d+)" + EXT),
    "SPOLISBUS": ("Spolis/SPOLISBUS", r"SPOLISBUS ?(?P<year>\d{4})V(?P<version>\d+)" + EXT),
}


def locate(landing: Path, file_id: str, year: int | None = None) -> Path:
    """The latest release (highest year, then version) of a file; for a yearly file the highest version of
    ``year``."""
    folder, pattern = FILES[file_id]
    rx = re.compile(pattern, re.IGNORECASE)
    found = []
    for p in (landing / folder).rglob("*"):
        m = rx.fullmatch(p.name)
        if m and (year is None or int(m.group("year")) == year):
            found.append(((int(m.group("year") or 0), int(m.group("version"))), p))
    if not found:
        raise SystemExit(f"no {file_id}{'' if year is None else f' {year}'} CSV or parquet file under {landing / folder}")
    return max(found)[1]


def zone_years(landing: Path) -> list[int]:
    rx = re.compile(FILES["SPOLISBUS"][1], re.IGNORECASE)
    return sorted({int(m.group("year")) for p in (landing / FILES["SPOLISBUS"][0]).rglob("*")
                   if (m := rx.fullmatch(p.name))})


# --------------------------------------------------------------------------------------------- the SQL
def _q(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _csv(p: Path) -> str:
    return f"read_csv({_q(p)}, delim=';', header=true, all_varchar=true, quote='\"')"


def _src(p: Path) -> str:
    """A landed file as a relation: a CSV as text (``num`` parses its decimal commas), a parquet file (a zone
    made with ``monitor synth --format parquet``) with the types it was written with."""
    return f"read_parquet({_q(p)})" if p.suffix.lower() == ".parquet" else _csv(p)


#: ``num(x)``: a CSV's text with a decimal comma, or a parquet file's number or numeric text, as a DOUBLE
NUM_CSV = "TRY_CAST(replace(trim(x), ',', '.') AS DOUBLE)"
NUM_TYPED = "TRY_CAST(x AS DOUBLE)"


def _list(xs) -> str:
    return "(" + ", ".join("'" + x.replace("'", "''") + "'" for x in xs) + ")"


SETUP = """
CREATE OR REPLACE MACRO ymd(x) AS CASE WHEN length(x) = 8 THEN try_strptime(x, '%Y%m%d')::DATE END;
CREATE OR REPLACE MACRO ymd_open(x) AS CASE WHEN x IN {open_end} THEN NULL ELSE ymd(x) END;
CREATE OR REPLACE MACRO num(x) AS {num};
CREATE OR REPLACE TEMP TABLE land AS
  SELECT LAND, CASE WHEN g = 'Nederland' THEN 'geen migratieachtergrond' ELSE g END AS grp FROM (
    SELECT LAND, coalesce(LANDGROEPMONITOR, CASE LANDTYPE WHEN '2' THEN 'overig niet-westers'
                                               WHEN '1' THEN 'westers overig' WHEN '0' THEN 'Nederland' END) AS g
    FROM {land});
CREATE OR REPLACE TEMP TABLE persons AS
  WITH g AS (
    SELECT CAST(RINPERSOON AS BIGINT) AS pid, GBAHERKOMSTGROEPERING AS herk,
           CAST(num(GBAGEBOORTEJAAR) AS INTEGER) AS by_, CAST(num(GBAGEBOORTEMAAND) AS INTEGER) AS bm,
           CAST(num(GBAGEBOORTEDAG) AS INTEGER) AS bd
    FROM {gba} WHERE RINPERSOONS = 'R'),
  b AS (SELECT *, make_date(by_, coalesce(bm, 7), 1) AS first FROM g)
  SELECT pid, CASE WHEN l.grp IN {groups} THEN l.grp END AS hgroup,
         least(first + INTERVAL (CASE WHEN bm IS NULL OR bd IS NULL THEN 1 ELSE bd END - 1) DAY,
               last_day(first))::DATE AS birth
  FROM b LEFT JOIN land l ON l.LAND = b.herk;
CREATE OR REPLACE TEMP TABLE addr AS
  SELECT CAST(RINPERSOON AS BIGINT) AS pid, ymd(GBADATUMAANVANGADRESHOUDING) AS s,
         coalesce(ymd_open(GBADATUMEINDEADRESHOUDING), DATE '9999-12-31') AS e
  FROM {addr} WHERE RINPERSOONS = 'R';
CREATE OR REPLACE TEMP TABLE secm AS
  SELECT CAST(RINPERSOON AS BIGINT) AS pid, ymd(AANVSECM) AS s, coalesce(ymd_open(EINDSECM), DATE '9999-12-31') AS e,
         SECM AS code
  FROM {secm} WHERE RINPERSOONS = 'R';
CREATE OR REPLACE TEMP TABLE aow AS SELECT CAST(year AS INTEGER) AS year,
  CAST(aow_years AS INTEGER) * 12 + CAST(aow_months AS INTEGER) AS months FROM {aow};
CREATE OR REPLACE TEMP TABLE wml AS SELECT CAST(year AS INTEGER) AS year, num(wml_hour_40h) AS hour FROM {wml};
CREATE OR REPLACE TEMP TABLE result (indicator_id VARCHAR, year INTEGER, herkomst VARCHAR, measure VARCHAR,
                                     n BIGINT, value DOUBLE);
"""

YEAR = """
CREATE OR REPLACE TEMP TABLE sp AS
  SELECT CAST(RINPERSOON AS BIGINT) AS pid, CAST(num(IKVID) AS BIGINT) AS ikv, ymd(SDATUMAANVANGIKO) AS s,
         ymd(SDATUMEINDEIKO) AS e, num(SBASISUREN) AS uren, num(SBASISLOON) AS loon, num(SBAANDAGEN) AS dagen,
         CASE WHEN upper(SCONTRACTSOORT) IN ('O', 'B', 'N') THEN upper(SCONTRACTSOORT) END AS contract,
         SSOORTBAAN AS soort
  FROM {spolis} WHERE RINPERSOONS = 'R'
  -- wage relationships only, as core.jobs._is_job: benefits and pensions paid through the payroll (SSRTIV 21+)
  -- are no jobs; an empty or non-numeric code counts as one
  AND coalesce(TRY_CAST(trim(CAST(SSRTIV AS VARCHAR)) AS INTEGER), 0) < 21;
INSERT INTO result
WITH
-- population (core/population.py): whole year in NL, address gaps of <= 31 days bridged
spells AS (SELECT pid, s, e FROM addr WHERE s IS NOT NULL AND e >= s
           AND e >= DATE '{jan1}' - INTERVAL 32 DAY AND s <= DATE '{dec31}' + INTERVAL 32 DAY),
prev AS (SELECT *, max(e) OVER (PARTITION BY pid ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pe
         FROM spells),
chained AS (SELECT pid, s, e, sum(CASE WHEN pe IS NULL OR (s - pe) - 1 > 31 THEN 1 ELSE 0 END)
              OVER (PARTITION BY pid ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS chain FROM prev),
residents AS (SELECT DISTINCT pid FROM (SELECT pid, min(s) AS s, max(e) AS e FROM chained GROUP BY pid, chain)
              WHERE s <= DATE '{jan1}' AND e >= DATE '{dec31}'),
secm_year AS (SELECT pid, code, s, greatest(s, DATE '{jan1}') AS a, least(e, DATE '{dec31}') AS b FROM secm
              WHERE s <= DATE '{dec31}' AND e >= DATE '{jan1}'),
flags AS (SELECT pid,
                 coalesce(sum(b - a + 1) FILTER (WHERE code IN ('26', '31')), 0) * 2 > {ndays} AS student,
                 coalesce(sum(b - a + 1) FILTER (WHERE code = '25'), 0) * 2 > {ndays} AS pensioner
          FROM secm_year GROUP BY pid),
aow_t AS (SELECT months FROM aow WHERE year = (SELECT least(greatest({year}, min(year)), max(year)) FROM aow)),
people AS (
  SELECT r.pid, p.hgroup,
         CASE WHEN p.hgroup IN {nonwestern} THEN 'niet-westers' WHEN p.hgroup = 'geen migratieachtergrond' THEN NULL
              WHEN p.hgroup IS NOT NULL THEN 'westers' END AS hagg,
         {year} - 1 - year(p.birth) + CASE WHEN month(p.birth) = 1 AND day(p.birth) = 1 THEN 1 ELSE 0 END AS age,
         (p.birth + to_months((SELECT months FROM aow_t)))::DATE > DATE '{dec31}' AS under_aow
  FROM residents r LEFT JOIN persons p USING (pid) LEFT JOIN flags f USING (pid)
  WHERE NOT coalesce(f.student, false) AND NOT coalesce(f.pensioner, false)),
base AS (SELECT pid, hgroup, hagg FROM people
         WHERE (age >= 15 AND age < 27) OR (age >= 27 AND under_aow)),
-- SECM month state (core/secm.py): most days of the month, the later start on a tie
secm_exploded AS (SELECT pid, code, s, a, b,
                  unnest(generate_series(date_trunc('month', a), date_trunc('month', b), INTERVAL 1 MONTH))::DATE AS m
                  FROM secm_year WHERE a <= b),
months AS (SELECT pid, m, arg_max_null(code, (least(b, last_day(m)) - greatest(a, m) + 1) * 10000000
                                             + (s - DATE '1970-01-01')) AS code
           FROM secm_exploded GROUP BY pid, m),
pos AS (SELECT pid, count(*) FILTER (WHERE code IN ('11', '12', '13', '14', '15')) AS wm,
               count(*) FILTER (WHERE code IN ('13', '14')) AS sem FROM months GROUP BY pid),
zzp AS (SELECT pid, sem * 2 > wm AS zzp FROM pos WHERE wm > 0),
benefit AS (SELECT pid, code, count(*) AS n_months FROM months WHERE code IN ('21', '22', '23', '24') GROUP BY pid, code),
-- job-months (core/jobs.py) and the substantial ones
jm AS (SELECT pid, ikv, date_trunc('month', s) AS m, sum(uren) AS uren, sum(loon) AS loon,
              sum(coalesce(dagen, (e - s) + 1)) AS days, arg_max_null(contract, s) AS contract,
              arg_max_null(soort, s) AS soort
       FROM sp WHERE s BETWEEN DATE '{jan1}' AND DATE '{dec31}' GROUP BY pid, ikv, m),
sub AS (SELECT * FROM jm WHERE days > 0 AND uren > 0 AND uren * 7.0 / days >= 12 - 1e-9
        AND loon / uren >= (SELECT hour FROM wml WHERE year = {year}) - 1e-9
        AND contract IN ('O', 'B') AND soort IS NOT NULL AND soort <> '2'),
n_jobs AS (SELECT pid, floor(sum(d) / {ndays} * 10 + 0.5 + 1e-9) / 10 AS n
           FROM (SELECT pid, ikv, least(sum(days), {ndays}) AS d FROM sub GROUP BY pid, ikv) GROUP BY pid),
-- person-level values: (indicator, measure, pid, v)
pv AS (
  SELECT 'O04' AS ind, 'vast contract' AS measure, pid,
         CASE WHEN coalesce(sum(uren) FILTER (WHERE contract = 'O'), 0)
                   >= coalesce(sum(uren) FILTER (WHERE contract = 'B'), 0) THEN 1.0 ELSE 0.0 END AS v
  FROM sub GROUP BY pid
  UNION ALL SELECT 'O05', 'zzp', pid, CASE WHEN zzp THEN 1.0 ELSE 0.0 END FROM zzp
  UNION ALL SELECT 'O08', 'uurloon', pid, sum(loon) / sum(uren) FROM sub
            WHERE pid NOT IN (SELECT pid FROM zzp WHERE zzp) GROUP BY pid
  UNION ALL SELECT 'O10', c.cat, pid, CASE WHEN CASE WHEN n <= 1.0 THEN '1' WHEN n <= 2.0 THEN '1-2' ELSE '>2' END = c.cat
                                           THEN 1.0 ELSE 0.0 END
            FROM n_jobs CROSS JOIN (VALUES ('1'), ('1-2'), ('>2')) c(cat)
  UNION ALL SELECT g.ind, g.measure, b.pid, CASE WHEN x.pid IS NULL THEN 0.0 ELSE 1.0 END
            FROM base b CROSS JOIN benefit_groups g LEFT JOIN benefit x ON x.pid = b.pid AND x.code = g.code
            WHERE g.ind IN ('O11', 'O12', 'O13', 'O14')
  UNION ALL SELECT g.ind, g.measure, x.pid, x.n_months FROM benefit x JOIN benefit_groups g USING (code)
            WHERE g.ind IN ('O15', 'O16', 'O17', 'O18')),
joined AS (SELECT pv.ind, pv.measure, pv.v, base.hgroup, base.hagg FROM pv JOIN base USING (pid)),
levels AS (
  SELECT ind, measure, hgroup AS herkomst, v FROM joined WHERE hgroup IS NOT NULL
  UNION ALL SELECT ind, measure, hagg, v FROM joined WHERE hagg IS NOT NULL
  UNION ALL SELECT ind, measure, 'totaal', v FROM joined)
SELECT ind, {year}, herkomst, measure,
       CASE WHEN ind = 'O10' THEN CAST(sum(v) AS BIGINT) ELSE count(*) END AS n,
       avg(v) * CASE WHEN ind IN ('O04', 'O05', 'O10', 'O11', 'O12', 'O13', 'O14') THEN 100 ELSE 1 END AS value
FROM levels GROUP BY ind, herkomst, measure
HAVING CASE WHEN ind = 'O10' THEN sum(v) ELSE count(*) END > 0;
"""

BENEFIT_GROUPS = """
CREATE OR REPLACE TEMP TABLE benefit_groups AS SELECT * FROM (VALUES
  ('21', 'O11', 'WW'), ('22', 'O12', 'bijstand'), ('24', 'O13', 'AO of ZW'), ('23', 'O14', 'overige uitkering'),
  ('21', 'O15', 'WW'), ('22', 'O16', 'bijstand'), ('24', 'O17', 'AO of ZW'), ('23', 'O18', 'overige uitkering'))
  t(code, ind, measure);
"""


def zone_files(landing: Path, years: list[int]) -> tuple[dict, str]:
    """The files the SQL reads (file id, or (SPOLISBUS, year) -> path) and the ``num`` macro for their format;
    a zone that mixes CSV and parquet is refused (one macro parses the numbers of every file)."""
    files: dict = {f: locate(landing, f) for f in ("LANDAKTUEELREF", "GBAPERSOONTAB", "GBAADRESOBJECTBUS", "SECMBUS")}
    files.update({("SPOLISBUS", y): locate(landing, "SPOLISBUS", y) for y in years})
    kinds = {p.suffix.lower() for p in files.values()}
    if len(kinds) > 1:
        raise SystemExit(f"the zone mixes CSV and parquet files ({', '.join(sorted(str(p) for p in files.values()))}): "
                         "give a zone of one format")
    # the reference tables (aow_age.csv, wml.csv) have decimal points, which the typed macro parses as well
    return files, NUM_TYPED if kinds == {".parquet"} else NUM_CSV


def spill_failure(exc: BaseException, spill: Path, memory_gb: float | None) -> str | None:
    """What to say when DuckDB stopped because the disk under its spill folder filled up (None for any other
    error).  On the national zone DuckDB held to 12 GB spilled more than the 17-18 GB the disk had free
    (forty-sixth session) and stopped with a bare "No space left on device" deep in a traceback."""
    text = str(exc)
    if "No space left on device" not in text and "max_temp_directory_size" not in text:
        return None
    probe = next((d for d in (spill, *spill.parents) if d.exists()), Path("."))
    free = shutil.disk_usage(probe).free / 1024 ** 3
    held = f" (held to {memory_gb:g} GB by --duckdb-memory-gb)" if memory_gb else ""
    return (f"duckdb: DuckDB{held} ran out of disk for what did not fit in memory: its spill folder {spill} is on a "
            f"disk with {free:.1f} GB free now. Give --duckdb-temp a folder on a disk with more room"
            f"{', or leave --duckdb-memory-gb out' if memory_gb else ''}. DuckDB said: {text.splitlines()[0][:300]}")


def run_duckdb(landing: Path, out: Path, threads: int | None = None, memory_gb: float | None = None,
               spill: Path | None = None) -> dict:
    """The SQL over the zone, its result written to ``out``; ``memory_gb``: DuckDB's ``memory_limit`` (it spills
    to disk beyond it; by default DuckDB takes up to 80 % of the machine's memory); ``spill``: the folder it
    spills under (default: next to the output, not DuckDB's ``.tmp`` in the working directory), in a folder of its
    own that is removed afterwards (never the given folder itself, which may hold other files); a full disk there
    stops the step with :func:`spill_failure`'s message."""
    import tempfile

    import duckdb

    years = zone_years(landing)
    files, num = zone_files(landing, years)
    parent = out.parent if spill is None else spill
    parent.mkdir(parents=True, exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="duckdb_spill-", dir=parent))
    con = duckdb.connect()
    try:
        return _run_sql(con, files, num, years, out, threads, memory_gb, spill)
    except duckdb.Error as exc:
        why = spill_failure(exc, spill, memory_gb)
        if why is None:
            raise
        raise SystemExit(why) from exc
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _run_sql(con, files: dict, num: str, years: list[int], out: Path, threads: int | None, memory_gb: float | None,
             spill: Path) -> dict:
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_gb:
        con.execute(f"SET memory_limit = '{float(memory_gb)}GB'")
    con.execute(f"SET temp_directory = {_q(spill)}")
    con.execute(SETUP.format(open_end=_list(OPEN_END), groups=_list(GROUPS), num=num,
                             land=_src(files["LANDAKTUEELREF"]), gba=_src(files["GBAPERSOONTAB"]),
                             addr=_src(files["GBAADRESOBJECTBUS"]), secm=_src(files["SECMBUS"]),
                             aow=_csv(REFERENCE / "aow_age.csv"), wml=_csv(REFERENCE / "wml.csv")))
    con.execute(BENEFIT_GROUPS)
    for y in years:
        ndays = 366 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 365
        con.execute(YEAR.format(spolis=_src(files[("SPOLISBUS", y)]), year=y, ndays=ndays,
                                jan1=f"{y}-01-01", dec31=f"{y}-12-31", nonwestern=_list(NON_WESTERN)))
    con.execute(f"COPY (SELECT * FROM result ORDER BY ALL) TO {_q(out)} (HEADER, DELIMITER ',')")
    rows = con.execute("SELECT count(*) FROM result").fetchone()[0]
    return {"years": years, "rows": rows}


def scan_select(src: str, columns: list[tuple[str, str]]) -> str:
    """One streaming scan of a file by DuckDB, every column read and reduced as ``pipeline.py``'s scan does
    with polars (numbers summed, text by its length, dates by their days): issue 12's measuring stick for
    compute ("<= 10x one streaming scan of its inputs"), applied to the peer itself.  ``columns``: (name,
    DuckDB type) as ``DESCRIBE`` gives them."""
    def one(name: str, typ: str) -> str:
        c = '"' + name.replace('"', '""') + '"'
        if typ == "VARCHAR":
            return f"sum(strlen({c}))"
        if typ == "BOOLEAN":
            return f"sum({c}::INTEGER)"
        if typ == "DATE" or typ.startswith("TIMESTAMP"):
            return f"sum(epoch({c}))"
        return f"sum(TRY_CAST({c} AS DOUBLE))"      # integers, decimals, doubles (and anything else numeric)
    return f"SELECT count(*), {', '.join(one(n, t) for n, t in columns)} FROM {src}"


def run_scan(landing: Path) -> dict:
    """DuckDB's streaming scan of the files the peer's SQL reads (:func:`zone_files`), each once: with the
    ``duckdb`` step's time, how far the peer itself is from issue 12's compute target of <= 10x one scan of
    its inputs (the monitor's own ratio is ``pipeline.py``'s scan step)."""
    import duckdb

    files, _ = zone_files(landing, zone_years(landing))
    con = duckdb.connect()
    rows = 0
    for path in files.values():
        src = _src(path)
        columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        rows += con.execute(scan_select(src, columns)).fetchone()[0]
    return {"files": len(files), "rows": rows, "bytes": sum(p.stat().st_size for p in files.values())}


# ------------------------------------------------------------------------------------------------ steps
def step(name: str, base: Path, persons: int, first: int, last: int, seed: int,
         landing: Path | None = None, memory_gb: float | None = None, spill: Path | None = None) -> dict:
    """One timed step in this process; ``landing``: a zone given with ``--landing`` instead of the generated
    one (``base / "landing"``); the warehouse and both outputs stay under ``base``; ``memory_gb``: DuckDB's
    memory limit (:func:`run_duckdb`)."""
    landing = base / "landing" if landing is None else landing
    t = time.perf_counter()
    info: dict = {}
    if name == "synth":
        from monitor_dagster.synth.generate import SynthConfig, generate
        shutil.rmtree(landing, ignore_errors=True)
        res = generate(SynthConfig(landing=landing, persons=persons, first_year=first, last_year=last,
                                   seed=seed, fmt="csv", truth=base / "truth.json"))
        info = {"files": len(res.files), "rows": sum(f.rows for f in res.files)}
    elif name == "monitor":
        import dagster as dg

        from monitor_dagster.export import export_table
        from monitor_dagster.gates import expectations as GX
        from monitor_dagster.runner import run_pipeline
        from monitor_dagster.warehouse import Warehouse
        imports = time.perf_counter() - t
        shutil.rmtree(base / "warehouse", ignore_errors=True)
        # the peer's SQL keeps the persons in NL six months or less (it predates the default reading of
        # technisch rapport §2.2, which leaves them out of every analysis): the monitor runs with the
        # alternative that keeps them, so that the same persons are compared (same work, same time)
        os.environ["MONITOR_METHOD"] = "short_stay=breakdown"
        # the regional breakdowns, as in a real run: the generator's municipality codes under the name of every
        # year the package has no mapping of (benchmarks/pipeline.py; without it the monitor computed no regio
        # or randstad cells here until the twenty-seventh session, so its earlier times are a little low)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from pipeline import stand_in_mappings
        from monitor_dagster.reference.regions import REGIO_DIR_ENV
        years = zone_years(landing)
        stand_in = stand_in_mappings(min(years), max(years), base / "regio_mappings")
        if stand_in is not None:
            os.environ[REGIO_DIR_ENV] = str(stand_in[0])
        marks: list[tuple[str, float]] = []
        with dg.instance_for_test() as inst:     # never the user's DAGSTER_HOME
            clock = _time_calls(inst.event_log_storage, "store_event")
            gx = _time_calls(GX, "validate")
            marks.append(("start", time.perf_counter()))
            s = run_pipeline(landing, base / "warehouse", instance=inst,
                             layers=("sources", "core", "indicators"),
                             progress=lambda label, i, n: marks.append((label, time.perf_counter())))
            marks.append(("done", time.perf_counter()))
            steps = sum(st.end_time - st.start_time for run in inst.get_runs()
                        for st in inst.get_run_step_stats(run.run_id) if st.start_time and st.end_time)
        bad = [(o.entry, o.partition, o.message[:200]) for o in s.outcomes if not o.ok]
        if bad:
            raise SystemExit(f"monitor run failed: {bad[:3]}")
        t_export = time.perf_counter()
        table = Warehouse(base / "warehouse", layer="indicators").read("indicator_table", "all").collect()
        export_table(table.drop("suppression_reason", strict=False), "csv", base / "monitor_indicators.csv")
        info = {"rows": table.height, "breakdown": _breakdown(imports, marks, steps, clock, gx,
                                                              time.perf_counter() - t_export)}
    elif name == "duckdb":
        info = run_duckdb(landing, base / "duckdb_indicators.csv", memory_gb=memory_gb, spill=spill)
    elif name == "scan":
        info = run_scan(landing)
    else:
        raise SystemExit(f"unknown step {name!r}")
    return {"step": name, "seconds": time.perf_counter() - t,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2,
            # the monitor's ingest workers (MONITOR_INGEST_PROCESSES, on a zone of 1 GiB or more): the largest; a
            # child forked from this process counts the pages it shares, so it means something only when larger
            "peak_rss_worker_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2, **info}


def _time_calls(obj, attr: str) -> list[float]:
    """Wrap ``obj.attr`` so that the seconds of every call are appended to the returned list (the Dagster event
    log's writes, the Great Expectations validation): where the monitor's fixed costs go."""
    orig, spent = getattr(obj, attr), []

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return orig(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t)
    setattr(obj, attr, timed)
    return spent


def _breakdown(imports: float, marks: list[tuple[str, float]], steps: float, events: list[float],
               gx: list[float], export: float) -> dict:
    """Where the monitor step's seconds go: imports, the sources runs (until the first derived run), the derived
    runs (core and families per year, input families, the gated table), the export; and across them the
    seconds of the Dagster steps, of the event log's writes (in this process: SQLite, one engine per write)
    and of the Great Expectations validation (its import included)."""
    start, marks = marks[0][1], marks[1:]
    jobs = ("core_spells", "outcome_indicators_yearly", "input_indicators_biennial",
            "indicator_table_and_publication")
    def job_of(label: str) -> str:
        """``outcome_indicators_yearly 2021`` and its step lines (``...: core/job_months 2/3 buckets``,
        ``indicator_table_and_publication: indicators/indicator_table``) -> the job."""
        return label.split(":", 1)[0].split()[0]

    derived = next((i for i, (label, _) in enumerate(marks) if job_of(label) in jobs), len(marks) - 1)
    per_run: dict[str, float] = {}
    for (label, t0), (_, t1) in zip(marks[derived:-1], marks[derived + 1:]):
        job = job_of(label)
        if job in jobs:          # not the runner's own "done"
            per_run[job] = per_run.get(job, 0.0) + (t1 - t0)
    return {"imports_s": imports, "run_pipeline_s": marks[-1][1] - start,
            # catalog, scan of the landing zone, the Dagster definitions and instance, before the first run
            "setup_s": marks[0][1] - start, "sources_s": marks[derived][1] - marks[0][1], "derived_runs_s": per_run,
            "export_s": export, "dagster_steps_s": steps, "event_log_writes": len(events),
            "event_log_s": sum(events), "great_expectations_s": sum(gx)}


def compare(base: Path) -> dict:
    """Per indicator: cells compared, the largest |value| and |n| differences, cells only one side has."""
    import polars as pl

    mon = pl.read_csv(base / "monitor_indicators.csv", infer_schema_length=None)
    # every breakdown column (generatie ... sector, and any the table gains, e.g. kwartaal) at totaal
    not_dims = {"indicator_id", "year", "herkomst", "measure", "value", "unit", "n", "n_weighted", "status",
                "suppressed", "trend_break", "vintages", "suppression_reason", "correctie"}
    dims = [c for c in mon.columns if c not in not_dims]
    # the uncorrected rows (the table also holds the corrected comparisons of issue 17: correctie model/gewogen)
    plain = pl.col("correctie") == "geen" if "correctie" in mon.columns else pl.lit(True)
    mon = mon.filter(pl.col("indicator_id").is_in(INDICATORS) & plain
                     & pl.all_horizontal([pl.col(d) == "totaal" for d in dims]))
    peer = pl.read_csv(base / "duckdb_indicators.csv", infer_schema_length=None)
    keys = ["indicator_id", "year", "herkomst", "measure"]
    j = mon.select(*keys, "value", "n", "suppressed").join(
        peer.rename({"value": "value_peer", "n": "n_peer"}), on=keys, how="full", coalesce=True)
    out = {}
    for ind in INDICATORS:
        x = j.filter(pl.col("indicator_id") == ind)
        shown = x.filter(pl.col("value").is_not_null() & pl.col("value_peer").is_not_null())
        out[ind] = {
            "cells": shown.height,
            "max_abs_diff_value": shown.select((pl.col("value") - pl.col("value_peer")).abs().max()).item(),
            "max_abs_diff_n": shown.select((pl.col("n") - pl.col("n_peer")).abs().max()).item(),
            "suppressed_in_monitor": x.filter(pl.col("suppressed").fill_null(False)).height,
            "only_monitor": x.filter(pl.col("value_peer").is_null() & pl.col("n_peer").is_null()
                                     & ~pl.col("suppressed").fill_null(False)).height,
            "only_duckdb": x.filter(pl.col("suppressed").is_null()).height,
        }
    return out


def scan_line(steps: dict) -> str:
    """The peer against issue 12's compute measure: the DuckDB script's seconds over DuckDB's scan of the same
    files (both in-process, without the interpreter's start), against the target the monitor is held to."""
    ddb, scan = steps["duckdb"]["seconds"], steps["scan"]["seconds"]
    ratio = ddb / scan
    return (f"the DuckDB script {ddb:.1f} s = {ratio:.1f}x one DuckDB scan of the {steps['scan']['files']} files "
            f"it reads ({scan:.1f} s; issue 12 holds the monitor's compute to <= 10x: "
            f"{'within' if ratio <= 10 else 'beyond'} it for the peer's 12 indicators)")


def missing_extra(steps: list[str]) -> str | None:
    """Why the steps cannot run, before any of them does: the ``duckdb`` step needs the ``bench`` extra, and
    without this check the monitor step (40-50 s) ran first and the DuckDB step then failed on its import."""
    import importlib.util

    if {"duckdb", "scan"} & set(steps) and importlib.util.find_spec("duckdb") is None:
        return ("the duckdb and scan steps need the 'bench' extra (DuckDB), which is not installed in this "
                "environment: run `make bench`, or `.venv/bin/pip install -c requirements.lock -e '.[bench]'`")
    return None


def zone_label(landing: Path) -> str:
    """The name a zone given with ``--landing`` goes by in the peer's output: its folder's name (the landing
    root's parent, e.g. ``pipeline_17500000_2021_2021``)."""
    return landing.parent.name


def report_path(landing: Path | None) -> Path:
    """Where the results go: ``bench_duckdb_peer.json`` for the generated zone, a file named after a zone given
    with ``--landing`` otherwise, so that the national peer of ``benchmarks/national.py`` does not overwrite the
    250,000-person one that ``make bench`` runs first."""
    return OUT / ("bench_duckdb_peer.json" if landing is None else f"bench_duckdb_peer_{zone_label(landing)}.json")


def zone_problem(landing: Path | None, steps: list[str]) -> str | None:
    """Why a zone given with ``--landing`` cannot be used, before any step runs (None when it can)."""
    if landing is None:
        return None
    if "synth" in steps:
        return "--landing names an existing zone: the synth step would overwrite it; leave synth out"
    if not landing.is_dir():
        return f"--landing {landing}: no such folder"
    if not zone_years(landing):
        return (f"--landing {landing}: no SPOLISBUS file (CSV or parquet) under {landing / FILES['SPOLISBUS'][0]}: "
                "give the landing root of a zone made by `monitor synth` or benchmarks/pipeline.py")
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=250_000)
    ap.add_argument("--years", default="2021", help="years of the zone, e.g. 2021 or 2020-2021")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="regenerate the zone even if it exists")
    ap.add_argument("--steps", default="monitor,duckdb,scan",
                    help="timed steps (the zone is made first if missing): monitor, duckdb, scan (DuckDB's scan of "
                         "the files the SQL reads, the measuring stick of issue 12's compute target)")
    ap.add_argument("--landing", type=Path,
                    help="an existing landing zone, CSV or parquet (e.g. the national zone of benchmarks/pipeline.py: "
                         "bench_output/pipeline_17500000_2021_2021/landing), instead of generating a CSV zone; "
                         "--persons, --years and --seed are then not used")
    ap.add_argument("--duckdb-memory-gb", type=float,
                    help="DuckDB's memory_limit (default: DuckDB's own, 80%% of the machine's memory), e.g. 12 for "
                         "the memory budget issue 12 sets the monitor at national scale")
    ap.add_argument("--duckdb-temp", type=Path,
                    help="the folder DuckDB spills under, in a folder of its own removed afterwards (default: next "
                         "to its output, under bench_output/); held to 12 GB on the national zone it needs more than "
                         "17 GB there")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    a = ap.parse_args()
    first, last = (int(x) for x in a.years.split("-")) if "-" in a.years else (int(a.years),) * 2
    landing = a.landing.resolve() if a.landing else None
    problem = zone_problem(landing, a.steps.split(","))
    if problem and not a.step:
        raise SystemExit(problem)
    # a given zone: the warehouse and the outputs under a folder named after it, never inside it
    base = OUT / (f"duckdb_peer_{a.persons}_{first}_{last}" if landing is None else f"duckdb_peer_{zone_label(landing)}")
    if a.step:
        print(json.dumps(step(a.step, base, a.persons, first, last, a.seed, landing, a.duckdb_memory_gb,
                              a.duckdb_temp)))
        return
    missing = missing_extra(a.steps.split(","))
    if missing:
        raise SystemExit(missing)
    base.mkdir(parents=True, exist_ok=True)

    def child(name: str) -> dict:
        t = time.perf_counter()
        p = subprocess.run([sys.executable, __file__, "--persons", str(a.persons), "--years", a.years,
                            "--seed", str(a.seed), "--step", name, *(["--landing", str(landing)] if landing else []),
                            *(["--duckdb-memory-gb", str(a.duckdb_memory_gb)] if a.duckdb_memory_gb else []),
                            *(["--duckdb-temp", str(a.duckdb_temp.resolve())] if a.duckdb_temp else [])],
                           capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"{name}: FAILED\n{p.stderr[-3000:]}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["process_wall_s"] = wall          # including interpreter start and imports
        return r

    years = [first, last] if landing is None else zone_years(landing)     # a given zone: the years it holds
    zone = (f"{a.persons:,} persons x {first}-{last}, CSV zone {base / 'landing'}" if landing is None
            else f"the zone {landing} ({', '.join(map(str, years))})")
    print(f"DuckDB peer benchmark: {zone}; machine {platform.machine()}, {os.cpu_count()} cores", flush=True)
    results = {}
    stale = None
    if landing is None and not a.fresh and (base / "truth.json").exists():
        from monitor_dagster.synth.truth import stale_zone
        stale = stale_zone(base / "truth.json")      # a zone of older generator code is written anew
    if landing is None and (a.fresh or stale or not (base / "truth.json").exists()):
        if stale:
            print(f"  {stale}: generated anew", flush=True)
        results["synth"] = child("synth")
        print(f"  zone generated in {results['synth']['seconds']:.0f} s", flush=True)
    for name in a.steps.split(","):
        r = results[name] = child(name)
        workers = (f", largest worker process {r['peak_rss_worker_gb']:.2f} GB"
                   if r.get("peak_rss_worker_gb", 0) > r["peak_rss_gb"] else "")
        print(f"  {name:<8} {r['process_wall_s']:7.1f} s wall (in-process {r['seconds']:.1f} s), "
              f"peak {r['peak_rss_gb']:.2f} GB{workers}", flush=True)
        if "breakdown" in r:
            b = r["breakdown"]
            runs = ", ".join(f"{k} {v:.1f}" for k, v in b["derived_runs_s"].items())
            print(f"           interpreter start {r['process_wall_s'] - r['seconds']:.1f} s, imports "
                  f"{b['imports_s']:.1f} s, setup {b['setup_s']:.1f} s, sources {b['sources_s']:.1f} s, {runs}, "
                  f"export {b['export_s']:.1f} s\n"
                  f"           across them: Dagster steps {b['dagster_steps_s']:.1f} s, event log "
                  f"{b['event_log_s']:.1f} s ({b['event_log_writes']} writes), Great Expectations "
                  f"{b['great_expectations_s']:.1f} s", flush=True)
    report = {"persons": a.persons if landing is None else None, "landing": str(landing or base / "landing"),
              "years": years, "cores": os.cpu_count(),
              "duckdb_memory_gb": a.duckdb_memory_gb,
              "steps": results}
    if "monitor" in results and "duckdb" in results:
        ratio = results["monitor"]["process_wall_s"] / results["duckdb"]["process_wall_s"]
        report["ratio_monitor_to_duckdb"] = ratio
        print(f"  ratio monitor / DuckDB: {ratio:.1f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
        cmp = report["comparison"] = compare(base)
        print("  agreement at the totaal breakdown, per herkomst (cells shown by both):")
        print(f"    {'ind':<4} {'cells':>5} {'max|dvalue|':>12} {'max|dn|':>8} {'suppr.':>6} {'only mon':>8} {'only ddb':>8}")
        for ind, c in cmp.items():
            dv = "-" if c["max_abs_diff_value"] is None else f"{c['max_abs_diff_value']:.2e}"
            dn = "-" if c["max_abs_diff_n"] is None else str(c["max_abs_diff_n"])
            print(f"    {ind:<4} {c['cells']:>5} {dv:>12} {dn:>8} {c['suppressed_in_monitor']:>6} "
                  f"{c['only_monitor']:>8} {c['only_duckdb']:>8}")
    if "duckdb" in results and "scan" in results:
        report["ratio_duckdb_to_scan"] = results["duckdb"]["seconds"] / results["scan"]["seconds"]
        print("  " + scan_line(results))
    OUT.mkdir(parents=True, exist_ok=True)
    report_path(landing).write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
