"""Moments in and out: ISO 8601 with a zone, and Chatwoot's naive-UTC form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chatwoot_etl import clock

SAO_PAULO = timezone(timedelta(hours=-3))


@pytest.mark.parametrize("text, expected", [
    ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-03-01T21:00:00-03:00", datetime(2026, 3, 1, 21, tzinfo=SAO_PAULO)),
    (" 2026-03-01 21:00:00.5+00:00 ", datetime(2026, 3, 1, 21, 0, 0, 500000, tzinfo=UTC)),
])
def test_parse_aware(text, expected):
    assert clock.parse_aware(text) == expected


@pytest.mark.parametrize("text, words", [("2026-01-01T00:00:00", "no time zone"), ("amanhã", "not an ISO 8601"),
                                         ("", "not an ISO 8601")])
def test_parse_aware_refuses_naive_and_garbage(text, words):
    with pytest.raises(ValueError, match=words):
        clock.parse_aware(text)


def test_naive_utc_round_trip():
    local = datetime(2026, 3, 1, 21, 0, tzinfo=SAO_PAULO)
    assert clock.naive_utc(local) == datetime(2026, 3, 2, 0, 0)
    assert clock.from_naive_utc(clock.naive_utc(local)) == local
