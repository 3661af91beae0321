"""How far each tenant lags the source: the freshness monitor's alerts and `chatwoot-etl status`.

Lag = newest change in the tenant's inboxes at the source minus the tenant's watermark (both UTC).
A tenant never synced while its source has data counts as lagging. The monitor alerts once per
tenant per threshold period (no paging every run while the same tenant stays behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chatwoot_etl import settings
from chatwoot_etl.clock import from_naive_utc
from chatwoot_etl.contract import SYNCED_STATUSES
from chatwoot_etl.logs import EventLogger

log = EventLogger(__name__)


def default_threshold() -> timedelta:
    return timedelta(minutes=settings.FRESHNESS_THRESHOLD_MINUTES.get())


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

    def describe_lag(self) -> str | None:
        lag = self.lag
        if lag is None:
            return None
        return "never synced" if lag == timedelta.max else str(lag).split(".")[0]


def newest_by_inbox(inbox_ids: list[int]) -> dict[int, datetime]:
    """The newest conversation_updated_at of each inbox at the source, as aware UTC."""
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.source("freshness") as src:
        src.read_only = True
        rows = src.execute(sql_text("etl/source_newest_by_inbox.sql"), {"inboxes": inbox_ids}).fetchall()
        src.rollback()
    return {inbox: from_naive_utc(newest) for inbox, newest in rows if newest is not None}


def lag_of(tenant_id: int, slug: str, watermark: datetime | None, inbox_ids: list[int],
           newest: dict[int, datetime]) -> TenantLag:
    latest = max((newest[i] for i in inbox_ids if i in newest), default=None)
    return TenantLag(tenant_id, slug, watermark.astimezone(UTC) if watermark else None, latest)


def measure() -> list[TenantLag]:
    """The lag of every tenant that gets a sync."""
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.analytics("freshness") as conn:
        tenants = conn.execute(sql_text("etl/freshness_watermarks.sql"), {"synced_statuses": list(SYNCED_STATUSES)}).fetchall()
    newest = newest_by_inbox(sorted({i for *_, ids in tenants for i in ids}))
    return [lag_of(tenant_id, slug, watermark, ids, newest) for tenant_id, slug, watermark, ids in tenants]


def status_rows() -> list[dict[str, Any]]:
    """`chatwoot-etl status`: per tenant its watermark, lag behind the source and last run.

    The source side is optional: when it cannot be reached the analytics side is still shown.
    """
    from psycopg.rows import dict_row

    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    with connections.analytics("status") as conn:
        rows = conn.cursor(row_factory=dict_row).execute(sql_text("etl/tenant_status.sql")).fetchall()
    try:
        newest = newest_by_inbox(sorted({i for row in rows for i in row["inbox_ids"] or []}))
    except Exception as exc:  # noqa: BLE001 - status still shows the analytics side
        log.warning("source_unreachable", error=exc)
        newest = {}
    for row in rows:
        lag = lag_of(row["tenant"], row["slug"], row["watermark"], row.pop("inbox_ids") or [], newest)
        row["lag"] = lag.describe_lag()
        row["watermark"] = row["watermark"].isoformat(timespec="seconds") if row["watermark"] else None
        row["started_at"] = row["started_at"].isoformat(timespec="seconds") if row["started_at"] else None
    return rows


def check(threshold: timedelta | None = None, context: Any | None = None) -> dict[str, Any]:
    """Measure every tenant's lag, alert on those over the threshold; a small summary for XCom."""
    from chatwoot_etl.orchestration import alerts
    from chatwoot_etl.orchestration.registry import dag_id_for

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
        lag_text = "never synced" if lag == timedelta.max else f"{item.describe_lag()} behind the source"
        log.warning("tenant_stale", **fields, lag=lag_text, threshold_s=int(threshold.total_seconds()))
        alert = alerts.Alert(
            severity="error", kind="freshness", tenant_id=item.tenant_id, **alerts.task_fields(context),
            message=f"tenant {item.tenant_id} ({item.slug}) is {lag_text} (threshold {threshold}); "
                    f"watermark {fields['watermark']}, newest source change {fields['newest_source']}. "
                    f"Check DAG {dag_id_for(item.tenant_id)}.",
            details={**fields, "threshold_s": int(threshold.total_seconds()),
                     "lag_s": None if lag == timedelta.max else int(lag.total_seconds())},
        )
        # one alert per tenant per threshold period, whatever the lag does in between
        if alerts.dispatch_once(alert, {"lagging": item.tenant_id}, context, within=threshold):
            alerted.append(item.tenant_id)
    return {"checked": len(lags), "lagging": lagging, "alerted": alerted,
            "threshold_s": int(threshold.total_seconds())}
