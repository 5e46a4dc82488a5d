"""Indicators V01-V05 of research question 5 (family ``vacancies``; issue 20; technisch rapport Monitor gelijke
kansen, hoofdstuk 6 and §7.2.3): stage- en werkervaringsplaatsen in the online vacancies of Jobfeed.

Not an engine family: a vacancy is no person cell.  Per year (from 2021, the question's first year) the
ingested JOBFEED file is searched with the versioned strategy (vacancies/strategy_v<N>.yaml; the version in
every row's ``vintages``) and counted by vacancies/indicators.py; vacancies/pipeline.py maps the counts onto the
indicator table.  The year's validation sample is written to the warehouse (``vacancies/validation_sample_<year>
_v<version>.csv``) for the analysts; their filled copy, landed as JOBFEEDLABELS, makes the rows carry the
corrected count and its interval (columns kept in this family table for the publication).
"""

import dagster as dg
from dagster import AssetExecutionContext

from monitor_dagster.defs.core.assets import IO, core_partitions
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.assets import optional_source_deps
from monitor_dagster.indicators import spec as SPEC

FAMILY = "vacancies"
KEY = dg.AssetKey(["indicators", FAMILY])
#: the strategy version the published figures use (a new version is a new file, docs/vacancies.md)
STRATEGY_VERSION = 1


def _deps() -> list[dg.AssetDep]:
    # years before 2021 and years without labels have no upstream partition: allowed
    return optional_source_deps(("JOBFEED", "JOBFEEDLABELS"))


@dg.asset(
    key=KEY, group_name="indicators", partitions_def=core_partitions, io_manager_key=IO, deps=_deps(),
    description=f"{SPEC.registry().families[FAMILY]}: indicators "
                f"{', '.join(s.id for s in SPEC.families().get(FAMILY, []))} of year t (from 2021) as rows of the "
                "indicator table, with the strategy version in vintages and, when the sample is labelled, the "
                "corrected count and its interval; writes the year's validation sample (vacancies/pipeline.py).",
    kinds={"polars"}, tags={"monitor/cadence": "yearly"},
    metadata={"indicators": ", ".join(s.id for s in SPEC.families().get(FAMILY, [])), "family": FAMILY},
)
def vacancies(context: AssetExecutionContext, monitor: MonitorResource) -> dg.Output:
    from monitor_dagster.vacancies.pipeline import compute_year
    from monitor_dagster.vacancies.validation import LabelFileError

    year = int(context.partition_key)
    try:
        table, meta = compute_year(monitor.warehouse, year, strategy_version=STRATEGY_VERSION)
    except LabelFileError as exc:
        raise dg.Failure(f"vacancies {year}: the labels do not fit the validation sample: {exc}") from None
    if not meta:
        context.log.info(f"no JOBFEED file for {year} in the warehouse")
    return dg.Output(table, metadata={
        "rows": table.height, "vintages": ",".join(sorted(set(table["vintages"].unique().to_list()))),
        "strategy_version": STRATEGY_VERSION, "labels": meta.get("labels", "none"),
        "sample": meta.get("sample", ""), "summary": dg.MetadataValue.json(meta)})
