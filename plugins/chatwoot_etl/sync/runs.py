"""The run log (etl_control: one row per execution) and the tenant's inbox resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from chatwoot_etl import __version__
from chatwoot_etl.contract import SYNCED_STATUSES
from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import leads


@dataclass(frozen=True)
class Tenant:
    id: int
    name: str
    slug: str
    status: str
    plan: str | None
    timezone: str
    lead_pack: str | None
    lead_rules: dict | None

    def rules(self) -> leads.LeadRules:
        """The tenant's compiled lead rules (its pack and override); a bad one is a
        ConfigurationError naming the tenant, the key and the value."""
        try:
            return leads.load_rules(self.lead_rules, pack=self.lead_pack)
        except ValueError as exc:
            raise ConfigurationError(f"tenant {self.id}: {exc}") from exc


def load_tenant(conn: psycopg.Connection, tenant_id: int) -> Tenant:
    row = conn.cursor(row_factory=class_row(Tenant)).execute(
        sql_text("etl/load_tenant.sql"), {"tenant_id": tenant_id}).fetchone()
    if row is None:
        raise ConfigurationError(f"tenant {tenant_id} does not exist (or was deleted) in tenants")
    return row


@dataclass(frozen=True)
class Inbox:
    inbox_id: int
    name: str | None
    mapping_updated_at: datetime
    history_loaded: bool


def resolve_inboxes(conn: psycopg.Connection, tenant_id: int) -> list[Inbox]:
    cur = conn.cursor(row_factory=class_row(Inbox))
    return cur.execute(sql_text("etl/resolve_inboxes.sql"), {"tenant_id": tenant_id}).fetchall()


def syncable_tenants(conn: psycopg.Connection) -> list[int]:
    """Active (or trial) tenants with at least one active inbox, by id."""
    rows = conn.execute(sql_text("etl/syncable_tenants.sql"), {"synced_statuses": list(SYNCED_STATUSES)}).fetchall()
    return [row[0] for row in rows]


def unmapped_inbox_rows(conn: psycopg.Connection, tenant_id: int) -> dict[int, int]:
    rows = conn.execute(sql_text("etl/unmapped_inbox_rows.sql"), {"tenant_id": tenant_id}).fetchall()
    return dict(rows)


def mark_history_loaded(conn: psycopg.Connection, tenant_id: int, inboxes: list[Inbox], execution_id: str) -> None:
    for inbox in inboxes:
        conn.execute(
            sql_text("etl/mark_history_loaded.sql"),
            {"inbox_id": inbox.inbox_id, "tenant_id": tenant_id,
             "mapping_updated_at": inbox.mapping_updated_at, "execution_id": execution_id},
        )


def mark_abandoned(conn: psycopg.Connection, tenant_id: int, execution_id: str) -> list[str]:
    rows = conn.execute(
        sql_text("etl/mark_abandoned_runs.sql"), {"tenant_id": tenant_id, "execution_id": execution_id}
    ).fetchall()
    return [str(row[0]) for row in rows]


def trigger_kind(triggered_by: str) -> str:
    """What the owner's etl_control.triggered_by (varchar(50)) holds: 'airflow:manual', not the run id."""
    return ":".join(triggered_by.split(":")[:2])[:50]


def start(conn: psycopg.Connection, *, tenant_id: int, execution_id: str, load_type: str, triggered_by: str,
          watermark_start: datetime | None, lead_rules_version: str | None = None) -> None:
    conn.execute(
        sql_text("etl/start_run.sql"),
        {"tenant_id": tenant_id, "execution_id": execution_id, "load_type": load_type,
         "is_full_load": load_type == "full", "triggered_by": trigger_kind(triggered_by), "detail": triggered_by,
         "watermark_start": watermark_start,
         "etl_version": __version__, "lead_rules_version": lead_rules_version},
    )


def record_chunk(conn: psycopg.Connection, execution_id: str, *, extracted: int, inserted: int, updated: int,
                 unchanged: int, failed: int, watermark_end: datetime | None) -> None:
    conn.execute(
        sql_text("etl/record_chunk.sql"),
        {"execution_id": execution_id, "extracted": extracted, "inserted": inserted, "updated": updated,
         "unchanged": unchanged, "failed": failed, "watermark_end": watermark_end},
    )


def finish(conn: psycopg.Connection, execution_id: str, *, status: str, deleted: int = 0,
           error_message: str | None = None, details: dict[str, Any] | None = None) -> None:
    conn.execute(
        sql_text("etl/finish_run.sql"),
        {"execution_id": execution_id, "status": status, "deleted": deleted,
         "error_message": error_message, "details": Jsonb(details or {})},
    )


def record_refused(conn: psycopg.Connection, *, tenant_id: int, execution_id: str, load_type: str,
                   triggered_by: str, reason: str, details: dict[str, Any]) -> None:
    """A sync that did not run because another one holds the tenant's lock."""
    start(conn, tenant_id=tenant_id, execution_id=execution_id, load_type=load_type,
          triggered_by=triggered_by, watermark_start=None)
    finish(conn, execution_id, status="refused", error_message=reason, details=details)


def record_source_strategy(conn: psycopg.Connection, execution_id: str, strategy: str) -> None:
    conn.execute(sql_text("etl/record_source_strategy.sql"), {"execution_id": execution_id, "strategy": strategy})


def record_stranded(conn: psycopg.Connection, execution_id: str, count: int) -> None:
    conn.execute(sql_text("etl/record_stranded.sql"), {"execution_id": execution_id, "stranded": count})


def record_source_failures(conn: psycopg.Connection, execution_id: str, failed: int) -> None:
    conn.execute(sql_text("etl/record_source_failures.sql"), {"execution_id": execution_id, "failed": failed})


def record_alert(conn: psycopg.Connection, *, kind: str, tenant_id: int, execution_id: str, message: str,
                 details: dict[str, Any]) -> None:
    """A warning the engine raises about the source's data (etl_alerts), named by the run."""
    conn.execute(sql_text("etl/insert_alert.sql"), {
        "severity": "warning", "kind": kind, "tenant_id": tenant_id, "dag_id": None, "task_id": None,
        "run_id": execution_id, "try_number": None, "log_url": None, "message": message, "details": Jsonb(details)})
