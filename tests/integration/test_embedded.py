"""The embedded default server: both databases served from a unix socket, reattached, stopped."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_etl import connections
from chatwoot_etl.localdev import embedded

pytestmark = pytest.mark.integration


def test_embedded_server_starts_serves_both_databases_and_stops_cleanly(tmp_path):
    pgdata = tmp_path / "pg"
    environment = embedded.environment(pgdata)
    analytics = environment[connections.env_var(connections.ANALYTICS_CONN_ID)]
    source = environment[connections.env_var(connections.SOURCE_CONN_ID)]
    assert "host=" in analytics and "@/" in analytics  # a unix-socket URI, no password anywhere
    with psycopg.connect(analytics) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "analytics"
    with psycopg.connect(connections.with_database(source, "chatwoot", user="postgres")) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "chatwoot"
    again = embedded.environment(pgdata)  # reattaching is idempotent
    assert again == environment
    assert embedded.stop(pgdata)
    assert not (pgdata / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(analytics, connect_timeout=3)
    assert not embedded.stop(pgdata)
