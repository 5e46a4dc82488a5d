"""``core/propensity_weights``: the weights of the corrected figures (technisch rapport Monitor gelijke kansen,
§7.2.2; issue 17), fitted once over every year of ``core/population`` in the warehouse, with the balance check
(evenredigheidscontrole) as a blocking asset check.  Domain logic: ``corrections/propensity.py``."""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from monitor_dagster.defs.resources import MonitorResource

WEIGHTS_KEY = dg.AssetKey(["core", "propensity_weights"])
POPULATION_KEY = dg.AssetKey(["core", "population"])
WEIGHTS_SCHEMA = {"year": pl.Int32, "group": pl.String, "covariaten": pl.String, "leeftijdsklasse": pl.String,
                  "geslacht": pl.String, "opleidingsniveau": pl.String, "n": pl.Int64, "p_basis": pl.Float64,
                  "target_share": pl.Float64, "weight": pl.Float64}


def population_cells(warehouse) -> pl.DataFrame:
    """Covariate cells of every year of core/population in the warehouse (one group-by per year)."""
    from monitor_dagster.corrections.propensity import covariate_cells
    from monitor_dagster.warehouse import Warehouse

    core = Warehouse(warehouse, layer="core")
    parts = [covariate_cells(core.read("population", p), int(p))
             for p in sorted(core.partitions("population")) if p.isdigit()]
    return pl.concat(parts, how="vertical") if parts else pl.DataFrame()


def _md(table: pl.DataFrame, cols: list[str], k: int = 40) -> str:
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    fmt = (lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
    return head + "\n".join("| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in table.head(k).iter_rows(named=True))


@dg.asset(
    key=WEIGHTS_KEY, group_name="core", io_manager_key="warehouse_io", deps=[POPULATION_KEY],
    check_specs=[
        dg.AssetCheckSpec("balance", asset=WEIGHTS_KEY, blocking=True,
                          description="Evenredigheidscontrole (report 7.2.2): per year and characteristic, the weighted "
                                      "basisgroep and referentiegroep differ by at most 0.1 standardised mean difference "
                                      "(or not significantly at 5%); blocks the indicator table"),
        dg.AssetCheckSpec("stable_over_time", asset=WEIGHTS_KEY,
                          description="Each weighted group of each year within 0.1 SMD of the composition of the "
                                      "basisgroep over the whole period (report 7.2.2 'constant over de tijd')"),
    ],
    description="Propensity-score weights of the basis- and referentiegroep per year and covariate cell (age class, "
                "sex, education level), from one model fitted over all years (report 7.2.2); the corrected rows of the "
                "indicator table (correctie = gewogen) use them. docs/corrections.md.",
    kinds={"polars", "statsmodels"},
)
def propensity_weights(context: AssetExecutionContext, monitor: MonitorResource):
    from monitor_dagster.corrections.propensity import (balance_problems, drift_problems, weights_with_balance,
                                                        years_to_weight)

    cells, left_out = years_to_weight(population_cells(monitor.warehouse))
    # a year whose characteristic is unknown for everybody would distort the target of every other year
    # (propensity.years_to_weight): no weights that year, said per year
    skipped = "; ".join(f"{y}: {', '.join(covs)} onbekend for every person" for y, covs in left_out.items())
    if left_out:
        context.log.warning(f"propensity weights: year(s) left out of the weighting model, no gewogen rows for "
                            f"them ({skipped}; the source of that characteristic, e.g. HOOGSTEOPLTAB, is not in "
                            f"the warehouse for that year)")
    skipped = skipped or "none"          # the metadata's value
    if cells.height == 0 or cells["group"].n_unique() < 2:
        # an incomplete zone (no GBA yet): no weights, so the indicator table has no gewogen rows; said once
        context.log.warning("propensity weights: no year of core/population with both groups in the warehouse; "
                            "no weights (the indicator table then has no gewogen rows)")
        yield dg.Output(pl.DataFrame(schema=WEIGHTS_SCHEMA),
                        metadata={"years": "none", "cells": 0, "years_left_out": skipped})
        yield dg.AssetCheckResult(check_name="balance", passed=True, metadata={"out_of_balance": 0, "first": "no population"})
        yield dg.AssetCheckResult(check_name="stable_over_time", passed=True, metadata={"drifting": 0})
        return
    model, table, spec = weights_with_balance(cells)
    bad, drift = balance_problems(table), drift_problems(table)
    context.log.info(f"propensity weights: {model.weights.height} cells over {len(model.years)} years, "
                     f"converged={model.converged}; {len(bad)} levels out of balance, {len(drift)} drifting")
    worst = table.sort(pl.col("smd_na").abs(), descending=True)
    yield dg.Output(model.weights, metadata={
        **model.metadata(), "specification": spec, "years_left_out": skipped,
        "coefficients": dg.MetadataValue.md(_md(model.coefficients, ["term", "coef", "se", "p"])),
        "balance": dg.MetadataValue.md(_md(worst, ["year", "kenmerk", "niveau", "smd_voor", "smd_na", "p_waarde"], 15)),
    })
    yield dg.AssetCheckResult(check_name="balance", passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
                              metadata={"out_of_balance": len(bad), "first": "; ".join(bad[:5]),
                                        "max_abs_smd": float(table["smd_na"].abs().max())})
    yield dg.AssetCheckResult(check_name="stable_over_time", passed=not drift, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"drifting": len(drift), "first": "; ".join(drift[:5])})
