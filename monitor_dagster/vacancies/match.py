"""The matcher: a search strategy (strategy.py) applied to vacancy texts (technisch rapport Monitor gelijke
kansen, hfd. 6: "Hierbij worden de documenten automatisch doorzocht met een opgestelde zoekstrategie").

Per text, one pass: normalise (polars, vectorised: lower case, accents off, sentence ends kept as ``|``,
punctuation out), stem every word with Dutch Snowball (a per-process cache: a corpus has a few hundred thousand
distinct words, so each is stemmed once), then ONE Aho-Corasick automaton (pyahocorasick) over the stemmed text
finds every term, stem, phrase and exclusion phrase of every category at once.  The rules are then evaluated
per category on the set of hits; exclusion patterns (regular expressions) run only on texts where the category
fired.  Batches go to worker processes (fork) when there are several.

Output (long): one row per vacancy and category: ``vacature_id``, ``categorie``, ``matched``, ``explanation``
(the rules that fired, or the exclusion that vetoed; null when nothing fired), ``strategy_version``."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import ahocorasick
import polars as pl
import snowballstemmer

from monitor_dagster.vacancies.strategy import SENTENCE_END, Strategy, load_strategy

BATCH = 2_000
_ACCENT_FROM = list("áàäâãéèëêíìïîóòöôõúùüûçñý")
_ACCENT_TO = list("aaaaaeeeeiiiiooooouuuucny")
MATCH_SCHEMA = {"vacature_id": pl.String, "categorie": pl.String, "matched": pl.Boolean,
                "explanation": pl.String, "strategy_version": pl.Int32}


_COMBINING = [chr(c) for c in range(0x300, 0x370)]


def fold_expr(col: pl.Expr) -> pl.Expr:
    """First half of the normalisation, enough for the prefilter: lower case, accents off.  Decomposed accents
    (e + U+0301) lose their combining mark, as NFC + the accent table would give; cheaper than a Unicode
    normalisation."""
    return (col.fill_null("").str.to_lowercase()
            .str.replace_many(_ACCENT_FROM, _ACCENT_TO)
            .str.replace_many(_COMBINING, [""] * len(_COMBINING)))


def tokens_expr(col: pl.Expr) -> pl.Expr:
    """Second half: sentence ends -> ' | ', other punctuation -> one space (the two regular expressions that cost
    most, so match_frame runs them only on the prefilter's candidates)."""
    return (col.str.replace_all(r"[.!?;:]+", f" {SENTENCE_END} ")
            .str.replace_all(r"[^a-z0-9|]+", " ")
            .str.strip_chars())


def normalise_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised twin of strategy.normalise (same output for the same text)."""
    return tokens_expr(fold_expr(col))


class _StemCache(dict):
    """word -> stem; a miss is stemmed once (dict lookups keep the per-word cost at C speed)."""

    def __init__(self):
        super().__init__()
        self._stem = snowballstemmer.stemmer("dutch").stemWord
        self[SENTENCE_END] = SENTENCE_END

    def __missing__(self, word: str) -> str:
        s = self[word] = self._stem(word)
        return s


@dataclass
class _Compiled:
    version: int
    names: tuple[str, ...]
    automaton: ahocorasick.Automaton
    alts: list                      # id -> Alternative
    cats: list                      # per category: (any_of [(kind, id)], combos [(name, [ids per group])], ex ids, ex patterns)
    relevant: frozenset             # ids that can make a category fire
    anchors: list                   # substrings of the normalised text one of which a firing text must hold


def compile_strategy(strategy: Strategy) -> _Compiled:
    alts = strategy.alternatives()
    ids = {(a.key, a.prefix): i for i, a in enumerate(alts)}
    A = ahocorasick.Automaton()
    for i, a in enumerate(alts):
        A.add_word(f" {a.key}" + ("" if a.prefix else " "), i)
    A.make_automaton()
    cats, relevant = [], set()
    for c in strategy.categories:
        any_of = [(kind, ids[(a.key, a.prefix)]) for kind, a in c.any_of]
        combos = [(cb.name, [[ids[(a.key, a.prefix)] for a in g] for g in cb.groups]) for cb in c.combinations]
        relevant.update(i for _, i in any_of)
        relevant.update(i for _, gs in combos for i in gs[0])   # a combination needs its first group
        ex = [ids[(a.key, a.prefix)] for a in c.exclude_phrases]
        cats.append((any_of, combos, ex, list(c.exclude_patterns)))
    anchors = sorted({_anchor(alts[i]) for i in relevant})
    return _Compiled(strategy.version, strategy.names, A, alts, cats, frozenset(relevant), anchors)


def _anchor(alt) -> str:
    """The prefilter's substring for an item that can make a category fire: the beginning of its longest word as
    the strategy writes it, without the last two letters (an inflection: statushouders -> statushouder) and at
    most 8, at least 4 letters (every inflection of a Dutch word keeps its beginning; the stem does not always:
    stageplaats -> staplaats); for a stem its first 4 letters.  test_vacancies_match checks that the prefilter
    changes no result on the synthetic corpus."""
    if alt.prefix:
        return alt.key[:4]
    from monitor_dagster.vacancies.strategy import normalise
    word = max(normalise(alt.text).split(), key=len)
    return word[:max(4, min(8, len(word) - 2))]


def _evaluate(comp: _Compiled, stemmed: str, found: set) -> list:
    """[(category index, matched, explanation)] for the categories that fired (matched or vetoed)."""
    out = []
    alts = comp.alts
    for ci, (any_of, combos, ex, pats) in enumerate(comp.cats):
        fired = [f'{kind} "{alts[i].text}"' for kind, i in any_of if i in found]
        for name, groups in combos:
            hits = []
            for g in groups:
                h = next((i for i in g if i in found), None)
                if h is None:
                    break
                hits.append(h)
            else:
                fired.append(f"combination {name} (" + " + ".join(alts[h].describe() for h in hits) + ")")
        if not fired:
            continue
        name = comp.names[ci]
        veto = next((f'exclusion phrase "{alts[i].text}"' for i in ex if i in found), None)
        if veto is None:
            veto = next((f"exclusion pattern {raw!r}" for raw, rx in pats if rx.search(stemmed)), None)
        if veto is None:
            out.append((ci, True, f"{name}: " + "; ".join(fired)))
        else:
            out.append((ci, False, f"{name}: vetoed by {veto} (fired: " + "; ".join(fired) + ")"))
    return out


_WORKER: dict = {}


def _match_batch(texts: list[str], comp: _Compiled | None = None) -> list:
    """Normalised texts -> per text None or the fired categories; ``comp`` None = the worker's (forked) state."""
    comp = comp or _WORKER["comp"]
    cache = _WORKER.get("cache")
    if cache is None:
        cache = _WORKER["cache"] = _StemCache()
    get = cache.__getitem__
    it = comp.automaton.iter
    relevant = comp.relevant
    res = []
    for t in texts:
        stemmed = " " + " ".join(map(get, t.split())) + " "
        found = {v for _, v in it(stemmed)}
        res.append(_evaluate(comp, stemmed, found) if found & relevant else None)
    return res


def _init_worker(comp: _Compiled) -> None:
    """Runs in each forked worker.  The worker gets the default SIGTERM back, and ignores SIGINT (Ctrl-C reaches
    the parent, which then ends the pool): a fork inherits the parent's Python handlers, and Dagster maps
    SIGTERM to its SIGINT handler, which inside ``capture_interrupts`` only sets a flag.  In the thirty-fourth
    session a worker whose SIGTERM handler did not exit (which one, we could not see) outlived
    ``Pool.terminate()``, blocked on the task queue's lock, and the parent (a test) waited for it forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["comp"] = comp


def _results_frame(ids: list[str], results: list, comp: _Compiled) -> pl.DataFrame:
    k = len(comp.names)
    matched = [False] * (len(ids) * k)
    expl: list = [None] * (len(ids) * k)
    for r, fired in enumerate(results):
        if fired:
            for ci, m, e in fired:
                matched[r * k + ci] = m
                expl[r * k + ci] = e
    return pl.DataFrame({
        "vacature_id": pl.Series(ids, dtype=pl.String).repeat_by(k).explode() if ids else pl.Series([], dtype=pl.String),
        "categorie": pl.Series(list(comp.names) * len(ids), dtype=pl.String),
        "matched": pl.Series(matched, dtype=pl.Boolean),
        "explanation": pl.Series(expl, dtype=pl.String),
        "strategy_version": pl.Series([comp.version] * (len(ids) * k), dtype=pl.Int32),
    })


def normalised_texts(df: pl.DataFrame, threads: int = 2, min_rows: int = 5_000, full: bool = True) -> pl.Series:
    """titel + " . " + tekst normalised (``full=False``: only folded, fold_expr); a large frame in ``threads``
    slices collected together (polars runs the slices on its thread pool: one string column alone is
    normalised on one core)."""
    fold = fold_expr(pl.concat_str([pl.col("titel").fill_null(""), pl.lit(" . "), pl.col("tekst").fill_null("")]))
    expr = (tokens_expr(fold) if full else fold).alias("t")
    if df.height < min_rows or threads <= 1:
        return df.select(expr)["t"]
    step = -(-df.height // threads)
    parts = pl.collect_all([df.lazy().slice(i, step).select(expr) for i in range(0, df.height, step)])
    return pl.concat(parts)["t"]


def start_pool(strategy: Strategy, workers: int):
    """A pool of forked worker processes holding the compiled strategy and their own stem caches; pass it to
    match_frame for several files so the caches last (match_files does)."""
    ctx = mp.get_context("fork")
    return ctx.Pool(workers, initializer=_init_worker, initargs=(compile_strategy(strategy),))


def match_frame(df: pl.DataFrame, strategy: Strategy | None = None, workers: int | None = None,
                batch: int = BATCH, prefilter: bool = True, pool=None) -> pl.DataFrame:
    """Match every vacancy of ``df`` (columns vacature_id, titel, tekst) against every category.

    ``prefilter``: first a vectorised substring search (polars ``contains_any``, Aho-Corasick in Rust) for the
    anchors of the items that can make a category fire; only texts holding one are stemmed and matched in Python
    (a few per cent of a real corpus).  ``workers``: processes for the batches of those texts (default: the
    CPUs, at most 2; 1 = in this process); ``pool``: a pool from start_pool (then ``strategy`` must be the
    pool's).  Returns the long frame described in the module docstring, in the order of ``df``."""
    strategy = strategy or load_strategy()
    comp = compile_strategy(strategy)
    if df.height == 0:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    workers = workers or min(2, os.cpu_count() or 1)
    folded = normalised_texts(df, threads=max(workers, 1), full=False)
    cand = folded.str.contains_any(comp.anchors) if prefilter else pl.Series([True] * len(folded))
    ids = df["vacature_id"].to_list()
    pos = cand.arg_true().to_list()
    texts = pl.select(tokens_expr(pl.lit(folded.filter(cand)))).to_series().to_list()
    del folded, cand
    chunks = [texts[i:i + batch] for i in range(0, len(texts), batch)]
    results: list = []
    if pool is not None and len(chunks) > 1:
        for r in pool.imap(_match_batch, chunks):
            results.extend(r)
    elif workers <= 1 or len(chunks) <= 1:
        for ch in chunks:
            results.extend(_match_batch(ch, comp))
    else:
        own = start_pool(strategy, workers)
        try:
            for r in own.imap(_match_batch, chunks):
                results.extend(r)
        except BaseException:
            own.terminate()
            raise
        # done: the workers end on the close sentinel (``with`` would terminate them by signal)
        own.close()
        own.join()
    full: list = [None] * len(ids)
    for p, r in zip(pos, results):
        full[p] = r
    return _results_frame(ids, full, comp)


def match_files(paths: Iterable[Path | str], strategy: Strategy | None = None, workers: int | None = None,
                keep: tuple[str, ...] = ("vacature_id", "datum_gevonden", "titel", "werkgever_type", "sector",
                                         "overheidslaag", "regio", "contract")) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read (schema.read_vacancies), validate and match vendor files one at a time, so only one file's texts are
    in memory; returns (the vacancies without their texts, the long match frame)."""
    from monitor_dagster.vacancies.schema import read_vacancies
    from monitor_dagster.vacancies.indicators import is_internship_expr
    strategy = strategy or load_strategy()
    workers = workers or min(2, os.cpu_count() or 1)
    metas, matches = [], []
    pool = start_pool(strategy, workers) if workers > 1 else None
    try:
        for p in paths:
            df = read_vacancies(p)
            matches.append(match_frame(df, strategy, workers, pool=pool))
            metas.append(df.with_columns(is_internship_expr().alias("is_stage")).select(*keep, "is_stage"))
            del df
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return pl.concat(metas), pl.concat(matches)


def wide(matches: pl.DataFrame) -> pl.DataFrame:
    """One row per vacancy: ``<categorie>`` booleans (for joins and quick looks)."""
    return matches.pivot(on="categorie", index=["vacature_id", "strategy_version"], values="matched")
