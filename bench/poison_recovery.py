"""How long a tenant whose source holds rows the view cannot compute takes to sync, against a clean one.

A benchmark, not a test. One tenant of --conversations conversations (one Chatwoot account); a full
sync of it on a fresh analytics database, clean, then with --poisoned conversations given a
created_at of year 1 / infinity (the view raises on them), each in the same process through the
engine (bench.fixture's databases, the engine's session and default strategy). Prints both times
and their ratio, and checks the poisoned run quarantined exactly the poisoned rows.

    .venv/bin/python bench/poison_recovery.py --conversations 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.fixture import Fixture, Server, log, patched_environ  # noqa: E402
from chatwoot_etl import connections  # noqa: E402
from chatwoot_etl.sync import engine  # noqa: E402


def full_sync(fx: Fixture, label: str) -> tuple[float, engine.SyncResult, str]:
    env = fx.fresh_analytics(label)
    with patched_environ(env):
        started = time.perf_counter()
        result = engine.sync_tenant(fx.tenant_ids[0])
        return time.perf_counter() - started, result, env[connections.env_var(connections.ANALYTICS_CONN_ID)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--poisoned", type=int, default=2)
    args = parser.parse_args()
    server = Server()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            fx = Fixture(server, "poison", args.conversations, 1, Path(workdir))
            clean_s, clean, _ = full_sync(fx, "clean")
            with psycopg.connect(fx.admin, autocommit=True) as conn:
                ids = [row[0] for row in conn.execute(
                    "SELECT id FROM conversations WHERE first_reply_created_at IS NOT NULL ORDER BY md5(id::text) "
                    "LIMIT %s", (args.poisoned,))]
                for index, conversation_id in enumerate(ids):
                    conn.execute("UPDATE conversations SET created_at = %s WHERE id = %s",
                                 ("infinity" if index % 2 else "0001-01-01", conversation_id))
            poisoned_s, poisoned, uri = full_sync(fx, "poisoned")
            with psycopg.connect(uri) as conn:
                quarantined = sorted(int(r[0]) for r in conn.execute(
                    "SELECT conversation_id FROM etl_quarantine WHERE reason LIKE 'source_row_error:%'"))
    finally:
        server.close()
    exact = quarantined == sorted(ids) and poisoned.inserted == clean.inserted - len(ids)
    log(f"clean full sync: {clean_s:.1f} s ({clean.inserted} rows); poisoned: {poisoned_s:.1f} s "
        f"({poisoned.inserted} rows, {len(quarantined)} quarantined); ratio {poisoned_s / clean_s:.2f}; "
        f"exact: {exact}")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
