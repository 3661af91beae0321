"""The Airflow Variable stores the watermark is mirrored to (``sync.watermarks.VariableStore``).

Both are the real Airflow Variables an operator edits in the UI; the caller picks the one that
fits where it runs: a task reaches them through the Task SDK (the execution API), the CLI through
the metadata database. Errors reaching the store surface as VariableStoreError.
"""

from __future__ import annotations

from chatwoot_etl.errors import VariableStoreError

DESCRIPTION = "Watermark mirror of chatwoot_etl (etl_watermarks is the truth)"


class TaskVariables:
    """Inside a running task: ``airflow.sdk.Variable``."""

    def get(self, key: str) -> str | None:
        from airflow.sdk import Variable

        try:
            return Variable.get(key, default=None)
        except Exception as exc:
            raise VariableStoreError(f"cannot read Airflow Variable {key}: {exc}") from exc

    def set(self, key: str, value: str) -> None:
        from airflow.sdk import Variable

        try:
            Variable.set(key, value, description=DESCRIPTION)
        except Exception as exc:
            raise VariableStoreError(f"cannot write Airflow Variable {key}: {exc}") from exc


class MetadataVariables:
    """Outside a task (the CLI): the Variable model on Airflow's metadata database."""

    def get(self, key: str) -> str | None:
        try:
            from airflow.models.variable import Variable

            return Variable.get(key, default_var=None)
        except Exception as exc:
            raise VariableStoreError(f"cannot read Airflow Variable {key}: {exc}") from exc

    def set(self, key: str, value: str) -> None:
        try:
            from airflow.models.variable import Variable

            Variable.set(key, value, description=DESCRIPTION)
        except Exception as exc:
            raise VariableStoreError(f"cannot write Airflow Variable {key}: {exc}") from exc
