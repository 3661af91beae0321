"""A process without Airflow reads AIRFLOW_CONN_* itself into exactly the connection PostgresHook
opens from the same value (URI or JSON, quoting, port, libpq extras), and leaves to the hook what
only the hook understands."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from airflow.providers.postgres.hooks.postgres import PostgresHook

from chatwoot_etl import connections

pytestmark = pytest.mark.integration

# Not a secret: the local test server trusts its socket; it only probes the parsing (a URI must
# quote its @ / : %).
QUOTED_TEXT = "pro@be/x:y%"


def _forms(uri: str) -> list[str]:
    parts = urlsplit(uri)
    socket = dict(p.split("=", 1) for p in parts.query.split("&") if p).get("host", "")
    host = parts.hostname or ""
    user, _, address = parts.netloc.rpartition("@")
    quoted = urlunsplit((parts.scheme, f"{user}:{quote(QUOTED_TEXT, safe='')}@{address}", parts.path, parts.query, ""))
    return [
        uri,
        quoted,
        uri + ("&" if parts.query else "?") + "sslmode=disable&application_name=probe",
        json.dumps({"conn_type": "postgres", "host": host or socket, "login": "postgres", "schema": parts.path[1:],
                    "port": parts.port, "extra": {"connect_timeout": "5"}}),
        json.dumps({"conn_type": "postgres", "host": host or socket, "login": "postgres", "schema": parts.path[1:],
                    "extra": json.dumps({"sslmode": "disable"})}),
    ]


def test_the_same_connection_as_postgreshook(analytics_uri, monkeypatch):
    for value in _forms(analytics_uri):
        monkeypatch.setenv("AIRFLOW_CONN_PROBE_DB", value)
        arguments = connections.hook_arguments("probe_db")
        assert arguments is not None, value
        with PostgresHook(postgres_conn_id="probe_db").get_conn() as by_hook, psycopg.connect(**arguments) as direct:
            assert direct.info.dsn == by_hook.info.dsn, value
            assert direct.info.get_parameters() == by_hook.info.get_parameters(), value
            assert direct.info.password == by_hook.info.password
    monkeypatch.setenv("AIRFLOW_CONN_PROBE_DB", _forms(analytics_uri)[1])
    assert connections.hook_arguments("probe_db")["password"] == QUOTED_TEXT


@pytest.mark.parametrize("value", [
    '{"conn_type": "postgres", "host": "db", "extra": {"iam": true}}',          # IAM tokens: the hook's
    "postgres://db/analytics?cursor=realdictcursor",                            # a cursor factory
    "postgres://db/analytics?__extra__=%7B%22sslmode%22%3A+%22require%22%7D",   # extras as JSON
    "mysql://db/analytics",
    "postgres://http://db/analytics",                                          # a host with a protocol
])
def test_what_only_the_hook_understands_goes_to_the_hook(value, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PROBE_DB", value)
    assert connections.hook_arguments("probe_db") is None


def test_a_secrets_backend_goes_first(analytics_uri, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PROBE_DB", analytics_uri)
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "airflow.secrets.local_filesystem.LocalFilesystemBackend")
    assert connections.hook_arguments("probe_db") is None
