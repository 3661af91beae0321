"""The pure parts of the source inspection (`chatwoot-etl source inspect`)."""

from __future__ import annotations

from datetime import datetime

from chatwoot_etl import contract
from chatwoot_etl.admin import inventory


def _inbox(id_, account):
    return {"inbox_id": id_, "account_id": account, "name": f"inbox {id_}", "channel_type": "Channel::Api",
            "conversations": id_ * 10}


T0, T1, T2 = datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1)


def test_contract_section_lists_every_difference():
    found = dict(contract.SOURCE_COLUMNS)
    del found["contact_name"]
    found["status"] = "text"
    found["brand_new"] = "integer"
    found["is_today"] = "boolean"
    section = inventory.contract_section(found)
    assert section["view_exists"] and not section["ok"]
    assert section["missing"] == [{"column": "contact_name", "expected": "text"}]
    assert section["retyped"] == [{"column": "status", "expected": "integer", "found": "text"}]
    assert section["extra"] == [{"column": "brand_new", "found": "integer"}]
    states = {row["column"]: row["state"] for row in section["columns"]}
    assert (states["contact_name"], states["status"], states["brand_new"], states["is_today"],
            states["conversation_id"]) == ("missing", "retyped", "extra", "ignored", "ok")
    assert inventory.contract_section({})["view_exists"] is False
    assert inventory.contract_section(dict(contract.SOURCE_COLUMNS))["ok"] is True


def test_counts_per_inbox_account_and_total_include_empty_inboxes():
    per_inbox = [
        {"account_id": 1, "inbox_id": 1, "view_rows": 5, "conversations": 4, "updated_min": T1, "updated_max": T2},
        {"account_id": 1, "inbox_id": 2, "view_rows": 3, "conversations": 3, "updated_min": T0, "updated_max": T1},
    ]
    inboxes = [_inbox(1, 1), _inbox(2, 1), _inbox(3, 2)]
    counts = inventory.summarise_counts(per_inbox, {1: "Acme", 2: "Beta", 3: "Empty"}, inboxes)
    assert [(r["inbox_id"], r["view_rows"]) for r in counts["inboxes"]] == [(1, 5), (2, 3), (3, 0)]
    assert [(r["account_id"], r["account_name"], r["inboxes"], r["view_rows"], r["conversations"])
            for r in counts["accounts"]] == [(1, "Acme", 2, 8, 7), (2, "Beta", 1, 0, 0), (3, "Empty", 0, 0, 0)]
    assert counts["accounts"][0]["updated_min"] == T0 and counts["accounts"][0]["updated_max"] == T2
    assert counts["totals"] == {"accounts": 3, "inboxes": 3, "view_rows": 8, "conversations": 7,
                                "duplicate_rows": 1, "updated_min": T0, "updated_max": T2}


def test_null_shares_over_the_whole_view():
    per_inbox = [{"view_rows": 6, "nulls": {"contact_email": 3}}, {"view_rows": 2, "nulls": {"contact_email": 1}}]
    found = {"contact_email": "text"}
    rows = inventory.null_shares(per_inbox, ["contact_email", "team_name"], found)
    assert rows[0] == {"column": "contact_email", "nulls": 4, "rows": 8, "share": 0.5, "note": None}
    assert rows[1]["note"] == "missing from the view" and rows[1]["share"] is None
    assert inventory.null_shares([], ["contact_email"], found)[0]["share"] is None


def test_latency_summary():
    assert inventory.latency_summary(12.345, [3.0, 1.0, 2.0]) == {
        "connect_ms": 12.35, "samples": 3, "min_ms": 1.0, "median_ms": 2.0, "max_ms": 3.0}
    assert inventory.latency_summary(1.0, [])["median_ms"] is None


def _report(found):
    per_inbox = [{"account_id": 1, "inbox_id": 1, "view_rows": 2, "conversations": 2, "updated_min": T0,
                  "updated_max": T1, "nulls": {"contact_email": 1}}]
    return {
        "inspected_at": T2,
        "source": {"relation": contract.SOURCE_VIEW, "database": "chatwoot", "server_version": "18.1",
                   "role": "chatwoot_reader", "clock_utc": T2},
        "contract": inventory.contract_section(found),
        "strategy": {"strategy": "view", "reason": "the source role cannot read the base table(s) messages",
                     "view_fingerprint": None},
        "privileges": {"superuser": False, "temporary_tables": True, "writable_tables": [],
                       "warnings": ["can create temporary tables"]},
        **inventory.summarise_counts(per_inbox, {1: "Acme | Co"}, [_inbox(1, 1)]),
        "null_shares": inventory.null_shares(per_inbox, ["contact_email"], found),
        "latency": inventory.latency_summary(5.0, [1.0]),
    }


def test_markdown_document_of_a_healthy_view():
    text = inventory.render_markdown(_report(dict(contract.SOURCE_COLUMNS)))
    assert text.startswith("# Chatwoot source inspection: `vw_conversations_analytics_final`\n")
    assert "**OK**" in text and "0 missing, 0 retyped, 0 compatible, 0 extra column(s)." in text
    assert ("- least privilege: **WARNING**: the source role can create temporary tables (it should only read)"
            in text)
    assert "| 1 | Acme \\| Co | 1 | 2 | 2 | 2026-01-01 00:00:00 | 2026-02-01 00:00:00 |" in text  # pipes escaped
    assert "| contact_email | 1 | 2 | 50.00% |  |" in text
    assert "### Missing" not in text and text.endswith("\n")


def test_markdown_document_of_a_drifted_or_missing_view():
    found = dict(contract.SOURCE_COLUMNS)
    del found["contact_name"]
    text = inventory.render_markdown(_report(found))
    assert "**BROKEN**" in text and "### Missing" in text and "| contact_name | text |" in text
    assert "does not exist" in inventory.render_markdown(_report({}))
