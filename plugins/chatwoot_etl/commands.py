"""What the CLI's commands do, returning data for the CLI to print."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from chatwoot_etl import connections, migrations
from chatwoot_etl.paths import sql_text

log = logging.getLogger(__name__)

DEMO_SOURCE = {"accounts": 4, "inboxes_per_account": 2, "conversations": 20000, "seed": 42}


def migrate() -> list[str]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:migrate") as conn:
        return migrations.apply(conn)


def seed_source(args) -> dict[str, Any]:
    from chatwoot_etl import seed

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
    from chatwoot_etl.variables import AirflowVariables

    return AirflowVariables()


def status_rows() -> list[dict[str, Any]]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:status") as conn:
        tenants = conn.execute(sql_text("etl/tenant_status.sql")).fetchall()
        columns = ["tenant", "slug", "status", "inboxes", "watermark", "last_run", "result", "started_at",
                   "extracted", "inserted", "updated", "failed", "rows", "inbox_ids"]
        rows = [dict(zip(columns, row)) for row in tenants]
    latest = _source_latest_by_inbox()
    for row in rows:
        inbox_ids = row.pop("inbox_ids") or []
        newest = max((latest[i] for i in inbox_ids if i in latest), default=None)
        watermark = row["watermark"]
        if newest is not None and watermark is not None:
            lag = newest.replace(tzinfo=watermark.tzinfo) - watermark
            row["lag"] = str(max(lag, timedelta(0))).split(".")[0]
        else:
            row["lag"] = None if newest is None else "never synced"
        row["watermark"] = watermark.isoformat(timespec="seconds") if watermark else None
        row["started_at"] = row["started_at"].isoformat(timespec="seconds") if row["started_at"] else None
    return rows


def _source_latest_by_inbox() -> dict[int, Any]:
    try:
        with connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:status") as conn:
            return dict(conn.execute(sql_text("etl/source_latest_by_inbox.sql")).fetchall())
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
    tenant_ids: list[int] = []
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        for account_id, account_name, inbox_id, inbox_name, channel_type in inboxes:
            tenant_id = conn.execute(
                sql_text("etl/register_demo_tenant.sql"),
                {"name": account_name, "slug": f"demo-{account_id}", "account_id": account_id},
            ).fetchone()[0]
            conn.execute(
                sql_text("etl/map_demo_inbox.sql"),
                {"inbox_id": inbox_id, "tenant_id": tenant_id, "inbox_name": inbox_name, "channel_type": channel_type},
            )
            if tenant_id not in tenant_ids:
                tenant_ids.append(tenant_id)
        conn.commit()
    return tenant_ids


def ensure_airflow_metadata() -> None:
    """Create / upgrade Airflow's metadata database (where the watermark Variables live)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


def demo() -> list[dict[str, Any]]:
    """Migrate, build the demo source once, register tenants, sync every tenant; the summary rows."""
    from chatwoot_etl import engine, seed

    migrate()
    with connections.connect(connections.SOURCE_ADMIN_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        conn.autocommit = True
        seed.apply_schema(conn)
        if conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0:
            started = time.monotonic()
            seed.generate(conn, **DEMO_SOURCE)
            log.info("event=demo_source_built seconds=%.1f", time.monotonic() - started)
    tenant_ids = register_demo_tenants()
    ensure_airflow_metadata()
    results = {}
    for tenant_id in tenant_ids:
        results[tenant_id] = engine.sync_tenant(
            tenant_id, engine.SyncOptions(triggered_by="demo"), variables=cli_variables()
        )
    return demo_summary(results)


def demo_summary(results: dict[int, Any]) -> list[dict[str, Any]]:
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:demo") as conn:
        counts = {row[0]: row[1:] for row in conn.execute(sql_text("etl/tenant_dashboard_counts.sql")).fetchall()}
    rows = []
    for tenant_id, result in results.items():
        total, leads, visits, converted = counts.get(tenant_id, (0, 0, 0, 0))
        rows.append({
            "tenant": tenant_id, "status": result.status, "mode": result.mode, "extracted": result.extracted,
            "inserted": result.inserted, "updated": result.updated, "unchanged": result.unchanged,
            "failed": result.failed, "rows": total, "leads": leads, "visits": visits, "converted": converted,
            "watermark": result.watermark_end.updated_at.isoformat(timespec="seconds") if result.watermark_end else None,
            "seconds": round(result.duration_seconds, 2),
        })
    return rows


def embedded(action: str) -> int:
    from chatwoot_etl import embedded as server

    if action == "stop":
        server.stop(connections.EMBEDDED_PGDATA)
        return 0
    environment = connections.embedded_environment()
    if action == "env":
        for name, value in environment.items():
            sys.stdout.write(f"export {name}='{value}'\n")
    return 0
