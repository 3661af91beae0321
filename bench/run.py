"""Benchmark of the ETL: throughput against the raw COPY pipe, incremental cost, memory, parse cost.

A benchmark, not a test: it prints figures and ratios and writes bench/results/latest.json; it never
fails on a figure. Everything is measured in the same run, on throwaway databases it creates and
drops itself, on the server AIRFLOW_CONN_ANALYTICS_DB points at (else the project's embedded one).

    .venv/bin/python bench/run.py                 # default: 200k conversations, ~2M messages, 10 tenants
    .venv/bin/python bench/run.py --quick         # smoke run: 10k conversations, 1 repeat, no 5x scale
    .venv/bin/python bench/run.py --scale 5       # 1M conversations as the base scale
    .venv/bin/python bench/run.py --no-5x         # skip the 5x-scale memory figure

What each figure is (see README "Benchmarks"):
  raw pipe        COPY (SELECT needed columns FROM the view WHERE inbox_id = ANY(...)) TO STDOUT
                  streamed into COPY ... FROM STDIN of an empty table: the physical limit here
                  (all tenants in one COPY and one COPY per tenant; deployed and indexable view);
  view -> null    the same COPY ... TO STDOUT read and discarded: the source's own cost;
  full sync       `chatwoot-etl sync --all` on an empty analytics database (CLI path, one process),
                  and the same with 2 workers (`sync --tenant N` processes, 2 at a time);
  incremental     `sync --all` after seed.add_activity(touch_fraction=0.01), on the deployed view
                  and on the indexable one (include/sql/chatwoot/02_view_indexable.sql);
  no-op           `sync --all` again with nothing changed;
  warm process    the same incremental and one-tenant no-op inside bench/warm_sync.py, a process that
                  has Airflow loaded already (as a worker's task process has), without the CLI's start-up;
  peak RSS        max RSS of the sync process, from the kernel (os.wait4 rusage);
  parse           bench/parse_time.py (DAG parse time for 10 / 100 / 500 tenants), when present;
  previous        a re-creation of the PREVIOUS ETL (OFFSET pages + one INSERT per row), on a subset.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BASE_CONVERSATIONS = 200_000
MESSAGES_PER_CONVERSATION = 10
INBOXES_PER_ACCOUNT = 2
SEED = 42
EXPLAIN_TIMEOUT_MS = 60_000

from chatwoot_etl import connections, contract  # noqa: E402
from chatwoot_etl.admin import migrations  # noqa: E402
from chatwoot_etl.localdev import demo as commands, embedded, seed  # noqa: E402
from chatwoot_etl.paths import LOCAL_DIR  # noqa: E402
from chatwoot_etl.sync import engine  # noqa: E402

COLUMNS = list(contract.SOURCE_COLUMNS)


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# databases


class Server:
    """Throwaway databases on one PostgreSQL server; all dropped by close()."""

    def __init__(self, keep: bool = False) -> None:
        configured = os.environ.get(connections.env_var(connections.ANALYTICS_CONN_ID))
        if configured:
            self.admin_uri, self.kind = connections.with_database(configured, "postgres"), "configured"
        else:
            self.admin_uri, self.kind = embedded.start(LOCAL_DIR / "pg").uri("postgres"), "embedded"
        self.tag = uuid.uuid4().hex[:6]
        self.created: list[str] = []
        self.keep = keep

    def uri(self, name: str, user: str | None = None) -> str:
        return connections.with_database(self.admin_uri, name, user=user)

    def create(self, label: str, template: str | None = None) -> str:
        name = f"bench_{self.tag}_{label}"[:63]
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        if self.keep:
            log(f"kept databases: {', '.join(self.created)}")
            return
        for name in reversed(list(self.created)):
            self.drop(name)

    def version(self) -> str:
        with psycopg.connect(self.admin_uri) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


class Fixture:
    """One generated source plus a migrated analytics template with its tenants registered."""

    def __init__(self, server: Server, label: str, conversations: int, tenants: int, workdir: Path) -> None:
        self.server, self.label = server, label
        self.source = server.create(f"{label}_src")
        self.admin = server.uri(self.source)
        self.reader = server.uri(self.source, user=connections.SOURCE_READER_ROLE)
        started = time.monotonic()
        with psycopg.connect(self.admin, autocommit=True) as conn:
            seed.apply_schema(conn, view="deployed")
            self.counts = seed.generate(conn, accounts=tenants, inboxes_per_account=INBOXES_PER_ACCOUNT,
                                        conversations=conversations,
                                        messages_per_conversation=MESSAGES_PER_CONVERSATION, seed=SEED)
            conn.execute("ANALYZE")
        self.seed_seconds = time.monotonic() - started
        self.template = server.create(f"{label}_an_tmpl")
        with psycopg.connect(server.uri(self.template)) as conn:
            migrations.apply(conn)
        self.env = child_env(server.uri(self.template), self.reader, self.admin, workdir)
        with patched_environ(self.env):
            self.tenant_ids = commands.register_demo_tenants()
        with psycopg.connect(self.admin) as conn:
            self.inboxes = {
                tenant: [row[0] for row in conn.execute(
                    "SELECT id FROM inboxes WHERE account_id = %s ORDER BY id", (account,)).fetchall()]
                for tenant, account in self._tenant_accounts().items()
            }
        self.view_rows = {tenant: self._count_rows(inboxes) for tenant, inboxes in self.inboxes.items()}

    def _tenant_accounts(self) -> dict[int, int]:
        with psycopg.connect(self.server.uri(self.template)) as conn:
            return dict(conn.execute("SELECT id, account_id FROM tenants WHERE id = ANY(%s)", (self.tenant_ids,)))

    def _count_rows(self, inboxes: list[int]) -> int:
        """The view's row count from its base tables (one row per conversation and CSAT answer):
        counting through the deployed view would aggregate every message once per tenant."""
        with psycopg.connect(self.admin) as conn:
            return conn.execute(
                "SELECT count(*) FROM conversations c LEFT JOIN csat_survey_responses cs ON cs.conversation_id = c.id"
                " WHERE c.inbox_id = ANY(%s)", (inboxes,)).fetchone()[0]

    @property
    def all_inboxes(self) -> list[int]:
        return [i for inboxes in self.inboxes.values() for i in inboxes]

    def fresh_analytics(self, label: str) -> dict[str, str]:
        """A new analytics database copied from the template; the child environment for it."""
        name = self.server.create(f"{self.label}_{label}", template=self.template)
        with psycopg.connect(self.server.uri(name)) as conn:
            migrations.apply(conn)  # the code may have gained a migration since the template was made
        return {**self.env, connections.env_var(connections.ANALYTICS_CONN_ID): self.server.uri(name),
                "_BENCH_DB": name}

    def set_view(self, view: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            seed.apply_schema(conn, view=view)


def child_env(analytics: str, reader: str, admin: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update({
        connections.env_var(connections.ANALYTICS_CONN_ID): analytics,
        connections.env_var(connections.SOURCE_CONN_ID): reader,
        connections.env_var(connections.SOURCE_ADMIN_CONN_ID): admin,
        # Variables live in Airflow's metadata DB; an unmigrated SQLite one makes the engine log and
        # carry on (the mirror is best-effort), so no Airflow database is needed here.
        "AIRFLOW_HOME": str(workdir / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{workdir / 'unmigrated.db'}",
        "CHATWOOT_ETL_LOG_LEVEL": "WARNING",
    })
    return env


@contextlib.contextmanager
def patched_environ(values: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in values.items() if not k.startswith("_")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------------------------------------
# measurements


def run_cli(args: list[str], env: dict[str, str], workdir: Path) -> dict:
    """Run `chatwoot-etl ARGS` as a child; wall seconds and its max RSS (kernel rusage, MB)."""
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
    return {"seconds": wall, "max_rss_mb": usage.ru_maxrss / 1024}


def extract_query(inboxes: list[int], after: dt.datetime | None = None, order: bool = False) -> tuple[sql.Composed, dict]:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    where = sql.SQL("inbox_id = ANY(%(inboxes)s)")
    if after is not None:
        where += sql.SQL(" AND conversation_updated_at > %(after)s")
    query = sql.SQL("SELECT {} FROM {} WHERE ").format(columns, sql.Identifier(contract.SOURCE_VIEW)) + where
    if order:
        query += sql.SQL(" ORDER BY conversation_updated_at, conversation_id, csat_created_at NULLS FIRST, "
                         "csat_response_id NULLS FIRST")
    return query, {"inboxes": inboxes, "after": after}


def source_connect(uri: str, settings: dict[str, str] | None = None) -> psycopg.Connection:
    settings = engine.SOURCE_SESSION if settings is None else settings
    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    return psycopg.connect(uri, options=options or None)


def view_to_null(reader: str, inboxes: list[int], after: dt.datetime | None = None, order: bool = False,
                 settings: dict[str, str] | None = None) -> dict:
    """The source evaluating the view alone: COPY ... TO STDOUT read and discarded."""
    query, params = extract_query(inboxes, after, order)
    copy = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    with source_connect(reader, settings) as src, src.cursor() as cur:
        started = time.perf_counter()
        size = 0
        with cur.copy(copy, params) as stream:
            for block in stream:
                size += len(block)
        return {"seconds": time.perf_counter() - started, "bytes": size}


def raw_pipe(reader: str, analytics: str, inboxes: list[int], settings: dict[str, str] | None = None) -> dict:
    """COPY view TO STDOUT streamed into COPY ... FROM STDIN of an empty table with those columns."""
    query, params = extract_query(inboxes)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in contract.SOURCE_COLUMNS.items())
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    with source_connect(reader, settings) as src, psycopg.connect(analytics) as dst:
        dst.execute("DROP TABLE IF EXISTS bench_raw_pipe")
        dst.execute(sql.SQL("CREATE TABLE bench_raw_pipe ({})").format(definition))
        dst.commit()
        started = time.perf_counter()
        with src.cursor() as out_cur, dst.cursor() as in_cur:
            with out_cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query), params) as out_copy, \
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
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in contract.SOURCE_COLUMNS.items())
    insert = sql.SQL("INSERT INTO bench_previous_etl ({}) VALUES ({})").format(
        columns, sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
    with psycopg.connect(reader) as src, psycopg.connect(analytics) as dst:
        dst.execute("DROP TABLE IF EXISTS bench_previous_etl")
        dst.execute(sql.SQL("CREATE TABLE bench_previous_etl ({})").format(definition))
        dst.commit()
        started = time.perf_counter()
        done = 0
        while done < subset:
            rows = src.execute(paged, {"inboxes": inboxes, "limit": min(page, subset - done), "offset": done}).fetchall()
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


def explain_window(reader: str, inboxes: list[int], after: dt.datetime, settings: dict[str, str]) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the window query under the given session settings."""
    query, params = extract_query(inboxes, after, order=True)
    # Capped: with nested loops allowed, the deployed view can rescan its aggregates per row (hours).
    options = " ".join(f"-c {k}={v}" for k, v in {**settings, "statement_timeout": EXPLAIN_TIMEOUT_MS}.items())
    with psycopg.connect(reader, options=options) as conn:
        try:
            plan = [r[0] for r in conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + query, params).fetchall()]
        except psycopg.errors.QueryCanceled:
            conn.rollback()
            plan = [r[0] for r in conn.execute(sql.SQL("EXPLAIN ") + query, params).fetchall()]
            return {"settings": settings, "execution_ms": None, "timed_out_ms": EXPLAIN_TIMEOUT_MS,
                    "indexes_used": sorted({line.split(" using ", 1)[1].split()[0] for line in plan if " using " in line}),
                    "plan": plan}
    execution = next((float(line.split()[2]) for line in plan if line.startswith("Execution Time")), None)
    index_scans = sorted({line.split(" using ", 1)[1].split()[0] for line in plan if " using " in line})
    return {"settings": settings, "execution_ms": execution, "indexes_used": index_scans, "plan": plan}


def source_clock(admin: str) -> dt.datetime:
    with psycopg.connect(admin) as conn:
        return conn.execute("SELECT (now() AT TIME ZONE 'UTC')::timestamp").fetchone()[0]


def engine_seconds(env: dict[str, str], since: dt.datetime) -> float:
    """Sum of etl_control.duration_seconds of the runs started since `since`: the engine's own time,
    without the process start (Python, Airflow and the Variable backend)."""
    with psycopg.connect(env[connections.env_var(connections.ANALYTICS_CONN_ID)]) as conn:
        value = conn.execute("SELECT sum(duration_seconds) FROM etl_control WHERE started_at >= %s",
                             (since,)).fetchone()[0]
    return float(value or 0.0)


def timed_cli(args: list[str], env: dict[str, str], workdir: Path) -> dict:
    """run_cli plus the engine's own seconds (from etl_control)."""
    with psycopg.connect(env[connections.env_var(connections.ANALYTICS_CONN_ID)]) as conn:
        since = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # the clock started_at is read from
    out = run_cli(args, env, workdir)
    out["engine_seconds"] = engine_seconds(env, since)
    return out


def analytics_rows(env: dict[str, str]) -> int:
    with psycopg.connect(env[connections.env_var(connections.ANALYTICS_CONN_ID)]) as conn:
        return conn.execute("SELECT count(*) FROM conversations_analytics").fetchone()[0]


def parse_figures(repeat: int) -> dict:
    script = ROOT / "bench" / "parse_time.py"
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


def machine() -> dict:
    memory = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {"cores": os.cpu_count(), "memory_gb": memory, "platform": platform.platform(),
            "python": platform.python_version(), "load_avg_start": os.getloadavg()}


def versions(server: Server) -> dict:
    import importlib.metadata as md

    found = {name: md.version(name) for name in ("pandas", "numpy", "psycopg", "apache-airflow")}
    found["postgresql"] = server.version()
    with contextlib.suppress(Exception):
        found["git"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                      text=True).stdout.strip()
    return found


# ---------------------------------------------------------------------------------------------
# the run


def physical_limit(fx: Fixture, scratch: str, args, results: dict, view_label: str,
                   settings: dict[str, str] | None = None) -> None:
    """The raw COPY pipe and the view -> null sink, for all tenants at once and one tenant at a time."""
    pipe_all, pipe_tenants, null_all, null_tenants = [], [], [], []
    for r in range(args.repeat):
        log(f"raw COPY pipe and view -> null sink{view_label}, run {r + 1}/{args.repeat}")
        pipe_all.append(raw_pipe(fx.reader, scratch, fx.all_inboxes, settings))
        null_all.append(view_to_null(fx.reader, fx.all_inboxes, settings=settings))
        if r < args.repeat_full:  # per-tenant reads pay the deployed view once per tenant: long
            pipe_tenants.append(sum(raw_pipe(fx.reader, scratch, i, settings)["seconds"] for i in fx.inboxes.values()))
            null_tenants.append(sum(view_to_null(fx.reader, i, order=True, settings=settings)["seconds"]
                                    for i in fx.inboxes.values()))
    rows = sum(fx.view_rows.values())
    results[f"raw_pipe{view_label}_all_tenants"] = {
        "seconds": median([x["seconds"] for x in pipe_all]), "rows": pipe_all[0]["rows"],
        "runs": [x["seconds"] for x in pipe_all], "rows_per_s": rows / median([x["seconds"] for x in pipe_all])}
    results[f"raw_pipe{view_label}_per_tenant_sum"] = {"seconds": median(pipe_tenants), "runs": pipe_tenants,
                                                      "rows_per_s": rows / median(pipe_tenants)}
    results[f"view_null{view_label}_all_tenants"] = {"seconds": median([x["seconds"] for x in null_all]),
                                                     "mb": round(null_all[0]["bytes"] / 1e6, 1)}
    results[f"view_null{view_label}_per_tenant_sum_ordered"] = {"seconds": median(null_tenants), "runs": null_tenants}


class WarmSync:
    """bench/warm_sync.py as a child: sync commands timed inside one process that has Airflow
    loaded already, as an Airflow worker's task process has."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.stderr = tempfile.NamedTemporaryFile(dir=workdir, prefix="warm-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "warm_sync.py")], env=env, text=True,
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


def touch_one_percent(fx: Fixture, touched_seed: int) -> int:
    with psycopg.connect(fx.admin, autocommit=True) as conn:
        activity = seed.add_activity(conn, touch_fraction=0.01, seed=touched_seed)
    return activity["touched_conversations"] + activity["new_conversations"]


def warm_syncs(fx: Fixture, env: dict[str, str], workdir: Path, rounds: int, touched_seed: int, label: str,
               settings: dict[str, str] | None, results: dict) -> int:
    """Incremental 1% and one-tenant no-op inside a warm process; returns the next activity seed."""
    first = fx.tenant_ids[0]
    warm = WarmSync(env, workdir)
    incr, noop_one, touched = [], [], []
    try:
        warm.run(["sync", "--all", "--lookback-minutes", "0"])  # first use: connections, caches
        for r in range(rounds):
            touched.append(touch_one_percent(fx, touched_seed))
            touched_seed += 1
            log(f"incremental ({label}), warm process, run {r + 1}/{rounds}: {touched[-1]} conversations touched")
            incr.append(warm.run(["sync", "--all", "--lookback-minutes", "0"]))
            settled = source_clock(fx.admin)
            noop_one.append(warm.run(["sync", "--tenant", str(first), "--lookback-minutes", "0"]))
            noop_one[-1]["window_eval_seconds"] = view_to_null(fx.reader, fx.inboxes[first], after=settled,
                                                              order=True, settings=settings)["seconds"]
    finally:
        warm.close()
    results[f"incremental_warm_{label}"] = {
        "seconds": median([x["seconds"] for x in incr]), "runs": [x["seconds"] for x in incr],
        "touched_conversations": median(touched)}
    results[f"noop_one_tenant_warm_{label}"] = {
        "seconds": median([x["seconds"] for x in noop_one]), "runs": [x["seconds"] for x in noop_one],
        "window_eval_seconds": median([x["window_eval_seconds"] for x in noop_one])}
    return touched_seed


def full_syncs(fx: Fixture, workdir: Path, repeat: int, results: dict, label: str,
               extra_env: dict[str, str] | None = None) -> None:
    rows = sum(fx.view_rows.values())
    serial, parallel = [], []
    for r in range(repeat):
        env = {**fx.fresh_analytics(f"{label}_serial{r}"), **(extra_env or {})}
        log(f"full sync ({label}), serial, run {r + 1}/{repeat}")
        serial.append(timed_cli(["sync", "--all"], env, workdir))
        serial[-1]["loaded_rows"] = analytics_rows(env)
        fx.server.drop(env["_BENCH_DB"])
        env = {**fx.fresh_analytics(f"{label}_par{r}"), **(extra_env or {})}
        log(f"full sync ({label}), 2 workers, run {r + 1}/{repeat}")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda t: run_cli(["sync", "--tenant", str(t)], env, workdir), fx.tenant_ids))
        parallel.append({"seconds": time.perf_counter() - started, "max_rss_mb": max(x["max_rss_mb"] for x in runs),
                         "per_tenant": runs})
        fx.server.drop(env["_BENCH_DB"])
    for name, runs in (("serial", serial), ("parallel2", parallel)):
        seconds = median([x["seconds"] for x in runs])
        results[f"full_sync_{label}_{name}"] = {
            "seconds": seconds, "runs": [x["seconds"] for x in runs], "view_rows": rows,
            "rows_per_s": rows / seconds, "max_rss_mb": max(x["max_rss_mb"] for x in runs),
            "engine_seconds": median([x.get("engine_seconds", 0.0) for x in runs]) if name == "serial" else None,
        }


def main() -> int:
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
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.repeat, args.repeat_full, args.no_5x = min(args.scale, 0.05), 1, 1, True
        args.previous_rows, args.parse_repeat = min(args.previous_rows, 500), 1

    conversations = int(BASE_CONVERSATIONS * args.scale)
    server = Server(keep=args.keep)
    results: dict = {}
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "scale": {"factor": args.scale, "conversations": conversations, "tenants": args.tenants,
                  "messages_per_conversation": MESSAGES_PER_CONVERSATION, "repeat": args.repeat,
                  "repeat_full": args.repeat_full},
        "server": server.kind, "machine": machine(), "versions": versions(server),
        "engine_source_session": engine.SOURCE_SESSION, "results": results,
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cwbench-") as tmp:
        workdir = Path(tmp)
        failure = None
        try:
            run(args, server, workdir, conversations, results, report)
        except Exception as exc:  # noqa: BLE001 - keep what was measured, then fail
            failure = exc
            report["failed"] = f"{type(exc).__name__}: {exc}"[:3000]
        finally:
            server.close()
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["targets"] = targets(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str))
    print_table(report)
    print(f"\nJSON: {args.output}")
    if failure is not None:
        print(f"\nINCOMPLETE: {report['failed']}", file=sys.stderr)
        return 1
    return 0


def run(args, server: Server, workdir: Path, conversations: int, results: dict, report: dict) -> None:
    log(f"building the source: {conversations} conversations, {args.tenants} tenants")
    fx = Fixture(server, "base", conversations, args.tenants, workdir)
    rows = sum(fx.view_rows.values())
    report["source"] = {"counts": fx.counts, "view_rows": rows, "seed_seconds": round(fx.seed_seconds, 1),
                        "rows_per_tenant": fx.view_rows}
    log(f"source ready in {fx.seed_seconds:.0f} s: {fx.counts['conversations']} conversations, "
        f"{fx.counts['messages']} messages, {rows} view rows")

    # 1. physical limit: the raw COPY pipe, and the view alone
    scratch = server.uri(server.create("base_scratch", template=fx.template))
    physical_limit(fx, scratch, args, results, "")
    moved = results["raw_pipe_all_tenants"]["rows"]
    if moved != rows:
        raise RuntimeError(f"the raw pipe moved {moved} rows, the source has {rows}")

    # 2 + 5. full syncs (CLI path) and their peak RSS
    full_syncs(fx, workdir, args.repeat_full, results, "deployed")

    # 7. the previous approach (reference only), on a subset of the first tenant
    first = fx.tenant_ids[0]
    log(f"previous approach (re-created for reference): {args.previous_rows} rows of tenant {first}")
    prev = previous_approach(fx.reader, scratch, fx.inboxes[first], args.previous_rows, args.previous_page)
    results["previous_approach"] = prev
    results["previous_approach"]["speedup_of_full_sync"] = (
        results["full_sync_deployed_serial"]["rows_per_s"] / prev["rows_per_s"] if prev["rows_per_s"] else None)

    # 3 + 4. incremental and no-op syncs, on both view definitions
    env = fx.fresh_analytics("incr")
    log("initial full sync for the incremental figures")
    run_cli(["sync", "--all"], env, workdir)
    touched_seed = 100
    # (label, view definition, engine source session: None = the engine's default SOURCE_SESSION)
    variants = [("deployed", "deployed", None), ("indexable", "indexable", None),
                ("indexable_server_plan", "indexable", "")]
    base_env = env
    for label, view, session in variants:
        env = base_env if session is None else {**base_env, engine.SOURCE_SESSION_ENV: session}
        settings = None if session is None else engine._source_session(session)
        fx.set_view(view)
        run_cli(["sync", "--all", "--lookback-minutes", "0"], env, workdir)  # settle after the switch
        incr, noop, noop_one, window, touched = [], [], [], [], []
        # the deployed view pays a whole aggregation per tenant and per run: a long figure
        rounds = args.repeat if view == "indexable" else args.repeat_full
        for r in range(rounds):
            before = source_clock(fx.admin)
            touched.append(touch_one_percent(fx, touched_seed))
            touched_seed += 1
            log(f"incremental ({label}), run {r + 1}/{rounds}: {touched[-1]} conversations touched")
            window.append(sum(view_to_null(fx.reader, i, after=before, order=True, settings=settings)["seconds"]
                              for i in fx.inboxes.values()))
            incr.append(timed_cli(["sync", "--all", "--lookback-minutes", "0"], env, workdir))
            # the no-op's own window: from the source clock after the incremental sync (empty)
            settled = source_clock(fx.admin)
            noop_window = sum(view_to_null(fx.reader, i, after=settled, order=True, settings=settings)["seconds"]
                              for i in fx.inboxes.values())
            noop.append(timed_cli(["sync", "--all", "--lookback-minutes", "0"], env, workdir))
            noop[-1]["window_eval_seconds"] = noop_window
            noop_one.append(timed_cli(["sync", "--tenant", str(fx.tenant_ids[0]), "--lookback-minutes", "0"], env, workdir))
            noop_one[-1]["window_eval_seconds"] = view_to_null(fx.reader, fx.inboxes[fx.tenant_ids[0]], after=settled,
                                                              order=True, settings=settings)["seconds"]
        results[f"incremental_{label}"] = {
            "seconds": median([x["seconds"] for x in incr]), "runs": [x["seconds"] for x in incr],
            "touched_conversations": median(touched), "window_eval_seconds": median(window),
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
        if session is None:
            results[f"explain_window_{view}"] = {
                "engine_session": explain_window(fx.reader, fx.all_inboxes, before, engine.SOURCE_SESSION),
                "default_session": explain_window(fx.reader, fx.all_inboxes, before, {}),
            }
        touched_seed = warm_syncs(fx, env, workdir, rounds, touched_seed, label, settings, results)
    env = base_env
    results["cli_startup"] = {"seconds": median([run_cli(["--help"], env, workdir)["seconds"]
                                                 for _ in range(max(1, args.repeat))])}
    if not args.skip_full_indexable:
        fx.set_view("indexable")
        physical_limit(fx, scratch, args, results, "_indexable", settings={})
        full_syncs(fx, workdir, args.repeat_full, results, "indexable_server_plan", {engine.SOURCE_SESSION_ENV: ""})
    fx.set_view("deployed")
    server.drop(env["_BENCH_DB"])

    # 5. peak RSS at 5x: the first tenant (5x bigger) synced alone, against the same at 1x
    env = fx.fresh_analytics("rss1")
    log("peak RSS: first tenant alone at 1x")
    results["rss_one_tenant_1x"] = {**run_cli(["sync", "--tenant", str(first)], env, workdir),
                                    "view_rows": fx.view_rows[first]}
    server.drop(env["_BENCH_DB"])
    if not args.no_5x:
        log(f"building the 5x source: {conversations * 5} conversations")
        big = Fixture(server, "x5", conversations * 5, args.tenants, workdir)
        env = big.fresh_analytics("rss5")
        log("peak RSS: first tenant alone at 5x")
        results["rss_one_tenant_5x"] = {**run_cli(["sync", "--tenant", str(big.tenant_ids[0])], env, workdir),
                                        "view_rows": big.view_rows[big.tenant_ids[0]],
                                        "seed_seconds": round(big.seed_seconds, 1)}
        for name in list(server.created):
            if name.startswith(f"bench_{server.tag}_x5"):
                server.drop(name)

    # 6. DAG parse time
    log("DAG parse time (bench/parse_time.py)")
    results["parse"] = parse_figures(args.parse_repeat)


def targets(r: dict) -> list[dict]:
    out = []

    def add(name: str, value, goal: str, met) -> None:
        out.append({"target": name, "value": value, "goal": goal,
                    "met": None if met is None else bool(met)})

    full = r.get("full_sync_deployed_serial", {})
    # full sync against the raw pipe, on each view definition: the same per-tenant reads, and one
    # COPY for every tenant (which the deployed view makes ~N times cheaper than N tenant reads)
    for view, pipe_label in (("deployed", ""), ("indexable_server_plan", "_indexable")):
        for workers in ("serial", "parallel2"):
            sync = r.get(f"full_sync_{view}_{workers}")
            for reads in ("per_tenant_sum", "all_tenants"):
                pipe = r.get(f"raw_pipe{pipe_label}_{reads}")
                if not (sync and pipe):
                    continue
                ratio = sync["rows_per_s"] / pipe["rows_per_s"]
                what = "per-tenant reads" if reads == "per_tenant_sum" else "one COPY for all tenants"
                add(f"full sync ({workers}, {view} view) / raw pipe ({what})", round(ratio, 2),
                    ">= 0.5 (stretch 0.7)", ratio >= 0.5)
    for view, denominator in (("indexable", "indexable_server_plan"), ("indexable_server_plan", "indexable_server_plan"),
                              ("deployed", "deployed")):
        inc = r.get(f"incremental_{view}")
        base = r.get(f"full_sync_{denominator}_serial")
        if inc and base:
            share = inc["seconds"] / base["seconds"]
            add(f"incremental 1% / full sync, whole CLI process ({view} view)", f"{share:.1%}",
                "<= 5% (given an indexable view)", share <= 0.05 if view != "deployed" else None)
            inner = inc["engine_seconds"] / base["engine_seconds"] if base.get("engine_seconds") else None
            if inner is not None:
                add(f"incremental 1% / full sync, engine time ({view} view)", f"{inner:.1%}",
                    "<= 5% (given an indexable view)", inner <= 0.05 if view != "deployed" else None)
        warm = r.get(f"incremental_warm_{view}")
        if warm and base:
            share = warm["seconds"] / base["seconds"]
            add(f"incremental 1% (warm process) / full sync ({view} view)", f"{share:.1%}",
                "<= 5% (given an indexable view)", share <= 0.05 if view != "deployed" else None)
        noop = r.get(f"noop_one_tenant_warm_{view}")
        if noop:
            over = noop["seconds"] - noop["window_eval_seconds"]
            add(f"no-op (one tenant, warm process) minus window eval ({view})", f"{over:.2f} s", "<= 1 s", over <= 1)
        noop = r.get(f"noop_one_tenant_{view}")
        if noop:
            over = noop["seconds"] - noop["window_eval_seconds"]
            add(f"no-op (one tenant, whole CLI process) minus window eval ({view})", f"{over:.2f} s", "<= 1 s",
                over <= 1)
            inner = noop["engine_seconds"] - noop["window_eval_seconds"]
            add(f"no-op (one tenant, engine time) minus window eval ({view})", f"{inner:.2f} s", "<= 1 s",
                inner <= 1)
    rss = [x["max_rss_mb"] for x in (full, r.get("full_sync_deployed_parallel2"), r.get("rss_one_tenant_5x")) if x]
    if rss:
        add("peak RSS", f"{max(rss):.0f} MB", "<= 400 MB", max(rss) <= 400)
    if r.get("rss_one_tenant_5x") and r.get("rss_one_tenant_1x"):
        growth = r["rss_one_tenant_5x"]["max_rss_mb"] / r["rss_one_tenant_1x"]["max_rss_mb"]
        add("peak RSS 5x / 1x (one tenant, 5x its rows)", f"{growth:.2f}", "flat (~1.0)", growth <= 1.15)
    prev = r.get("previous_approach", {})
    if prev.get("speedup_of_full_sync"):
        add("speed-up over the previous approach (rows/s)", f"{prev['speedup_of_full_sync']:.0f}x", ">= 20x",
            prev["speedup_of_full_sync"] >= 20)
    parse = r.get("parse", {})
    if parse.get("status") == "ok" and 500 in parse["sizes"]:
        value = parse["sizes"][500]["folder_s"]
        add("DAG parse, 500 tenants", f"{value:.2f} s", "<= 1 s", value <= 1)
    else:
        add("DAG parse, 500 tenants", parse.get("status", "missing"), "<= 1 s", None)
    return out


def print_table(report: dict) -> None:
    r = report["results"]
    s = report["scale"]
    print(f"\nchatwoot-etl benchmark  {report['date']}  scale {s['factor']} = {s['conversations']} conversations, "
          f"{s['tenants']} tenants, view rows {report.get('source', {}).get('view_rows')}")
    m = report["machine"]
    print(f"machine: {m['cores']} cores, {m['memory_gb']} GB, load at start {m['load_avg_start'][0]:.1f}; "
          f"PostgreSQL {report['versions']['postgresql']} ({report['server']}); medians of {s['repeat']} "
          f"(full syncs: {s['repeat_full']})")
    print(f"\n{'figure':<58} {'seconds':>9} {'rows/s':>9} {'RSS MB':>7}  note")
    print("-" * 110)

    def line(label: str, key: str, note: str = "") -> None:
        x = r.get(key)
        if not x:
            return
        if x.get("engine_seconds") is not None:
            note = f"engine {x['engine_seconds']:.2f} s" + (f"; {note}" if note else "")
        rps = f"{x['rows_per_s']:.0f}" if x.get("rows_per_s") else ""
        rss = f"{x['max_rss_mb']:.0f}" if x.get("max_rss_mb") else ""
        print(f"{label:<58} {x['seconds']:>9.2f} {rps:>9} {rss:>7}  {note}")

    for view, label in (("deployed", ""), ("indexable", "_indexable")):
        line(f"raw COPY pipe, one COPY for all tenants ({view} view)", f"raw_pipe{label}_all_tenants",
             "physical limit")
        line(f"raw COPY pipe, one COPY per tenant, summed ({view})", f"raw_pipe{label}_per_tenant_sum",
             "same reads as the ETL")
        line(f"view -> null sink, all tenants ({view})", f"view_null{label}_all_tenants", "the source's own cost")
        line(f"view -> null sink, per tenant, ordered, summed ({view})", f"view_null{label}_per_tenant_sum_ordered")
    line("full sync, serial (sync --all)", "full_sync_deployed_serial")
    line("full sync, 2 workers", "full_sync_deployed_parallel2")
    line("full sync, serial, indexable view + server plan", "full_sync_indexable_server_plan_serial")
    line("full sync, 2 workers, indexable view + server plan", "full_sync_indexable_server_plan_parallel2")
    for view in ("deployed", "indexable", "indexable_server_plan"):
        inc = r.get(f"incremental_{view}")
        if inc:
            line(f"incremental 1% ({view} view)", f"incremental_{view}",
                 f"{inc['touched_conversations']:.0f} touched; window eval {inc['window_eval_seconds']:.2f} s")
            line(f"no-op, all tenants ({view} view)", f"noop_{view}")
            one = r.get(f"noop_one_tenant_{view}")
            line(f"no-op, one tenant, incl. process start ({view} view)", f"noop_one_tenant_{view}",
                 f"window eval {one['window_eval_seconds']:.2f} s")
            warm = r.get(f"incremental_warm_{view}")
            if warm:
                line(f"incremental 1%, warm process ({view} view)", f"incremental_warm_{view}",
                     f"{warm['touched_conversations']:.0f} touched")
                one = r[f"noop_one_tenant_warm_{view}"]
                line(f"no-op, one tenant, warm process ({view} view)", f"noop_one_tenant_warm_{view}",
                     f"window eval {one['window_eval_seconds']:.2f} s")
            ex = r.get(f"explain_window_{view}", {})
            for session, plan in ex.items():
                took = f"{plan['execution_ms'] / 1000:>9.2f}" if plan["execution_ms"] is not None else \
                    f"{'>' + str(plan['timed_out_ms'] // 1000):>9}"
                print(f"{'  EXPLAIN window, ' + session:<58} {took} {'':>9} {'':>7}  "
                      f"indexes: {', '.join(plan['indexes_used']) or 'none'}")
    line("CLI start-up (chatwoot-etl --help, no Airflow import)", "cli_startup")
    line("peak RSS: first tenant alone, 1x", "rss_one_tenant_1x", f"{r.get('rss_one_tenant_1x', {}).get('view_rows')} rows")
    line("peak RSS: first tenant alone, 5x", "rss_one_tenant_5x", f"{r.get('rss_one_tenant_5x', {}).get('view_rows')} rows")
    prev = r.get("previous_approach")
    if prev:
        print(f"{'PREVIOUS APPROACH (re-created: OFFSET pages + row INSERTs)':<58} {prev['seconds']:>9.2f} "
              f"{prev['rows_per_s']:>9.0f} {'':>7}  {prev['rows']} rows, pages of {prev['page']}")
    parse = r.get("parse", {})
    if parse.get("status") == "ok":
        for size, x in sorted(parse["sizes"].items()):
            print(f"{f'DAG parse, {size} tenants (whole folder, best)':<58} {x['folder_s']:>9.3f} {'':>9} {'':>7}  "
                  f"tenant file {x['tenant_file_s']:.3f} s, {x['dags']} DAGs, {x['errors']} errors")
    else:
        print(f"{'DAG parse':<58} {'-':>9}  {parse.get('status', 'missing')}")
    print("\ntargets")
    for t in report["targets"]:
        verdict = {True: "MET", False: "MISSED", None: "info"}[t["met"]]
        print(f"  {verdict:<7} {t['target']:<86} {t['value']!s:>8}  goal {t['goal']}")


if __name__ == "__main__":
    raise SystemExit(main())
