"""The input indicators of the organisation surveys (family ``inputs_surveys``: S-g, S-w, S-o 1-5; issue 19).

Not an engine family: the survey figures are not person cells.  Per wave (a year partition, two-yearly,
technisch rapport Monitor gelijke kansen, §7.1.1) and per instrument whose export and frame are in the
warehouse, :func:`surveys.indicators.compute_wave` weights the responses to the frame (samplics raking,
surveys/weights.py), computes the indicators with their margin of error and response rate and protects them
with the organisation rules (>= 5 responding organisations, no dominance, no recoverable class;
surveys/disclosure.py).  The rows go to ``indicators/indicator_table`` like a family's, with ``moe``,
``response_rate`` and ``n_choice`` kept for the publication.  Size class is published per instrument in the
detail only when the table gets it as a dimension: for now the indicator table holds totaal, sector and regio
(docs/surveys_indicators.md, "Integration").  The open answers go to the warehouse for coding under a random
code (layer ``surveys``), never into a figure.
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.defs.core.assets import IO, core_partitions
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import optional_source_deps
from monitor_dagster.indicators import spec as SPEC
from monitor_dagster.indicators.table import COLUMNS, SCHEMA, TOTAAL

FAMILY = "inputs_surveys"
KEY = dg.AssetKey(["indicators", FAMILY])
GROUP = "indicators"
#: instrument -> (catalog entry of the response export, catalog entry of its sample frame)
SOURCES = {"gemeenten": ("ENQUETEGEMEENTEN", "ENQUETEGEMEENTENKADER"),
           "werkgevers": ("ENQUETEWERKGEVERS", "ENQUETEWERKGEVERSKADER"),
           "onderwijsinstellingen": ("ENQUETEONDERWIJS", "ENQUETEONDERWIJSKADER")}
#: the publication's columns next to the table's (surveys/indicators.to_table_rows ``extra``)
EXTRA = {"moe": pl.Float64, "response_rate": pl.Float64, "n_choice": pl.Int64, "suppression_reason": pl.String}
SURVEY_SCHEMA = {**SCHEMA, **EXTRA}
#: the warehouse layer of what stays inside: the open answers for the coders and their code key
OPEN_LAYER = "surveys"

def _deps() -> list[dg.AssetDep]:
    # a year without a wave has no upstream partition: allowed (the wave is two-yearly)
    return optional_source_deps(e for pair in SOURCES.values() for e in pair)

def compute_year(warehouse, year: int, log=None) -> tuple[pl.DataFrame, dict]:
    """The table rows (with :data:`EXTRA`) of every instrument with a wave in ``year``, and metadata per
    instrument (release, response, weighting method and note; no organisation ids)."""
    from monitor_dagster.surveys.disclosure import check_disclosure
    from monitor_dagster.surveys.indicators import compute_wave, names_by_org, open_answers, to_table_rows
    from monitor_dagster.surveys.xlsform import form as survey_form
    from monitor_dagster.warehouse import Warehouse

    src = Warehouse(warehouse)
    inside = Warehouse(warehouse, layer=OPEN_LAYER)
    parts, meta = [], {}
    for instrument, (responses_entry, frame_entry) in SOURCES.items():
        rm, fm = src.manifest(responses_entry, str(year)), src.manifest(frame_entry, str(year))
        if rm is None or fm is None:
            if (rm is None) != (fm is None):
                missing = frame_entry if fm is None else responses_entry
                raise dg.Failure(f"{instrument} {year}: {missing} {year} is not in the warehouse; the weights need "
                                 "both the responses and the sample frame")
            continue
        form = survey_form(instrument, str(year))
        responses = src.read(responses_entry, str(year)).collect()
        frame = src.read(frame_entry, str(year)).collect()
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c in frame.columns)
        detail, _, weights = compute_wave(form, responses, frame)
        problems = check_disclosure(detail)
        if problems:
            raise dg.Failure(f"{instrument} {year}: disclosure of the survey figures failed: " + "; ".join(problems[:5]),
                             metadata={"violations": len(problems)})
        vintages = f"{rm['release_id']},{fm['release_id']}"
        rows = to_table_rows(detail, vintages=vintages, extra=True)
        extra_dims = [c for c in rows.columns if c not in COLUMNS and c not in EXTRA]
        # a breakdown that is no table dimension (grootteklasse) stays out of the table: its rows would read as
        # duplicates of the totaal (module docstring)
        for d in extra_dims:
            rows = rows.filter(pl.col(d) == TOTAAL).drop(d)
        parts.append(rows.select(list(SURVEY_SCHEMA)).cast(SURVEY_SCHEMA))
        ans = open_answers(form, responses, redact=names_by_org(frame))
        inside.write(f"open_answers_{instrument}", str(year), ans.answers,
                     {"rows": ans.answers.height, "note": "for coding only; never published"})
        inside.write(f"open_answers_key_{instrument}", str(year), ans.key,
                     {"rows": ans.key.height, "note": "code -> organisation; stays in the warehouse"})
        resp = weights.response.filter(pl.col("margin") == "totaal")
        rate = float(resp["response_rate"][0]) if resp.height else None
        meta[instrument] = {"release": rm["release_id"], "frame": fm["release_id"], "respondents": responses.height,
                            "response_rate": rate, "weighting": weights.method, "note": weights.note or "",
                            "suppressed": int(rows["suppressed"].sum()), "rows": rows.height,
                            "open_answers": ans.answers.height}
        if log is not None and weights.note:
            log(f"{instrument} {year}: {weights.note}")
    out = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=SURVEY_SCHEMA)
    return out, meta

@dg.asset(
    key=KEY, group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO, deps=_deps(),
    description=f"{SPEC.registry().families[FAMILY]}: indicators "
                f"{', '.join(s.id for s in SPEC.families().get(FAMILY, []))} of the wave of year t as rows of the "
                "indicator table with their margin of error and response rate (two-yearly; specs in "
                "indicators/specs.yaml; surveys/indicators.py).",
    kinds={"polars", "samplics"}, tags={"monitor/cadence": "two-yearly"},
    metadata={"indicators": ", ".join(s.id for s in SPEC.families().get(FAMILY, [])), "family": FAMILY},
)
def inputs_surveys(context: AssetExecutionContext, monitor: MonitorResource) -> dg.Output:
    year = int(context.partition_key)
    table, meta = compute_year(monitor.warehouse, year, log=context.log.warning)
    if not meta:
        context.log.info(f"no survey wave in {year}")
    return dg.Output(table, metadata={
        "rows": table.height, "instruments": ", ".join(meta) or "none",
        "suppressed": int(table["suppressed"].sum()) if table.height else 0,
        "vintages": ",".join(sorted({v for x in table["vintages"].unique().to_list() for v in x.split(",")})),
        "waves": dg.MetadataValue.json(meta)})
