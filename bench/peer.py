"""The project and its peer (dlt, bench/peer_dlt.py) side by side on the index-friendly view.

Both do the same job on the same source and tenants, each into an empty analytics database of its
own, interleaved run by run (full sync, then per round: 1% of activity, the incremental of each,
the no-op of each), and both results are checked for exactness: rows per tenant against the
source's distinct conversations, and duplicates. The peer runs in its own virtualenv
(PEER_PYTHON, built by `make bench` from bench/requirements-peer.txt); without it the figure is
reported as missing, never guessed.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench import measure
from bench.fixture import Fixture, log
from tests.fixtures.databases import database_name

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = Path(os.environ.get("BENCH_PEER_PYTHON", ROOT / ".venv-peer" / "bin" / "python")).absolute()
PEER_SCRIPT = ROOT / "bench" / "peer_dlt.py"
PEER_TABLE = "vw_conversations_analytics_final"


def run_peer(fx: Fixture, destination: str, pipelines: Path, workdir: Path) -> dict:
    """One call of the peer for every tenant: wall seconds, CPU seconds and max RSS from the kernel."""
    tenants = json.dumps({str(t): inboxes for t, inboxes in fx.inboxes.items()})
    out = tempfile.NamedTemporaryFile(dir=workdir, prefix="peer-", suffix=".log", delete=False)
    started = time.perf_counter()
    proc = subprocess.Popen([str(PEER_PYTHON), str(PEER_SCRIPT), "--source", fx.reader, "--destination", destination,
                             "--pipelines-dir", str(pipelines), "--tenants", tenants],
                            stdout=subprocess.PIPE, stderr=out, text=True, cwd=workdir,
                            env={**os.environ, "RUNTIME__LOG_LEVEL": "WARNING"})
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out.close()
    if os.waitstatus_to_exitcode(status) != 0:
        tail = Path(out.name).read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the peer (dlt) failed:\n{tail}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return {"seconds": wall, "max_rss_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "dlt": report["dlt"], "backend": report["backend"], "file_format": report["file_format"],
            "failed_jobs": any(t["failed_jobs"] for t in report["tenants"].values())}


def source_conversations(fx: Fixture) -> dict[int, int]:
    with psycopg.connect(fx.admin) as conn:
        return {tenant: conn.execute("SELECT count(*) FROM conversations WHERE inbox_id = ANY(%s)",
                                     (inboxes,)).fetchone()[0] for tenant, inboxes in fx.inboxes.items()}


def project_rows(uri: str) -> dict[int, tuple[int, int]]:
    with psycopg.connect(uri) as conn:
        return {t: (n, d) for t, n, d in conn.execute(
            "SELECT tenant_id, count(*), count(DISTINCT conversation_id) FROM conversations_analytics GROUP BY 1")}


def peer_rows(uri: str, tenants: list[int]) -> dict[int, tuple[int, int]]:
    with psycopg.connect(uri) as conn:
        return {t: conn.execute(sql.SQL("SELECT count(*), count(DISTINCT conversation_id) FROM {}").format(
            sql.Identifier(f"peer_tenant_{t}", PEER_TABLE))).fetchone() for t in tenants}


def exactness(fx: Fixture, project_uri: str, peer_uri: str) -> dict:
    """Rows and duplicates per tenant, for both, against the source's conversations."""
    expected = source_conversations(fx)
    ours, theirs = project_rows(project_uri), peer_rows(peer_uri, list(fx.inboxes))
    per_tenant = {t: {"source": expected[t], "project": ours.get(t, (0, 0))[0],
                      "project_duplicates": ours.get(t, (0, 0))[0] - ours.get(t, (0, 0))[1],
                      "peer": theirs[t][0], "peer_duplicates": theirs[t][0] - theirs[t][1]} for t in expected}
    return {"per_tenant": per_tenant,
            "project_exact": all(x["project"] == x["source"] and not x["project_duplicates"] for x in per_tenant.values()),
            "peer_exact": all(x["peer"] == x["source"] and not x["peer_duplicates"] for x in per_tenant.values())}


def _summary(runs: list[dict], rows: int | None = None) -> dict:
    seconds = measure.median([x["seconds"] for x in runs])
    out = {"seconds": seconds, "runs": [round(x["seconds"], 2) for x in runs],
           "max_rss_mb": max(x["max_rss_mb"] for x in runs)}
    if rows:
        out["rows_per_s"] = rows / seconds
        cpu = measure.median([x["cpu_seconds"] for x in runs])
        out["cpu_us_per_row"] = cpu / rows * 1e6
        out["wall_us_per_row"] = seconds / rows * 1e6
    return out


def figures(fx: Fixture, workdir: Path, args, results: dict, first_seed: int) -> None:
    """Full, incremental 1% and no-op syncs of every tenant, the project's and the peer's,
    interleaved; their exactness; the raw pipe's µs per row beside them. The view must be the
    index-friendly one (the peer's no-op stalls for minutes on the deployed view's plan)."""
    if not PEER_PYTHON.exists():
        results["peer"] = {"status": "missing", "note": f"{PEER_PYTHON} not found: `make bench` installs the peer"}
        return
    rows = fx.total_rows
    full = {"project": [], "peer": []}
    for r in range(args.repeat_full):
        project_env = fx.fresh_analytics(f"side_project{r}")
        peer_uri = fx.server.create(f"{fx.label}_side_peer{r}")
        pipelines = workdir / f"peer-pipelines-{r}"
        log(f"side by side, full sync, run {r + 1}/{args.repeat_full}: the project")
        full["project"].append(measure.run_cli(["sync", "--all"], project_env, workdir))
        log(f"side by side, full sync, run {r + 1}/{args.repeat_full}: the peer (dlt)")
        full["peer"].append(run_peer(fx, peer_uri, pipelines, workdir))
        if r < args.repeat_full - 1:
            fx.server.drop(project_env["_BENCH_DB"], database_name(peer_uri))
    results["peer_full_project"] = _summary(full["project"], rows)
    results["peer_full_dlt"] = {**_summary(full["peer"], rows), "dlt": full["peer"][0]["dlt"],
                                "backend": full["peer"][0]["backend"], "file_format": full["peer"][0]["file_format"]}
    results["peer_exact_full"] = exactness(fx, measure.analytics_uri(project_env), peer_uri)

    incremental = {"project": [], "peer": []}
    noop = {"project": [], "peer": []}
    for r in range(args.repeat):
        touched = measure.touch_one_percent(fx, first_seed + r)
        log(f"side by side, incremental 1% and no-op, round {r + 1}/{args.repeat}: {touched} conversations touched")
        incremental["project"].append(measure.run_cli(measure.SYNC_ALL, project_env, workdir))
        incremental["peer"].append(run_peer(fx, peer_uri, pipelines, workdir))
        noop["project"].append(measure.run_cli(measure.SYNC_ALL, project_env, workdir))
        noop["peer"].append(run_peer(fx, peer_uri, pipelines, workdir))
    for name, runs in (("incremental", incremental), ("noop", noop)):
        results[f"peer_{name}_project"] = _summary(runs["project"])
        results[f"peer_{name}_dlt"] = _summary(runs["peer"])
    results["peer_exact_after_incremental"] = exactness(fx, measure.analytics_uri(project_env), peer_uri)
    pipe = results.get("raw_pipe_indexable_all_tenants")
    if pipe:
        results["peer_full_project"]["raw_pipe_wall_us_per_row"] = pipe["seconds"] / rows * 1e6
    fx.server.drop(project_env["_BENCH_DB"], database_name(peer_uri))
