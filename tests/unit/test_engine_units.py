"""Pure pieces of the engine: chunk cutting, window planning, watermarks, contract diff, logging, lock keys."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from chatwoot_etl import contract
from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.logs import format_fields
from chatwoot_etl.sync import locks, source
from chatwoot_etl.sync.runs import Inbox
from chatwoot_etl.sync.watermarks import Watermark, compare_mirror
from chatwoot_etl.sync.window import BEGINNING, SyncOptions, plan_window

UTC = timezone.utc


def frames(ids, size):
    frame = pd.DataFrame({"conversation_id": [str(i) for i in ids], "n": range(len(ids))})
    return [frame.iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 100])
def test_whole_conversations_never_split_a_conversation_and_lose_nothing(size):
    ids = [1, 2, 2, 3, 4, 4, 4, 5, 6, 6, 7]
    chunks = list(source.whole_conversations(frames(ids, size)))
    assert pd.concat(chunks)["n"].tolist() == list(range(len(ids)))
    for chunk in chunks:
        assert len(chunk) > 0
    seen_in = {}
    for index, chunk in enumerate(chunks):
        for cid in set(chunk["conversation_id"]):
            assert seen_in.setdefault(cid, index) == index, f"conversation {cid} split across chunks"


def test_whole_conversations_of_a_single_long_group():
    chunks = list(source.whole_conversations(frames([9] * 10, 3)))
    assert len(chunks) == 1 and len(chunks[0]) == 10


def inboxes(*loaded):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return [Inbox(i, f"inbox {i}", moment, history_loaded=flag) for i, flag in loaded]


CLOCK = datetime(2026, 11, 1, 12, 0)
MARK = Watermark(datetime(2026, 11, 1, 11, 0, tzinfo=UTC), 42)


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


def test_watermark_json_round_trip_is_utc():
    local = Watermark(datetime(2026, 3, 1, 21, 0, tzinfo=timezone(timedelta(hours=-3))), 7)
    again = Watermark.from_json(local.to_json())
    assert again == local and again.updated_at.tzinfo == UTC
    assert again.naive_utc() == datetime(2026, 3, 2, 0, 0)


@pytest.mark.parametrize("variable, action", [
    (None, "missing"),
    ("not json", "unreadable"),
    ('{"updated_at": "2026-11-01T11:00:00", "conversation_id": 1}', "unreadable"),  # naive: refused
    (MARK.to_json(), "in_sync"),
    (Watermark(MARK.updated_at, 41).to_json(), "rewind"),
    (Watermark(MARK.updated_at - timedelta(days=3), 999).to_json(), "rewind"),
    (Watermark(MARK.updated_at, 43).to_json(), "ahead"),
])
def test_mirror_decisions(variable, action):
    assert compare_mirror(MARK, variable).action == action


def test_our_own_lagging_mirror_is_stale_not_a_rewind():
    older = Watermark(MARK.updated_at - timedelta(hours=1), 7).to_json()
    assert compare_mirror(MARK, older, mirrored_value=older).action == "stale"
    assert compare_mirror(MARK, older, mirrored_value=MARK.to_json()).action == "rewind"
    assert compare_mirror(MARK, older, mirrored_value="garbage").action == "rewind"


def test_a_variable_cannot_rewind_a_tenant_never_synced():
    assert compare_mirror(None, MARK.to_json()).action == "ahead"


def test_contract_diff_names_each_column():
    found = dict(contract.SOURCE_COLUMNS)
    del found["contact_name"]
    found["status"] = "text"
    found["inbox_name"] = "character varying(255)"  # same family as text: fine
    found["brand_new"] = "integer"
    found["is_today"] = "boolean"  # known, deliberately unused
    diff = contract.compare(found)
    assert diff.breaking
    assert diff.missing == ("contact_name",)
    assert diff.retyped == (("status", "integer", "text"),)
    assert diff.extra == ("brand_new",)
    assert "missing column contact_name" in diff.describe() and "expected integer, found text" in diff.describe()


def test_log_fields_are_key_value_and_quoted_when_needed():
    line = format_fields(event="chunk_committed", tenant=3, note='two words "quoted"', skipped=None)
    assert line == 'event=chunk_committed tenant=3 note="two words \\"quoted\\""'


def test_lock_key_is_the_same_in_every_process():
    """The old ETL used Python's hash(), which differs per process: its lock excluded nothing."""
    script = "from chatwoot_etl.sync.locks import lock_key; print(lock_key(7))"
    keys = {
        subprocess.run([sys.executable, "-c", script], env={"PYTHONHASHSEED": seed, "PATH": ""},
                       capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2", "random")
    }
    assert keys == {f"{locks.lock_key(7)}\n"}
    assert locks.lock_key(7) != locks.lock_key(8)
