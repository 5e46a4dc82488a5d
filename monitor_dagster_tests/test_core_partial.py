"""Core layer on an incomplete landing zone (docs/methodology.md, "An incomplete landing zone").

The zone of the issue holds only GBAPERSOONTAB, GBAADRESOBJECTBUS, SECMBUS and SPOLISBUS, each with a minimal
set of columns.  The ingest delivers a non-key column a file lacks as a column of typed nulls (same dtype as
a normal ingest) and a file that is absent as ``None``.  Here a small synthetic zone is generated and ingested
in full, and the partial zone is made from it by replacing the dropped columns by typed nulls (or, as a
second form, leaving them out altogether); the core functions must then give the same population, herkomst,
generatie, geslacht, job-months and SECM months as on the full zone, and null - not a default category - for
the breakdowns whose source is missing (verblijfsduur, opleidingsniveau, asielmotief).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from monitor_dagster.core.characteristics import herkomst, verblijfsduur
from monitor_dagster.core import jobs as J
from monitor_dagster.core.jobs import job_months, job_spells
from monitor_dagster.core.population import population
from monitor_dagster.core.secm import secm_months

D = dt.date
YEAR = 2019
FILES = ("GBAADRESOBJECTBUS", "GBAPERSOONTAB", "GBAMIGRATIEBUS", "SECMBUS", "MIGMOTIEFBUS", "LANDAKTUEELREF",
         "HOOGSTEOPLTAB", "ONDERWIJSINSCHRTAB", "SPOLISBUS")
KEY = ["RINPERSOONS", "person_id"]
#: the columns the partial zone of the issue keeps (SSOORTBAAN is the kind of job, data_catalog.yaml)
MINIMAL = {
    "GBAPERSOONTAB": KEY + ["GBAGEBOORTEJAAR", "GBAGEBOORTEMAAND", "GBAGESLACHT", "GBAGENERATIE",
                            "GBAHERKOMSTGROEPERING"],
    "GBAADRESOBJECTBUS": KEY + ["GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING"],
    "SECMBUS": KEY + ["AANVSECM", "EINDSECM", "SECM"],
    "SPOLISBUS": KEY + ["IKVID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SBASISLOON", "SBASISUREN", "SCONTRACTSOORT",
                        "SSOORTBAAN"],
}
RINPERSOONS = pl.Enum(["R", "S", "A", "O"])


def cut(lf: pl.LazyFrame, entry: str, form: str) -> pl.LazyFrame:
    """The file as an incomplete zone delivers it: columns outside MINIMAL as typed nulls ("nulls", what the
    ingest does) or not there at all ("absent")."""
    schema = lf.collect_schema()
    keep = MINIMAL[entry]
    if form == "absent":
        return lf.select(keep)
    return lf.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in keep)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """1,500 synthetic persons 2018-2019, the files of the population and the spells, ingested (a few seconds)."""
    from monitor_dagster.runner import run_pipeline
    from monitor_dagster.synth.generate import SynthConfig, generate
    from monitor_dagster.warehouse import Warehouse

    tmp = tmp_path_factory.mktemp("core_partial")
    res = generate(SynthConfig(landing=tmp / "landing", persons=1500, first_year=2018, last_year=2019, seed=5,
                               fmt="parquet", only_files=FILES))
    with dg.instance_for_test() as inst:
        summary = run_pipeline(res.config.landing, tmp / "wh", instance=inst, select=list(FILES), years=(2018, 2019))
    assert summary.ok, [o.message for o in summary.outcomes if not o.ok]
    return Warehouse(tmp / "wh")


def _full_population(w) -> pl.DataFrame:
    return population(
        YEAR, w.read("GBAADRESOBJECTBUS", "latest"), w.read("SECMBUS", "latest"), w.read("GBAPERSOONTAB", "latest"),
        w.read("GBAMIGRATIEBUS", "latest"), w.read("HOOGSTEOPLTAB", str(YEAR)), w.read("MIGMOTIEFBUS", "latest"),
        w.read("LANDAKTUEELREF", "all"), w.read("ONDERWIJSINSCHRTAB", str(YEAR)),
    ).collect()


# ----------------------------------------------------------------------------------------- population
@pytest.mark.parametrize("form", ["nulls", "absent"])
def test_population_on_partial_zone(wh, form):
    """Report 2.1/2.2 on the partial zone: the whole-year population rests on GBAADRESOBJECTBUS only, so it is
    the full zone's person by person; herkomst and generatie are the published GBAHERKOMSTGROEPERING /
    GBAGENERATIE (mapped through the shipped country table without LANDAKTUEELREF) and equal the full zone's;
    geslacht is GBAGESLACHT; verblijfsduur (no GBAMIGRATIEBUS), opleidingsniveau (no HOOGSTEOPLTAB) and
    asielmotief (no MIGMOTIEFBUS) are null for everybody, not a default category; the herkomst check has no
    birth countries and is null, never False."""
    w = wh
    full = _full_population(w)
    part = population(
        YEAR, cut(w.read("GBAADRESOBJECTBUS", "latest"), "GBAADRESOBJECTBUS", form),
        cut(w.read("SECMBUS", "latest"), "SECMBUS", form),
        cut(w.read("GBAPERSOONTAB", "latest"), "GBAPERSOONTAB", form),
        None, None, None, None, None,   # migration, hoogsteopl, migmotief, countries, enrolment: absent
    ).collect()

    assert part.columns == full.columns
    assert part.height == full.height > 1000
    assert part["person_id"].is_unique().all()
    both = full.join(part, on="person_id", how="full", suffix="_p", coalesce=True)
    assert both.height == full.height                                   # the same persons
    for col in ("herkomst_group", "herkomst_aggregate", "generatie", "geslacht", "student", "pensioner",
                "secm_source"):
        same = both[col].cast(pl.String).eq_missing(both[f"{col}_p"].cast(pl.String))
        assert same.all(), (col, both.filter(~same).select("person_id", col, f"{col}_p").head())
    # the comparison is not between two columns of nulls
    assert full["herkomst_group"].null_count() == 0 and full["geslacht"].null_count() == 0
    assert {"eerste", "tweede"} <= set(full["generatie"].drop_nulls())
    # not computable without their file: null for everybody (full zone: all filled)
    for col in ("verblijfsduur", "verblijfsduur_excluded", "years_in_nl", "opleidingsniveau", "asielmotief",
                "herkomst_check_ok"):
        assert part[col].null_count() == part.height, col
    assert full["opleidingsniveau"].null_count() == 0
    assert full.filter(pl.col("generatie").is_not_null())["verblijfsduur"].null_count() < full.height // 20
    assert full["herkomst_check_ok"].all()
    # GBAGEBOORTEDAG missing: born on the 1st, so the age on 1 January is the same or one more (born 1 January)
    diff = both["age_jan1_p"] - both["age_jan1"]
    assert diff.is_in([0, 1]).all() and (diff == 0).mean() > 0.9
    assert part["leeftijd"].null_count() < part.height


def test_no_migration_file_is_not_oudkomer():
    """Report 2.2: a first-generation person without GBAMIGRATIEBUS rows is oudkomer (settled before the file)
    - but only when the file is there.  Without the file (None), or with a file whose MIGRATIESOORT is all
    null (a column it lacked), verblijfsduur is not computable: null for the first and second generation."""
    people = pl.LazyFrame(
        {"RINPERSOONS": ["R"] * 3, "person_id": [1, 2, 3], "GBAGENERATIE": ["1", "2", "0"]},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "GBAGENERATIE": pl.Enum(["0", "1", "2"])})
    other = pl.LazyFrame(   # a migration file with a row of someone else only
        {"RINPERSOONS": ["R"], "person_id": [9], "AANVANGMIGRATIEDATUM": [D(2016, 3, 1)],
         "EINDEMIGRATIEDATUM": [None], "MIGRATIESOORT": ["I"]},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "AANVANGMIGRATIEDATUM": pl.Date,
                "EINDEMIGRATIEDATUM": pl.Date, "MIGRATIESOORT": pl.Enum(["I", "E", "A"])})
    with_file = {r["person_id"]: r for r in verblijfsduur(other, people, YEAR).collect().iter_rows(named=True)}
    assert with_file[1]["verblijfsduur"] == "oudkomer" and with_file[2]["verblijfsduur"] == "oudkomer"
    no_kind = other.with_columns(pl.lit(None, pl.Enum(["I", "E", "A"])).alias("MIGRATIESOORT"))
    for mig in (None, no_kind):
        got = {r["person_id"]: r for r in verblijfsduur(mig, people, YEAR).collect().iter_rows(named=True)}
        assert set(got) == {1, 2, 3}
        assert all(r["verblijfsduur"] is None and r["verblijfsduur_excluded"] is None and r["years_in_nl"] is None
                   for r in got.values())

    # the same through population(): one first-generation resident, no optional file at all
    addresses = pl.LazyFrame(
        {"RINPERSOONS": ["R"], "person_id": [1], "GBADATUMAANVANGADRESHOUDING": [D(2000, 1, 1)],
         "GBADATUMEINDEADRESHOUDING": [None]},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "GBADATUMAANVANGADRESHOUDING": pl.Date,
                "GBADATUMEINDEADRESHOUDING": pl.Date})
    secm = pl.LazyFrame({"RINPERSOONS": ["R"] * 2, "person_id": [1, 1], "AANVSECM": [D(2010, 1, 1), D(2019, 1, 1)],
                         "EINDSECM": [D(2018, 12, 31), None], "SECM": ["11", "11"]},   # SECM covers 2019
                        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "AANVSECM": pl.Date,
                                "EINDSECM": pl.Date, "SECM": pl.Enum(["11", "25", "26", "31"])})
    gba = pl.LazyFrame(   # only the minimal GBAPERSOONTAB columns; Marokko, eerste generatie
        {"RINPERSOONS": ["R"], "person_id": [1], "GBAGEBOORTEJAAR": [1980], "GBAGEBOORTEMAAND": [5],
         "GBAGESLACHT": ["2"], "GBAGENERATIE": ["1"], "GBAHERKOMSTGROEPERING": ["5022"]},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "GBAGEBOORTEJAAR": pl.Int64,
                "GBAGEBOORTEMAAND": pl.Int64, "GBAGESLACHT": pl.Enum(["1", "2"]),
                "GBAGENERATIE": pl.Enum(["0", "1", "2"]), "GBAHERKOMSTGROEPERING": pl.String})
    row = population(YEAR, addresses, secm, gba).collect().row(0, named=True)
    assert (row["herkomst_group"], row["herkomst_aggregate"], row["generatie"], row["geslacht"]) == (
        "Marokko", "niet-westers", "eerste", "vrouw")
    assert row["verblijfsduur"] is None and row["verblijfsduur_excluded"] is None
    assert row["opleidingsniveau"] is None and row["asielmotief"] is None and row["herkomst_check_ok"] is None
    assert row["leeftijd"] == "niet-jongeren" and (row["student"], row["pensioner"]) == (False, False)


def test_herkomst_without_birth_countries_keeps_the_published_values():
    """Report 2.2, footnote 4: with GBAGEBOORTELAND/-MOEDER/-VADER missing (all null) the cross-check cannot be
    made; it must not turn a second-generation person (born in NL, parent abroad) into geen migratieachtergrond
    nor a first-generation one into anything else: the published values stand, herkomst_check_ok is null.
    With only the parents' countries missing the check is not possible either (it would call every second
    generation "no parent abroad")."""
    cols = {"RINPERSOONS": ["R"] * 3, "person_id": [1, 2, 3], "GBAHERKOMSTGROEPERING": ["6043", "5022", "6030"],
            "GBAGENERATIE": ["1", "2", "0"], "GBAGEBOORTELAND": [None, None, None],
            "GBAGEBOORTELANDMOEDER": [None, None, None], "GBAGEBOORTELANDVADER": [None, None, None]}
    schema = {"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "GBAHERKOMSTGROEPERING": pl.String,
              "GBAGENERATIE": pl.Enum(["0", "1", "2"]), "GBAGEBOORTELAND": pl.String,
              "GBAGEBOORTELANDMOEDER": pl.String, "GBAGEBOORTELANDVADER": pl.String}
    no_countries = pl.LazyFrame(cols, schema=schema)
    own_only = no_countries.with_columns(pl.Series("GBAGEBOORTELAND", ["6043", "6030", "6030"]))
    for people in (no_countries, own_only):
        got = {r["person_id"]: r for r in herkomst(people, None).collect().iter_rows(named=True)}
        assert [(got[i]["herkomst_group"], got[i]["generatie"]) for i in (1, 2, 3)] == [
            ("Turkije", "eerste"), ("Marokko", "tweede"), ("geen migratieachtergrond", None)]
        assert all(got[i]["herkomst_check_ok"] is None for i in (1, 2, 3))
    # with all birth countries the check runs as before
    full = own_only.with_columns(pl.Series("GBAGEBOORTELANDMOEDER", ["6043", "5022", "6030"]),
                                 pl.Series("GBAGEBOORTELANDVADER", ["6043", "6030", "6030"]))
    assert herkomst(full, None).collect()["herkomst_check_ok"].to_list() == [True, True, True]


# --------------------------------------------------------------------------------------------- spells
@pytest.mark.parametrize("form", ["nulls", "absent"])
def test_job_months_on_partial_zone(wh, form):
    """Report 4.2/5.2 on the partial zone: job-months come from the period dates, hours, wage, contract and kind
    of job only, so the rows, basisuren, basisloon, contract, days (from the period dates: SBAANDAGEN is the
    period's calendar days in the synthetic data) and the substantial flag equal the full zone's; columns
    resting on a missing SPOLIS column are null (verloonde_uren not 0), and the spells still build.

    SSRTIV is not among the minimal columns: without it the benefit rows (21+, paid through the payroll) cannot be
    told from jobs and count as job-months (ingest/roles.py says so in the file's warning).  So the partial zone
    is compared with the full zone's job rows plus those benefit rows, and they are exactly the difference."""
    from monitor_dagster.synth.spolis import BENEFIT_JOB_SHIFT

    w = wh
    cur, prev = w.read("SPOLISBUS", str(YEAR)), w.read("SPOLISBUS", str(YEAR - 1))
    jobs_only = job_months(cur, prev, YEAR).collect()
    full = job_months(cur.drop("SSRTIV"), prev.drop("SSRTIV"), YEAR).collect()   # every row, as without SSRTIV
    extra = full.join(jobs_only, on=["person_id", "IKVID", "month"], how="anti")
    assert extra.height > 100 and (extra["IKVID"] >= BENEFIT_JOB_SHIFT).all()      # the benefit rows, nothing else
    assert full.height == jobs_only.height + extra.height
    assert not extra["substantial"].any()                                          # no hours: never substantial
    part = job_months(cut(cur, "SPOLISBUS", form), cut(prev, "SPOLISBUS", form), YEAR).collect()
    assert part.schema == full.schema
    assert part.height == full.height > 1000
    k = ["person_id", "IKVID", "month"]
    both = full.join(part, on=k, how="full", suffix="_p", coalesce=True)
    assert both.height == full.height
    for col in ("basisuren", "basisloon", "days", "hourly_wage", "basisuren_pw"):
        assert both[f"{col}_p"].to_numpy() == pytest.approx(both[col].to_numpy(), nan_ok=True), col
    for col in ("contract", "soortbaan", "substantial"):
        assert both[col].eq_missing(both[f"{col}_p"]).all(), col
    assert 0.3 < part["substantial"].mean() < 1.0
    for col in ("verloonde_uren", "verloonde_uren_pw", "contracturen", "SSECT", "sector", "SBEID"):
        assert part[col].null_count() == part.height, col
        assert full[col].null_count() < full.height, col

    sp_full, sp = job_spells(full.lazy()).collect(), job_spells(part.lazy()).collect()
    assert sp.height == sp_full.height and sp["n_months"].sum() == part.height
    assert sp["basisuren"].sum() == pytest.approx(sp_full["basisuren"].sum())
    assert sp["verloonde_uren"].null_count() == sp.height and sp["contracturen"].null_count() == sp.height


def test_job_months_missing_columns_hand_built():
    """SAANTVERLU, SAANTCTRCTURENPWK, SBAANDAGEN, SBEID and SSECT null (typed nulls from the ingest): a month
    covered by one row (fast path) and a month of two 4-weekly rows (group-by) both give verloonde_uren null,
    not 0, and days = the calendar days of the periods."""
    rows = [(D(2019, 1, 1), D(2019, 1, 31), 160.0), (D(2019, 2, 1), D(2019, 2, 14), 76.0),
            (D(2019, 2, 15), D(2019, 2, 28), 76.0)]
    n = len(rows)
    spolis = pl.LazyFrame(
        {"RINPERSOONS": ["R"] * n, "person_id": [1] * n, "IKVID": [10] * n, "SBEID": [None] * n,
         "SDATUMAANVANGIKO": [r[0] for r in rows], "SDATUMEINDEIKO": [r[1] for r in rows],
         "SBASISLOON": [r[2] * 20 for r in rows], "SBASISUREN": [r[2] for r in rows], "SAANTVERLU": [None] * n,
         "SAANTCTRCTURENPWK": [None] * n, "SBAANDAGEN": [None] * n, "SCONTRACTSOORT": ["O"] * n,
         "SSOORTBAAN": ["9"] * n, "SSECT": [None] * n},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "IKVID": pl.Int64, "SBEID": pl.String,
                "SDATUMAANVANGIKO": pl.Date, "SDATUMEINDEIKO": pl.Date, "SBASISLOON": pl.Float64,
                "SBASISUREN": pl.Float64, "SAANTVERLU": pl.Float64, "SAANTCTRCTURENPWK": pl.Float64,
                "SBAANDAGEN": pl.Float64, "SCONTRACTSOORT": pl.Enum(["O", "B", "N"]),
                "SSOORTBAAN": pl.Enum(["1", "2", "3", "4", "5", "9"]), "SSECT": pl.String})
    jm = job_months(spolis, None, YEAR).sort("month").collect()
    assert jm["month"].to_list() == [D(2019, 1, 1), D(2019, 2, 1)]
    assert jm["days"].to_list() == [31.0, 28.0]
    assert jm["basisuren"].to_list() == [160.0, 152.0]
    assert jm["verloonde_uren"].to_list() == [None, None]
    assert jm["contracturen"].to_list() == [None, None] and jm["sector"].to_list() == [None, None]
    assert jm["substantial"].to_list() == [True, True]
    sp = job_spells(jm.lazy()).collect()
    assert sp.height == 1 and sp["verloonde_uren"][0] is None and sp["basisuren"][0] == 312.0


@pytest.mark.parametrize("ssect_type", [pl.String, pl.Categorical])
def test_job_months_sector_codes(ssect_type):
    """SSECT (report 4d/4h: by UWV sector) kept as the Enum of reference/sectors.csv with its monitor sector; a
    code outside the reference (99) and a missing one become null, whatever the stored type of the column.  A code
    that lost its leading zero ("1": a copy that stored the two-digit code as a number) is padded back to "01"
    since December 2026 (it became null, and its job-months lost their sector without a word)."""
    codes = ["18", "99", None, "1", "52"]
    n = len(codes)
    months = [D(2019, m, 1) for m in range(1, n + 1)]
    spolis = pl.LazyFrame(
        {"RINPERSOONS": ["R"] * n, "person_id": [1] * n, "IKVID": [10] * n, "SBEID": ["W1"] * n,
         "SDATUMAANVANGIKO": months, "SDATUMEINDEIKO": [(m + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
                                                       for m in months],
         "SBASISLOON": [3000.0] * n, "SBASISUREN": [160.0] * n, "SAANTVERLU": [160.0] * n,
         "SAANTCTRCTURENPWK": [38.0] * n, "SBAANDAGEN": [None] * n, "SCONTRACTSOORT": ["O"] * n,
         "SSOORTBAAN": ["9"] * n, "SSECT": codes},
        schema={"RINPERSOONS": RINPERSOONS, "person_id": pl.Int64, "IKVID": pl.Int64, "SBEID": pl.String,
                "SDATUMAANVANGIKO": pl.Date, "SDATUMEINDEIKO": pl.Date, "SBASISLOON": pl.Float64,
                "SBASISUREN": pl.Float64, "SAANTVERLU": pl.Float64, "SAANTCTRCTURENPWK": pl.Float64,
                "SBAANDAGEN": pl.Float64, "SCONTRACTSOORT": pl.Enum(["O", "B", "N"]),
                "SSOORTBAAN": pl.Enum(["1", "2", "3", "4", "5", "9"]), "SSECT": ssect_type})
    jm = job_months(spolis, None, YEAR).sort("month").collect()
    assert jm["SSECT"].dtype == J.SSECT
    assert jm["SSECT"].cast(pl.String).to_list() == ["18", None, None, "01", "52"]
    expected = [J._TO_SECTOR["18"], None, None, J._TO_SECTOR["01"], J._TO_SECTOR["52"]]
    assert jm["sector"].cast(pl.String).to_list() == expected


@pytest.mark.parametrize("form", ["nulls", "absent"])
def test_secm_months_on_partial_zone(wh, form):
    """Report 5.2: the SECM months need only AANVSECM, EINDSECM and SECM; without the XKOPPEL columns they are
    identical."""
    secm = wh.read("SECMBUS", "latest")
    full = secm_months(secm, YEAR).collect().sort("person_id", "month")
    part = secm_months(cut(secm, "SECMBUS", form), YEAR).collect().sort("person_id", "month")
    assert full.height > 1000
    assert part.equals(full)


def test_an_employer_id_that_lost_its_leading_zeros_is_the_same_employer(wh):
    """A copy of SPOLISBUS t-1 that stored SBEID as a number ("100296" for "000100296", e.g. a parquet written from
    a frame that typed it) made every employer of the panel's November and December another one than in year t:
    a job crossing the year looked like a change of employer (O29/O30), and the employers table split (the
    thirty-eighth session's open doubts).  job_months takes the id without leading zeros."""
    cur, prev = wh.read("SPOLISBUS", str(YEAR)), wh.read("SPOLISBUS", str(YEAR - 1))
    assert prev.select(pl.col("SBEID").str.starts_with("0").any()).collect().item()
    # the zeros lost (ids of a person or foreign employer, "P..." and "F...", are text and keep theirs)
    numeric = prev.with_columns(pl.col("SBEID").cast(pl.Int64, strict=False).cast(pl.String).fill_null(pl.col("SBEID")))
    k = ["person_id", "IKVID", "month"]
    a = job_months(cur, prev, YEAR).collect().sort(k)
    b = job_months(cur, numeric, YEAR).collect().sort(k)
    assert a.equals(b)
    # a job with months on both sides of the new year keeps one employer
    crossing = a.group_by("person_id", "IKVID").agg(pl.col("month").min().alias("lo"), pl.col("month").max().alias("hi"),
                                                    pl.col("SBEID").n_unique().alias("employers"))
    crossing = crossing.filter((pl.col("lo").dt.year() == YEAR - 1) & (pl.col("hi").dt.year() == YEAR))
    assert crossing.height > 50 and (crossing["employers"] == 1).all()
