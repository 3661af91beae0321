"""The column contract with the source view."""

from __future__ import annotations

import pytest

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
    assert diff.compatible == (("inbox_name", "text", "character varying(255)"),)


# (column, type the view has, accepted): types, not spellings. Chatwoot's own columns pass through
# the deployed view uncast, so its columns are `timestamp(6)`, `character varying`, `bigint` ...
@pytest.mark.parametrize(
    "column, found, accepted",
    [
        ("waiting_since", "timestamp(6) without time zone", True),      # Rails' newer datetime columns
        ("csat_created_at", "timestamp(6) without time zone", True),
        ("conversation_created_at", "timestamp(3) without time zone", True),
        ("conversation_updated_at", "timestamp with time zone", False),  # another meaning: drift
        ("contact_name", "character varying", True),                     # Rails `string`
        ("contact_name", "character varying(255)", True),
        ("contact_name", "character(10)", True),
        ("status_label_pt", "text", True),
        ("contact_id", "integer", True),                                 # narrower than the contract
        ("contact_id", "bigint", True),
        ("conversation_id", "bigint", False),                            # neither contract nor target holds it
        ("t_messages", "integer", True),
        ("first_response_time_minutes", "numeric(10,1)", True),
        ("first_response_time_minutes", "integer", True),                # an integer is an exact numeric
        ("first_response_time_minutes", "double precision", False),      # inexact: values would change
        ("conversation_duration_seconds", "numeric", False),             # an uncast EXTRACT(EPOCH ...)
        ("message_compiled", "json", True),
        ("message_compiled", "text", False),
        ("conversation_uuid", "text", False),
        ("is_open", "integer", False),
        ("is_open", "boolean", True),
    ],
)
def test_compatible_types(column, found, accepted):
    assert contract.compatible(column, found) is accepted
    diff = contract.compare({**contract.SOURCE_COLUMNS, column: found})
    assert diff.breaking is not accepted
    if not accepted:
        assert diff.retyped == ((column, contract.SOURCE_COLUMNS[column], found),)
        assert f"found {found}" in diff.describe()


def test_column_order_and_extra_columns_never_matter():
    shuffled = dict(reversed(list(contract.SOURCE_COLUMNS.items())))
    shuffled.update({"conversation_identifier": "character varying", "contact_custom_attributes": "jsonb"})
    diff = contract.compare(shuffled)
    assert not diff.breaking and not diff.compatible
    assert diff.extra == ("contact_custom_attributes", "conversation_identifier")
