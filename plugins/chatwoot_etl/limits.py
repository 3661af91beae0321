"""Bounds of a sync's options, shared by the engine (sync.window) and the CLI's argument checks.

A lookback longer than MAX_LOOKBACK is a re-sync of a window (mode "window"), not an overlap.
"""

from __future__ import annotations

from datetime import timedelta

MAX_CHUNK_SIZE = 1_000_000
MAX_LOOKBACK = timedelta(days=7)
