"""What a DAG run asks the engine for: options from the trigger form, the run type and the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.orchestration import tasks

UTC = UTC
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)


def context(kind: str = "scheduled", **params) -> dict:
    return {"params": params, "dag_run": SimpleNamespace(run_type=SimpleNamespace(value=kind), run_id=f"{kind}__1"),
            "data_interval_start": START, "data_interval_end": END}


def test_a_backfill_run_resyncs_its_data_interval_as_a_window_whatever_the_form_says():
    options = tasks.sync_options(context("backfill", mode="full_refresh"))
    assert (options.mode, options.since, options.until) == ("window", START, END)
    assert options.lock_wait == timedelta(seconds=300)
    assert options.triggered_by == "airflow:backfill:backfill__1"


def test_scheduled_and_manual_runs_follow_the_form():
    assert tasks.sync_options(context()).mode == "incremental"
    full = tasks.sync_options(context("manual", mode="full_refresh", chunk_size=1000))
    assert (full.mode, full.chunk_size, full.lock_wait) == ("full_refresh", 1000, timedelta(seconds=600))
    window = tasks.sync_options(context("manual", mode="window", since="2026-10-01T00:00:00Z", until=None))
    assert window.since == datetime(2026, 10, 1, tzinfo=UTC) and window.until is None


def test_lock_waits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CHATWOOT_ETL__LOCK_WAIT_SECONDS", "5")
    monkeypatch.setenv("CHATWOOT_ETL_BACKFILL_LOCK_WAIT_SECONDS", "7")
    assert tasks.lock_wait("manual") == timedelta(seconds=5) and tasks.lock_wait("backfill") == timedelta(seconds=7)


@pytest.mark.parametrize("params, message", [
    ({"mode": "window"}, "window mode needs since"),
    ({"mode": "window", "since": "2026-10-01T00:00:00"}, "has no time zone"),
    ({"mode": "window", "since": "yesterday"}, "is not an ISO 8601 date-time"),
    ({"mode": "window", "since": "2026-10-02T00:00:00Z", "until": "2026-10-01T00:00:00Z"}, "must be after since"),
])
def test_bad_form_values_are_configuration_errors(params, message):
    with pytest.raises(ConfigurationError, match=message):
        tasks.sync_options(context("manual", **params))
