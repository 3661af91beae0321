"""Comparing the base-table query's rows with the view's: multisets, named differences."""

from __future__ import annotations

from chatwoot_etl import contract
from chatwoot_etl.sync import strategy

COLUMNS = list(contract.SOURCE_COLUMNS)


def row(conversation_id: int, csat: int | None = None, **values) -> tuple:
    base = dict.fromkeys(COLUMNS)
    base.update({"conversation_id": conversation_id, "csat_response_id": csat, "priority_label": "None",
                 "message_compiled": [{"text": "oi"}], **values})
    return tuple(base[name] for name in COLUMNS)


def test_same_rows_in_any_order_are_equal():
    view = [row(1), row(2, csat=7), row(2, csat=5)]
    check = strategy.compare_rows(view, list(reversed(view)))
    assert check.equal and check.rows_compared == 3 and check.detail == ""


def test_a_differing_value_is_named_with_its_conversation_and_column():
    check = strategy.compare_rows([row(1), row(2)], [row(1), row(2, priority_label=None)])
    assert not check.equal
    assert check.detail == "conversation 2: priority_label is 'None' in the view, None from the base tables"


def test_a_missing_duplicate_row_is_a_difference():
    check = strategy.compare_rows([row(2, csat=7), row(2, csat=5)], [row(2, csat=7)])
    assert not check.equal and check.detail.startswith("2 view rows against 1 base-table rows")


def test_many_differences_are_counted_not_all_listed():
    view = [row(i) for i in range(10)]
    check = strategy.compare_rows(view, [row(i, contact_name="x") for i in range(10)])
    assert not check.equal and check.detail.endswith("(and 7 more)") and check.detail.count("conversation") == 3
