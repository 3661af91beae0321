"""The randomized fault harness: seeded rounds of mixed faults, each followed by the invariants.

`make test` runs rounds for about FAULT_BUDGET_SECONDS (default 100); `make soak` runs them for
longer. Every round prints its seed and what it did; FAULT_SEED=<seed>[,<seed>...] replays rounds.
"""

from __future__ import annotations

import random
import time

import psycopg
import pytest

from chatwoot_etl.localdev import demo, seed
from tests.faults.scenario import run_round, seeds
from tests.fixtures.databases import database_name, drop_databases
from tests.fixtures.pipeline import Env
from tests.fixtures.sources import source_database

pytestmark = pytest.mark.integration


def test_fault_rounds(create_database, migrated_template, source_template, pg_admin_uri, conn_env, capsys):
    replay, budget = seeds()
    base = random.SystemRandom().randrange(1 << 31)
    started, rounds = time.monotonic(), 0
    while replay is None and time.monotonic() - started < budget or replay and rounds < len(replay):
        seed_value = replay[rounds] if replay else base + rounds
        analytics_uri = create_database("faults_analytics", template=migrated_template)
        source = source_database(create_database("faults_source", template=source_template))
        with psycopg.connect(source.admin_uri, autocommit=True) as conn:
            seed.apply_grants(conn)
        conn_env(analytics=analytics_uri, source=source.reader_uri, source_admin=source.admin_uri)
        env = Env(analytics_uri, source.admin_uri, source.reader_uri, demo.register_demo_tenants())
        began = time.monotonic()
        done = run_round(env, seed_value)
        with capsys.disabled():
            print(f"\nfault round {done.describe()} ({time.monotonic() - began:.1f}s)")
        drop_databases(pg_admin_uri, [database_name(analytics_uri), source.name])
        rounds += 1
    assert rounds >= 1
