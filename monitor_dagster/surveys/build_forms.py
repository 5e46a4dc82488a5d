"""Write the XLSForm instruments (``forms/<instrument>_<wave>.xlsx``) from their readable sources
(``instruments/<instrument>_<wave>.yaml`` + ``instruments/_common.yaml``).

Why a source: the item wording of the technisch rapport Monitor gelijke kansen (§3.2.2, §3.3, §3.5) is long and
repeats a pattern (§3.1: prioriteit, generieke instrumenten, acties 0-5, top drie, succesfactoren,
belemmeringen); the YAML holds each text once, with the report paragraph it comes from, and three macros
expand the pattern the same way in every instrument:

- ``ratings``: a field-list group with one ``select_one frequentie`` (0..5) per action of a choice list; the
  list's ``anders`` becomes an open text ``<prefix>anders_tekst`` and a rating ``<prefix>anders`` that is
  relevant only when the text is filled;
- ``top3``: ``select_multiple`` of the same list with ``count-selected(.) <= 3`` and a ``choice_filter`` that
  offers only actions rated above 0;
- ``barriers``: a required ``select_multiple`` where 'geen' and 'weet niet' exclude the other answers, and the
  open text ``<name>_anders`` when 'andere' is chosen.

Extra survey columns (pyxform ignores them): ``monitor_section`` (-> ``Question.section``),
``monitor_source`` (the report item) and ``monitor_choices`` (the value list of a pre-loaded hidden field).

    .venv/bin/python -m monitor_dagster.surveys.build_forms [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
INSTRUMENTS = HERE / "instruments"
FORMS = HERE / "forms"
REGIONS_CSV = HERE.parent / "reference" / "gemeente_arbeidsmarktregio_2020.csv"

SURVEY_COLUMNS = ["type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                  "choice_filter", "appearance", "monitor_section", "monitor_source", "monitor_choices"]
CHOICE_COLUMNS = ["list_name", "name", "label"]
SETTINGS_COLUMNS = ["form_title", "form_id", "version", "style"]
SECTIONS = ("achtergrond", "prioriteit", "instrumenten", "acties", "top3", "succes", "belemmeringen", "open",
            "overig")
EXCLUSIVE = ("geen", "weet_niet")          # barrier answers that exclude every other answer


def sources() -> list[Path]:
    """The instrument sources, one file per instrument and wave."""
    return sorted(p for p in INSTRUMENTS.glob("*.yaml") if not p.name.startswith("_"))


def _regions() -> list[list[str]]:
    """The arbeidsmarktregio's of the 2020 municipality mapping (code, name), in code order."""
    with REGIONS_CSV.open(encoding="utf-8") as f:
        rows = {(r["arbeidsmarktregio_code"], r["arbeidsmarktregio_naam"]) for r in csv.DictReader(f, delimiter=";")}
    return [[code, name] for code, name in sorted(rows)]


GENERATED_LISTS = {"arbeidsmarktregio_2020": _regions}


def _fill(text: str | None, texts: dict[str, str]) -> str | None:
    if text is None:
        return None
    for key, value in texts.items():
        text = text.replace("{" + key + "}", value)
    return text


def _row(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v not in (None, "")}


def expand(spec: dict, choices: dict[str, list[list[str]]], texts: dict[str, str]) -> list[dict[str, Any]]:
    """The survey rows of an instrument: plain rows as written, the three macros expanded (module docstring)."""
    rows: list[dict[str, Any]] = []
    for item in spec["survey"]:
        if "ratings" in item:
            m = item["ratings"]
            rel = m.get("relevant")
            rows.append(_row(type="begin_group", name=m["name"], label=_fill(m["label"], texts),
                             appearance="field-list", relevant=None, monitor_source=m["source"]))
            for name, label in choices[m["list"]]:
                if name == "anders":
                    text_q = f"{m['prefix']}anders_tekst"
                    rows.append(_row(type="text", name=text_q, label=f"{label}, namelijk:", relevant=rel,
                                     monitor_section="open", monitor_source=f"{m['source']} (open antwoordcategorie)"))
                    cond = f"${{{text_q}}} != ''"
                    rows.append(_row(type="select_one frequentie", name=f"{m['prefix']}anders", label=label,
                                     required="yes", relevant=f"{rel} and {cond}" if rel else cond,
                                     appearance="horizontal-compact", monitor_section="acties",
                                     monitor_source=m["source"]))
                else:
                    rows.append(_row(type="select_one frequentie", name=f"{m['prefix']}{name}", label=label,
                                     required="yes", relevant=rel, appearance="horizontal-compact",
                                     monitor_section="acties", monitor_source=m["source"]))
            rows.append({"type": "end_group"})
        elif "top3" in item:
            m = item["top3"]
            flt = " or ".join(f"(name = '{n}' and ${{{m['prefix']}{n}}} > 0)" for n, _ in choices[m["list"]])
            rows.append(_row(type=f"select_multiple {m['list']}", name=m["name"], label=_fill(m["label"], texts),
                             hint=_fill(m.get("hint"), texts), relevant=m.get("relevant"),
                             constraint="count-selected(.) <= 3",
                             constraint_message="Kies maximaal drie maatregelen.", choice_filter=flt,
                             monitor_section="top3", monitor_source=m["source"]))
        elif "barriers" in item:
            m = item["barriers"]
            names = [n for n, _ in choices[m["list"]]]
            excl = [n for n in EXCLUSIVE if n in names]
            constraint = (f"not(({' or '.join(f'selected(., {chr(39)}{n}{chr(39)})' for n in excl)})"
                          " and count-selected(.) > 1)") if excl else None
            rows.append(_row(type=f"select_multiple {m['list']}", name=m["name"], label=_fill(m["label"], texts),
                             hint="Meerdere antwoorden zijn mogelijk.", required="yes", relevant=m.get("relevant"),
                             constraint=constraint,
                             constraint_message="'Geen belemmeringen' en 'weet niet' gaan niet samen met andere antwoorden."
                             if excl else None,
                             monitor_section="belemmeringen", monitor_source=m["source"]))
            if "andere" in names:
                rows.append(_row(type="text", name=f"{m['name']}_anders", label="Welke andere belemmeringen?",
                                 relevant=f"selected(${{{m['name']}}}, 'andere')", required="yes",
                                 monitor_section="open", monitor_source=f"{m['source']} (andere, namelijk)"))
        else:
            row = dict(item)
            src = row.pop("source", None)
            section = row.pop("section", None)
            lst = row.pop("list", None)
            if row.get("required") is True:
                row["required"] = "yes"
            row["label"] = _fill(row.get("label"), texts)
            row["hint"] = _fill(row.get("hint"), texts)
            rows.append(_row(**row, monitor_section=section, monitor_source=src, monitor_choices=lst))
    for r in rows:
        if r.get("monitor_section") not in (None, *SECTIONS):
            raise ValueError(f"{spec['instrument']}: question {r.get('name')}: section {r['monitor_section']!r} "
                             f"not one of {', '.join(SECTIONS)}")
    return rows


def load_source(path: Path) -> tuple[dict, list[dict[str, Any]], list[list[str]]]:
    """(spec, survey rows, choice rows) of one instrument source merged with ``_common.yaml``."""
    common = yaml.safe_load((INSTRUMENTS / "_common.yaml").read_text(encoding="utf-8"))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    choices: dict[str, list[list[str]]] = {}
    for name, items in {**common["choices"], **spec.get("choices", {})}.items():
        if isinstance(items, str):
            choices[name] = GENERATED_LISTS[items]()
            continue
        for a, _ in items:
            if not isinstance(a, str):      # YAML reads 20000_50000 as the integer 2000050000: quote it
                raise ValueError(f"{path.name}: choice list {name}: choice name {a!r} is not a quoted string")
        choices[name] = [[a, str(b)] for a, b in items]
    rows = expand(spec, choices, common["texts"])
    used = {r["type"].split()[1] for r in rows if r["type"].startswith("select_")}
    used |= {r["monitor_choices"] for r in rows if r.get("monitor_choices")}
    choice_rows = [[lst, n, lab] for lst, items in choices.items() if lst in used for n, lab in items]
    return spec, rows, choice_rows


def build(path: Path, out_dir: Path = FORMS) -> Path:
    """Write one XLSForm (sheets survey, choices, settings) and return its path."""
    spec, rows, choice_rows = load_source(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(SURVEY_COLUMNS)
    for r in rows:
        ws.append([r.get(c) for c in SURVEY_COLUMNS])
    wc = wb.create_sheet("choices")
    wc.append(CHOICE_COLUMNS)
    for r in choice_rows:
        wc.append(r)
    wset = wb.create_sheet("settings")
    wset.append(SETTINGS_COLUMNS)
    wset.append([spec["title"], f"{spec['instrument']}_{spec['wave']}", spec["version"], "pages"])
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{spec['instrument']}_{spec['wave']}.xlsx"
    tmp = out.with_suffix(".xlsx.tmp")
    wb.save(tmp)
    tmp.replace(out)
    return out


def build_all(out_dir: Path = FORMS) -> list[Path]:
    return [build(p, out_dir) for p in sources()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=FORMS)
    args = ap.parse_args(argv)
    for p in build_all(args.out):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
