"""One alert-deduplication mechanism for every kind: once per distinct situation, or once per period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatwoot_etl.orchestration import alerts

pytestmark = pytest.mark.integration


def alert(kind: str, tenant_id: int | None = None) -> alerts.Alert:
    return alerts.Alert(severity="warning", kind=kind, tenant_id=tenant_id, message=f"{kind} for {tenant_id}")


def rows(conn, kind: str) -> list[tuple]:
    return conn.execute("SELECT tenant_id, details ->> 'fingerprint' FROM etl_alerts WHERE kind = %s ORDER BY id",
                        (kind,)).fetchall()


def test_the_same_situation_alerts_once_and_a_new_one_alerts_again(analytics_conn, analytics_uri, conn_env):
    conn_env(analytics=analytics_uri)
    drift = {"unmapped_source_inboxes": [{"inbox_id": 7, "account_id": 1}]}
    assert alerts.dispatch_once(alert("mapping_drift"), drift)
    assert not alerts.dispatch_once(alert("mapping_drift"), drift)             # same drift: no new page
    assert alerts.dispatch_once(alert("mapping_drift"), {**drift, "vanished_inboxes": [{"inbox_id": 9}]})
    assert not alerts.dispatch_once(alert("mapping_drift"), {"vanished_inboxes": [{"inbox_id": 9}], **drift})  # key order
    assert [fingerprint is not None for _, fingerprint in rows(analytics_conn, "mapping_drift")] == [True, True]


def test_once_per_period_per_tenant(analytics_conn, analytics_uri, conn_env):
    conn_env(analytics=analytics_uri)
    hour = timedelta(hours=1)
    assert alerts.dispatch_once(alert("freshness", 1), {"lagging": 1}, within=hour)
    assert not alerts.dispatch_once(alert("freshness", 1), {"lagging": 1}, within=hour)
    assert alerts.dispatch_once(alert("freshness", 2), {"lagging": 2}, within=hour)   # another tenant
    # the period is over: the same tenant, still lagging, is paged again
    analytics_conn.execute("UPDATE etl_alerts SET raised_at = raised_at - interval '2 hours' WHERE tenant_id = 1")
    assert alerts.dispatch_once(alert("freshness", 1), {"lagging": 1}, within=hour)
    assert [tenant for tenant, _ in rows(analytics_conn, "freshness")] == [1, 2, 1]
