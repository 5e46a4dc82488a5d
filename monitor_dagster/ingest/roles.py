"""Column roles of the source gate: ``key``, ``used`` or ``unused`` (docs/ingest.md, "Column roles").

The schema gate blocks a file only on what the monitor needs:

* ``key`` - the core layer cannot build the population or the spells without it (the person key, the dates
  that define spells and residence, the codes that define states) and the entry's ``unique`` columns.
  Missing or invalid: the file is blocked.
* ``used`` - a core step, a breakdown or an indicator (``specs.yaml`` ``columns``) reads it, but the monitor
  can do without it.  Missing: ingested as a typed empty column, listed in ``missing_columns``, a warning.
  Invalid values still block (a wrong value would silently change a published figure).
* ``unused`` - documented only, or read only for a cross-check.  Missing or invalid: a warning; missing ->
  typed empty column, invalid values -> empty.

``CORE_KEY_COLUMNS`` / ``CORE_USED_COLUMNS`` declare, per catalog entry, what the core layer (and the
indicator readers that read a source directly: EBB, INPATAB) read, each with a one-line why citing the
function (``CROSS_CHECK_COLUMNS`` documents the unused columns read for a cross-check only).
:func:`column_roles` derives the role of every catalog column from them, the entry's ``unique``
columns, the breakdown columns of ``core.inputs.BREAKDOWN_SOURCES`` and
:func:`monitor_dagster.indicators.spec.needed_columns`; a predecessor and its successor (POLISBUS
and SPOLISBUS, IPI and INPATAB, SRGPERSOONPWETBUS and PWETSRGPERSOONBUS) share roles, the stronger wins, as
they feed one series under the successor's column names.  Plain Python, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from monitor_dagster.catalog import Catalog, Entry

Role = Literal["key", "used", "unused"]
ROLES: tuple[Role, ...] = ("key", "used", "unused")
_RANK = {"key": 0, "used": 1, "unused": 2}

PERSON_KEY_COLUMNS = ("RINPERSOONS", "RINPERSOON")
PERSON_KEY_WHY = "person key: person_id is the join key of every core function (core._intervals.keep_r)"

_ADDRESS = "address spells decide who lived in NL the whole year (core.population.whole_year_residents)"
_SECM = "SECM spells and state (core.secm.secm_months; core.population student/pensioner flags)"
_JOB = "job-months and the substantial-job rule (core.jobs.job_months, is_substantial_job)"
_BENEFIT = "benefit spells and their kind (core.benefits.benefit_spells; rows without a kind are dropped)"
_TRAJECT = "trajectory spells (core.benefits.trajectory_spells)"
_PROVISION = "provision spells; the code decides the series (core.benefits.provision_spells)"
_EBB = "every EBB indicator (indicators.ebb.ebb_persons)"
_SURVEY_MARGIN = "weighting margin and breakdown of the survey figures (surveys.weights.MARGINS)"

#: entry -> column -> why the core layer cannot do without it (besides the person key and ``unique``)
CORE_KEY_COLUMNS: dict[str, dict[str, str]] = {
    "GBAPERSOONTAB": {
        "GBAGEBOORTEJAAR": "birth year: age group and AOW date (core.characteristics.birth_date, age_group)",
        "GBAGEBOORTEMAAND": "birth month: age on 1 January and AOW date (core.characteristics.birth_date)",
        "GBAHERKOMSTGROEPERING": "published herkomst, the monitor's subject (core.characteristics.herkomst)",
        "GBAGENERATIE": "published generation: generatie and verblijfsduur (core.characteristics.herkomst, "
                        "verblijfsduur)",
    },
    "GBAADRESOBJECTBUS": {"GBADATUMAANVANGADRESHOUDING": _ADDRESS, "GBADATUMEINDEADRESHOUDING": _ADDRESS},
    "LANDAKTUEELREF": {"LAND": "country code -> herkomst group (core.characteristics.country_groups)"},
    "SECMBUS": {"AANVSECM": _SECM, "EINDSECM": _SECM, "SECM": _SECM},
    "SPOLISBUS": {"IKVID": "job key: " + _JOB, "SDATUMAANVANGIKO": "period start: " + _JOB,
                  "SDATUMEINDEIKO": "period end: " + _JOB, "SBASISLOON": "basic wage: " + _JOB,
                  "SBASISUREN": "basic hours: " + _JOB, "SCONTRACTSOORT": "contract type: " + _JOB,
                  "SSOORTBAAN": "kind of job (stagiair): " + _JOB},
    "ONDERWIJSINSCHRTAB": {"TYPEONDERWIJS": "kind of enrolment; no type = not enrolled "
                                            "(core.education.education_careers)"},
    "DIPLOMAMBOTAB": {"EXAMENDATUMMBO": "mbo diploma month (core.education.education_careers)"},
    "DIPLOMAHOTAB": {"EXAMENMAAND": "hbo/wo diploma month; EXAMENDATUMDIPLHO only from 2013 "
                                    "(core.education.education_careers)"},
    "EBBNW": {"EbbGewJaarGewichtA": "weight of " + _EBB, "EbbAflLft": "15-75 population of " + _EBB,
              "EbbAflHerkomstGBA2d": "herkomst of " + _EBB},
    "BIJSTANDPERSOONBUS": {"AANVANGBIJSTAND": _BENEFIT, "EINDEBIJSTAND": _BENEFIT, "SOORTBIJSTAND": _BENEFIT},
    "WWPERSOONBUS": {"AANVANGWW": _BENEFIT, "EINDEWW": _BENEFIT},
    "AOTOTPERSOONBUS": {"AANVANGAO": _BENEFIT, "EINDEAO": _BENEFIT, "AOWET": _BENEFIT},
    "SIRWWPERSOONBUS": {"AANVANGTRAJECT": _TRAJECT, "EINDETRAJECT": _TRAJECT},
    "SIRAGPERSOONBUS": {"AANVANGTRAJECT": _TRAJECT, "EINDETRAJECT": _TRAJECT},
    "SRGPERSOONPWETBUS": {"PWETAANVANGVOORZ": _PROVISION, "PWETEINDEVOORZ": _PROVISION,
                          "PWETSOORTVOORZ": _PROVISION},
    "PWETSRGPERSOONBUS": {"PWETAANVANGVOORZ": _PROVISION, "PWETEINDEVOORZ": _PROVISION,
                          "PWETSOORTVOORZ": _PROVISION},
    # the sample frames of the organisation surveys (issue 19): the classes the responses are weighted to
    # (surveys.weights.nonresponse_weights; technisch rapport Monitor gelijke kansen, §3.1) and published by
    "ENQUETEGEMEENTENKADER": {"grootteklasse": _SURVEY_MARGIN, "regio": _SURVEY_MARGIN},
    "ENQUETEWERKGEVERSKADER": {"sector": _SURVEY_MARGIN, "grootteklasse": _SURVEY_MARGIN},
    "ENQUETEONDERWIJSKADER": {"sector": _SURVEY_MARGIN},
}

_ENROL = "enrolment details (core.education.education_careers; core.population fallback student flag)"
_DIPL = "diploma details (core.education.education_careers)"

#: entry -> column -> which core step or breakdown reads it, and what happens without it
CORE_USED_COLUMNS: dict[str, dict[str, str]] = {
    "GBAPERSOONTAB": {
        "GBAGESLACHT": "geslacht breakdown (core.population.population; null without it)",
        "GBAGEBOORTEDAG": "birth day (core.characteristics.birth_date; the 1st of the month without it)",
    },
    "GBAMIGRATIEBUS": {
        "EINDEMIGRATIEDATUM": "end of an immigration period; the day before the next row without it "
                              "(core.characteristics.verblijfsduur)",
        "MIGRATIESOORT": "immigration or emigration: verblijfsduur breakdown (core.characteristics.verblijfsduur; "
                         "not computable without it)",
    },
    "GBAADRESOBJECTBUS": {
        "SOORTOBJECTNUMMER": "address object of the spell on 1 January: gemeente, regio, randstad breakdowns "
                             "(core.regions.municipality_on_jan1; null without it)",
        "RINOBJECTNUMMER": "address object of the spell on 1 January: gemeente, regio, randstad breakdowns "
                           "(core.regions.municipality_on_jan1; null without it)",
    },
    "VSLGWBTAB": {
        "GEMEENTE": "municipality of the address object: gemeente, regio, randstad breakdowns "
                    "(core.regions.object_municipalities; null without it)",
    },
    "MIGMOTIEFBUS": {
        "DATUMAANVANGMOTIEF": "start of the motive: asielmotief breakdown (core.characteristics.asylum_flag; "
                              "not computable without it)",
        "MIGMOTIEF": "asylum motive: asielmotief breakdown (core.characteristics.asylum_flag; not computable "
                     "without it)",
    },
    "LANDAKTUEELREF": {
        "LANDTYPE": "group of a code outside the shipped table (core.characteristics.country_groups)",
        "LANDGROEPMONITOR": "monitor group when given (core.characteristics.country_groups)",
    },
    "SPOLISBUS": {
        "SBEID": "employer of a job spell (core.jobs.job_months, job_spells)",
        "SAANTVERLU": "paid hours (core.jobs.job_months verloonde_uren)",
        "SAANTCTRCTURENPWK": "contract hours, from 2016 (core.jobs.job_months contracturen)",
        "SBAANDAGEN": "days of a job-month (core.jobs.job_months; the period's calendar days without it)",
        "SSECT": "sector breakdown (core.jobs.job_months)",
        "SSRTIV": "benefit and pension rows (21 and up) are no jobs (core.jobs._is_job); every row counts without it",
    },
    "HOOGSTEOPLTAB": {
        "OPLNIVSOI2021AGG4HBmetNIRWO": "opleidingsniveau breakdown (core.characteristics.education_level; "
                                       "onbekend without it)",
    },
    "ONDERWIJSINSCHRTAB": {"HOOFDINSCHR": _ENROL, "LEERWEGMBO": _ENROL, "VORMOPLEIDINGHO": _ENROL,
                           "OPLNR": _ENROL, "LEERJAAR": _ENROL},
    "EXAMVOTAB": {"OPLNR": "exam details (core.education.education_careers)",
                  "EXAMENPROGRAMMAVO": "exam group of O19 (core.education.education_careers)",
                  "UITSLAGEXAMENVO": "exam passed (core.education.education_careers)"},
    "DIPLOMAMBOTAB": {"OPLNR": _DIPL, "SELECTIEHOOFDDPLMBO": _DIPL},
    "DIPLOMAHOTAB": {"OPLNR": _DIPL, "STUDIEFASEDIPL": _DIPL, "VORMOPLEIDINGHODIP": _DIPL,
                     "EXAMENDATUMDIPLHO": "diploma date from 2013; EXAMENMAAND otherwise "
                                          "(core.education.education_careers)"},
    "EBBNW": {"EbbAflGeneratie": "generatie breakdown (indicators.ebb.ebb_persons)",
              "EbbAflGeslacht": "geslacht breakdown (indicators.ebb.ebb_persons)",
              "EbbAflOpl3": "opleidingsniveau breakdown (indicators.ebb.ebb_persons)"},
    "SIRWWPERSOONBUS": {"SOORTTRAJECT": "kind of trajectory (core.benefits.trajectory_spells)"},
    "SIRAGPERSOONBUS": {"SOORTTRAJECT": "kind of trajectory (core.benefits.trajectory_spells)"},
    "MBOSCHOOLVERLATERS": {"SVOGEWICHT": "survey weight of O23, O24, O26 (indicators.schoolleavers.respondents); "
                                         "unweighted without it"},
}


#: entry -> column -> read, but only for a cross-check that the monitor publishes nothing from (role unused)
CROSS_CHECK_COLUMNS: dict[str, dict[str, str]] = {
    "GBAPERSOONTAB": {c: "herkomst cross-check only (core.characteristics.herkomst herkomst_check_ok)"
                      for c in ("GBAGEBOORTELAND", "GBAGEBOORTELANDMOEDER", "GBAGEBOORTELANDVADER")},
}


@dataclass(frozen=True)
class ColumnRole:
    role: Role
    why: str

    def __str__(self) -> str:
        return f"{self.role}: {self.why}" if self.why else self.role


def _all_columns(e: Entry) -> list[str]:
    return list(e.columns)


def _needed() -> dict[tuple[str, str], list[str]]:
    from monitor_dagster.indicators.spec import needed_columns

    return needed_columns()


def _breakdowns() -> dict[tuple[str, str], list[str]]:
    """(FILE, COLUMN) -> breakdowns of the indicator table taken from it (core.inputs.BREAKDOWN_SOURCES)."""
    from monitor_dagster.core.inputs import BREAKDOWN_SOURCES

    out: dict[tuple[str, str], list[str]] = {}
    for dim, src in BREAKDOWN_SOURCES.items():
        file, _, col = src.partition(".")
        if col:
            out.setdefault((file, col), []).append(dim)
    return out


def _own_roles(e: Entry, needed: dict[tuple[str, str], list[str]]) -> dict[str, ColumnRole]:
    keys = CORE_KEY_COLUMNS.get(e.name, {})
    used = dict(CORE_USED_COLUMNS.get(e.name, {}))
    for (file, col), dims in _breakdowns().items():
        if file == e.name and col not in used:
            used[col] = f"breakdown {', '.join(dims)} (core.inputs.BREAKDOWN_SOURCES)"
    person = all(c in e.columns for c in PERSON_KEY_COLUMNS)
    out: dict[str, ColumnRole] = {}
    for c in _all_columns(e):
        if person and c in PERSON_KEY_COLUMNS:
            out[c] = ColumnRole("key", PERSON_KEY_WHY)
        elif c in keys:
            out[c] = ColumnRole("key", keys[c])
        elif c in (e.unique or ()):
            out[c] = ColumnRole("key", f"unique key of {e.name} (a row is identified by {', '.join(e.unique)})")
        elif c in used or (e.name, c) in needed:
            why = [used[c]] if c in used else []
            if (e.name, c) in needed:
                why.append("indicators " + ", ".join(needed[(e.name, c)]))
            out[c] = ColumnRole("used", "; ".join(why))
        else:
            out[c] = ColumnRole("unused", CROSS_CHECK_COLUMNS.get(e.name, {}).get(
                c, "not read by the core layer or an indicator"))
    return out


def role_table(catalog: Catalog) -> dict[str, dict[str, ColumnRole]]:
    """entry -> column (every catalog column, all periods) -> its role with the reason."""
    needed = _needed()
    own = {name: _own_roles(e, needed) for name, e in catalog.files.items()}
    out = {name: dict(cols) for name, cols in own.items()}
    for name, e in catalog.files.items():
        for link in (e.predecessor, e.successor):
            if link is None or link not in own:
                continue
            for c, r in own[link].items():
                mine = out[name].get(c)
                if mine is not None and _RANK[r.role] < _RANK[mine.role]:
                    out[name][c] = ColumnRole(r.role, f"{r.why} (as in {link})")
    return out


def column_roles(catalog: Catalog) -> dict[str, dict[str, Role]]:
    """entry -> column -> ``"key"`` | ``"used"`` | ``"unused"`` (see the module docstring)."""
    return {name: {c: r.role for c, r in cols.items()} for name, cols in role_table(catalog).items()}


def declaration_problems(catalog: Catalog) -> list[str]:
    """Declarations that do not match the catalog (a typo would silently make a key column unused)."""
    out = []
    for what, table in (("CORE_KEY_COLUMNS", CORE_KEY_COLUMNS), ("CORE_USED_COLUMNS", CORE_USED_COLUMNS),
                        ("CROSS_CHECK_COLUMNS", CROSS_CHECK_COLUMNS)):
        for entry, cols in table.items():
            if entry not in catalog.files:
                out.append(f"{what}: {entry} is not a catalog entry")
                continue
            known = catalog.files[entry].columns
            out += [f"{what}: {entry}.{c} is not a catalog column" for c in cols if c not in known]
    for entry, col in _needed():
        if entry not in catalog.files or col not in catalog.files[entry].columns:
            out.append(f"indicators/specs.yaml columns: {entry}.{col} is not a catalog column")
    for entry, col in _breakdowns():
        if entry not in catalog.files or col not in catalog.files[entry].columns:
            out.append(f"core.inputs.BREAKDOWN_SOURCES: {entry}.{col} is not a catalog column")
    both = {(e, c) for e, cols in CORE_KEY_COLUMNS.items() for c in cols} & \
        {(e, c) for e, cols in CORE_USED_COLUMNS.items() for c in cols}
    out += [f"{e}.{c} is declared both key and used" for e, c in sorted(both)]
    return out


def role_counts(catalog: Catalog) -> dict[str, dict[Role, int]]:
    """entry -> role -> number of columns (docs, reports)."""
    return {name: {r: sum(v == r for v in cols.values()) for r in ROLES}
            for name, cols in column_roles(catalog).items()}


__all__ = ["CORE_KEY_COLUMNS", "CORE_USED_COLUMNS", "CROSS_CHECK_COLUMNS", "ColumnRole", "PERSON_KEY_COLUMNS",
           "ROLES", "Role", "column_roles", "declaration_problems", "role_counts", "role_table"]
