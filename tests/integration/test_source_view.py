"""The local Chatwoot source: the view's contract and quirks, and the generator's guarantees.

Everything the ETL's tests rely on about the source is pinned here against a real PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from chatwoot_etl import contract
from chatwoot_etl.localdev import seed

pytestmark = pytest.mark.integration

VIEW = contract.SOURCE_VIEW
MESSAGE_KEYS = {"message_id", "text", "sender", "sender_id", "sent_at", "message_type", "content_type", "status",
                "private", "sentiment", "source_id"}
# Columns of the deployed view that carry Chatwoot's own types through, uncast.
CHATWOOT_TYPES = {
    "conversation_created_at": "timestamp without time zone",
    "conversation_updated_at": "timestamp without time zone",
    "waiting_since": "timestamp(6) without time zone",
    "csat_created_at": "timestamp(6) without time zone",
    "contact_name": "character varying",
    "inbox_timezone": "character varying",
    "priority_label": "text",
    "t_messages": "bigint",
    "first_response_time_minutes": "numeric",
    "message_compiled": "jsonb",
    "avg_sentiment_score": "text",
}
SENDERS = {"Contact", "User", "AgentBot", "Captain::Assistant", None}


def _connect(uri: str) -> psycopg.Connection:
    return psycopg.connect(uri, autocommit=True)


def _scalar(conn: psycopg.Connection, query: str, params=None):
    return conn.execute(query, params).fetchone()[0]


def test_view_has_the_deployed_171_columns_with_chatwoots_types(empty_source_db):
    with _connect(empty_source_db.admin_uri) as conn:
        rows = conn.execute(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a
            WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """,
            (VIEW,),
        ).fetchall()
    found = dict(rows)
    assert len(rows) == 171
    assert {**contract.SOURCE_COLUMNS, **contract.IGNORED_SOURCE_COLUMNS}.keys() <= found.keys()
    assert {name: found[name] for name in CHATWOOT_TYPES} == CHATWOOT_TYPES
    diff = contract.compare(found)
    assert not diff.breaking, diff.describe()
    assert len(diff.extra) == 171 - 118
    assert ("waiting_since", "timestamp without time zone", "timestamp(6) without time zone") in diff.compatible


def test_apply_schema_is_idempotent(source_db):
    with _connect(source_db.admin_uri) as conn:
        before = _scalar(conn, f"SELECT count(*) FROM {VIEW}")
        seed.apply_schema(conn)
        seed.apply_schema(conn)
        assert _scalar(conn, f"SELECT count(*) FROM {VIEW}") == before


def test_two_csat_answers_duplicate_the_conversation_row(source_db):
    with _connect(source_db.admin_uri) as conn:
        duplicated = conn.execute(
            f"""
            SELECT conversation_id, count(*), count(DISTINCT csat_response_id)
            FROM {VIEW} GROUP BY conversation_id HAVING count(*) > 1
            """
        ).fetchall()
        conversations = _scalar(conn, "SELECT count(*) FROM conversations")
        rows = _scalar(conn, f"SELECT count(*) FROM {VIEW}")
        with_csat = _scalar(conn, "SELECT count(DISTINCT conversation_id) FROM csat_survey_responses")
    assert duplicated, "expected conversations with two CSAT answers"
    assert all(count == 2 and distinct == 2 for _, count, distinct in duplicated)
    assert rows == conversations + len(duplicated)
    # ~10% of conversations answered the survey, as the brief of the fixture says
    assert 0.05 * conversations < with_csat < 0.15 * conversations


def test_status_labels_include_the_nonexistent_status_4(source_db):
    with _connect(source_db.admin_uri) as conn:
        labels = dict(conn.execute(f"SELECT DISTINCT status, status_label_pt FROM {VIEW}").fetchall())
    assert labels == {0: "Aberta", 1: "Resolvida", 2: "Pendente", 3: "Adiada", 4: "Fechada"}


def test_activity_messages_count_in_t_messages(source_db):
    with _connect(source_db.admin_uri) as conn:
        mismatched = _scalar(
            conn,
            f"""
            SELECT count(*) FROM {VIEW} v
            WHERE v.t_messages <> (SELECT count(*) FROM messages m WHERE m.conversation_id = v.conversation_id)
            """,
        )
        split = _scalar(conn, f"SELECT count(*) FROM {VIEW} WHERE t_messages <> total_messages_public + total_messages_private")
        ends_with_activity = _scalar(
            conn, f"SELECT count(*) FROM {VIEW} WHERE last_message_sender_type IS NULL AND t_messages > 0")
    assert mismatched == 0
    assert split == 0                 # activity messages are "public" in the deployed view
    assert ends_with_activity > 0     # "Conversa foi marcada como resolvida ...": the system's last word


def test_calendar_columns_are_computed_in_utc(source_db):
    with _connect(source_db.admin_uri) as conn:
        rows = conn.execute(
            f"""
            SELECT conversation_created_at, conversation_date, conversation_hour, conversation_day_of_week,
                   conversation_year_month, is_weekend, conversation_day_name, conversation_date_formatted
            FROM {VIEW}
            """
        ).fetchall()
    assert rows
    for created, day, hour, dow, year_month, weekend, day_name, formatted in rows:
        assert day == created.date()
        assert day_name == ("Domingo", "Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado")[dow]
        assert formatted == created.strftime("%Y-%m-%d")
        assert hour == created.hour
        assert dow == created.isoweekday() % 7  # Sunday = 0
        assert year_month == created.strftime("%Y-%m")
        assert weekend == (dow in (0, 6))
    # The defect is visible: conversations opened in the São Paulo evening carry the next UTC day.
    assert any(created.hour < 3 for created, *_ in rows)


def test_message_compiled_has_every_message_in_order(source_db):
    with _connect(source_db.admin_uri) as conn:
        rows = conn.execute(
            f"SELECT conversation_id, message_compiled, t_messages, mc_first_message_at, mc_last_message_at FROM {VIEW}"
        ).fetchall()
    kinds_seen: set[tuple[int, bool]] = set()
    senders_seen: set[str | None] = set()
    without_messages = 0
    for _, compiled, total, first_at, last_at in rows:
        if compiled is None:  # a conversation without messages: NULL, not [], and NULL counts
            assert total is None and first_at is None and last_at is None
            without_messages += 1
            continue
        assert isinstance(compiled, list)
        assert len(compiled) == total
        keys = [(datetime.fromisoformat(m["sent_at"]), m["message_id"]) for m in compiled]
        assert keys == sorted(keys)
        for message in compiled:
            assert set(message) == MESSAGE_KEYS
            assert isinstance(message["message_id"], int)
            assert message["text"] is None or isinstance(message["text"], str)
            assert message["sender"] in SENDERS
            assert message["sender_id"] is None or isinstance(message["sender_id"], int)
            assert isinstance(message["message_type"], int)
            assert isinstance(message["private"], bool)
            kinds_seen.add((message["message_type"], message["private"]))
            senders_seen.add(message["sender"])
        if compiled:
            assert keys[0][0] == first_at and keys[-1][0] == last_at
    assert {(0, False), (1, False), (1, True), (2, False)} <= kinds_seen
    assert senders_seen == SENDERS
    assert 0 < without_messages < 0.05 * len(rows)


def test_flags_follow_their_definitions(source_db):
    with _connect(source_db.admin_uri) as conn:
        wrong = _scalar(
            conn,
            f"""
            SELECT count(*) FROM {VIEW}
            WHERE is_short_conversation IS DISTINCT FROM (total_messages_public <= 5)
               OR is_long_conversation IS DISTINCT FROM (total_messages_public > 20)
               OR has_human_intervention IS DISTINCT FROM (user_messages_count > 0)
               OR is_bot_resolved IS DISTINCT FROM (status IN (1, 4) AND user_messages_count = 0)
               OR is_open IS DISTINCT FROM (status IN (0, 2))
               OR is_resolved IS DISTINCT FROM (status IN (1, 4))
               OR priority_label IS DISTINCT FROM (CASE priority WHEN 1 THEN 'Low' WHEN 2 THEN 'Medium'
                                                   WHEN 3 THEN 'High' WHEN 4 THEN 'Urgent' ELSE 'None' END)
               OR priority_score IS DISTINCT FROM COALESCE(priority, 0)
               OR (csat_rating = 5 AND csat_nps_category <> 'Promotor')
               OR (csat_rating = 4 AND csat_nps_category <> 'Neutro')
               OR (csat_rating <= 3 AND csat_nps_category <> 'Detrator')
               OR (csat_rating >= 4 AND csat_sentiment_category <> 'Positivo')
               OR (csat_response_id IS NULL AND has_written_feedback IS NOT NULL)
               OR (first_response_time_seconds < 300) IS DISTINCT FROM is_fast_response
               OR (first_reply_created_at IS NULL AND is_fast_response IS NOT NULL)
            """,
        )
        flags = conn.execute(
            f"""
            SELECT bool_or(is_long_conversation), bool_or(is_short_conversation), bool_or(is_bot_resolved),
                   bool_or(has_human_intervention), bool_or(is_fast_response), bool_or(is_slow_response),
                   bool_or(contact_email IS NOT NULL), avg((contact_email IS NULL)::int),
                   avg((campaign_id IS NULL)::int), avg((priority_label = 'None')::int)
            FROM {VIEW}
            """
        ).fetchone()
    assert wrong == 0
    assert all(flags[:7])
    assert flags[7] > 0.8 and flags[8] > 0.9  # mostly NULL, as in production
    assert flags[9] > 0.5                     # the text 'None': most conversations have no priority


def test_generator_is_deterministic_for_a_seed(source_db, empty_source_db):
    with _connect(source_db.admin_uri) as conn:
        template_print = seed.source_fingerprint(conn)
    with _connect(empty_source_db.admin_uri) as conn:
        seed.generate(conn, accounts=3, conversations=2000, seed=42)
        assert seed.source_fingerprint(conn) == template_print
        seed.generate(conn, accounts=3, conversations=2000, seed=43)
        assert seed.source_fingerprint(conn) != template_print
        seed.generate(conn, accounts=3, conversations=2000, seed=42)  # generate() clears first
        assert seed.source_fingerprint(conn) == template_print


def test_many_conversations_share_one_updated_at(source_db):
    with _connect(source_db.admin_uri) as conn:
        biggest_tie = _scalar(
            conn, "SELECT max(n) FROM (SELECT count(*) AS n FROM conversations GROUP BY updated_at) t"
        )
    assert biggest_tie >= 100


def test_updated_at_never_precedes_the_last_message(source_db):
    with _connect(source_db.admin_uri) as conn:
        behind = _scalar(
            conn,
            """
            SELECT count(*) FROM conversations c
            LEFT JOIN (SELECT conversation_id, max(updated_at) AS last_update, max(created_at) AS last_created
                       FROM messages GROUP BY conversation_id) m ON m.conversation_id = c.id
            WHERE c.updated_at < c.created_at OR c.updated_at < m.last_update OR c.updated_at < m.last_created
               OR c.last_activity_at < m.last_created
            """,
        )
        until = _scalar(conn, "SELECT max(updated_at) FROM conversations")
    assert behind == 0
    assert until <= seed.DEFAULT_UNTIL  # anchored at `until`, never at now()


def test_add_activity_touches_conversations_at_the_given_time(source_db):
    at = datetime(2026, 11, 20, 12, 0, 0)
    with _connect(source_db.admin_uri) as conn:
        conversations, messages = conn.execute(
            "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)"
        ).fetchone()
        result = seed.add_activity(conn, touch_fraction=0.05, new_conversations=20, seed=7, at=at)
        after_conversations, after_messages, at_at, latest_message = conn.execute(
            """
            SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages),
                   (SELECT count(*) FROM conversations WHERE updated_at = %(at)s),
                   (SELECT max(created_at) FROM messages)
            """,
            {"at": at},
        ).fetchone()
        view_at = _scalar(
            conn, f"SELECT count(DISTINCT conversation_id) FROM {VIEW} WHERE conversation_updated_at = %s", (at,)
        )
        new_open = _scalar(
            conn, "SELECT count(*) FROM conversations WHERE created_at > %s AND status = 0", (at - timedelta(minutes=1),)
        )
    assert result["touched_conversations"] > 0
    assert result["new_conversations"] == 20
    assert result["status_changes"] > 0
    assert result["at"] == at
    assert after_conversations == conversations + 20
    assert after_messages == messages + result["messages_added"]
    assert at_at == view_at == result["touched_conversations"] + 20
    assert latest_message == at
    assert new_open == 20


def test_add_activity_is_deterministic_for_a_seed(create_database, source_template):
    prints = []
    for _ in range(2):
        uri = create_database("source_act", template=source_template)
        with _connect(uri) as conn:
            seed.add_activity(conn, touch_fraction=0.02, new_conversations=5, seed=3, at=datetime(2026, 11, 2))
            prints.append(seed.source_fingerprint(conn))
    assert prints[0] == prints[1]


def test_reader_can_select_but_not_write(source_db):
    with _connect(source_db.reader_uri) as conn:
        assert _scalar(conn, f"SELECT count(*) FROM {VIEW}") > 0
        assert _scalar(conn, "SHOW default_transaction_read_only") == "on"
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            conn.execute("INSERT INTO accounts (name, created_at, updated_at) VALUES ('x', now(), now())")
        # even with read-only switched off, the grants stop it
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE conversations SET status = 1")
        # nor large objects, temporary tables or tables of its own, even in a read-write transaction
        for statement in ("SELECT lo_create(0)", "CREATE TEMP TABLE scratch (a int)", "CREATE TABLE scratch (a int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("BEGIN READ WRITE")
                try:
                    conn.execute(statement)
                finally:
                    conn.execute("ROLLBACK")
