"""The Airflow Variable store the watermark is mirrored to.

Inside a task, Airflow 3 reaches Variables through the Task SDK (the execution API); from the CLI,
through the metadata database. Both are the real Airflow Variables an operator edits in the UI.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _in_task() -> bool:
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover - the SDK ships with Airflow 3
        return False
    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


class AirflowVariables:
    """get/set of raw string values; errors reaching the store surface as VariableStoreError."""

    def get(self, key: str) -> str | None:
        try:
            if _in_task():
                from airflow.sdk import Variable

                return Variable.get(key, default=None)
            from airflow.models.variable import Variable as MetadataVariable

            return MetadataVariable.get(key, default_var=None)
        except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot read the mirror"
            raise VariableStoreError(f"cannot read Airflow Variable {key}: {exc}") from exc

    def set(self, key: str, value: str) -> None:
        try:
            if _in_task():
                from airflow.sdk import Variable

                Variable.set(key, value)
                return
            from airflow.models.variable import Variable as MetadataVariable

            MetadataVariable.set(key, value, description="Watermark mirror of chatwoot_etl (etl_watermarks is the truth)")
        except Exception as exc:  # noqa: BLE001
            raise VariableStoreError(f"cannot write Airflow Variable {key}: {exc}") from exc


class VariableStoreError(RuntimeError):
    pass
