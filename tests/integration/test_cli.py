"""chatwoot-etl's sync and status commands, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def test_sync_all_then_status_shows_each_tenant(env):
    done = env.run_cli("sync", "--all")
    assert done.returncode == 0, done.stderr[-2000:]
    for tenant in env.tenant_ids:
        assert f"\n{tenant} " in done.stdout
    assert "event=run_finished" in done.stderr and "event=chunk_committed" in done.stderr
    with env.analytics() as conn:  # timestamptz values then arrive in UTC-3: the lag must not move
        conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), "
                     "'America/Sao_Paulo'); END $$")
    status = env.run_cli("status", "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    rows = {row["tenant"]: row for row in json.loads(status.stdout)}
    with env.analytics() as conn:
        counts = dict(conn.execute("SELECT tenant_id, count(*) FROM conversations_analytics GROUP BY 1").fetchall())
    for tenant in env.tenant_ids:
        row = rows[tenant]
        assert row["result"] == "success" and row["rows"] == counts[tenant] > 0
        assert row["watermark"] and row["lag"] == "0:00:00"  # nothing changed in the source since
    table = env.run_cli("status")
    assert table.returncode == 0 and "watermark" in table.stdout.splitlines()[0]


def test_full_refresh_and_window_from_the_cli(env):
    tenant = str(env.tenant_ids[0])
    assert env.run_cli("sync", "--tenant", tenant).returncode == 0
    full = env.run_cli("sync", "--tenant", tenant, "--full-refresh")
    assert full.returncode == 0 and " full_refresh " in full.stdout
    window = env.run_cli("sync", "--tenant", tenant, "--since", "2026-09-01T00:00:00Z", "--until", "2026-10-01T00:00:00Z")
    assert window.returncode == 0 and " window " in window.stdout
    with env.analytics() as conn:
        load_types = [r[0] for r in conn.execute(
            "SELECT load_type FROM etl_control WHERE tenant_id = %s ORDER BY started_at", (int(tenant),))]
    assert load_types == ["incremental", "full", "window"]


@pytest.mark.parametrize("args, message", [
    (["sync", "--tenant", "1", "--since", "2026-09-01T00:00:00"], "has no time zone"),
    (["sync", "--tenant", "1", "--until", "2026-09-01T00:00:00Z"], "--until needs --since"),
    (["sync", "--tenant", "1", "--full-refresh", "--since", "2026-09-01T00:00:00Z"], "not allowed with"),
    (["sync", "--tenant", "1", "--chunk-size", "0"], "positive"),
    (["sync", "--tenant", "424242"], "tenant 424242 does not exist"),
])
def test_bad_input_exits_1_with_a_clear_message(env, args, message):
    done = env.run_cli(*args)
    assert done.returncode == 1
    assert message in done.stderr
