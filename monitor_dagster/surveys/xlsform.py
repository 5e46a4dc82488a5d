"""Read an XLSForm instrument into a :class:`~monitor_dagster.surveys.form.Form` with pyxform's own reader.

Why pyxform and not openpyxl: the form a survey bureau loads into ODK/KoboToolbox/Enketo is whatever pyxform
makes of the spreadsheet (aliases such as ``select all that apply``, ``yes``/``true()``, group nesting); reading
it the same way means the schema checks the responses of the form that was fielded.  ``load_form`` converts the
workbook to XForm (so a form that does not convert is refused here too) and walks pyxform's JSON; the extra
survey columns ``monitor_section`` and ``monitor_choices`` (ignored by pyxform, kept in its JSON) give
``Question.section`` and the value list of pre-loaded hidden fields (build_forms.py).

Instrument and wave come from ``settings.form_id`` (``<instrument>_<wave>``), the version from
``settings.version`` (technisch rapport Monitor gelijke kansen, §3.1: one questionnaire per stakeholder, asked
again at every measurement; a new wave is a new file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyxform.xls2xform import convert

from monitor_dagster.surveys.form import Form, Question

FORMS_DIR = Path(__file__).resolve().parent / "forms"

TYPES = {"select one": "select_one", "select all that apply": "select_multiple", "select one from file":
         "select_one_from_file", "select multiple from file": "select_multiple_from_file"}
_NUM = r"(-?\d+(?:\.\d+)?)"
_MIN = re.compile(r"\.\s*>=\s*" + _NUM)
_MAX = re.compile(r"\.\s*<=\s*" + _NUM)
_RANGE = re.compile(r"^\s*\.\s*>=\s*" + _NUM + r"\s+and\s+\.\s*<=\s*" + _NUM + r"\s*$")


class FormError(ValueError):
    """An instrument that pyxform cannot convert, or whose settings do not name instrument and wave."""


def forms(directory: Path = FORMS_DIR) -> dict[tuple[str, str], Path]:
    """The packaged instruments: ``{(instrument, wave): path}`` of ``forms/<instrument>_<wave>.xlsx``."""
    out = {}
    for p in sorted(directory.glob("*.xlsx")):
        instrument, _, wave = p.stem.rpartition("_")
        out[(instrument, wave)] = p
    return out


def form(instrument: str, wave: str) -> Form:
    """The packaged form of one instrument and wave."""
    found = forms()
    if (instrument, str(wave)) not in found:
        raise FormError(f"no packaged form {instrument}_{wave}; packaged: "
                        + ", ".join(f"{i}_{w}" for i, w in found))
    return load_form(found[(instrument, str(wave))])


def _text(value: Any) -> str:
    if isinstance(value, dict):             # multilingual label: the default language first
        return str(value.get("default") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _required(value: Any) -> bool:
    return str(value).strip().lower() in ("yes", "true", "true()", "1")


def _and(a: str | None, b: str | None) -> str | None:
    if a and b:
        return f"({a}) and ({b})"
    return a or b


def load_form(path: str | Path) -> Form:
    """Parse one XLSForm into a :class:`Form` (questions in form order; groups are walked, not kept as
    questions; a group's ``relevant`` is and-ed into its questions' so ``Question.relevant`` is the whole
    condition under which the question is asked)."""
    path = Path(path)
    try:
        result = convert(str(path))
    except Exception as exc:                # pyxform raises PyXFormError and friends
        raise FormError(f"{path.name}: pyxform cannot convert the form: {exc}") from exc
    data = result._pyxform
    form_id = str(data.get("id_string") or "")
    instrument, _, wave = form_id.rpartition("_")
    if not instrument or not wave:
        raise FormError(f"{path.name}: settings.form_id {form_id!r} is not <instrument>_<wave>")
    lists: dict[str, list[dict]] = data.get("choices", {})
    questions: dict[str, Question] = {}

    def walk(children: list[dict], group: str | None, group_relevant: str | None) -> None:
        for el in children:
            kind = el.get("type")
            bind = el.get("bind", {}) or {}
            if kind in ("group", "repeat"):
                walk(el.get("children", []), el["name"], _and(group_relevant, bind.get("relevant")))
                continue
            qtype = TYPES.get(kind, kind)
            list_name = el.get("list_name") or el.get("itemset") or el.get("monitor_choices")
            items = lists.get(list_name) if list_name else None
            if items is None and "choices" in el and qtype.startswith("select"):
                items = el["choices"]
            constraint = bind.get("constraint")
            lo = hi = None
            if constraint:
                m = _RANGE.match(constraint)
                if m:
                    lo, hi = float(m.group(1)), float(m.group(2))
                else:
                    mlo, mhi = _MIN.search(constraint), _MAX.search(constraint)
                    if mlo and " or " not in constraint:
                        lo = float(mlo.group(1))
                    if mhi and " or " not in constraint and "count-selected" not in constraint:
                        hi = float(mhi.group(1))
            name = el["name"]
            if name in questions:
                raise FormError(f"{path.name}: question {name}: name used twice (exports carry no group prefix)")
            questions[name] = Question(
                name=name, type=qtype, label=_text(el.get("label")),
                choices=tuple(str(c["name"]) for c in items) if items else None,
                choice_labels=tuple(_text(c.get("label")) for c in items) if items else None,
                required=_required(bind.get("required", "")),
                relevant=_and(group_relevant, bind.get("relevant")),
                constraint=constraint, minimum=lo, maximum=hi, group=group,
                section=el.get("monitor_section"), choice_filter=el.get("choice_filter"))

    walk(data.get("children", []), None, None)
    for meta in ("meta", "instanceID"):
        questions.pop(meta, None)
    return Form(instrument=instrument, wave=wave, version=str(data.get("version") or ""), questions=questions)
