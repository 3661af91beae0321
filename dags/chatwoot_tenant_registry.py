"""Airflow DAG `chatwoot_tenant_registry`: refreshes the tenant registry snapshot (default every 5 minutes)."""

from chatwoot_etl.orchestration.dag_factory import build_registry_dag

dag = build_registry_dag()
