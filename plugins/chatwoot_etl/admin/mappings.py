"""Tenants and the inbox -> tenant mapping: validated changes, recorded with who and when.

Rules (each one a test):
- an inbox belongs to at most one tenant: ``inbox_tenant_mapping.inbox_id`` is the primary key, every
  change of one inbox locks its row first (``SELECT ... FOR UPDATE``) and a new mapping is inserted
  with ``ON CONFLICT DO NOTHING``, so of several concurrent ``map`` calls exactly one wins;
- ``map`` never takes an inbox that is active under another tenant (that is ``move``, explicitly);
- the inbox must exist in the source and belong to the tenant's Chatwoot account, unless ``force``;
- every change is written to ``inbox_mapping_audit`` by a trigger, with the actor set here.

Changes take effect on the tenant's next sync, as the engine resolves mappings: a new, re-activated
or moved mapping has a newer ``updated_at`` than the inbox's ``etl_inbox_sync_state``, so the next
sync reads that inbox's whole history, and rows stored under the old tenant move with it.

Functions take open connections (analytics in autocommit mode; they open their own transactions)
and return plain dicts. Pure helpers carry the decisions and are unit tested on their own.
"""

from __future__ import annotations

import getpass
import logging
import re
import zoneinfo
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chatwoot_etl.connections import one_row
from chatwoot_etl.contract import DEFAULT_TIMEZONE, SYNCED_STATUSES, TENANT_STATUSES
from chatwoot_etl.errors import AdminError
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.schedules import schedule_problem

log = EventLogger(__name__)

STATUSES = TENANT_STATUSES
ADMIN_TENANT_ID = 0
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# ---------------------------------------------------------------------------------------------
# pure helpers


def actor(by: str | None) -> str:
    """Who makes a change: --by, else the OS user."""
    if by is not None and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in the environment
        return "unknown"


def parse_tenant_ref(text: str | int) -> tuple[int | None, str | None]:
    """A tenant reference: an id (digits) or a slug."""
    value = str(text).strip()
    if re.fullmatch(r"\d{1,9}", value):
        return int(value), None
    if _SLUG.fullmatch(value) and not value.isdigit():
        return None, value
    raise AdminError(f"unknown tenant {value!r}: give a tenant id or slug")


def validate_slug(slug: str) -> str:
    if not slug or len(slug) > 63 or not _SLUG.fullmatch(slug):
        raise AdminError(f"invalid slug {slug!r}: use lowercase letters, digits and single hyphens (at most 63)")
    if slug.isdigit():
        raise AdminError(f"invalid slug {slug!r}: a slug cannot be only digits (it would read as a tenant id)")
    return slug


def validate_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise AdminError("invalid name: a tenant needs a non-empty name")
    return name


def validate_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise AdminError(f"unknown time zone {name!r}: use an IANA name such as {DEFAULT_TIMEZONE}") from exc
    return name


def validate_status(status: str) -> str:
    if status not in STATUSES:
        raise AdminError(f"invalid status {status!r}: one of {', '.join(STATUSES)}")
    return status


def describe_tenant(tenant: dict[str, Any]) -> str:
    return f"tenant {tenant['id']} ({tenant['slug']})"


def check_inbox_for_tenant(
    inbox_id: int, source_inbox: dict[str, Any] | None, tenant: dict[str, Any], force: bool,
) -> list[str]:
    """Validate mapping inbox_id to tenant; the warnings of a forced mapping. Raises AdminError.

    An inbox the source does not know cannot be mapped, even forced (there is nothing to sync);
    an inbox of another Chatwoot account can, with force.
    """
    if tenant["id"] == ADMIN_TENANT_ID:
        raise AdminError("tenant 0 is the platform admin tenant: its users are the administrators and it owns no inbox")
    if source_inbox is None:
        raise AdminError(f"unknown inbox {inbox_id}: the source has no inbox with that id")
    if tenant["account_id"] is None:
        if not force:
            raise AdminError(f"{describe_tenant(tenant)} has no Chatwoot account_id, so inbox {inbox_id} "
                             f"(account {source_inbox['account_id']}) cannot be checked; use --force to map it anyway")
        return [f"{describe_tenant(tenant)} has no account_id; mapped inbox {inbox_id} without the account check"]
    if source_inbox["account_id"] != tenant["account_id"]:
        if not force:
            raise AdminError(f"inbox {inbox_id} belongs to account {source_inbox['account_id']}, not to account "
                             f"{tenant['account_id']} of {describe_tenant(tenant)}; use --force if that is intended")
        return [f"inbox {inbox_id} of account {source_inbox['account_id']} mapped to {describe_tenant(tenant)} "
                f"(account {tenant['account_id']}) by --force"] + check_inbox_limit(inbox_id, tenant, force)
    return check_inbox_limit(inbox_id, tenant, force)


def check_inbox_limit(inbox_id: int, tenant: dict[str, Any], force: bool) -> list[str]:
    """The plan's tenants.max_inboxes (-1 or NULL: unlimited), counted over the active inboxes."""
    limit, active = tenant.get("max_inboxes"), tenant.get("inbox_ids") or []
    if limit is None or limit < 0 or inbox_id in active or len(active) < limit:
        return []
    message = (f"{describe_tenant(tenant)} has {len(active)} active inbox(es) and its plan "
               f"({tenant.get('plan') or 'no plan'}) allows {limit} (tenants.max_inboxes)")
    if not force:
        raise AdminError(f"{message}; raise max_inboxes or use --force")
    return [f"{message}; mapped inbox {inbox_id} beyond it by --force"]


def status_warning(tenant: dict[str, Any]) -> list[str]:
    if tenant["status"] not in SYNCED_STATUSES:
        return [f"{describe_tenant(tenant)} is {tenant['status']}: it is not synced until it is active or trial"]
    return []


def map_decision(current: dict[str, Any] | None, tenant_id: int) -> str:
    """What `map` does given the inbox's current mapping row: insert, activate, noop, or conflict."""
    if current is None:
        return "insert"
    if current["is_active"]:
        return "noop" if current["tenant_id"] == tenant_id else "conflict"
    return "activate"


def move_decision(current: dict[str, Any] | None, tenant_id: int) -> str:
    """What `move` does: unmapped (error), noop, activate (same tenant, inactive) or move."""
    if current is None:
        return "unmapped"
    if current["tenant_id"] == tenant_id:
        return "noop" if current["is_active"] else "activate"
    return "move"


def discovery_state(mapping: dict[str, Any] | None, tenant_id: int) -> str:
    """How a source inbox of the tenant's account stands in the mapping table."""
    if mapping is None:
        return "unmapped"
    if mapping["tenant_id"] == tenant_id:
        return "mapped" if mapping["is_active"] else "inactive"
    return "other-tenant" if mapping["is_active"] else "inactive-other-tenant"


def compute_drift(
    tenants: list[dict[str, Any]], mappings: list[dict[str, Any]], source_inboxes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Drift between the mapping table and the source.

    tenants: id, slug, account_id, status, active_inboxes (not deleted, not the admin tenant);
    mappings: every mapping row (inbox_id, tenant_id, is_active, inbox_name);
    source_inboxes: inbox_id, account_id, name, channel_type, conversations, for the tenants'
    accounts and for every mapped inbox id that still exists.
    """
    by_inbox = {m["inbox_id"]: m for m in mappings}
    in_source = {i["inbox_id"]: i for i in source_inboxes}
    tenant_by_id = {t["id"]: t for t in tenants}
    tenant_by_account = {t["account_id"]: t for t in tenants if t["account_id"] is not None}

    unmapped = []
    for inbox in sorted(source_inboxes, key=lambda i: i["inbox_id"]):
        tenant = tenant_by_account.get(inbox["account_id"])
        if tenant is None or inbox["inbox_id"] in by_inbox:
            continue
        unmapped.append({"tenant_id": tenant["id"], "tenant_slug": tenant["slug"], "account_id": inbox["account_id"],
                         "inbox_id": inbox["inbox_id"], "inbox_name": inbox["name"],
                         "channel_type": inbox["channel_type"], "conversations": inbox.get("conversations")})
    vanished = [
        {"tenant_id": m["tenant_id"], "tenant_slug": m.get("tenant_slug"), "inbox_id": m["inbox_id"],
         "inbox_name": m.get("inbox_name")}
        for m in sorted(mappings, key=lambda m: m["inbox_id"])
        if m["is_active"] and m["inbox_id"] not in in_source
    ]
    foreign = []
    for m in sorted(mappings, key=lambda m: m["inbox_id"]):
        found, owner = in_source.get(m["inbox_id"]), tenant_by_id.get(m["tenant_id"])
        if not m["is_active"] or found is None or owner is None:
            continue
        if owner["account_id"] != found["account_id"]:
            foreign.append({"tenant_id": owner["id"], "tenant_slug": owner["slug"],
                            "tenant_account_id": owner["account_id"], "inbox_id": m["inbox_id"],
                            "inbox_account_id": found["account_id"], "inbox_name": found["name"]})
    without = [
        {"tenant_id": t["id"], "tenant_slug": t["slug"], "account_id": t["account_id"], "status": t["status"]}
        for t in sorted(tenants, key=lambda t: t["id"])
        if t["status"] in SYNCED_STATUSES and not t["active_inboxes"]
    ]
    report: dict[str, Any] = {
        "unmapped_source_inboxes": unmapped,
        "vanished_inboxes": vanished,
        "tenants_without_active_inbox": without,
        "account_mismatches": foreign,
    }
    report["drift"] = any(report[key] for key in list(report))
    report["counts"] = {key: len(value) for key, value in report.items() if isinstance(value, list)}
    return report


# ---------------------------------------------------------------------------------------------
# database edge: reads


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of include/sql/<name> as dicts."""
    return conn.cursor(row_factory=dict_row).execute(sql_text(name), params).fetchall()


def _row(conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(sql_text(name), params).fetchone()


def _one(conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The row of a statement that always returns one (a RETURNING write)."""
    return one_row(conn.cursor(row_factory=dict_row).execute(sql_text(name), params))


def get_tenant(analytics: psycopg.Connection, ref: str | int) -> dict[str, Any]:
    tenant_id, slug = parse_tenant_ref(ref)
    tenant = _row(analytics, "admin/tenant_lookup.sql", {"id": tenant_id, "slug": slug})
    if tenant is None:
        raise AdminError(f"unknown tenant {ref!s}: no tenant with that {'id' if tenant_id is not None else 'slug'}")
    return tenant


def list_tenants(analytics: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(analytics, "admin/tenants_list.sql")


def source_inbox(src: psycopg.Connection, inbox_id: int) -> dict[str, Any] | None:
    return _row(src, "admin/source_inbox.sql", {"inbox_id": inbox_id})


def source_inboxes(src: psycopg.Connection, account_ids: list[int] | None) -> list[dict[str, Any]]:
    return _rows(src, "admin/source_inboxes.sql", {"account_ids": account_ids})


def all_mappings(analytics: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(analytics, "admin/mappings_all.sql")


def loaded_rows(analytics: psycopg.Connection, inbox_id: int) -> dict[int, int]:
    return dict(analytics.execute(sql_text("admin/loaded_rows_of_inbox.sql"), {"inbox_id": inbox_id}).fetchall())


def audit_trail(analytics: psycopg.Connection, inbox_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    return _rows(analytics, "admin/audit_list.sql", {"inbox_id": inbox_id, "limit": limit})


def drift_report(analytics_conn: psycopg.Connection, source_conn: psycopg.Connection) -> dict[str, Any]:
    """Source inboxes of a tenant's account that are unmapped, mapped inboxes gone from the source,
    active tenants without an active inbox, and inboxes mapped to a tenant of another account."""
    tenants = _rows(analytics_conn, "admin/drift_tenants.sql")
    mappings = all_mappings(analytics_conn)
    accounts = sorted({t["account_id"] for t in tenants if t["account_id"] is not None})
    inboxes = source_inboxes(source_conn, accounts)
    known = {i["inbox_id"] for i in inboxes}
    missing_ids = [m["inbox_id"] for m in mappings if m["inbox_id"] not in known]
    if missing_ids:
        inboxes += _rows(source_conn, "admin/source_inbox_ids.sql", {"inbox_ids": missing_ids})
    report = compute_drift(tenants, mappings, inboxes)
    log.log(logging.WARNING if report["drift"] else logging.INFO, "mapping_drift", **report["counts"])
    return report


# ---------------------------------------------------------------------------------------------
# database edge: changes


def _set_actor(analytics: psycopg.Connection, by: str, forced: bool = False, note: str | None = None) -> None:
    analytics.execute(sql_text("admin/set_actor.sql"),
                      {"actor": by, "forced": "true" if forced else "false", "note": note or ""})


def add_tenant(
    analytics: psycopg.Connection, src: psycopg.Connection | None, *, name: str, slug: str, account_id: int,
    timezone: str = DEFAULT_TIMEZONE, status: str = "active", force: bool = False, by: str | None = None,
) -> dict[str, Any]:
    """Register a tenant for a Chatwoot account (which must exist in the source unless force)."""
    name, slug = validate_name(name), validate_slug(slug)
    timezone, status = validate_timezone(timezone), validate_status(status)
    warnings: list[str] = []
    account = None
    if src is not None:
        account = _row(src, "admin/source_account.sql", {"account_id": account_id})
    if account is None:
        if not force:
            raise AdminError(f"unknown account {account_id}: the source has no Chatwoot account with that id; "
                             "use --force to register it anyway")
        warnings.append(f"account {account_id} not found in the source; registered by --force")
    with analytics.transaction():
        owner = _row(analytics, "admin/tenant_by_account.sql", {"account_id": account_id})
        if owner is not None:
            return _adopt(analytics, owner, timezone=timezone, asked=(name, slug), warnings=warnings, by=by)
        taken = _row(analytics, "admin/tenant_lookup.sql", {"id": None, "slug": slug})
        if taken is not None:
            raise AdminError(f"slug {slug!r} is already used by tenant {taken['id']}")
        try:
            with analytics.transaction():
                row = _one(analytics, "admin/tenant_add.sql", {
                    "name": name, "slug": slug, "account_id": account_id, "status": status, "timezone": timezone})
        except psycopg.errors.UniqueViolation as exc:  # a concurrent add won the race
            what = "account" if "account_id" in str(exc.diag.constraint_name or "") else "slug"
            raise AdminError(f"{what} {account_id if what == 'account' else repr(slug)} was registered by "
                             "another session at the same time") from exc
    log.info("tenant_added", tenant=row["id"], slug=slug, account=account_id, by=actor(by), forced=force or None)
    return {**row, "adopted": False, "warnings": warnings}


def adopt_tenant(analytics: psycopg.Connection, *, account_id: int, timezone: str = DEFAULT_TIMEZONE,
                 by: str | None = None) -> dict[str, Any]:
    """Take over the existing tenant of a Chatwoot account (one the dashboards' admin created)."""
    timezone = validate_timezone(timezone)
    with analytics.transaction():
        owner = _row(analytics, "admin/tenant_by_account.sql", {"account_id": account_id})
        if owner is None:
            raise AdminError(f"no tenant has account {account_id}; register one with `tenants add`")
        return _adopt(analytics, owner, timezone=timezone, asked=None, warnings=[], by=by)


def _adopt(analytics: psycopg.Connection, owner: dict[str, Any], *, timezone: str,
           asked: tuple[str, str] | None, warnings: list[str], by: str | None) -> dict[str, Any]:
    if owner["deleted_at"] is not None:
        raise AdminError(f"account {owner.get('account_id', '')} belongs to tenant {owner['id']} ({owner['slug']}), "
                         "which is deleted (tenants.deleted_at); restore it in the dashboards' admin first")
    row = _one(analytics, "admin/tenant_adopt.sql", {"id": owner["id"], "timezone": timezone})
    notes = [f"adopted the existing tenant {row['id']} ({row['slug']}) of account {row['account_id']}: "
             f"its name, slug, status and plan are kept; time zone {timezone}"]
    if asked is not None and asked != (row["name"], row["slug"]):
        notes.append(f"the name / slug asked for ({asked[0]!r} / {asked[1]!r}) were not applied")
    log.info("tenant_adopted", tenant=row["id"], slug=row["slug"], account=row["account_id"], by=actor(by))
    return {**row, "adopted": True, "warnings": warnings, "notes": notes}


def set_tenant_status(analytics: psycopg.Connection, ref: str | int, status: str, by: str | None = None
                      ) -> dict[str, Any]:
    validate_status(status)
    tenant = get_tenant(analytics, ref)
    if tenant["id"] == ADMIN_TENANT_ID:
        raise AdminError("tenant 0 is the platform admin tenant; its status cannot be changed")
    with analytics.transaction():
        row = _row(analytics, "admin/tenant_set_status.sql", {"id": tenant["id"], "status": status})
    if row is None:
        raise AdminError(f"unknown tenant {ref!s}: it was deleted meanwhile")
    row["changed"] = row["old_status"] != row["status"]
    log.info("tenant_status_set", tenant=row["id"], old=row["old_status"], new=status, by=actor(by))
    return row


def set_tenant_schedule(analytics: psycopg.Connection, ref: str | int, schedule: str | None, by: str | None = None
                        ) -> dict[str, Any]:
    """A tenant's own cron (None: the default schedule), refused with the reason when Airflow could
    not schedule it; the DAG picks it up at the next registry refresh."""
    schedule = schedule.strip() if schedule else None
    if schedule is not None:
        problem = schedule_problem(schedule)
        if problem:
            raise AdminError(f"tenants.sync_schedule {schedule!r} for tenant {ref!s}: {problem}")
    tenant = get_tenant(analytics, ref)
    with analytics.transaction():
        row = _row(analytics, "admin/tenant_set_schedule.sql", {"id": tenant["id"], "schedule": schedule})
    if row is None:
        raise AdminError(f"unknown tenant {ref!s}: it was deleted meanwhile")
    row["changed"] = row["old_schedule"] != row["schedule"]
    row["notes"] = ["the DAG uses it from the next registry refresh (the registry DAG, or `chatwoot-etl registry "
                    "refresh`)"] if row["changed"] else [f"tenant {row['id']}'s schedule was already that"]
    log.info("tenant_schedule_set", tenant=row["id"], old=row["old_schedule"], new=schedule, by=actor(by))
    return row


def set_tenant_rules(analytics: psycopg.Connection, ref: str | int, *, pack: str | None = None,
                     override: Any = None, keep_override: bool = True, by: str | None = None) -> dict[str, Any]:
    """A tenant's lead pack (None: keep it) and override (keep_override: keep it; else the given
    one, None clearing it), checked by compiling them before anything is written."""
    from psycopg.types.json import Jsonb

    from chatwoot_etl.sync.leads.rules import load_rules

    tenant = get_tenant(analytics, ref)
    new_pack = tenant["lead_pack"] if pack is None else pack
    new_override = tenant["lead_rules"] if keep_override else override
    before = _rules_version(tenant["lead_rules"], tenant["lead_pack"])
    try:
        after = load_rules(new_override, pack=new_pack).version
    except ValueError as exc:
        raise AdminError(f"tenant {tenant['id']}: {exc}") from None
    with analytics.transaction():
        row = _row(analytics, "admin/tenant_set_rules.sql", {
            "id": tenant["id"], "pack": new_pack, "override": None if new_override is None else Jsonb(new_override)})
    if row is None:
        raise AdminError(f"unknown tenant {ref!s}: it was deleted meanwhile")
    row.update(old_rules_version=before, rules_version=after, changed=before != after)
    row["notes"] = ([f"the next syncs classify with {after}; re-classify the {row['stored_rows']} stored row(s) with "
                     f"`chatwoot-etl leads reclassify --tenant {row['id']}`"] if row["changed"]
                    else [f"tenant {row['id']} already classifies with {after}"])
    log.info("tenant_rules_set", tenant=row["id"], pack=new_pack, rules=after, previous=before, by=actor(by))
    return row


def _rules_version(override: Any, pack: str | None) -> str | None:
    """The version of the rules a tenant has now, None where they do not compile."""
    from chatwoot_etl.sync.leads.rules import load_rules

    try:
        return load_rules(override, pack=pack).version
    except ValueError:
        return None


def _result(action: str, inbox_id: int, tenant: dict[str, Any] | None, *, changed: bool, by: str,
            from_tenant: int | None = None, warnings: list[str] | None = None, notes: list[str] | None = None,
            inbox_name: str | None = None) -> dict[str, Any]:
    return {
        "inbox_id": inbox_id, "inbox_name": inbox_name, "action": action, "changed": changed,
        "tenant_id": tenant["id"] if tenant else None, "tenant_slug": tenant["slug"] if tenant else None,
        "from_tenant_id": from_tenant, "by": by, "warnings": warnings or [], "notes": notes or [],
    }


def map_inbox(
    analytics: psycopg.Connection, src: psycopg.Connection, inbox_id: int, tenant_ref: str | int, *,
    by: str | None = None, force: bool = False, note: str = "inboxes map",
) -> dict[str, Any]:
    """Map a source inbox to a tenant. Never takes an inbox active under another tenant."""
    by = actor(by)
    tenant = get_tenant(analytics, tenant_ref)
    inbox = source_inbox(src, inbox_id)
    forced = check_inbox_for_tenant(inbox_id, inbox, tenant, force)
    warnings = forced + status_warning(tenant)
    assert inbox is not None  # check_inbox_for_tenant refuses an inbox the source does not have
    name, channel = inbox["name"], inbox["channel_type"]
    params = {"inbox_id": inbox_id, "tenant_id": tenant["id"], "inbox_name": name, "channel_type": channel,
              "mapped_by": by}
    with analytics.transaction():
        _set_actor(analytics, by, bool(forced), note=note)
        current = _row(analytics, "admin/mapping_lock.sql", {"inbox_id": inbox_id})
        decision = map_decision(current, tenant["id"])
        if decision == "insert":
            if _row(analytics, "admin/mapping_insert.sql", params) is None:
                # another session inserted the row after our look (the primary key held): decide again
                current = _row(analytics, "admin/mapping_lock.sql", {"inbox_id": inbox_id})
                decision = map_decision(current, tenant["id"])
        if decision == "activate":
            if _row(analytics, "admin/mapping_activate.sql", params) is None:
                decision = "conflict"  # cannot happen while the row is locked; never write blindly
        if decision == "conflict":
            assert current is not None
            raise AdminError(f"inbox {inbox_id} is already active under tenant {current['tenant_id']} "
                             f"({current['tenant_slug']}); use `inboxes move --inbox {inbox_id} --to {tenant['id']}` "
                             "to move it")
    if decision == "noop":
        return _result("map", inbox_id, tenant, changed=False, by=by, warnings=warnings, inbox_name=name,
                       notes=[f"inbox {inbox_id} is already mapped to {describe_tenant(tenant)}; nothing changed"])
    previous = current["tenant_id"] if current is not None else None
    notes = [f"the next sync of {describe_tenant(tenant)} loads the whole history of inbox {inbox_id}"]
    elsewhere = {t: n for t, n in loaded_rows(analytics, inbox_id).items() if t != tenant["id"]}
    if elsewhere:
        notes.append(f"{sum(elsewhere.values())} conversation(s) of inbox {inbox_id} stored under tenant(s) "
                     f"{', '.join(map(str, elsewhere))} move to {describe_tenant(tenant)} on that sync")
    log.info("inbox_mapped", inbox=inbox_id, tenant=tenant["id"], previous_tenant=previous, by=by,
             decision=decision, forced=bool(forced) or None)
    return _result("map", inbox_id, tenant, changed=True, by=by, from_tenant=previous, warnings=warnings,
                   notes=notes, inbox_name=name)


def unmap_inbox(analytics: psycopg.Connection, inbox_id: int, *, by: str | None = None) -> dict[str, Any]:
    """Deactivate an inbox's mapping (works for an inbox gone from the source too)."""
    by = actor(by)
    with analytics.transaction():
        _set_actor(analytics, by, note="inboxes unmap")
        current = _row(analytics, "admin/mapping_lock.sql", {"inbox_id": inbox_id})
        if current is None:
            raise AdminError(f"unknown inbox {inbox_id}: it is not mapped to any tenant")
        if current["is_active"]:
            analytics.execute(sql_text("admin/mapping_deactivate.sql"), {"inbox_id": inbox_id})
    tenant = {"id": current["tenant_id"], "slug": current["tenant_slug"]}
    if not current["is_active"]:
        return _result("unmap", inbox_id, tenant, changed=False, by=by, from_tenant=tenant["id"],
                       inbox_name=current["inbox_name"], notes=[f"inbox {inbox_id} was already inactive; nothing changed"])
    kept = loaded_rows(analytics, inbox_id).get(current["tenant_id"], 0)
    notes = [f"inbox {inbox_id} is no longer synced for {describe_tenant(tenant)}"]
    if kept:
        notes.append(f"its {kept} stored conversation(s) stay until `sync --tenant {tenant['id']} --full-refresh` "
                     "removes them")
    log.info("inbox_unmapped", inbox=inbox_id, tenant=tenant["id"], by=by, kept_rows=kept)
    return _result("unmap", inbox_id, tenant, changed=True, by=by, from_tenant=tenant["id"],
                   inbox_name=current["inbox_name"], notes=notes)


def move_inbox(
    analytics: psycopg.Connection, src: psycopg.Connection, inbox_id: int, to_ref: str | int, *,
    by: str | None = None, force: bool = False,
) -> dict[str, Any]:
    """Move a mapped inbox to another tenant; its stored rows follow on that tenant's next sync."""
    by = actor(by)
    tenant = get_tenant(analytics, to_ref)
    inbox = source_inbox(src, inbox_id)
    forced = check_inbox_for_tenant(inbox_id, inbox, tenant, force)
    warnings = forced + status_warning(tenant)
    assert inbox is not None  # check_inbox_for_tenant refuses an inbox the source does not have
    params = {"inbox_id": inbox_id, "tenant_id": tenant["id"], "inbox_name": inbox["name"],
              "channel_type": inbox["channel_type"], "mapped_by": by}
    with analytics.transaction():
        _set_actor(analytics, by, bool(forced), note="inboxes move")
        current = _row(analytics, "admin/mapping_lock.sql", {"inbox_id": inbox_id})
        decision = move_decision(current, tenant["id"])
        if decision == "unmapped" or current is None:
            raise AdminError(f"inbox {inbox_id} is not mapped to any tenant; use `inboxes map --inbox {inbox_id} "
                             f"--tenant {tenant['id']}`")
        if decision == "activate":
            analytics.execute(sql_text("admin/mapping_activate.sql"), params)
        elif decision == "move":
            analytics.execute(sql_text("admin/mapping_move.sql"), {**params, "from_tenant_id": current["tenant_id"]})
    if decision == "noop":
        return _result("move", inbox_id, tenant, changed=False, by=by, from_tenant=tenant["id"], warnings=warnings,
                       inbox_name=inbox["name"],
                       notes=[f"inbox {inbox_id} is already active under {describe_tenant(tenant)}; nothing changed"])
    notes = [f"the next sync of {describe_tenant(tenant)} loads the whole history of inbox {inbox_id}"]
    moving = {t: n for t, n in loaded_rows(analytics, inbox_id).items() if t != tenant["id"]}
    if moving:
        notes.append(f"{sum(moving.values())} stored conversation(s) of inbox {inbox_id} move from tenant(s) "
                     f"{', '.join(map(str, moving))} to {describe_tenant(tenant)} on that sync")
    log.info("inbox_moved", inbox=inbox_id, tenant=tenant["id"], previous_tenant=current["tenant_id"],
             was_active=current["is_active"], by=by, forced=bool(forced) or None)
    return _result("move", inbox_id, tenant, changed=True, by=by, from_tenant=current["tenant_id"],
                   warnings=warnings, notes=notes, inbox_name=inbox["name"])


def discover(analytics: psycopg.Connection, src: psycopg.Connection, tenant_ref: str | int) -> dict[str, Any]:
    """The source inboxes of the tenant's account with conversation counts and their current mapping."""
    tenant = get_tenant(analytics, tenant_ref)
    if tenant["id"] == ADMIN_TENANT_ID:
        raise AdminError("tenant 0 is the platform admin tenant: it owns no inbox")
    if tenant["account_id"] is None:
        raise AdminError(f"{describe_tenant(tenant)} has no Chatwoot account_id: nothing to discover")
    if _row(src, "admin/source_account.sql", {"account_id": tenant["account_id"]}) is None:
        raise AdminError(f"unknown account {tenant['account_id']} of {describe_tenant(tenant)}: the source has no "
                         "Chatwoot account with that id, so nothing to discover")
    mappings = {m["inbox_id"]: m for m in all_mappings(analytics)}
    rows = []
    for inbox in source_inboxes(src, [tenant["account_id"]]):
        mapping = mappings.get(inbox["inbox_id"])
        rows.append({
            "inbox_id": inbox["inbox_id"], "name": inbox["name"], "channel_type": inbox["channel_type"],
            "conversations": inbox["conversations"], "mapping": discovery_state(mapping, tenant["id"]),
            "mapped_tenant_id": mapping["tenant_id"] if mapping else None,
            "mapped_tenant_slug": mapping["tenant_slug"] if mapping else None,
        })
    return {"tenant": tenant, "inboxes": rows}


def apply_discovery(analytics: psycopg.Connection, src: psycopg.Connection, tenant_ref: str | int, *,
                    by: str | None = None) -> dict[str, Any]:
    """Map every inbox of the tenant's account that has no mapping at all (never a deactivated or foreign one)."""
    found = discover(analytics, src, tenant_ref)
    tenant = found["tenant"]
    for row in found["inboxes"]:
        row["action"] = None
        if row["mapping"] != "unmapped":
            continue
        try:
            map_inbox(analytics, src, row["inbox_id"], tenant["id"], by=by, note="inboxes discover --apply")
        except AdminError as exc:  # mapped by someone else meanwhile: report, do not fail the others
            row["action"] = f"skipped: {exc}"
            continue
        row["action"] = "mapped"
        row["mapping"], row["mapped_tenant_id"], row["mapped_tenant_slug"] = "mapped", tenant["id"], tenant["slug"]
    found["mapped"] = [row["inbox_id"] for row in found["inboxes"] if row["action"] == "mapped"]
    return found
