"""Watermarks and their Airflow Variable mirror: JSON form, and what an operator's edit means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chatwoot_etl.sync.watermarks import Watermark, compare_mirror

UTC = UTC
MARK = Watermark(datetime(2026, 11, 1, 11, 0, tzinfo=UTC), 42)


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
