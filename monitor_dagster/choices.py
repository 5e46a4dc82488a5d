"""The method choices where the technical report is silent: one configuration object (issue 16).

Every rule the report leaves open is a field of :class:`MethodChoices` with the monitor's default; the core
population, the indicator engine and the indicator functions read the object, so an alternative is a
configuration, never a fork of the code.  ``monitor sensitivity`` (``monitor_dagster/sensitivity.py``) runs
the pipeline's own functions once per alternative and publishes the headline figures side by side
(technisch rapport, "Gevoeligheid voor keuzes"); ``docs/methodology.md`` gives each choice's reason, its report
paragraph and the size of its effect.

A run of the pipeline uses the defaults unless the resource field ``method`` (``MONITOR_METHOD``) names
alternatives, e.g. ``student_rule=any_day,address_gap_days=0``; a non-default choice is recorded in the
metadata and manifest of every table it touched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, get_args, get_type_hints

import polars as pl

StudentRule = Literal["majority", "any_day", "dec31"]
Scope = Literal["analysis", "breakdown"]
Substantial = Literal["month", "year"]
Denominator = Literal["workers", "all"]
Tie = Literal["vast", "tijdelijk"]
ZzpTie = Literal["werknemer", "zzp"]
Boundary = Literal["oudkomer", "nieuwkomer"]
EbbClassification = Literal["year", "wave"]
StudentSource = Literal["secm", "enrolment"]
EbbUnemployed = Literal["any_wave", "half_waves"]


@dataclass(frozen=True)
class MethodChoices:
    """The monitor's answer to each question the report leaves open (defaults), or an alternative.

    * ``student_rule`` (report §2.1 "schoolgaande, studerende en pensioengerechtigden ... buiten beschouwing",
      no day given): ``majority`` = in that SECM position on more than half the days of t; ``any_day``;
      ``dec31``.
    * ``address_gap_days`` (§2.1 "gehele jaar in Nederland wonen"): days without an address between two
      address spells that still count as living in NL (late-registered moves).
    * ``short_stay`` (§2.2 "Personen met een migratieachtergrond die op de peildatum zes maanden of korter in
      Nederland verblijven, zijn niet meegenomen in de analyse"): ``analysis`` = left out of every indicator
      (the report's words), ``breakdown`` = left out of the verblijfsduur breakdown only.
    * ``five_years`` (§2.2 nieuwkomer "maximaal vijf jaar", oudkomer "minstens vijf jaar" overlap at five):
      the side exactly five years falls on.
    * ``substantial`` (§4.2 substantial job, 12 basic hours a week at the WML, period not given): judged per
      job-month or per job-year.
    * ``o04_tie`` (§4.2 "de meest gemaakte basisuren dat jaar vast of tijdelijk"): equal basic hours.
    * ``o05_denominator`` (§4.2 3d zzp share, base not given): persons at work (SECM 11-15 in a month of t)
      or the whole base population; ``o05_tie``: self-employed in exactly half the working months.
    * ``ebb_classification`` (§4.1 "op jaarniveau ... maximaal 52 uur per jaar"): a respondent's waves of a
      year taken together (``year``) or each wave on its own (``wave``); ``ebb_unemployed``: in the yearly
      classification, werkloos when not werkzaam and CBS-werkloos in at least one wave, or in at least half.
    * ``student_source`` (§7.1.3): ``secm`` = SECMBUS where it covers the year, else enrolment and age (the
      fallback, marked voorlopig); ``enrolment`` = the fallback also where SECM covers the year, to measure
      how far the fallback's figures are from SECM's.
    """

    student_rule: StudentRule = "majority"
    address_gap_days: int = 31
    short_stay: Scope = "analysis"
    five_years: Boundary = "oudkomer"
    substantial: Substantial = "month"
    o04_tie: Tie = "vast"
    o05_denominator: Denominator = "workers"
    o05_tie: ZzpTie = "werknemer"
    ebb_classification: EbbClassification = "year"
    ebb_unemployed: EbbUnemployed = "any_wave"
    student_source: StudentSource = "secm"

    def __post_init__(self) -> None:
        hints = get_type_hints(MethodChoices)
        for f in dataclasses.fields(self):
            allowed = get_args(hints[f.name])
            v = getattr(self, f.name)
            if allowed and v not in allowed:
                raise ValueError(f"method choice {f.name}={v!r}: expected one of {', '.join(allowed)}")
        if not isinstance(self.address_gap_days, int) or self.address_gap_days < 0:
            raise ValueError(f"method choice address_gap_days={self.address_gap_days!r}: expected a whole number >= 0")

    # ------------------------------------------------------------------------------------ text form
    @classmethod
    def parse(cls, text: "str | MethodChoices | None") -> "MethodChoices":
        """``"student_rule=any_day,address_gap_days=0"`` -> the choices (empty or None: the defaults)."""
        if isinstance(text, MethodChoices):
            return text
        kw: dict = {}
        names = {f.name: f for f in dataclasses.fields(cls)}
        for part in (text or "").replace(";", ",").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or key not in names:
                raise ValueError(f"method choice {part.strip()!r}: expected NAME=VALUE with NAME one of "
                                 + ", ".join(names))
            kw[key] = int(value) if key == "address_gap_days" and value.lstrip("-").isdigit() else value
        return cls(**kw)

    def differences(self) -> dict[str, object]:
        """The fields that differ from the defaults."""
        d = MethodChoices()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(d, f.name)}

    def __str__(self) -> str:
        """The text form of the non-default fields ("" for the defaults): what manifests record."""
        return ",".join(f"{k}={v}" for k, v in self.differences().items())

    # ------------------------------------------------------------------------------- applications
    def population_kwargs(self) -> dict:
        """Keyword arguments of :func:`core.population.population` that carry these choices."""
        return {"tolerance_days": self.address_gap_days, "student_rule": self.student_rule,
                "five_years": self.five_years}

    def analysis_population(self, population: pl.LazyFrame) -> pl.LazyFrame:
        """The persons every indicator may look at (engine.py applies it to ``core/population``): with
        ``short_stay="analysis"`` persons in NL six months or less on the peildatum are left out (§2.2)."""
        if self.short_stay == "breakdown" or "verblijfsduur_excluded" not in population.collect_schema().names():
            return population
        return population.filter(~pl.col("verblijfsduur_excluded").fill_null(False))


DEFAULT = MethodChoices()

#: the alternatives the sensitivity table shows: (choice, value, label)
ALTERNATIVES: tuple[tuple[str, object, str], ...] = (
    ("student_rule", "any_day", "student/gepensioneerde: al na één dag in die positie"),
    ("student_rule", "dec31", "student/gepensioneerde: positie op 31 december"),
    ("address_gap_days", 0, "adresgat: geen enkele dag zonder adres"),
    ("address_gap_days", 92, "adresgat: tot een kwartaal zonder adres"),
    ("short_stay", "breakdown", "korter dan zes maanden in NL: alleen uit de uitsplitsing verblijfsduur"),
    ("five_years", "nieuwkomer", "precies vijf jaar in NL: nieuwkomer"),
    ("substantial", "year", "substantiële baan: per baan per jaar beoordeeld"),
    ("o04_tie", "tijdelijk", "O04 bij gelijke basisuren vast/tijdelijk: tijdelijk"),
    ("o05_denominator", "all", "O05 noemer: de hele populatie in plaats van de werkenden"),
    ("o05_tie", "zzp", "O05 zelfstandig in precies de helft van de gewerkte maanden: zzp"),
    ("ebb_classification", "wave", "EBB: elke peiling apart in plaats van per persoon per jaar"),
    ("ebb_unemployed", "half_waves", "EBB: werkloos als in minstens de helft van de peilingen werkloos"),
    ("student_source", "enrolment", "studenten en gepensioneerden uit inschrijving en leeftijd in plaats van SECM "
                                    "(rapport 7.1.3)"),
)

#: the default's label per choice (the first column of the sensitivity table)
DEFAULT_LABELS = {
    "student_rule": "meer dan de helft van het jaar in die positie",
    "address_gap_days": "tot 31 dagen zonder adres overbrugd",
    "short_stay": "korter dan zes maanden in NL: uit de hele analyse",
    "five_years": "precies vijf jaar in NL: oudkomer",
    "substantial": "per baan per maand",
    "o04_tie": "gelijke basisuren: vast",
    "o05_denominator": "werkenden (SECM 11-15)",
    "o05_tie": "precies de helft: werknemer",
    "ebb_classification": "per persoon per jaar",
    "ebb_unemployed": "werkloos als in minstens één peiling werkloos",
    "student_source": "SECMBUS (inschrijving en leeftijd alleen zolang SECM het jaar nog niet dekt)",
}


def alternative(choice: str, value: object) -> MethodChoices:
    """The defaults with one choice switched."""
    return dataclasses.replace(DEFAULT, **{choice: value})
