"""Moments: ISO 8601 input with a zone, and the naive-UTC form Chatwoot's timestamps have.

Chatwoot stores every instant as ``timestamp without time zone`` holding UTC; everything the ETL
computes with is aware. These are the only conversions between the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

EXAMPLE = "2026-01-01T00:00:00Z"


def parse_aware(text: str) -> datetime:
    """An ISO 8601 date-time that carries a zone (``Z`` allowed); ValueError saying what is wrong."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time; write e.g. {EXAMPLE}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; write e.g. {EXAMPLE}")
    return moment


def naive_utc(moment: datetime) -> datetime:
    """An aware moment in the source's form (naive, UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_naive_utc(moment: datetime) -> datetime:
    """A source timestamp (naive, UTC) as an aware moment."""
    return moment.replace(tzinfo=UTC)
