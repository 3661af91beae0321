"""Airflow: the DAG factory, the TaskFlow task bodies, retries, alerts, Variable stores, the registry.

May import the kernel, sync and admin. The parse path (dag_factory, registry) loads no pandas or psycopg.
"""
