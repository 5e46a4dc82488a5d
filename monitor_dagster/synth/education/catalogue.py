"""Programme catalogue and its SBB rating: shared (writes no file itself), as careers, files and truth all use it.

The careers pick programmes from it, OPLEIDINGSNRREF and SBBKANSOPWERK write it out, the survey and the truth
rate its programmes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from monitor_dagster.synth.education.codes import (
    FINE, FINE_COARSE, FINE_NIVEAU_CODE, FINE_SOI, FINE_STAGE, SECTOR_LABELS, SOI_LABELS, F)

# ---------------------------------------------------------------------------------------------------------
# Programme catalogue (OPLEIDINGSNRREF); fixed, independent of the simulation seed
# ---------------------------------------------------------------------------------------------------------

_MBO_NAMES = {
    "2": ["Hovenier", "Dierverzorging", "Bloem, groen en styling", "Teelt en ondernemen", "Paardenhouderij",
          "Voedingsindustrie"],
    "3": ["Elektrotechnische installaties", "Mechatronica", "Metaalbewerken", "Autotechniek", "Timmeren",
          "ICT-beheer", "Software development", "Installatietechniek", "Logistiek", "Bouwkunde"],
    "4": ["Verzorgende-IG", "Verpleegkunde", "Pedagogisch medewerker kinderopvang", "Onderwijsassistent",
          "Maatschappelijke zorg", "Helpende zorg en welzijn", "Sport en bewegen", "Doktersassistent"],
    "5": ["Commercieel medewerker", "Secretarieel medewerker", "Financiele administratie", "Retail", "Horeca",
          "Kok", "Beveiliging", "Handel", "Toerisme", "Juridisch medewerker"],
}
# Planted SBB demand adjustments per programme name (tight labour markets for care/installation work).
_SBB_NAME_EFFECT = {
    "Verpleegkunde": 0.5, "Verzorgende-IG": 0.4, "Elektrotechnische installaties": 0.5,
    "Installatietechniek": 0.5, "Mechatronica": 0.3, "Onderwijsassistent": -0.2, "Sport en bewegen": -0.6,
    "Commercieel medewerker": -0.4, "Secretarieel medewerker": -0.6, "Toerisme": -0.5, "Retail": -0.3,
    "Bloem, groen en styling": -0.4, "Paardenhouderij": -0.3, "Juridisch medewerker": -0.3,
}
_HBO_NAMES = {
    "1": ["Pabo", "Leraar Nederlands", "Leraar wiskunde", "Leraar lichamelijke opvoeding"],
    "2": ["Tuinbouw en akkerbouw", "Diermanagement", "Bos- en natuurbeheer"],
    "3": ["HBO-ICT", "Werktuigbouwkunde", "Elektrotechniek", "Bouwkunde", "Civiele techniek",
          "Technische bedrijfskunde"],
    "4": ["Verpleegkunde", "Fysiotherapie", "Mondzorgkunde", "Voeding en dietetiek"],
    "5": ["Bedrijfskunde", "Accountancy", "Commerciele economie", "International business",
          "Human resource management", "Hotel management"],
    "6": ["Social work", "Toegepaste psychologie", "Pedagogiek", "Journalistiek"],
    "7": ["Communicatie", "Kunst en cultuur", "Vertaalacademie"],
    "8": ["HBO-rechten", "Integrale veiligheidskunde"],
}
_WO_NAMES = {
    "1": ["Onderwijskunde"],
    "2": ["Landbouwwetenschappen", "Bos- en natuurbeheer"],
    "3": ["Informatica", "Werktuigbouwkunde", "Technische natuurkunde", "Bouwkunde"],
    "4": ["Geneeskunde", "Tandheelkunde", "Farmacie", "Gezondheidswetenschappen"],
    "5": ["Economie en bedrijfseconomie", "Bedrijfskunde", "Econometrie"],
    "6": ["Psychologie", "Sociologie", "Politicologie", "Pedagogische wetenschappen"],
    "7": ["Geschiedenis", "Nederlandse taal en cultuur", "Communicatiewetenschap"],
    "8": ["Rechtsgeleerdheid", "Notarieel recht"],
    "9": ["Wiskunde", "Natuurkunde", "Scheikunde", "Biologie"],
}
_VMBO_SECTOR_NAMES = {"2": "Groen", "3": "Techniek", "4": "Zorg en welzijn", "5": "Economie en ondernemen"}
_PROFILES = [("CM", "Cultuur en maatschappij"), ("EM", "Economie en maatschappij"),
             ("NG", "Natuur en gezondheid"), ("NT", "Natuur en techniek")]
_PROFILE_W = {"havo": [0.30, 0.35, 0.15, 0.20], "vwo": [0.20, 0.30, 0.20, 0.30]}

# Sector choice weights per level type x sex (men, women); herkomst multipliers (westers, niet-westers).
_SECTOR_W = {
    "vmbo": ({"2": 8, "3": 45, "4": 10, "5": 37}, {"2": 6, "3": 6, "4": 50, "5": 38}),
    "mbo": ({"2": 6, "3": 48, "4": 10, "5": 36}, {"2": 4, "3": 6, "4": 55, "5": 35}),
    "hbo": ({"1": 6, "2": 3, "3": 30, "4": 5, "5": 35, "6": 8, "7": 8, "8": 5},
            {"1": 15, "2": 2, "3": 6, "4": 20, "5": 22, "6": 22, "7": 8, "8": 5}),
    "wo": ({"1": 1, "2": 3, "3": 25, "4": 8, "5": 25, "6": 12, "7": 8, "8": 10, "9": 8},
           {"1": 2, "2": 3, "3": 8, "4": 15, "5": 15, "6": 25, "7": 12, "8": 14, "9": 6}),
}
#: Planted study-choice differences (report 5.1, item 21): non-Western students choose economie (and
#: recht, zorg) more often and landbouw/onderwijs less often.
_SECTOR_MULT = {
    "westers": {"2": 0.8},
    "niet-westers": {"1": 0.5, "2": 0.3, "3": 0.85, "4": 1.15, "5": 1.4, "7": 0.7, "8": 1.5, "9": 0.8},
}
_LEVEL_TYPE = {"vmbo_b": "vmbo", "vmbo_k": "vmbo", "vmbo_g": "vmbo", "vmbo_t": "vmbo", "mbo1": "mbo",
               "mbo2": "mbo", "mbo3": "mbo", "mbo4": "mbo", "hbo_ad": "hbo", "hbo_ba": "hbo", "hbo_ma": "hbo",
               "wo_ba": "wo", "wo_ma": "wo"}


def _build_catalogue() -> pl.DataFrame:
    """The programme catalogue: deterministic (fixed internal seed), the same for every synthetic run."""
    frng = np.random.default_rng(20210614)
    rows: list[dict] = []
    counters = {"vo": 0, "mbo": 0, "hbo": 0, "wo": 0}
    prefix = {"vo": "1", "mbo": "2", "hbo": "3", "wo": "4"}

    def add(fine: str, sector: str, richting: str, richting_name: str, name: str, weight: float,
            crebo: str | None = None, sbb: float = 0.0):
        st = FINE_STAGE[F[fine]]
        counters[st] += 1
        rows.append({
            "oplnr": f"{prefix[st]}{counters[st]:05d}", "name": name, "fine": fine,
            "level": FINE_COARSE[F[fine]], "stage": st, "typeonderwijs": st.upper(),
            "niveau_code": FINE_NIVEAU_CODE[F[fine]], "soi": str(int(FINE_SOI[F[fine]])), "sector": sector,
            "richting": richting, "richting_name": richting_name, "crebo": crebo, "weight": weight,
            "sbb_base": sbb, "generic": False,
        })

    add("praktijk", "0", "PRO", "Praktijkonderwijs", "Praktijkonderwijs", 1.0)
    for fine in ["vmbo_b", "vmbo_k", "vmbo_g", "vmbo_t"]:
        for s, sname in _VMBO_SECTOR_NAMES.items():
            add(fine, s, f"V{s}", f"Vmbo-sector {sname}", f"{FINE_NIVEAU_CODE[F[fine]].capitalize()} {sname}", 1.0)
    for fine in ["havo", "vwo"]:
        for (code, pname), w in zip(_PROFILES, _PROFILE_W[fine]):
            add(fine, "0", code, f"Profiel {pname}", f"{fine.upper()} profiel {pname}", w)
    crebo_no = 25000
    sector_eff = {"2": 0.0, "3": 0.45, "4": 0.5, "5": -0.45}
    level_eff = {"mbo1": -0.7, "mbo2": -0.25, "mbo3": 0.05, "mbo4": 0.2}
    for s, names in _MBO_NAMES.items():
        crebo_no += 7
        sname = SECTOR_LABELS[s].lower()
        add("mbo1", s, f"M{s}00", f"Entree {sname}", f"Entree - assistent {sname}",
            1.0, crebo=str(crebo_no), sbb=sector_eff[s] + level_eff["mbo1"] + frng.normal(0, 0.3))
        for lvl in ["mbo2", "mbo3", "mbo4"]:
            for k, nm in enumerate(names):
                crebo_no += 7
                base = sector_eff[s] + level_eff[lvl] + _SBB_NAME_EFFECT.get(nm, 0.0) + frng.normal(0, 0.35)
                add(lvl, s, f"M{s}{k + 1:02d}", nm, f"{nm} (niveau {lvl[-1]})", float(frng.gamma(2.0, 1.0)),
                    crebo=str(crebo_no), sbb=base)
    for s, names in _HBO_NAMES.items():
        for k, nm in enumerate(names):
            w = float(frng.gamma(2.0, 1.0))
            add("hbo_ba", s, f"H{s}{k + 1:02d}", nm, f"B {nm}", w)
            if k < 2:
                add("hbo_ad", s, f"H{s}{k + 1:02d}", nm, f"Ad {nm}", w)
            if k == 0:
                add("hbo_ma", s, f"H{s}{k + 1:02d}", nm, f"M {nm}", 1.0)
    for s, names in _WO_NAMES.items():
        for k, nm in enumerate(names):
            w = float(frng.gamma(2.0, 1.0))
            add("wo_ba", s, f"W{s}{k + 1:02d}", nm, f"B {nm}", w)
            add("wo_ma", s, f"W{s}{k + 1:02d}", nm, f"M {nm}", w)
    cat = pl.DataFrame(rows)
    generic = [
        {"oplnr": "000001", "name": "Basisonderwijs", "fine": None, "level": "basis", "stage": "bo",
         "typeonderwijs": "BO", "niveau_code": "BO", "soi": "1112", "sector": "0", "richting": "ALG",
         "richting_name": "Algemeen", "crebo": None, "weight": 0.0, "sbb_base": 0.0, "generic": True},
        {"oplnr": "000002", "name": "Havo/vwo onderbouw (leerjaar 1-3)", "fine": None, "level": "havo_vwo_ob",
         "stage": "vo", "typeonderwijs": "VO", "niveau_code": "HV-OB", "soi": "1222", "sector": "0",
         "richting": "ALG", "richting_name": "Algemeen", "crebo": None, "weight": 0.0, "sbb_base": 0.0,
         "generic": True},
        {"oplnr": "000003", "name": "Promotie (doctoraat)", "fine": None, "level": "doctor", "stage": "wo",
         "typeonderwijs": "WO", "niveau_code": "DR", "soi": "3213", "sector": "0", "richting": "ALG",
         "richting_name": "Algemeen", "crebo": None, "weight": 0.0, "sbb_base": 0.0, "generic": True},
    ]
    for soi in ["1112", "1212", "1221", "2111", "2112", "2121", "2131", "2132", "3112", "3113", "3212", "3213"]:
        generic.append({"oplnr": f"09{soi}", "name": f"Buitenlandse opleiding, niveau {SOI_LABELS[soi]}",
                        "fine": None, "level": "buitenland", "stage": "buitenland", "typeonderwijs": "BTL",
                        "niveau_code": "BTL", "soi": soi, "sector": "0", "richting": "ALG",
                        "richting_name": "Algemeen", "crebo": None, "weight": 0.0, "sbb_base": 0.0,
                        "generic": True})
    cat = pl.concat([cat, pl.DataFrame(generic, schema=cat.schema)])
    return cat


_CATALOGUE: pl.DataFrame | None = None


def _catalogue() -> pl.DataFrame:
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = _build_catalogue()
    return _CATALOGUE


class _Lookup:
    """Vectorised programme choice within (fine level, sector) blocks of the catalogue."""

    def __init__(self, cat: pl.DataFrame):
        prog = cat.filter(~pl.col("generic")).with_row_index("row")
        self.cat = prog
        fine = prog["fine"].replace_strict(F, return_dtype=pl.Int64).to_numpy()
        sector = prog["sector"].cast(pl.Int64).to_numpy()
        key = fine * 10 + sector
        order = np.lexsort((np.arange(len(key)), key))
        self.order = order
        k = key[order]
        w = prog["weight"].to_numpy()[order]
        # within-block normalised cumulative weights
        starts = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
        ends = np.r_[starts[1:], len(k)]
        cum = np.empty(len(k))
        self.block_start = np.full(len(FINE) * 10, -1, dtype=np.int64)
        self.block_count = np.zeros(len(FINE) * 10, dtype=np.int64)
        for s, e in zip(starts, ends):
            c = np.cumsum(w[s:e])
            cum[s:e] = c / c[-1]
            cum[e - 1] = 1.0
            self.block_start[k[s]] = s
            self.block_count[k[s]] = e - s
        self.G = k + cum - 1e-12
        self.G[ends - 1] = k[ends - 1] + 1.0 - 1e-12
        self.key_sorted = k
        self.allowed = (self.block_count > 0).reshape(len(FINE), 10)
        self.oplnr = prog["oplnr"].to_numpy()[order]
        self.richting = prog["richting"].to_numpy()[order]
        self.crebo = prog["crebo"].to_numpy()[order]
        self.sbb_base = prog["sbb_base"].to_numpy()[order]
        self.sector = sector[order]

    def pick(self, fine: np.ndarray, sector: np.ndarray, u: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        key = fine.astype(np.int64) * 10 + sector.astype(np.int64)
        if valid is not None:
            key = np.where(valid, key, self.key_sorted[0])
        if np.any(self.block_count[key] == 0):
            raise ValueError("programme catalogue has no programme for a requested (level, sector)")
        idx = np.searchsorted(self.G, key + np.minimum(u, 1 - 1e-9), side="right")
        idx = np.clip(idx, self.block_start[key], self.block_start[key] + self.block_count[key] - 1)
        return idx

    def neighbour(self, idx: np.ndarray) -> np.ndarray:
        """Another programme of the same block (neven-inschrijving / neven-diploma)."""
        key = self.key_sorted[idx]
        s = self.block_start[key]
        c = self.block_count[key]
        return s + (idx - s + 1) % np.maximum(c, 1)


def _sector_probs() -> dict[str, np.ndarray]:
    """P[sex(0 man,1 vrouw), kind(0 nl,1 westers,2 niet-westers), sector 0..9] per level type."""
    out = {}
    for lt, (men, women) in _SECTOR_W.items():
        arr = np.zeros((2, 3, 10))
        for si, base in enumerate((men, women)):
            for ki, kind in enumerate(("nl", "westers", "niet-westers")):
                mult = _SECTOR_MULT.get(kind, {})
                for s, w in base.items():
                    arr[si, ki, int(s)] = w * mult.get(s, 1.0)
                arr[si, ki] /= arr[si, ki].sum()
        out[lt] = arr
    return out


def _sbb_cycle(year: np.ndarray | int) -> np.ndarray:
    """Labour-market tightness for recent mbo graduates (stylised: crisis 2009-2015, tight 2018-2019, 2022)."""
    table = {2006: 0.2, 2007: 0.3, 2008: 0.3, 2009: -0.1, 2010: -0.3, 2011: -0.3, 2012: -0.5, 2013: -0.6,
             2014: -0.5, 2015: -0.3, 2016: -0.1, 2017: 0.1, 2018: 0.3, 2019: 0.4, 2020: 0.0, 2021: 0.3,
             2022: 0.5, 2023: 0.4, 2024: 0.3}
    y = np.asarray(year, dtype=np.int64)
    yy = np.clip(y, 2006, 2024)
    return np.vectorize(table.get, otypes=[float])(yy)


def _hash_noise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-noise in [-0.5, 0.5) from two integer arrays (no RNG state needed)."""
    x = np.sin(a.astype(np.float64) * 12.9898 + b.astype(np.float64) * 78.233) * 43758.5453
    return x - np.floor(x) - 0.5


def _sbb_score(prog_row: np.ndarray, bbl: np.ndarray, year: np.ndarray, lk: _Lookup) -> np.ndarray:
    return (lk.sbb_base[prog_row] + 0.45 * bbl + 0.4 * _sbb_cycle(year)
            + 0.3 * _hash_noise(prog_row, np.asarray(year) * 2 + bbl))


def _sbb_category(score: np.ndarray) -> np.ndarray:
    """SBB kans op werk: 1 onvoldoende, 2 matig, 3 voldoende, 4 goed."""
    return 1 + (score > -0.55).astype(np.int64) + (score > 0.0).astype(np.int64) + (score > 0.55).astype(np.int64)
