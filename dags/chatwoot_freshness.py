"""Airflow DAG `chatwoot_freshness`: alerts when a tenant's watermark lags the source (default > 1 hour)."""

from chatwoot_etl.orchestration.dag_factory import build_freshness_dag

dag = build_freshness_dag()
