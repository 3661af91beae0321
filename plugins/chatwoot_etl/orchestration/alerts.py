"""Alerts for the on-call engineer, built on Airflow's notifier interface.

Every alert is a row in ``etl_alerts`` plus one structured log line. Errors are also sent to
Slack (``apache-airflow-providers-slack`` incoming webhook, conn id ``chatwoot_alerts_slack``)
and by e-mail (``apache-airflow-providers-smtp``, conn id ``chatwoot_alerts_smtp`` with the
recipients in its extra ``{"to": "a@x, b@y"}``), each only when its connection exists.
Each channel fails on its own: a broken webhook or database never hides the task's own failure
(Airflow already keeps callback errors out of the task's state; we also keep one channel's
failure away from the next).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseNotifier

from chatwoot_etl import settings
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.orchestration.retries import run_type

_TENANT_DAG = re.compile(r"^chatwoot_sync_tenant_(\d+)$")

log = EventLogger(__name__)


@dataclass
class Alert:
    severity: str                 # 'warning' | 'error'
    kind: str                     # 'task_failure', 'task_retry', 'freshness', 'reconcile'
    message: str
    tenant_id: int | None = None
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    log_url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        icon = ":red_circle:" if self.severity == "error" else ":warning:"
        where = ".".join(filter(None, (self.dag_id, self.task_id))) or self.kind
        head = f"{icon} chatwoot_etl {self.kind}: {where}"
        if self.tenant_id is not None:
            head += f" (tenant {self.tenant_id})"
        lines = [head, f"run: {self.run_id}  try: {self.try_number}" if self.run_id else None,
                 self.message[:1500], f"log: {self.log_url}" if self.log_url else None]
        return "\n".join(line for line in lines if line)


def tenant_of(dag_id: str | None) -> int | None:
    match = _TENANT_DAG.match(dag_id or "")
    return int(match.group(1)) if match else None


def from_context(context: Any, *, severity: str, kind: str) -> Alert:
    """The alert for a task callback's context (an error may be an exception or a string)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None)
    error = context.get("exception")
    message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error or "task failed")
    try:
        log_url = ti.log_url if ti is not None else None
    except Exception:  # noqa: BLE001 - a missing base_url must not lose the alert
        log_url = None
    kind_of_run = run_type(context)
    return Alert(severity=severity, kind=kind, message=message, tenant_id=tenant_of(dag_id), dag_id=dag_id,
                 task_id=getattr(ti, "task_id", None), run_id=getattr(ti, "run_id", None),
                 try_number=getattr(ti, "try_number", None), log_url=log_url,
                 details={"error_type": type(error).__name__ if isinstance(error, BaseException) else None,
                          "run_type": kind_of_run or None})


def record(alert: Alert) -> int | None:
    """Insert the alert row; its id, or None (logged) when the analytics database is unreachable."""
    try:
        from psycopg.types.json import Jsonb

        from chatwoot_etl import connections
        from chatwoot_etl.paths import sql_text

        with connections.analytics("alert") as conn:
            row = connections.one_row(conn.execute(sql_text("etl/insert_alert.sql"),
                                                   {**asdict(alert), "details": Jsonb(alert.details)}))
            return int(row[0])
    except Exception as exc:  # noqa: BLE001 - the alert still reaches the log and the other channels
        log.error("alert_not_recorded", kind=alert.kind, tenant=alert.tenant_id, error=f"{type(exc).__name__}: {exc}")
        return None


def _connection(conn_id: str):
    """The Airflow connection, or None when it is not configured."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - AirflowNotFoundException and friends: channel not configured
        return None


def _send_slack(alert: Alert, context: Any) -> bool:
    conn_id = settings.SLACK_CONN_ID.get()
    if _connection(conn_id) is None:
        return False
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=alert.text(), timeout=10).notify(context)
    return True


def _send_email(alert: Alert, context: Any) -> bool:
    conn_id = settings.SMTP_CONN_ID.get()
    conn = _connection(conn_id)
    if conn is None:
        return False
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
    to = extra.get("to") or settings.ALERT_EMAILS.get()
    if not to:
        log.warning("email_alert_skipped", note=f"connection {conn_id} has no 'to' in its extra")
        return False
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    subject = alert.text().splitlines()[0].replace(":red_circle: ", "").replace(":warning: ", "")
    body = "<pre>" + alert.text().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"
    SmtpNotifier(to=to, from_email=extra.get("from_email"), subject=subject, html_content=body,
                 smtp_conn_id=conn_id).notify(context)
    return True


def dispatch(alert: Alert, context: Any | None = None, *, external: bool | None = None) -> dict[str, Any]:
    """Record, log and (for errors) send the alert; what each channel did. Never raises."""
    outcome: dict[str, Any] = {"row": record(alert)}
    fields = {k: v for k, v in asdict(alert).items() if k not in ("details", "message")}
    emit = log.error if alert.severity == "error" else log.warning
    emit("alert", **fields, error=alert.message[:500])
    if external if external is not None else alert.severity == "error":
        for name, send in (("slack", _send_slack), ("email", _send_email)):
            try:
                outcome[name] = send(alert, context if context is not None else {})
            except Exception as exc:  # noqa: BLE001 - one broken channel must not stop the others
                outcome[name] = f"failed: {type(exc).__name__}"
                log.error("alert_channel_failed", channel=name, kind=alert.kind, tenant=alert.tenant_id,
                          error=f"{type(exc).__name__}: {exc}")
    return outcome


def fingerprint(findings: Any) -> str:
    """A short stable digest of what an alert reports (JSON-able), to recognise the same situation."""
    return hashlib.sha256(json.dumps(findings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def already_raised(kind: str, tenant_id: int | None, digest: str, within: timedelta | None = None) -> bool:
    """Whether the latest alert of kind for tenant_id reported the same fingerprint (within the period)."""
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.analytics("alert") as conn:
        row = connections.one_row(conn.execute(sql_text("etl/alert_already_raised.sql"), {
            "kind": kind, "tenant_id": tenant_id, "fingerprint": digest, "within": within}))
    return bool(row[0])


def dispatch_once(alert: Alert, findings: Any, context: Any | None = None, *,
                  within: timedelta | None = None) -> bool:
    """Dispatch the alert unless the same situation (findings) was already reported: once per
    distinct situation (within=None) or once per period. True when it was dispatched."""
    digest = fingerprint(findings)
    if already_raised(alert.kind, alert.tenant_id, digest, within):
        return False
    alert.details = {**alert.details, "fingerprint": digest}
    dispatch(alert, context)
    return True


def task_fields(context: Any) -> dict[str, Any]:
    """dag_id / task_id / run_id of the task instance in a task's context (None outside a task)."""
    ti = (context or {}).get("ti")
    return {"dag_id": getattr(ti, "dag_id", None), "task_id": getattr(ti, "task_id", None),
            "run_id": getattr(ti, "run_id", None)}


class EtlNotifier(BaseNotifier):
    """A task callback: one alert per call, never raising into Airflow's callback runner."""

    severity = "error"
    kind = "task_failure"

    def notify(self, context: Any) -> None:
        try:
            dispatch(from_context(context, severity=self.severity, kind=self.kind), context)
        except Exception as exc:  # noqa: BLE001 - belt and braces: the task's own failure stands
            log.error("notifier_failed", kind=self.kind, error=f"{type(exc).__name__}: {exc}")


class TaskFailureNotifier(EtlNotifier):
    """on_failure_callback: the task failed for good (no retry left, or a permanent error)."""


class TaskRetryNotifier(EtlNotifier):
    """on_retry_callback: a warning row and log line; nobody is paged for a retry."""

    severity = "warning"
    kind = "task_retry"
