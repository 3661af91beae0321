"""The task callables of a tenant's DAG. Heavy imports (engine, pandas, psycopg) happen in here,
at run time, never when the DAG file is parsed. Only small values go through XCom.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from chatwoot_etl.logs import EventLogger

BACKFILL = "backfill"


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def lock_wait(run_type: str) -> timedelta:
    """How long a run waits for another sync of its tenant before it is refused."""
    if run_type == BACKFILL:
        return timedelta(seconds=_seconds("CHATWOOT_ETL_BACKFILL_LOCK_WAIT_SECONDS", 300))
    return timedelta(seconds=_seconds("CHATWOOT_ETL_LOCK_WAIT_SECONDS", 600))


def _run_type(context: dict[str, Any]) -> str:
    run = context.get("dag_run")
    value = getattr(run, "run_type", "")
    return str(getattr(value, "value", value) or "")


def _logger(tenant_id: int, context: dict[str, Any]) -> EventLogger:
    ti = context.get("ti")
    return EventLogger("chatwoot_etl.orchestration.tasks", tenant=tenant_id, dag_run=getattr(ti, "run_id", None),
                       task=getattr(ti, "task_id", None), try_number=getattr(ti, "try_number", None))


def _aware(value: Any, name: str) -> datetime | None:
    from chatwoot_etl.sync.runs import ConfigurationError

    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigurationError(f"param {name}={value!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        raise ConfigurationError(f"param {name}={value!r} has no time zone; write e.g. 2026-01-01T00:00:00Z")
    return moment


def sync_options(context: dict[str, Any]):
    """The engine's options for this run: backfill runs re-sync their data interval as a window."""
    from chatwoot_etl.sync.engine import DEFAULT_CHUNK_SIZE, SyncOptions

    params = context.get("params") or {}
    run_type = _run_type(context)
    run_id = getattr(context.get("dag_run"), "run_id", "")
    common = {"chunk_size": int(params.get("chunk_size") or DEFAULT_CHUNK_SIZE),
              "lock_wait": lock_wait(run_type), "triggered_by": f"airflow:{run_type or 'run'}:{run_id}"[:200]}
    if run_type == BACKFILL:
        return SyncOptions(mode="window", since=context["data_interval_start"], until=context["data_interval_end"],
                           **common)
    mode = params.get("mode") or "incremental"
    if mode == "window":
        options = SyncOptions(mode=mode, since=_aware(params.get("since"), "since"),
                              until=_aware(params.get("until"), "until"), **common)
    else:
        options = SyncOptions(mode=mode, **common)
    options.validate()
    return options


def resolve_inboxes(tenant_id: int, **context: Any) -> dict[str, Any]:
    """The tenant's active inboxes (and which still need their history); fails on an unknown tenant."""
    from chatwoot_etl import connections
    from chatwoot_etl.sync import runs

    log = _logger(tenant_id, context)
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name=f"chatwoot_etl:resolve:tenant={tenant_id}",
                             autocommit=True) as conn:
        tenant = runs.load_tenant(conn, tenant_id)
        if tenant.status not in ("active", "trial"):
            raise runs.ConfigurationError(f"tenant {tenant_id} is {tenant.status}; its DAG disappears at the next "
                                          "registry refresh")
        inboxes = runs.resolve_inboxes(conn, tenant_id)
    out = {"inboxes": [i.inbox_id for i in inboxes], "history_pending": [i.inbox_id for i in inboxes if not i.history_loaded]}
    log.info("inboxes_resolved", slug=tenant.slug, inboxes=",".join(map(str, out["inboxes"])) or "none",
             history_pending=",".join(map(str, out["history_pending"])) or None)
    return out


def check_source_contract(tenant_id: int, **context: Any) -> dict[str, Any]:
    """Fail at once, with the column diff, when the source view no longer offers what the load needs."""
    import psycopg

    from chatwoot_etl import connections
    from chatwoot_etl.sync import source

    log = _logger(tenant_id, context)
    with connections.connect(connections.SOURCE_CONN_ID,
                             application_name=f"chatwoot_etl:contract:tenant={tenant_id}") as src:
        src.read_only = True
        src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        diff = source.check_contract(src)
        src.rollback()
    extra = list(diff.extra)
    log.info("source_contract_ok", extra_columns=",".join(extra) or None)
    return {"extra_columns": extra[:50]}


def sync(tenant_id: int, **context: Any) -> dict[str, Any]:
    """The engine's chunked extract -> transform -> upsert, under the tenant's advisory lock."""
    from chatwoot_etl.sync import engine, reconcile
    from chatwoot_etl.orchestration.variables import AirflowVariables

    log = _logger(tenant_id, context)
    options = sync_options(context)
    log.info("sync_starting", mode=options.mode, since=options.since.isoformat() if options.since else None,
             until=options.until.isoformat() if options.until else None, chunk_size=options.chunk_size,
             lock_wait_s=int(options.lock_wait.total_seconds()), triggered_by=options.triggered_by)
    result = engine.sync_tenant(tenant_id, options, variables=AirflowVariables())
    summary = result.summary()
    summary["lookback_s"] = int(options.lookback.total_seconds())
    summary["chunk_size"] = options.chunk_size
    summary["window"] = reconcile.window_to_xcom(result.window) if result.window else None
    return summary


def publish_watermark(tenant_id: int, **context: Any) -> dict[str, Any]:
    """Make the Variable mirror equal the database watermark (taken under the tenant lock).

    The sync already publishes at its end; this repairs a mirror it could not write. Window runs
    (backfills) leave the Variable alone so an operator's pending rewind is never overwritten.
    """
    from chatwoot_etl import connections
    from chatwoot_etl.sync import engine, locks, watermarks
    from chatwoot_etl.orchestration.variables import AirflowVariables

    log = _logger(tenant_id, context)
    summary = context["ti"].xcom_pull(task_ids="sync") or {}
    key = watermarks.variable_key(tenant_id)
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name=f"chatwoot_etl:publish:tenant={tenant_id}",
                             autocommit=True) as conn:
        if summary.get("mode") == "window":
            mark = watermarks.read(conn, tenant_id)
            log.info("watermark_not_published", reason="window run", watermark=mark.to_json() if mark else None)
            return {"variable": key, "watermark": mark.to_json() if mark else None, "published": False}
        try:
            with locks.tenant_lock(conn, tenant_id, wait_seconds=30):
                mark = watermarks.read(conn, tenant_id)
                variables = AirflowVariables()
                current = variables.get(key)
                decision = watermarks.compare_mirror(mark, current, watermarks.read_mirrored(conn, tenant_id))
                if decision.action == "rewind":  # an operator's edit since the sync: the next sync honours it
                    log.warning("watermark_rewind_pending", variable=key, value=current)
                    return {"variable": key, "watermark": mark.to_json(), "published": False}
                if mark is not None and current != mark.to_json():
                    if engine.publish_mirror(conn, variables, tenant_id, mark, log):
                        log.warning("watermark_mirror_repaired", variable=key, was=current, now=mark.to_json())
        except locks.LockRefused:
            mark = watermarks.read(conn, tenant_id)
            log.info("watermark_publish_deferred", note="another sync holds the tenant; it publishes at its end")
            return {"variable": key, "watermark": mark.to_json() if mark else None, "published": False}
    log.info("watermark_published", variable=key, watermark=mark.to_json() if mark else None)
    return {"variable": key, "watermark": mark.to_json() if mark else None, "published": mark is not None}


def reconcile(tenant_id: int, **context: Any) -> dict[str, Any]:
    """Source vs target counts (rows, leads, visits) for the synced window; fail on an unexplained mismatch."""
    from airflow.sdk.exceptions import AirflowFailException

    from chatwoot_etl.sync import reconcile as rec

    log = _logger(tenant_id, context)
    summary = context["ti"].xcom_pull(task_ids="sync") or {}
    execution_id = summary.get("run")
    if not execution_id or summary.get("status") != "success" or not summary.get("window"):
        if execution_id:
            rec.record(execution_id, "skipped", None, {"reason": "nothing was read"})
        log.info("reconcile_skipped", reason="the sync read nothing (no active inbox)")
        return {"status": "skipped"}
    counts = rec.compare_window(tenant_id, rec.window_from_xcom(summary["window"]),
                                chunk_size=int(summary.get("chunk_size") or 5000),
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
    import hashlib
    import json

    from chatwoot_etl import connections
    from chatwoot_etl.admin import mappings
    from chatwoot_etl.orchestration import alerts
    from chatwoot_etl.paths import sql_text

    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:drift",
                             autocommit=True) as analytics, \
            connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:drift") as src:
        report = mappings.drift_report(analytics, src)
        if not report["drift"]:
            return report["counts"]
        findings = {k: v for k, v in report.items() if k not in ("drift", "counts")}
        fingerprint = hashlib.sha256(json.dumps(findings, sort_keys=True, default=str).encode()).hexdigest()[:16]
        last = analytics.execute(sql_text("etl/last_alert_details.sql"), {"kind": "mapping_drift", "tenant_id": None}
                                 ).fetchone()
    if last is not None and (last[0] or {}).get("fingerprint") == fingerprint:
        return {**report["counts"], "alerted": False}
    ti = context.get("ti")
    summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in report["counts"].items() if count)
    alerts.dispatch(alerts.Alert(
        severity="warning", kind="mapping_drift", dag_id=getattr(ti, "dag_id", None),
        task_id=getattr(ti, "task_id", None), run_id=getattr(ti, "run_id", None),
        message=f"inbox mapping drift: {summary}. See `chatwoot-etl inboxes drift` and `inboxes discover --tenant ID`.",
        details={"fingerprint": fingerprint, **json.loads(json.dumps(findings, default=str))},
    ), context)
    return {**report["counts"], "alerted": True}


def check_freshness(**context: Any) -> dict[str, Any]:
    """Alert on tenants whose watermark lags the source by more than the threshold."""
    from chatwoot_etl.orchestration import freshness

    minutes = (context.get("params") or {}).get("threshold_minutes")
    threshold = timedelta(minutes=float(minutes)) if minutes else None
    return freshness.check(threshold, context)
