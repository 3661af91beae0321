"""The pure parts of tenant / inbox administration and of the source inspection."""

from __future__ import annotations

from datetime import datetime

import pytest
from chatwoot_etl import contract
from chatwoot_etl.admin import inventory, mappings
from chatwoot_etl.admin.mappings import AdminError

TENANT = {"id": 1, "slug": "demo-1", "account_id": 10, "status": "active"}


# --------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize("text, expected", [("7", (7, None)), (" 12 ", (12, None)), ("demo-1", (None, "demo-1"))])
def test_tenant_reference_is_an_id_or_a_slug(text, expected):
    assert mappings.parse_tenant_ref(text) == expected


@pytest.mark.parametrize("text", ["", "Demo 1", "-1", "a_b", "1" * 12])
def test_bad_tenant_reference_names_the_problem(text):
    with pytest.raises(AdminError, match="unknown tenant"):
        mappings.parse_tenant_ref(text)


@pytest.mark.parametrize("slug", ["loja", "loja-nova", "a1-b2"])
def test_good_slugs(slug):
    assert mappings.validate_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "Loja", "loja nova", "-loja", "loja-", "loja--nova", "123", "x" * 64])
def test_bad_slugs(slug):
    with pytest.raises(AdminError, match="invalid slug"):
        mappings.validate_slug(slug)


def test_time_zone_status_and_name_validation():
    assert mappings.validate_timezone("America/Sao_Paulo") == "America/Sao_Paulo"
    for bad in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(AdminError, match="unknown time zone"):
            mappings.validate_timezone(bad)
    with pytest.raises(AdminError, match="invalid status 'gone'"):
        mappings.validate_status("gone")
    with pytest.raises(AdminError, match="invalid name"):
        mappings.validate_name("  ")
    assert mappings.validate_name(" Loja ") == "Loja"


def test_actor_is_by_or_the_os_user(monkeypatch):
    assert mappings.actor(" ana ") == "ana"
    monkeypatch.setattr(mappings.getpass, "getuser", lambda: "osuser")
    assert mappings.actor(None) == mappings.actor("") == "osuser"


# --------------------------------------------------------------------------------------------- inbox checks


def test_inbox_of_the_tenants_account_passes_without_warning():
    inbox = {"inbox_id": 5, "account_id": 10}
    assert mappings.check_inbox_for_tenant(5, inbox, TENANT, force=False) == []


def test_inbox_of_another_account_needs_force():
    inbox = {"inbox_id": 5, "account_id": 11}
    with pytest.raises(AdminError, match="inbox 5 belongs to account 11, not to account 10 of tenant 1 .demo-1.; use --force"):
        mappings.check_inbox_for_tenant(5, inbox, TENANT, force=False)
    assert mappings.check_inbox_for_tenant(5, inbox, TENANT, force=True) == [
        "inbox 5 of account 11 mapped to tenant 1 (demo-1) (account 10) by --force"]


def test_unknown_inbox_is_refused_even_forced():
    for force in (False, True):
        with pytest.raises(AdminError, match="unknown inbox 5: the source has no inbox with that id"):
            mappings.check_inbox_for_tenant(5, None, TENANT, force=force)


def test_admin_tenant_and_tenant_without_account():
    with pytest.raises(AdminError, match="platform admin tenant"):
        mappings.check_inbox_for_tenant(5, {"account_id": 10}, {**TENANT, "id": 0}, force=True)
    orphan = {**TENANT, "account_id": None}
    with pytest.raises(AdminError, match="has no Chatwoot account_id"):
        mappings.check_inbox_for_tenant(5, {"account_id": 10}, orphan, force=False)
    assert len(mappings.check_inbox_for_tenant(5, {"account_id": 10}, orphan, force=True)) == 1


def test_status_warning_only_for_tenants_that_do_not_sync():
    assert mappings.status_warning(TENANT) == [] and mappings.status_warning({**TENANT, "status": "trial"}) == []
    assert "is cancelled" in mappings.status_warning({**TENANT, "status": "cancelled"})[0]


@pytest.mark.parametrize("current, decision", [
    (None, "insert"),
    ({"tenant_id": 1, "is_active": True}, "noop"),
    ({"tenant_id": 2, "is_active": True}, "conflict"),
    ({"tenant_id": 1, "is_active": False}, "activate"),
    ({"tenant_id": 2, "is_active": False}, "activate"),
])
def test_map_decision(current, decision):
    assert mappings.map_decision(current, 1) == decision


@pytest.mark.parametrize("current, decision", [
    (None, "unmapped"),
    ({"tenant_id": 1, "is_active": True}, "noop"),
    ({"tenant_id": 1, "is_active": False}, "activate"),
    ({"tenant_id": 2, "is_active": True}, "move"),
    ({"tenant_id": 2, "is_active": False}, "move"),
])
def test_move_decision(current, decision):
    assert mappings.move_decision(current, 1) == decision


@pytest.mark.parametrize("mapping, state", [
    (None, "unmapped"),
    ({"tenant_id": 1, "is_active": True}, "mapped"),
    ({"tenant_id": 1, "is_active": False}, "inactive"),
    ({"tenant_id": 2, "is_active": True}, "other-tenant"),
    ({"tenant_id": 2, "is_active": False}, "inactive-other-tenant"),
])
def test_discovery_state(mapping, state):
    assert mappings.discovery_state(mapping, 1) == state


# --------------------------------------------------------------------------------------------- drift


def _tenant(id_, account, active, status="active"):
    return {"id": id_, "slug": f"t{id_}", "account_id": account, "status": status, "active_inboxes": active}


def _inbox(id_, account):
    return {"inbox_id": id_, "account_id": account, "name": f"inbox {id_}", "channel_type": "Channel::Api",
            "conversations": id_ * 10}


def _map(inbox, tenant, active=True):
    return {"inbox_id": inbox, "tenant_id": tenant, "tenant_slug": f"t{tenant}", "is_active": active,
            "inbox_name": f"inbox {inbox}"}


def test_no_drift_when_mappings_match_the_source():
    report = mappings.compute_drift([_tenant(1, 10, 2)], [_map(1, 1), _map(2, 1)], [_inbox(1, 10), _inbox(2, 10)])
    assert report["drift"] is False and set(report["counts"].values()) == {0}


def test_drift_finds_each_kind():
    tenants = [_tenant(1, 10, 2), _tenant(2, 20, 0), _tenant(3, 30, 0, status="suspended"), _tenant(4, None, 1)]
    maps = [_map(1, 1), _map(9, 1),                      # 9 vanished from the source
            _map(2, 2, active=False),                     # deliberately unmapped: not "unmapped" drift
            _map(21, 4)]                                  # tenant without account: not a mismatch
    source = [_inbox(1, 10), _inbox(2, 20), _inbox(3, 10), _inbox(4, 99), _inbox(21, 20)]
    maps.append(_map(5, 1))
    source.append(_inbox(5, 20))                          # mapped to the tenant of another account
    report = mappings.compute_drift(tenants, maps, source)
    assert [(r["tenant_id"], r["inbox_id"], r["conversations"]) for r in report["unmapped_source_inboxes"]] == [
        (1, 3, 30)]                                       # 4 is of an account no tenant has
    assert [(r["tenant_id"], r["inbox_id"]) for r in report["vanished_inboxes"]] == [(1, 9)]
    assert [r["tenant_id"] for r in report["tenants_without_active_inbox"]] == [2]  # 3 is suspended
    assert [(r["inbox_id"], r["tenant_account_id"], r["inbox_account_id"]) for r in report["account_mismatches"]] == [
        (5, 10, 20), (21, None, 20)]
    assert report["drift"] is True
    assert report["counts"] == {"unmapped_source_inboxes": 1, "vanished_inboxes": 1,
                                "tenants_without_active_inbox": 1, "account_mismatches": 2}


def test_inactive_vanished_mapping_is_not_drift():
    report = mappings.compute_drift([_tenant(1, 10, 1)], [_map(1, 1), _map(9, 1, active=False)], [_inbox(1, 10)])
    assert report["vanished_inboxes"] == []


# --------------------------------------------------------------------------------------------- inventory


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
        **inventory.summarise_counts(per_inbox, {1: "Acme | Co"}, [_inbox(1, 1)]),
        "null_shares": inventory.null_shares(per_inbox, ["contact_email"], found),
        "latency": inventory.latency_summary(5.0, [1.0]),
    }


def test_markdown_document_of_a_healthy_view():
    text = inventory.render_markdown(_report(dict(contract.SOURCE_COLUMNS)))
    assert text.startswith("# Chatwoot source inspection: `vw_conversations_analytics_final`\n")
    assert "**OK**" in text and "0 missing, 0 retyped, 0 extra column(s)." in text
    assert "| 1 | Acme \\| Co | 1 | 2 | 2 | 2026-01-01 00:00:00 | 2026-02-01 00:00:00 |" in text  # pipes escaped
    assert "| contact_email | 1 | 2 | 50.00% |  |" in text
    assert "### Missing" not in text and text.endswith("\n")


def test_markdown_document_of_a_drifted_or_missing_view():
    found = dict(contract.SOURCE_COLUMNS)
    del found["contact_name"]
    text = inventory.render_markdown(_report(found))
    assert "**BROKEN**" in text and "### Missing" in text and "| contact_name | text |" in text
    assert "does not exist" in inventory.render_markdown(_report({}))
