"""The two definitions of vw_conversations_analytics_final: same rows, different plans.

include/sql/chatwoot/02_view.sql is the deployed modular view (whole-table GROUP BY message
views); 02_view_indexable.sql, applied on top, computes the same per-conversation aggregates in
LATERAL subqueries, so a window on conversations reads only those conversations' messages.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from chatwoot_etl import contract, settings
from chatwoot_etl.localdev import seed
from chatwoot_etl.paths import sql_text

pytestmark = pytest.mark.integration

VIEW = contract.SOURCE_VIEW


def _connect(uri: str) -> psycopg.Connection:
    return psycopg.connect(uri, autocommit=True)


def _add_edge_cases(conn: psycopg.Connection) -> dict[str, int]:
    """A conversation without messages, and one with private notes only."""
    donor = conn.execute("SELECT id, account_id, inbox_id, contact_id FROM conversations ORDER BY id LIMIT 1").fetchone()
    empty = conn.execute(
        """
        INSERT INTO conversations (account_id, inbox_id, contact_id, status, created_at, updated_at, display_id)
        VALUES (%s, %s, %s, 0, '2026-10-30 12:00:00', '2026-10-30 12:00:00',
                (SELECT max(display_id) + 1 FROM conversations WHERE account_id = %s))
        RETURNING id
        """,
        (donor[1], donor[2], donor[3], donor[1]),
    ).fetchone()[0]
    only_hidden = conn.execute(
        "SELECT conversation_id FROM messages GROUP BY conversation_id "
        "HAVING bool_or(private) ORDER BY conversation_id LIMIT 1"
    ).fetchone()[0]
    conn.execute("DELETE FROM messages WHERE conversation_id = %s AND NOT private", (only_hidden,))
    return {"empty": empty, "only_hidden": only_hidden}


def _rows_of_both(conn: psycopg.Connection) -> tuple[int, int, int, int]:
    """(rows, deployed-only rows, indexable-only rows, duplicated conversations), in one transaction.

    One transaction means one now(): the "relative to now" columns are compared too.
    """
    with conn.transaction(force_rollback=True):
        conn.execute(sql_text("chatwoot/02_view.sql"))
        conn.execute(f"CREATE TEMPORARY TABLE deployed_rows AS SELECT * FROM {VIEW}")
        conn.execute(sql_text("chatwoot/02_view_indexable.sql"))
        rows = conn.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0]
        only_deployed = conn.execute(
            f"SELECT count(*) FROM (SELECT * FROM deployed_rows EXCEPT ALL SELECT * FROM {VIEW}) x").fetchone()[0]
        only_indexable = conn.execute(
            f"SELECT count(*) FROM (SELECT * FROM {VIEW} EXCEPT ALL SELECT * FROM deployed_rows) x").fetchone()[0]
        duplicated = conn.execute(
            f"SELECT count(*) FROM (SELECT conversation_id FROM {VIEW} GROUP BY 1 HAVING count(*) > 1) x").fetchone()[0]
    return rows, only_deployed, only_indexable, duplicated


def test_both_definitions_expose_the_same_columns_and_types(empty_source_db):
    query = """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
    """
    with _connect(empty_source_db.admin_uri) as conn:
        deployed = conn.execute(query, (VIEW,)).fetchall()
        seed.apply_schema(conn, view="indexable")
        indexable = conn.execute(query, (VIEW,)).fetchall()
    assert indexable == deployed
    assert len(indexable) == 171 and not contract.compare(dict(indexable)).breaking


def test_both_definitions_return_identical_rows_quirks_included(source_db):
    with _connect(source_db.admin_uri) as conn:
        edge = _add_edge_cases(conn)
        rows, only_deployed, only_indexable, duplicated = _rows_of_both(conn)
        conversations = conn.execute("SELECT count(*) FROM conversations").fetchone()[0]
        # the edge cases really are what they claim, in the indexable view
        seed.apply_schema(conn, view="indexable")
        empty = conn.execute(
            f"SELECT message_compiled, t_messages, total_messages_public, mc_first_message_at, user_messages_count, "
            f"first_message_text, avg_time_between_messages_seconds FROM {VIEW} WHERE conversation_id = %s",
            (edge["empty"],)).fetchone()
        hidden = conn.execute(
            f"SELECT t_messages > 0, total_messages_public, first_message_text, user_message_ratio "
            f"FROM {VIEW} WHERE conversation_id = %s", (edge["only_hidden"],)).fetchone()
    assert only_deployed == 0 and only_indexable == 0
    assert rows > conversations  # the duplicate-CSAT quirk is part of what was compared
    assert duplicated > 0
    assert empty == (None, None, None, None, None, None, None)  # no messages: NULLs, as deployed
    assert hidden == (True, 0, None, None)


def test_both_definitions_agree_after_activity(source_db):
    with _connect(source_db.admin_uri) as conn:
        seed.add_activity(conn, touch_fraction=0.05, new_conversations=20, seed=3)
        rows, only_deployed, only_indexable, _ = _rows_of_both(conn)
    assert rows > 0 and only_deployed == 0 and only_indexable == 0


def test_apply_schema_switches_definitions_in_place_and_back(source_db, monkeypatch):
    with _connect(source_db.admin_uri) as conn:
        def definition() -> str:
            return conn.execute("SELECT pg_get_viewdef(%s::regclass)", (VIEW,)).fetchone()[0]

        assert "LATERAL" not in definition()
        seed.apply_schema(conn, view="indexable")
        assert "LATERAL" in definition()
        seed.apply_schema(conn)  # the default stays the deployed definition
        assert "LATERAL" not in definition()
        monkeypatch.setenv(seed.VIEW_ENV_VAR, "indexable")
        seed.apply_schema(conn)
        assert "LATERAL" in definition()
        with pytest.raises(ValueError, match="unknown view definition"):
            seed.apply_schema(conn, view="nope")
    # the reader role can still read it (the grants are re-applied with the view)
    with _connect(source_db.reader_uri) as reader:
        assert reader.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0] > 0


def test_seed_source_activity_leaves_the_view_definition_alone(source_db, conn_env):
    """`seed-source --activity` adds activity; an index-friendly source stays index-friendly."""
    from chatwoot_etl.localdev import demo

    with _connect(source_db.admin_uri) as conn:
        seed.apply_schema(conn, view="indexable")
    conn_env(source_admin=source_db.admin_uri)
    assert demo.build_source(activity=True, touch_fraction=0.02, seed=5)["touched_conversations"] > 0
    with _connect(source_db.admin_uri) as conn:
        assert "LATERAL" in conn.execute("SELECT pg_get_viewdef(%s::regclass)", (VIEW,)).fetchone()[0]


def _plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


def _window_plan(conn: psycopg.Connection) -> list[dict]:
    newest, inboxes = conn.execute("SELECT max(updated_at), array_agg(DISTINCT inbox_id) FROM conversations").fetchone()
    columns = ", ".join(contract.SOURCE_COLUMNS)
    explained = conn.execute(
        f"EXPLAIN (FORMAT JSON) SELECT {columns} FROM {VIEW} "
        "WHERE conversation_updated_at > %s AND inbox_id = ANY(%s) "
        "ORDER BY conversation_updated_at, conversation_id",
        (newest.replace(microsecond=0), inboxes[:2]),
    ).fetchone()[0]
    plan = explained if isinstance(explained, list) else json.loads(explained)
    return _plan_nodes(plan[0]["Plan"])


@pytest.mark.parametrize("session", [{}, settings.SOURCE_SESSION.default], ids=["default_session", "engine_session"])
def test_indexable_plan_for_a_narrow_window_uses_indexes(source_db, session):
    with _connect(source_db.admin_uri) as conn:
        seed.apply_schema(conn, view="indexable")
        conn.execute("ANALYZE")
        for name, value in session.items():
            conn.execute(f"SET {name} = {value}")
        nodes = _window_plan(conn)
    on = {(node.get("Relation Name"), node["Node Type"], node.get("Index Name")) for node in nodes
          if node.get("Relation Name")}
    assert ("conversations", "Index Scan", "index_conversations_on_updated_at") in on, on
    messages = {entry for entry in on if entry[0] == "messages"}
    assert messages and all(kind != "Seq Scan" for _, kind, _ in messages), messages


def _messages_read(conn: psycopg.Connection) -> int:
    """Rows the window query actually read from messages (EXPLAIN ANALYZE, all loops)."""
    newest, inboxes = conn.execute("SELECT max(updated_at), array_agg(DISTINCT inbox_id) FROM conversations").fetchone()
    explained = conn.execute(
        f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM {VIEW} WHERE conversation_updated_at > %s AND inbox_id = ANY(%s)",
        (newest.replace(microsecond=0), inboxes),
    ).fetchone()[0]
    plan = explained if isinstance(explained, list) else json.loads(explained)
    return sum(node["Actual Rows"] * node["Actual Loops"] for node in _plan_nodes(plan[0]["Plan"])
               if node.get("Relation Name") == "messages")


def test_narrow_window_reads_every_message_only_with_the_deployed_view(source_db):
    with _connect(source_db.admin_uri) as conn:
        conn.execute("ANALYZE")
        for name, value in settings.SOURCE_SESSION.default.items():
            conn.execute(f"SET {name} = {value}")
        total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        deployed = _messages_read(conn)
        seed.apply_schema(conn, view="indexable")
        indexable = _messages_read(conn)
    assert deployed >= total            # the GROUP BY subqueries aggregate the whole table
    assert 0 < indexable < total / 20   # only the window's conversations' messages
