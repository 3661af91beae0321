"""A long-lived process that runs `chatwoot-etl sync ...` commands in-process, timed one by one.

It stands for an Airflow worker: Airflow, its PostgresHook and the Variable model are imported
once, before the first command, so a command's time is the sync's own cost and not the
interpreter's start. bench/run.py writes one command line per line on stdin (the arguments after
`chatwoot-etl`: `sync --all` or `sync --tenant N`, with `--lookback-minutes M`) and reads one JSON
line back per command: {"seconds": wall, "code": exit code}. Each command calls the engine as the
CLI's sync does (its tenant list, its options, its Variable store), so this file does not depend
on the CLI's internals. The environment (connection variables, Airflow home) is the caller's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import sys
import time
import traceback
from datetime import timedelta

# what a worker's task process has loaded before the task starts
WORKER_MODULES = ("airflow.models.variable", "airflow.providers.postgres.hooks.postgres", "chatwoot_etl.sync.engine")


def build_parser() -> argparse.ArgumentParser:
    """The `chatwoot-etl sync` arguments bench/run.py sends, parsed as the CLI parses them."""
    parser = argparse.ArgumentParser(prog="warm_sync")
    parser.add_argument("command", choices=["sync"])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--tenant", type=int)
    target.add_argument("--all", action="store_true")
    parser.add_argument("--lookback-minutes", type=float, default=None)
    return parser


def sync(args: argparse.Namespace) -> int:
    """The CLI's `sync`: every syncable tenant in turn (or one); 1 when any tenant failed."""
    from chatwoot_etl import connections
    from chatwoot_etl.orchestration.variables import MetadataVariables
    from chatwoot_etl.sync import engine, runs
    from chatwoot_etl.sync.window import DEFAULT_LOOKBACK, SyncOptions

    lookback = DEFAULT_LOOKBACK if args.lookback_minutes is None else timedelta(minutes=args.lookback_minutes)
    options = SyncOptions(lookback=lookback, triggered_by="cli")
    if args.all:
        with connections.analytics("list") as conn:
            tenants = runs.syncable_tenants(conn)
    else:
        tenants = [args.tenant]
    code = 0
    for tenant in tenants:
        try:
            engine.sync_tenant(tenant, options, variables=MetadataVariables())
        except Exception:  # noqa: BLE001 - reported on stderr, as the CLI does, and the command fails
            traceback.print_exc()
            code = 1
    return code


def main() -> int:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from chatwoot_etl import logs
    from chatwoot_etl.localdev import embedded

    embedded.ensure_connections()
    logs.configure(os.environ.get("CHATWOOT_ETL_LOG_LEVEL", "WARNING"))
    for module in WORKER_MODULES:
        importlib.import_module(module)
    parser = build_parser()
    for line in sys.stdin:
        args = parser.parse_args(shlex.split(line))
        started = time.perf_counter()
        code = sync(args)
        print(json.dumps({"seconds": time.perf_counter() - started, "code": code}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
