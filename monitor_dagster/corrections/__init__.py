"""Corrections for background characteristics (technisch rapport Monitor gelijke kansen, §7.2.2; issue 17):
propensity-score weights of the referentiegroep, the balance check, corrected indicator rows and duration
models.  Plain polars and statsmodels, no Dagster; docs/corrections.md explains the method."""
