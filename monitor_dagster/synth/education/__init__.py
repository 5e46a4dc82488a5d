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
VSVMBOTAB              mbo enrolments ended with or without diploma, main reason of early leavers (O22b)
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

Layout (one module per written file; the former ``education.py``):

=====================  ============================================================================
codes.py               code lists, planted parameters, date and projection helpers (shared)
catalogue.py           programme catalogue, programme choice, SBB rating (shared)
careers.py             the simulation stages of the latent careers (shared)
world.py               ``EducationWorld`` and ``simulate_education`` (shared)
examvotab.py           EXAMVOTAB
onderwijsinschrtab.py  ONDERWIJSINSCHRTAB
diplomas.py            DIPLOMAMBOTAB, DIPLOMAHOTAB
hoogsteopltab.py       HOOGSTEOPLTAB
opleidingsnrref.py     OPLEIDINGSNRREF
schoolverlaters.py     MBOSCHOOLVERLATERS
vsv.py                 VSVMBOTAB
sbb.py                 SBBKANSOPWERK
truth.py               the "education" part of the truth file
=====================  ============================================================================

Each file module carries its projection and its ``VALUE_LABELS``; ``LABELS`` below joins them.
"""

from __future__ import annotations

from monitor_dagster.synth.education import (
    diplomas, examvotab, hoogsteopltab, onderwijsinschrtab, opleidingsnrref, sbb, schoolverlaters, vsv)
from monitor_dagster.synth.education.codes import SOI_LABELS
from monitor_dagster.synth.education.diplomas import project_diplomahotab, project_diplomambotab
from monitor_dagster.synth.education.examvotab import project_examvotab
from monitor_dagster.synth.education.hoogsteopltab import hoogsteopl_column, project_hoogsteopltab
from monitor_dagster.synth.education.onderwijsinschrtab import project_onderwijsinschrtab
from monitor_dagster.synth.education.opleidingsnrref import project_opleidingsnrref
from monitor_dagster.synth.education.sbb import project_sbb
from monitor_dagster.synth.education.schoolverlaters import project_schoolverlaters
from monitor_dagster.synth.education.truth import TRUTH_KEYS, education_truth
from monitor_dagster.synth.education.vsv import project_vsvmbotab
from monitor_dagster.synth.education.world import simulate_education
from monitor_dagster.synth.params import GROUPS

#: SPSS value labels per file id and column (each file module's ``VALUE_LABELS``, in the former order).
LABELS: dict[str, dict[str, dict[str, str]]] = {
    **examvotab.VALUE_LABELS, **onderwijsinschrtab.VALUE_LABELS, **diplomas.VALUE_LABELS,
    **hoogsteopltab.VALUE_LABELS, **opleidingsnrref.VALUE_LABELS, **schoolverlaters.VALUE_LABELS,
    **sbb.VALUE_LABELS, **vsv.VALUE_LABELS,
}

__all__ = [
    "GROUPS", "LABELS", "SOI_LABELS", "TRUTH_KEYS", "education_truth", "hoogsteopl_column", "project_diplomahotab",
    "project_diplomambotab", "project_examvotab", "project_hoogsteopltab", "project_onderwijsinschrtab",
    "project_opleidingsnrref", "project_sbb", "project_schoolverlaters", "project_vsvmbotab", "simulate_education",
]
