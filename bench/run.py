"""Benchmark of the ETL: throughput against the raw COPY pipe, incremental cost, memory, parse cost.

A benchmark, not a test: it prints figures and ratios and writes bench/results/latest.json; it never
fails on a figure. Everything is measured in the same run, on throwaway databases it creates and
drops itself, on the server AIRFLOW_CONN_ANALYTICS_DB points at (else the project's embedded one).
Modules: bench/fixture.py (the databases), bench/measure.py (the figures), bench/report.py (targets,
table, JSON); this file is the entry point and the order of the figures.

    .venv/bin/python bench/run.py                 # default: 200k conversations, ~2M messages, 10 tenants
    .venv/bin/python bench/run.py --quick         # smoke run: 10k conversations, 1 repeat, no 5x scale
    .venv/bin/python bench/run.py --scale 5       # 1M conversations as the base scale
    .venv/bin/python bench/run.py --no-5x         # skip the 5x-scale memory figure

What each figure is (see README "Benchmarks"):
  raw pipe        the engine's own extract statement (sync.source.extract_statement: the inboxes
                  read from the beginning up to the source clock) streamed into COPY ... FROM STDIN
                  of an empty table: the physical limit here (all tenants in one COPY and one COPY
                  per tenant; deployed and indexable view);
  view -> null    COPY (SELECT the contract's columns FROM the view WHERE inbox_id = ANY(...)) TO
                  STDOUT read and discarded: the source's own cost;
  full sync       `chatwoot-etl sync --all` on an empty analytics database (CLI path, one process),
                  and the same with 2 workers (`sync --tenant N` processes, 2 at a time);
  incremental     `sync --all` after seed.add_activity(touch_fraction=0.01), on the deployed view
                  and on the indexable one (include/sql/chatwoot/02_view_indexable.sql);
  no-op           `sync --all` again with nothing changed;
  warm process    the same incremental and one-tenant no-op inside bench/warm_sync.py, a process that
                  has Airflow loaded already (as a worker's task process has), without the CLI's start-up;
  peak RSS        max RSS of the sync process, from the kernel (os.wait4 rusage);
  parse           bench/parse_time.py (DAG parse time for 10 / 100 / 500 tenants), when present;
  previous        a re-creation of the PREVIOUS ETL (OFFSET pages + one INSERT per row), on a subset;
  side by side    the project and dlt (bench/peer.py, bench/peer_dlt.py) doing the same job on the
                  indexable view, interleaved: full, incremental 1% and no-op syncs of every tenant,
                  both checked for exactness; CPU and wall microseconds per row beside the raw pipe's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, only bench/ is on the path: the bench's modules and the tests' helpers need the root.
sys.path.insert(0, str(ROOT))

from bench import measure, peer, report  # noqa: E402
from bench.fixture import Fixture, Server, log  # noqa: E402
from chatwoot_etl import settings  # noqa: E402

BASE_CONVERSATIONS = 200_000
PEER_ACTIVITY_SEED = 500   # the side-by-side rounds' activity, apart from the incremental figures' seeds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 200k conversations (~2M messages)")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each short figure (medians reported)")
    parser.add_argument("--repeat-full", type=int, default=1, help="runs of each full sync")
    parser.add_argument("--quick", action="store_true", help="smoke run: scale 0.05, 1 repeat, no 5x, 2 parse sizes")
    parser.add_argument("--no-5x", action="store_true", help="skip the 5x-scale memory figure")
    parser.add_argument("--skip-full-indexable", action="store_true",
                        help="skip the full syncs on the indexable view (server's default plan)")
    parser.add_argument("--previous-rows", type=int, default=2000, help="subset for the previous approach")
    parser.add_argument("--previous-page", type=int, default=500)
    parser.add_argument("--parse-repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeat, args.repeat_full, args.no_5x = min(args.scale, 0.05), 1, 1, True
        args.previous_rows, args.parse_repeat = min(args.previous_rows, 500), 1
    return args


def main() -> int:
    args = parse_args()
    conversations = int(BASE_CONVERSATIONS * args.scale)
    server = Server(keep=args.keep)
    results: dict = {}
    out = report.new_report(args, conversations, server, results)
    started = time.monotonic()
    failure = None
    with tempfile.TemporaryDirectory(prefix="cwbench-") as tmp:
        try:
            run(args, server, Path(tmp), conversations, results, out)
        except Exception as exc:  # noqa: BLE001 - keep what was measured, then fail
            failure = exc
            out["failed"] = f"{type(exc).__name__}: {exc}"[:3000]
        finally:
            server.close()
    out["total_seconds"] = round(time.monotonic() - started, 1)
    out["targets"] = report.targets(results)
    report.write(out, args.output)
    report.print_table(out)
    print(f"\nJSON: {args.output}")
    if failure is not None:
        print(f"\nINCOMPLETE: {out['failed']}", file=sys.stderr)
        return 1
    return 0


def build_source(args, server: Server, workdir: Path, conversations: int, out: dict) -> Fixture:
    log(f"building the source: {conversations} conversations, {args.tenants} tenants")
    fx = Fixture(server, "base", conversations, args.tenants, workdir)
    out["source"] = {"counts": fx.counts, "view_rows": fx.total_rows, "seed_seconds": round(fx.seed_seconds, 1),
                     "rows_per_tenant": fx.view_rows}
    out["engine_source_session"] = fx.engine_session
    log(f"source ready in {fx.seed_seconds:.0f} s: {fx.counts['conversations']} conversations, "
        f"{fx.counts['messages']} messages, {fx.total_rows} view rows")
    return fx


def run(args, server: Server, workdir: Path, conversations: int, results: dict, out: dict) -> None:
    fx = build_source(args, server, workdir, conversations, out)

    # 1. physical limit: the raw COPY pipe, and the view alone
    scratch = server.create("base_scratch", template=fx.template)
    measure.physical_limit(fx, scratch, args, results, "", fx.engine_session)
    moved = results["raw_pipe_all_tenants"]["rows"]
    if moved != fx.total_rows:
        raise RuntimeError(f"the raw pipe moved {moved} rows, the source has {fx.total_rows}")

    # 2 + 5. full syncs (CLI path) and their peak RSS
    measure.full_syncs(fx, workdir, args.repeat_full, results, "deployed")

    # 7. the previous approach (reference only), on a subset of the first tenant
    measure.previous_figure(fx, scratch, args, results)

    # 3 + 4. incremental and no-op syncs, on both view definitions
    env = measure.incremental_figures(fx, workdir, args, results)
    measure.cli_startup(env, workdir, args.repeat, results)
    if not args.skip_full_indexable:
        fx.set_view("indexable")
        measure.physical_limit(fx, scratch, args, results, "_indexable", {})
        measure.full_syncs(fx, workdir, args.repeat_full, results, "indexable_server_plan",
                           {settings.SOURCE_SESSION.env_var: ""})
        # 8. the peer (dlt) side by side with the project, on the index-friendly view
        peer.figures(fx, workdir, args, results, PEER_ACTIVITY_SEED)
    fx.set_view("deployed")
    server.drop(env["_BENCH_DB"])

    # 5. peak RSS at 5x: the first tenant (5x bigger) synced alone, against the same at 1x
    measure.rss_figures(fx, server, workdir, args, conversations, results)

    # 6. DAG parse time
    log("DAG parse time (bench/parse_time.py)")
    results["parse"] = measure.parse_figures(args.parse_repeat)


if __name__ == "__main__":
    raise SystemExit(main())
