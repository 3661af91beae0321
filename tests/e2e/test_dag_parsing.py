"""The DAG folder as the DAG processor sees it: no import errors, one DAG per registered tenant,
no database or network work at parse time, and the last good snapshot when the database is down."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from chatwoot_etl.orchestration import registry

from tests.e2e.conftest import DAGS_FOLDER, closed_port_uri

pytestmark = pytest.mark.e2e

# Parses dags/ in a fresh interpreter with an audit hook that records every socket connection
# and every process start; prints what the DagBag found.
PARSE = r"""
import json, sys
attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.system"):
        attempts.append(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}")
import airflow.settings  # loaded by the DAG processor before it parses a file
from airflow.dag_processing.dagbag import DagBag
sys.addaudithook(audit)
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dag = bag.dags.get(sys.argv[2]) if len(sys.argv) > 2 else None
print(json.dumps({
    "dag_ids": sorted(bag.dag_ids), "errors": {k: str(v)[:500] for k, v in bag.import_errors.items()},
    "connections": attempts,
    "sample": None if dag is None else {
        "tasks": [t.task_id for t in dag.topological_sort()], "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup, "timetable": type(dag.timetable).__name__, "tags": sorted(dag.tags),
        "schedule": dag.timetable.expression, "params": sorted(dag.params.keys()), "has_doc": bool(dag.doc_md),
        "pools": sorted({t.pool for t in dag.tasks}),
        "retries": {t.task_id: t.retries for t in dag.tasks},
        "callbacks": {t.task_id: [type(c).__name__ for c in (t.on_failure_callback or [])] for t in dag.tasks},
    },
}))
"""


def parse(airflow_env, *extra: str, **env: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PARSE, str(DAGS_FOLDER), *extra], capture_output=True, text=True,
                         timeout=300, env=airflow_env.environ(**env))
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def unreachable(airflow_env) -> dict[str, str]:
    """Every database the project knows about, pointed at a closed port."""
    return {"AIRFLOW_CONN_ANALYTICS_DB": closed_port_uri("analytics"),
            "AIRFLOW_CONN_CHATWOOT_SOURCE": closed_port_uri("chatwoot"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": closed_port_uri("airflow").replace("postgresql://", "postgresql+psycopg://")}


def test_dagbag_has_one_dag_per_registered_tenant_and_no_import_errors(airflow_env, env):
    dag_id = registry.dag_id_for(env.tenant_ids[0])
    found = parse(airflow_env, dag_id, **unreachable(airflow_env))
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
    assert set(sample["pools"]) == {"default_pool", "chatwoot_source"}
    assert all(r >= 1 for r in sample["retries"].values())
    assert set(sample["callbacks"]["sync"]) == {"TaskFailureNotifier"}
    assert any(tag.startswith("tenant:demo-") for tag in sample["tags"])


def test_per_tenant_schedule_override_and_500_tenants(airflow_env, tmp_path):
    tenants = [registry.TenantEntry(i, f"Tenant {i}", f"t-{i}", schedule="0 3 * * *" if i == 7 else None,
                                    inboxes=[i]) for i in range(1, 501)]
    big = tmp_path / "big.json"
    registry.write(tenants, big)
    found = parse(airflow_env, "chatwoot_sync_tenant_7", CHATWOOT_ETL_REGISTRY_PATH=str(big),
                  **unreachable(airflow_env))
    assert found["errors"] == {} and found["connections"] == []
    tenant_dags = [d for d in found["dag_ids"] if d.startswith("chatwoot_sync_tenant_")]
    assert sorted(tenant_dags) == sorted(registry.dag_id_for(i) for i in range(1, 501))
    assert found["sample"]["schedule"] == "0 3 * * *"


def test_worker_parsing_builds_only_its_dag(airflow_env, env):
    wanted = registry.dag_id_for(env.tenant_ids[1])
    found = parse(airflow_env, _AIRFLOW_PARSING_CONTEXT_DAG_ID=wanted, _AIRFLOW_PARSING_CONTEXT_TASK_ID="sync")
    assert [d for d in found["dag_ids"] if d.startswith("chatwoot_sync_tenant_")] == [wanted]


def test_database_down_keeps_the_last_good_snapshot_and_every_dag(airflow_env, env, monkeypatch):
    before = registry.read(airflow_env.registry_path)
    assert len(before.tenants) == len(env.tenant_ids)
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DB", closed_port_uri("analytics"))
    with pytest.raises(Exception):
        registry.refresh(airflow_env.registry_path)
    assert registry.read(airflow_env.registry_path).tenants == before.tenants
    # a snapshot broken by hand (or a crash of something that did not write atomically): the last good copy
    airflow_env.registry_path.write_text("{ half written")
    fallback = registry.read(airflow_env.registry_path)
    assert fallback.origin == "last-good" and fallback.tenants == before.tenants
    found = parse(airflow_env, **unreachable(airflow_env))
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
