"""Database connections, always resolved through Airflow Connections.

Conn ids: ``chatwoot_source`` (read-only role on the Chatwoot database), ``analytics_db``
(the analytics target) and, for building a local or demo source only, ``chatwoot_source_admin``.
When none is configured (no ``AIRFLOW_CONN_*`` variables), the CLI starts the embedded
PostgreSQL under ``.local/`` and points the three at it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg
from psycopg import sql

from chatwoot_etl.localdev import embedded
from chatwoot_etl.paths import LOCAL_DIR

log = logging.getLogger(__name__)

SOURCE_CONN_ID = "chatwoot_source"
ANALYTICS_CONN_ID = "analytics_db"
SOURCE_ADMIN_CONN_ID = "chatwoot_source_admin"
SOURCE_READER_ROLE = "chatwoot_reader"

EMBEDDED_PGDATA = LOCAL_DIR / "pg"
EMBEDDED_DATABASES = {ANALYTICS_CONN_ID: "analytics", SOURCE_CONN_ID: "chatwoot", "airflow": "airflow"}


def env_var(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def is_configured() -> bool:
    return bool(os.environ.get(env_var(SOURCE_CONN_ID)) and os.environ.get(env_var(ANALYTICS_CONN_ID)))


def ensure_database(admin_uri: str, name: str) -> bool:
    """CREATE DATABASE name unless it exists; True when created."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def embedded_environment(pgdata: Path = EMBEDDED_PGDATA) -> dict[str, str]:
    """Start the embedded server with its databases; the connection variables that reach them."""
    server = embedded.start(pgdata)
    admin_uri = server.uri("postgres")
    for database in EMBEDDED_DATABASES.values():
        ensure_database(admin_uri, database)
    return {
        env_var(ANALYTICS_CONN_ID): server.uri(EMBEDDED_DATABASES[ANALYTICS_CONN_ID]),
        env_var(SOURCE_CONN_ID): server.uri(EMBEDDED_DATABASES[SOURCE_CONN_ID], user=SOURCE_READER_ROLE),
        env_var(SOURCE_ADMIN_CONN_ID): server.uri(EMBEDDED_DATABASES[SOURCE_CONN_ID]),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": server.uri(EMBEDDED_DATABASES["airflow"]).replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
    }


def ensure_connections() -> str:
    """Make the conn ids resolvable in this process: 'configured' or 'embedded'."""
    if is_configured():
        return "configured"
    for name, value in embedded_environment().items():
        os.environ.setdefault(name, value)
    return "embedded"


def _options(application_name: str | None, statement_timeout_ms: int | None, settings: dict[str, str]) -> str | None:
    parts = []
    if application_name:
        parts.append(f"-c application_name={application_name}")
    if statement_timeout_ms is not None:
        parts.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    parts.extend(f"-c {name}={value}" for name, value in settings.items())
    return " ".join(parts) or None


def connect(
    conn_id: str,
    *,
    application_name: str | None = None,
    statement_timeout_ms: int | None = None,
    autocommit: bool = False,
    settings: dict[str, str] | None = None,
) -> psycopg.Connection:
    """A new psycopg 3 connection for conn_id, opened by Airflow's PostgresHook.

    settings are session parameters (name -> value, plain identifiers and numbers only).
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    options = _options(application_name, statement_timeout_ms, settings or {})
    hook = PostgresHook(postgres_conn_id=conn_id, options=options)
    conn = hook.get_conn()
    conn.autocommit = autocommit
    return conn


def with_database(uri: str, database: str, user: str | None = None) -> str:
    """The same server URI pointed at another database (and optionally another role)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1] if "@" in netloc else netloc
        netloc = f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))
