"""Airflow DAGs `chatwoot_sync_tenant_<id>`: one per tenant of the registry snapshot.

Parsing reads a small JSON file only (no database, no network): the snapshot written by the
`chatwoot_tenant_registry` DAG. A worker running one tenant's task builds only that DAG.
See README "Operating it in Airflow".
"""

from chatwoot_etl.orchestration.dag_factory import build_tenant_dags

globals().update(build_tenant_dags())
