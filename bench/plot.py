"""bench/results/latest.png from bench/results/latest.json: where the project stands at a glance.

Three panels: throughput of each contender as a share of the raw COPY pipe (one COPY for all
tenants, same view), incremental 1% and no-op seconds against the full sync, peak RSS at 1x and 5x.
Runs in the peer's virtualenv (matplotlib is a benchmark-only dependency):

    .venv-peer/bin/python bench/plot.py [--input bench/results/latest.json] [--output ...png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"


def throughput(ax, r: dict) -> None:
    bars = []
    for view, pipe_key in (("deployed", "raw_pipe_all_tenants"), ("indexable", "raw_pipe_indexable_all_tenants")):
        pipe = r.get(pipe_key)
        if not pipe:
            continue
        contenders = [("raw pipe, per tenant", f"raw_pipe{'' if view == 'deployed' else '_indexable'}_per_tenant_sum")]
        if view == "deployed":
            contenders += [("project, serial", "full_sync_deployed_serial"),
                           ("project, 2 workers", "full_sync_deployed_parallel2")]
        else:
            contenders += [("project, serial", "peer_full_project"),
                           ("project, 2 workers", "full_sync_indexable_server_plan_parallel2"),
                           ("dlt (best backend)", "peer_full_dlt")]
        for label, key in contenders:
            if r.get(key, {}).get("rows_per_s"):
                bars.append((f"{label}\n({view})", r[key]["rows_per_s"] / pipe["rows_per_s"]))
    labels, values = zip(*bars, strict=True) if bars else ((), ())
    colours = ["#c44e52" if "dlt" in label else "#4c72b0" if "project" in label else "#999999" for label in labels]
    ax.barh(labels, values, color=colours)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(0.5, color="#4c72b0", linestyle="--", linewidth=0.8)
    ax.set_xlabel("rows/s as a share of one raw COPY for all tenants (same view)")
    ax.set_title("full sync throughput")
    ax.invert_yaxis()


def incremental(ax, r: dict) -> None:
    pairs = [("full sync", "peer_full_project", "peer_full_dlt"),
             ("incremental 1%", "peer_incremental_project", "peer_incremental_dlt"),
             ("no-op", "peer_noop_project", "peer_noop_dlt")]
    shown = [(label, r.get(a, {}).get("seconds"), r.get(b, {}).get("seconds")) for label, a, b in pairs]
    shown = [x for x in shown if x[1] is not None]
    x = range(len(shown))
    ax.bar([i - 0.2 for i in x], [s[1] for s in shown], width=0.4, label="this project", color="#4c72b0")
    ax.bar([i + 0.2 for i in x], [s[2] or 0 for s in shown], width=0.4, label="dlt", color="#c44e52")
    ax.set_xticks(list(x), [s[0] for s in shown])
    ax.set_yscale("log")
    ax.set_ylabel("seconds, all tenants (log)")
    ax.set_title("indexable view: full, incremental, no-op")
    ax.legend()


def memory(ax, r: dict) -> None:
    bars = [(label, r[key]["max_rss_mb"]) for label, key in (
        ("one tenant, 1x", "rss_one_tenant_1x"), ("one tenant, 5x", "rss_one_tenant_5x"),
        ("all tenants, serial", "full_sync_deployed_serial"), ("dlt, all tenants", "peer_full_dlt")) if r.get(key)]
    labels, values = zip(*bars, strict=True) if bars else ((), ())
    ax.bar(labels, values, color=["#c44e52" if "dlt" in label else "#4c72b0" for label in labels])
    ax.axhline(400, color="black", linestyle="--", linewidth=0.8)
    ax.set_ylabel("peak RSS, MB (target 400)")
    ax.set_title("memory")
    ax.tick_params(axis="x", labelrotation=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.png")
    args = parser.parse_args()
    report = json.loads(args.input.read_text())
    r = report["results"]
    fig, axes = plt.subplots(1, 3, figsize=(18, 6), gridspec_kw={"width_ratios": [1.4, 1, 1]})
    throughput(axes[0], r)
    incremental(axes[1], r)
    memory(axes[2], r)
    scale = report["scale"]
    fig.suptitle(f"chatwoot-etl benchmark {report['date']}: {scale['conversations']} conversations, "
                 f"{scale['tenants']} tenants, PostgreSQL {report['versions']['postgresql']}")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"PNG: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
