"""Code lists, planted parameters, date and projection helpers: shared by the careers and all file modules (no file).

Separate because the latent careers, every file module and the truth read them; a file module imports what it
needs from here, never from another file's module.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.params import GROUPS  # one code list (re-exported by the package)

# ---------------------------------------------------------------------------------------------------------
# Code lists and constants
# ---------------------------------------------------------------------------------------------------------

_G = {g: i for i, g in enumerate(GROUPS)}
_DEFAULT_GROUP = _G["overig niet-westers"]  # unknown herkomst strings are treated as overig niet-westers

#: Planted shift of the latent secondary-track score per herkomst group (report 5.1, item 19).
GROUP_TRACK_EFFECT: dict[str, float] = {
    "Turkije": -0.45, "Marokko": -0.45, "Suriname": -0.25, "Antillen en Aruba": -0.35,
    "Afghanistan": -0.05, "Irak": -0.15, "Iran": 0.15, "Somalië": -0.40, "Syrië": -0.20, "Eritrea": -0.45,
    "Afrika overig": -0.20, "overig niet-westers": -0.05,
    "Duitsland": 0.0, "Polen": -0.15, "Indonesië": 0.0, "westers overig": 0.10, "Nederland": 0.0,
}

#: Level brought from abroad (laag, middelbaar, hoog) by first-generation immigrants arriving at 18+.
ABROAD_LEVEL_SHARES: dict[str, tuple[float, float, float]] = {
    "Turkije": (0.55, 0.28, 0.17), "Marokko": (0.58, 0.27, 0.15), "Suriname": (0.30, 0.45, 0.25),
    "Antillen en Aruba": (0.30, 0.45, 0.25), "Afghanistan": (0.45, 0.27, 0.28), "Irak": (0.42, 0.28, 0.30),
    "Iran": (0.20, 0.30, 0.50), "Somalië": (0.60, 0.28, 0.12), "Syrië": (0.45, 0.27, 0.28),
    "Eritrea": (0.70, 0.22, 0.08), "Afrika overig": (0.38, 0.32, 0.30), "overig niet-westers": (0.30, 0.30, 0.40),
    "Duitsland": (0.15, 0.40, 0.45), "Polen": (0.25, 0.50, 0.25), "Indonesië": (0.25, 0.40, 0.35),
    "westers overig": (0.12, 0.30, 0.58), "Nederland": (0.25, 0.40, 0.35),
}

#: Planted shift (latent scale, sd about 1.1) of SVOVRGAansluitwerk when the wording changed in 2019
#: (report 5.1, 4c: "Dit kan leiden tot een trendbreuk").
AANSLUITING_WORDING_SHIFT = 0.45
WORDING_BREAK_YEAR = 2019
WORDING_OLD = "Hoe is de aansluiting tussen de gevolgde mbo-opleiding en uw huidige functie? (2016-2018)"
WORDING_NEW = ("Hoe past uw huidige baan bij de opleiding die u in het schooljaar [jaar/jaar-1] heeft gevolgd? "
               "(vanaf 2019)")

# Fine programme levels (one catalogue block per fine level x sector).
FINE = ["praktijk", "vmbo_b", "vmbo_k", "vmbo_g", "vmbo_t", "havo", "vwo",
        "mbo1", "mbo2", "mbo3", "mbo4", "hbo_ad", "hbo_ba", "hbo_ma", "wo_ba", "wo_ma"]
F = {name: i for i, name in enumerate(FINE)}
FINE_COARSE = ["praktijk", "vmbo_bk", "vmbo_bk", "vmbo_gt", "vmbo_gt", "havo", "vwo",
               "mbo1", "mbo2", "mbo3", "mbo4", "hbo_ad", "hbo_ba", "hbo_ma", "wo_ba", "wo_ma"]
FINE_STAGE = ["vo"] * 7 + ["mbo"] * 4 + ["hbo"] * 3 + ["wo"] * 2
FINE_SOI = np.array([1211, 1212, 1212, 1221, 1221, 2131, 2132, 1213, 2111, 2112, 2121,
                     3111, 3112, 3211, 3113, 3212], dtype=np.int16)
FINE_NIVEAU_CODE = ["PRO", "VMBO-B", "VMBO-K", "VMBO-G", "VMBO-T", "HAVO", "VWO", "MBO1", "MBO2", "MBO3",
                    "MBO4", "HBO-AD", "HBO-BA", "HBO-MA", "WO-BA", "WO-MA"]
VO_EXAM_CODE = {"vmbo_b": "1", "vmbo_k": "2", "vmbo_g": "3", "vmbo_t": "4", "havo": "5", "vwo": "6"}

SOI_LABELS: dict[str, str] = {
    "1111": "Basisonderwijs gr1-2", "1112": "Basisonderwijs gr3-8", "1211": "Praktijkonderwijs",
    "1212": "Vmbo-b/k", "1213": "Mbo1", "1221": "Vmbo-g/t", "1222": "Havo-, vwo-onderbouw", "2111": "Mbo2",
    "2112": "Mbo3", "2121": "Mbo4", "2131": "Havo-bovenbouw", "2132": "Vwo-bovenbouw",
    "3111": "Hbo-associate degree", "3112": "Hbo-bachelor", "3113": "Wo-bachelor", "3211": "Hbo-master",
    "3212": "Wo-master", "3213": "Doctor", "----": "Onbekend", "9999": "Onbekend",
}

SECTOR_LABELS: dict[str, str] = {
    "0": "Algemeen vormend", "1": "Onderwijs", "2": "Landbouw en natuurlijke omgeving", "3": "Techniek",
    "4": "Zorg en welzijn / gezondheidszorg", "5": "Economie", "6": "Gedrag en maatschappij",
    "7": "Taal en cultuur", "8": "Recht", "9": "Natuur",
}

TYPEONDERWIJS_LABELS = {"BO": "Basisonderwijs", "VO": "Voortgezet onderwijs",
                        "MBO": "Middelbaar beroepsonderwijs", "HBO": "Hoger beroepsonderwijs",
                        "WO": "Wetenschappelijk onderwijs", "BTL": "Buitenlandse opleiding"}
RINPERSOONS_LABELS = {"R": "RIN-nummer uit de BRP", "S": "Sofinummer (geen BRP-inschrijving)",
                      "A": "Administratienummer", "O": "Overig / onbekend"}
TYPEMBO_LABELS = {"1": "BOL voltijd", "2": "BOL deeltijd", "3": "BBL"}
VORMHO_LABELS = {"1": "Voltijd", "2": "Deeltijd", "3": "Duaal"}
MONTH_LABELS = {f"{m:02d}": n for m, n in zip(range(1, 13), [
    "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
    "november", "december"])}

_SOI_ERA_START = {"vo": (2003, 10, 1), "mbo": (2004, 10, 1), "hbo": (1986, 10, 1), "wo": (1986, 10, 1)}

# ---------------------------------------------------------------------------------------------------------
# Date helpers (int days since 1970-01-01, vectorised)
# ---------------------------------------------------------------------------------------------------------


_T0_YEAR, _T1_YEAR = 1850, 2150
_MONTH_START = (np.arange((_T1_YEAR - _T0_YEAR) * 12 + 1) + (_T0_YEAR - 1970) * 12).astype(
    "datetime64[M]").astype("datetime64[D]").astype(np.int64)
_DAY0 = int(_MONTH_START[0])
_DAY_YEAR = np.repeat(np.arange(_T0_YEAR, _T1_YEAR).repeat(12), np.diff(_MONTH_START))
_DAY_MONTH = np.repeat(np.tile(np.arange(1, 13), _T1_YEAR - _T0_YEAR), np.diff(_MONTH_START))


def _ymd(y, m, d=1) -> np.ndarray:
    """Days since 1970-01-01 of (year, month, day); month may run past 12 (table lookup, fast)."""
    y = np.asarray(y, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    mi = np.clip((y - _T0_YEAR) * 12 + (m - 1), 0, len(_MONTH_START) - 1)
    return _MONTH_START[mi] + (np.asarray(d, dtype=np.int64) - 1)


def _year_of(days) -> np.ndarray:
    i = np.clip(np.asarray(days, dtype=np.int64) - _DAY0, 0, len(_DAY_YEAR) - 1)
    return _DAY_YEAR[i]


def _month_of(days) -> np.ndarray:
    i = np.clip(np.asarray(days, dtype=np.int64) - _DAY0, 0, len(_DAY_MONTH) - 1)
    return _DAY_MONTH[i]


def _next_start(prev_end: np.ndarray, month: int) -> np.ndarray:
    """First 1 August (month=8) or 1 September (month=9) strictly after ``prev_end``."""
    y = _year_of(prev_end)
    cand = _ymd(y, month, 1)
    return np.where(cand > prev_end, cand, _ymd(y + 1, month, 1))


def _d(y: int, m: int = 1, d: int = 1) -> int:
    return int(_ymd(y, m, d))


def _date_series(name: str, days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(name, np.asarray(days, dtype=np.int32)).cast(pl.Date)
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s).otherwise(None).alias(name)).to_series()
    return s


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _draw(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Categorical draw per row: ``probs`` is (n, K) with rows summing to 1, ``u`` uniform (n,)."""
    c = np.cumsum(probs, axis=1)[:, :-1] / probs.sum(axis=1, keepdims=True)
    return (u[:, None] >= c).sum(axis=1)


# ---------------------------------------------------------------------------------------------------------
# Projection helpers (shared by the file modules)
# ---------------------------------------------------------------------------------------------------------


def _rin(persons: pl.DataFrame) -> pl.DataFrame:
    return persons.select("pid", pl.col("rinpersoons").alias("RINPERSOONS"), pl.col("rinpersoon").alias("RINPERSOON"))


def _ymd_str(col: str | pl.Expr) -> pl.Expr:
    e = pl.col(col) if isinstance(col, str) else col
    return e.dt.strftime("%Y%m%d")


def _in_nl_on(residence: pl.DataFrame, day: int) -> pl.DataFrame:
    d = pl.lit(day).cast(pl.Int32).cast(pl.Date)
    return (residence.filter((pl.col("start") <= d) & (pl.col("end").is_null() | (pl.col("end") >= d)))
            .select("pid").unique())


#: SOI codes as value labels (HOOGSTEOPLTAB and OPLEIDINGSNRREF).
_SOI_CODES = {k: v for k, v in SOI_LABELS.items() if k != "9999"}
