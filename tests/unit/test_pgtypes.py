"""Which existing column types can hold the ETL's values: the adoption rule of `migrate`."""

from __future__ import annotations

import pytest

from chatwoot_etl import pgtypes


@pytest.mark.parametrize(
    "column, values, held",
    [
        ("integer", "integer", True),
        ("bigint", "integer", True),             # wider integers hold narrower ones
        ("integer", "bigint", False),
        ("smallint", "integer", False),
        ("text", "character varying(50)", True),
        ("character varying(255)", "character varying(50)", True),
        ("character varying", "character varying(50)", True),
        ("character varying(20)", "character varying(50)", False),
        ("character varying(1000)", "text", False),  # unbounded text may not fit
        ("text", "text", True),
        ("numeric", "numeric(5,2)", True),
        ("numeric(10,2)", "numeric(5,2)", True),
        ("numeric(5,1)", "numeric(5,2)", False),  # loses a decimal
        ("numeric(4,2)", "numeric(5,2)", False),  # loses an integer digit
        ("numeric(5,2)", "numeric", False),
        ("timestamp without time zone", "timestamp(6) without time zone", True),
        ("timestamp(6) without time zone", "timestamp without time zone", True),
        ("timestamp(0) without time zone", "timestamp without time zone", False),
        ("timestamp with time zone", "timestamp without time zone", False),  # another meaning
        ("timestamp without time zone", "timestamp with time zone", False),
        ("jsonb", "jsonb", True),
        ("json", "jsonb", False),
        ("integer[]", "integer[]", True),
        ("text", "integer", False),
        ("boolean", "boolean", True),
        ("jsonb", "json", True),                  # json text is valid jsonb
        ("numeric", "bigint", True),              # integers are exact numerics
        ("numeric(12,2)", "integer", True),
        ("numeric(10,2)", "integer", False),      # 8 integer digits cannot hold 2^31
        ("text", "character(2)", True),
        ("text", "name", True),
        ("character varying(64)", "name", False),
        ("integer", "numeric", False),
        ("uuid", "text", False),
    ],
)
def test_holds(column, values, held):
    assert pgtypes.holds(column, values) is held


def test_parse_and_spell_back():
    kind = pgtypes.parse("timestamp(3) without time zone")
    assert kind == pgtypes.PgType("timestamp without time zone", (3,))
    assert kind.spelled == "timestamp(3) without time zone"
    assert pgtypes.parse("numeric(5,2)").spelled == "numeric(5,2)"
    assert pgtypes.parse("Character Varying(50)") == pgtypes.PgType("character varying", (50,))


def test_advice_converts_aware_instants_to_naive_utc():
    advice = pgtypes.widening_advice("conversations_analytics", "waiting_since", "timestamp without time zone",
                                     "timestamp with time zone")
    assert "AT TIME ZONE 'UTC'" in advice and "waiting_since" in advice
