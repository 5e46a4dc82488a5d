"""Versions, irregular names, part-year releases and the planted trend breaks (docs/synthetic_data.md)."""

from __future__ import annotations

import polars as pl

from monitor_dagster_tests.conftest import files_of, load, read_any

KEYS = ["RINPERSOONS", "RINPERSOON"]


def test_part_year_spolis_releases_for_the_last_year(zone):
    fs = files_of(zone, "SPOLISBUS", 2021)
    assert [f.version for f in fs] == [1, 2, 3]
    last_month = []
    for f in fs:
        df = read_any(zone.config.landing / f.path)
        last_month.append(int(df["SDATUMEINDEIKO"].str.slice(4, 2).cast(pl.Int32).max()))
    assert last_month == [6, 9, 12]


def test_irregular_names(zone):
    paths = [f.path for f in zone.files]
    assert "Bevolking/GBAPERSOONTAB/2016/GBAPERSOONTAB2016V1.parquet" in paths
    assert "Spolis/SPOLISBUS/2014/SPOLISBUS 2014V1.parquet" in paths


def test_v2_corrects_a_few_rows_of_v1(zone):
    assert len(zone.truth["corrections"]) == 3
    for c in zone.truth["corrections"]:
        v1 = load(zone, c["file"], c["year"], 1)
        v2 = load(zone, c["file"], c["year"], 2)
        assert v1.columns == v2.columns and v1.height == v2.height
        diff = (v1[c["column"]] != v2[c["column"]]).sum()
        assert diff == c["rows_changed_in_V1"] > 0
        others = [x for x in v1.columns if x != c["column"]]
        assert v1.select(others).equals(v2.select(others)), "only the named column differs"


def test_cumulative_releases_hold_history_up_to_their_year(zone):
    s16 = load(zone, "SECMBUS", 2016)
    s20 = load(zone, "SECMBUS", 2020)
    assert s16["AANVSECM"].max() <= "20161231"
    assert s20["AANVSECM"].max() <= "20201231"
    assert s20.height > s16.height
    # an open spell in 2016 may be closed in 2020: the later release revises
    closed_later = s16.filter(pl.col("EINDSECM") == "88888888").join(
        s20.filter(pl.col("EINDSECM") != "88888888"), on=KEYS + ["AANVSECM"])
    assert closed_later.height > 0


def test_payrolling_break_2017(zone):
    """Payroll jobs: the same IKV is O in December 2016 and B in January 2017 (footnote 13)."""
    def last_contract(year, first):
        df = load(zone, "SPOLISBUS", year).filter(pl.col("RINPERSOONS") == "R").sort("IKVID", "SDATUMAANVANGIKO")
        agg = pl.col("SCONTRACTSOORT").first() if first else pl.col("SCONTRACTSOORT").last()
        return df.group_by("IKVID").agg(agg.str.to_uppercase().alias("c"))
    a, b = last_contract(2016, first=False), last_contract(2017, first=True)
    switched = a.join(b, on="IKVID").filter((pl.col("c") == "O") & (pl.col("c_right") == "B"))
    assert switched.height == zone.truth["payroll_jobs_2016_and_2017"] > 0


def test_contract_hours_only_from_2016(zone):
    assert "SAANTCTRCTURENPWK" not in load(zone, "SPOLISBUS", 2015).columns
    s16 = load(zone, "SPOLISBUS", 2016)
    assert "SAANTCTRCTURENPWK" in s16.columns
    assert (s16.filter(pl.col("SSOORTBAAN") == "5")["SAANTCTRCTURENPWK"] == 0).all(), "on-call jobs: zero hours"


def test_interns_four_weekly_payrolls_and_contract_n(zone):
    s = load(zone, "SPOLISBUS", 2019)
    assert (s["SSOORTBAAN"] == "2").sum() > 0
    assert (s["SCONTRACTSOORT"].str.to_uppercase() == "N").sum() > 0
    rows_per_month = s.with_columns(pl.col("SDATUMAANVANGIKO").str.slice(0, 6).alias("m")).group_by("IKVID", "m").len()
    assert rows_per_month["len"].max() in (2, 3), "4-weekly payrolls give 2-3 rows per job in some months"
    assert (rows_per_month["len"] == 1).mean() > 0.5


def test_srg_registration_change_2019(zone):
    srg_years = sorted({f.year for f in files_of(zone, "SRGPERSOONPWETBUS")})
    pwet_years = sorted({f.year for f in files_of(zone, "PWETSRGPERSOONBUS")})
    assert srg_years == [2015, 2016, 2017, 2018] and pwet_years == [2019, 2020, 2021]
    srg = load(zone, "SRGPERSOONPWETBUS", 2018)
    pwet = load(zone, "PWETSRGPERSOONBUS", 2021)
    assert "19" in set(srg["SOORTVOORZIENING"]), "the arbeidsbeperking provision exists until 2018"
    assert "19" not in set(pwet["PWETSOORTVOORZ"])
    assert set(pwet["PWETSOORTVOORZ"]) & {"21", "22", "23", "24", "25", "26", "27", "28"}, "finer 2019+ categories"
    assert not set(srg["SOORTVOORZIENING"]) & {"21", "22", "23", "24", "25", "26", "27", "28"}


def test_predecessor_files_and_income_cap(zone_early):
    z = zone_early
    assert files_of(z, "POLISBUS", 2008) and files_of(z, "POLISBUS", 2009) and files_of(z, "SPOLISBUS", 2010)
    assert not files_of(z, "SPOLISBUS", 2009)
    p = load(z, "POLISBUS", 2009)
    assert "BAANRUGID" in p.columns and "BASISLOON" in p.columns and "SBASISLOON" not in p.columns
    assert files_of(z, "IPI", 2010) and files_of(z, "INPATAB", 2011) and not files_of(z, "INPATAB", 2010)
    ipi = load(z, "IPI", 2010)
    assert "PERSPRIM" in ipi.columns
    valid = ipi.filter(pl.col("PERSPRIM") < 9_999_999_999)
    assert valid["PERSPRIM"].max() == 1_000_000, "incomes up to 2010 are capped at 1 million"
    inpa = load(z, "INPATAB", 2011).filter(pl.col("INPPERSPRIM") < 9_999_999_999)
    assert inpa["INPPERSPRIM"].max() > 1_000_000, "from 2011 the planted top incomes show above the cap"
