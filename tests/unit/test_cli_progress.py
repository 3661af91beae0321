"""Progress for a person at a terminal: what the line says, and that it never mixes with logs."""

from __future__ import annotations

import io
import logging
import time
from types import SimpleNamespace

from chatwoot_etl.cli import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_shows_rows_rate_chunk_and_an_eta_from_the_estimate():
    now = [100.0]
    shown = progress.SyncProgress(Terminal(), clock=lambda: now[0])
    shown.planned(3, "allpfit", 10_000)
    now[0] += 2.0
    assert shown.render(1, 2_500) == "tenant 3 (allpfit): 2,500 / ~10,000 rows (25%), chunk 1, 1,250 rows/s, 2s, ETA 6s"
    now[0] += 8.0
    assert shown.render(4, 10_400).endswith("(100%), chunk 4, 1,040 rows/s, 10s")   # past the estimate: no ETA


def test_without_an_estimate_the_line_still_counts():
    now = [0.0]
    shown = progress.SyncProgress(Terminal(), clock=lambda: now[0])
    shown.planned(1, "demo-1", None)
    now[0] = 75.0
    assert shown.render(2, 9_000) == "tenant 1 (demo-1): 9,000 rows, chunk 2, 120 rows/s, 1m15s"


def test_a_log_record_clears_the_line_before_it_prints():
    terminal = Terminal()
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        shown = progress.SyncProgress(terminal)
        with shown.shown():
            shown.planned(1, "demo-1", 100)
            shown.chunk_committed(1, SimpleNamespace(extracted=50))
            logging.getLogger("chatwoot_etl.test").warning("event=lock_refused")
        text = terminal.getvalue()
    finally:
        root.removeHandler(handler)
    line, log = text.split(progress.CLEAR)[-2:]
    assert "50 / ~100 rows" in line
    assert log == "event=lock_refused\n"   # printed from the start of a cleared line
    assert not handler.filters


def test_the_line_is_cleared_when_the_command_ends():
    terminal = Terminal()
    shown = progress.SyncProgress(terminal)
    with shown.shown():
        shown.planned(1, "demo-1", 100)
    assert terminal.getvalue().endswith(progress.CLEAR)


def test_nothing_is_drawn_where_stderr_is_not_a_terminal():
    assert not progress.wanted(io.StringIO())
    piped = io.StringIO()
    with progress.ticking("seed-source: generating", stream=piped):
        pass
    assert piped.getvalue() == ""


def test_a_long_statement_ticks_its_elapsed_time_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "TICK_SECONDS", 0.01)
    terminal = Terminal()
    with progress.ticking("seed-source: generating 1,000 conversations", stream=terminal):
        time.sleep(0.1)
    text = terminal.getvalue()
    assert f"{progress.CLEAR}seed-source: generating 1,000 conversations ... 0s" in text
    assert text.endswith(progress.CLEAR)
