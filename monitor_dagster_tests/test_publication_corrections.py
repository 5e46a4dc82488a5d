"""The corrected figures in the publication (publication/corrections.py; issue 17, technisch rapport Monitor gelijke
kansen §7.2.2 and §5.3): small hand-made gated tables, no pipeline."""

from __future__ import annotations

import re

import polars as pl
import pytest

from monitor_dagster.indicators.table import COLUMNS, CORRECTIE, DIMENSIONS, TOTAAL
from monitor_dagster.publication import corrections as PC

NW, GEEN_MIG = "niet-westers", "geen migratieachtergrond"


def _row(iid, year, herkomst, correctie, value, unit="%", n=200, suppressed=False, reason=None, measure=None,
         status="definitief", **dims):
    r = {"indicator_id": iid, "year": year, "herkomst": herkomst,
         **{d: dims.get(d, TOTAAL) for d in DIMENSIONS if d != "herkomst"},
         CORRECTIE: correctie, "measure": measure or "vast contract", "value": None if suppressed else value,
         "unit": unit, "n": None if suppressed else n, "n_weighted": None if suppressed else float(n),
         "status": status, "suppressed": suppressed, "trend_break": None, "vintages": "X", "suppression_reason": reason}
    return r


def _frame(rows):
    return pl.DataFrame(rows, schema_overrides={"year": pl.Int32, "n": pl.Int64, "value": pl.Float64,
                                                "n_weighted": pl.Float64, "trend_break": pl.String,
                                                "suppression_reason": pl.String}).select(*COLUMNS, "suppression_reason")


@pytest.fixture
def gated():
    """O04 in 2020 and 2021 (2021 weighted niet-westers suppressed with its twin) and O39 (months) in 2021."""
    rows = [
        _row("O04", 2020, NW, "geen", 69.16), _row("O04", 2020, GEEN_MIG, "geen", 81.75),
        _row("O04", 2020, NW, "gewogen", 68.46), _row("O04", 2020, GEEN_MIG, "gewogen", 78.29),
        _row("O04", 2020, NW, "model", -9.03, unit="procentpunt", n=1665),
        _row("O04", 2021, NW, "geen", None, suppressed=True, reason="primary_n"),
        _row("O04", 2021, GEEN_MIG, "geen", 81.13),
        _row("O04", 2021, NW, "gewogen", None, suppressed=True, reason="uncorrected_twin"),
        _row("O04", 2021, GEEN_MIG, "gewogen", 79.5),
        _row("O04", 2021, NW, "model", -8.58, unit="procentpunt", n=1688),
        # a breakdown row: not on the page (the block shows totals)
        _row("O04", 2021, GEEN_MIG, "gewogen", 55.55, geslacht="vrouw"),
        _row("O39", 2021, NW, "geen", 2.65, unit="maanden", measure="na WW", status="voorlopig"),
        _row("O39", 2021, GEEN_MIG, "geen", 3.0, unit="maanden", measure="na WW", status="voorlopig"),
        _row("O39", 2021, NW, "gewogen", 2.75, unit="maanden", measure="na WW", status="voorlopig"),
        _row("O39", 2021, GEEN_MIG, "gewogen", 3.26, unit="maanden", measure="na WW", status="voorlopig"),
        _row("O39", 2021, NW, "model", 0.37, unit="maanden", measure="na WW", status="voorlopig"),
        # a suppressed model row: never shown
        _row("O05", 2021, NW, "geen", 5.0, measure="zzp"), _row("O05", 2021, GEEN_MIG, "geen", 8.3, measure="zzp"),
        _row("O05", 2021, NW, "model", None, unit="procentpunt", measure="zzp", suppressed=True, reason="secondary"),
    ]
    full = _frame(rows)
    return full.filter(pl.col(CORRECTIE) == "geen"), full.filter(pl.col(CORRECTIE) != "geen")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_indicator_block_numbers_suppression_and_caveat(gated):
    table, corr = gated
    html = PC.indicator_block(table, corr, "O04")
    assert "Gecorrigeerd voor achtergrondkenmerken" in html
    text = _text(html)
    # 2021 first: uncorrected niet-westers suppressed, so no gap; the weighted one too; the model gap is shown
    assert text.index("2021") < text.index("2020")
    row21 = re.search(r"<th scope=\"row\">2021.*?</tr>", html, re.S).group(0)
    assert row21.count('aria-label="onderdrukt"') == 2
    assert "81,1" in row21 and "79,5" in row21 and "−8,6" in row21
    assert "–" in row21                                  # the gaps of a suppressed cell
    assert "onderdrukt (onthullingscontrole: te weinig personen" in row21   # one text for every rule
    assert "niet gepubliceerd" in row21                  # the twin's reason
    # 2020: values, gaps in Dutch format with the minus sign, model gap in procentpunt
    row20 = re.search(r"<th scope=\"row\">2020.*?</tr>", html, re.S).group(0)
    for s in ("69,2", "81,8", "−12,6", "68,5", "78,3", "−9,8", "−9,0"):
        assert s in row20, s
    assert "procentpunt" in html
    assert "55,5" not in text and "55,6" not in text      # a breakdown row is not in the totals block
    assert "geen bewijs van discriminatie" in html and "§5.3" in html
    assert "§7.2.2" in html


def test_indicator_block_units_status_and_absent(gated):
    table, corr = gated
    html = PC.indicator_block(table, corr, "O39")
    assert "maanden" in html and "voorlopig" in html
    assert "+0,4" in html and "−0,4" in html and "−0,5" in html      # model gap signed, gaps in months
    # no corrected rows: no block; no corrections at all: nothing
    assert PC.indicator_block(table, corr, "O12") == ""
    assert PC.indicator_block(table, None, "O04") == ""
    page = '<main><h2 id="trendbreuken">Trendbreuken</h2></main>'
    assert PC.add_to_indicator_page(page, table, corr.clear(), "O04") == page
    out = PC.add_to_indicator_page(page, table, corr, "O04")
    assert out.index('id="gecorrigeerd"') < out.index('id="trendbreuken"')


def test_headline_raw_vs_model_and_suppressed_model(gated):
    table, corr = gated
    html = PC.headline(table, corr)
    text = _text(html)
    assert "Resterend verschil (ethnic penalty) in 2021" in text
    assert "geen bewijs van discriminatie" in text
    o04 = re.search(r'indicator/O04\.html.*?</tr>', html, re.S).group(0)
    assert "−8,6" in o04 and 'aria-label="onderdrukt"' not in o04.split("</th>")[0]
    o05 = re.search(r'indicator/O05\.html.*?</tr>', html, re.S).group(0)
    assert "−3,3" in o05                                 # raw gap 5,0 − 8,3
    assert 'aria-label="onderdrukt"' in o05             # the suppressed model cell, no number
    index = '<h2 id="indicatoren">Alle</h2>'
    assert PC.add_to_index(index, table, corr).index("resterend-verschil") < PC.add_to_index(index, table, corr).index(
        'id="indicatoren"')


def test_escaping_of_labels(gated, monkeypatch):
    table, corr = gated
    real = PC.D.meta
    monkeypatch.setattr(PC.D, "meta", lambda i: {**real(i), "title": "<script>x</script>"})
    html = PC.indicator_block(table, corr, "O04")
    assert "<script>" not in html and "&lt;script&gt;" in html


def _weights():
    """A small weights table: two years, 2 x 2 x 2 covariate cells per group (one cell of 2 persons; no level
    of a characteristic under 10 persons in a group)."""
    from monitor_dagster.corrections.propensity import fit_weights

    rows = []
    for year in (2020, 2021):
        for group, base in (("basis", 30), ("referentie", 120)):
            for age in ("20-26", "35-44"):
                for sex in ("man", "vrouw"):
                    for edu in ("laag", "hoog"):
                        n = base + (15 if (group == "basis") == (edu == "laag") else 0) + (10 if age == "20-26" else 0)
                        if year == 2021 and group == "basis" and age == "20-26" and edu == "hoog":
                            n = 2
                        rows.append({"year": year, "group": group, "covariaten": f"{age}|{sex}|{edu}",
                                     "leeftijdsklasse": age, "geslacht": sex, "opleidingsniveau": edu, "n": n})
    cells = pl.DataFrame(rows, schema_overrides={"year": pl.Int32, "n": pl.Int64})
    return cells, fit_weights(cells).weights


def test_report_section_balance_model_and_results(gated):
    from monitor_dagster.corrections.propensity import balance

    table, corr = gated
    cells, weights = _weights()
    html = PC.report_section(table, corr, None, weights=weights)
    text = _text(html)
    assert "Correctie voor achtergrondkenmerken" in text
    for s in ("logit", "gemiddeld marginaal effect", "OLS", "ouders", "huishouden", "4a", "4b",
              "hele periode", "geen bewijs van discriminatie"):
        assert s in text, s
    # the weighting model: years, convergence, chi2, the number of parameters; not its coefficients, which with
    # the group sizes give back the levels under 10 persons that the balance table hides (an audit, December 2026)
    assert "2020–2021" in text and "χ²" in text and "coëfficiënten van het weegmodel worden niet gepubliceerd" in text
    assert "Coëfficiënten van het weegmodel" not in text and "intercept" not in html
    assert "coefficients" not in PC.propensity_context(weights)
    # the balance table of 2021 (latest first) holds the shares of the balance() table in Dutch format
    b = balance(cells, weights).filter((pl.col("year") == 2020) & (pl.col("kenmerk") == "geslacht")
                                       & (pl.col("niveau") == "man")).row(0, named=True)
    y2020 = html[html.index("<summary>2020"):]
    y2020 = y2020[:y2020.index("</table>")]
    man = re.search(r"<td>man</td>.*?</tr>", y2020, re.S).group(0)
    for v in (b["share_basis"], b["share_referentie"], b["share_basis_gewogen"], b["share_gewogen"]):
        assert f"{100 * v:.1f}".replace(".", ",") in man
    assert html.index("<summary>2021") < html.index("<summary>2020")
    # no level is small here: every row has its numbers; the per-cell counts are never printed
    assert "onderdrukt: een niveau" not in html
    assert "persoonsjaren" in text
    for n in sorted(set(cells["n"].to_list())):
        assert f">{n}<" not in html, n
    # the model results: only published model rows; the raw gap from the table; no se without a warehouse
    res = html[html.index('id="correctie-modellen"'):]
    assert "O04" in res and "O39" in res and "O05" not in res
    o39 = re.search(r'indicator/O39\.html.*?</tr>', res, re.S).group(0)
    assert "−0,4" in o39 and "+0,4" in o39
    o04 = re.search(r'indicator/O04\.html.*?</tr>', res, re.S).group(0)
    assert "−8,6" in o04 and "–" in o04                  # its raw gap rests on a suppressed cell


def test_report_hides_small_levels():
    cells, weights = _weights()
    # the basisgroep's women of 2021: 4 cells of 2 persons, 8 < 10
    small = weights.with_columns(pl.when((pl.col("year") == 2021) & (pl.col("group") == "basis")
                                         & (pl.col("geslacht") == "vrouw")).then(2).otherwise(pl.col("n")).alias("n"))
    years, drift = PC.balance_context(small)
    y2021 = next(y for y in years if y["year"] == 2021)
    sexes = [r for r in y2021["rows"] if r["kenmerk"] == "geslacht"]
    assert sexes and all(r["hidden"] and r["values"] == [] for r in sexes)     # both levels: they add to 100%
    assert not any(r["hidden"] for r in y2021["rows"] if r["kenmerk"] != "geslacht")
    y2020 = next(y for y in years if y["year"] == 2020)
    assert not any(r["hidden"] for r in y2020["rows"])
    html = PC.report_section(*_small_gated(), None, weights=small)
    assert 'title="onderdrukt: een niveau met minder dan 10 personen in een groep"' in html


def _small_gated():
    rows = [_row("O04", 2021, NW, "geen", 70.0), _row("O04", 2021, GEEN_MIG, "geen", 80.0),
            _row("O04", 2021, NW, "model", -8.0, unit="procentpunt")]
    full = _frame(rows)
    return full.filter(pl.col(CORRECTIE) == "geen"), full.filter(pl.col(CORRECTIE) != "geen")


def test_no_weights_says_so():
    table, corr = _small_gated()
    html = PC.report_section(table, corr, None)
    assert "geen tabel met gewichten" in html and "−8,0" in html and "−10,0" in html
