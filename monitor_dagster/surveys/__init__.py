"""Input surveys of research questions 1 and 2 (technisch rapport Monitor gelijke kansen, hoofdstuk 3; issue 19):
the questionnaires as XLSForm instruments, their response exports as sources, and the input indicators
computed from them.  Plain Python and polars, no Dagster."""
