"""Stage- en werkervaringsplaatsen voor inburgeringsplichtigen from online vacancies (research question 5;
technisch rapport Monitor gelijke kansen, hoofdstuk 6 and §7.2.3; issue 20).

The report advises Jobfeed (Textkernel) vacancy texts searched with a strategy built in three steps: sharpen
the question, read vacancies by hand, choose (combinations of) search terms.  This package holds that chain as
plain Python and polars, no Dagster: the vendor export format (``schema``), the strategy as versioned data
(``strategy``, ``strategy_v1.yaml``), the matcher (``match``), the hand-labelling validation with corrected
counts (``validation``) and the indicators V01-V05 (``indicators``).  docs/vacancies.md describes it."""

from monitor_dagster.vacancies.strategy import Strategy, StrategyError, load_strategy
from monitor_dagster.vacancies.schema import VacancyFileError, read_vacancies

__all__ = ["Strategy", "StrategyError", "load_strategy", "VacancyFileError", "read_vacancies"]
