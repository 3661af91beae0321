"""One seeded fault round over a fresh source + analytics pair: faults mixed at random, then the
invariants.

A round is two waves. Before each wave some source rows are poisoned (the view cannot compute
them) or stranded (updated_at in the future or infinite); during it two to four sync processes
of random tenants, modes and chunk sizes run at once (so they contend for the tenants' locks)
while the source keeps changing, an inbox may move to another tenant, the syncs' connections and
processes may be killed, and a sync may kill itself at a chunk boundary. After each wave the
invariants that hold at any quiet moment are checked; after the last, the faults are repaired
(as an operator fixing the source would), every tenant gets one clean sync, and the target must
then equal the source exactly.

Everything random comes from random.Random(seed): a failing round names its seed, and
FAULT_SEED=<seed> replays it (timing aside: kills land where the scheduler puts them).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from chatwoot_etl.admin import mappings
from chatwoot_etl.localdev import seed
from chatwoot_etl.sync import engine, strategy
from chatwoot_etl.sync.window import DEFAULT_LOOKBACK, SyncOptions
from tests.fixtures.pipeline import Env, assert_target_equals_source
from tests.fixtures.sources import TEMPLATE_CONVERSATIONS

REPO = Path(__file__).resolve().parents[2]
WAVES = 2
PROCESS_TIMEOUT_S = 180
# A view that cannot compute a row: the value that makes it raise, on a conversation with a reply.
POISONS = (
    ("created_at", "0001-01-01 00:00:00"),      # EXTRACT(EPOCH FROM first reply - created_at)::integer overflows
    ("created_at", "0044-03-15 00:00:00 BC"),
    ("created_at", "infinity"),                # cannot subtract / convert an infinite timestamp
    ("waiting_since", "0999-01-01 00:00:00"),   # the view's waiting time overflows integer
)
# Only the view computes the waiting time (relative to now(), outside the contract): the
# base_tables strategy reads such a row whole, so it may be stored instead of quarantined.
VIEW_ONLY_POISON = {"waiting_since"}
# What a sync that lost a connection says (the only failures a round tolerates).
CONNECTION_LOST = ("terminating connection", "server closed the connection", "connection is lost",
                   "consuming input failed", "connection to server", "the connection is closed",
                   "SSL SYSCALL", "EOF detected")


@dataclass
class Round:
    """What a round did to the source and the syncs: the judge of the invariants reads it."""

    seed: int
    events: list[str] = field(default_factory=list)
    poisoned: dict[int, tuple[str, object]] = field(default_factory=dict)   # conversation -> (column, old value)
    faulted_at: dict[int, int] = field(default_factory=dict)                # poisoned / stranded -> last run id before
    stranded: dict[int, str] = field(default_factory=dict)                  # conversation -> 'future' / 'infinity'
    moved_inboxes: set[int] = field(default_factory=set)
    connections_killed: int = 0

    def note(self, text: str) -> None:
        self.events.append(text)

    def describe(self) -> str:
        return f"seed={self.seed}: " + "; ".join(self.events)


class RoundFailed(AssertionError):
    def __init__(self, round_: Round, problem: str) -> None:
        super().__init__(f"fault round {round_.describe()}\n  -> {problem}\n  replay: FAULT_SEED={round_.seed} "
                         f"{sys.executable} -m pytest tests/faults -x")


def run_round(env: Env, seed_value: int) -> Round:
    rng = random.Random(seed_value)
    round_ = Round(seed_value)
    for wave in range(1, WAVES + 1):
        _inject(env, rng, round_, wave)
        outcomes = _wave(env, rng, round_, wave)
        _judge_outcomes(round_, outcomes)
        check_quiet_invariants(env, round_)
        _check_faults_on_record(env, round_)
    round_.note(_tally(env))
    _repair(env, round_)
    for tenant in env.tenant_ids:
        result = engine.sync_tenant(tenant, SyncOptions(publish_mirror=False, triggered_by="fault-round"))
        if result.status != "success":
            raise RoundFailed(round_, f"the clean follow-up sync of tenant {tenant} ended {result.status}: "
                                      f"{result.message}")
    check_final_invariants(env, round_)
    return round_


# -- faults ------------------------------------------------------------------------------------

def _source_rows(env: Env, query: str, params: tuple = ()) -> list[tuple]:
    with env.source() as conn:
        return conn.execute(query, params).fetchall()


def _inject(env: Env, rng: random.Random, round_: Round, wave: int) -> None:
    """Poison and strand a few conversations never touched before in this round."""
    taken = set(round_.poisoned) | set(round_.stranded)
    candidates = [r[0] for r in _source_rows(
        env, "SELECT id FROM conversations WHERE first_reply_created_at IS NOT NULL AND id <= %s ORDER BY id",
        (TEMPLATE_CONVERSATIONS,))
        if r[0] not in taken]
    rng.shuffle(candidates)
    last_run = _analytics_rows(env, "SELECT coalesce(max(id), 0) FROM etl_control")[0][0]
    with env.source() as conn:
        for _ in range(rng.choice((0, 0, 1, 2))):
            conversation = candidates.pop()
            column, value = rng.choice(POISONS)
            old = conn.execute(f"SELECT {column} FROM conversations WHERE id = %s", (conversation,)).fetchone()[0]
            # an application edit: the row is new to an incremental sync too
            conn.execute(f"UPDATE conversations SET {column} = %s::timestamp, "
                         "updated_at = (now() AT TIME ZONE 'UTC') WHERE id = %s", (value, conversation))
            try:
                conn.execute("SELECT * FROM vw_conversations_analytics_final WHERE conversation_id = %s",
                             (conversation,)).fetchall()
            except strategy.ROW_ERRORS:  # what the engine counts as a row the source cannot compute
                round_.poisoned[conversation] = (column, old)
                round_.faulted_at[conversation] = last_run
                round_.note(f"wave {wave}: poisoned {conversation} ({column} = {value})")
            else:  # the view computes it after all: put it back, it proves nothing
                conn.execute(f"UPDATE conversations SET {column} = %s WHERE id = %s", (old, conversation))
        for _ in range(rng.choice((0, 0, 1, 2))):
            conversation = candidates.pop()
            kind = rng.choice(("future", "future", "infinity"))
            value = "'infinity'" if kind == "infinity" else "(now() AT TIME ZONE 'UTC') + interval '3 days'"
            conn.execute(f"UPDATE conversations SET updated_at = {value} WHERE id = %s", (conversation,))
            round_.stranded[conversation] = kind
            round_.faulted_at[conversation] = last_run
            round_.note(f"wave {wave}: stranded {conversation} ({kind})")


@dataclass
class Outcome:
    tenant: int
    mode: str
    returncode: int
    stderr: str


def _wave(env: Env, rng: random.Random, round_: Round, wave: int) -> list[Outcome]:
    """Two to four syncs at once, with the source changing and kills landing under them."""
    processes: list[tuple[int, str, subprocess.Popen]] = []
    stop = threading.Event()
    helpers: list[threading.Thread] = []
    if rng.random() < 0.7:
        helpers.append(threading.Thread(target=_source_writer, args=(env, rng.randrange(1 << 30), stop)))
        round_.note(f"wave {wave}: source writer")
    if rng.random() < 0.4:
        helpers.append(threading.Thread(target=_inbox_mover, args=(env, rng.random() * 2, rng.randrange(1 << 30),
                                                                   round_, wave)))
    if rng.random() < 0.4:
        helpers.append(threading.Thread(target=_connection_killer, args=(env, 0.2 + rng.random() * 2.5, round_, wave)))
    external_kill = (0.3 + rng.random() * 3, rng.choice(("SIGKILL", "SIGTERM"))) if rng.random() < 0.3 else None

    for _ in range(rng.randint(2, 4)):
        tenant = rng.choice(env.tenant_ids)
        mode = rng.choices(("incremental", "full_refresh", "window"), weights=(6, 2, 2))[0]
        args = [str(tenant), mode, str(rng.choice((50, 100, 250, 1000))), rng.choice(("scheduled", "manual"))]
        if rng.random() < 0.25:
            args += [str(rng.randint(1, 4)), rng.choice(("SIGKILL", "SIGTERM"))]
        round_.note(f"wave {wave}: sync {' '.join(args)}")
        processes.append((tenant, mode, subprocess.Popen(
            [sys.executable, "-m", "tests.faults.driver", *args], cwd=REPO, env=env.cli_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)))
    for helper in helpers:
        helper.start()
    if external_kill:
        delay, how = external_kill
        time.sleep(delay)
        tenant, mode, victim = rng.choice(processes)
        if victim.poll() is None:
            victim.send_signal(getattr(signal, how))
            round_.note(f"wave {wave}: {how} to the {mode} sync of tenant {tenant} after {delay:.1f}s")
    outcomes = []
    for tenant, mode, process in processes:
        _, stderr = process.communicate(timeout=PROCESS_TIMEOUT_S)
        outcomes.append(Outcome(tenant, mode, process.returncode, stderr))
    stop.set()
    for helper in helpers:
        helper.join(timeout=60)
    return outcomes


def _source_writer(env: Env, seed_value: int, stop: threading.Event) -> None:
    """Chatwoot at work: messages, replies, status changes and new conversations, committed one
    small batch at a time while the syncs read."""
    with env.source() as conn:
        while not stop.is_set():
            seed.add_activity(conn, touch_fraction=0.005, new_conversations=2, seed=seed_value)
            seed_value += 1
            time.sleep(0.05)


def _inbox_mover(env: Env, delay: float, seed_value: int, round_: Round, wave: int) -> None:
    time.sleep(delay)
    rng = random.Random(seed_value)
    with env.analytics() as conn:
        rows = conn.execute("SELECT inbox_id, tenant_id FROM inbox_tenant_mapping WHERE is_active ORDER BY 1").fetchall()
    inbox, owner = rng.choice(rows)
    to = rng.choice([t for t in env.tenant_ids if t != owner])
    with env.analytics() as analytics, env.source() as src:
        mappings.move_inbox(analytics, src, inbox, to, by="fault-round", force=True)
    round_.moved_inboxes.add(inbox)
    round_.note(f"wave {wave}: inbox {inbox} moved from tenant {owner} to {to} after {delay:.1f}s")


def _connection_killer(env: Env, delay: float, round_: Round, wave: int) -> None:
    """After the delay, terminate the backends of whatever syncs are connected by then (waiting up
    to a few seconds for one to connect)."""
    time.sleep(delay)
    source_db = psycopg.conninfo.conninfo_to_dict(env.source_admin_uri)["dbname"]
    deadline = time.monotonic() + 5
    with env.analytics() as conn:
        while True:
            killed = conn.execute(
                "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE 'chatwoot_etl:%%' AND datname IN (current_database(), %s)",
                (source_db,)).fetchall()
            if killed or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    round_.connections_killed += len(killed)
    names = ", ".join(sorted({r[0].split(":run=")[0] for r in killed}))
    round_.note(f"wave {wave}: {len(killed)} connection(s) terminated after {delay:.1f}s ({names})")


def _tally(env: Env) -> str:
    """What the ETL made of the faults, before the repair: runs by outcome, quarantine and alerts."""
    runs = _analytics_rows(env, "SELECT status, count(*) FROM etl_control GROUP BY 1 ORDER BY 1")
    held = _analytics_rows(env, "SELECT split_part(reason, ':', 1), count(*) FROM etl_quarantine GROUP BY 1 ORDER BY 1")
    alerts = _analytics_rows(env, "SELECT kind, count(*) FROM etl_alerts GROUP BY 1 ORDER BY 1")
    return ("outcome: runs " + ", ".join(f"{n} {s}" for s, n in runs)
            + "; quarantined " + (", ".join(f"{n} {r}" for r, n in held) or "none")
            + "; alerts " + (", ".join(f"{n} {k}" for k, n in alerts) or "none"))


def _repair(env: Env, round_: Round) -> None:
    """The operator fixes the source: poisoned values put back, stranded clocks corrected."""
    with env.source() as conn:
        for conversation, (column, old) in round_.poisoned.items():
            conn.execute(f"UPDATE conversations SET {column} = %s, updated_at = (now() AT TIME ZONE 'UTC') "
                         "WHERE id = %s", (old, conversation))
        for conversation in round_.stranded:
            conn.execute("UPDATE conversations SET updated_at = (now() AT TIME ZONE 'UTC') WHERE id = %s",
                         (conversation,))


# -- invariants --------------------------------------------------------------------------------

def _judge_outcomes(round_: Round, outcomes: list[Outcome]) -> None:
    """Each sync ended in success, a refusal, a death it was dealt, or a lost connection."""
    for outcome in outcomes:
        code, error = outcome.returncode, outcome.stderr.strip().splitlines()
        round_.note(f"tenant {outcome.tenant} {outcome.mode} exit {code}")
        if code in (0, 2, -signal.SIGKILL, -signal.SIGTERM):
            continue
        last = error[-1] if error else ""
        if code == 1 and round_.connections_killed and any(m in outcome.stderr for m in CONNECTION_LOST):
            continue
        raise RoundFailed(round_, f"the {outcome.mode} sync of tenant {outcome.tenant} failed (exit {code}): {last}")


def _analytics_rows(env: Env, query: str, params: tuple = ()) -> list[tuple]:
    with env.analytics() as conn:
        return conn.execute(query, params).fetchall()


def check_quiet_invariants(env: Env, round_: Round) -> None:
    """What holds whenever no sync is running, whatever was killed."""
    twice = _analytics_rows(env, "SELECT conversation_id, array_agg(tenant_id) FROM conversations_analytics "
                                 "GROUP BY 1 HAVING count(*) > 1 LIMIT 5")
    if twice:
        raise RoundFailed(round_, f"conversations stored more than once (id, tenants): {twice}")
    blank = _analytics_rows(env, "SELECT id, conversation_id FROM etl_quarantine WHERE btrim(reason) = '' LIMIT 5")
    if blank:
        raise RoundFailed(round_, f"quarantine entries without a reason: {blank}")
    _check_watermarks(env, round_)
    _check_alerted_once(env, round_)


def _check_watermarks(env: Env, round_: Round) -> None:
    """No tenant's watermark is past a source row it has not written: every conversation of an
    inbox whose history the tenant has loaded, at or before the watermark (less the lookback that
    covers commits still in flight when it was read), is stored in that version or is quarantined."""
    for tenant, mark_at, mark_id in _analytics_rows(
            env, "SELECT tenant_id, updated_at AT TIME ZONE 'UTC', conversation_id FROM etl_watermarks"):
        inboxes = [r[0] for r in _analytics_rows(
            env, "SELECT s.inbox_id FROM etl_inbox_sync_state s JOIN inbox_tenant_mapping m USING (inbox_id) "
                 "WHERE s.tenant_id = %s AND m.tenant_id = %s AND m.is_active", (tenant, tenant))
            if r[0] not in round_.moved_inboxes]
        settled = mark_at - DEFAULT_LOOKBACK
        expected = dict(_source_rows(
            env, "SELECT id, updated_at FROM conversations WHERE inbox_id = ANY(%s) AND updated_at <= %s "
                 "AND (updated_at, id) <= (%s, %s)", (inboxes, settled, mark_at, mark_id)))
        stored = dict(_analytics_rows(
            env, "SELECT conversation_id, conversation_updated_at FROM conversations_analytics "
                 "WHERE tenant_id = %s AND conversation_id = ANY(%s)", (tenant, list(expected))))
        quarantined = {int(r[0]) for r in _analytics_rows(
            env, "SELECT conversation_id FROM etl_quarantine WHERE tenant_id = %s AND conversation_id ~ '^[0-9]+$'",
            (tenant,))}
        missing = sorted(c for c, at in expected.items() if stored.get(c) != at and c not in quarantined)
        if missing:
            raise RoundFailed(round_, f"tenant {tenant}'s watermark ({mark_at}, {mark_id}) is past "
                                      f"{len(missing)} row(s) it did not write, e.g. {missing[:5]}")


def _owner_read_since(env: Env, round_: Round, conversation: int, after_run: int) -> int | None:
    """The tenant owning the conversation's inbox, if a successful run of it read the source since."""
    inbox = _source_rows(env, "SELECT inbox_id FROM conversations WHERE id = %s", (conversation,))[0][0]
    owners = _analytics_rows(env, "SELECT tenant_id FROM inbox_tenant_mapping WHERE inbox_id = %s AND is_active",
                             (inbox,))
    if not owners or inbox in round_.moved_inboxes:
        return None
    read = _analytics_rows(env, "SELECT count(*) FROM etl_control WHERE tenant_id = %s AND status = 'success' "
                                "AND load_type IN ('incremental', 'full') AND id > %s", (owners[0][0], after_run))[0][0]
    return owners[0][0] if read else None


def _check_alerted_once(env: Env, round_: Round) -> None:
    """However many runs meet a broken conversation, it is quarantined and alerted at most once."""
    twice = _analytics_rows(
        env, "SELECT conversation_id, array_agg(split_part(reason, ':', 1)) FROM etl_quarantine "
             "GROUP BY 1 HAVING count(*) > 1 LIMIT 5")
    if twice:
        raise RoundFailed(round_, f"conversations quarantined more than once: {twice}")
    named = _analytics_rows(
        env, "SELECT kind, coalesce(item->'conversation_id', item) AS conversation, count(*) FROM etl_alerts, "
             "jsonb_array_elements(details->'conversations') AS item "
             "WHERE kind IN ('source_row_error', 'source_clock_anomaly') GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5")
    if named:
        raise RoundFailed(round_, f"conversations alerted more than once: {named}")


def _check_faults_on_record(env: Env, round_: Round) -> None:
    """A poisoned conversation its tenant's watermark has passed is quarantined as a
    source_row_error (the watermark passes one only because it is on record; a source writer may
    have moved it past the run's window meanwhile). Once a successful run of its tenant has read
    the source, a stranded one is named by a source_clock_anomaly alert, an infinite one quarantined."""
    for conversation, at in round_.faulted_at.items():
        if conversation in round_.poisoned:
            _check_poisoned(env, round_, conversation)
            continue
        tenant = _owner_read_since(env, round_, conversation, at)
        if tenant is None or not _still_stranded(env, conversation):
            continue
        kind = round_.stranded[conversation]
        reasons = _reasons(env, tenant, conversation)
        if kind == "infinity" and not any(r.startswith("source_clock_anomaly") for r in reasons):
            raise RoundFailed(round_, f"conversation {conversation} (tenant {tenant}) dated infinity is not "
                                      f"quarantined ({reasons})")
        if not _analytics_rows(
                env, "SELECT 1 FROM etl_alerts WHERE tenant_id = %s AND kind = 'source_clock_anomaly' AND "
                     "details->'conversations' @> jsonb_build_array(jsonb_build_object('conversation_id', %s::int))",
                (tenant, conversation)):
            raise RoundFailed(round_, f"stranded conversation {conversation} (tenant {tenant}, {kind}) was never "
                                      "named by a source_clock_anomaly alert")


def _reasons(env: Env, tenant: int, conversation: int) -> list[str]:
    return [r[0] for r in _analytics_rows(
        env, "SELECT reason FROM etl_quarantine WHERE tenant_id = %s AND conversation_id = %s",
        (tenant, str(conversation)))]


def _check_poisoned(env: Env, round_: Round, conversation: int) -> None:
    inbox, updated_at = _source_rows(env, "SELECT inbox_id, updated_at FROM conversations WHERE id = %s",
                                     (conversation,))[0]
    owners = _analytics_rows(env, "SELECT tenant_id FROM inbox_tenant_mapping WHERE inbox_id = %s AND is_active",
                             (inbox,))
    if not owners or inbox in round_.moved_inboxes:
        return
    tenant = owners[0][0]
    passed = _analytics_rows(
        env, "SELECT (updated_at AT TIME ZONE 'UTC', conversation_id) >= (%s::timestamp, %s) FROM etl_watermarks "
             "WHERE tenant_id = %s", (updated_at, conversation, tenant))
    if not passed or not passed[0][0]:
        return
    reasons = _reasons(env, tenant, conversation)
    if not any(r.startswith("source_row_error") for r in reasons) and not (
            round_.poisoned[conversation][0] in VIEW_ONLY_POISON and _stored(env, tenant, conversation)):
        raise RoundFailed(round_, f"tenant {tenant}'s watermark passed poisoned conversation {conversation} without "
                                  f"a source_row_error quarantine entry ({reasons})")


def _stored(env: Env, tenant: int, conversation: int) -> bool:
    return bool(_analytics_rows(env, "SELECT 1 FROM conversations_analytics WHERE tenant_id = %s "
                                     "AND conversation_id = %s", (tenant, conversation)))


def _still_stranded(env: Env, conversation: int) -> bool:
    """The source writer may have touched it since, bringing its clock back."""
    return bool(_source_rows(env, "SELECT 1 FROM conversations WHERE id = %s AND updated_at > "
                                  "(now() AT TIME ZONE 'UTC')", (conversation,)))


def check_final_invariants(env: Env, round_: Round) -> None:
    """After the repair and one clean sync per tenant: the target is the source, exactly."""
    check_quiet_invariants(env, round_)
    for tenant in env.tenant_ids:
        try:
            assert_target_equals_source(env, tenant)
        except AssertionError as exc:
            raise RoundFailed(round_, f"tenant {tenant}: target differs from the source: {exc}") from None
    running = _analytics_rows(env, "SELECT tenant_id, execution_id FROM etl_control WHERE status = 'running'")
    if running:
        raise RoundFailed(round_, f"runs left running after the follow-up syncs: {running}")
    foreign = _analytics_rows(
        env, "SELECT c.tenant_id, c.inbox_id, count(*) FROM conversations_analytics c LEFT JOIN inbox_tenant_mapping m "
             "ON m.inbox_id = c.inbox_id AND m.tenant_id = c.tenant_id AND m.is_active "
             "WHERE m.inbox_id IS NULL GROUP BY 1, 2")
    if foreign:
        raise RoundFailed(round_, f"rows stored under a tenant that does not own their inbox: {foreign}")
    left = _analytics_rows(env, "SELECT tenant_id, conversation_id, reason FROM etl_quarantine "
                                "WHERE conversation_id = ANY(%s)",
                           ([str(c) for c in [*round_.poisoned, *round_.stranded]],))
    if left:
        raise RoundFailed(round_, f"quarantine entries left for repaired conversations: {left}")


def seeds() -> tuple[list[int] | None, float]:
    """FAULT_SEED replays one round; else rounds from a random base until FAULT_BUDGET_SECONDS."""
    if os.environ.get("FAULT_SEED"):
        return [int(s) for s in os.environ["FAULT_SEED"].split(",")], float("inf")
    return None, float(os.environ.get("FAULT_BUDGET_SECONDS", "100"))
