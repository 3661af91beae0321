"""Versioned migrations of the analytics database: ordered SQL files plus a ledger table.

Each file runs in one transaction together with its ledger row, so a failed migration
leaves nothing behind; applied files are skipped; an applied file that was edited afterwards
is an error (write a new migration instead).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg

from chatwoot_etl import connections
from chatwoot_etl.errors import MigrationError
from chatwoot_etl.paths import SQL_DIR

log = logging.getLogger(__name__)

MIGRATIONS_DIR = SQL_DIR / "analytics"
_LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS etl_schema_migrations (
    version     text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""
# Serialises concurrent `migrate` calls on one database (key: 'cwetl' / 'migr' as int4).
_MIGRATION_LOCK = (0x6377_6574, 0x6D69_6772)


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [Migration(version=p.stem, path=p) for p in sorted(directory.glob("*.sql"))]


def apply(conn: psycopg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; the versions applied now (empty when up to date)."""
    conn.autocommit = False
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _MIGRATION_LOCK)
        conn.execute(_LEDGER_DDL)
    applied_now: list[str] = []
    for migration in discover(directory):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _MIGRATION_LOCK)
            row = conn.execute(
                "SELECT checksum FROM etl_schema_migrations WHERE version = %s", (migration.version,)
            ).fetchone()
            if row is not None:
                if row[0] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} was edited after it was applied "
                        f"(ledger checksum {row[0][:12]}, file {migration.checksum[:12]}); add a new migration instead"
                    )
                continue
            try:
                conn.execute(migration.path.read_text(encoding="utf-8"))
            except psycopg.Error as exc:
                raise MigrationError(f"migration {migration.version} failed and was rolled back: {exc}") from exc
            conn.execute(
                "INSERT INTO etl_schema_migrations (version, checksum) VALUES (%s, %s)",
                (migration.version, migration.checksum),
            )
            applied_now.append(migration.version)
            log.info("event=migration_applied version=%s", migration.version)
    return applied_now


def migrate() -> list[str]:
    """Apply pending migrations to the analytics database of the ``analytics_db`` connection."""
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:migrate") as conn:
        return apply(conn)
