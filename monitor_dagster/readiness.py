"""Is year t ready, provisional, or missing what?  One answer for the CLI, the schedules, the sensors and
``monitor status`` (issue 11).  Plain Python, no Dagster: it reads the warehouse manifests, the indicator
specs (``indicators/specs.yaml``) and the core layer's input declaration (``core/inputs.py``).

Per indicator and year the state is one of

* ``ready`` - every release it rests on is in the warehouse and final;
* ``provisional`` - computable, but a release it rests on is part-year (SPOLIS V1/V2 of t) or the spell files
  do not cover the 12-month follow-up of the inflow cohort (report 3.2.1, 3.4): published as ``voorlopig``;
* ``not computable`` - a file or column it needs is absent: "needs FILE t" / "needs FILE.COLUMN";
* ``not applicable`` - before the indicator's first year (e.g. contract hours before 2016).

A year is *final* for a cadence (outcome: yearly, input: two-yearly) when all its indicators of that cadence
are ready, every breakdown is computable and SECMBUS covers t (report 7.1.3: without SECM the student and
pensioner flags fall back on enrolment and age).  The schedules run only final years; ``monitor run`` builds
whatever is computable and marks the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from monitor_dagster.core.inputs import (
    BREAKDOWN_SOURCES, CORE_INPUTS, SourceInput, direct_source, is_yearly, source_inputs)
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.warehouse import Warehouse

CORE_FIRST_YEAR = 2011          # INPATAB and SPOLIS t-1 exist from here on (catalog periods)
State = Literal["ready", "provisional", "not computable", "not applicable"]

#: inflow family of the input indicators -> (benefit files, follow-up files); within a tuple the files succeed
#: each other (SRGPERSOONPWETBUS 2015-2018, then PWETSRGPERSOONBUS), so the newest one present counts
FOLLOW_UP_SOURCES = {"bijstand": (("BIJSTANDPERSOONBUS",), ("SRGPERSOONPWETBUS", "PWETSRGPERSOONBUS")),
                     "WW": (("WWPERSOONBUS",), ("SIRWWPERSOONBUS",)),
                     "AO": (("AOTOTPERSOONBUS",), ("SIRAGPERSOONBUS",))}
#: input indicator family -> the inflow families it follows
#: start of the reason of a family whose follow-up window (specs.yaml ``follow_up``) has not landed: such an
#: indicator is voorlopig, but does not keep its year from a final yearly build (it is rebuilt when t+n lands)
FOLLOW_UP_REASON = "the follow-up"
FOLLOW_UP_OF = {"inputs_gemeente": ("bijstand",), "inputs_uwv": ("WW", "AO")}
#: start of every reason that is only SECMBUS not covering year t yet (report 7.1.3): the outcome schedule may
#: then build the year with the fallback (enrolment and age); the rows are voorlopig until SECM lands
SECM_REASON = "SECMBUS does not cover"
#: the core table of SECM months: an indicator reading it cannot be computed for a year SECMBUS does not cover
SECM_MONTHS = "core/secm_months"


@dataclass
class IndicatorReadiness:
    indicator_id: str
    year: int
    state: State
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.indicator_id} {self.year}: {self.state}" + (f" ({'; '.join(self.reasons)})" if self.reasons else "")


@dataclass
class YearReadiness:
    year: int
    indicators: dict[str, IndicatorReadiness]
    core: dict[str, list[str]]            # core table -> what its build lacks ([] = buildable)
    breakdowns: dict[str, str]            # breakdown -> "needs FILE[.COLUMN]" when not computable
    notes: list[str] = field(default_factory=list)   # further reasons the year is not final
    #: regional breakdown (gemeente, regio, randstad) -> "needs VSLGWBTAB t" / "needs gemeente_arbeidsmarktregio_t.csv"
    #: when core/population has it null for the year (docs/regions.md); likewise asielstatus -> "needs
    #: MIGMOTIEFBUS ..."; informative, never blocks the year
    regions: dict[str, str] = field(default_factory=dict)

    def computable(self, cadence: str | None = None) -> list[str]:
        return [k for k, r in self.indicators.items() if r.state in ("ready", "provisional")
                and (cadence is None or SPEC.spec(k).cadence == cadence)]

    def not_computable(self) -> dict[str, list[str]]:
        return {k: r.reasons for k, r in self.indicators.items() if r.state == "not computable"}

    def blocking(self, cadence: str = "yearly", *, secm_fallback: bool = False) -> list[str]:
        """What keeps the year from a final build of the indicators of ``cadence`` ([] = final).  With
        ``secm_fallback`` what keeps it from an early build with the fallback of report 7.1.3 (everything but
        SECMBUS of t is there): the reasons that are only SECM's are left out."""
        out = self._blocking(cadence)
        return [r for r in out if not r.startswith(SECM_REASON)] if secm_fallback else out

    def _blocking(self, cadence: str) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for k, r in self.indicators.items():
            if SPEC.spec(k).cadence != cadence or r.state not in ("provisional", "not computable"):
                continue
            if SPEC.spec(k).disclosure == "organisaties" and r.state == "not computable":
                continue     # a survey wave is fielded on its own (issue 19): its absence never holds back a cohort
            for reason in r.reasons:
                if reason.startswith(FOLLOW_UP_REASON):
                    continue     # O38/O39 stay voorlopig for three years: that must not hold back year t
                if reason not in seen:
                    seen.add(reason)
                    out.append(reason)
        if cadence == "yearly":
            out += [f"breakdown {b} not computable: {why}" for b, why in self.breakdowns.items() if why not in seen]
            out += [n for n in self.notes if n not in seen]
        return out


# ------------------------------------------------------------------------------------------- manifests
class _Manifests:
    """Cached manifest look-ups of one warehouse."""

    def __init__(self, root: Path | str):
        self.w = Warehouse(root)
        self.core = Warehouse(root, layer="core")
        self._cache: dict[tuple[str, str], dict | None] = {}

    def get(self, entry: str, part: str) -> dict | None:
        if (entry, part) not in self._cache:
            self._cache[(entry, part)] = self.w.manifest(entry, part)
        return self._cache[(entry, part)]

    def cumulative(self, entry: str) -> dict | None:
        return self.get(entry, "latest") or self.get(entry, "all")

    def secm_period(self) -> int | None:
        """The last year the cumulative SECMBUS in the warehouse covers (its release period), None if unknown."""
        return self.period("SECMBUS")

    def period(self, entry: str) -> int | None:
        """The last year a cumulative file in the warehouse covers (its release period), None if unknown."""
        p = (self.cumulative(entry) or {}).get("period")
        return int(p) if isinstance(p, int) or (isinstance(p, str) and p.isdigit()) else None


def _partition(window: str, year: int) -> str | None:
    return None if window == "latest" else str(year)


def _manifest_for(m: _Manifests, inp: SourceInput, year: int) -> dict | None:
    p = _partition(inp.window, year)
    return m.cumulative(inp.entry) if p is None else m.get(inp.entry, p)


def _label(inp: SourceInput, year: int) -> str:
    return inp.entry if inp.window == "latest" else f"{inp.entry} {year}"


def _missing_columns(manifest: dict | None) -> set[str]:
    return set((manifest or {}).get("missing_columns") or [])


def core_missing(m: _Manifests, asset: str, year: int) -> list[str]:
    """What a core table of ``year`` lacks to be built: "needs FILE t" for each absent required input, and for
    a cumulative input that must cover t (core/inputs.py ``covers_year``: the address spells of core/population,
    report 2.1 "het gehele jaar in Nederland"; SECMBUS of core/secm_months, report 7.1.3) whose latest release
    ends before t (a period it does not name is taken as covering)."""
    out = []
    for i in source_inputs(asset):
        if not i.required:
            continue
        if _manifest_for(m, i, year) is None:
            out.append(f"needs {_label(i, year)}")
        elif i.covers_year and (until := m.period(i.entry)) is not None and until < year:
            out.append(not_covered(i.entry, year, until))
        elif (gap := prev_year_gap(m, i, year)) is not None:
            out.append(gap)
    return out


def not_covered(entry: str, year: int, until: int) -> str:
    """Why a table of ``year`` cannot rest on a cumulative release of ``entry`` that ends in ``until`` < year.
    For SECMBUS the reason starts with :data:`SECM_REASON` and is the one its indicators carry, so the early build
    with the fallback of report 7.1.3 (``YearReadiness.blocking(secm_fallback=True)``) is not held back by it."""
    if entry == "SECMBUS":
        return f"{SECM_REASON} {year} yet (up to {until}): needs SECMBUS {year} (SECM months)"
    if entry == "GBAADRESOBJECTBUS":
        return (f"needs {entry} {year} (the latest release covers up to {until}: living in NL the whole year "
                f"{year} is not known yet, report 2.1)")
    return f"needs {entry} {year} (the latest release covers up to {until})"


def prev_year_gap(m: "_Manifests", inp: SourceInput, year: int) -> str | None:
    """Why a cumulative input that must cover t-1 (core/inputs.py ``covers_prev_year``: GBAPERSOONTAB,
    GBAMIGRATIEBUS, MIGMOTIEFBUS) cannot serve year ``year``: its latest release ends before t-1, so who arrived
    in NL after it is not in it (None: it covers, or its period is unknown).  core/population then reads an
    optional one as absent; a required one keeps it from being built."""
    if not inp.covers_prev_year:
        return None
    until = m.period(inp.entry)
    if until is None or until >= year - 1:
        return None
    return (f"needs {inp.entry} {year - 1} (the latest release covers up to {until}: who arrived in NL after it "
            "is not in it, report 2.2)")


def short_stay_note(year: int, why: str) -> str:
    """What a year without a usable GBAMIGRATIEBUS lacks besides the breakdown verblijfsduur: the same file says
    who is first generation in NL six months or less on 1 January t, whom report 2.2 leaves out of every analysis
    ("niet meegenomen in de analyse"; choices.MethodChoices.analysis_population); without it they stay in every
    indicator of t (on the synthetic national zone about 1 in 1,000 persons of the register indicators' base
    population: 16,540 of 2021)."""
    return (f"the first generation in NL six months or less on 1 January {year} cannot be left out of the "
            f"analyses (report 2.2; {why}): every indicator of {year} includes them")


def population_gaps(m: "_Manifests", year: int) -> dict[str, str]:
    """core/population's optional inputs (parameter -> :func:`prev_year_gap`) that it reads as absent for
    ``year`` (a required one keeps the year from being built: :func:`core_missing`)."""
    return {k: why for k, i in CORE_INPUTS["population"][1].items()
            if isinstance(i, SourceInput) and not i.required and (why := prev_year_gap(m, i, year)) is not None}


def follow_up_gaps(m: _Manifests, key: str, y: int) -> list[str]:
    """Why a later year ``y`` of a follow-up window (specs.yaml ``follow_up``) is not observed in full through the
    input ``key`` ([] = it is): its file or core table cannot be built (:func:`core_missing`, "needs FILE y"); a
    part-year release of y (SPOLISBUS t/m maand 6 or 9: the months after it would count as months without work,
    and the indicator would be published definitief); a cumulative file whose latest release ends before y (its
    open spells would be carried into y as if observed: SECMBUS for the SECM months, report 7.1.3).  Readiness
    marks the indicator voorlopig with the first such year, and ``engine.observed_years`` censors the window
    before it."""
    layer, name = key.split("/")
    if layer != "core":
        man = m.get(name, str(y))
        if man is None:
            return [f"needs {name} {y}"]
        return [_part_year(name, y, man)] if man.get("provisional") else []
    out = core_missing(m, name, y)
    for i in source_inputs(name):
        if i.window in ("year", "prev_and_year"):
            man = m.get(i.entry, str(y))
            if man and man.get("provisional"):
                out.append(_part_year(i.entry, y, man))
        elif i.window == "latest" and i.required and not i.covers_year:     # covers_year: in core_missing
            out += _ends_before(m, i.entry, y)
    return out


def cover_gaps(m: _Manifests, fu, y: int) -> list[str]:
    """Why a later year ``y`` of a follow-up window is not observed through the cumulative files the family reads
    whole (specs.yaml ``follow_up.covers``): the latest release ends before y, so what happened after it (O25: a
    graduate leaving the BRP, to be censored) is not in it."""
    return [why for entry in fu.covers for why in _ends_before(m, entry, y)]


def _ends_before(m: _Manifests, entry: str, y: int) -> list[str]:
    """["ENTRY does not cover y yet (up to P)"] when the latest release of a cumulative file ends before y."""
    until = m.period(entry)
    return [f"{entry} does not cover {y} yet (up to {until})"] if until is not None and until < y else []


def _part_year(entry: str, y: int, man: dict) -> str:
    return f"{entry} {y} is provisional ({man.get('release_id')}, t/m maand {man.get('months_covered')})"


def input_coverage(warehouse_root: Path | str, family: str, m: "_Manifests | None" = None) -> tuple[bool, dt.date | None]:
    """(available, observed_until) of an inflow family (bijstand, WW, AO).

    The spell files are cumulative: a release of period P holds the spells up to 31 December P.  The family is
    observed up to the *oldest* coverage of its files (for successor files the newest of the pair); not
    ``available`` when a file is not in the warehouse at all; ``observed_until`` None when a manifest has no
    period (coverage unknown: taken as complete).  ``m``: the manifest cache of a readiness pass."""
    m = m or _Manifests(warehouse_root)
    ends: list[dt.date | None] = []
    for files in FOLLOW_UP_SOURCES[family]:
        manifests = [x for x in (m.get(e, "latest") for e in files) if x]
        if not manifests:
            return False, None
        periods = [x.get("period") for x in manifests]
        ends.append(None if any(p is None for p in periods) else dt.date(max(periods), 12, 31))
    return True, (None if any(e is None for e in ends) else min(ends))


def _indicator(m: _Manifests, s: SPEC.IndicatorSpec, year: int, core: dict[str, list[str]],
               root: Path | str) -> IndicatorReadiness:
    if year < (s.first_year or 0):
        return IndicatorReadiness(s.id, year, "not applicable", [f"first year {s.first_year}"])
    missing: list[str] = []
    provisional: list[str] = []
    inputs: list[SourceInput] = []
    for key in s.inputs.values():
        layer, name = key.split("/")
        if layer == "core":
            built = m.core.manifest(name, str(year) if is_yearly(name) else "all") is not None
            # an input family reads the core table as built (the outcome year ran before): it suffices
            missing += [r for r in core[name] if r not in missing and not (built and s.family in FOLLOW_UP_OF)]
            inputs += source_inputs(name)
        else:
            inp = direct_source(name)      # year t, or a cumulative / reference file's latest release
            inputs.append(inp)
            if _manifest_for(m, inp, year) is None:
                missing.append(f"needs {_label(inp, year)}")
    secm_until = m.secm_period()
    if secm_until is not None and secm_until < year:
        # report 7.1.3: SECMBUS lags a year.  Months of SECM are then absent: what reads them waits; what only
        # leaves students and pensioners out uses enrolment and age and is voorlopig
        if SECM_MONTHS in s.inputs.values() or "sources/SECMBUS" in s.inputs.values():
            why = not_covered("SECMBUS", year, secm_until)
            if why not in missing:      # core/secm_months of t says the same (core_missing)
                missing.append(why)
        elif s.family is not None and SPEC.leaves_out_students(s.family):
            provisional.append(f"{SECM_REASON} {year} yet (up to {secm_until}): students and pensioners from "
                               "enrolment and age (report 7.1.3)")
    def part_year(man: dict | None, label: str, why: str | None) -> None:
        """A part-year release under the indicator: it waits for the full year (spec ``part_year: wait``: the
        months after the release would read as "no job", report 7.1.3 b), or it is voorlopig."""
        if not (man and man.get("provisional")):
            return
        got = f"{man.get('release_id')}, t/m maand {man.get('months_covered')}"
        if s.part_year == "wait":
            reason = f"needs {label} t/m maand 12 (landed: {got}): " + (why or f"{s.id} counts the whole year "
                                                                           "(report 7.1.3 b)")
            if reason not in missing:
                missing.append(reason)
        elif s.provisional == "sources":
            reason = f"{label} is provisional ({got})" + (f": {why}" if why else "")
            if reason not in provisional:
                provisional.append(reason)

    for inp in inputs:
        part_year(_manifest_for(m, inp, year), _label(inp, year), None)
        # the months 11 and 12 of t-1 in the panel of t (report 5.2): a part-year release of t-1 lacks them, and
        # the engine marks the rows voorlopig from the core table's provenance; readiness says the same
        if inp.window == "prev_and_year":
            part_year(m.get(inp.entry, str(year - 1)), f"{inp.entry} {year - 1}",
                      f"months 11 and 12 of {year - 1} (report 5.2)")
    for entry in s.year_before:
        if _manifest_for(m, SourceInput(entry, "year"), year - 1) is None:
            earlier = [p for p in m.w.partitions(entry) if p.isdigit() and int(p) < year - 1]
            if not earlier:   # the first year of the file in the warehouse: the series starts a year later
                return IndicatorReadiness(s.id, year, "not applicable",
                                          [f"first year of {entry} in the warehouse: no months 11 and 12 of "
                                           f"{year - 1} (report 5.2: the series starts a year later)"])
            missing.append(f"needs {entry} {year - 1} (months 11 and 12 of t-1, report 5.2)")
    for entry in s.year_after:
        if _manifest_for(m, SourceInput(entry, "year"), year + 1) is None:
            # like a follow-up window: it lands with the next year and must not hold back year t
            missing.append(f"{FOLLOW_UP_REASON} of {year} needs {entry} {year + 1} (report 5.1: the next year)")
    for entry, column in s.needed_columns:
        man = next((_manifest_for(m, i, year) for i in inputs if i.entry == entry), None)
        if column in _missing_columns(man):
            missing.append(f"needs {entry}.{column}")
    if s.family in FOLLOW_UP_OF:
        fams = FOLLOW_UP_OF[s.family]
        cov = {f: input_coverage(root, f, m) for f in fams}
        if not any(c[0] for c in cov.values()):
            missing.append("needs " + " or ".join(" + ".join(n[0] for n in FOLLOW_UP_SOURCES[f]) for f in fams))
        if year < CORE_FIRST_YEAR:
            missing.append(f"no core population before {CORE_FIRST_YEAR}")
        end = dt.date(year + 1, 12, 31)
        for f, (available, until) in cov.items():
            if available and until is not None and until < end:
                provisional.append(f"{f}: the follow-up of the {year} cohort needs spells up to {end}, "
                                   f"the files cover up to {until}")
    fu = SPEC.follow_up(s.family) if s.family else None
    if fu is not None:
        # report 5.2 4g: "We kijken voor deze analyse drie jaar vooruit": voorlopig (censored) until the last
        # year of the window is observed in full (follow_up_gaps; the engine censors at the same year)
        for y in range(year + 1, year + fu.years + 1):
            lacks = [r for key in fu.inputs for r in follow_up_gaps(m, key, y)] + cover_gaps(m, fu, y)
            if lacks:
                provisional.append(f"{FOLLOW_UP_REASON} of {year} runs to {year + fu.years}; {y}: "
                                   + ", ".join(lacks))
                break
    if missing:
        return IndicatorReadiness(s.id, year, "not computable", missing)
    if provisional:
        return IndicatorReadiness(s.id, year, "provisional", provisional)
    return IndicatorReadiness(s.id, year, "ready")


def year_readiness(warehouse_root: Path | str, year: int) -> YearReadiness:
    m = _Manifests(warehouse_root)
    core = {a: core_missing(m, a, year) for a in CORE_INPUTS}
    inds = {k: _indicator(m, s, year, core, warehouse_root) for k, s in SPEC.built().items()}
    breakdowns = {}
    for dim, src in BREAKDOWN_SOURCES.items():
        entry, _, column = src.partition(".")
        inp = next(i for i in CORE_INPUTS["population"][1].values() if getattr(i, "entry", None) == entry)
        man = _manifest_for(m, inp, year)
        if man is None:
            breakdowns[dim] = f"needs {_label(inp, year)}"
        elif column and column in _missing_columns(man):
            breakdowns[dim] = f"needs {src}"
        elif (gap := prev_year_gap(m, inp, year)) is not None:
            breakdowns[dim] = gap
    notes = [short_stay_note(year, breakdowns["verblijfsduur"])] if "verblijfsduur" in breakdowns else []
    secm = m.cumulative("SECMBUS")
    if secm and (secm.get("period") or 0) < year:
        notes.append(f"{SECM_REASON} {year} yet (latest release {secm.get('release_id')}); students and "
                     "pensioners come from enrolment and age (report 7.1.3)")
    return YearReadiness(year, inds, core, breakdowns, notes, regions_readiness(m, year))


REGIONAL_COLUMNS = ("gemeente", "regio", "randstad")


def regions_readiness(m: "_Manifests", year: int) -> dict[str, str]:
    """Regional columns of core/population that are null for ``year`` and why: VSLGWBTAB of t not in the
    warehouse (all three), or no municipality -> arbeidsmarktregio mapping for t (regio, randstad; the file to
    add, reference/regions.py); and asielstatus without a MIGMOTIEFBUS that covers t-1.  The files are optional:
    this never keeps a year from a final build."""
    from monitor_dagster.reference.regions import find_mapping, mapping_file

    out: dict[str, str] = {}
    if m.get("VSLGWBTAB", str(year)) is None:
        out.update({c: f"needs VSLGWBTAB {year}" for c in REGIONAL_COLUMNS})
    if find_mapping(year) is None:
        for c in REGIONAL_COLUMNS[1:]:
            out.setdefault(c, f"needs {mapping_file(year)} (reference; $MONITOR_REGIO_DIR)")
    # asielstatus (report 7.2.5, the same optional family of breakdowns): MIGMOTIEFBUS absent or too old
    motive = CORE_INPUTS["population"][1]["migmotief"]
    if m.cumulative(motive.entry) is None:
        out["asielstatus"] = f"needs {motive.entry}"
    elif (gap := prev_year_gap(m, motive, year)) is not None:
        out["asielstatus"] = gap
    return out


def unweighted_years(warehouse_root: Path | str) -> list[int]:
    """Years of core/population that core/propensity_weights has no weights for, so no ``gewogen`` rows (report
    §7.2.2): the weighting model left them out because a characteristic is unknown for every person of the year
    (corrections/propensity.years_to_weight; e.g. HOOGSTEOPLTAB of t not landed yet).  Empty when the weights
    were not built (nothing to compare) or cover every year; a population year written after the weights is
    not yet weighted, not left out, so it is not named.  Reads the small weights table, not the persons."""
    w = Warehouse(warehouse_root, layer="core")
    fitted = w.manifest("propensity_weights", "all")
    if fitted is None:
        return []
    weighted = set(w.read("propensity_weights", "all").select("year").unique().collect()["year"].to_list())
    if not weighted:
        return []
    seen = [p for p in w.partitions("population") if p.isdigit() and int(p) not in weighted
            and str((w.manifest("population", p) or {}).get("written_at", "")) <= str(fitted.get("written_at", ""))]
    return sorted(int(p) for p in seen)


def candidate_years(warehouse_root: Path | str, years: tuple[int, int] | None = None) -> list[int]:
    """Years a build can be attempted for: every year from CORE_FIRST_YEAR for which some yearly source read by
    the core or indicator layer is in the warehouse."""
    w = Warehouse(warehouse_root)
    entries = {i.entry for a in CORE_INPUTS for i in source_inputs(a) if i.window != "latest"}
    entries |= {e for s in SPEC.built().values() for e in s.source_entries}
    have = {int(p) for e in entries for p in w.partitions(e) if p.isdigit()}
    out = sorted(y for y in have if y >= CORE_FIRST_YEAR)
    return [y for y in out if years is None or years[0] <= y <= years[1]]


def buildable_core(r: YearReadiness) -> list[str]:
    """Yearly core tables of the year that can be built (their required inputs are present)."""
    return [a for a in CORE_INPUTS if is_yearly(a) and not r.core[a]]


def buildable_families(r: YearReadiness, cadence: str | None = None) -> list[str]:
    """Indicator families with at least one computable indicator in the year (of ``cadence``)."""
    ok = set(r.computable(cadence))
    return [f for f, specs in SPEC.families().items() if any(s.id in ok for s in specs)]


def final_sources(cadence: str = "yearly") -> list[tuple[str, str]]:
    """(FILE, "year" or "latest") that a final build of the indicators of ``cadence`` needs: the required
    inputs of the core tables they read, the files behind the breakdowns, and the files they read directly."""
    breakdown_files = {s.split(".")[0] for s in BREAKDOWN_SOURCES.values()}
    out: dict[str, str] = {}
    for s in SPEC.built().values():
        if s.cadence != cadence:
            continue
        for key in s.inputs.values():
            layer, name = key.split("/")
            if layer == "core":
                for i in source_inputs(name):
                    if i.required or (name == "population" and i.entry in breakdown_files):
                        out.setdefault(i.entry, "latest" if i.window == "latest" else "year")
            else:
                out.setdefault(name, "latest" if direct_source(name).window == "latest" else "year")
        if s.family in FOLLOW_UP_OF:
            for f in FOLLOW_UP_OF[s.family]:
                for files in FOLLOW_UP_SOURCES[f]:
                    out.setdefault(files[-1], "latest")
    return sorted(out.items())


def revised_years(warehouse_root: Path | str, catalog=None) -> dict[int, list[str]]:
    """Built years whose core tables or indicator families rest on a source release the warehouse has replaced
    since (a corrected version of a year, SPOLISBUS t/m maand 9 after 6, a later cumulative release): year ->
    ["SPOLISBUS2019V1 -> SPOLISBUS2019V2", ...], from the manifests' ``vintages``.  The release sensor ingests
    such a file; what it affects is then rebuilt by the sensor ``rebuild_revised_years`` (docs/operations.md),
    where it used to wait for a hand-made backfill."""
    from monitor_dagster.catalog import load_catalog
    from monitor_dagster.warehouse import partition_for

    catalog = catalog or load_catalog()
    names = sorted(catalog.files, key=len, reverse=True)
    src = Warehouse(warehouse_root)
    current: dict[str, str | None] = {}

    def now(rid: str) -> str | None:
        """The release the warehouse holds now in place of ``rid`` (None: not a catalog release)."""
        if rid not in current:
            entry = next((n for n in names if rid.startswith(n) and rid[len(n):][:1] in "0123456789V"), None)
            cur = None
            if entry is not None:
                e = catalog.entry(entry)
                period = rid[len(entry):].split("V")[0]
                if e.kind != "yearly" or period.isdigit():
                    part = partition_for(e.kind, int(period) if e.kind == "yearly" else None)
                    cur = (src.manifest(entry, part) or {}).get("release_id")
            current[rid] = cur
        return current[rid]

    out: dict[int, list[str]] = {}
    for layer in ("core", "indicators"):
        w = Warehouse(warehouse_root, layer=layer)
        for d in sorted(p for p in w.base.iterdir() if p.is_dir() and not p.name.startswith(".")) \
                if w.base.is_dir() else []:
            for part in w.partitions(d.name):
                if not part.isdigit():
                    continue
                vint = (w.manifest(d.name, part) or {}).get("vintages") or ""
                for rid in filter(None, vint.split(",")):
                    cur = now(rid)
                    if cur and cur != rid:
                        change = f"{rid} -> {cur}"
                        if change not in out.setdefault(int(part), []):
                            out[int(part)].append(change)
    return {y: sorted(c) for y, c in sorted(out.items())}

