"""Row-level security by role, on a fresh database and on the adopted owner's one, from both drivers;
and tenants.inbox_ids kept equal to the active mappings whoever changes them."""

from __future__ import annotations

import psycopg
import psycopg2
import pytest

from chatwoot_etl.admin import migrations

pytestmark = pytest.mark.integration

TABLES = ("conversations_analytics", "tenants", "inbox_tenant_mapping")


@pytest.fixture(params=["fresh", "owner"])
def database(request, create_database) -> str:
    """A migrated database with tenants 1 and 2 (two inboxes and conversations each) besides tenant 0."""
    uri = create_database("rls") if request.param == "fresh" else request.getfixturevalue("owner_analytics_uri")
    with psycopg.connect(uri) as conn:
        migrations.run(conn)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("DELETE FROM inbox_tenant_mapping")
        conn.execute("INSERT INTO tenants (id, name, slug, account_id) VALUES (1, 'A', 'a', 11) ON CONFLICT (id) DO NOTHING")
        conn.execute("INSERT INTO tenants (id, name, slug, account_id) VALUES (2, 'B', 'b', 12)")
        conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (101, 1), (102, 1), (201, 2), (202, 2)")
        conn.execute("INSERT INTO conversations_analytics (tenant_id, conversation_id, inbox_id) "
                     "VALUES (1, 1, 101), (1, 2, 102), (2, 3, 201), (2, 4, 202)")
    return uri


def _visible_psycopg3(uri: str, role: str, setting: str | None) -> dict[str, list[int]]:
    with psycopg.connect(uri) as conn:
        conn.execute(f"SET ROLE {role}")
        if setting is not None:
            conn.execute("SELECT set_config('app.current_tenant_id', %s, false)", (setting,))
        return _visible(conn.cursor())


def _visible_psycopg2(uri: str, role: str, setting: str | None, *, use_set: bool) -> dict[str, list[int]]:
    conn = psycopg2.connect(uri)
    try:
        cur = conn.cursor()
        cur.execute(f"SET ROLE {role}")
        if setting is not None:
            if use_set:  # the dashboards' own statement: psycopg2 binds on the client side
                cur.execute("SET app.current_tenant_id = %s", (setting,))
            else:
                cur.execute("SELECT set_config('app.current_tenant_id', %s, false)", (setting,))
        return _visible(cur)
    finally:
        conn.close()


def _visible(cur) -> dict[str, list[int]]:
    out = {}
    for table in TABLES:
        cur.execute(f"SELECT DISTINCT {'id' if table == 'tenants' else 'tenant_id'} FROM {table} ORDER BY 1")
        out[table] = [row[0] for row in cur.fetchall()]
    return out


OWN_TENANT = {"conversations_analytics": [1], "tenants": [1], "inbox_tenant_mapping": [1]}
NOTHING = {"conversations_analytics": [], "tenants": [], "inbox_tenant_mapping": []}
# Tenant 0 is a tenant like any other for a client: its own row of tenants, no conversation.
TENANT_ZERO = {"conversations_analytics": [], "tenants": [0], "inbox_tenant_mapping": []}


@pytest.mark.parametrize(
    "setting, expected",
    [("1", OWN_TENANT), (" 1 ", OWN_TENANT), ("2", {k: [2] for k in TABLES}),
     ("0", TENANT_ZERO), ("00", TENANT_ZERO), (" 0", TENANT_ZERO), ("0 ", TENANT_ZERO),
     (None, NOTHING), ("", NOTHING), ("abc", NOTHING), ("1; DROP TABLE tenants", NOTHING), ("99999999999", NOTHING),
     ("-1", NOTHING), ("99", NOTHING)],
)
def test_a_client_sees_exactly_its_tenant_from_either_driver(database, setting, expected):
    assert _visible_psycopg3(database, "authenticated_users", setting) == expected
    assert _visible_psycopg2(database, "authenticated_users", setting, use_set=False) == expected


def test_the_dashboards_set_statement_through_psycopg2(database):
    assert _visible_psycopg2(database, "authenticated_users", "1", use_set=True) == OWN_TENANT
    with pytest.raises(psycopg.errors.SyntaxError):  # why set_config(): SET takes no server-side parameter
        with psycopg.connect(database) as conn:
            conn.execute("SET app.current_tenant_id = %s", ("1",))


@pytest.mark.parametrize("setting", [None, "1", "abc"])
def test_an_admin_sees_every_row_whatever_the_setting(database, setting):
    assert _visible_psycopg3(database, "admin_users", setting) == {
        "conversations_analytics": [1, 2], "tenants": [0, 1, 2], "inbox_tenant_mapping": [1, 2]}


@pytest.mark.parametrize("statement", [
    "INSERT INTO conversations_analytics (tenant_id, conversation_id) VALUES (1, 99)",
    "UPDATE conversations_analytics SET status = 1",
    "DELETE FROM conversations_analytics",
    "UPDATE tenants SET lead_rules = '{}'",
    "INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (999, 1)",
    "INSERT INTO etl_control (tenant_id, load_type) VALUES (1, 'full')",
    "SELECT * FROM etl_watermarks",
])
def test_a_client_cannot_write_or_read_the_etls_state(database, statement):
    with psycopg.connect(database) as conn:
        conn.execute("SET ROLE authenticated_users")
        conn.execute("SELECT set_config('app.current_tenant_id', '1', false)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_a_conversation_cannot_be_stored_under_two_tenants(database):
    with psycopg.connect(database, autocommit=True) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO conversations_analytics (tenant_id, conversation_id) VALUES (2, 1)")


def _inbox_ids(conn: psycopg.Connection) -> dict[int, list[int]]:
    return dict(conn.execute("SELECT id, inbox_ids FROM tenants WHERE id IN (1, 2)").fetchall())


def test_inbox_ids_follow_every_change_of_the_mapping(database):
    with psycopg.connect(database, autocommit=True) as conn:
        assert _inbox_ids(conn) == {1: [101, 102], 2: [201, 202]}
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = 1 WHERE inbox_id = 201")     # a move
        assert _inbox_ids(conn) == {1: [101, 102, 201], 2: [202]}
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE inbox_id = 101")  # deactivated
        conn.execute("UPDATE inbox_tenant_mapping SET is_active = NULL WHERE inbox_id = 102")   # not active either
        assert _inbox_ids(conn) == {1: [201], 2: [202]}
        conn.execute("DELETE FROM inbox_tenant_mapping WHERE inbox_id = 202")
        assert _inbox_ids(conn) == {1: [201], 2: []}
        conn.execute("UPDATE tenants SET inbox_ids = '{5,6}' WHERE id = 2")  # typed by hand: the mapping wins
        assert _inbox_ids(conn) == {1: [201], 2: []}
        with conn.transaction():  # inside one transaction, as it happens
            conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (203, 2)")
            assert _inbox_ids(conn) == {1: [201], 2: [203]}


def test_an_admin_changing_the_mapping_keeps_inbox_ids_and_the_audit(database):
    with psycopg.connect(database) as conn:
        conn.execute("SET ROLE admin_users")
        conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = 2 WHERE inbox_id = 101")
        conn.execute("RESET ROLE")
        assert _inbox_ids(conn) == {1: [102], 2: [101, 201, 202]}
        action = conn.execute("SELECT action, changed_by FROM inbox_mapping_audit ORDER BY id DESC LIMIT 1").fetchone()
        assert action[0] == "move"
