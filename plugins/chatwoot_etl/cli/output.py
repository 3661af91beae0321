"""Everything chatwoot-etl prints: tables, JSON, notes and warnings, errors; and its exit codes.

stdout carries the result (a table, or JSON with ``--json``); stderr carries errors (one line,
``chatwoot-etl: error: ...``) and the log. The command handlers print through here only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2

PROG = "chatwoot-etl"
NO_ROWS = "(no rows)"
TABLE_FORMAT = "simple"  # column names, a dashed rule, left-aligned cells two spaces apart


# ---------------------------------------------------------------------------------------------- JSON


def json_default(value: Any) -> Any:
    """What json.dumps cannot encode by itself: datetimes as ISO 8601, Decimals as numbers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, indent=2)


def print_json(value: Any) -> None:
    print(dumps(value))


# ---------------------------------------------------------------------------------------------- tables


def cell(value: Any) -> str:
    """A value as a table shows it: nothing for NULL, datetimes to the second."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Print rows as a table with the column names as headers (default: the first row's keys)."""
    if not rows:
        print(NO_ROWS)
        return
    from tabulate import tabulate  # imported here: it costs more than the whole `--help`

    columns = list(columns or rows[0])
    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    print(tabulate(cells, headers=columns, tablefmt=TABLE_FORMAT, disable_numparse=True, stralign="left"))


def print_rows(result: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """A list of rows: JSON with --json, else a table."""
    if as_json:
        print_json(result)
    else:
        table(result)


# ---------------------------------------------------------------------------------------------- messages


def line(text: str = "") -> None:
    """A line of the result (stdout)."""
    print(text)


def write(text: str) -> None:
    """Text of the result as it is (stdout, no newline added)."""
    sys.stdout.write(text)


def notes(result: Mapping[str, Any]) -> None:
    """The result's warnings and notes, one line each (stdout, after the table)."""
    for warning in result.get("warnings", []):
        print(f"warning: {warning}")
    for note in result.get("notes", []):
        print(f"note: {note}")


def info(message: str) -> None:
    """A message about the run, not part of the result (stderr)."""
    print(message, file=sys.stderr)


def problem(message: str) -> None:
    """A problem of one item that does not stop the command (stderr): ``chatwoot-etl: <message>``."""
    print(f"{PROG}: {message}", file=sys.stderr)


def error(message: str, as_json: bool = False) -> int:
    """The one-line error on stderr (and ``{"ok": false, "error": ...}`` on stdout with --json); exit 1."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if as_json:
        print_json({"ok": False, "error": message})
    return EXIT_FAILED
