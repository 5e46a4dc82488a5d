"""Core layer assets (group ``core``): the study population and the spells every indicator stands on.

Wiring only: each asset loads its source frames through the warehouse IO manager (windows such as SPOLIS
t-1 and t are partition mappings on the inputs), calls a plain function from ``monitor_dagster.core`` and
returns a polars frame that the IO manager writes to ``<warehouse>/core/<asset>/<year>``.  A yearly table's
asset is a thin wrapper around its builder (``BUILDERS``: loaded inputs -> :class:`CoreBuild`), which the job
``core_bucket_steps`` (bucket_steps.py) runs as one step per bucket of persons.
"""

from dataclasses import dataclass, field

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.core import benefits as B
from monitor_dagster.core import education as E
from monitor_dagster.core import jobs as J
from monitor_dagster.core import population as POP
from monitor_dagster.core import secm as S
from monitor_dagster.core import buckets as BK
from monitor_dagster.core.buckets import BucketedFrame
from monitor_dagster.core.sorting import sorted_frame
from monitor_dagster.core.inputs import CORE_INPUTS, ROW_ORDER, CoreInput, SourceInput
from monitor_dagster.core.regions import keyed_objects, object_municipalities
from monitor_dagster.defs.provenance import as_metadata, merged, upstream_provenance
from monitor_dagster.defs.resources import MonitorResource
from monitor_dagster.defs.sources.partitions import yearly
from monitor_dagster.readiness import CORE_FIRST_YEAR, _Manifests, population_gaps, prev_year_gap, short_stay_note

GROUP = "core"
core_partitions = yearly(CORE_FIRST_YEAR, None)
IO = "warehouse_io"
SPELL_BUCKETS = 4               # job spells in at least 4 buckets of persons: bounds peak memory (benchmarks/core.py)


def src(name: str, mapping: dg.PartitionMapping | None = None) -> dg.AssetIn:
    return dg.AssetIn(key=dg.AssetKey(["sources", name]), partition_mapping=mapping, input_manager_key=IO)


PREV_AND_THIS_YEAR = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=0)
SAME_YEAR = dg.TimeWindowPartitionMapping()
THIS_AND_NEXT_YEAR = dg.TimeWindowPartitionMapping(start_offset=0, end_offset=1)


def _one(d: dict, year: str, what: str) -> pl.LazyFrame | None:
    return d.get(year) if isinstance(d, dict) else d


def _required(frame, what: str, year: str) -> pl.LazyFrame:
    if frame is None:
        raise dg.Failure(description=f"{what} {year} is not in the warehouse: ingest it first (monitor run --select {what})")
    return frame


def _meta(context: AssetExecutionContext, monitor: MonitorResource, df: pl.DataFrame | pl.LazyFrame,
          unused: tuple[str, ...] = (), **extra) -> dict:
    """Rows (of a collected frame; a streamed one gets them from the IO manager after the write), and the source
    releases the table rests on (from upstream materialisations: defs/provenance.py), without the inputs in
    ``unused`` (``sources/FILE``: read as absent, so the table does not rest on them)."""
    prov = merged({k: v for k, v in upstream_provenance(context, monitor.warehouse).items() if k not in unused})
    rows = {"rows": dg.MetadataValue.int(df.height)} if isinstance(df, pl.DataFrame) else {}
    return {**rows, **as_metadata(prov), **extra}


@dataclass
class CoreBuild:
    """What a yearly core table's step makes of its inputs, apart from where it runs: the asset step (its inputs
    from the IO manager) and the bucket steps (defs/core/bucket_steps.py, the inputs read by ``core_inputs``)
    build it with the same function (``BUILDERS``)."""
    out: BucketedFrame | None            # None: not built (``metadata`` says why)
    metadata: dict = field(default_factory=dict)        # besides rows and the provenance
    unused: tuple[str, ...] = ()         # inputs read as absent: the table does not rest on them (_meta)
    checks: list = field(default_factory=list)          # dg.AssetCheckResult of the asset's check specs


def _emit(context: AssetExecutionContext, monitor: MonitorResource, build: CoreBuild):
    """The asset's output and checks of a :class:`CoreBuild`."""
    if build.out is None:
        yield dg.Output(None, metadata=build.metadata)
    else:
        yield dg.Output(build.out, metadata=_meta(context, monitor, build.out, build.unused, **build.metadata))
    yield from build.checks


_WINDOWS = {"latest": None, "year": SAME_YEAR, "prev_and_year": PREV_AND_THIS_YEAR, "year_and_next": THIS_AND_NEXT_YEAR}


def ins_of(asset: str) -> dict[str, dg.AssetIn]:
    """The asset inputs of a core table, from its declaration in core/inputs.py (one place)."""
    out = {}
    for param, inp in CORE_INPUTS[asset][1].items():
        if isinstance(inp, CoreInput):
            out[param] = dg.AssetIn(key=dg.AssetKey(["core", inp.asset]), input_manager_key=IO)
        else:
            assert isinstance(inp, SourceInput)
            out[param] = src(inp.entry, _WINDOWS[inp.window])
    return out


POPULATION_KEY = dg.AssetKey(["core", "population"])


@dg.asset(
    key=POPULATION_KEY, group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("population"),
    description="Persons living in NL the whole year t (report 2.1) with student/pensioner flags and the breakdowns "
                "of report 2.2: herkomst, generatie, verblijfsduur, leeftijd, geslacht, opleidingsniveau, asielmotief; "
                "gemeente, regio, randstad and asielstatus (report 7.2.4, 7.2.5; docs/regions.md).",
    check_specs=[
        dg.AssetCheckSpec(
            "regions", asset=POPULATION_KEY,
            description="gemeente/regio/randstad computable for year t (docs/regions.md): VSLGWBTAB t in the "
                        "warehouse, a municipality -> arbeidsmarktregio mapping for t, every municipality of VSLGWBTAB "
                        "t in it. WARN only: without them the regional columns are null, everything else stands"),
        dg.AssetCheckSpec(
            "short_stay", asset=POPULATION_KEY,
            description="the first generation in NL six months or less on 1 January t can be left out of every "
                        "analysis (report 2.2): GBAMIGRATIEBUS, with a release that covers t-1, in the warehouse. WARN "
                        "only: without it they stay in every indicator of t and verblijfsduur is not computable")],
    kinds={"polars"},
)
def population(context: AssetExecutionContext, monitor: MonitorResource, addresses, secm, gba, migration, migmotief,
               countries, hoogsteopl, enrolment, vslgwb):
    yield from _emit(context, monitor, build_population(monitor, context.partition_key, dict(
        addresses=addresses, secm=secm, gba=gba, migration=migration, migmotief=migmotief, countries=countries,
        hoogsteopl=hoogsteopl, enrolment=enrolment, vslgwb=vslgwb), context.log))


def build_population(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    """core/population of ``year`` from its loaded inputs (the IO manager's, or core_inputs' in the bucket steps)."""
    addresses, secm, gba, migration, migmotief, countries, hoogsteopl, enrolment, vslgwb = (
        inputs[k] for k in ("addresses", "secm", "gba", "migration", "migmotief", "countries", "hoogsteopl",
                            "enrolment", "vslgwb"))
    for frame, what in ((addresses, "GBAADRESOBJECTBUS"), (secm, "SECMBUS"), (gba, "GBAPERSOONTAB")):
        _required(frame, what, "(cumulative)")
    # report 2.1: whole-year residence needs address spells up to 31 December t (core/inputs.py covers_year);
    # `monitor run` and the schedules do not plan such a year (readiness.core_missing), a hand-picked one stops here
    m = _Manifests(monitor.warehouse)      # the release periods and readiness's rules, read once
    addresses_until = m.period("GBAADRESOBJECTBUS")
    if addresses_until is not None and addresses_until < int(year):
        raise dg.Failure(description=f"core/population {year}: the latest GBAADRESOBJECTBUS in the warehouse covers "
                                     f"up to {addresses_until}, so who lived in NL the whole year {year} is not known "
                                     f"(report 2.1): ingest GBAADRESOBJECTBUS {year} first (monitor run --select "
                                     "GBAADRESOBJECTBUS)")
    # GBAPERSOONTAB must hold everybody registered before 1 January t (core/inputs.py covers_prev_year)
    for inp in CORE_INPUTS["population"][1].values():
        if isinstance(inp, SourceInput) and inp.required and (gap := prev_year_gap(m, inp, int(year))):
            raise dg.Failure(description=f"core/population {year}: {gap}: ingest {inp.entry} {int(year) - 1} or "
                                         f"later first (monitor run --select {inp.entry})")
    # optional files (core/inputs.py): absent -> None, the breakdowns resting on them are not computable
    hoog = _one(hoogsteopl, year, "HOOGSTEOPLTAB")
    # GBAMIGRATIEBUS, MIGMOTIEFBUS: a release that ends before t-1 lacks the recent arrivals (they would read as
    # oudkomer, "geen migratie"): taken as absent, verblijfsduur / asielstatus null for the year (readiness says so)
    gaps = population_gaps(m, int(year))
    migration = None if "migration" in gaps else migration
    migmotief = None if "migmotief" in gaps else migmotief
    for why in gaps.values():
        log.warning(f"core/population {year}: {why}: read as absent")
    # report 2.2: who arrived six months or less ago is read off GBAMIGRATIEBUS alone (log, metadata, WARN check)
    no_migration = None if migration is not None else gaps.get("migration", "needs GBAMIGRATIEBUS")
    short_stay = short_stay_note(int(year), no_migration) if no_migration else None
    if short_stay:
        log.warning(f"core/population {year}: {short_stay}; verblijfsduur is not computable")
    # fallback for years without SECM: enrolments of 1 October t-1 and t together cover "most of year t"
    # (school years t-1/t and t/t+1; measured against SECM on synthetic data: 119 of 128 students vs 103 with t only)
    enrol = [f for f in (enrolment or {}).values() if f is not None]
    enrol_lf = pl.concat(enrol, how="diagonal_relaxed") if enrol else None
    # report 7.2.4: VSLGWBTAB of t (optional) and the mapping of t (reference/regions.py); either absent -> the
    # regional columns are null for the year, recorded below (metadata regions_status, WARN check "regions")
    vsl = _one(vslgwb, year, "VSLGWBTAB")
    # VSLGWBTAB is keyed by address object, not person: its municipalities are built once, for the check of the
    # mapping and for every bucket
    found = object_municipalities(vsl).collect() if vsl is not None else None
    regio_map, regions = _regions(int(year), vsl, found)
    frames = {"gba": gba, "addresses": addresses, "secm": secm, "migration": migration, "hoogsteopl": hoog,
              "migmotief": migmotief, "countries": countries, "enrolment": enrol_lf, "vslgwb": vsl}
    # the release period of the cumulative SECMBUS decides whether SECM covers the year (report 7.1.3); read
    # from the data instead, every bucket would compute both the SECM and the fallback flags (1.9 s per 1 M)
    secm_last = m.period("SECMBUS")
    choices = monitor.choices
    if choices.student_source == "enrolment":     # the fallback of report 7.1.3 also where SECM covers t
        secm_last = min(secm_last if secm_last is not None else int(year), int(year) - 1)
    objects = keyed_objects(found) if found is not None else None
    out = _bucketed("population", year, monitor, log,
                    lambda **kw: POP.population(int(year), secm_last_year=secm_last, **kw, regio_map=regio_map,
                                                objects=objects, **choices.population_kwargs()),
                    frames, describe=_describe_population)
    # report 7.1.3: without SECMBUS of t the student and pensioner flags come from enrolment and age; recorded
    # so that readiness, the sensor that replaces the year when SECM lands, and `monitor status` can see it
    fallback = secm_last is not None and secm_last < int(year)
    if fallback:
        log.warning(f"core/population {year}: SECMBUS covers up to {secm_last}: students and pensioners "
                    "from enrolment (ONDERWIJSINSCHRTAB) and age (report 7.1.3); the indicators that leave "
                    "them out are voorlopig until SECMBUS covers the year")
    for msg in regions["problems"]:
        log.warning(f"core/population {year}: {msg}")
    unused = tuple(f"sources/{CORE_INPUTS['population'][1][k].entry}" for k in gaps)
    metadata = dict(secm_source="fallback" if fallback else "SECM", regions_status=regions["status"],
                    regions_problems="; ".join(regions["problems"]) or "none",
                    releases_too_old="; ".join(gaps.values()) or "none",
                    short_stay=f"not recognisable: {no_migration}" if no_migration
                    else "left out of the analyses (report 2.2)",
                    **({"method": str(choices)} if str(choices) else {}))
    checks = [dg.AssetCheckResult(check_name="regions", passed=not regions["problems"],
                                  severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"status": regions["status"],
                                            "problems": "; ".join(regions["problems"]) or "none"}),
              dg.AssetCheckResult(check_name="short_stay", passed=short_stay is None,
                                  severity=dg.AssetCheckSeverity.WARN, metadata={"problem": short_stay or "none"})]
    return CoreBuild(out, metadata, unused, checks)


def _regions(year: int, vslgwb: pl.LazyFrame | None,
             objects: pl.DataFrame | None = None) -> tuple[pl.DataFrame | None, dict]:
    """The mapping of ``year`` (None when there is none) and what to record: ``status`` (``computable``,
    ``no VSLGWBTAB``, ``no mapping``) and ``problems`` (messages: no VSLGWBTAB t, no mapping for t naming the file
    to add, municipality codes of VSLGWBTAB t that the mapping lacks, with count and examples).  ``objects``:
    the object municipalities of ``vslgwb`` when the caller has them (core.regions.object_municipalities)."""
    from monitor_dagster.core.regions import unknown_municipalities
    from monitor_dagster.reference.regions import mapping_file, regio_mapping

    regio_map, missing = regio_mapping(year)
    problems = []
    if vslgwb is None:
        problems.append(f"VSLGWBTAB {year} is not in the warehouse: gemeente, regio and randstad are null for {year}")
    if missing:
        problems.append(missing)
    if vslgwb is not None and regio_map is not None:
        unknown = unknown_municipalities(vslgwb, regio_map, objects).collect()
        if unknown.height:
            ex = ", ".join(f"{g} ({n} objects)" for g, n in unknown.head(5).iter_rows())
            problems.append(f"{unknown.height} municipality code(s) of VSLGWBTAB {year} not in {mapping_file(year)}: "
                            f"{ex}; their residents have regio and randstad null")
    status = "no VSLGWBTAB" if vslgwb is None else "no mapping" if regio_map is None else "computable"
    return regio_map, {"status": status, "problems": problems}


def _release_period(monitor: MonitorResource, entry: str) -> int | None:
    """The last year a cumulative file's release covers (its manifest's ``period``), None when unknown: the same
    reading as readiness's."""
    return _Manifests(monitor.warehouse).period(entry)


def _describe_population(df: pl.LazyFrame) -> dict:
    counts = df.group_by("herkomst_group").len().sort("len", descending=True).collect()
    md = "| herkomst | persons |\n|---|---|\n" + "\n".join(f"| {g} | {n} |" for g, n in counts.iter_rows())
    s = df.select(pl.col("student").sum(), pl.col("pensioner").sum()).collect()
    return {"by_herkomst": dg.MetadataValue.md(md), "students": int(s["student"][0] or 0),
            "pensioners": int(s["pensioner"][0] or 0)}


#: bytes job_months holds per byte of the SPOLIS columns it reads (measured; core.buckets.BUCKET_OVERHEAD is 4),
#: the bucket written in the background while the next one computes included (parquet_append): 2.5 without it
#: left 7 M SPOLIS rows a bucket at both 1 M persons (K = 1, nothing in the background: 1.5 GB) and 4 M (K = 4:
#: 2.0 GB); with 3.5 buckets of 4.7-5.4 M rows take 1.2 GB at 1 M (K = 2), 1.5 GB at 4 M (K = 6), 1.7 GB at
#: 17.5 M (K = 23); time: 1 M 6.8 -> 5.0 s, 4 M 22.0 -> 22.7 s, 17.5 M 107 -> 116 s (each bucket decodes at least
#: one row group of every sorted ingest chunk, so more buckets decode more; docs/scaling_measurements.md, nineteenth session).
#: 5.0 since the thirty-second session: buckets of about 500,000 persons at every size (K = 2 at 1 M, 8 at 4 M, 33
#: at 17.5 M, against 2 / 6 / 23), so the peak no longer grows with the persons through larger buckets: at 4 M the
#: step's peak 2.61-2.77 -> 2.16-2.31 GB, the core layer's at 17.5 M 3.27-3.45 -> 2.63-3.04 GB, and no slower
#: (job_months at 17.5 M 47.0-48.5 -> 45.0-46.1 s: the later code decodes far less per bucket); the same rows in
#: the same order (only the row groups differ)
JOB_MONTHS_OVERHEAD = 5.0
#: bytes job_spells holds per byte of the job-months it reads: twice the default, so that its buckets are about
#: 250,000 persons at 4 M as at 1 M (where SPELL_BUCKETS sets K).  With the default the 4 M buckets held 667,000
#: persons and the step was the core layer's peak (1.81 GB alone at K = 6, against 1.08 GB at K = 12 and 0.73
#: GB at 1 M, K = 4; at 17.5 M K = 29 -> 58: 2.31-2.83 -> 1.25 GB).  Every bucket reads only its own row groups
#: of the sorted table, so more buckets cost little: 4 M 3.6 -> 3.7 s, 17.5 M 16.0-16.9 -> 17.7 s (forty-fourth
#: session)
JOB_SPELLS_OVERHEAD = 2 * BK.BUCKET_OVERHEAD


def _bucketed(table: str, year: str | int, monitor: MonitorResource, log, fn, frames: dict, *, min_buckets: int = 1,
              overhead: float = BK.BUCKET_OVERHEAD, describe=None,
              columns: dict[str, tuple[str, ...]] | None = None) -> BucketedFrame:
    """A person-level core table computed in buckets of persons (core/buckets.py, docs/scaling.md): K from
    MonitorResource.buckets or the inputs' size (``columns``: see :func:`core.buckets.choose_buckets`); the IO
    manager writes bucket after bucket."""
    k = monitor.buckets or BK.choose_buckets(frames, "person_id", monitor.bucket_memory_gb, overhead, columns)
    plan = BK.plan_buckets(frames, "person_id", max(k, min_buckets))
    log.info(f"core/{table} {year}: {plan.k} bucket(s) of persons")
    return BucketedFrame(fn, frames, plan, progress=log.info, describe=describe, sort_by=ROW_ORDER[table])


@dg.asset(
    key=dg.AssetKey(["core", "job_months"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("job_months"),
    description="SPOLIS rows collapsed to one row per person, job and month, November t-1 to December t "
                "(report 5.2; 4-weekly payroll rows merged).",
    kinds={"polars"},
)
def job_months(context: AssetExecutionContext, monitor: MonitorResource, spolis):
    build = build_job_months(monitor, context.partition_key, {"spolis": spolis}, context.log)
    yield from _emit(context, monitor, build)


def build_job_months(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    spolis, year = inputs["spolis"], int(year)
    this = _required(spolis.get(str(year)), "SPOLISBUS", str(year))
    # the largest person-level table of a year: in buckets of persons (a single streaming query grew with the
    # persons: 4.8 GB at 4 M), each bucket streamed from SPOLIS t-1 and t and written as it comes
    frames = {"spolis": this, "spolis_prev": spolis.get(str(year - 1))}
    # K counts the 15 of SPOLIS's ~25 columns (a real file has ~100) that job_months reads, with the overhead
    # measured for this query (JOB_MONTHS_OVERHEAD)
    out = _bucketed("job_months", year, monitor, log,
                    lambda spolis, spolis_prev: J.job_months(spolis, spolis_prev, year), frames,
                    columns={"spolis": J.SPOLIS_READ, "spolis_prev": J.SPOLIS_READ}, overhead=JOB_MONTHS_OVERHEAD)
    return CoreBuild(out, {"t_minus_1_available": spolis.get(str(year - 1)) is not None})


@dg.asset(
    key=dg.AssetKey(["core", "job_spells"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("job_spells"),
    description="Spells per person and job (consecutive months; a contract change starts a new spell): employer, "
                "contract, sector, hours, hourly wage (report 4.2, 5.2).",
    kinds={"polars"},
)
def job_spells(context: AssetExecutionContext, monitor: MonitorResource, months):
    build = build_job_spells(monitor, context.partition_key, {"months": months}, context.log)
    yield from _emit(context, monitor, build)


def build_job_spells(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    lf = _one(inputs["months"], year, "job_months")
    # job_spells needs the job-months in the order the table is stored in: sorted_frame checks it for one pass
    order = ROW_ORDER["job_months"]
    out = _bucketed("job_spells", year, monitor, log,
                    lambda months: J.job_spells(sorted_frame(months, order), presorted=True),
                    {"months": lf}, min_buckets=SPELL_BUCKETS, overhead=JOB_SPELLS_OVERHEAD)
    return CoreBuild(out)


@dg.asset(
    key=dg.AssetKey(["core", "employers"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("employers"),
    description="Per person and employer (SBEID) of year t: wage, hours and job-months of the substantial jobs, "
                "and the main employer (most basic hours): what O40 ranks within the employer (report 5.2, 4h).",
    kinds={"polars"},
)
def employers(context: AssetExecutionContext, monitor: MonitorResource, months):
    build = build_employers(monitor, context.partition_key, {"months": months}, context.log)
    yield from _emit(context, monitor, build)


def build_employers(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    lf = _one(inputs["months"], year, "job_months")
    y = int(year)
    return CoreBuild(_bucketed("employers", year, monitor, log, lambda months: J.employers(months, y), {"months": lf}))


@dg.asset(
    key=dg.AssetKey(["core", "secm_months"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("secm_months"),
    description="Monthly socio-economic position (SECM) per person, November t-1 to December t (report 5.2).",
    kinds={"polars"},
)
def secm_months(context: AssetExecutionContext, monitor: MonitorResource, secm):
    build = build_secm_months(monitor, context.partition_key, {"secm": secm}, context.log)
    yield from _emit(context, monitor, build)


def build_secm_months(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    secm, year = inputs["secm"], int(year)
    _required(secm, "SECMBUS", "(cumulative)")
    # report 7.1.3: SECMBUS lags a year; from an older release every open spell would run on through t as if
    # observed (core/inputs.py covers_year).  `monitor run` and the schedules do not plan such a year
    # (readiness.core_missing).  Run anyway (the whole job of the year in the UI, a backfill over it) nothing is
    # written: the families of the year still run, get no SECM months and leave the indicators that read them
    # out (readiness: not computable), as the early build with the fallback does; a failure here would skip them
    until = _release_period(monitor, "SECMBUS")
    if until is not None and until < year:
        why = (f"not built: the latest SECMBUS in the warehouse covers up to {until}, so the SECM months of {year} "
               f"are not known (report 7.1.3); they are built when SECMBUS {year} lands")
        log.warning(f"core/secm_months {year}: {why}")
        return CoreBuild(None, {"not_built": why, "rows": 0})
    # SECM spells become up to 14 months each: the output outgrows the input (measured 3.3 GB at 4 M with
    # the default overhead, hence 4x more buckets)
    out = _bucketed("secm_months", year, monitor, log, lambda secm: S.secm_months(secm, year), {"secm": secm},
                    overhead=4 * BK.BUCKET_OVERHEAD)
    return CoreBuild(out)


@dg.asset(
    key=dg.AssetKey(["core", "education_careers"]), group_name=GROUP, partitions_def=core_partitions, io_manager_key=IO,
    ins=ins_of("education_careers"),
    description="Education careers per person for peiljaar t: exam candidates (EXAMVOTAB t), enrolment on 1 October "
                "t and t+1, diplomas of school year t+1 with month (report 5.1, 4a-4c).",
    kinds={"polars"},
)
def education_careers(context: AssetExecutionContext, monitor: MonitorResource, exam, enrol, dipl_mbo, dipl_ho):
    yield from _emit(context, monitor, build_education_careers(monitor, context.partition_key, dict(
        exam=exam, enrol=enrol, dipl_mbo=dipl_mbo, dipl_ho=dipl_ho), context.log))


def build_education_careers(monitor: MonitorResource, year: str, inputs: dict, log) -> CoreBuild:
    exam, enrol, dipl_mbo, dipl_ho = (inputs[k] for k in ("exam", "enrol", "dipl_mbo", "dipl_ho"))
    year = int(year)
    y, n = str(year), str(year + 1)
    frames = {"exam": exam.get(y), "enrol": enrol.get(y), "dipl_mbo": dipl_mbo.get(n), "dipl_ho": dipl_ho.get(n),
              "enrol_next": enrol.get(n)}
    out = _bucketed("education_careers", year, monitor, log,
                    lambda exam, enrol, dipl_mbo, dipl_ho, enrol_next: E.education_careers(
                        exam, enrol, dipl_mbo, dipl_ho, year, enrol_next=enrol_next), frames)
    return CoreBuild(out, {"next_year_available": enrol.get(n) is not None})


@dg.asset(
    key=dg.AssetKey(["core", "benefit_spells"]), group_name=GROUP, io_manager_key=IO,
    ins=ins_of("benefit_spells"),
    description="WW, bijstand (with IOAW/IOAZ/Bbz) and AO (law code) spells from the latest releases (report 3e, 4f-4g).",
    kinds={"polars"},
)
def benefit_spells(context: AssetExecutionContext, monitor: MonitorResource, ww, bijstand, ao) -> dg.Output:
    df = B.benefit_spells(ww, bijstand, ao).sort(ROW_ORDER["benefit_spells"]).collect(engine="streaming")
    return dg.Output(df, metadata=_meta(context, monitor, df))


@dg.asset(
    key=dg.AssetKey(["core", "provision_spells"]), group_name=GROUP, io_manager_key=IO,
    ins=ins_of("provision_spells"),
    description="Participatiewet provisions 2015-2018 (SRG) and 2019+ (PWETSRG) harmonised; series consistent / "
                "srg_only / pwet_fine for the SRG 2019 trend break (report 3.2.1).",
    kinds={"polars"},
)
def provision_spells(context: AssetExecutionContext, monitor: MonitorResource, srg, pwet) -> dg.Output:
    df = B.provision_spells(srg, pwet).sort(ROW_ORDER["provision_spells"]).collect(engine="streaming")
    return dg.Output(df, metadata=_meta(context, monitor, df))


@dg.asset(
    key=dg.AssetKey(["core", "trajectory_spells"]), group_name=GROUP, io_manager_key=IO,
    ins=ins_of("trajectory_spells"),
    description="UWV re-integration trajectories of WW and AO clients (report 3.4, U-a..U-c).",
    kinds={"polars"},
)
def trajectory_spells(context: AssetExecutionContext, monitor: MonitorResource, sirww, sirag) -> dg.Output:
    df = B.trajectory_spells(sirww, sirag).sort(ROW_ORDER["trajectory_spells"]).collect(engine="streaming")
    return dg.Output(df, metadata=_meta(context, monitor, df))


CORE_YEARLY = [population, job_months, job_spells, employers, secm_months, education_careers]
#: table -> the function that builds it from its loaded inputs (the asset and the bucket steps alike)
BUILDERS = {"population": build_population, "job_months": build_job_months, "job_spells": build_job_spells,
            "employers": build_employers, "secm_months": build_secm_months,
            "education_careers": build_education_careers}
CORE_SPELLS = [benefit_spells, provision_spells, trajectory_spells]
CORE_ASSETS = CORE_YEARLY + CORE_SPELLS
