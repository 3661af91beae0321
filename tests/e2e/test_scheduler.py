"""The real scheduler: scheduled runs, a manual run through the REST API (as the UI triggers it),
and a backfill overlapping a scheduled run, all against the same tenant; the advisory lock keeps
their writes apart and the target ends equal to the source."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from chatwoot_etl.localdev import seed
from chatwoot_etl.orchestration import registry
from chatwoot_etl.sync import locks
from tests.e2e.airflow_stack import AirflowStack, wait_for
from tests.fixtures.pipeline import assert_target_equals_source
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.e2e

TERMINAL = ("success", "failed")


def dag_runs(airflow_env, dag_id: str) -> list[dict]:
    with airflow_env.metadata() as conn:
        cur = conn.cursor(row_factory=dict_row)
        cur.execute("SELECT run_id, run_type, state, start_date, end_date FROM dag_run WHERE dag_id = %s "
                           "ORDER BY run_after", (dag_id,))
        return cur.fetchall()


def control_rows(env, tenant_id: int) -> list[dict]:
    with env.analytics() as conn:
        cur = conn.cursor(row_factory=dict_row)
        cur.execute("SELECT execution_id, status, load_type, triggered_by_detail, "  # instants: naive UTC there
                    "started_at AT TIME ZONE 'UTC' AS started_at, finished_at AT TIME ZONE 'UTC' AS finished_at, "
                    "reconcile_status FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (tenant_id,))
        return cur.fetchall()


def test_scheduled_manual_and_backfill_runs_under_the_real_scheduler(airflow_env, env, tmp_path):
    a, b = env.tenant_ids[:2]
    dag_a, dag_b = registry.dag_id_for(a), registry.dag_id_for(b)
    with env.analytics() as conn:  # per-tenant schedule override, through the registry
        conn.execute("UPDATE tenants SET sync_schedule = '*/1 * * * *' WHERE id = ANY(%s)", ([a, b],))
    registry.refresh(airflow_env.registry_path)
    airflow_env.extra.update({
        "CHATWOOT_ETL_LOCK_WAIT_SECONDS": "240",          # scheduled / manual runs wait for the lock
        "CHATWOOT_ETL_BACKFILL_LOCK_WAIT_SECONDS": "8",   # backfill runs give up sooner and retry
        "CHATWOOT_ETL_RETRY_DELAY_SECONDS": "2",
        "CHATWOOT_ETL_RETRIES": "5",
    })
    pool = airflow_env.airflow("pools", "set", "chatwoot_source", "3", "Chatwoot source connections")
    assert pool.returncode == 0, pool.stderr[-2000:]

    started = time.monotonic()
    stack = AirflowStack(airflow_env, free_port(), tmp_path / "stack-logs")
    holder: psycopg.Connection | None = None
    try:
        stack.start()
        print(f"stack up in {time.monotonic() - started:.0f}s")

        def registered() -> bool:
            with airflow_env.metadata() as conn:
                return conn.execute("SELECT count(*) FROM dag WHERE dag_id = ANY(%s) AND NOT is_stale",
                                    ([dag_a, dag_b],)).fetchone()[0] == 2

        wait_for("the dag-processor to register both tenant DAGs", registered, timeout=180)
        for dag_id in (dag_a, dag_b):
            done = airflow_env.airflow("dags", "unpause", dag_id)
            assert done.returncode == 0, done.stderr[-2000:]

        def first_scheduled_success() -> bool:
            return all(any(r["run_type"] == "scheduled" and r["state"] == "success" for r in dag_runs(airflow_env, d))
                       for d in (dag_a, dag_b))

        wait_for("a successful scheduled run of each DAG", first_scheduled_success, timeout=300, interval=2)
        print(f"first scheduled runs done at {time.monotonic() - started:.0f}s")
        assert_target_equals_source(env, a)
        assert_target_equals_source(env, b)

        # new activity in the source, then: a (long) sync of tenant A holds its lock ...
        with env.source() as conn:
            seed.add_activity(conn, touch_fraction=0.05, new_conversations=15, seed=3)
        holder = psycopg.connect(env.analytics_uri, autocommit=True)
        holder.execute("SET application_name = 'e2e: a long sync of tenant A'")
        assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.lock_key(a)).fetchone()[0]
        locked_at = holder.execute("SELECT now()").fetchone()[0]

        # ... a manual run from the REST API (a bad form value is rejected before any run exists) ...
        status, body = stack.api("POST", f"/api/v2/dags/{dag_a}/dagRuns",
                                 {"logical_date": None, "conf": {"mode": "sometimes"}})
        assert status in (400, 422), (status, body)
        status, body = stack.api("POST", f"/api/v2/dags/{dag_a}/dagRuns",
                                 {"logical_date": None, "conf": {"mode": "incremental", "chunk_size": 200}})
        assert status == 200, (status, body)
        manual_run_id = body["dag_run_id"]

        # ... and a backfill of the last minutes, running next to the scheduled/manual runs.
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        backfill = airflow_env.airflow("backfill", "create", "--dag-id", dag_a, "--max-active-runs", "2",
                                       "--from-date", (now - timedelta(minutes=6)).isoformat(),
                                       "--to-date", (now - timedelta(minutes=4)).isoformat())
        assert backfill.returncode == 0, backfill.stdout[-2000:] + backfill.stderr[-2000:]

        def refused_backfill() -> bool:
            return any(r["status"] == "refused" and r["triggered_by_detail"].startswith("airflow:backfill:")
                       for r in control_rows(env, a))

        wait_for("a backfill run refused by the tenant lock", refused_backfill, timeout=240, interval=2)
        # nothing of tenant A ran while the lock was held by someone else: only refusals
        assert {r["status"] for r in control_rows(env, a) if r["started_at"] > locked_at} == {"refused"}
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", locks.lock_key(a))
        holder.close()
        holder = None
        print(f"lock released at {time.monotonic() - started:.0f}s")

        def backfill_and_manual_done() -> bool:
            runs = dag_runs(airflow_env, dag_a)
            backfills = [r for r in runs if r["run_type"] == "backfill"]
            manual = [r for r in runs if r["run_id"] == manual_run_id]
            return len(backfills) >= 2 and all(r["state"] in TERMINAL for r in backfills + manual)

        wait_for("the backfill and the manual run to finish", backfill_and_manual_done, timeout=400, interval=3)

        def tenant_b_synced_the_activity() -> bool:  # its own schedule, untouched by A's lock
            return any(r["status"] == "success" and r["started_at"] > locked_at for r in control_rows(env, b))

        wait_for("a scheduled sync of tenant B after the new activity", tenant_b_synced_the_activity,
                 timeout=300, interval=3)
        # Wind down: a yearly schedule through the registry (picked up live by the dag-processor),
        # so no new run starts, then let every run finish. (Pausing would freeze running runs.)
        with env.analytics() as conn:
            conn.execute("UPDATE tenants SET sync_schedule = '0 0 1 1 *' WHERE id = ANY(%s)", ([a, b],))
        registry.refresh(airflow_env.registry_path)

        def schedule_applied() -> bool:
            with airflow_env.metadata() as conn:
                return conn.execute("SELECT count(*) FROM dag WHERE dag_id = ANY(%s) "
                                    "AND next_dagrun_create_after > now() + interval '1 day'",
                                    ([dag_a, dag_b],)).fetchone()[0] == 2

        wait_for("the new schedule to reach the scheduler", schedule_applied, timeout=180, interval=2)

        def all_terminal() -> bool:
            return all(r["state"] in TERMINAL for d in (dag_a, dag_b) for r in dag_runs(airflow_env, d))

        wait_for("every started run to finish", all_terminal, timeout=300, interval=3)
        print(f"all runs finished at {time.monotonic() - started:.0f}s")
    finally:
        if holder is not None:
            holder.close()
        stack.stop()
    print(f"stack stopped at {time.monotonic() - started:.0f}s; leftovers killed: {stack.leftovers}")
    assert stack.leftovers == [], "processes outlived their process group"

    runs_a, runs_b = dag_runs(airflow_env, dag_a), dag_runs(airflow_env, dag_b)
    started_a = runs_a
    assert all(r["state"] == "success" for r in runs_a + runs_b), (
        [(r["run_id"], r["state"]) for r in runs_a + runs_b], stack.tail("scheduler"))
    kinds = {r["run_type"] for r in started_a}
    assert {"scheduled", "manual", "backfill"} <= kinds

    rows = control_rows(env, a)
    synced = [r for r in rows if r["status"] == "success"]
    refused = [r for r in rows if r["status"] == "refused"]
    assert refused and all(r["triggered_by_detail"].startswith("airflow:backfill:") for r in refused)
    # every backfill run that was refused synced later (retried), as a window
    backfill_runs = {r["triggered_by_detail"] for r in refused}
    assert backfill_runs <= {r["triggered_by_detail"] for r in synced if r["load_type"] == "window"}
    # the lock kept the writers apart: no two syncs of tenant A ever overlapped
    ordered = sorted(synced, key=lambda r: r["started_at"])
    for before, after in itertools.pairwise(ordered):
        assert before["finished_at"] <= after["started_at"], (before, after)
    assert all(r["reconcile_status"] in ("match", "explained") for r in synced)
    assert_target_equals_source(env, a)
    assert_target_equals_source(env, b)
    with env.analytics() as conn:
        failures = conn.execute("SELECT count(*) FROM etl_alerts WHERE kind = 'task_failure'").fetchone()[0]
        retries = conn.execute("SELECT count(*) FROM etl_alerts WHERE kind = 'task_retry' AND tenant_id = %s "
                               "AND task_id = 'sync'", (a,)).fetchone()[0]
    assert failures == 0 and retries >= len(refused)
