"""O40 function level (technisch rapport Monitor gelijke kansen §5.2, 4h): hourly-wage quartiles within the
employer, hand-built from the report's wording; buckets of employers (a string key split by its hash)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from monitor_dagster.core.buckets import BucketPlan, plan_buckets
from monitor_dagster.core.jobs import employers
from monitor_dagster.indicators import function_level as F
from monitor_dagster_tests import _frames as frames

Y = 2019


def _jm(rows):
    """rows: (person, employer, wage, months, hours per month) -> substantial job-months of 2019."""
    out = []
    for p, e, wage, months, hours in rows:
        out += [{"person_id": p, "IKVID": p * 100 + len(e), "SBEID": e, "month": dt.date(Y, m, 1),
                 "basisuren": hours, "basisloon": hours * wage, "sector": "zorg" if e.startswith("Z") else "bouw",
                 "substantial": True} for m in months]
    return pl.LazyFrame(out, schema={"person_id": pl.Int64, "IKVID": pl.Int64, "SBEID": pl.String, "month": pl.Date,
                                     "basisuren": pl.Float64, "basisloon": pl.Float64, "sector": pl.String,
                                     "substantial": pl.Boolean})


def _emp(rows):
    """core/employers of the job-months of rows (built per person, as the core layer does)."""
    return employers(_jm(rows), Y)


def _cells(t, herkomst="totaal", sector="totaal"):
    f = t.filter((pl.col("herkomst") == herkomst) & (pl.col("sector") == sector)
                 & pl.all_horizontal(pl.col(c) == "totaal" for c in
                                     ("generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "kwartaal",
                                      "regio", "randstad", "asielstatus", "inkomensklasse")))
    return {r["measure"]: (r["value"], r["n"]) for r in f.iter_rows(named=True)}


DIMS = ["totaal", "generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector"]


def test_quartile_is_the_rank_within_the_employer_over_its_employees():
    """"door ze te sorteren op uurloon binnen het bedrijf en te delen door het aantal werknemers": 10 employees
    with wages 10..19 -> ceil(4 x rank / 10): ranks 1-2 kwartiel 1, 3-5 kwartiel 2, 6-7 kwartiel 3, 8-10
    kwartiel 4."""
    rows = [(i, "ZA", 10.0 + i - 1, range(1, 13), 150.0) for i in range(1, 11)]
    q = F.employer_quartiles(_emp(rows)).collect().sort("person_id")
    assert q["quartile"].to_list() == [1, 1, 2, 2, 2, 3, 3, 4, 4, 4]
    assert set(q["sector"]) == {"zorg"}


def test_ties_share_a_quartile_and_small_employers_are_out():
    rows = ([(i, "ZA", 20.0, range(1, 13), 150.0) for i in range(1, 5)]          # four equal wages: ranks 1-4
            + [(i, "ZA", 20.0 + i, range(1, 13), 150.0) for i in range(5, 11)]
            + [(i, "BB", 15.0 + i, range(1, 13), 150.0) for i in range(11, 20)])  # 9 employees: too small
    q = F.employer_quartiles(_emp(rows)).collect().sort("person_id")
    assert q["SBEID"].unique().to_list() == ["ZA"]
    assert q.filter(pl.col("person_id") <= 4)["quartile"].unique().to_list() == [1]    # mean rank 2.5 -> 1
    # the wage of an employee: basic wage over basic hours of all his months there (weighted by hours)
    two = employers(_jm([(1, "ZA", 10.0, [1], 100.0), (1, "ZA", 20.0, [2], 300.0)]), Y)
    w = F.employer_quartiles(two, min_employees=1).collect()["wage"].item()
    assert w == pytest.approx((1000 + 6000) / 400)


def test_each_person_counts_once_at_his_main_employer_and_by_its_sector():
    """Persons 1-10 at ZA (wages 10..19); person 1 also works more hours at employer BX (10 employees, where
    he has the top wage): he counts in kwartiel 4 of BX's sector bouw, not in kwartiel 1 of ZA."""
    rows = ([(i, "ZA", 10.0 + i - 1, range(1, 13), 100.0) for i in range(1, 11)]
            + [(1, "BX", 50.0, range(1, 13), 120.0)]
            + [(i, "BX", 20.0, range(1, 13), 150.0) for i in range(21, 30)])
    emp = _emp(rows)
    assert emp.filter(pl.col("person_id") == 1).filter("main").collect()["SBEID"].to_list() == ["BX"]
    pop = frames.population(*range(1, 11), *range(21, 30), student=(21,))
    t = F.o40_functieniveau(pop, emp, Y, dimensions=DIMS)
    c = _cells(t)
    # persons 2-10 at ZA: quartiles of ranks 2..10 -> 1 x k1, 3 x k2, 2 x k3, 3 x k4; person 1 k4 at BX;
    # BX's others (ties, mean rank 5 of 10 -> kwartiel 2) without the student 21: 8 in kwartiel 2
    assert c["kwartiel 1"][1] == 1 and c["kwartiel 2"][1] == 3 + 8 and c["kwartiel 3"][1] == 2
    assert c["kwartiel 4"][1] == 3 + 1
    assert sum(v for v, _ in c.values()) == pytest.approx(100.0)                   # adds up to 100 %
    bouw = _cells(t, sector="bouw")
    assert bouw["kwartiel 4"][1] == 1 and bouw["kwartiel 2"][1] == 8


def test_a_string_key_is_bucketed_by_its_hash():
    jm = _jm([(i, f"E{i % 7}", 10.0 + i, [1], 100.0) for i in range(1, 60)])
    plan = plan_buckets({"core/job_months": jm}, "SBEID", 3)
    assert plan == BucketPlan("SBEID", hashed=3) and plan.k == 3
    parts = [jm.filter(plan.predicate(i)).collect() for i in range(3)]
    assert sum(p.height for p in parts) == 59                                      # every row in one bucket
    for p in parts:                                                                # an employer in one bucket only
        for other in parts:
            if other is not p:
                assert not set(p["SBEID"]) & set(other["SBEID"])


def test_function_level_on_a_synthetic_warehouse_is_the_same_for_every_k(core_wh):
    from monitor_dagster.indicators import engine as ENG

    fr = ENG.warehouse_frames(core_wh, "function_level", Y)
    assert fr["core/employers"] is not None
    one = ENG.compute_family("function_level", fr, Y, buckets=1)
    three = ENG.compute_family("function_level", fr, Y, buckets=3)
    assert three.buckets == 3 and not one.not_computable
    assert one.table.equals(three.table) and one.table.height
