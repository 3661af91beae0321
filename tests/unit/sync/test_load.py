"""The COPY encoding of a transformed chunk: what PostgreSQL's CSV reader gets for each column kind."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from chatwoot_etl.sync import load


def frame(**columns) -> pd.DataFrame:
    """A target-shaped frame: every target column NULL except the ones given."""
    rows = len(next(iter(columns.values())))
    data = {name: pd.Series([None] * rows, dtype=object) for name in load.COLUMNS}
    data.update(columns)
    return pd.DataFrame(data)[load.COLUMNS]


def fields(rows: pd.DataFrame, column: str) -> list[str]:
    """The column's fields as PostgreSQL will read them (CSV, NULL = unquoted empty field)."""
    text = b"".join(load.copy_csv_blocks(rows, block_rows=2)).decode("utf-8")
    index = load.COLUMNS.index(column)
    return [record[index] for record in csv.reader(io.StringIO(text, newline=""))]


def raw_fields(rows: pd.DataFrame, column: str) -> list[str]:
    text = b"".join(load.copy_csv_blocks(rows, block_rows=2)).decode("utf-8")
    index = load.COLUMNS.index(column)
    return [line.split(",")[index] for line in text.splitlines()]


def test_nullable_booleans_and_integers_keep_null_apart_from_false_and_zero():
    rows = frame(is_lead=pd.array([True, False, None], dtype="boolean"),
                 contact_id=pd.array([0, None, 9_007_199_254_740_993], dtype="Int64"))
    assert raw_fields(rows, "is_lead") == ["t", "f", ""]
    assert raw_fields(rows, "contact_id") == ["0", "", "9007199254740993"]  # no float rounding


def test_integers_small_and_large_negative_and_null_are_their_decimal_text():
    values = [0, 1, 9, 10, 99_999, 100_000, -1, None, 2**63 - 1, -(2**63), 12_345]
    column = pd.array(values, dtype="Int64")
    # blocks of two: blocks all small (looked up) and blocks with a large or negative value (formatted)
    assert raw_fields(frame(contact_id=column), "contact_id") == ["" if v is None else str(v) for v in values]


def test_timestamps_are_naive_utc_with_microseconds_and_nat_is_null():
    moments = pd.Series(pd.to_datetime(["2026-03-01 12:00:00.000001", None, "2026-11-01 02:59:59"], format="ISO8601"),
                        dtype="datetime64[us]").dt.tz_localize("UTC")
    assert raw_fields(frame(conversation_created_at=moments), "conversation_created_at") == [
        "2026-03-01 12:00:00.000001", "", "2026-11-01 02:59:59.000000"]  # the owner's naive UTC columns


def test_aware_timestamps_in_another_zone_are_written_as_their_utc_wall_time():
    moments = pd.Series(pd.to_datetime(["2026-03-01 09:00:00"]), dtype="datetime64[us]").dt.tz_localize("America/Sao_Paulo")
    assert fields(frame(conversation_created_at=moments), "conversation_created_at") == ["2026-03-01 12:00:00.000000"]


@pytest.mark.parametrize("dtype", [object, "str"])   # what tests build, what the transform gives
def test_text_with_separators_quotes_and_line_breaks_survives_and_empty_differs_from_null(dtype):
    texts = pd.Series(['Olá, tudo bem?', 'diz "quero"', "linha 1\nlinha 2", "fim\r", "", None, "None", "😀 ok"],
                      dtype=dtype)
    rows = frame(contact_name=texts)
    assert fields(rows, "contact_name") == ['Olá, tudo bem?', 'diz "quero"', "linha 1\nlinha 2", "fim\r", "",
                                            "", "None", "😀 ok"]
    long = '[{"text": "Olá, quero \\"agendar\\" 😀", "sender": "Contact"}]' * 40   # quoted one by one
    assert fields(frame(contact_name=pd.Series([long, None, long[:9]], dtype=dtype)), "contact_name") == [
        long, "", long[:9]]
    empty_and_null = frame(contact_name=pd.Series(["", None], dtype=dtype))
    assert raw_fields(empty_and_null, "contact_name") == ['""', ""]   # empty text quoted, NULL an empty field
    text = b"".join(load.copy_csv_blocks(rows)).decode("utf-8")
    assert '"fim\r"' in text          # a carriage return is quoted: PostgreSQL rejects it unquoted


def test_blocks_cover_every_row_once_in_order():
    rows = frame(conversation_id=pd.array(range(1, 2502), dtype="Int64"))
    blocks = list(load.copy_csv_blocks(rows, block_rows=1000))
    assert len(blocks) == 3
    assert raw_fields(rows, "conversation_id") == [str(i) for i in range(1, 2502)]
