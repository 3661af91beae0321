"""The argument parser of chatwoot-etl: every subcommand, its options, and the handler it runs.

Parsing only: each subcommand names its handler with ``set_defaults(func=...)`` (in ``cli.core``
and ``cli.admin``), which ``main`` calls. Usage errors exit 1, as 2 means "lock refused".
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from chatwoot_etl import clock, settings
from chatwoot_etl.cli import admin, core, leads
from chatwoot_etl.cli.output import EXIT_FAILED, PROG
from chatwoot_etl.contract import DEFAULT_TIMEZONE, LEAD_PACKS, TENANT_STATUSES
from chatwoot_etl.limits import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_LOOKBACK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors are failures (1); 2 means "lock refused"
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"{self.prog}: error: {message}\n")


# ---------------------------------------------------------------------------------------------- types


def _aware(text: str) -> datetime:
    """An ISO 8601 moment with a time zone (``Z`` allowed)."""
    try:
        return clock.parse_aware(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _integer(low: int, high: int):
    """An integer in [low, high]: anything else is refused with the bounds, never a traceback."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: from {low} to {high}")
        return value
    return parse


def _number(low: float, high: float):
    """A finite number in [low, high]: nan, inf and absurd values are refused."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:  # false for nan too
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: a number from {low:g} to {high:g}")
        return value
    return parse


# The engine's bounds, as the CLI spells them; ids are PostgreSQL integers.
MAX_LOOKBACK_MINUTES = int(MAX_LOOKBACK.total_seconds() // 60)
MAX_ID = 2**31 - 1


def _positive_id(text: str, problem: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(problem)
    return value


def _json_object(text: str) -> dict:
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object of rule keys, not {text[:60]}")
    return value


def _inbox_id(text: str) -> int:
    return _positive_id(text, f"unknown inbox {text!r}: an inbox id is a positive integer")


def _account_id(text: str) -> int:
    return _positive_id(text, f"invalid account id {text!r}: a positive integer")


def _common(json_flag: bool = True, by: bool = False) -> argparse.ArgumentParser:
    """Options shared by the administration subcommands: --json, --by."""
    parent = argparse.ArgumentParser(add_help=False)
    if json_flag:
        parent.add_argument("--json", action="store_true", help="machine-readable output")
    if by:
        parent.add_argument("--by", metavar="NAME", help="who makes the change (default: the OS user)")
    return parent


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    description = (sys.modules[__package__].__doc__ or PROG).strip().splitlines()[0]
    parser = _Parser(prog=PROG, description=description)
    parser.add_argument("--log-level", default=settings.LOG_LEVEL.get())
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _sync_commands(commands)
    _admin_commands(commands)
    return parser


def _sync_commands(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser(
        "migrate", help="create or adopt the analytics database's tables, roles and policies (--plan: dry run)"
    )
    migrate.add_argument("--plan", action="store_true",
                         help="print what would change on this database, change nothing")
    migrate.set_defaults(func=core.migrate)

    seed = commands.add_parser("seed-source", help="build (or add activity to) the local Chatwoot-shaped source")
    seed.add_argument("--accounts", type=_integer(1, 10_000), default=3)
    seed.add_argument("--inboxes-per-account", type=_integer(1, 100), default=2)
    seed.add_argument("--conversations", type=_integer(1, 50_000_000), default=2000)
    seed.add_argument("--messages-per-conversation", type=_integer(1, 1000), default=10)
    seed.add_argument("--seed", type=_integer(-MAX_ID - 1, MAX_ID), default=42)
    seed.add_argument("--activity", action="store_true", help="add activity to the existing source instead")
    seed.add_argument("--touch-fraction", type=_number(0, 1), default=0.01)
    seed.add_argument("--new-conversations", type=_integer(0, 10_000_000), default=0)
    seed.set_defaults(func=core.seed_source)

    sync = commands.add_parser("sync", help="sync one tenant (or all) from the source")
    target = sync.add_mutually_exclusive_group(required=True)
    target.add_argument("--tenant", type=_integer(0, MAX_ID), help="tenant id")
    target.add_argument("--all", action="store_true", help="every active tenant with an active inbox, in turn")
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--full-refresh", action="store_true",
                      help="re-read everything; remove rows gone from the source")
    mode.add_argument("--since", type=_aware, help="re-sync the window [since, until) (watermark untouched)")
    sync.add_argument("--until", type=_aware, help="end of the window (default: the source's clock)")
    sync.add_argument("--chunk-size", type=_integer(1, MAX_CHUNK_SIZE), default=None)
    sync.add_argument("--lookback-minutes", type=_number(0, MAX_LOOKBACK_MINUTES), default=None,
                      help=f"re-read overlap behind the watermark (0 to {MAX_LOOKBACK_MINUTES})")
    sync.set_defaults(func=core.sync)

    status = commands.add_parser("status", help="per tenant: watermark, lag behind the source, last run")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=core.status)

    demo = commands.add_parser("demo", help="the whole job on the embedded default, with a per-tenant summary")
    demo.set_defaults(func=core.demo)

    emb = commands.add_parser("embedded", help="the embedded PostgreSQL under .local/")
    emb.add_argument("action", choices=["start", "stop", "env"])
    emb.set_defaults(func=core.embedded)

    reg = commands.add_parser("registry", help="the tenant registry snapshot the Airflow DAG files read")
    reg.add_argument("action", choices=["refresh", "show"],
                     help="refresh: rewrite it from tenants / inbox_tenant_mapping; show: print it")
    reg.set_defaults(func=core.registry)

    shown = commands.add_parser("settings", help="every setting, its value in effect and where it comes from")
    shown.add_argument("--json", action="store_true")
    shown.set_defaults(func=core.settings_report)


def _admin_commands(commands: argparse._SubParsersAction) -> None:
    plain, changing = _common(), _common(by=True)

    src = commands.add_parser("source", help="inspect the Chatwoot source")
    src_sub = src.add_subparsers(dest="action", required=True, parser_class=_Parser)
    inspect = src_sub.add_parser("inspect", parents=[plain],
                                 help="the view against the contract, rows per account and inbox, NULLs, latency")
    inspect.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    inspect.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    src.set_defaults(func=admin.source_inspect)

    tenants = commands.add_parser("tenants", help="list, add and change tenants")
    t_sub = tenants.add_subparsers(dest="action", required=True, parser_class=_Parser)
    t_sub.add_parser("list", parents=[plain], help="every tenant with its inbox counts")
    add = t_sub.add_parser("add", parents=[changing],
                           help="register a tenant for a Chatwoot account (adopts the account's existing tenant)")
    add.add_argument("--name", required=True)
    add.add_argument("--slug", required=True)
    add.add_argument("--account-id", type=_account_id, required=True)
    add.add_argument("--timezone", default=DEFAULT_TIMEZONE)
    add.add_argument("--status", choices=TENANT_STATUSES, default="active")
    add.add_argument("--force", action="store_true", help="register even if the source has no such account")
    add.add_argument("--lead-pack", choices=LEAD_PACKS, help="the lead rules' vertical pack (default generic)")
    adopt = t_sub.add_parser("adopt", parents=[changing],
                             help="take over the existing tenant of a Chatwoot account (name, slug, plan kept)")
    adopt.add_argument("--account-id", type=_account_id, required=True)
    adopt.add_argument("--timezone", default=DEFAULT_TIMEZONE)
    status = t_sub.add_parser("set-status", parents=[changing], help="change a tenant's status")
    status.add_argument("--tenant", required=True, help="tenant id or slug")
    status.add_argument("--status", choices=TENANT_STATUSES, required=True)
    rules = t_sub.add_parser("set-rules", parents=[changing],
                             help="a tenant's lead-rule pack and override (then: leads reclassify)")
    rules.add_argument("--tenant", required=True, help="tenant id or slug")
    rules.add_argument("--pack", choices=LEAD_PACKS, help="the vertical pack (default: keep; new tenants: generic)")
    override = rules.add_mutually_exclusive_group()
    override.add_argument("--override", type=_json_object, help="a JSON object of rule keys replacing the pack's")
    override.add_argument("--override-file", type=Path, help="the override as a JSON file")
    override.add_argument("--clear-override", action="store_true", help="drop the tenant's override")
    timing = t_sub.add_parser("set-schedule", parents=[changing], help="a tenant's own sync schedule (cron)")
    timing.add_argument("--tenant", required=True, help="tenant id or slug")
    cron = timing.add_mutually_exclusive_group(required=True)
    cron.add_argument("--schedule", help="cron expression or @preset, e.g. '*/30 6-22 * * *'")
    cron.add_argument("--default", action="store_true", help="back to the default schedule")
    tenants.set_defaults(func=admin.tenants)

    inboxes = commands.add_parser("inboxes", help="discover and map Chatwoot inboxes to tenants")
    i_sub = inboxes.add_subparsers(dest="action", required=True, parser_class=_Parser)
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
    history.add_argument("--limit", type=_integer(1, 100_000), default=50)
    inboxes.set_defaults(func=admin.inboxes)

    lead = commands.add_parser("leads", help="evaluate, explain and re-apply the lead rules")
    l_sub = lead.add_subparsers(dest="action", required=True, parser_class=_Parser)
    evaluate = l_sub.add_parser("evaluate", parents=[plain],
                                help="precision / recall / confusion per flag on labelled conversations")
    evaluate.add_argument("--file", required=True, help="labelled conversations, .json or .csv")
    rules_of = evaluate.add_mutually_exclusive_group()
    rules_of.add_argument("--pack", choices=LEAD_PACKS, default=None, help="a pack's rules (default generic)")
    rules_of.add_argument("--tenant", type=_integer(0, MAX_ID), help="a tenant's rules: its pack and override")
    evaluate.set_defaults(func=leads.evaluate)
    why = l_sub.add_parser("explain", parents=[plain], help="which message and rule set each flag of a conversation")
    why.add_argument("--tenant", type=_integer(0, MAX_ID), required=True)
    why.add_argument("--conversation", type=_integer(0, MAX_ID), required=True)
    why.set_defaults(func=leads.explain)
    again = l_sub.add_parser("reclassify", parents=[plain],
                             help="recompute a tenant's stored lead columns with its current rules")
    again.add_argument("--tenant", type=_integer(0, MAX_ID), required=True)
    again.add_argument("--chunk-size", type=_integer(1, MAX_CHUNK_SIZE), default=DEFAULT_CHUNK_SIZE)
    again.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    again.set_defaults(func=leads.reclassify)
