"""Whether the source role could write, although the ETL never does (least privilege, checked).

The ETL's own source sessions are read-only transactions; this reports what the role itself may
do, so an operator learns that a production role can create tables or large objects, or write
Chatwoot's tables, before it matters.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from chatwoot_etl.paths import sql_text

_CAPABILITIES = {
    "superuser": "is a superuser",
    "create_schemas": "can create schemas",
    "create_tables": "can create tables",
    "temporary_tables": "can create temporary tables",
    "large_objects": "can create large objects",
}


def source_write_privileges(src: psycopg.Connection) -> dict[str, Any]:
    row = src.cursor(row_factory=dict_row).execute(sql_text("etl/source_write_privileges.sql")).fetchone()
    assert row is not None
    return dict(row)


def warnings(found: dict[str, Any]) -> list[str]:
    """One sentence per capability the read-only role should not have."""
    out = [sentence for key, sentence in _CAPABILITIES.items() if found.get(key)]
    tables = found.get("writable_tables") or []
    if tables:
        shown = ", ".join(tables[:8]) + (f" and {len(tables) - 8} more" if len(tables) > 8 else "")
        out.append(f"can write the table(s) {shown}")
    return out
