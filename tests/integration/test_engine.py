"""The sync engine against real PostgreSQL: every guarantee, and each defect of the old ETL absent."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from chatwoot_etl.errors import ConfigurationError, ContractDrift
from chatwoot_etl.localdev import seed
from chatwoot_etl.sync import engine, load, locks, source, transform
from chatwoot_etl.sync.window import BEGINNING, ExtractWindow, SyncOptions
from tests.fixtures.pipeline import (
    assert_target_equals_source,
    control_row,
    source_now,
    source_state,
    target_state,
    tenant_inboxes,
)

pytestmark = pytest.mark.integration

NO_LOOKBACK = timedelta(0)


def sync(tenant_id: int, **options) -> engine.SyncResult:
    return engine.sync_tenant(tenant_id, SyncOptions(**options))


def test_full_then_incremental_moves_only_changes(env):
    tenant = env.tenant_ids[0]
    first = sync(tenant)
    expected = source_state(env, tenant)
    assert first.status == "success" and first.inserted == len(expected) and first.updated == 0
    assert_target_equals_source(env, tenant)
    row = control_row(env, first.execution_id)
    assert (row["status"], row["load_type"], row["records_inserted"]) == ("success", "incremental", len(expected))
    # the watermark is the newest source row, read as UTC (never the host's clock)
    newest = max(v[0] for v in expected.values())
    with env.analytics() as conn:
        stored = conn.execute("SELECT updated_at FROM etl_watermarks WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    assert stored == newest.replace(tzinfo=UTC)

    again = sync(tenant)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.extracted < len(expected) * 0.05  # only the lookback edge is re-read

    with env.source() as conn:
        activity = seed.add_activity(conn, touch_fraction=0.05, new_conversations=20, seed=7)
    third = sync(tenant)
    changed = sum(1 for k, v in source_state(env, tenant).items() if k not in expected or v != expected[k])
    assert third.inserted + third.updated == changed > 0, activity
    assert third.extracted < len(expected) * 0.2
    assert_target_equals_source(env, tenant)
    assert (sync(tenant).inserted, sync(tenant).updated) == (0, 0)


def test_ties_across_chunk_boundaries_lose_nothing(env):
    tenant = env.tenant_ids[0]
    inboxes = tenant_inboxes(env, tenant)
    with env.source() as conn:
        tie = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::timestamp - interval '1 hour'").fetchone()[0]
        tied = conn.execute(
            "UPDATE conversations SET updated_at = %s WHERE id IN (SELECT id FROM conversations "
            "WHERE inbox_id = ANY(%s) ORDER BY id LIMIT 450)", (tie, inboxes)).rowcount
    assert tied == 450
    result = sync(tenant, chunk_size=37, lookback=NO_LOOKBACK)
    assert result.chunks > 12
    assert_target_equals_source(env, tenant)
    # a second tie group, later than the watermark, split over many chunks again
    with env.source() as conn:
        later = tie + timedelta(minutes=10)
        conn.execute("UPDATE conversations SET updated_at = %s, status = 1 WHERE id IN (SELECT id FROM conversations "
                     "WHERE inbox_id = ANY(%s) ORDER BY id DESC LIMIT 300)", (later, inboxes))
    second = sync(tenant, chunk_size=29, lookback=NO_LOOKBACK)
    assert second.extracted >= 300
    assert_target_equals_source(env, tenant)


@pytest.mark.parametrize("lookback, caught", [(timedelta(minutes=5), True), (NO_LOOKBACK, False)])
def test_late_commit_is_caught_by_the_lookback(env, lookback, caught):
    """A row whose transaction commits after a later row was synced (Rails sets updated_at before COMMIT)."""
    tenant = env.tenant_ids[0]
    inboxes = tenant_inboxes(env, tenant)
    sync(tenant)
    with env.source() as conn:
        early, late = conn.execute(
            "SELECT id FROM conversations WHERE inbox_id = ANY(%s) ORDER BY id LIMIT 2", (inboxes,)).fetchall()
    now = source_now(env)
    slow = psycopg.connect(env.source_admin_uri)  # a transaction that takes its time to commit
    slow.execute("UPDATE conversations SET updated_at = %s, status = 2 WHERE id = %s", (now - timedelta(seconds=30), early[0]))
    with env.source() as conn:
        conn.execute("UPDATE conversations SET updated_at = %s, status = 1 WHERE id = %s", (now - timedelta(seconds=20), late[0]))
    sync(tenant, lookback=lookback)  # sees the later row, not yet the early one
    slow.commit()
    slow.close()
    sync(tenant, lookback=lookback)
    assert (target_state(env, tenant)[early[0]][1] == 2) is caught
    if caught:
        assert_target_equals_source(env, tenant)


def test_rows_updated_during_a_run_are_neither_lost_nor_doubled(env):
    tenant = env.tenant_ids[0]
    inboxes = tenant_inboxes(env, tenant)
    writer = psycopg.connect(env.source_admin_uri, autocommit=True)

    def concurrent_writer(chunk: int, result) -> None:
        if chunk == 1:  # rows already read and rows not read yet, moved to "now" by the application
            writer.execute(
                "UPDATE conversations SET updated_at = (now() AT TIME ZONE 'UTC'), status = 3 "
                "WHERE id IN (SELECT id FROM conversations WHERE inbox_id = ANY(%s) ORDER BY updated_at, id LIMIT 40) "
                "OR id IN (SELECT id FROM conversations WHERE inbox_id = ANY(%s) ORDER BY updated_at DESC LIMIT 40)",
                (inboxes, inboxes))

    engine.sync_tenant(tenant, SyncOptions(chunk_size=100), on_chunk_committed=concurrent_writer)
    writer.close()
    sync(tenant)
    assert_target_equals_source(env, tenant)
    with env.analytics() as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT conversation_id) FROM conversations_analytics").fetchone()
    assert total == distinct


CRASHING_SYNC = textwrap.dedent("""
    import os, signal, sys
    from datetime import timedelta
    from chatwoot_etl.sync import engine

    tenant, crash_after, chunk_size = (int(a) for a in sys.argv[1:4])

    def die(chunk, result):
        if chunk == crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

    engine.sync_tenant(tenant, engine.SyncOptions(chunk_size=chunk_size, lookback=timedelta(0)), on_chunk_committed=die)
""")


def test_crash_after_chunk_k_resumes_exactly_there(env):
    tenant, chunk_size, crash_after = env.tenant_ids[0], 50, 3
    with env.source() as conn:  # a tie group straddling the crash point too
        conn.execute("UPDATE conversations SET updated_at = '2026-10-01 12:00:00' WHERE id IN (SELECT id FROM "
                     "conversations WHERE inbox_id = ANY(%s) ORDER BY updated_at, id LIMIT 300)",
                     (tenant_inboxes(env, tenant),))
    killed = subprocess.run([sys.executable, "-c", CRASHING_SYNC, str(tenant), str(crash_after), str(chunk_size)],
                            env=env.cli_env(), capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    with env.analytics() as conn:
        dead = conn.execute("SELECT execution_id, status, chunks_committed FROM etl_control WHERE tenant_id = %s",
                            (tenant,)).fetchone()
        written = conn.execute("SELECT count(*) FROM conversations_analytics WHERE tenant_id = %s", (tenant,)).fetchone()[0]
        mark = conn.execute("SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s",
                            (tenant,)).fetchone()
    assert dead[1:] == ("running", crash_after)
    assert 0 < written <= crash_after * chunk_size
    # the target holds exactly the rows up to the watermark: nothing after it, nothing before it missing
    keys = sorted((v[0].replace(tzinfo=UTC), k) for k, v in source_state(env, tenant).items())
    assert written == sum(1 for key in keys if key <= (mark[0], mark[1]))

    resumed = sync(tenant, chunk_size=chunk_size, lookback=NO_LOOKBACK)
    assert resumed.extracted == sum(1 for key in keys if key > (mark[0], mark[1])) + (
        resumed.extracted - resumed.inserted - resumed.updated - resumed.unchanged)  # duplicate view rows collapse
    assert resumed.updated == 0 and resumed.inserted == len(keys) - written
    assert_target_equals_source(env, tenant)
    old = control_row(env, str(dead[0]))
    assert old["status"] == "failed" and old["error_message"].startswith("abandoned")


def test_a_chunk_written_beside_a_failing_one_is_rolled_back_with_it(env):
    """Chunks are written two at a time on two connections: the one after a chunk that fails must
    not commit (its watermark would pass the failed chunk's rows), though it wrote its rows already."""
    tenant, chunk_size = env.tenant_ids[0], 50
    keys = sorted((v[0].replace(tzinfo=UTC), k) for k, v in source_state(env, tenant).items())
    refused = keys[74]   # well inside the second or third chunk, with chunks after it
    with env.analytics() as conn:
        conn.execute("CREATE SEQUENCE rows_attempted")
        conn.execute("CREATE TABLE refused_conversation AS SELECT %s::bigint AS conversation_id", (refused[1],))
        conn.execute("""
            CREATE FUNCTION refuse_one_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM nextval('rows_attempted');
                IF NEW.conversation_id IN (SELECT conversation_id FROM refused_conversation) THEN
                    PERFORM pg_sleep(1);   -- the next chunk writes meanwhile, on the other connection
                    RAISE EXCEPTION 'conversation % refused by the test', NEW.conversation_id;
                END IF;
                RETURN NEW;
            END $$""")
        conn.execute("CREATE TRIGGER refuse_one_row BEFORE INSERT ON conversations_analytics "
                     "FOR EACH ROW EXECUTE FUNCTION refuse_one_row()")
    with pytest.raises(psycopg.errors.RaiseException, match="refused by the test"):
        sync(tenant, chunk_size=chunk_size)
    with env.analytics() as conn:
        attempted = conn.execute("SELECT last_value FROM rows_attempted").fetchone()[0]
        mark = conn.execute("SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s",
                            (tenant,)).fetchone()
    # a chunk after the failing one inserted rows (rows are inserted in key order within a chunk)...
    assert attempted > sum(1 for key in keys if key <= refused)
    # ...and none of them, nor any later watermark, was committed
    assert mark is not None and (mark[0], mark[1]) < refused
    assert set(target_state(env, tenant)) == {key[1] for key in keys if key <= (mark[0], mark[1])}
    with env.analytics() as conn:
        conn.execute("DROP TRIGGER refuse_one_row ON conversations_analytics")
    sync(tenant, chunk_size=chunk_size, lookback=NO_LOOKBACK)
    assert_target_equals_source(env, tenant)


def test_second_sync_of_a_tenant_is_refused_while_the_lock_is_held(env):
    tenant = env.tenant_ids[0]
    holder = psycopg.connect(env.analytics_uri, autocommit=True)
    holder.execute("SET application_name = 'someone-else'")
    assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.lock_key(tenant)).fetchone()[0]
    refused = env.run_cli("sync", "--tenant", str(tenant))
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "someone-else" in refused.stderr and f"pid {holder.info.backend_pid}" in refused.stderr
    # another tenant is not blocked
    other = env.run_cli("sync", "--tenant", str(env.tenant_ids[1]))
    assert other.returncode == 0, other.stderr[-2000:]
    holder.close()  # a dead holder's lock goes with its connection
    assert env.run_cli("sync", "--tenant", str(tenant)).returncode == 0
    with env.analytics() as conn:
        statuses = [r[0] for r in conn.execute(
            "SELECT status FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (tenant,))]
    assert statuses == ["refused", "success"]
    assert_target_equals_source(env, tenant)


HELD_SYNC = textwrap.dedent("""
    import os, sys, time
    from chatwoot_etl.sync import engine
    tenant, release = int(sys.argv[1]), sys.argv[2]

    def hold(chunk, result):  # keep the run (and its lock) alive until the test says so
        deadline = time.monotonic() + 120
        while chunk == 1 and not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.05)

    engine.sync_tenant(tenant, engine.SyncOptions(chunk_size=100), on_chunk_committed=hold)
""")


def test_two_syncs_at_once_one_runs_the_other_exits_2_and_other_tenants_run_in_parallel(env, tmp_path):
    first, second = env.tenant_ids[:2]
    release = tmp_path / "release"
    slow = subprocess.Popen([sys.executable, "-c", HELD_SYNC, str(first), str(release)], env=env.cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parallel = subprocess.Popen([sys.executable, "-c", HELD_SYNC, str(second), str(release)], env=env.cli_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    with env.analytics() as conn:  # both hold their tenant's lock, mid-run, at the same time
        while conn.execute("SELECT count(*) FROM etl_control WHERE status = 'running' AND chunks_committed >= 1"
                           ).fetchone()[0] < 2:
            assert time.monotonic() < deadline and slow.poll() is None, "the syncs never started"
            time.sleep(0.05)
    competing = env.run_cli("sync", "--tenant", str(first))
    release.touch()
    assert slow.wait(timeout=300) == 0, slow.stderr.read()[-2000:]
    assert parallel.wait(timeout=300) == 0, parallel.stderr.read()[-2000:]
    assert competing.returncode == 2, competing.stderr[-2000:]
    assert "chatwoot_etl:sync:tenant=" in competing.stderr
    for tenant in (first, second):
        assert_target_equals_source(env, tenant)
    with env.analytics() as conn:
        assert conn.execute("SELECT count(*) = count(DISTINCT conversation_id) FROM conversations_analytics").fetchone()[0]
        runs = conn.execute("SELECT status, count(*) FROM etl_control WHERE tenant_id = %s GROUP BY 1 ORDER BY 1",
                            (first,)).fetchall()
    assert runs == [("refused", 1), ("success", 1)]


def test_new_inbox_gets_its_whole_history(env):
    tenant = env.tenant_ids[0]
    inbox = tenant_inboxes(env, tenant)[-1]
    with env.analytics() as conn:
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE inbox_id = %s", (inbox,))
    sync(tenant)
    assert not any(True for _ in [] ) and inbox not in _target_inboxes(env, tenant)
    with env.analytics() as conn:  # mapped later: its old conversations are all behind the watermark
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = true WHERE inbox_id = %s", (inbox,))
    result = sync(tenant)
    assert result.history_inboxes == [inbox] and result.inserted > 0
    assert_target_equals_source(env, tenant)
    assert sync(tenant).history_inboxes == []


def _target_inboxes(env, tenant):
    with env.analytics() as conn:
        return {r[0] for r in conn.execute(
            "SELECT DISTINCT inbox_id FROM conversations_analytics WHERE tenant_id = %s", (tenant,))}


def test_moved_inbox_moves_its_rows_and_never_leaves_them_under_two_tenants(env):
    first, second = env.tenant_ids[:2]
    sync(first), sync(second)
    inbox = tenant_inboxes(env, first)[0]
    with env.analytics() as conn:
        moving = conn.execute("SELECT count(*) FROM conversations_analytics WHERE inbox_id = %s", (inbox,)).fetchone()[0]
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = %s WHERE inbox_id = %s", (second, inbox))
    result = sync(second)
    assert result.moved_in == moving > 0
    assert inbox in _target_inboxes(env, second) and inbox not in _target_inboxes(env, first)
    sync(first)
    for tenant in (first, second):
        assert_target_equals_source(env, tenant)


def test_unmapped_inbox_is_reported_not_refreshed_and_removed_by_full_refresh(env):
    tenant = env.tenant_ids[0]
    sync(tenant)
    inbox = tenant_inboxes(env, tenant)[0]
    with env.analytics() as conn:
        kept = conn.execute("SELECT count(*) FROM conversations_analytics WHERE inbox_id = %s", (inbox,)).fetchone()[0]
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE inbox_id = %s", (inbox,))
    with env.source() as conn:
        conn.execute("UPDATE conversations SET status = 1, updated_at = (now() AT TIME ZONE 'UTC') - interval '1 minute' "
                     "WHERE inbox_id = %s", (inbox,))
    result = sync(tenant)
    assert result.unmapped_inbox_rows == {inbox: kept}
    assert control_row(env, result.execution_id)["error_details"]["unmapped_inbox_rows"] == {str(inbox): kept}
    assert result.extracted == 0 or inbox not in _target_inboxes(env, tenant) or result.updated == 0
    full = sync(tenant, mode="full_refresh")
    assert full.deleted == kept and inbox not in _target_inboxes(env, tenant)
    assert_target_equals_source(env, tenant)


def test_full_refresh_removes_conversations_deleted_in_the_source(env):
    tenant = env.tenant_ids[0]
    sync(tenant)
    with env.source() as conn:
        gone = [r[0] for r in conn.execute(
            "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations WHERE inbox_id = ANY(%s) "
            "ORDER BY id LIMIT 5) RETURNING id", (tenant_inboxes(env, tenant),))]
    assert sync(tenant).deleted == 0  # incremental never deletes
    full = sync(tenant, mode="full_refresh")
    assert full.deleted == 5 and full.inserted == 0
    assert not set(gone) & set(target_state(env, tenant))
    assert_target_equals_source(env, tenant)


def test_duplicate_view_rows_collapse_to_the_latest_csat_even_across_chunks(env):
    """The view repeats a conversation per CSAT answer; a chunk boundary falls between the two rows."""
    with env.source() as conn:
        inbox = conn.execute("SELECT inbox_id FROM vw_conversations_analytics_final "
                             "GROUP BY conversation_id, inbox_id HAVING count(*) > 1 LIMIT 1").fetchone()[0]
    with env.analytics() as conn:
        tenant = conn.execute("SELECT tenant_id FROM inbox_tenant_mapping WHERE inbox_id = %s", (inbox,)).fetchone()[0]
    with env.source() as conn:
        positions = [r[0] for r in conn.execute(
            """SELECT position FROM (
                   SELECT row_number() OVER (ORDER BY conversation_updated_at, conversation_id,
                                             csat_created_at NULLS FIRST, csat_response_id NULLS FIRST) AS position,
                          conversation_id, lead(conversation_id) OVER (ORDER BY conversation_updated_at,
                          conversation_id, csat_created_at NULLS FIRST, csat_response_id NULLS FIRST) AS next_id
                   FROM vw_conversations_analytics_final WHERE inbox_id = ANY(%s)) AS ordered
               WHERE conversation_id = next_id ORDER BY position""", (tenant_inboxes(env, tenant),))]
    assert positions, "the seeded source must contain the two-CSAT quirk for this tenant"
    result = sync(tenant, chunk_size=positions[0])  # cut blindly, the pair would straddle chunks 1 and 2
    assert result.chunks >= 2
    assert result.extracted - (result.inserted + result.updated + result.unchanged) == len(positions)
    assert_target_equals_source(env, tenant)


def test_schema_drift_stops_the_run_before_anything_is_written(env):
    tenant = env.tenant_ids[0]
    env.drift_source_view()
    with pytest.raises(ContractDrift) as drift:
        sync(tenant)
    message = str(drift.value)
    assert "missing column contact_name (text)" in message
    assert "column status: expected integer, found text" in message
    assert "extra column brand_new (ignored)" in message
    assert target_state(env, tenant) == {}
    with env.analytics() as conn:
        assert conn.execute("SELECT count(*) FROM etl_watermarks").fetchone()[0] == 0
        status, error = conn.execute("SELECT status, error_message FROM etl_control WHERE tenant_id = %s",
                                     (tenant,)).fetchone()
    assert status == "failed" and "contact_name" in error
    assert env.run_cli("sync", "--tenant", str(tenant)).returncode == 1


def test_only_extra_columns_are_logged_and_ignored(env, caplog):
    tenant = env.tenant_ids[0]
    with env.source() as conn:
        conn.execute("ALTER VIEW vw_conversations_analytics_final RENAME TO vw_deployed")
        conn.execute("CREATE VIEW vw_conversations_analytics_final AS SELECT *, 'x'::text AS brand_new FROM vw_deployed")
        conn.execute("GRANT SELECT ON vw_conversations_analytics_final TO chatwoot_reader")
    with caplog.at_level("INFO", logger="chatwoot_etl.sync.engine"):
        assert sync(tenant).status == "success"
    assert "event=source_extra_columns_ignored" in caplog.text and "brand_new" in caplog.text
    assert_target_equals_source(env, tenant)


def _wrap_view_with_bad_values(env, replacements: dict[int, dict[str, str]]) -> None:
    """Serve some conversations with impossible values, as a broken source would (same column types)."""
    with env.source() as conn:
        columns = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'vw_conversations_analytics_final'::regclass "
            "AND attnum > 0 ORDER BY attnum")]
        conn.execute("ALTER VIEW vw_conversations_analytics_final RENAME TO vw_deployed")
        parts = [f"SELECT * FROM vw_deployed WHERE conversation_id <> ALL (ARRAY{sorted(replacements)})"]
        for conversation_id, values in replacements.items():
            select = ", ".join(f"{values[c]} AS {c}" if c in values else c for c in columns)
            parts.append(f"SELECT {select} FROM vw_deployed WHERE conversation_id = {conversation_id}")
        conn.execute("CREATE VIEW vw_conversations_analytics_final AS " + " UNION ALL ".join(parts))
        conn.execute("GRANT SELECT ON vw_conversations_analytics_final TO chatwoot_reader")


def test_bad_rows_are_quarantined_and_the_rest_loads(env, monkeypatch):
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_STRATEGY", "view")  # the values are what the wrapped view serves
    tenant = env.tenant_ids[0]
    inboxes = tenant_inboxes(env, tenant)
    with env.source() as conn:
        bad_created, bad_updated, far_future, long_name = [r[0] for r in conn.execute(
            "SELECT id FROM conversations WHERE inbox_id = ANY(%s) ORDER BY id LIMIT 4", (inboxes,))]
        conn.execute("UPDATE contacts SET name = repeat('Ã', 400) WHERE id = (SELECT contact_id FROM conversations "
                     "WHERE id = %s)", (long_name,))
    expected = source_state(env, tenant)
    _wrap_view_with_bad_values(env, {
        bad_created: {"conversation_created_at": "'infinity'::timestamp"},
        bad_updated: {"conversation_updated_at": "'infinity'::timestamp"},
        far_future: {"last_activity_at": "'294270-01-01 00:00:00'::timestamp"},
    })
    result = sync(tenant)
    assert result.status == "success" and result.failed == 3
    assert result.truncated.get("contact_name", 0) >= 1
    row = control_row(env, result.execution_id)
    assert row["records_failed"] == 3 and "quarantined" in row["error_message"]
    with env.analytics() as conn:
        quarantined = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT conversation_id, reason, raw_row FROM etl_quarantine WHERE tenant_id = %s", (tenant,))}
        name = conn.execute("SELECT contact_name FROM conversations_analytics WHERE conversation_id = %s",
                            (long_name,)).fetchone()[0]
    assert set(quarantined) == {str(bad_created), str(bad_updated), str(far_future)}
    assert "conversation_created_at" in quarantined[str(bad_created)][0]
    assert quarantined[str(bad_created)][1]["conversation_created_at"] == "infinity"
    assert "conversation_updated_at" in quarantined[str(bad_updated)][0]
    assert "last_activity_at" in quarantined[str(far_future)][0]
    assert name == "Ã" * 255
    loaded = target_state(env, tenant)
    assert set(loaded) == set(expected) - {bad_created, bad_updated, far_future}
    # the watermark never moves past a row that was not written: it is the newest good row
    with env.analytics() as conn:
        mark = conn.execute("SELECT updated_at FROM etl_watermarks WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    assert mark == max(v[0] for v in loaded.values()).replace(tzinfo=UTC)


def first_rows_transformed(env, tenant: int, count: int = 6) -> pd.DataFrame:
    """The tenant's first source rows (a chunk of `count`), transformed: what write_chunk gets."""
    window = ExtractWindow((), tuple(tenant_inboxes(env, tenant)), BEGINNING, source_now(env))
    with psycopg.connect(env.source_reader_uri) as src:
        raw = next(source.stream_frames(src, window, chunk_size=count))
    return transform.transform_chunk(raw, tenant_id=tenant).rows.reset_index(drop=True)


def test_rows_the_database_rejects_are_isolated_and_the_rest_of_the_chunk_loads(env):
    tenant = env.tenant_ids[0]
    rows = first_rows_transformed(env, tenant)
    rows["ai_probability_score"] = pd.array([10, 1000, 20, 30, -1000, 40][: len(rows)], dtype="Int64")  # overflow numeric(5,2)
    with env.analytics() as conn:
        load.ensure_staging(conn)
        with conn.transaction():
            counts = load.write_chunk(conn, rows)
        scores = dict(conn.execute("SELECT conversation_id, ai_probability_score FROM conversations_analytics").fetchall())
    assert counts.failed == 2 and counts.inserted == len(rows) - 2
    assert all("ai_probability_score" in r["reason"] for r in counts.rejected)
    expected = {int(cid): int(score) for cid, score in zip(rows["conversation_id"], rows["ai_probability_score"], strict=True)
                if abs(score) < 1000}
    assert scores == expected


def test_a_tenant_first_load_inserts_and_later_runs_upsert_with_exact_counts(env):
    tenant = env.tenant_ids[0]
    first = sync(tenant, chunk_size=100)
    assert first.inserted == len(source_state(env, tenant)) and first.updated == 0
    assert_target_equals_source(env, tenant)
    again = sync(tenant, mode="full_refresh", chunk_size=100)
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == first.inserted
    with env.analytics() as conn:
        details = [row[0] for row in conn.execute(
            "SELECT error_details FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (tenant,))]
    assert details[0]["first_load"] == "insert only"
    assert "first_load" not in details[1]


def test_an_insert_only_chunk_that_meets_a_stored_row_upserts_instead(env):
    tenant = env.tenant_ids[0]
    rows = first_rows_transformed(env, tenant)
    with env.analytics() as conn:
        load.ensure_staging(conn)
        with conn.transaction():
            load.write_chunk(conn, rows.iloc[:2])
        changed = rows.copy()
        changed.loc[0, "contact_name"] = "Renomeado"
        with conn.transaction():
            counts = load.write_chunk(conn, changed, insert_only=True)
        stored = conn.execute("SELECT count(*), count(DISTINCT conversation_id) FROM conversations_analytics "
                              "WHERE tenant_id = %s", (tenant,)).fetchone()
        name = conn.execute("SELECT contact_name FROM conversations_analytics WHERE conversation_id = %s",
                            (int(rows.loc[0, "conversation_id"]),)).fetchone()[0]
    assert counts.conflicted
    assert (counts.inserted, counts.updated, counts.unchanged) == (len(rows) - 2, 1, 1)
    assert stored == (len(rows), len(rows)) and name == "Renomeado"


def test_tenant_without_active_inbox_ends_cleanly(env):
    with env.analytics() as conn:
        conn.execute("INSERT INTO tenants (name, slug, account_id) VALUES ('Empty', 'empty', 999) RETURNING id")
        tenant = conn.execute("SELECT id FROM tenants WHERE slug = 'empty'").fetchone()[0]
    result = sync(tenant)
    assert result.status == "success" and result.extracted == 0
    assert "no active inbox" in control_row(env, result.execution_id)["error_message"]


def test_window_mode_resyncs_a_window_and_never_moves_the_watermark(env):
    tenant = env.tenant_ids[0]
    sync(tenant)
    with env.analytics() as conn:
        before = conn.execute("SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s",
                              (tenant,)).fetchone()
        conn.execute("DELETE FROM conversations_analytics WHERE tenant_id = %s AND "
                     "conversation_updated_at >= '2026-09-01' AND conversation_updated_at < '2026-10-01'", (tenant,))
    window = sync(tenant, mode="window", since=datetime(2026, 9, 1, tzinfo=UTC),
                  until=datetime(2026, 10, 1, tzinfo=UTC))
    assert window.inserted > 0 and window.updated == 0
    assert_target_equals_source(env, tenant)
    with env.analytics() as conn:
        after = conn.execute("SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s",
                             (tenant,)).fetchone()
    assert after == before
    assert control_row(env, window.execution_id)["load_type"] == "window"


def test_upper_bound_is_the_source_clock_not_the_host_clock(env):
    """The old ETL compared naive São Paulo host time with naive UTC: a 3-hour blind spot."""
    tenant = env.tenant_ids[0]
    sync(tenant)
    with env.source() as conn:
        fresh = conn.execute(
            "UPDATE conversations SET updated_at = (now() AT TIME ZONE 'UTC') - interval '1 minute', status = 1 "
            "WHERE id = (SELECT min(id) FROM conversations WHERE inbox_id = ANY(%s)) RETURNING id",
            (tenant_inboxes(env, tenant),)).fetchone()[0]
    done = env.run_cli("sync", "--tenant", str(tenant), TZ="America/Sao_Paulo")
    assert done.returncode == 0, done.stderr[-2000:]
    assert target_state(env, tenant)[fresh][1] == 1


def test_variable_mirror_rewind_is_honoured_and_a_forward_edit_refused(env, airflow_metadata_uri):
    tenant = env.tenant_ids[0]
    key = f"chatwoot_sync_watermark_tenant_{tenant}"
    meta = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_metadata_uri}

    def variable() -> str:
        done = subprocess.run([sys.executable, "-m", "airflow", "variables", "get", key],
                              env=env.cli_env(**meta), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    def set_variable(value: str) -> None:
        subprocess.run([sys.executable, "-m", "airflow", "variables", "set", key, value],
                       env=env.cli_env(**meta), check=True, capture_output=True, timeout=120)

    def database_mark() -> dict:
        with env.analytics() as conn:
            moment, conversation = conn.execute(
                "SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s", (tenant,)).fetchone()
        return {"updated_at": moment.isoformat(), "conversation_id": conversation}

    def last_run() -> dict:
        with env.analytics() as conn:
            return conn.execute("SELECT error_details, records_extracted FROM etl_control WHERE tenant_id = %s "
                                "ORDER BY started_at DESC LIMIT 1", (tenant,)).fetchone()

    assert env.run_cli("sync", "--tenant", str(tenant), **meta).returncode == 0
    synced = database_mark()
    assert json.loads(variable()) == synced

    # an operator rewinds the Variable to an earlier point: honoured and recorded
    set_variable(json.dumps({"updated_at": "2026-10-01T00:00:00+00:00", "conversation_id": 0}))
    assert env.run_cli("sync", "--tenant", str(tenant), **meta).returncode == 0
    details, extracted = last_run()
    assert details["rewind"]["to"] == json.dumps({"updated_at": "2026-10-01T00:00:00+00:00", "conversation_id": 0})
    newer = sum(1 for v in source_state(env, tenant).values() if v[0] >= datetime(2026, 10, 1))
    assert extracted >= newer > 0
    assert database_mark() == synced and json.loads(variable()) == synced

    # a later value, or garbage, is refused with a warning and repaired
    for edit in (json.dumps({"updated_at": "2030-01-01T00:00:00+00:00", "conversation_id": 1}), "not json"):
        set_variable(edit)
        done = env.run_cli("sync", "--tenant", str(tenant), **meta)
        assert done.returncode == 0 and "event=variable_refused" in done.stderr
        details, extracted = last_run()
        assert "variable_refused" in details and extracted < newer
        assert database_mark() == synced and json.loads(variable()) == synced


@pytest.mark.parametrize("column, value, message", [
    ("timezone", "Mars/Olympus_Mons", "invalid time zone 'Mars/Olympus_Mons'"),
    ("lead_rules", '{"no_such_rule": []}', "no_such_rule"),
    ("lead_rules", '[1]', "lead rules must be a JSON object of rule keys, not [1]"),
    ("lead_rules", '"str"', 'lead rules must be a JSON object of rule keys, not "str"'),
    ("lead_rules", '{"buy_intent": "abc"}', "'buy_intent' must be a non-empty list of non-empty strings, not \"abc\""),
])
def test_bad_tenant_configuration_fails_clearly_before_any_work(env, column, value, message):
    tenant = env.tenant_ids[0]
    with env.analytics() as conn:
        conn.execute(f"UPDATE tenants SET {column} = %s WHERE id = %s", (value, tenant))
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        sync(tenant)
    assert target_state(env, tenant) == {}
    done = env.run_cli("sync", "--tenant", str(tenant))
    assert done.returncode == 1 and f"tenant {tenant}" in done.stderr and message.split("'")[0] in done.stderr


def test_a_lock_with_the_same_key_in_another_database_does_not_block(env, create_database):
    tenant = env.tenant_ids[0]
    elsewhere = psycopg.connect(create_database("other_analytics"), autocommit=True)
    assert elsewhere.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.lock_key(tenant)).fetchone()[0]
    try:
        assert sync(tenant).status == "success"
        with env.analytics() as conn:
            assert locks.find_holder(conn, tenant) is None
    finally:
        elsewhere.close()


def test_a_mirror_left_behind_by_a_failed_publish_is_repaired_not_taken_for_a_rewind(env, airflow_metadata_uri, tmp_path):
    tenant = env.tenant_ids[0]
    key = f"chatwoot_sync_watermark_tenant_{tenant}"
    meta = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_metadata_uri}
    unreachable = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'no-metadata.db'}"}

    def variable() -> dict:
        done = subprocess.run([sys.executable, "-m", "airflow", "variables", "get", key],
                              env=env.cli_env(**meta), capture_output=True, text=True, timeout=120)
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert env.run_cli("sync", "--tenant", str(tenant), **meta).returncode == 0
    published = variable()
    with env.source() as conn:
        seed.add_activity(conn, touch_fraction=0.05, seed=11)
    failed_publish = env.run_cli("sync", "--tenant", str(tenant), **unreachable)
    assert failed_publish.returncode == 0 and "event=variable_not_published" in failed_publish.stderr
    assert variable() == published  # the mirror is now behind the database

    repaired = env.run_cli("sync", "--tenant", str(tenant), **meta)
    assert repaired.returncode == 0 and "event=watermark_rewound" not in repaired.stderr
    with env.analytics() as conn:
        details, extracted = conn.execute("SELECT error_details, records_extracted FROM etl_control "
                                          "WHERE tenant_id = %s ORDER BY started_at DESC LIMIT 1", (tenant,)).fetchone()
        moment, conversation = conn.execute(
            "SELECT updated_at, conversation_id FROM etl_watermarks WHERE tenant_id = %s", (tenant,)).fetchone()
    assert details["variable_refused"]["reason"] == "stale" and "rewind" not in details
    assert extracted < 0.2 * len(source_state(env, tenant))  # no re-read from the old position
    assert variable() == {"updated_at": moment.isoformat(), "conversation_id": conversation}


def test_relative_to_now_fields_alone_never_rewrite_a_row(env):
    """A day later is_today / days_since_creation differ from what is stored: that is no change."""
    tenant = env.tenant_ids[0]
    assert sync(tenant).status == "success"
    with env.analytics() as conn:
        conn.execute("UPDATE conversations_analytics SET days_since_creation = days_since_creation - 1, "
                     "is_today = NOT coalesce(is_today, false), waiting_time_seconds = 0 WHERE tenant_id = %s", (tenant,))
        stamps = dict(conn.execute("SELECT conversation_id, etl_updated_at FROM conversations_analytics "
                                   "WHERE tenant_id = %s", (tenant,)).fetchall())
    again = sync(tenant, mode="full_refresh")
    assert again.status == "success" and (again.inserted, again.updated) == (0, 0) and again.unchanged > 0
    with env.analytics() as conn:
        assert dict(conn.execute("SELECT conversation_id, etl_updated_at FROM conversations_analytics "
                                 "WHERE tenant_id = %s", (tenant,)).fetchall()) == stamps
