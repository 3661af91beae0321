"""One sync of one tenant as its own process, for the fault rounds: the engine as the CLI and the
DAG run it, plus an optional self-inflicted death at a chunk boundary.

    python -m tests.faults.driver TENANT MODE CHUNK_SIZE TRIGGERED_BY [DIE_AT_CHUNK SIGNAL]

MODE is incremental, full_refresh or window (the last day); exit 0 success, 2 refused (the
tenant's lock is held), 1 any other failure (its message on stderr).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta

from chatwoot_etl.errors import LockRefused
from chatwoot_etl.sync import engine
from chatwoot_etl.sync.window import SyncOptions


def main(argv: list[str]) -> int:
    tenant, mode, chunk_size, triggered_by = int(argv[0]), argv[1], int(argv[2]), argv[3]
    die_at, how = (int(argv[4]), getattr(signal, argv[5])) if len(argv) > 4 else (0, None)

    def maybe_die(chunk: int, result: object) -> None:
        if chunk == die_at and how is not None:
            os.kill(os.getpid(), how)

    since = datetime.now(UTC) - timedelta(days=1) if mode == "window" else None
    options = SyncOptions(mode=mode, since=since, chunk_size=chunk_size, triggered_by=triggered_by,
                          publish_mirror=False)
    try:
        engine.sync_tenant(tenant, options, on_chunk_committed=maybe_die)
    except LockRefused:
        return 2
    except Exception as exc:  # noqa: BLE001 - the round reads the message and judges it
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
