"""Hand-labelling validation of the search strategy (technisch rapport Monitor gelijke kansen, hfd. 6, stap b:
"Hiervoor moet een aantal vacatures handmatig worden bekeken"; the report advises text analysts of a research
bureau, option c).

1. ``draw_sample``: per category a stratified random sample: ``match`` (the strategy's matches), ``bijna``
   (non-matches that a broad net of words finds, or that an exclusion vetoed: where misses hide) and ``rest``
   (all other non-matches), each with its population size N_h and sample size n_h.  Non-matches are sampled at a
   much lower rate than matches, so the weights N_h / n_h matter.
2. ``export_sample`` writes it for the analysts (CSV, UTF-8, ``;``) with an empty ``label`` column and the
   explanation; ``read_labels`` reads the filled file back (labels ``ja`` / ``nee``; unknown labels, ids not in
   the sample, empty labels are refused naming file, row and rule).  ``label_from_truth`` is the stand-in for
   the analysts on the synthetic corpus.
3. ``estimate``: per category precision (share ja among sampled matches) and recall (estimated true positives /
   estimated true total over the whole corpus, the strata weighted by N_h / n_h), the corrected count
   ``matches x precision / recall`` (= sum over strata of N_h x p_h), and their 95 % intervals.

Intervals.  Proportions: **Wilson** score intervals, not Clopper-Pearson: Clopper-Pearson is exact but
conservative (coverage above 95 %, wider), Wilson keeps close to nominal coverage for small n and for p near 0
or 1 (Brown, Cai & DasGupta 2001), which is exactly the miss rate among non-matches (often 0 of 300), and is
closed form.  Corrected count: **MOVER** (method of variance estimates recovery, Zou & Donner 2008), the delta
method's sum of variances but recovered from each stratum's asymmetric Wilson limits, so a stratum with 0 of n
misses still widens the upper limit (a plain delta method would give it zero variance).  No finite-population
correction (conservative when a stratum is sampled whole).  Recall: bounded by the extreme combinations of the
true-positive and miss limits (conservative)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from monitor_dagster.vacancies.match import normalise_expr

LABELS = ("ja", "nee")
Z95 = 1.959963984540054
#: the broad net for the ``bijna`` stratum: words of the domain a vacancy can carry without the strategy firing
BROAD_TERMS = ["statushouder", "vluchteling", "nieuwkomer", "inburger", "verblijfsvergunning", "asiel",
               "afstand tot de arbeidsmarkt", "werkervaring", "stage", "participatie", "leerwerk", "re-integratie",
               "reintegratie", "doelgroep", "banenafspraak", "kort in nederland", "taal"]
SAMPLE_COLUMNS = ["vacature_id", "categorie", "stratum", "N_stratum", "n_stratum", "gewicht", "matched",
                  "explanation", "strategy_version", "titel", "tekst", "label"]


class LabelFileError(ValueError):
    """A filled label file that cannot be used."""


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials ((0, 1) when n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def assign_strata(vacancies: pl.DataFrame, matches: pl.DataFrame, broad_terms: list[str] | None = None) -> pl.DataFrame:
    """The long match frame with the vacancy's titel and tekst and its ``stratum`` per category: ``match``,
    ``bijna`` (not matched, but a word of the broad net occurs or an exclusion vetoed) or ``rest``."""
    broad = [normalise_one(t) for t in (broad_terms or BROAD_TERMS)]
    texts = vacancies.select("vacature_id", "titel", "tekst",
                             normalise_expr(pl.concat_str([pl.col("titel").fill_null(""), pl.lit(" . "),
                                                           pl.col("tekst").fill_null("")]))
                             .str.contains_any(broad).alias("_broad"))
    return matches.join(texts, on="vacature_id", how="left").with_columns(
        stratum=pl.when(pl.col("matched")).then(pl.lit("match"))
        .when(pl.col("_broad") | pl.col("explanation").is_not_null()).then(pl.lit("bijna"))
        .otherwise(pl.lit("rest"))).drop("_broad")


def draw_sample(vacancies: pl.DataFrame | None, matches: pl.DataFrame | None, n_match: int = 100,
                n_bijna: int = 100, n_rest: int = 200, seed: int = 1, broad_terms: list[str] | None = None,
                strata: pl.DataFrame | None = None) -> pl.DataFrame:
    """The stratified sample per category (columns SAMPLE_COLUMNS, ``label`` empty).  ``vacancies``: vacature_id,
    titel, tekst; ``matches``: match.match_frame's long output (or ``strata`` from assign_strata, to draw several
    samples of one corpus).  Simple random sampling without replacement within each stratum (numpy, seeded by
    seed, category and stratum); a stratum smaller than its sample size is taken whole."""
    m = strata if strata is not None else assign_strata(vacancies, matches, broad_terms)
    sizes = {"match": n_match, "bijna": n_bijna, "rest": n_rest}
    parts = []
    for (cat, stratum), grp in m.group_by(["categorie", "stratum"], maintain_order=True):
        grp = grp.sort("vacature_id")
        n = min(sizes[stratum], grp.height)
        if n < grp.height:
            rng = np.random.default_rng([seed, hash_text(cat), hash_text(stratum)])
            grp_s = grp[np.sort(rng.choice(grp.height, n, replace=False))]
        else:
            grp_s = grp
        parts.append(grp_s.with_columns(N_stratum=pl.lit(grp.height, pl.Int64), n_stratum=pl.lit(n, pl.Int64)))
    out = pl.concat(parts).with_columns(gewicht=pl.col("N_stratum") / pl.col("n_stratum"),
                                        label=pl.lit(None, pl.String))
    return out.select(SAMPLE_COLUMNS).sort("categorie", "stratum", "vacature_id")


def hash_text(s: str) -> int:
    """A small stable hash (Python's hash() is salted per process)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(s)) % 100_003


def normalise_one(text: str) -> str:
    from monitor_dagster.vacancies.strategy import normalise
    return normalise(text)


def export_sample(sample: pl.DataFrame, path: Path | str) -> Path:
    """The file the analysts fill: one row per (vacancy, category), ``label`` empty (ja / nee)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sample.with_columns(pl.col("label").fill_null("")).write_csv(path, separator=";")
    return path


def read_labels(path: Path | str, sample: pl.DataFrame) -> pl.DataFrame:
    """The filled file joined to the sample; refuses unknown labels, rows not in the sample, empty labels and a
    sample row that is missing, each naming the file, the row (data row 1 = the first under the header) and
    the rule."""
    path = Path(path)
    try:
        df = pl.read_csv(path, separator=";", infer_schema=False)
    except Exception as exc:  # noqa: BLE001
        raise LabelFileError(f"{path}: cannot read the label file: {exc}") from None
    errors = []
    for col in ("vacature_id", "categorie", "label"):
        if col not in df.columns:
            errors.append(f"{path}: column {col}: required column missing")
    if errors:
        raise LabelFileError("\n".join(errors))
    df = df.with_row_index("_row", offset=1).with_columns(
        pl.col("label").fill_null("").str.strip_chars().str.to_lowercase())
    keys = sample.select("vacature_id", "categorie").with_columns(_in=pl.lit(True))
    j = df.join(keys, on=["vacature_id", "categorie"], how="left")
    for row, vid, cat, lab, inside in j.select("_row", "vacature_id", "categorie", "label", "_in").iter_rows():
        if not inside:
            errors.append(f"{path}: row {row}: vacature_id {vid!r} with categorie {cat!r} is not in the sample")
        elif lab == "":
            errors.append(f"{path}: row {row}: column label: empty (label every row: {' or '.join(LABELS)})")
        elif lab not in LABELS:
            errors.append(f"{path}: row {row}: column label: unknown label {lab!r} (allowed: {', '.join(LABELS)})")
    dup = df.filter(pl.struct("vacature_id", "categorie").is_duplicated())
    for row, vid, cat in dup.select("_row", "vacature_id", "categorie").iter_rows():
        errors.append(f"{path}: row {row}: vacature_id {vid!r} with categorie {cat!r} labelled twice")
    missing = keys.join(df.select("vacature_id", "categorie"), on=["vacature_id", "categorie"], how="anti")
    for vid, cat in missing.select("vacature_id", "categorie").head(10).iter_rows():
        errors.append(f"{path}: sample row vacature_id {vid!r} categorie {cat!r} is missing from the file")
    if errors:
        raise LabelFileError(f"{len(errors)} problem(s) in the label file:\n  " + "\n  ".join(errors[:50]))
    return sample.drop("label").join(df.select("vacature_id", "categorie", "label"),
                                     on=["vacature_id", "categorie"], how="left")


def label_from_truth(sample: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Stand-in for the analysts: ``label`` = ja when the synthetic truth says the vacancy is in the category."""
    flags = [c for c in truth.columns if c.startswith("is_")]
    long = truth.select("vacature_id", *flags).unpivot(index="vacature_id", on=flags,
                         variable_name="categorie", value_name="_t").with_columns(
        pl.col("categorie").str.strip_prefix("is_"))
    out = sample.drop("label").join(long, on=["vacature_id", "categorie"], how="left")
    if out["_t"].null_count():
        raise LabelFileError(f"{out['_t'].null_count()} sample rows have no truth (another corpus?)")
    return out.with_columns(label=pl.when(pl.col("_t")).then(pl.lit("ja")).otherwise(pl.lit("nee"))).drop("_t")


def estimate(labelled: pl.DataFrame, z: float = Z95) -> pl.DataFrame:
    """Precision, recall and the corrected count per category with 95 % intervals (module docstring)."""
    rows = []
    for cat in labelled["categorie"].unique(maintain_order=True).to_list():
        d = labelled.filter(pl.col("categorie") == cat)
        strata = (d.group_by("stratum").agg(N=pl.col("N_stratum").first(), n=pl.len(),
                                            k=(pl.col("label") == "ja").sum()).sort("stratum"))
        est = {s: (N, n, k, *wilson(k, n, z)) for s, N, n, k in strata.iter_rows()}
        M, nm, km, plo, phi = est.get("match", (0, 0, 0, 0.0, 0.0))
        prec = km / nm if nm else float("nan")
        tp = M * prec if nm else 0.0
        tp_lo, tp_hi = M * plo, M * phi
        fn, fn_dlo2, fn_dhi2, n_non, k_non = 0.0, 0.0, 0.0, 0, 0
        for s in ("bijna", "rest"):
            if s in est:
                N, n, k, lo, hi = est[s]
                p = k / n
                fn += N * p
                fn_dlo2 += (N * (p - lo)) ** 2
                fn_dhi2 += (N * (hi - p)) ** 2
                n_non += n
                k_non += k
        fn_lo, fn_hi = fn - math.sqrt(fn_dlo2), fn + math.sqrt(fn_dhi2)
        corrected = tp + fn
        lo = corrected - math.sqrt((tp - tp_lo) ** 2 + fn_dlo2)
        hi = corrected + math.sqrt((tp_hi - tp) ** 2 + fn_dhi2)
        recall = tp / corrected if corrected > 0 else float("nan")
        r_lo = tp_lo / (tp_lo + fn_hi) if tp_lo + fn_hi > 0 else 0.0
        r_hi = tp_hi / (tp_hi + max(fn_lo, 0.0)) if tp_hi > 0 else 1.0
        rows.append({"categorie": cat, "matches": int(M), "n_match": int(nm), "ja_match": int(km),
                     "n_non_match": n_non, "ja_non_match": k_non,
                     "precision": prec, "precision_lo": plo, "precision_hi": phi,
                     "recall": recall, "recall_lo": r_lo, "recall_hi": min(1.0, r_hi),
                     "corrected": corrected, "corrected_lo": max(lo, float(km)), "corrected_hi": hi,
                     "factor": corrected / M if M else float("nan"),
                     "strategy_version": int(d["strategy_version"][0]),
                     "method": "Wilson per stratum; corrected count MOVER over strata (95 %)"})
    return pl.DataFrame(rows)
