"""The DAG folder with a registry refreshed from a real analytics database: one DAG per registered
tenant, the last good snapshot when the database is down, a new tenant at the next refresh.
(Parsing itself, from a synthetic snapshot, is tested in tests/unit/orchestration/test_dag_factory.py.)"""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_etl.orchestration import registry
from tests.fixtures.dagbag import closed_port_uri, parse_dag_folder, unreachable_databases

pytestmark = pytest.mark.e2e


def parse(airflow_env, *extra: str, **env: str) -> dict:
    return parse_dag_folder(airflow_env.environ(**env), *extra)


def test_dagbag_has_one_dag_per_registered_tenant_and_no_import_errors(airflow_env, env):
    dag_id = registry.dag_id_for(env.tenant_ids[0])
    found = parse(airflow_env, dag_id, **unreachable_databases())
    assert found["errors"] == {}
    assert found["dag_ids"] == sorted([registry.dag_id_for(t) for t in env.tenant_ids]
                                      + ["chatwoot_freshness", "chatwoot_tenant_registry"])
    # parsing with every database unreachable made no connection at all (not even a failed one)
    assert found["connections"] == []
    sample = found["sample"]
    assert sample["tasks"] == ["resolve_inboxes", "check_source_contract", "sync", "publish_watermark", "reconcile"]
    assert (sample["max_active_runs"], sample["catchup"], sample["timetable"]) == (1, False, "CronDataIntervalTimetable")
    assert sample["schedule"] == "*/15 * * * *" and sample["has_doc"]
    assert sample["params"] == ["chunk_size", "mode", "since", "until"]
    assert set(sample["pools"].values()) == {"default_pool", "chatwoot_source"}
    assert all(r >= 1 for r in sample["retries"].values())
    assert set(sample["callbacks"]["sync"]) == {"TaskFailureNotifier"}
    assert any(tag.startswith("tenant:demo-") for tag in sample["tags"])


def test_database_down_keeps_the_last_good_snapshot_and_every_dag(airflow_env, env, monkeypatch):
    before = registry.read(airflow_env.registry_path)
    assert len(before.tenants) == len(env.tenant_ids)
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DB", closed_port_uri("analytics"))
    with pytest.raises(psycopg.OperationalError):
        registry.refresh(airflow_env.registry_path)
    assert registry.read(airflow_env.registry_path).tenants == before.tenants
    # a snapshot broken by hand (or a crash of something that did not write atomically): the last good copy
    airflow_env.registry_path.write_text("{ half written")
    fallback = registry.read(airflow_env.registry_path)
    assert fallback.origin == "last-good" and fallback.tenants == before.tenants
    found = parse(airflow_env, **unreachable_databases())
    assert found["errors"] == {}
    assert {registry.dag_id_for(t) for t in env.tenant_ids} <= set(found["dag_ids"])


def test_new_tenant_appears_at_the_next_refresh(airflow_env, env):
    with env.analytics() as conn:
        tenant = conn.execute("INSERT INTO tenants (name, slug, status, sync_schedule) VALUES "
                              "('Late Arrival', 'late-arrival', 'active', '*/5 * * * *') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id, inbox_name) VALUES (999001, %s, 'x')",
                     (tenant,))
        # a suspended tenant loses its DAG
        conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = %s", (env.tenant_ids[2],))
    summary = registry.refresh(airflow_env.registry_path)
    assert summary["added"] == [tenant] and summary["removed"] == [env.tenant_ids[2]]
    found = parse(airflow_env, registry.dag_id_for(tenant))
    assert registry.dag_id_for(tenant) in found["dag_ids"]
    assert registry.dag_id_for(env.tenant_ids[2]) not in found["dag_ids"]
    assert found["sample"]["schedule"] == "*/5 * * * *"
