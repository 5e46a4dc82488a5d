"""Demography of the synthetic population: persons, residence periods, migration events.

Every person gets one latent demographic history (birth, sex, herkomst, generation, parents' countries,
immigration, emigration and return), from which GBAPERSOONTAB, GBAADRESOBJECTBUS, GBAMIGRATIEBUS and
MIGMOTIEFBUS are projected.  Definitions follow report 2.2: first generation = born abroad with at least one
parent born abroad (herkomst = own birth country); second generation = born in NL with at least one parent
born abroad (herkomst = mother's birth country unless NL, then father's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from monitor_dagster import reference
from monitor_dagster.synth import params as P
from monitor_dagster.synth.timeutil import DAY, date, str_series, to_pl_date

NL = "6030"
ANCHOR = date(2018, 1, 1)  # StatLine population shares refer to 1 January 2018


@dataclass
class Demography:
    persons: pl.DataFrame     # one row per person ever registered
    residence: pl.DataFrame   # periods living in NL: pid, start, end (null = open), origin, destination, kind
    migration: pl.DataFrame   # GBAMIGRATIEBUS-like events after 1 Oct 1994: pid, kind I/E/A, start, end, country


def group_codes() -> dict[str, tuple[list[str], np.ndarray]]:
    """Country codes per monitor group with drawing weights (first listed code of a group weighs most)."""
    # rows with generator=no were added for real files (every African code of Tabel 34, December 2026): not
    # drawn, so the synthetic zones stay as they were
    ref = reference.countries().filter(pl.col("generator") == "yes")
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    for g in P.GROUPS:
        codes = ref.filter(pl.col("monitor_group") == g)["code"].to_list()
        if not codes:
            raise ValueError(f"reference/countries.csv has no country for monitor group {g!r}")
        w = np.ones(len(codes))
        w[0] = max(1.0, len(codes) / 2)
        out[g] = (codes, w / w.sum())
    return out


def _draw_codes(rng: np.random.Generator, groups: np.ndarray, codes: dict) -> np.ndarray:
    out = np.empty(len(groups), dtype=object)
    for g, (cs, w) in codes.items():
        idx = np.flatnonzero(groups == g)
        if len(idx):
            out[idx] = np.asarray(cs, dtype=object)[rng.choice(len(cs), size=len(idx), p=w)]
    return out


def _population_shares(first_year: int, last_year: int) -> tuple[list[tuple[str, int]], np.ndarray]:
    """Cell probabilities such that the persons living in NL on 1 Jan 2018 have StatLine's shares: cells
    are inflated for the part of their persons that arrives or is born after that date, and for emigration
    between the start of the simulation and 2018."""
    sim_start = first_year - 2
    years_before = max(0.0, 2018 - sim_start)
    cells = [("Nederland", 0)]
    post_native = max(0, last_year - 2017) * 1.1 / (1.1 * max(0, last_year - 2017) + 100.0)
    sizes = [P.POPULATION_2018_NONE / (1 - post_native) * np.exp(P.EMIGRATION_HAZARD["none"] * years_before)]
    for g, (first, second) in P.POPULATION_2018.items():
        w = P.ARRIVAL_WINDOWS[g]
        mass = sum(x[0] for x in w)
        post = sum(x[0] * max(0.0, min(x[2] + 1, last_year + 1) - max(x[1], 2018)) / (x[2] + 1 - x[1]) for x in w
                   if x[2] >= 2018) / mass
        h = (P.EMIGRATION_HAZARD["first_Polen"] if g == "Polen" else P.EMIGRATION_HAZARD["first_westers overig"]
             if g == "westers overig" else P.EMIGRATION_HAZARD["first_refugee"] if g in P.REFUGEE_GROUPS
             else P.EMIGRATION_HAZARD["first"])
        cells += [(g, 1), (g, 2)]
        sizes += [first / (1 - post) * np.exp(h * years_before), second * np.exp(P.EMIGRATION_HAZARD["second"] * years_before)]
    sizes = np.asarray(sizes, dtype=float)
    return cells, sizes / sizes.sum()


def _age_native(rng: np.random.Generator, n: int, min_age: float) -> np.ndarray:
    """Age on 1 Jan 2018 for persons without migration background: a stylised Dutch age pyramid."""
    edges = np.array([min_age, 0, 20, 40, 60, 80, 100], dtype=float)
    dens = np.array([1.1, 1.1, 1.15, 1.35, 1.05, 0.25])   # relative density per year of age
    mass = dens * np.diff(edges)
    k = rng.choice(len(mass), size=n, p=mass / mass.sum())
    return edges[k] + rng.random(n) * (edges[k + 1] - edges[k])


def simulate_demography(n: int, rng: np.random.Generator, first_year: int, last_year: int) -> Demography:
    sim_start = date(first_year - 2, 1, 1)
    sim_end = date(last_year, 12, 31)
    gba_start = date(*P.GBA_START)
    codes = group_codes()
    cells, shares = _population_shares(first_year, last_year)
    cell = rng.choice(len(cells), size=n, p=shares)
    group = np.array([c[0] for c in cells], dtype=object)[cell]
    generation = np.array([c[1] for c in cells], dtype=np.int8)[cell]
    nonwestern = np.isin(group, P.NON_WESTERN)
    refugee = np.isin(group, P.REFUGEE_GROUPS)

    # --- birth dates ---------------------------------------------------------------------------------
    birth = np.empty(n, dtype="datetime64[D]")
    first_arrival = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    g0 = generation == 0
    min_age = -float(max(0, last_year - 2017))
    age = _age_native(rng, int(g0.sum()), min_age)
    birth[g0] = ANCHOR - (age * 365.25).astype(np.int64).astype("timedelta64[D]")
    g2 = generation == 2
    for g, (mu, sd) in P.SECOND_GEN_BIRTH_YEAR.items():
        idx = np.flatnonzero(g2 & (group == g))
        by = np.clip(rng.normal(mu, sd, len(idx)), 1930, last_year + 0.99)
        birth[idx] = date(1970) + ((by - 1970) * 365.25).astype(np.int64).astype("timedelta64[D]")
    g1 = generation == 1
    for g, windows in P.ARRIVAL_WINDOWS.items():
        idx = np.flatnonzero(g1 & (group == g))
        if not len(idx):
            continue
        w = np.array([x[0] for x in windows])
        k = rng.choice(len(windows), size=len(idx), p=w / w.sum())
        lo = np.array([x[1] for x in windows])[k]
        hi = np.array([x[2] for x in windows])[k] + 1
        ay = lo + rng.random(len(idx)) * (hi - lo)
        arrival = date(1970) + ((ay - 1970) * 365.25).astype(np.int64).astype("timedelta64[D]")
        arr_age = np.clip(rng.normal(26, 10, len(idx)), 0, 70)
        b = arrival - (arr_age * 365.25).astype(np.int64).astype("timedelta64[D]")
        b = np.maximum(b, date(1925))
        birth[idx] = b
        first_arrival[idx] = arrival
    # A few persons without migration background were born abroad to Dutch parents (generation stays 0).
    born_abroad_nl = g0 & (rng.random(n) < 0.02)
    first_arrival[born_abroad_nl] = birth[born_abroad_nl] + np.timedelta64(60, "D")

    # Birth dates of part of the first generation are unknown and imputed to 1 July (GBAIMPUTATIECODE).
    imputed = g1 & (refugee | (group == "Afrika overig")) & (rng.random(n) < 0.1)
    by = birth.astype("datetime64[Y]")
    birth[imputed] = by[imputed].astype("datetime64[D]") + np.timedelta64(181, "D")
    first_arrival = np.where(~np.isnat(first_arrival) & (first_arrival <= birth), birth + DAY, first_arrival)

    # --- sex ---------------------------------------------------------------------------------------------
    male_p = np.array([P.MALE_SHARE_FIRST_GEN[g] for g in group])
    male_p = np.where(g1, male_p, 0.5)
    sex = np.where(rng.random(n) < male_p, "1", "2")

    # --- countries ---------------------------------------------------------------------------------------
    own_code = _draw_codes(rng, group, codes)
    birth_country = np.where(g1, own_code, NL).astype(object)
    abroad_born_nl_country = _draw_codes(rng, np.where(born_abroad_nl, "westers overig", "Nederland"), codes)
    birth_country = np.where(born_abroad_nl, abroad_born_nl_country, birth_country)
    # Parents: first generation mostly both abroad; second generation mother abroad in 72% of cases.
    u = rng.random(n)
    mother = np.full(n, NL, dtype=object)
    father = np.full(n, NL, dtype=object)
    both = g1 & (u < 0.93)
    mother[both] = own_code[both]
    father[both] = own_code[both]
    only_father = g1 & (u >= 0.93) & (u < 0.965)
    father[only_father] = own_code[only_father]
    only_mother = g1 & (u >= 0.965)
    mother[only_mother] = own_code[only_mother]
    m_abroad = g2 & (u < 0.72)
    mother[m_abroad] = own_code[m_abroad]
    f_also = m_abroad & (rng.random(n) < 0.75)
    father[f_also] = own_code[f_also]
    f_only = g2 & ~m_abroad
    father[f_only] = own_code[f_only]
    n_abroad = (mother != NL).astype(np.int8) + (father != NL).astype(np.int8)
    herkomst_country = np.where(g1, own_code, np.where(g2, np.where(mother != NL, mother, father), NL))

    # --- residence and migration ---------------------------------------------------------------------
    start = np.where(np.isnat(first_arrival), birth, first_arrival)
    h = np.full(n, P.EMIGRATION_HAZARD["none"])
    h[g2] = P.EMIGRATION_HAZARD["second"]
    h[g1] = P.EMIGRATION_HAZARD["first"]
    h[g1 & (group == "Polen")] = P.EMIGRATION_HAZARD["first_Polen"]
    h[g1 & (group == "westers overig")] = P.EMIGRATION_HAZARD["first_westers overig"]
    h[g1 & refugee] = P.EMIGRATION_HAZARD["first_refugee"]
    from_ = np.maximum(start, sim_start)
    t_em = (rng.exponential(1.0 / h) * 365.25).astype(np.int64).astype("timedelta64[D]")
    emig = from_ + t_em + DAY
    emigrates = emig <= sim_end
    ret = emig + ((0.25 + rng.exponential(2.0, n)) * 365.25).astype(np.int64).astype("timedelta64[D]")
    returns = emigrates & (rng.random(n) < P.RETURN_PROBABILITY) & (ret <= sim_end)
    # An earlier, separate stay after 1 Oct 1994 (repeat migration before the window).
    earlier = (g1 & ~np.isnat(first_arrival) & (first_arrival < sim_start)
               & (rng.random(n) < P.EARLIER_STAY_PROBABILITY))
    gap = ((1 + 3 * rng.random(n)) * 365.25).astype(np.int64).astype("timedelta64[D]")
    stay = ((0.5 + 3.5 * rng.random(n)) * 365.25).astype(np.int64).astype("timedelta64[D]")
    e_end = first_arrival - gap
    e_start = e_end - stay
    earlier &= (e_start > gba_start) & (e_start > birth)
    first_arrival = np.where(earlier, e_start, first_arrival)

    emig_country = _draw_codes(rng, group, codes)
    emig_country = np.where(group == "Nederland", _draw_codes(rng, np.full(n, "westers overig", dtype=object),
                                                               codes), emig_country)
    administrative = rng.random(n) < 0.2   # "vertrek onbekend waarheen": removed by the municipality

    pid = np.arange(n, dtype=np.int64)
    nat = np.datetime64("NaT")
    res_parts = [
        # main stay
        (pid, start, np.where(emigrates, emig - DAY, nat), np.where(g1 | born_abroad_nl, birth_country, None),
         np.where(emigrates, np.where(administrative, "0000", emig_country), None), np.zeros(n, np.int8)),
    ]
    r = np.flatnonzero(returns)
    res_parts.append((pid[r], ret[r], np.full(len(r), nat), emig_country[r], np.full(len(r), None, object),
                      np.full(len(r), 2, np.int8)))
    e = np.flatnonzero(earlier)
    res_parts.append((pid[e], e_start[e], e_end[e] - DAY, birth_country[e], birth_country[e],
                      np.full(len(e), 1, np.int8)))
    residence = pl.DataFrame({
        "pid": np.concatenate([p[0] for p in res_parts]),
        "start": np.concatenate([p[1] for p in res_parts]).astype("datetime64[D]"),
        "end": np.concatenate([p[2] for p in res_parts]).astype("datetime64[D]"),
        "origin": str_series("", np.concatenate([p[3] for p in res_parts])),
        "destination": str_series("", np.concatenate([p[4] for p in res_parts])),
        "stay": np.concatenate([p[5] for p in res_parts]),
    }).with_columns(pl.col("start").cast(pl.Date), pl.col("end").cast(pl.Date)).sort("pid", "start")

    # GBAMIGRATIEBUS: immigrations after 1 Oct 1994 (I), emigrations (E) or administrative removals (A);
    # each row is a period without overlap: it lasts until the next migration of the same person.
    imm = residence.filter(pl.col("origin").is_not_null() & (pl.col("start") >= gba_start.astype(object)))
    imm = imm.select("pid", pl.lit("I").alias("kind"), "start", pl.col("origin").alias("country"))
    emi = residence.filter(pl.col("end").is_not_null()).select(
        "pid", pl.when(pl.col("destination") == "0000").then(pl.lit("A")).otherwise(pl.lit("E")).alias("kind"),
        (pl.col("end") + pl.duration(days=1)).alias("start"), pl.col("destination").alias("country"))
    migration = (pl.concat([imm, emi]).sort("pid", "start")
                 .with_columns((pl.col("start").shift(-1).over("pid") - pl.duration(days=1)).alias("end")))

    ability = rng.standard_normal(n)
    motive = _draw_motive(rng, group, generation)
    persons = pl.DataFrame({
        "pid": pid,
        "rinpersoons": np.full(n, "R"),
        "rinpersoon": _rinpersoon(pid, rng),
        "sex": sex,
        "birth_date": to_pl_date("birth_date", birth),
        "birth_imputed": imputed,
        "generation": generation,
        "herkomst_group": str_series("", group),
        "nonwestern": nonwestern,
        "refugee_group": refugee,
        "birth_country": str_series("", birth_country),
        "mother_country": str_series("", mother),
        "father_country": str_series("", father),
        "n_parents_abroad": n_abroad,
        "herkomst_country": str_series("", herkomst_country),
        "first_arrival": to_pl_date("first_arrival", first_arrival),
        "motive": str_series("", motive),
        "ability": ability,
    })
    return Demography(persons=persons, residence=residence, migration=migration)


def _draw_motive(rng: np.random.Generator, group: np.ndarray, generation: np.ndarray) -> np.ndarray:
    """Migration motive of the first generation (MIGMOTIEFBUS; report 7.2.5 asielstatushouders)."""
    motives = np.array(["asiel", "arbeid", "gezin", "studie", "overig"], dtype=object)
    p_default = np.array([0.08, 0.25, 0.4, 0.12, 0.15])
    p_by = {g: np.array([0.8, 0.02, 0.15, 0.01, 0.02]) for g in P.REFUGEE_GROUPS}
    p_by["Polen"] = np.array([0.0, 0.75, 0.18, 0.04, 0.03])
    p_by["Turkije"] = np.array([0.05, 0.15, 0.7, 0.05, 0.05])
    p_by["Marokko"] = np.array([0.02, 0.15, 0.75, 0.04, 0.04])
    out = np.full(len(group), None, dtype=object)
    for g in np.unique(group):
        idx = np.flatnonzero((group == g) & (generation == 1))
        if len(idx):
            p = p_by.get(g, p_default)
            out[idx] = motives[rng.choice(5, size=len(idx), p=p)]
    return out


#: RINPERSOON = (pid * RIN_MULT + b) % RIN_SPAN + RIN_LOW: 9 digits; replicate.py shifts keys with the same map
RIN_LOW = 100_000_000
RIN_SPAN = 900_000_000
RIN_MULT = 387_420_491  # coprime with RIN_SPAN (gcd 1), so the map is a bijection


def _rinpersoon(pid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique 9-digit strings: an affine permutation of 100,000,000..999,999,999 (no collisions)."""
    b = int(rng.integers(0, RIN_SPAN))
    v = (pid.astype(np.int64) * RIN_MULT + b) % RIN_SPAN + RIN_LOW
    return v.astype(str)
