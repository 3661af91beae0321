"""The pure parts of tenant / inbox administration: validation, mapping decisions, drift."""

from __future__ import annotations

import pytest

from chatwoot_etl.admin import mappings
from chatwoot_etl.errors import AdminError

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


@pytest.mark.parametrize(
    "limit, active, inbox, refused",
    [(10, list(range(1, 10)), 50, False),   # the 10th inbox of 10 allowed
     (10, list(range(1, 11)), 50, True),    # the 11th
     (10, list(range(1, 11)), 5, False),    # one it already has: nothing is added
     (-1, list(range(1, 50)), 50, False),   # unlimited
     (None, list(range(1, 50)), 50, False)],
)
def test_the_plans_inbox_limit(limit, active, inbox, refused):
    tenant = {**TENANT, "plan": "basic", "max_inboxes": limit, "inbox_ids": active}
    if refused:
        with pytest.raises(AdminError, match=r"allows 10 \(tenants.max_inboxes\); raise max_inboxes or use --force"):
            mappings.check_inbox_limit(inbox, tenant, force=False)
        assert "beyond it by --force" in mappings.check_inbox_limit(inbox, tenant, force=True)[0]
    else:
        assert mappings.check_inbox_limit(inbox, tenant, force=False) == []
