"""Window planning and the engine's options: what a run reads, from where to where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.sync.runs import Inbox
from chatwoot_etl.sync.watermarks import Watermark
from chatwoot_etl.sync.window import BEGINNING, SyncOptions, plan_window

UTC = UTC
CLOCK = datetime(2026, 11, 1, 12, 0)
MARK = Watermark(datetime(2026, 11, 1, 11, 0, tzinfo=UTC), 42)


def inboxes(*loaded):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return [Inbox(i, f"inbox {i}", moment, history_loaded=flag) for i, flag in loaded]


def test_first_run_reads_every_inbox_from_the_beginning():
    window = plan_window(SyncOptions(), inboxes((1, True), (2, False)), None, CLOCK)
    assert window.history_inboxes == (1, 2) and window.synced_inboxes == ()
    assert window.after == BEGINNING and window.until == CLOCK


def test_incremental_reads_after_the_watermark_minus_lookback_and_new_inboxes_whole():
    window = plan_window(SyncOptions(lookback=timedelta(minutes=5)), inboxes((1, True), (2, False)), MARK, CLOCK)
    assert window.synced_inboxes == (1,) and window.history_inboxes == (2,)
    assert window.after == (datetime(2026, 11, 1, 10, 55), -1)


def test_incremental_without_lookback_continues_exactly_after_the_keyset_position():
    window = plan_window(SyncOptions(lookback=timedelta(0)), inboxes((1, True)), MARK, CLOCK)
    assert window.after == (datetime(2026, 11, 1, 11, 0), 42)


def test_window_mode_is_bounded_by_the_source_clock():
    options = SyncOptions(mode="window", since=datetime(2026, 10, 1, tzinfo=UTC),
                          until=datetime(2027, 1, 1, tzinfo=UTC))
    window = plan_window(options, inboxes((1, True), (2, False)), MARK, CLOCK)
    assert window.synced_inboxes == (1, 2) and window.history_inboxes == ()
    assert window.after == (datetime(2026, 10, 1), -1) and window.until == CLOCK


def test_full_refresh_reads_everything():
    window = plan_window(SyncOptions(mode="full_refresh"), inboxes((1, True)), MARK, CLOCK)
    assert window.history_inboxes == (1,) and window.after == BEGINNING


@pytest.mark.parametrize("options, message", [
    (SyncOptions(mode="sideways"), "mode must be one of"),
    (SyncOptions(chunk_size=0), "chunk_size"),
    (SyncOptions(mode="window"), "needs since"),
    (SyncOptions(mode="window", since=datetime(2026, 1, 1)), "time zone"),
    (SyncOptions(mode="window", since=datetime(2026, 2, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC)), "after"),
    (SyncOptions(since=datetime(2026, 1, 1, tzinfo=UTC)), "only apply to window"),
])
def test_bad_options_are_configuration_errors(options, message):
    with pytest.raises(ConfigurationError, match=message):
        options.validate()
