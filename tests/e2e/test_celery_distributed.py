"""The CeleryExecutor stack of docker-compose.yaml, proven with real processes on loopback.

Redis, `airflow api-server`, `scheduler`, `dag-processor` and two `airflow celery worker`
processes run with the compose file's x-airflow-common environment (see celery_stack.py for the
mapping from containers to loopback). Every demo tenant's DAG is triggered at once through the
REST API; the runs spread over both workers; one worker is SIGKILLed (with every process it
started) while it runs a tenant's `sync`; its task is failed by the heartbeat timeout and retried
on the other worker; every run ends in success with the target equal to the source and no
duplicate rows. Per-tenant timings and the worker of every task come from the task instances.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import datetime

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg.rows import dict_row

from chatwoot_etl import connections
from chatwoot_etl.localdev import demo as commands
from chatwoot_etl.localdev import seed
from chatwoot_etl.orchestration import registry
from tests.e2e.celery_stack import (
    COMPOSE_FILE,
    PROJECT_DIR,
    CeleryStack,
    LocalServices,
    RedisServer,
    compose_environment,
    interpolate,
    load_compose,
    local_overrides,
    wait_for,
)
from tests.fixtures.databases import database_name
from tests.fixtures.pipeline import Env, assert_target_equals_source, source_state
from tests.fixtures.ports import free_port

_NO_REDIS = RedisServer.available()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(_NO_REDIS is not None, reason=f"{_NO_REDIS}; "
                                                   "install redis-server to run the Celery end-to-end test")]

ACCOUNTS = 4                 # -> 4 demo tenants, 2 inboxes each
CONVERSATIONS = 8000         # ~2000 per tenant: small, but a sync of ~10 chunks is long enough to interrupt
CHUNK_SIZE = 100             # the form's minimum: ~20 chunks per tenant, a window to kill in
WORKERS = ("worker1", "worker2")
NEVER = "0 0 1 1 *"          # yearly: no scheduled run during the test, only the triggered ones
TERMINAL = ("success", "failed")


@pytest.fixture
def demo_data(create_database, analytics_uri, conn_env) -> Env:
    """A Chatwoot-shaped source (4 accounts) and a migrated analytics database, demo tenants registered."""
    source_uri = create_database("celery_source")
    with psycopg.connect(source_uri, autocommit=True) as conn:
        seed.apply_schema(conn)
        seed.generate(conn, accounts=ACCOUNTS, conversations=CONVERSATIONS, seed=7)
    reader_uri = connections.with_database(source_uri, database_name(source_uri), user=connections.SOURCE_READER_ROLE)
    conn_env(analytics=analytics_uri, source=reader_uri, source_admin=source_uri)
    tenant_ids = commands.register_demo_tenants()
    with psycopg.connect(analytics_uri, autocommit=True) as conn:
        conn.execute("UPDATE tenants SET sync_schedule = %s WHERE id = ANY(%s)", (NEVER, tenant_ids))
    return Env(analytics_uri, source_uri, reader_uri, tenant_ids)


@pytest.fixture
def redis(tmp_path):
    """The broker: a redis-server of our own on a free port (else the machine's on 6379)."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def _rows(conn: psycopg.Connection, query: str, params=()) -> list[dict]:
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(query, params)
    return cur.fetchall()


TI_COLUMNS = "dag_id, run_id, task_id, try_number, state, hostname, start_date, end_date"


def task_instances(meta_uri: str, history: bool = False) -> list[dict]:
    table = "task_instance_history" if history else "task_instance"
    with psycopg.connect(meta_uri, autocommit=True) as conn:
        return _rows(conn, f"SELECT {TI_COLUMNS} FROM {table} WHERE dag_id LIKE 'chatwoot_sync_tenant_%%'")


def dag_runs(meta_uri: str) -> list[dict]:
    with psycopg.connect(meta_uri, autocommit=True) as conn:
        return _rows(conn, "SELECT dag_id, run_id, run_type, state, start_date, end_date FROM dag_run "
                           "WHERE dag_id LIKE 'chatwoot_sync_tenant_%%' ORDER BY dag_id")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


def _overlaps(a: dict, b: dict) -> bool:
    return a["start_date"] < b["end_date"] and b["start_date"] < a["end_date"]


def test_celery_workers_run_every_tenant_and_survive_a_killed_worker(demo_data, redis, create_database,
                                                                   airflow_meta_template, tmp_path):
    began = time.monotonic()
    data = demo_data
    dag_ids = {registry.dag_id_for(t): t for t in data.tenant_ids}

    # -- the services the compose file names, on loopback --------------------------------------
    metadata_uri = create_database("af_celery", template=airflow_meta_template)
    api_port, home = free_port(), tmp_path / "airflow"
    api_url = f"http://127.0.0.1:{api_port}"
    paths = {"/opt/airflow/registry": tmp_path / "registry", "/opt/airflow/auth": tmp_path / "auth",
             "/opt/airflow/logs": home / "logs", "/opt/airflow/dags": PROJECT_DIR / "dags",
             "/opt/airflow": PROJECT_DIR}
    services = LocalServices(metadata_uri=metadata_uri, redis_url=redis.url, api_url=api_url, paths=paths)
    admin_password = secrets.token_urlsafe(16)
    dotenv = {                                    # what a user writes into .env (see .env.example)
        "POSTGRES_PASSWORD": "unused-on-loopback", "REDIS_PASSWORD": "unused-on-loopback",
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(32), "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
        "_AIRFLOW_WWW_USER_USERNAME": "admin", "_AIRFLOW_WWW_USER_PASSWORD": admin_password,
        "AIRFLOW_BASE_URL": api_url,
        "AIRFLOW_CONN_CHATWOOT_SOURCE": data.source_reader_uri, "AIRFLOW_CONN_ANALYTICS_DB": data.analytics_uri,
        "AIRFLOW_WORKER_CONCURRENCY": "2",            # 2 slots per worker: 4 across the two
        "AIRFLOW_TASK_HEARTBEAT_TIMEOUT": "30",       # a lost worker's task is failed after 30 s ...
        "AIRFLOW_TASK_QUEUED_TIMEOUT": "90",          # ... a message it held unstarted, after 90 s
        "CHATWOOT_SOURCE_POOL_SLOTS": "3",            # fewer than the 4 task slots: the pool is what caps
    }
    compose = load_compose()
    compose_env = compose_environment(compose, dotenv, services)
    overrides = local_overrides(home, api_port, free_port())
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
    environment.update(compose_env)
    environment.update(overrides)
    environment.update({"CHATWOOT_ETL_RETRY_DELAY_SECONDS": "2"})   # the DAG's own retry delay, shortened
    queue = None
    if redis.shared:  # the machine's Redis: a queue of our own, nobody else's tasks
        queue = environment["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = f"chatwoot_e2e_{secrets.token_hex(4)}"
    # the two cannot drift apart: every compose setting is used as is, except what a single
    # machine must change (a port taken by nothing else)
    changed = {k for k in compose_env if environment[k] != compose_env[k]}
    assert changed <= {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"}, changed
    assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert environment["AIRFLOW__CELERY__BROKER_URL"] == redis.url
    assert environment["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == api_url + "/execution/"
    assert environment["AIRFLOW_CONN_ANALYTICS_DB"] == data.analytics_uri
    assert environment["AIRFLOW_CONN_CHATWOOT_SOURCE"] == data.source_reader_uri
    registry_path = tmp_path / "registry" / "tenants.json"
    assert environment["CHATWOOT_ETL_REGISTRY_PATH"] == str(registry_path)

    # -- what airflow-init does: admin user, the chatwoot_source pool, a first registry snapshot --
    init_env = compose["services"]["airflow-init"]["environment"]
    pool_slots = interpolate(str(init_env["CHATWOOT_SOURCE_POOL_SLOTS"]), dotenv)
    password_file = tmp_path / "auth" / "simple_auth_manager_passwords.json"
    assert environment["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(password_file)
    password_file.parent.mkdir(parents=True)
    password_file.write_text(json.dumps({"admin": admin_password}))
    pool = subprocess.run([sys.executable, "-m", "airflow", "pools", "set", environment["CHATWOOT_ETL_SOURCE_POOL"],
                           pool_slots, "Connections to the Chatwoot source database"],
                          env=environment, capture_output=True, text=True, timeout=300)
    assert pool.returncode == 0, pool.stderr[-3000:]
    assert registry.refresh(registry_path)["tenants"] == len(data.tenant_ids)

    stack = CeleryStack(environment, api_url, api_port, tmp_path / "stack-logs", workers=2,
                        worker_concurrency=int(environment["AIRFLOW__CELERY__WORKER_CONCURRENCY"]),
                        queue=queue)
    interrupted: list[dict] = []
    timings: dict[str, float] = {}
    try:
        stack.start()
        timings["stack_up"] = time.monotonic() - began
        stack.login("admin", admin_password)

        def registered() -> bool:
            with psycopg.connect(metadata_uri, autocommit=True) as conn:
                return conn.execute("SELECT count(*) FROM dag WHERE dag_id = ANY(%s) AND NOT is_stale",
                                    (list(dag_ids),)).fetchone()[0] == len(dag_ids)

        wait_for("the dag-processor to register every tenant DAG", registered, timeout=180)
        triggered_at = time.monotonic()
        timings["dags_registered"] = triggered_at - began
        for dag_id in dag_ids:   # as the UI does it: unpause, then trigger with the form's params
            status, body = stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            assert status == 200, (status, body)
            status, body = stack.api("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                                     {"logical_date": None, "conf": {"mode": "incremental", "chunk_size": CHUNK_SIZE}})
            assert status == 200, (status, body)

        # -- kill a worker in the middle of a tenant's sync: its run row shows committed chunks ---
        def sync_mid_run() -> tuple[str, list[dict]] | None:
            """A worker running a sync that has committed chunks (whichever the scheduler chose)."""
            syncing = [ti for ti in task_instances(metadata_uri) if ti["state"] == "running"
                       and ti["hostname"] in WORKERS and ti["task_id"] == "sync"]
            with data.analytics() as conn:
                for ti in syncing:
                    progress = _rows(conn, "SELECT tenant_id, chunks_committed FROM etl_control WHERE status = "
                                           "'running' AND chunks_committed >= 1 AND tenant_id = ANY(%s)",
                                     ([dag_ids[ti["dag_id"]]],))
                    if progress:
                        return ti["hostname"], progress
            return None

        def any_busy_worker() -> str | None:
            return next((ti["hostname"] for ti in task_instances(metadata_uri)
                         if ti["state"] == "running" and ti["hostname"] in WORKERS), None)

        mid_sync = None
        try:
            victim, mid_sync = wait_for("a sync with committed chunks on a worker", sync_mid_run, timeout=150,
                                        interval=0.1)
        except AssertionError:   # no sync caught mid-run in time: take down a worker that runs something
            victim = wait_for("any task running on a worker", any_busy_worker, timeout=60, interval=0.1)
        survivor = next(name for name in WORKERS if name != victim)
        killed_pids = stack.kill_worker(victim)
        timings["worker_killed"] = time.monotonic() - triggered_at
        interrupted = [ti for ti in task_instances(metadata_uri) if ti["state"] == "running"
                       and ti["hostname"] == victim]
        print(f"\nSIGKILL {victim} ({len(killed_pids)} processes) at {timings['worker_killed']:.1f}s after the "
              f"trigger; interrupted: {[(ti['dag_id'], ti['task_id'], ti['try_number']) for ti in interrupted]}; "
              "syncs in progress (tenant, chunks committed): "
              f"{[(p['tenant_id'], p['chunks_committed']) for p in mid_sync or []]}")
        assert interrupted, "the worker was killed while it ran nothing"

        def all_done() -> bool:
            runs = dag_runs(metadata_uri)
            return len(runs) == len(dag_ids) and all(r["state"] in TERMINAL for r in runs)

        wait_for("every tenant's run to finish", all_done, timeout=420, interval=2)
        timings["all_runs_done"] = time.monotonic() - triggered_at
    finally:
        stop_started = time.monotonic()
        stack.stop()
        timings["shutdown"] = time.monotonic() - stop_started
    assert stack.leftovers == [], f"processes outlived the stack: {stack.leftovers}"

    # -- the outcome --------------------------------------------------------------------------
    runs = dag_runs(metadata_uri)
    tis = task_instances(metadata_uri)
    history = task_instances(metadata_uri, history=True)
    assert all(r["state"] == "success" for r in runs), (
        [(r["dag_id"], r["state"]) for r in runs], stack.tail("scheduler"), stack.tail(survivor))
    assert all(ti["state"] == "success" for ti in tis), [(t["dag_id"], t["task_id"], t["state"]) for t in tis]

    # the interrupted tasks were retried (a later try) on the surviving worker
    final = {(t["dag_id"], t["run_id"], t["task_id"]): t for t in tis}
    for ti in interrupted:
        done = final[(ti["dag_id"], ti["run_id"], ti["task_id"])]
        assert done["try_number"] > ti["try_number"] and done["hostname"] == survivor, (ti, done)
        assert any(h["hostname"] == victim and h["try_number"] == ti["try_number"] and h["state"] != "success"
                   for h in history if (h["dag_id"], h["task_id"]) == (ti["dag_id"], ti["task_id"])), history

    # both workers ran tasks, and tasks of different tenants ran at the same time on the two
    every_try = [t for t in tis + history if t["start_date"] and t["end_date"]]
    assert {t["hostname"] for t in every_try} >= {victim, survivor}
    concurrent = [(a, b) for a in every_try for b in every_try
                  if a["hostname"] == victim and b["hostname"] == survivor and a["dag_id"] != b["dag_id"]
                  and _overlaps(a, b)]
    assert concurrent, "no two tenants ran at the same time on the two workers"
    # ... and however many task slots the workers had, the chatwoot_source pool capped the tasks
    # that hold a source connection (across both workers and all tenants)
    pooled = [t for t in every_try if t["task_id"] in ("check_source_contract", "sync", "reconcile")]
    peak = max(sum(1 for b in pooled if b["start_date"] <= a["start_date"] < b["end_date"]) for a in pooled)
    assert peak <= int(pool_slots), (peak, pool_slots)

    # target equals source for every tenant, no duplicate rows, syncs of a tenant never overlapped
    with data.analytics() as conn:
        for tenant_id in data.tenant_ids:
            assert_target_equals_source(data, tenant_id)
            total, distinct = conn.execute(
                "SELECT count(*), count(DISTINCT conversation_id) FROM conversations_analytics WHERE tenant_id = %s",
                (tenant_id,)).fetchone()
            expected = len(source_state(data, tenant_id))     # one row per source conversation
            assert total == distinct == expected > 0, (tenant_id, total, distinct, expected)
            control = _rows(conn, "SELECT status, started_at, finished_at FROM etl_control WHERE tenant_id = %s "
                                  "ORDER BY started_at", (tenant_id,))
            synced = [r for r in control if r["status"] == "success"]
            assert synced, control
            for before, after in itertools.pairwise(synced):
                assert before["finished_at"] <= after["started_at"], (before, after)

    # an interrupted sync left its run 'running'; the retry found it (under the tenant's lock),
    # marked it abandoned with how far it got, and resumed from the watermark its chunks had moved
    killed_syncs = []
    for ti in (t for t in interrupted if t["task_id"] == "sync" and mid_sync
               and dag_ids[t["dag_id"]] in {p["tenant_id"] for p in mid_sync}):
        with data.analytics() as conn:
            control = _rows(conn, "SELECT status, error_message, chunks_committed, records_extracted, started_at "
                                  "FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (dag_ids[ti["dag_id"]],))
        abandoned = [r for r in control if r["status"] == "failed" and "abandoned" in (r["error_message"] or "")]
        assert len(abandoned) == 1, control
        after = [r for r in control if r["status"] == "success" and r["started_at"] > abandoned[0]["started_at"]]
        assert after, control
        killed_syncs.append({"dag_id": ti["dag_id"], "chunks_committed_before_kill": abandoned[0]["chunks_committed"],
                             "rows_before_kill": abandoned[0]["records_extracted"],
                             "rows_read_by_the_retry": after[0]["records_extracted"]})
    assert killed_syncs or mid_sync is None

    # -- the report: per-tenant timings and the worker of every task ---------------------------
    report = {"timings_s": {k: round(v, 1) for k, v in timings.items()}, "tenants": {},
              "peak_source_pool_tasks": peak, "source_pool_slots": int(pool_slots),
              "interrupted": [{"dag_id": t["dag_id"], "task_id": t["task_id"], "try": t["try_number"]}
                              for t in interrupted], "killed_syncs": killed_syncs,
              "killed_mid_sync": bool(mid_sync)}
    for run in runs:
        tasks = sorted((t for t in every_try if t["dag_id"] == run["dag_id"]), key=lambda t: t["start_date"])
        report["tenants"][run["dag_id"]] = {
            "run_seconds": _seconds(run["start_date"], run["end_date"]),
            "tasks": [f"{t['task_id']}#{t['try_number']}@{t['hostname']}:{t['state']}:"
                      f"{_seconds(t['start_date'], t['end_date'])}s" for t in tasks],
        }
    (tmp_path / "celery-report.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"compose file: {COMPOSE_FILE}")
    print(json.dumps(report, indent=1, default=str))
