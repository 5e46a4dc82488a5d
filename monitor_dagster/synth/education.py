"""Synthetic education careers and their projection onto the CBS education files.

One latent education career per person (report 2.2 *opleidingsniveau*; report 5.1, deelvragen 4a-4c) is
simulated once, vectorised over all persons, and projected onto the files the monitor reads:

=====================  ============================================================================
EXAMVOTAB              exam candidates vo per school year (bijlage A item 19, report 5.1 / 4a)
ONDERWIJSINSCHRTAB     enrolments on 1 October (items 20-22: vervolgonderwijs, studierichting)
DIPLOMAMBOTAB          mbo diplomas per school year (item 25, duur tot baan; 4c)
DIPLOMAHOTAB           hbo/wo diplomas per academic year (item 25; 4c)
HOOGSTEOPLTAB          highest level attained on 1 October (report 2.2: laag / middelbaar / hoog)
OPLEIDINGSNRREF        programme reference: OPLNR -> level, sector, richting, crebo
MBOSCHOOLVERLATERS     mbo-schoolverlatersonderzoek (items 23, 24, 26; 4b, 4c; wording break 2019)
SBBKANSOPWERK          SBB "kans op werk" per crebo x leerweg (item 22; 4a)
=====================  ============================================================================

The career model (all choices are ours where the report is silent; they are written down here):

* **Secondary track** (at about 12): ordered probit on ``0.85 * ability + herkomst effect + cohort effect +
  sex effect + noise``; thresholds give the recent native distribution praktijk 3%, vmbo-b/k 21%,
  vmbo-g/t 27%, havo 25%, vwo 24%.  Planted herkomst gaps (``GROUP_TRACK_EFFECT``): second-generation
  Turkish/Moroccan pupils -0.45 on the latent scale (havo/vwo share about 30-35% against about 48% for
  natives), Surinamese -0.25, Antillean -0.35, Iranian +0.15, ...  Children arriving at 12-15 lose another
  0.5, younger arrivals a little (0.15 + 0.03 per year of age at arrival).  Children who arrive after the
  normal vo start (1 August of the year they turn 12) enter vo at the next school year.
* **Exam year** = year of the 16th (vmbo), 17th (havo) or 18th (vwo) birthday; 3% one year early, 10-18%
  one year late (repeaters); a failed exam is retaken the next year by most candidates (second EXAMVOTAB
  row).  Stacking: some vmbo-g/t graduates go on to havo-4, some havo graduates to vwo-5.
* **Follow-up**: vmbo -> mbo 2-4, havo -> hbo or mbo-4, vwo -> wo or hbo; mbo continuation one level up;
  mbo-4 -> hbo; hbo-ad -> hbo-ba; wo-ba -> wo-ma (most), hbo-ba -> hbo-ma / wo-ma (few); a PhD
  (SOI 3213) for some wo masters (not an enrolment: PhD candidates are employees).  Drop-out without
  diploma at every stage (mbo about 25%, hbo-ba about 30%, wo-ba about 22%, higher for non-Western
  students).  Older cohorts (born before 1985) have lower transition probabilities and more early
  leavers (linear modernisation factor 1930 -> 1985), giving about 23% laag / 43% middelbaar / 34% hoog
  for natives aged 25-64 around 2018 (25-29: 15% laag, 44% hoog; 60-64: 34% laag, 22% hoog); first
  generation about 31% laag / 28% hoog (non-Western groups lower, Western higher).
* **Adult learning** (not initial education, ``careers.initial`` False, no effect on
  ``school_leave_date``): some low/middle educated adults follow a BBL programme, some mbo-4/hbo graduates
  a deeltijd hbo bachelor/master.
* **Education abroad**: first-generation immigrants who arrived at 18 or older (``edu_abroad``) bring a level
  drawn per herkomst group (``ABROAD_LEVEL_SHARES``); some of them still study in NL (international
  students, mostly Western; refugees entering mbo after inburgering).  Arrivals at 16-17 bring a foreign
  secondary level (``secondary_track == "buitenland"``) and often enter mbo.
* Dates: vo and mbo years start 1 August, hbo/wo years 1 September.  mbo diplomas are issued all year
  with peaks in June/July; hbo/wo diplomas peak in July/August.

Known simplifications: the old school types (LBO, MAVO, MULO, the undivided doctoraal) are mapped onto their
modern equivalents; emigration is not known to the career model, so an emigrant keeps a planned career
(EXAMVOTAB and the diploma files have no residence filter - their signatures carry no residence -,
ONDERWIJSINSCHRTAB and HOOGSTEOPLTAB do filter on residence on 1 October).

Column names the public sources do not confirm are marked **(assumed)** in the docstrings of the projection
functions; keep them in ``data_catalog.yaml`` so real files with other names are a YAML edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

# ---------------------------------------------------------------------------------------------------------
# Code lists and constants
# ---------------------------------------------------------------------------------------------------------

from monitor_dagster.synth.params import GROUPS, NON_WESTERN, WESTERN  # noqa: E402,F401  (one code list)
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


# ---------------------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------------------


@dataclass
class EducationWorld:
    """Latent education careers (see module docstring).

    ``person_edu``: pid, edu_soi, edu_niveau, school_leave_date, secondary_track, edu_abroad (+ abroad_soi).
    ``careers``: one row per stage (vo, mbo, hbo, wo) with programme, dates, diploma, leerweg, vorm.
    ``oplnr_ref``: programme catalogue.  Internal frames used by the projections: ``exams`` (one row per exam
    attempt), ``attainments`` (dated level events: attained / followed), ``coverage`` (register and EBB
    coverage of HOOGSTEOPLTAB), ``survey`` (pre-drawn answers of the mbo-schoolverlatersonderzoek).
    """

    person_edu: pl.DataFrame
    careers: pl.DataFrame
    oplnr_ref: pl.DataFrame
    exams: pl.DataFrame = field(default_factory=pl.DataFrame)
    attainments: pl.DataFrame = field(default_factory=pl.DataFrame)
    coverage: pl.DataFrame = field(default_factory=pl.DataFrame)
    survey: pl.DataFrame = field(default_factory=pl.DataFrame)
    first_year: int = 0
    last_year: int = 0


class _Sim:
    def __init__(self, persons: pl.DataFrame, rng: np.random.Generator):
        p = persons.sort("pid")
        self.rng = rng
        self.n = p.height
        self.pid = p["pid"].to_numpy().astype(np.int64)
        self.female = (p["sex"] == "2").to_numpy()
        self.sex_i = self.female.astype(np.int64)
        self.bdays = p["birth_date"].to_physical().to_numpy().astype(np.int64)
        self.by = _year_of(self.bdays)
        self.gen = p["generation"].to_numpy().astype(np.int64)
        self.grp = p["herkomst_group"].replace_strict(_G, default=_DEFAULT_GROUP, return_dtype=pl.Int64).to_numpy()
        arr = p["first_arrival"].to_physical().fill_null(-(10 ** 7)).to_numpy().astype(np.int64)
        self.has_arr = arr > -(10 ** 7)
        self.arr = np.where(self.has_arr, arr, self.bdays)
        self.ability = p["ability"].fill_null(0.0).to_numpy().astype(np.float64)
        gnames = np.array(GROUPS, dtype=object)[self.grp]
        self.nw = np.isin(gnames, NON_WESTERN)
        self.kind = np.where(self.nw, 2, np.where(np.isin(gnames, WESTERN), 1, 0))
        self.gnames = gnames
        self.k = np.clip((self.by - 1930) / 55.0, 0.0, 1.0)  # modernisation factor of the cohort
        self.arr_age = np.where(self.gen == 1, (self.arr - self.bdays) / 365.25, -1.0)
        self.lk = _Lookup(_catalogue())
        self.sect_p = _sector_probs()
        self.slots: list[dict] = []
        self.exam_rows: list[dict] = []

    # -- helpers -------------------------------------------------------------------------------------------
    def u(self) -> np.ndarray:
        return self.rng.random(self.n)

    def sector_draw(self, fine: np.ndarray, valid: np.ndarray, u: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        for name, lt in _LEVEL_TYPE.items():
            m = valid & (fine == F[name])
            if m.any():
                P = self.sect_p[lt][self.sex_i[m], self.kind[m]]
                out[m] = _draw(u[m], P)
        return out

    # -- vo ----------------------------------------------------------------------------------------------
    def _exam(self, valid, fine, e1, extra_logit, retake_p):
        """First attempt in e1, a retake in e1 + 1 for part of the failures."""
        p0 = np.array([0.0, 0.97, 0.96, 0.94, 0.93, 0.88, 0.91] + [0.0] * 9)[fine]
        lg = _logit(np.where(valid, p0, 0.5)) + 0.5 * self.ability + extra_logit
        pass1 = valid & (self.u() < _sigmoid(lg))
        retake = valid & ~pass1 & (self.u() < retake_p)
        pass2 = retake & (self.u() < 0.85)
        diploma = pass1 | pass2
        final_year = np.where(retake, e1 + 1, e1)
        dd = _ymd(final_year, 6, 1) + 9 + (self.u() * 11).astype(np.int64)
        return pass1, retake, pass2, diploma, final_year, dd

    def _record_exams(self, valid, fine, prog_row, e1, pass1, retake, pass2):
        for mask, year, ok, attempt in ((valid, e1, pass1, 1), (retake, e1 + 1, pass2, 2)):
            idx = np.flatnonzero(mask)
            self.exam_rows.append({
                "pid": self.pid[idx], "exam_year": year[idx], "fine": fine[idx], "prog_row": prog_row[idx],
                "passed": ok[idx], "attempt": np.full(len(idx), attempt, dtype=np.int8)})

    def secondary(self):
        n = self.n
        gen1 = self.gen == 1
        self.nl_school = ~(gen1 & (self.arr_age >= 16))
        self.abroad_vo = gen1 & (self.arr_age >= 16)
        self.edu_abroad = gen1 & (self.arr_age >= 18)
        early = self.u() < 0.03
        # arrived after the normal start of vo (1 August of the 12th year): enters vo late (after ISK)
        late = gen1 & (self.arr > _ymd(self.by + 12 - early, 8, 1)) & (self.arr_age < 16)
        young = gen1 & (self.arr_age >= 0.5) & ~late & (self.arr_age < 16)
        geff = np.array([GROUP_TRACK_EFFECT[g] for g in GROUPS])[self.grp]
        self.geff = geff
        cohort = -0.75 * (1 - self.k)
        sex_eff = np.where(self.female, np.interp(self.by, [1940, 1960, 1985], [-0.3, -0.15, 0.08]), 0.0)
        arrival_pen = np.where(late, -0.5, 0.0) + np.where(young, -0.15 - 0.03 * self.arr_age, 0.0)
        z = 0.85 * self.ability + geff + cohort + sex_eff + arrival_pen + 0.5 * self.rng.standard_normal(n)
        cuts = np.array([-1.855, -0.665, 0.049, 0.830])
        track = np.searchsorted(cuts, z)  # 0 praktijk, 1 vmbo_bk, 2 vmbo_gt, 3 havo, 4 vwo
        u_sub = self.u()
        fine = np.select(
            [track == 0, track == 1, track == 2, track == 3, track == 4],
            [F["praktijk"], np.where(z < -1.2 + 0.3 * (u_sub - 0.5), F["vmbo_b"], F["vmbo_k"]),
             np.where(u_sub < 0.10, F["vmbo_g"], F["vmbo_t"]), F["havo"], F["vwo"]])
        valid = self.nl_school.copy()
        self.track = np.where(valid, track, -1)
        # start year and exam year
        S = self.by + 12 - early
        arr_sy = _year_of(_next_start(self.arr, 8))
        S = np.where(late, np.maximum(S, arr_sy), S)
        dur = np.array([6, 4, 4, 4, 4, 5, 6] + [0] * 9)[fine]
        p_rep = np.where(track >= 3, 0.18, 0.10)
        rep = (self.u() < p_rep * np.exp(-0.4 * self.ability)).astype(np.int64)
        e1 = self.by + 12 + dur - early + rep
        e1 = np.where(late, np.maximum(e1, S + np.where(track >= 3, 3, 2)), e1)
        start = np.where(late, np.maximum(_ymd(S, 8, 1), self.arr + 14), _ymd(S, 8, 1))
        # vo drop-out before the exam (much more common in old cohorts: leaving at 14)
        p_drop = np.where(track >= 3, 0.015 + 0.12 * (1 - self.k), 0.02 + 0.33 * (1 - self.k)) + 0.04 * late
        drop = valid & (track > 0) & (self.u() < p_drop)
        drop_year = S + 2 + (self.u() * np.maximum(e1 - S - 2, 1)).astype(np.int64)
        drop_year = np.minimum(drop_year, e1)
        took_exam = valid & (track > 0) & ~drop
        u_prog = self.u()
        sect = self.sector_draw(fine, valid & (track.astype(bool)) & (fine <= F["vmbo_t"]), self.u())
        sect = np.where((fine == F["havo"]) | (fine == F["vwo"]) | (fine == F["praktijk"]), 0, sect)
        prog = self.lk.pick(np.where(valid, fine, F["havo"]), np.where(valid, sect, 0), u_prog)
        retake_p = np.where(track >= 3, 0.75, 0.55)
        pass1, retake, pass2, diploma, final_year, dd = self._exam(took_exam, fine, e1, 0.4 * geff, retake_p)
        self._record_exams(took_exam, fine, prog, e1, pass1, retake, pass2)
        # praktijkonderwijs: no exam; leaves at 18 with a certificate in 75% of cases
        prak = valid & (track == 0)
        prak_end_year = np.maximum(self.by + 18, S + 2)
        prak_cert = prak & (self.u() < 0.75)
        end_year = np.where(prak, prak_end_year, np.where(drop, drop_year, final_year))
        end = _ymd(end_year, 7, 31)
        end = np.maximum(end, start + 60)
        diploma = np.where(prak, prak_cert, diploma)
        dd = np.where(prak, end, dd)
        self.slots.append(dict(stage_fine=fine, valid=valid, start=start, end=end, diploma=diploma & valid,
                               ddate=dd, prog=prog, bbl=np.zeros(n, bool), bol_dt=np.zeros(n, bool),
                               vorm=np.zeros(n, np.int64), exam_year=np.where(took_exam, e1, -1),
                               retake=retake, first_pass=pass1, entry_leerjaar=np.ones(n, np.int64),
                               neven=np.full(n, -1), seq=0, vo_S=S))
        self.vo1 = self.slots[-1]
        self.vo_fine = fine
        self.vo_S = S
        # stacking: vmbo-g/t -> havo 4, havo -> vwo 5
        stack_grp = np.isin(self.gnames, ["Turkije", "Marokko", "Suriname", "Antillen en Aruba"])
        p_h = (0.04 + 0.06 * self.k) * np.where(stack_grp, 1.6, 1.0) * np.exp(0.5 * self.ability)
        p_v = 0.05 * self.k * np.exp(0.5 * self.ability)
        u_st = self.u()
        to_havo = valid & diploma & ((fine == F["vmbo_g"]) | (fine == F["vmbo_t"])) & (u_st < np.minimum(p_h, 0.4))
        to_vwo = valid & diploma & (fine == F["havo"]) & (u_st < np.minimum(p_v, 0.3))
        v2 = to_havo | to_vwo
        fine2 = np.where(to_vwo, F["vwo"], F["havo"])
        start2 = _ymd(final_year, 8, 1)
        rep2 = (self.u() < 0.12).astype(np.int64)
        e2 = final_year + 2 + rep2
        prog2 = self.lk.pick(fine2, np.zeros(n, np.int64), self.u())
        p1b, rt2, p2b, dip2, fy2, dd2 = self._exam(v2, fine2, e2, 0.4 * geff - 0.4, np.full(n, 0.5))
        self._record_exams(v2, fine2, prog2, e2, p1b, rt2, p2b)
        end2 = _ymd(fy2, 7, 31)
        self.slots.append(dict(stage_fine=fine2, valid=v2, start=start2, end=end2, diploma=dip2 & v2, ddate=dd2,
                               prog=prog2, bbl=np.zeros(n, bool), bol_dt=np.zeros(n, bool),
                               vorm=np.zeros(n, np.int64), exam_year=np.where(v2, e2, -1), retake=rt2,
                               first_pass=p1b, entry_leerjaar=np.where(to_vwo, 5, 4), neven=np.full(n, -1), seq=1,
                               vo_S=S))
        self.vo2 = self.slots[-1]
        # outcome class for the follow-up decision
        # 0 praktijk, 1 vmbo-b/k dipl, 2 vmbo-g/t dipl, 3 havo dipl, 4 vwo dipl, 5 vmbo no dipl, 6 havo/vwo no dipl
        vo_level = np.where(v2 & dip2, fine2, fine)
        has_dip = diploma | (v2 & dip2)
        cls = np.full(n, -1)
        cls = np.where(valid & (track == 0), 0, cls)
        vm_bk = (vo_level == F["vmbo_b"]) | (vo_level == F["vmbo_k"])
        vm_gt = (vo_level == F["vmbo_g"]) | (vo_level == F["vmbo_t"])
        cls = np.where(valid & (track > 0) & has_dip & vm_bk, 1, cls)
        cls = np.where(valid & (track > 0) & has_dip & vm_gt, 2, cls)
        cls = np.where(valid & (track > 0) & has_dip & (vo_level == F["havo"]), 3, cls)
        cls = np.where(valid & (track > 0) & has_dip & (vo_level == F["vwo"]), 4, cls)
        cls = np.where(valid & (track > 0) & ~has_dip & (track <= 2), 5, cls)
        cls = np.where(valid & (track > 0) & ~has_dip & (track >= 3), 6, cls)
        self.vo_cls = cls
        self.vo_end = np.where(v2, end2, end)
        self.vo_dip_fine = np.where(has_dip, vo_level, -1)

    # -- abroad ------------------------------------------------------------------------------------------
    def abroad(self):
        shares = np.array([ABROAD_LEVEL_SHARES[g] for g in GROUPS])[self.grp].copy()
        # older cohorts brought lower levels
        shares[:, 2] *= 0.5 + 0.5 * self.k
        shares[:, 0] += (1 - shares.sum(axis=1))
        lvl = _draw(self.u(), shares)  # 0 laag 1 mid 2 hoog
        lvl = np.where((lvl == 2) & (self.arr_age < 21.5), 1, lvl)
        u = self.u()
        soi = np.select(
            [lvl == 0, lvl == 1, lvl == 2],
            [np.select([u < 0.35, u < 0.60], [1112, 1212], 1221),
             np.select([u < 0.25, u < 0.50, u < 0.75], [2111, 2112, 2121], 2132),
             np.select([u < 0.40, u < 0.60, u < 0.95], [3112, 3113, 3212], 3213)])
        # arrivals at 16-17: a foreign secondary level only
        soi = np.where(self.abroad_vo & ~self.edu_abroad, np.where(lvl == 0, 1221, 2131), soi)
        leave_age = np.select([lvl == 0, lvl == 1], [15.5 + 1.5 * self.u(), 18.5 + 2.0 * self.u()],
                              22.5 + 3.0 * self.u())
        leave = self.bdays + (leave_age * 365.25).astype(np.int64)
        leave = np.minimum(leave, self.arr - 1)
        self.abroad_lvl = np.where(self.abroad_vo, lvl, -1)
        self.abroad_soi = np.where(self.abroad_vo, soi, -1)
        self.abroad_leave = leave

    # -- post-secondary entry ----------------------------------------------------------------------------
    def entry(self):
        """First post-vo programme: category 0 none, 1-4 mbo1-4, 5 hbo_ad, 6 hbo_ba, 7 wo_ba."""
        P_new = np.array([
            [.62, .35, .03, 0, 0, 0, 0, 0],
            [.04, .03, .55, .33, .05, 0, 0, 0],
            [.03, 0, .04, .17, .76, 0, 0, 0],
            [.07, 0, 0, 0, .12, .03, .78, 0],
            [.03, 0, 0, 0, 0, 0, .25, .72],
            [.30, .40, .30, 0, 0, 0, 0, 0],
            [.20, 0, .05, .12, .63, 0, 0, 0],
        ])
        P_old = np.array([
            [.92, .08, 0, 0, 0, 0, 0, 0],
            [.40, 0, .40, .20, 0, 0, 0, 0],
            [.28, 0, .15, .27, .30, 0, 0, 0],
            [.20, 0, 0, 0, .30, 0, .50, 0],
            [.12, 0, 0, 0, 0, 0, .30, .58],
            [.75, .05, .20, 0, 0, 0, 0, 0],
            [.50, 0, 0, .20, .30, 0, 0, 0],
        ])
        cls = np.where(self.vo_cls >= 0, self.vo_cls, 0)
        k = self.k[:, None]
        P = k * P_new[cls] + (1 - k) * P_old[cls]
        nxt = _draw(self.u(), P)
        nxt = np.where(self.vo_cls >= 0, nxt, 0)
        gap_p = np.where((cls == 3) | (cls == 4), 0.13, 0.05)
        gap = (self.u() < gap_p).astype(np.int64)
        base_end = self.vo_end
        start = np.where(nxt >= 5, _next_start(base_end, 9), _next_start(base_end, 8))
        start = np.where(gap == 1, _ymd(_year_of(start) + 1, _month_of(start), 1), start)
        # arrivals at 16-17 (foreign secondary level): ISK / schakeljaar, then mbo or hbo
        av = self.abroad_vo & ~self.edu_abroad
        u = self.u()
        mid = self.abroad_lvl >= 1
        a_nxt = np.where(mid, np.select([u < 0.35, u < 0.50], [4, 6], 0),
                         np.select([u < 0.20, u < 0.45, u < 0.55], [1, 2, 3], 0))
        a_start_m = np.where(a_nxt >= 5, 9, 8)
        a_start = np.where(a_start_m == 9, _next_start(self.arr + 365, 9), _next_start(self.arr + 365, 8))
        nxt = np.where(av, a_nxt, nxt)
        start = np.where(av, a_start, start)
        # adults arriving at 18+: international students and (refugee) newcomers entering mbo/hbo
        ad = self.edu_abroad
        g = self.gnames
        p_int = np.select([g == "Duitsland", g == "westers overig", g == "Polen", g == "Indonesië",
                           g == "overig niet-westers", g == "Iran"], [0.35, 0.25, 0.08, 0.10, 0.10, 0.08], 0.0)
        intl = ad & (self.arr_age < 24) & (self.u() < p_int)
        refugee = np.isin(g, ["Afghanistan", "Irak", "Iran", "Somalië", "Syrië", "Eritrea"])
        p_nc = np.where(refugee, 0.15, np.where(self.nw, 0.06, 0.0))
        newc = ad & ~intl & (self.arr_age < 30) & (self.u() < p_nc)
        u = self.u()
        i_nxt = np.where(u < 0.55, 7, 6)
        n_nxt = np.where(self.abroad_lvl >= 1, np.select([u < 0.2, u < 0.6], [6, 4], 3),
                         np.select([u < 0.5, u < 0.8], [2, 3], 4))
        nxt = np.where(intl, i_nxt, np.where(newc, n_nxt, nxt))
        # international students start on the first 1 September or 1 February (spring intake) after arrival
        start = np.where(intl, np.minimum(_next_start(self.arr - 1, 9), _next_start(self.arr - 1, 2)), start)
        n_start = self.arr + ((1.0 + self.u()) * 365.25).astype(np.int64)
        start = np.where(newc, np.where(n_nxt >= 5, _next_start(n_start, 9), _next_start(n_start, 8)), start)
        self.intl = intl
        # the international students bring a vwo-like level
        self.abroad_soi = np.where(intl, np.maximum(self.abroad_soi, 2132), self.abroad_soi)
        # hbo-ad exists from 2006 on
        nxt = np.where((nxt == 5) & (_year_of(start) < 2006), 6, nxt)
        self.nxt = nxt
        self.nxt_start = start

    # -- generic programme stage (mbo / hbo / wo) ------------------------------------------------------------
    def programme(self, enter, fine, start, seq, prev_sector=None, keep_p=0.0, dur_override=None, bbl_p=None):
        n = self.n
        fine = np.where(enter, fine, F["mbo2"])
        fi = fine - F["mbo1"]  # 0..8 over mbo1..wo_ma
        nomdur = np.array([1, 2, 3, 3, 2, 4, 1, 3, 1])[fi]
        u = self.u()
        alt = np.array([0, 0, -1, 1, 0, 0, 1, 0, 1])[fi]
        alt_p = np.array([0, 0, .3, .25, 0, 0, .3, 0, .4])[fi]
        dur = nomdur + np.where(u < alt_p, alt, 0)
        if dur_override is not None:
            dur = np.where(dur_override > 0, dur_override, dur)
        age_start = (start - self.bdays) / 365.25
        is_mbo = fi <= 3
        is_wo = fi >= 7
        # sector
        sect = self.sector_draw(fine, enter, self.u())
        if prev_sector is not None:
            keep = enter & (self.u() < keep_p) & (prev_sector >= 0)
            ok = self.lk.allowed[fine, np.clip(prev_sector, 0, 9)]
            sect = np.where(keep & ok, prev_sector, sect)
        prog = self.lk.pick(fine, sect, self.u(), enter)
        # leerweg / vorm
        p_bbl = (np.array([.22, .35, .28, .13, 0, 0, 0, 0, 0])[fi] + 0.30 * (age_start >= 20)
                 + 0.15 * (1 - self.k) + 0.06 * (sect == 3))
        if bbl_p is not None:
            p_bbl = np.full(n, bbl_p)
        bbl = enter & is_mbo & (self.u() < np.minimum(p_bbl, 0.9))
        bol_dt = enter & is_mbo & ~bbl & (self.u() < np.where(age_start >= 20, 0.15, 0.01))
        u = self.u()
        p_dt = np.select([age_start < 21, age_start < 25], [0.02, 0.10], 0.55) + 0.4 * (fine == F["hbo_ma"])
        p_dt = p_dt * np.where(is_wo, 0.3, 1.0)
        vorm = np.where(u < p_dt, 2, np.where((u > 0.97) & ~is_wo, 3, 1))
        vorm = np.where(enter & ~is_mbo, vorm, 0)
        # completion
        p_dip = np.array([.70, .74, .79, .80, .62, .72, .80, .78, .90])[fi]
        lg = (_logit(p_dip) + 0.55 * self.ability - np.where(self.nw, np.where(is_wo, 0.15, 0.25), 0.0)
              - 0.3 * (age_start >= 25) - 0.2 * (bbl & (fi <= 1)))
        dip = enter & (self.u() < _sigmoid(lg))
        extra_p = np.array([
            [.66, .26, .07, .01], [.66, .26, .07, .01], [.66, .26, .07, .01], [.66, .26, .07, .01],
            [.50, .35, .15, 0], [.40, .33, .19, .08], [.60, .30, .10, 0], [.33, .35, .22, .10], [.45, .38, .14, .03],
        ])[fi]
        extra = _draw(self.u(), extra_p)
        smonth = np.where(is_mbo, 8, 9)
        start_sy = _year_of(start) - (_month_of(start) < smonth)
        y_end = start_sy + dur + extra
        w_mbo = np.array([.02, .02, .02, .02, .04, .06, .04, .04, .04, .06, .30, .34])  # Aug..Jul
        w_ho = np.array([.05, .03, .03, .04, .07, .07, .03, .03, .03, .06, .30, .26])  # Sep..Aug
        um = self.u()
        m_off = np.where(is_mbo, np.searchsorted(np.cumsum(w_mbo)[:-1], um, side="right"),
                         np.searchsorted(np.cumsum(w_ho)[:-1], um, side="right"))
        mm = smonth + m_off - 1
        dd = _ymd((y_end - 1) + mm // 12, mm % 12 + 1, 1) + (self.u() * 28).astype(np.int64)
        min_len = np.where(is_mbo, 200, 300)
        dd = np.where(dd < start + min_len, _ymd(y_end, 6, 15), dd)
        dd = np.maximum(dd, start + min_len)
        month_end = _ymd(_year_of(dd) + (_month_of(dd) == 12), _month_of(dd) % 12 + 1, 1) - 1
        end_dip = np.where(is_mbo, dd, month_end)
        frac = self.rng.beta(0.9, 1.8, n)
        total = (dur + extra) * 365.25
        end_drop = start + np.maximum(30, frac * total).astype(np.int64)
        end = np.where(dip, end_dip, end_drop)
        # neven-inschrijving (ho, 2%) / neven-diploma (mbo, 1.5%)
        un = self.u()
        has_nev = enter & ((~is_mbo & (un < 0.02)) | (is_mbo & dip & (un < 0.015)))
        neven = np.full(n, -1, dtype=np.int64)
        neven[has_nev] = self.lk.neighbour(prog[has_nev])
        slot = dict(stage_fine=fine, valid=enter.copy(), start=start, end=end, diploma=dip, ddate=dd, prog=prog,
                    bbl=bbl, bol_dt=bol_dt, vorm=vorm, exam_year=np.full(n, -1), retake=np.zeros(n, bool),
                    first_pass=np.zeros(n, bool), entry_leerjaar=np.ones(n, np.int64), neven=neven, seq=seq,
                    sector=sect)
        self.slots.append(slot)
        return slot

    def followups(self):
        n = self.n
        k = self.k
        nxt = self.nxt
        # mbo (first)
        mbo_a = self.programme((nxt >= 1) & (nxt <= 4), F["mbo1"] + np.clip(nxt - 1, 0, 3), self.nxt_start, 2)
        la = mbo_a["stage_fine"] - F["mbo1"]  # 0..3
        u = self.u()
        kk = 0.5 + 0.5 * k
        cont_lvl = np.select([(la == 0) & (u < 0.55 * kk), (la == 1) & (u < 0.25 * kk),
                              (la == 1) & (u < 0.30 * kk), (la == 2) & (u < 0.18 * kk)], [1, 2, 3, 3], -1)
        cont = mbo_a["valid"] & mbo_a["diploma"] & (cont_lvl >= 0)
        u2 = self.u()
        switch = mbo_a["valid"] & ~mbo_a["diploma"] & (u2 < 0.40)
        sw_lvl = np.where((la >= 2) & (self.u() < 0.4), la - 1, la)
        b_lvl = np.where(cont, cont_lvl, sw_lvl)
        mbo_b = self.programme(cont | switch, F["mbo1"] + np.clip(b_lvl, 0, 3),
                               _next_start(mbo_a["end"], 8), 3, prev_sector=mbo_a["sector"], keep_p=0.8)
        last_valid_b = mbo_b["valid"]
        m_fine = np.where(last_valid_b, mbo_b["stage_fine"], mbo_a["stage_fine"])
        m_dip = np.where(last_valid_b, mbo_b["diploma"], mbo_a["diploma"] & mbo_a["valid"])
        m_end = np.where(last_valid_b, mbo_b["end"], mbo_a["end"])
        m_bbl = np.where(last_valid_b, mbo_b["bbl"], mbo_a["bbl"])
        m_sect = np.where(last_valid_b, mbo_b["sector"], mbo_a["sector"])
        # mbo-4 -> hbo
        mbo4 = (mbo_a["valid"] | last_valid_b) & m_dip & (m_fine == F["mbo4"])
        p_ho = np.where(m_bbl, 0.12, 0.45) * (0.4 + 0.6 * k) + 0.05 * self.nw
        to_ho = mbo4 & (self.u() < p_ho)
        ad_share = np.where(_year_of(m_end) >= 2006, 0.15, 0.0)
        ho_from_mbo = np.where(self.u() < ad_share, F["hbo_ad"], F["hbo_ba"])
        gap = (self.u() < 0.10).astype(np.int64)
        s_ho = _next_start(m_end, 9)
        s_ho = np.where(gap == 1, _ymd(_year_of(s_ho) + 1, 9, 1), s_ho)
        direct = nxt >= 5
        ho_fine = np.where(direct, np.select([nxt == 5, nxt == 6], [F["hbo_ad"], F["hbo_ba"]], F["wo_ba"]), ho_from_mbo)
        ho_start = np.where(direct, self.nxt_start, s_ho)
        ho1 = self.programme(direct | to_ho, ho_fine, ho_start, 4,
                             prev_sector=np.where(to_ho, m_sect, -1), keep_p=0.6)
        # switch after ho drop-out, or ad -> bachelor
        f1 = ho1["stage_fine"]
        u = self.u()
        sw = ho1["valid"] & ~ho1["diploma"] & (((f1 == F["wo_ba"]) & (u < 0.50)) | ((f1 == F["hbo_ba"]) & (u < 0.35)))
        ad_ba = ho1["valid"] & ho1["diploma"] & (f1 == F["hbo_ad"]) & (u < 0.45)
        s2 = _next_start(ho1["end"], 9)
        s2 = np.where(self.u() < 0.1, _ymd(_year_of(s2) + 1, 9, 1), s2)
        ho2 = self.programme(sw | ad_ba, np.full(n, F["hbo_ba"]), s2, 5, prev_sector=ho1["sector"],
                             keep_p=np.where(ad_ba, 0.95, 0.1), dur_override=np.where(ad_ba, 2, 0))
        # master
        b_valid = ho2["valid"] | ho1["valid"]
        b_fine = np.where(ho2["valid"], ho2["stage_fine"], f1)
        b_dip = np.where(ho2["valid"], ho2["diploma"], ho1["diploma"]) & b_valid
        b_end = np.where(ho2["valid"], ho2["end"], ho1["end"])
        b_sect = np.where(ho2["valid"], ho2["sector"], ho1["sector"])
        u = self.u()
        to_woma = b_dip & (((b_fine == F["wo_ba"]) & (u < 0.88)) | ((b_fine == F["hbo_ba"]) & (u < 0.09)))
        to_hbma = b_dip & (b_fine == F["hbo_ba"]) & (u >= 0.09) & (u < 0.14)
        s3 = _next_start(b_end, 9)
        premaster = to_woma & (b_fine == F["hbo_ba"])
        gap3 = premaster | (to_woma & (self.u() < 0.15)) | (to_hbma & (self.u() < 0.3))
        s3 = np.where(gap3, _ymd(_year_of(s3) + 1, 9, 1), s3)
        ho3 = self.programme(to_woma | to_hbma, np.where(to_woma, F["wo_ma"], F["hbo_ma"]), s3, 6,
                             prev_sector=b_sect, keep_p=0.85)
        # PhD
        u = self.u()
        phd = (ho3["valid"] & ho3["diploma"] & (ho3["stage_fine"] == F["wo_ma"])
               & (u < 0.07 * np.exp(0.5 * self.ability)))
        self.phd = phd
        self.phd_date = ho3["ddate"] + ((4.0 + 1.5 * self.u()) * 365.25).astype(np.int64)
        self.adult()

    def adult(self):
        """Adult (non-initial) learning: BBL for the low/middle educated, deeltijd hbo for mbo-4 and hbo
        graduates.  Not part of initial education, so it does not move ``school_leave_date``."""
        cur = np.where(self.nl_school, 1112, 0)
        cur = np.maximum(cur, np.where(self.abroad_vo, self.abroad_soi, 0))
        init_end = np.where(self.abroad_vo, np.maximum(self.abroad_leave, self.arr), 0)
        for s in self.slots:
            cur = np.maximum(cur, np.where(s["valid"] & s["diploma"], FINE_SOI[s["stage_fine"]], 0))
            init_end = np.maximum(init_end, np.where(s["valid"], s["end"], 0))
        self.initial_end = init_end
        u = self.u()
        p = np.select([cur < 2000, cur < 2121, cur < 3000, cur < 3200], [0.12, 0.08, 0.06, 0.04], 0.0)
        p = p * np.where(self.edu_abroad & ~self.intl, 0.6, 1.0)
        go = (u < p) & (cur > 0)
        u = self.u()
        fine = np.select(
            [cur < 2000, cur == 2111, cur < 2121, cur < 3000],
            [np.where(u < 0.6, F["mbo2"], F["mbo3"]), F["mbo3"], F["mbo4"],
             np.where(u < 0.2, F["hbo_ad"], F["hbo_ba"])], F["hbo_ma"])
        delay = (2.0 + 18.0 * self.u() ** 1.5) * 365.25
        t0 = np.maximum(init_end + delay.astype(np.int64), self.arr + 365)
        is_ho = fine >= F["hbo_ad"]
        start = np.where(is_ho, _next_start(t0, 9), _next_start(t0, 8))
        age = (start - self.bdays) / 365.25
        go &= age <= 55
        fine = np.where((fine == F["hbo_ad"]) & (_year_of(start) < 2006), F["hbo_ba"], fine)
        self.programme(go, fine, start, 7, bbl_p=0.85)

    # -- assemble ----------------------------------------------------------------------------------------
    def build(self, first_year: int, last_year: int) -> EducationWorld:
        self.secondary()
        self.abroad()
        self.entry()
        self.followups()
        lk = self.lk
        parts = []
        for s in self.slots:
            idx = np.flatnonzero(s["valid"])
            fine = s["stage_fine"][idx]
            prog = s["prog"][idx]
            dip = s["diploma"][idx]
            is_mbo = (fine >= F["mbo1"]) & (fine <= F["mbo4"])
            is_ho = fine >= F["hbo_ad"]
            parts.append(pl.DataFrame({
                "pid": self.pid[idx],
                "seq": np.full(len(idx), s["seq"], dtype=np.int8),
                "fine": fine.astype(np.int8),
                "prog_row": prog.astype(np.int32),
                "start_d": s["start"][idx].astype(np.int32),
                "end_d": s["end"][idx].astype(np.int32),
                "diploma": dip,
                "ddate_d": np.where(dip, s["ddate"][idx], 0).astype(np.int32),
                "bbl": s["bbl"][idx],
                "bol_dt": s["bol_dt"][idx],
                "is_mbo": is_mbo,
                "is_ho": is_ho,
                "vorm": s["vorm"][idx].astype(np.int8),
                "exam_year": s["exam_year"][idx].astype(np.int32),
                "retake": s["retake"][idx],
                "first_pass": s["first_pass"][idx],
                "entry_leerjaar": s["entry_leerjaar"][idx].astype(np.int8),
                "neven_row": s["neven"][idx].astype(np.int32),
            }))
        raw = pl.concat(parts)
        progs = pl.DataFrame({
            "prog_row": np.arange(len(lk.oplnr), dtype=np.int32), "oplnr": lk.oplnr.astype(str),
            "sector": lk.sector.astype(str), "richting": lk.richting.astype(str),
            "crebo": pl.Series(lk.crebo.tolist(), dtype=pl.Utf8)})
        nev = progs.select(pl.col("prog_row").alias("neven_row"), pl.col("oplnr").alias("neven_oplnr"))
        fine_map = pl.DataFrame({
            "fine": np.arange(len(FINE), dtype=np.int8), "stage": FINE_STAGE, "level": FINE_COARSE,
            "vo_programme": [f if FINE_STAGE[i] == "vo" else None for i, f in enumerate(FINE)],
            "soi": [str(int(s)) for s in FINE_SOI]})
        careers = (raw.join(progs, on="prog_row", how="left").join(nev, on="neven_row", how="left")
                   .join(fine_map, on="fine", how="left")
                   .with_columns(
            pl.col("start_d").cast(pl.Date).alias("start"),
            pl.col("end_d").cast(pl.Date).alias("end"),
            pl.when(pl.col("diploma")).then(pl.col("ddate_d").cast(pl.Date)).otherwise(None).alias("diploma_date"),
            pl.when(pl.col("is_mbo")).then(pl.when(pl.col("bbl")).then(pl.lit("BBL")).otherwise(pl.lit("BOL")))
            .otherwise(None).alias("type_mbo"),
            pl.when(pl.col("is_mbo")).then(pl.col("bol_dt")).otherwise(None).alias("bol_deeltijd"),
            pl.when(pl.col("is_ho")).then(pl.col("vorm").cast(pl.Utf8)).otherwise(None).alias("vorm_ho"),
            pl.when(pl.col("exam_year") > 0).then(pl.col("exam_year").cast(pl.Int16)).otherwise(None)
            .alias("exam_year"),
            (pl.col("seq") != 7).alias("initial"),
        ).sort("pid", "start", "seq"))
        careers = careers.select(
            "pid", "stage", "seq", "oplnr", "level", "vo_programme", "sector", "richting", "crebo", "start", "end",
            "diploma", "diploma_date", "type_mbo", "bol_deeltijd", "vorm_ho", "exam_year", "retake", "first_pass",
            "entry_leerjaar", "neven_oplnr", "soi", "initial", "prog_row", "fine")

        # exams
        ex = pl.concat([pl.DataFrame({k: np.asarray(v) for k, v in r.items()}) for r in self.exam_rows])
        exams = (ex.with_columns(pl.col("fine").cast(pl.Int8), pl.col("prog_row").cast(pl.Int32),
                                 pl.col("exam_year").cast(pl.Int32))
                 .join(fine_map.select("fine", "vo_programme"), on="fine", how="left")
                 .join(progs.select("prog_row", "oplnr"), on="prog_row", how="left")
                 .select("pid", "exam_year", "attempt", "vo_programme", "oplnr", "passed")
                 .sort("pid", "exam_year", "attempt"))

        attain = self._attainments(careers)
        coverage = self._coverage(careers)
        person_edu = self._person_edu(careers, attain)
        survey = self._survey(careers)
        ref = _catalogue().drop("weight", "sbb_base")
        return EducationWorld(person_edu=person_edu, careers=careers.drop("prog_row", "fine"), oplnr_ref=ref,
                              exams=exams, attainments=attain, coverage=coverage, survey=survey,
                              first_year=first_year, last_year=last_year)

    def _attainments(self, careers: pl.DataFrame) -> pl.DataFrame:
        """Dated level events: ``attained`` True (HB) or False (only followed, HG); ``source`` 0 base,
        1 Dutch register, 2 abroad, 3 PhD."""
        ev = []
        nl = self.nl_school
        # base: completed primary school when entering vo
        idx = np.flatnonzero(nl)
        ev.append((self.pid[idx], _ymd(self.vo_S[idx], 8, 1), np.full(len(idx), 1112), True, 0, "000001"))
        # havo/vwo onderbouw completed when entering leerjaar 4 (vo1), or when stacking into havo 4/vwo 5
        vo1 = self.vo1
        hv = vo1["valid"] & (self.vo_fine >= F["havo"])
        ob_date = _ymd(self.vo_S + 3, 8, 1)
        m = hv & (vo1["end"] >= ob_date)
        idx = np.flatnonzero(m)
        ev.append((self.pid[idx], ob_date[idx], np.full(len(idx), 1222), True, 1, "000002"))
        idx = np.flatnonzero(self.vo2["valid"])
        ev.append((self.pid[idx], self.vo2["start"][idx], np.full(len(idx), 1222), True, 1, "000002"))
        # abroad level
        idx = np.flatnonzero(self.abroad_vo)
        ab = self.abroad_soi[idx]
        ev.append((self.pid[idx], self.abroad_leave[idx], ab, True, 2, np.char.add("09", ab.astype(str))))
        # PhD
        idx = np.flatnonzero(self.phd)
        ev.append((self.pid[idx], self.phd_date[idx], np.full(len(idx), 3213), True, 3, "000003"))
        frames = []
        for pid_, date_, soi_, att, src, opl in ev:
            k = len(pid_)
            frames.append(pl.DataFrame({
                "pid": pid_.astype(np.int64), "date_d": np.asarray(date_, dtype=np.int32),
                "soi": np.asarray(soi_, dtype=np.int16), "attained": np.full(k, att),
                "source": np.full(k, src, dtype=np.int8),
                "oplnr": np.full(k, opl) if isinstance(opl, str) else np.asarray(opl, dtype=str),
            }, schema_overrides={"oplnr": pl.Utf8}))
        c = careers
        # diplomas
        dip = c.filter(pl.col("diploma")).select(
            "pid", pl.col("diploma_date").cast(pl.Int32).alias("date_d"), pl.col("soi").cast(pl.Int16),
            pl.lit(True).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"), "oplnr")
        # followed: programme level at the start; havo/vwo pupils follow 1222 in leerjaar 1-3
        fol = c.select(
            "pid", pl.col("start").cast(pl.Int32).alias("date_d"),
            pl.when(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
            .then(pl.lit(1222)).otherwise(pl.col("soi").cast(pl.Int64)).cast(pl.Int16).alias("soi"),
            pl.lit(False).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"),
            pl.when(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
            .then(pl.lit("000002")).otherwise(pl.col("oplnr")).alias("oplnr"))
        hv_up = (c.filter(pl.col("level").is_in(["havo", "vwo"]) & (pl.col("entry_leerjaar") == 1))
                 .with_columns(pl.col("start").dt.offset_by("3y").alias("_up"))
                 .filter(pl.col("_up") <= pl.col("end"))
                 .select("pid", pl.col("_up").cast(pl.Int32).alias("date_d"), pl.col("soi").cast(pl.Int16),
                         pl.lit(False).alias("attained"), pl.lit(1, dtype=pl.Int8).alias("source"), "oplnr"))
        out = pl.concat(frames + [dip, fol, hv_up], how="vertical_relaxed")
        return (out.with_columns(pl.col("date_d").cast(pl.Date).alias("date"))
                .select("pid", "date", "soi", "attained", "source", "oplnr")
                .sort("pid", "date", "soi"))

    def _coverage(self, careers: pl.DataFrame) -> pl.DataFrame:
        """HOOGSTEOPLTAB coverage: register coverage from the first enrolment in the register era (vo 2003,
        mbo 2004, ho 1986) on; otherwise only through the EBB (a sample, so low and growing with the years)."""
        eras = pl.DataFrame({"stage": list(_SOI_ERA_START), "era": [_d(*v) for v in _SOI_ERA_START.values()]}
                            ).with_columns(pl.col("era").cast(pl.Int32).cast(pl.Date))
        reg = (careers.join(eras, on="stage", how="left")
               .filter(pl.col("end") >= pl.col("era"))
               .group_by("pid").agg(pl.max_horizontal("start", "era").min().alias("reg_date")))
        base = pl.DataFrame({"pid": self.pid, "u_ebb": self.u(),
                             "abroad_educated": self.abroad_vo})
        return base.join(reg, on="pid", how="left").sort("pid")

    def _person_edu(self, careers: pl.DataFrame, attain: pl.DataFrame) -> pl.DataFrame:
        final = attain.filter(pl.col("attained")).group_by("pid").agg(pl.col("soi").max().alias("soi_max"))
        last_end = careers.filter(pl.col("initial")).group_by("pid").agg(pl.col("end").max().alias("nl_end"))
        track_names = np.array(["praktijk", "vmbo_bk", "vmbo_gt", "havo", "vwo"], dtype=object)
        track = np.where(self.track >= 0, track_names[np.clip(self.track, 0, 4)], "buitenland")
        base = pl.DataFrame({
            "pid": self.pid,
            "secondary_track": track.astype(str),
            "edu_abroad": self.edu_abroad,
            "abroad_soi": np.where(self.abroad_soi > 0, self.abroad_soi, 0).astype(np.int16),
            "abroad_leave": self.abroad_leave.astype(np.int32),
        })
        pe = (base.join(final, on="pid", how="left").join(last_end, on="pid", how="left")
              .with_columns(
                  pl.col("soi_max").fill_null(1112).cast(pl.Utf8).alias("edu_soi"),
                  pl.coalesce("nl_end", pl.col("abroad_leave").cast(pl.Date)).alias("school_leave_date"),
                  pl.when(pl.col("abroad_soi") > 0).then(pl.col("abroad_soi").cast(pl.Utf8)).otherwise(None)
                  .alias("abroad_soi"))
              .with_columns(pl.col("edu_soi").str.slice(0, 1).replace_strict(
                  {"1": "laag", "2": "middelbaar", "3": "hoog"}, return_dtype=pl.Utf8).alias("edu_niveau")))
        return pe.select("pid", "edu_soi", "edu_niveau", "school_leave_date", "secondary_track", "edu_abroad",
                         "abroad_soi").sort("pid")

    def _survey(self, careers: pl.DataFrame) -> pl.DataFrame:
        """Pre-drawn mbo-schoolverlatersonderzoek answers for every mbo graduate (main diploma); survey year =
        end year of the graduation school year + 1 (report 5.1, 4b/4c)."""
        c = careers.filter((pl.col("stage") == "mbo") & pl.col("diploma")).sort("pid", "diploma_date", "oplnr")
        pidmap = pl.DataFrame({"pid": self.pid, "i": np.arange(self.n)})
        c = c.join(pidmap, on="pid", how="left")
        i = c["i"].to_numpy()
        m = len(i)
        dd = c["diploma_date"].to_physical().to_numpy().astype(np.int64)
        sy_end = _year_of(dd) + (_month_of(dd) >= 8)
        survey_year = sy_end + 1
        bbl = (c["type_mbo"] == "BBL").to_numpy()
        row = c["prog_row"].to_numpy().astype(np.int64)
        niveau = c["level"].str.slice(3, 1).to_numpy()
        sector = c["sector"].to_numpy()
        nw = self.nw[i]
        fem = self.female[i]
        abil = self.ability[i]
        rng = self.rng
        u_resp = rng.random(m)
        p_resp = 0.36 - 0.09 * nw + 0.05 * fem + 0.03 * bbl
        respond = u_resp < p_resp
        score = _sbb_score(row, bbl.astype(np.int64), sy_end, self.lk)
        z = (0.35 * abil + 0.35 * score + 0.35 * bbl - 0.15 * nw + rng.standard_normal(m)
             + AANSLUITING_WORDING_SHIFT * (survey_year >= WORDING_BREAK_YEAR))
        aans = 1 + np.searchsorted(np.array([-1.29, -0.58, 0.58]), z)
        mean_apps = 1.4 * np.exp(0.55 * nw + 0.25 * bbl - 0.15 * abil + 0.2 * (sector == "5"))
        apps = 1 + rng.poisson(rng.gamma(2.0, mean_apps / 2.0))
        app_cat = np.select([apps <= 1, apps <= 3, apps <= 6, apps <= 10], ["1", "2", "4", "7"], "11")
        p_prob = _sigmoid(-1.7 + 0.5 * (apps >= 4) + 0.5 * (apps >= 7) + 0.55 * nw + 0.2 * bbl)
        problems = rng.random(m) < p_prob
        return pl.DataFrame({
            "pid": c["pid"], "survey_year": survey_year.astype(np.int32),
            "schooljaar": np.char.add(np.char.add((sy_end - 1).astype(str), "/"), sy_end.astype(str)),
            "oplnr": c["oplnr"], "crebo": c["crebo"], "bbl": bbl, "niveau": niveau,
            "responded": respond, "aansluiting": aans.astype(str),
            "sollicitaties": app_cat, "problemen": problems, "nw": nw, "female": fem,
            "kind": self.kind[i].astype(np.int8),
        }).sort("pid", "survey_year", "oplnr")


def simulate_education(persons: pl.DataFrame, rng: np.random.Generator, first_year: int,
                       last_year: int) -> EducationWorld:
    """Simulate one education career per person (see module docstring; report 2.2 and 5.1).

    Vectorised over persons; deterministic for a given ``rng`` state and set of persons (input is sorted by
    ``pid`` first, so the input row order does not matter).  ``first_year``/``last_year`` only matter for the
    projections; careers exist for every birth year (planned future dates for children).
    """
    return _Sim(persons, rng).build(first_year, last_year)


# ---------------------------------------------------------------------------------------------------------
# Projections
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


def project_examvotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """EXAMVOTAB: exam candidates vo of the school year ending in ``year`` (report 5.1 / bijlage A item 19).

    Columns: RINPERSOONS, RINPERSOON, OPLNR, EXAMENPROGRAMMAVO **(assumed)** ("1" vmbo-b, "2" vmbo-k,
    "3" vmbo-g, "4" vmbo-t, "5" havo, "6" vwo), UITSLAGEXAMENVO **(assumed)** ("1" geslaagd, "2" gezakt).
    A candidate who fails and retakes appears again the next year.  Praktijkonderwijs has no exam.
    """
    ex = ew.exams.filter(pl.col("exam_year") == year)
    out = ex.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", pl.col("oplnr").alias("OPLNR"),
        pl.col("vo_programme").replace_strict(VO_EXAM_CODE, return_dtype=pl.Utf8).alias("EXAMENPROGRAMMAVO"),
        pl.when(pl.col("passed")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("UITSLAGEXAMENVO"))
    return out.sort("RINPERSOON", "RINPERSOONS", "OPLNR")


def project_onderwijsinschrtab(ew: EducationWorld, persons: pl.DataFrame, residence: pl.DataFrame,
                               year: int) -> pl.DataFrame:
    """ONDERWIJSINSCHRTAB: enrolments on 1 October of ``year`` of persons living in NL that day.

    Columns: RINPERSOONS, RINPERSOON, OPLNR, TYPEONDERWIJS ("VO", "MBO", "HBO", "WO"), HOOFDINSCHR ("1"
    hoofdinschrijving, "2" neveninschrijving: about 2% of hbo/wo students have a second programme),
    LEERJAAR **(assumed; the real file has VOLEERJAAR for vo)**, LEERWEGMBO **(assumed)** ("1" BOL voltijd,
    "2" BOL deeltijd, "3" BBL, "-" not mbo), VORMOPLEIDINGHO **(assumed)** ("1" voltijd, "2" deeltijd,
    "3" duaal, "-" not ho).  First-year students (report 5.1: link SBB to eerstejaars) have LEERJAAR "1"
    (stackers enter havo/vwo in leerjaar 4/5).  The real HOOFDINSCHR codes combine sector and main flag
    ("01", "11", ...); we follow the project contract ("1" main).
    """
    d = _d(year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    c = ew.careers.filter((pl.col("start") <= D) & (pl.col("end") >= D))
    c = c.join(_in_nl_on(residence, d), on="pid", how="semi")
    sm = pl.when(pl.col("stage") == "mbo").then(8).otherwise(9)
    elapsed = (year - pl.col("start").dt.year() + pl.when(pl.col("start").dt.month() < sm).then(1).otherwise(0))
    final_vo = pl.col("level").replace_strict({"praktijk": 6, "vmbo_bk": 4, "vmbo_gt": 4, "havo": 5, "vwo": 6},
                                              default=99, return_dtype=pl.Int64)
    leerjaar = pl.when(pl.col("stage") == "vo").then(
        pl.min_horizontal(pl.col("entry_leerjaar").cast(pl.Int64) + elapsed, final_vo)).otherwise(elapsed + 1)
    main = c.select(
        "pid", pl.col("oplnr").alias("OPLNR"), pl.col("stage").str.to_uppercase().alias("TYPEONDERWIJS"),
        pl.lit("1").alias("HOOFDINSCHR"), leerjaar.cast(pl.Utf8).alias("LEERJAAR"),
        pl.when(pl.col("stage") == "mbo").then(
            pl.when(pl.col("type_mbo") == "BBL").then(pl.lit("3"))
            .when(pl.col("bol_deeltijd")).then(pl.lit("2")).otherwise(pl.lit("1"))).otherwise(pl.lit("-"))
        .alias("LEERWEGMBO"),
        pl.col("vorm_ho").fill_null("-").alias("VORMOPLEIDINGHO"),
        "neven_oplnr", "stage")
    neven = main.filter(pl.col("neven_oplnr").is_not_null() & pl.col("stage").is_in(["hbo", "wo"])).with_columns(
        pl.col("neven_oplnr").alias("OPLNR"), pl.lit("2").alias("HOOFDINSCHR"))
    out = pl.concat([main, neven]).join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", "OPLNR", "TYPEONDERWIJS", "HOOFDINSCHR", "LEERJAAR", "LEERWEGMBO",
        "VORMOPLEIDINGHO")
    return out.sort("RINPERSOON", "RINPERSOONS", "HOOFDINSCHR", "OPLNR")


def project_diplomambotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """DIPLOMAMBOTAB: mbo diplomas of the school year ending in ``year`` (1 Aug year-1 .. 31 Jul year).

    Columns: RINPERSOONS, RINPERSOON, EXAMENDATUMMBO (YYYYMMDD), OPLNR, TYPEMBODPL ("1" BOL voltijd,
    "2" BOL deeltijd, "3" BBL; numeric codes as in the real file, labels in ``LABELS``), SELECTIEHOOFDDPLMBO
    ("1" hoofddiploma, "2" nevendiploma: about 1.5% of graduates get a second diploma of the same level),
    SELECTIEHOOGSTEDPLMBO ("1" highest diploma of the person in the file year, "2" other).
    """
    lo, hi = _d(year - 1, 8, 1), _d(year, 7, 31)
    c = ew.careers.filter((pl.col("stage") == "mbo") & pl.col("diploma")
                          & pl.col("diploma_date").cast(pl.Int32).is_between(lo, hi))
    typ = (pl.when(pl.col("type_mbo") == "BBL").then(pl.lit("3"))
           .when(pl.col("bol_deeltijd")).then(pl.lit("2")).otherwise(pl.lit("1")))
    main = c.select("pid", "diploma_date", pl.col("oplnr").alias("OPLNR"), typ.alias("TYPEMBODPL"),
                    pl.lit("1").alias("SELECTIEHOOFDDPLMBO"), "level")
    nev = c.filter(pl.col("neven_oplnr").is_not_null()).select(
        "pid", "diploma_date", pl.col("neven_oplnr").alias("OPLNR"), typ.alias("TYPEMBODPL"),
        pl.lit("2").alias("SELECTIEHOOFDDPLMBO"), "level")
    # highest diploma of the year: the main diploma of the highest level (the later one on a tie)
    allr = (pl.concat([main, nev])
            .with_columns(pl.col("level").str.slice(3, 1).cast(pl.Int64).alias("_lvl"),
                          (pl.col("SELECTIEHOOFDDPLMBO") == "1").alias("_main"))
            .sort("pid", "_main", "_lvl", "diploma_date", "OPLNR").with_row_index("_r")
            .with_columns(pl.when(pl.col("_main") & (pl.col("_r") == pl.col("_r").max().over("pid")))
                          .then(pl.lit("1")).otherwise(pl.lit("2")).alias("SELECTIEHOOGSTEDPLMBO")))
    out = allr.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", _ymd_str("diploma_date").alias("EXAMENDATUMMBO"), "OPLNR", "TYPEMBODPL",
        "SELECTIEHOOFDDPLMBO", "SELECTIEHOOGSTEDPLMBO")
    return out.sort("RINPERSOON", "RINPERSOONS", "EXAMENDATUMMBO", "SELECTIEHOOFDDPLMBO", "OPLNR")


def project_diplomahotab(ew: EducationWorld, persons: pl.DataFrame, year: int) -> pl.DataFrame:
    """DIPLOMAHOTAB: hbo/wo diplomas of the academic year ending in ``year`` (1 Sep year-1 .. 31 Aug year).

    Columns: RINPERSOONS, RINPERSOON, OPLNR, STUDIEFASEDIPL ("A" associate degree, "B" bachelor, "M" master),
    EXAMENMAAND (two-digit month "01".."12" as in the real file: months 09-12 fall in calendar year
    ``year - 1``, months 01-08 in ``year``), VORMOPLEIDINGHODIP ("1" voltijd, "2" deeltijd, "3" duaal) and,
    from 2013 on only (as in the real files), EXAMENDATUMDIPLHO (YYYYMMDD).
    """
    lo, hi = _d(year - 1, 9, 1), _d(year, 8, 31)
    c = ew.careers.filter(pl.col("stage").is_in(["hbo", "wo"]) & pl.col("diploma")
                          & pl.col("diploma_date").cast(pl.Int32).is_between(lo, hi))
    cols = [
        "RINPERSOONS", "RINPERSOON", pl.col("oplnr").alias("OPLNR"),
        pl.col("level").replace_strict({"hbo_ad": "A", "hbo_ba": "B", "wo_ba": "B", "hbo_ma": "M", "wo_ma": "M"},
                                       return_dtype=pl.Utf8).alias("STUDIEFASEDIPL"),
        pl.col("diploma_date").dt.strftime("%m").alias("EXAMENMAAND"),
        pl.col("vorm_ho").fill_null("1").alias("VORMOPLEIDINGHODIP"),
    ]
    if year >= 2013:
        cols.append(_ymd_str("diploma_date").alias("EXAMENDATUMDIPLHO"))
    out = c.join(_rin(persons), on="pid", how="inner").select(cols)
    return out.sort("RINPERSOON", "RINPERSOONS", "EXAMENMAAND", "OPLNR")


def _ebb_p(year: int) -> tuple[float, float]:
    """Probability that a person's level is known from the EBB (Dutch-educated, abroad-educated)."""
    t = max(0, year - 2000)
    return min(0.65, 0.35 + 0.015 * t), min(0.40, 0.12 + 0.014 * t)


def hoogsteopl_column(year: int, kind: str = "HB") -> str:
    """Name of the SOI level column of HOOGSTEOPLTAB (trend break SOI 2016 -> SOI 2021 in 2019)."""
    if year <= 2018:
        return f"OPLNIVSOI2016AGG4{kind}METNIRWO"
    return f"OPLNIVSOI2021AGG4{kind}metNIRWO"


def project_hoogsteopltab(ew: EducationWorld, persons: pl.DataFrame, residence: pl.DataFrame,
                          year: int) -> pl.DataFrame:
    """HOOGSTEOPLTAB: highest level attained (HB) and followed (HG) on 1 October of ``year`` (report 2.2).

    Population: persons living in NL on 1 October aged 15 or over.  Coverage is incomplete as in the real
    file: a person is in the file when known from the education registers (enrolment after the start of the
    register: ho 1986, vo 2003, mbo 2004) or from the EBB and older sources (35% + 1.5 points per year after
    2000, max 65%, for the Dutch-educated; 12% + 1.4 points per year, max 40%, for the abroad-educated).  Persons
    not covered are **left out** (not coded "----").  Register-only persons show their Dutch level (a foreign
    diploma is only known through the EBB).

    Columns: RINPERSOONS, RINPERSOON, OPLNRHB, OPLNRHG, OPLNIVSOI2016AGG4HBMETNIRWO and
    OPLNIVSOI2016AGG4HGMETNIRWO (year <= 2018) or OPLNIVSOI2021AGG4HBmetNIRWO and
    OPLNIVSOI2021AGG4HGmetNIRWO (year >= 2019; trend break SOI 2016 -> 2021, the 4-digit codes are the same),
    OPLGEWICHT **(assumed name)**: weight = persons in the population / persons in the file within cells of
    age band x sex x generation x (Nederland / westers / niet-westers), correcting for non-coverage.
    """
    d = _d(year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    p_nl, p_ab = _ebb_p(year)
    pop = (persons.select("pid", "sex", "generation", "herkomst_group", "birth_date")
           .join(_in_nl_on(residence, d), on="pid", how="semi")
           .with_columns(((d - pl.col("birth_date").cast(pl.Int32)) / 365.25).floor().cast(pl.Int64).alias("age"))
           .filter(pl.col("age") >= 15)
           .join(ew.coverage, on="pid", how="left")
           .with_columns(
               (pl.col("reg_date").is_not_null() & (pl.col("reg_date") <= D)).alias("reg"),
               (pl.col("u_ebb") < pl.when(pl.col("abroad_educated")).then(p_ab).otherwise(p_nl)).alias("ebb"),
               pl.min_horizontal(pl.col("age") // 10, 7).alias("ageband"),
               pl.when(pl.col("herkomst_group").is_in(list(NON_WESTERN))).then(2)
               .when(pl.col("herkomst_group").is_in(list(WESTERN))).then(1).otherwise(0).alias("kind")))
    cov = pop.filter(pl.col("reg") | pl.col("ebb"))
    ev = (ew.attainments.filter(pl.col("date") <= D)
          .join(cov.select("pid", "ebb"), on="pid", how="inner")
          .filter(pl.col("ebb") | (pl.col("source") != 2)))
    hb = (ev.filter(pl.col("attained")).group_by("pid")
          .agg(pl.col("soi").max().alias("hb"), pl.col("oplnr").sort_by("soi", "date").last().alias("OPLNRHB")))
    hg = ev.group_by("pid").agg(pl.col("soi").max().alias("hg"),
                                pl.col("oplnr").sort_by("soi", "date").last().alias("OPLNRHG"))
    cells = ["ageband", "sex", "generation", "kind"]
    w = (pop.group_by(cells).agg(pl.len().alias("n_pop"))
         .join(cov.join(hb, on="pid", how="semi").group_by(cells).agg(pl.len().alias("n_cov")), on=cells, how="inner")
         .with_columns((pl.col("n_pop") / pl.col("n_cov")).alias("OPLGEWICHT")))
    out = (cov.join(hb, on="pid", how="inner").join(hg, on="pid", how="left").join(w, on=cells, how="left")
           .join(_rin(persons), on="pid", how="inner")
           .select("RINPERSOONS", "RINPERSOON", "OPLNRHB", "OPLNRHG",
                   pl.col("hb").cast(pl.Utf8).alias(hoogsteopl_column(year, "HB")),
                   pl.col("hg").cast(pl.Utf8).alias(hoogsteopl_column(year, "HG")),
                   pl.col("OPLGEWICHT").cast(pl.Float64)))
    return out.sort("RINPERSOON", "RINPERSOONS")


def project_opleidingsnrref(ew: EducationWorld) -> pl.DataFrame:
    """OPLEIDINGSNRREF: programme reference (report 5.1: OPLNR -> mbo-sector / ho-richting, level).

    Columns: OPLNR, OPLNAAM, TYPEONDERWIJS (BO/VO/MBO/HBO/WO/BTL), OPLNIVEAU (e.g. "MBO4", "HBO-BA"),
    OPLNIVSOI2016AGG4HB, OPLNIVSOI2021AGG4HB (identical 4-digit codes), OPLSECTOR (code list in ``LABELS``),
    OPLRICHTING, CREBO (mbo only, "-" otherwise).  Real OPLEIDINGSNRREF goes OPLNR -> CTO -> SOI; the synthetic
    file carries the SOI level directly **(assumed simplification)**.  Generic rows: 000001 basisonderwijs,
    000002 havo/vwo onderbouw, 000003 promotie, 09xxxx foreign diplomas per SOI level.
    """
    r = ew.oplnr_ref
    return r.select(
        pl.col("oplnr").alias("OPLNR"), pl.col("name").alias("OPLNAAM"),
        pl.col("typeonderwijs").alias("TYPEONDERWIJS"), pl.col("niveau_code").alias("OPLNIVEAU"),
        pl.col("soi").alias("OPLNIVSOI2016AGG4HB"), pl.col("soi").alias("OPLNIVSOI2021AGG4HB"),
        pl.col("sector").alias("OPLSECTOR"), pl.col("richting").alias("OPLRICHTING"),
        pl.col("crebo").fill_null("-").alias("CREBO")).sort("OPLNR")


def project_schoolverlaters(ew: EducationWorld, persons: pl.DataFrame, labour_months: pl.DataFrame,
                            year: int) -> pl.DataFrame:
    """mbo-schoolverlatersonderzoek (report 5.1, 4b and 4c; items 23, 24, 26): mbo graduates of the school
    year ending in ``year - 1`` (e.g. 2017/2018 for 2019), surveyed in autumn ``year``; about 35% respond
    (less among non-Western graduates); SVOGEWICHT corrects non-response within sex x herkomst x leerweg x
    niveau cells.

    All column names except SVOVRGAansluitwerk are **(assumed)**:
    RINPERSOONS, RINPERSOON, SVOENQUETEJAAR, SVOSCHOOLJAAR ("2017/2018"), SVOOPLNR, SVOCREBO,
    SVOLEERWEG ("1" BOL, "2" BBL), SVONIVEAU ("1".."4"), SVOWERKZAAM ("1" ja, "2" nee: employed in
    September-November of ``year`` according to ``labour_months``), SVOVRGAansluitwerk ("1" slecht, "2" matig,
    "3" voldoende, "4" goed; "-" not asked because no job), SVOVRAAGVERSIEAANSLUITING ("1" wording 2016-2018,
    "2" wording from 2019: the planted trend break shifts answers upwards), SVOVRGSollicitatiesStage
    ("1" een keer, "2" minstens twee, "4" minstens vier, "7" minstens zeven, "11" minstens elf keer),
    SVOVRGProblemenStage ("1" ja, "2" nee), SVOGEWICHT (float).
    """
    s = ew.survey.filter(pl.col("survey_year") == year)
    cells = ["female", "kind", "bbl", "niveau"]
    w = (s.group_by(cells).agg(pl.len().alias("n_pop"), pl.col("responded").sum().alias("n_resp"))
         .filter(pl.col("n_resp") > 0)
         .with_columns((pl.col("n_pop") / pl.col("n_resp")).alias("SVOGEWICHT")))
    lo, hi = _d(year, 9, 1), _d(year, 11, 1)
    lm = labour_months.filter(pl.col("month").cast(pl.Int32).is_between(lo, hi) & pl.col("employed"))
    working = lm.select("pid").unique()
    r = (s.filter(pl.col("responded")).join(w, on=cells, how="left")
         .join(working.with_columns(pl.lit(True).alias("_work")), on="pid", how="left")
         .with_columns(pl.col("_work").fill_null(False)))
    out = r.join(_rin(persons), on="pid", how="inner").select(
        "RINPERSOONS", "RINPERSOON", pl.col("survey_year").cast(pl.Utf8).alias("SVOENQUETEJAAR"),
        pl.col("schooljaar").alias("SVOSCHOOLJAAR"), pl.col("oplnr").alias("SVOOPLNR"),
        pl.col("crebo").alias("SVOCREBO"),
        pl.when(pl.col("bbl")).then(pl.lit("2")).otherwise(pl.lit("1")).alias("SVOLEERWEG"),
        pl.col("niveau").alias("SVONIVEAU"),
        pl.when(pl.col("_work")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("SVOWERKZAAM"),
        pl.when(pl.col("_work")).then(pl.col("aansluiting")).otherwise(pl.lit("-")).alias("SVOVRGAansluitwerk"),
        pl.lit("2" if year >= WORDING_BREAK_YEAR else "1").alias("SVOVRAAGVERSIEAANSLUITING"),
        pl.col("sollicitaties").alias("SVOVRGSollicitatiesStage"),
        pl.when(pl.col("problemen")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("SVOVRGProblemenStage"),
        pl.col("SVOGEWICHT").cast(pl.Float64))
    return out.sort("RINPERSOON", "RINPERSOONS", "SVOOPLNR")


def project_sbb(ew: EducationWorld) -> pl.DataFrame:
    """SBB "kans op werk" per mbo programme (crebo) and leerweg (report 5.1, 4a; bijlage A item 22).

    One row per studiekeuzejaar (``first_year`` .. ``last_year + 1``) x crebo x leerweg.  Columns
    **(assumed)**: STUDIEKEUZEJAAR, CREBO, OPLNAAM, NIVEAU ("1".."4"), LEERWEG ("BOL", "BBL"), KANSOPWERK
    ("1" onvoldoende, "2" matig, "3" voldoende, "4" goed - SBB's four verbal categories, coded ascending).
    The underlying score (demand/supply for recent graduates) depends on sector, level and programme, is
    higher for BBL, and moves with a stylised labour-market cycle.
    """
    lk = _Lookup(_catalogue())
    mbo = np.flatnonzero(np.array([c is not None for c in lk.crebo]))
    years = np.arange(ew.first_year, ew.last_year + 2)
    rows = np.repeat(mbo, len(years) * 2)
    yy = np.tile(np.repeat(years, 2), len(mbo))
    bbl = np.tile(np.array([0, 1]), len(mbo) * len(years))
    cat = _sbb_category(_sbb_score(rows, bbl, yy, lk))
    names = lk.cat["name"].to_numpy()[lk.order]
    fines = lk.cat["fine"].to_numpy()[lk.order]
    out = pl.DataFrame({
        "STUDIEKEUZEJAAR": yy.astype(str), "CREBO": lk.crebo[rows].astype(str),
        "OPLNAAM": names[rows].astype(str), "NIVEAU": np.array([f[-1] for f in fines[rows]]),
        "LEERWEG": np.where(bbl == 1, "BBL", "BOL"), "KANSOPWERK": cat.astype(str)})
    return out.sort("STUDIEKEUZEJAAR", "CREBO", "LEERWEG")


# ---------------------------------------------------------------------------------------------------------
# Value labels
# ---------------------------------------------------------------------------------------------------------

_SOI_CODES = {k: v for k, v in SOI_LABELS.items() if k != "9999"}
_NIVEAU_LABELS = {"PRO": "Praktijkonderwijs", "VMBO-B": "Vmbo basisberoepsgerichte leerweg",
                  "VMBO-K": "Vmbo kaderberoepsgerichte leerweg", "VMBO-G": "Vmbo gemengde leerweg",
                  "VMBO-T": "Vmbo theoretische leerweg", "HAVO": "Havo", "VWO": "Vwo", "MBO1": "Mbo niveau 1 (entree)",
                  "MBO2": "Mbo niveau 2", "MBO3": "Mbo niveau 3", "MBO4": "Mbo niveau 4",
                  "HBO-AD": "Hbo associate degree", "HBO-BA": "Hbo bachelor", "HBO-MA": "Hbo master",
                  "WO-BA": "Wo bachelor", "WO-MA": "Wo master", "BO": "Basisonderwijs",
                  "HV-OB": "Havo/vwo onderbouw", "DR": "Promotie", "BTL": "Buitenlandse opleiding"}


def _richting_labels() -> dict[str, str]:
    c = _catalogue().select("richting", "richting_name").unique().sort("richting")
    return dict(zip(c["richting"].to_list(), c["richting_name"].to_list()))


LABELS: dict[str, dict[str, dict[str, str]]] = {
    "EXAMVOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "EXAMENPROGRAMMAVO": {"1": "vmbo basisberoepsgerichte leerweg", "2": "vmbo kaderberoepsgerichte leerweg",
                              "3": "vmbo gemengde leerweg", "4": "vmbo theoretische leerweg", "5": "havo",
                              "6": "vwo"},
        "UITSLAGEXAMENVO": {"1": "geslaagd", "2": "gezakt"},
    },
    "ONDERWIJSINSCHRTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "TYPEONDERWIJS": {k: v for k, v in TYPEONDERWIJS_LABELS.items() if k in ("VO", "MBO", "HBO", "WO")},
        "HOOFDINSCHR": {"1": "hoofdinschrijving", "2": "neveninschrijving"},
        "LEERJAAR": {str(i): f"leerjaar {i}" for i in range(1, 16)},
        "LEERWEGMBO": {**TYPEMBO_LABELS, "-": "niet van toepassing"},
        "VORMOPLEIDINGHO": {**VORMHO_LABELS, "-": "niet van toepassing"},
    },
    "DIPLOMAMBOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "TYPEMBODPL": TYPEMBO_LABELS,
        "SELECTIEHOOFDDPLMBO": {"1": "hoofddiploma", "2": "nevendiploma"},
        "SELECTIEHOOGSTEDPLMBO": {"1": "hoogst behaalde diploma in het jaar", "2": "overig diploma"},
    },
    "DIPLOMAHOTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "STUDIEFASEDIPL": {"A": "associate degree", "B": "bachelor", "M": "master"},
        "EXAMENMAAND": MONTH_LABELS,
        "VORMOPLEIDINGHODIP": VORMHO_LABELS,
    },
    "HOOGSTEOPLTAB": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "OPLNIVSOI2016AGG4HBMETNIRWO": _SOI_CODES,
        "OPLNIVSOI2016AGG4HGMETNIRWO": _SOI_CODES,
        "OPLNIVSOI2021AGG4HBmetNIRWO": _SOI_CODES,
        "OPLNIVSOI2021AGG4HGmetNIRWO": _SOI_CODES,
    },
    "OPLEIDINGSNRREF": {
        "TYPEONDERWIJS": TYPEONDERWIJS_LABELS,
        "OPLNIVEAU": _NIVEAU_LABELS,
        "OPLNIVSOI2016AGG4HB": _SOI_CODES,
        "OPLNIVSOI2021AGG4HB": _SOI_CODES,
        "OPLSECTOR": SECTOR_LABELS,
        "OPLRICHTING": _richting_labels(),
    },
    "MBOSCHOOLVERLATERS": {
        "RINPERSOONS": RINPERSOONS_LABELS,
        "SVOLEERWEG": {"1": "BOL", "2": "BBL"},
        "SVONIVEAU": {"1": "mbo niveau 1", "2": "mbo niveau 2", "3": "mbo niveau 3", "4": "mbo niveau 4"},
        "SVOWERKZAAM": {"1": "ja", "2": "nee"},
        "SVOVRGAansluitwerk": {"1": "slecht", "2": "matig", "3": "voldoende", "4": "goed",
                               "-": "niet gevraagd (geen baan)"},
        "SVOVRAAGVERSIEAANSLUITING": {"1": WORDING_OLD, "2": WORDING_NEW},
        "SVOVRGSollicitatiesStage": {"1": "een keer", "2": "minstens twee keer (2-3)",
                                     "4": "minstens vier keer (4-6)", "7": "minstens zeven keer (7-10)",
                                     "11": "minstens elf keer"},
        "SVOVRGProblemenStage": {"1": "ja", "2": "nee"},
    },
    "SBBKANSOPWERK": {
        "NIVEAU": {"1": "mbo niveau 1", "2": "mbo niveau 2", "3": "mbo niveau 3", "4": "mbo niveau 4"},
        "LEERWEG": {"BOL": "beroepsopleidende leerweg", "BBL": "beroepsbegeleidende leerweg"},
        "KANSOPWERK": {"1": "onvoldoende", "2": "matig", "3": "voldoende", "4": "goed"},
    },
}

# ---------------------------------------------------------------------------------------------------------
# Truth
# ---------------------------------------------------------------------------------------------------------

#: Keys of :func:`education_truth` and what they hold.
TRUTH_KEYS: dict[str, str] = {
    "group_track_effect": "planted latent shift of the secondary-track score per herkomst group",
    "aansluiting_wording_shift": "planted latent shift of SVOVRGAansluitwerk from the 2019 wording on",
    "exam_candidates": "{year: {herkomst_group: {EXAMENPROGRAMMAVO code: n}}} all exam rows of the year",
    "havo_vwo_share_first_exam": "{herkomst_group: {generation: share havo/vwo}} among first exam attempts "
                                 "(first vo programme) in first_year..last_year",
    "track_share_by_group": "{herkomst_group: {track: share}} among first exams (first vo programme) in the "
                            "window; praktijkonderwijs has no exam and is not included",
    "aansluiting_ge3_share": "{'before_2019': s, 'from_2019': s} share of answers >= 3 among all survey "
                             "respondents in the window (as if everyone had a job)",
    "stage_problems_share": "{'nederland'|'westers'|'niet-westers': share 'ja'} among respondents in window",
    "stage_apps_4plus_share": "{'nederland'|'westers'|'niet-westers': share with >= 4 applications}",
    "sbb_goed_share_mbo_entrants": "{year: {kind: share}} of mbo entrants (start in school year starting in "
                                   "year) whose programme x leerweg is rated 4 'goed' for that year",
    "mbo_dropout_rate": "{kind: share without diploma} among mbo stages started in the window",
    "level_shares_25_64": "{herkomst_group: {laag, middelbaar, hoog}} true level on 1 Oct last_year, age 25-64 "
                          "(all persons, no residence filter, no coverage)",
    "level_shares_25_64_native_gen0": "same for generation 0 (Nederland)",
}


def education_truth(ew: EducationWorld, persons: pl.DataFrame, first_year: int, last_year: int) -> dict:
    """Planted facts for tests and the truth file (see ``TRUTH_KEYS``)."""
    p = persons.select("pid", "generation", "herkomst_group", "birth_date")
    kind_expr = (pl.when(pl.col("herkomst_group").is_in(list(NON_WESTERN))).then(pl.lit("niet-westers"))
                 .when(pl.col("herkomst_group").is_in(list(WESTERN))).then(pl.lit("westers"))
                 .otherwise(pl.lit("nederland")).alias("kind"))
    ex = ew.exams.filter(pl.col("exam_year").is_between(first_year, last_year)).join(p, on="pid", how="inner")
    ex = ex.with_columns(pl.col("vo_programme").replace_strict(VO_EXAM_CODE, return_dtype=pl.Utf8).alias("code"))
    cnt = ex.group_by("exam_year", "herkomst_group", "code").len().sort("exam_year", "herkomst_group", "code")
    exam_candidates: dict = {}
    for y, g, c, n in cnt.iter_rows():
        exam_candidates.setdefault(str(y), {}).setdefault(g, {})[c] = int(n)
    # first exam of the first vo programme
    first_vo = ew.careers.filter((pl.col("stage") == "vo") & (pl.col("entry_leerjaar") == 1)
                                 & pl.col("exam_year").is_not_null()
                                 & pl.col("exam_year").is_between(first_year, last_year)).join(p, on="pid")
    hv = (first_vo.group_by("herkomst_group", "generation")
          .agg(pl.col("level").is_in(["havo", "vwo"]).mean().alias("s"), pl.len().alias("n"))
          .sort("herkomst_group", "generation"))
    havo_vwo: dict = {}
    for g, gen, s, n in hv.iter_rows():
        havo_vwo.setdefault(g, {})[str(gen)] = float(s)
    tr = (first_vo.group_by("herkomst_group", "level").len()
          .with_columns((pl.col("len") / pl.col("len").sum().over("herkomst_group")).alias("s"))
          .sort("herkomst_group", "level"))
    track_share: dict = {}
    for g, lvl, _n, s in tr.iter_rows():
        track_share.setdefault(g, {})[lvl] = float(s)
    sv = ew.survey.filter(pl.col("survey_year").is_between(first_year, last_year) & pl.col("responded"))
    ge3 = sv.with_columns((pl.col("aansluiting").cast(pl.Int64) >= 3).alias("ge3"))
    before = ge3.filter(pl.col("survey_year") < WORDING_BREAK_YEAR)["ge3"].mean()
    after = ge3.filter(pl.col("survey_year") >= WORDING_BREAK_YEAR)["ge3"].mean()
    kinds = {0: "nederland", 1: "westers", 2: "niet-westers"}
    prob = sv.group_by("kind").agg(pl.col("problemen").mean().alias("s"),
                                   pl.col("sollicitaties").is_in(["4", "7", "11"]).mean().alias("a")).sort("kind")
    # SBB: entrants
    lk = _Lookup(_catalogue())
    ent = (ew.careers.filter((pl.col("stage") == "mbo"))
           .with_columns((pl.col("start").dt.year() - (pl.col("start").dt.month() < 8).cast(pl.Int32)).alias("sy"))
           .filter(pl.col("sy").is_between(first_year, last_year)).join(p, on="pid").with_columns(kind_expr))
    oplnr_to_row = {o: i for i, o in enumerate(lk.oplnr)}
    rows = np.array([oplnr_to_row[o] for o in ent["oplnr"].to_list()], dtype=np.int64)
    sbb_cat = _sbb_category(_sbb_score(rows, (ent["type_mbo"] == "BBL").to_numpy().astype(np.int64),
                                       ent["sy"].to_numpy(), lk)) if len(rows) else np.array([], dtype=np.int64)
    ent = ent.with_columns(pl.Series("goed", sbb_cat == 4))
    sg = ent.group_by("sy", "kind").agg(pl.col("goed").mean()).sort("sy", "kind")
    sbb_share: dict = {}
    for y, kd, s in sg.iter_rows():
        sbb_share.setdefault(str(y), {})[kd] = float(s)
    drop = ent.group_by("kind").agg((~pl.col("diploma")).mean().alias("s")).sort("kind")
    # levels on 1 Oct last_year, 25-64
    d = _d(last_year, 10, 1)
    D = pl.lit(d).cast(pl.Int32).cast(pl.Date)
    lv = (ew.attainments.filter(pl.col("attained") & (pl.col("date") <= D)).group_by("pid")
          .agg(pl.col("soi").max()).join(p, on="pid")
          .with_columns(((d - pl.col("birth_date").cast(pl.Int32)) / 365.25).floor().alias("age"))
          .filter(pl.col("age").is_between(25, 64))
          .with_columns(pl.col("soi").cast(pl.Utf8).str.slice(0, 1)
                        .replace_strict({"1": "laag", "2": "middelbaar", "3": "hoog"}, return_dtype=pl.Utf8)
                        .alias("niveau")))

    def shares(frame: pl.DataFrame) -> dict:
        out: dict = {}
        t = (frame.group_by("herkomst_group", "niveau").len()
             .with_columns((pl.col("len") / pl.col("len").sum().over("herkomst_group")).alias("s"))
             .sort("herkomst_group", "niveau"))
        for g, nv, _n, s in t.iter_rows():
            out.setdefault(g, {})[nv] = float(s)
        return out

    return {
        "group_track_effect": dict(GROUP_TRACK_EFFECT),
        "aansluiting_wording_shift": AANSLUITING_WORDING_SHIFT,
        "exam_candidates": exam_candidates,
        "havo_vwo_share_first_exam": havo_vwo,
        "track_share_by_group": track_share,
        "aansluiting_ge3_share": {"before_2019": None if before is None else float(before),
                                  "from_2019": None if after is None else float(after)},
        "stage_problems_share": {kinds[k]: float(s) for k, s, _a in prob.iter_rows()},
        "stage_apps_4plus_share": {kinds[k]: float(a) for k, _s, a in prob.iter_rows()},
        "sbb_goed_share_mbo_entrants": sbb_share,
        "mbo_dropout_rate": {k: float(s) for k, s in drop.iter_rows()},
        "level_shares_25_64": shares(lv),
        "level_shares_25_64_native_gen0": shares(lv.filter(pl.col("generation") == 0)),
    }
