"""Where the project's files live, so the package finds them from any working directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# plugins/chatwoot_etl -> project root (the same layout inside the Airflow image).
PROJECT_DIR = Path(os.environ.get("CHATWOOT_ETL_HOME", PACKAGE_DIR.parents[1]))
SQL_DIR = Path(os.environ.get("CHATWOOT_ETL_SQL_DIR", PROJECT_DIR / "include" / "sql"))
LOCAL_DIR = Path(os.environ.get("CHATWOOT_ETL_LOCAL_DIR", PROJECT_DIR / ".local"))


def sql_text(relative: str) -> str:
    """The text of include/sql/<relative>."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")
