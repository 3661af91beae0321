"""The Airflow Variable stores the watermark is mirrored to (``sync.watermarks.VariableStore``).

Both are the real Airflow Variables an operator edits in the UI; the caller picks the one that
fits where it runs: a task reaches them through the Task SDK (the execution API), the CLI through
the metadata database. Any failure reaching the store surfaces as VariableStoreError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chatwoot_etl.errors import VariableStoreError

DESCRIPTION = "Watermark mirror of chatwoot_etl (etl_watermarks is the truth)"


@contextmanager
def _reaching(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # any backend failure means "cannot reach the mirror" (re-raised)
        # one line: a database error's text carries the SQL and a documentation link after it
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise VariableStoreError(f"cannot {action} Airflow Variable {key}: {type(exc).__name__}: {first}") from exc


class TaskVariables:
    """Inside a running task: ``airflow.sdk.Variable``."""

    def get(self, key: str) -> str | None:
        with _reaching("read", key):
            from airflow.sdk import Variable

            return Variable.get(key, default=None)

    def set(self, key: str, value: str) -> None:
        with _reaching("write", key):
            from airflow.sdk import Variable

            Variable.set(key, value, description=DESCRIPTION)


class MetadataVariables:
    """Outside a task (the CLI): the Variable model on Airflow's metadata database."""

    def get(self, key: str) -> str | None:
        with _reaching("read", key):
            from airflow.models.variable import Variable

            return Variable.get(key, default_var=None)

    def set(self, key: str, value: str) -> None:
        with _reaching("write", key):
            from airflow.models.variable import Variable

            Variable.set(key, value, description=DESCRIPTION)
