"""Where the project's files live, so the package finds them from any working directory."""

from __future__ import annotations

import functools
from pathlib import Path

from chatwoot_etl import settings

PACKAGE_DIR = Path(__file__).resolve().parent
# plugins/chatwoot_etl -> project root (the same layout inside the Airflow image).
PROJECT_DIR = Path(settings.HOME.get() or PACKAGE_DIR.parents[1])
SQL_DIR = Path(settings.SQL_DIR.get() or PROJECT_DIR / "include" / "sql")
LOCAL_DIR = Path(settings.LOCAL_DIR.get() or PROJECT_DIR / ".local")


@functools.cache
def sql_text(relative: str) -> str:
    """The text of include/sql/<relative> (read once per process: the files ship with the code)."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")
