"""Fixtures for the engine's integration tests: a synced-ready pair of databases."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import psycopg
import pytest

from chatwoot_etl import connections
from chatwoot_etl.localdev import demo as commands


@dataclass
class Env:
    analytics_uri: str
    source_admin_uri: str
    source_reader_uri: str
    tenant_ids: list[int]

    def analytics(self) -> psycopg.Connection:
        return psycopg.connect(self.analytics_uri, autocommit=True)

    def source(self) -> psycopg.Connection:
        return psycopg.connect(self.source_admin_uri, autocommit=True)

    def cli_env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            connections.env_var(connections.ANALYTICS_CONN_ID): self.analytics_uri,
            connections.env_var(connections.SOURCE_CONN_ID): self.source_reader_uri,
            connections.env_var(connections.SOURCE_ADMIN_CONN_ID): self.source_admin_uri,
        })
        env.update(extra)
        return env

    def drift_source_view(self) -> None:
        """Replace the source view with a drifted one: contact_name missing, status retyped to text,
        an extra column brand_new (the deployed view stays underneath as vw_deployed)."""
        with self.source() as conn:
            columns = [r[0] for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'vw_conversations_analytics_final'::regclass "
                "AND attnum > 0 ORDER BY attnum")]
            conn.execute("ALTER VIEW vw_conversations_analytics_final RENAME TO vw_deployed")
            select = ", ".join("status::text AS status" if c == "status" else c for c in columns if c != "contact_name")
            conn.execute(f"CREATE VIEW vw_conversations_analytics_final AS SELECT {select}, 1 AS brand_new FROM vw_deployed")
            conn.execute("GRANT SELECT ON vw_conversations_analytics_final TO chatwoot_reader")

    def run_cli(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "chatwoot_etl", *args], env=self.cli_env(**extra_env),
            capture_output=True, text=True, timeout=300,
        )


@pytest.fixture
def env(analytics_uri, source_db, conn_env) -> Env:
    """Fresh analytics + a copy of the seeded source; one tenant per source account, inboxes mapped."""
    conn_env(analytics=analytics_uri, source=source_db.reader_uri, source_admin=source_db.admin_uri)
    tenant_ids = commands.register_demo_tenants()
    return Env(analytics_uri, source_db.admin_uri, source_db.reader_uri, tenant_ids)


@pytest.fixture(scope="session")
def airflow_metadata_uri(create_database) -> str:
    """A migrated Airflow metadata database (where Variables live), as a SQLAlchemy URI."""
    uri = create_database("airflow_meta").replace("postgresql://", "postgresql+psycopg://", 1)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": uri}, check=True, capture_output=True, timeout=300,
    )
    return uri
