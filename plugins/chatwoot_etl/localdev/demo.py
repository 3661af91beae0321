"""What the CLI's commands do, returning data for the CLI to print."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

from chatwoot_etl import connections
from chatwoot_etl.admin import migrations
from chatwoot_etl.paths import sql_text

log = logging.getLogger(__name__)

DEMO_SOURCE = {"accounts": 4, "inboxes_per_account": 2, "conversations": 20000, "seed": 42}


def migrate() -> list[str]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:migrate") as conn:
        return migrations.apply(conn)


def seed_source(args) -> dict[str, Any]:
    from chatwoot_etl.localdev import seed

    with connections.connect(connections.SOURCE_ADMIN_CONN_ID, application_name="chatwoot_etl:seed") as conn:
        conn.autocommit = True
        seed.apply_schema(conn)
        if args.activity:
            return seed.add_activity(conn, touch_fraction=args.touch_fraction,
                                     new_conversations=args.new_conversations, seed=args.seed)
        return seed.generate(conn, accounts=args.accounts, inboxes_per_account=args.inboxes_per_account,
                             conversations=args.conversations,
                             messages_per_conversation=args.messages_per_conversation, seed=args.seed)


def syncable_tenants() -> list[int]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:list") as conn:
        return [row[0] for row in conn.execute(sql_text("etl/syncable_tenants.sql")).fetchall()]


def cli_variables():
    """The Airflow Variable mirror; the engine logs and carries on if the metadata DB is unreachable."""
    from chatwoot_etl.orchestration.variables import AirflowVariables

    return AirflowVariables()


def status_rows() -> list[dict[str, Any]]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:status") as conn:
        tenants = conn.execute(sql_text("etl/tenant_status.sql")).fetchall()
        columns = ["tenant", "slug", "status", "inboxes", "watermark", "last_run", "result", "started_at",
                   "extracted", "inserted", "updated", "failed", "rows", "inbox_ids"]
        rows = [dict(zip(columns, row)) for row in tenants]
    latest = _source_newest_by_inbox(sorted({i for row in rows for i in row["inbox_ids"] or []}))
    for row in rows:
        inbox_ids = row.pop("inbox_ids") or []
        newest = max((latest[i] for i in inbox_ids if i in latest), default=None)
        watermark = row["watermark"]
        if newest is not None and watermark is not None:
            lag = newest.replace(tzinfo=timezone.utc) - watermark  # the source's naive times are UTC
            row["lag"] = str(max(lag, timedelta(0))).split(".")[0]
        else:
            row["lag"] = None if newest is None else "never synced"
        row["watermark"] = watermark.isoformat(timespec="seconds") if watermark else None
        row["started_at"] = row["started_at"].isoformat(timespec="seconds") if row["started_at"] else None
    return rows


def _source_newest_by_inbox(inbox_ids: list[int]) -> dict[int, Any]:
    try:
        with connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:status") as conn:
            return dict(conn.execute(sql_text("etl/source_newest_by_inbox.sql"), {"inboxes": inbox_ids}).fetchall())
    except Exception as exc:  # noqa: BLE001 - status still shows the analytics side
        log.warning("event=source_unreachable error=%s", exc)
        return {}


def register_demo_tenants() -> list[int]:
    """One tenant per source account, every inbox of the account mapped to it (idempotent)."""
    with connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:demo") as src:
        inboxes = src.execute(
            "SELECT a.id, a.name, i.id, i.name, i.channel_type FROM accounts a JOIN inboxes i ON i.account_id = a.id "
            "ORDER BY a.id, i.id"
        ).fetchall()
    tenants: dict[int, int] = {}  # account_id -> tenant_id
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        for account_id, account_name, inbox_id, inbox_name, channel_type in inboxes:
            if account_id not in tenants:
                tenants[account_id] = conn.execute(
                    sql_text("etl/register_demo_tenant.sql"),
                    {"name": account_name, "slug": f"demo-{account_id}", "account_id": account_id},
                ).fetchone()[0]
            conn.execute(
                sql_text("etl/map_demo_inbox.sql"),
                {"inbox_id": inbox_id, "tenant_id": tenants[account_id], "inbox_name": inbox_name,
                 "channel_type": channel_type},
            )
        conn.commit()
    return list(tenants.values())


def ensure_airflow_metadata() -> None:
    """Create / upgrade Airflow's metadata database (where the watermark Variables live)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


SOURCE_POOL_SLOTS = 4


def airflow_env() -> dict[str, str]:
    """The environment Airflow subprocesses need: this project's DAGs, registry and connections."""
    from chatwoot_etl.orchestration import registry
    from chatwoot_etl.paths import PROJECT_DIR

    env = dict(os.environ)
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_DIR / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault(registry.ENV_PATH, str(registry.snapshot_path()))
    return env


def run_airflow(*args: str, timeout: float = 600, log_file: Path | None = None) -> subprocess.CompletedProcess:
    """`airflow <args>` in a subprocess; its output goes to log_file when given."""
    command = [sys.executable, "-m", "airflow", *args]
    if log_file is None:
        return subprocess.run(command, env=airflow_env(), capture_output=True, text=True, timeout=timeout)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as out:
        return subprocess.run(command, env=airflow_env(), stdout=out, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)


def ensure_source_pool(slots: int = SOURCE_POOL_SLOTS) -> None:
    """The pool that caps connections to the Chatwoot database across all tenant DAGs."""
    from chatwoot_etl.orchestration.dag_factory import SOURCE_POOL

    done = run_airflow("pools", "set", SOURCE_POOL, str(slots),
                       "Connections to the Chatwoot source database, across every tenant DAG")
    if done.returncode:
        raise RuntimeError(f"airflow pools set failed: {done.stderr[-2000:]}")


def refresh_registry() -> dict[str, Any]:
    from chatwoot_etl.orchestration import registry

    return registry.refresh()


def demo() -> list[dict[str, Any]]:
    """Migrate, build the demo source once, register tenants, then run every tenant's DAG through
    Airflow (`airflow dags test chatwoot_sync_tenant_<id>`); the per-tenant summary rows."""
    from datetime import datetime, timezone

    from chatwoot_etl.localdev import seed
    from chatwoot_etl.paths import LOCAL_DIR
    from chatwoot_etl.orchestration.registry import dag_id_for

    migrate()
    with connections.connect(connections.SOURCE_ADMIN_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        conn.autocommit = True
        seed.apply_schema(conn)
        if conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0:
            started = time.monotonic()
            seed.generate(conn, **DEMO_SOURCE)
            log.info("event=demo_source_built seconds=%.1f", time.monotonic() - started)
    tenant_ids = register_demo_tenants()
    snapshot = refresh_registry()
    log.info("event=demo_registry path=%s tenants=%s", snapshot["path"], snapshot["tenants"])
    ensure_airflow_metadata()
    ensure_source_pool()
    since = datetime.now(timezone.utc)
    runs: dict[int, tuple[int, float, Path]] = {}
    for tenant_id in tenant_ids:
        dag_id = dag_id_for(tenant_id)
        log_file = LOCAL_DIR / "demo-logs" / f"{dag_id}.log"
        started = time.monotonic()
        done = run_airflow("dags", "test", dag_id, timeout=1800, log_file=log_file)
        runs[tenant_id] = (done.returncode, time.monotonic() - started, log_file)
        log.info("event=demo_dag_tested dag=%s exit=%s seconds=%.1f log=%s", dag_id, done.returncode,
                 runs[tenant_id][1], log_file)
    return demo_summary(runs, since)


def demo_summary(runs: dict[int, tuple[int, float, Path]], since) -> list[dict[str, Any]]:
    """One row per tenant: the DAG run's outcome, its sync's counts, the dashboard's view."""
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        counts = {row[0]: row[1:] for row in conn.execute(sql_text("etl/tenant_dashboard_counts.sql")).fetchall()}
        latest = {row[0]: row[1:] for row in conn.execute(
            sql_text("etl/demo_run_summary.sql"), {"tenant_ids": list(runs), "since": since}).fetchall()}
    rows = []
    for tenant_id, (exit_code, seconds, log_file) in runs.items():
        total, leads, visits, converted = counts.get(tenant_id, (0, 0, 0, 0))
        status, load_type, extracted, inserted, updated, unchanged, failed, reconciled, watermark = latest.get(
            tenant_id, ("no run", None, 0, 0, 0, 0, 0, None, None))
        rows.append({
            "tenant": tenant_id, "dag_run": "success" if exit_code == 0 else "failed",
            "status": status if exit_code == 0 else "failed", "mode": load_type, "extracted": extracted,
            "inserted": inserted, "updated": updated, "unchanged": unchanged, "failed": failed,
            "reconcile": reconciled, "rows": total, "leads": leads, "visits": visits, "converted": converted,
            "watermark": watermark.isoformat(timespec="seconds") if watermark else None,
            "seconds": round(seconds, 1), "log": None if exit_code == 0 else str(log_file),
        })
    return rows


def embedded(action: str) -> int:
    from chatwoot_etl.localdev import embedded as server

    if action == "stop":
        server.stop(connections.EMBEDDED_PGDATA)
        return 0
    environment = connections.embedded_environment()
    if action == "env":
        for name, value in environment.items():
            sys.stdout.write(f"export {name}='{value}'\n")
    return 0
