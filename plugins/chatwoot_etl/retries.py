"""Import shim: DAGs serialized before the package split name ``chatwoot_etl.retries.SyncRetryPolicy``."""

from chatwoot_etl.orchestration.retries import SYNC_RETRY_POLICY, SyncRetryPolicy

__all__ = ["SYNC_RETRY_POLICY", "SyncRetryPolicy"]
