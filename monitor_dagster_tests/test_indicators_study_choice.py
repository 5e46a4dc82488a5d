"""Study choice O19-O22 (technisch rapport Monitor gelijke kansen §5.1, deelvraag 4a): hand-built persons for
the report's wording, and the family on a synthetic warehouse against the generator's planted truth."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from monitor_dagster.indicators import study_choice as SC
from monitor_dagster.synth import verify as V
from monitor_dagster_tests import _frames as frames

Y = 2019
OTHER_DIMS = ["generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "kwartaal", "regio", "randstad",
              "asielstatus"]
DIMS = ["totaal", "generatie", "verblijfsduur", "leeftijd", "geslacht", "opleiding", "sector"]


def _careers(exams: dict[int, str]) -> pl.LazyFrame:
    """core/education_careers: person -> exam_group of EXAMVOTAB t (only the columns the family reads)."""
    return pl.LazyFrame({"person_id": list(exams), "exam_group": list(exams.values())},
                        schema={"person_id": pl.Int64, "exam_group": pl.String})


def _enrol(*rows: tuple) -> pl.LazyFrame:
    """ONDERWIJSINSCHRTAB of 1 October t: (person, OPLNR, TYPEONDERWIJS, LEERJAAR, LEERWEGMBO[, HOOFDINSCHR])."""
    out = [{"RINPERSOONS": "R", "person_id": r[0], "OPLNR": r[1], "TYPEONDERWIJS": r[2], "LEERJAAR": r[3],
            "LEERWEGMBO": r[4], "HOOFDINSCHR": r[5] if len(r) > 5 else "1"} for r in rows]
    return pl.LazyFrame(out, schema={"RINPERSOONS": pl.String, "person_id": pl.Int64, "OPLNR": pl.String,
                                     "TYPEONDERWIJS": pl.String, "LEERJAAR": pl.String, "LEERWEGMBO": pl.String,
                                     "HOOFDINSCHR": pl.String})


#: OPLEIDINGSNRREF: OPLNR -> SOI level, sector, crebo
OPLREF = pl.LazyFrame(
    [("100001", "1212", "3", "-"), ("100002", "1221", "5", "-"), ("100003", "2131", "0", "-"),
     ("100004", "2132", "0", "-"), ("200001", "2112", "3", "25007"), ("200002", "2121", "4", "25014"),
     ("200003", "2111", "5", "25021"), ("200004", "2111", "5", "25028"), ("300001", "3112", "5", "-"),
     ("400001", "3113", "8", "-")],
    schema=["OPLNR", "OPLNIVSOI2021AGG4HB", "OPLSECTOR", "CREBO"], orient="row")


def _sbb(*rows: tuple) -> pl.LazyFrame:
    """SBBKANSOPWERK: (STUDIEKEUZEJAAR, CREBO, LEERWEG, KANSOPWERK)."""
    return pl.LazyFrame(list(rows), schema={"STUDIEKEUZEJAAR": pl.Int64, "CREBO": pl.String, "LEERWEG": pl.String,
                                            "KANSOPWERK": pl.String}, orient="row")


def _cells(t: pl.DataFrame, indicator: str, herkomst: str = "totaal", sector: str = "totaal") -> dict:
    """measure -> (value, n) of one cell (every other dimension totaal)."""
    f = t.filter((pl.col("indicator_id") == indicator) & (pl.col("herkomst") == herkomst)
                 & (pl.col("sector") == sector) & pl.all_horizontal(pl.col(d) == "totaal" for d in OTHER_DIMS))
    return {m: (v, n) for m, v, n in f.select("measure", "value", "n").iter_rows()}


# ------------------------------------------------------------------------------------------------ O19
def test_o19_exam_candidates_over_the_school_types():
    """"Percentage vmbo-theoretisch, vmbo-overig, havo, vwo" of the exam candidates: passed or not, pupils
    counted (report 2.1: not left out for 4a), only persons living in NL the whole year."""
    pop = frames.population(1, 2, 3, 4, 5, 7, 8, student=(1, 2, 3, 4, 5), nonwestern=(4, 5))
    careers = _careers({1: "vmbo-overig", 2: "vmbo-theoretisch", 3: "havo", 4: "vwo", 5: "havo",
                        6: "vwo",              # not in core/population (not in NL the whole year): left out
                        8: None})              # no known exam programme: left out (7: no exam)
    t = SC.o19_schoolsoort(pop, careers, Y)
    assert _cells(t, "O19") == {"havo": (40.0, 2), "vmbo-overig": (20.0, 1), "vmbo-theoretisch": (20.0, 1),
                                "vwo": (20.0, 1)}
    assert _cells(t, "O19", herkomst="Marokko") == {"havo": (50.0, 1), "vwo": (50.0, 1)}


# ------------------------------------------------------------------------------------------------ O20
def test_o20_what_exam_candidates_do_the_next_year():
    """"gaan zij door naar een vorm van vervolgonderwijs (mbo, hbo, wo), volgen zij een hoger niveau op de
    middelbare school of stoppen zij met studeren": the main enrolment on 1 October t."""
    careers = _careers({1: "havo", 2: "havo", 3: "vmbo-overig", 4: "vwo", 5: "havo", 6: "vwo",
                        7: "vmbo-theoretisch", 8: "havo", 9: "havo"})
    enrol = _enrol((1, "100004", "VO", "5", None),                # havo candidate in vwo 5: hoger niveau vo
                   (3, "200003", "MBO", "1", "1"),                # vmbo -> mbo
                   (4, "400001", "WO", "1", None),                # vwo -> wo
                   (5, "300001", "HBO", "1", None),               # havo -> hbo
                   (6, "100004", "VO", "6", None),                # failed vwo, retakes the year: same level
                   (7, "100003", "VO", "4", None),                # vmbo-t -> havo 4: hoger niveau vo
                   (8, "100003", "VO", "5", None),                # havo, same level ...
                   (8, "300001", "HBO", "1", None, "2"),          # ... a neven-inschrijving does not count
                   (9, "999999", "VO", "5", None))                # a vo programme of unknown level: not higher
    # person 2: no enrolment at all on 1 October t: "stoppen zij met studeren"
    t = SC.o20_vervolgonderwijs(frames.population(*range(1, 10)), careers, enrol, OPLREF, Y, dimensions=DIMS)
    got = _cells(t, "O20")
    assert {m: n for m, (_, n) in got.items()} == {"hoger niveau vo": 2, "stopt": 1, "mbo": 1, "wo": 1, "hbo": 1,
                                                   "zelfde niveau vo": 3}
    assert sum(v for v, _ in got.values()) == pytest.approx(100.0)
    # by the exam's school type (breakdown sector): 5 havo candidates
    havo = _cells(t, "O20", sector="havo")
    assert {m: n for m, (_, n) in havo.items()} == {"hoger niveau vo": 1, "stopt": 1, "hbo": 1,
                                                    "zelfde niveau vo": 2}
    assert havo["hoger niveau vo"][0] == pytest.approx(20.0)


# ------------------------------------------------------------------------------------------------ O21
def test_o21_field_of_the_first_years_and_field_by_level():
    """"het opleidingsnummer van iemands hoofdinschrijving in het mbo, hbo of wo aan de mbo-sector of richting
    in het hoger onderwijs ... koppelen", and the advice "de combinatie van studierichting en niveau"."""
    enrol = _enrol((1, "200001", "MBO", "1", "1"),                # mbo Techniek
                   (2, "200001", "MBO", "1", "3"),                # mbo Techniek (bbl)
                   (3, "200002", "MBO", "2", "1"),                # second year: not a choice of this year
                   (4, "300001", "HBO", "1", None),               # hbo Economie
                   (5, "400001", "WO", "1", None),                # wo Recht
                   (6, "100003", "VO", "1", None),                # vo: not in O21
                   (7, "288888", "MBO", "1", "1"))                # OPLNR not in OPLEIDINGSNRREF: counted
    t = SC.o21_studierichting(frames.population(*range(1, 8)), enrol, OPLREF, Y, dimensions=DIMS)
    assert {m: n for m, (_, n) in _cells(t, "O21").items()} == {"Techniek": 2, "Economie": 1, "Recht": 1,
                                                                SC.FIELD_UNKNOWN: 1}
    assert _cells(t, "O21", sector="mbo") == {"Techniek": (pytest.approx(200 / 3), 2),
                                              SC.FIELD_UNKNOWN: (pytest.approx(100 / 3), 1)}
    assert _cells(t, "O21", sector="hbo") == {"Economie": (100.0, 1)}
    assert _cells(t, "O21", sector="wo") == {"Recht": (100.0, 1)}


# ------------------------------------------------------------------------------------------------ O22
def test_o22_sbb_rating_of_the_first_years_bol_and_bbl_apart_unmatched_counted():
    """"het SBB-bestand over de kansrijkheid van studiekeuze 2021 te koppelen aan onderwijsinschrijvingen voor
    eerstejaars 2021", "bol en bbl afzonderlijk"; programmes that appear or vanish are counted, unmatched."""
    sbb = _sbb((Y, "25007", "BOL", "2"), (Y, "25007", "BBL", "4"),   # one crebo: bol matig, bbl goed
               (Y - 1, "25014", "BOL", "4"),                          # 25014 vanished: no row for t
               (Y + 1, "25021", "BOL", "3"),                          # 25021 appears only in t+1
               (Y, "25028", "BOL", "3"), (Y - 1, "25028", "BOL", "1"))
    enrol = _enrol((1, "200001", "MBO", "1", "1"),                # bol: matig
                   (2, "200001", "MBO", "1", "3"),                # bbl, same crebo: goed
                   (3, "200001", "MBO", "1", "2"),                # BOL deeltijd is bol: matig
                   (4, "200002", "MBO", "1", "1"),                # no SBB row in t: niet gekoppeld
                   (5, "200003", "MBO", "1", "1"),                # only in t+1: niet gekoppeld
                   (6, "200004", "MBO", "1", "1"),                # voldoende in t (not the onvoldoende of t-1)
                   (7, "200004", "MBO", "2", "1"),                # second year: not a first-year
                   (8, "300001", "HBO", "1", None))               # hbo: SBB is about mbo only
    t = SC.o22_kans_op_werk(frames.population(*range(1, 9)), enrol, OPLREF, sbb, Y, dimensions=DIMS)
    assert {m: n for m, (_, n) in _cells(t, "O22").items()} == {"matig": 2, "goed": 1, SC.UNMATCHED: 2,
                                                                "voldoende": 1}
    assert _cells(t, "O22", sector="bbl") == {"goed": (100.0, 1)}
    bol = _cells(t, "O22", sector="bol")
    assert bol == {"matig": (40.0, 2), SC.UNMATCHED: (40.0, 2), "voldoende": (20.0, 1)}


def test_o22_needs_the_sbb_file_of_the_year_itself():
    """No SBB rows for studiekeuzejaar t: no figures (the 2021-to-2020 link of the first measurement was second
    best, report §5.1), rather than 100% niet gekoppeld or the neighbouring year's ratings."""
    enrol = _enrol((1, "200001", "MBO", "1", "1"))
    t = SC.o22_kans_op_werk(frames.population(1), enrol, OPLREF, _sbb((Y - 1, "25007", "BOL", "4")), Y)
    assert t.height == 0


def test_readiness_of_o19_o22_reads_the_reference_files_and_the_enrolment_of_t(tmp_path):
    """OPLEIDINGSNRREF and SBBKANSOPWERK are reference files (their latest release, no year); without
    ONDERWIJSINSCHRTAB t O20-O22 are not computable (an absent file must not read as "nobody enrolled")."""
    from monitor_dagster import readiness as R
    from monitor_dagster.warehouse import Warehouse

    w = Warehouse(tmp_path)
    for entry, part in R.final_sources("yearly"):
        if entry not in ("SBBKANSOPWERK", "ONDERWIJSINSCHRTAB"):
            w.write(entry, str(Y) if part == "year" else part, pl.DataFrame({"person_id": [1]}),
                    {"release_id": f"{entry}{Y}V1", "period": Y})
    assert dict(R.final_sources("yearly"))["SBBKANSOPWERK"] == "latest"
    r = R.year_readiness(tmp_path, Y).indicators
    assert r["O19"].state == "ready"
    assert r["O20"].reasons == r["O21"].reasons == [f"needs ONDERWIJSINSCHRTAB {Y}"]
    assert r["O22"].reasons == [f"needs ONDERWIJSINSCHRTAB {Y}", "needs SBBKANSOPWERK"]


# ------------------------------------------------------------------------------ synthetic warehouse
@pytest.mark.parametrize("year", [2018, 2019])
def test_study_choice_on_a_synthetic_warehouse_equals_the_planted_truth(core_wh, year):
    """The family through the engine (3 buckets) against the truth's counts of the latent careers, restricted
    like the monitor to persons living in NL the whole year (synth/education/study_choice_truth.py): equal,
    per category; K = 1 gives the same table."""
    from monitor_dagster.indicators import engine as ENG

    truth = json.loads((core_wh.parent / "landing.truth.json").read_text())["education"]
    fr = ENG.warehouse_frames(core_wh, "study_choice", year)
    res = ENG.compute_family("study_choice", fr, year, buckets=3)
    assert not res.not_computable and res.buckets == 3 and res.computed == ["O19", "O20", "O21", "O22"]
    t = res.table
    assert ENG.compute_family("study_choice", fr, year, buckets=1).table.equals(t)
    # categories add to 100% in every cell
    sums = t.group_by("indicator_id", "herkomst", *OTHER_DIMS, "sector").agg(pl.col("value").sum())
    assert sums["value"].is_between(100 - 1e-9, 100 + 1e-9).all()

    # O19-O22 per category against the truth, exactly: the comparison of synth/verify.py (the benchmark's check)
    checks = V.study_choice_checks(t, {"education": truth}, year)
    assert [c.name.split()[0] for c in checks] == ["O19", "O20", "O21", "O22"]
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    # ... and the truth of all exam rows (no residence rule) exceeds O19 by the candidates not living in NL
    # the whole year, counted in EXAMVOTAB itself, and by those the monitor leaves out as newly arrived
    all_rows = sum(n for codes in truth["exam_candidates"][str(year)].values() for n in codes.values())
    pop = fr["core/population"].select("person_id")
    outside = (fr["core/education_careers"].filter(pl.col("exam_group").is_not_null())
               .join(pop, on="person_id", how="anti").select(pl.len()).collect().item())
    newly = (fr["core/education_careers"].filter(pl.col("exam_group").is_not_null())
             .join(fr["core/population"].filter(pl.col("verblijfsduur_excluded").fill_null(False)), on="person_id",
                   how="semi").select(pl.len()).collect().item())
    assert all_rows - sum(V._measure_counts(t, "O19")["totaal"].values()) == outside + newly


def test_o22_goed_share_recovers_the_planted_share_of_mbo_entrants(core_wh):
    """O22's share 'goed' against the truth's share of all mbo entrants of the school year (every entrant of
    the generator, also those who left before 1 October, live abroad or have another main enrolment).

    Tolerance: the monitor's first-years are a subset of those entrants chosen without regard to the programme's
    rating, so the difference behaves like binomial sampling: 3 standard errors sqrt(sum n p (1 - p)) / N of
    the pooled share (N: the monitor's first-years over 2018 and 2019 and the three herkomst aggregates, the
    planted share p per year and aggregate); 3 SE make a false alarm rarer than 1 in 300."""
    from monitor_dagster.indicators import engine as ENG

    truth = json.loads((core_wh.parent / "landing.truth.json").read_text())["education"]
    kinds = {"geen migratieachtergrond": "nederland", "westers": "westers", "niet-westers": "niet-westers"}
    goed = expected = var = total = 0.0
    for year in (2018, 2019):
        t = ENG.compute_family("study_choice", ENG.warehouse_frames(core_wh, "study_choice", year), year).table
        planted = truth["sbb_goed_share_mbo_entrants"][str(year)]
        for herkomst, kind in kinds.items():
            cell = _cells(t, "O22", herkomst=herkomst)
            n = sum(c[1] for c in cell.values())
            if n == 0:
                continue
            p = planted[kind]
            goed += cell.get("goed", (0.0, 0))[1]
            expected += n * p
            var += n * p * (1 - p)
            total += n
    assert total >= 20
    share, planted_share = goed / total, expected / total
    assert abs(share - planted_share) <= 3 * math.sqrt(var) / total, (share, planted_share, total)


def test_o22_in_and_outside_the_randstad():
    """Report 5.1 after 4a: "Gezien het aantal waarnemingen is ons advies om dan te kijken naar studenten die in de
    randstad wonen en studenten die niet in de randstad wonen."  Until December 2026 the study-choice family left
    the population's randstad, regio and asielstatus out of its person frames, so O19-O22 had no such cells."""
    sbb = _sbb((Y, "25007", "BOL", "2"), (Y, "25014", "BOL", "4"))
    enrol = _enrol((1, "200001", "MBO", "1", "1"), (2, "200001", "MBO", "1", "1"), (3, "200002", "MBO", "1", "1"))
    pop = frames.population(1, 2, 3).with_columns(
        pl.col("person_id").replace_strict({1: "randstad", 2: "overig", 3: "randstad"}, return_dtype=pl.String)
        .alias("randstad"))
    t = SC.o22_kans_op_werk(pop, enrol, OPLREF, sbb, Y, dimensions=DIMS)
    r = t.filter((pl.col("herkomst") == "totaal") & (pl.col("randstad") != "totaal") & (pl.col("sector") == "totaal"))
    got = {(x["randstad"], x["measure"]): x["n"] for x in r.iter_rows(named=True)}
    assert got == {("randstad", "matig"): 1, ("randstad", "goed"): 1, ("overig", "matig"): 1}
    assert SC.o22_kans_op_werk(frames.population(1, 2, 3), enrol, OPLREF, sbb, Y, dimensions=DIMS) \
        .filter(pl.col("randstad") != "totaal").is_empty()             # without the column: no such cells
