"""chatwoot-etl: the command line of the ETL (also ``python -m chatwoot_etl``).

Exit codes: 0 success, 1 failure, 2 refused because another sync of the tenant holds its lock.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from chatwoot_etl.paths import LOCAL_DIR

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors are failures (1); 2 means "lock refused"
        self.print_usage(sys.stderr)
        self.exit(EXIT_FAILED, f"{self.prog}: error: {message}\n")


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; write e.g. 2026-01-01T00:00:00Z")
    return moment


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chatwoot-etl", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=os.environ.get("CHATWOOT_ETL_LOG_LEVEL", "INFO"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("migrate", help="apply the analytics database migrations")

    seed = commands.add_parser("seed-source", help="build (or add activity to) the local Chatwoot-shaped source")
    seed.add_argument("--accounts", type=_positive, default=3)
    seed.add_argument("--inboxes-per-account", type=_positive, default=2)
    seed.add_argument("--conversations", type=_positive, default=2000)
    seed.add_argument("--messages-per-conversation", type=_positive, default=10)
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument("--activity", action="store_true", help="add activity to the existing source instead")
    seed.add_argument("--touch-fraction", type=float, default=0.01)
    seed.add_argument("--new-conversations", type=int, default=0)

    sync = commands.add_parser("sync", help="sync one tenant (or all) from the source")
    target = sync.add_mutually_exclusive_group(required=True)
    target.add_argument("--tenant", type=int, help="tenant id")
    target.add_argument("--all", action="store_true", help="every active tenant with an active inbox, in turn")
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--full-refresh", action="store_true", help="re-read everything; remove rows gone from the source")
    mode.add_argument("--since", type=_aware, help="re-sync the window [since, until) (watermark untouched)")
    sync.add_argument("--until", type=_aware, help="end of the window (default: the source's clock)")
    sync.add_argument("--chunk-size", type=_positive, default=None)
    sync.add_argument("--lookback-minutes", type=float, default=None)

    status = commands.add_parser("status", help="per tenant: watermark, lag behind the source, last run")
    status.add_argument("--json", action="store_true")

    commands.add_parser("demo", help="the whole job on the embedded default, with a per-tenant summary")

    emb = commands.add_parser("embedded", help="the embedded PostgreSQL under .local/")
    emb.add_argument("action", choices=["start", "stop", "env"])

    reg = commands.add_parser("registry", help="the tenant registry snapshot the Airflow DAG files read")
    reg.add_argument("action", choices=["refresh", "show"],
                     help="refresh: rewrite it from tenants / inbox_tenant_mapping; show: print it")

    from chatwoot_etl.cli import admin as cli_admin

    cli_admin.register(commands)
    return parser


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    if not rows:
        print("(no rows)")
        return
    columns = columns or list(rows[0])
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)))


def _sync_options(args: argparse.Namespace):
    from chatwoot_etl.sync.engine import DEFAULT_CHUNK_SIZE, DEFAULT_LOOKBACK, SyncOptions

    mode = "full_refresh" if args.full_refresh else "window" if args.since else "incremental"
    return SyncOptions(
        mode=mode,
        since=args.since,
        until=args.until,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        lookback=timedelta(minutes=args.lookback_minutes) if args.lookback_minutes is not None else DEFAULT_LOOKBACK,
        triggered_by="cli",
    )


def cmd_sync(args: argparse.Namespace) -> int:
    from chatwoot_etl.localdev import demo as commands
    from chatwoot_etl.sync import engine, locks

    if args.until and not args.since:
        print("chatwoot-etl: --until needs --since", file=sys.stderr)
        return EXIT_FAILED
    options = _sync_options(args)
    tenant_ids = commands.syncable_tenants() if args.all else [args.tenant]
    code, rows = EXIT_OK, []
    for tenant_id in tenant_ids:
        try:
            result = engine.sync_tenant(tenant_id, options, variables=commands.cli_variables())
            rows.append(result.summary())
        except locks.LockRefused as exc:
            print(f"chatwoot-etl: refused: {exc}", file=sys.stderr)
            rows.append({"tenant": tenant_id, "status": "refused"})
            code = max(code, EXIT_REFUSED) if code != EXIT_FAILED else code
        except Exception as exc:  # noqa: BLE001 - the CLI reports every failure and exits 1
            print(f"chatwoot-etl: tenant {tenant_id} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            rows.append({"tenant": tenant_id, "status": "failed"})
            code = EXIT_FAILED
    print_table(rows)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    from chatwoot_etl.localdev import demo as commands

    rows = commands.status_rows()
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
    else:
        print_table(rows)
    return EXIT_OK


def cmd_registry_show() -> int:
    from chatwoot_etl.orchestration import registry

    snapshot = registry.read()
    print(f"# {registry.snapshot_path()} ({snapshot.origin}, generated {snapshot.generated_at})")
    print_table([{"dag_id": t.dag_id, "name": t.name, "slug": t.slug, "timezone": t.timezone,
                  "schedule": t.schedule or f"default ({registry.default_schedule()})",
                  "inboxes": ",".join(map(str, t.inboxes))} for t in snapshot.tenants])
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", str(LOCAL_DIR / "airflow"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from chatwoot_etl import connections

    # The embedded default also points Airflow at its metadata database (where the watermark
    # Variables live): that must happen before Airflow is imported, which reads its config once.
    offline = args.command == "embedded" or (args.command == "registry" and args.action == "show")
    where = None if offline else connections.ensure_connections()
    from chatwoot_etl import logs
    from chatwoot_etl.localdev import demo as commands

    logs.configure(args.log_level)
    if args.command == "embedded":
        return commands.embedded(args.action)
    if args.command == "registry" and args.action == "show":
        return cmd_registry_show()
    if args.command == "migrate":
        applied = commands.migrate()
        print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'} [{where}]")
        return EXIT_OK
    if args.command == "seed-source":
        print(json.dumps(commands.seed_source(args), default=str, indent=2))
        return EXIT_OK
    if args.command == "sync":
        return cmd_sync(args)
    if args.command == "status":
        return cmd_status(args)
    from chatwoot_etl.cli import admin as cli_admin

    if args.command in cli_admin.COMMANDS:
        return cli_admin.run(args)
    if args.command == "registry":
        print(json.dumps(commands.refresh_registry(), indent=2))
        return EXIT_OK
    if args.command == "demo":
        rows = commands.demo()
        print_table(rows)
        return EXIT_OK if all(row["status"] == "success" for row in rows) else EXIT_FAILED
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
