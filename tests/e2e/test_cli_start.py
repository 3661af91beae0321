"""The CLI outside Airflow: the Variable mirror written and read in the metadata database directly,
equal to what Airflow's own Variable model reads and writes (Fernet-encrypted or not), and a sync
process that never imports Airflow where the configuration is plain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from chatwoot_etl.orchestration.variables import DirectVariables
from chatwoot_etl.sync import watermarks
from tests.fixtures.airflow import _sqlalchemy

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fernet_key", ["", Fernet.generate_key().decode()], ids=["plain", "fernet"])
def test_direct_variables_equal_airflows_model(airflow_env, fernet_key):
    airflow_env.extra["AIRFLOW__CORE__FERNET_KEY"] = fernet_key
    direct = DirectVariables(_sqlalchemy(airflow_env.metadata_uri), fernet_key)

    direct.set("chatwoot_etl_probe", '{"updated_at": "2026-11-30T10:00:00+00:00"}')
    done = airflow_env.airflow("variables", "get", "chatwoot_etl_probe")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"updated_at": "2026-11-30T10:00:00+00:00"}'
    with airflow_env.metadata() as conn:
        stored, encrypted = conn.execute("SELECT val, is_encrypted FROM variable WHERE key = 'chatwoot_etl_probe'"
                                         ).fetchone()
    assert encrypted == bool(fernet_key) and (stored.startswith("{") != bool(fernet_key))

    done = airflow_env.airflow("variables", "set", "chatwoot_etl_probe", "rewound by an operator")
    assert done.returncode == 0, done.stderr
    assert direct.get("chatwoot_etl_probe") == "rewound by an operator"
    assert direct.get("chatwoot_etl_absent") is None


def test_a_cli_sync_never_imports_airflow_and_mirrors_the_watermark(airflow_env, env, variable_value):
    tenant = env.tenant_ids[0]
    probe = (f"import json, sys; from chatwoot_etl.cli import main; code = main(['sync', '--tenant', '{tenant}']); "
             "print(json.dumps({'code': code, 'airflow': 'airflow' in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", probe], env=airflow_env.environ(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "airflow": False}
    with env.analytics() as conn:
        mark = watermarks.read(conn, tenant)
    assert watermarks.Watermark.from_json(variable_value(watermarks.variable_key(tenant))) == mark


def test_a_secrets_backend_sends_the_cli_through_airflow(airflow_env):
    probe = "from chatwoot_etl.orchestration.variables import cli_variables; print(type(cli_variables()).__name__)"
    chosen = {}
    for name, extra in (("plain", {}), ("backend", {"AIRFLOW__SECRETS__BACKEND": "some.Backend"}),
                        ("command", {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD": "echo sqlite://"})):
        done = subprocess.run([sys.executable, "-c", probe], env=airflow_env.environ(**extra),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        chosen[name] = done.stdout.strip()
    assert chosen == {"plain": "DirectVariables", "backend": "MetadataVariables", "command": "MetadataVariables"}
