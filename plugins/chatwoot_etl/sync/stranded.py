"""Conversations stranded beyond a run's upper bound: counted, alerted once, the infinite ones quarantined.

A window reads conversation_updated_at < the source's clock. A row dated in the future is read
by the first run after the clock passes it; one dated 'infinity' is never read. Both are invisible
to the watermark, so each run counts them (through the base table's updated_at index: cheap), an
alert `source_clock_anomaly` names each conversation once, and an infinite one is quarantined with
its reason, so it is on record instead of silently stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import load, runs

LISTED = 1000  # stranded conversations looked at per run (the count says "at least" beyond it)
ALERT_KIND = "source_clock_anomaly"
QUARANTINE_REASON = ("source_clock_anomaly: conversation_updated_at is infinity; no window reaches it until "
                     "the source gives it a real time")


@dataclass(frozen=True)
class Stranded:
    conversation_id: int
    inbox_id: int
    updated_at: str
    finite: bool

    def to_json(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "inbox_id": self.inbox_id, "updated_at": self.updated_at}


def find(src: psycopg.Connection, inboxes: list[int], until: datetime) -> list[Stranded] | None:
    """The stranded conversations of these inboxes, or None where the base table cannot be read
    (counting them through the deployed view would cost a whole aggregation every run)."""
    try:
        with src.transaction():
            rows = src.execute(sql_text("etl/stranded_conversations.sql"),
                               {"inboxes": inboxes, "until": until, "limit": LISTED}).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return None
    return [Stranded(*row) for row in rows]


def report(analytics: psycopg.Connection, *, tenant_id: int, execution_id: str,
           stranded: list[Stranded]) -> list[Stranded]:
    """Quarantine the infinite ones not yet on record and alert the conversations not yet named;
    returns the newly alerted ones."""
    ids = [row.conversation_id for row in stranded]
    infinite = [row.conversation_id for row in stranded if not row.finite]
    with analytics.transaction():
        quarantined = load.claim_quarantined(analytics, tenant_id, ALERT_KIND, infinite)
        for row in stranded:
            if not row.finite and row.conversation_id not in quarantined:
                load.quarantine(analytics, tenant_id=tenant_id, execution_id=execution_id,
                                conversation_id=row.conversation_id, inbox_id=row.inbox_id, reason=QUARANTINE_REASON,
                                raw_row={"conversation_id": row.conversation_id, "inbox_id": row.inbox_id,
                                         "conversation_updated_at": row.updated_at})
        named = {row[0] for row in analytics.execute(sql_text("etl/reported_clock_anomalies.sql"), {"conversation_ids": ids})}
        new = [row for row in stranded if row.conversation_id not in named]
        if new:
            listed = [row.to_json() for row in new]
            digest = hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest()[:16]
            runs.record_alert(analytics, kind=ALERT_KIND, tenant_id=tenant_id, execution_id=execution_id,
                              message=describe(tenant_id, new), details={"conversations": listed, "fingerprint": digest})
    return new


def describe(tenant_id: int, rows: list[Stranded]) -> str:
    future = [row for row in rows if row.finite]
    infinite = [row for row in rows if not row.finite]
    parts = []
    if future:
        parts.append(f"{len(future)} dated after the source's clock (read once the clock passes them, e.g. "
                     f"conversation {future[0].conversation_id} at {future[0].updated_at})")
    if infinite:
        parts.append(f"{len(infinite)} with an infinite updated_at (quarantined, e.g. conversation "
                     f"{infinite[0].conversation_id})")
    return f"tenant {tenant_id}: conversations beyond the sync window: " + "; ".join(parts)
