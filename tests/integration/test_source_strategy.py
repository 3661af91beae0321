"""Reading the deployed view's rows from Chatwoot's base tables: equal on every column, chosen only
where it is proven so, the view otherwise; and every value the source sends kept exactly."""

from __future__ import annotations

import concurrent.futures
import threading

import psycopg
import pytest

from chatwoot_etl import contract
from chatwoot_etl.localdev import seed
from chatwoot_etl.sync import engine, strategy
from chatwoot_etl.sync.window import SyncOptions
from tests.fixtures.pipeline import assert_target_equals_source, control_row, tenant_inboxes

pytestmark = pytest.mark.integration

VIEW = contract.SOURCE_VIEW


def _snapshot(uri: str) -> psycopg.Connection:
    conn = psycopg.connect(uri)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _whole_source_check(uri: str) -> strategy.Check:
    with _snapshot(uri) as src:
        ids = [row[0] for row in src.execute("SELECT id FROM conversations")]
        return strategy.compare_rows(strategy.sample_rows(src, strategy.VIEW, ids),
                                     strategy.sample_rows(src, strategy.BASE_TABLES, ids))


def _add_awkward_values(admin_uri: str) -> None:
    """Texts that look like nothing but are values, an empty string beside a NULL, a conversation
    emptied of its messages."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute("UPDATE contacts SET name = 'nan' WHERE id = (SELECT min(id) FROM contacts)")
        conn.execute("UPDATE contacts SET name = '' WHERE id = (SELECT min(id) + 1 FROM contacts)")
        conn.execute("UPDATE contacts SET identifier = 'null', email = NULL WHERE id = (SELECT min(id) + 2 FROM contacts)")
        conn.execute("UPDATE contacts SET phone_number = ' ' WHERE id = (SELECT min(id) + 3 FROM contacts)")
        conn.execute("UPDATE conversations SET updated_at = updated_at + interval '1 second' "
                     "WHERE contact_id IN (SELECT min(id) + k FROM contacts, generate_series(0, 3) k GROUP BY k)")


def test_base_table_query_equals_the_view_on_every_contract_column(source_db):
    _add_awkward_values(source_db.admin_uri)
    with psycopg.connect(source_db.admin_uri, autocommit=True) as conn:
        seed.add_activity(conn, touch_fraction=0.05, new_conversations=20, seed=5)
        conversations = conn.execute("SELECT count(*) FROM conversations").fetchone()[0]
        silent = conn.execute(f"SELECT count(*) FROM {VIEW} WHERE message_compiled IS NULL").fetchone()[0]
    check = _whole_source_check(source_db.reader_uri)
    assert check.equal, check.detail
    assert check.rows_compared > conversations  # the two-CSAT duplicate rows were compared too
    assert silent > 0                           # and conversations without messages


def test_a_difference_is_named_by_conversation_and_column(source_db):
    with psycopg.connect(source_db.admin_uri, autocommit=True) as conn:
        definition = conn.execute("SELECT pg_get_viewdef('vw_csat_base'::regclass)").fetchone()[0]
        conn.execute("CREATE OR REPLACE VIEW vw_csat_base AS " + definition.replace("'Promotor'", "'Promoter'"))
    check = _whole_source_check(source_db.reader_uri)
    assert not check.equal
    assert "csat_nps_category is 'Promoter' in the view, 'Promotor' from the base tables" in check.detail


def _plan(env) -> strategy.SourcePlan:
    with _snapshot(env.source_reader_uri) as src, env.analytics() as analytics:
        return strategy.choose(src, analytics)


def _checks(env) -> list[tuple]:
    with env.analytics() as conn:
        return conn.execute("SELECT view_fingerprint, equal, rows_compared FROM etl_source_checks ORDER BY id").fetchall()


def test_sync_reads_the_base_tables_and_one_check_serves_every_tenant(env):
    plan = _plan(env)
    assert plan.strategy == strategy.BASE_TABLES, plan.reason
    for tenant in env.tenant_ids:
        result = engine.sync_tenant(tenant, SyncOptions(chunk_size=300))
        row = control_row(env, result.execution_id)
        assert row["source_strategy"] == "base_tables"
        assert row["error_details"]["source"]["strategy"] == "base_tables"
        assert_target_equals_source(env, tenant)
    checks = _checks(env)
    assert len(checks) == 1 and checks[0][1] is True and checks[0][2] > 200
    assert checks[0][0] == plan.fingerprint


def test_runs_starting_together_share_one_check(env):
    """Four runs choosing at once: one samples the view under the advisory lock, the others wait
    and read its record; one check row, every plan the same."""
    barrier = threading.Barrier(4)

    def choose() -> strategy.SourcePlan:
        with _snapshot(env.source_reader_uri) as src, psycopg.connect(env.analytics_uri, autocommit=True) as analytics:
            barrier.wait(timeout=30)
            return strategy.choose(src, analytics)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        plans = list(pool.map(lambda _: choose(), range(4)))
    assert {(p.strategy, p.fingerprint) for p in plans} == {(strategy.BASE_TABLES, plans[0].fingerprint)}
    assert len(_checks(env)) == 1


def test_a_changed_view_definition_is_checked_again_and_falls_back_to_the_view(env):
    assert _plan(env).strategy == strategy.BASE_TABLES
    with env.source() as conn:
        definition = conn.execute("SELECT pg_get_viewdef('vw_conversation_metrics_complete'::regclass)").fetchone()[0]
        conn.execute("CREATE OR REPLACE VIEW vw_conversation_metrics_complete AS "
                     + definition.replace("'Urgent'", "'Urgente'").replace("'None'", "'Sem prioridade'"))
    plan = _plan(env)
    assert plan.strategy == strategy.VIEW
    assert "priority_label is 'Sem prioridade' in the view, 'None' from the base tables" in plan.reason
    tenant = env.tenant_ids[0]
    result = engine.sync_tenant(tenant)
    assert control_row(env, result.execution_id)["source_strategy"] == "view"
    with env.analytics() as conn:
        labels = {r[0] for r in conn.execute(
            "SELECT DISTINCT priority_label FROM conversations_analytics WHERE tenant_id = %s", (tenant,))}
    assert "Sem prioridade" in labels  # what the view says is what is loaded
    assert [c[1] for c in _checks(env)] == [True, False]


def test_unreadable_base_tables_mean_the_view(env):
    with env.source() as conn:
        conn.execute("REVOKE SELECT ON messages FROM chatwoot_reader")
    plan = _plan(env)
    assert plan.strategy == strategy.VIEW and "cannot read the base table(s) messages" in plan.reason
    tenant = env.tenant_ids[0]
    result = engine.sync_tenant(tenant)
    row = control_row(env, result.execution_id)
    assert row["source_strategy"] == "view" and "messages" in row["error_details"]["source"]["reason"]
    assert_target_equals_source(env, tenant)
    assert _checks(env) == []  # nothing to check when the base tables cannot be read


def test_both_strategies_load_identical_rows(env, monkeypatch):
    tenant = env.tenant_ids[0]
    first = engine.sync_tenant(tenant)
    assert control_row(env, first.execution_id)["source_strategy"] == "base_tables"
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_STRATEGY", "view")
    again = engine.sync_tenant(tenant, SyncOptions(mode="full_refresh"))
    assert control_row(env, again.execution_id)["source_strategy"] == "view"
    # every compared column of every row is the same whichever relation was read
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    assert again.unchanged == first.inserted > 0


def _view_rows(env, tenant: int) -> dict[int, dict]:
    """What the view says about each of the tenant's conversations (its latest CSAT answer)."""
    with env.source() as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        rows = cur.execute(
            f"SELECT DISTINCT ON (conversation_id) * FROM {VIEW} WHERE inbox_id = ANY(%s) "
            "ORDER BY conversation_id, csat_created_at DESC NULLS LAST, csat_response_id DESC NULLS LAST",
            (tenant_inboxes(env, tenant),)).fetchall()
    return {row["conversation_id"]: row for row in rows}


# Read from the view at another instant than the load: they move with the clock, not the row.
_CLOCK_COLUMNS = {"is_snoozed", "is_waiting_long"}


def test_every_value_is_kept_exactly(env):
    _add_awkward_values(env.source_admin_uri)
    for tenant in env.tenant_ids:
        engine.sync_tenant(tenant)
    differing: list[str] = []
    nones = silent = empty_names = 0
    for tenant in env.tenant_ids:
        expected = _view_rows(env, tenant)
        with env.analytics() as conn:
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            stored = {row["conversation_id"]: row for row in cur.execute(
                "SELECT * FROM conversations_analytics WHERE tenant_id = %s", (tenant,))}
        assert stored.keys() == expected.keys()
        for conversation_id, view_row in expected.items():
            row = stored[conversation_id]
            for column in contract.SOURCE_COLUMNS.keys() - _CLOCK_COLUMNS:
                if view_row[column] != row[column]:
                    differing.append(f"{conversation_id}.{column}: {view_row[column]!r} != {row[column]!r}")
            nones += row["priority_label"] == "None"
            silent += row["message_compiled"] is None and row["t_messages"] is None
            empty_names += row["contact_name"] == ""
    assert not differing, differing[:5]
    assert nones > 0 and silent > 0 and empty_names > 0
    with env.analytics() as conn:
        kept = dict(conn.execute(
            "SELECT contact_name, count(*) FROM conversations_analytics WHERE contact_name IN ('nan', '') "
            "GROUP BY 1").fetchall())
        identifier = conn.execute(
            "SELECT count(*) FROM conversations_analytics WHERE contact_identifier = 'null' AND contact_email IS NULL"
        ).fetchone()[0]
    assert kept.get("nan", 0) > 0 and kept.get("", 0) > 0 and identifier > 0


def test_the_single_file_view_is_read_as_is(env):
    """The owner's 118-column single-file form: accepted by the contract, and read through the view
    because its 7-key message_compiled objects are not what the base-table query builds."""
    with env.source() as conn:
        seed.apply_schema(conn, view="single")
        columns = conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", (VIEW,)).fetchone()[0]
        keys = conn.execute(
            f"SELECT jsonb_object_keys(message_compiled -> 0) FROM {VIEW} WHERE message_compiled IS NOT NULL "
            "LIMIT 7").fetchall()
    assert columns == 118 and len(keys) == 7
    plan = _plan(env)
    assert plan.strategy == strategy.VIEW and "message_compiled" in plan.reason
    tenant = env.tenant_ids[0]
    result = engine.sync_tenant(tenant)
    assert result.status == "success" and control_row(env, result.execution_id)["source_strategy"] == "view"
    assert_target_equals_source(env, tenant)
