"""Projection of the latent world onto the CBS register files (everything but education).

Each ``project_*`` function returns one file's rows as CBS writes them: RINPERSOONS/RINPERSOON keys,
string codes, ``YYYYMMDD`` date strings with each file's own open-end sentinel, numeric amounts.  Column
names of the benefit, provision, trajectory and motive files are **assumed** (not confirmed
from public sources); they live in ``data_catalog.yaml`` so a real file with other names is a YAML edit.
"""

from __future__ import annotations


import numpy as np
import polars as pl

from monitor_dagster import reference
from monitor_dagster.synth.labour import (AO, BIJSTAND, SECM_OF_STATE, SELF, SOCVOORZ,
                                          SUB_BBZ, SUB_IOAW, SUB_IOAZ, SUB_IVA, SUB_ONDERNEMER, SUB_WAJONG,
                                          SUB_WAO, SUB_WGA, SUB_ZW, WW, LabourHistory)
from monitor_dagster.synth.timeutil import yyyymmdd

# Open-end sentinels differ per file, as in Remote Access (far-future dates and 88888888; data_catalog.yaml sentinels).
OPEN_ADDRESS = "20500101"
OPEN_BUS = "88888888"
OPEN_MIGRATION = "99999999"

KEYS = ["RINPERSOONS", "RINPERSOON"]


def _d(y: int, m: int = 1, d: int = 1):
    import datetime as dt
    return dt.date(y, m, d)


def with_keys(df: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Replace the internal ``pid`` by the CBS person key (RINPERSOONS + RINPERSOON)."""
    keys = persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))
    return df.join(keys, on="pid", how="left").drop("pid")


def _cumulative(df: pl.DataFrame, year: int, start: str = "start", end: str = "end") -> pl.DataFrame:
    """Rows of a cumulative release for ``year``: spells begun by 31 Dec; later ends are still open."""
    cut = _d(year, 12, 31)
    return (df.filter(pl.col(start) <= cut)
            .with_columns(pl.when(pl.col(end) > cut).then(None).otherwise(pl.col(end)).alias(end)))


# ----------------------------------------------------------------------------------------------- GBA
def project_gbapersoontab(persons: pl.DataFrame, residence: pl.DataFrame, year: int) -> pl.DataFrame:
    """GBAPERSOONTAB release ``year``: every person registered in NL by 31 Dec of the year (cumulative)."""
    reg = residence.filter(pl.col("start") <= _d(year, 12, 31)).select("pid").unique()
    p = persons.join(reg, on="pid", how="semi")
    df = p.select(
        "pid",
        pl.col("birth_country").alias("GBAGEBOORTELAND"),
        pl.col("sex").alias("GBAGESLACHT"),
        pl.col("mother_country").alias("GBAGEBOORTELANDMOEDER"),
        pl.col("father_country").alias("GBAGEBOORTELANDVADER"),
        pl.col("n_parents_abroad").cast(pl.Utf8).alias("GBAAANTALOUDERSBUITENLAND"),
        pl.col("herkomst_country").alias("GBAHERKOMSTGROEPERING"),
        pl.col("generation").cast(pl.Utf8).alias("GBAGENERATIE"),
        pl.col("birth_date").dt.year().cast(pl.Utf8).alias("GBAGEBOORTEJAAR"),
        pl.col("birth_date").dt.strftime("%m").alias("GBAGEBOORTEMAAND"),
        pl.col("birth_date").dt.strftime("%d").alias("GBAGEBOORTEDAG"),
        pl.when(pl.col("birth_imputed")).then(pl.lit("1")).otherwise(pl.lit("0")).alias("GBAIMPUTATIECODE"),
    )
    if year >= 2022:   # new herkomst definition columns (CBS file documentation; herkomst classification 2022)
        df = df.with_columns(
            pl.when(pl.col("GBAGENERATIE") == "0").then(pl.lit("6030")).otherwise(pl.col("GBAHERKOMSTGROEPERING"))
            .alias("GBAHERKOMSTLAND"),
            pl.when(pl.col("GBAGEBOORTELAND") == "6030").then(pl.lit("1")).otherwise(pl.lit("0")).alias("GBAGEBOORTELANDNL"))
    return with_keys(df, persons).sort("RINPERSOON").select(KEYS + [c for c in df.columns if c != "pid"])


def address_spells(residence: pl.DataFrame, rng: np.random.Generator, gba_start) -> pl.DataFrame:
    """Split residence periods into address spells: moves ~ every 8 years, and on 3% of the moves a CBS
    address gap of 1-10 days although the person stays in NL (the reason the population rule needs a
    tolerance, docs/methodology.md)."""
    r = residence.sort("pid", "start")
    s = r["start"].to_numpy().astype("datetime64[D]")
    e = r["end"].to_numpy().astype("datetime64[D]")
    horizon = np.datetime64("2027-12-31")
    e_eff = np.where(np.isnat(e), horizon, e)
    length = (e_eff - s).astype(np.int64)
    n_moves = rng.poisson(np.maximum(length, 0) / (8 * 365.25))
    n_moves = np.minimum(n_moves, 12)
    rows = np.repeat(np.arange(len(r)), n_moves + 1)
    k = np.concatenate([np.arange(c + 1) for c in n_moves]) if len(n_moves) else np.array([], dtype=int)
    # move dates: sorted uniform points inside the period
    u = rng.random(len(rows))
    cuts = s[rows] + (u * length[rows]).astype(np.int64).astype("timedelta64[D]")
    df = pl.DataFrame({"row": rows, "k": k, "cut": cuts}).with_columns(pl.col("cut").cast(pl.Date))
    df = df.with_columns(pl.when(pl.col("k") == 0).then(None).otherwise(pl.col("cut")).alias("cut"))
    df = df.sort("row", "cut", nulls_last=False)
    base = r.with_row_index("row").select(pl.col("row").cast(pl.Int64), "pid", "start", "end")
    df = df.with_columns(pl.col("row").cast(pl.Int64)).join(base, on="row")
    df = df.with_columns(pl.coalesce("cut", "start").alias("a_start"))
    df = df.with_columns((pl.col("a_start").shift(-1).over("row") - pl.duration(days=1)).alias("a_end"))
    df = df.with_columns(pl.when(pl.col("a_end").is_null()).then(pl.col("end")).otherwise(pl.col("a_end")).alias("a_end"))
    gap = rng.random(df.height) < 0.03
    gap_days = rng.integers(1, 11, df.height)
    df = df.with_columns(pl.Series("gap", np.where(gap, gap_days, 0)))
    # a gap shortens the previous address spell (the next one starts as planned)
    df = df.with_columns(
        pl.when(pl.col("a_end").is_not_null() & (pl.col("gap").shift(-1).over("row") > 0))
        .then(pl.col("a_end") - pl.duration(days=pl.col("gap").shift(-1).over("row")))
        .otherwise(pl.col("a_end")).alias("a_end"))
    df = df.filter(pl.col("a_end").is_null() | (pl.col("a_end") >= pl.col("a_start")))
    df = df.filter(pl.col("a_end").is_null() | (pl.col("a_end") >= gba_start))
    obj = rng.integers(10_000_000, 99_999_999, df.height)
    soort = np.where(rng.random(df.height) < 0.995, "VBO", np.where(rng.random(df.height) < 0.5, "LIG", "STA"))
    return df.select("pid", pl.col("a_start").alias("start"), pl.col("a_end").alias("end"),
                     pl.Series("SOORTOBJECTNUMMER", soort), pl.Series("RINOBJECTNUMMER", obj.astype(str)))


def project_gbaadresobjectbus(addresses: pl.DataFrame, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    df = _cumulative(addresses, year).select(
        "pid", "SOORTOBJECTNUMMER", "RINOBJECTNUMMER",
        yyyymmdd("start").alias("GBADATUMAANVANGADRESHOUDING"),
        yyyymmdd("end", OPEN_ADDRESS).alias("GBADATUMEINDEADRESHOUDING"))
    return with_keys(df, persons).sort("RINPERSOON", "GBADATUMAANVANGADRESHOUDING").select(
        KEYS + ["GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING", "SOORTOBJECTNUMMER", "RINOBJECTNUMMER"])


def project_gbamigratiebus(migration: pl.DataFrame, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """Migration periods from 1 Oct 1994 (report 2.2: AANVANGMIGRATIEDATUM; other names assumed)."""
    df = _cumulative(migration, year).select(
        "pid", yyyymmdd("start").alias("AANVANGMIGRATIEDATUM"), yyyymmdd("end", OPEN_MIGRATION).alias("EINDEMIGRATIEDATUM"),
        pl.col("kind").alias("MIGRATIESOORT"), pl.col("country").alias("MIGRATIELAND"))
    return with_keys(df, persons).sort("RINPERSOON", "AANVANGMIGRATIEDATUM").select(
        KEYS + ["AANVANGMIGRATIEDATUM", "EINDEMIGRATIEDATUM", "MIGRATIESOORT", "MIGRATIELAND"])


MOTIVE_CODES = {"arbeid": "1", "asiel": "2", "gezin": "3", "studie": "4", "overig": "5"}


def project_migmotiefbus(persons: pl.DataFrame, residence: pl.DataFrame, year: int) -> pl.DataFrame:
    """Migration motive of first-generation immigrants arrived from 1995 (report 7.2.5; names assumed)."""
    first = (residence.filter(pl.col("origin").is_not_null() & (pl.col("start") >= _d(1995)))
             .group_by("pid").agg(pl.col("start").min(), pl.col("end").first()))
    df = (persons.filter(pl.col("motive").is_not_null()).join(first, on="pid")
          .filter(pl.col("start") <= _d(year, 12, 31))
          .select("pid", yyyymmdd("start").alias("DATUMAANVANGMOTIEF"),
                  pl.lit(OPEN_BUS).alias("DATUMEINDEMOTIEF"),
                  pl.col("motive").replace_strict(MOTIVE_CODES).alias("MIGMOTIEF")))
    return with_keys(df, persons).sort("RINPERSOON").select(KEYS + ["DATUMAANVANGMOTIEF", "DATUMEINDEMOTIEF", "MIGMOTIEF"])


def project_landaktueelref() -> pl.DataFrame:
    ref = reference.countries()
    return ref.select(pl.col("code").alias("LAND"), pl.col("name").alias("LANDOMSCHRIJVING"),
                      pl.col("landtype").alias("LANDTYPE"), pl.col("monitor_group").alias("LANDGROEPMONITOR"))


# ----------------------------------------------------------------------------------------------- SECM
def secm_spells(lab: LabourHistory, rng: np.random.Generator) -> pl.DataFrame:
    """SECM spells: the latent state spells without the time abroad (SECM 13 vs 14 from the subtype)."""
    s = lab.spells.filter(pl.col("state") != 0)
    secm = pl.col("state").replace_strict({k: v for k, v in SECM_OF_STATE.items()}, return_dtype=pl.Utf8)
    s = s.with_columns(pl.when(pl.col("state") == SELF).then(
        pl.when(pl.col("subtype") == SUB_ONDERNEMER).then(pl.lit("13")).otherwise(pl.lit("14"))).otherwise(secm).alias("SECM"))
    return s


def project_secmbus(secm: pl.DataFrame, lab: LabourHistory, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """SECMBUS release ``year``; the XKOPPEL*SECM flags say which sources the spell rests on."""
    df = _cumulative(secm, year)
    # persons holding a job during a non-work spell (students 26, pensioners): XKOPPELWERKNSECM too
    flags = {
        "XKOPPELWERKNSECM": pl.col("SECM").is_in(["11", "26"]),
        "XKOPPELDGASECM": pl.col("SECM") == "12",
        "XKOPPELZELFSTSECM": pl.col("SECM").is_in(["13", "14"]),
        "XKOPPELWERKLUITKSECM": pl.col("SECM") == "21",
        "XKOPPELBIJSTANDSECM": pl.col("SECM") == "22",
        "XKOPPELSOCVOORZOVSECM": pl.col("SECM") == "23",
        "XKOPPELZIEKTEAOSECM": pl.col("SECM") == "24",
        "XKOPPELPENSIOENSECM": pl.col("SECM") == "25",
        "XKOPPELSCHOLSTUDSECM": pl.col("SECM").is_in(["26", "31"]),
    }
    df = df.select("pid", yyyymmdd("start").alias("AANVSECM"), yyyymmdd("end", OPEN_BUS).alias("EINDSECM"), "SECM",
                   *[pl.when(v).then(pl.lit("1")).otherwise(pl.lit("")).alias(k) for k, v in flags.items()])
    return with_keys(df, persons).sort("RINPERSOON", "AANVSECM").select(KEYS + ["AANVSECM", "EINDSECM", "SECM", *flags])


# ------------------------------------------------------------------------------------ benefits, provisions
SOORTBIJSTAND = {0: "1", SUB_IOAW: "2", SUB_IOAZ: "3", SUB_BBZ: "4"}
AOWET = {SUB_WAO: "1", SUB_WAJONG: "3", SUB_IVA: "4", SUB_WGA: "5"}


def project_bijstandpersoonbus(lab: LabourHistory, persons, year):
    s = lab.spells.filter((pl.col("state") == BIJSTAND)
                          | ((pl.col("state") == SOCVOORZ) & pl.col("subtype").is_in([SUB_IOAW, SUB_IOAZ, SUB_BBZ])))
    df = _cumulative(s, year).select("pid", yyyymmdd("start").alias("AANVANGBIJSTAND"),
                                     yyyymmdd("end", OPEN_BUS).alias("EINDEBIJSTAND"),
                                     pl.col("subtype").replace_strict(SOORTBIJSTAND, default="1", return_dtype=pl.Utf8)
                                     .alias("SOORTBIJSTAND"))
    return with_keys(df, persons).sort("RINPERSOON", "AANVANGBIJSTAND").select(KEYS + df.columns[1:])


def project_wwpersoonbus(lab: LabourHistory, persons, year):
    df = _cumulative(lab.spells.filter(pl.col("state") == WW), year).select(
        "pid", yyyymmdd("start").alias("AANVANGWW"), yyyymmdd("end", OPEN_BUS).alias("EINDEWW"))
    return with_keys(df, persons).sort("RINPERSOON", "AANVANGWW").select(KEYS + df.columns[1:])


def project_aototpersoonbus(lab: LabourHistory, persons, year):
    """Disability benefits with law code (1 WAO, 3 Wajong, 4 IVA, 5 WGA); sickness benefit (ZW) is in
    SECM 24 but not in this file."""
    s = lab.spells.filter(((pl.col("state") == AO) & (pl.col("subtype") != SUB_ZW))
                          | ((pl.col("state") == SOCVOORZ) & (pl.col("subtype") == SUB_WAJONG)))
    df = _cumulative(s, year).select("pid", yyyymmdd("start").alias("AANVANGAO"), yyyymmdd("end", OPEN_BUS).alias("EINDEAO"),
                                     pl.col("subtype").replace_strict(AOWET, default="5", return_dtype=pl.Utf8).alias("AOWET"))
    return with_keys(df, persons).sort("RINPERSOON", "AANVANGAO").select(KEYS + df.columns[1:])


# Latent provision types with their code in SRGPERSOONPWETBUS (2015-2018) and PWETSRGPERSOONBUS (2019+).
# None = not registered in that file: the voorziening arbeidsbeperking is gone from 2019 (report 3.2.1, SRG 2019);
# the finer 2019+ categories were all "overige voorziening" (20) before.
PROVISIONS = [
    # name, srg code, pwet code, weight, is work provision (P-b/P-d)
    ("loonkostensubsidie", "11", "11", 0.12, True),
    ("tijdelijke loonkostensubsidie", "12", "12", 0.05, True),
    ("forfaitaire loonkostensubsidie", "13", "13", 0.03, True),
    ("WIW/ID-baan", "14", "14", 0.03, True),
    ("beschut werk", "15", "15", 0.04, True),
    ("participatieplaats", "16", "16", 0.10, True),
    ("jobcoach", "17", "17", 0.07, True),
    ("vervoersvoorziening", "18", "18", 0.04, False),
    ("voorziening arbeidsbeperking", "19", None, 0.06, True),
    ("proefplaatsing", "20", "21", 0.05, True),
    ("overige werkplek", "20", "22", 0.05, True),
    ("werkplekaanpassing", "20", "23", 0.03, True),
    ("coaching naar werk", "20", "24", 0.10, True),
    ("training", "20", "25", 0.08, True),
    ("vrijwilligerswerk", "20", "26", 0.06, False),
    ("overige sociale activering", "20", "27", 0.05, False),
    ("overige faciliterende voorzieningen", "20", "28", 0.04, False),
]
SRG_LABELS = {"11": "loonkostensubsidie", "12": "tijdelijke loonkostensubsidie", "13": "forfaitaire loonkostensubsidie",
              "14": "WIW/ID-baan", "15": "beschut werk", "16": "participatieplaats", "17": "jobcoach",
              "18": "vervoersvoorziening", "19": "voorziening arbeidsbeperking", "20": "overige voorziening"}
PWET_LABELS = {p[2]: p[0] for p in PROVISIONS if p[2] is not None}
TRAJECT_LABELS = {"1": "scholing", "2": "sollicitatietraining", "3": "proefplaatsing", "4": "jobcoaching", "5": "overig"}


def simulate_provisions(lab: LabourHistory, persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Participatiewet provisions during bijstand (and Wajong) spells: waiting time geometric per month,
    duration 3-18 months; lower take-up of work provisions for non-Western recipients (planted, P-a..P-f)."""
    s = (lab.spells.filter((pl.col("state") == BIJSTAND) | ((pl.col("state") == SOCVOORZ) & (pl.col("subtype") == SUB_WAJONG)))
         .filter(pl.col("end").is_null() | (pl.col("end") >= _d(2015)))
         .join(persons.select("pid", "nonwestern"), on="pid").sort("pid", "start"))
    k = s.height
    p = np.where(s["nonwestern"].to_numpy(), 0.022, 0.03)
    wait = rng.geometric(p, k) - 1
    start = s["start"].to_numpy().astype("datetime64[D]") + (wait * 30.44).astype(np.int64).astype("timedelta64[D]")
    start = np.maximum(start, np.datetime64("2015-01-01"))
    end_sp = s["end"].to_numpy().astype("datetime64[D]")
    ok = np.isnat(end_sp) | (start <= end_sp)
    names = [x[0] for x in PROVISIONS]
    w = np.array([x[3] for x in PROVISIONS])
    typ = rng.choice(len(names), size=k, p=w / w.sum())
    dur = rng.integers(90, 548, k).astype("timedelta64[D]")
    end = start + dur
    # a second provision for a fifth of the recipients who got one
    second = ok & (rng.random(k) < 0.2)
    typ2 = rng.choice(len(names), size=k, p=w / w.sum())
    start2 = end + rng.integers(1, 120, k).astype("timedelta64[D]")
    end2 = start2 + rng.integers(60, 365, k).astype("timedelta64[D]")
    pid = s["pid"].to_numpy()
    out = pl.DataFrame({
        "pid": np.concatenate([pid[ok], pid[second]]),
        "start": np.concatenate([start[ok], start2[second]]),
        "end": np.concatenate([end[ok], end2[second]]),
        "type": np.concatenate([typ[ok], typ2[second]]),
    }).with_columns(pl.col("start").cast(pl.Date), pl.col("end").cast(pl.Date))
    # the forfaitaire loonkostensubsidie exists from 2017 only
    forf = names.index("forfaitaire loonkostensubsidie")
    out = out.with_columns(pl.when((pl.col("type") == forf) & (pl.col("start") < _d(2017))).then(0)
                           .otherwise(pl.col("type")).alias("type"))
    return out.with_columns(pl.col("type").replace_strict(dict(enumerate(names)), return_dtype=pl.Utf8).alias("provision"))


def _provision_release(prov: pl.DataFrame, persons, year: int, pwet: bool) -> pl.DataFrame:
    codes = {p[0]: (p[2] if pwet else p[1]) for p in PROVISIONS}
    if pwet:   # from 2019: only provisions active in or after 2019, in the new code list
        df = prov.filter(pl.col("end") >= _d(2019))
    else:
        df = prov.filter(pl.col("start") <= _d(2018, 12, 31))
        df = df.with_columns(pl.when(pl.col("end") > _d(2018, 12, 31)).then(None).otherwise(pl.col("end")).alias("end"))
    df = df.with_columns(pl.col("provision").replace_strict(codes, default=None, return_dtype=pl.Utf8).alias("code"))
    df = _cumulative(df.filter(pl.col("code").is_not_null()), year)
    if pwet:
        cols = [yyyymmdd("start").alias("PWETAANVANGVOORZ"), yyyymmdd("end", OPEN_BUS).alias("PWETEINDEVOORZ"),
                pl.col("code").alias("PWETSOORTVOORZ")]
    else:
        cols = [yyyymmdd("start").alias("AANVANGVOORZIENING"), yyyymmdd("end", OPEN_BUS).alias("EINDEVOORZIENING"),
                pl.col("code").alias("SOORTVOORZIENING")]
    df = df.select("pid", *cols)
    return with_keys(df, persons).sort(["RINPERSOON", df.columns[1]]).select(KEYS + df.columns[1:])


def project_srgpersoonpwetbus(prov, persons, year):
    return _provision_release(prov, persons, year, pwet=False)


def project_pwetsrgpersoonbus(prov, persons, year):
    return _provision_release(prov, persons, year, pwet=True)


def simulate_trajectories(lab: LabourHistory, rng: np.random.Generator) -> pl.DataFrame:
    """Re-integration trajectories of UWV clients: during WW (SIRWW) and AO/Wajong spells (SIRAG)."""
    s = lab.spells.filter((pl.col("state") == WW) | ((pl.col("state") == AO) & (pl.col("subtype") != SUB_ZW))
                          | ((pl.col("state") == SOCVOORZ) & (pl.col("subtype") == SUB_WAJONG))).sort("pid", "start")
    k = s.height
    is_ww = (s["state"] == WW).to_numpy()
    wait = rng.geometric(np.where(is_ww, 0.04, 0.02), k) - 1
    start = s["start"].to_numpy().astype("datetime64[D]") + (wait * 30.44).astype(np.int64).astype("timedelta64[D]")
    end_sp = s["end"].to_numpy().astype("datetime64[D]")
    ok = np.isnat(end_sp) | (start <= end_sp)
    end = start + rng.integers(60, 270, k).astype("timedelta64[D]")
    typ = rng.choice(list(TRAJECT_LABELS), size=k, p=[0.3, 0.25, 0.1, 0.15, 0.2])
    return pl.DataFrame({"pid": s["pid"].to_numpy()[ok], "start": start[ok], "end": end[ok], "type": typ[ok],
                         "client": np.where(is_ww, "WW", "AG")[ok]}).with_columns(
        pl.col("start").cast(pl.Date), pl.col("end").cast(pl.Date))


def project_sirpersoonbus(traj: pl.DataFrame, persons, year: int, client: str) -> pl.DataFrame:
    df = _cumulative(traj.filter(pl.col("client") == client), year).select(
        "pid", yyyymmdd("start").alias("AANVANGTRAJECT"), yyyymmdd("end", OPEN_BUS).alias("EINDETRAJECT"),
        pl.col("type").alias("SOORTTRAJECT"))
    return with_keys(df, persons).sort("RINPERSOON", "AANVANGTRAJECT").select(KEYS + df.columns[1:])
