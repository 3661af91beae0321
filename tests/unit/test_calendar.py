"""Calendar fields in the tenant's zone: the previous ETL computed them in UTC and numbered
weekdays Monday = 0 or Sunday = 0 depending on the code path."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from chatwoot_etl import contract
from chatwoot_etl.sync.transform import calendar_fields


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


def test_dtypes():
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
