"""A long-lived process that runs `chatwoot-etl sync ...` commands in-process, timed one by one.

It stands for an Airflow worker: Airflow, its PostgresHook and the Variable model are imported
once, before the first command, so a command's time is the sync's own cost and not the
interpreter's start. bench/run.py writes one command line per line on stdin (the arguments after
`chatwoot-etl`) and reads one JSON line back per command: {"seconds": wall, "code": exit code}.
The environment (connection variables, Airflow home) is the caller's, as for the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import sys
import time


def main() -> int:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from chatwoot_etl import cli, connections, logs

    connections.ensure_connections()
    logs.configure(os.environ.get("CHATWOOT_ETL_LOG_LEVEL", "WARNING"))
    # what a worker's task process has loaded before the task starts
    import airflow.models.variable  # noqa: F401
    import airflow.providers.postgres.hooks.postgres  # noqa: F401

    from chatwoot_etl.sync import engine  # noqa: F401

    for line in sys.stdin:
        args = cli.build_parser().parse_args(shlex.split(line))
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli.cmd_sync(args)
        print(json.dumps({"seconds": time.perf_counter() - started, "code": code}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
