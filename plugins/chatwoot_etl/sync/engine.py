"""One tenant's sync: extract -> transform -> upsert, chunk by chunk, exactly once.

Order of a run:
  1. take the tenant's advisory lock on one dedicated analytics connection (or refuse at once);
  2. close out runs that died, reconcile the Variable mirror, open the etl_control row;
  3. resolve the tenant's inboxes (history still to load for new / moved / re-activated ones);
  4. open one read-only REPEATABLE READ snapshot on the source, check the view's contract, take
     the window's upper bound from the source's clock, and stream one COPY;
  5. per chunk, in one analytics transaction: quarantine bad rows, upsert good ones, advance the
     watermark, count progress. A crash after any chunk resumes exactly after it.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import psycopg

from chatwoot_etl import connections
from chatwoot_etl.sync import leads, load, locks, runs, source, transform, watermarks
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync.runs import ConfigurationError
from chatwoot_etl.orchestration.variables import AirflowVariables, VariableStoreError
from chatwoot_etl.sync.watermarks import Watermark

MODES = ("incremental", "full_refresh", "window")
LOAD_TYPES = {"incremental": "incremental", "full_refresh": "full", "window": "window"}
DEFAULT_CHUNK_SIZE = 5000
DEFAULT_LOOKBACK = timedelta(minutes=5)
DEFAULT_STATEMENT_TIMEOUT_MS = 60 * 60 * 1000

ANALYTICS_SESSION = {"jit": "off"}
# The deployed view aggregates whole tables per conversation. Right after a burst of updates the
# planner's statistics do not know the newest updated_at values, estimates one row, and puts those
# aggregates inside a nested loop: measured 20.6 s instead of 0.09 s for 300 changed rows on
# PostgreSQL 18. Hash joins are always right for it; a LATERAL-based view still gets its nested loop.
#
# CHATWOOT_ETL_SOURCE_SESSION overrides it ("name=value,..."; empty for the server's defaults): with
# the indexable view (include/sql/chatwoot/02_view_indexable.sql) nested loops ARE the plan, and
# enable_nestloop=off pushes the dimension joins into hash / merge joins over whole tables
# (EXPLAIN ANALYZE of a 1% window on PostgreSQL 15, 100k conversations: 0.31 s with nested loops,
# 1.59 s without); see README "Benchmarks".
SOURCE_SESSION_ENV = "CHATWOOT_ETL_SOURCE_SESSION"


def _source_session(spec: str | None) -> dict[str, str]:
    if spec is None:
        return {"enable_nestloop": "off"}
    settings = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if not re.fullmatch(r"[a-z_]+", name.strip()) or not re.fullmatch(r"[A-Za-z0-9_.]+", value.strip()):
            raise ConfigurationError(f"{SOURCE_SESSION_ENV}: expected name=value pairs, not {item!r}")
        settings[name.strip()] = value.strip()
    return settings


SOURCE_SESSION = _source_session(os.environ.get(SOURCE_SESSION_ENV))

# Errors a retry cannot fix: Airflow fails these at once instead of retrying.
PERMANENT_ERRORS = (locks.LockRefused, source.ContractDrift, ConfigurationError)


@dataclass(frozen=True)
class SyncOptions:
    mode: str = "incremental"
    since: datetime | None = None        # window mode: inclusive lower bound (aware)
    until: datetime | None = None        # window mode: exclusive upper bound (aware); default the source clock
    chunk_size: int = DEFAULT_CHUNK_SIZE
    lookback: timedelta = DEFAULT_LOOKBACK
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    triggered_by: str = "cli"
    lock_wait: timedelta = timedelta(0)  # how long to wait for another sync of the tenant to finish
    publish_mirror: bool = True          # mirror the watermark to its Airflow Variable at the end

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.chunk_size < 1:
            raise ConfigurationError(f"chunk_size must be positive, not {self.chunk_size}")
        if self.lookback < timedelta(0) or self.lock_wait < timedelta(0):
            raise ConfigurationError("lookback and lock_wait cannot be negative")
        if self.mode == "window":
            if self.since is None:
                raise ConfigurationError("window mode needs since")
            for name, value in (("since", self.since), ("until", self.until)):
                if value is not None and value.tzinfo is None:
                    raise ConfigurationError(f"{name} must carry a time zone (e.g. 2026-01-01T00:00:00Z)")
            if self.until is not None and self.until <= self.since:
                raise ConfigurationError(f"until ({self.until.isoformat()}) must be after since ({self.since.isoformat()})")
        elif self.since is not None or self.until is not None:
            raise ConfigurationError("since / until only apply to window mode")


@dataclass
class SyncResult:
    tenant_id: int
    execution_id: str
    mode: str
    status: str = "running"
    message: str = ""
    extracted: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    moved_in: int = 0
    skipped_unmapped: int = 0
    chunks: int = 0
    watermark_start: Watermark | None = None
    watermark_end: Watermark | None = None
    history_inboxes: list[int] = field(default_factory=list)
    unmapped_inbox_rows: dict[int, int] = field(default_factory=dict)
    truncated: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    window: source.ExtractWindow | None = None   # what was read: the reconcile step re-reads the same

    def summary(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id, "run": self.execution_id, "mode": self.mode, "status": self.status,
            "extracted": self.extracted, "inserted": self.inserted, "updated": self.updated,
            "unchanged": self.unchanged, "deleted": self.deleted, "failed": self.failed, "chunks": self.chunks,
            "watermark_end": self.watermark_end.to_json() if self.watermark_end else None,
            "seconds": round(self.duration_seconds, 3),
        }


ChunkCallback = Callable[[int, SyncResult], None]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _chunk_watermark(rows: pd.DataFrame) -> Watermark | None:
    if rows.empty:
        return None
    keyed = rows[["conversation_updated_at", "conversation_id"]].dropna()
    if keyed.empty:
        return None
    last = keyed.sort_values(["conversation_updated_at", "conversation_id"]).iloc[-1]
    return Watermark(last["conversation_updated_at"].to_pydatetime(), int(last["conversation_id"]))


def plan_window(
    options: SyncOptions, inboxes: list[runs.Inbox], mark: Watermark | None, clock: datetime
) -> source.ExtractWindow:
    """Which inboxes to read from the beginning, and the keyset window for the others."""
    every = tuple(inbox.inbox_id for inbox in inboxes)
    if options.mode == "window":
        until = min(_naive_utc(options.until), clock) if options.until else clock
        return source.ExtractWindow(every, (), (_naive_utc(options.since), -1), until)
    if options.mode == "full_refresh" or mark is None:
        return source.ExtractWindow((), every, source.BEGINNING, clock)
    synced = tuple(inbox.inbox_id for inbox in inboxes if inbox.history_loaded)
    history = tuple(inbox.inbox_id for inbox in inboxes if not inbox.history_loaded)
    if options.lookback > timedelta(0):
        after = (mark.naive_utc() - options.lookback, -1)
    else:
        after = (mark.naive_utc(), mark.conversation_id)
    return source.ExtractWindow(synced, history, after, clock)


def _reconcile_mirror(
    analytics: psycopg.Connection, variables: AirflowVariables | None, tenant_id: int, execution_id: str,
    mark: Watermark | None, log: EventLogger,
) -> tuple[Watermark | None, dict[str, Any]]:
    """Honour an operator's rewind of the Variable; refuse a forward or unreadable edit."""
    if variables is None:
        return mark, {}
    key = watermarks.variable_key(tenant_id)
    try:
        decision = watermarks.compare_mirror(mark, variables.get(key), watermarks.read_mirrored(analytics, tenant_id))
    except VariableStoreError as exc:
        log.warning("variable_unavailable", variable=key, error=exc)
        return mark, {"variable": "unavailable"}
    if decision.action == "rewind":
        watermarks.rewind(analytics, tenant_id, decision.variable_mark, execution_id)
        log.warning("watermark_rewound", variable=key, old=mark.to_json(), new=decision.variable_mark.to_json())
        return decision.variable_mark, {"rewind": {"from": mark.to_json(), "to": decision.variable_mark.to_json()}}
    if decision.action in ("ahead", "unreadable", "stale"):
        log.warning("variable_refused", variable=key, reason=decision.action, detail=decision.detail,
                    note="the database watermark stands; the Variable is repaired at the end of the run")
        return mark, {"variable_refused": {"reason": decision.action, "detail": decision.detail}}
    return mark, {}


def publish_mirror(analytics: psycopg.Connection, variables: AirflowVariables | None, tenant_id: int,
                   mark: Watermark | None, log: EventLogger) -> bool:
    """Write the database watermark to the tenant's Variable and remember what was written.

    A warning, never a failure, if the Variable store cannot be reached: the database is the truth.
    """
    if variables is None or mark is None:
        return False
    key = watermarks.variable_key(tenant_id)
    try:
        variables.set(key, mark.to_json())
    except VariableStoreError as exc:
        log.warning("variable_not_published", variable=key, error=exc)
        return False
    watermarks.record_mirrored(analytics, tenant_id, mark.to_json())
    return True


def sync_tenant(
    tenant_id: int,
    options: SyncOptions | None = None,
    *,
    variables: AirflowVariables | None = None,
    on_chunk_committed: ChunkCallback | None = None,
) -> SyncResult:
    """Sync one tenant. Raises LockRefused, ContractDrift, ConfigurationError or the underlying error."""
    options = options or SyncOptions()
    options.validate()
    execution_id = str(uuid.uuid4())
    result = SyncResult(tenant_id=tenant_id, execution_id=execution_id, mode=options.mode)
    log = EventLogger("chatwoot_etl.sync.engine", tenant=tenant_id, run=execution_id[:8], mode=options.mode)
    started = time.monotonic()
    app_name = f"chatwoot_etl:sync:tenant={tenant_id}:run={execution_id[:8]}"

    # JIT only slows the per-chunk statements (the staging table has no statistics, so their cost
    # estimates cross jit_above_cost and each one pays for a compilation).
    analytics = connections.connect(connections.ANALYTICS_CONN_ID, application_name=app_name, autocommit=True,
                                    settings=ANALYTICS_SESSION)
    try:
        tenant = runs.load_tenant(analytics, tenant_id)
        try:
            transform.check_timezone(tenant.timezone)
            rules = leads.load_rules(tenant.lead_rules)
        except ValueError as exc:  # a bad tenants.timezone or tenants.lead_rules override
            raise ConfigurationError(f"tenant {tenant_id}: {exc}") from exc
        log = log.bind(slug=tenant.slug)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(locks.tenant_lock(analytics, tenant_id, options.lock_wait.total_seconds()))
            except locks.LockRefused as exc:
                holder = exc.holder.__dict__ if exc.holder else None
                runs.record_refused(analytics, tenant_id=tenant_id, execution_id=execution_id,
                                    load_type=LOAD_TYPES[options.mode], triggered_by=options.triggered_by,
                                    reason=str(exc), details={"lock_holder": holder})
                log.warning("lock_refused", holder=exc.holder.describe() if exc.holder else None)
                result.status, result.message = "refused", str(exc)
                raise
            _run_locked(analytics, tenant, options, result, rules, variables, on_chunk_committed, log)
    finally:
        analytics.close()
        result.duration_seconds = time.monotonic() - started
    return result


def _run_locked(
    analytics: psycopg.Connection, tenant: runs.Tenant, options: SyncOptions, result: SyncResult,
    rules: leads.LeadRules, variables: AirflowVariables | None, on_chunk_committed: ChunkCallback | None,
    log: EventLogger,
) -> None:
    tenant_id, execution_id = tenant.id, result.execution_id
    details: dict[str, Any] = {}
    abandoned = runs.mark_abandoned(analytics, tenant_id, execution_id)
    if abandoned:
        log.warning("abandoned_runs_closed", runs=",".join(abandoned))
        details["closed_abandoned_runs"] = abandoned
    mark = watermarks.read(analytics, tenant_id)
    if options.mode != "window":
        mark, mirror_details = _reconcile_mirror(analytics, variables, tenant_id, execution_id, mark, log)
        details.update(mirror_details)
    result.watermark_start = result.watermark_end = mark
    runs.start(analytics, tenant_id=tenant_id, execution_id=execution_id, load_type=LOAD_TYPES[options.mode],
               triggered_by=options.triggered_by, watermark_start=mark.updated_at if mark else None)
    log.info("run_started", watermark=mark.to_json() if mark else "none", chunk_size=options.chunk_size,
             lookback_s=int(options.lookback.total_seconds()), triggered_by=options.triggered_by)
    try:
        _extract_and_load(analytics, tenant, options, result, rules, mark, details, on_chunk_committed, log)
    except BaseException as exc:
        result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
        try:
            runs.finish(analytics, execution_id, status="failed", error_message=result.message[:2000],
                        details={**details, "error_type": type(exc).__name__})
        except psycopg.Error:
            log.error("run_failure_not_recorded", note="the next run will mark it abandoned")
        log.error("run_failed", error=result.message, chunks=result.chunks)
        raise
    if options.mode != "window" and options.publish_mirror:
        publish_mirror(analytics, variables, tenant_id, result.watermark_end, log)
    log.info("run_finished", **{k: v for k, v in result.summary().items() if k not in ("tenant", "run", "mode")})


def _extract_and_load(
    analytics: psycopg.Connection, tenant: runs.Tenant, options: SyncOptions, result: SyncResult,
    rules: leads.LeadRules, mark: Watermark | None, details: dict[str, Any],
    on_chunk_committed: ChunkCallback | None, log: EventLogger,
) -> None:
    tenant_id, execution_id = tenant.id, result.execution_id
    inboxes = runs.resolve_inboxes(analytics, tenant_id)
    result.unmapped_inbox_rows = runs.unmapped_inbox_rows(analytics, tenant_id)
    if result.unmapped_inbox_rows:
        log.warning("unmapped_inbox_rows_not_refreshed",
                    inboxes=",".join(f"{k}:{v}" for k, v in result.unmapped_inbox_rows.items()),
                    note="rows of inboxes no longer mapped to this tenant; a full refresh removes them")
        details["unmapped_inbox_rows"] = {str(k): v for k, v in result.unmapped_inbox_rows.items()}
    if not inboxes:
        result.status = "success"
        result.message = f"tenant {tenant_id} has no active inbox in inbox_tenant_mapping; nothing to sync"
        runs.finish(analytics, execution_id, status="success", error_message=result.message, details=details)
        log.warning("no_active_inbox", note=result.message)
        return

    src = connections.connect(
        connections.SOURCE_CONN_ID,
        application_name=f"chatwoot_etl:extract:tenant={tenant_id}:run={execution_id[:8]}",
        statement_timeout_ms=options.statement_timeout_ms,
        settings=SOURCE_SESSION,
    )
    try:
        src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        src.read_only = True
        diff = source.check_contract(src)
        if diff.extra:
            log.info("source_extra_columns_ignored", columns=",".join(diff.extra))
        clock = source.source_clock(src)
        window = plan_window(options, inboxes, mark, clock)
        result.history_inboxes = list(window.history_inboxes)
        result.window = window
        log.info("window_planned", after=window.after[0].isoformat(), after_id=window.after[1],
                 until=window.until.isoformat(), synced_inboxes=len(window.synced_inboxes),
                 history_inboxes=",".join(map(str, window.history_inboxes)) or "none")

        load.ensure_staging(analytics)
        full_refresh = options.mode == "full_refresh"
        if full_refresh:
            analytics.execute(sql_text("etl/create_seen_conversations.sql"))
            analytics.execute("TRUNCATE etl_seen_conversations")

        # History inboxes are read from the beginning in the same keyset order as the rest: once the
        # stream has passed the starting watermark, the tenant watermark covers them too, so they
        # are marked loaded in that chunk's transaction and a crash after it resumes at the watermark.
        pending_history = [] if options.mode == "window" else [
            inbox for inbox in inboxes if inbox.inbox_id in window.history_inboxes]
        frames = source.whole_conversations(source.stream_frames(src, window, options.chunk_size))
        waited = time.monotonic()
        for index, raw in enumerate(frames, start=1):
            extract_s = time.monotonic() - waited
            pending_history = _load_chunk(analytics, tenant, options, result, rules, raw, index, full_refresh,
                                          extract_s, pending_history, mark, log)
            if on_chunk_committed is not None:
                on_chunk_committed(index, result)
            waited = time.monotonic()
        src.rollback()
    finally:
        src.close()

    with analytics.transaction():
        if full_refresh:
            result.deleted = analytics.execute(
                sql_text("etl/delete_unseen_conversations.sql"), {"tenant_id": tenant_id}
            ).rowcount
            if result.deleted:
                log.info("stale_rows_deleted", rows=result.deleted)
        runs.mark_history_loaded(analytics, tenant_id, pending_history, execution_id)
        if result.truncated:
            details["truncated"] = result.truncated
        result.status = "success"
        if result.failed:
            result.message = f"{result.failed} row(s) quarantined in etl_quarantine"
            log.warning("rows_quarantined", rows=result.failed)
        runs.finish(analytics, execution_id, status="success", deleted=result.deleted,
                    error_message=result.message or None, details=details)


def _load_chunk(
    analytics: psycopg.Connection, tenant: runs.Tenant, options: SyncOptions, result: SyncResult,
    rules: leads.LeadRules, raw: pd.DataFrame, index: int, full_refresh: bool, extract_s: float,
    pending_history: list[runs.Inbox], start_mark: Watermark | None, log: EventLogger,
) -> list[runs.Inbox]:
    """Transform and write one chunk in one transaction; the history inboxes still pending after it."""
    tenant_id, execution_id = tenant.id, result.execution_id
    t0 = time.monotonic()
    shaped = transform.transform_chunk(raw, tenant_id=tenant_id, timezone=tenant.timezone, rules=rules)
    t1 = time.monotonic()
    chunk_mark = _chunk_watermark(shaped.rows)
    with analytics.transaction():
        counts = load.write_chunk(analytics, shaped.rows)
        rejected = [(r.conversation_id, r.inbox_id, r.reason, r.raw_row) for r in shaped.rejected]
        if counts.rejected:
            raw_by_id = {str(row["conversation_id"]): row for row in raw.to_dict("records")}
            for item in counts.rejected:
                conversation_id = str(item["row"]["conversation_id"])
                raw_row = raw_by_id.get(conversation_id, {})
                rejected.append((conversation_id, str(item["row"]["inbox_id"]), item["reason"],
                                 {k: (None if pd.isna(v) else v) for k, v in raw_row.items()}))
        for conversation_id, inbox_id, reason, raw_row in rejected:
            load.quarantine(analytics, tenant_id=tenant_id, execution_id=execution_id,
                            conversation_id=conversation_id, inbox_id=inbox_id, reason=reason, raw_row=raw_row)
        if full_refresh:
            seen_ids = set(shaped.rows["conversation_id"].dropna().astype(int).tolist())
            seen_ids.update(int(c) for c, *_ in rejected if c is not None and str(c).isdigit())
            with analytics.cursor().copy("COPY etl_seen_conversations (conversation_id) FROM STDIN") as copy:
                for conversation_id in seen_ids:
                    copy.write_row((conversation_id,))
        if options.mode != "window" and chunk_mark is not None:
            watermarks.advance(analytics, tenant_id, chunk_mark, execution_id)
            if pending_history and (start_mark is None or chunk_mark >= start_mark):
                runs.mark_history_loaded(analytics, tenant_id, pending_history, execution_id)
                pending_history = []
        runs.record_chunk(analytics, execution_id, extracted=len(raw), inserted=counts.inserted,
                          updated=counts.updated, unchanged=counts.unchanged, failed=len(rejected),
                          watermark_end=chunk_mark.updated_at if chunk_mark and options.mode != "window" else None)
    t2 = time.monotonic()
    result.chunks = index
    result.extracted += len(raw)
    result.inserted += counts.inserted
    result.updated += counts.updated
    result.unchanged += counts.unchanged
    result.moved_in += counts.moved_in
    result.skipped_unmapped += counts.skipped_unmapped
    result.failed += len(rejected)
    for column, count in shaped.truncated.items():
        result.truncated[column] = result.truncated.get(column, 0) + count
    if chunk_mark is not None and options.mode != "window":
        result.watermark_end = max(filter(None, (result.watermark_end, chunk_mark)))
    log.info("chunk_committed", chunk=index, rows=len(raw), inserted=counts.inserted, updated=counts.updated,
             unchanged=counts.unchanged, moved_in=counts.moved_in or None,
             skipped_unmapped=counts.skipped_unmapped or None, failed=len(rejected) or None,
             truncated=sum(shaped.truncated.values()) or None,
             extract_ms=int(extract_s * 1000), transform_ms=int((t1 - t0) * 1000), load_ms=int((t2 - t1) * 1000))
    return pending_history
