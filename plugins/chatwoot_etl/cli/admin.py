"""Administration commands of chatwoot-etl: source inspection, tenants and inbox mappings.

    chatwoot-etl source inspect [--format table|json|markdown] [--output PATH]
    chatwoot-etl tenants list
    chatwoot-etl tenants add --name NAME --slug SLUG --account-id N [--timezone TZ] [--status S] [--force]
    chatwoot-etl tenants set-status --tenant ID --status S
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
import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED = 0, 1

# Top-level command names this module adds to the CLI.
COMMANDS: tuple[str, ...] = ("source", "tenants", "inboxes")

STATUSES = ("active", "suspended", "cancelled", "trial")


def _common(json_flag: bool = True, by: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    if json_flag:
        parent.add_argument("--json", action="store_true", help="machine-readable output")
    if by:
        parent.add_argument("--by", metavar="NAME", help="who makes the change (default: the OS user)")
    return parent


def _inbox_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown inbox {text!r}: an inbox id is a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"unknown inbox {text!r}: an inbox id is a positive integer")
    return value


def _account_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid account id {text!r}: a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid account id {text!r}: a positive integer")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    """Add the administration subcommands to the CLI's parser."""
    parser_class = commands._parser_class  # the CLI's parser: usage errors exit 1
    plain, changing = _common(), _common(by=True)

    src = commands.add_parser("source", help="inspect the Chatwoot source")
    src_sub = src.add_subparsers(dest="action", required=True, parser_class=parser_class)
    inspect = src_sub.add_parser("inspect", parents=[plain],
                                 help="the view against the contract, rows per account and inbox, NULLs, latency")
    inspect.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    inspect.add_argument("--output", type=Path, help="write the report to this file instead of stdout")

    tenants = commands.add_parser("tenants", help="list, add and change tenants")
    t_sub = tenants.add_subparsers(dest="action", required=True, parser_class=parser_class)
    t_sub.add_parser("list", parents=[plain], help="every tenant with its inbox counts")
    add = t_sub.add_parser("add", parents=[changing], help="register a tenant for a Chatwoot account")
    add.add_argument("--name", required=True)
    add.add_argument("--slug", required=True)
    add.add_argument("--account-id", type=_account_id, required=True)
    add.add_argument("--timezone", default="America/Sao_Paulo")
    add.add_argument("--status", choices=STATUSES, default="active")
    add.add_argument("--force", action="store_true", help="register even if the source has no such account")
    status = t_sub.add_parser("set-status", parents=[changing], help="change a tenant's status")
    status.add_argument("--tenant", required=True, help="tenant id or slug")
    status.add_argument("--status", choices=STATUSES, required=True)

    inboxes = commands.add_parser("inboxes", help="discover and map Chatwoot inboxes to tenants")
    i_sub = inboxes.add_subparsers(dest="action", required=True, parser_class=parser_class)
    disc = i_sub.add_parser("discover", parents=[changing],
                            help="the source inboxes of the tenant's account and their mapping")
    disc.add_argument("--tenant", required=True, help="tenant id or slug")
    disc.add_argument("--apply", action="store_true", help="map the unmapped ones to the tenant")
    mapping = i_sub.add_parser("map", parents=[changing], help="map an inbox to a tenant")
    mapping.add_argument("--inbox", type=_inbox_id, required=True)
    mapping.add_argument("--tenant", required=True, help="tenant id or slug")
    mapping.add_argument("--force", action="store_true", help="allow an inbox of another Chatwoot account")
    unmap = i_sub.add_parser("unmap", parents=[changing], help="stop syncing an inbox (mapping deactivated)")
    unmap.add_argument("--inbox", type=_inbox_id, required=True)
    move = i_sub.add_parser("move", parents=[changing], help="move an inbox (and its rows) to another tenant")
    move.add_argument("--inbox", type=_inbox_id, required=True)
    move.add_argument("--to", required=True, help="tenant id or slug")
    move.add_argument("--force", action="store_true", help="allow an inbox of another Chatwoot account")
    i_sub.add_parser("drift", parents=[plain],
                     help="unmapped source inboxes, vanished inboxes, tenants without an active inbox")
    history = i_sub.add_parser("history", parents=[plain], help="the audit trail of mapping changes")
    history.add_argument("--inbox", type=_inbox_id)
    history.add_argument("--limit", type=int, default=50)


# ---------------------------------------------------------------------------------------------
# output


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _dump(value: Any) -> str:
    return json.dumps(value, default=_json_default, indent=2)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return value


def _table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    from chatwoot_etl.cli import print_table

    print_table([{k: _cell(v) for k, v in row.items()} for row in rows], columns)


def _print_rows(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(_dump(rows))
    else:
        _table(rows)


def _notes(result: dict[str, Any]) -> None:
    for warning in result.get("warnings", []):
        print(f"warning: {warning}")
    for note in result.get("notes", []):
        print(f"note: {note}")


def _fail(message: str, as_json: bool) -> int:
    print(f"chatwoot-etl: error: {message}", file=sys.stderr)
    if as_json:
        print(_dump({"ok": False, "error": message}))
    return EXIT_FAILED


# ---------------------------------------------------------------------------------------------
# connections


def _analytics(name: str):
    from chatwoot_etl import connections

    return connections.connect(connections.ANALYTICS_CONN_ID, application_name=f"chatwoot_etl:admin:{name}",
                               autocommit=True)


def _source(name: str):
    from chatwoot_etl import connections

    return connections.connect(connections.SOURCE_CONN_ID, application_name=f"chatwoot_etl:admin:{name}",
                               autocommit=True)


# ---------------------------------------------------------------------------------------------
# commands


def cmd_source_inspect(args: argparse.Namespace) -> int:
    import psycopg

    from chatwoot_etl import connections
    from chatwoot_etl.admin import inventory
    from chatwoot_etl.sync import engine

    fmt = "json" if args.json else args.format
    started = time.perf_counter()
    # the same session settings as the engine's extract: the view's aggregates need hash joins
    conn = connections.connect(connections.SOURCE_CONN_ID, application_name="chatwoot_etl:admin:inspect",
                               settings=engine.SOURCE_SESSION)
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
        text = _dump(report) + "\n"
    else:
        text = None
    if text is not None and args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"report written to {args.output}", file=sys.stderr)
    elif text is not None:
        sys.stdout.write(text)
    else:
        _print_inspection(report, args.output)
    if not report["contract"]["ok"]:
        missing, retyped = len(report["contract"]["missing"]), len(report["contract"]["retyped"])
        what = ("the view does not exist" if not report["contract"]["view_exists"]
                else f"{missing} missing and {retyped} retyped column(s)")
        print(f"chatwoot-etl: error: source view {report['source']['relation']} breaks the contract: {what}",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _print_inspection(report: dict[str, Any], output: Path | None) -> None:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        src, con, totals, lat = report["source"], report["contract"], report["totals"], report["latency"]
        print(f"source: database {src['database']} (PostgreSQL {src['server_version']}) as {src['role']}, "
              f"clock {_cell(src['clock_utc'])} UTC")
        print(f"latency: connect {lat['connect_ms']} ms, round trip median {lat['median_ms']} ms "
              f"(min {lat['min_ms']}, max {lat['max_ms']}, {lat['samples']} samples)")
        state = "OK" if con["ok"] else ("VIEW MISSING" if not con["view_exists"] else "BROKEN")
        print(f"\ncontract of {src['relation']}: {state} - {len(con['missing'])} missing, "
              f"{len(con['retyped'])} retyped, {len(con['extra'])} extra")
        differences = ([{"column": r["column"], "state": "missing", "expected": r["expected"], "found": None}
                        for r in con["missing"]]
                       + [{"column": r["column"], "state": "retyped", "expected": r["expected"], "found": r["found"]}
                          for r in con["retyped"]]
                       + [{"column": r["column"], "state": "extra", "expected": None, "found": r["found"]}
                          for r in con["extra"]])
        if differences:
            _table(differences)
        print(f"\nrows: {totals['view_rows']} view rows, {totals['conversations']} conversations "
              f"({totals['duplicate_rows']} duplicate rows); conversation_updated_at "
              f"{_cell(totals['updated_min'])} .. {_cell(totals['updated_max'])}")
        print("\nper account:")
        _table(report["accounts"])
        print("\nper inbox:")
        _table(report["inboxes"])
        print("\nNULLs in the columns the dashboards use:")
        _table([{**row, "share": None if row["share"] is None else f"{row['share']:.2%}"}
                for row in report["null_shares"]])
    if output:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        print(f"report written to {output}", file=sys.stderr)
    else:
        sys.stdout.write(buffer.getvalue())


def cmd_tenants(args: argparse.Namespace) -> int:
    from chatwoot_etl.admin import mappings

    with _analytics(f"tenants-{args.action}") as analytics:
        if args.action == "list":
            rows = mappings.list_tenants(analytics)
            _print_rows(rows, args.json)
            return EXIT_OK
        if args.action == "add":
            src = None
            try:
                src = _source("tenants-add")
            except Exception:  # noqa: BLE001 - only --force may go on without the source
                if not args.force:
                    raise
            try:
                result = mappings.add_tenant(analytics, src, name=args.name, slug=args.slug,
                                             account_id=args.account_id, timezone=args.timezone,
                                             status=args.status, force=args.force, by=args.by)
            finally:
                if src is not None:
                    src.close()
        else:
            result = mappings.set_tenant_status(analytics, args.tenant, args.status, by=args.by)
            if not result["changed"]:
                result["notes"] = [f"tenant {result['id']} was already {result['status']}"]
    if args.json:
        print(_dump(result))
    else:
        _table([{k: v for k, v in result.items() if k not in ("warnings", "notes")}])
        _notes(result)
    return EXIT_OK


_RESULT_COLUMNS = ["inbox_id", "inbox_name", "action", "changed", "from_tenant_id", "tenant_id", "tenant_slug", "by"]


def cmd_inboxes(args: argparse.Namespace) -> int:
    from chatwoot_etl.admin import mappings

    name = f"inboxes-{args.action}"
    with _analytics(name) as analytics:
        if args.action == "unmap":
            return _show(mappings.unmap_inbox(analytics, args.inbox, by=args.by), args)
        if args.action == "history":
            rows = mappings.audit_trail(analytics, args.inbox, args.limit)
            _print_rows(rows, args.json)
            return EXIT_OK
        with _source(name) as src:
            if args.action == "map":
                return _show(mappings.map_inbox(analytics, src, args.inbox, args.tenant, by=args.by,
                                                force=args.force), args)
            if args.action == "move":
                return _show(mappings.move_inbox(analytics, src, args.inbox, args.to, by=args.by,
                                                 force=args.force), args)
            if args.action == "drift":
                report = mappings.drift_report(analytics, src)
                if args.json:
                    print(_dump(report))
                else:
                    _print_drift(report)
                return EXIT_OK
            found = (mappings.apply_discovery(analytics, src, args.tenant, by=args.by) if args.apply
                     else mappings.discover(analytics, src, args.tenant))
    if args.json:
        print(_dump(found))
        return EXIT_OK
    tenant = found["tenant"]
    print(f"tenant {tenant['id']} ({tenant['slug']}), Chatwoot account {tenant['account_id']}:")
    _table(found["inboxes"])
    if args.apply:
        print(f"mapped {len(found['mapped'])} inbox(es)"
              + (f": {', '.join(map(str, found['mapped']))}; their history loads on the tenant's next sync"
                 if found["mapped"] else ""))
    else:
        unmapped = [row["inbox_id"] for row in found["inboxes"] if row["mapping"] == "unmapped"]
        if unmapped:
            print(f"{len(unmapped)} unmapped inbox(es); map them with --apply")
    return EXIT_OK


def _show(result: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(_dump(result))
    else:
        _table([result], _RESULT_COLUMNS)
        _notes(result)
    return EXIT_OK


def _print_drift(report: dict[str, Any]) -> None:
    titles = {
        "unmapped_source_inboxes": "source inboxes of a tenant's account that are not mapped",
        "vanished_inboxes": "active mappings whose inbox is gone from the source",
        "tenants_without_active_inbox": "active tenants without any active inbox",
        "account_mismatches": "active mappings to a tenant of another Chatwoot account",
    }
    if not report["drift"]:
        print("no drift: every mapping matches the source")
        return
    for key, title in titles.items():
        if report[key]:
            print(f"{title} ({len(report[key])}):")
            _table(report[key])
            print()


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "source": cmd_source_inspect,
    "tenants": cmd_tenants,
    "inboxes": cmd_inboxes,
}


def run(args: argparse.Namespace) -> int:
    """Run an administration command; the CLI's exit code."""
    import psycopg

    from chatwoot_etl.admin.mappings import AdminError

    as_json = bool(getattr(args, "json", False)) or getattr(args, "format", None) == "json"
    try:
        return _HANDLERS[args.command](args)
    except AdminError as exc:
        return _fail(str(exc), as_json)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _fail(f"{args.command} {args.action}: database error: {type(exc).__name__}: {first}", as_json)
    except OSError as exc:
        return _fail(f"{args.command} {args.action}: {exc}", as_json)
    except Exception as exc:  # noqa: BLE001 - the CLI reports every failure in one line and exits 1
        return _fail(f"{args.command} {args.action} failed: {type(exc).__name__}: {exc}", as_json)
