"""After a sync: does the target hold what the source holds for the window that run read?

The source side re-reads the run's exact window (same keyset bounds, same chunked COPY, same
transform and lead rules), so lead / visit counts are comparable. Each source conversation is
looked up in the target chunk by chunk (memory stays bounded). A difference is *explained* when
a re-run accounts for it: a row committed late inside the lookback edge (the next run's lookback
re-reads it), a row the target holds in a newer version (a later run already wrote it), or a row
quarantined by the run. Anything else is a mismatch: the task fails and alerts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from chatwoot_etl import connections, settings
from chatwoot_etl.clock import from_naive_utc
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import runs, source, strategy, transform
from chatwoot_etl.sync.window import ExtractWindow


@dataclass
class Counts:
    source_rows: int = 0
    target_rows: int = 0
    source_leads: int = 0
    target_leads: int = 0
    source_visits: int = 0
    target_visits: int = 0
    missing: int = 0
    stale: int = 0
    flags_differ: int = 0
    explained_late: int = 0
    explained_newer: int = 0
    quarantined: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def unexplained(self) -> int:
        return self.missing + self.stale + self.flags_differ

    def status(self) -> str:
        if self.unexplained:
            return "mismatch"
        if self.explained_late or self.explained_newer or self.quarantined or self.target_rows != self.source_rows:
            return "explained"
        return "match"


def compare_window(tenant_id: int, window: ExtractWindow, *, chunk_size: int, lookback: timedelta,
                   log: EventLogger) -> Counts:
    """Source vs target for the window (the source read in one REPEATABLE READ snapshot)."""
    counts = Counts()
    late_edge = from_naive_utc(window.until) - lookback
    purpose = f"reconcile:tenant={tenant_id}"
    with connections.analytics(purpose, settings=connections.ANALYTICS_SESSION) as analytics, \
            connections.source(purpose, settings=settings.SOURCE_SESSION.get()) as src:
        tenant = runs.load_tenant(analytics, tenant_id)
        rules = tenant.rules()
        src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        src.read_only = True
        plan = strategy.choose(src, analytics)
        for raw in source.whole_conversations(source.stream_frames(src, window, chunk_size, plan.strategy)):
            shaped = transform.transform_chunk(raw, tenant_id=tenant_id, timezone=tenant.timezone, rules=rules)
            counts.quarantined += len(shaped.rejected)
            if not shaped.rows.empty:
                _compare_chunk(analytics, tenant_id, shaped.rows, late_edge, counts)
        src.rollback()
        row = connections.one_row(analytics.execute(sql_text("etl/reconcile_target_window.sql"), {
            "tenant_id": tenant_id, "until": from_naive_utc(window.until),
            "synced_inboxes": list(window.synced_inboxes), "history_inboxes": list(window.history_inboxes),
            "after_updated_at": from_naive_utc(window.after[0] if window.after[0].year > 1 else datetime.min),
            "after_conversation_id": window.after[1],
        }))
        counts.target_rows, counts.target_leads, counts.target_visits = (int(v) for v in row)
    log.info("reconciled", status=counts.status(), source_rows=counts.source_rows, target_rows=counts.target_rows,
             source_leads=counts.source_leads, target_leads=counts.target_leads, source_visits=counts.source_visits,
             target_visits=counts.target_visits, missing=counts.missing or None, stale=counts.stale or None,
             flags_differ=counts.flags_differ or None, explained_late=counts.explained_late or None,
             explained_newer=counts.explained_newer or None, quarantined=counts.quarantined or None)
    return counts


def _compare_chunk(analytics: psycopg.Connection, tenant_id: int, rows: pd.DataFrame, late_edge: datetime,
                   counts: Counts) -> None:
    """Look each transformed source row up in the target and count how it differs."""
    ids = rows["conversation_id"].astype(int).tolist()
    stored = {r[0]: r[1:] for r in analytics.execute(
        sql_text("etl/reconcile_target_rows.sql"), {"tenant_id": tenant_id, "conversation_ids": ids})}
    for conversation_id, updated_at, lead_value, visit_value in zip(
            ids, rows["conversation_updated_at"], rows["is_lead"], rows["visit_scheduled"], strict=True):
        counts.source_rows += 1
        is_lead, visit = _flag(lead_value), _flag(visit_value)
        counts.source_leads += is_lead
        counts.source_visits += visit
        source_at = updated_at.to_pydatetime()
        target = stored.get(conversation_id)
        if target is None or target[0] < source_at:
            if source_at >= late_edge:
                counts.explained_late += 1
            elif target is None:
                counts.missing += 1
                _example(counts, f"{conversation_id}: missing in target")
            else:
                counts.stale += 1
                _example(counts, f"{conversation_id}: target {target[0].isoformat()} < source {source_at.isoformat()}")
        elif target[0] > source_at:
            counts.explained_newer += 1
        elif (bool(target[1]), bool(target[2])) != (is_lead, visit):
            counts.flags_differ += 1
            _example(counts, f"{conversation_id}: lead/visit target {target[1]}/{target[2]} source {is_lead}/{visit}")


def _flag(value: Any) -> bool:
    try:
        return bool(value)
    except TypeError:  # pandas' NA
        return False


def _example(counts: Counts, text: str) -> None:
    if len(counts.examples) < 10:
        counts.examples.append(text)


def record(execution_id: str, status: str, counts: Counts | None, details: dict[str, Any]) -> None:
    values = asdict(counts) if counts else {}
    params = {k: values.get(k) for k in ("source_rows", "target_rows", "source_leads", "target_leads",
                                         "source_visits", "target_visits")}
    extra = {k: values[k] for k in ("missing", "stale", "flags_differ", "explained_late", "explained_newer",
                                    "quarantined", "examples") if values.get(k)}
    with connections.analytics("reconcile") as conn:
        conn.execute(sql_text("etl/record_reconcile.sql"),
                     {**params, "execution_id": execution_id, "status": status, "details": Jsonb({**extra, **details})})
