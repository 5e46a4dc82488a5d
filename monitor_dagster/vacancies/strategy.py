"""The search strategy as versioned data (technisch rapport Monitor gelijke kansen, hfd. 6, stap c: "Welke
(combinaties van) zoektermen hanteren we?").

The strategy lives in ``strategy_v<N>.yaml`` next to this module (packaged data, read with importlib.resources)
or in any file given by path; ``load_strategy()`` reads and validates it and returns a frozen :class:`Strategy`.
A bad file raises :class:`StrategyError` naming the file, the field and the rule.  The matcher (match.py)
only reads this object, so a new strategy is a new file with a higher ``version``, never a code change."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import snowballstemmer
import yaml

#: the categories the report distinguishes (hfd. 6, stap a): places FOR inburgeringsplichtigen, places OPEN TO
#: statushouders, and the two kinds of place (werkervaringsplaats, stage) open to the target group
CATEGORIES = ("voor_inburgeringsplichtigen", "open_voor_statushouders", "werkervaringsplaats", "stage")
CATEGORY_KEYS = {"description", "terms", "stems", "phrases", "combinations", "exclusions"}
TOP_KEYS = {"version", "date", "author", "categories"}
SENTENCE_END = "|"

_STEMMER = snowballstemmer.stemmer("dutch")
_ACCENTS = str.maketrans("áàäâãéèëêíìïîóòöôõúùüûçñý", "aaaaaeeeeiiiiooooouuuucny")
_SENTENCE = re.compile(r"[.!?;:]+")
_NONWORD = re.compile(r"[^a-z0-9|]+")


class StrategyError(ValueError):
    """A strategy file that does not validate."""


def normalise(text: str) -> str:
    """Lower case, accents off (é -> e), sentence ends -> ' | ', other punctuation -> space (Python reference of
    the vectorised version in match.py; both give the same string)."""
    t = unicodedata.normalize("NFC", text).lower().translate(_ACCENTS)
    t = _SENTENCE.sub(f" {SENTENCE_END} ", t)
    return " ".join(_NONWORD.sub(" ", t).split())


def stem_of(word_or_phrase: str) -> str:
    """The stemmed form the matcher compares: normalised, every word through Dutch Snowball."""
    return " ".join(_STEMMER.stemWord(w) if w != SENTENCE_END else w for w in normalise(word_or_phrase).split())


@dataclass(frozen=True)
class Alternative:
    """One searchable item: ``text`` as written in the strategy, ``key`` as matched (stemmed), ``prefix`` for a
    stem (a word beginning)."""
    text: str
    key: str
    prefix: bool

    def describe(self) -> str:
        return f'stem "{self.text}"' if self.prefix else f'"{self.text}"'


@dataclass(frozen=True)
class Combination:
    name: str
    groups: tuple[tuple[Alternative, ...], ...]


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    any_of: tuple[tuple[str, Alternative], ...]           # (kind: term | stem | phrase, item)
    combinations: tuple[Combination, ...]
    exclude_phrases: tuple[Alternative, ...]
    exclude_patterns: tuple[tuple[str, re.Pattern], ...]  # (as written, compiled)


@dataclass(frozen=True)
class Strategy:
    version: int
    date: dt.date
    author: str
    categories: tuple[Category, ...]
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def alternatives(self) -> list[Alternative]:
        """Every item the automaton must find (deduplicated by key and prefix flag)."""
        seen: dict[tuple[str, bool], Alternative] = {}
        for c in self.categories:
            items = [a for _, a in c.any_of] + [a for comb in c.combinations for g in comb.groups for a in g]
            for a in items + list(c.exclude_phrases):
                seen.setdefault((a.key, a.prefix), a)
        return list(seen.values())


def _fail(source: str, where: str, rule: str) -> StrategyError:
    return StrategyError(f"{source}: {where}: {rule}")


def _alt(source: str, where: str, raw, kind: str) -> Alternative:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(source, where, f"expected a non-empty text, got {raw!r}")
    text = raw.strip()
    if kind == "stem" or (kind == "either" and text.endswith("*")):
        word = text.rstrip("*")
        if not re.fullmatch(r"[a-z0-9]+", word):
            raise _fail(source, where, f"a stem is one lower-case word without accents or punctuation, got {raw!r}")
        return Alternative(word, word, True)
    key = stem_of(text)
    if not key or SENTENCE_END in key.split():
        raise _fail(source, where, f"{raw!r} has no words or holds a sentence end")
    if kind == "term" and " " in key:
        raise _fail(source, where, f"a term is one word (use phrases for {raw!r})")
    return Alternative(text, key, False)


def _list(source: str, where: str, value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(source, where, f"expected a list, got {type(value).__name__}")
    return value


def parse_strategy(data, source: str = "<strategy>") -> Strategy:
    """Validate the parsed YAML; every error names the field and the rule."""
    if not isinstance(data, dict):
        raise _fail(source, "top level", "expected a mapping with version, date, author, categories")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise _fail(source, "top level", f"unknown field(s) {sorted(unknown)}; allowed {sorted(TOP_KEYS)}")
    for k in TOP_KEYS:
        if k not in data:
            raise _fail(source, k, "required field missing")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(source, "version", f"a whole number >= 1, got {version!r}")
    date = data["date"]
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise _fail(source, "date", f"a date YYYY-MM-DD, got {data['date']!r}") from None
    if not isinstance(date, dt.date):
        raise _fail(source, "date", f"a date YYYY-MM-DD, got {date!r}")
    if not isinstance(data["author"], str) or not data["author"].strip():
        raise _fail(source, "author", "a non-empty note on who wrote this version and why")
    cats = data["categories"]
    if not isinstance(cats, dict):
        raise _fail(source, "categories", "expected a mapping category -> rules")
    missing = [c for c in CATEGORIES if c not in cats]
    extra = [c for c in cats if c not in CATEGORIES]
    if missing or extra:
        raise _fail(source, "categories", f"must be exactly {list(CATEGORIES)} (missing {missing}, unknown {extra})")
    out = []
    for name in CATEGORIES:
        spec = cats[name]
        w = f"categories.{name}"
        if not isinstance(spec, dict):
            raise _fail(source, w, "expected a mapping")
        unknown = set(spec) - CATEGORY_KEYS
        if unknown:
            raise _fail(source, w, f"unknown field(s) {sorted(unknown)}; allowed {sorted(CATEGORY_KEYS)}")
        any_of = []
        for kind, field in (("term", "terms"), ("stem", "stems"), ("phrase", "phrases")):
            for i, raw in enumerate(_list(source, f"{w}.{field}", spec.get(field))):
                any_of.append((kind, _alt(source, f"{w}.{field}[{i}]", raw, kind)))
        combos = []
        for i, comb in enumerate(_list(source, f"{w}.combinations", spec.get("combinations"))):
            cw = f"{w}.combinations[{i}]"
            if not isinstance(comb, dict) or set(comb) != {"name", "all_of"}:
                raise _fail(source, cw, "expected {name: ..., all_of: [[...], [...]]}")
            groups = _list(source, f"{cw}.all_of", comb["all_of"])
            if len(groups) < 2:
                raise _fail(source, f"{cw}.all_of", "a combination needs at least two groups")
            gs = []
            for j, g in enumerate(groups):
                g = _list(source, f"{cw}.all_of[{j}]", g)
                if not g:
                    raise _fail(source, f"{cw}.all_of[{j}]", "an empty group can never fire")
                gs.append(tuple(_alt(source, f"{cw}.all_of[{j}][{k}]", raw, "either") for k, raw in enumerate(g)))
            combos.append(Combination(str(comb["name"]), tuple(gs)))
        if not any_of and not combos:
            raise _fail(source, w, "no terms, stems, phrases or combinations: the category can never fire")
        exc = spec.get("exclusions") or {}
        if not isinstance(exc, dict) or set(exc) - {"phrases", "patterns"}:
            raise _fail(source, f"{w}.exclusions", "expected {phrases: [...], patterns: [...]}")
        ex_ph = tuple(_alt(source, f"{w}.exclusions.phrases[{i}]", raw, "phrase")
                      for i, raw in enumerate(_list(source, f"{w}.exclusions.phrases", exc.get("phrases"))))
        ex_pat = []
        for i, raw in enumerate(_list(source, f"{w}.exclusions.patterns", exc.get("patterns"))):
            try:
                ex_pat.append((raw, re.compile(raw)))
            except (re.error, TypeError) as e:
                raise _fail(source, f"{w}.exclusions.patterns[{i}]", f"not a regular expression ({e})") from None
        out.append(Category(name, str(spec.get("description", "")), tuple(any_of), tuple(combos), ex_ph,
                            tuple(ex_pat)))
    return Strategy(version, date, data["author"].strip(), tuple(out), source)


def load_strategy(path: Path | str | None = None, version: int = 1) -> Strategy:
    """The packaged ``strategy_v<version>.yaml`` (default version 1), or the file at ``path``."""
    if path is None:
        name = f"strategy_v{version}.yaml"
        ref = resources.files("monitor_dagster.vacancies").joinpath(name)
        if not ref.is_file():
            raise StrategyError(f"no packaged strategy {name}")
        text, source = ref.read_text("utf-8"), name
    else:
        text, source = Path(path).read_text("utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise StrategyError(f"{source}: not valid YAML: {e}") from None
    s = parse_strategy(data, source)
    if path is None and s.version != version:
        raise StrategyError(f"{source}: version {s.version} in a file named for version {version}")
    return s
