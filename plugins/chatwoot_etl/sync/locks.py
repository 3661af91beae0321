"""Per-tenant advisory locks on the analytics database.

The key is (namespace, tenant_id): deterministic in every process, unlike Python's hash().
The lock is session-level and held on the sync's one dedicated connection, so it is taken and
released on the same connection and vanishes with it if the process dies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from chatwoot_etl.connections import one_row
from chatwoot_etl.errors import LockRefused
from chatwoot_etl.paths import sql_text

# 'CWET' as a signed int4: the namespace that keeps our keys apart from other advisory locks.
LOCK_NAMESPACE = 0x4357_4554
_LOCK_POLL_SECONDS = 1.0


def lock_key(tenant_id: int) -> tuple[int, int]:
    return LOCK_NAMESPACE, int(tenant_id)


@dataclass(frozen=True)
class LockHolder:
    pid: int
    application_name: str
    backend_start: str
    running_execution_id: str | None
    running_since: str | None

    def describe(self) -> str:
        since = self.running_since or self.backend_start
        run = f", run {self.running_execution_id}" if self.running_execution_id else ""
        return f"pid {self.pid} ({self.application_name or 'no application_name'}{run}) since {since}"


def find_holder(conn: psycopg.Connection, tenant_id: int) -> LockHolder | None:
    namespace, key = lock_key(tenant_id)
    row = conn.execute(
        sql_text("etl/lock_holder.sql"), {"namespace": namespace, "key": key, "tenant_id": tenant_id}
    ).fetchone()
    if row is None:
        return None
    pid, application_name, backend_start, execution_id, started_at = row
    return LockHolder(
        pid=pid,
        application_name=application_name,
        backend_start=backend_start.isoformat(),
        running_execution_id=str(execution_id) if execution_id else None,
        running_since=started_at.isoformat() if started_at else None,
    )


@contextmanager
def tenant_lock(conn: psycopg.Connection, tenant_id: int, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the tenant's lock for the block, or raise LockRefused. conn must be autocommit.

    With wait_seconds > 0 the lock is retried (never queued behind the holder, so a waiting
    backfill cannot starve a scheduled run) until it is free or the time is up.
    """
    namespace, key = lock_key(tenant_id)
    params = {"namespace": namespace, "key": key}
    deadline = time.monotonic() + wait_seconds
    while not one_row(conn.execute(sql_text("etl/try_tenant_lock.sql"), params))[0]:
        if time.monotonic() >= deadline:
            raise LockRefused(tenant_id, find_holder(conn, tenant_id))
        time.sleep(min(_LOCK_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
    try:
        yield
    finally:
        if not conn.closed:
            conn.execute(sql_text("etl/release_tenant_lock.sql"), params)
