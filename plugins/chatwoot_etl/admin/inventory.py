"""What the Chatwoot source really offers: the view against the contract, its rows, NULLs and latency.

``inspect_source(conn)`` reads (read-only) and returns a plain report dict; ``render_markdown``
turns it into the document the team files as its record of the remote view. Database I/O is in
``inspect_source``; everything else is pure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from chatwoot_etl import contract
from chatwoot_etl.connections import one_row
from chatwoot_etl.logs import EventLogger
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import privileges, source, strategy

log = EventLogger(__name__)

# Source columns the dashboards show or filter on (directly or through the derived fields):
# a high share of NULLs here means empty charts, whatever the load does.
DASHBOARD_COLUMNS: tuple[str, ...] = (
    "conversation_created_at",
    "conversation_updated_at",
    "status",
    "inbox_name",
    "inbox_channel_type",
    "contact_name",
    "contact_phone",
    "contact_email",
    "client_phone",
    "assignee_name",
    "team_name",
    "priority",
    "campaign_id",
    "first_response_time_seconds",
    "resolution_time_seconds",
    "csat_rating",
    "csat_feedback",
    "message_compiled",
    "first_message_text",
    "last_message_text",
    "t_messages",
)

# The columns the per-inbox pass groups and ranges by.
_KEY_COLUMNS = {"account_id": "account_id", "inbox_id": "inbox_id", "conversation_id": "conversation_id",
                "updated_at": contract.WATERMARK_COLUMN}

LATENCY_SAMPLES = 5


# ---------------------------------------------------------------------------------------------
# pure helpers


def column_rows(found: dict[str, str]) -> list[dict[str, Any]]:
    """One row per contract or view column: its type in the view, the type expected, and a state."""
    rows: list[dict[str, Any]] = []
    diff = contract.compare(found)
    retyped = {name for name, _, _ in diff.retyped}
    compatible = {name for name, _, _ in diff.compatible}
    for name, expected in contract.SOURCE_COLUMNS.items():
        state = ("missing" if name not in found else "retyped" if name in retyped
                 else "compatible" if name in compatible else "ok")
        rows.append({"column": name, "type": found.get(name), "expected": expected, "state": state})
    for name, expected in contract.IGNORED_SOURCE_COLUMNS.items():
        if name in found:
            rows.append({"column": name, "type": found[name], "expected": expected, "state": "ignored"})
    for name in diff.extra:
        rows.append({"column": name, "type": found[name], "expected": None, "state": "extra"})
    return rows


def contract_section(found: dict[str, str]) -> dict[str, Any]:
    diff = contract.compare(found)
    return {
        "view_exists": bool(found),
        "ok": bool(found) and not diff.breaking,
        "missing": [{"column": name, "expected": contract.SOURCE_COLUMNS[name]} for name in diff.missing],
        "retyped": [{"column": name, "expected": want, "found": got} for name, want, got in diff.retyped],
        "compatible": [{"column": name, "expected": want, "found": got} for name, want, got in diff.compatible],
        "extra": [{"column": name, "found": found[name]} for name in diff.extra],
        "columns": column_rows(found),
    }


def summarise_counts(
    per_inbox: list[dict[str, Any]], accounts: dict[int, str], inboxes: list[dict[str, Any]],
) -> dict[str, Any]:
    """Per-inbox rows of the view pass + the source's accounts and inboxes -> inboxes, accounts, totals.

    Inboxes without a row in the view still appear (with 0), so an inbox with no conversation is visible.
    """
    seen: dict[tuple[Any, Any], dict[str, Any]] = {}
    for row in per_inbox:
        seen[(row["account_id"], row["inbox_id"])] = row
    names = {inbox["inbox_id"]: inbox for inbox in inboxes}
    inbox_rows: list[dict[str, Any]] = []
    keys = set(seen) | {(inbox["account_id"], inbox["inbox_id"]) for inbox in inboxes}
    for account_id, inbox_id in sorted(keys, key=lambda k: (k[0] is None, k[0] or 0, k[1] is None, k[1] or 0)):
        counted = seen.get((account_id, inbox_id), {})
        meta = names.get(inbox_id, {})
        inbox_rows.append({
            "account_id": account_id,
            "inbox_id": inbox_id,
            "inbox_name": meta.get("name"),
            "channel_type": meta.get("channel_type"),
            "view_rows": counted.get("view_rows", 0),
            "conversations": counted.get("conversations", 0),
            "updated_min": counted.get("updated_min"),
            "updated_max": counted.get("updated_max"),
        })
    account_rows: list[dict[str, Any]] = []
    by_account: dict[Any, list[dict[str, Any]]] = {}
    for row in inbox_rows:
        by_account.setdefault(row["account_id"], []).append(row)
    for account_id in sorted(set(by_account) | set(accounts), key=lambda a: (a is None, a or 0)):
        rows = by_account.get(account_id, [])
        account_rows.append({
            "account_id": account_id,
            "account_name": accounts.get(account_id),
            "inboxes": len(rows),
            "view_rows": sum(r["view_rows"] for r in rows),
            "conversations": sum(r["conversations"] for r in rows),
            "updated_min": min((r["updated_min"] for r in rows if r["updated_min"] is not None), default=None),
            "updated_max": max((r["updated_max"] for r in rows if r["updated_max"] is not None), default=None),
        })
    view_rows = sum(r["view_rows"] for r in inbox_rows)
    conversations = sum(r["conversations"] for r in inbox_rows)
    totals = {
        "accounts": len(account_rows),
        "inboxes": len(inbox_rows),
        "view_rows": view_rows,
        "conversations": conversations,
        "duplicate_rows": view_rows - conversations,
        "updated_min": min((r["updated_min"] for r in inbox_rows if r["updated_min"] is not None), default=None),
        "updated_max": max((r["updated_max"] for r in inbox_rows if r["updated_max"] is not None), default=None),
    }
    return {"totals": totals, "accounts": account_rows, "inboxes": inbox_rows}


def null_shares(per_inbox: list[dict[str, Any]], columns: list[str], found: dict[str, str]) -> list[dict[str, Any]]:
    """Share of NULLs per dashboard column over the whole view (a column the view lacks is 'missing')."""
    total = sum(row["view_rows"] for row in per_inbox)
    rows = []
    for name in columns:
        if name not in found:
            rows.append({"column": name, "nulls": None, "rows": total, "share": None, "note": "missing from the view"})
            continue
        nulls = sum(row["nulls"].get(name, 0) for row in per_inbox)
        share = round(nulls / total, 4) if total else None
        rows.append({"column": name, "nulls": nulls, "rows": total, "share": share, "note": None})
    return rows


def latency_summary(connect_ms: float, samples_ms: list[float]) -> dict[str, Any]:
    return {
        "connect_ms": round(connect_ms, 2),
        "samples": len(samples_ms),
        "min_ms": round(min(samples_ms), 2) if samples_ms else None,
        "median_ms": round(statistics.median(samples_ms), 2) if samples_ms else None,
        "max_ms": round(max(samples_ms), 2) if samples_ms else None,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):
        return f"{value:.2%}" if 0 <= value <= 1 else f"{value}"
    return str(value).replace("|", "\\|")


def _md_table(rows: list[dict[str, Any]], columns: list[str], formats: dict[str, Callable[[Any], str]] | None = None
              ) -> list[str]:
    if not rows:
        return ["_(none)_", ""]
    formats = formats or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(formats.get(c, _fmt)(row.get(c)) for c in columns) + " |")
    lines.append("")
    return lines


def _privilege_verdict(warnings: list[str]) -> str:
    if not warnings:
        return "the source role can change nothing"
    return "**WARNING**: the source role " + "; ".join(warnings) + " (it should only read)"


def render_markdown(report: dict[str, Any]) -> str:
    """The inspection report as a Markdown document (the team's record of the remote view)."""
    src, con, totals = report["source"], report["contract"], report["totals"]
    lat = report["latency"]
    verdict = ("**OK**: every column the load needs is present with its type" if con["ok"]
               else "**BROKEN**: the view does not offer what the load needs; syncs stop before reading")
    if not con["view_exists"]:
        verdict = f"**BROKEN**: the view `{src['relation']}` does not exist or is not readable"
    lines = [
        f"# Chatwoot source inspection: `{src['relation']}`",
        "",
        f"- inspected at: {_fmt(report['inspected_at'])} UTC",
        f"- database: `{src['database']}` (PostgreSQL {src['server_version']}), role `{src['role']}`",
        f"- source clock (UTC): {_fmt(src['clock_utc'])}",
        f"- contract: {verdict}",
        f"- a sync reads: `{report['strategy']['strategy']}` ({report['strategy']['reason']})",
        f"- least privilege: {_privilege_verdict(report['privileges']['warnings'])}",
        f"- round trip: median {lat['median_ms']} ms (min {lat['min_ms']}, max {lat['max_ms']}, "
        f"{lat['samples']} samples); connect {lat['connect_ms']} ms",
        "",
        "## Contract",
        "",
        f"{len(con['missing'])} missing, {len(con['retyped'])} retyped, {len(con['compatible'])} compatible, "
        f"{len(con['extra'])} extra column(s).",
        "",
    ]
    if con["missing"]:
        lines += ["### Missing", ""] + _md_table(con["missing"], ["column", "expected"])
    if con["retyped"]:
        lines += ["### Retyped", ""] + _md_table(con["retyped"], ["column", "expected", "found"])
    if con["extra"]:
        lines += ["### Extra (ignored by the load)", ""] + _md_table(con["extra"], ["column", "found"])
    lines += [
        "## Rows",
        "",
        f"{totals['view_rows']} view rows, {totals['conversations']} conversations "
        f"({totals['duplicate_rows']} duplicate rows), {totals['accounts']} accounts, {totals['inboxes']} inboxes; "
        f"`{contract.WATERMARK_COLUMN}` from {_fmt(totals['updated_min']) or '-'} to {_fmt(totals['updated_max']) or '-'}.",
        "",
        "### Per account",
        "",
        *_md_table(report["accounts"], ["account_id", "account_name", "inboxes", "view_rows", "conversations",
                                        "updated_min", "updated_max"]),
        "### Per inbox",
        "",
        *_md_table(report["inboxes"], ["account_id", "inbox_id", "inbox_name", "channel_type", "view_rows",
                                       "conversations", "updated_min", "updated_max"]),
        "## NULLs in the columns the dashboards use",
        "",
        *_md_table(report["null_shares"], ["column", "nulls", "rows", "share", "note"],
                   {"share": lambda v: "" if v is None else f"{v:.2%}"}),
        "## Columns",
        "",
        *_md_table(con["columns"], ["column", "type", "expected", "state"]),
    ]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# database edge


def _per_inbox_statement(found: dict[str, str]) -> tuple[sql.Composed, list[str]]:
    def column(name: str) -> sql.Composable:
        return sql.Identifier(name) if name in found else sql.SQL("NULL")

    present = [name for name in DASHBOARD_COLUMNS if name in found]
    null_counts = sql.SQL("").join(
        sql.SQL(",\n       count(*) - count({}) AS {}").format(sql.Identifier(name), sql.Identifier(f"nulls_{i}"))
        for i, name in enumerate(present)
    )
    statement = sql.SQL(sql_text("admin/inspect_by_inbox.sql")).format(
        account_id=column(_KEY_COLUMNS["account_id"]),
        inbox_id=column(_KEY_COLUMNS["inbox_id"]),
        conversation_id=column(_KEY_COLUMNS["conversation_id"]),
        updated_at=column(_KEY_COLUMNS["updated_at"]),
        null_counts=null_counts,
        view=sql.Identifier(contract.SOURCE_VIEW),
    )
    return statement, present


def measure_latency(conn: psycopg.Connection, samples: int = LATENCY_SAMPLES) -> list[float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        conn.execute("SELECT 1").fetchone()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def inspect_source(conn: psycopg.Connection, *, connect_ms: float = 0.0) -> dict[str, Any]:
    """Inspect the source through a (read-only) connection; the report as plain data."""
    samples = measure_latency(conn)
    server = one_row(conn.execute(sql_text("admin/source_server.sql")))
    found = source.view_columns(conn)
    contract_part = contract_section(found)
    accounts: dict[int, str] = dict(conn.execute(sql_text("admin/source_accounts.sql")).fetchall())
    inboxes = conn.cursor(row_factory=dict_row).execute(
        sql_text("admin/source_inboxes.sql"), {"account_ids": None}).fetchall()
    per_inbox: list[dict[str, Any]] = []
    if found:
        statement, present = _per_inbox_statement(found)
        started = time.perf_counter()
        for row in conn.execute(statement).fetchall():
            account_id, inbox_id, view_rows, conversations, updated_min, updated_max, *nulls = row
            per_inbox.append({
                "account_id": account_id, "inbox_id": inbox_id, "view_rows": view_rows,
                "conversations": conversations, "updated_min": updated_min, "updated_max": updated_max,
                "nulls": dict(zip(present, nulls, strict=True)),
            })
        log.info("source_view_counted", rows=sum(r["view_rows"] for r in per_inbox),
                 ms=int((time.perf_counter() - started) * 1000))
    counts = summarise_counts(per_inbox, accounts, inboxes)
    writes = privileges.source_write_privileges(conn)
    plan = (strategy.choose(conn) if contract_part["ok"]
            else strategy.SourcePlan(strategy.VIEW, "the view breaks the contract: no sync reads it"))
    report = {
        "inspected_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        "source": {"relation": contract.SOURCE_VIEW, "database": server[0], "server_version": server[1],
                   "role": server[2], "clock_utc": server[3]},
        "contract": contract_part,
        "strategy": plan.to_json(),
        "privileges": {**writes, "warnings": privileges.warnings(writes)},
        **counts,
        "null_shares": null_shares(per_inbox, list(DASHBOARD_COLUMNS), found),
        "latency": latency_summary(connect_ms, samples),
    }
    log.info("source_inspected", contract_ok=contract_part["ok"], missing=len(contract_part["missing"]),
             retyped=len(contract_part["retyped"]), extra=len(contract_part["extra"]),
             view_rows=counts["totals"]["view_rows"], latency_ms=report["latency"]["median_ms"])
    return report
