"""Issue 18: the breakdowns regio, randstad and asielstatus of the register indicators and their disclosure.

Technisch rapport Monitor gelijke kansen, §7.2.4 (regional differences per arbeidsmarktregio), §5.1 (randstad
versus the rest where groups are small), §7.2.5 (asielstatushouders).  Hand-built populations with the columns
core/population carries (``regio`` = arbeidsmarktregio code, ``randstad``, ``asielstatus``; null = unknown), so
the tests do not wait for the data; docs/regions.md, "Breakdowns and disclosure".
"""

from __future__ import annotations

import polars as pl
import pytest

from monitor_dagster.corrections import apply as CORR
from monitor_dagster.gates.disclosure import apply_disclosure, check_disclosure, region_classes
from monitor_dagster.indicators import register as R
from monitor_dagster.indicators.table import (COLUMNS, DIMENSIONS, SCHEMA, SEPARATE, TOTAAL, cells,
                                              with_separate_dimensions)

Y = 2020
AGGR = {"Turkije": "niet-westers", "Syrië": "niet-westers", "Eritrea": "niet-westers", "Polen": "westers",
        "geen migratieachtergrond": "geen"}
OTHER = [d for d in DIMENSIONS if d not in ("herkomst", *SEPARATE)]


def _persons(regions: dict[str | None, int], groups=("Turkije", "Syrië", "Polen", "geen migratieachtergrond"),
             asiel: bool = True, value=lambda i: float(i % 3 == 0)) -> pl.DataFrame:
    """``regions``: region code (None: unknown) -> persons; herkomst groups in turn, a value per person."""
    regio = [r for r, k in regions.items() for _ in range(k)]
    n = len(regio)
    grp = [groups[i % len(groups)] for i in range(n)]
    status = [("statushouder" if g in ("Syrië", "Eritrea") and (i // 4) % 2 else
               "geen migratie" if g == "geen migratieachtergrond" else "overig migratiemotief")
              for i, g in enumerate(grp)]
    df = pl.DataFrame({
        "person_id": list(range(n)), "herkomst_group": grp, "herkomst_aggregate": [AGGR[g] for g in grp],
        "generatie": [None if g == "geen migratieachtergrond" else ("eerste", "tweede")[i % 2] for i, g in enumerate(grp)],
        "verblijfsduur": [None] * n, "leeftijd": [("15-27", "27-AOW")[i % 2] for i in range(n)],
        "geslacht": [("man", "vrouw")[(i // 2) % 2] for i in range(n)], "opleidingsniveau": [None] * n,
        "regio": regio, "asielstatus": status if asiel else [None] * n,
        "value": [value(i) for i in range(n)],
    }, schema_overrides={"regio": pl.String, "verblijfsduur": pl.String, "opleidingsniveau": pl.String,
                         "asielstatus": pl.String})
    cls = region_classes()
    return df.with_columns(pl.col("regio").replace_strict(cls, default=None, return_dtype=pl.String).alias("randstad"))


def _cells(p: pl.DataFrame, **kw) -> pl.DataFrame:
    return cells(p.lazy(), indicator_id="O04", year=Y, unit="%", measure="vast contract", **kw)


def _split(t: pl.DataFrame, dim: str) -> pl.DataFrame:
    return t.filter(pl.col(dim) != TOTAAL)


# ------------------------------------------------------------------------------------------ the cells
def test_contract_columns_follow_kwartaal_in_order():
    assert DIMENSIONS[DIMENSIONS.index("kwartaal") + 1:] == ["regio", "randstad", "asielstatus", "inkomensklasse"]
    assert COLUMNS.index("inkomensklasse") + 1 == COLUMNS.index("correctie")


def test_regional_cells_crossings_and_sums():
    p = _persons({"AM18": 120, "AM21": 80, "AM01": 60, "AM99": 12, None: 8})
    t = _cells(p)
    reg = _split(t, "regio")
    # regio crossed with the aggregates, the referentiegroep and totaal only; never with another dimension
    assert set(reg["herkomst"]) == {"niet-westers", "westers", "geen migratieachtergrond", "totaal"}
    assert set(reg["regio"]) == {"AM18", "AM21", "AM01", "AM99"}
    for d in ("randstad", "asielstatus"):
        assert {"Turkije", "Syrië", "Polen", "niet-westers", "totaal"} <= set(_split(t, d)["herkomst"])
    for d in SEPARATE:
        others = [o for o in DIMENSIONS if o not in ("herkomst", d)]
        assert _split(t, d).filter(pl.any_horizontal(pl.col(o) != TOTAAL for o in others)).height == 0
    # counts and values: a region cell is the persons of that region; unknown region in the total only
    tot = t.filter(pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS))
    assert tot["n"].item() == 280
    rt = reg.filter(pl.col("herkomst") == TOTAAL)
    assert dict(zip(rt["regio"], rt["n"])) == {"AM18": 120, "AM21": 80, "AM01": 60, "AM99": 12}
    am18 = p.filter(pl.col("regio") == "AM18")
    assert rt.filter(pl.col("regio") == "AM18")["value"].item() == pytest.approx(100 * am18["value"].mean())
    nw = reg.filter((pl.col("herkomst") == "niet-westers") & (pl.col("regio") == "AM21"))
    assert nw["n"].item() == p.filter((pl.col("regio") == "AM21") & (pl.col("herkomst_aggregate") == "niet-westers")).height
    # randstad = its regions (AM99 "Niet in te delen" is randstad in the project's reference file)
    rs = _split(t, "randstad").filter(pl.col("herkomst") == TOTAAL)
    assert dict(zip(rs["randstad"], rs["n"])) == {"randstad": 120 + 80 + 12, "overig": 60}
    asl = _split(t, "asielstatus").filter(pl.col("herkomst") == "Syrië")
    assert set(asl["asielstatus"]) == {"statushouder", "overig migratiemotief"}
    # the other breakdowns are exactly those of the same persons without the new columns
    plain = _cells(p.drop("regio", "randstad", "asielstatus"))
    assert plain.filter(pl.any_horizontal(pl.col(d) != TOTAAL for d in SEPARATE)).height == 0
    assert t.filter(pl.all_horizontal(pl.col(d) == TOTAAL for d in SEPARATE)).equals(plain)


def test_without_the_columns_or_without_values_no_regional_cells():
    p = _persons({None: 200}, asiel=False)          # a year without a municipality -> region mapping
    t = _cells(p)
    assert t.filter(pl.any_horizontal(pl.col(d) != TOTAAL for d in SEPARATE)).height == 0
    assert t.height == _cells(p.drop("regio", "randstad", "asielstatus")).height


def _population(p: pl.DataFrame) -> pl.DataFrame:
    return p.drop("value").with_columns(pl.lit(False).alias("student"), pl.lit(False).alias("pensioner"))


def test_register_indicator_carries_the_columns_when_the_population_has_them():
    p = _persons({"AM18": 30, "AM01": 30})
    inpa = pl.DataFrame({"person_id": p["person_id"], "INPPERSPRIM": [1000.0 * i for i in range(p.height)],
                         "INPPERSINK": 1.0, "INPPERSBRUT": 2.0})
    got = R.o09_inkomen(_population(p).lazy(), inpa.lazy(), Y)
    reg = _split(got, "regio").filter((pl.col("herkomst") == TOTAAL) & (pl.col("measure") == "INPPERSPRIM"))
    assert dict(zip(reg["regio"], reg["n"])) == {"AM18": 30, "AM01": 30}
    assert reg.filter(pl.col("regio") == "AM01")["value"].item() == pytest.approx(1000.0 * (30 + 59) / 2)
    # an older warehouse: core/population without the columns gives the table without those cells
    old = R.o09_inkomen(_population(p).drop("regio", "randstad", "asielstatus").lazy(), inpa.lazy(), Y)
    assert old.filter(pl.any_horizontal(pl.col(d) != TOTAAL for d in SEPARATE)).height == 0
    assert got.filter(pl.all_horizontal(pl.col(d) == TOTAAL for d in SEPARATE)).equals(old)


def test_a_table_from_before_the_columns_reads_as_totaal():
    old = pl.DataFrame({c: [] for c in COLUMNS if c not in SEPARATE}, schema={c: SCHEMA[c] for c in COLUMNS if c not in SEPARATE})
    assert with_separate_dimensions(old).select(COLUMNS).schema == pl.Schema(SCHEMA)


# ------------------------------------------------------------------------------------------ disclosure
def _gated(p: pl.DataFrame) -> pl.DataFrame:
    g = apply_disclosure(_cells(p))
    assert check_disclosure(g.drop("suppression_reason")) == []
    return g


def _shown(g: pl.DataFrame, dim: str, herkomst: str = TOTAAL) -> dict[str, bool]:
    rows = g.filter((pl.col(dim) != TOTAAL) & (pl.col("herkomst") == herkomst))
    return dict(zip(rows[dim], ~rows["suppressed"]))


def test_small_region_is_suppressed_with_a_second_one():
    g = _gated(_persons({"AM18": 120, "AM21": 60, "AM01": 50, "AM99": 6}))
    tot = g.filter(pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS))
    assert not tot["suppressed"].item()                           # the country is shown
    shown = _shown(g, "regio")
    assert not shown["AM99"]                                      # primary: 6 persons
    assert list(shown.values()).count(False) >= 2                 # and a second region: country - shown != AM99
    reason = g.filter((pl.col("regio") == "AM99") & (pl.col("herkomst") == TOTAAL))["suppression_reason"].item()
    assert reason == "primary_n"
    # the gate is needed: the same table with only the primary suppression fails the check
    t = _cells(_persons({"AM18": 120, "AM21": 60, "AM01": 50, "AM99": 6}))
    key = [c for c in t.columns if c not in ("value", "n", "n_weighted", "suppressed", "trend_break")]
    primary = t.join(g.select(*key, (pl.col("suppression_reason") == "primary_n").fill_null(False).alias("_p")), on=key)
    primary = primary.with_columns(pl.col("_p").alias("suppressed")).drop("_p").with_columns(
        *[pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in ("value", "n", "n_weighted")])
    assert any("AM99" in v and "recoverable" in v for v in check_disclosure(primary))


def test_randstad_and_overig_hide_together():
    # overig has one region of 8 persons: overig is hidden, so randstad must be too (total - randstad = overig)
    g = _gated(_persons({"AM18": 100, "AM21": 100, "AM01": 8}))
    shown = _shown(g, "randstad")
    assert shown == {"randstad": False, "overig": False}


def test_randstad_class_and_its_regions_are_one_equation():
    # AM18 (randstad) is small; the regions alone would hide AM01 as the second cell (the smallest), but then
    # AM18 = randstad - AM21: the randstad class and its regions are an equation of their own
    g = _gated(_persons({"AM18": 7, "AM21": 200, "AM01": 40, "AM05": 45}, groups=("geen migratieachtergrond",)))
    reg, rs = _shown(g, "regio"), _shown(g, "randstad")
    assert not reg["AM18"]
    members = [reg["AM18"], reg["AM21"], rs["randstad"]]
    assert members.count(False) != 1


def test_unknown_region_residual_of_fewer_than_ten_is_protected():
    # 5 persons without a region: every region shown would give them away (country - regions)
    p = _persons({"AM18": 60, "AM21": 60, "AM01": 60, None: 5}, groups=("geen migratieachtergrond",))
    t = _cells(p)
    naive = t.with_columns(pl.lit(False).alias("suppressed"))
    assert any("residual" in v for v in check_disclosure(naive))
    g = _gated(p)
    assert list(_shown(g, "regio").values()).count(False) == 2
    # randstad / overig: the same residual (unknown region, unknown class)
    assert list(_shown(g, "randstad").values()).count(False) == 2
    # a residual of 10 or more is a cell of its own size: nothing to hide
    g10 = _gated(_persons({"AM18": 60, "AM21": 60, "AM01": 60, None: 12}, groups=("geen migratieachtergrond",)))
    assert all(_shown(g10, "regio").values())


def test_asielstatus_classes_add_up_to_the_total():
    p = _persons({"AM18": 200}, groups=("Eritrea", "Eritrea", "Eritrea", "geen migratieachtergrond"))
    # Eritrea: statushouder and overig migratiemotief; make the latter small in one group
    p = p.with_columns(pl.when((pl.col("herkomst_group") == "Eritrea") & (pl.col("asielstatus") != "statushouder")
                               & (pl.col("person_id") > 20)).then(pl.lit("statushouder"))
                       .otherwise(pl.col("asielstatus")).alias("asielstatus"))
    g = _gated(p)
    er = _shown(g, "asielstatus", "Eritrea")
    assert er == {"statushouder": False, "overig migratiemotief": False}


# ------------------------------------------------------------------------------------------ corrections
def test_corrections_keep_their_breakdowns_with_the_new_columns():
    t = _cells(_persons({"AM18": 60, "AM01": 60}))
    corrected = t.filter(pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS if d != "herkomst")).with_columns(
        pl.lit("gewogen").alias("correctie"))
    kept = CORR.computed_breakdowns(corrected, t)
    assert kept.height == corrected.height and kept.columns == COLUMNS
    gated = CORR.gate(pl.concat([t, kept]))
    assert gated.filter((pl.col("correctie") == "gewogen") & (pl.col("regio") != TOTAAL)).height == 0


@pytest.mark.parametrize("regions", [{"AM18": 23, "AM21": 17, "AM01": 9, None: 4}, {"AM18": 31, "AM05": 12, None: 3},
                                     {"AM21": 44, "AM99": 2}])
def test_national_cells_are_suppressed_as_without_the_new_breakdowns(regions):
    """A separate breakdown never costs a national cell: where the gate would hide its total (a class equal to
    its total, or one class next to a small residual) its parts are left out instead."""
    groups = ("Turkije", "Syrië", "Polen", "geen migratieachtergrond", "Eritrea")
    p = _persons(regions, groups=groups)
    t = _cells(p)
    g = _gated(p)
    national = pl.all_horizontal(pl.col(d) == TOTAAL for d in SEPARATE)
    alone = apply_disclosure(t.filter(national))
    key = [c for c in t.columns if c not in ("value", "n", "n_weighted", "suppressed", "trend_break")]
    both = g.filter(national).join(alone, on=key, suffix="_alone")
    assert both.height == alone.height == t.filter(national).height
    assert both["suppressed"].to_list() == both["suppressed_alone"].to_list()


def test_a_class_equal_to_its_total_does_not_hide_the_national_cell():
    # asielstatus: every person without a migration background is "geen migratie", so that class of the group
    # equals the group's total; 5 statushouders hide, the smallest class (geen migratie, 12) goes with them, and
    # with it the same class of the group: the group's national cell would follow, unless the class is left out
    p = _persons({"AM18": 60}, groups=("Syrië", "Syrië", "Syrië", "Syrië", "geen migratieachtergrond"))
    p = p.with_columns(pl.when(pl.col("herkomst_group") == "Syrië")
                       .then(pl.when(pl.col("person_id") < 5).then(pl.lit("statushouder"))
                             .otherwise(pl.lit("overig migratiemotief")))
                       .otherwise(pl.col("asielstatus")).alias("asielstatus"))
    g = _gated(p)
    national = pl.all_horizontal(pl.col(d) == TOTAAL for d in DIMENSIONS if d != "herkomst")
    assert not g.filter(national & (pl.col("herkomst") == "geen migratieachtergrond"))["suppressed"].any()
    assert _shown(g, "asielstatus", "geen migratieachtergrond") == {}        # left out, not hidden
    assert _shown(g, "asielstatus")["statushouder"] is False


# ------------------------------------------------------------------------------------------ zzp x income class
def _secm_months(ids_zzp: list[int], ids_employee: list[int]) -> pl.LazyFrame:
    import datetime as dt
    rows = [(p, dt.date(Y, m, 1), "13" if p in ids_zzp else "11") for p in [*ids_zzp, *ids_employee] for m in range(1, 13)]
    return pl.LazyFrame(rows, schema={"person_id": pl.Int64, "month": pl.Date, "SECM": pl.String}, orient="row")


def test_zzp_by_income_class_of_the_primary_income():
    p = _persons({"AM18": 100})
    pop = _population(p)
    zzp = [i for i in range(100) if i % 4 == 0]
    secm = _secm_months(zzp, [i for i in range(100) if i % 4])
    income = {i: (5_000.0 if i < 30 else 25_000.0 if i < 70 else 60_000.0) for i in range(100)}
    inpa = pl.LazyFrame({"person_id": list(range(95)), "INPPERSPRIM": [income[i] for i in range(95)],
                         "INPPERSINK": 0.0, "INPPERSBRUT": 0.0})    # 5 persons without an income record
    got = R.o05_zzp(pop.lazy(), secm, Y, inpatab=inpa)
    ink = _split(got, "inkomensklasse").filter(pl.col("herkomst") == TOTAAL)
    assert dict(zip(ink["inkomensklasse"], ink["n"])) == {"minder dan 10.000": 30, "20.000 tot 35.000": 40,
                                                          "50.000 of meer": 25}
    low = ink.filter(pl.col("inkomensklasse") == "minder dan 10.000")["value"].item()
    assert low == pytest.approx(100 * sum(1 for i in zzp if i < 30) / 30)
    assert {"Turkije", "Syrië", "niet-westers", "geen migratieachtergrond"} <= set(_split(got, "inkomensklasse")["herkomst"])
    # the other cells as without INPATAB; without it no income classes (not a reason O05 is not computable)
    without = R.o05_zzp(pop.lazy(), secm, Y)
    assert _split(without, "inkomensklasse").height == 0
    assert got.filter(pl.col("inkomensklasse") == TOTAAL).equals(without)
    # the residual of 5 persons without income: two classes hidden per equation
    g = apply_disclosure(got)
    assert check_disclosure(g.drop("suppression_reason")) == []
    tot = g.filter((pl.col("inkomensklasse") != TOTAAL) & (pl.col("herkomst") == TOTAAL))
    assert int(tot["suppressed"].sum()) == 2


def test_engine_reads_inpatab_for_o05_when_it_is_there():
    from monitor_dagster.indicators import engine as ENG

    p = _persons({"AM18": 60, "AM01": 60})
    secm = _secm_months([i for i in range(120) if i % 3 == 0], [i for i in range(120) if i % 3])
    inpa = pl.LazyFrame({"person_id": list(range(120)), "INPPERSPRIM": [1000.0 * i for i in range(120)],
                         "INPPERSINK": 0.0, "INPPERSBRUT": 0.0})
    frames = {"core/population": _population(p).with_columns(pl.lit("SECM").alias("secm_source")).lazy(),
              "core/secm_months": secm, "sources/INPATAB": inpa}
    with_inc = ENG.compute_family("secm", frames, Y, buckets=3, extra={"covariates": False})
    o05 = with_inc.table.filter(pl.col("indicator_id") == "O05")
    assert _split(o05, "inkomensklasse").height > 0 and _split(o05, "regio").height > 0
    frames["sources/INPATAB"] = None
    without = ENG.compute_family("secm", frames, Y, buckets=3, extra={"covariates": False})
    assert "O05" in without.computed and "O05" not in without.not_computable
    assert _split(without.table, "inkomensklasse").height == 0
    assert with_inc.table.filter(pl.col("inkomensklasse") == TOTAAL).equals(without.table)


def test_export_writes_the_new_columns(tmp_path):
    from openpyxl import load_workbook

    from monitor_dagster.export import export_table

    g = _gated(_persons({"AM18": 60, "AM01": 40, None: 12})).drop("suppression_reason")
    export_table(g, "csv", tmp_path / "t.csv")
    back = pl.read_csv(tmp_path / "t.csv", infer_schema=False)
    assert back.columns == COLUMNS
    assert set(back["regio"]) == {"totaal", "AM18", "AM01"}
    export_table(g, "xlsx", tmp_path / "t.xlsx")
    header = next(load_workbook(tmp_path / "t.xlsx", read_only=True)["indicators"].iter_rows(values_only=True))
    assert list(header) == COLUMNS
