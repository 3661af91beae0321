"""Conversations dated beyond the source's clock: counted every run, alerted once, the infinite
ones quarantined, the future ones read as soon as the clock passes them."""

from __future__ import annotations

import json
import time

import pytest

from chatwoot_etl.sync import engine
from tests.fixtures.pipeline import control_row, target_state, tenant_inboxes

pytestmark = pytest.mark.integration


def _two_conversations(env, tenant: int) -> tuple[int, int]:
    with env.source() as conn:
        rows = conn.execute("SELECT id FROM conversations WHERE inbox_id = ANY(%s) ORDER BY id LIMIT 2",
                            (tenant_inboxes(env, tenant),)).fetchall()
    return rows[0][0], rows[1][0]


def _alerts(env, tenant: int) -> list[dict]:
    with env.analytics() as conn:
        return [r[0] for r in conn.execute(
            "SELECT details FROM etl_alerts WHERE kind = 'source_clock_anomaly' AND tenant_id = %s ORDER BY id",
            (tenant,))]


def test_future_and_infinite_rows_are_counted_alerted_once_and_quarantined(env):
    tenant = env.tenant_ids[0]
    assert engine.sync_tenant(tenant).status == "success"
    future, infinite = _two_conversations(env, tenant)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET updated_at = (now() AT TIME ZONE 'UTC') + interval '4 seconds', "
                     "status = 1 WHERE id = %s", (future,))
        conn.execute("UPDATE conversations SET updated_at = 'infinity', status = 2 WHERE id = %s", (infinite,))
    first = engine.sync_tenant(tenant)
    assert first.stranded == 2 and control_row(env, first.execution_id)["stranded_rows"] == 2
    alerts = _alerts(env, tenant)
    assert len(alerts) == 1
    assert {c["conversation_id"] for c in alerts[0]["conversations"]} == {future, infinite}
    with env.analytics() as conn:
        quarantined = conn.execute(
            "SELECT conversation_id, reason, raw_row ->> 'conversation_updated_at' FROM etl_quarantine "
            "WHERE tenant_id = %s", (tenant,)).fetchall()
    assert quarantined == [(str(infinite), quarantined[0][1], "infinity")]
    assert quarantined[0][1].startswith("source_clock_anomaly: conversation_updated_at is infinity")

    second = engine.sync_tenant(tenant)
    assert second.stranded is not None and second.stranded >= 1
    assert len(_alerts(env, tenant)) == 1                     # each conversation alerted once
    with env.analytics() as conn:
        assert conn.execute("SELECT count(*) FROM etl_quarantine WHERE tenant_id = %s", (tenant,)).fetchone()[0] == 1

    time.sleep(4.5)  # the source's clock passes the future-dated row: the next run reads it
    third = engine.sync_tenant(tenant)
    assert third.stranded == 1 and third.status == "success"
    assert target_state(env, tenant)[future][1] == 1          # its new status is loaded
    assert target_state(env, tenant)[infinite][1] != 2        # the infinite one is not, it is on record


def test_an_infinite_row_whose_inbox_moved_is_on_record_once_under_its_new_owner(env):
    first, second = env.tenant_ids[:2]
    engine.sync_tenant(first)
    _, infinite = _two_conversations(env, first)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET updated_at = 'infinity' WHERE id = %s", (infinite,))
        inbox = conn.execute("SELECT inbox_id FROM conversations WHERE id = %s", (infinite,)).fetchone()[0]
    assert engine.sync_tenant(first).stranded == 1
    with env.analytics() as conn:
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = %s WHERE inbox_id = %s", (second, inbox))
    assert engine.sync_tenant(second).stranded == 1
    with env.analytics() as conn:
        entries = conn.execute("SELECT tenant_id, conversation_id FROM etl_quarantine").fetchall()
    assert entries == [(second, str(infinite))]
    assert len(_alerts(env, first)) == 1 and _alerts(env, second) == []


def test_status_shows_the_stranded_count(env):
    tenant = env.tenant_ids[0]
    engine.sync_tenant(tenant)
    future, _ = _two_conversations(env, tenant)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET updated_at = 'infinity' WHERE id = %s", (future,))
    engine.sync_tenant(tenant)
    done = env.run_cli("status", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["tenant"]: row for row in json.loads(done.stdout)}
    assert rows[tenant]["stranded"] == 1 and rows[env.tenant_ids[1]]["stranded"] in (None, 0)


def test_an_infinite_row_of_a_new_inbox_is_quarantined_once_not_read(env):
    """A tenant's first run reads its inboxes' whole history: the infinite row is on record once
    (source_clock_anomaly), never also read and rejected by the transform, nor taken for a row the
    source cannot compute when another one (poisoned) sends the run narrowing its read down."""
    tenant = env.tenant_ids[0]
    infinite, poisoned = _two_conversations(env, tenant)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET updated_at = 'infinity' WHERE id = %s", (infinite,))
        conn.execute("UPDATE conversations SET created_at = '0001-01-01', first_reply_created_at = "
                     "coalesce(first_reply_created_at, updated_at) WHERE id = %s", (poisoned,))
    result = engine.sync_tenant(tenant)
    assert result.status == "success" and result.stranded == 1 and result.failed == 1
    with env.analytics() as conn:
        reasons = dict(conn.execute("SELECT conversation_id, split_part(reason, ':', 1) FROM etl_quarantine "
                                    "WHERE tenant_id = %s", (tenant,)).fetchall())
    assert reasons == {str(infinite): "source_clock_anomaly", str(poisoned): "source_row_error"}
    assert infinite not in target_state(env, tenant) and poisoned not in target_state(env, tenant)
