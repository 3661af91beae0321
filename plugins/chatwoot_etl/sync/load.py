"""Writing chunks into conversations_analytics: COPY into staging, then one upsert."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from chatwoot_etl import contract
from chatwoot_etl.connections import one_row
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync import timetext

COLUMNS = list(contract.TARGET_COLUMNS)
UPDATABLE = [name for name in COLUMNS if name not in contract.KEY_COLUMNS]
# What decides whether a stored row changed: everything but the relative-to-now fields.
COMPARED = [name for name in UPDATABLE if name not in contract.RELATIVE_COLUMNS]


def _identifiers(names: list[str], prefix: str | None = None) -> sql.Composable:
    if prefix:
        return sql.SQL(", ").join(sql.Identifier(prefix, name) for name in names)
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


@functools.cache
def statements() -> dict[str, sql.SQL | sql.Composed]:
    """The load's statements, composed once from include/sql/etl and the contract's columns."""
    return {
        "create_staging": sql.SQL(sql_text("etl/create_staging.sql")).format(columns=_identifiers(COLUMNS)),
        "copy": sql.SQL("COPY etl_stage_conversations ({}) FROM STDIN (FORMAT csv)").format(_identifiers(COLUMNS)),
        "upsert": sql.SQL(sql_text("etl/upsert_chunk.sql")).format(
            columns=_identifiers(COLUMNS),
            staged_columns=_identifiers(COLUMNS, "s"),
            updatable=_identifiers(UPDATABLE),
            excluded_updatable=_identifiers(UPDATABLE, "excluded"),
            excluded_compared=_identifiers(COMPARED, "excluded"),
            current_compared=_identifiers(COMPARED, "t"),
        ),
        "insert": sql.SQL(sql_text("etl/insert_chunk.sql")).format(
            columns=_identifiers(COLUMNS), staged_columns=_identifiers(COLUMNS, "s")),
        "release_moved": sql.SQL(sql_text("etl/release_moved_conversations.sql")),
        "staged_unmapped": sql.SQL(sql_text("etl/staged_unmapped_rows.sql")),
    }


@dataclass
class LoadCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    moved_in: int = 0
    skipped_unmapped: int = 0
    failed: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    conflicted: bool = False   # an insert-only write met a stored row and upserted instead

    def add(self, other: LoadCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.moved_in += other.moved_in
        self.skipped_unmapped += other.skipped_unmapped
        self.failed += other.failed
        self.conflicted = self.conflicted or other.conflicted


# Rows joined into one COPY block at a time: bounds the bytes built at once to a slice of the chunk
# (about 1 MB here). Blocks of 1000 rows encoded no faster and, written by two connections at
# once, left the process about 50 MB larger (freed multi-MB blocks are not handed back to the system).
CSV_BLOCK_ROWS = 250
_FLAGS = np.array([b"f", b"t", b""], dtype=object)   # False, True, NULL
# The instants timetext.iso_texts writes; others (never from the source) go through strftime.
_FIRST_INSTANT = np.datetime64(f"{timetext.FIRST_YEAR}-01-01")
_PAST_LAST_INSTANT = np.datetime64(f"{timetext.LAST_YEAR + 1}-01-01")


def copy_csv_blocks(rows: pd.DataFrame, block_rows: int = CSV_BLOCK_ROWS) -> Iterator[bytes]:
    """The frame as PostgreSQL CSV (NULL = unquoted empty field), in COLUMNS order, in blocks of rows.

    Each column is prepared once (numpy arrays, or the list of its texts) and encoded a block at a
    time with numpy and C-level string methods (text joined on NUL, which no PostgreSQL text holds,
    and split again); rows are joined as bytes. No Python step per value, one wide column (emoji
    make a str four bytes a character) does not widen the rows it is in, and only one block's
    bytes exist at once. Several times faster than DataFrame.to_csv, whose writer walks the large
    JSON fields character by character.
    """
    encoders = [_encoder(rows[name]) for name in COLUMNS]
    for start in range(0, len(rows), block_rows):
        block = [encode(start, start + block_rows) for encode in encoders]
        yield b"\n".join(map(b",".join, zip(*block, strict=True))) + b"\n"


# Below this, an integer's field is looked up instead of formatted (numpy's astype("S20") costs about
# 200 ns a value, a lookup 20): counts, flags, years, hours and most ids of a chunk are small.
_SMALL_INTS = 100_000


@functools.cache
def _small_int_fields() -> np.ndarray:
    return np.array([str(i).encode() for i in range(_SMALL_INTS)], dtype=object)


def _int_fields(numbers: np.ndarray) -> list[bytes]:
    """The int64 values as decimal text."""
    if len(numbers) and numbers.min() >= 0 and numbers.max() < _SMALL_INTS:
        return _small_int_fields()[numbers].tolist()
    return numbers.astype("S20").tolist()


def _nulled(fields: list[bytes], missing: np.ndarray) -> list[bytes]:
    for i in np.flatnonzero(missing).tolist():
        fields[i] = b""
    return fields


def _texts(values: list) -> list[bytes]:
    """Text fields of any values: NULL an empty field, anything else as _quoted() text."""
    nulls = [i for i, v in enumerate(values) if type(v) is not str and _is_null(v)]
    if nulls or not all(type(v) is str for v in values):
        values = [v if type(v) is str else "" if _is_null(v) else str(v) for v in values]
    fields = _quoted(values)
    for i in nulls:
        fields[i] = b""
    return fields


# Above this many characters a value on average, a column's values are quoted one by one: joined,
# one emoji widens the whole text to four bytes a character, and every pass costs more than the
# calls it saves (message_compiled of the bench data, ~2.8 KB a conversation: 5 µs a value against 9).
# The fields are the same either way: only the speed depends on it.
_LONG_TEXT = 256


def _quoted(values: list[str]) -> list[bytes]:
    """Text fields: every value quoted (an empty string too), quotes doubled. A quoted field holds
    commas, line breaks and carriage returns (PostgreSQL rejects a bare carriage return) as they are."""
    if sum(map(len, values)) > _LONG_TEXT * len(values):
        return [b'"' + value.encode("utf-8").replace(b'"', b'""') + b'"' for value in values]
    joined = "\0".join(values).encode("utf-8").replace(b'"', b'""').replace(b"\0", b'"\0"')
    return (b'"' + joined + b'"').split(b"\0")


def _is_null(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


Encoder = Callable[[int, int], list[bytes]]


def _encoder(column: pd.Series) -> Encoder:
    """How to encode rows [start, stop) of one column as CSV fields (t/f, str(int), naive UTC
    timestamps, quoted text), through public pandas API."""
    dtype = column.dtype
    if isinstance(dtype, pd.BooleanDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "b"):
        codes = np.where(column.isna().to_numpy(), 2, column.to_numpy(dtype=bool, na_value=False))
        return lambda start, stop: _FLAGS[codes[start:stop]].tolist()
    if isinstance(dtype, pd.Int64Dtype):
        numbers, missing = column.to_numpy(dtype="int64", na_value=0), column.isna().to_numpy()
        return lambda start, stop: _nulled(_int_fields(numbers[start:stop]), missing[start:stop])
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = column.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        missing = np.isnat(naive)
        present = naive[~missing]
        if str(dtype.tz) != "UTC" or (len(present) and (present.min() < _FIRST_INSTANT
                                                        or present.max() >= _PAST_LAST_INSTANT)):
            formatted = column.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
            return lambda start, stop: _texts(formatted[start:stop])
        moments = timetext.iso_texts(np.where(missing, 0, naive.astype(np.int64)))
        return lambda start, stop: _nulled(moments[start:stop].tolist(), missing[start:stop])
    if dtype == "str":   # str values, NaN for NULL: no value needs looking at
        missing = column.isna().to_numpy()
        texts = column.to_numpy(dtype=object, na_value="").tolist()
        return lambda start, stop: _nulled(_quoted(texts[start:stop]), missing[start:stop])
    values = column.tolist()
    return lambda start, stop: _texts(values[start:stop])


def ensure_staging(conn: psycopg.Connection) -> None:
    conn.execute(statements()["create_staging"])


def reset_seen(conn: psycopg.Connection) -> None:
    """A full refresh starts with an empty list of the conversations it has seen."""
    conn.execute(sql_text("etl/create_seen_conversations.sql"))
    conn.execute("TRUNCATE etl_seen_conversations")


def record_seen(conn: psycopg.Connection, conversation_ids: set[int]) -> None:
    with conn.cursor().copy("COPY etl_seen_conversations (conversation_id) FROM STDIN") as copy:
        for conversation_id in conversation_ids:
            copy.write_row((conversation_id,))


def tenant_has_rows(conn: psycopg.Connection, tenant_id: int) -> bool:
    return bool(one_row(conn.execute(sql_text("etl/tenant_has_rows.sql"), {"tenant_id": tenant_id}))[0])


def _write(conn: psycopg.Connection, rows: pd.DataFrame, insert_only: bool) -> LoadCounts:
    stm = statements()
    with conn.cursor() as cur:
        cur.execute("TRUNCATE etl_stage_conversations")
        with cur.copy(stm["copy"]) as copy:
            for block in copy_csv_blocks(rows):
                copy.write(block)
        cur.execute(stm["release_moved"])
        moved = cur.rowcount
        conflicted = False
        if insert_only:
            try:
                with conn.transaction():
                    inserted = cur.execute(stm["insert"]).rowcount
                updated = 0
            except psycopg.errors.UniqueViolation:
                conflicted, insert_only = True, False
        if not insert_only:
            cur.execute(stm["upsert"])
            flags = [row[0] for row in cur.fetchall()]
            inserted = sum(flags)
            updated = len(flags) - inserted
        unmapped = one_row(cur.execute(stm["staged_unmapped"]))[0]
    return LoadCounts(
        inserted=inserted,
        updated=updated,
        unchanged=len(rows) - unmapped - inserted - updated,
        moved_in=moved,
        skipped_unmapped=unmapped,
        conflicted=conflicted,
    )


def write_chunk(conn: psycopg.Connection, rows: pd.DataFrame, *, insert_only: bool = False) -> LoadCounts:
    """Upsert rows inside the caller's transaction; rows the database rejects are isolated.

    insert_only: the tenant had no rows when the run began (its first load): a plain insert,
    which falls back to the upsert (and says so in ``conflicted``) if a stored row is met.

    The fast path loads the whole chunk at once. If the database rejects it (a value violating a
    constraint), the chunk is split in halves under savepoints until each bad row stands alone;
    those are returned in ``rejected`` with the database's reason and everything else is written.
    """
    counts = LoadCounts()
    if rows.empty:
        return counts
    pending = [rows]
    while pending:
        part = pending.pop()
        try:
            with conn.transaction():  # a savepoint inside the caller's transaction
                counts.add(_write(conn, part, insert_only and not counts.conflicted))
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            if len(part) == 1:
                counts.failed += 1
                counts.rejected.append({"row": part.iloc[0], "reason": _database_reason(exc)})
                continue
            middle = len(part) // 2
            pending.extend([part.iloc[middle:], part.iloc[:middle]])
    return counts


def _database_reason(exc: psycopg.Error) -> str:
    """The database's reason for refusing one row, with the column COPY names in its context."""
    where = (exc.diag.context or "").split("\n")[0]
    return f"rejected by the database: {exc.diag.message_primary}" + (f" ({where})" if where else "")


def clear_resolved_quarantine(conn: psycopg.Connection, conversation_ids: pd.Series) -> None:
    """A conversation written now was readable, with a real clock: its source_row_error or
    source_clock_anomaly entry (whichever tenant recorded it) is resolved."""
    ids = [str(value) for value in conversation_ids.dropna().astype("int64").tolist()]
    if ids:
        conn.execute(sql_text("etl/clear_resolved_quarantine.sql"), {"conversation_ids": ids})


def quarantine(
    conn: psycopg.Connection, *, tenant_id: int, execution_id: str, conversation_id: Any, inbox_id: Any,
    reason: str, raw_row: dict[str, Any],
) -> None:
    conn.execute(
        sql_text("etl/quarantine_row.sql"),
        {
            "tenant_id": tenant_id,
            "execution_id": execution_id,
            "conversation_id": None if conversation_id is None else str(conversation_id),
            "inbox_id": None if inbox_id is None else str(inbox_id),
            "reason": reason,
            "raw_row": Jsonb(json.loads(json.dumps(raw_row, default=str))),
        },
    )


def claim_quarantined(conn: psycopg.Connection, tenant_id: int, kind: str, conversation_ids: list[int]) -> set[int]:
    """Those of the conversations already quarantined for this kind of reason; their entries under
    another tenant (an inbox moved) now belong to this one."""
    params = {"tenant_id": tenant_id, "kind": kind, "conversation_ids": [str(cid) for cid in conversation_ids]}
    return {int(row[0]) for row in conn.execute(sql_text("etl/claim_quarantined.sql"), params)}
