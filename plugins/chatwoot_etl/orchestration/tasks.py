"""The task bodies of the DAGs. The factory wraps them with TaskFlow's ``@task``.

Heavy imports (the engine, pandas, psycopg) happen in here, at run time, never when the DAG file
is parsed. Only small values go through XCom: counts, watermarks, a window's two bounds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatwoot_etl import clock, settings
from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.orchestration.retries import run_type

if TYPE_CHECKING:
    from chatwoot_etl.sync.window import SyncOptions

BACKFILL = "backfill"


def lock_wait(kind_of_run: str) -> timedelta:
    """How long a run waits for another sync of its tenant before it is refused."""
    if kind_of_run == BACKFILL:
        return timedelta(seconds=settings.BACKFILL_LOCK_WAIT_SECONDS.get())
    return timedelta(seconds=settings.LOCK_WAIT_SECONDS.get())


def _logger(tenant_id: int | None, context: dict[str, Any]) -> EventLogger:
    ti = context.get("ti")
    return EventLogger(__name__, tenant=tenant_id, dag_run=getattr(ti, "run_id", None),
                       task=getattr(ti, "task_id", None), try_number=getattr(ti, "try_number", None))


def parse_aware(value: Any, name: str) -> datetime | None:
    """An ISO 8601 date-time with a zone (a trigger param); None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigurationError(f"param {name}={value.isoformat()!r} has no time zone")
        return value
    try:
        return clock.parse_aware(str(value))
    except ValueError as exc:
        raise ConfigurationError(f"param {name}: {exc}") from None


def sync_options(context: dict[str, Any]) -> SyncOptions:
    """The engine's options for this run: backfill runs re-sync their data interval as a window."""
    from chatwoot_etl.sync.window import DEFAULT_CHUNK_SIZE, SyncOptions

    params = context.get("params") or {}
    kind = run_type(context)
    run_id = getattr(context.get("dag_run"), "run_id", "")
    common: dict[str, Any] = {"chunk_size": int(params.get("chunk_size") or DEFAULT_CHUNK_SIZE),
                              "lock_wait": lock_wait(kind), "triggered_by": f"airflow:{kind or 'run'}:{run_id}"[:200]}
    if kind == BACKFILL:
        return SyncOptions(mode="window", since=context["data_interval_start"], until=context["data_interval_end"],
                           **common)
    mode = params.get("mode") or "incremental"
    if mode == "window":
        options = SyncOptions(mode=mode, since=parse_aware(params.get("since"), "since"),
                              until=parse_aware(params.get("until"), "until"), **common)
    else:
        options = SyncOptions(mode=mode, **common)
    options.validate()
    return options


def resolve_inboxes(tenant_id: int, **context: Any) -> dict[str, Any]:
    """The tenant's active inboxes (and which still need their history); fails on an unknown tenant."""
    from chatwoot_etl import connections
    from chatwoot_etl.contract import SYNCED_STATUSES
    from chatwoot_etl.sync import runs

    log = _logger(tenant_id, context)
    with connections.analytics(f"resolve:tenant={tenant_id}") as conn:
        tenant = runs.load_tenant(conn, tenant_id)
        if tenant.status not in SYNCED_STATUSES:
            raise ConfigurationError(f"tenant {tenant_id} is {tenant.status}; its DAG disappears at the next "
                                     "registry refresh")
        inboxes = runs.resolve_inboxes(conn, tenant_id)
    out = {"inboxes": [i.inbox_id for i in inboxes], "history_pending": [i.inbox_id for i in inboxes if not i.history_loaded]}
    log.info("inboxes_resolved", slug=tenant.slug, inboxes=",".join(map(str, out["inboxes"])) or "none",
             history_pending=",".join(map(str, out["history_pending"])) or None)
    return out


def check_source_contract(tenant_id: int, **context: Any) -> dict[str, Any]:
    """Fail at once, with the column diff, when the source view no longer offers what the load needs."""
    import psycopg

    from chatwoot_etl import connections, settings
    from chatwoot_etl.sync import privileges, source, strategy

    log = _logger(tenant_id, context)
    purpose = f"contract:tenant={tenant_id}"
    with connections.source(purpose, settings=settings.SOURCE_SESSION.get()) as src, \
            connections.analytics(purpose, settings=connections.ANALYTICS_SESSION) as analytics:
        src.read_only = True
        src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        diff = source.check_contract(src)
        plan = strategy.choose(src, analytics)
        writes = privileges.warnings(privileges.source_write_privileges(src))
        src.rollback()
    if writes:
        log.warning("source_role_can_write", capabilities="; ".join(writes), note="the source role should only read")
    extra = list(diff.extra)
    log.info("source_contract_ok", extra_columns=",".join(extra) or None, strategy=plan.strategy, reason=plan.reason)
    return {"extra_columns": extra[:50], "source": plan.to_json(), "source_role_can": writes}


def sync(tenant_id: int, **context: Any) -> dict[str, Any]:
    """The engine's chunked extract -> transform -> upsert, under the tenant's advisory lock."""
    from chatwoot_etl.orchestration.variables import TaskVariables
    from chatwoot_etl.sync import engine

    log = _logger(tenant_id, context)
    options = sync_options(context)
    log.info("sync_starting", mode=options.mode, since=options.since.isoformat() if options.since else None,
             until=options.until.isoformat() if options.until else None, chunk_size=options.chunk_size,
             lock_wait_s=int(options.lock_wait.total_seconds()), triggered_by=options.triggered_by)
    result = engine.sync_tenant(tenant_id, options, variables=TaskVariables())
    summary = result.summary()
    summary["lookback_s"] = int(options.lookback.total_seconds())
    summary["chunk_size"] = options.chunk_size
    summary["window"] = result.window.to_xcom() if result.window else None
    return summary


def publish_watermark(tenant_id: int, summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Make the Variable mirror equal the database watermark (taken under the tenant lock).

    The sync already publishes at its end; this repairs a mirror it could not write. Window runs
    (backfills) leave the Variable alone so an operator's pending rewind is never overwritten.
    """
    from chatwoot_etl import connections
    from chatwoot_etl.errors import LockRefused
    from chatwoot_etl.orchestration.variables import TaskVariables
    from chatwoot_etl.sync import locks, watermarks

    log = _logger(tenant_id, context)
    key = watermarks.variable_key(tenant_id)

    def outcome(mark: watermarks.Watermark | None, published: bool) -> dict[str, Any]:
        return {"variable": key, "watermark": mark.to_json() if mark else None, "published": published}

    with connections.analytics(f"publish:tenant={tenant_id}") as conn:
        if (summary or {}).get("mode") == "window":
            mark = watermarks.read(conn, tenant_id)
            log.info("watermark_not_published", reason="window run", watermark=mark.to_json() if mark else None)
            return outcome(mark, False)
        try:
            with locks.tenant_lock(conn, tenant_id, wait_seconds=30):
                mark = watermarks.read(conn, tenant_id)
                variables = TaskVariables()
                current = variables.get(key)
                decision = watermarks.compare_mirror(mark, current, watermarks.read_mirrored(conn, tenant_id))
                if decision.action == "rewind":  # an operator's edit since the sync: the next sync honours it
                    log.warning("watermark_rewind_pending", variable=key, value=current)
                    return outcome(mark, False)
                if mark is not None and current != mark.to_json():
                    if watermarks.publish_mirror(conn, variables, tenant_id, mark, log):
                        log.warning("watermark_mirror_repaired", variable=key, was=current, now=mark.to_json())
        except LockRefused:
            mark = watermarks.read(conn, tenant_id)
            log.info("watermark_publish_deferred", note="another sync holds the tenant; it publishes at its end")
            return outcome(mark, False)
    log.info("watermark_published", variable=key, watermark=mark.to_json() if mark else None)
    return outcome(mark, mark is not None)


def reconcile(tenant_id: int, summary: dict[str, Any], **context: Any) -> dict[str, Any]:
    """Source vs target counts (rows, leads, visits) for the synced window; fail on an unexplained mismatch."""
    from airflow.sdk.exceptions import AirflowFailException

    from chatwoot_etl.sync import reconcile as rec
    from chatwoot_etl.sync.window import DEFAULT_CHUNK_SIZE, ExtractWindow

    log = _logger(tenant_id, context)
    summary = summary or {}
    execution_id = summary.get("run")
    if not execution_id or summary.get("status") != "success" or not summary.get("window"):
        if execution_id:
            rec.record(execution_id, "skipped", None, {"reason": "nothing was read"})
        log.info("reconcile_skipped", reason="the sync read nothing (no active inbox)")
        return {"status": "skipped"}
    counts = rec.compare_window(tenant_id, ExtractWindow.from_xcom(summary["window"]),
                                chunk_size=int(summary.get("chunk_size") or DEFAULT_CHUNK_SIZE),
                                lookback=timedelta(seconds=int(summary.get("lookback_s") or 300)), log=log)
    status = counts.status()
    rec.record(execution_id, status, counts, {"dag_run": getattr(context.get("ti"), "run_id", None)})
    out = {"status": status, "source_rows": counts.source_rows, "target_rows": counts.target_rows,
           "source_leads": counts.source_leads, "target_leads": counts.target_leads,
           "source_visits": counts.source_visits, "target_visits": counts.target_visits}
    if status == "mismatch":
        raise AirflowFailException(
            f"tenant {tenant_id}: target differs from source for run {execution_id}: missing={counts.missing} "
            f"stale={counts.stale} lead/visit differ={counts.flags_differ}; e.g. {'; '.join(counts.examples[:3])}. "
            "A full refresh (mode=full_refresh) rewrites the tenant.")
    return out


def refresh_registry(**context: Any) -> dict[str, Any]:
    """Rewrite the tenant registry snapshot; on failure the last good one stays (no DAG disappears)."""
    from chatwoot_etl.orchestration import registry

    return registry.refresh()


def report_drift(**context: Any) -> dict[str, Any]:
    """Report mapping drift (unmapped source inboxes of a tenant's account, mapped inboxes gone from the
    source, tenants without an active inbox, inboxes under a tenant of another account); alert once
    per distinct drift, not at every refresh."""
    import json

    from chatwoot_etl import connections
    from chatwoot_etl.admin import mappings
    from chatwoot_etl.orchestration import alerts

    with connections.analytics("drift") as analytics, connections.source("drift") as src:
        report = mappings.drift_report(analytics, src)
    if not report["drift"]:
        return report["counts"]
    findings = {k: v for k, v in report.items() if k not in ("drift", "counts")}
    summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in report["counts"].items() if count)
    alert = alerts.Alert(
        severity="warning", kind="mapping_drift", **alerts.task_fields(context),
        message=f"inbox mapping drift: {summary}. See `chatwoot-etl inboxes drift` and `inboxes discover --tenant ID`.",
        details=json.loads(json.dumps(findings, default=str)),
    )
    return {**report["counts"], "alerted": alerts.dispatch_once(alert, findings, context)}


def check_freshness(**context: Any) -> dict[str, Any]:
    """Alert on tenants whose watermark lags the source by more than the threshold (param or setting)."""
    from chatwoot_etl.orchestration import freshness

    minutes = (context.get("params") or {}).get("threshold_minutes")
    threshold = timedelta(minutes=float(minutes)) if minutes else None
    return freshness.check(threshold, context)
