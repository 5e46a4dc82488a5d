"""Synthetic online vacancies in the vendor export format (Jobfeed by Textkernel, technisch rapport Monitor
gelijke kansen, hfd. 6; assumed layout: vacancies/schema.py) with planted stage- and werkervaringsplaatsen and the
hard negatives a naive search confuses; issue 20, docs/vacancies.md.

``generate_vacancies(out_dir, year, n, seed)`` writes ``Vacatures/JOBFEED/JOBFEED{year}{month:02d}V1.csv`` (one
file per month; ``monthly=False``: ``JOBFEED{year}V1``) and a truth file (parquet) next to ``out_dir``: per
vacancy the planted ``kind``, the primary ``categorie`` (or ``geen``), one boolean per category (``is_<cat>``),
the ``hard_negative`` kind (or null) and ``missed_phrasing`` (the planted wording strategy v1 is known NOT to
find: the recall the validation must detect).

Texts are assembled from Dutch pieces (title per sector, employer, intro, tasks, requirements, offer, location,
closing) with the planted sentences at a random place between them.  Planted rates differ by government level
and sector (werkervaringsplaatsen x4 at government, stages for the target group x3 at rijk, open to
statushouders x2 in sectors G, I, Q) and grow by 20 % a year from 2021, so every split and the trend of the
indicators is testable.  Deterministic for (seed, year)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

CATS = ("voor_inburgeringsplichtigen", "open_voor_statushouders", "werkervaringsplaats", "stage")

# ------------------------------------------------------------------------------------------- text pieces
ROLES = {
    "A": ["medewerker teelt", "tuinder", "medewerker glastuinbouw", "hovenier"],
    "C": ["productiemedewerker", "operator", "monteur", "lasser", "inpakker"],
    "F": ["timmerman", "metselaar", "grondwerker", "schilder", "uitvoerder"],
    "G": ["verkoopmedewerker", "kassamedewerker", "vakkenvuller", "filiaalmanager", "medewerker klantenservice"],
    "H": ["chauffeur", "orderpicker", "magazijnmedewerker", "planner logistiek", "heftruckchauffeur"],
    "I": ["kok", "afwasser", "bediening", "medewerker keuken", "gastheer"],
    "J": ["software developer", "servicedesk medewerker", "data analist", "systeembeheerder"],
    "K": ["klantadviseur", "financieel adviseur", "medewerker backoffice"],
    "M": ["adviseur", "jurist", "projectmedewerker", "onderzoeker"],
    "N": ["schoonmaker", "beveiliger", "receptionist", "facilitair medewerker"],
    "O": ["beleidsmedewerker", "medewerker burgerzaken", "handhaver", "adviseur werk en inkomen",
          "medewerker groenvoorziening", "administratief medewerker"],
    "P": ["onderwijsassistent", "conciërge", "leraar basisonderwijs", "docent techniek"],
    "Q": ["verzorgende IG", "helpende zorg en welzijn", "begeleider gehandicaptenzorg", "verpleegkundige",
          "medewerker huishouding"],
    "R": ["medewerker recreatie", "sportinstructeur", "medewerker bibliotheek"],
    "S": ["medewerker wasserij", "kapper", "medewerker kringloopwinkel"],
}
MARKET_SECTORS = ["A", "C", "F", "G", "H", "I", "J", "K", "M", "N", "P", "Q", "R", "S"]
MARKET_WEIGHTS = np.array([2, 10, 7, 16, 9, 8, 6, 4, 8, 8, 5, 12, 3, 2], float)
SURNAMES = ["Van der Berg", "De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder",
            "De Groot", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Van Dijk", "Brouwer", "Koster"]
SUFFIX = {"A": "Kwekerijen", "C": "Productie", "F": "Bouw", "G": "Retail", "H": "Logistiek", "I": "Horeca",
          "J": "ICT", "K": "Financiële Diensten", "M": "Advies", "N": "Facilitair", "P": "Scholengroep",
          "Q": "Zorggroep", "R": "Recreatie", "S": "Diensten", "L": "Wonen", "O": "Diensten"}
RIJK = ["Belastingdienst", "Rijkswaterstaat", "Dienst Justitiële Inrichtingen", "Ministerie van Sociale Zaken en "
        "Werkgelegenheid", "Dienst Uitvoering Onderwijs", "Rijksvastgoedbedrijf", "UWV", "Immigratie- en Naturalisatiedienst"]
PROVINCIES = ["Provincie Gelderland", "Provincie Noord-Brabant", "Provincie Utrecht", "Provincie Groningen"]
WATERSCHAPPEN = ["Waterschap Rivierenland", "Hoogheemraadschap van Rijnland", "Waterschap Aa en Maas"]
OVERIG_OVERHEID = ["Veiligheidsregio", "Omgevingsdienst", "GGD", "Regionale Sociale Dienst"]
INTERMEDIAIRS = ["Flexwerk Uitzendgroep", "Werkt! Detachering", "Payroll Partners", "Uitzendbureau Aan de Slag"]

INTROS = [
    "Wie zijn wij?\n{werkgever} is een organisatie met ongeveer {size} medewerkers.",
    "Over {werkgever}: wij zijn een betrokken werkgever met korte lijnen en een open cultuur.",
    "{werkgever} groeit. Daarom zoeken wij een collega die zin heeft om samen met ons te bouwen.",
    "Bij {werkgever} werken {size} collega's elke dag aan goede service voor onze klanten.",
    "Kom jij ons team versterken? {werkgever} is op zoek naar een enthousiaste collega.",
]
TASKS = [
    "Je voert de dagelijkse werkzaamheden zelfstandig uit en houdt je aan de planning.",
    "Je werkt nauw samen met je collega's en denkt mee over verbeteringen.",
    "Je bent het eerste aanspreekpunt voor klanten en beantwoordt hun vragen.",
    "Je zorgt dat de werkplek schoon en veilig is.",
    "Je registreert je werkzaamheden in ons systeem.",
    "Je ondersteunt het team bij uiteenlopende taken.",
    "Je bereidt overleggen voor en werkt afspraken uit.",
    "Je controleert de kwaliteit van het werk en rapporteert afwijkingen.",
]
REQUIREMENTS = [
    "Je bent flexibel en kunt goed samenwerken.",
    "Je hebt een rijbewijs B.",
    "Je bent beschikbaar in het weekend.",
    "Je hebt affiniteit met de sector.",
    "Je spreekt en schrijft goed Nederlands.",
    "Je hebt een afgeronde opleiding op mbo-niveau.",
    "Je hebt een hbo-diploma in een relevante richting.",
    "Je bent klantgericht en communicatief vaardig.",
]
OFFERS = [
    "Wij bieden een goed salaris volgens de cao.",
    "Je krijgt een reiskostenvergoeding en vakantiegeld.",
    "Er is ruimte voor opleiding en persoonlijke ontwikkeling.",
    "Je komt in een gezellig team met enthousiaste collega's.",
    "Wij bieden flexibele werktijden en een goede pensioenregeling.",
    "Een contract voor een jaar met uitzicht op een vaste aanstelling.",
]
CLOSINGS = [
    "Solliciteer direct via de knop hieronder.",
    "Heb je vragen? Bel of mail gerust met onze recruiter.",
    "Reageer voor {datum} met je cv en motivatie.",
    "Stuur je cv en een korte motivatie; wij nemen binnen een week contact op.",
]

PROCEDURES = [
    "Procedure\nDe eerste gesprekken vinden plaats in de week na de sluitingsdatum. Een assessment kan deel uitmaken van de procedure.",
    "Diversiteit\nWij vinden een diverse samenstelling van ons team belangrijk en nodigen iedereen uit om te solliciteren.",
    "Meer informatie\nKijk voor meer informatie over ons en onze werkzaamheden op onze website of volg ons op sociale media.",
    "Procedure\nEen referentiecheck en een verklaring omtrent het gedrag (VOG) maken deel uit van de procedure.",
]


def _three(pool: list[str], r: int) -> list[str]:
    """Three different sentences of ``pool`` chosen by the random integer ``r``."""
    k = len(pool)
    a = r % k
    b = (a + 1 + (r // k) % (k - 1)) % k
    c = next(x for x in ((b + 1 + (r // (k * k)) % (k - 1)) % k, (a + k // 2) % k, (a + 1) % k, (a + 2) % k)
             if x not in (a, b))
    return [pool[a], pool[b], pool[c]]


# planted sentences -------------------------------------------------------------------------------------
T_INB = [
    "Deze plek is bedoeld voor inburgeringsplichtigen.",
    "Je doet deze {plaats} in het kader van je inburgering.",
    "De {plaats} is onderdeel van het inburgeringstraject en wordt vastgelegd in je persoonlijk plan inburgering en participatie (PIP).",
    "Je kunt de {plaats} goed combineren met je inburgering en je taallessen.",
    "Geschikt voor inburgeringsplichtige kandidaten die in Nederland aan het werk willen.",
]
T_STAT = [
    "Wij staan open voor statushouders.",
    "Statushouders zijn van harte welkom om te solliciteren.",
    "Ben je statushouder? Dan nodigen wij je van harte uit om te reageren.",
    "Deze vacature staat ook open voor vluchtelingen met een verblijfsvergunning.",
    "Nieuwkomers zijn van harte welkom; begeleiding op de werkvloer is geregeld.",
    "Wij verwelkomen nadrukkelijk kandidaten met een vluchtelingenachtergrond.",
]
#: open to statushouders in words strategy v1 does not search (recall < 1 on purpose)
T_STAT_MISSED = "Woon je nog maar kort in Nederland en heb je een verblijfsvergunning? Ook dan nodigen we je uit."
T_AFSTAND = [
    "Deze plek is bedoeld voor mensen met een afstand tot de arbeidsmarkt.",
    "Heb je een afstand tot de arbeidsmarkt? Dan is dit jouw kans.",
    "Wij bieden kandidaten met een afstand tot de arbeidsmarkt een kans om mee te draaien in ons team.",
]
#: the report's own example (hfd. 6, stap c): 'Afstand tot de arbeidsmarkt' + 'Wij staan open voor statushouders'
T_REPORT = "Heb je een afstand tot de arbeidsmarkt? Wij staan open voor statushouders."
P_WEP = [
    ("Werkervaringsplaats {role}", "Wij bieden een werkervaringsplaats als {role}. Je doet werkervaring op onder begeleiding van een vaste werkbegeleider."),
    ("Participatieplaats {role}", "Dit is een participatieplaats: je werkt mee als {role} met behoud van uitkering en met een begeleider."),
    ("Leerwerkplek {role}", "Wij hebben een leerwerkplek als {role}, waar je het vak leert in de praktijk."),
    ("Werkervaringsplek {role}", "Op deze werkervaringsplek werk je als {role} mee in een vast team."),
]
P_STAGE = [
    ("Stage {role}", "Wij bieden een stageplaats als {role} van drie tot zes maanden met een vaste begeleider."),
    ("Snuffelstage {role}", "Tijdens deze snuffelstage maak je kennis met het werk van {role}."),
    ("Stageplek {role}", "Op deze stageplek leer je het werk van {role} in de praktijk."),
]

# hard negatives -----------------------------------------------------------------------------------------
HN_STUDENT = [
    ("Meewerkstage {role}", "Deze meewerkstage is bedoeld voor hbo-studenten die in hun derde of vierde jaar zitten. Je ontvangt een stagevergoeding en werkt aan een opdracht voor je opleiding."),
    ("Afstudeerstage {role}", "Wij bieden een afstudeerstage voor hbo-studenten. De stage levert studiepunten op en duurt vijf maanden."),
    ("Stage {role} (mbo)", "Deze stage is voor mbo-studenten in het kader van je opleiding (bol). Wij moedigen studenten van alle achtergronden aan om te solliciteren."),
]
HN_ERVARING = [
    "Minimaal 2 jaar werkervaring in een vergelijkbare functie.",
    "Werkervaring vereist; kennis van de branche is een pre.",
    "Je hebt minimaal drie jaar relevante werkervaring.",
    "Aantoonbare werkervaring is vereist.",
]
HN_WONEN = [
    ("Woonconsulent", "Als woningcorporatie wijzen wij jaarlijks honderden woningen toe, waaronder aan statushouders. Je werkt samen met de gemeente aan de huisvesting van statushouders."),
    ("Medewerker verhuur", "Je regelt de toewijzing van woningen aan statushouders en andere urgente woningzoekenden."),
    ("Wijkconsulent", "Statushouders zijn welkom in onze huurwoningen; jij begeleidt nieuwe huurders bij de start in de wijk."),
]
HN_NEGATIE = [
    "Let op: dit is geen werkervaringsplaats, wij zoeken een ervaren kracht.",
    "Deze functie is niet geschikt als werkervaringsplaats of participatieplaats.",
    "Deze vacature is helaas niet geschikt voor statushouders zonder tewerkstellingsvergunning.",
    "Dit is geen stage: wij zoeken een collega met een afgeronde opleiding.",
]
HN_NT2 = [
    ("Docent NT2", "Als docent NT2 verzorg je de lessen voor inburgeringsplichtigen. Je bereidt cursisten voor op het inburgeringsexamen."),
    ("Docent Nederlands als tweede taal", "Je geeft les aan groepen inburgeringsplichtigen in het kader van de Wet inburgering. Ook begeleid je stagiairs van de pabo."),
    ("Inburgeringsdocent", "Als inburgeringsdocent geef je de inburgeringscursus en begeleid je inburgeringsplichtigen bij hun persoonlijk plan inburgering en participatie."),
]

# planted kinds: (name, place, targets) -> truth flags; base rate per vacancy ---------------------------------
KINDS = {
    "wep_inburgering": ("wep", ("inb",), 0.004),
    "wep_afstand": ("wep", ("afstand",), 0.006),
    "wep_statushouders": ("wep", ("stat",), 0.002),
    "wep_rapport": ("wep", ("report",), 0.002),
    "stage_inburgering": ("stage", ("inb",), 0.002),
    "stage_statushouders": ("stage", ("stat",), 0.002),
    "stage_afstand": ("stage", ("afstand",), 0.002),
    "baan_statushouders": ("job", ("stat",), 0.008),
    "baan_rapport": ("job", ("report",), 0.002),
}
#: the target group as clients of the job (a jobcoach): strategy v1's combination afstand + statushouders fires
#: on it, a false positive the validation must detect (precision < 1 on purpose)
HN_KLANT = [
    ("Jobcoach", "Als jobcoach begeleid je statushouders en nieuwkomers naar betaald werk. Veel van onze deelnemers hebben een afstand tot de arbeidsmarkt."),
    ("Klantmanager participatie", "Je voert gesprekken met statushouders over hun route naar werk en zoekt passende plekken voor mensen met een afstand tot de arbeidsmarkt."),
]
HARD = {"studentenstage": 0.012, "doelgroep_als_klant": 0.003, "werkervaring_vereist": 0.02, "statushouder_woningtoewijzing": 0.004,
        "negatie": 0.006, "inburgering_onderwerp": 0.003}
MISSED_SHARE = 0.05     # of the statushouder sentences: the wording v1 does not find


def flags(kind: str) -> dict[str, bool]:
    """The truth of a planted kind (docs/vacancies.md, "Categories"): FOR inburgeringsplichtigen = an inburgering
    sentence on a stage or werkervaringsplaats; OPEN TO statushouders = a statushouder sentence (any vacancy);
    werkervaringsplaats = the place; stage = a stage with any target-group sentence."""
    if kind not in KINDS:
        return dict.fromkeys(CATS, False)
    place, targets, _ = KINDS[kind]
    stat = "stat" in targets or "report" in targets
    return {"voor_inburgeringsplichtigen": "inb" in targets and place in ("wep", "stage"),
            "open_voor_statushouders": stat,
            "werkervaringsplaats": place == "wep",
            "stage": place == "stage"}


def _multiplier(kind: str, overheid: np.ndarray, rijk: np.ndarray, sector: np.ndarray, year: int) -> np.ndarray:
    m = np.ones(len(sector))
    place, targets, _ = KINDS[kind]
    if place == "wep":
        m = np.where(overheid, 4.0, m)
    if place == "stage":
        m = np.where(rijk, 3.0, m)
    if "stat" in targets or "report" in targets:
        m = m * np.where(np.isin(sector, ["G", "I", "Q"]), 2.0, 1.0)
    return m * (1.0 + 0.2 * max(0, year - 2021))


def _gemeenten() -> pl.DataFrame:
    text = resources.files("monitor_dagster.reference").joinpath("gemeente_arbeidsmarktregio_2020.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    return pl.DataFrame({"gemeente": [r["gemeente_naam"] for r in rows], "regio": [r["arbeidsmarktregio_code"] for r in rows]})


@dataclass
class VacancyResult:
    files: list[Path]
    truth: Path
    rows: int


def _draw_kinds(rng, n, overheid, rijk, sector, year):
    names = list(KINDS) + list(HARD)
    probs = np.column_stack([KINDS[k][2] * _multiplier(k, overheid, rijk, sector, year) for k in KINDS]
                            + [np.full(n, HARD[h]) for h in HARD])
    cum = np.cumsum(probs, axis=1)
    u = rng.random(n)
    idx = (u[:, None] >= cum).sum(axis=1)       # == len(names): an ordinary vacancy
    return np.array(names + ["geen"], dtype=object)[idx]


def build_frame(year: int, n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(vendor frame, truth frame) of ``n`` vacancies found in ``year``; deterministic for (seed, year)."""
    rng = np.random.default_rng([seed, year, 20])
    gem = _gemeenten()
    g_idx = rng.integers(0, gem.height, n)
    gname, regio = gem["gemeente"].to_numpy()[g_idx], gem["regio"].to_numpy()[g_idx]
    overheid = rng.random(n) < 0.15
    laag = np.where(overheid, rng.choice(["rijk", "gemeente", "provincie", "waterschap", "overig"], n,
                                         p=[0.3, 0.4, 0.1, 0.05, 0.15]), None)
    rijk = laag == "rijk"
    sector = np.where(overheid, rng.choice(["O", "P", "Q"], n, p=[0.8, 0.1, 0.1]),
                      rng.choice(MARKET_SECTORS, n, p=MARKET_WEIGHTS / MARKET_WEIGHTS.sum()))
    wtype = np.where(overheid, "overheid", np.where(rng.random(n) < 0.25, "intermediair", "direct"))
    kind = _draw_kinds(rng, n, overheid, rijk, sector, year)
    missed = rng.random(n) < MISSED_SHARE
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    dur = rng.integers(14, 90, n)
    open_ = rng.random(n) < 0.1
    niveau = rng.choice(["laag", "middelbaar", "hoog", None], n, p=[0.3, 0.35, 0.25, 0.1])
    uren = np.where(rng.random(n) < 0.15, -1, rng.choice([16, 20, 24, 28, 32, 36, 38, 40], n))
    picks = rng.integers(0, 1 << 30, (n, 12))
    ids, titles, employers, texts, contracts = [], [], [], [], []
    found, expire = [], []
    for i in range(n):
        p = picks[i]
        sec, k = sector[i], kind[i]
        roles = ROLES.get(sec, ROLES["O"])
        role = roles[p[0] % len(roles)]
        if overheid[i]:
            lv = laag[i]
            emp = (RIJK[p[1] % len(RIJK)] if lv == "rijk" else f"Gemeente {gname[i]}" if lv == "gemeente" else
                   PROVINCIES[p[1] % len(PROVINCIES)] if lv == "provincie" else
                   WATERSCHAPPEN[p[1] % len(WATERSCHAPPEN)] if lv == "waterschap" else
                   f"{OVERIG_OVERHEID[p[1] % len(OVERIG_OVERHEID)]} {gname[i]}")
        else:
            emp = f"{SURNAMES[p[1] % len(SURNAMES)]} {SUFFIX.get(sec, 'Groep')}"
            if k == "statushouder_woningtoewijzing":
                emp = f"Woonstichting {SURNAMES[p[1] % len(SURNAMES)]}"
        d0 = dt.date(year, int(month[i]), int(day[i]))
        title = role[0].upper() + role[1:]
        contract = "vast" if p[2] % 3 == 0 else "tijdelijk" if p[2] % 3 == 1 else "onbekend"
        planted: list[str] = []
        lead = None
        if k in KINDS:
            place, targets, _ = KINDS[k]
            if place == "wep":
                t, lead = P_WEP[p[3] % len(P_WEP)]
                title, lead, contract = t.format(role=role), lead.format(role=role), "tijdelijk"
                plaats = "werkervaringsplaats"
            elif place == "stage":
                t, lead = P_STAGE[p[3] % len(P_STAGE)]
                title, lead, contract = t.format(role=role), lead.format(role=role), "stage"
                plaats = "stage"
            else:
                plaats = "baan"
            for tg in targets:
                if tg == "inb":
                    planted.append(T_INB[p[4] % len(T_INB)].format(plaats=plaats))
                elif tg == "stat":
                    planted.append(T_STAT_MISSED if missed[i] else T_STAT[p[4] % len(T_STAT)])
                elif tg == "afstand":
                    planted.append(T_AFSTAND[p[4] % len(T_AFSTAND)])
                else:
                    planted.append(T_REPORT)
        elif k == "studentenstage":
            t, lead = HN_STUDENT[p[3] % len(HN_STUDENT)]
            title, lead, contract = t.format(role=role), lead, "stage"
        elif k == "werkervaring_vereist":
            planted.append(HN_ERVARING[p[3] % len(HN_ERVARING)])
        elif k == "statushouder_woningtoewijzing":
            title, lead = HN_WONEN[p[3] % len(HN_WONEN)]
            sec = sector[i] = "L"
        elif k == "negatie":
            planted.append(HN_NEGATIE[p[3] % len(HN_NEGATIE)])
        elif k == "doelgroep_als_klant":
            title, lead = HN_KLANT[p[3] % len(HN_KLANT)]
        elif k == "inburgering_onderwerp":
            title, lead = HN_NT2[p[3] % len(HN_NT2)]
            sec = sector[i] = "P"
        intro = INTROS[p[5] % len(INTROS)].format(werkgever=emp, size=50 * (1 + p[6] % 40))
        tasks, reqs, offers = _three(TASKS, p[7]), _three(REQUIREMENTS, p[8]), _three(OFFERS, p[9])
        closing = CLOSINGS[p[10] % len(CLOSINGS)].format(datum=(d0 + dt.timedelta(days=int(dur[i]))).strftime("%d-%m-%Y"))
        blocks = [intro, (lead + " " if lead else "") + "Wat ga je doen?\n" + " ".join(tasks),
                  "Wat vragen wij?\n" + " ".join(reqs), "Wat bieden wij?\n" + " ".join(offers),
                  PROCEDURES[p[6] % len(PROCEDURES)], f"Standplaats: {gname[i]}.", closing]
        for j, s in enumerate(planted):
            blocks.insert(1 + (p[11] >> (3 * j)) % 4, s)
        ids.append(f"JF{year}{i:08d}")
        titles.append(title)
        employers.append(emp if wtype[i] != "intermediair" or k == "statushouder_woningtoewijzing"
                         else INTERMEDIAIRS[p[1] % len(INTERMEDIAIRS)])
        texts.append("\n\n".join(blocks))
        contracts.append(contract)
        found.append(d0)
        expire.append(None if open_[i] else d0 + dt.timedelta(days=int(dur[i])))
    wtype = np.where((kind == "statushouder_woningtoewijzing") & (wtype == "intermediair"), "direct", wtype)
    vac = pl.DataFrame({
        "vacature_id": ids, "datum_gevonden": pl.Series(found, dtype=pl.Date),
        "datum_vervallen": pl.Series(expire, dtype=pl.Date), "titel": titles, "werkgever": employers,
        "werkgever_type": wtype.tolist(), "sector": sector.tolist(),
        "overheidslaag": pl.Series(laag.tolist(), dtype=pl.String), "regio": regio.tolist(),
        "opleidingsniveau": pl.Series(niveau.tolist(), dtype=pl.String), "contract": contracts,
        "uren_per_week": pl.Series(uren.tolist(), dtype=pl.Int64).replace(-1, None), "tekst": texts,
    }).sort("datum_gevonden", "vacature_id")
    fl = [flags(k) for k in kind]
    truth = pl.DataFrame({
        "vacature_id": ids, "year": [year] * n, "kind": kind.tolist(),
        "hard_negative": pl.Series([k if k in HARD else None for k in kind], dtype=pl.String),
        "missed_phrasing": [bool(missed[i] and kind[i] in KINDS and
                                 set(KINDS[kind[i]][1]) & {"stat"}) for i in range(n)],
        **{f"is_{c}": [f[c] for f in fl] for c in CATS},
    }).with_columns(
        categorie=pl.coalesce([pl.when(pl.col(f"is_{c}")).then(pl.lit(c)) for c in CATS] + [pl.lit("geen")]))
    return vac, truth


def generate_vacancies(out_dir: Path | str, year: int, n: int, seed: int = 1, fmt: str = "csv",
                       monthly: bool = True, truth: Path | str | None = None) -> VacancyResult:
    """Write the vendor files of one year and the truth file (default: ``<out_dir>.vacatures_truth_<year>.parquet``
    next to the landing zone, never inside it)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: choose csv or parquet")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    out_dir = Path(out_dir)
    vac, tr = build_frame(year, n, seed)
    folder = out_dir / "Vacatures" / "JOBFEED"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    parts = (vac.with_columns(m=pl.col("datum_gevonden").dt.month()).partition_by("m", include_key=False, as_dict=True)
             if monthly else {(None,): vac})
    for (m,), part in sorted(parts.items(), key=lambda kv: kv[0][0] or 0):
        name = f"JOBFEED{year}{m:02d}V1.{fmt}" if monthly else f"JOBFEED{year}V1.{fmt}"
        path = folder / name
        if fmt == "csv":
            part.write_csv(path, separator=";", date_format="%Y-%m-%d", quote_style="necessary")
        else:
            part.write_parquet(path)
        files.append(path)
    tpath = Path(truth) if truth else out_dir.with_name(f"{out_dir.name}.vacatures_truth_{year}.parquet")
    tpath.parent.mkdir(parents=True, exist_ok=True)
    tr.write_parquet(tpath)
    return VacancyResult(files, tpath, n)
