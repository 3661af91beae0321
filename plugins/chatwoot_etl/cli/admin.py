"""Administration commands of chatwoot-etl: source inspection, tenants and inbox mappings.

    chatwoot-etl source inspect [--format table|json|markdown] [--output PATH]
    chatwoot-etl tenants list
    chatwoot-etl tenants add --name NAME --slug SLUG --account-id N [--timezone TZ] [--status S] [--force]
    chatwoot-etl tenants set-status --tenant ID --status S
    chatwoot-etl tenants set-schedule --tenant ID (--schedule CRON | --default)
    chatwoot-etl tenants set-rules --tenant ID [--pack P] [--override JSON | --override-file F | --clear-override]
    chatwoot-etl inboxes discover --tenant ID [--apply]
    chatwoot-etl inboxes map --inbox ID --tenant ID [--force]
    chatwoot-etl inboxes unmap --inbox ID
    chatwoot-etl inboxes move --inbox ID --to ID [--force]
    chatwoot-etl inboxes drift
    chatwoot-etl inboxes history [--inbox ID] [--limit N]

Every command prints a table (``--json`` for scripts) and exits 0, or 1 with a one-line error on
stderr naming the problem. Changes are recorded with ``--by NAME`` (default: the OS user).
A tenant is given by id or slug.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import time
from collections.abc import Callable
from typing import Any

from chatwoot_etl.cli import output
from chatwoot_etl.cli.output import EXIT_OK
from chatwoot_etl.errors import AdminError

Handler = Callable[[argparse.Namespace], int]

_RESULT_COLUMNS = ["inbox_id", "inbox_name", "action", "changed", "from_tenant_id", "tenant_id", "tenant_slug", "by"]

_DRIFT_TITLES = {
    "unmapped_source_inboxes": "source inboxes of a tenant's account that are not mapped",
    "vanished_inboxes": "active mappings whose inbox is gone from the source",
    "tenants_without_active_inbox": "active tenants without any active inbox",
    "account_mismatches": "active mappings to a tenant of another Chatwoot account",
}


# ---------------------------------------------------------------------------------------------
# the error boundary


def _error_boundary(handler: Handler) -> Handler:
    """Every failure of an administration command becomes one line on stderr and exit 1."""

    @functools.wraps(handler)
    def guarded(args: argparse.Namespace) -> int:
        import psycopg

        as_json = bool(getattr(args, "json", False)) or getattr(args, "format", None) == "json"
        what = f"{args.command} {args.action}"
        try:
            return handler(args)
        except AdminError as exc:
            return output.error(str(exc), as_json)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return output.error(f"{what}: database error: {type(exc).__name__}: {first}", as_json)
        except OSError as exc:
            return output.error(f"{what}: {exc}", as_json)
        except Exception as exc:  # noqa: BLE001 - the CLI reports every failure in one line and exits 1
            return output.error(f"{what} failed: {type(exc).__name__}: {exc}", as_json)

    return guarded


# ---------------------------------------------------------------------------------------------
# connections


def _analytics(name: str):
    from chatwoot_etl import connections

    return connections.analytics(f"admin:{name}", administration=True)


def _source(name: str):
    from chatwoot_etl import connections

    return connections.source(f"admin:{name}", autocommit=True)


# ---------------------------------------------------------------------------------------------
# source inspect


@_error_boundary
def source_inspect(args: argparse.Namespace) -> int:
    import psycopg

    from chatwoot_etl import connections, settings
    from chatwoot_etl.admin import inventory

    fmt = "json" if args.json else args.format
    started = time.perf_counter()
    # the same session settings as the engine's extract: the view's aggregates need hash joins
    conn = connections.source("admin:inspect", settings=settings.SOURCE_SESSION.get())
    connect_ms = (time.perf_counter() - started) * 1000
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot for the whole report
        conn.read_only = True
        report = inventory.inspect_source(conn, connect_ms=connect_ms)
        conn.rollback()
    finally:
        conn.close()
    if fmt == "markdown":
        text = inventory.render_markdown(report)
    elif fmt == "json":
        text = output.dumps(report) + "\n"
    else:
        text = _inspection_text(report)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        output.info(f"report written to {args.output}")
    else:
        output.write(text)
    contract = report["contract"]
    if not contract["ok"]:
        what = ("the view does not exist" if not contract["view_exists"]
                else f"{len(contract['missing'])} missing and {len(contract['retyped'])} retyped column(s)")
        return output.error(f"source view {report['source']['relation']} breaks the contract: {what}")
    return EXIT_OK


def _inspection_text(report: dict[str, Any]) -> str:
    """The table form of the inspection report."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        src, con, totals, lat = report["source"], report["contract"], report["totals"], report["latency"]
        output.line(f"source: database {src['database']} (PostgreSQL {src['server_version']}) as {src['role']}, "
                    f"clock {output.cell(src['clock_utc'])} UTC")
        output.line(f"latency: connect {lat['connect_ms']} ms, round trip median {lat['median_ms']} ms "
                    f"(min {lat['min_ms']}, max {lat['max_ms']}, {lat['samples']} samples)")
        state = "OK" if con["ok"] else ("VIEW MISSING" if not con["view_exists"] else "BROKEN")
        output.line(f"\ncontract of {src['relation']}: {state} - {len(con['missing'])} missing, "
                    f"{len(con['retyped'])} retyped, {len(con['compatible'])} compatible (another spelling of "
                    f"the same values), {len(con['extra'])} extra")
        differences = ([{"column": r["column"], "state": "missing", "expected": r["expected"], "found": None}
                        for r in con["missing"]]
                       + [{"column": r["column"], "state": "retyped", "expected": r["expected"], "found": r["found"]}
                          for r in con["retyped"]]
                       + [{"column": r["column"], "state": "compatible", "expected": r["expected"], "found": r["found"]}
                          for r in con["compatible"]]
                       + [{"column": r["column"], "state": "extra", "expected": None, "found": r["found"]}
                          for r in con["extra"]])
        if differences:
            output.table(differences)
        plan = report["strategy"]
        output.line(f"\na sync reads: {plan['strategy']} - {plan['reason']}")
        warnings = report["privileges"]["warnings"]
        output.line("least privilege: " + ("WARNING: the source role " + "; ".join(warnings) + " (it should only read)"
                                           if warnings else "the source role can change nothing"))
        output.line(f"\nrows: {totals['view_rows']} view rows, {totals['conversations']} conversations "
                    f"({totals['duplicate_rows']} duplicate rows); conversation_updated_at "
                    f"{output.cell(totals['updated_min'])} .. {output.cell(totals['updated_max'])}")
        output.line("\nper account:")
        output.table(report["accounts"])
        output.line("\nper inbox:")
        output.table(report["inboxes"])
        output.line("\nNULLs in the columns the dashboards use:")
        output.table([{**row, "share": None if row["share"] is None else f"{row['share']:.2%}"}
                      for row in report["null_shares"]])
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# tenants


@_error_boundary
def tenants(args: argparse.Namespace) -> int:
    from chatwoot_etl.admin import mappings

    with _analytics(f"tenants-{args.action}") as analytics:
        if args.action == "list":
            output.print_rows(mappings.list_tenants(analytics), args.json)
            return EXIT_OK
        if args.action == "add":
            src = None
            try:
                src = _source("tenants-add")
            except Exception:  # only --force may go on without the source (re-raised otherwise)
                if not args.force:
                    raise
            try:
                result = mappings.add_tenant(analytics, src, name=args.name, slug=args.slug,
                                             account_id=args.account_id, timezone=args.timezone,
                                             status=args.status, force=args.force, by=args.by)
            finally:
                if src is not None:
                    src.close()
            if args.lead_pack and not result.get("adopted"):
                result["lead_pack"] = mappings.set_tenant_rules(analytics, result["id"], pack=args.lead_pack,
                                                                by=args.by)["pack"]
        elif args.action == "adopt":
            result = mappings.adopt_tenant(analytics, account_id=args.account_id, timezone=args.timezone, by=args.by)
        elif args.action == "set-rules":
            result = _set_rules(analytics, args)
        elif args.action == "set-schedule":
            result = mappings.set_tenant_schedule(analytics, args.tenant, None if args.default else args.schedule,
                                                  by=args.by)
        else:
            result = mappings.set_tenant_status(analytics, args.tenant, args.status, by=args.by)
            if not result["changed"]:
                result["notes"] = [f"tenant {result['id']} was already {result['status']}"]
    if args.json:
        output.print_json(result)
    else:
        output.table([{k: v for k, v in result.items() if k not in ("warnings", "notes")}])
        output.notes(result)
    return EXIT_OK


def _set_rules(analytics, args: argparse.Namespace) -> dict[str, Any]:
    import json

    from chatwoot_etl.admin import mappings

    override, keep = None, True
    if args.override is not None:
        override, keep = args.override, False
    elif args.override_file is not None:
        try:
            override, keep = json.loads(args.override_file.read_text(encoding="utf-8")), False
        except json.JSONDecodeError as exc:
            raise AdminError(f"{args.override_file}: not JSON ({exc})") from None
    elif args.clear_override:
        keep = False
    result = mappings.set_tenant_rules(analytics, args.tenant, pack=args.pack, override=override, keep_override=keep,
                                       by=args.by)
    return {k: (output.dumps(v) if k in ("old_override", "override") and v is not None else v)
            for k, v in result.items()}


# ---------------------------------------------------------------------------------------------
# inboxes


@_error_boundary
def inboxes(args: argparse.Namespace) -> int:
    from chatwoot_etl.admin import mappings

    name = f"inboxes-{args.action}"
    with _analytics(name) as analytics:
        if args.action == "unmap":
            return _show_change(mappings.unmap_inbox(analytics, args.inbox, by=args.by), args)
        if args.action == "history":
            output.print_rows(mappings.audit_trail(analytics, args.inbox, args.limit), args.json)
            return EXIT_OK
        with _source(name) as src:
            if args.action == "map":
                return _show_change(mappings.map_inbox(analytics, src, args.inbox, args.tenant, by=args.by,
                                                       force=args.force), args)
            if args.action == "move":
                return _show_change(mappings.move_inbox(analytics, src, args.inbox, args.to, by=args.by,
                                                        force=args.force), args)
            if args.action == "drift":
                report = mappings.drift_report(analytics, src)
                if args.json:
                    output.print_json(report)
                else:
                    _print_drift(report)
                return EXIT_OK
            found = (mappings.apply_discovery(analytics, src, args.tenant, by=args.by) if args.apply
                     else mappings.discover(analytics, src, args.tenant))
    if args.json:
        output.print_json(found)
        return EXIT_OK
    tenant = found["tenant"]
    output.line(f"tenant {tenant['id']} ({tenant['slug']}), Chatwoot account {tenant['account_id']}:")
    output.table(found["inboxes"])
    if args.apply:
        output.line(f"mapped {len(found['mapped'])} inbox(es)"
                    + (f": {', '.join(map(str, found['mapped']))}; their history loads on the tenant's next sync"
                       if found["mapped"] else ""))
    else:
        unmapped = [row["inbox_id"] for row in found["inboxes"] if row["mapping"] == "unmapped"]
        if unmapped:
            output.line(f"{len(unmapped)} unmapped inbox(es); map them with --apply")
    return EXIT_OK


def _show_change(result: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        output.print_json(result)
    else:
        output.table([result], _RESULT_COLUMNS)
        output.notes(result)
    return EXIT_OK


def _print_drift(report: dict[str, Any]) -> None:
    if not report["drift"]:
        output.line("no drift: every mapping matches the source")
        return
    for key, title in _DRIFT_TITLES.items():
        if report[key]:
            output.line(f"{title} ({len(report[key])}):")
            output.table(report[key])
            output.line()

