"""The tenant registry snapshot: which tenant DAGs exist, read at parse time without any database.

The maintenance DAG ``chatwoot_tenant_registry`` (or ``chatwoot-etl registry refresh``) writes it
from ``tenants`` / ``inbox_tenant_mapping``; the DAG files only read it. Writes are atomic
(temp file + fsync + rename) and a copy of the last good snapshot is kept next to it, so a
half-written or hand-broken file never makes tenant DAGs disappear. When the analytics database
is down the refresh fails and the last good snapshot stays in place.

Stdlib only: this module is imported by the DAG processor on every parse.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatwoot_etl import settings
from chatwoot_etl.contract import DEFAULT_TIMEZONE, SYNCED_STATUSES

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
ENV_PATH = settings.REGISTRY_PATH.env_var
DEFAULT_SCHEDULE = settings.DEFAULT_SCHEDULE.default


def snapshot_path() -> Path:
    """CHATWOOT_ETL_REGISTRY_PATH, else .local/registry/tenants.json (point it at a shared volume)."""
    configured = settings.REGISTRY_PATH.get()
    if configured:
        return Path(configured)
    from chatwoot_etl.paths import LOCAL_DIR

    return LOCAL_DIR / "registry" / "tenants.json"


def last_good_path(path: Path) -> Path:
    return path.with_name(path.name + ".last-good")


def default_schedule() -> str:
    return settings.DEFAULT_SCHEDULE.get()


@dataclass(frozen=True)
class TenantEntry:
    id: int
    name: str
    slug: str
    timezone: str = DEFAULT_TIMEZONE
    schedule: str | None = None   # the tenant's own cron (tenants.sync_schedule), None = default
    inboxes: list[int] = field(default_factory=list)

    @property
    def dag_id(self) -> str:
        return dag_id_for(self.id)


@dataclass(frozen=True)
class Registry:
    tenants: tuple[TenantEntry, ...]
    generated_at: str | None = None
    origin: str = "empty"          # 'snapshot', 'last-good' or 'empty': where this registry was read from


def dag_id_for(tenant_id: int) -> str:
    return f"chatwoot_sync_tenant_{int(tenant_id)}"


def _parse(text: str) -> Registry:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or not isinstance(data.get("tenants"), list):
        raise ValueError("not a chatwoot_etl registry snapshot (version 1)")
    tenants = []
    for item in data["tenants"]:
        tenants.append(TenantEntry(
            id=int(item["id"]), name=str(item["name"]), slug=str(item["slug"]),
            timezone=str(item.get("timezone") or DEFAULT_TIMEZONE),
            schedule=item.get("schedule") or None,
            inboxes=[int(i) for i in item.get("inboxes") or []],
        ))
    return Registry(tuple(tenants), generated_at=data.get("generated_at"))


def read(path: Path | None = None) -> Registry:
    """The snapshot, else the last good copy, else an empty registry; never raises."""
    path = path or snapshot_path()
    for candidate, origin in ((path, "snapshot"), (last_good_path(path), "last-good")):
        try:
            registry = _parse(candidate.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("event=registry_unreadable path=%s error=%r", candidate, str(exc))
            continue
        return Registry(registry.tenants, registry.generated_at, origin)
    log.warning("event=registry_missing path=%s note=\"no tenant DAGs until chatwoot_tenant_registry runs\"", path)
    return Registry(())


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(tenants: list[TenantEntry], path: Path | None = None) -> Path:
    """Atomically replace the snapshot (and its last-good copy) with tenants."""
    path = path or snapshot_path()
    document = {
        "version": FORMAT_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tenants": [asdict(t) for t in sorted(tenants, key=lambda t: t.id)],
    }
    text = json.dumps(document, indent=1, sort_keys=True)
    _parse(text)  # never publish something the reader would refuse
    _atomic_write(path, text)
    _atomic_write(last_good_path(path), text)
    return path


def entries_from_rows(rows: list[tuple[Any, ...]]) -> list[TenantEntry]:
    """Rows of etl/registry_tenants.sql -> entries; a schedule that cannot schedule a DAG is
    reported (tenant, key, value, why) and the default used, so one bad row never stops the others."""
    from chatwoot_etl.schedules import schedule_problem

    entries = []
    for tenant_id, name, slug, tz, schedule, inboxes in rows:
        problem = schedule_problem(schedule) if schedule is not None else None
        if problem:
            log.error("event=registry_bad_schedule tenant=%s key=tenants.sync_schedule value=%r problem=%r "
                      "note=\"default schedule used; fix it with: chatwoot-etl tenants set-schedule\"",
                      tenant_id, schedule, problem)
            schedule = None
        entries.append(TenantEntry(int(tenant_id), name, slug, tz or DEFAULT_TIMEZONE,
                                   schedule.strip() if schedule else None, sorted(int(i) for i in inboxes or [])))
    return entries


def refresh(path: Path | None = None) -> dict[str, Any]:
    """Rebuild the snapshot from the analytics database; raises (snapshot untouched) when it is down."""
    from chatwoot_etl import connections
    from chatwoot_etl.paths import sql_text

    path = path or snapshot_path()
    before = {t.id for t in read(path).tenants}
    with connections.analytics("registry") as conn:
        rows = conn.execute(sql_text("etl/registry_tenants.sql"), {"synced_statuses": list(SYNCED_STATUSES)}).fetchall()
    entries = entries_from_rows(rows)
    write(entries, path)
    after = {t.id for t in entries}
    summary: dict[str, Any] = {"path": str(path), "tenants": len(entries), "added": sorted(after - before),
               "removed": sorted(before - after)}
    log.info("event=registry_refreshed path=%s tenants=%d added=%s removed=%s", path, len(entries),
             ",".join(map(str, summary["added"])) or "none", ",".join(map(str, summary["removed"])) or "none")
    return summary
