"""How near the synthetic landing zone is to the published CBS StatLine figures (docs/synthetic_data.md).

Computed from the written files (EBBNW, SPOLISBUS) with the monitor's definitions (docs/indicators_ebb.md),
i.e. as the pipeline would compute them, and compared with StatLine.  Used by the calibration test and by
``make bench``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from monitor_dagster.synth import params as P

STATLINE_PARTICIPATION = {  # StatLine 82809NED, netto arbeidsparticipatie 15-75 (%)
    2014: {"totaal": 64.9, "Nederland": 66.5, "westers": 62.6, "niet-westers": 55.2, "Marokko": 50.8, "Turkije": 53.0},
    2018: {"totaal": 67.8, "Nederland": 69.1, "westers": 66.5, "niet-westers": 60.9, "Marokko": 57.4, "Turkije": 61.2},
}
STATLINE_UNEMPLOYMENT_2015 = {"Nederland": 5.6, "westers": 8.6, "niet-westers": 15.2, "Marokko": 18.2, "Turkije": 14.2,
                              "Suriname": 14.5, "Antillen en Aruba": 17.0}
CODE_GROUP = {"00": "Nederland", "01": "Marokko", "02": "Turkije", "03": "Suriname", "04": "Antillen en Aruba"}
NONWESTERN_CODES = [f"{i:02d}" for i in range(1, 13)]
WESTERN_CODES = ["13", "14", "15", "16"]


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if path.suffix == ".csv":
        return pl.read_csv(path, separator=";", decimal_comma=True, infer_schema_length=10_000,
                           schema_overrides={"EbbAflHerkomstGBA2d": pl.Utf8, "EbbAflZoek4Wk": pl.Utf8,
                                             "EbbAflBeschikb": pl.Utf8, "SCONTRACTSOORT": pl.Utf8})
    import pyreadstat
    return pyreadstat.read_sav(str(path), output_format="polars")[0]


def ebb_figures(ebb: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Weighted netto participation and unemployment (%), 15-75, per group (EBB definitions, report 4.1)."""
    e = ebb.filter(pl.col("EbbAflLft").is_between(15, 74)).with_columns(
        (pl.col("EbbAflUrenWerk") >= 1).alias("emp"),
        ((pl.col("EbbAflUrenWerk") < 1) & (pl.col("EbbAflZoek4Wk") == "1") & (pl.col("EbbAflBeschikb") == "1")).alias("unemp"))
    groups = {"totaal": pl.lit(True), "Nederland": pl.col("EbbAflHerkomstGBA2d") == "00",
              "westers": pl.col("EbbAflHerkomstGBA2d").is_in(WESTERN_CODES),
              "niet-westers": pl.col("EbbAflHerkomstGBA2d").is_in(NONWESTERN_CODES)}
    groups |= {name: pl.col("EbbAflHerkomstGBA2d") == code for code, name in CODE_GROUP.items() if code != "00"}
    out: dict[str, dict[str, float]] = {}
    w = pl.col("EbbGewJaarGewichtA")
    for name, cond in groups.items():
        g = e.filter(cond)
        if g.height == 0:
            continue
        r = g.select(((w * pl.col("emp")).sum() / w.sum()).alias("p"),
                     ((w * pl.col("unemp")).sum() / (w * (pl.col("emp") | pl.col("unemp"))).sum()).alias("u"),
                     pl.len().alias("n")).row(0)
        out[name] = {"participation": 100 * r[0], "unemployment": 100 * r[1], "n": r[2]}
    return out


def flex_share(spolis: pl.DataFrame, gba: pl.DataFrame) -> dict[str, float]:
    """Share of employees whose main job (most basic hours) has a temporary contract, native vs non-Western."""
    s = spolis.filter(pl.col("RINPERSOONS") == "R").with_columns(pl.col("SCONTRACTSOORT").str.to_uppercase())
    main = (s.group_by("RINPERSOON", "IKVID").agg(pl.col("SBASISUREN").sum(), pl.col("SCONTRACTSOORT").last())
            .sort("SBASISUREN", descending=True).group_by("RINPERSOON").first())
    codes = pl.read_csv(Path(__file__).parents[1] / "reference" / "countries.csv", separator=";", infer_schema=False)
    nw_codes = codes.filter(pl.col("landtype") == "2")["code"].to_list()
    j = main.join(gba.select("RINPERSOON", "GBAGENERATIE", "GBAHERKOMSTGROEPERING"), on="RINPERSOON")
    out = {}
    for name, cond in (("Nederland", pl.col("GBAGENERATIE") == "0"),
                       ("niet-westers", (pl.col("GBAGENERATIE") != "0") & pl.col("GBAHERKOMSTGROEPERING").is_in(nw_codes))):
        g = j.filter(cond)
        out[name] = 100 * float((g["SCONTRACTSOORT"] == "B").mean()) if g.height else float("nan")
    return out


def report(landing: Path, res) -> dict:
    """Figures per year present in the landing zone, next to StatLine's."""
    files = {(f.file_id, f.year, f.version): landing / f.path for f in res.files}
    years = sorted({y for (fid, y, _) in files if fid == "EBBNW"})
    out: dict = {"ebb": {}, "statline_participation": STATLINE_PARTICIPATION,
                 "statline_unemployment_total": P.UNEMPLOYMENT_TOTAL, "statline_unemployment_2015": STATLINE_UNEMPLOYMENT_2015}
    for y in years:
        out["ebb"][y] = ebb_figures(_read(files[("EBBNW", y, 1)]))
    if 2017 in {y for (fid, y, _) in files if fid == "SPOLISBUS"}:
        sv = max(v for (fid, y, v) in files if fid == "SPOLISBUS" and y == 2017)
        gv = max(v for (fid, y, v) in files if fid == "GBAPERSOONTAB" and y == 2017)
        out["flex_2017"] = flex_share(_read(files[("SPOLISBUS", 2017, sv)]), _read(files[("GBAPERSOONTAB", 2017, gv)]))
    return out
