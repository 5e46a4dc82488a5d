"""One declarative spec per indicator (``specs.yaml``), typed and validated at load (issue 11).

Everything about an indicator that is not its computation is read from here: the Dagster wiring (one asset
per family), which sources and columns it needs (readiness, source gates), provisional status, disclosure
family, trend breaks, the Great Expectations suites and the publication texts.  Plain Python, no Dagster.
Adding an indicator = one function + one entry in ``specs.yaml`` + its tests (docs/adding_an_indicator.md).
"""

from __future__ import annotations

import fnmatch
import importlib
from functools import cache
from importlib import resources
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor_dagster import yamlio

UNITS = ("%", "maanden", "uren per week", "euro per uur", "euro", "score 0-5", "aantal", "index")


def _load(ref: str) -> Callable:
    """The function ``module:function`` names (specs.yaml)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class IndicatorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    definition: str
    paragraph: str
    question: str
    theme: str
    kind: Literal["outcome", "input"]
    cadence: Literal["yearly", "two-yearly"]
    source: str
    planned: bool = False
    family: str | None = None
    unit: str | None = None
    measures: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    adds_to_100: bool = False
    function: str | None = None
    inputs: dict[str, str] = {}
    #: inputs a function reads when they are there and does without otherwise (None): a breakdown, never a
    #: reason the indicator is not computable (O05's inkomensklasse from INPATAB, issue 18)
    optional_inputs: dict[str, str] = {}
    columns: tuple[str, ...] = ()
    first_year: int | None = None
    trend_breaks: tuple[str, ...] = ()
    #: register (>= 10 persons) | ebb (also > 15,000 weighted) | survey (>= 10 respondents and >= 10 weighted;
    #: the bol/bbl parts of a measure protected with it) | organisaties (the input surveys of organisations:
    #: >= 5 responding organisations, no dominance; surveys/disclosure.py): gates/disclosure.py
    #: | vacatures (issue 20: counts of public online vacancies, no persons; gates/disclosure.py)
    disclosure: Literal["register", "ebb", "survey", "organisaties", "vacatures"] = "register"
    provisional: Literal["sources", "follow_up"] = "sources"
    #: a part-year release of year t (SPOLISBUS t/m maand 6 or 9, report 7.1.3 a) of a file it reads: ``months``
    #: the measure is a mean over job-months (contract, hours, wage, rank): computed on the covered months,
    #: voorlopig | ``wait`` it counts what happens in the whole year (transitions, days in the year, a school
    #: year, the month after leaving a benefit): the missing months would read as "no job", so it is not
    #: computable until the full year lands (report 7.1.3 b: "op jaarniveau te blijven meten")
    part_year: Literal["months", "wait"] = "months"
    #: quarter: also published per quarter of the year (breakdown ``kwartaal``; report 7.1.3 c)
    period: Literal["year", "quarter"] = "year"
    #: breakdowns beyond breakdowns.yaml's ``dimensions`` (e.g. ``sector``, report 5.2 4d/4e/4h); the engine
    #: passes the whole list to the function as ``dimensions``
    extra_dimensions: tuple[Literal["sector"], ...] = ()
    #: measures that are the sum of others in the same cell (persons): total -> parts, e.g. O25 ``werk`` =
    #: ``werk mbo`` + ``werk hbo`` + ``werk wo``; the disclosure gate protects each such equation like a
    #: breakdown's total and parts (no hidden part recoverable by subtraction)
    measure_parts: dict[str, tuple[str, ...]] = {}
    #: linked cells: whose persons the ``n`` of a measure's cells counts, as a label shared with other measures
    #: and indicators (measure or fnmatch pattern -> label; the first key that matches wins): cells of one cell key
    #: whose n counts the same persons are shown or hidden together, since a shown one gives away the other's n
    #: (O11-O14 count one population; O27 werk = O31 werk). docs/disclosure.md "Linked cells"
    persons: dict[str, str] = {}
    #: a measure (a share of persons, unit %) whose numerator (value x n / 100) counts the persons of a label:
    #: where it is hidden, the cells whose n counts that label are hidden too (O15's n is O11's WW recipients)
    counts: dict[str, str] = {}
    #: the label of a breakdown on this indicator's page where the generic one would mislead: O20-O22 put the
    #: onderwijssoort (exam school type, mbo/hbo/wo, bol/bbl) in the ``sector`` column
    breakdown_labels: dict[str, str] = {}
    #: upper bound of ``value`` where it differs from the unit's (gates/expectations.py RANGES)
    value_max: float | None = None
    #: source files whose release of t-1 the indicator needs (report 5.2: the panel of t starts in November
    #: t-1; the first year of SPOLIS gives no series, "2006 hebben we namelijk niet kunnen verrijken")
    year_before: tuple[str, ...] = ()
    #: source files whose release of t+1 it needs (report 5.1: the 4c cohort "op 1 oktober een jaar later geen
    #: bekostigd onderwijs meer volgden"; 4a: what exam candidates do "in het jaar erna"); until it lands the
    #: indicator of t is not computable, without holding back the rest of year t
    year_after: tuple[str, ...] = ()

    @field_validator("unit")
    @classmethod
    def _unit(cls, v):
        if v is not None and v not in UNITS:
            raise ValueError(f"unit {v!r} is not one of {UNITS}")
        return v

    @field_validator("inputs", "optional_inputs")
    @classmethod
    def _inputs(cls, v):
        for param, key in v.items():
            layer = key.split("/")[0]
            if layer not in ("core", "sources") or key.count("/") != 1:
                raise ValueError(f"input {param}: {key!r} is not core/<asset> or sources/<FILE>")
        return v

    @field_validator("columns")
    @classmethod
    def _columns(cls, v):
        for c in v:
            if c.count(".") != 1:
                raise ValueError(f"column {c!r} is not FILE.COLUMN")
        return v

    @model_validator(mode="after")
    def _built(self):
        if not self.planned:
            missing = [f for f in ("family", "unit", "function", "first_year") if getattr(self, f) is None]
            if missing or not (self.measures or self.categories) or not self.inputs:
                raise ValueError(f"{self.id}: a built indicator needs family, unit, function, first_year, inputs and "
                                 f"measures or categories (missing: {', '.join(missing) or 'measures/inputs'})")
        if self.adds_to_100 and not self.categories:
            raise ValueError(f"{self.id}: adds_to_100 needs categories")
        unknown = sorted({m for t, parts in self.measure_parts.items() for m in (t, *parts)} - set(self.measures))
        if unknown:
            raise ValueError(f"{self.id}: measure_parts names measures it does not publish: {', '.join(unknown)}")
        published = self.measures or self.categories
        for field in ("persons", "counts"):
            idle = [k for k in getattr(self, field) if not any(fnmatch.fnmatchcase(m, k) for m in published)]
            if idle:
                raise ValueError(f"{self.id}: {field} names measures it does not publish: {', '.join(idle)}")
        if self.counts and self.unit != "%":
            raise ValueError(f"{self.id}: counts needs a share of persons (unit %), not {self.unit!r}")
        return self

    def label_of(self, field: Literal["persons", "counts"], measure: str) -> str | None:
        """The ``persons`` (``counts``) label of a measure: the first key that is the measure or matches it."""
        return next((label for key, label in getattr(self, field).items() if fnmatch.fnmatchcase(measure, key)), None)

    # ------------------------------------------------------------------------------------ derived
    def load_function(self) -> Callable:
        """The computing function (``module:function``)."""
        return _load(self.function or "")

    @property
    def core_assets(self) -> tuple[str, ...]:
        return tuple(sorted({k.split("/")[1] for k in self.inputs.values() if k.startswith("core/")}))

    @property
    def source_entries(self) -> tuple[str, ...]:
        """Source files read directly (not through the core layer)."""
        return tuple(sorted({k.split("/")[1] for k in self.inputs.values() if k.startswith("sources/")}))

    @property
    def needed_columns(self) -> tuple[tuple[str, str], ...]:
        return tuple(tuple(c.split(".")) for c in self.columns)   # type: ignore[misc]


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    years: int
    inputs: tuple[str, ...]
    #: cumulative files the family reads whole (their latest release) whose period must reach a later year for
    #: that year to count as observed (O25: leaving the BRP is read from GBAADRESOBJECTBUS; readiness.cover_gaps)
    covers: tuple[str, ...] = ()


class Cohort(BaseModel):
    """A family that follows a small cohort of persons (specs.yaml ``cohorts``): ``function`` (``module:function``,
    called with the bucket's frames by asset key and the year) gives the cohort's ``person_id``; the inputs
    ``narrows`` are held only for those persons (the family's functions read no one else's rows of them)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    function: str
    narrows: tuple[str, ...]

    def load_function(self) -> Callable:
        return _load(self.function)


class BucketLimits(BaseModel):
    """A family's own bucket sizing (specs.yaml ``bucket_limits``): None keeps the engine's default."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    overhead: float | None = Field(default=None, gt=0)
    in_flight: int | None = Field(default=None, ge=1)


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    themes: dict[str, str]
    families: dict[str, str]
    #: family -> the column its persons are bucketed by (issue 12); absent: person_id; null: one bucket
    bucket_keys: dict[str, str | None] = {}
    #: family -> how its buckets are sized and run when the default does not fit it (issue 12): ``overhead``
    #: (bytes held per input byte, core/buckets.choose_buckets) and ``in_flight`` (buckets at once)
    bucket_limits: dict[str, "BucketLimits"] = {}
    #: family -> follow-up window: its yearly ``inputs`` are read for t .. t + ``years`` (report 5.2 4g:
    #: "We kijken voor deze analyse drie jaar vooruit"); the other inputs for t only
    follow_up: dict[str, "FollowUp"] = {}
    #: families that leave students and pensioners out (report 2.1), so rest on SECM or its fallback (7.1.3)
    leaves_out_students: tuple[str, ...] = ()
    #: families whose register indicators are also published corrected for background characteristics
    #: (issue 17, report 7.2.2): the engine adds covariate cells, the indicator table the corrected rows
    corrected: tuple[str, ...] = ()
    #: corrected families that take fewer characteristics than the default (report 7.2.2 on 4a/4b: sex)
    corrected_covariates: dict[str, tuple[str, ...]] = {}
    #: family -> input (asset key) -> the columns its functions read of it (issue 12): a bucket holds only these
    input_columns: dict[str, dict[str, tuple[str, ...]]] = {}
    #: family -> the cohort it follows and the inputs held for that cohort alone (issue 12)
    cohorts: dict[str, "Cohort"] = {}
    indicators: dict[str, IndicatorSpec]

    @model_validator(mode="after")
    def _refs(self):
        for f in [*self.bucket_keys, *self.bucket_limits, *self.follow_up, *self.leaves_out_students, *self.corrected,
                  *self.corrected_covariates, *self.input_columns, *self.cohorts]:
            if f not in self.families:
                raise ValueError(f"bucket_keys / bucket_limits / follow_up / leaves_out_students / corrected / "
                                 f"input_columns / cohorts: family "
                                 f"{f!r} not in families")
        for s in self.indicators.values():
            if s.theme not in self.themes:
                raise ValueError(f"{s.id}: theme {s.theme!r} not in themes")
            if s.family is not None and s.family not in self.families:
                raise ValueError(f"{s.id}: family {s.family!r} not in families")
        for f, c in self.cohorts.items():     # a narrowed input the family does not read is a typo
            read = {k for s in self.indicators.values() if s.family == f
                    for k in (*s.inputs.values(), *s.optional_inputs.values())}
            if unknown := sorted(set(c.narrows) - read):
                raise ValueError(f"cohorts: {f} narrows {', '.join(unknown)}, which none of its indicators reads")
        return self


@cache
def registry() -> Registry:
    raw = yamlio.safe_load(resources.files(__package__).joinpath("specs.yaml").read_text(encoding="utf-8"))
    raw["indicators"] = {k: {"id": k, **v} for k, v in raw["indicators"].items()}
    return Registry.model_validate(raw)


def specs() -> dict[str, IndicatorSpec]:
    """Every indicator id (built and planned), in publication order."""
    return registry().indicators


def built() -> dict[str, IndicatorSpec]:
    return {k: s for k, s in specs().items() if not s.planned}


def spec(indicator_id: str) -> IndicatorSpec:
    try:
        return specs()[indicator_id]
    except KeyError:
        raise KeyError(f"indicator {indicator_id} has no spec in indicators/specs.yaml") from None


def families() -> dict[str, list[IndicatorSpec]]:
    """family -> its built indicators (specs order)."""
    out: dict[str, list[IndicatorSpec]] = {f: [] for f in registry().families}
    for s in built().values():
        out[s.family].append(s)
    return {f: v for f, v in out.items() if v}


def bucket_key(family: str) -> str | None:
    """The column a family's inputs are split into buckets by (engine.py); None: not bucketed."""
    return registry().bucket_keys.get(family, "person_id")


def bucket_limits(family: str) -> BucketLimits:
    """How a family's buckets are sized and run (``bucket_limits`` in specs.yaml); defaults where absent."""
    return registry().bucket_limits.get(family, BucketLimits())


def follow_up(family: str) -> FollowUp | None:
    """The follow-up window of a family (``follow_up`` in specs.yaml), None for a family of year t alone."""
    return registry().follow_up.get(family)


def leaves_out_students(family: str) -> bool:
    """Whether a family's indicators leave students and pensioners out (report 2.1; specs.yaml)."""
    return family in registry().leaves_out_students


def corrected(family: str) -> bool:
    """Whether a family's indicators are published corrected for background characteristics too (report
    7.2.2; specs.yaml ``corrected``)."""
    return family in registry().corrected


def corrected_covariates(family: str) -> tuple[str, ...] | None:
    """The characteristics a corrected family is corrected for, when fewer than the default (specs.yaml
    ``corrected_covariates``); None: the default (corrections/propensity.COVARIATES)."""
    return registry().corrected_covariates.get(family)


def cohort(family: str) -> Cohort | None:
    """The cohort a family follows (specs.yaml ``cohorts``), None for a family that reads every person's rows."""
    return registry().cohorts.get(family)


def input_columns(family: str) -> dict[str, tuple[str, ...]]:
    """Input (asset key) -> the only columns of it a family's buckets hold (specs.yaml ``input_columns``); an
    input not named there is read whole."""
    return registry().input_columns.get(family, {})


def family_inputs(family: str) -> dict[str, str]:
    """Parameter name -> asset key of everything the family's functions read (union of the specs' inputs and
    optional inputs)."""
    out: dict[str, str] = {}
    for s in families()[family]:
        for p, k in {**s.inputs, **s.optional_inputs}.items():
            if out.get(p, k) != k:
                raise ValueError(f"family {family}: parameter {p} is {out[p]} in one spec and {k} in another")
            out[p] = k
    return out


def family_of(indicator_id: str) -> str:
    return spec(indicator_id).family   # type: ignore[return-value]


def organisation_indicators() -> frozenset[str]:
    """Indicators of the organisation surveys (disclosure ``organisaties``): protected by the organisation rules
    of surveys/disclosure.py before they reach the table, not by the 10-person rule."""
    return frozenset(k for k, s in built().items() if s.disclosure == "organisaties")


def vacancy_indicators() -> frozenset[str]:
    """Indicators counting online vacancies (disclosure ``vacatures``, issue 20): no persons behind a cell, so
    not under the 10-person rule (gates/disclosure.py, docs/vacancies.md "Disclosure")."""
    return frozenset(k for k, s in built().items() if s.disclosure == "vacatures")


def ebb_indicators() -> frozenset[str]:
    """Indicators under the EBB disclosure rule (weighted survey counts)."""
    return frozenset(k for k, s in built().items() if s.disclosure == "ebb")


def measure_equations() -> list[tuple[str, str, str, bool]]:
    """(indicator, measure, total measure, is_total) of every ``measure_parts`` equation of the built specs."""
    return [(k, m, total, m == total) for k, s in built().items() for total, parts in s.measure_parts.items()
            for m in (total, *parts)]


def person_links() -> list[tuple[str, str, str, bool]]:
    """(indicator, measure, label, counts) of the linked cells (specs ``persons`` and ``counts``): ``counts`` False
    for a measure whose n counts the label's persons, True for a share whose numerator does.  Every ``counts``
    label must be some measure's ``persons`` (otherwise the link would protect nothing: a spec error)."""
    out = [(k, m, lab, f == "counts") for k, s in built().items() for f in ("persons", "counts")
           for m in (s.measures or s.categories) if (lab := s.label_of(f, m)) is not None]
    idle = sorted({lab for _, _, lab, c in out if c} - {lab for _, _, lab, c in out if not c})
    if idle:
        raise ValueError(f"specs: counts labels that no measure's persons names: {', '.join(idle)}")
    return out


def category_indicators() -> frozenset[str]:
    """Indicators whose categories add up to 100% (protected together by the disclosure gate)."""
    return frozenset(k for k, s in built().items() if s.adds_to_100)


def needed_columns() -> dict[tuple[str, str], list[str]]:
    """(FILE, COLUMN) -> indicator ids that read it (source gates: role ``used``)."""
    out: dict[tuple[str, str], list[str]] = {}
    for k, s in built().items():
        for fc in s.needed_columns:
            out.setdefault(fc, []).append(k)
    return out
