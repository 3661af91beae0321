"""Shared fixtures: a real PostgreSQL server and throwaway databases on it.

The server is the one the connection variables point at (CI or production-like runs), or else
a test-only embedded server under .local/pg-test. Every database a test uses is created here
and dropped at the end of the session; a user's own databases are never touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from chatwoot_etl import connections
from chatwoot_etl.admin import migrations
from chatwoot_etl.localdev import embedded
from chatwoot_etl.paths import LOCAL_DIR
from psycopg import sql

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


@pytest.fixture(scope="session")
def pg_admin_uri() -> str:
    """A superuser URI on the server the tests use (its maintenance database)."""
    if _CONFIGURED_ANALYTICS_URI:
        return connections.with_database(_CONFIGURED_ANALYTICS_URI, "postgres")
    return embedded.start(TEST_PGDATA).uri("postgres")


@pytest.fixture(scope="session")
def create_database(pg_admin_uri: str) -> Iterator[Callable[..., str]]:
    """Factory: create_database(label, template=None) -> URI of a new throwaway database."""
    created: list[str] = []

    def factory(label: str, template: str | None = None) -> str:
        name = f"cwtest_{SESSION_TAG}_{label}_{len(created)}"[:63]
        with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
        created.append(name)
        return connections.with_database(pg_admin_uri, name)

    yield factory
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        for name in reversed(created):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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
