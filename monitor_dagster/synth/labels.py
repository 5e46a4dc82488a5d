"""SPSS value labels of the register files (the .sav files in Remote Access carry them for coded columns).

Only coded columns get labels, as in the real files; amounts, dates and keys do not.  Education file labels
live in ``education.LABELS``.
"""

from __future__ import annotations

from monitor_dagster.synth import project as pj
from monitor_dagster.synth.ebb import HERKOMST_2D

SECM = {"11": "Werknemer", "12": "Directeur-grootaandeelhouder", "13": "Zelfstandig ondernemer",
        "14": "Overige zelfstandige", "15": "Meewerkend gezinslid", "21": "Ontvanger werkloosheidsuitkering",
        "22": "Ontvanger bijstandsuitkering", "23": "Ontvanger uitkering sociale voorziening overig",
        "24": "Ontvanger uitkering ziekte/AO", "25": "Ontvanger pensioenuitkering",
        "26": "(Religieus) scholier/student met inkomen", "31": "(Religieus) scholier/student zonder inkomen",
        "32": "Overig zonder inkomen"}
YESNO_FLAG = {"1": "Ja", "": "Nee"}
SEX = {"1": "Man", "2": "Vrouw", "-": "Onbekend"}
GENERATIE = {"0": "Geen migratieachtergrond", "1": "Eerste generatie", "2": "Tweede generatie"}

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "GBAPERSOONTAB": {"GBAGESLACHT": SEX, "GBAGENERATIE": GENERATIE,
                      "GBAAANTALOUDERSBUITENLAND": {"0": "Geen ouders", "1": "Een ouder", "2": "Twee ouders"},
                      "GBAIMPUTATIECODE": {"0": "Niet geimputeerd", "1": "Geboortedatum geimputeerd"}},
    "GBAADRESOBJECTBUS": {"SOORTOBJECTNUMMER": {"VBO": "Verblijfsobject", "LIG": "Ligplaats", "STA": "Standplaats"}},
    "VSLGWBTAB": {"SOORTOBJECTNUMMER": {"VBO": "Verblijfsobject", "LIG": "Ligplaats", "STA": "Standplaats"}},
    "GBAMIGRATIEBUS": {"MIGRATIESOORT": {"I": "Immigratie", "E": "Emigratie", "A": "Administratieve afvoering"}},
    "MIGMOTIEFBUS": {"MIGMOTIEF": {v: k for k, v in pj.MOTIVE_CODES.items()}},
    "SECMBUS": {"SECM": SECM} | {c: YESNO_FLAG for c in (
        "XKOPPELWERKNSECM", "XKOPPELDGASECM", "XKOPPELZELFSTSECM", "XKOPPELWERKLUITKSECM", "XKOPPELBIJSTANDSECM",
        "XKOPPELSOCVOORZOVSECM", "XKOPPELZIEKTEAOSECM", "XKOPPELPENSIOENSECM", "XKOPPELSCHOLSTUDSECM")},
    "SPOLISBUS": {
        "SCONTRACTSOORT": {"O": "Onbepaalde tijd", "B": "Bepaalde tijd", "N": "Niet van toepassing",
                           "o": "Onbepaalde tijd", "b": "Bepaalde tijd"},
        "SSOORTBAAN": {"1": "Directeur-grootaandeelhouder", "2": "Stagiair", "3": "WSW-er", "4": "Uitzendkracht",
                       "5": "Oproepkracht", "9": "Rest"},
        "SPOLISDIENSTVERBAND": {"1": "Voltijd", "2": "Deeltijd"},
        "SWEKARBDUURKLASSE": {"1": "Minder dan 12 uur", "2": "12 tot 20 uur", "3": "20 tot 25 uur", "4": "25 tot 30 uur",
                              "5": "30 tot 35 uur", "6": "35 uur of meer"},
        # the loonaangifte's codes soort inkomstenverhouding (Belastingdienst, Handboek loonheffingen)
        "SSRTIV": {"11": "Loon of salaris ambtenaren", "13": "Loon of salaris directeuren nv/bv, verzekerd",
                   "15": "Loon of salaris overige werknemers", "17": "Loon of salaris directeur-grootaandeelhouder",
                   "31": "Uitkering Ziektewet", "32": "Uitkering WAO", "33": "Uitkering WW", "39": "Uitkering IVA",
                   "40": "Uitkering WGA"},
        "SCAOSECTOR": {"1000": "Particuliere sector", "2000": "Gesubsidieerde sector", "3000": "Overheid",
                       "3400": "Overheid, onderwijs"},
    },
    "BIJSTANDPERSOONBUS": {"SOORTBIJSTAND": {"1": "Bijstand (Participatiewet)", "2": "IOAW", "3": "IOAZ", "4": "Bbz"}},
    "AOTOTPERSOONBUS": {"AOWET": {"1": "WAO", "2": "WAZ", "3": "Wajong", "4": "WIA-IVA", "5": "WIA-WGA"}},
    "SIRWWPERSOONBUS": {"SOORTTRAJECT": pj.TRAJECT_LABELS},
    "SIRAGPERSOONBUS": {"SOORTTRAJECT": pj.TRAJECT_LABELS},
    "SRGPERSOONPWETBUS": {"SOORTVOORZIENING": pj.SRG_LABELS},
    "PWETSRGPERSOONBUS": {"PWETSOORTVOORZ": pj.PWET_LABELS},
    "EBBNW": {"EbbAflHerkomstGBA2d": {v: k for k, v in HERKOMST_2D.items()}, "EbbAflGeslacht": SEX,
              "EbbAflGeneratie": GENERATIE, "EbbAflOpl3": {"1": "Laag", "2": "Middelbaar", "3": "Hoog", "9": "Onbekend"},
              "EbbAflZoek4Wk": {"1": "Ja", "2": "Nee"}, "EbbAflBeschikb": {"1": "Ja", "2": "Nee"}},
    "LANDAKTUEELREF": {"LANDTYPE": {"0": "Nederland", "1": "Westers", "2": "Niet-westers"}},
}
LABELS["POLISBUS"] = {k[1:]: v for k, v in LABELS["SPOLISBUS"].items()}
