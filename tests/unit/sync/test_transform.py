"""The chunk transform: types, NULLs, truncation, duplicates, bad rows, calendar fields, lead columns."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from chatwoot_etl import contract
from chatwoot_etl.sync.transform import (
    Rejection,
    TransformResult,
    calendar_fields,
    collapse_duplicates,
    transform_chunk,
    truncate,
)

CONTACT_LINES = [
    "Olá, boa tarde! Quanto custa o apartamento de 2 quartos?",
    "Gostaria de agendar uma visita amanhã às 15h",
    "Não quero mais, obrigado",
    "Vocês aceitam financiamento?",
    "Pode ser sábado às 10:30?",
    "ok",
    "Qual o endereço?",
    "Tenho interesse no lote da esquina",
    "NÃO TENHO INTERESSE",
    "Já fiz o pix, segue o comprovante",
]
AGENT_LINES = [
    "Bom dia! Posso te ajudar?",
    "Temos horário amanhã às 14h ou quinta às 16:30, qual prefere?",
    "O valor é R$ 350.000,00",
]
BOT_LINES = [
    "Olá! Atendimento das 08:00 às 18:00. Digite 1 para vendas, 2 para suporte.",
    "Aguarde, um atendente vai falar com você.",
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _messages(rng: random.Random, start: datetime, count: int, first_id: int) -> str:
    items = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.45:
            sender, kind, text, private = "Contact", 0, rng.choice(CONTACT_LINES), False
        elif roll < 0.7:
            sender, kind, text, private = "User", 1, rng.choice(AGENT_LINES), False
        elif roll < 0.85:
            sender, kind, text, private = "AgentBot", 1, rng.choice(BOT_LINES), False
        elif roll < 0.93:
            sender, kind, text, private = None, 2, "Conversa atribuída a Maria", False
        else:
            sender, kind, text, private = "User", 1, "Nota: cliente quer visitar amanhã 10h", True
        items.append(
            {
                "message_id": first_id + i,
                "text": text,
                "sender": sender,
                "sender_id": None if sender is None else rng.randint(1, 500),
                "sent_at": (start + timedelta(minutes=3 * i)).isoformat(),
                "message_type": kind,
                "private": private,
            }
        )
    return json.dumps(items, ensure_ascii=False)


def build_chunk(rows: int = 100, *, messages: int = 10, seed: int = 7, duplicates: int = 0) -> pd.DataFrame:
    """A realistic chunk as the extract hands it over: every value text or missing."""
    rng = random.Random(seed)
    base = datetime(2025, 1, 1)
    records = []
    for n in range(rows):
        cid = 1000 + n
        created = base + timedelta(minutes=rng.randint(0, 500_000), seconds=rng.randint(0, 59))
        updated = created + timedelta(minutes=rng.randint(1, 5000))
        rec: dict[str, str | None] = {}
        for column, pg_type in contract.SOURCE_COLUMNS.items():
            if pg_type in ("integer", "bigint"):
                rec[column] = str(rng.randint(0, 100_000)) if rng.random() > 0.2 else None
            elif pg_type == "boolean":
                rec[column] = rng.choice(["t", "f"])
            elif pg_type == "numeric":
                rec[column] = f"{rng.uniform(0, 1000):.2f}" if rng.random() > 0.2 else None
            elif pg_type == "timestamp without time zone":
                rec[column] = _ts(created + timedelta(seconds=rng.randint(0, 90_000))) if rng.random() > 0.3 else None
            elif pg_type == "text":
                rec[column] = rng.choice(["Aberta", "João da Silva", "São Paulo — Centro", "", None])
        rec.update(
            conversation_id=str(cid),
            display_id=str(n + 1),
            conversation_uuid=str(uuid.UUID(int=rng.getrandbits(128))) if rng.random() > 0.1 else None,
            account_id="1",
            inbox_id=str(rng.choice([3, 4, 7])),
            status=str(rng.choice([0, 1, 2, 3, 4])),
            conversation_created_at=_ts(created),
            conversation_updated_at=_ts(updated),
            message_compiled=_messages(rng, created, messages, cid * 100),
            csat_response_id=None,
            csat_created_at=None,
        )
        records.append(rec)
    for d in range(duplicates):
        original = dict(records[d])
        original["csat_response_id"] = "1"
        original["csat_created_at"] = "2025-02-01 10:00:00"
        records[d]["csat_response_id"] = "2"
        records[d]["csat_created_at"] = "2025-02-02 10:00:00"
        records.append(original)
    return pd.DataFrame(records, columns=list(contract.SOURCE_COLUMNS), dtype="str")


def one_row(**values: str | None) -> pd.DataFrame:
    """A single good row with some values replaced."""
    frame = build_chunk(1, messages=3)
    for column, value in values.items():
        frame[column] = pd.Series([value], dtype="str")
    return frame


AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # relative-to-now fields computed for a fixed instant


def run(frame: pd.DataFrame, **kwargs) -> TransformResult:
    kwargs.setdefault("as_of", AS_OF)
    return transform_chunk(frame, tenant_id=kwargs.pop("tenant_id", 5), **kwargs)


# --- shape -------------------------------------------------------------------------------


def test_output_columns_equal_target_columns_in_order():
    result = run(build_chunk(20))
    assert list(result.rows.columns) == list(contract.TARGET_COLUMNS)
    assert len(result.rows) == 20
    assert result.rejected == []
    assert (result.rows["tenant_id"] == 5).all()


def test_empty_chunk_gives_empty_target_frame():
    result = run(build_chunk(0))
    assert list(result.rows.columns) == list(contract.TARGET_COLUMNS)
    assert result.rows.empty


def test_dtypes():
    rows = run(build_chunk(10)).rows
    assert str(rows["conversation_id"].dtype) == "Int64"
    assert str(rows["contact_id"].dtype) == "Int64"
    assert str(rows["is_open"].dtype) == "boolean"
    assert str(rows["conversation_created_at"].dtype) == "datetime64[us, UTC]"
    assert str(rows["snoozed_until"].dtype) == "datetime64[us, UTC]"


def test_timestamps_are_naive_utc_made_aware():
    rows = run(one_row(conversation_created_at="2026-03-02 02:30:00.123456")).rows
    assert rows.loc[0, "conversation_created_at"] == pd.Timestamp("2026-03-02 02:30:00.123456", tz="UTC")
    assert rows.loc[0, "conversation_date"].isoformat() == "2026-03-01"
    assert rows.loc[0, "conversation_day_of_week"] == 0


def test_booleans_and_integers_parse():
    rows = run(one_row(is_open="t", is_resolved="f", has_csat=None, team_id="2147483647")).rows
    assert rows.loc[0, "is_open"] is True or rows.loc[0, "is_open"] == True  # noqa: E712
    assert rows.loc[0, "is_resolved"] == False  # noqa: E712
    assert rows["has_csat"].isna().all()
    assert rows.loc[0, "team_id"] == 2**31 - 1  # the owner's column is an integer


# --- NULLs and text --------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["None", "nan", "NaN", "null", "NULL", "", "   ", "\t\n", "  Maria ", "Nanda", "João", "Low"],
)
def test_text_is_kept_exactly_as_sent(given):
    """Only SQL NULL is NULL: the deployed view's priority_label is the text 'None', an empty
    contact name is '' and not NULL. The old ETL invented 'None' for NULL; this one invents nothing."""
    frame = one_row(priority_label=given, contact_name=given, first_message_text=given)
    rows = run(frame).rows
    assert rows.loc[0, "priority_label"] == given
    assert rows.loc[0, "contact_name"] == given
    assert rows.loc[0, "first_message_text"] == given


def test_sql_null_stays_null_and_null_spellings_are_not_null_values():
    frame = build_chunk(30)
    frame.loc[0, "conversation_uuid"] = None
    frame.loc[1, "contact_name"] = None
    frame.loc[2, "conversation_uuid"] = "None"   # not a uuid: the row is quarantined, not half-loaded
    result = run(frame)
    rows = result.rows.set_index("conversation_id")
    ids = frame["conversation_id"].astype(int).tolist()
    assert pd.isna(rows.loc[ids[0], "conversation_uuid"]) and pd.isna(rows.loc[ids[1], "contact_name"])
    assert ids[2] not in rows.index
    assert [r.reason for r in result.rejected] == ["conversation_uuid: not a uuid 'None'"]
    for column in rows.columns:
        as_text = rows[column].dropna().map(str)
        assert not as_text.isin({"<NA>", "NaT"}).any(), column


def test_uuid_is_lower_cased():
    rows = run(one_row(conversation_uuid="6F9619FF-8B86-D011-B42D-00C04FC964FF")).rows
    assert rows.loc[0, "conversation_uuid"] == "6f9619ff-8b86-d011-b42d-00c04fc964ff"


def test_truncation_cuts_to_the_limit_and_counts_per_column():
    frame = build_chunk(4)
    frame["contact_phone"] = ["9" * 60, "9" * 50, "9" * 10, None]
    frame["first_message_text"] = ["ç" * 5001, "x", None, "y"]
    result = run(frame)
    limit = contract.TEXT_LIMITS["contact_phone"]
    assert result.rows["contact_phone"].str.len().max() == limit
    assert result.rows.loc[0, "first_message_text"] == "ç" * 5001  # text in the owner's table: kept whole
    assert result.truncated == {"contact_phone": 1}


def test_truncate_helper_leaves_short_values_alone():
    values, count = truncate(pd.Series(["abc", None, "abcdef"], dtype="str"), 4)
    assert count == 1
    assert values.iloc[0] == "abc" and pd.isna(values.iloc[1]) and values.iloc[2] == "abcd"


def test_numeric_and_jsonb_are_byte_identical_to_input():
    frame = build_chunk(10)
    frame.loc[0, "first_response_time_minutes"] = "12.50"
    frame.loc[1, "user_message_ratio"] = "0.3333333333333333333333"
    frame.loc[2, "avg_time_between_messages_seconds"] = "-1E+3"
    rows = run(frame).rows
    for column in ("first_response_time_minutes", "user_message_ratio", "avg_time_between_messages_seconds"):
        assert rows[column].dropna().tolist() == frame[column].dropna().tolist()
    assert rows["message_compiled"].tolist() == frame["message_compiled"].tolist()
    # Re-reading the same chunk yields identical rows (unchanged rows detected downstream).
    pd.testing.assert_frame_equal(rows, run(frame).rows)


# --- duplicates ------------------------------------------------------------------------


def _csat_dupes() -> pd.DataFrame:
    frame = build_chunk(3)
    a, b, c = (frame.iloc[[0]].copy() for _ in range(3))
    a["csat_created_at"], a["csat_response_id"], a["csat_rating"] = "2025-03-01 10:00:00", "10", "1"
    b["csat_created_at"], b["csat_response_id"], b["csat_rating"] = "2025-03-02 09:00:00", "5", "5"
    c["csat_created_at"], c["csat_response_id"], c["csat_rating"] = None, "99", "3"
    return pd.concat([a, b, c, frame.iloc[1:]], ignore_index=True)


def test_duplicate_collapse_latest_csat_wins_regardless_of_order():
    frame = _csat_dupes()
    winners = set()
    for seed in range(6):
        shuffled = frame.sample(frac=1, random_state=seed)
        collapsed = collapse_duplicates(shuffled)
        assert collapsed["conversation_id"].is_unique
        winners.add(collapsed.set_index("conversation_id").loc["1000", "csat_rating"])
    assert winners == {"5"}
    rows = run(frame).rows
    assert len(rows) == 3
    assert rows.set_index("conversation_id").loc[1000, "csat_rating"] == 5


def test_duplicate_tie_broken_by_highest_response_id_then_input_order():
    frame = build_chunk(1)
    a, b, c = (frame.copy() for _ in range(3))
    for part, rid, rating in ((a, "7", "1"), (b, "8", "2"), (c, "8", "3")):
        part["csat_created_at"], part["csat_response_id"], part["csat_rating"] = "2025-03-01 10:00:00", rid, rating
    assert collapse_duplicates(pd.concat([a, b, c]))["csat_rating"].tolist() == ["2"]
    assert collapse_duplicates(pd.concat([c, b, a]))["csat_rating"].tolist() == ["3"]


def test_builder_duplicates_collapse():
    result = run(build_chunk(10, duplicates=3))
    assert len(result.rows) == 10
    assert result.rows.loc[0:2, "csat_response_id"].tolist() == [2, 2, 2]


# --- bad rows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, value, words",
    [
        ("conversation_id", "abc", "not an integer"),
        ("conversation_id", None, "required value missing"),
        ("conversation_updated_at", "", "not a timestamp"),
        ("inbox_id", "2147483648", "out of range for integer"),
        ("contact_id", "99999999999999999999", "out of range for integer"),
        ("contact_id", "2147483648", "out of range for integer"),  # a Chatwoot bigint the owner's integer cannot hold
        ("conversation_created_at", "infinity", "not a timestamp"),
        ("last_activity_at", "2025-13-01 00:00:00", "not a timestamp"),
        ("contact_last_seen_at", "2025-02-29 10:00:00", "not a timestamp"),   # not a leap year
        ("csat_created_at", "2026-01-01 24:00:00", "not a timestamp"),
        ("waiting_since", "-infinity", "not a timestamp"),
        ("conversation_uuid", "not-a-uuid", "not a uuid"),
        ("message_compiled", "[{\"text\": ", "invalid JSON"),
        ("message_compiled", "[NaN]", "invalid JSON"),
        ("first_response_time_minutes", "12,5", "not a number"),
        ("first_response_time_minutes", "Infinity", "not a number"),
        ("is_open", "yes", "not a boolean"),
    ],
)
def test_bad_row_is_quarantined_naming_column_and_value(column, value, words):
    frame = build_chunk(5)
    frame.loc[2, column] = value
    result = run(frame)
    assert len(result.rows) == 4
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert isinstance(rejection, Rejection)
    assert column in rejection.reason and words in rejection.reason
    if value:
        assert repr(value)[:60] in rejection.reason
    assert rejection.raw_row[column] == (value if value else rejection.raw_row[column])
    assert rejection.inbox_id == frame.loc[2, "inbox_id"]
    json.dumps(rejection.raw_row)  # serialisable for the quarantine table / logs
    assert "1002" not in result.rows["conversation_id"].astype(str).tolist() or column == "conversation_id"


@pytest.mark.parametrize("tz, refused", [("Asia/Tokyo", True), ("America/Sao_Paulo", False)])
def test_a_creation_instant_beyond_the_calendars_years_in_the_zone_is_quarantined(tz, refused):
    frame = build_chunk(3)
    frame.loc[1, "conversation_created_at"] = "9999-12-31 22:00:00"   # 10000-01-01 in Tokyo
    result = run(frame, timezone=tz)
    assert len(result.rows) == (2 if refused else 3)
    if refused:
        (rejection,) = result.rejected
        assert "conversation_created_at" in rejection.reason and tz in rejection.reason
        assert rejection.raw_row["conversation_created_at"] == "9999-12-31 22:00:00"


def test_rejection_raw_row_uses_none_for_missing():
    frame = build_chunk(2)
    frame.loc[0, "conversation_id"] = "x1"
    frame.loc[0, "contact_email"] = None
    (rejection,) = run(frame).rejected
    assert rejection.conversation_id == "x1"
    assert rejection.raw_row["contact_email"] is None
    assert set(rejection.raw_row) == set(contract.SOURCE_COLUMNS)


def test_several_problems_in_one_row_are_all_reported():
    frame = build_chunk(2)
    frame.loc[1, "status"] = "open"
    frame.loc[1, "snoozed_until"] = "infinity"
    (rejection,) = run(frame).rejected
    assert "status" in rejection.reason and "snoozed_until" in rejection.reason


def test_invalid_timezone_raises_naming_it():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        run(build_chunk(1), timezone="Mars/Olympus")


def test_timezone_changes_calendar_only():
    frame = one_row(conversation_created_at="2026-03-02 02:30:00")
    sp = run(frame).rows
    utc = run(frame, timezone="UTC").rows
    assert sp.loc[0, "conversation_day_of_week"] == 0 and utc.loc[0, "conversation_day_of_week"] == 1
    assert sp.loc[0, "conversation_timezone"] == "America/Sao_Paulo"
    assert sp.loc[0, "conversation_created_at"] == utc.loc[0, "conversation_created_at"]


def test_lead_signals_come_from_contact_messages():
    compiled = json.dumps(
        [
            {"message_id": 1, "text": "Atendimento das 08:00 às 18:00", "sender": "AgentBot", "sender_id": 1,
             "sent_at": "2025-01-01T10:00:00", "message_type": 1, "private": False},
            {"message_id": 2, "text": "Quero agendar uma visita amanhã às 15h", "sender": "Contact", "sender_id": 9,
             "sent_at": "2025-01-01T10:01:00", "message_type": 0, "private": False},
        ]
    )  # fmt: skip
    rows = run(one_row(message_compiled=compiled)).rows
    assert rows.loc[0, "is_lead"] and rows.loc[0, "visit_scheduled"]


# --- calendar fields in the tenant's zone (the previous ETL computed them in UTC and numbered
# weekdays Monday = 0 or Sunday = 0 depending on the code path)


def cal(*instants: str | None, tz: str = "America/Sao_Paulo") -> pd.DataFrame:
    series = pd.Series(pd.to_datetime(list(instants)), dtype="datetime64[us]").dt.tz_localize("UTC")
    return calendar_fields(series, tz)


def test_columns_are_exactly_the_calendar_columns():
    assert list(cal("2026-03-02 02:30:00").columns) == list(contract.CALENDAR_COLUMNS)


def test_midnight_utc_is_still_sunday_evening_in_sao_paulo():
    row = cal("2026-03-02 02:30:00").iloc[0]
    assert row["conversation_date"] == date(2026, 3, 1)
    assert row["conversation_day_of_week"] == 0
    assert row["conversation_day_name"] == "Domingo"
    assert (row["conversation_hour"], row["conversation_minute"]) == (23, 30)
    assert row["conversation_period"] == "Noite"
    assert row["is_weekend"] and not row["is_weekday"]
    assert row["is_night_time"] and not row["is_business_hours"]
    assert row["conversation_date_formatted"] == "01/03/2026"
    assert row["conversation_datetime_formatted"] == "01/03/2026 23:30"
    assert row["conversation_timezone"] == "America/Sao_Paulo"


def test_brazil_dst_before_2019_is_applied():
    # 2018-12-01: Brazil on summer time (UTC-2); 2019-06-01: DST abolished (UTC-3).
    frame = cal("2018-12-01 02:30:00", "2019-06-01 02:30:00")
    assert frame.loc[0, "conversation_date"] == date(2018, 12, 1)
    assert (frame.loc[0, "conversation_hour"], frame.loc[0, "conversation_minute"]) == (0, 30)
    assert frame.loc[1, "conversation_date"] == date(2019, 5, 31)
    assert frame.loc[1, "conversation_hour"] == 23


@pytest.mark.parametrize(
    "utc, dow, name",
    [
        ("2026-03-01 15:00:00", 0, "Domingo"),
        ("2026-03-02 15:00:00", 1, "Segunda-feira"),
        ("2026-03-03 15:00:00", 2, "Terça-feira"),
        ("2026-03-04 15:00:00", 3, "Quarta-feira"),
        ("2026-03-05 15:00:00", 4, "Quinta-feira"),
        ("2026-03-06 15:00:00", 5, "Sexta-feira"),
        ("2026-03-07 15:00:00", 6, "Sábado"),
    ],
)
def test_sunday_is_zero_everywhere(utc, dow, name):
    row = cal(utc).iloc[0]
    assert row["conversation_day_of_week"] == dow
    assert row["conversation_day_name"] == name
    assert row["is_weekday"] == (1 <= dow <= 5)
    assert row["is_weekend"] == (dow in (0, 6))


@pytest.mark.parametrize(
    "utc, iso_year_week, week, year",
    [
        ("2020-12-31 15:00:00", "2020-W53", 53, 2020),
        ("2021-01-03 15:00:00", "2020-W53", 53, 2021),  # Sunday belongs to the last ISO week
        ("2021-01-04 15:00:00", "2021-W01", 1, 2021),
        ("2024-12-30 15:00:00", "2025-W01", 1, 2024),  # Monday of ISO week 1 of 2025
        ("2025-01-01 02:00:00", "2025-W01", 1, 2024),  # still 31 Dec 2024 locally
    ],
)
def test_iso_week_year_edges(utc, iso_year_week, week, year):
    row = cal(utc).iloc[0]
    assert row["conversation_year_week"] == iso_year_week
    assert row["conversation_week_of_year"] == week
    assert row["conversation_year"] == year


@pytest.mark.parametrize("tz", ["America/Sao_Paulo", "UTC", "Asia/Kolkata", "Pacific/Chatham"])
def test_formatted_fields_are_strftimes_own_across_years_zones_and_clock_changes(tz):
    rng = random.Random(3)
    instants = [datetime(1000, 1, 1, 3, tzinfo=UTC), datetime(9999, 12, 31, 9, tzinfo=UTC)] + [
        datetime(1900, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 200 * 365 * 86400)) for _ in range(3000)]
    series = pd.Series(pd.to_datetime(instants + [None], utc=True)).astype("datetime64[us, UTC]")
    out = calendar_fields(series, tz)
    local = series.dt.tz_convert(tz)
    iso = local.dt.isocalendar()
    expected = {
        "conversation_date_formatted": local.dt.strftime("%d/%m/%Y"),
        "conversation_datetime_formatted": local.dt.strftime("%d/%m/%Y %H:%M"),
        "conversation_year_month": local.dt.strftime("%Y-%m"),
        "conversation_year_week": iso["year"].astype("str").str.zfill(4) + "-W" + iso["week"].astype("str").str.zfill(2),
    }
    for column, values in expected.items():
        assert out[column].iloc[:-1].tolist() == values.iloc[:-1].tolist(), column
        assert pd.isna(out[column].iloc[-1]), column   # a NULL instant: NULL fields


def test_formatted_fields_of_a_year_of_three_digits_in_the_zone_are_strftimes():
    series = pd.Series(pd.to_datetime(["1000-01-01 01:00:00"], utc=True)).astype("datetime64[us, UTC]")
    row = calendar_fields(series, "America/Sao_Paulo").iloc[0]   # the last evening of the year 999 there
    assert (row["conversation_year_month"], row["conversation_date_formatted"]) == ("0999-12", "31/12/0999")


@pytest.mark.parametrize(
    "local_hour, period, business, night",
    [
        (0, "Madrugada", False, True),
        (5, "Madrugada", False, True),
        (6, "Manhã", False, False),
        (7, "Manhã", False, False),
        (8, "Manhã", True, False),
        (11, "Manhã", True, False),
        (12, "Tarde", True, False),
        (17, "Tarde", True, False),
        (18, "Noite", False, False),
        (21, "Noite", False, False),
        (22, "Noite", False, True),
        (23, "Noite", False, True),
    ],
)
def test_periods_and_hour_flags_on_a_wednesday(local_hour, period, business, night):
    utc = pd.Timestamp(2026, 3, 4, local_hour, 15, tz="America/Sao_Paulo").tz_convert("UTC")
    row = calendar_fields(pd.Series([utc]), "America/Sao_Paulo").iloc[0]
    assert row["conversation_hour"] == local_hour
    assert row["conversation_period"] == period
    assert bool(row["is_business_hours"]) is business
    assert bool(row["is_night_time"]) is night


def test_business_hours_never_on_saturday():
    row = cal("2026-03-07 14:00:00").iloc[0]  # 11:00 Saturday locally
    assert not row["is_business_hours"]


def test_month_names_quarters_and_year_month():
    frame = cal(*[f"2026-{m:02d}-15 15:00:00" for m in range(1, 13)])
    assert frame["conversation_month_name"].tolist() == [
        "Janeiro", "Fevereiro", "Março", "Abril", "Maio", "Junho",
        "Julho", "Agosto", "Setembro", "Outubro", "Novembro", "Dezembro",
    ]  # fmt: skip
    assert frame["conversation_quarter"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert frame.loc[2, "conversation_year_month"] == "2026-03"


def test_null_instant_gives_all_null_fields():
    frame = cal(None, "2026-03-02 02:30:00")
    assert frame.iloc[0].isna().all()
    assert frame.iloc[1].notna().all()
    assert frame.loc[0, "conversation_date"] is None


def test_calendar_dtypes():
    frame = cal("2026-03-02 02:30:00", None)
    for column in ("conversation_year", "conversation_day_of_week", "conversation_week_of_year", "conversation_hour"):
        assert str(frame[column].dtype) == "Int64"
    for column in ("is_weekday", "is_weekend", "is_business_hours", "is_night_time"):
        assert str(frame[column].dtype) == "boolean"


def test_other_zones_and_naive_input():
    naive = pd.Series(pd.to_datetime(["2026-03-02 02:30:00"]))
    assert calendar_fields(naive, "UTC").loc[0, "conversation_day_of_week"] == 1
    assert calendar_fields(naive, "Asia/Tokyo").loc[0, "conversation_hour"] == 11


def test_invalid_zone_raises_naming_it():
    with pytest.raises(ValueError, match="America/Sao_Pablo"):
        cal("2026-03-02 02:30:00", tz="America/Sao_Pablo")


def test_empty_series():
    frame = calendar_fields(pd.Series([], dtype="datetime64[us, UTC]"), "America/Sao_Paulo")
    assert frame.empty and list(frame.columns) == list(contract.CALENDAR_COLUMNS)


# --- relative to the moment of writing ----------------------------------------------------------


def test_relative_fields_are_as_of_the_write_in_the_tenants_zone():
    # 02:30 UTC on 2026-03-02 is still 1 March in São Paulo: "today" there is the 1st.
    as_of = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    frame = build_chunk(4)
    frame["conversation_created_at"] = ["2026-03-01 12:00:00", "2026-02-28 12:00:00", "2025-12-31 12:00:00", None]
    frame["waiting_since"] = ["2026-03-02 02:00:00", None, "0999-01-01 00:00:00", "2026-03-02 02:29:59.5"]
    rows = run(frame, timezone="America/Sao_Paulo", as_of=as_of).rows
    assert rows["days_since_creation"].tolist()[:3] == [0, 1, 60]
    assert rows["is_today"].tolist()[:3] == [True, False, False]
    assert rows["is_yesterday"].tolist()[:3] == [False, True, False]
    assert rows["is_this_month"].tolist()[:3] == [True, False, False]
    assert rows["is_this_year"].tolist()[:3] == [True, True, False]
    assert rows["is_this_week"].tolist()[:3] == [True, True, False]  # ISO week: Monday 23 Feb to Sunday 1 March
    # No creation instant: no calendar, nothing relative to it.
    assert rows.loc[3, ["days_since_creation", "is_today", "is_this_year"]].isna().all()
    # Seconds waited, floored; a waiting_since too far back for an integer is NULL, not a failure.
    assert rows["waiting_time_seconds"].tolist()[0] == 1800
    assert pd.isna(rows["waiting_time_seconds"].iloc[1]) and pd.isna(rows["waiting_time_seconds"].iloc[2])
    assert rows["waiting_time_seconds"].tolist()[3] == 0
    assert not result_rejections(frame, as_of)


def result_rejections(frame: pd.DataFrame, as_of: datetime) -> list[Rejection]:
    return run(frame, timezone="America/Sao_Paulo", as_of=as_of).rejected


# A whole column in the source's own spelling is converted at once; one odd value sends it down
# the per-value path. Both paths must give the same values for the rows they share.
FAST_AND_SLOW = [
    ("display_id", ["1", "42", None, "2147483647", "007"], " 5"),
    ("contact_id", ["2147483647", None, "0"], "+3"),
    ("is_open", ["t", "f", None, "t"], "true"),
    ("conversation_created_at", ["2026-03-01 12:00:00", "2026-03-01 12:00:00.5", None, "2026-03-01T23:59:59.999999"],
     " 2026-03-02 00:00:00 "),
    ("first_response_time_minutes", ["12.5", "-3", None, "1e3", ".5"], " 7 "),
    ("conversation_uuid", [str(uuid.UUID(int=7)), None], str(uuid.UUID(int=8)).upper()),
]


def column_of(column: str, values: list[str | None]) -> pd.DataFrame:
    return pd.concat([one_row(conversation_id=str(i + 1), **{column: v}) for i, v in enumerate(values)],
                     ignore_index=True)


@pytest.mark.parametrize(("column", "plain", "odd"), FAST_AND_SLOW)
def test_a_column_converted_at_once_equals_the_value_by_value_conversion(column, plain, odd):
    fast, slow = run(column_of(column, plain)), run(column_of(column, [*plain, odd]))
    assert not fast.rejected and not slow.rejected
    pd.testing.assert_series_equal(fast.rows[column], slow.rows[column].iloc[:len(plain)], check_names=False)


@pytest.mark.parametrize(("column", "value"), [
    ("conversation_id", "12\n13"), ("first_response_time_minutes", "1\n2"), ("contact_id", ""),
    ("conversation_created_at", "2026-03-01 12:00:00\n2026-03-01 12:00:00"),
    ("conversation_uuid", f"{uuid.UUID(int=7)}\n{uuid.UUID(int=8)}"), ("display_id", "99999999999999999999"),
])
def test_values_that_look_plain_once_joined_are_still_refused(column, value):
    frame = build_chunk(5)
    frame.loc[2, column] = value
    result = run(frame)
    assert len(result.rows) == 4
    assert column in result.rejected[0].reason
