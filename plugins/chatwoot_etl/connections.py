"""Database connections, always resolved through Airflow Connections.

Conn ids: ``chatwoot_source`` (read-only role on the Chatwoot database), ``analytics_db``
(the analytics target) and, for building a local or demo source only, ``chatwoot_source_admin``.
When none is configured, the CLI points them at the embedded server (``localdev.embedded``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import Row

SOURCE_CONN_ID = "chatwoot_source"
ANALYTICS_CONN_ID = "analytics_db"
SOURCE_ADMIN_CONN_ID = "chatwoot_source_admin"
SOURCE_READER_ROLE = "chatwoot_reader"

# The ETL's analytics sessions run in UTC: now() into the owner's naive columns (etl_updated_at,
# stamped by the upsert and the owner's trigger; etl_control's times) then stores UTC, like the
# Chatwoot instants next to it. Administration sessions keep the database's TimeZone instead, so
# the registry's naive timestamps (tenants, inbox_tenant_mapping) hold the same local wall time
# whether the dashboards or the CLI wrote them.
UTC_SESSION = {"TimeZone": "UTC"}
# JIT only slows the per-chunk statements (the staging table has no statistics, so their cost
# estimates cross jit_above_cost and each one pays for a compilation).
ANALYTICS_SESSION = {**UTC_SESSION, "jit": "off"}


def env_var(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def is_configured() -> bool:
    return bool(os.environ.get(env_var(SOURCE_CONN_ID)) and os.environ.get(env_var(ANALYTICS_CONN_ID)))


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
    conn = hook.get_conn()  # a psycopg 3 connection: the provider picks psycopg 3 when it is installed
    conn.autocommit = autocommit  # type: ignore[attr-defined]
    return conn  # type: ignore[return-value]


def one_row(cursor: psycopg.Cursor[Row]) -> Row:
    """The row of a statement that always returns one (an aggregate, a RETURNING insert)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the statement returned no row")
    return row


def analytics(purpose: str, *, administration: bool = False, settings: dict[str, str] | None = None,
              **kwargs) -> psycopg.Connection:
    """An autocommit connection to the analytics database, named chatwoot_etl:<purpose>: in UTC,
    or in the database's own TimeZone for administration (changes to tenants and mappings)."""
    session = {**({} if administration else UTC_SESSION), **(settings or {})}
    return connect(ANALYTICS_CONN_ID, application_name=f"chatwoot_etl:{purpose}", autocommit=True,
                   settings=session, **kwargs)


def source(purpose: str, **kwargs) -> psycopg.Connection:
    """A connection to the Chatwoot source (read-only role), named chatwoot_etl:<purpose>."""
    return connect(SOURCE_CONN_ID, application_name=f"chatwoot_etl:{purpose}", **kwargs)


def with_database(uri: str, database: str, user: str | None = None) -> str:
    """The same server URI pointed at another database (and optionally another role)."""
    parts = urlsplit(uri)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1] if "@" in netloc else netloc
        netloc = f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))
