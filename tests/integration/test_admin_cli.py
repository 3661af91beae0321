"""Tenant and inbox administration against real PostgreSQL: every command, every bad input,
concurrent `map` calls, and the effect of a mapping change on the next sync."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from chatwoot_etl.admin import mappings
from chatwoot_etl.admin.mappings import AdminError
from chatwoot_etl.cli.parser import build_parser
from chatwoot_etl.sync import engine
from chatwoot_etl.sync.window import SyncOptions

pytestmark = pytest.mark.integration


def run(env, *args: str) -> subprocess.CompletedProcess:
    """`chatwoot-etl ARGS` in this process (the CLI's parser, dispatch and output; conn ids from `env`).

    Each command in a subprocess costs an interpreter and an Airflow import; the entry point itself is
    covered by the subprocess tests at the end of this module.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parsed = build_parser().parse_args(list(args))
            code = parsed.func(parsed)  # the command's handler, behind its error boundary
        except SystemExit as exc:  # usage errors
            code = exc.code
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    return result


def ok_json(env, *args: str):
    return json.loads(ok(run(env, *args, "--json")).stdout)


def fails(env, *args: str, expect: str) -> subprocess.CompletedProcess:
    """The command exits 1 and its last stderr line is the error naming the problem."""
    result = run(env, *args)
    assert result.returncode == 1, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr[-2000:]}"
    last = result.stderr.strip().splitlines()[-1]
    assert expect in last, last
    assert "Traceback" not in result.stderr
    return result


def mapping(env, inbox_id: int):
    with env.analytics() as conn:
        return conn.execute("SELECT tenant_id, is_active, mapped_by FROM inbox_tenant_mapping WHERE inbox_id = %s",
                            (inbox_id,)).fetchone()


def inboxes_of(env, tenant_id: int) -> list[int]:
    with env.analytics() as conn:
        return [r[0] for r in conn.execute(
            "SELECT inbox_id FROM inbox_tenant_mapping WHERE tenant_id = %s AND is_active ORDER BY 1", (tenant_id,))]


def audit(env, inbox_id: int) -> list[tuple]:
    with env.analytics() as conn:
        return conn.execute("SELECT action, changed_by, from_tenant_id, to_tenant_id, to_active, forced "
                            "FROM inbox_mapping_audit WHERE inbox_id = %s ORDER BY id", (inbox_id,)).fetchall()


def account_of(env, tenant_id: int) -> int:
    with env.analytics() as conn:
        return conn.execute("SELECT account_id FROM tenants WHERE id = %s", (tenant_id,)).fetchone()[0]


def new_source_inbox(env, account_id: int, name: str = "Novo WhatsApp") -> int:
    with env.source() as conn:
        return conn.execute(
            "INSERT INTO inboxes (channel_id, account_id, name, channel_type, created_at, updated_at) "
            "VALUES (99, %s, %s, 'Channel::Whatsapp', now(), now()) RETURNING id", (account_id, name)).fetchone()[0]


def forget_mapping(env, inbox_id: int) -> None:
    """As if the inbox had never been mapped (e.g. created in Chatwoot after the tenant was set up)."""
    with env.analytics() as conn:
        conn.execute("DELETE FROM inbox_tenant_mapping WHERE inbox_id = %s", (inbox_id,))


def source_conversations(env, inbox_id: int) -> set[int]:
    with env.source() as conn:
        return {r[0] for r in conn.execute("SELECT id FROM conversations WHERE inbox_id = %s", (inbox_id,))}


def stored(env, tenant_id: int, inbox_id: int) -> set[int]:
    with env.analytics() as conn:
        return {r[0] for r in conn.execute(
            "SELECT conversation_id FROM conversations_analytics WHERE tenant_id = %s AND inbox_id = %s",
            (tenant_id, inbox_id))}


# --------------------------------------------------------------------------------------------- source inspect


def test_source_inspect_table_json_and_markdown(env, tmp_path):
    table = ok(run(env, "source", "inspect")).stdout
    assert "contract of vw_conversations_analytics_final: OK - 0 missing, 0 retyped, 16 compatible" in table
    assert "53 extra" in table and "timestamp(6) without time zone" in table
    assert "a sync reads: base_tables - base tables readable and equal to the view on" in table
    assert "least privilege: the source role can change nothing" in table
    assert "per inbox:" in table and "NULLs in the columns the dashboards use:" in table and "round trip" in table

    report = ok_json(env, "source", "inspect")
    with env.source() as conn:
        per_inbox = dict(conn.execute(
            "SELECT inbox_id, count(*) FROM vw_conversations_analytics_final GROUP BY 1").fetchall())
        conversations, accounts = conn.execute(
            "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM accounts)").fetchone()
        nulls = conn.execute("SELECT count(*) - count(contact_email), count(*) FROM vw_conversations_analytics_final"
                             ).fetchone()
        newest = conn.execute("SELECT max(conversation_updated_at) FROM vw_conversations_analytics_final").fetchone()[0]
    assert report["contract"]["ok"] and report["contract"]["missing"] == report["contract"]["retyped"] == []
    assert {r["inbox_id"]: r["view_rows"] for r in report["inboxes"]} == per_inbox
    assert report["totals"]["conversations"] == conversations
    assert report["totals"]["duplicate_rows"] == sum(per_inbox.values()) - conversations > 0  # two-CSAT rows
    assert len(report["accounts"]) == accounts and all(a["account_name"] for a in report["accounts"])
    assert report["totals"]["updated_max"] == newest.isoformat()
    email = next(r for r in report["null_shares"] if r["column"] == "contact_email")
    assert (email["nulls"], email["rows"]) == tuple(nulls) and 0 < email["share"] < 1
    assert report["latency"]["samples"] == 5 and report["latency"]["median_ms"] > 0

    markdown = ok(run(env, "source", "inspect", "--format", "markdown")).stdout
    assert markdown.startswith("# Chatwoot source inspection: `vw_conversations_analytics_final`")
    for heading in ("## Contract", "## Rows", "### Per account", "### Per inbox",
                    "## NULLs in the columns the dashboards use", "## Columns"):
        assert f"\n{heading}\n" in markdown
    assert "| contact_email |" in markdown and "**OK**" in markdown
    path = tmp_path / "source-schema.md"
    written = ok(run(env, "source", "inspect", "--format", "markdown", "--output", str(path)))
    assert written.stdout == "" and path.read_text(encoding="utf-8").startswith("# Chatwoot source inspection")


def test_source_inspect_warns_when_the_source_role_can_write(env):
    with env.source() as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'GRANT TEMPORARY ON DATABASE "{name}" TO chatwoot_reader')
        conn.execute("GRANT INSERT, UPDATE ON messages, conversations TO chatwoot_reader")
        conn.execute("GRANT EXECUTE ON FUNCTION lo_create(oid) TO chatwoot_reader")
    table = ok(run(env, "source", "inspect")).stdout
    assert ("least privilege: WARNING: the source role can create temporary tables; can create large objects; "
            "can write the table(s) conversations, messages (it should only read)") in table
    privileges = ok_json(env, "source", "inspect")["privileges"]
    assert privileges["temporary_tables"] and privileges["writable_tables"] == ["conversations", "messages"]
    assert not privileges["superuser"] and not privileges["create_tables"]


def test_source_inspect_reports_drift_and_exits_1(env, tmp_path):
    env.drift_source_view()
    result = run(env, "source", "inspect", "--json")
    assert result.returncode == 1
    assert "breaks the contract: 1 missing and 1 retyped column(s)" in result.stderr.strip().splitlines()[-1]
    report = json.loads(result.stdout)  # the whole report is still written
    con = report["contract"]
    assert con["missing"] == [{"column": "contact_name", "expected": "text"}]
    assert con["retyped"] == [{"column": "status", "expected": "integer", "found": "text"}]
    assert {"column": "brand_new", "found": "integer"} in con["extra"]
    name = next(r for r in report["null_shares"] if r["column"] == "contact_name")
    assert name["note"] == "missing from the view" and report["totals"]["view_rows"] > 0
    path = tmp_path / "drift.md"
    assert run(env, "source", "inspect", "--format", "markdown", "--output", str(path)).returncode == 1
    text = path.read_text(encoding="utf-8")
    assert "**BROKEN**" in text and "### Missing" in text and "| contact_name | text |" in text
    assert "| status | integer | text |" in text and "### Extra (ignored by the load)" in text

    with env.source() as conn:
        conn.execute("DROP VIEW vw_conversations_analytics_final")
    gone = run(env, "source", "inspect")
    assert gone.returncode == 1 and "the view does not exist" in gone.stderr.strip().splitlines()[-1]
    assert "VIEW MISSING" in gone.stdout


# --------------------------------------------------------------------------------------------- tenants


def test_tenants_list_add_and_set_status(env):
    listed = ok_json(env, "tenants", "list")
    assert [t["id"] for t in listed] == [0, *env.tenant_ids]
    assert all(t["active_inboxes"] == 2 for t in listed if t["id"] != 0)
    assert "demo-1" in ok(run(env, "tenants", "list")).stdout

    with env.source() as conn:
        account = conn.execute("INSERT INTO accounts (name, created_at, updated_at) VALUES ('Loja Nova', now(), now()) "
                               "RETURNING id").fetchone()[0]
    added = ok_json(env, "tenants", "add", "--name", "Loja Nova", "--slug", "loja-nova",
                    "--account-id", str(account), "--timezone", "America/Manaus")
    assert (added["slug"], added["account_id"], added["status"], added["timezone"]) == (
        "loja-nova", account, "active", "America/Manaus")
    table = ok(run(env, "tenants", "add", "--name", "Trial", "--slug", "trial-co", "--account-id", "4242",
                           "--status", "trial", "--force")).stdout
    assert "trial-co" in table and "warning: account 4242 not found in the source; registered by --force" in table

    changed = ok_json(env, "tenants", "set-status", "--tenant", "loja-nova", "--status", "suspended")
    assert (changed["id"], changed["old_status"], changed["status"], changed["changed"]) == (
        added["id"], "active", "suspended", True)
    again = ok(run(env, "tenants", "set-status", "--tenant", str(added["id"]), "--status", "suspended")).stdout
    assert f"note: tenant {added['id']} was already suspended" in again
    assert {t["slug"]: t["status"] for t in ok_json(env, "tenants", "list")}["loja-nova"] == "suspended"
    timed = ok_json(env, "tenants", "set-schedule", "--tenant", "loja-nova", "--schedule", " */30 6-22 * * * ")
    assert (timed["old_schedule"], timed["schedule"], timed["changed"]) == (None, "*/30 6-22 * * *", True)
    assert {t["slug"]: t["sync_schedule"] for t in ok_json(env, "tenants", "list")}["loja-nova"] == "*/30 6-22 * * *"


def test_tenants_bad_input(env):
    first = env.tenant_ids[0]
    account = account_of(env, first)
    fails(env, "tenants", "add", "--name", "X", "--slug", "demo-1", "--account-id", "4242", "--force",
          expect="slug 'demo-1' is already used by tenant")
    # The account's existing tenant is adopted, not duplicated: its name and slug are kept.
    adopted = ok_json(env, "tenants", "add", "--name", "X", "--slug", "x-co", "--account-id", str(account))
    assert (adopted["adopted"], adopted["id"], adopted["slug"]) == (True, first, "demo-1")
    assert "adopted the existing tenant" in adopted["notes"][0] and "were not applied" in adopted["notes"][1]
    again = ok_json(env, "tenants", "adopt", "--account-id", str(account), "--timezone", "America/Manaus")
    assert (again["id"], again["timezone"]) == (first, "America/Manaus")
    fails(env, "tenants", "adopt", "--account-id", "4242", expect="no tenant has account 4242")
    fails(env, "tenants", "add", "--name", "X", "--slug", "x-co", "--account-id", "4242",
          expect="unknown account 4242: the source has no Chatwoot account with that id")
    fails(env, "tenants", "add", "--name", "X", "--slug", "x-co", "--account-id", "4242", "--force",
          "--timezone", "Mars/Olympus", expect="unknown time zone 'Mars/Olympus'")
    fails(env, "tenants", "add", "--name", "X", "--slug", "Bad Slug", "--account-id", "4242", "--force",
          expect="invalid slug 'Bad Slug'")
    fails(env, "tenants", "add", "--name", " ", "--slug", "x-co", "--account-id", "4242", "--force",
          expect="invalid name")
    fails(env, "tenants", "add", "--name", "X", "--slug", "x-co", "--account-id", "abc",
          expect="invalid account id 'abc'")
    fails(env, "tenants", "set-status", "--tenant", "999", "--status", "active", expect="unknown tenant 999")
    fails(env, "tenants", "set-status", "--tenant", "nobody", "--status", "active", expect="unknown tenant nobody")
    fails(env, "tenants", "set-status", "--tenant", str(first), "--status", "gone", expect="invalid choice: 'gone'")
    fails(env, "tenants", "set-status", "--tenant", "0", "--status", "suspended", expect="platform admin tenant")
    fails(env, "tenants", "set-schedule", "--tenant", str(first), "--schedule", "0 25 * * *",
          expect=f"tenants.sync_schedule '0 25 * * *' for tenant {first}: not a valid cron expression")
    assert [t["slug"] for t in ok_json(env, "tenants", "list")] == ["platform-admin", "demo-1", "demo-2", "demo-3"]
    # --json failures: exit 1, the error on stderr and as JSON on stdout
    result = run(env, "tenants", "set-status", "--tenant", "999", "--status", "active", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"ok": False, "error": "unknown tenant 999: no tenant with that id"}


# --------------------------------------------------------------------------------------------- discover


def test_discover_lists_the_accounts_inboxes_and_apply_maps_only_the_unmapped(env):
    tenant, other = env.tenant_ids[:2]
    kept, forgotten = inboxes_of(env, tenant)
    forget_mapping(env, forgotten)
    fresh = new_source_inbox(env, account_of(env, tenant))
    found = ok_json(env, "inboxes", "discover", "--tenant", str(tenant))
    rows = {r["inbox_id"]: r for r in found["inboxes"]}
    assert set(rows) == {kept, forgotten, fresh}
    assert (rows[kept]["mapping"], rows[forgotten]["mapping"], rows[fresh]["mapping"]) == ("mapped", "unmapped",
                                                                                          "unmapped")
    assert rows[forgotten]["conversations"] == len(source_conversations(env, forgotten)) > 0
    assert rows[fresh]["conversations"] == 0 and rows[fresh]["channel_type"] == "Channel::Whatsapp"
    table = ok(run(env, "inboxes", "discover", "--tenant", "demo-1")).stdout
    assert "2 unmapped inbox(es); map them with --apply" in table
    assert mapping(env, fresh) is None  # discover alone changes nothing

    applied = ok_json(env, "inboxes", "discover", "--tenant", str(tenant), "--apply", "--by", "carla")
    assert sorted(applied["mapped"]) == sorted([forgotten, fresh])
    assert mapping(env, fresh) == (tenant, True, "carla") and mapping(env, forgotten) == (tenant, True, "carla")
    assert audit(env, fresh) == [("map", "carla", None, tenant, True, False)]
    again = ok(run(env, "inboxes", "discover", "--tenant", str(tenant), "--apply")).stdout
    assert "mapped 0 inbox(es)" in again

    # an inbox deliberately unmapped, or active under another tenant, is shown but never taken by --apply
    ok(run(env, "inboxes", "unmap", "--inbox", str(kept)))
    ok(run(env, "inboxes", "move", "--inbox", str(fresh), "--to", str(other), "--force"))
    rows = {r["inbox_id"]: r for r in ok_json(env, "inboxes", "discover", "--tenant", str(tenant), "--apply")["inboxes"]}
    assert (rows[kept]["mapping"], rows[kept]["action"]) == ("inactive", None)
    assert (rows[fresh]["mapping"], rows[fresh]["mapped_tenant_id"]) == ("other-tenant", other)
    assert mapping(env, kept)[1] is False and mapping(env, fresh)[0] == other


def test_discover_bad_input(env):
    fails(env, "inboxes", "discover", "--tenant", "999", expect="unknown tenant 999")
    fails(env, "inboxes", "discover", "--tenant", "0", expect="platform admin tenant")
    ok(run(env, "tenants", "add", "--name", "No account", "--slug", "orphan", "--account-id", "4242", "--force"))
    fails(env, "inboxes", "discover", "--tenant", "orphan",
          expect="unknown account 4242 of tenant")  # registered by --force, unknown to the source
    with env.source() as conn:  # an account with no inbox yet: an empty list, not an error
        conn.execute("INSERT INTO accounts (id, name, created_at, updated_at) VALUES (4242, 'Empty', now(), now())")
    assert ok_json(env, "inboxes", "discover", "--tenant", "orphan", "--apply")["inboxes"] == []
    with env.analytics() as conn:
        conn.execute("UPDATE tenants SET account_id = NULL WHERE slug = 'orphan'")
    fails(env, "inboxes", "discover", "--tenant", "orphan", expect="has no Chatwoot account_id")


# --------------------------------------------------------------------------------------------- map / unmap / move


def test_map_unmap_move_and_their_audit(env):
    first, second = env.tenant_ids[:2]
    inbox = inboxes_of(env, first)[0]
    forget_mapping(env, inbox)

    mapped = ok_json(env, "inboxes", "map", "--inbox", str(inbox), "--tenant", str(first), "--by", "ana")
    assert (mapped["changed"], mapped["tenant_id"], mapped["from_tenant_id"], mapped["by"]) == (True, first, None, "ana")
    assert mapped["notes"] == [f"the next sync of tenant {first} (demo-1) loads the whole history of inbox {inbox}"]
    same = ok(run(env, "inboxes", "map", "--inbox", str(inbox), "--tenant", "demo-1")).stdout
    assert "False" in same and f"inbox {inbox} is already mapped to tenant {first} (demo-1); nothing changed" in same

    unmapped = ok_json(env, "inboxes", "unmap", "--inbox", str(inbox), "--by", "bruno")
    assert (unmapped["changed"], unmapped["tenant_id"]) == (True, first)
    assert ok_json(env, "inboxes", "unmap", "--inbox", str(inbox))["changed"] is False
    assert mapping(env, inbox)[:2] == (first, False)

    moved = ok_json(env, "inboxes", "move", "--inbox", str(inbox), "--to", str(second), "--force", "--by", "caio")
    assert (moved["changed"], moved["from_tenant_id"], moved["tenant_id"]) == (True, first, second)
    assert moved["warnings"] == [f"inbox {inbox} of account {account_of(env, first)} mapped to tenant {second} "
                                 f"(demo-2) (account {account_of(env, second)}) by --force"]
    assert ok_json(env, "inboxes", "move", "--inbox", str(inbox), "--to", "demo-2", "--force")["changed"] is False
    ok(run(env, "inboxes", "move", "--inbox", str(inbox), "--to", str(first), "--by", "caio"))  # back home
    assert mapping(env, inbox) == (first, True, "caio")

    trail = audit(env, inbox)
    assert [t[0] for t in trail[:2]] == ["map", "delete"]  # the demo registration, then forget_mapping's
    assert trail[0][1] == "chatwoot-etl demo"               # hand-typed DELETE: recorded too
    assert trail[2:] == [
        ("map", "ana", None, first, True, False),
        ("unmap", "bruno", first, first, False, False),
        ("move", "caio", first, second, True, True),
        ("move", "caio", second, first, True, False),
    ]
    history = ok_json(env, "inboxes", "history", "--inbox", str(inbox))
    assert [h["action"] for h in history] == ["move", "move", "unmap", "map", "delete", "map"]
    assert history[0]["via"] == "chatwoot_etl:admin:inboxes-move" and history[1]["forced"] is True
    assert "changed_by" in ok(run(env, "inboxes", "history")).stdout


def test_map_bad_input(env):
    first, second = env.tenant_ids[:2]
    own = inboxes_of(env, first)[0]
    foreign = inboxes_of(env, second)[0]
    fails(env, "inboxes", "map", "--inbox", str(own), "--tenant", "999", expect="unknown tenant 999")
    fails(env, "inboxes", "map", "--inbox", str(own), "--tenant", "nobody", expect="unknown tenant nobody")
    fails(env, "inboxes", "map", "--inbox", "99999", "--tenant", str(first),
          expect="unknown inbox 99999: the source has no inbox with that id")
    fails(env, "inboxes", "map", "--inbox", "99999", "--tenant", str(first), "--force",
          expect="unknown inbox 99999")  # an inbox that does not exist cannot be forced in
    fails(env, "inboxes", "map", "--inbox", "abc", "--tenant", str(first), expect="unknown inbox 'abc'")
    fails(env, "inboxes", "map", "--inbox", str(foreign), "--tenant", str(first),
          expect=f"inbox {foreign} belongs to account {account_of(env, second)}, not to account "
                 f"{account_of(env, first)} of tenant {first} (demo-1); use --force")
    fails(env, "inboxes", "map", "--inbox", str(foreign), "--tenant", str(first), "--force",
          expect=f"inbox {foreign} is already active under tenant {second} (demo-2); use `inboxes move")
    fails(env, "inboxes", "map", "--inbox", str(own), "--tenant", "0", "--force", expect="platform admin tenant")
    fails(env, "inboxes", "map", "--tenant", str(first), expect="the following arguments are required: --inbox")
    assert mapping(env, foreign)[:2] == (second, True) and mapping(env, own)[:2] == (first, True)

    # a forced mapping of another account's inbox, once free, works and is flagged
    ok(run(env, "inboxes", "unmap", "--inbox", str(foreign)))
    taken = ok_json(env, "inboxes", "map", "--inbox", str(foreign), "--tenant", str(first), "--force")
    assert taken["changed"] and taken["from_tenant_id"] == second and len(taken["warnings"]) == 1
    action, _, from_tenant, to_tenant, active, forced = audit(env, foreign)[-1]
    assert (action, from_tenant, to_tenant, active, forced) == ("move", second, first, True, True)

    ok(run(env, "tenants", "set-status", "--tenant", str(second), "--status", "suspended"))
    back = ok(run(env, "inboxes", "move", "--inbox", str(foreign), "--to", str(second))).stdout
    assert "warning: tenant" in back and "is suspended: it is not synced until it is active or trial" in back


def test_unmap_and_move_bad_input(env):
    first, second = env.tenant_ids[:2]
    inbox = inboxes_of(env, first)[0]
    fails(env, "inboxes", "unmap", "--inbox", "99999", expect="unknown inbox 99999: it is not mapped to any tenant")
    fails(env, "inboxes", "move", "--inbox", str(inbox), "--to", "999", expect="unknown tenant 999")
    fails(env, "inboxes", "move", "--inbox", "99999", "--to", str(second), "--force", expect="unknown inbox 99999")
    fails(env, "inboxes", "move", "--inbox", str(inbox), "--to", str(second),
          expect=f"inbox {inbox} belongs to account {account_of(env, first)}, not to account")
    fails(env, "inboxes", "move", "--inbox", str(inbox), "--to", "0", expect="platform admin tenant")
    forget_mapping(env, inbox)
    fails(env, "inboxes", "move", "--inbox", str(inbox), "--to", str(first),
          expect=f"inbox {inbox} is not mapped to any tenant; use `inboxes map")
    assert mapping(env, inbox) is None
    # an inbox that vanished from the source can still be unmapped
    with env.analytics() as conn:
        conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id, inbox_name) VALUES (77777, %s, 'gone')",
                     (first,))
    assert ok_json(env, "inboxes", "unmap", "--inbox", "77777")["changed"] is True


# --------------------------------------------------------------------------------------------- concurrency


def _race(env, inbox_id: int, tenants: list[int]) -> list[tuple[int, object]]:
    """Every tenant maps the same inbox at once, each on its own connection; (tenant, result or error)."""
    barrier = threading.Barrier(len(tenants))
    outcomes: list[tuple[int, object]] = []
    lock = threading.Lock()

    def contender(tenant_id: int) -> None:
        with env.analytics() as analytics, env.source() as src:
            barrier.wait()
            try:
                outcome: object = mappings.map_inbox(analytics, src, inbox_id, tenant_id, by=f"t{tenant_id}",
                                                     force=True)
            except AdminError as exc:
                outcome = exc
        with lock:
            outcomes.append((tenant_id, outcome))

    threads = [threading.Thread(target=contender, args=(t,)) for t in tenants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _assert_one_winner(env, inbox_id: int, outcomes) -> int:
    winners = [t for t, o in outcomes if isinstance(o, dict) and o["changed"]]
    losers = [(t, o) for t, o in outcomes if isinstance(o, AdminError)]
    assert len(winners) == 1 and len(losers) == len(outcomes) - 1, outcomes
    winner = winners[0]
    for _, error in losers:
        assert f"inbox {inbox_id} is already active under tenant {winner} " in str(error)
    with env.analytics() as conn:
        rows = conn.execute("SELECT tenant_id, is_active FROM inbox_tenant_mapping WHERE inbox_id = %s",
                            (inbox_id,)).fetchall()
    assert rows == [(winner, True)]
    return winner


@pytest.mark.parametrize("start", ["never mapped", "deactivated"])
def test_concurrent_map_calls_exactly_one_wins(env, start):
    inbox = inboxes_of(env, env.tenant_ids[0])[0]
    if start == "never mapped":
        forget_mapping(env, inbox)
    else:
        ok(run(env, "inboxes", "unmap", "--inbox", str(inbox)))
    before = len(audit(env, inbox))
    for _ in range(3):  # several rounds: the winner differs, the rule never does
        winner = _assert_one_winner(env, inbox, _race(env, inbox, env.tenant_ids))
        changes = audit(env, inbox)[before:]
        assert len(changes) == 1, changes  # exactly one mapping change recorded per round
        assert changes[0][0] in ("map", "remap", "move") and changes[0][3:5] == (winner, True)
        with env.analytics() as conn:
            conn.execute("UPDATE inbox_tenant_mapping SET is_active = false WHERE inbox_id = %s", (inbox,))
        before = len(audit(env, inbox))


def test_concurrent_map_commands_exactly_one_exits_0(env):
    inbox = inboxes_of(env, env.tenant_ids[0])[0]
    forget_mapping(env, inbox)
    procs = [
        subprocess.Popen([sys.executable, "-m", "chatwoot_etl", "inboxes", "map", "--inbox", str(inbox),
                          "--tenant", str(tenant), "--force", "--json"],
                         env=env.cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tenant in env.tenant_ids * 2
    ]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    winners = [json.loads(out)["tenant_id"] for code, out, _ in results if code == 0 and json.loads(out)["changed"]]
    assert len(winners) == 1, results
    for code, out, err in results:
        if code == 0:  # the same tenant again: an idempotent no-op
            assert json.loads(out)["tenant_id"] == winners[0]
        else:
            assert code == 1 and f"is already active under tenant {winners[0]} " in err.strip().splitlines()[-1]
    assert mapping(env, inbox)[:2] == (winners[0], True)


@pytest.mark.parametrize("start", ["never mapped", "deactivated"])
@pytest.mark.parametrize("other_session", ["commits", "rolls back"])
def test_map_waits_for_a_concurrent_change_of_the_inbox_then_decides_on_its_outcome(env, start, other_session):
    """Deterministic interleaving: another session has (uncommitted) mapped the inbox to the first tenant."""
    first, second = env.tenant_ids[:2]
    inbox = inboxes_of(env, first)[0]
    if start == "never mapped":
        forget_mapping(env, inbox)
        change = "INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (%(inbox)s, %(tenant)s)"
    else:
        ok(run(env, "inboxes", "unmap", "--inbox", str(inbox)))
        change = "UPDATE inbox_tenant_mapping SET tenant_id = %(tenant)s, is_active = true WHERE inbox_id = %(inbox)s"
    holder = psycopg.connect(env.analytics_uri)
    holder.execute(change, {"inbox": inbox, "tenant": first})
    outcome: dict[str, object] = {}

    def contender() -> None:
        with env.analytics() as analytics, env.source() as src:
            try:
                outcome["result"] = mappings.map_inbox(analytics, src, inbox, second, by="late", force=True)
            except AdminError as exc:
                outcome["result"] = exc

    thread = threading.Thread(target=contender)
    thread.start()
    with env.analytics() as conn:  # the contender is blocked on the holder's row
        for _ in range(200):
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock'").fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the concurrent map never waited for the other session")
    assert "result" not in outcome
    holder.commit() if other_session == "commits" else holder.rollback()
    holder.close()
    thread.join(30)
    if other_session == "commits":
        assert isinstance(outcome["result"], AdminError)
        assert f"inbox {inbox} is already active under tenant {first} (demo-1)" in str(outcome["result"])
        assert mapping(env, inbox)[:2] == (first, True)
    else:
        assert outcome["result"]["changed"] is True and mapping(env, inbox) == (second, True, "late")


def test_the_database_itself_refuses_a_second_mapping_or_the_admin_tenant(env):
    first, second = env.tenant_ids[:2]
    inbox = inboxes_of(env, first)[0]
    with env.analytics() as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO inbox_tenant_mapping (inbox_id, tenant_id) VALUES (%s, %s)", (inbox, second))
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE inbox_tenant_mapping SET tenant_id = 0 WHERE inbox_id = %s", (inbox,))


# --------------------------------------------------------------------------------------------- next sync


def test_mapped_inbox_gets_its_history_on_the_next_sync(env):
    tenant = env.tenant_ids[0]
    kept, later = inboxes_of(env, tenant)
    forget_mapping(env, later)
    engine.sync_tenant(tenant, SyncOptions())
    assert stored(env, tenant, later) == set() and stored(env, tenant, kept) == source_conversations(env, kept)

    ok(run(env, "inboxes", "map", "--inbox", str(later), "--tenant", str(tenant)))
    result = engine.sync_tenant(tenant, SyncOptions())
    assert result.history_inboxes == [later]
    assert stored(env, tenant, later) == source_conversations(env, later)
    assert result.inserted == len(source_conversations(env, later))
    assert engine.sync_tenant(tenant, SyncOptions()).history_inboxes == []


def test_moved_inbox_moves_its_rows_on_the_next_sync(env):
    first, second = env.tenant_ids[:2]
    engine.sync_tenant(first, SyncOptions()), engine.sync_tenant(second, SyncOptions())
    inbox = inboxes_of(env, first)[0]
    rows = source_conversations(env, inbox)
    assert stored(env, first, inbox) == rows

    moved = ok_json(env, "inboxes", "move", "--inbox", str(inbox), "--to", str(second), "--force")
    assert f"{len(rows)} stored conversation(s) of inbox {inbox} move from tenant(s) {first}" in moved["notes"][1]
    result = engine.sync_tenant(second, SyncOptions())
    assert result.history_inboxes == [inbox] and result.moved_in == len(rows)
    assert stored(env, second, inbox) == rows and stored(env, first, inbox) == set()
    with env.analytics() as conn:
        assert conn.execute("SELECT count(*) = count(DISTINCT conversation_id) FROM conversations_analytics"
                            ).fetchone()[0]

    unmapped = ok_json(env, "inboxes", "unmap", "--inbox", str(inbox))
    assert f"its {len(rows)} stored conversation(s) stay until `sync --tenant {second} --full-refresh`" in (
        unmapped["notes"][1])
    assert engine.sync_tenant(second, SyncOptions()).unmapped_inbox_rows == {inbox: len(rows)}


# --------------------------------------------------------------------------------------------- drift


def test_drift_report(env, source_db):
    first, second, third = env.tenant_ids
    with env.analytics() as analytics, psycopg.connect(source_db.reader_uri, autocommit=True) as src:
        clean = mappings.drift_report(analytics, src)
    assert clean["drift"] is False and set(clean["counts"].values()) == {0}

    fresh = new_source_inbox(env, account_of(env, first))              # unmapped source inbox
    vanished = inboxes_of(env, second)[0]
    with env.source() as conn:                                          # mapped, then deleted in Chatwoot
        conn.execute("DELETE FROM inboxes WHERE id = %s", (vanished,))
    for inbox in inboxes_of(env, third):                                # a tenant left with no active inbox
        ok(run(env, "inboxes", "unmap", "--inbox", str(inbox)))
    foreign = inboxes_of(env, second)[-1]                               # mapped to another account's tenant
    ok(run(env, "inboxes", "move", "--inbox", str(foreign), "--to", str(first), "--force"))
    ok(run(env, "tenants", "add", "--name", "Idle", "--slug", "idle", "--account-id", "4242", "--force",
                   "--status", "suspended"))                            # not synced: not reported

    with env.analytics() as analytics, psycopg.connect(source_db.reader_uri, autocommit=True) as src:
        report = mappings.drift_report(analytics, src)
    assert report["drift"] is True
    assert [(r["tenant_id"], r["inbox_id"], r["conversations"]) for r in report["unmapped_source_inboxes"]] == [
        (first, fresh, 0)]
    assert [(r["tenant_id"], r["inbox_id"]) for r in report["vanished_inboxes"]] == [(second, vanished)]
    assert [r["tenant_id"] for r in report["tenants_without_active_inbox"]] == [third]
    assert [(r["tenant_id"], r["inbox_id"], r["inbox_account_id"]) for r in report["account_mismatches"]] == [
        (first, foreign, account_of(env, second))]
    assert report["counts"] == {"unmapped_source_inboxes": 1, "vanished_inboxes": 1,
                                "tenants_without_active_inbox": 1, "account_mismatches": 1}
    # the same through the command line
    assert ok_json(env, "inboxes", "drift")["counts"] == report["counts"]
    table = ok(run(env, "inboxes", "drift")).stdout
    assert "active mappings whose inbox is gone from the source (1):" in table
    assert "active tenants without any active inbox (1):" in table


# --------------------------------------------------------------------------------------------- entry point


def test_the_commands_through_the_real_entry_point(env):
    """`python -m chatwoot_etl ...` in a subprocess: exit codes, stdout, one-line errors on stderr."""
    listed = env.run_cli("tenants", "list", "--json")
    assert listed.returncode == 0 and [t["slug"] for t in json.loads(listed.stdout)][:2] == ["platform-admin", "demo-1"]
    inbox = inboxes_of(env, env.tenant_ids[0])[0]
    refused = env.run_cli("inboxes", "map", "--inbox", str(inbox), "--tenant", "999")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip().splitlines()[-1] == "chatwoot-etl: error: unknown tenant 999: no tenant with that id"
    as_json = env.run_cli("inboxes", "unmap", "--inbox", "99999", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"ok": False, "error": "unknown inbox 99999: it is not mapped to any tenant"}
    usage = env.run_cli("inboxes", "move", "--inbox", str(inbox))
    assert usage.returncode == 1 and "the following arguments are required: --to" in usage.stderr
    moved = env.run_cli("inboxes", "move", "--inbox", str(inbox), "--to", str(env.tenant_ids[1]), "--force",
                        "--by", "dora")
    assert moved.returncode == 0 and "dora" in moved.stdout and "warning: inbox" in moved.stdout
    inspected = env.run_cli("source", "inspect", "--format", "markdown")
    assert inspected.returncode == 0 and inspected.stdout.startswith("# Chatwoot source inspection")
