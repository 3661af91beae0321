"""The timed figures: raw pipe, view -> null sink, full / incremental / no-op syncs, RSS, the
previous approach, EXPLAIN of the window, CLI start-up and DAG parse.

Each figure function writes its entries into the results dict under the keys bench/report.py
reads; the syncs run as child processes (the CLI, or bench/warm_sync.py) so their RSS and start-up
are theirs, measured from the kernel.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from psycopg import sql

from bench.fixture import Fixture, Server, log
from chatwoot_etl import connections, contract, settings
from chatwoot_etl.localdev import seed
from chatwoot_etl.sync import source
from chatwoot_etl.sync.window import BEGINNING, ExtractWindow

BENCH_DIR = Path(__file__).resolve().parent
EXPLAIN_TIMEOUT_MS = 60_000
COLUMNS = list(contract.SOURCE_COLUMNS)
SYNC_ALL = ["sync", "--all", "--lookback-minutes", "0"]  # rounds must not re-read each other's rows
# (label, view definition, engine source session: None = the engine's default, else the setting's text)
INCREMENTAL_VARIANTS = (("deployed", "deployed", None), ("indexable", "indexable", None),
                        ("indexable_server_plan", "indexable", ""))
FIRST_ACTIVITY_SEED = 100


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def sync_one(tenant: int) -> list[str]:
    return ["sync", "--tenant", str(tenant), "--lookback-minutes", "0"]


# ---------------------------------------------------------------------------------------------
# child processes


def run_cli(args: list[str], env: dict[str, str], workdir: Path) -> dict:
    """Run `chatwoot-etl ARGS` as a child; wall seconds, CPU seconds and max RSS (kernel rusage, MB)."""
    out = tempfile.NamedTemporaryFile(dir=workdir, prefix="cli-", suffix=".log", delete=False)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "chatwoot_etl", *args], env=env, stdout=out, stderr=out)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    if proc.returncode != 0:
        tail = Path(out.name).read_text(errors="replace")[-3000:]
        raise RuntimeError(f"chatwoot-etl {' '.join(args)} exited {proc.returncode}:\n{tail}")
    return {"seconds": wall, "max_rss_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def analytics_uri(env: dict[str, str]) -> str:
    return env[connections.env_var(connections.ANALYTICS_CONN_ID)]


def engine_seconds(env: dict[str, str], since: dt.datetime) -> float:
    """Sum of the etl_control durations of the runs started since `since`: the engine's own time,
    without the process start (Python, Airflow and the Variable backend)."""
    with psycopg.connect(analytics_uri(env)) as conn:
        # finished_at - started_at: the owner's duration_seconds column holds whole seconds only
        value = conn.execute("SELECT sum(extract(epoch FROM finished_at - started_at)) FROM etl_control "
                             "WHERE started_at >= %s", (since,)).fetchone()[0]
    return float(value or 0.0)


def timed_cli(args: list[str], env: dict[str, str], workdir: Path) -> dict:
    """run_cli plus the engine's own seconds (from etl_control)."""
    with psycopg.connect(analytics_uri(env)) as conn:
        since = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # the clock started_at is read from
    out = run_cli(args, env, workdir)
    out["engine_seconds"] = engine_seconds(env, since)
    return out


def analytics_rows(env: dict[str, str]) -> int:
    with psycopg.connect(analytics_uri(env)) as conn:
        return conn.execute("SELECT count(*) FROM conversations_analytics").fetchone()[0]


class WarmSync:
    """bench/warm_sync.py as a child: sync commands timed inside one process that has Airflow
    loaded already, as an Airflow worker's task process has."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.stderr = tempfile.NamedTemporaryFile(dir=workdir, prefix="warm-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, str(BENCH_DIR / "warm_sync.py")], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)

    def run(self, args: list[str]) -> dict:
        self.proc.stdin.write(shlex.join(args) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        out = json.loads(line) if line else None
        if not out or out["code"] != 0:
            tail = Path(self.stderr.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"warm sync {' '.join(args)} failed ({out}):\n{tail}")
        return out

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=120)
        self.stderr.close()


# ---------------------------------------------------------------------------------------------
# reads of the source, outside the engine


def extract_query(inboxes: list[int], after: dt.datetime | None = None,
                  order: bool = False) -> tuple[sql.Composed, dict]:
    """SELECT the contract's columns of the given inboxes (changed after `after`), in keyset order if asked."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    where = sql.SQL("inbox_id = ANY(%(inboxes)s)")
    if after is not None:
        where += sql.SQL(" AND conversation_updated_at > %(after)s")
    query = sql.SQL("SELECT {} FROM {} WHERE ").format(columns, sql.Identifier(contract.SOURCE_VIEW)) + where
    if order:
        query += sql.SQL(" ORDER BY conversation_updated_at, conversation_id, csat_created_at NULLS FIRST, "
                         "csat_response_id NULLS FIRST")
    return query, {"inboxes": inboxes, "after": after}


def source_connect(uri: str, session: dict[str, str]) -> psycopg.Connection:
    options = " ".join(f"-c {k}={v}" for k, v in session.items())
    return psycopg.connect(uri, options=options or None)


def source_clock(uri: str) -> dt.datetime:
    with psycopg.connect(uri) as conn:
        return source.source_clock(conn)


def contract_table(conn: psycopg.Connection, name: str) -> None:
    """An empty table `name` with the contract's columns and types, replacing any previous one."""
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in contract.SOURCE_COLUMNS.items())
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(name), definition))
    conn.commit()


def view_to_null(reader: str, inboxes: list[int], session: dict[str, str], after: dt.datetime | None = None,
                 order: bool = False) -> dict:
    """The source evaluating the view alone: COPY ... TO STDOUT read and discarded."""
    query, params = extract_query(inboxes, after, order)
    copy = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    with source_connect(reader, session) as src, src.cursor() as cur:
        started = time.perf_counter()
        size = 0
        with cur.copy(copy, params) as stream:
            for block in stream:
                size += len(block)
        return {"seconds": time.perf_counter() - started, "bytes": size}


def window_seconds(fx: Fixture, after: dt.datetime, session: dict[str, str],
                   tenants: list[int] | None = None) -> float:
    """The source evaluating a sync's window (changed after `after`, ordered), one read per tenant, summed."""
    return sum(view_to_null(fx.reader, fx.inboxes[tenant], session, after=after, order=True)["seconds"]
               for tenant in (fx.inboxes if tenants is None else tenants))


def raw_pipe(reader: str, analytics: str, inboxes: list[int], session: dict[str, str]) -> dict:
    """The engine's own extract statement (these inboxes from the beginning up to the source clock)
    streamed into COPY ... FROM STDIN of an empty table with the contract's columns: the baseline
    reads exactly what a full sync reads, so it cannot drift from the engine."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    with source_connect(reader, session) as src, psycopg.connect(analytics) as dst:
        window = ExtractWindow(synced_inboxes=(), history_inboxes=tuple(inboxes), after=BEGINNING,
                               until=source.source_clock(src))
        statement, params = source.extract_statement(window)
        contract_table(dst, "bench_raw_pipe")
        started = time.perf_counter()
        with src.cursor() as out_cur, dst.cursor() as in_cur:
            with out_cur.copy(statement, params) as out_copy, \
                    in_cur.copy(sql.SQL("COPY bench_raw_pipe ({}) FROM STDIN (FORMAT csv)").format(columns)) as in_copy:
                for block in out_copy:
                    in_copy.write(block)
        dst.commit()
        seconds = time.perf_counter() - started
        rows = dst.execute("SELECT count(*) FROM bench_raw_pipe").fetchone()[0]
        dst.execute("DROP TABLE bench_raw_pipe")
        dst.commit()
    return {"seconds": seconds, "rows": rows}


def previous_approach(reader: str, analytics: str, inboxes: list[int], subset: int, page: int) -> dict:
    """THE PREVIOUS ETL, RE-CREATED FOR REFERENCE ONLY (defects 1 and 4 of existing-system.md).

    OFFSET pages over the view ordered by conversation_updated_at (each page re-evaluates the
    whole view) and one INSERT round trip per row. Never use this anywhere but here.
    """
    query, _ = extract_query(inboxes)
    paged = query + sql.SQL(" ORDER BY conversation_updated_at LIMIT %(limit)s OFFSET %(offset)s")
    insert = sql.SQL("INSERT INTO bench_previous_etl ({}) VALUES ({})").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS), sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
    with psycopg.connect(reader) as src, psycopg.connect(analytics) as dst:
        contract_table(dst, "bench_previous_etl")
        started = time.perf_counter()
        done = 0
        while done < subset:
            page_params = {"inboxes": inboxes, "limit": min(page, subset - done), "offset": done}
            rows = src.execute(paged, page_params).fetchall()
            src.rollback()  # each page its own snapshot, as before (the lost-rows defect)
            if not rows:
                break
            with dst.cursor() as cur:
                for row in rows:
                    cur.execute(insert, [json.dumps(v) if isinstance(v, (list, dict)) else v for v in row])
            dst.commit()
            done += len(rows)
        seconds = time.perf_counter() - started
        dst.execute("DROP TABLE bench_previous_etl")
        dst.commit()
    return {"seconds": seconds, "rows": done, "rows_per_s": done / seconds if seconds else None, "page": page}


def indexes_used(plan: list[str]) -> list[str]:
    return sorted({line.split(" using ", 1)[1].split()[0] for line in plan if " using " in line})


def explain_window(reader: str, inboxes: list[int], after: dt.datetime, session: dict[str, str]) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the window query under the given session settings."""
    query, params = extract_query(inboxes, after, order=True)
    # Capped: with nested loops allowed, the deployed view can rescan its aggregates per row (hours).
    with source_connect(reader, {**session, "statement_timeout": EXPLAIN_TIMEOUT_MS}) as conn:
        try:
            plan = [r[0] for r in conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + query, params).fetchall()]
        except psycopg.errors.QueryCanceled:
            conn.rollback()
            plan = [r[0] for r in conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()]
            return {"settings": session, "execution_ms": None, "timed_out_ms": EXPLAIN_TIMEOUT_MS,
                    "indexes_used": indexes_used(plan), "plan": plan}
    execution = next((float(line.split()[2]) for line in plan if line.startswith("Execution Time")), None)
    return {"settings": session, "execution_ms": execution, "indexes_used": indexes_used(plan), "plan": plan}


# ---------------------------------------------------------------------------------------------
# the figures


def physical_limit(fx: Fixture, scratch: str, args, results: dict, view_label: str,
                   session: dict[str, str]) -> None:
    """The raw COPY pipe and the view -> null sink, for all tenants at once and one tenant at a time."""
    pipe_all, pipe_tenants, null_all, null_tenants = [], [], [], []
    for r in range(args.repeat):
        log(f"raw COPY pipe and view -> null sink{view_label}, run {r + 1}/{args.repeat}")
        pipe_all.append(raw_pipe(fx.reader, scratch, fx.all_inboxes, session))
        null_all.append(view_to_null(fx.reader, fx.all_inboxes, session))
        if r < args.repeat_full:  # per-tenant reads pay the deployed view once per tenant: long
            pipe_tenants.append(sum(raw_pipe(fx.reader, scratch, i, session)["seconds"] for i in fx.inboxes.values()))
            null_tenants.append(sum(view_to_null(fx.reader, i, session, order=True)["seconds"]
                                    for i in fx.inboxes.values()))
    rows = fx.total_rows
    results[f"raw_pipe{view_label}_all_tenants"] = {
        "seconds": median([x["seconds"] for x in pipe_all]), "rows": pipe_all[0]["rows"],
        "runs": [x["seconds"] for x in pipe_all], "rows_per_s": rows / median([x["seconds"] for x in pipe_all])}
    results[f"raw_pipe{view_label}_per_tenant_sum"] = {"seconds": median(pipe_tenants), "runs": pipe_tenants,
                                                      "rows_per_s": rows / median(pipe_tenants)}
    results[f"view_null{view_label}_all_tenants"] = {"seconds": median([x["seconds"] for x in null_all]),
                                                     "mb": round(null_all[0]["bytes"] / 1e6, 1)}
    results[f"view_null{view_label}_per_tenant_sum_ordered"] = {"seconds": median(null_tenants), "runs": null_tenants}


def parallel_full_sync(fx: Fixture, env: dict[str, str], workdir: Path) -> dict:
    """Every tenant's `sync --tenant N`, two processes at a time: as 2 Airflow workers would run them."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda t: run_cli(["sync", "--tenant", str(t)], env, workdir), fx.tenant_ids))
    return {"seconds": time.perf_counter() - started, "max_rss_mb": max(x["max_rss_mb"] for x in runs),
            "per_tenant": runs}


def full_syncs(fx: Fixture, workdir: Path, repeat: int, results: dict, label: str,
               extra_env: dict[str, str] | None = None) -> None:
    """`sync --all` and the 2-worker sync, each on an empty analytics copy of its own."""
    serial, parallel = [], []
    for r in range(repeat):
        env = {**fx.fresh_analytics(f"{label}_serial{r}"), **(extra_env or {})}
        log(f"full sync ({label}), serial, run {r + 1}/{repeat}")
        serial.append(timed_cli(["sync", "--all"], env, workdir))
        serial[-1]["loaded_rows"] = analytics_rows(env)
        fx.server.drop(env["_BENCH_DB"])
        env = {**fx.fresh_analytics(f"{label}_par{r}"), **(extra_env or {})}
        log(f"full sync ({label}), 2 workers, run {r + 1}/{repeat}")
        parallel.append(parallel_full_sync(fx, env, workdir))
        fx.server.drop(env["_BENCH_DB"])
    for name, runs in (("serial", serial), ("parallel2", parallel)):
        seconds = median([x["seconds"] for x in runs])
        results[f"full_sync_{label}_{name}"] = {
            "seconds": seconds, "runs": [x["seconds"] for x in runs], "view_rows": fx.total_rows,
            "rows_per_s": fx.total_rows / seconds, "max_rss_mb": max(x["max_rss_mb"] for x in runs),
            "engine_seconds": median([x.get("engine_seconds", 0.0) for x in runs]) if name == "serial" else None,
        }


def previous_figure(fx: Fixture, scratch: str, args, results: dict) -> None:
    """The previous approach on a subset of the first tenant, and the full sync's speed-up over it."""
    first = fx.tenant_ids[0]
    log(f"previous approach (re-created for reference): {args.previous_rows} rows of tenant {first}")
    prev = previous_approach(fx.reader, scratch, fx.inboxes[first], args.previous_rows, args.previous_page)
    prev["speedup_of_full_sync"] = (
        results["full_sync_deployed_serial"]["rows_per_s"] / prev["rows_per_s"] if prev["rows_per_s"] else None)
    results["previous_approach"] = prev


def touch_one_percent(fx: Fixture, touched_seed: int) -> int:
    with psycopg.connect(fx.admin, autocommit=True) as conn:
        activity = seed.add_activity(conn, touch_fraction=0.01, seed=touched_seed)
    return activity["touched_conversations"] + activity["new_conversations"]


def incremental_round(fx: Fixture, env: dict[str, str], workdir: Path, session: dict[str, str],
                      touched_seed: int, progress: str) -> dict:
    """1% of activity, the incremental sync, then the no-op syncs (all tenants, one tenant), each
    with the source's own evaluation of its window."""
    first = fx.tenant_ids[0]
    before = source_clock(fx.admin)
    touched = touch_one_percent(fx, touched_seed)
    log(f"{progress}: {touched} conversations touched")
    window = window_seconds(fx, before, session)
    incr = timed_cli(SYNC_ALL, env, workdir)
    # the no-op's own window: from the source clock after the incremental sync (empty)
    settled = source_clock(fx.admin)
    noop_window = window_seconds(fx, settled, session)
    noop = {**timed_cli(SYNC_ALL, env, workdir), "window_eval_seconds": noop_window}
    noop_one = timed_cli(sync_one(first), env, workdir)
    noop_one["window_eval_seconds"] = window_seconds(fx, settled, session, [first])
    return {"before": before, "touched": touched, "window": window, "incr": incr, "noop": noop,
            "noop_one": noop_one}


def incremental_results(label: str, rounds: list[dict], results: dict) -> None:
    incr, noop, noop_one = ([x[key] for x in rounds] for key in ("incr", "noop", "noop_one"))
    results[f"incremental_{label}"] = {
        "seconds": median([x["seconds"] for x in incr]), "runs": [x["seconds"] for x in incr],
        "touched_conversations": median([x["touched"] for x in rounds]),
        "window_eval_seconds": median([x["window"] for x in rounds]),
        "max_rss_mb": max(x["max_rss_mb"] for x in incr),
        "engine_seconds": median([x["engine_seconds"] for x in incr]),
    }
    results[f"noop_{label}"] = {"seconds": median([x["seconds"] for x in noop]),
                               "runs": [x["seconds"] for x in noop],
                               "window_eval_seconds": median([x["window_eval_seconds"] for x in noop]),
                               "engine_seconds": median([x["engine_seconds"] for x in noop])}
    results[f"noop_one_tenant_{label}"] = {
        "seconds": median([x["seconds"] for x in noop_one]), "runs": [x["seconds"] for x in noop_one],
        "window_eval_seconds": median([x["window_eval_seconds"] for x in noop_one]),
        "max_rss_mb": max(x["max_rss_mb"] for x in noop_one),
        "engine_seconds": median([x["engine_seconds"] for x in noop_one])}


def warm_syncs(fx: Fixture, env: dict[str, str], workdir: Path, rounds: int, touched_seed: int, label: str,
               session: dict[str, str], results: dict) -> int:
    """Incremental 1% and one-tenant no-op inside a warm process; returns the next activity seed."""
    first = fx.tenant_ids[0]
    warm = WarmSync(env, workdir)
    incr, noop_one, touched = [], [], []
    try:
        warm.run(SYNC_ALL)  # first use: connections, caches
        for r in range(rounds):
            touched.append(touch_one_percent(fx, touched_seed))
            touched_seed += 1
            log(f"incremental ({label}), warm process, run {r + 1}/{rounds}: {touched[-1]} conversations touched")
            incr.append(warm.run(SYNC_ALL))
            settled = source_clock(fx.admin)
            noop_one.append(warm.run(sync_one(first)))
            noop_one[-1]["window_eval_seconds"] = window_seconds(fx, settled, session, [first])
    finally:
        warm.close()
    results[f"incremental_warm_{label}"] = {
        "seconds": median([x["seconds"] for x in incr]), "runs": [x["seconds"] for x in incr],
        "touched_conversations": median(touched)}
    results[f"noop_one_tenant_warm_{label}"] = {
        "seconds": median([x["seconds"] for x in noop_one]), "runs": [x["seconds"] for x in noop_one],
        "window_eval_seconds": median([x["window_eval_seconds"] for x in noop_one])}
    return touched_seed


def incremental_variant(fx: Fixture, env: dict[str, str], workdir: Path, args, variant: tuple,
                        touched_seed: int, results: dict) -> int:
    """One row of INCREMENTAL_VARIANTS: CLI rounds, EXPLAIN of the window, warm-process rounds;
    returns the next activity seed."""
    label, view, spec = variant
    if spec is not None:
        env = {**env, settings.SOURCE_SESSION.env_var: spec}
    session = fx.engine_session if spec is None else settings.parse_session(spec)
    fx.set_view(view)
    run_cli(SYNC_ALL, env, workdir)  # settle after the switch
    # the deployed view pays a whole aggregation per tenant and per run: a long figure
    count = args.repeat if view == "indexable" else args.repeat_full
    rounds = []
    for r in range(count):
        progress = f"incremental ({label}), run {r + 1}/{count}"
        rounds.append(incremental_round(fx, env, workdir, session, touched_seed + r, progress))
    touched_seed += count
    incremental_results(label, rounds, results)
    if spec is None:
        before = rounds[-1]["before"]
        results[f"explain_window_{view}"] = {
            "engine_session": explain_window(fx.reader, fx.all_inboxes, before, fx.engine_session),
            "default_session": explain_window(fx.reader, fx.all_inboxes, before, {}),
        }
    return warm_syncs(fx, env, workdir, count, touched_seed, label, session, results)


def incremental_figures(fx: Fixture, workdir: Path, args, results: dict) -> dict[str, str]:
    """Incremental and no-op syncs on each view definition, after one initial full sync; the
    environment of that analytics database (the caller drops it)."""
    env = fx.fresh_analytics("incr")
    log("initial full sync for the incremental figures")
    run_cli(["sync", "--all"], env, workdir)
    touched_seed = FIRST_ACTIVITY_SEED
    for variant in INCREMENTAL_VARIANTS:
        touched_seed = incremental_variant(fx, env, workdir, args, variant, touched_seed, results)
    return env


def cli_startup(env: dict[str, str], workdir: Path, repeat: int, results: dict) -> None:
    results["cli_startup"] = {"seconds": median([run_cli(["--help"], env, workdir)["seconds"]
                                                 for _ in range(max(1, repeat))])}


def rss_figures(fx: Fixture, server: Server, workdir: Path, args, conversations: int, results: dict) -> None:
    """Peak RSS of the first tenant synced alone at 1x, and (unless --no-5x) on a source 5x bigger."""
    first = fx.tenant_ids[0]
    env = fx.fresh_analytics("rss1")
    log("peak RSS: first tenant alone at 1x")
    results["rss_one_tenant_1x"] = {**run_cli(["sync", "--tenant", str(first)], env, workdir),
                                    "view_rows": fx.view_rows[first]}
    server.drop(env["_BENCH_DB"])
    if args.no_5x:
        return
    log(f"building the 5x source: {conversations * 5} conversations")
    big = Fixture(server, "x5", conversations * 5, args.tenants, workdir)
    env = big.fresh_analytics("rss5")
    log("peak RSS: first tenant alone at 5x")
    results["rss_one_tenant_5x"] = {**run_cli(["sync", "--tenant", str(big.tenant_ids[0])], env, workdir),
                                    "view_rows": big.view_rows[big.tenant_ids[0]],
                                    "seed_seconds": round(big.seed_seconds, 1)}
    server.drop_labelled("x5")


def parse_figures(repeat: int) -> dict:
    """bench/parse_time.py's table, parsed: per registry size, DAGs, errors and seconds."""
    script = BENCH_DIR / "parse_time.py"
    if not script.exists():
        return {"status": "missing", "note": "bench/parse_time.py not present"}
    proc = subprocess.run([sys.executable, str(script), "--repeat", str(repeat)], capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        return {"status": "failed", "note": proc.stderr[-2000:]}
    sizes = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].isdigit():
            sizes[int(parts[0])] = {"dags": int(parts[1]), "errors": int(parts[2]),
                                    "tenant_file_s": float(parts[3]), "folder_s": float(parts[4])}
    return {"status": "ok", "sizes": sizes, "raw": proc.stdout}
