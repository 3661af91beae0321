"""Structured log lines."""

from __future__ import annotations

from chatwoot_etl.logs import format_fields


def test_log_fields_are_key_value_and_quoted_when_needed():
    line = format_fields(event="chunk_committed", tenant=3, note='two words "quoted"', skipped=None)
    assert line == 'event=chunk_committed tenant=3 note="two words \\"quoted\\""'
