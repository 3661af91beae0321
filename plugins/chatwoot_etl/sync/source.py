"""Reading the Chatwoot source: the contract check and the streamed, chunked extract."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

import pandas as pd
import psycopg
from psycopg import sql

from chatwoot_etl import contract
from chatwoot_etl.connections import one_row
from chatwoot_etl.errors import ContractDrift
from chatwoot_etl.paths import sql_text
from chatwoot_etl.sync.strategy import VIEW, prepare, relation
from chatwoot_etl.sync.window import ExtractWindow


def view_columns(conn: psycopg.Connection, relation: str = contract.SOURCE_VIEW) -> dict[str, str]:
    rows = conn.execute(sql_text("etl/view_columns.sql"), {"relation": relation}).fetchall()
    return dict(rows)


def check_contract(conn: psycopg.Connection, relation: str = contract.SOURCE_VIEW) -> contract.ContractDiff:
    """Compare the view with the contract; raise ContractDrift when a required column is missing or retyped."""
    found = view_columns(conn, relation)
    if not found:
        raise ContractDrift(relation, contract.compare({}))
    diff = contract.compare(found)
    if diff.breaking:
        raise ContractDrift(relation, diff)
    return diff


def source_clock(conn: psycopg.Connection) -> datetime:
    """The source's own 'now' as naive UTC (its timestamps' form): the window's upper bound."""
    return one_row(conn.execute(sql_text("etl/source_clock.sql")))[0]


# Text columns travel with a one-character prefix: CSV cannot tell pandas an empty string from a
# NULL, but '.' || value is never empty and NULL stays NULL, so stripping the prefix after the read
# gives back every text exactly as sent ('' and 'None' included), and only SQL NULL is missing.
TEXT_PREFIX = "."
TEXT_COLUMNS = tuple(name for name, kind in contract.SOURCE_COLUMNS.items() if kind == "text")


def _selected(name: str) -> sql.Composable:
    if name in TEXT_COLUMNS:
        return sql.SQL("{} || {} AS {}").format(sql.Literal(TEXT_PREFIX), sql.Identifier(name), sql.Identifier(name))
    return sql.Identifier(name)


KEY_COLUMNS = ("conversation_id", "inbox_id")


@functools.cache
def _extract_select(strategy: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(sql_text("etl/extract.sql")).format(
        columns=sql.SQL(", ").join(_selected(name) for name in columns),
        relation=relation(strategy),
    )


@functools.cache
def _extract_sql(strategy: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(_extract_select(strategy, columns))


def extract_statement(window: ExtractWindow, strategy: str = VIEW, *, keys_only: bool = False,
                      only_ids: list[int] | None = None, excluded_ids: tuple[int, ...] = ()) -> tuple[sql.Composed, dict]:
    """The engine's one read of the source: the statement and its parameters for window.

    keys_only: just (conversation_id, inbox_id), which the source computes without the view's
    expressions; only_ids / excluded_ids: the window narrowed to, or without, those conversations.
    """
    statement = _extract_sql(strategy, KEY_COLUMNS if keys_only else tuple(contract.SOURCE_COLUMNS))
    params = {
        "synced_inboxes": list(window.synced_inboxes),
        "history_inboxes": list(window.history_inboxes),
        "after_updated_at": window.after[0],
        "after_conversation_id": window.after[1],
        "until": window.until,
        "only_ids": only_ids,
        "excluded_ids": list(excluded_ids),
    }
    return statement, params


def estimate_rows(conn: psycopg.Connection, window: ExtractWindow, strategy: str = VIEW,
                  excluded_ids: tuple[int, ...] = ()) -> int | None:
    """The planner's estimate of the rows the read will bring (for a person's ETA: planning only,
    nothing is computed); None when the source cannot plan it."""
    _, params = extract_statement(window, strategy, excluded_ids=excluded_ids)
    select = _extract_select(strategy, tuple(contract.SOURCE_COLUMNS))
    try:
        with conn.transaction():
            prepare(conn, strategy)
            plan = one_row(conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(select), params))[0]
    except psycopg.Error:
        return None
    return int(plan[0]["Plan"]["Plan Rows"])


class _CopyStream(io.RawIOBase):
    """A file-like view of COPY TO STDOUT blocks, for pandas' CSV reader."""

    def __init__(self, blocks: Iterable[bytes | bytearray | memoryview]) -> None:
        self._blocks = iter(blocks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# The first frame is small: the stages of the sync (sync.pipeline) all start working after it
# instead of after a whole chunk, and a person sees the first rows land at once.
FIRST_FRAME_ROWS = 1000
# Marks (in DataFrame.attrs) a frame no rows follow: read_csv hands over fewer rows than asked for
# only at the end of the stream.
LAST_FRAME = "last_frame"


def stream_frames(conn: psycopg.Connection, window: ExtractWindow, chunk_size: int,
                  strategy: str = VIEW, excluded_ids: tuple[int, ...] = ()) -> Iterator[pd.DataFrame]:
    """Raw frames of at most chunk_size rows, the first of at most FIRST_FRAME_ROWS (text values,
    NaN for NULL only), read from one COPY."""
    statement, params = extract_statement(window, strategy, excluded_ids=excluded_ids)
    prepare(conn, strategy)
    with conn.cursor() as cur, cur.copy(statement, params) as copy:
        reader = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
        frames = pd.read_csv(
            reader,
            header=None,
            names=list(contract.SOURCE_COLUMNS),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            iterator=True,
            encoding="utf-8",
        )
        size = min(chunk_size, FIRST_FRAME_ROWS)
        while True:
            try:
                frame = frames.get_chunk(size)
            except StopIteration:
                return
            for name in TEXT_COLUMNS:
                frame[name] = frame[name].str.slice(len(TEXT_PREFIX))
            frame.attrs[LAST_FRAME] = len(frame) < size
            size = chunk_size
            yield frame


def whole_conversations(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Re-cut ordered frames so a conversation's duplicate view rows never straddle two chunks. A
    frame marked LAST_FRAME is handed over whole, with what was carried into it: the stream's last
    conversation is not left to a chunk of its own."""
    carry: pd.DataFrame | None = None
    for frame in frames:
        final = bool(frame.attrs.pop(LAST_FRAME, False))  # (pandas would copy the mark into every frame made from it)
        if frame.empty:
            continue
        if carry is not None and len(carry):
            frame = pd.concat([carry, frame], ignore_index=True)
        if final:
            carry = None
            yield frame.reset_index(drop=True)
            continue
        ids = frame["conversation_id"]
        last = ids.iloc[-1]
        tail = 0
        for value in reversed(ids.to_numpy()):
            if value != last and not (pd.isna(value) and pd.isna(last)):
                break
            tail += 1
        if tail == len(frame):
            carry = frame
            continue
        carry = frame.iloc[len(frame) - tail:].reset_index(drop=True)
        yield frame.iloc[: len(frame) - tail].reset_index(drop=True)
    if carry is not None and len(carry):
        yield carry
