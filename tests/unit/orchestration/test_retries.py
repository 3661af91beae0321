"""The retry policy Airflow evaluates when a task fails, and the import path stored in serialized DAGs."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest
from airflow.sdk import RetryDecision
from airflow.sdk.module_loading import import_string

from chatwoot_etl.errors import ConfigurationError, LockRefused
from chatwoot_etl.orchestration.retries import SYNC_RETRY_POLICY, SyncRetryPolicy, run_type


def context(kind: str) -> dict:
    return {"dag_run": SimpleNamespace(run_type=SimpleNamespace(value=kind))}


def decision(error: BaseException, kind: str = "scheduled") -> RetryDecision:
    return SYNC_RETRY_POLICY.evaluate(error, try_number=1, max_tries=4, context=context(kind))


@pytest.mark.parametrize("error, kind, expected", [
    (LockRefused(1, None), "backfill", RetryDecision.retry(reason="").action),
    (LockRefused(1, None), "scheduled", RetryDecision.fail(reason="").action),
    (ConfigurationError("bad time zone"), "manual", RetryDecision.fail(reason="").action),
    (psycopg.OperationalError("connection refused"), "scheduled", RetryDecision.default().action),
])
def test_decisions(error, kind, expected):
    assert decision(error, kind).action == expected


def test_run_type_without_a_dag_run_is_empty():
    assert run_type({}) == "" and run_type(None) == "" and run_type(context("manual")) == "manual"


def test_serialized_path_and_the_pre_split_path_both_import_the_policy():
    path = SYNC_RETRY_POLICY.serialize()["__type"]
    assert import_string(path) is SyncRetryPolicy
    assert import_string("chatwoot_etl.retries.SyncRetryPolicy") is SyncRetryPolicy
    assert isinstance(SyncRetryPolicy.deserialize({"__type": path}), SyncRetryPolicy)
