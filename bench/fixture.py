"""The benchmark's databases: a generated source, a migrated analytics template, copies of it.

They live on the server the tests use when one is configured (the tests' own helpers pick it,
create and drop the databases, and give the source's reader URI), so the bench measures on
databases built the way the integration tests build theirs. Every database is named
bench_<tag>_<label> and dropped at the end unless --keep.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from chatwoot_etl import connections, settings
from chatwoot_etl.admin import migrations
from chatwoot_etl.localdev import demo, embedded, seed
from tests.fixtures.databases import database_name, drop_databases, new_database, server_admin_uri
from tests.fixtures.sources import source_database

MESSAGES_PER_CONVERSATION = 10
INBOXES_PER_ACCOUNT = 2
SEED = 42


def log(message: str) -> None:
    """Progress on stderr: stdout carries only the table."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class Server:
    """Throwaway databases on one PostgreSQL server; all dropped by close()."""

    def __init__(self, keep: bool = False) -> None:
        configured = os.environ.get(connections.env_var(connections.ANALYTICS_CONN_ID))
        self.kind = "configured" if configured else "embedded"
        self.admin_uri = server_admin_uri(configured, embedded.PGDATA)
        self.tag = uuid.uuid4().hex[:6]
        self.created: list[str] = []
        self.keep = keep

    def uri(self, name: str) -> str:
        return connections.with_database(self.admin_uri, name)

    def create(self, label: str, template: str | None = None) -> str:
        """A new database bench_<tag>_<label> (optionally a copy of template); its URI."""
        name = f"bench_{self.tag}_{label}"[:63]
        uri = new_database(self.admin_uri, name, template)
        self.created.append(name)
        return uri

    def drop(self, *names: str) -> None:
        drop_databases(self.admin_uri, names)
        self.created = [name for name in self.created if name not in names]

    def drop_labelled(self, prefix: str) -> None:
        """Every database whose label starts with prefix: one fixture's, once its figure is taken."""
        self.drop(*(name for name in self.created if name.startswith(f"bench_{self.tag}_{prefix}")))

    def close(self) -> None:
        if self.keep:
            log(f"kept databases: {', '.join(self.created)}")
            return
        self.drop(*reversed(self.created))

    def version(self) -> str:
        with psycopg.connect(self.admin_uri) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


class Fixture:
    """One generated source plus a migrated analytics template with its tenants registered."""

    def __init__(self, server: Server, label: str, conversations: int, tenants: int, workdir: Path) -> None:
        self.server, self.label = server, label
        source = source_database(server.create(f"{label}_src"))
        self.admin, self.reader = source.admin_uri, source.reader_uri
        self.counts, self.seed_seconds = self._generate(conversations, tenants)
        self.template = database_name(server.create(f"{label}_an_tmpl"))
        with psycopg.connect(server.uri(self.template)) as conn:
            migrations.run(conn)
        self.env = child_env(server.uri(self.template), self.reader, self.admin, workdir)
        with patched_environ(self.env):
            self.tenant_ids = demo.register_demo_tenants()
            # what the engine's children read (their environment, not this process's)
            self.engine_session = settings.SOURCE_SESSION.get()
        self.inboxes = self._tenant_inboxes()
        self.view_rows = {tenant: self._count_rows(inboxes) for tenant, inboxes in self.inboxes.items()}

    def _generate(self, conversations: int, tenants: int) -> tuple[dict, float]:
        """The deployed view over generated data, analyzed; the counts and the seconds it took."""
        started = time.monotonic()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            seed.apply_schema(conn, view="deployed")
            counts = seed.generate(conn, accounts=tenants, inboxes_per_account=INBOXES_PER_ACCOUNT,
                                   conversations=conversations,
                                   messages_per_conversation=MESSAGES_PER_CONVERSATION, seed=SEED)
            conn.execute("ANALYZE")
        return counts, time.monotonic() - started

    def _tenant_inboxes(self) -> dict[int, list[int]]:
        with psycopg.connect(self.server.uri(self.template)) as conn:
            accounts = dict(conn.execute("SELECT id, account_id FROM tenants WHERE id = ANY(%s)", (self.tenant_ids,)))
        with psycopg.connect(self.admin) as conn:
            return {
                tenant: [row[0] for row in conn.execute(
                    "SELECT id FROM inboxes WHERE account_id = %s ORDER BY id", (account,)).fetchall()]
                for tenant, account in accounts.items()
            }

    def _count_rows(self, inboxes: list[int]) -> int:
        """The view's row count from its base tables (one row per conversation and CSAT answer):
        counting through the deployed view would aggregate every message once per tenant."""
        with psycopg.connect(self.admin) as conn:
            return conn.execute(
                "SELECT count(*) FROM conversations c LEFT JOIN csat_survey_responses cs ON cs.conversation_id = c.id"
                " WHERE c.inbox_id = ANY(%s)", (inboxes,)).fetchone()[0]

    @property
    def all_inboxes(self) -> list[int]:
        return [i for inboxes in self.inboxes.values() for i in inboxes]

    @property
    def total_rows(self) -> int:
        return sum(self.view_rows.values())

    def fresh_analytics(self, label: str) -> dict[str, str]:
        """A new analytics database copied from the template; the child environment for it."""
        uri = self.server.create(f"{self.label}_{label}", template=self.template)
        with psycopg.connect(uri) as conn:
            migrations.run(conn)  # the code may have gained a migration since the template was made
        return {**self.env, connections.env_var(connections.ANALYTICS_CONN_ID): uri, "_BENCH_DB": database_name(uri)}

    def set_view(self, view: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            seed.apply_schema(conn, view=view)


def child_env(analytics: str, reader: str, admin: str, workdir: Path) -> dict[str, str]:
    """The environment of the CLI children: these databases, and Airflow kept off the user's home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update({
        connections.env_var(connections.ANALYTICS_CONN_ID): analytics,
        connections.env_var(connections.SOURCE_CONN_ID): reader,
        connections.env_var(connections.SOURCE_ADMIN_CONN_ID): admin,
        # Variables live in Airflow's metadata DB; an unmigrated SQLite one makes the engine log and
        # carry on (the mirror is best-effort), so no Airflow database is needed here.
        "AIRFLOW_HOME": str(workdir / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{workdir / 'unmigrated.db'}",
        "CHATWOOT_ETL_LOG_LEVEL": "WARNING",
    })
    return env


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """This process in a child's environment (keys starting with _ are the bench's own notes)."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in values.items() if not k.startswith("_")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
