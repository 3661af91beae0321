"""The owner's database after adoption and a sync, read the way the owner's dashboards read it.

The dashboards connect with SQLAlchemy over psycopg2 (client-side binding), SET ROLE to
authenticated_users or admin_users, select the tenant with app.current_tenant_id and keep the
database's TimeZone (America/Sao_Paulo). The queries below have the shape of theirs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import psycopg
import pytest
import sqlalchemy
from sqlalchemy import text

from chatwoot_etl import contract
from chatwoot_etl.admin import migrations
from chatwoot_etl.sync import engine
from chatwoot_etl.sync.window import SyncOptions
from tests.fixtures.pipeline import Env, assert_target_equals_source

pytestmark = pytest.mark.integration

ALLPFIT = 1
CLIENT_LOAD = text("""
    SELECT id, conversation_id, display_id, contact_name, contact_phone, contact_email, inbox_id, inbox_name,
           DATE(conversation_created_at) AS conversation_date_shown, conversation_date, status, t_messages,
           user_messages_count, contact_messages_count, is_lead, visit_scheduled, crm_converted,
           ai_probability_label, ai_probability_score
    FROM conversations_analytics
    WHERE conversation_date BETWEEN :start AND :end
      AND (CAST(:inbox AS integer) IS NULL OR inbox_id = :inbox)
      AND status = ANY(:statuses)
    ORDER BY conversation_date DESC, id DESC
""")


def _sqlalchemy(uri: str) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(uri.replace("postgresql://", "postgresql+psycopg2://", 1), poolclass=sqlalchemy.NullPool)


def _as_client(connection: sqlalchemy.Connection, tenant_id: int) -> None:
    """What the dashboards' middleware runs per request (SET with a client-side bound value)."""
    connection.execute(text("SET ROLE authenticated_users"))
    connection.execute(text("SET app.current_tenant_id = :tid"), {"tid": tenant_id})
    connection.execute(text("SET app.current_user_id = :uid"), {"uid": 4})


def _sync_all(env) -> None:
    for tenant in env.tenant_ids:
        result = engine.sync_tenant(tenant)
        assert result.status == "success", result.message


def test_adopted_allpfit_syncs_equal_to_the_source_and_the_owners_rows_stay(owner_env):
    env = owner_env
    assert env.tenant_ids[0] == ALLPFIT  # account 1 adopted, not duplicated
    with env.analytics() as conn:
        users_before = conn.execute("SELECT users::text FROM users ORDER BY id").fetchall()
        mapping_before = conn.execute(
            "SELECT inbox_id, tenant_id, inbox_name, channel_type, created_at FROM inbox_tenant_mapping "
            "WHERE inbox_id IN (1, 2) ORDER BY 1").fetchall()
    _sync_all(env)
    for tenant in env.tenant_ids:
        assert_target_equals_source(env, tenant)
    with env.analytics() as conn:
        assert conn.execute("SELECT users::text FROM users ORDER BY id").fetchall() == users_before
        assert conn.execute(
            "SELECT inbox_id, tenant_id, inbox_name, channel_type, created_at FROM inbox_tenant_mapping "
            "WHERE inbox_id IN (1, 2) ORDER BY 1").fetchall() == mapping_before
        registry = conn.execute(
            "SELECT t.id, t.inbox_ids, array_agg(m.inbox_id ORDER BY m.inbox_id) FROM tenants t "
            "JOIN inbox_tenant_mapping m ON m.tenant_id = t.id AND m.is_active GROUP BY t.id ORDER BY 1").fetchall()
        assert registry and all(inbox_ids == active for _, inbox_ids, active in registry)
        run = conn.execute(
            "SELECT load_type, is_full_load, source_system, target_table, etl_version, duration_seconds, status, "
            "started_at <= finished_at FROM etl_control WHERE tenant_id = %s ORDER BY id DESC LIMIT 1",
            (ALLPFIT,)).fetchone()
    assert run[2:5] == ("chatwoot", "conversations_analytics", "0.1.0") and run[6] == "success" and run[7]
    assert isinstance(run[5], int)


def test_client_dashboard_reads_its_own_tenant_through_psycopg2(owner_env):
    env = owner_env
    _sync_all(env)
    with env.analytics() as conn:
        start, end, total, others = conn.execute(
            "SELECT min(conversation_date), max(conversation_date), "
            "count(*) FILTER (WHERE tenant_id = %s AND status IN (0, 1, 2)), "
            "count(*) FILTER (WHERE tenant_id <> %s) FROM conversations_analytics", (ALLPFIT, ALLPFIT)).fetchone()
    assert total > 0 and others > 0
    with _sqlalchemy(env.analytics_uri).connect() as connection:
        _as_client(connection, ALLPFIT)
        assert connection.execute(text("SHOW TimeZone")).scalar() == "America/Sao_Paulo"
        tenant = connection.execute(text(
            "SELECT name, slug, inbox_ids, plan, status, account_id FROM tenants WHERE id = :tid AND deleted_at IS NULL"),
            {"tid": ALLPFIT}).all()
        assert tenant == [("AllpFit CrossFit", "allpfit", [1, 2], "pro", "active", 1)]
        assert connection.execute(text("SELECT count(*) FROM tenants")).scalar() == 1
        inboxes = connection.execute(text(
            "SELECT inbox_id, inbox_name FROM inbox_tenant_mapping WHERE tenant_id = :tid AND is_active ORDER BY 1"),
            {"tid": ALLPFIT}).all()
        assert [i for i, _ in inboxes] == [1, 2]
        everything = {"start": start, "end": end, "inbox": None, "statuses": [0, 1, 2]}
        rows = connection.execute(CLIENT_LOAD, everything).mappings().all()
        one_inbox = connection.execute(CLIENT_LOAD, {"start": start, "end": end, "inbox": 1, "statuses": [0, 2]}).all()
        last_30 = connection.execute(CLIENT_LOAD, {"start": end - dt.timedelta(days=30), "end": end, "inbox": None,
                                                    "statuses": [0, 1, 2]}).all()
        assert connection.execute(text("SELECT count(*) FROM conversations_analytics WHERE tenant_id <> :tid"),
                                  {"tid": ALLPFIT}).scalar() == 0
    assert len(rows) == total and 0 < len(one_inbox) < total and 0 < len(last_30) <= total
    assert {r["inbox_id"] for r in rows} <= {1, 2} and all(r["id"] is not None for r in rows)
    leads = sum(r["is_lead"] for r in rows)
    visits = sum(r["visit_scheduled"] for r in rows)
    assert 0 < visits < leads < len(rows)
    assert {r["ai_probability_label"] for r in rows} <= set(contract.LEAD_LABELS)
    assert {r["ai_probability_label"] for r in rows} >= {"Alto", "Baixo"}
    assert all(0 <= r["ai_probability_score"] <= 100 for r in rows)
    assert {r["status"] for r in rows} <= {0, 1, 2}
    # Date shown (UTC date of the naive UTC instant) vs date filtered (São Paulo calendar): the
    # documented rule, the same day or the UTC date one day later (created 21:00-24:00 local time).
    gaps = {(r["conversation_date_shown"] - r["conversation_date"]).days for r in rows}
    assert gaps <= {0, 1} and 0 in gaps


def test_the_date_rule_holds_on_every_row(owner_env):
    env = owner_env
    _sync_all(env)
    with env.analytics() as conn:
        broken = conn.execute(
            "SELECT count(*) FROM conversations_analytics c JOIN tenants t ON t.id = c.tenant_id "
            "WHERE c.conversation_date IS DISTINCT FROM "
            "      ((c.conversation_created_at AT TIME ZONE 'UTC') AT TIME ZONE t.timezone)::date "
            "   OR c.conversation_timezone IS DISTINCT FROM t.timezone").fetchone()[0]
    assert broken == 0


def test_admin_panel_reads_every_tenant(owner_env):
    env = owner_env
    _sync_all(env)
    with _sqlalchemy(env.analytics_uri).connect() as connection:
        connection.execute(text("SET ROLE admin_users"))
        connection.execute(text("SET app.current_tenant_id = :tid"), {"tid": 0})
        tenants = connection.execute(text("""
            SELECT t.id, t.name, t.slug, t.inbox_ids, t.plan, t.status,
                   (SELECT count(*) FROM conversations_analytics c WHERE c.tenant_id = t.id) AS conversations,
                   (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.deleted_at IS NULL) AS users,
                   (SELECT max(c.etl_updated_at) FROM conversations_analytics c WHERE c.tenant_id = t.id) AS last_sync
            FROM tenants t WHERE t.deleted_at IS NULL ORDER BY t.id""")).mappings().all()
        totals = connection.execute(text("""
            SELECT (SELECT count(*) FROM tenants WHERE deleted_at IS NULL AND id <> 0),
                   count(*), count(DISTINCT contact_id), count(*) FILTER (WHERE is_resolved)
            FROM conversations_analytics""")).one()
    by_id = {t["id"]: t for t in tenants}
    assert by_id[0]["conversations"] == 0 and by_id[0]["users"] == 2
    assert by_id[ALLPFIT]["users"] == 2 and by_id[ALLPFIT]["conversations"] > 0
    synced = [t for t in tenants if t["id"] in env.tenant_ids]
    assert all(t["conversations"] > 0 and t["last_sync"] is not None for t in synced)
    # last sync is naive UTC: within a few minutes of now in UTC (the panel shows it minus 3 hours)
    now_utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert all(abs((now_utc - t["last_sync"]).total_seconds()) < 600 for t in synced)
    assert totals[0] == len(env.tenant_ids) and totals[1] == sum(t["conversations"] for t in tenants)
    assert 0 < totals[3] < totals[1]


def test_rows_of_the_previous_etl_are_repaired_by_the_first_sync(owner_env):
    """The owner's table already holds AllpFit rows the old ETL wrote: UTC calendar, its own lead flags
    and labels. The first sync rewrites them in place (ids kept); the second changes nothing."""
    env = owner_env
    with env.source() as src:
        conversations = [r[0] for r in src.execute(
            "SELECT DISTINCT conversation_id FROM vw_conversations_analytics_final WHERE inbox_id IN (1, 2) "
            "ORDER BY 1 LIMIT 50")]
    with env.analytics() as conn:
        conn.execute(
            "INSERT INTO conversations_analytics (tenant_id, conversation_id, inbox_id, conversation_date, "
            "  conversation_created_at, is_lead, ai_probability_label, ai_probability_score, etl_updated_at) "
            "SELECT 1, c, 1, DATE '2025-01-01', TIMESTAMP '2025-01-01 01:00', true, 'alta', 0.9, "
            "       TIMESTAMP '2025-11-01 00:00' FROM unnest(%s::int[]) AS c", (conversations,))
        legacy_ids = dict(conn.execute("SELECT conversation_id, id FROM conversations_analytics").fetchall())
    first = engine.sync_tenant(ALLPFIT)
    assert first.status == "success" and first.updated == len(conversations)
    assert_target_equals_source(env, ALLPFIT)
    with env.analytics() as conn:
        rows = conn.execute(
            "SELECT conversation_id, id, ai_probability_label, conversation_date, etl_updated_at "
            "FROM conversations_analytics WHERE conversation_id = ANY(%s)", (conversations,)).fetchall()
    assert {cid: rid for cid, rid, *_ in rows} == legacy_ids  # the same rows, rewritten in place
    assert all(label in contract.LEAD_LABELS for _, _, label, _, _ in rows)
    assert all(day != dt.date(2025, 1, 1) and stamp > dt.datetime(2025, 11, 1) for *_, day, stamp in rows)
    # The owner's etl_updated_at trigger next to the upsert: exact counts, nothing rewritten again.
    second = engine.sync_tenant(ALLPFIT, SyncOptions(mode="full_refresh"))
    assert second.status == "success" and (second.inserted, second.updated) == (0, 0)
    assert second.unchanged == second.extracted - second.failed > 0
    with env.analytics() as conn:
        again = dict(conn.execute("SELECT conversation_id, etl_updated_at FROM conversations_analytics "
                                  "WHERE conversation_id = ANY(%s)", (conversations,)).fetchall())
    assert again == {cid: stamp for cid, _, _, _, stamp in rows}


@pytest.fixture
def etl_login(owner_env):
    """A login role of the ETL: a member of etl_service and nothing else."""
    name = f"cwtest_etl_{uuid.uuid4().hex[:8]}"
    with env_admin(owner_env) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN IN ROLE etl_service')
    yield name
    with env_admin(owner_env) as conn:
        conn.execute(f'DROP OWNED BY "{name}"')
        conn.execute(f'DROP ROLE "{name}"')


def env_admin(env) -> psycopg.Connection:
    return psycopg.connect(env.analytics_uri, autocommit=True)


def test_the_etl_runs_with_exactly_the_etl_service_grants(owner_env, etl_login, conn_env):
    env = owner_env
    login_uri = env.analytics_uri.replace("postgresql://postgres@", f"postgresql://{etl_login}@", 1)
    conn_env(analytics=login_uri)
    _sync_all(env)
    again = engine.sync_tenant(ALLPFIT, SyncOptions(mode="full_refresh"))
    assert again.status == "success" and again.unchanged > 0
    for tenant in env.tenant_ids:
        assert_target_equals_source(env, tenant)
    with psycopg.connect(login_uri, autocommit=True) as conn:
        # It reads every tenant's registry (no tenant set) ...
        assert conn.execute("SELECT count(*) FROM tenants").fetchone()[0] == len(env.tenant_ids) + 1
        assert conn.execute("SELECT count(*) FROM inbox_tenant_mapping").fetchone()[0] >= 6
        # ... and nothing it does not need.
        for statement in ("SELECT count(*) FROM users", "SELECT count(*) FROM sessions",
                          "UPDATE tenants SET plan = 'pro'", "DELETE FROM inbox_tenant_mapping",
                          "SELECT count(*) FROM tenant_configs"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_migrate_after_the_sync_is_a_no_op(owner_env):
    _sync_all(owner_env)
    with psycopg.connect(owner_env.analytics_uri) as conn:
        assert migrations.run(conn).up_to_date


def test_a_new_user_adopts_the_owners_database_through_the_cli(owner_analytics_uri, source_db, airflow_metadata_uri):
    """The first day on production, as an operator would do it: plan, migrate, adopt AllpFit, add a
    second client, map its inboxes, sync everything."""
    env = Env(owner_analytics_uri, source_db.admin_uri, source_db.reader_uri, [])

    def cli(*args: str) -> str:
        done = env.run_cli(*args, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_metadata_uri)
        assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
        return done.stdout

    plan = cli("migrate", "--plan")
    assert "migrate --plan: what migrate would change" in plan and "+ table etl_watermarks: created (" in plan
    assert "+ policy inbox_tenant_mapping.inbox_tenant_mapping_etl_read" in plan
    cli("migrate")
    assert "nothing to change: the database is up to date" in cli("migrate")
    adopted = json.loads(cli("tenants", "adopt", "--account-id", "1", "--json"))
    assert (adopted["id"], adopted["slug"], adopted["plan"]) == (ALLPFIT, "allpfit", "pro")
    added = json.loads(cli("tenants", "add", "--name", "Clínica Sorriso", "--slug", "clinica-sorriso",
                           "--account-id", "2", "--json"))
    assert added["adopted"] is False and added["plan"] == "basic"
    cli("inboxes", "discover", "--tenant", "clinica-sorriso", "--apply")
    listed = {t["slug"]: t for t in json.loads(cli("tenants", "list", "--json"))}
    assert listed["clinica-sorriso"]["inbox_ids"] == [3, 4] and listed["allpfit"]["inbox_ids"] == [1, 2]
    cli("sync", "--all")
    for tenant in (ALLPFIT, added["id"]):
        assert_target_equals_source(env, tenant)


@pytest.mark.parametrize("status, synced", [("suspended", False), ("cancelled", False), ("trial", True), (None, True)])
def test_the_owners_tenant_status_decides_whether_it_syncs(owner_env, status, synced):
    from chatwoot_etl.errors import ConfigurationError
    from chatwoot_etl.sync import runs

    with owner_env.analytics() as conn:
        conn.execute("UPDATE tenants SET status = %s WHERE id = %s", (status, ALLPFIT))
        assert (ALLPFIT in runs.syncable_tenants(conn)) is synced
    if synced:  # NULL is the column's default: active
        assert engine.sync_tenant(ALLPFIT).status == "success"
    else:
        with pytest.raises(ConfigurationError, match=f"tenant 1 \\(allpfit\\) is {status} in tenants.status"):
            engine.sync_tenant(ALLPFIT)
