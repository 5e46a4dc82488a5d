"""Issue 20 (research question 5, technisch rapport Monitor gelijke kansen, hfd. 6): the search strategy file and
the matcher on hand-built Dutch vacancy texts: each positive kind from the report's own wording, each hard
negative a naive search confuses, the explanation text and the version stamp (docs/vacancies.md)."""

from __future__ import annotations

import multiprocessing as mp
import signal
import time

import polars as pl
import pytest
import yaml

from monitor_dagster.vacancies import match as M
from monitor_dagster.vacancies.strategy import StrategyError, load_strategy, normalise, parse_strategy, stem_of


def _match(*texts: str, title: str = "", **kw) -> pl.DataFrame:
    df = pl.DataFrame({"vacature_id": [f"v{i}" for i in range(len(texts))], "titel": [title] * len(texts),
                       "tekst": list(texts)})
    return M.match_frame(df, workers=1, **kw)


def _one(text: str, cat: str, title: str = "") -> tuple[bool, str | None]:
    row = _match(text, title=title).filter(pl.col("categorie") == cat).row(0, named=True)
    assert row["strategy_version"] == 1
    return row["matched"], row["explanation"]


def test_report_example_afstand_plus_statushouders():
    """Report hfd. 6, stap c: "Denk aan: 'Afstand tot de arbeidsmarkt' + 'Wij staan open voor statushouders'"."""
    ok, why = _one("Heb je een afstand tot de arbeidsmarkt? Wij staan open voor statushouders.", "open_voor_statushouders")
    assert ok
    assert 'phrase "wij staan open voor statushouders"' in why
    assert "combination afstand_en_statushouders" in why
    assert why.startswith("open_voor_statushouders: ")


def test_combination_alone_fires_and_is_named():
    ok, why = _one("Wij zoeken kandidaten met een afstand tot de arbeidsmarkt, bijvoorbeeld nieuwkomers.",
                   "open_voor_statushouders")
    assert ok
    # nieuwkomers and nieuwkomer share a stem: the explanation names the spelling listed first in the strategy
    assert why == ('open_voor_statushouders: combination afstand_en_statushouders ("afstand tot de arbeidsmarkt" + '
                   '"nieuwkomer")')


def test_for_inburgeringsplichtigen_and_werkervaringsplaats():
    m = _match("Wij bieden een werkervaringsplaats in de groenvoorziening in het kader van de inburgering.")
    got = dict(m.select("categorie", "matched").iter_rows())
    assert got == {"voor_inburgeringsplichtigen": True, "open_voor_statushouders": False,
                   "werkervaringsplaats": True, "stage": False}
    why = m.filter(pl.col("categorie") == "voor_inburgeringsplichtigen")["explanation"][0]
    assert 'phrase "in het kader van de inburgering"' in why


def test_stemming_finds_inflections():
    """Plural and -e forms through Dutch Snowball: werkervaringsplekken, inburgeringsplichtige."""
    m = _match("Twee werkervaringsplekken voor inburgeringsplichtige kandidaten in onze keuken.")
    got = dict(m.select("categorie", "matched").iter_rows())
    assert got["werkervaringsplaats"] and got["voor_inburgeringsplichtigen"]


def test_accents_case_and_punctuation_are_normalised():
    ok, _ = _one("WÍJ stáán open voor STATUSHOUDERS!!!", "open_voor_statushouders")
    assert ok
    decomposed = "Wij staan open voor statushoude\u0301rs."   # a combining accent inside the word
    assert normalise(decomposed) == "wij staan open voor statushouders |"
    df = pl.DataFrame({"t": [decomposed, "Café-medewerker; ideëen: NT2!"]})
    assert df.select(M.normalise_expr(pl.col("t")))["t"].to_list() == [normalise(x) for x in df["t"]]


def test_stage_for_target_group_versus_student_internship():
    ok, why = _one("Wij bieden een stageplaats voor statushouders in onze werkplaats.", "stage")
    assert ok and 'phrase "stageplaats voor statushouders"' in why
    # hard negative: a student internship; a naive search on 'stage' finds it, the strategy does not fire
    ok, why = _one("Deze meewerkstage is bedoeld voor hbo-studenten. Je ontvangt een stagevergoeding.", "stage",
                   title="Meewerkstage marketing")
    assert not ok and why is None
    # the same internship naming nieuwkomers: the combination fires, the exclusion vetoes and is named
    ok, why = _one("Deze stage is bedoeld voor hbo-studenten, ook nieuwkomers die een hbo-opleiding volgen.", "stage")
    assert not ok
    assert why.startswith('stage: vetoed by exclusion phrase "voor hbo studenten"')
    assert "combination stage_en_doelgroep" in why


def test_werkervaring_vereist_is_not_a_werkervaringsplaats():
    ok, why = _one("Minimaal 2 jaar werkervaring in een vergelijkbare functie is vereist.", "werkervaringsplaats")
    assert not ok and why is None
    ok, why = _one("Deze participatieplaats vraagt minimaal 2 jaar werkervaring.", "werkervaringsplaats")
    assert not ok and "vetoed by exclusion pattern" in why and "minimaal" in why
    # 'geen werkervaring vereist' is an offer, not a demand: the pattern's look-behind lets it through
    ok, why = _one("Geen werkervaring vereist: dit is een werkervaringsplaats met begeleiding.", "werkervaringsplaats")
    assert ok and why == 'werkervaringsplaats: term "werkervaringsplaats"'


def test_statushouder_in_an_unrelated_sentence():
    """A housing corporation allocating homes: statushouders are the job's topic, not its target group."""
    ok, why = _one("Als woningcorporatie wijzen wij jaarlijks woningen toe aan statushouders.", "open_voor_statushouders")
    assert not ok and why is None
    ok, why = _one("Statushouders zijn welkom in onze huurwoningen; jij begeleidt nieuwe huurders.",
                   "open_voor_statushouders")
    assert not ok and why.startswith("open_voor_statushouders: vetoed by exclusion pattern")


def test_negations_veto():
    ok, why = _one("Deze vacature is helaas niet geschikt voor statushouders.", "open_voor_statushouders")
    assert not ok
    assert why == ('open_voor_statushouders: vetoed by exclusion phrase "niet geschikt voor statushouders" '
                   '(fired: phrase "geschikt voor statushouders")')
    ok, why = _one("Let op: dit is geen werkervaringsplaats.", "werkervaringsplaats")
    assert not ok and 'exclusion phrase "geen werkervaringsplaats"' in why


def test_inburgering_as_job_topic():
    ok, why = _one("Als docent NT2 verzorg je de lessen voor inburgeringsplichtigen.", "voor_inburgeringsplichtigen",
                   title="Docent NT2")
    assert not ok and 'vetoed by exclusion phrase "docent nt2"' in why


def test_phrase_does_not_cross_a_sentence_end():
    ok, why = _one("Wij staan open. Voor statushouders organiseren wij een taalcursus.", "open_voor_statushouders")
    assert not ok and why is None


def test_workers_and_batches_give_the_same_rows():
    texts = ["Wij staan open voor statushouders.", "Gewone vacature voor een kok.",
             "Werkervaringsplaats voor inburgeringsplichtigen.", "Minimaal 2 jaar werkervaring."] * 30
    df = pl.DataFrame({"vacature_id": [f"v{i}" for i in range(len(texts))], "titel": [""] * len(texts), "tekst": texts})
    one = M.match_frame(df, workers=1)
    two = M.match_frame(df, workers=2, batch=7)
    assert one.equals(two)
    assert one.height == len(texts) * 4
    assert one.filter(pl.col("matched")).height == 30 + 60


def _sigterm_and_sigint(_):
    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def _worker_that_waits(comp, started) -> None:
    M._init_worker(comp)
    started.set()
    time.sleep(60)


def test_pool_workers_end_on_sigterm_whatever_the_parent_handles_it_with():
    """A worker forked from a process whose SIGTERM handler does not exit (Dagster's inside capture_interrupts
    only sets a flag) inherited it and outlived Pool.terminate(): the test run of the thirty-fourth session hung
    in test_workers_and_batches_give_the_same_rows.  Each worker now has the default SIGTERM (and ignores
    SIGINT): a process started as a pool starts its workers dies of SIGTERM."""
    ctx = mp.get_context("fork")
    comp = M.compile_strategy(M.load_strategy())
    old = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        pool = M.start_pool(M.load_strategy(), 2)
        started = ctx.Event()
        worker = ctx.Process(target=_worker_that_waits, args=(comp, started))
        worker.start()
    finally:
        signal.signal(signal.SIGTERM, old)
    try:
        assert set(pool.map(_sigterm_and_sigint, range(8), chunksize=1)) == {(True, True)}
    finally:
        pool.close()
        pool.join()
    assert started.wait(30)
    worker.terminate()
    worker.join(timeout=20)
    alive = worker.is_alive()
    if alive:               # the failure: do not leave it behind
        worker.kill()
        worker.join()
    assert not alive and worker.exitcode == -signal.SIGTERM


def test_strategy_file_errors_name_the_field(tmp_path):
    good = yaml.safe_load(_packaged_text())

    def bad(mutate, expected):
        d = yaml.safe_load(_packaged_text())
        mutate(d)
        with pytest.raises(StrategyError, match=expected):
            parse_strategy(d, "s.yaml")

    bad(lambda d: d.pop("version"), r"s.yaml: version: required field missing")
    bad(lambda d: d.update(version="1"), r"version: a whole number")
    bad(lambda d: d["categories"].pop("stage"), r"categories: must be exactly .*missing \['stage'\]")
    bad(lambda d: d["categories"]["stage"]["exclusions"]["patterns"].append("(unclosed"),
        r"categories.stage.exclusions.patterns\[\d+\]: not a regular expression")
    bad(lambda d: d["categories"]["werkervaringsplaats"]["terms"].append("twee woorden"),
        r"categories.werkervaringsplaats.terms\[\d+\]: a term is one word")
    bad(lambda d: d["categories"]["stage"]["combinations"][0]["all_of"].append([]),
        r"all_of\[2\]: an empty group can never fire")
    bad(lambda d: d["categories"]["stage"].update(synonyms=["x"]), r"categories.stage: unknown field")
    assert parse_strategy(good).version == 1


def test_a_new_version_is_a_new_file_and_stamps_every_row(tmp_path):
    d = yaml.safe_load(_packaged_text())
    d["version"] = 2
    d["categories"]["open_voor_statushouders"]["phrases"].append("kort in nederland")
    p = tmp_path / "strategy_v2.yaml"
    p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    s2 = load_strategy(p)
    text = "Woon je nog maar kort in Nederland en heb je een verblijfsvergunning? Ook dan nodigen we je uit."
    v1 = _match(text)
    v2 = _match(text, strategy=s2)
    assert set(v1["strategy_version"]) == {1} and set(v2["strategy_version"]) == {2}
    assert not v1.filter(pl.col("categorie") == "open_voor_statushouders")["matched"][0]
    assert v2.filter(pl.col("categorie") == "open_voor_statushouders")["matched"][0]


def test_stem_of_is_what_the_matcher_compares():
    assert stem_of("inburgeringsplichtigen") == stem_of("inburgeringsplichtige")
    assert stem_of("Werkervaringsplekken") == stem_of("werkervaringsplek")


def _packaged_text() -> str:
    from importlib import resources
    return resources.files("monitor_dagster.vacancies").joinpath("strategy_v1.yaml").read_text("utf-8")
