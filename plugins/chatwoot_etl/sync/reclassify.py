"""Re-classify a tenant's stored rows with its current lead rules, without reading the source.

When a tenant's pack or override changes, the lead columns of rows already loaded were computed by
the old rules (the next syncs only re-classify what the source changes). This recomputes them from
the stored message_compiled, chunk by chunk in conversation_id order, each chunk in one
transaction, under the tenant's advisory lock (so no sync writes meanwhile), and rewrites only the
rows whose lead columns or rules version differ. The run is recorded in etl_control (load_type
reclassify) with exact counts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from chatwoot_etl import connections
from chatwoot_etl.limits import DEFAULT_CHUNK_SIZE
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import leads, locks, runs

FLAGS = ("is_lead", "visit_scheduled", "crm_converted")
LOAD_TYPE = "reclassify"


@dataclass
class ReclassifyResult:
    tenant_id: int
    execution_id: str
    rules_version: str
    dry_run: bool = False
    read: int = 0            # stored rows read
    changed: int = 0         # rows whose lead columns change
    restamped: int = 0       # rows whose lead columns stay, only the rules version changes
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    # per flag: rows that become true, rows that become false
    flips: dict[str, list[int]] = field(default_factory=lambda: {flag: [0, 0] for flag in FLAGS})
    previous_versions: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"tenant": self.tenant_id, "run": self.execution_id, "rules": self.rules_version,
                "dry_run": self.dry_run, "read": self.read, "changed": self.changed, "restamped": self.restamped,
                "unchanged": self.unchanged, "chunks": self.chunks, "seconds": round(self.seconds, 2),
                **{f"{flag}_became": f"+{up} / -{down}" for flag, (up, down) in self.flips.items()},
                "previous_versions": self.previous_versions}


def _new_values(rows: list[dict[str, Any]], rules: leads.LeadRules) -> list[tuple[bool, bool, bool, str, int]]:
    frame = leads.classify([row["message_compiled"] for row in rows], rules)
    return list(zip(frame["is_lead"].tolist(), frame["visit_scheduled"].tolist(), frame["crm_converted"].tolist(),
                    frame["ai_probability_label"].tolist(), [int(s) for s in frame["ai_probability_score"]],
                    strict=True))


def _compare(result: ReclassifyResult, rows: list[dict[str, Any]], new: list[tuple], version: str) -> list[int]:
    """Count what changes; the positions of the rows to rewrite."""
    rewrite = []
    for position, (row, values) in enumerate(zip(rows, new, strict=True)):
        old = (bool(row["is_lead"]), bool(row["visit_scheduled"]), bool(row["crm_converted"]),
               row["ai_probability_label"], row["ai_probability_score"])
        previous = row["lead_rules_version"] or "none"
        result.previous_versions[previous] = result.previous_versions.get(previous, 0) + 1
        if old != values:
            result.changed += 1
            for flag, before, after in zip(FLAGS, old[:3], values[:3], strict=True):
                if before != after:
                    result.flips[flag][0 if after else 1] += 1
            rewrite.append(position)
        elif row["lead_rules_version"] != version:
            result.restamped += 1
            rewrite.append(position)
        else:
            result.unchanged += 1
    return rewrite


def reclassify_tenant(tenant_id: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE, lock_wait_seconds: float = 0.0,
                      dry_run: bool = False,
                      on_chunk: Callable[[int, ReclassifyResult], None] | None = None) -> ReclassifyResult:
    """Recompute the tenant's stored lead columns; raises LockRefused while a sync holds the tenant."""
    execution_id = str(uuid.uuid4())
    log = EventLogger(__name__, tenant=tenant_id, run=execution_id[:8], mode=LOAD_TYPE)
    started = time.monotonic()
    with connections.connect(connections.ANALYTICS_CONN_ID, autocommit=True, settings=connections.ANALYTICS_SESSION,
                             application_name=f"chatwoot_etl:reclassify:tenant={tenant_id}:run={execution_id[:8]}"
                             ) as analytics:
        tenant = runs.load_tenant(analytics, tenant_id)
        rules = tenant.rules()
        result = ReclassifyResult(tenant_id, execution_id, rules.version, dry_run)
        with locks.tenant_lock(analytics, tenant_id, lock_wait_seconds):
            if not dry_run:
                runs.start(analytics, tenant_id=tenant_id, execution_id=execution_id, load_type=LOAD_TYPE,
                           triggered_by="cli", watermark_start=None, lead_rules_version=rules.version)
            log.info("reclassify_started", rules=rules.version, chunk_size=chunk_size, dry_run=dry_run)
            try:
                _run_chunks(analytics, result, rules, chunk_size, log, on_chunk)
            except BaseException as exc:
                if not dry_run:
                    _finish(analytics, result, "failed", f"{type(exc).__name__}: {exc}"[:2000])
                raise
            result.seconds = time.monotonic() - started
            if not dry_run:
                _finish(analytics, result, "success", None)
    log.info("reclassify_finished", **{k: v for k, v in result.summary().items() if k not in ("tenant", "run")})
    return result


def _run_chunks(analytics: psycopg.Connection, result: ReclassifyResult, rules: leads.LeadRules, chunk_size: int,
                log: EventLogger, on_chunk: Callable[[int, ReclassifyResult], None] | None) -> None:
    after = -1
    while True:
        with analytics.transaction():
            rows = analytics.cursor(row_factory=dict_row).execute(
                sql_text("etl/reclassify_read.sql"),
                {"tenant_id": result.tenant_id, "after": after, "limit": chunk_size}).fetchall()
            if not rows:
                return
            new = _new_values(rows, rules)
            rewrite = _compare(result, rows, new, rules.version)
            if rewrite and not result.dry_run:
                picked = [new[i] for i in rewrite]
                analytics.execute(sql_text("etl/reclassify_write.sql"), {
                    "tenant_id": result.tenant_id, "version": rules.version,
                    "ids": [rows[i]["conversation_id"] for i in rewrite],
                    "is_lead": [v[0] for v in picked], "visit": [v[1] for v in picked],
                    "converted": [v[2] for v in picked], "labels": [v[3] for v in picked],
                    "scores": [v[4] for v in picked]})
        result.read += len(rows)
        result.chunks += 1
        after = rows[-1]["conversation_id"]
        log.info("reclassify_chunk", chunk=result.chunks, rows=len(rows), changed=result.changed,
                 restamped=result.restamped)
        if on_chunk is not None:
            on_chunk(result.chunks, result)


def _finish(analytics: psycopg.Connection, result: ReclassifyResult, status: str, error: str | None) -> None:
    analytics.execute(sql_text("etl/finish_reclassify_run.sql"), {
        "execution_id": result.execution_id, "status": status, "read": result.read,
        "changed": result.changed + result.restamped, "unchanged": result.unchanged, "error_message": error,
        "details": Jsonb({"lead_rules_version": result.rules_version, "changed": result.changed,
                          "restamped": result.restamped,
                          "flips": {flag: {"became_true": up, "became_false": down}
                                    for flag, (up, down) in result.flips.items()},
                          "previous_versions": result.previous_versions})})

