"""The test session: Airflow kept off the user's home and metadata database, and the shared fixtures.

The fixtures live in tests/fixtures/ (a pytest plugin per job): databases (the server and throwaway
databases), sources (the seeded Chatwoot source), pipeline (the source + analytics pair and state
comparisons), airflow (Airflow environments for subprocesses).
"""

from __future__ import annotations

import os

from chatwoot_etl.paths import LOCAL_DIR

# Airflow reads its configuration on import: keep tests off the user's Airflow home and metadata
# database. Tests that need Variables get a migrated metadata database of their own.
os.environ["AIRFLOW_HOME"] = str(LOCAL_DIR / "airflow-test")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{LOCAL_DIR / 'airflow-test' / 'unmigrated.db'}"

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.sources", "tests.fixtures.pipeline", "tests.fixtures.owner",
                  "tests.fixtures.airflow"]
