"""Parse time of the DAG folder for 10, 100 and 500 registered tenants.

Each size runs in a fresh interpreter (Airflow already imported, as in the DAG processor): it writes
a registry snapshot of N synthetic tenants to a temp file, then times DagBag collecting dags/.
The connection variables point at a closed port: parsing must not need them.

    .venv/bin/python bench/parse_time.py [--sizes 10 100 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
import airflow.settings  # what the DAG processor has loaded before it parses a file
from airflow.dag_processing.dagbag import DagBag
t0 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
total = time.perf_counter() - t0
stats = {os.path.basename(s.file): s.duration.total_seconds() for s in bag.dagbag_stats}
print(json.dumps({"seconds": total, "dags": len(bag.dag_ids), "errors": len(bag.import_errors), "files": stats}))
"""


def write_registry(path: Path, size: int) -> None:
    tenants = [{"id": i, "name": f"Tenant {i}", "slug": f"tenant-{i}", "timezone": "America/Sao_Paulo",
                "schedule": None, "inboxes": [i * 10, i * 10 + 1]} for i in range(1, size + 1)]
    path.write_text(json.dumps({"version": 1, "generated_at": "2026-01-01T00:00:00+00:00", "tenants": tenants}))


def measure(size: int, workdir: Path) -> dict:
    registry = workdir / f"registry-{size}.json"
    write_registry(registry, size)
    env = {**os.environ, "CHATWOOT_ETL_REGISTRY_PATH": str(registry),
           "AIRFLOW_HOME": str(workdir / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg://nobody@127.0.0.1:9/none",
           "AIRFLOW_CONN_ANALYTICS_DB": "postgresql://nobody@127.0.0.1:9/none",
           "AIRFLOW_CONN_CHATWOOT_SOURCE": "postgresql://nobody@127.0.0.1:9/none"}
    out = subprocess.run([sys.executable, "-c", "from pathlib import Path\n" + CHILD, str(ROOT / "dags")],
                         env=env, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise SystemExit(f"parse of {size} tenants failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'tenants':>8} {'dags':>5} {'errors':>6} {'tenant file s (best)':>21} {'whole folder s (best)':>22}")
        for size in args.sizes:
            runs = [measure(size, Path(tmp)) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            tenant_file = min(r["files"].get("chatwoot_tenants.py", 0.0) for r in runs)
            print(f"{size:>8} {best['dags']:>5} {best['errors']:>6} {tenant_file:>21.3f} {best['seconds']:>22.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
