"""Blocking gates (docs/indicators.md "Gates")."""

from monitor_dagster.gates.disclosure import DisclosureError, apply_disclosure, check_disclosure

__all__ = ["DisclosureError", "apply_disclosure", "check_disclosure"]
