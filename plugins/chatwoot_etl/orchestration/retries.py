"""Which failures Airflow retries: transient ones with backoff, permanent ones never.

The classification is ``chatwoot_etl.errors``: permanent errors (contract drift, bad
configuration, a tenant lock still held after the wait) fail at once with the engine's message,
except a *backfill* run refused by the lock, which overlaps a scheduled run that will finish soon.
Everything else (connection refused, serialization failure, lock timeout...) follows the task's
retries with exponential backoff. Evaluated in the worker, only when a task has failed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import RetryDecision, RetryPolicy

from chatwoot_etl import errors


def run_type(context: Any) -> str:
    """'scheduled', 'manual', 'backfill'... of the context's DAG run ('' when there is none)."""
    try:
        run = context["dag_run"]
    except (KeyError, TypeError):
        return ""
    value = getattr(run, "run_type", "")
    return str(getattr(value, "value", value) or "")


class SyncRetryPolicy(RetryPolicy):
    def evaluate(self, exception: BaseException, try_number: int, max_tries: int,
                 context: Any = None) -> RetryDecision:
        if errors.retried_despite_permanent(exception, run_type(context)):
            return RetryDecision.retry(reason="backfill run refused by the tenant lock: retrying after the backoff")
        if errors.is_permanent(exception):
            return RetryDecision.fail(reason=f"{type(exception).__name__} cannot be fixed by a retry")
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        return {"__type": f"{__name__}.SyncRetryPolicy"}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> SyncRetryPolicy:
        return cls()


SYNC_RETRY_POLICY = SyncRetryPolicy()
