# One image for every Dagster process of monitor_dagster (docker-compose.yml, deploy/helm/values.yaml):
# code server, webserver, daemon and (on Kubernetes) the run pods. See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    DAGSTER_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1 \
    GX_ANALYTICS_ENABLED=false \
    MONITOR_LANDING=/data/landing \
    MONITOR_WAREHOUSE=/data/warehouse \
    MONITOR_CATALOG=/opt/monitor/data_catalog.yaml

WORKDIR /opt/monitor

# Dependencies first (cached layer): the exact tested set from requirements.lock.
COPY requirements.lock pyproject.toml README.md ./
COPY monitor_dagster ./monitor_dagster
COPY data_catalog.yaml ./data_catalog.yaml
COPY workspace.yaml ./workspace.yaml
COPY deploy ./deploy
RUN pip install -c requirements.lock . \
 && pip check \
 && python -c 'from monitor_dagster.catalog import load_catalog; load_catalog()'
# ^ MONITOR_CATALOG (above) points the installed package at the catalog; the build fails if it does not load.

# Non-root user; the instance directory holds dagster.yaml (deploy/dagster.postgres.yaml).
RUN useradd --create-home --uid 10001 dagster \
 && mkdir -p "$DAGSTER_HOME" /data/landing /data/warehouse \
 && cp deploy/dagster.postgres.yaml "$DAGSTER_HOME/dagster.yaml" \
 && chown -R dagster:dagster "$DAGSTER_HOME" /data /opt/monitor
USER dagster

EXPOSE 3000 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "monitor_dagster.definitions"]
