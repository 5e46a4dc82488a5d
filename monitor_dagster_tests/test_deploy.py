"""Deployment files (docs/deployment.md): docker-compose.yml, workspaces, the Postgres dagster.yaml.

No Docker engine or PostgreSQL is needed: the compose file is validated against the Compose
Specification JSON schema shipped by the `check-jsonschema` package (dev extra), plus the rules
of this deployment; the instance file against Dagster's own config schemas.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
INSTANCE_YAML = ROOT / "deploy" / "dagster.postgres.yaml"
DAGSTER_SERVICES = ("code", "webserver", "daemon")
DAGSTER_YAML_IN_CONTAINER = "/opt/dagster/dagster_home/dagster.yaml"
PG_ENV = {
    "DAGSTER_PG_HOST": "postgres",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "secret",
    "DAGSTER_PG_DB": "dagster",
}


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))   # safe_load resolves anchors and `<<`


@pytest.fixture(scope="module")
def compose() -> dict:
    return _load(COMPOSE)


# --- (a) docker-compose.yml -------------------------------------------------------------------

def _compose_schema() -> dict:
    ref = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def test_compose_validates_against_compose_spec(compose):
    schema = _compose_schema()
    assert "services" in schema["properties"]          # really the Compose Specification
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_compose_schema_rejects_a_broken_file(compose):
    """The schema check is not vacuous: unknown keys and wrong types fail."""
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    for mutate in (
        lambda c: c["services"]["webserver"].__setitem__("port", ["3000:3000"]),   # typo for `ports`
        lambda c: c["services"]["code"]["depends_on"]["postgres"].__setitem__("condition", "healthy"),
        lambda c: c["services"]["daemon"].__setitem__("command", {"dagster-daemon": "run"}),
    ):
        bad = json.loads(json.dumps(compose))
        mutate(bad)
        assert list(validator.iter_errors(bad))


def test_compose_services_and_dependencies(compose):
    services = compose["services"]
    assert set(services) == {"postgres", *DAGSTER_SERVICES}
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"
    assert services["postgres"]["image"].startswith("postgres:15")
    test = services["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in " ".join(test if isinstance(test, list) else [test])
    for name in DAGSTER_SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert services[name]["image"] == services["code"]["image"], name   # one image


def test_compose_commands_and_ports(compose):
    s = compose["services"]
    code = s["code"]["command"]
    assert code[:3] == ["dagster", "code-server", "start"] and "4000" in code
    assert code[code.index("-m") + 1] == "monitor_dagster.definitions"
    web = s["webserver"]["command"]
    assert web[0] == "dagster-webserver" and web[web.index("-w") + 1] == "deploy/workspace.docker.yaml"
    assert "3000:3000" in s["webserver"]["ports"]
    assert s["daemon"]["command"][:2] == ["dagster-daemon", "run"]


def _split_volume(spec: str) -> tuple[str, str]:
    """Short syntax SOURCE:TARGET[:MODE] -> (target, source); SOURCE may hold `${VAR:-default}`."""
    if spec.endswith((":ro", ":rw")):
        spec = spec[:-3]
    source, target = spec.rsplit(":", 1)
    return target, source


def test_every_dagster_service_reads_the_same_instance(compose):
    mounts = set()
    for name in DAGSTER_SERVICES:
        svc = compose["services"][name]
        env = svc["environment"]
        assert env["DAGSTER_HOME"] + "/dagster.yaml" == DAGSTER_YAML_IN_CONTAINER, name
        assert set(PG_ENV) <= set(env), name
        assert env["DAGSTER_PG_HOST"] == "postgres"
        assert env["MONITOR_LANDING"] == "/data/landing" and env["MONITOR_WAREHOUSE"] == "/data/warehouse"
        vols = dict(_split_volume(v) for v in svc["volumes"])
        assert {DAGSTER_YAML_IN_CONTAINER, "/data/landing", "/data/warehouse"} <= set(vols), name
        mounts.add(vols[DAGSTER_YAML_IN_CONTAINER])
    assert mounts == {"./deploy/dagster.postgres.yaml"}
    assert (ROOT / "deploy" / "dagster.postgres.yaml").is_file()


# --- (b) workspaces ---------------------------------------------------------------------------

def test_local_workspace_loads_the_definitions_module():
    (entry,) = _load(ROOT / "workspace.yaml")["load_from"]
    assert entry["python_module"]["module_name"] == "monitor_dagster.definitions"


def test_docker_workspace_points_at_the_code_server(compose):
    (entry,) = _load(ROOT / "deploy" / "workspace.docker.yaml")["load_from"]
    grpc = entry["grpc_server"]
    assert (grpc["host"], grpc["port"]) == ("code", 4000)
    assert grpc["host"] in compose["services"]
    # the server behind it serves monitor_dagster.definitions (checked on the compose command)
    assert "monitor_dagster.definitions" in compose["services"]["code"]["command"]


# --- (c) deploy/dagster.postgres.yaml ---------------------------------------------------------

@pytest.fixture()
def instance_home(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text(INSTANCE_YAML.read_text(encoding="utf-8"), encoding="utf-8")
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    return tmp_path


def _process(config_type, value):
    from dagster._config import process_config, resolve_to_config_type

    result = process_config(resolve_to_config_type(config_type), value)
    assert result.success, [e.message for e in result.errors]
    return result.value


def test_instance_yaml_validates_against_dagster_schema(instance_home):
    """Top-level instance schema, then each configurable class's own config schema; the run
    coordinator and launcher are instantiated. Storage is validated, not connected to."""
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.launcher import DefaultRunLauncher
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import DagsterPostgresStorage

    config, _ = dagster_instance_config(str(instance_home))     # raises on schema errors
    assert config["telemetry"] == {"enabled": False}

    ref = InstanceRef.from_dir(str(instance_home))
    assert (ref.storage_data.module_name, ref.storage_data.class_name) == (
        "dagster_postgres", "DagsterPostgresStorage")
    storage_cfg = _process(DagsterPostgresStorage.config_type(), yaml.safe_load(ref.storage_data.config_yaml))
    assert storage_cfg["postgres_db"]["hostname"] == "postgres"
    assert storage_cfg["postgres_db"]["port"] == 5432             # IntSource from env

    coordinator = ref.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    assert coordinator.get_run_queue_config().max_concurrent_runs == 2
    assert isinstance(ref.run_launcher, DefaultRunLauncher)


def test_instance_schema_check_is_not_vacuous(tmp_path):
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    bad = _load(INSTANCE_YAML)
    bad["storage"]["postgres"]["postgres_db"]["hostnam"] = bad["storage"]["postgres"]["postgres_db"].pop("hostname")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))
