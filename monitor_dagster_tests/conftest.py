# Shared pytest fixtures for monitor_dagster_tests (to be filled in by the lead).
# `make test` exports DAGSTER_HOME=<repo>/.dagster_home, DAGSTER_DISABLE_TELEMETRY=true,
# DO_NOT_TRACK=1 and GX_ANALYTICS_ENABLED=false before pytest starts.
