"""A tenant's DAG run by Airflow (`airflow dags test`) against the seeded source."""

from __future__ import annotations

from datetime import UTC

import pytest
from psycopg.rows import dict_row

from chatwoot_etl.localdev import seed
from chatwoot_etl.orchestration import registry
from chatwoot_etl.sync import watermarks
from tests.fixtures.airflow import dags_test
from tests.fixtures.pipeline import assert_target_equals_source, source_state

pytestmark = pytest.mark.e2e


def runs(env, tenant_id: int) -> list[dict]:
    with env.analytics() as conn:
        cur = conn.cursor(row_factory=dict_row)
        cur.execute("SELECT * FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (tenant_id,))
        return cur.fetchall()


def test_dag_syncs_the_tenant_then_moves_only_changes_and_mirrors_the_watermark(airflow_env, env, variable_value):
    tenant = env.tenant_ids[0]
    dag_id = registry.dag_id_for(tenant)
    first = dags_test(airflow_env, dag_id)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert_target_equals_source(env, tenant)
    expected = len(source_state(env, tenant))
    [run] = runs(env, tenant)
    assert (run["status"], run["load_type"], run["records_inserted"]) == ("success", "incremental", expected)
    assert run["triggered_by_detail"].startswith("airflow:manual:") and run["triggered_by"] == "airflow:manual"
    assert (run["reconcile_status"], run["source_rows"], run["target_rows"]) == ("match", expected, expected)
    with env.analytics() as conn:
        mark = watermarks.read(conn, tenant)
    assert mark is not None and mark.updated_at == run["watermark_end"].replace(tzinfo=UTC)  # naive UTC there
    assert watermarks.Watermark.from_json(variable_value(watermarks.variable_key(tenant))) == mark

    with env.source() as conn:
        seed.add_activity(conn, touch_fraction=0.05, new_conversations=10, seed=11)
    second = dags_test(airflow_env, dag_id)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    latest = runs(env, tenant)[-1]
    assert latest["status"] == "success" and latest["reconcile_status"] in ("match", "explained")
    assert 0 < latest["records_inserted"] + latest["records_updated"] < expected * 0.2
    assert latest["records_extracted"] < expected * 0.3          # incremental: only what changed
    assert_target_equals_source(env, tenant)
    with env.analytics() as conn:
        mark = watermarks.read(conn, tenant)
    assert mark.updated_at == latest["watermark_end"].replace(tzinfo=UTC)
    assert watermarks.Watermark.from_json(variable_value(watermarks.variable_key(tenant))) == mark


def test_window_and_full_refresh_from_the_trigger_form(airflow_env, env, variable_value):
    tenant = env.tenant_ids[1]
    dag_id = registry.dag_id_for(tenant)
    assert dags_test(airflow_env, dag_id).returncode == 0
    with env.analytics() as conn:
        mark = watermarks.read(conn, tenant)
    window = dags_test(airflow_env, dag_id, {"mode": "window", "since": "2020-01-01T00:00:00Z"})
    assert window.returncode == 0, window.stdout[-4000:]
    last = runs(env, tenant)[-1]
    assert (last["load_type"], last["status"], last["reconcile_status"]) == ("window", "success", "match")
    assert (last["records_inserted"], last["records_updated"]) == (0, 0) and last["records_unchanged"] > 0
    with env.analytics() as conn:
        assert watermarks.read(conn, tenant) == mark                      # a window never moves the watermark
        conn.execute("DELETE FROM conversations_analytics WHERE tenant_id = %s AND conversation_id IN "
                     "(SELECT conversation_id FROM conversations_analytics WHERE tenant_id = %s LIMIT 5)",
                     (tenant, tenant))
    full = dags_test(airflow_env, dag_id, {"mode": "full_refresh", "chunk_size": 500})
    assert full.returncode == 0, full.stdout[-4000:]
    last = runs(env, tenant)[-1]
    assert (last["load_type"], last["records_inserted"], last["reconcile_status"]) == ("full", 5, "match")
    assert last["chunks_committed"] > 1
    assert_target_equals_source(env, tenant)
    # a window without `since` is bad configuration: it fails at once, no retry
    bad = dags_test(airflow_env, dag_id, {"mode": "window"})
    assert bad.returncode != 0
    with env.analytics() as conn:
        alert = conn.execute("SELECT kind, task_id, try_number, message FROM etl_alerts WHERE tenant_id = %s "
                             "ORDER BY id DESC LIMIT 1", (tenant,)).fetchone()
    assert alert[:3] == ("task_failure", "sync", 1) and "window mode needs since" in alert[3]
