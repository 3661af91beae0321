"""`migrate` on a fresh database and on the owner's existing one: same shape, nothing of the owner's lost."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from chatwoot_etl import contract
from chatwoot_etl.admin import migrations
from chatwoot_etl.cli import main
from chatwoot_etl.errors import MigrationError

pytestmark = pytest.mark.integration

OWNER_TABLES = ("tenants", "users", "sessions", "inbox_tenant_mapping", "tenant_configs", "audit_logs",
                "conversations_analytics", "conversations_analytics_ai", "etl_control")
SHARED_TABLES = ("tenants", "inbox_tenant_mapping", "conversations_analytics", "etl_control")


def _migrate(uri: str, *, plan: bool = False) -> migrations.MigrationReport:
    with psycopg.connect(uri) as conn:
        return migrations.run(conn, plan=plan)


def _snapshot(uri: str) -> dict:
    with psycopg.connect(uri) as conn:
        return migrations.catalog_snapshot(conn)


def _columns(conn: psycopg.Connection, table: str) -> dict[str, str]:
    return dict(conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (table,)).fetchall())


def _rows_as_text(conn: psycopg.Connection, columns_of: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every row of each table, restricted to the given columns, as PostgreSQL's text of the row."""
    out = {}
    for table, columns in columns_of.items():
        query = sql.SQL("SELECT ROW({})::text FROM {} ORDER BY 1").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
        out[table] = [row[0] for row in conn.execute(query)]
    return out


def _coverage(conn: psycopg.Connection) -> set[tuple[str, str, str, str]]:
    """(table, role, command, condition) of every policy of the shared tables: what RLS lets whom do."""
    rows = conn.execute(
        "SELECT tablename, unnest(roles), cmd, coalesce(qual, '') FROM pg_policies "
        "WHERE schemaname = 'public' AND tablename = ANY(%s)", (list(SHARED_TABLES),)).fetchall()
    return {tuple(row) for row in rows}


def test_fresh_database_plan_migrate_and_migrate_again(create_database):
    uri = create_database("fresh")
    plan = _migrate(uri, plan=True)
    assert not plan.applied and "tenants" in plan.created_tables
    assert any(line.startswith("+ table conversations_analytics: created (") for line in plan.lines())
    assert _snapshot(uri) == _snapshot(create_database("empty"))  # the plan changed nothing
    report = _migrate(uri)
    assert report.applied and report.created_tables == plan.created_tables
    assert [c.describe() for c in report.changes] == [c.describe() for c in plan.changes]
    again = _migrate(uri)
    assert again.up_to_date and again.lines() == ["nothing to change: the database is up to date"]


def test_the_contract_is_the_table(analytics_conn):
    found = _columns(analytics_conn, "conversations_analytics")
    assert {k: v for k, v in found.items() if k not in contract.BOOKKEEPING_COLUMNS} == contract.TARGET_COLUMNS
    assert found["id"] == "integer" and found["etl_updated_at"] == "timestamp without time zone"
    instants = [c for c, kind in found.items() if kind.startswith("timestamp")]
    assert len(instants) == 13 and all(found[c] == "timestamp without time zone" for c in instants)


def test_owner_database_is_adopted_in_place(owner_analytics_uri):
    uri = owner_analytics_uri
    with psycopg.connect(uri) as conn:
        owner_columns = {table: list(_columns(conn, table)) for table in OWNER_TABLES}
        owner_rows = _rows_as_text(conn, owner_columns)
        owner_policies = {row[0] for row in conn.execute("SELECT tablename || '.' || policyname FROM pg_policies")}
    before = _snapshot(uri)

    plan = _migrate(uri, plan=True)
    assert _snapshot(uri) == before
    lines = plan.lines()
    assert "+ column tenants.timezone: text NOT NULL DEFAULT 'America/Sao_Paulo'::text" in lines
    assert "+ column conversations_analytics.conversation_timezone: character varying(64)" in lines
    assert "+ policy tenants.tenants_etl_read: SELECT TO etl_service USING (true)" in lines
    assert sorted(plan.created_tables) == sorted(
        ["etl_watermarks", "etl_inbox_sync_state", "etl_quarantine", "etl_alerts", "etl_source_checks",
         "inbox_mapping_audit"])
    # Nothing of the owner's is dropped, retyped or re-created.
    assert not [c for c in plan.changes if c.sign == "-" or (c.sign == "~" and c.kind in ("column", "policy", "index"))]

    report = _migrate(uri)
    assert [c.describe() for c in report.changes] == [c.describe() for c in plan.changes]
    assert _migrate(uri).up_to_date
    with psycopg.connect(uri) as conn:
        assert _rows_as_text(conn, owner_columns) == owner_rows  # the owner's rows, byte for byte
        for table, columns in owner_columns.items():
            assert list(_columns(conn, table))[: len(columns)] == columns
        policies = {row[0] for row in conn.execute("SELECT tablename || '.' || policyname FROM pg_policies")}
        assert owner_policies < policies and len(owner_policies) == 28
        assert len(policies - owner_policies) == 2  # the ETL's read of the registry, nothing else


def test_fresh_and_adopted_databases_have_the_same_shape(create_database, owner_analytics_uri):
    fresh = create_database("fresh")
    _migrate(fresh)
    _migrate(owner_analytics_uri)
    with psycopg.connect(fresh) as new, psycopg.connect(owner_analytics_uri) as adopted:
        for table in SHARED_TABLES:
            assert _columns(new, table) == {
                name: kind for name, kind in _columns(adopted, table).items() if name in _columns(new, table)}
            assert set(_columns(adopted, table)) == set(_columns(new, table)), table
        # The same policies by role, command and condition (names may differ: the owner's are kept).
        assert _coverage(new) == _coverage(adopted)


def test_an_incompatible_column_stops_the_migration_before_any_change(owner_analytics_uri, conn_env, capsys):
    with psycopg.connect(owner_analytics_uri, autocommit=True) as conn:
        conn.execute("ALTER TABLE conversations_analytics ALTER COLUMN contact_id TYPE text")
        conn.execute("ALTER TABLE conversations_analytics ALTER COLUMN waiting_since TYPE timestamptz")
    before = _snapshot(owner_analytics_uri)
    with pytest.raises(MigrationError) as raised:
        _migrate(owner_analytics_uri)
    message = str(raised.value)
    assert "nothing was changed" in message
    assert "conversations_analytics.contact_id: found text, expected integer" in message
    assert ("conversations_analytics.waiting_since: found timestamp with time zone, expected timestamp without "
            "time zone") in message and "AT TIME ZONE 'UTC'" in message
    assert _snapshot(owner_analytics_uri) == before
    # The CLI says the same in one line of stderr, exit 1, for --plan too.
    conn_env(analytics=owner_analytics_uri)
    assert main(["migrate", "--plan"]) == 1
    assert "migrate stopped: " in capsys.readouterr().err
    assert _snapshot(owner_analytics_uri) == before


def test_a_not_null_column_the_etl_cannot_fill_stops_the_migration(owner_analytics_uri):
    with psycopg.connect(owner_analytics_uri, autocommit=True) as conn:
        conn.execute("ALTER TABLE conversations_analytics ADD COLUMN owner_note text NOT NULL DEFAULT 'x'")
        conn.execute("ALTER TABLE conversations_analytics ALTER COLUMN owner_note DROP DEFAULT")
    with pytest.raises(MigrationError, match="conversations_analytics.owner_note: a NOT NULL column without a default"):
        _migrate(owner_analytics_uri)


def test_duplicates_the_key_forbids_stop_the_migration_naming_them(owner_analytics_uri):
    with psycopg.connect(owner_analytics_uri, autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (7, 'Other', 'other')")
        conn.execute("INSERT INTO conversations_analytics (tenant_id, conversation_id) VALUES (1, 501), (7, 501)")
    before = _snapshot(owner_analytics_uri)
    with pytest.raises(MigrationError, match=r"conversation_id\)=\(501\) is duplicated.*Nothing was changed"):
        _migrate(owner_analytics_uri)
    assert _snapshot(owner_analytics_uri) == before


def test_drifted_inbox_ids_are_repaired_and_reported(owner_analytics_uri):
    with psycopg.connect(owner_analytics_uri, autocommit=True) as conn:
        conn.execute("UPDATE tenants SET inbox_ids = '{14,61}' WHERE id = 1")  # what production's docs list
    report = _migrate(owner_analytics_uri)
    assert report.repairs == [
        "tenants.inbox_ids of tenant 1 (allpfit) set to its active mappings: [14, 61] -> [1, 2]"]
    with psycopg.connect(owner_analytics_uri) as conn:
        assert conn.execute("SELECT inbox_ids FROM tenants WHERE id = 1").fetchone()[0] == [1, 2]


def test_a_second_database_of_the_cluster_migrates_with_the_roles_already_there(create_database):
    first, second = create_database("a"), create_database("b")
    assert not _migrate(first).up_to_date and not _migrate(second).up_to_date
    assert _migrate(first).up_to_date and _migrate(second).up_to_date
