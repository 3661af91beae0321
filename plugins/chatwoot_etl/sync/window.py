"""What a run reads: the keyset window over the source view, planned from the watermark.

Pure: no database, no pandas, so the DAG's tasks pass windows through XCom cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chatwoot_etl.clock import naive_utc
from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.limits import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_LOOKBACK
from chatwoot_etl.sync.watermarks import Watermark

if TYPE_CHECKING:
    from chatwoot_etl.sync.runs import Inbox

# A keyset position before every real row.
BEGINNING = (datetime(1, 1, 1), -1)

MODES = ("incremental", "full_refresh", "window")
LOAD_TYPES = {"incremental": "incremental", "full_refresh": "full", "window": "window"}
DEFAULT_LOOKBACK = timedelta(minutes=5)
DEFAULT_STATEMENT_TIMEOUT_MS = 60 * 60 * 1000


@dataclass(frozen=True)
class ExtractWindow:
    synced_inboxes: tuple[int, ...]      # read only after the keyset position
    history_inboxes: tuple[int, ...]     # read from the beginning
    after: tuple[datetime, int]          # exclusive keyset lower bound (naive UTC, conversation_id)
    until: datetime                      # exclusive upper bound (naive UTC, source clock)

    def to_xcom(self) -> dict[str, Any]:
        """Small JSON (inbox ids and two bounds, never rows)."""
        return {"synced_inboxes": list(self.synced_inboxes), "history_inboxes": list(self.history_inboxes),
                "after": [self.after[0].isoformat(), self.after[1]], "until": self.until.isoformat()}

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> ExtractWindow:
        return cls(tuple(data["synced_inboxes"]), tuple(data["history_inboxes"]),
                   (datetime.fromisoformat(data["after"][0]), int(data["after"][1])),
                   datetime.fromisoformat(data["until"]))


@dataclass(frozen=True)
class SyncOptions:
    mode: str = "incremental"
    since: datetime | None = None        # window mode: inclusive lower bound (aware)
    until: datetime | None = None        # window mode: exclusive upper bound (aware); default the source clock
    chunk_size: int = DEFAULT_CHUNK_SIZE
    lookback: timedelta = DEFAULT_LOOKBACK
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    triggered_by: str = "cli"
    lock_wait: timedelta = timedelta(0)  # how long to wait for another sync of the tenant to finish
    publish_mirror: bool = True          # mirror the watermark to its Airflow Variable at the end

    @property
    def load_type(self) -> str:
        return LOAD_TYPES[self.mode]

    @property
    def moves_watermark(self) -> bool:
        return self.mode != "window"

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(f"chunk_size must be from 1 to {MAX_CHUNK_SIZE}, not {self.chunk_size}")
        if self.lookback < timedelta(0) or self.lock_wait < timedelta(0):
            raise ConfigurationError("lookback and lock_wait cannot be negative")
        if self.lookback > MAX_LOOKBACK:
            raise ConfigurationError(f"lookback must be at most {MAX_LOOKBACK} (re-sync a window for more), "
                                     f"not {self.lookback}")
        if self.mode == "window":
            if self.since is None:
                raise ConfigurationError("window mode needs since")
            for name, value in (("since", self.since), ("until", self.until)):
                if value is not None and value.tzinfo is None:
                    raise ConfigurationError(f"{name} must carry a time zone (e.g. 2026-01-01T00:00:00Z)")
            if self.until is not None and self.until <= self.since:
                raise ConfigurationError(f"until ({self.until.isoformat()}) must be after since ({self.since.isoformat()})")
        elif self.since is not None or self.until is not None:
            raise ConfigurationError("since / until only apply to window mode")


def plan_window(options: SyncOptions, inboxes: Sequence[Inbox], mark: Watermark | None, clock: datetime) -> ExtractWindow:
    """Which inboxes to read from the beginning, and the keyset window for the others."""
    every = tuple(inbox.inbox_id for inbox in inboxes)
    if options.mode == "window":
        assert options.since is not None  # validated
        until = min(naive_utc(options.until), clock) if options.until else clock
        return ExtractWindow(every, (), (naive_utc(options.since), -1), until)
    if options.mode == "full_refresh" or mark is None:
        return ExtractWindow((), every, BEGINNING, clock)
    synced = tuple(inbox.inbox_id for inbox in inboxes if inbox.history_loaded)
    history = tuple(inbox.inbox_id for inbox in inboxes if not inbox.history_loaded)
    if options.lookback > timedelta(0):
        after = (mark.naive_utc() - options.lookback, -1)
    else:
        after = (mark.naive_utc(), mark.conversation_id)
    return ExtractWindow(synced, history, after, clock)
