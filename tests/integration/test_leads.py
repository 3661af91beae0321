"""The lead rules against real PostgreSQL and the real CLI: a tenant's pack and override, the rules
version on every run and row, re-classification of stored rows (exact counts, under the tenant's
lock, without the source), explain and evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from chatwoot_etl.sync import engine, leads, locks
from tests.fixtures.pipeline import assert_target_equals_source

pytestmark = pytest.mark.integration

LABELLED = Path(__file__).resolve().parents[1] / "fixtures" / "leads"


def _ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr[-2000:]}"
    return result.stdout


def _leads(env, tenant: int) -> dict[int, tuple]:
    with env.analytics() as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT conversation_id, is_lead, visit_scheduled, crm_converted, ai_probability_label, "
            "ai_probability_score::integer, lead_rules_version FROM conversations_analytics WHERE tenant_id = %s",
            (tenant,))}


def test_a_new_pack_is_recorded_and_reclassify_rewrites_exactly_the_rows_it_changes(env):
    tenant = env.tenant_ids[0]
    first = engine.sync_tenant(tenant)
    generic = leads.load_rules(pack="real_estate").version   # the demo gives the estate agency its pack
    before = _leads(env, tenant)
    assert {row[-1] for row in before.values()} == {generic}
    with env.analytics() as conn:
        assert conn.execute("SELECT lead_rules_version FROM etl_control WHERE execution_id = %s",
                            (first.execution_id,)).fetchone()[0] == generic

    changed = json.loads(_ok(env.run_cli("tenants", "set-rules", "--tenant", str(tenant), "--pack", "generic",
                                         "--override", '{"weights": {"visit_intent": 50}}', "--json")))
    assert (changed["old_pack"], changed["pack"], changed["changed"]) == ("real_estate", "generic", True)
    assert changed["rules_version"].startswith("generic:") and "leads reclassify" in changed["notes"][0]
    listed = {t["id"]: t for t in json.loads(_ok(env.run_cli("tenants", "list", "--json")))}
    assert (listed[tenant]["lead_pack"], listed[tenant]["lead_override"]) == ("generic", True)

    # a sync holds the tenant: re-classification waits its turn (exit 2), writing nothing
    holder = psycopg.connect(env.analytics_uri, autocommit=True)
    assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", locks.lock_key(tenant)).fetchone()[0]
    refused = env.run_cli("leads", "reclassify", "--tenant", str(tenant))
    assert refused.returncode == 2 and "refused" in refused.stderr
    holder.close()
    assert _leads(env, tenant) == before

    # no source is needed: its connection points nowhere
    done = json.loads(_ok(env.run_cli("leads", "reclassify", "--tenant", str(tenant), "--chunk-size", "97", "--json",
                                      AIRFLOW_CONN_CHATWOOT_SOURCE="postgresql://nobody@127.0.0.1:9/none")))
    after = _leads(env, tenant)
    new = changed["rules_version"]
    assert {row[-1] for row in after.values()} == {new}
    differ = sum(before[k][:-1] != after[k][:-1] for k in before)
    assert (done["read"], done["changed"], done["restamped"], done["unchanged"]) == (
        len(before), differ, len(before) - differ, 0)
    assert done["chunks"] == -(-len(before) // 97) and done["previous_versions"] == {generic: len(before)}
    assert differ > 0   # the pack's vocabulary and the weight moved some rows
    with env.analytics() as conn:
        run = conn.execute("SELECT status, load_type, records_extracted, records_updated, lead_rules_version "
                           "FROM etl_control WHERE execution_id = %s", (done["run"],)).fetchone()
    assert run == ("success", "reclassify", len(before), len(before), new)

    again = json.loads(_ok(env.run_cli("leads", "reclassify", "--tenant", str(tenant), "--json")))
    assert (again["changed"], again["restamped"], again["unchanged"]) == (0, 0, len(before))
    # the next sync classifies with the new rules: nothing to change on rows it re-reads
    assert engine.sync_tenant(tenant).status == "success"
    assert _leads(env, tenant) == after
    assert_target_equals_source(env, tenant)


def test_bad_rules_are_refused_by_name_and_nothing_changes(env):
    tenant = env.tenant_ids[0]
    bad = env.run_cli("tenants", "set-rules", "--tenant", str(tenant), "--override", '{"buy_intent": "abc"}')
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f"tenant {tenant}: lead rules: 'buy_intent' must be a non-empty list" in bad.stderr.strip().splitlines()[-1]
    unknown = env.run_cli("tenants", "set-rules", "--tenant", str(tenant), "--pack", "gym")
    assert unknown.returncode == 1 and "invalid choice: 'gym'" in unknown.stderr
    with env.analytics() as conn:
        assert conn.execute("SELECT lead_pack, lead_rules FROM tenants WHERE id = %s", (tenant,)).fetchone() == (
            "real_estate", None)


def test_explain_names_the_message_and_rule_of_each_flag(env):
    tenant = env.tenant_ids[0]
    engine.sync_tenant(tenant)
    with env.analytics() as conn:
        conversation = conn.execute("SELECT conversation_id FROM conversations_analytics WHERE tenant_id = %s "
                                    "AND visit_scheduled ORDER BY conversation_id LIMIT 1", (tenant,)).fetchone()[0]
    shown = json.loads(_ok(env.run_cli("leads", "explain", "--tenant", str(tenant), "--conversation",
                                       str(conversation), "--json")))
    flags = {row["flag"]: row for row in shown["flags"]}
    assert flags["visit_scheduled"]["value"] is True and flags["visit_scheduled"]["stored"] is True
    position = flags["visit_scheduled"]["message"]
    assert flags["visit_scheduled"]["rule"] and shown["messages"][position - 1]["text"] == flags["visit_scheduled"]["text"]
    assert flags["is_lead"]["value"] is True
    missing = env.run_cli("leads", "explain", "--tenant", str(tenant), "--conversation", "999999999")
    assert missing.returncode == 1 and "has no stored conversation 999999999" in missing.stderr


def test_evaluate_reads_json_and_csv_and_names_a_bad_record(env, tmp_path):
    report = json.loads(_ok(env.run_cli("leads", "evaluate", "--file", str(LABELLED / "fitness.json"),
                                        "--pack", "fitness", "--json")))
    assert report["conversations"] == 65 and report["rules"].startswith("fitness:")
    assert report["metrics"]["is_lead"]["precision"] >= 0.9 and report["metrics"]["visit_scheduled"]["recall"] >= 0.9
    table = _ok(env.run_cli("leads", "evaluate", "--file", str(LABELLED / "fitness.json")))  # generic rules
    assert "is_lead" in table and "precision" in table

    path = tmp_path / "labelled.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["conversation_id", "sender", "text", "is_lead", "visit_scheduled", "crm_converted"])
        out.writerows([["a", "agent", "Quer agendar uma aula experimental? Qual dia?", "sim", "sim", "não"],
                       ["a", "contact", "quarta 19h", "", "", ""],
                       ["b", "contact", "oi", "false", "false", "false"]])
    shown = json.loads(_ok(env.run_cli("leads", "evaluate", "--file", str(path), "--pack", "fitness", "--json")))
    assert shown["conversations"] == 2 and shown["misclassified"] == []

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{"id": "x1", "messages": [{"sender": "cliente", "text": "oi"}],
                                   "expected": {"is_lead": True, "visit_scheduled": False, "crm_converted": False}}]))
    failed = env.run_cli("leads", "evaluate", "--file", str(broken))
    assert failed.returncode == 1 and "conversation x1, message 1: each message needs a sender" in failed.stderr
