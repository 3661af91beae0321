"""Bounds of a sync's options, shared by the engine (sync.window) and the CLI's argument checks.

A lookback longer than MAX_LOOKBACK is a re-sync of a window (mode "window"), not an overlap.
"""

from __future__ import annotations

from datetime import timedelta

MAX_CHUNK_SIZE = 1_000_000
# Rows per chunk: each holds ~10-15 MB of text per 1000 rows (message_compiled) and three are in
# flight at once (read, transform, write), so peak memory stays well under 400 MB.
DEFAULT_CHUNK_SIZE = 4000
MAX_LOOKBACK = timedelta(days=7)
