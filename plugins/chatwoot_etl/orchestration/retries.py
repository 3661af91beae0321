"""Which failures Airflow retries: transient ones with backoff, permanent ones never.

Permanent (engine.PERMANENT_ERRORS: contract drift, bad configuration, a tenant lock still held
after the wait) fail at once with the engine's message. One exception: a *backfill* run refused
by the lock is retried, because it overlaps a scheduled run that will finish soon.
Everything else (connection refused, serialization failure, lock timeout...) follows the task's
retries with exponential backoff. Evaluated in the worker, only when a task has failed.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy


def _permanent_errors() -> tuple[type[BaseException], ...]:
    from chatwoot_etl.sync.engine import PERMANENT_ERRORS  # only after a failure, in the worker

    return PERMANENT_ERRORS


def _is_lock_refused(exc: BaseException) -> bool:
    from chatwoot_etl.sync.locks import LockRefused

    return isinstance(exc, LockRefused)


def _run_type(context: Any) -> str:
    try:
        run = context["dag_run"]
    except (KeyError, TypeError):
        return ""
    value = getattr(run, "run_type", "")
    return str(getattr(value, "value", value) or "")


class SyncRetryPolicy(RetryPolicy):
    def evaluate(self, exception: BaseException, try_number: int, max_tries: int,
                 context: Any = None) -> RetryDecision:
        if _is_lock_refused(exception) and _run_type(context) == "backfill":
            return RetryDecision.retry(reason="backfill run refused by the tenant lock: retrying after the backoff")
        permanent = _permanent_errors()
        if permanent and isinstance(exception, permanent):
            return RetryDecision.fail(reason=f"{type(exception).__name__} cannot be fixed by a retry")
        return RetryDecision.default()

    def serialize(self) -> dict[str, Any]:
        return {"__type": "chatwoot_etl.orchestration.retries.SyncRetryPolicy"}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> SyncRetryPolicy:
        return cls()


SYNC_RETRY_POLICY = SyncRetryPolicy()
