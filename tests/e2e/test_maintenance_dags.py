"""The maintenance DAGs run by Airflow: the registry refresh and the freshness monitor."""

from __future__ import annotations

import pytest

from chatwoot_etl.orchestration import registry
from tests.fixtures.airflow import dags_test

pytestmark = pytest.mark.e2e


def test_registry_dag_writes_the_snapshot(airflow_env, env):
    with env.analytics() as conn:
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE tenant_id = %s", (env.tenant_ids[0],))
    done = dags_test(airflow_env, "chatwoot_tenant_registry")
    assert done.returncode == 0, done.stdout[-3000:]
    assert [t.id for t in registry.read(airflow_env.registry_path).tenants] == env.tenant_ids[1:]


def test_registry_dag_alerts_once_on_mapping_drift(airflow_env, env):
    with env.source() as conn:  # a new inbox appears in tenant 1's Chatwoot account, unmapped
        account = conn.execute("SELECT account_id FROM inboxes ORDER BY id LIMIT 1").fetchone()[0]
        new_inbox = conn.execute(
            "INSERT INTO inboxes (id, account_id, channel_id, channel_type, name, timezone, created_at, updated_at) "
            "SELECT max(id) + 1, %s, 999, 'Channel::Whatsapp', 'WhatsApp Novo', 'America/Sao_Paulo', now(), now() "
            "FROM inboxes RETURNING id",
            (account,)).fetchone()[0]
    for _ in range(2):
        done = dags_test(airflow_env, "chatwoot_tenant_registry")
        assert done.returncode == 0, done.stdout[-3000:]
    with env.analytics() as conn:
        alerts = conn.execute("SELECT severity, message, details FROM etl_alerts WHERE kind = 'mapping_drift'").fetchall()
    assert len(alerts) == 1  # the same drift pages once
    severity, message, details = alerts[0]
    assert severity == "warning" and "1 unmapped source inboxes" in message
    assert [row["inbox_id"] for row in details["unmapped_source_inboxes"]] == [new_inbox]


def test_freshness_monitor_alerts_once_per_lagging_tenant(airflow_env, env):
    fresh = env.tenant_ids[0]
    assert dags_test(airflow_env, registry.dag_id_for(fresh)).returncode == 0
    done = dags_test(airflow_env, "chatwoot_freshness", {"threshold_minutes": 60})
    assert done.returncode == 0, done.stdout[-3000:]
    with env.analytics() as conn:
        alerted = [r[0] for r in conn.execute(
            "SELECT tenant_id FROM etl_alerts WHERE kind = 'freshness' ORDER BY tenant_id")]
    assert alerted == env.tenant_ids[1:]          # never synced; the synced tenant is fresh
    assert "tenant_stale" in done.stdout + done.stderr
    again = dags_test(airflow_env, "chatwoot_freshness", {"threshold_minutes": 60})
    assert again.returncode == 0
    with env.analytics() as conn:                   # no paging every run for the same lag
        assert conn.execute("SELECT count(*) FROM etl_alerts WHERE kind = 'freshness'").fetchone()[0] == 2
