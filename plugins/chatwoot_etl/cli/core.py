"""The sync and local-environment commands: migrate, seed-source, sync, status, demo, embedded, registry.

Each handler takes the parsed arguments and returns the exit code; the work is the library's, the
printing goes through ``cli.output``. Heavy modules (Airflow, pandas, psycopg) are imported inside
the handlers, so that ``chatwoot-etl --help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
from datetime import timedelta

from chatwoot_etl.cli import output, progress
from chatwoot_etl.cli.output import EXIT_FAILED, EXIT_OK, EXIT_REFUSED


def migrate(args: argparse.Namespace) -> int:
    """Adopt / bring forward the analytics database; --plan rehearses it and rolls back."""
    from chatwoot_etl.admin import migrations
    from chatwoot_etl.errors import MigrationError

    try:
        report = migrations.migrate(plan=args.plan)
    except MigrationError as exc:
        return output.error(f"migrate stopped: {exc}")
    heading = "migrate --plan: what migrate would change" if args.plan else "migrate: changes made"
    output.line(f"{heading} [{args.connections}]")
    for text in report.lines():
        output.line(f"  {text}")
    return EXIT_OK


def seed_source(args: argparse.Namespace) -> int:
    from chatwoot_etl.localdev import demo

    if args.activity:
        with progress.ticking("seed-source: adding activity"):
            counts = demo.build_source(activity=True, touch_fraction=args.touch_fraction,
                                       new_conversations=args.new_conversations, seed=args.seed)
    else:
        with progress.ticking(f"seed-source: generating {args.conversations:,} conversations"):
            counts = demo.build_source(accounts=args.accounts, inboxes_per_account=args.inboxes_per_account,
                                       conversations=args.conversations,
                                       messages_per_conversation=args.messages_per_conversation, seed=args.seed)
    output.print_json(counts)
    return EXIT_OK


def sync_options(args: argparse.Namespace):
    """The SyncOptions of `sync`'s arguments."""
    from chatwoot_etl.sync.window import DEFAULT_CHUNK_SIZE, DEFAULT_LOOKBACK, SyncOptions

    mode = "full_refresh" if args.full_refresh else "window" if args.since else "incremental"
    return SyncOptions(
        mode=mode,
        since=args.since,
        until=args.until,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        lookback=timedelta(minutes=args.lookback_minutes) if args.lookback_minutes is not None else DEFAULT_LOOKBACK,
        triggered_by="cli",
    )


def sync(args: argparse.Namespace) -> int:
    """One tenant, or every syncable one in turn; a summary row each. Exit 0, 1 (any failure) or 2 (refused)."""
    from chatwoot_etl import connections
    from chatwoot_etl.errors import LockRefused
    from chatwoot_etl.orchestration.variables import cli_variables
    from chatwoot_etl.sync import engine, runs

    if args.until and not args.since:
        return output.error("--until needs --since")
    options = sync_options(args)
    if args.all:
        with connections.analytics("list") as conn:
            tenant_ids = runs.syncable_tenants(conn)
    else:
        tenant_ids = [args.tenant]
    variables = cli_variables()  # the engine logs and carries on when the metadata DB is unreachable
    shown = progress.for_sync()  # a line on a terminal only
    code, rows = EXIT_OK, []
    with shown.shown() if shown else contextlib.nullcontext():
        for tenant_id in tenant_ids:
            try:
                rows.append(engine.sync_tenant(tenant_id, options, variables=variables, progress=shown).summary())
            except LockRefused as exc:
                output.problem(f"refused: {exc}")
                rows.append({"tenant": tenant_id, "status": "refused"})
                code = EXIT_REFUSED if code != EXIT_FAILED else code
            except Exception as exc:  # noqa: BLE001 - the CLI reports every failure and exits 1
                output.problem(f"tenant {tenant_id} failed: {type(exc).__name__}: {exc}")
                rows.append({"tenant": tenant_id, "status": "failed"})
                code = EXIT_FAILED
    output.table(rows)
    return code


def status(args: argparse.Namespace) -> int:
    from chatwoot_etl.orchestration import freshness

    output.print_rows(freshness.status_rows(), args.json)
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    from chatwoot_etl.localdev import demo as local_demo

    rows = local_demo.run_demo()
    output.table(rows)
    return EXIT_OK if all(row["status"] == "success" for row in rows) else EXIT_FAILED


def embedded(args: argparse.Namespace) -> int:
    """start: start (or reattach to) the server; env: also print its variables as shell exports; stop."""
    from chatwoot_etl.localdev import embedded as server

    if args.action == "stop":
        server.stop(server.PGDATA)
        return EXIT_OK
    environment = server.environment(server.PGDATA)
    if args.action == "env":
        for name, value in environment.items():
            output.line(f"export {name}='{value}'")
    return EXIT_OK


def registry(args: argparse.Namespace) -> int:
    from chatwoot_etl.orchestration import registry as snapshot_registry

    if args.action == "refresh":
        output.print_json(snapshot_registry.refresh())
        return EXIT_OK
    snapshot = snapshot_registry.read()
    output.line(f"# {snapshot_registry.snapshot_path()} ({snapshot.origin}, generated {snapshot.generated_at})")
    output.table([{"dag_id": t.dag_id, "name": t.name, "slug": t.slug, "timezone": t.timezone,
                   "schedule": t.schedule or f"default ({snapshot_registry.default_schedule()})",
                   "inboxes": ",".join(map(str, t.inboxes))} for t in snapshot.tenants])
    return EXIT_OK


def settings_report(args: argparse.Namespace) -> int:
    """Every setting, its value in effect and where it comes from; exit 1 when one does not parse."""
    from chatwoot_etl import settings

    rows = settings.report()
    output.print_rows(rows, args.json)
    return EXIT_FAILED if any(str(row["value"]).startswith("INVALID:") for row in rows) else EXIT_OK
