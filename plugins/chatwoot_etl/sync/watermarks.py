"""Per-tenant watermarks: the last (updated_at, conversation_id) written, in the analytics database.

The database row is the truth and moves in the same transaction as the chunk it covers. The Airflow
Variable ``chatwoot_sync_watermark_tenant_<id>`` is a mirror for operators: an earlier value
written there is honoured as a rewind; a later or unreadable one is refused and repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from chatwoot_etl.clock import naive_utc
from chatwoot_etl.errors import VariableStoreError
from chatwoot_etl.paths import sql_text

if TYPE_CHECKING:
    import psycopg

    from chatwoot_etl.logs import EventLogger


@dataclass(frozen=True, order=True)
class Watermark:
    updated_at: datetime  # aware, UTC
    conversation_id: int

    def to_json(self) -> str:
        return json.dumps(
            {"updated_at": self.updated_at.astimezone(UTC).isoformat(), "conversation_id": self.conversation_id}
        )

    @classmethod
    def from_json(cls, text: str) -> Watermark:
        """Parse a mirrored value; ValueError when it is not a watermark."""
        try:
            data = json.loads(text)
            moment = datetime.fromisoformat(data["updated_at"])
            conversation_id = int(data["conversation_id"])
        except (TypeError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a watermark: {text!r}") from exc
        if moment.tzinfo is None:
            raise ValueError(f"watermark time has no time zone: {text!r}")
        return cls(moment.astimezone(UTC), conversation_id)

    def naive_utc(self) -> datetime:
        """The form the source's naive-UTC columns compare with."""
        return naive_utc(self.updated_at)


def variable_key(tenant_id: int) -> str:
    return f"chatwoot_sync_watermark_tenant_{tenant_id}"


class VariableStore(Protocol):
    """Where the mirror lives (Airflow Variables); raises VariableStoreError when unreachable."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


def read(conn: psycopg.Connection, tenant_id: int) -> Watermark | None:
    row = conn.execute(sql_text("etl/read_watermark.sql"), {"tenant_id": tenant_id}).fetchone()
    return Watermark(row[0].astimezone(UTC), row[1]) if row else None


def advance(conn: psycopg.Connection, tenant_id: int, mark: Watermark, execution_id: str) -> None:
    """Move the watermark forward to mark (never backwards); call inside the chunk's transaction."""
    conn.execute(
        sql_text("etl/advance_watermark.sql"),
        {"tenant_id": tenant_id, "updated_at": mark.updated_at, "conversation_id": mark.conversation_id,
         "execution_id": execution_id},
    )


def rewind(conn: psycopg.Connection, tenant_id: int, mark: Watermark, execution_id: str) -> None:
    """Set the watermark to an earlier point (an operator's rewind)."""
    conn.execute(
        sql_text("etl/rewind_watermark.sql"),
        {"tenant_id": tenant_id, "updated_at": mark.updated_at, "conversation_id": mark.conversation_id,
         "execution_id": execution_id},
    )


def read_mirrored(conn: psycopg.Connection, tenant_id: int) -> str | None:
    row = conn.execute(sql_text("etl/read_watermark.sql"), {"tenant_id": tenant_id}).fetchone()
    return row[2] if row else None


def record_mirrored(conn: psycopg.Connection, tenant_id: int, value: str) -> None:
    conn.execute(sql_text("etl/record_mirrored.sql"), {"tenant_id": tenant_id, "value": value})


@dataclass(frozen=True)
class MirrorDecision:
    """What the Variable says relative to the database.

    'in_sync', 'missing', 'rewind' (an operator's earlier value), 'stale' (our own last published
    value, left behind by a failed publish), 'ahead', 'unreadable'.
    """

    action: str
    variable_mark: Watermark | None = None
    detail: str = ""


def compare_mirror(
    database_mark: Watermark | None, variable_value: str | None, mirrored_value: str | None = None
) -> MirrorDecision:
    if variable_value is None:
        return MirrorDecision("missing")
    try:
        mark = Watermark.from_json(variable_value)
    except ValueError as exc:
        return MirrorDecision("unreadable", detail=str(exc))
    if database_mark is None:
        # Nothing synced yet: a Variable cannot point before the beginning; it is stale.
        return MirrorDecision("ahead", mark, "the database has no watermark for this tenant")
    if mark == database_mark:
        return MirrorDecision("in_sync", mark)
    if mark < database_mark:
        if mirrored_value is not None and _same_mark(mirrored_value, mark):
            return MirrorDecision("stale", mark, "the Variable still holds the value last published; a publish failed")
        return MirrorDecision("rewind", mark)
    return MirrorDecision("ahead", mark, f"the database watermark is {database_mark.to_json()}")


def _same_mark(text: str, mark: Watermark) -> bool:
    try:
        return Watermark.from_json(text) == mark
    except ValueError:
        return False


def adopt_mirror(
    analytics: psycopg.Connection, variables: VariableStore | None, tenant_id: int, execution_id: str,
    mark: Watermark | None, log: EventLogger,
) -> tuple[Watermark | None, dict[str, Any]]:
    """At a run's start: honour an operator's rewind of the Variable; refuse a forward or unreadable edit.

    The watermark the run starts from, and what happened (for the run's details).
    """
    if variables is None:
        return mark, {}
    key = variable_key(tenant_id)
    try:
        decision = compare_mirror(mark, variables.get(key), read_mirrored(analytics, tenant_id))
    except VariableStoreError as exc:
        log.warning("variable_unavailable", variable=key, error=exc)
        return mark, {"variable": "unavailable"}
    if decision.action == "rewind" and mark is not None and decision.variable_mark is not None:
        rewind(analytics, tenant_id, decision.variable_mark, execution_id)
        log.warning("watermark_rewound", variable=key, old=mark.to_json(), new=decision.variable_mark.to_json())
        return decision.variable_mark, {"rewind": {"from": mark.to_json(), "to": decision.variable_mark.to_json()}}
    if decision.action in ("ahead", "unreadable", "stale"):
        log.warning("variable_refused", variable=key, reason=decision.action, detail=decision.detail,
                    note="the database watermark stands; the Variable is repaired at the end of the run")
        return mark, {"variable_refused": {"reason": decision.action, "detail": decision.detail}}
    return mark, {}


def publish_mirror(analytics: psycopg.Connection, variables: VariableStore | None, tenant_id: int,
                   mark: Watermark | None, log: EventLogger) -> bool:
    """Write the database watermark to the tenant's Variable and remember what was written.

    A warning, never a failure, if the Variable store cannot be reached: the database is the truth.
    """
    if variables is None or mark is None:
        return False
    key = variable_key(tenant_id)
    try:
        variables.set(key, mark.to_json())
    except VariableStoreError as exc:
        log.warning("variable_not_published", variable=key, error=exc)
        return False
    record_mirrored(analytics, tenant_id, mark.to_json())
    return True
