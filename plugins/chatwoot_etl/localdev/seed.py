"""A realistic, deterministic local Chatwoot source, for tests, the demo and benchmarks.

The real production database cannot be reached from here, so this builds Chatwoot-shaped base
tables, the analytics view as deployed (quirks included) and data generated in set-based SQL.
Every "random" choice is a hash of (seed, key), and every timestamp is anchored at ``until``,
never at now(): the same seed gives byte-identical rows, whatever plan PostgreSQL picks.

The functions take an open psycopg 3 connection (an administrator of the source database) and
never open one of their own, so callers decide where the data goes.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import psycopg

from chatwoot_etl import settings
from chatwoot_etl.connections import one_row
from chatwoot_etl.paths import sql_text

log = logging.getLogger(__name__)

# Definitions of vw_conversations_analytics_final (the same 171 columns, types and values):
#   deployed:  the owner's six modular views and the final one (whole-table message aggregates);
#   indexable: the same views with the message aggregates computed per conversation (LATERAL),
#              so a window on conversations uses indexes;
#   single:    the owner's single-file form: 118 columns, 7-key message_compiled objects.
VIEW_DEFINITIONS = {
    "deployed": ("chatwoot/02_view.sql",),
    "indexable": ("chatwoot/02_view.sql", "chatwoot/02_view_indexable.sql"),
    "single": ("chatwoot/02_view_single.sql",),
}
DEFAULT_VIEW = "deployed"
# Chooses the definition when apply_schema is not told one (e.g. for `chatwoot-etl seed-source`).
VIEW_ENV_VAR = settings.SOURCE_VIEW.env_var
DEFAULT_UNTIL = datetime(2026, 11, 1, 0, 0, 0)  # naive UTC, like every Chatwoot timestamp
PARAMETERS_END = "-- @end-parameters"
TABLES = (
    "accounts",
    "users",
    "account_users",
    "teams",
    "inboxes",
    "contacts",
    "contact_inboxes",
    "conversations",
    "messages",
    "csat_survey_responses",
)
# Columns of the view that change with the clock, not with the data: left out of fingerprints.
NOW_RELATIVE_COLUMNS = (
    "days_since_creation",
    "is_today",
    "is_yesterday",
    "is_this_week",
    "is_this_month",
    "is_this_year",
    "waiting_time_seconds",
    "is_waiting_long",
)


def schema_files(view: str | None = None) -> tuple[str, ...]:
    """The role, the base tables, the chosen view definition (default: $CHATWOOT_ETL_SOURCE_VIEW or
    deployed) and the grants, in the order they apply."""
    view = view or settings.SOURCE_VIEW.get()
    if view not in VIEW_DEFINITIONS:
        raise ValueError(f"unknown view definition {view!r}: choose one of {', '.join(VIEW_DEFINITIONS)}")
    return ("chatwoot/00_reader_role.sql", "chatwoot/01_schema.sql", *VIEW_DEFINITIONS[view], "chatwoot/03_grants.sql")


def apply_schema(conn: psycopg.Connection, view: str | None = None) -> None:
    """Create the reader role, the base tables, the view and the grants; safe to repeat.

    ``view`` picks the definition of the analytics view ("deployed", the default, or
    "indexable"); re-applying with the other one switches an existing source in place.
    """
    files = schema_files(view)
    started = time.monotonic()
    with conn.transaction():
        for name in files:
            conn.execute(sql_text(name))
    log.info("event=source_schema_applied files=%d view=%s seconds=%.2f", len(files),
             view or settings.SOURCE_VIEW.get(), time.monotonic() - started)


def apply_grants(conn: psycopg.Connection) -> None:
    """The reader's grants and revocations alone: what a copy of a source database (CREATE DATABASE
    ... TEMPLATE) does not inherit, its database-level privileges."""
    conn.execute(sql_text("chatwoot/03_grants.sql"))


def _run_script(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> None:
    """Run a generator script: its head binds the parameters, its body runs as one script.

    psycopg sends bind parameters with single statements only, so the head stores them in a temp
    table and the body (many statements, no placeholders) reads them from there.
    """
    head, _, body = sql_text(name).partition(PARAMETERS_END)
    for statement in _statements(head):
        conn.execute(statement, params)
    conn.execute(body)


def _statements(text: str) -> list[str]:
    """The statements of a parameter head: plain statements, whole-line comments, no dollar quotes."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in code.split(";") if part.strip()]


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)
    return dict(zip(TABLES, one_row(conn.execute(query)), strict=True))


def generate(
    conn: psycopg.Connection,
    *,
    accounts: int = 3,
    inboxes_per_account: int = 2,
    conversations: int = 2000,
    messages_per_conversation: int = 10,
    seed: int = 42,
    until: datetime | None = None,
    days: int = 180,
) -> dict[str, int]:
    """Replace the source's rows with a generated data set; the row count of each table.

    Clears the tables first, so calling it twice with the same arguments leaves the same rows.
    ``until`` (naive UTC) is the source's "now": data spreads over ``days`` days before it.
    """
    if accounts < 1 or inboxes_per_account < 1 or conversations < 1 or messages_per_conversation < 1 or days < 2:
        raise ValueError("accounts, inboxes_per_account, conversations and messages_per_conversation must be >= 1, days >= 2")
    params = {
        "seed": seed,
        "accounts": accounts,
        "inboxes_per_account": inboxes_per_account,
        "conversations": conversations,
        "messages_per_conversation": messages_per_conversation,
        "until": until or DEFAULT_UNTIL,
        "days": days,
    }
    started = time.monotonic()
    with conn.transaction():
        conn.execute(sql_text("chatwoot/seed_common.sql"))
        _run_script(conn, "chatwoot/seed_generate.sql", params)
        counts = _counts(conn)
    log.info(
        "event=source_generated seed=%s conversations=%d messages=%d csat=%d seconds=%.2f",
        seed,
        counts["conversations"],
        counts["messages"],
        counts["csat_survey_responses"],
        time.monotonic() - started,
    )
    return counts


def add_activity(
    conn: psycopg.Connection,
    *,
    touch_fraction: float = 0.01,
    new_conversations: int = 0,
    seed: int = 1,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Simulate Chatwoot activity since the last sync, as the watermark will see it.

    A deterministic (per seed) fraction of conversations gets new messages, replies or a status
    change, and ``new_conversations`` are opened; all of them get ``updated_at = at`` (naive
    UTC; default: the source server's clock), exactly as Rails touches a conversation.
    """
    if not 0.0 <= touch_fraction <= 1.0 or new_conversations < 0:
        raise ValueError("touch_fraction must be in [0, 1] and new_conversations >= 0")
    params = {"seed": seed, "touch_fraction": touch_fraction, "new_conversations": new_conversations, "at": at}
    started = time.monotonic()
    with conn.transaction():
        conn.execute(sql_text("chatwoot/seed_common.sql"))
        _run_script(conn, "chatwoot/seed_activity.sql", params)
        row = one_row(conn.execute(sql_text("chatwoot/seed_activity_result.sql")))
    result = {
        "touched_conversations": row[0],
        "messages_added": row[1],
        "status_changes": row[2],
        "new_conversations": row[3],
        "at": row[4],
    }
    log.info(
        "event=source_activity seed=%s touched=%d messages_added=%d status_changes=%d new_conversations=%d at=%s "
        "seconds=%.2f",
        seed,
        result["touched_conversations"],
        result["messages_added"],
        result["status_changes"],
        result["new_conversations"],
        result["at"].isoformat(),
        time.monotonic() - started,
    )
    return result


def source_fingerprint(conn: psycopg.Connection) -> str:
    """md5 over every row of the view in a stable order, without the clock-relative columns.

    Two sources with the same fingerprint expose the same data to the ETL (determinism tests).
    """
    return one_row(conn.execute(sql_text("chatwoot/source_fingerprint.sql"), {"skip": list(NOW_RELATIVE_COLUMNS)}))[0]
