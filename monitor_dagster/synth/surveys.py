"""Synthetic responses to the input-survey instruments (technisch rapport Monitor gelijke kansen, §3.2.2 gemeenten,
§3.3 werkgevers, §3.5 onderwijsinstellingen; issue 19): a sample frame, the answers of EVERY organisation in it,
the population truth computed from those answers, and a KoboToolbox-style export of the responding ones.

* **Frames.** gemeenten: the 355 municipalities of 2020 (``reference/gemeente_arbeidsmarktregio_2020.csv``) with
  their arbeidsmarktregio; the size class is **synthetic**: the 30 municipalities of at least 100,000 inhabitants
  are those of ``synth.regions.LARGE`` (rounded 2020 figures), the others are ranked by a hash of their code and
  cut into 50 of 50,000-100,000, 170 of 20,000-50,000 and the rest below 20,000 (roughly the real proportions;
  no inhabitants data is in the project).  werkgevers: :data:`N_EMPLOYERS` synthetic establishments by sector x
  size class.  onderwijsinstellingen: 70 mbo, 40 hbo, 14 wo institutions with synthetic names
  (``mbo-instelling 017``), never real ones.  The frame is written as ``<instrument>_<wave>_frame.csv`` (the
  weighting needs it).
* **Answers** follow the form (``xlsform.form``), column by column in form order: every organisation has a
  latent engagement ``z`` = size-class effect + region (Randstad) or sector effect + noise (:data:`PLANT`);
  priority items are ordinal in ``z``; yes/no items (specifiek aanbod, Wet gelijke kansen) logistic in ``z``;
  ratings 0-5 are ``round(base + 1.2 z + action effect + noise)`` with higher ratings for some actions in the
  largest class (:data:`PLANT` ``rating_boost``); the top three are drawn among actions rated above 0 with
  weights rating x effectiveness; barriers independently, 'geen'/'weet niet' when none.  After each column the
  form's ``relevant`` is applied (``schema.compile_expr``), so skip logic holds by construction.
* **Truth** (over ALL frame organisations, before non-response): the share of each answer of every select_one
  outside the background (e.g. ``prioriteit`` 'zeer_hoog', ``specifiek_aanbod`` 'ja'), the mean of every rating
  among organisations that were asked it (and the number asked), and the share of all organisations naming
  each action in each top three.
* **Non-response** depends on size class (sector for schools) as planted in :data:`RESPONSE` (gemeenten: 40 %
  below 20,000 inhabitants ... 80 % from 100,000), so unweighted means over respondents are biased towards the
  large organisations, which also answer differently: the weighting has something to correct.
* ``plant_bad_value`` rewrites one cell of an export (a value not in the choice list, or an answer where the
  skip logic forbids one) for tests; ``generate_responses(..., bad=...)`` does it and records it in the truth.

All random numbers come from one generator per (seed, instrument, wave), so a call is deterministic."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from monitor_dagster.surveys.form import Form
from monitor_dagster.surveys.schema import META_COLUMNS, compile_expr, exported
from monitor_dagster.surveys.xlsform import form as packaged_form

REGIONS_CSV = Path(__file__).resolve().parent.parent / "reference" / "gemeente_arbeidsmarktregio_2020.csv"
N_EMPLOYERS = 5000
N_SCHOOLS = {"mbo": 70, "hbo": 40, "wo": 14}
GEMEENTE_QUOTA = {"50000_100000": 50, "20000_50000": 170}        # the rest below 20,000 (after the 30 large)

#: planted response rates per size class (sector for schools)
RESPONSE = {
    "gemeenten": {"lt_20000": 0.40, "20000_50000": 0.55, "50000_100000": 0.70, "ge_100000": 0.80},
    "werkgevers": {"2_9": 0.30, "10_49": 0.40, "50_99": 0.50, "ge_100": 0.60},
    "onderwijsinstellingen": {"mbo": 0.60, "hbo": 0.70, "wo": 0.85},
}
#: planted answer patterns: latent engagement by class and region/sector, extra rating for some actions
PLANT: dict[str, dict[str, Any]] = {
    "gemeenten": {"size": {"lt_20000": -0.6, "20000_50000": -0.2, "50000_100000": 0.3, "ge_100000": 0.8},
                  "randstad": 0.3, "rating_boost": {"ge_100000": {"freq_werkgevers": 1.0, "freq_trainingen": 1.0}}},
    "werkgevers": {"size": {"2_9": -0.5, "10_49": -0.1, "50_99": 0.3, "ge_100": 0.7},
                   "sector": {"openbaar_bestuur_onderwijs": 0.4, "zorg": 0.2, "bouw": -0.3},
                   "rating_boost": {"ge_100": {"doorstroom_aanspreekpunt": 1.0, "werving_vacatureteksten": 0.8}}},
    "onderwijsinstellingen": {"size": {"mbo": 0.3, "hbo": 0.1, "wo": -0.2},
                              "rating_boost": {"mbo": {"aansluiting_lob": 1.0, "studiekeuze_lob": 1.0}}},
}
EMPLOYER_SECTORS = {"landbouw_industrie": 0.12, "bouw": 0.10, "handel": 0.22, "vervoer_horeca": 0.14,
                    "zakelijke_dienstverlening": 0.20, "openbaar_bestuur_onderwijs": 0.06, "zorg": 0.10,
                    "overige_diensten": 0.06}
EMPLOYER_SIZES = {"2_9": 0.55, "10_49": 0.30, "50_99": 0.08, "ge_100": 0.07}


def _rng(seed: int, *key: object) -> np.random.Generator:
    digest = hashlib.sha256(repr((seed, *key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _hash_rank(code: str) -> int:
    return int.from_bytes(hashlib.sha256(f"grootteklasse:{code}".encode()).digest()[:8], "little")


# ------------------------------------------------------------------------------------------ frames
def gemeente_frame() -> pl.DataFrame:
    """org_id (GM code), naam, grootteklasse (synthetic, module docstring), regio (arbeidsmarktregio), randstad."""
    from monitor_dagster.synth.regions import LARGE

    ref = pl.read_csv(REGIONS_CSV, separator=";", infer_schema=False)
    codes = ref["gemeente_code"].to_list()
    rest = sorted((c for c in codes if c not in LARGE), key=_hash_rank)
    klass = {c: "ge_100000" for c in LARGE}
    i = 0
    for k, n in GEMEENTE_QUOTA.items():
        for c in rest[i:i + n]:
            klass[c] = k
        i += n
    for c in rest[i:]:
        klass[c] = "lt_20000"
    return ref.select(pl.col("gemeente_code").alias("org_id"), pl.col("gemeente_naam").alias("naam"),
                      pl.col("gemeente_code").replace_strict(klass).alias("grootteklasse"),
                      pl.col("arbeidsmarktregio_code").alias("regio"), "randstad")


def werkgever_frame(seed: int, n: int = N_EMPLOYERS) -> pl.DataFrame:
    """org_id (V00001...), sector, grootteklasse: synthetic establishments."""
    rng = _rng(seed, "frame", "werkgevers")
    sectors = rng.choice(list(EMPLOYER_SECTORS), size=n, p=list(EMPLOYER_SECTORS.values()))
    sizes = rng.choice(list(EMPLOYER_SIZES), size=n, p=list(EMPLOYER_SIZES.values()))
    return pl.DataFrame({"org_id": [f"V{i:05d}" for i in range(1, n + 1)], "sector": sectors.tolist(),
                         "grootteklasse": sizes.tolist()})


def school_frame() -> pl.DataFrame:
    """org_id (MBO017...), naam (``mbo-instelling 017``), sector: synthetic institutions."""
    rows = [(f"{s.upper()}{i:03d}", f"{s}-instelling {i:03d}", s) for s, n in N_SCHOOLS.items()
            for i in range(1, n + 1)]
    return pl.DataFrame(rows, schema=["org_id", "naam", "sector"], orient="row")


def frame_for(instrument: str, seed: int, n_employers: int = N_EMPLOYERS) -> pl.DataFrame:
    if instrument == "gemeenten":
        return gemeente_frame()
    if instrument == "werkgevers":
        return werkgever_frame(seed, n_employers)
    if instrument == "onderwijsinstellingen":
        return school_frame()
    raise ValueError(f"unknown instrument {instrument!r} (gemeenten, werkgevers, onderwijsinstellingen)")


def _class_column(instrument: str) -> str:
    return "sector" if instrument == "onderwijsinstellingen" else "grootteklasse"


# ------------------------------------------------------------------------------------------ answers
def _latent(instrument: str, frame: pl.DataFrame, rng: np.random.Generator) -> np.ndarray:
    plant = PLANT[instrument]
    cls = frame[_class_column(instrument)].to_list()
    z = np.array([plant["size"][c] for c in cls], dtype=float)
    if "randstad" in plant:
        z += plant["randstad"] * (frame["randstad"] == "randstad").to_numpy()
    if "sector" in plant:
        z += np.array([plant["sector"].get(s, 0.0) for s in frame["sector"].to_list()])
    return z + rng.normal(0, 0.7, frame.height)


def _join(tokens: list[str]) -> str | None:
    return " ".join(tokens) if tokens else None


def _top3_sources(choice_filter: str) -> dict[str, str]:
    """choice -> rating question, from the top-three choice filter ``(name = 'x' and ${q} > 0) or ...``."""
    return dict(re.findall(r"name\s*=\s*'([^']+)'\s+and\s+\$\{([^}]+)\}\s*>\s*0", choice_filter))


def _answers(form: Form, frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The answers of every frame organisation (strings, export columns), skip logic applied column by column."""
    rng = _rng(seed, "answers", form.instrument, form.wave)
    n = frame.height
    z = _latent(form.instrument, frame, rng)
    cls = frame[_class_column(form.instrument)].to_list()
    boost = PLANT[form.instrument].get("rating_boost", {})
    out = pl.DataFrame({"__row": np.arange(n)})
    for q in exported(form):
        if q.name in frame.columns:
            values = frame[q.name].to_list()
        elif q.type == "select_one" and q.section == "prioriteit":
            # zeer hoog / tamelijk hoog / tamelijk laag / geen: thresholds on z + item noise
            s = z + rng.normal(0, 0.6, n)
            idx = np.digitize(-s, [-0.9, 0.0, 0.9])
            values = [q.choices[i] for i in idx]
        elif q.type == "select_one" and q.choices and set(q.choices) >= {"ja", "nee"}:
            p = 1 / (1 + np.exp(-(0.2 + 1.5 * z)))
            u = rng.random(n)
            values = ["weet_niet" if u[i] > 0.95 else ("ja" if u[i] < p[i] * 0.95 else "nee") for i in range(n)]
        elif q.type == "select_one" and q.choices and q.choices[0] == "0" and q.choices[-1] == "5":
            base = 1.0 + (_hash_rank(q.name) % 100) / 100.0     # 1.0-2.0, fixed per action
            extra = np.array([boost.get(c, {}).get(q.name, 0.0) for c in cls])
            r = np.clip(np.rint(base + 1.2 * z + extra + rng.normal(0, 1.0, n)), 0, 5).astype(int)
            values = [str(v) for v in r]
        elif q.type == "select_one" and q.choices:
            values = rng.choice(list(q.choices), size=n, p=_first_heavy(len(q.choices))).tolist()
        elif q.type == "select_multiple" and q.section == "top3" and q.choice_filter:
            src = _top3_sources(q.choice_filter)
            eff = {c: 0.5 + (_hash_rank("eff" + c) % 100) / 100.0 for c in src}
            ratings = {c: out[col].cast(pl.Float64, strict=False).fill_null(0).to_numpy() for c, col in src.items()}
            values = []
            for i in range(n):
                cand = [c for c in src if ratings[c][i] > 0]
                if not cand:
                    values.append(None)
                    continue
                k = min(len(cand), int(rng.choice([1, 2, 3], p=[0.1, 0.2, 0.7])))
                w = np.array([ratings[c][i] * eff[c] for c in cand])
                pick = rng.choice(len(cand), size=k, replace=False, p=w / w.sum())
                values.append(_join([cand[j] for j in sorted(pick)]))
        elif q.type == "select_multiple" and q.section == "belemmeringen":
            excl = [c for c in ("geen", "weet_niet") if c in q.choices]
            other = [c for c in q.choices if c not in excl]
            probs = np.array([0.08 + (_hash_rank("bel" + c) % 100) / 400.0 for c in other])
            values = []
            for i in range(n):
                hit = [c for c, p in zip(other, probs) if rng.random() < p * (1.3 if z[i] < 0 else 1.0)]
                values.append(_join(hit) if hit else (rng.choice(excl) if excl else None))
        elif q.type == "select_multiple" and q.choices:
            values = [_join([c for c in q.choices if rng.random() < 0.25]) for _ in range(n)]
        elif q.type == "text":
            fill = 0.10 if q.section == "open" and q.name.endswith("_tekst") else 0.6
            values = [f"synthetisch antwoord {q.name} {i + 1}" if rng.random() < fill else None for i in range(n)]
            if q.required:
                values = [f"synthetisch antwoord {q.name} {i + 1}" for i in range(n)]
        else:
            values = [None] * n
        out = out.with_columns(pl.Series(q.name, values, dtype=pl.String))
        if q.relevant:
            out = out.with_columns(pl.when(compile_expr(q.relevant)).then(pl.col(q.name)).otherwise(None)
                                   .alias(q.name))
    return out.drop("__row")


def _first_heavy(k: int) -> list[float]:
    w = np.array([0.7] + [0.3 / (k - 1)] * (k - 1)) if k > 1 else np.array([1.0])
    return list(w / w.sum())


def truth_of(form: Form, answers: pl.DataFrame) -> dict[str, Any]:
    """Population values over all frame organisations (module docstring)."""
    n = answers.height
    shares, ratings, rated_n, top3 = {}, {}, {}, {}
    for q in exported(form):
        col = answers[q.name]
        if q.type == "select_one" and q.section != "achtergrond" and q.choices:
            if q.choices[0] == "0" and q.choices[-1] == "5":
                vals = col.drop_nulls().cast(pl.Float64)
                rated_n[q.name] = vals.len()
                ratings[q.name] = float(vals.mean()) if vals.len() else None
            else:
                shares[q.name] = {c: float((col == c).sum()) / n for c in q.choices}
        elif q.type == "select_multiple" and q.section == "top3":
            toks = col.fill_null("").str.split(" ")
            top3[q.name] = {c: float(toks.list.contains(c).sum()) / n for c in q.choices}
    return {"organisations": n, "shares": shares, "mean_rating": ratings, "rated_n": rated_n, "top3_share": top3}


# ------------------------------------------------------------------------------------------ export
def _metadata(rng: np.random.Generator, wave: str, n: int) -> dict[str, list[str]]:
    t0 = datetime.fromisoformat(f"{wave}-10-02T08:00:00")
    uuids, sub, start, end = [], [], [], []
    for _ in range(n):
        s = t0 + timedelta(minutes=int(rng.integers(0, 60 * 24 * 40)))
        e = s + timedelta(minutes=int(rng.integers(6, 40)))
        uuids.append(str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)), version=4)))
        start.append(s.isoformat(timespec="milliseconds") + "+02:00")
        end.append(e.isoformat(timespec="milliseconds") + "+02:00")
        sub.append((e - timedelta(hours=2) + timedelta(seconds=int(rng.integers(1, 90)))).isoformat())
    return {"_uuid": uuids, "_submission_time": sub, "start": start, "end": end}


def export_frame(form: Form, answers: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The KoboToolbox column order: start, end, the questions, _uuid, _submission_time."""
    meta = _metadata(rng, form.wave, answers.height)
    cols = [q.name for q in exported(form)]
    return answers.select(
        pl.Series("start", meta["start"]), pl.Series("end", meta["end"]), *cols,
        pl.Series("_uuid", meta["_uuid"]), pl.Series("_submission_time", meta["_submission_time"]))


def write_export(frame: pl.DataFrame, path: Path) -> None:
    """CSV (``;``, UTF-8, as KoboToolbox writes it) or XLSX (one sheet), by the suffix of ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook
        wb = Workbook()
        ws = wb.active
        ws.title = "responses"
        ws.append(frame.columns)
        for row in frame.iter_rows():
            ws.append(list(row))
        wb.save(tmp)
    else:
        frame.write_csv(tmp, separator=";", null_value="")
    tmp.replace(path)


def plant_bad_value(path: str | Path, row: int, question: str, value: str) -> None:
    """Rewrite one cell of an export: data row ``row`` (1-based) of column ``question`` becomes ``value``."""
    from monitor_dagster.surveys.schema import read_export

    path = Path(path)
    frame = read_export(path)
    if question not in frame.columns or not 1 <= row <= frame.height:
        raise ValueError(f"{path.name}: no question {question!r} or row {row} (rows 1..{frame.height})")
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == row - 1).then(pl.lit(value))
                               .otherwise(pl.col(question)).alias(question))
    write_export(frame, path)


def generate_responses(out_dir: str | Path, instrument: str, wave: str = "2023", seed: int = 1,
                       fmt: str = "csv", bad: dict[str, Any] | None = None,
                       form: Form | None = None, n_employers: int = N_EMPLOYERS, stem: str | None = None,
                       truth_dir: str | Path | None = None) -> dict[str, Any]:
    """Write ``<instrument>_<wave>.<fmt>`` (responses), ``<instrument>_<wave>_frame.csv`` and
    ``<instrument>_<wave>_truth.json`` into ``out_dir``; return the truth (with the paths).
    ``bad = {"row": 17, "question": "prioriteit", "value": "misschien"}`` plants one bad cell; ``fmt`` csv or
    xlsx; ``n_employers`` the size of the synthetic WEA frame (smaller in tests); ``stem`` another file stem
    for the export and the truth (a landing zone's ``gemeenten_2023V1``); ``truth_dir`` where the truth goes
    (default ``out_dir``; a landing zone keeps its truth outside, docs/synthetic_data.md)."""
    form = form or packaged_form(instrument, str(wave))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = frame_for(instrument, seed, n_employers)
    answers = _answers(form, frame, seed)
    truth = truth_of(form, answers)
    rng = _rng(seed, "response", instrument, wave)
    cls_col = _class_column(instrument)
    rates = RESPONSE[instrument]
    p = np.array([rates[c] for c in frame[cls_col].to_list()])
    responded = rng.random(frame.height) < p
    resp = answers.filter(pl.Series(responded))
    export = export_frame(form, resp, rng)
    stem = stem or f"{instrument}_{wave}"
    path = out_dir / f"{stem}.{fmt}"
    write_export(export, path)
    frame_path = out_dir / f"{instrument}_{wave}_frame.csv"
    frame.write_csv(frame_path, separator=";")
    if bad:
        plant_bad_value(path, int(bad["row"]), bad["question"], str(bad["value"]))
    by_class = (frame.with_columns(pl.Series("responded", responded))
                .group_by(cls_col).agg(pl.len().alias("frame"), pl.col("responded").sum().alias("respondents"))
                .sort(cls_col))
    truth.update({
        "instrument": instrument, "wave": str(wave), "version": form.version, "seed": seed,
        "respondents": int(responded.sum()), "response_rate_planted": rates, "class_column": cls_col,
        "by_class": {r[cls_col]: {"frame": r["frame"], "respondents": r["respondents"]}
                     for r in by_class.iter_rows(named=True)},
        "plant": PLANT[instrument], "planted_bad": bad,
        "files": {"responses": path.name, "frame": frame_path.name},
    })
    truth_dir = Path(truth_dir) if truth_dir else out_dir
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth_path = truth_dir / f"{stem}_truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    truth["paths"] = {"responses": str(path), "frame": str(frame_path), "truth": str(truth_path)}
    return truth


def generate_all(out_dir: str | Path, wave: str = "2023", seed: int = 1, fmt: str = "csv") -> dict[str, Any]:
    """All three instruments of a wave (what ``monitor synth`` would call)."""
    return {i: generate_responses(out_dir, i, wave, seed, fmt) for i in RESPONSE}
