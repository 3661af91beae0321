"""The Airflow Variable stores the watermark is mirrored to (``sync.watermarks.VariableStore``).

All are the real Airflow Variables an operator edits in the UI; the caller picks the one that
fits where it runs: a task reaches them through the Task SDK (the execution API), the CLI through
the metadata database, directly (DirectVariables: Airflow's ORM and settings cost a CLI call two
seconds) where the configuration is plain, else through Airflow's Variable model. Any failure
reaching the store surfaces as VariableStoreError.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from chatwoot_etl.errors import VariableStoreError
from chatwoot_etl.settings import airflow_config, airflow_home, secrets_backend_configured

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

    @staticmethod
    def _model() -> Any:
        from airflow.models.variable import Variable

        from chatwoot_etl import logs

        logs.keep_cli_logging()
        return Variable

    def get(self, key: str) -> str | None:
        with _reaching("read", key):
            return self._model().get(key, default_var=None)

    def set(self, key: str, value: str) -> None:
        with _reaching("write", key):
            self._model().set(key, value, description=DESCRIPTION)


class DirectVariables:
    """Outside Airflow: the metadata database's variable table, read and written as Airflow's
    Variable model does (an AIRFLOW_VAR_* value first, Fernet-encrypted values, one row per key).
    Built by cli_variables() only where the configuration is plain (tests/e2e/test_cli_start.py
    holds it equal to the model)."""

    def __init__(self, database_url: str, fernet_key: str) -> None:
        self._url = database_url
        self._fernet_key = fernet_key.strip()

    def _connect(self) -> Any:
        if self._url.startswith("sqlite:///"):
            import sqlite3

            return sqlite3.connect(self._url.removeprefix("sqlite:///"), timeout=30)
        import psycopg

        return psycopg.connect("postgresql://" + self._url.split("://", 1)[1])

    def _sql(self, conn: Any, statement: str) -> str:
        return statement if type(conn).__module__ == "sqlite3" else statement.replace("?", "%s")

    def _fernet(self) -> Any:
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key.strip().encode()) for key in self._fernet_key.split(",") if key.strip()])

    def get(self, key: str) -> str | None:
        with _reaching("read", key):
            from_environment = os.environ.get(f"AIRFLOW_VAR_{key.upper()}")
            if from_environment is not None:
                return from_environment
            with closing(self._connect()) as conn:
                row = conn.execute(self._sql(conn, "SELECT val, is_encrypted FROM variable WHERE key = ?"),
                                   (key,)).fetchone()
            if row is None or row[0] is None:
                return None
            return self._fernet().decrypt(row[0].encode()).decode() if row[1] else row[0]

    def set(self, key: str, value: str) -> None:
        with _reaching("write", key):
            stored = self._fernet().encrypt(value.encode()).decode() if self._fernet_key else value
            with closing(self._connect()) as conn:
                conn.execute(self._sql(conn, "DELETE FROM variable WHERE key = ?"), (key,))
                conn.execute(self._sql(conn, "INSERT INTO variable (key, val, description, is_encrypted) "
                                             "VALUES (?, ?, ?, ?)"), (key, stored, DESCRIPTION, bool(self._fernet_key)))
                conn.commit()


def cli_variables() -> DirectVariables | MetadataVariables:
    """The Variable store for a process outside Airflow: direct where Airflow's configuration is
    plain (no secrets backend, no multi-team, a SQLite or PostgreSQL metadata database)."""
    url = airflow_config("database", "sql_alchemy_conn", f"sqlite:///{airflow_home() / 'airflow.db'}") or ""
    fernet_key = airflow_config("core", "fernet_key") or ""
    sqlite = url.startswith("sqlite:///") and "?" not in url
    postgres = url.split("://", 1)[0] in ("postgresql", "postgresql+psycopg", "postgresql+psycopg2")
    plain = (not secrets_backend_configured()
             and (airflow_config("core", "multi_team") or "false").strip().lower() in ("false", "0", ""))
    if "airflow" not in sys.modules and plain and (sqlite or postgres):   # libpq reads a URL's ?host= itself
        return DirectVariables(url, fernet_key)
    return MetadataVariables()
