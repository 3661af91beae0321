"""Rows the source cannot compute: narrowed down to conversations, quarantined, the rest loaded.

A conversation whose created_at is year 1 or infinity makes the deployed view itself raise
(`integer out of range`, `cannot subtract infinite timestamps`) and the whole read with it. When
a read fails with such a row error (strategy.ROW_ERRORS: a data error or an infinity the source
cannot convert; never a connection or permission error), the engine lists the
window's keys (computed without the view's expressions), then bisects them with reads of subsets,
each under a savepoint of one snapshot, down to the single conversations whose read fails. Those
are quarantined with the source's error, and the window is read again without them: everything
else loads exactly, and the watermark passes them only because they are on record. A later
successful read of a conversation clears its entry. When the first and last conversations of the window fail
alone (a window may hold nothing but rows just edited into a bad state), a few of the tenant's
conversations outside it are read: one clean read shows the source can compute rows, so the
window's are each bad; none means the error is in no one row, and the run stops saying so.

Cost: a single bad row among n costs about 2n rows of probes plus the final read on the base-table
query; on the deployed view each probe is a whole-table aggregation (about 2 log2(n) of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from chatwoot_etl import contract
from chatwoot_etl.errors import SourceRowError
from chatwoot_etl.sync import source
from chatwoot_etl.sync.strategy import BASE_TABLES, ROW_ERRORS, describe_error, exact_plan, prepare
from chatwoot_etl.sync.window import ExtractWindow

REASON_PREFIX = "source_row_error"


@dataclass(frozen=True)
class PoisonRow:
    conversation_id: int
    inbox_id: int | None
    error: str

    @property
    def reason(self) -> str:
        return (f"{REASON_PREFIX}: the source cannot compute conversation {self.conversation_id} of "
                f"{contract.SOURCE_VIEW}: {self.error}")


def _copy_to_nowhere(src: psycopg.Connection, statement, params) -> list[bytes]:
    blocks: list[bytes] = []
    with src.cursor() as cur, cur.copy(statement, params) as copy:
        blocks.extend(bytes(block) for block in copy)
    return blocks


def window_keys(src: psycopg.Connection, window: ExtractWindow, strategy: str,
                excluded_ids: tuple[int, ...] = ()) -> dict[int, int | None]:
    """conversation_id -> inbox_id of every row the window reads."""
    statement, params = source.extract_statement(window, strategy, keys_only=True, excluded_ids=excluded_ids)
    keys: dict[int, int | None] = {}
    for line in b"".join(_copy_to_nowhere(src, statement, params)).decode().splitlines():
        conversation, _, inbox = line.partition(",")
        keys[int(conversation)] = int(inbox) if inbox else None
    return keys


# Probes of at most this many conversations run with index nested loops only, so the source
# computes exactly the probed rows; larger ones keep the session's plan, which on the deployed view
# may compute other conversations' rows too (a per-conversation view hashed as a whole): such a
# probe can fail without a bad row in it, never succeed with one, so it only narrows less.
EXACT_PROBE = 64


def read_error(src: psycopg.Connection, window: ExtractWindow, strategy: str, ids: list[int]) -> str | None:
    """The source's error for reading these conversations of the window in full, or None.

    Under a savepoint that is always rolled back: its plan settings never reach the caller's reads.
    """
    statement, params = source.extract_statement(window, strategy, only_ids=ids)
    try:
        with src.transaction(force_rollback=True):
            prepare(src, strategy)
            if len(ids) <= EXACT_PROBE or strategy == BASE_TABLES:
                exact_plan(src)
            _copy_to_nowhere(src, statement, params)
    except ROW_ERRORS as exc:
        return describe_error(exc)
    return None


# Conversations outside the window read to tell "every row here is bad" from "the error is not in
# any one row" when both ends of the window fail alone.
OUTSIDE_PROBES = 3


def _clean_elsewhere(src: psycopg.Connection, window: ExtractWindow, strategy: str, inside: set[int],
                     excluded_ids: tuple[int, ...]) -> bool:
    """Whether a conversation of the tenant outside the window (and not on record) reads cleanly:
    then the source can compute rows, and the window's failing ones are each bad in their own right
    (a window may hold nothing but poisoned rows: they were all just edited)."""
    everything = ExtractWindow((), window.synced_inboxes + window.history_inboxes, window.after, window.until)
    try:
        with src.transaction(force_rollback=True):
            others = [c for c in window_keys(src, everything, strategy, excluded_ids) if c not in inside]
    except ROW_ERRORS:
        return False
    spread = others[::max(1, len(others) // OUTSIDE_PROBES)][:OUTSIDE_PROBES]
    return any(read_error(src, everything, strategy, [other]) is None for other in spread)


def isolate(src: psycopg.Connection, window: ExtractWindow, strategy: str, first_error: str,
            excluded_ids: tuple[int, ...] = ()) -> list[PoisonRow]:
    """The conversations whose read fails ([] if the window now reads cleanly), in one snapshot;
    the excluded ones (on record already, never read) are not looked at."""
    src.execute("SELECT 1")  # opens the snapshot: every probe below is a savepoint of it
    try:
        with src.transaction(force_rollback=True):
            keys = window_keys(src, window, strategy, excluded_ids)
    except ROW_ERRORS as exc:
        raise SourceRowError(f"{contract.SOURCE_VIEW} cannot list the rows of the window either "
                             f"({describe_error(exc)}); first error: {first_error}") from exc
    ids = sorted(keys)
    whole = read_error(src, window, strategy, ids)
    if whole is None:
        return []
    ends = sorted({ids[0], ids[-1]})
    if all(read_error(src, window, strategy, [end]) for end in ends) and not _clean_elsewhere(
            src, window, strategy, set(ids) | set(excluded_ids), excluded_ids):
        raise SourceRowError(f"{contract.SOURCE_VIEW} fails to compute the window ({first_error}), even for "
                             "single conversations, and none of the tenant's conversations outside it reads "
                             "cleanly (or it has none): the error is not in one conversation's row (a message "
                             "aggregate over the whole table?); nothing was loaded")
    found: list[PoisonRow] = []

    def search(part: list[int], error: str, probed: bool) -> None:
        """part's read fails with error: read (probed) or inferred from its parent and sibling."""
        if len(part) == 1:
            own = error if probed else read_error(src, window, strategy, part)  # a row is always proven alone
            if own:
                found.append(PoisonRow(part[0], keys.get(part[0]), own))
            return
        half = len(part) // 2
        left_error = read_error(src, window, strategy, part[:half])
        if left_error:
            search(part[:half], left_error, probed=True)
            right_error = read_error(src, window, strategy, part[half:])
            if right_error:
                search(part[half:], right_error, probed=True)
        else:  # a clean left half puts the failure in the right one: no need to read it to know
            search(part[half:], error, probed=False)

    search(ids, whole, probed=True)
    if not found:
        raise SourceRowError(
            f"{contract.SOURCE_VIEW} fails to compute the window ({first_error}) and it could not be narrowed "
            "down to conversations of the window; nothing was loaded")
    return found
