"""The duration results in the publication (publication/durations.py; issue 17, technisch rapport Monitor gelijke
kansen §7.2.2): small hand-made ``indicators/durations`` tables, no pipeline."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from monitor_dagster.corrections.durations import CURVE_SCHEMA, HAZARD_SCHEMA, combined
from monitor_dagster.publication import durations as PD

NW, GM = "niet-westers", "geen migratieachtergrond"
PAGE = '<main><h2 id="trendbreuken">Trendbreuken</h2></main>'
REPORT = '<main><h2 id="inhoud">Indicatoren</h2></main>'


def _curve(iid, year, measure, herkomst, corr, cause, maand, value, n=1234, suppressed=False, status="definitief"):
    # a suppressed row keeps a (leaked) value here on purpose: the publication must not show it either way
    return {"indicator_id": iid, "year": year, "measure": measure, "herkomst": herkomst, "correctie": corr,
            "oorzaak": cause, "maand": maand, "value": value, "n": None if suppressed else n, "status": status,
            "suppressed": suppressed}


def _hazard(iid, year, measure, cause, corr, hr, lo, hi, suppressed=False, status="definitief"):
    return {"indicator_id": iid, "year": year, "measure": measure, "oorzaak": cause, "correctie": corr,
            "hazard_ratio": hr, "ci_low": lo, "ci_high": hi, "n_basis": None if suppressed else 1234,
            "n_referentie": None if suppressed else 56789, "events_basis": None if suppressed else 321,
            "events_referentie": None if suppressed else 23456, "converged": not suppressed, "status": status,
            "suppressed": suppressed}


def _table(curves: list[dict], hazards: list[dict]) -> pl.DataFrame:
    return combined(pl.DataFrame(curves, schema=CURVE_SCHEMA), pl.DataFrame(hazards, schema=HAZARD_SCHEMA))


@pytest.fixture
def durations() -> pl.DataFrame:
    return _durations()


def _durations() -> pl.DataFrame:
    """O25 in 2020 (older) and 2021 (month 6 suppressed for niet-westers; month 36 suppressed for both) and O31
    in 2021 with three competing causes; hazard ratios for both, one suppressed."""
    c = []
    for year, shift in ((2020, 0.0), (2021, 1.0)):
        for h, base in ((NW, 10.0), (GM, 20.0)):
            for corr, extra in (("geen", 0.0), ("gewogen", 2.5)):
                for m, step in ((1, 0.0), (3, 10.0), (6, 20.0), (12, 30.0), (36, 40.0)):
                    hidden = (year == 2021 and m == 6 and h == NW) or m == 36
                    c.append(_curve("O25", year, "werk", h, corr, "werk", m, base + step + extra + shift + 0.345,
                                    suppressed=hidden))
    for h in (NW, GM):
        for corr in ("geen", "gewogen"):
            for cause, v in (("bijstand", 1.25), ("WW", 4.75), ("anderszins", 7.05)):
                for m in (1, 3, 6, 12):
                    c.append(_curve("O31", 2021, "uit werk", h, corr, cause, m, v * m / 12 + (h == NW), n=23456,
                                    status="voorlopig"))
    hz = [_hazard("O25", 2020, "werk", "werk", "geen", 0.8123, 0.7456, 0.8889),
          _hazard("O25", 2020, "werk", "werk", "model", 0.9051, 0.8302, 0.9871),
          _hazard("O25", 2021, "werk", "werk", "geen", 0.7712, 0.7011, 0.8499),
          _hazard("O25", 2021, "werk", "werk", "model", 0.3333, 0.2222, 0.4444, suppressed=True),
          *[_hazard("O31", 2021, "uit werk", cause, corr, hr, hr - 0.1, hr + 0.1, status="voorlopig")
            for cause, hr in (("bijstand", 1.91), ("WW", 1.42), ("anderszins", 1.17)) for corr in ("geen", "model")]]
    return _table(c, hz)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _specs(html: str) -> list[dict]:
    m = re.search(r'<script type="application/json" id="duur-grafieken">(.*?)</script>', html, re.S)
    assert m, "no chart data on the page"
    return json.loads(m.group(1))


def _visible(html: str) -> str:
    """The page without its scripts (what a table reader sees)."""
    return re.sub(r"<script.*?</script>", "", html, flags=re.S)


def test_chart_has_only_shown_points_and_y_from_zero(durations):
    html = PD.indicator_block(durations, "O25")
    specs = _specs(html)
    assert len(specs) == 1                                   # one cause: one chart, of the latest year
    spec = specs[0]["spec"]
    assert f'id="{specs[0]["id"]}"' in html
    points = spec["datasets"]["punten"]
    # 2021: 5 months x 2 groups x 2 corrections = 20 rows, minus month 6 of niet-westers (2) and month 36 (4)
    assert len(points) == 14
    assert not any(p["maand"] == 36 for p in points)
    assert not any(p["maand"] == 6 and p["herkomst"] == NW for p in points)
    assert {round(p["value"], 3) for p in points if p["herkomst"] == NW and p["correctie"] == "geen correctie"} \
        == {11.345, 21.345, 41.345}
    # the line does not cross the suppressed month: niet-westers has a segment before and one after month 6
    segs = {p["segment"] for p in points if p["herkomst"] == NW and p["correctie"] == "geen correctie"}
    assert len(segs) == 2
    # the gaps are marked (month and groups, no value)
    assert spec["datasets"]["weggelaten"] == [{"maand": 6, "groepen": NW}, {"maand": 36, "groepen": f"{NW}, {GM}"}]
    # every y axis starts at 0; dashes: solid for geen, dashed for gewogen
    ys = [l["encoding"]["y"] for l in spec["layer"] if "y" in l.get("encoding", {}) and "field" in l["encoding"]["y"]]
    assert ys and all(y["scale"]["zero"] is True for y in ys)
    dash = next(l["encoding"]["strokeDash"] for l in spec["layer"] if "strokeDash" in l.get("encoding", {}))
    assert dash["scale"]["range"] == [[1, 0], [6, 4]]
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "vegaEmbed" in html and "http" not in _visible(html).replace("https://vega", "")


def test_table_numbers_in_dutch_format_latest_year(durations):
    html = PD.indicator_block(durations, "O25")
    text = _text(_visible(html))
    assert "Duur tot de gebeurtenis (duuranalyse)" in text
    assert "in 2021" in text and "in 2020" not in text
    row1 = re.search(r'<th scope="row">1</th>.*?</tr>', html, re.S).group(0)
    for s in ("11,3", "13,8", "21,3", "23,8"):            # 11,345 -> 11,3; 13,845 -> 13,8 (half away from zero)
        assert s in row1, s
    row6 = re.search(r'<th scope="row">6</th>.*?</tr>', html, re.S).group(0)
    assert row6.count('aria-label="onderdrukt"') == 2 and "41,3" in row6
    assert "31,3" not in row6 and "33,8" not in row6    # the suppressed niet-westers values
    assert "1.234" in text                                # persons at the start
    # hazard ratios of 2021: geen shown with its interval, model suppressed (its leaked value absent)
    assert "0,77" in text and "0,70 tot 0,85" in text
    assert "0,33" not in text and "0,22" not in text
    assert "0,81" not in text                             # 2020's hazard is for the report
    assert "onder 1" in text and "later" in text and "leeftijdsklasse, geslacht en opleidingsniveau" in text
    assert "gecensureerd" in text and "§7.2.2" in text


def test_suppressed_never_shown(durations):
    html = PD.indicator_block(durations, "O25")
    row36 = re.search(r'<th scope="row">36</th>.*?</tr>', html, re.S).group(0)
    assert row36.count('aria-label="onderdrukt"') == 4 and not re.search(r"\d,\d", row36)
    points = _specs(html)[0]["spec"]["datasets"]["punten"]
    assert all(p["maand"] != 36 for p in points)
    # an indicator whose curves are all suppressed: no block
    all_hidden = durations.with_columns(pl.lit(True).alias("suppressed"))
    assert PD.indicator_block(all_hidden, "O25") == ""


def test_competing_causes_each_appear(durations):
    html = PD.indicator_block(durations, "O31")
    specs = _specs(html)
    assert [s["spec"]["title"]["text"] for s in specs] == ["Oorzaak: bijstand", "Oorzaak: WW", "Oorzaak: anderszins"]
    text = _text(_visible(html))
    for cause in ("bijstand", "WW", "anderszins"):
        assert f"met oorzaak {cause} per maand in 2021" in text
    assert "voorlopig" in text and "23.456" in text
    assert "1,91" in text and "1,42" in text and "1,17" in text and "1,81 tot 2,01" in text
    assert "tellen de oorzaken op tot hooguit 100%" in text
    # O31's curves at month 12: bijstand 1,25 + 1 for niet-westers
    row12 = re.search(r'<th scope="row">12</th>.*?</tr>', html, re.S).group(0)
    assert "2,3" in row12 and "1,3" in row12             # 2,25 -> 2,3; 1,25 -> 1,3


def test_report_lists_hazard_ratios_over_the_years(durations):
    html = PD.report_section(durations, ids=["O25"])
    text = _text(html)
    assert "Duurmodellen" in text and 'id="duurmodellen"' in html
    for s in ("complementaire log-log", "1-3, 4-6, 7-12, 13-24 en 25+", "geclustered op personen",
              "1, 3, 6, 12, 18, 24 en 36", "minstens 10 personen", "propensity-gewichten"):
        assert s in text, s
    o25 = re.findall(r"<tr>\s*<td><a href=\"indicator/O25\.html\">O25</a>.*?</tr>", html, re.S)
    assert len(o25) == 2                                  # 2020 and 2021
    assert "0,81" in o25[0] and "0,75 tot 0,89" in o25[0] and "0,91" in o25[0]
    assert "0,77" in o25[1] and 'aria-label="onderdrukt"' in o25[1] and "0,33" not in html
    assert "1.234 / 56.789" in o25[0] and "321 / 23.456" in o25[0]
    # O31 has no page here: no link, every cause listed
    assert 'href="indicator/O31.html"' not in html
    for cause in ("bijstand", "WW", "anderszins"):
        assert re.search(rf"<td>{cause}</td>", html), cause
    # a year with both ratios suppressed is left out
    only_hidden = durations.filter(~((pl.col("kind") == "hazard") & (pl.col("indicator_id") == "O31")))
    only_hidden = only_hidden.with_columns(
        pl.when(pl.col("kind") == "hazard").then(True).otherwise(pl.col("suppressed")).alias("suppressed"))
    assert "geen gepubliceerde hazard ratio" in _text(PD.report_section(only_hidden))


def test_escaping_of_labels(durations, monkeypatch):
    bad = "<b>x</b>&"
    t = durations.with_columns(pl.when(pl.col("oorzaak") == "WW").then(pl.lit(bad)).otherwise(pl.col("oorzaak"))
                               .alias("oorzaak"))
    real = PD.D.meta
    monkeypatch.setattr(PD.D, "meta", lambda i: {**real(i), "title": "<script>alert(1)</script>"})
    html = PD.indicator_block(t, "O31") + PD.report_section(t)
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;&amp;" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    data = re.search(r'id="duur-grafieken">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data and ">" not in data
    assert any(s["spec"]["title"]["text"] == f"Oorzaak: {bad}" for s in json.loads(data))


def test_no_table_nothing(tmp_path, durations):
    assert PD.load(None) is None
    assert PD.load(tmp_path) is None                      # a warehouse without the table
    assert PD.add_to_indicator_page(PAGE, None, "O25") == PAGE
    assert PD.add_to_report(REPORT, None) == REPORT
    assert PD.add_to_indicator_page(PAGE, durations.clear(), "O25") == PAGE
    assert PD.add_to_report(REPORT, durations.clear()) == REPORT
    assert PD.add_to_indicator_page(PAGE, durations, "O04") == PAGE       # no duration for that indicator
    out = PD.add_to_indicator_page(PAGE, durations, "O25")
    assert out.index('id="duuranalyse"') < out.index('id="trendbreuken"')
    rep = PD.add_to_report(REPORT, durations, ["O25"])
    assert rep.index('id="duurmodellen"') < rep.index('id="inhoud"')


def test_load_from_warehouse(tmp_path, durations):
    from monitor_dagster.warehouse import Warehouse

    Warehouse(tmp_path, layer="indicators").write("durations", "all", durations, {"rows": durations.height})
    got = PD.load(tmp_path)
    assert got is not None and got.height == durations.height
    assert "duuranalyse" in PD.add_to_indicator_page(PAGE, got, "O25")
