"""Which relation a sync reads from the source, so that its cost follows the tenant's change.

The deployed view aggregates the whole messages table per conversation: every read of it, however
narrow, pays for every message, for every tenant, at every run. Where the source role may read
Chatwoot's base tables, the extract reads the same columns through an index-friendly query over
them (include/sql/etl/source_base_tables.sql) instead, but only while a check on a sample found
that query equal to the view on every contract column. The check is stored per definition of the
view (an md5 over it and the views it is built on) in etl_source_checks and trusted for
``source_check_hours``; one check serves every tenant (an advisory lock makes concurrent runs wait
for it instead of repeating it). A changed view definition, a failed or unequal check, or
unreadable base tables all mean the view itself, with the reason recorded in the run.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from chatwoot_etl import contract, settings
from chatwoot_etl.connections import one_row
from chatwoot_etl.paths import sql_text

VIEW = "view"
BASE_TABLES = "base_tables"
# What source_base_tables.sql reads.
READ_TABLES = ("accounts", "contacts", "conversations", "csat_survey_responses", "inboxes", "messages", "teams",
               "users")
SAMPLE = {"recent": 200, "with_csat": 20, "without_messages": 20, "random": 60}
CHECK_LOCK = "chatwoot_etl:source_check"
# What the source raises when it cannot compute a row (a value out of range, an infinite
# timestamp it cannot convert), as opposed to a connection or permission problem.
ROW_ERRORS: tuple[type[psycopg.Error], ...] = (psycopg.errors.DataError, psycopg.errors.FeatureNotSupported)
_SHOWN_DIFFERENCES = 3


@dataclass(frozen=True)
class SourcePlan:
    """The relation a run reads and why (shown by `source inspect`, recorded in etl_control)."""

    strategy: str
    reason: str
    fingerprint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "reason": self.reason, "view_fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Check:
    equal: bool
    rows_compared: int
    detail: str
    conclusive: bool = True  # False: the view could not compute its own sample; check again next run


@functools.cache
def relation(strategy: str) -> sql.Composable:
    """What the extract reads FROM for a strategy."""
    if strategy == BASE_TABLES:
        query = sql_text("etl/source_base_tables.sql").strip().rstrip(";")
        return sql.SQL("(\n{}\n) AS source_rows").format(sql.SQL(query))
    return sql.Identifier(contract.SOURCE_VIEW)


def prepare(src: psycopg.Connection, strategy: str) -> None:
    """Planner settings for the read, inside its transaction.

    The source session turns nested loops off against the deployed view's trap (whole-table
    aggregates re-run inside a nested loop); the base-table query has no such aggregate, and its
    joins to contacts, inboxes, users and CSAT answers are index lookups only in nested loops:
    without them every read hashes those whole tables, a cost that grows with the source.
    """
    if strategy == BASE_TABLES:
        src.execute("SET LOCAL enable_nestloop TO DEFAULT")


def exact_plan(src: psycopg.Connection) -> None:
    """Index nested loops only, for a read of a few known conversations: the source then computes
    exactly those rows (a hash join would compute a per-conversation view for every conversation,
    including ones it cannot compute). Inside the caller's transaction (SET LOCAL)."""
    for name, value in (("enable_nestloop", "on"), ("enable_hashjoin", "off"), ("enable_mergejoin", "off")):
        src.execute(f"SET LOCAL {name} = {value}")


def unreadable_tables(src: psycopg.Connection) -> list[str]:
    rows = src.execute(sql_text("etl/source_unreadable_tables.sql"), {"tables": list(READ_TABLES)}).fetchall()
    return [row[0] for row in rows]


def view_fingerprint(src: psycopg.Connection) -> str | None:
    return one_row(src.execute(sql_text("etl/source_view_fingerprint.sql"), {"view": contract.SOURCE_VIEW}))[0]


def sample_rows(src: psycopg.Connection, strategy: str, conversation_ids: Sequence[int]) -> list[tuple]:
    statement = sql.SQL("SELECT {} FROM {} WHERE conversation_id = ANY(%(ids)s)").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in contract.SOURCE_COLUMNS), relation(strategy))
    return src.execute(statement, {"ids": list(conversation_ids)}).fetchall()


def compare_rows(view_rows: list[tuple], base_rows: list[tuple]) -> Check:
    """The two row sets as multisets, column by column; the first differences named."""
    columns = list(contract.SOURCE_COLUMNS)
    csat = columns.index("csat_response_id")

    def ordered(rows: list[tuple]) -> list[tuple]:
        return sorted(rows, key=lambda row: (row[0], row[csat] is not None, row[csat] or 0, _canonical(row)))

    differences: list[str] = []
    if len(view_rows) != len(base_rows):
        differences.append(f"{len(view_rows)} view rows against {len(base_rows)} base-table rows")
    for seen, built in zip(ordered(view_rows), ordered(base_rows), strict=False):
        for name, left, right in zip(columns, seen, built, strict=True):
            if left != right:
                differences.append(f"conversation {seen[0]}: {name} is {left!r} in the view, {right!r} from the base tables")
                break
    shown = "; ".join(differences[:_SHOWN_DIFFERENCES])
    more = f" (and {len(differences) - _SHOWN_DIFFERENCES} more)" if len(differences) > _SHOWN_DIFFERENCES else ""
    return Check(equal=not differences, rows_compared=len(view_rows), detail=shown + more)


def _canonical(row: tuple) -> str:
    return json.dumps(row, default=str, sort_keys=True)


def check_on_sample(src: psycopg.Connection) -> Check:
    """Compare the base-table query with the view on a sample, inside the caller's snapshot.

    Each read runs under a savepoint: a base-table query the source cannot run (a Chatwoot version
    without a column it reads) is a failed check, not a failed snapshot; a sample the view itself
    cannot compute (a row it raises on) proves nothing either way.
    """
    try:
        with src.transaction(force_rollback=True):
            exact_plan(src)  # a few hundred known ids: computed alone, through index lookups
            ids = [row[0] for row in src.execute(sql_text("etl/source_check_sample.sql"), SAMPLE).fetchall()]
            view_rows = sample_rows(src, VIEW, ids)
    except ROW_ERRORS as exc:
        return Check(equal=False, rows_compared=0, conclusive=False,
                     detail=f"the view cannot compute its sample ({describe_error(exc)}): checked again next run")
    try:
        with src.transaction(force_rollback=True):
            exact_plan(src)
            base_rows = sample_rows(src, BASE_TABLES, ids)
    except psycopg.Error as exc:
        return Check(equal=False, rows_compared=0, detail=f"the base-table query failed: {describe_error(exc)}")
    return compare_rows(view_rows, base_rows)


def describe_error(exc: psycopg.Error) -> str:
    """An error of the source in one line: its class and the server's message."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _recorded_check(src: psycopg.Connection, analytics: psycopg.Connection, fingerprint: str) -> Check:
    """The current definition's recent check, or a new one (one at a time, shared by every tenant)."""
    params = {"fingerprint": fingerprint, "max_age_seconds": settings.SOURCE_CHECK_HOURS.get() * 3600}
    with analytics.transaction():
        analytics.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (CHECK_LOCK,))
        row = analytics.execute(sql_text("etl/source_check_latest.sql"), params).fetchone()
        if row is not None:
            return Check(equal=row[0], rows_compared=row[1], detail=row[2] or "")
        check = check_on_sample(src)
        if check.conclusive and (check.rows_compared or not check.equal):  # else: check again next run
            analytics.execute(sql_text("etl/source_check_record.sql"), {
                "fingerprint": fingerprint, "equal": check.equal, "rows_compared": check.rows_compared,
                "detail": check.detail or None})
    return check


def choose(src: psycopg.Connection, analytics: psycopg.Connection | None = None) -> SourcePlan:
    """The plan for a read on src (inside its snapshot). Without analytics, the check is run afresh."""
    if settings.SOURCE_STRATEGY.get() == VIEW:
        return SourcePlan(VIEW, "source_strategy is set to view")
    missing = unreadable_tables(src)
    if missing:
        return SourcePlan(VIEW, f"the source role cannot read the base table(s) {', '.join(missing)}")
    fingerprint = view_fingerprint(src)
    if fingerprint is None:
        return SourcePlan(VIEW, f"{contract.SOURCE_VIEW} is not a view whose definition can be read")
    check = check_on_sample(src) if analytics is None else _recorded_check(src, analytics, fingerprint)
    if not check.equal:
        return SourcePlan(VIEW, f"the base-table query differs from the view: {check.detail}", fingerprint)
    if not check.rows_compared:
        return SourcePlan(VIEW, "the source has no conversation to compare the base-table query on yet", fingerprint)
    return SourcePlan(BASE_TABLES, f"base tables readable and equal to the view on {check.rows_compared} sampled "
                                   f"rows (definition {fingerprint[:12]})", fingerprint)
