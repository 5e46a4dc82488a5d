"""The shape of a questionnaire as the rest of the project sees it: a :class:`Form` of :class:`Question` s.

``xlsform.load_form`` builds it from an XLSForm file (the instrument a survey bureau loads); the response
schema, the synthetic responses and the survey indicators read only this, never the spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    """One item of a form.

    ``type``: the XLSForm base type without its list name (``select_one``, ``select_multiple``, ``integer``,
    ``decimal``, ``text``, ``note``, ``calculate``, ``hidden``, ``rank``...).  ``choices``: the choice
    *names* of a select (the values a response export holds), in the form's order; ``choice_labels`` their
    Dutch labels.  ``relevant``: the XLSForm skip-logic expression (``${q1} = 'ja'``) or None; ``required``
    as the form says; ``minimum`` / ``maximum`` from a ``constraint`` of the form ``. >= a and . <= b``
    where the form has one.  ``group``: the name of the enclosing group (None at top level); ``section``: a
    free tag (e.g. ``achtergrond``, ``acties``, ``open``) for the indicator code.  ``choice_filter`` (added for
    the response schema, optional): the XLSForm choice filter of a select, in which ``name`` is the choice
    (the top three offer only actions rated above 0)."""
    name: str
    type: str
    label: str = ""
    choices: tuple[str, ...] | None = None
    choice_labels: tuple[str, ...] | None = None
    required: bool = False
    relevant: str | None = None
    constraint: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    group: str | None = None
    section: str | None = None
    choice_filter: str | None = None


@dataclass(frozen=True)
class Form:
    """One instrument in one measurement wave.  ``instrument``: ``gemeenten``, ``werkgevers`` or
    ``onderwijsinstellingen``; ``wave``: the measurement year (``2023``); ``version``: the form's
    ``settings.version``; ``questions`` in form order, keyed by name; ``org_key``: the pre-loaded column that
    identifies the responding organisation (never published)."""
    instrument: str
    wave: str
    version: str
    questions: dict[str, Question] = field(default_factory=dict)
    org_key: str = "org_id"

    def of_section(self, section: str) -> list[Question]:
        return [q for q in self.questions.values() if q.section == section]
