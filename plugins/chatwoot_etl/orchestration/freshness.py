"""Freshness monitor: alert when a tenant's watermark lags the source by more than a threshold.

Lag = newest change in the tenant's inboxes at the source minus the tenant's watermark (both UTC).
A tenant never synced while its source has data counts as lagging. One alert per tenant per
threshold period (no paging every run while the same tenant stays behind).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from chatwoot_etl.logs import EventLogger

DEFAULT_THRESHOLD = timedelta(hours=1)
log = EventLogger("chatwoot_etl.orchestration.freshness")


def default_threshold() -> timedelta:
    try:
        return timedelta(minutes=float(os.environ.get("CHATWOOT_ETL_FRESHNESS_THRESHOLD_MINUTES", 60)))
    except ValueError:
        return DEFAULT_THRESHOLD


@dataclass(frozen=True)
class TenantLag:
    tenant_id: int
    slug: str
    watermark: datetime | None
    newest_source: datetime | None

    @property
    def lag(self) -> timedelta | None:
        if self.newest_source is None:
            return None
        if self.watermark is None:
            return timedelta.max
        return max(self.newest_source - self.watermark, timedelta(0))


def measure() -> list[TenantLag]:
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:freshness",
                             autocommit=True) as conn:
        tenants = conn.execute(sql_text("etl/freshness_watermarks.sql")).fetchall()
    inboxes = sorted({i for *_, ids in tenants for i in ids})
    with connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:freshness") as src:
        src.read_only = True
        newest = dict(src.execute(sql_text("etl/source_newest_by_inbox.sql"), {"inboxes": inboxes}).fetchall())
        src.rollback()
    lags = []
    for tenant_id, slug, watermark, ids in tenants:
        latest = max((newest[i] for i in ids if newest.get(i) is not None), default=None)
        lags.append(TenantLag(tenant_id, slug, watermark.astimezone(timezone.utc) if watermark else None,
                              latest.replace(tzinfo=timezone.utc) if latest else None))
    return lags


def _recently_alerted(tenant_id: int, within: timedelta) -> bool:
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:freshness",
                             autocommit=True) as conn:
        return bool(conn.execute(sql_text("etl/recent_alert.sql"),
                                 {"tenant_id": tenant_id, "kind": "freshness", "within": within}).fetchone()[0])


def check(threshold: timedelta | None = None, context: Any | None = None) -> dict[str, Any]:
    """Measure every tenant's lag, alert on those over the threshold; a small summary for XCom."""
    from chatwoot_etl.orchestration import alerts

    threshold = threshold or default_threshold()
    lags = measure()
    lagging, alerted = [], []
    for item in lags:
        lag = item.lag
        fields = {"tenant": item.tenant_id, "slug": item.slug,
                  "watermark": item.watermark.isoformat(timespec="seconds") if item.watermark else "never",
                  "newest_source": item.newest_source.isoformat(timespec="seconds") if item.newest_source else None}
        if lag is None or lag <= threshold:
            log.info("tenant_fresh", **fields, lag_s=int(lag.total_seconds()) if lag is not None else None)
            continue
        lagging.append(item.tenant_id)
        lag_text = "never synced" if lag == timedelta.max else f"{str(lag).split('.')[0]} behind the source"
        log.warning("tenant_stale", **fields, lag=lag_text, threshold_s=int(threshold.total_seconds()))
        if _recently_alerted(item.tenant_id, threshold):
            continue
        ti = (context or {}).get("ti")
        alerts.dispatch(alerts.Alert(
            severity="error", kind="freshness", tenant_id=item.tenant_id,
            dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None), run_id=getattr(ti, "run_id", None),
            message=f"tenant {item.tenant_id} ({item.slug}) is {lag_text} (threshold {threshold}); "
                    f"watermark {fields['watermark']}, newest source change {fields['newest_source']}. "
                    f"Check DAG {alerts_dag_id(item.tenant_id)}.",
            details={**fields, "threshold_s": int(threshold.total_seconds()),
                     "lag_s": None if lag == timedelta.max else int(lag.total_seconds())},
        ), context)
        alerted.append(item.tenant_id)
    return {"checked": len(lags), "lagging": lagging, "alerted": alerted,
            "threshold_s": int(threshold.total_seconds())}


def alerts_dag_id(tenant_id: int) -> str:
    from chatwoot_etl.orchestration.registry import dag_id_for

    return dag_id_for(tenant_id)
