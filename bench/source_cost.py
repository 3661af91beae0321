"""What one tenant's incremental read costs the source, at 1x and 5x the source's size, per strategy.

A benchmark, not a test: it prints figures and writes bench/results/source_cost.json. For each size
it seeds a source (one tenant per account), changes the same number of conversations at both
sizes (seed.add_activity, --touched, default 250),
and times the engine's own extract statement (sync.source.extract_statement, COPY to nowhere) of
each tenant's incremental window, with the engine's session:
  deployed view     the owner's modular view (whole-table message aggregates);
  base tables       the same window through sync.strategy's base-table query (what `auto` reads
                    where the source role may and the check found it equal);
  indexable view    the view with per-conversation aggregates (02_view_indexable.sql).
A cycle's source time for N tenants is N x the median per-tenant read (serial, one connection),
computed from the measurements; so is how many tenants one 15-minute cycle can serve per source
connection.

    .venv/bin/python bench/source_cost.py                       # 20k and 100k conversations, 10 tenants
    .venv/bin/python bench/source_cost.py --conversations 50000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402
from tabulate import tabulate  # noqa: E402

from bench.fixture import Server, log  # noqa: E402
from chatwoot_etl import connections, settings  # noqa: E402
from chatwoot_etl.localdev import seed  # noqa: E402
from chatwoot_etl.paths import sql_text  # noqa: E402
from chatwoot_etl.sync import source, strategy  # noqa: E402
from chatwoot_etl.sync.window import ExtractWindow  # noqa: E402

CYCLE_SECONDS = 15 * 60
CONTENDERS = (("deployed view", "deployed", strategy.VIEW),
              ("base tables", "deployed", strategy.BASE_TABLES),
              ("indexable view", "indexable", strategy.VIEW))


def tenant_windows(conn: psycopg.Connection, after, until) -> list[ExtractWindow]:
    rows = conn.execute("SELECT account_id, array_agg(id ORDER BY id) FROM inboxes GROUP BY 1 ORDER BY 1").fetchall()
    return [ExtractWindow(tuple(inboxes), (), (after, 0), until) for _, inboxes in rows]


def read_seconds(uri: str, window: ExtractWindow, how: str) -> tuple[float, int]:
    options = " ".join(f"-c {k}={v}" for k, v in settings.SOURCE_SESSION.get().items())
    statement, params = source.extract_statement(window, how)
    with psycopg.connect(uri, options=options or None) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        strategy.prepare(conn, how)
        lines = 0
        with cur.copy(statement, params) as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
        return time.perf_counter() - started, lines


def measure(server: Server, conversations: int, tenants: int, repeat: int, touched: int) -> dict:
    uri = server.create(f"cost_{conversations}")
    with psycopg.connect(uri, autocommit=True) as conn:
        seed.apply_schema(conn, view="deployed")
        seed.generate(conn, accounts=tenants, conversations=conversations)
        # the same change at every size: what must not grow is the cost of reading it
        activity = seed.add_activity(conn, touch_fraction=min(1.0, touched / conversations), seed=7)
        conn.execute("ANALYZE")
        windows = tenant_windows(conn, activity["at"] - timedelta(minutes=1), activity["at"] + timedelta(minutes=1))
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    figures: dict = {"conversations": conversations, "messages": messages, "tenants": tenants}
    reader = connections.with_database(uri, conninfo_to_dict(uri)["dbname"], user=connections.SOURCE_READER_ROLE)
    for label, view, how in CONTENDERS:
        with psycopg.connect(uri, autocommit=True) as conn:
            for name in seed.schema_files(view)[2:]:
                conn.execute(sql_text(name))
        per_tenant, rows = [], 0
        for window in windows:
            timings = []
            for _ in range(repeat):
                seconds, rows_read = read_seconds(reader, window, how)
                timings.append(seconds)
            per_tenant.append(min(timings))
            rows += rows_read
        median = statistics.median(per_tenant)
        figures[label] = {"per_tenant_s": round(median, 4), "rows_per_tenant": rows // len(windows),
                          "cycle_10_tenants_s": round(10 * median, 2), "cycle_100_tenants_s": round(100 * median, 2),
                          "tenants_per_cycle_per_connection": int(CYCLE_SECONDS / median) if median else None}
        log(f"{conversations} conversations, {label}: {median:.3f} s per tenant ({rows // len(windows)} rows)")
    server.drop_labelled(f"cost_{conversations}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000, help="the 1x size (5x is measured too)")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="reads per tenant (the fastest counts)")
    parser.add_argument("--touched", type=int, default=250, help="conversations changed before the read, at both sizes")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "source_cost.json")
    args = parser.parse_args()
    server = Server()
    version = server.version()
    try:
        sizes = [measure(server, n, args.tenants, args.repeat, args.touched)
                 for n in (args.conversations, 5 * args.conversations)]
    finally:
        server.close()
    table = []
    for label, _, _ in CONTENDERS:
        one, five = sizes[0][label], sizes[1][label]
        table.append([label, one["per_tenant_s"], five["per_tenant_s"],
                      round(five["per_tenant_s"] / one["per_tenant_s"], 2) if one["per_tenant_s"] else None,
                      five["cycle_10_tenants_s"], five["cycle_100_tenants_s"], five["tenants_per_cycle_per_connection"]])
    print(tabulate(table, headers=["read", "per tenant 1x (s)", "per tenant 5x (s)", "5x / 1x",
                                   "cycle, 10 tenants, 5x (s)", "cycle, 100 tenants, 5x (s)",
                                   "tenants / 15 min / connection, 5x"]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"server": version, "sizes": sizes}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
