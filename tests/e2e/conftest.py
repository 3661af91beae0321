"""Fixtures for running Airflow itself: a migrated metadata database per test (cloned from a
template migrated once), an AIRFLOW_HOME under a temp dir, a registry snapshot, and the
environment every Airflow subprocess gets (connections as AIRFLOW_CONN_* variables).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from chatwoot_etl import connections
from chatwoot_etl.orchestration import registry
from chatwoot_etl.paths import PROJECT_DIR
from tests.conftest import database_name
from tests.integration.conftest import Env, env  # noqa: F401 - the seeded source + analytics pair

DAGS_FOLDER = PROJECT_DIR / "dags"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_uri(database: str = "nowhere") -> str:
    """A URI nothing listens on: any attempt to use it fails at once."""
    return f"postgresql://nobody@127.0.0.1:{free_port()}/{database}?connect_timeout=2"


@pytest.fixture(scope="session")
def airflow_meta_template(create_database) -> str:
    """Name of a database migrated by `airflow db migrate` once per session (template for clones)."""
    uri = create_database("af_tmpl")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"],
                   env={**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy(uri)},
                   check=True, capture_output=True, timeout=600)
    return database_name(uri)


def _sqlalchemy(uri: str) -> str:
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


@dataclass
class AirflowEnv:
    """Everything an Airflow subprocess of one test needs."""

    home: Path
    metadata_uri: str              # plain postgresql:// URI (psycopg)
    registry_path: Path
    analytics_uri: str
    source_uri: str
    extra: dict[str, str] = field(default_factory=dict)

    def environ(self, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy(self.metadata_uri),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            connections.env_var(connections.ANALYTICS_CONN_ID): self.analytics_uri,
            connections.env_var(connections.SOURCE_CONN_ID): self.source_uri,
            registry.ENV_PATH: str(self.registry_path),
            "CHATWOOT_ETL_RETRY_DELAY_SECONDS": "1",
        })
        env.update(self.extra)
        env.update(more)
        return env

    def airflow(self, *args: str, timeout: float = 300, **more: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "airflow", *args], env=self.environ(**more),
                              capture_output=True, text=True, timeout=timeout)

    def metadata(self) -> psycopg.Connection:
        return psycopg.connect(self.metadata_uri, autocommit=True)


@pytest.fixture
def airflow_env(env, create_database, airflow_meta_template, tmp_path) -> AirflowEnv:  # noqa: F811
    """A fresh metadata database, AIRFLOW_HOME and registry snapshot (of env's tenants) for one test."""
    metadata_uri = create_database("af", template=airflow_meta_template)
    snapshot = tmp_path / "registry" / "tenants.json"
    registry.refresh(snapshot)
    return AirflowEnv(home=tmp_path / "airflow", metadata_uri=metadata_uri, registry_path=snapshot,
                      analytics_uri=env.analytics_uri, source_uri=env.source_reader_uri)


@pytest.fixture
def variable_value(airflow_env) -> Callable[[str], str | None]:
    """An Airflow Variable as Airflow itself reads it (values may be Fernet-encrypted at rest)."""

    def read(key: str) -> str | None:
        done = airflow_env.airflow("variables", "get", key)
        return done.stdout.strip() if done.returncode == 0 else None

    return read
