"""The local demo: build a Chatwoot-shaped source, register its tenants, run their DAGs in Airflow.

``chatwoot-etl demo`` (``make demo``) runs ``run_demo()``; ``seed-source`` runs ``build_source()``.
Airflow runs as subprocesses (``airflow dags test``), with this project's DAG folder, registry
snapshot and connections.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.rows import dict_row

from chatwoot_etl import connections, settings
from chatwoot_etl.admin import migrations
from chatwoot_etl.localdev import seed
from chatwoot_etl.orchestration import registry
from chatwoot_etl.paths import LOCAL_DIR, PROJECT_DIR, sql_text

log = logging.getLogger(__name__)

DEMO_SOURCE: dict[str, Any] = {"accounts": 4, "inboxes_per_account": 2, "conversations": 20000, "seed": 42}
SOURCE_POOL_SLOTS = 4


def build_source(*, activity: bool = False, touch_fraction: float = 0.01, new_conversations: int = 0,
                 **generate: Any) -> dict[str, Any]:
    """Create the local source's schema and generate data, or add activity to what is there (its
    schema and view definition untouched: an index-friendly source stays one)."""
    with connections.connect(connections.SOURCE_ADMIN_CONN_ID, application_name="chatwoot_etl:seed",
                             autocommit=True) as conn:
        if activity:
            return seed.add_activity(conn, touch_fraction=touch_fraction, new_conversations=new_conversations,
                                     seed=generate.get("seed", 42))
        seed.apply_schema(conn)
        return seed.generate(conn, **generate)


# The demo accounts' businesses (the account names of chatwoot/seed_generate.sql, whose phrase book
# speaks each vertical's words) -> the lead pack of their tenant.
_DEMO_PACKS = (("Academia", "fitness"), ("Imobiliária", "real_estate"), ("Construtora", "real_estate"),
               ("Clínica", "health"), ("Óticas", "health"), ("Escola", "education"), ("Faculdade", "education"))


def demo_pack(account_name: str) -> str:
    return next((pack for word, pack in _DEMO_PACKS if word in account_name), "generic")


def register_demo_tenants() -> list[int]:
    """One tenant per source account, every inbox of the account mapped to it (idempotent)."""
    with connections.source("demo") as src:
        inboxes = src.cursor(row_factory=dict_row).execute(sql_text("localdev/source_accounts_inboxes.sql")).fetchall()
    tenants: dict[int, int] = {}  # account_id -> tenant_id
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        for inbox in inboxes:
            account_id = inbox["account_id"]
            if account_id not in tenants:
                tenants[account_id] = connections.one_row(conn.execute(
                    sql_text("localdev/register_demo_tenant.sql"),
                    {"name": inbox["account_name"], "slug": f"demo-{account_id}", "account_id": account_id,
                     "lead_pack": demo_pack(inbox["account_name"])},
                ))[0]
            conn.execute(sql_text("localdev/map_demo_inbox.sql"),
                         {**inbox, "tenant_id": tenants[account_id]})
        conn.commit()
    return list(tenants.values())


def airflow_env() -> dict[str, str]:
    """The environment Airflow subprocesses need: this project's DAGs, registry and connections."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_DIR / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault(settings.REGISTRY_PATH.env_var, str(registry.snapshot_path()))
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


def prepare_airflow(slots: int = SOURCE_POOL_SLOTS) -> None:
    """Create / upgrade Airflow's metadata database and the pool capping source connections."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    done = run_airflow("pools", "set", settings.SOURCE_POOL.get(), str(slots),
                       "Connections to the Chatwoot source database, across every tenant DAG")
    if done.returncode:
        raise RuntimeError(f"airflow pools set failed: {done.stderr[-2000:]}")


def run_demo() -> list[dict[str, Any]]:
    """Migrate, build the demo source once, register tenants, then run every tenant's DAG through
    Airflow (`airflow dags test chatwoot_sync_tenant_<id>`); the per-tenant summary rows."""
    migrations.migrate()
    with connections.connect(connections.SOURCE_ADMIN_CONN_ID, application_name="chatwoot_etl:demo",
                             autocommit=True) as conn:
        seed.apply_schema(conn)
        if not connections.one_row(conn.execute(sql_text("localdev/source_has_conversations.sql")))[0]:
            started = time.monotonic()
            seed.generate(conn, **DEMO_SOURCE)
            log.info("event=demo_source_built seconds=%.1f", time.monotonic() - started)
    tenant_ids = register_demo_tenants()
    snapshot = registry.refresh()
    log.info("event=demo_registry path=%s tenants=%s", snapshot["path"], snapshot["tenants"])
    prepare_airflow()
    since = datetime.now(UTC)
    runs: dict[int, tuple[int, float, Path]] = {}
    for tenant_id in tenant_ids:
        dag_id = registry.dag_id_for(tenant_id)
        log_file = LOCAL_DIR / "demo-logs" / f"{dag_id}.log"
        started = time.monotonic()
        done = run_airflow("dags", "test", dag_id, timeout=1800, log_file=log_file)
        runs[tenant_id] = (done.returncode, time.monotonic() - started, log_file)
        log.info("event=demo_dag_tested dag=%s exit=%s seconds=%.1f log=%s", dag_id, done.returncode,
                 runs[tenant_id][1], log_file)
    return demo_summary(runs, since)


def demo_summary(runs: dict[int, tuple[int, float, Path]], since: datetime) -> list[dict[str, Any]]:
    """One row per tenant: the DAG run's outcome, its sync's counts, the dashboard's view."""
    with connections.analytics("demo") as conn:
        cur = conn.cursor(row_factory=dict_row)
        counts = {row["tenant_id"]: row for row in cur.execute(sql_text("localdev/tenant_dashboard_counts.sql"))}
        latest = {row["tenant_id"]: row for row in cur.execute(
            sql_text("localdev/demo_run_summary.sql"), {"tenant_ids": list(runs), "since": since})}
    rows = []
    for tenant_id, (exit_code, seconds, log_file) in runs.items():
        shown = counts.get(tenant_id, {})
        run = latest.get(tenant_id, {})
        watermark = run.get("watermark")
        rows.append({
            "tenant": tenant_id, "dag_run": "success" if exit_code == 0 else "failed",
            "status": run.get("status", "no run") if exit_code == 0 else "failed", "mode": run.get("load_type"),
            "extracted": run.get("records_extracted", 0), "inserted": run.get("records_inserted", 0),
            "updated": run.get("records_updated", 0), "unchanged": run.get("records_unchanged", 0),
            "failed": run.get("records_failed", 0), "reconcile": run.get("reconcile_status"),
            "rows": shown.get("conversations", 0), "leads": shown.get("leads", 0),
            "visits": shown.get("visits", 0), "converted": shown.get("converted", 0),
            "watermark": watermark.isoformat(timespec="seconds") if watermark else None,
            "seconds": round(seconds, 1), "log": None if exit_code == 0 else str(log_file),
        })
    return rows
