"""The column contract with the source view."""

from __future__ import annotations

from chatwoot_etl import contract


def test_contract_diff_names_each_column():
    found = dict(contract.SOURCE_COLUMNS)
    del found["contact_name"]
    found["status"] = "text"
    found["inbox_name"] = "character varying(255)"  # same family as text: fine
    found["brand_new"] = "integer"
    found["is_today"] = "boolean"  # known, deliberately unused
    diff = contract.compare(found)
    assert diff.breaking
    assert diff.missing == ("contact_name",)
    assert diff.retyped == (("status", "integer", "text"),)
    assert diff.extra == ("brand_new",)
    assert "missing column contact_name" in diff.describe() and "expected integer, found text" in diff.describe()
