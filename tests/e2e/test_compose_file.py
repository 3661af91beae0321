"""docker-compose.yaml, Dockerfile and .env.example, checked without Docker: the services of
Airflow 3.3's official layout, one shared environment, healthchecks, volumes, the demo profile,
and no secret written in the file (every one comes from .env through ${...})."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.celery_stack import (
    COMPOSE_FILE,
    PROJECT_DIR,
    common_environment,
    interpolate,
    load_compose,
    local_overrides,
    referenced_variables,
)

AIRFLOW_SERVICES = ["airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker"]
LONG_RUNNING = ["postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "airflow-worker"]
DEMO_SERVICES = ["chatwoot-demo-db", "analytics-demo-db", "chatwoot-demo-seed"]
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|^AIRFLOW_CONN_|SQL_ALCHEMY_CONN|BROKER_URL|RESULT_BACKEND")
ONE_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def common(compose) -> dict:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def dotenv_example() -> dict[str, str]:
    values = {}
    for line in (PROJECT_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_services_of_the_official_layout(compose):
    services = compose["services"]
    for name in ["postgres", "redis", *AIRFLOW_SERVICES]:
        assert name in services, name
        assert "profiles" not in services[name], f"{name} must start with a plain `docker compose up`"
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    assert commands["airflow-worker"] == "celery worker"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_every_airflow_service_shares_the_common_block(compose, common):
    env = common_environment(compose)
    for name in AIRFLOW_SERVICES + ["chatwoot-demo-seed"]:
        service = compose["services"][name]
        assert service["image"] == common["image"] and service["build"] == common["build"], name
        assert service["volumes"] == common["volumes"], name
        service_env = {k: str(v) for k, v in service["environment"].items()}
        assert {k: service_env.get(k) for k in env} == env, f"{name} changes the shared environment"
        if name != "airflow-init":             # init runs as root to fix the volumes' ownership
            assert service["user"] == common["user"], name
    assert common["image"].startswith("${AIRFLOW_IMAGE_NAME")
    assert common["build"]["dockerfile"] == "Dockerfile"
    assert common["user"] == "${AIRFLOW_UID:-50000}:0"
    for dependency in ("postgres", "redis"):
        assert common["depends_on"][dependency]["condition"] == "service_healthy"


def test_the_shared_environment(compose):
    env = common_environment(compose)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert urlsplit(_placeholders(env["AIRFLOW__CELERY__BROKER_URL"])).hostname == "redis"
    assert urlsplit(_placeholders(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])).hostname == "postgres"
    assert urlsplit(_placeholders(env["AIRFLOW__CELERY__RESULT_BACKEND"])).hostname == "postgres"
    # one Fernet key and one JWT secret for every container, from .env
    assert referenced_variables(env["AIRFLOW__CORE__FERNET_KEY"]) == [("AIRFLOW_FERNET_KEY", ":?")]
    assert referenced_variables(env["AIRFLOW__API_AUTH__JWT_SECRET"]) == [("AIRFLOW_JWT_SECRET", ":?")]
    assert referenced_variables(env["AIRFLOW__API__SECRET_KEY"]) == [("AIRFLOW_API_SECRET_KEY", ":?")]
    # the project's connections, from .env
    assert referenced_variables(env["AIRFLOW_CONN_CHATWOOT_SOURCE"]) == [("AIRFLOW_CONN_CHATWOOT_SOURCE", ":?")]
    assert referenced_variables(env["AIRFLOW_CONN_ANALYTICS_DB"]) == [("AIRFLOW_CONN_ANALYTICS_DB", ":?")]
    # the registry snapshot the DAG files read sits on a volume every Airflow container mounts
    from chatwoot_etl import settings
    from chatwoot_etl.orchestration import registry

    assert env[registry.ENV_PATH].startswith("/opt/airflow/registry/")
    assert env["CHATWOOT_ETL_SOURCE_POOL"] == settings.SOURCE_POOL.default == "chatwoot_source"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"


def test_the_local_run_changes_only_ports(compose, tmp_path):
    """The Celery end-to-end test adds these to the compose environment: they may replace only a port."""
    overridden = set(local_overrides(tmp_path, 1, 2)) & set(common_environment(compose))
    assert overridden == {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"}


def test_healthchecks_and_start_order(compose):
    services = compose["services"]
    for name in LONG_RUNNING + ["chatwoot-demo-db", "analytics-demo-db"]:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["airflow-worker"]["healthcheck"]["test"])
    for name in AIRFLOW_SERVICES[1:]:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"


def test_init_migrates_creates_the_admin_and_the_pool(compose):
    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    assert init["user"] == "0:0"
    assert "/entrypoint airflow version" in script
    assert 'airflow pools set "$${CHATWOOT_ETL_SOURCE_POOL}"' in script
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script and "_AIRFLOW_WWW_USER_PASSWORD" in script
    assert "chatwoot-etl registry refresh" in script
    assert referenced_variables(str(init["environment"]["_AIRFLOW_WWW_USER_PASSWORD"])) == [
        ("_AIRFLOW_WWW_USER_PASSWORD", ":?")]


def test_volumes(compose, common):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert not source.startswith((".", "/")), f"bind mount {volume}: the image carries the code"
            used.add(source)
    assert used == declared
    mounts = dict(v.split(":", 1) for v in common["volumes"])
    assert mounts["chatwoot-registry"] == "/opt/airflow/registry"
    assert mounts["airflow-logs"] == "/opt/airflow/logs"
    assert mounts["airflow-auth"] == "/opt/airflow/auth"
    assert "postgres-db-volume:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_the_demo_profile(compose):
    services = compose["services"]
    for name in DEMO_SERVICES:
        assert services[name]["profiles"] == ["demo"], name
    seed = services["chatwoot-demo-seed"]
    script = "\n".join(seed["command"])
    for step in ("chatwoot-etl migrate", "chatwoot-etl seed-source", "register_demo_tenants",
                 "chatwoot-etl registry refresh", "airflow dags unpause"):
        assert step in script, step
    for dependency in ("chatwoot-demo-db", "analytics-demo-db"):
        assert seed["depends_on"][dependency]["condition"] == "service_healthy"
    assert seed["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["flower"]["profiles"] == ["flower"]


def _placeholders(value: str) -> str:
    """Each ${...} reference replaced by a plain token (so the URL parses)."""
    counter = iter(range(1000))
    return re.sub(r"\$\{[^}]*\}", lambda _: f"REF{next(counter)}X", value)


def _environments(compose) -> list[tuple[str, str, str]]:
    found = [("x-airflow-common", k, str(v)) for k, v in compose["x-airflow-common"]["environment"].items()]
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        found += [(name, k, str(v)) for k, v in env.items()]
    return found


def test_no_secret_is_inlined(compose):
    offenders = []
    for where, key, value in _environments(compose):
        if not SECRET_KEY.search(key) or key.endswith("_FILE"):
            continue
        if "://" in value:       # a URL: its password, if any, is one ${...} reference
            parts = urlsplit(_placeholders(value))
            if parts.password is not None and not re.fullmatch(r"REF\d+X", parts.password):
                offenders.append(f"{where}.{key}")
            if not referenced_variables(value):
                offenders.append(f"{where}.{key}")
        elif not ONE_REFERENCE.match(value):
            offenders.append(f"{where}.{key}")
        if any(op in (":-", "-") and SECRET_KEY.search(name) for name, op in referenced_variables(value)):
            offenders.append(f"{where}.{key} (default)")
    assert not offenders, f"secrets must come from .env as ${{VAR}} / ${{VAR:?message}}: {offenders}"
    # and no reference to a secret falls back to a default written in the file
    text = COMPOSE_FILE.read_text()
    for name, op in referenced_variables(text):
        if SECRET_KEY.search(name) or name.startswith("AIRFLOW_CONN_"):
            assert op in (None, ":?", "?"), f"${{{name}{op}...}} writes a default secret into the file"


def test_env_example_fills_every_required_variable_with_local_values(compose, dotenv_example):
    text = COMPOSE_FILE.read_text()
    required = {name for name, op in referenced_variables(text) if op in (":?", "?")}
    assert required <= set(dotenv_example), required - set(dotenv_example)
    for _where, _key, value in _environments(compose):
        interpolate(value, dotenv_example)    # raises on a missing required variable
    for name, value in dotenv_example.items():
        if "://" in value:
            parts = urlsplit(value)
            assert parts.password in (None, "airflow", "changeme"), name
        elif "PASSWORD" in name:
            assert value in ("airflow", "changeme"), name
        elif "SECRET" in name:
            assert value.startswith("changeme"), name
    from cryptography.fernet import Fernet

    Fernet(dotenv_example["AIRFLOW_FERNET_KEY"].encode())    # a valid key (that decodes to "changeme...")
    assert ".env" in (PROJECT_DIR / ".gitignore").read_text().split()


def test_dockerfile_installs_the_pinned_requirements_and_copies_the_project_folders():
    text = (PROJECT_DIR / "Dockerfile").read_text()
    assert re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:3\.3\.2-python3\.11$", text, re.M)
    assert "FROM ${AIRFLOW_IMAGE}" in text
    assert re.search(r"pip install .*-r \S*requirements\.txt -c \S*constraints\.txt", text)
    for folder in ("dags", "plugins", "include"):
        assert re.search(rf"^COPY .*{folder}/ /opt/airflow/{folder}/$", text, re.M), folder
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text
    ignored = (PROJECT_DIR / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".local", ".git"} <= set(ignored)


def test_celery_provider_is_pinned():
    requirements = (PROJECT_DIR / "requirements.txt").read_text().split()
    constraints = set((PROJECT_DIR / "constraints.txt").read_text().split())
    pinned = [line for line in requirements if line.startswith("apache-airflow-providers-celery==")]
    assert pinned and pinned[0] in constraints
    names = {line.split("==")[0].lower() for line in constraints}
    assert {"celery", "kombu", "redis"} <= names
    assert Path(COMPOSE_FILE).name == "docker-compose.yaml" and COMPOSE_FILE.parent == PROJECT_DIR
