"""The peer in the benchmark: dlt doing this project's job, one pipeline per tenant.

Runs in the peer's own virtualenv (.venv-peer, from bench/requirements-peer.txt): dlt is installed
only for the benchmark. Per tenant: `sql_table` over the view filtered to the tenant's inboxes,
`incremental` on conversation_updated_at, `merge` on conversation_id, the connectorx backend
(Arrow) and CSV loading, its fastest configuration here. dlt keeps its incremental state in the
destination and in --pipelines-dir, so a second call with the same arguments is its incremental run.

    .venv-peer/bin/python bench/peer_dlt.py --source URI --destination URI --pipelines-dir DIR \
        --tenants '{"1": [1, 2], "2": [3, 4]}'

Prints one JSON line: seconds per tenant and rows dlt reports as loaded.
"""

from __future__ import annotations

import argparse
import json
import time

import dlt
from dlt.sources.sql_database import sql_table

VIEW = "vw_conversations_analytics_final"
BACKEND = "connectorx"
FILE_FORMAT = "csv"


def for_dlt(uri: str) -> str:
    """The URI as dlt's credentials take it: a host in the netloc (a socket URI names its directory
    in the query, which libpq still follows) and a secret, which the bench's servers, trusting
    local connections, never ask for: the user name stands in for it."""
    scheme, _, rest = uri.partition("://")
    user, at, path = rest.rpartition("@")
    if at and ":" not in user:
        user = f"{user}:{user}"
    if path.startswith("/"):
        path = f"localhost{path}"
    return f"{scheme}://{user}{at}{path}"


def tenant_pipeline(tenant: str, inboxes: list[int], source_uri: str, destination_uri: str,
                    pipelines_dir: str) -> dict:
    def only_inboxes(query, table):
        return query.where(table.c.inbox_id.in_(inboxes))

    # SQLAlchemy (reflection, the query) through psycopg2; connectorx reads with its own driver
    table = sql_table(credentials=source_uri.replace("postgresql://", "postgresql+psycopg2://", 1), table=VIEW, backend=BACKEND,
                      incremental=dlt.sources.incremental("conversation_updated_at"),
                      query_adapter_callback=only_inboxes, backend_kwargs={"conn": source_uri})
    table.apply_hints(primary_key="conversation_id", write_disposition="merge")
    pipeline = dlt.pipeline(pipeline_name=f"peer_tenant_{tenant}", pipelines_dir=pipelines_dir,
                            destination=dlt.destinations.postgres(credentials=destination_uri),
                            dataset_name=f"peer_tenant_{tenant}")
    started = time.perf_counter()
    info = pipeline.run(table, loader_file_format=FILE_FORMAT)
    seconds = time.perf_counter() - started
    rows = pipeline.last_trace.last_normalize_info.row_counts.get(VIEW, 0) if pipeline.last_trace else 0
    return {"seconds": seconds, "rows": rows, "failed_jobs": info.has_failed_jobs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--destination", required=True)
    parser.add_argument("--pipelines-dir", required=True)
    parser.add_argument("--tenants", required=True, help="JSON: tenant id -> its inbox ids")
    args = parser.parse_args()
    tenants = json.loads(args.tenants)
    started = time.perf_counter()
    source_uri, destination_uri = for_dlt(args.source), for_dlt(args.destination)
    runs = {tenant: tenant_pipeline(tenant, inboxes, source_uri, destination_uri, args.pipelines_dir)
            for tenant, inboxes in tenants.items()}
    print(json.dumps({"seconds": time.perf_counter() - started, "tenants": runs,
                      "dlt": dlt.__version__, "backend": BACKEND, "file_format": FILE_FORMAT}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
