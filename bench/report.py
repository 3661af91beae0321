"""What a run reports: the machine and versions, the targets each figure is read against (with
their ratios), the printed table and the JSON (bench/results/latest.json by default).

A benchmark reports, it never fails on a figure: a missed target is a line saying MISSED.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.fixture import MESSAGES_PER_CONVERSATION, Server

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    memory = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {"cores": os.cpu_count(), "memory_gb": memory, "platform": platform.platform(),
            "python": platform.python_version(), "load_avg_start": os.getloadavg()}


def versions(server: Server) -> dict:
    found = {name: importlib.metadata.version(name) for name in ("pandas", "numpy", "psycopg", "apache-airflow")}
    found["postgresql"] = server.version()
    with contextlib.suppress(Exception):
        found["git"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                      text=True).stdout.strip()
    return found


def new_report(args, conversations: int, server: Server, results: dict) -> dict:
    """The report's frame, before anything is measured (the run fills in source and the session)."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "scale": {"factor": args.scale, "conversations": conversations, "tenants": args.tenants,
                  "messages_per_conversation": MESSAGES_PER_CONVERSATION, "repeat": args.repeat,
                  "repeat_full": args.repeat_full},
        "server": server.kind, "machine": machine(), "versions": versions(server),
        "engine_source_session": None, "results": results,
    }


def write(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))


# ---------------------------------------------------------------------------------------------
# targets


class Targets(list):
    """The targets read so far: each a figure's value against its goal (met: True, False or None = info)."""

    def add(self, name: str, value, goal: str, met) -> None:
        self.append({"target": name, "value": value, "goal": goal, "met": None if met is None else bool(met)})


def throughput_targets(r: dict, out: Targets) -> None:
    """Full sync against the raw pipe, on each view definition: the same per-tenant reads, and one
    COPY for every tenant (which the deployed view makes ~N times cheaper than N tenant reads)."""
    for view, pipe_label in (("deployed", ""), ("indexable_server_plan", "_indexable")):
        for workers in ("serial", "parallel2"):
            sync = r.get(f"full_sync_{view}_{workers}")
            for reads in ("per_tenant_sum", "all_tenants"):
                pipe = r.get(f"raw_pipe{pipe_label}_{reads}")
                if not (sync and pipe):
                    continue
                ratio = sync["rows_per_s"] / pipe["rows_per_s"]
                what = "per-tenant reads" if reads == "per_tenant_sum" else "one COPY for all tenants"
                out.add(f"full sync ({workers}, {view} view) / raw pipe ({what})", round(ratio, 2),
                        ">= 0.5 (stretch 0.7)", ratio >= 0.5)


def incremental_targets(r: dict, view: str, base: dict, out: Targets) -> None:
    """Incremental 1% as a share of the full sync of the same view (a goal only given an indexable view)."""
    indexable = view != "deployed"
    inc = r.get(f"incremental_{view}")
    if inc:
        share = inc["seconds"] / base["seconds"]
        out.add(f"incremental 1% / full sync, whole CLI process ({view} view)", f"{share:.1%}",
                "<= 5% (given an indexable view)", share <= 0.05 if indexable else None)
        inner = inc["engine_seconds"] / base["engine_seconds"] if base.get("engine_seconds") else None
        if inner is not None:
            out.add(f"incremental 1% / full sync, engine time ({view} view)", f"{inner:.1%}",
                    "<= 5% (given an indexable view)", inner <= 0.05 if indexable else None)
    warm = r.get(f"incremental_warm_{view}")
    if warm:
        share = warm["seconds"] / base["seconds"]
        out.add(f"incremental 1% (warm process) / full sync ({view} view)", f"{share:.1%}",
                "<= 5% (given an indexable view)", share <= 0.05 if indexable else None)


def noop_targets(r: dict, view: str, out: Targets) -> None:
    """A one-tenant no-op's cost beyond the source's own evaluation of its (empty) window."""
    noop = r.get(f"noop_one_tenant_warm_{view}")
    if noop:
        over = noop["seconds"] - noop["window_eval_seconds"]
        out.add(f"no-op (one tenant, warm process) minus window eval ({view})", f"{over:.2f} s", "<= 1 s", over <= 1)
    noop = r.get(f"noop_one_tenant_{view}")
    if noop:
        over = noop["seconds"] - noop["window_eval_seconds"]
        out.add(f"no-op (one tenant, whole CLI process) minus window eval ({view})", f"{over:.2f} s", "<= 1 s",
                over <= 1)
        inner = noop["engine_seconds"] - noop["window_eval_seconds"]
        out.add(f"no-op (one tenant, engine time) minus window eval ({view})", f"{inner:.2f} s", "<= 1 s",
                inner <= 1)


def resource_targets(r: dict, out: Targets) -> None:
    """Peak RSS and its growth with the data, the speed-up over the previous ETL, the DAG parse."""
    sized = (r.get("full_sync_deployed_serial"), r.get("full_sync_deployed_parallel2"), r.get("rss_one_tenant_5x"))
    rss = [x["max_rss_mb"] for x in sized if x]
    if rss:
        out.add("peak RSS", f"{max(rss):.0f} MB", "<= 400 MB", max(rss) <= 400)
    if r.get("rss_one_tenant_5x") and r.get("rss_one_tenant_1x"):
        growth = r["rss_one_tenant_5x"]["max_rss_mb"] / r["rss_one_tenant_1x"]["max_rss_mb"]
        out.add("peak RSS 5x / 1x (one tenant, 5x its rows)", f"{growth:.2f}", "flat (~1.0)", growth <= 1.15)
    prev = r.get("previous_approach", {})
    if prev.get("speedup_of_full_sync"):
        out.add("speed-up over the previous approach (rows/s)", f"{prev['speedup_of_full_sync']:.0f}x", ">= 20x",
                prev["speedup_of_full_sync"] >= 20)
    parse = r.get("parse", {})
    if parse.get("status") == "ok" and 500 in parse["sizes"]:
        value = parse["sizes"][500]["folder_s"]
        out.add("DAG parse, 500 tenants", f"{value:.2f} s", "<= 1 s", value <= 1)
    else:
        out.add("DAG parse, 500 tenants", parse.get("status", "missing"), "<= 1 s", None)


def peer_targets(r: dict, out: Targets) -> None:
    """The project against dlt's fastest backend on the same data and tenants, and against the raw pipe."""
    ours, theirs = r.get("peer_full_project"), r.get("peer_full_dlt")
    if not (ours and theirs):
        return
    ratio = ours["rows_per_s"] / theirs["rows_per_s"]
    out.add(f"full sync / dlt {theirs['dlt']} ({theirs['backend']} + {theirs['file_format']}), indexable view",
            f"{ratio:.2f}x", ">= 2x", ratio >= 2)
    pipe = r.get("raw_pipe_indexable_all_tenants")
    if pipe:
        share = ours["rows_per_s"] / pipe["rows_per_s"]
        out.add("full sync (side by side run) / raw pipe, one COPY for all tenants (indexable)", round(share, 2),
                ">= 0.5 (stretch 0.7)", share >= 0.5)
    for name in ("incremental", "noop"):
        mine, peer = r.get(f"peer_{name}_project"), r.get(f"peer_{name}_dlt")
        if mine and peer:
            out.add(f"{'incremental 1%' if name == 'incremental' else 'no-op'}, all tenants: project / dlt seconds",
                    f"{mine['seconds'] / peer['seconds']:.2f}", "< 1 (faster than dlt)", mine["seconds"] < peer["seconds"])
    for when in ("full", "after_incremental"):
        exact = r.get(f"peer_exact_{when}")
        if exact:
            out.add(f"exact rows per tenant, no duplicates ({when.replace('_', ' ')}): project / dlt",
                    f"{exact['project_exact']} / {exact['peer_exact']}", "True / True", exact["project_exact"])


def targets(r: dict) -> list[dict]:
    out = Targets()
    throughput_targets(r, out)
    peer_targets(r, out)
    # each view's incremental against the full sync of the same view and session (the indexable
    # view with the engine's session has no full sync of its own: the server plan's is the one)
    for view, denominator in (("indexable", "indexable_server_plan"),
                              ("indexable_server_plan", "indexable_server_plan"), ("deployed", "deployed")):
        base = r.get(f"full_sync_{denominator}_serial")
        if base:
            incremental_targets(r, view, base, out)
        noop_targets(r, view, out)
    resource_targets(r, out)
    return list(out)


# ---------------------------------------------------------------------------------------------
# the table


def line(r: dict, label: str, key: str, note: str = "") -> None:
    """One figure's row (nothing when it was not measured): seconds, rows/s, RSS, engine time and note."""
    x = r.get(key)
    if not x:
        return
    if x.get("engine_seconds") is not None:
        note = f"engine {x['engine_seconds']:.2f} s" + (f"; {note}" if note else "")
    rps = f"{x['rows_per_s']:.0f}" if x.get("rows_per_s") else ""
    rss = f"{x['max_rss_mb']:.0f}" if x.get("max_rss_mb") else ""
    print(f"{label:<58} {x['seconds']:>9.2f} {rps:>9} {rss:>7}  {note}")


def print_header(report: dict) -> None:
    s = report["scale"]
    print(f"\nchatwoot-etl benchmark  {report['date']}  scale {s['factor']} = {s['conversations']} conversations, "
          f"{s['tenants']} tenants, view rows {report.get('source', {}).get('view_rows')}")
    m = report["machine"]
    print(f"machine: {m['cores']} cores, {m['memory_gb']} GB, load at start {m['load_avg_start'][0]:.1f}; "
          f"PostgreSQL {report['versions']['postgresql']} ({report['server']}); medians of {s['repeat']} "
          f"(full syncs: {s['repeat_full']})")
    print(f"\n{'figure':<58} {'seconds':>9} {'rows/s':>9} {'RSS MB':>7}  note")
    print("-" * 110)


def print_throughput(r: dict) -> None:
    for view, label in (("deployed", ""), ("indexable", "_indexable")):
        line(r, f"raw COPY pipe, one COPY for all tenants ({view} view)", f"raw_pipe{label}_all_tenants",
             "physical limit")
        line(r, f"raw COPY pipe, one COPY per tenant, summed ({view})", f"raw_pipe{label}_per_tenant_sum",
             "same reads as the ETL")
        line(r, f"view -> null sink, all tenants ({view})", f"view_null{label}_all_tenants", "the source's own cost")
        line(r, f"view -> null sink, per tenant, ordered, summed ({view})", f"view_null{label}_per_tenant_sum_ordered")
    line(r, "full sync, serial (sync --all)", "full_sync_deployed_serial")
    line(r, "full sync, 2 workers", "full_sync_deployed_parallel2")
    line(r, "full sync, serial, indexable view + server plan", "full_sync_indexable_server_plan_serial")
    line(r, "full sync, 2 workers, indexable view + server plan", "full_sync_indexable_server_plan_parallel2")


def print_incremental(r: dict, view: str) -> None:
    inc = r.get(f"incremental_{view}")
    if not inc:
        return
    line(r, f"incremental 1% ({view} view)", f"incremental_{view}",
         f"{inc['touched_conversations']:.0f} touched; window eval {inc['window_eval_seconds']:.2f} s")
    line(r, f"no-op, all tenants ({view} view)", f"noop_{view}")
    one = r.get(f"noop_one_tenant_{view}")
    line(r, f"no-op, one tenant, incl. process start ({view} view)", f"noop_one_tenant_{view}",
         f"window eval {one['window_eval_seconds']:.2f} s")
    warm = r.get(f"incremental_warm_{view}")
    if warm:
        line(r, f"incremental 1%, warm process ({view} view)", f"incremental_warm_{view}",
             f"{warm['touched_conversations']:.0f} touched")
        one = r[f"noop_one_tenant_warm_{view}"]
        line(r, f"no-op, one tenant, warm process ({view} view)", f"noop_one_tenant_warm_{view}",
             f"window eval {one['window_eval_seconds']:.2f} s")
    for session, plan in r.get(f"explain_window_{view}", {}).items():
        took = f"{plan['execution_ms'] / 1000:>9.2f}" if plan["execution_ms"] is not None else \
            f"{'>' + str(plan['timed_out_ms'] // 1000):>9}"
        print(f"{'  EXPLAIN window, ' + session:<58} {took} {'':>9} {'':>7}  "
              f"indexes: {', '.join(plan['indexes_used']) or 'none'}")


def print_peer(r: dict) -> None:
    """The side-by-side rows: the project and dlt on the indexable view, with CPU per row."""
    theirs = r.get("peer_full_dlt")
    if not theirs:
        if r.get("peer"):
            print(f"{'side by side with dlt':<58} {'-':>9}  {r['peer']['note']}")
        return
    ours = r["peer_full_project"]
    line(r, "side by side: full sync, this project (indexable)", "peer_full_project",
         f"CPU {ours['cpu_us_per_row']:.0f} µs/row, wall {ours['wall_us_per_row']:.0f} µs/row; raw pipe wall "
         f"{ours.get('raw_pipe_wall_us_per_row', 0):.0f} µs/row")
    line(r, f"side by side: full sync, dlt {theirs['dlt']} {theirs['backend']} + {theirs['file_format']}",
         "peer_full_dlt", f"CPU {theirs['cpu_us_per_row']:.0f} µs/row, wall {theirs['wall_us_per_row']:.0f} µs/row")
    for name, label in (("incremental", "incremental 1%"), ("noop", "no-op")):
        line(r, f"side by side: {label}, all tenants, this project", f"peer_{name}_project")
        line(r, f"side by side: {label}, all tenants, dlt", f"peer_{name}_dlt")


def print_rest(r: dict) -> None:
    """Start-up, peak RSS, the previous approach and the DAG parse."""
    line(r, "CLI start-up (chatwoot-etl --help, no Airflow import)", "cli_startup")
    for scale in ("1x", "5x"):
        key = f"rss_one_tenant_{scale}"
        line(r, f"peak RSS: first tenant alone, {scale}", key, f"{r.get(key, {}).get('view_rows')} rows")
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


def print_table(report: dict) -> None:
    r = report["results"]
    print_header(report)
    print_throughput(r)
    print_peer(r)
    for view in ("deployed", "indexable", "indexable_server_plan"):
        print_incremental(r, view)
    print_rest(r)
    print("\ntargets")
    for t in report["targets"]:
        verdict = {True: "MET", False: "MISSED", None: "info"}[t["met"]]
        print(f"  {verdict:<7} {t['target']:<86} {t['value']!s:>8}  goal {t['goal']}")
