"""The embedded default server, and the synced data as a tenant's dashboard reads it (through RLS)."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_etl import connections
from chatwoot_etl.localdev import embedded
from chatwoot_etl.sync import engine

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


def _dashboard(conn, tenant_id, query):
    with conn.transaction():
        conn.execute("SET LOCAL ROLE dashboard")
        conn.execute("SELECT set_config('app.current_tenant_id', %s, true)", (str(tenant_id),))
        return conn.execute(query).fetchone()


def test_dashboard_reads_real_rows_of_its_tenant_only(env):
    for tenant in env.tenant_ids:
        assert engine.sync_tenant(tenant).status == "success"
    query = ("SELECT count(*), count(*) FILTER (WHERE is_lead), count(*) FILTER (WHERE visit_scheduled), "
             "count(DISTINCT tenant_id), min(tenant_id) FROM conversations_analytics")
    with env.analytics() as conn:
        per_tenant = {t: _dashboard(conn, t, query) for t in env.tenant_ids}
        admin = _dashboard(conn, 0, query)
        truth = dict(conn.execute("SELECT tenant_id, count(*) FROM conversations_analytics GROUP BY 1").fetchall())
    for tenant, (rows, leads, visits, tenants_seen, only) in per_tenant.items():
        assert rows == truth[tenant] > 0
        assert tenants_seen == 1 and only == tenant
        assert 0 < leads < rows and 0 < visits < leads  # real signals, not "half of everything"
    assert admin[0] == sum(truth.values()) and admin[3] == len(env.tenant_ids)
