"""Database connections, always resolved through Airflow Connections.

Conn ids: ``chatwoot_source`` (read-only role on the Chatwoot database), ``analytics_db``
(the analytics target) and, for building a local or demo source only, ``chatwoot_source_admin``.
When none is configured, the CLI points them at the embedded server (``localdev.embedded``).

Inside Airflow (a task, the DAG processor) every connection comes from PostgresHook. A process
that has not loaded Airflow (the CLI) reads an ``AIRFLOW_CONN_<ID>`` variable itself, as
Airflow's environment-variables backend would, into the same arguments PostgresHook passes to
psycopg (tests/integration/test_connections.py holds the two equal): importing Airflow costs
two seconds a command does not need. Where a secrets backend is configured (it is searched
before the environment), or the value uses what only the hook understands (IAM, a cursor
factory), the hook is used as well.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

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
    options = _options(application_name, statement_timeout_ms, settings or {})
    arguments = None if "airflow" in sys.modules else hook_arguments(conn_id)
    if arguments is None:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from chatwoot_etl import logs

        logs.keep_cli_logging()
        hook = PostgresHook(postgres_conn_id=conn_id, options=options)
        conn = hook.get_conn()  # a psycopg 3 connection: the provider picks psycopg 3 when it is installed
    else:
        import psycopg
        from psycopg.types.json import register_default_adapters

        conn = psycopg.connect(**({**arguments, "options": options} if options else arguments))
        register_default_adapters(conn)  # as the hook does
    conn.autocommit = autocommit  # type: ignore[attr-defined]
    return conn  # type: ignore[return-value]


# Extras PostgresHook acts on itself (it never passes them to psycopg): the hook's business.
_HOOK_EXTRAS = {"iam", "redshift", "redshift-serverless", "cursor", "cluster-identifier", "workgroup-name",
                "aws_conn_id", "sqlalchemy_scheme", "sqlalchemy_query", "azure_conn_id", "__extra__"}
# A Connection's fields, and the names PostgresHook.get_conn passes them to psycopg under.
_FIELDS = ("host", "login", "password", "schema", "port")
_PSYCOPG_NAMES = ("host", "user", "password", "dbname", "port")


def _uri_fields(value: str) -> dict[str, Any] | None:
    """Connection.from_uri's fields of a URI, or None where only Airflow's parser can tell."""
    if value.count("://") != 1:
        return None   # a host with its own protocol
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        return None
    host = unquote(parts.hostname or "")
    if "/" in host:
        return None

    def unquoted(text: str | None) -> str | None:
        return unquote(text) if text else text

    values = (host, unquoted(parts.username), unquoted(parts.password), unquoted(parts.path[1:]), port)
    return {**dict(zip(_FIELDS, values, strict=True)), "conn_type": parts.scheme,
            "extra": dict(parse_qsl(parts.query, keep_blank_values=True)) if parts.query else {}}


def _json_fields(value: str) -> dict[str, Any] | None:
    """Connection.from_json's fields, or None."""
    try:
        fields = json.loads(value)
        extra = fields.get("extra") or {}
        fields["extra"] = json.loads(extra) if isinstance(extra, str) else extra
        fields["port"] = int(fields["port"]) if fields.get("port") else None
    except (ValueError, TypeError, AttributeError):
        return None
    return fields


def hook_arguments(conn_id: str) -> dict[str, Any] | None:
    """The psycopg arguments PostgresHook would make of AIRFLOW_CONN_<ID> (URI or JSON), or None
    where only the hook can tell (no such variable, a secrets backend, hook-only extras)."""
    from chatwoot_etl.settings import secrets_backend_configured

    value = os.environ.get(env_var(conn_id), "").strip()
    if not value or secrets_backend_configured():
        return None
    fields = _json_fields(value) if value.startswith("{") else _uri_fields(value)
    if fields is None or fields.get("conn_type") not in ("postgres", "postgresql"):
        return None
    extra = fields["extra"]
    if not isinstance(extra, dict) or _HOOK_EXTRAS & set(extra):
        return None
    return {**dict(zip(_PSYCOPG_NAMES, (fields.get(field) for field in _FIELDS), strict=True)), **extra}



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
