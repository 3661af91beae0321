"""Failure callbacks: one alert (row + Slack post) per final failure, warnings on retries, and a
broken notifier never hiding the task's own failure. Slack is a local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from psycopg.rows import dict_row

from chatwoot_etl.orchestration import registry
from tests.fixtures.airflow import dags_test
from tests.fixtures.ports import closed_port_uri

pytestmark = pytest.mark.e2e


class FakeSlack:
    """Records every POST; answers with `status`."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[dict] = []
        self.status = status
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.posts.append({"path": self.path, "body": json.loads(body or b"{}")})
                self.send_response(fake.status)
                self.end_headers()
                self.wfile.write(b"ok" if fake.status == 200 else b"internal_error")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def connection(self) -> str:
        host, port = self.server.server_address
        return json.dumps({"conn_type": "slackwebhook", "password": f"http://{host}:{port}/services/T0/B0/secret"})

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def alerts(env, tenant_id: int) -> list[dict]:
    with env.analytics() as conn:
        cur = conn.cursor(row_factory=dict_row)
        cur.execute("SELECT * FROM etl_alerts WHERE tenant_id = %s ORDER BY id", (tenant_id,))
        return cur.fetchall()


def test_transient_failure_retries_with_warnings_then_alerts_once(airflow_env, env):
    tenant = env.tenant_ids[0]
    with FakeSlack() as slack:
        done = dags_test(airflow_env, registry.dag_id_for(tenant),
                         AIRFLOW_CONN_CHATWOOT_SOURCE=closed_port_uri("chatwoot"),  # connection refused
                         AIRFLOW_CONN_CHATWOOT_ALERTS_SLACK=slack.connection, CHATWOOT_ETL_RETRIES="2")
        assert done.returncode != 0
        rows = alerts(env, tenant)
        assert [(r["kind"], r["severity"], r["task_id"], r["try_number"]) for r in rows] == [
            ("task_retry", "warning", "check_source_contract", 1),
            ("task_retry", "warning", "check_source_contract", 2),
            ("task_failure", "error", "check_source_contract", 3),
        ]
        failure = rows[-1]
        assert "OperationalError" in failure["message"] and "Connection refused" in failure["message"]
        assert failure["dag_id"] == registry.dag_id_for(tenant) and failure["run_id"]
        assert failure["log_url"] and "check_source_contract" in failure["log_url"]
        # exactly one Slack post, for the final failure only
        assert len(slack.posts) == 1
        text = slack.posts[0]["body"]["text"]
        assert "check_source_contract" in text and f"tenant {tenant}" in text and "OperationalError" in text
    with env.analytics() as conn:  # nothing was synced
        assert conn.execute("SELECT count(*) FROM etl_control WHERE tenant_id = %s", (tenant,)).fetchone()[0] == 0


def test_permanent_failure_fails_at_once_and_a_broken_webhook_hides_nothing(airflow_env, env):
    tenant = env.tenant_ids[1]
    with env.source() as conn:  # contract drift: a column the load needs disappears
        conn.execute("ALTER VIEW vw_conversations_analytics_final RENAME COLUMN contact_phone TO contact_phone_e164")
    with FakeSlack(status=500) as slack:
        done = dags_test(airflow_env, registry.dag_id_for(tenant), AIRFLOW_CONN_CHATWOOT_ALERTS_SLACK=slack.connection,
                         CHATWOOT_ETL_RETRIES="3")
        assert done.returncode != 0
        assert len(slack.posts) == 1               # the webhook was tried (and answered 500)
    rows = alerts(env, tenant)
    assert [(r["kind"], r["task_id"], r["try_number"]) for r in rows] == [("task_failure", "check_source_contract", 1)]
    assert "ContractDrift" in rows[0]["message"] and "contact_phone" in rows[0]["message"]
    output = done.stdout + done.stderr
    assert "alert_channel_failed" in output and "channel=slack" in output
    assert "ContractDrift" in output             # the task's own error is still what the run reports
