"""Tenant advisory lock keys."""

from __future__ import annotations

import subprocess
import sys

from chatwoot_etl.sync import locks


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
