"""The DAG folder parsed as the DAG processor does, from a synthetic registry snapshot: no database,
no `airflow db migrate`, every database the project knows pointed at a closed port."""

from __future__ import annotations

import os

import pytest

from chatwoot_etl import settings
from chatwoot_etl.orchestration import registry
from tests.fixtures.dagbag import parse_dag_folder, unreachable_databases

MAINTENANCE = ["chatwoot_freshness", "chatwoot_tenant_registry"]
ALLPFIT = registry.TenantEntry(1, "AllpFit CrossFit", "allpfit", inboxes=[11, 12])


@pytest.fixture
def environ(tmp_path):
    """A DAG processor's environment: its own AIRFLOW_HOME, no metadata database, a registry snapshot."""

    def make(tenants: list[registry.TenantEntry], **more: str) -> dict[str, str]:
        snapshot = tmp_path / "registry" / "tenants.json"
        registry.write(tenants, snapshot)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "CHATWOOT_ETL_"))}
        env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    settings.REGISTRY_PATH.env_var: str(snapshot), **unreachable_databases(), **more})
        return env

    return make


def test_one_dag_per_tenant_parsed_without_any_connection_or_heavy_import(environ):
    found = parse_dag_folder(environ([ALLPFIT, registry.TenantEntry(2, "Clínica Sorriso", "clinica-sorriso")]),
                             "chatwoot_sync_tenant_1")
    assert found["errors"] == {}
    assert found["dag_ids"] == sorted(["chatwoot_sync_tenant_1", "chatwoot_sync_tenant_2", *MAINTENANCE])
    assert found["connections"] == []          # not even a failed attempt
    assert found["heavy_modules"] == []        # pandas / psycopg load inside the tasks only
    sample = found["sample"]
    assert sample["tasks"] == ["resolve_inboxes", "check_source_contract", "sync", "publish_watermark", "reconcile"]
    # the data flow of the TaskFlow DAG: publish_watermark and reconcile both read sync's summary
    assert sample["upstream"]["publish_watermark"] == ["sync"]
    assert sample["upstream"]["reconcile"] == ["publish_watermark", "sync"]
    assert (sample["max_active_runs"], sample["catchup"], sample["timetable"]) == (1, False, "CronDataIntervalTimetable")
    assert sample["schedule"] == "*/15 * * * *"
    assert "AllpFit CrossFit" in sample["doc_md"] and "mode=full_refresh" in sample["doc_md"]
    assert sample["params"] == ["chunk_size", "mode", "since", "until"]
    source_tasks = {"check_source_contract", "sync", "reconcile"}
    assert {t for t, pool in sample["pools"].items() if pool == "chatwoot_source"} == source_tasks
    assert all(r >= 1 for r in sample["retries"].values())
    assert set(sample["callbacks"]["sync"]) == {"TaskFailureNotifier"}
    assert set(sample["retry_policy"].values()) == {"SyncRetryPolicy"}
    assert "tenant:allpfit" in sample["tags"]


def test_settings_reach_the_dags_through_airflow_config(environ):
    env = environ([ALLPFIT], AIRFLOW__CHATWOOT_ETL__SOURCE_POOL="chatwoot_small_pool",
                  AIRFLOW__CHATWOOT_ETL__DEFAULT_SCHEDULE="*/30 * * * *", AIRFLOW__CHATWOOT_ETL__RETRIES="5")
    sample = parse_dag_folder(env, "chatwoot_sync_tenant_1")["sample"]
    assert sample["pools"]["sync"] == "chatwoot_small_pool"
    assert sample["schedule"] == "*/30 * * * *"
    assert set(sample["retries"].values()) == {5}


def test_a_bad_setting_is_an_import_error_naming_it(environ):
    found = parse_dag_folder(environ([ALLPFIT], AIRFLOW__CHATWOOT_ETL__RETRIES="three"))
    assert found["errors"], "a bad setting must not be silently replaced by its default"
    assert all("setting retries" in error and "'three'" in error for error in found["errors"].values()), found["errors"]


def test_per_tenant_schedule_override_and_500_tenants(environ):
    tenants = [registry.TenantEntry(i, f"Tenant {i}", f"t-{i}", schedule="0 3 * * *" if i == 7 else None,
                                    inboxes=[i]) for i in range(1, 501)]
    found = parse_dag_folder(environ(tenants), "chatwoot_sync_tenant_7")
    assert found["errors"] == {} and found["connections"] == []
    tenant_dags = [d for d in found["dag_ids"] if d.startswith("chatwoot_sync_tenant_")]
    assert sorted(tenant_dags) == sorted(registry.dag_id_for(i) for i in range(1, 501))
    assert found["sample"]["schedule"] == "0 3 * * *"


def test_a_bad_tenant_schedule_falls_back_to_the_default_and_hides_no_dag(environ):
    tenants = [ALLPFIT, registry.TenantEntry(2, "Broken Cron", "broken-cron", schedule="61 * * * *")]
    found = parse_dag_folder(environ(tenants), "chatwoot_sync_tenant_2")
    assert found["errors"] == {} and "chatwoot_sync_tenant_1" in found["dag_ids"]
    assert found["sample"]["schedule"] == "*/15 * * * *"


def test_worker_parsing_builds_only_its_dag(environ):
    tenants = [ALLPFIT, registry.TenantEntry(2, "B", "b"), registry.TenantEntry(3, "C", "c")]
    found = parse_dag_folder(environ(tenants, _AIRFLOW_PARSING_CONTEXT_DAG_ID="chatwoot_sync_tenant_2",
                                     _AIRFLOW_PARSING_CONTEXT_TASK_ID="sync"))
    assert [d for d in found["dag_ids"] if d.startswith("chatwoot_sync_tenant_")] == ["chatwoot_sync_tenant_2"]


def test_no_snapshot_means_no_tenant_dags_but_the_maintenance_ones(environ, tmp_path):
    env = environ([ALLPFIT])
    env[settings.REGISTRY_PATH.env_var] = str(tmp_path / "nowhere" / "tenants.json")
    found = parse_dag_folder(env)
    assert found["errors"] == {} and found["dag_ids"] == MAINTENANCE
