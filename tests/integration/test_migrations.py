"""The analytics schema: migrations, the documented tables and indexes, roles and RLS."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_etl import contract
from chatwoot_etl.admin import migrations
from chatwoot_etl.errors import MigrationError

pytestmark = pytest.mark.integration


def test_migrations_apply_on_empty_database_then_reapply_as_noop(create_database):
    uri = create_database("migrate")
    with psycopg.connect(uri) as conn:
        first = migrations.apply(conn)
        second = migrations.apply(conn)
        ledger = [row[0] for row in conn.execute("SELECT version FROM etl_schema_migrations ORDER BY version")]
    assert first == [m.version for m in migrations.discover()]
    assert second == []
    assert ledger == first


def test_failed_migration_rolls_back_whole(create_database, tmp_path):
    uri = create_database("migrate_fail")
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE half_done (id int); SELECT no_such_function();")
    with psycopg.connect(uri) as conn:
        with pytest.raises(MigrationError, match="0002_broken"):
            migrations.apply(conn, tmp_path)
        conn.rollback()
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        ledger = [row[0] for row in conn.execute("SELECT version FROM etl_schema_migrations")]
    assert "ok_table" in tables and "half_done" not in tables
    assert ledger == ["0001_ok"]


def test_edited_migration_is_refused(create_database, tmp_path):
    uri = create_database("migrate_edit")
    migration = tmp_path / "0001_a.sql"
    migration.write_text("CREATE TABLE a (id int);")
    with psycopg.connect(uri) as conn:
        migrations.apply(conn, tmp_path)
        migration.write_text("CREATE TABLE a (id bigint);")
        with pytest.raises(MigrationError, match="edited"):
            migrations.apply(conn, tmp_path)


def _columns(conn, table):
    return dict(conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,)
    ).fetchall())


def test_target_table_matches_the_contract(analytics_conn):
    found = _columns(analytics_conn, "conversations_analytics")
    expected = {**contract.TARGET_COLUMNS, "etl_inserted_at": "timestamp with time zone",
                "etl_updated_at": "timestamp with time zone"}
    assert found == expected
    # the "relative to now" columns are not stored
    for name in ("is_today", "is_yesterday", "is_this_week", "days_since_creation", "waiting_time_seconds"):
        assert name not in found


def test_documented_tables_and_indexes_exist(analytics_conn):
    tables = {row[0] for row in analytics_conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"tenants", "inbox_tenant_mapping", "conversations_analytics", "etl_control", "etl_watermarks",
            "etl_inbox_sync_state", "etl_quarantine", "etl_alerts"} <= tables
    indexes = {row[0]: row[1] for row in analytics_conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'conversations_analytics'")}
    defs = " | ".join(indexes.values())
    assert "UNIQUE INDEX conversations_analytics_tenant_conversation_key" in defs
    assert "(tenant_id, conversation_id)" in indexes["conversations_analytics_tenant_conversation_key"]
    assert "(tenant_id, conversation_date)" in indexes["conversations_analytics_tenant_date_idx"]
    instants = analytics_conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type = 'timestamp without time zone'").fetchall()
    assert instants == []
    admin = analytics_conn.execute("SELECT name, slug FROM tenants WHERE id = 0").fetchone()
    assert admin == ("Platform admin", "admin")


def _seed_two_tenants(conn):
    conn.execute("INSERT INTO tenants (id, name, slug, account_id) VALUES (1, 'A', 'a', 11), (2, 'B', 'b', 12)")
    conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (101, 1), (201, 2)")
    conn.execute(
        "INSERT INTO conversations_analytics (tenant_id, conversation_id, inbox_id) "
        "VALUES (1, 1, 101), (1, 2, 101), (2, 3, 201)"
    )
    conn.execute("INSERT INTO etl_control (tenant_id, execution_id, load_type) VALUES (1, gen_random_uuid(), 'full')")


def _as_dashboard(conn, tenant_setting):
    with conn.transaction():
        conn.execute("SET LOCAL ROLE dashboard")
        if tenant_setting is not None:
            conn.execute("SELECT set_config('app.current_tenant_id', %s, true)", (tenant_setting,))
        return sorted(row[0] for row in conn.execute("SELECT conversation_id FROM conversations_analytics"))


@pytest.mark.parametrize(
    "setting, visible",
    [("1", [1, 2]), ("2", [3]), ("0", [1, 2, 3]), (None, []), ("", []), ("abc", []), ("1; drop", []), ("99", [])],
)
def test_dashboard_sees_only_its_tenant(analytics_conn, setting, visible):
    _seed_two_tenants(analytics_conn)
    assert _as_dashboard(analytics_conn, setting) == visible


def test_dashboard_cannot_write(analytics_conn):
    _seed_two_tenants(analytics_conn)
    for statement in (
        "INSERT INTO conversations_analytics (tenant_id, conversation_id) VALUES (1, 99)",
        "UPDATE conversations_analytics SET status = 1",
        "DELETE FROM conversations_analytics",
        "INSERT INTO etl_control (tenant_id, execution_id, load_type) VALUES (1, gen_random_uuid(), 'full')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with analytics_conn.transaction():
                analytics_conn.execute("SET LOCAL ROLE dashboard")
                analytics_conn.execute("SELECT set_config('app.current_tenant_id', '1', true)")
                analytics_conn.execute(statement)


def test_etl_writer_reads_and_writes_every_tenant_and_the_control_tables(analytics_conn):
    _seed_two_tenants(analytics_conn)
    with analytics_conn.transaction():
        analytics_conn.execute("SET LOCAL ROLE etl_writer")
        # no tenant set: the ETL still sees and writes every tenant's rows
        assert analytics_conn.execute("SELECT count(*) FROM conversations_analytics").fetchone()[0] == 3
        analytics_conn.execute("UPDATE conversations_analytics SET status = 1")
        analytics_conn.execute(
            "INSERT INTO conversations_analytics (tenant_id, conversation_id, inbox_id) VALUES (2, 4, 201)")
        assert analytics_conn.execute("SELECT count(*) FROM etl_control").fetchone()[0] == 1
        analytics_conn.execute(
            "INSERT INTO etl_control (tenant_id, execution_id, load_type) VALUES (2, gen_random_uuid(), 'incremental')")
        analytics_conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE tenant_id = 2")
        analytics_conn.execute("INSERT INTO etl_watermarks (tenant_id, updated_at, conversation_id) VALUES (1, now(), 1)")
        analytics_conn.execute("CREATE TEMP TABLE scratch (id int)")
        assert analytics_conn.execute("SELECT count(*) FROM etl_control").fetchone()[0] == 2


def test_control_tables_have_no_row_level_security(analytics_conn):
    rls = dict(analytics_conn.execute(
        "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN "
        "('etl_control', 'inbox_tenant_mapping', 'etl_watermarks', 'etl_inbox_sync_state', 'etl_alerts', "
        "'etl_quarantine', 'conversations_analytics')").fetchall())
    assert rls.pop("conversations_analytics") is True
    assert not any(rls.values())


def test_a_conversation_cannot_be_stored_under_two_tenants(analytics_conn):
    _seed_two_tenants(analytics_conn)
    with pytest.raises(psycopg.errors.UniqueViolation):
        analytics_conn.execute("INSERT INTO conversations_analytics (tenant_id, conversation_id) VALUES (2, 1)")
