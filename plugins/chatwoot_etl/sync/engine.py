"""One tenant's sync: extract -> transform -> upsert, chunk by chunk, exactly once.

Order of a run:
  1. take the tenant's advisory lock on one dedicated analytics connection (or refuse at once);
  2. close out runs that died, reconcile the Variable mirror, open the etl_control row;
  3. resolve the tenant's inboxes (history still to load for new / moved / re-activated ones);
  4. open one read-only REPEATABLE READ snapshot on the source, check the view's contract, choose
     what to read (the view, or the base tables where proven equal: sync.strategy), take the
     window's upper bound from the source's clock, and stream one COPY;
  5. per chunk, in one analytics transaction: quarantine bad rows, upsert good ones (a tenant's
     first load inserts), advance the watermark, count progress. A crash after any chunk resumes
     exactly after it. The stages overlap (sync.pipeline): chunk N+1 is read while chunk N is
     transformed and chunks N-1 and N-2 are written on two analytics connections, each chunk's
     transaction committing only after the one before it committed (so the watermark only moves
     forward over written rows).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import psycopg

from chatwoot_etl import connections, contract, settings
from chatwoot_etl.contract import SYNCED_STATUSES
from chatwoot_etl.errors import ConfigurationError, LockRefused, SourceReadFailed, SourceRowError
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import leads, load, locks, poison, runs, source, stranded, strategy, transform, watermarks
from chatwoot_etl.sync.pipeline import InOrder, Prefetched
from chatwoot_etl.sync.watermarks import VariableStore, Watermark
from chatwoot_etl.sync.window import ExtractWindow, SyncOptions, plan_window


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
    stranded: int | None = None           # conversations dated beyond the window (None: not counted)
    duration_seconds: float = 0.0
    window: ExtractWindow | None = None   # what was read: the reconcile step re-reads the same

    def summary(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id, "run": self.execution_id, "mode": self.mode, "status": self.status,
            "extracted": self.extracted, "inserted": self.inserted, "updated": self.updated,
            "unchanged": self.unchanged, "deleted": self.deleted, "failed": self.failed, "chunks": self.chunks,
            "watermark_end": self.watermark_end.to_json() if self.watermark_end else None,
            "seconds": round(self.duration_seconds, 3),
        }


ChunkCallback = Callable[[int, SyncResult], None]


class Progress(Protocol):
    """Someone watching a run as it goes (the CLI on a terminal); never needed for correctness."""

    def planned(self, tenant_id: int, slug: str, estimated_rows: int | None) -> None: ...

    def chunk_committed(self, index: int, result: SyncResult) -> None: ...


@dataclass
class RunContext:
    """What one run carries from its start to its end: where it writes, what it reads, what it counted."""

    analytics: psycopg.Connection
    tenant: runs.Tenant
    options: SyncOptions
    rules: leads.LeadRules
    result: SyncResult
    log: EventLogger
    variables: VariableStore | None = None
    on_chunk_committed: ChunkCallback | None = None
    progress: Progress | None = None
    details: dict[str, Any] = field(default_factory=dict)
    start_mark: Watermark | None = None
    # history inboxes not yet covered by the watermark: marked loaded in the chunk that passes it
    pending_history: list[runs.Inbox] = field(default_factory=list)
    insert_only: bool = False   # the tenant had no rows: its first load inserts instead of upserting
    started: float = field(default_factory=time.monotonic)   # when sync_tenant began

    @property
    def tenant_id(self) -> int:
        return self.tenant.id

    @property
    def execution_id(self) -> str:
        return self.result.execution_id

    @property
    def full_refresh(self) -> bool:
        return self.options.mode == "full_refresh"


@dataclass(frozen=True)
class Rejected:
    """A row that is not written: quarantined with the reason and the row as read."""

    conversation_id: str | None
    inbox_id: str | None
    reason: str
    raw_row: dict[str, Any]


def sync_tenant(
    tenant_id: int,
    options: SyncOptions | None = None,
    *,
    variables: VariableStore | None = None,
    on_chunk_committed: ChunkCallback | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Sync one tenant. Raises LockRefused, ContractDrift, ConfigurationError or the underlying error."""
    options = options or SyncOptions()
    options.validate()
    execution_id = str(uuid.uuid4())
    result = SyncResult(tenant_id=tenant_id, execution_id=execution_id, mode=options.mode)
    log = EventLogger(__name__, tenant=tenant_id, run=execution_id[:8], mode=options.mode)
    started = time.monotonic()
    analytics = connections.connect(
        connections.ANALYTICS_CONN_ID, application_name=f"chatwoot_etl:sync:tenant={tenant_id}:run={execution_id[:8]}",
        autocommit=True, settings=connections.ANALYTICS_SESSION)
    try:
        tenant = runs.load_tenant(analytics, tenant_id)
        if tenant.status not in SYNCED_STATUSES:
            raise ConfigurationError(
                f"tenant {tenant_id} ({tenant.slug}) is {tenant.status} in tenants.status: only "
                f"{' / '.join(SYNCED_STATUSES)} tenants are synced"
            )
        try:
            transform.check_timezone(tenant.timezone)
        except ValueError as exc:  # a bad tenants.timezone
            raise ConfigurationError(f"tenant {tenant_id}: {exc}") from exc
        rules = tenant.rules()
        ctx = RunContext(analytics, tenant, options, rules, result, log.bind(slug=tenant.slug), variables,
                         on_chunk_committed, progress, started=started)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(locks.tenant_lock(analytics, tenant_id, options.lock_wait.total_seconds()))
            except LockRefused as exc:
                _record_refusal(ctx, exc)
                raise
            _run_locked(ctx)
    finally:
        analytics.close()
        result.duration_seconds = time.monotonic() - started
    return result


def _record_refusal(ctx: RunContext, exc: LockRefused) -> None:
    """A refused run still gets its etl_control row, naming the holder."""
    holder = exc.holder
    details = {"lock_holder": dataclasses.asdict(holder) if isinstance(holder, locks.LockHolder) else None}
    runs.record_refused(ctx.analytics, tenant_id=ctx.tenant_id, execution_id=ctx.execution_id,
                        load_type=ctx.options.load_type, triggered_by=ctx.options.triggered_by,
                        reason=str(exc), details=details)
    ctx.log.warning("lock_refused", holder=holder.describe() if holder else None)
    ctx.result.status, ctx.result.message = "refused", str(exc)


def _run_locked(ctx: RunContext) -> None:
    _open_run(ctx)
    try:
        _extract_and_load(ctx)
    except BaseException as exc:
        ctx.result.status, ctx.result.message = "failed", f"{type(exc).__name__}: {exc}"
        try:
            runs.finish(ctx.analytics, ctx.execution_id, status="failed", error_message=ctx.result.message[:2000],
                        details={**ctx.details, "error_type": type(exc).__name__})
        except psycopg.Error:
            ctx.log.error("run_failure_not_recorded", note="the next run will mark it abandoned")
        ctx.log.error("run_failed", error=ctx.result.message, chunks=ctx.result.chunks)
        raise
    if ctx.options.moves_watermark and ctx.options.publish_mirror:
        watermarks.publish_mirror(ctx.analytics, ctx.variables, ctx.tenant_id, ctx.result.watermark_end, ctx.log)
    ctx.result.duration_seconds = time.monotonic() - ctx.started
    ctx.log.info("run_finished",
                 **{k: v for k, v in ctx.result.summary().items() if k not in ("tenant", "run", "mode")})


def _open_run(ctx: RunContext) -> None:
    """Close out dead runs, settle the starting watermark (honouring a rewind), open the etl_control row."""
    abandoned = runs.mark_abandoned(ctx.analytics, ctx.tenant_id, ctx.execution_id)
    if abandoned:
        ctx.log.warning("abandoned_runs_closed", runs=",".join(abandoned))
        ctx.details["closed_abandoned_runs"] = abandoned
    mark = watermarks.read(ctx.analytics, ctx.tenant_id)
    if ctx.options.moves_watermark:
        mark, mirror_details = watermarks.adopt_mirror(ctx.analytics, ctx.variables, ctx.tenant_id,
                                                       ctx.execution_id, mark, ctx.log)
        ctx.details.update(mirror_details)
    ctx.start_mark = ctx.result.watermark_start = ctx.result.watermark_end = mark
    runs.start(ctx.analytics, tenant_id=ctx.tenant_id, execution_id=ctx.execution_id,
               load_type=ctx.options.load_type, triggered_by=ctx.options.triggered_by,
               watermark_start=mark.updated_at if mark else None, lead_rules_version=ctx.rules.version)
    ctx.log.info("run_started", lead_rules=ctx.rules.version, watermark=mark.to_json() if mark else "none",
                 chunk_size=ctx.options.chunk_size,
                 lookback_s=int(ctx.options.lookback.total_seconds()), triggered_by=ctx.options.triggered_by)


def _extract_and_load(ctx: RunContext) -> None:
    inboxes = runs.resolve_inboxes(ctx.analytics, ctx.tenant_id)
    unmapped = ctx.result.unmapped_inbox_rows = runs.unmapped_inbox_rows(ctx.analytics, ctx.tenant_id)
    if unmapped:
        ctx.log.warning("unmapped_inbox_rows_not_refreshed", inboxes=",".join(f"{k}:{v}" for k, v in unmapped.items()),
                        note="rows of inboxes no longer mapped to this tenant; a full refresh removes them")
        ctx.details["unmapped_inbox_rows"] = {str(k): v for k, v in unmapped.items()}
    if not inboxes:
        ctx.result.status = "success"
        ctx.result.message = f"tenant {ctx.tenant_id} has no active inbox in inbox_tenant_mapping; nothing to sync"
        runs.finish(ctx.analytics, ctx.execution_id, status="success", error_message=ctx.result.message,
                    details=ctx.details)
        ctx.log.warning("no_active_inbox", note=ctx.result.message)
        return
    src = connections.connect(
        connections.SOURCE_CONN_ID,
        application_name=f"chatwoot_etl:extract:tenant={ctx.tenant_id}:run={ctx.execution_id[:8]}",
        statement_timeout_ms=ctx.options.statement_timeout_ms,
        settings=settings.SOURCE_SESSION.get(),
    )
    try:
        src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        src.read_only = True
        _stream_chunks(ctx, src, inboxes)
        src.rollback()
    finally:
        src.close()
    _finish_run(ctx)


def _stream_chunks(ctx: RunContext, src: psycopg.Connection, inboxes: list[runs.Inbox]) -> None:
    """Check the contract, plan the window on the source's clock, and load the COPY chunk by chunk."""
    diff = source.check_contract(src)
    if diff.extra:
        ctx.log.info("source_extra_columns_ignored", count=len(diff.extra), columns=",".join(diff.extra))
    plan = strategy.choose(src, ctx.analytics)
    ctx.details["source"] = plan.to_json()
    runs.record_source_strategy(ctx.analytics, ctx.execution_id, plan.strategy)
    ctx.log.info("source_strategy", strategy=plan.strategy, reason=plan.reason)
    window = plan_window(ctx.options, inboxes, ctx.start_mark, source.source_clock(src))
    ctx.result.history_inboxes = list(window.history_inboxes)
    ctx.result.window = window
    # conversations dated infinity are on record (quarantined) instead of read, even from a history inbox
    never_read = _count_stranded(ctx, src, [inbox.inbox_id for inbox in inboxes], window)
    ctx.log.info("window_planned", after=window.after[0].isoformat(), after_id=window.after[1],
                 until=window.until.isoformat(), synced_inboxes=len(window.synced_inboxes),
                 history_inboxes=",".join(map(str, window.history_inboxes)) or "none")
    if ctx.progress is not None:
        ctx.progress.planned(ctx.tenant_id, ctx.tenant.slug,
                             source.estimate_rows(src, window, plan.strategy, excluded_ids=never_read))
    load.ensure_staging(ctx.analytics)
    ctx.insert_only = not load.tenant_has_rows(ctx.analytics, ctx.tenant_id)
    if ctx.insert_only:
        ctx.details["first_load"] = "insert only"
    if ctx.full_refresh:
        load.reset_seen(ctx.analytics)
        load.record_seen(ctx.analytics, set(never_read))  # they still exist: a full refresh keeps their rows
    # History inboxes are read from the beginning in the same keyset order as the rest: once the
    # stream has passed the starting watermark, the tenant watermark covers them too, so they
    # are marked loaded in that chunk's transaction and a crash after it resumes at the watermark.
    ctx.pending_history = [] if not ctx.options.moves_watermark else [
        inbox for inbox in inboxes if inbox.inbox_id in window.history_inboxes]
    try:
        _read_and_load(ctx, src, window, plan.strategy, excluded_ids=never_read)
    except SourceReadFailed as failed:
        # The source cannot compute some row: find which, quarantine them, read the rest again.
        src.rollback()
        ctx.log.warning("source_read_failed", error=failed.error, note="narrowing it down to conversations")
        started = time.monotonic()
        found = poison.isolate(src, window, plan.strategy, failed.error, excluded_ids=never_read)
        src.rollback()
        _quarantine_unreadable(ctx, found, seconds=time.monotonic() - started)
        ctx.insert_only = False  # the window is read again from its start: what was written comes again
        try:
            _read_and_load(ctx, src, window, plan.strategy,
                           excluded_ids=never_read + tuple(row.conversation_id for row in found))
        except SourceReadFailed as again:
            raise SourceRowError(
                f"tenant {ctx.tenant_id}: {contract.SOURCE_VIEW} cannot compute conversation(s) "
                f"{', '.join(str(row.conversation_id) for row in found[:10])} (quarantined) and fails to read the "
                f"window without them too ({again.error}): the deployed view computes its per-conversation "
                "views for every conversation of a read. Fix those source rows, or let the source role read the "
                "base tables (the base_tables strategy reads each conversation apart)") from again


def _source_frames(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    try:
        yield from frames
    except strategy.ROW_ERRORS as exc:  # raised by the source while it produced the read
        raise SourceReadFailed(strategy.describe_error(exc)) from exc


# Analytics connections a run writes chunks on: a chunk's COPY and upsert run while the one
# before it is written too (the database's work on one chunk is a single backend's). A full
# refresh writes on one: its list of seen conversations is a temporary table of that session.
WRITER_CONNECTIONS = 2


def _read_and_load(ctx: RunContext, src: psycopg.Connection, window: ExtractWindow, how: str,
                   excluded_ids: tuple[int, ...]) -> None:
    frames = source.whole_conversations(_source_frames(
        source.stream_frames(src, window, ctx.options.chunk_size, how, excluded_ids)))
    writers = _Writers(ctx)
    # chunk N+1 is read and parsed while chunk N is transformed and chunks N-1, N-2 are written
    with (contextlib.closing(writers),
          Prefetched(frames, cancel=src.cancel_safe, name=f"extract-tenant-{ctx.tenant_id}") as ahead,
          InOrder(1 if ctx.full_refresh else WRITER_CONNECTIONS, name=f"load-tenant-{ctx.tenant_id}") as writer):
        waited = time.monotonic()
        for index, raw in enumerate(ahead, start=ctx.result.chunks + 1):
            started = time.monotonic()
            shaped = transform.transform_chunk(raw, tenant_id=ctx.tenant_id, timezone=ctx.tenant.timezone,
                                               rules=ctx.rules)
            times = {"extract_wait_ms": int((started - waited) * 1000),
                     "transform_ms": int((time.monotonic() - started) * 1000)}
            writer.submit(functools.partial(_write_chunk, ctx, writers, raw, shaped, index, times))
            waited = time.monotonic()


class _Writers:
    """The connection of each writer lane: the run's own (lane 0: it holds the tenant lock), and
    the others opened on first use, in their lane's thread, and closed with the read."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._extra: dict[int, psycopg.Connection] = {}

    def connection(self, lane: int) -> psycopg.Connection:
        if lane == 0:
            return self._ctx.analytics
        conn = self._extra.get(lane)
        if conn is None:
            conn = self._extra[lane] = connections.connect(
                connections.ANALYTICS_CONN_ID, autocommit=True, settings=connections.ANALYTICS_SESSION,
                application_name=f"chatwoot_etl:write:tenant={self._ctx.tenant_id}:run={self._ctx.execution_id[:8]}")
            load.ensure_staging(conn)
        return conn

    def close(self) -> None:
        for conn in self._extra.values():
            conn.close()


def _quarantine_unreadable(ctx: RunContext, found: list[poison.PoisonRow], seconds: float) -> None:
    """Record the conversations the source cannot compute (before the watermark may pass them)."""
    if not found:
        ctx.log.info("source_read_recovered", note="the window reads cleanly now", seconds=round(seconds, 1))
        return
    ids = [row.conversation_id for row in found]
    with ctx.analytics.transaction():
        # one entry and one alert per conversation, however many runs find it still broken
        on_record = load.claim_quarantined(ctx.analytics, ctx.tenant_id, poison.REASON_PREFIX, ids)
        new = [row for row in found if row.conversation_id not in on_record]
        for row in new:
            load.quarantine(ctx.analytics, tenant_id=ctx.tenant_id, execution_id=ctx.execution_id,
                            conversation_id=row.conversation_id, inbox_id=row.inbox_id, reason=row.reason,
                            raw_row={"conversation_id": row.conversation_id, "inbox_id": row.inbox_id,
                                     "error": row.error})
        if ctx.full_refresh:
            load.record_seen(ctx.analytics, set(ids))  # they still exist: a full refresh keeps their rows
        runs.record_source_failures(ctx.analytics, ctx.execution_id, len(found))
        if new:
            new_ids = [row.conversation_id for row in new]
            runs.record_alert(ctx.analytics, kind=poison.REASON_PREFIX, tenant_id=ctx.tenant_id,
                              execution_id=ctx.execution_id,
                              details={"conversations": new_ids[:100], "error": new[0].error},
                              message=f"tenant {ctx.tenant_id}: the source cannot compute {len(new)} conversation(s) "
                                      f"of {contract.SOURCE_VIEW} ({new[0].error}), e.g. {new_ids[0]}; quarantined, "
                                      "the rest of the window loads")
    ctx.result.failed += len(found)
    ctx.details["source_row_errors"] = [{"conversation_id": row.conversation_id, "error": row.error}
                                        for row in found[:20]]
    ctx.log.warning("source_rows_quarantined", rows=len(found), first=ids[0], error=found[0].error,
                    seconds=round(seconds, 1))


def _count_stranded(ctx: RunContext, src: psycopg.Connection, inbox_ids: list[int],
                    window: ExtractWindow) -> tuple[int, ...]:
    """Count (and report once) the conversations dated beyond this window's upper bound; the ids
    of the infinite ones (quarantined by the report)."""
    found = stranded.find(src, inbox_ids, window.until)
    if found is None:
        ctx.details["stranded"] = "not counted: the source role cannot read conversations"
        return ()
    ctx.result.stranded = len(found)
    runs.record_stranded(ctx.analytics, ctx.execution_id, len(found))
    if found:
        ctx.details["stranded"] = [row.to_json() for row in found[:20]]
        new = stranded.report(ctx.analytics, tenant_id=ctx.tenant_id, execution_id=ctx.execution_id, stranded=found)
        ctx.log.warning("stranded_conversations", count=len(found), newly_alerted=len(new),
                        infinite=sum(not row.finite for row in found), first=found[0].conversation_id,
                        note="updated_at beyond the source's clock: future rows are read once it passes them")
    return tuple(row.conversation_id for row in found if not row.finite)


def _finish_run(ctx: RunContext) -> None:
    """Delete what a full refresh did not see, mark the history loaded, close the run as a success."""
    result = ctx.result
    with ctx.analytics.transaction():
        if ctx.full_refresh:
            result.deleted = ctx.analytics.execute(
                sql_text("etl/delete_unseen_conversations.sql"), {"tenant_id": ctx.tenant_id}).rowcount
            if result.deleted:
                ctx.log.info("stale_rows_deleted", rows=result.deleted)
        runs.mark_history_loaded(ctx.analytics, ctx.tenant_id, ctx.pending_history, ctx.execution_id)
        if result.truncated:
            ctx.details["truncated"] = result.truncated
        result.status = "success"
        if result.failed:
            result.message = f"{result.failed} row(s) quarantined in etl_quarantine"
            ctx.log.warning("rows_quarantined", rows=result.failed)
        runs.finish(ctx.analytics, ctx.execution_id, status="success", deleted=result.deleted,
                    error_message=result.message or None, details=ctx.details)


def chunk_watermark(rows: pd.DataFrame) -> Watermark | None:
    """The greatest (conversation_updated_at, conversation_id) of the rows that are written."""
    if rows.empty:
        return None
    keyed = rows[["conversation_updated_at", "conversation_id"]].dropna()
    if keyed.empty:
        return None
    last = keyed.sort_values(["conversation_updated_at", "conversation_id"]).iloc[-1]
    return Watermark(last["conversation_updated_at"].to_pydatetime(), int(last["conversation_id"]))


def _rejections(raw: pd.DataFrame, shaped: transform.TransformResult, counts: load.LoadCounts) -> list[Rejected]:
    """Rows the transform refused, then rows the database refused (with the row as read)."""
    rejected = [Rejected(r.conversation_id, r.inbox_id, r.reason, r.raw_row) for r in shaped.rejected]
    if counts.rejected:
        raw_by_id = {str(row["conversation_id"]): row for row in raw.to_dict("records")}
        for item in counts.rejected:
            raw_row = raw_by_id.get(str(item["row"]["conversation_id"]), {})
            rejected.append(Rejected(str(item["row"]["conversation_id"]), str(item["row"]["inbox_id"]),
                                     item["reason"], {k: (None if pd.isna(v) else v) for k, v in raw_row.items()}))
    return rejected


def _seen_ids(shaped: transform.TransformResult, rejected: list[Rejected]) -> set[int]:
    """Conversations a full refresh has seen in this chunk (quarantined ones too: they still exist)."""
    seen = set(shaped.rows["conversation_id"].dropna().astype(int).tolist())
    seen.update(int(r.conversation_id) for r in rejected if r.conversation_id is not None
                and str(r.conversation_id).isdigit())
    return seen


def _write_chunk(ctx: RunContext, writers: _Writers, raw: pd.DataFrame, shaped: transform.TransformResult,
                 index: int, times: dict[str, int], lane: int, after_previous: Callable[[], None]) -> None:
    """Write one transformed chunk in one transaction, with its quarantine, watermark and progress.

    The rows go in while the previous chunk may still be writing on another connection (chunks
    never share a conversation); the watermark, the run's counters and the commit wait for it, so
    they move in chunk order and a chunk whose predecessor failed is rolled back.
    """
    t1 = time.monotonic()
    conn = writers.connection(lane)
    mark = chunk_watermark(shaped.rows) if ctx.options.moves_watermark else None
    with conn.transaction():
        counts = load.write_chunk(conn, shaped.rows, insert_only=ctx.insert_only)
        if counts.conflicted:
            ctx.insert_only = False
            ctx.details["first_load"] = f"insert only until chunk {index}, which met stored rows: upserts since"
            ctx.log.warning("first_load_met_stored_rows", chunk=index, note="upserting from this chunk on")
        rejected = _rejections(raw, shaped, counts)
        for item in rejected:
            load.quarantine(conn, tenant_id=ctx.tenant_id, execution_id=ctx.execution_id,
                            conversation_id=item.conversation_id, inbox_id=item.inbox_id, reason=item.reason,
                            raw_row=item.raw_row)
        if ctx.full_refresh:
            load.record_seen(conn, _seen_ids(shaped, rejected))
        load.clear_resolved_quarantine(conn, shaped.rows["conversation_id"])
        waiting = time.monotonic()
        after_previous()   # raises if the chunk before failed: this one is rolled back with it
        waited = time.monotonic() - waiting
        if mark is not None:
            watermarks.advance(conn, ctx.tenant_id, mark, ctx.execution_id)
            if ctx.pending_history and (ctx.start_mark is None or mark >= ctx.start_mark):
                runs.mark_history_loaded(conn, ctx.tenant_id, ctx.pending_history, ctx.execution_id)
                ctx.pending_history = []
        runs.record_chunk(conn, ctx.execution_id, extracted=len(raw), inserted=counts.inserted,
                          updated=counts.updated, unchanged=counts.unchanged, failed=len(rejected),
                          watermark_end=mark.updated_at if mark else None)
    t2 = time.monotonic()
    _count_chunk(ctx.result, index, len(raw), counts, len(rejected), shaped.truncated, mark)
    ctx.log.info("chunk_committed", chunk=index, rows=len(raw), inserted=counts.inserted, updated=counts.updated,
                 unchanged=counts.unchanged, moved_in=counts.moved_in or None,
                 skipped_unmapped=counts.skipped_unmapped or None, failed=len(rejected) or None,
                 truncated=sum(shaped.truncated.values()) or None, **times, load_ms=int((t2 - t1 - waited) * 1000),
                 previous_wait_ms=int(waited * 1000))
    if ctx.on_chunk_committed is not None:
        ctx.on_chunk_committed(index, ctx.result)
    if ctx.progress is not None:
        ctx.progress.chunk_committed(index, ctx.result)


def _count_chunk(result: SyncResult, index: int, extracted: int, counts: load.LoadCounts, failed: int,
                 truncated: dict[str, int], mark: Watermark | None) -> None:
    result.chunks = index
    result.extracted += extracted
    result.inserted += counts.inserted
    result.updated += counts.updated
    result.unchanged += counts.unchanged
    result.moved_in += counts.moved_in
    result.skipped_unmapped += counts.skipped_unmapped
    result.failed += failed
    for column, count in truncated.items():
        result.truncated[column] = result.truncated.get(column, 0) + count
    if mark is not None:
        result.watermark_end = max(mark, result.watermark_end) if result.watermark_end else mark
