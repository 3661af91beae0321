"""Shared fixtures: a real PostgreSQL server and throwaway databases on it.

The server is the one the connection variables point at (CI or production-like runs), or else
a test-only embedded server under .local/pg-test. Every database a test uses is created here
and dropped at the end of the session; a user's own databases are never touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from chatwoot_etl import connections
from chatwoot_etl.admin import migrations
from chatwoot_etl.localdev import embedded
from chatwoot_etl.paths import LOCAL_DIR

pytest_plugins = ["tests.source_fixtures"]

# Airflow reads its configuration on import: keep tests off the user's Airflow home and metadata
# database. Tests that need Variables get a migrated metadata database of their own.
os.environ["AIRFLOW_HOME"] = str(LOCAL_DIR / "airflow-test")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{LOCAL_DIR / 'airflow-test' / 'unmigrated.db'}"

TEST_PGDATA = LOCAL_DIR / "pg-test"
SESSION_TAG = uuid.uuid4().hex[:8]

# Captured before any test edits the environment.
_CONFIGURED_ANALYTICS_URI = os.environ.get(connections.env_var(connections.ANALYTICS_CONN_ID))


def server_admin_uri(configured_uri: str | None, pgdata: Path) -> str:
    """A superuser URI on the maintenance database of the configured server, else of the embedded
    one in pgdata (started if needed). A plain function so bench/ picks its server the same way."""
    if configured_uri:
        return connections.with_database(configured_uri, "postgres")
    return embedded.start(pgdata).uri("postgres")


def new_database(admin_uri: str, name: str, template: str | None = None) -> str:
    """CREATE DATABASE name (optionally from a template) on admin_uri's server; its URI."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(query)
    return connections.with_database(admin_uri, name)


def drop_databases(admin_uri: str, names: Iterable[str]) -> None:
    """DROP DATABASE ... WITH (FORCE) each name, in order: open sessions on them do not stop it."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_admin_uri() -> str:
    """A superuser URI on the server the tests use (its maintenance database)."""
    return server_admin_uri(_CONFIGURED_ANALYTICS_URI, TEST_PGDATA)


@pytest.fixture(scope="session")
def create_database(pg_admin_uri: str) -> Iterator[Callable[..., str]]:
    """Factory: create_database(label, template=None) -> URI of a new throwaway database."""
    created: list[str] = []

    def factory(label: str, template: str | None = None) -> str:
        name = f"cwtest_{SESSION_TAG}_{label}_{len(created)}"[:63]
        uri = new_database(pg_admin_uri, name, template)
        created.append(name)
        return uri

    yield factory
    drop_databases(pg_admin_uri, reversed(created))


def database_name(uri: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(uri)["dbname"]


@pytest.fixture(scope="session")
def migrated_template(create_database) -> str:
    """A migrated analytics database, used as a template for per-test copies."""
    uri = create_database("analytics_tmpl")
    with psycopg.connect(uri) as conn:
        migrations.apply(conn)
    return database_name(uri)


@pytest.fixture
def analytics_uri(create_database, migrated_template) -> str:
    """A fresh, migrated analytics database for one test."""
    return create_database("analytics", template=migrated_template)


@pytest.fixture
def analytics_conn(analytics_uri) -> Iterator[psycopg.Connection]:
    with psycopg.connect(analytics_uri, autocommit=True) as conn:
        yield conn


@pytest.fixture
def conn_env(monkeypatch) -> Callable[..., None]:
    """Point the Airflow conn ids of the code under test at given databases."""

    def point(*, analytics: str | None = None, source: str | None = None, source_admin: str | None = None):
        for conn_id, uri in (
            (connections.ANALYTICS_CONN_ID, analytics),
            (connections.SOURCE_CONN_ID, source),
            (connections.SOURCE_ADMIN_CONN_ID, source_admin),
        ):
            if uri is not None:
                monkeypatch.setenv(connections.env_var(conn_id), uri)

    return point
