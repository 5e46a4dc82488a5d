"""What each core table reads (plain Python, no Dagster): the one declaration behind the Dagster wiring of the
core layer (``defs/core/assets.py`` builds its asset inputs from it) and behind readiness (``readiness.py``:
which releases a year needs, which are optional).

A source input has a *window* relative to the core table's year t:

* ``latest`` - a cumulative file (its newest release) or a reference table; no year
* ``year`` - the yearly file of t
* ``prev_and_year`` - t-1 and t (SPOLIS November/December t-1 for spells that run into t, report 5.2)
* ``year_and_next`` - t and t+1 (education careers: enrolment on 1 October t+1)

``required`` inputs must be in the warehouse for the table to be built (for windows over two years: the file
of t); an optional one that is absent arrives as ``None`` and leaves the columns that rest on it null
(``BREAKDOWN_SOURCES``: the breakdown is then "not computable").  A ``latest`` input that ``covers_year`` must
also be a release whose period is at least t: the table cannot be built from an older one (GBAADRESOBJECTBUS
for core/population: whether a person lived in NL the *whole* year t, report 2.1, is in no release before t;
SECMBUS for core/secm_months: the months of t, report 7.1.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Window = Literal["latest", "year", "prev_and_year", "year_and_next"]


@dataclass(frozen=True)
class SourceInput:
    entry: str
    window: Window = "latest"
    required: bool = True
    #: a cumulative file whose latest release must cover year t (its period >= t); readiness.core_missing
    covers_year: bool = False
    #: a cumulative file whose latest release must cover t-1 (its period >= t-1): it holds who arrived in NL
    #: before the peildatum 1 January t.  An older release of an optional file is read as absent for t, of a
    #: required one keeps the table from being built (readiness.prev_year_gap, core_missing)
    covers_prev_year: bool = False


@dataclass(frozen=True)
class CoreInput:
    asset: str          # another core table of the same year (or unpartitioned spells)


#: the years of a yearly file a window reads, relative to t (``latest``: no year)
_WINDOW_OFFSETS: dict[str, tuple[int, ...]] = {"year": (0,), "prev_and_year": (-1, 0), "year_and_next": (0, 1)}


def window_years(window: Window, year: int) -> tuple[int, ...] | None:
    """The partitions (years) of its file an input with ``window`` reads for the core table of ``year``; None for
    ``latest`` (the cumulative file's newest release or a reference table).  The asset inputs' partition mappings
    (defs/core/assets.py) say the same to Dagster."""
    return None if window == "latest" else tuple(year + d for d in _WINDOW_OFFSETS[window])


#: core table -> (yearly partitioned?, {parameter: input})
CORE_INPUTS: dict[str, tuple[bool, dict[str, SourceInput | CoreInput]]] = {
    # report 2.1/2.2: whole-year residence (addresses), students/pensioners (SECM), herkomst and age (GBA)
    "population": (True, {
        # the address spells of a release end with its period: a later year's whole-year residence is unknown
        # (persons who left or died in it would count as residents); SECMBUS lags instead (report 7.1.3): the
        # fallback of core/population, readiness.SECM_REASON
        "addresses": SourceInput("GBAADRESOBJECTBUS", covers_year=True), "secm": SourceInput("SECMBUS"),
        # herkomst, generation, birth date: a release that ends before t-1 lacks who registered since (recent
        # arrivals, the groups' newest members): the year is not built from it
        "gba": SourceInput("GBAPERSOONTAB", covers_prev_year=True),
        # arrivals up to 31 December t-1 (verblijfsduur on 1 January t, the six-month rule, the motive of
        # asielstatus): from an older release a recent arrival reads as settled before the file (oudkomer,
        # "geen migratie"), so such a release counts as absent for t
        "migration": SourceInput("GBAMIGRATIEBUS", required=False, covers_prev_year=True),
        "migmotief": SourceInput("MIGMOTIEFBUS", required=False, covers_prev_year=True),
        "countries": SourceInput("LANDAKTUEELREF", required=False),
        "hoogsteopl": SourceInput("HOOGSTEOPLTAB", "year", required=False),
        "enrolment": SourceInput("ONDERWIJSINSCHRTAB", "prev_and_year", required=False),
        # report 7.2.4: municipality of the address object on 1 January t -> gemeente, regio, randstad
        # (docs/regions.md); no person key: read whole in every bucket of persons (small next to the persons)
        "vslgwb": SourceInput("VSLGWBTAB", "year", required=False)}),
    "job_months": (True, {"spolis": SourceInput("SPOLISBUS", "prev_and_year")}),
    "job_spells": (True, {"months": CoreInput("job_months")}),
    "employers": (True, {"months": CoreInput("job_months")}),
    # SECM months of t from a release that ends before t would carry each open spell on as if observed (report
    # 7.1.3: SECMBUS lags a year): not built until a release covering t lands (readiness.SECM_REASON)
    "secm_months": (True, {"secm": SourceInput("SECMBUS", covers_year=True)}),
    "education_careers": (True, {
        "exam": SourceInput("EXAMVOTAB", "year"),
        "enrol": SourceInput("ONDERWIJSINSCHRTAB", "year_and_next", required=False),
        "dipl_mbo": SourceInput("DIPLOMAMBOTAB", "year_and_next", required=False),
        "dipl_ho": SourceInput("DIPLOMAHOTAB", "year_and_next", required=False)}),
    "benefit_spells": (False, {
        "ww": SourceInput("WWPERSOONBUS", required=False), "bijstand": SourceInput("BIJSTANDPERSOONBUS", required=False),
        "ao": SourceInput("AOTOTPERSOONBUS", required=False)}),
    "provision_spells": (False, {
        "srg": SourceInput("SRGPERSOONPWETBUS", required=False), "pwet": SourceInput("PWETSRGPERSOONBUS", required=False)}),
    "trajectory_spells": (False, {
        "sirww": SourceInput("SIRWWPERSOONBUS", required=False), "sirag": SourceInput("SIRAGPERSOONBUS", required=False)}),
}

#: core table -> the columns its rows are sorted by when written (issue 15, determinism): a key that is unique by
#: construction (a group-by or a join on it), so the order is total and the same inputs give a byte-identical
#: parquet file, whatever order the group-bys and joins of a run happened to produce.  The person-level tables
#: start with ``person_id``: they are written bucket by bucket (key ranges in order, core/buckets.py), each
#: bucket sorted, so the whole file is sorted.  The small spell tables are sorted by all their columns.
ROW_ORDER: dict[str, list[str]] = {
    "population": ["person_id"],
    "job_months": ["person_id", "IKVID", "month"],
    "job_spells": ["person_id", "IKVID", "spell_no"],
    "employers": ["person_id", "SBEID", "sector"],
    "secm_months": ["person_id", "month"],
    "education_careers": ["person_id"],
    "benefit_spells": ["person_id", "kind", "group", "start", "end"],
    "provision_spells": ["person_id", "code", "series", "start", "end"],
    "trajectory_spells": ["person_id", "client", "SOORTTRAJECT", "start", "end"],
}

#: breakdown of the indicator table -> the source (FILE or FILE.COLUMN) core/population takes it from; without
#: it the breakdown is not computable for the register indicators (the EBB carries its own breakdowns)
BREAKDOWN_SOURCES: dict[str, str] = {
    "verblijfsduur": "GBAMIGRATIEBUS",
    "opleiding": "HOOGSTEOPLTAB",
    "geslacht": "GBAPERSOONTAB.GBAGESLACHT",
}


@lru_cache(maxsize=None)
def direct_source(entry: str) -> SourceInput:
    """A source file an indicator reads directly (spec ``inputs`` ``sources/FILE``): the file of year t, or
    the latest release of a cumulative or reference file (data_catalog.yaml ``kind``; e.g. OPLEIDINGSNRREF,
    SBBKANSOPWERK for O20-O22), as the IO manager and ``engine.warehouse_frames`` load it."""
    from monitor_dagster.catalog import load_catalog

    kind = load_catalog().entry(entry).kind
    return SourceInput(entry, "year" if kind == "yearly" else "latest")


def is_yearly(asset: str) -> bool:
    return CORE_INPUTS[asset][0]


def source_inputs(asset: str) -> list[SourceInput]:
    """The source inputs of a core table, through the core tables it reads (job_spells -> job_months)."""
    out: list[SourceInput] = []
    for inp in CORE_INPUTS[asset][1].values():
        out += source_inputs(inp.asset) if isinstance(inp, CoreInput) else [inp]
    return out
