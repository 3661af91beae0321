"""Progress for a person at a terminal: one line on stderr, redrawn in place.

Only when stderr is a terminal: piped, redirected or in an Airflow task log, nothing is drawn and
the structured log lines are the record. Log records clear the line before they print, so the
two never mix; the line comes back with the next update.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

CLEAR = "\r\033[K"
TICK_SECONDS = 1.0


def wanted(stream: TextIO) -> bool:
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _Line:
    """The one line being shown; log records clear it first (a logging filter on the handlers)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False
        self.lock = threading.Lock()

    def draw(self, text: str) -> None:
        with self.lock:
            self.stream.write(CLEAR + text)
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                self.stream.write(CLEAR)
                self.stream.flush()
                self.shown = False

    def filter(self, record: logging.LogRecord) -> bool:
        self.clear()
        return True


@contextmanager
def _clearing_logs(line: _Line) -> Iterator[None]:
    handlers = logging.getLogger().handlers
    for handler in handlers:
        handler.addFilter(line.filter)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(line.filter)
        line.clear()


class SyncProgress:
    """engine.Progress for `sync`: rows, rows/s, chunk and an ETA from the source's row estimate."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.line = _Line(stream)
        self.clock = clock
        self.tenant = ""
        self.estimate: int | None = None
        self.started = clock()

    def planned(self, tenant_id: int, slug: str, estimated_rows: int | None) -> None:
        self.tenant, self.estimate, self.started = f"tenant {tenant_id} ({slug})", estimated_rows, self.clock()
        self.line.draw(f"{self.tenant}: reading, ~{estimated_rows:,} rows expected" if estimated_rows is not None
                       else f"{self.tenant}: reading")

    def chunk_committed(self, index: int, result: Any) -> None:
        self.line.draw(self.render(index, result.extracted))

    def render(self, chunk: int, rows: int) -> str:
        elapsed = max(self.clock() - self.started, 1e-6)
        rate = rows / elapsed
        text = f"{self.tenant}: {rows:,}"
        if self.estimate:
            text += f" / ~{self.estimate:,} rows ({min(rows / self.estimate, 1):.0%})"
        else:
            text += " rows"
        text += f", chunk {chunk}, {rate:,.0f} rows/s, {_duration(elapsed)}"
        if self.estimate and rate > 0 and rows < self.estimate:
            text += f", ETA {_duration((self.estimate - rows) / rate)}"
        return text

    @contextmanager
    def shown(self) -> Iterator[SyncProgress]:
        with _clearing_logs(self.line):
            yield self


@contextmanager
def ticking(what: str, stream: TextIO | None = None) -> Iterator[None]:
    """`what ... 12s` redrawn every second while the block runs, on a terminal (one long
    statement, like the source generator, has no progress of its own to report)."""
    stream = stream or sys.stderr
    if not wanted(stream):
        yield
        return
    line = _Line(stream)
    done = threading.Event()
    started = time.monotonic()

    def tick() -> None:
        while not done.wait(TICK_SECONDS):
            line.draw(f"{what} ... {_duration(time.monotonic() - started)}")

    thread = threading.Thread(target=tick, name="progress", daemon=True)
    with _clearing_logs(line):
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def for_sync() -> SyncProgress | None:
    return SyncProgress(sys.stderr) if wanted(sys.stderr) else None
