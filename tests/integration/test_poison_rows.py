"""Rows the source view cannot compute: narrowed down, quarantined with the view's error, the rest
loaded exactly, the entry cleared once the source row is fixed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatwoot_etl.errors import SourceRowError
from chatwoot_etl.sync import engine
from chatwoot_etl.sync.window import SyncOptions
from tests.fixtures.pipeline import assert_target_equals_source, control_row, target_state, tenant_inboxes

pytestmark = pytest.mark.integration


def _conversations(env, tenant: int, count: int) -> list[int]:
    with env.source() as conn:
        rows = conn.execute(
            "SELECT id FROM conversations WHERE inbox_id = ANY(%s) AND first_reply_created_at IS NOT NULL "
            "ORDER BY id DESC LIMIT %s", (tenant_inboxes(env, tenant), count)).fetchall()
    return [row[0] for row in rows]


def _poison(env, year_one: int, infinite: int) -> None:
    with env.source() as conn:
        # the view's EXTRACT(EPOCH FROM first_reply_created_at - created_at)::integer overflows ...
        conn.execute("UPDATE conversations SET created_at = '0001-01-01 00:00:00' WHERE id = %s", (year_one,))
        # ... or cannot take an infinite timestamp
        conn.execute("UPDATE conversations SET created_at = 'infinity' WHERE id = %s", (infinite,))


def _quarantine(env, tenant: int) -> dict[str, str]:
    with env.analytics() as conn:
        return dict(conn.execute("SELECT conversation_id, reason FROM etl_quarantine WHERE tenant_id = %s "
                                 "AND reason LIKE 'source_row_error:%%'", (tenant,)).fetchall())


def test_poison_rows_are_isolated_and_everything_else_loads(env):
    tenant = env.tenant_ids[0]
    year_one, infinite = _conversations(env, tenant, 2)
    _poison(env, year_one, infinite)
    with env.source() as conn:  # the view itself cannot be read whole
        # (PostgreSQL 15: "cannot subtract infinite timestamps"; 17+: "cannot convert infinity to integer")
        with pytest.raises(Exception, match="integer out of range|infinit"):
            conn.execute("SELECT * FROM vw_conversations_analytics_final").fetchall()
    expected = _readable_state(env, tenant, {year_one, infinite})

    result = engine.sync_tenant(tenant, SyncOptions(chunk_size=400))
    assert result.status == "success" and result.failed == 2
    found = _quarantine(env, tenant)
    assert set(found) == {str(year_one), str(infinite)}
    assert "integer out of range" in found[str(year_one)] and "vw_conversations_analytics_final" in found[str(year_one)]
    assert "infinit" in found[str(infinite)].split(": ", 2)[-1]
    loaded = target_state(env, tenant)
    assert loaded.keys() == expected.keys() and all(loaded[k] == expected[k] for k in expected)
    row = control_row(env, result.execution_id)
    assert row["records_failed"] == 2 and len(row["error_details"]["source_row_errors"]) == 2
    with env.analytics() as conn:
        alerts = conn.execute("SELECT count(*) FROM etl_alerts WHERE kind = 'source_row_error' AND tenant_id = %s",
                              (tenant,)).fetchone()[0]
    assert alerts == 1

    # the source fixes the rows (Rails touches updated_at): they load and leave the quarantine
    with env.source() as conn:
        conn.execute("UPDATE conversations SET created_at = updated_at - interval '1 day', "
                     "updated_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = ANY(%s)",
                     ([year_one, infinite],))
    fixed = engine.sync_tenant(tenant)
    assert fixed.status == "success" and fixed.failed == 0
    assert _quarantine(env, tenant) == {}
    assert_target_equals_source(env, tenant)


def _readable_state(env, tenant: int, poisoned: set[int]) -> dict[int, tuple]:
    """What the target must hold: the tenant's rows of the view, the ones it cannot compute left out."""
    with env.source() as conn:
        rows = conn.execute(
            """SELECT DISTINCT ON (conversation_id) conversation_id, conversation_updated_at, status,
                      csat_response_id, contact_name, t_messages
               FROM vw_conversations_analytics_final
               WHERE inbox_id = ANY(%s) AND conversation_id <> ALL(%s)
               ORDER BY conversation_id, csat_created_at DESC NULLS LAST, csat_response_id DESC NULLS LAST""",
            (tenant_inboxes(env, tenant), sorted(poisoned))).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_through_the_deployed_view_the_rows_are_named_and_the_run_stops_clearly(env, monkeypatch):
    """The deployed view hashes its per-conversation views whole: a bad row breaks every read of it,
    even without that row. The engine still names the rows (exactly those), quarantines them, and
    fails permanently with what to do, loading nothing and keeping the watermark."""
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_STRATEGY", "view")
    tenant = env.tenant_ids[0]
    year_one, infinite = _conversations(env, tenant, 2)
    _poison(env, year_one, infinite)
    with pytest.raises(SourceRowError) as raised:
        engine.sync_tenant(tenant)
    assert str(year_one) in str(raised.value) and "base_tables strategy" in str(raised.value)
    assert set(_quarantine(env, tenant)) == {str(year_one), str(infinite)}
    assert target_state(env, tenant) == {}
    with env.analytics() as conn:
        assert conn.execute("SELECT count(*) FROM etl_watermarks WHERE tenant_id = %s", (tenant,)).fetchone()[0] == 0


def test_an_error_no_single_conversation_explains_stops_the_run_clearly(env, monkeypatch):
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_STRATEGY", "view")
    tenant = env.tenant_ids[0]
    with env.source() as conn:  # a whole-table message aggregate that overflows for one conversation
        conn.execute("UPDATE messages SET created_at = '0001-01-01' WHERE id = (SELECT min(id) FROM messages "
                     "WHERE NOT private)")
    with pytest.raises(SourceRowError, match="not in one conversation's row|could not be narrowed"):
        engine.sync_tenant(tenant)
    assert target_state(env, tenant) == {}


def test_the_newest_row_failing_is_quarantined_and_the_re_read_loads_nothing_twice(env):
    """The newest row is the poisoned one: the read fails (on this small source the server computes
    every row before it sends the first, so before any chunk commits) and the re-read of the window
    without it writes no row twice and loses none, in chunks numbered on from the first."""
    tenant = env.tenant_ids[0]
    (late,) = _conversations(env, tenant, 1)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET created_at = '0001-01-01 00:00:00', "
                     "updated_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = %s", (late,))
    expected = _readable_state(env, tenant, {late})
    committed: list[int] = []
    result = engine.sync_tenant(tenant, SyncOptions(chunk_size=100), on_chunk_committed=lambda i, r: committed.append(i))
    assert result.status == "success" and result.failed == 1
    assert set(_quarantine(env, tenant)) == {str(late)}
    loaded = target_state(env, tenant)
    assert loaded.keys() == expected.keys() and all(loaded[k] == expected[k] for k in expected)
    assert committed == list(range(1, len(committed) + 1)) and len(committed) >= len(expected) // 100
    assert result.inserted == len(expected) and result.updated == 0
    with env.analytics() as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT conversation_id) FROM conversations_analytics "
                                       "WHERE tenant_id = %s", (tenant,)).fetchone()
    assert total == distinct == len(expected)


def test_a_fixed_row_clears_its_entry_even_after_its_inbox_moved_to_another_tenant(env):
    first, second = env.tenant_ids[:2]
    (broken,) = _conversations(env, first, 1)
    with env.source() as conn:
        inbox = conn.execute("SELECT inbox_id FROM conversations WHERE id = %s", (broken,)).fetchone()[0]
        conn.execute("UPDATE conversations SET created_at = '0001-01-01' WHERE id = %s", (broken,))
    assert engine.sync_tenant(first).failed == 1 and set(_quarantine(env, first)) == {str(broken)}
    with env.analytics() as conn:   # the inbox moves; the source row is fixed meanwhile
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = %s WHERE inbox_id = %s", (second, inbox))
    with env.source() as conn:
        conn.execute("UPDATE conversations SET created_at = updated_at - interval '1 day', "
                     "updated_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = %s", (broken,))
    assert engine.sync_tenant(second).status == "success"
    assert broken in target_state(env, second)
    assert _quarantine(env, first) == {} and _quarantine(env, second) == {}


def test_a_row_still_broken_after_its_inbox_moved_keeps_one_entry_now_under_the_new_owner(env):
    first, second = env.tenant_ids[:2]
    (broken,) = _conversations(env, first, 1)
    with env.source() as conn:
        inbox = conn.execute("SELECT inbox_id FROM conversations WHERE id = %s", (broken,)).fetchone()[0]
        conn.execute("UPDATE conversations SET created_at = '0001-01-01' WHERE id = %s", (broken,))
    assert engine.sync_tenant(first).failed == 1
    with env.analytics() as conn:
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = %s WHERE inbox_id = %s", (second, inbox))
    assert engine.sync_tenant(second, SyncOptions(mode="full_refresh")).failed == 1
    assert _quarantine(env, first) == {} and set(_quarantine(env, second)) == {str(broken)}
    with env.analytics() as conn:
        alerts = conn.execute("SELECT tenant_id FROM etl_alerts WHERE kind = 'source_row_error'").fetchall()
    assert alerts == [(first,)]   # the conversation was named once; its entry followed it


def test_a_window_of_nothing_but_poisoned_rows_quarantines_each_of_them(env):
    """Found by the fault harness (seed 1200133926): two conversations poisoned by an edit are the
    whole of the next window, so both ends of it fail alone. A conversation outside the window
    reads cleanly, so the error is in those rows, each of them, not in the source as a whole."""
    tenant = env.tenant_ids[0]
    assert engine.sync_tenant(tenant).status == "success"
    first, second = _conversations(env, tenant, 2)
    with env.source() as conn:
        conn.execute("UPDATE conversations SET created_at = '0001-01-01 00:00:00', "
                     "updated_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = %s", (first,))
        conn.execute("UPDATE conversations SET created_at = '0044-03-15 00:00:00 BC', "
                     "updated_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = %s", (second,))
    result = engine.sync_tenant(tenant, SyncOptions(lookback=timedelta(0)))
    assert result.status == "success" and result.failed == 2
    assert set(_quarantine(env, tenant)) == {str(first), str(second)}
