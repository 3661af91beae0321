"""Pure, vectorised transform of one extracted chunk into conversations_analytics rows.

Input: the view's text output (COPY ... FORMAT csv, read with dtype=str; NaN only for SQL NULL),
columns exactly contract.SOURCE_COLUMNS. Text is kept exactly as sent: 'None', 'nan', '' and
blanks are values, never NULL. Output: contract.TARGET_COLUMNS, typed, with calendar fields in the
tenant's zone and the lead signals. Bad rows are quarantined with a reason instead of failing
the chunk or being loaded half-parsed. No database, no I/O, no Airflow here.

Output dtypes: integers Int64, booleans `boolean`, timestamps datetime64[us, UTC], text / uuid /
numeric / jsonb as `str` with NaN for NULL (numeric and jsonb keep the source's exact text so a
re-read row is byte-identical), conversation_date as datetime.date objects (None for NULL).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from chatwoot_etl import contract
from chatwoot_etl.contract import DEFAULT_TIMEZONE
from chatwoot_etl.sync import leads, timetext

_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_INT_RE = r"[+-]?\d+"
_NUMERIC_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# PostgreSQL's own text output; 'infinity', BC dates and offsets are not valid here.
_TIMESTAMP_RE = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
_BOOLEANS = {"t": True, "true": True, "f": False, "false": False}
_REQUIRED = ("conversation_id", "conversation_updated_at")
_STR = pd.StringDtype(na_value=np.nan)   # pandas' "str": what the extract reads every column as

DAY_NAMES_PT = ("Domingo", "Segunda-feira", "Terça-feira", "Quarta-feira", "Quinta-feira", "Sexta-feira", "Sábado")
MONTH_NAMES_PT = (
    "Janeiro", "Fevereiro", "Março", "Abril", "Maio", "Junho",
    "Julho", "Agosto", "Setembro", "Outubro", "Novembro", "Dezembro",
)  # fmt: skip


@dataclass(frozen=True)
class Rejection:
    """One quarantined source row: why, and its raw values (JSON-serialisable)."""

    conversation_id: str | None
    inbox_id: str | None
    reason: str
    raw_row: dict[str, str | None]


@dataclass
class TransformResult:
    rows: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)


def check_timezone(tz: str) -> ZoneInfo:
    """The IANA zone, or ValueError naming what was given."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"invalid time zone {tz!r}: {exc}") from None


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _raw_value(value: object) -> str | None:
    return None if _is_missing(value) else str(value)


def _normalised(values: pd.Series) -> list[str | None]:
    """The values as a plain list, None for SQL NULL: what the per-type converters read."""
    if isinstance(values.dtype, pd.StringDtype):  # what the extract reads: str, or NaN for NULL only
        return values.to_numpy(dtype=object, na_value=None).tolist()
    return [v if type(v) is str else None if v is None or v is pd.NA or v != v else str(v) for v in values.tolist()]


def truncate(values: pd.Series, limit: int) -> tuple[pd.Series, int]:
    """Cut strings to `limit` characters (varchar(n) counts characters); returns the count cut."""
    too_long = values.str.len() > limit
    count = int(too_long.sum())
    if count:
        values = values.where(~too_long, values.str.slice(0, limit))
    return values, count


def collapse_duplicates(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per conversation_id: latest csat_created_at (NULLs last), then highest
    csat_response_id, then input order. The view repeats a conversation per CSAT answer."""
    frame = raw.reset_index(drop=True)
    if frame.empty:
        return frame
    key = pd.to_numeric(_texts(frame["conversation_id"]).str.strip(), errors="coerce")
    # Rows without a usable id are not merged with each other: they are rejected later.
    repeated = (key.duplicated(keep=False) & key.notna()).to_numpy()
    if not repeated.any():
        return frame
    rows = frame.loc[repeated]  # only conversations with several rows are ordered
    csat_at = pd.to_datetime(
        _texts(rows["csat_created_at"]).where(lambda s: _matches(s.str.strip(), _TIMESTAMP_RE)),
        format="ISO8601",
        errors="coerce",
    )
    csat_id = pd.to_numeric(
        _texts(rows["csat_response_id"]).where(lambda s: _matches(s.str.strip(), _INT_RE)),
        errors="coerce",
    )
    order = pd.DataFrame({"key": key[repeated], "at": csat_at, "id": csat_id, "pos": np.flatnonzero(repeated)})
    order = order.sort_values(
        ["key", "at", "id", "pos"], ascending=[True, False, False, True], na_position="last", kind="mergesort"
    )
    chosen = order.loc[~order.duplicated("key", keep="first"), "pos"].to_numpy()
    return frame.loc[np.sort(np.concatenate([np.flatnonzero(~repeated), chosen]))].reset_index(drop=True)


def _texts(values: pd.Series) -> pd.Series:
    return pd.Series(_normalised(values), index=values.index, dtype="str")


def _matches(values: pd.Series, pattern: str) -> pd.Series:
    """Full-match as plain bool; missing values are False (str and object dtypes alike)."""
    return values.str.fullmatch(pattern).astype("boolean").fillna(False).astype(bool)


def _report(problems: dict[int, list[str]], idx: int, column: str, what: str, value: str) -> None:
    problems.setdefault(idx, []).append(f"{column}: {what} {_shown(value)}")


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


# The converters below read the normalised values as a list (str, or None for NULL) and loop once
# in Python with a fast path for the source's own spelling (plain ASCII digits, 't' / 'f'); any
# other value takes the general path (strip, then the same full-match patterns as always).
_INT_FULLMATCH = re.compile(_INT_RE).fullmatch
_NUMERIC_FULLMATCH = re.compile(_NUMERIC_RE).fullmatch
_UUID_FULLMATCH = re.compile(_UUID_RE).fullmatch
_TIMESTAMP_FULLMATCH = re.compile(_TIMESTAMP_RE).fullmatch


# Each converter first tries the whole column at once: when every value is in the source's own
# spelling (checked on the values joined into one text, by one C-level scan or regex), the column is
# converted without a Python step per value; anything else takes the per-value path, which reports.
_MAX_PLAIN_DIGITS = 18   # always within int64


def _present(values: list[str | None]) -> list[str]:
    return [v for v in values if v is not None]


def _joined(present: list[str]) -> str | None:
    """The values as lines of one text, None when a value holds a line break itself."""
    joined = "\n".join(present)
    return joined if joined.count("\n") == len(present) - 1 else None


def _plain_ints(values: list[str | None], low: int, high: int) -> pd.Series | None:
    present = _present(values)
    missing = np.array([v is None for v in values], dtype=bool)
    data = np.zeros(len(values), dtype=np.int64)
    if present:
        lengths = list(map(len, present))
        joined = "".join(present)
        if not (joined.isascii() and joined.isdigit()) or min(lengths) == 0 or max(lengths) > _MAX_PLAIN_DIGITS:
            return None
        numbers = np.fromiter(map(int, present), dtype=np.int64, count=len(present))
        if numbers.min() < low or numbers.max() > high:
            return None
        data[~missing] = numbers
    return pd.Series(pd.arrays.IntegerArray(data, missing))


def _all_match(values: list[str | None], lines: re.Pattern[str], *, lower: bool = False) -> bool:
    """Every non-NULL value full-matches the pattern `lines` repeats line by line (and, with
    lower, has no capital letter): one regex pass over the joined values."""
    present = _present(values)
    if not present:
        return True
    joined = _joined(present)
    return (joined is not None and lines.fullmatch(joined) is not None
            and (not lower or joined == joined.lower()))


def _lines_of(pattern: str) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern})(?:\n(?:{pattern}))*")


_TIMESTAMP_LINES = _lines_of(_TIMESTAMP_RE)
_NUMERIC_LINES = _lines_of(_NUMERIC_RE)
_UUID_LINES = _lines_of(_UUID_RE)


def _to_int(values: list[str | None], column: str, pg_type: str, problems: dict[int, list[str]]) -> pd.Series:
    low, high = _INT_RANGES[pg_type]
    plain = _plain_ints(values, low, high)
    if plain is not None:
        return plain
    data = [0] * len(values)
    valid = [False] * len(values)
    fullmatch = _INT_FULLMATCH
    for idx, value in enumerate(values):
        if value is None:
            continue
        if value.isdigit() and value.isascii():
            text = value
        else:
            text = value.strip()
            if fullmatch(text) is None:
                _report(problems, idx, column, "not an integer", value)
                continue
        # Python ints: exact for any length, so int8 bounds are checked without float rounding.
        number = int(text)
        if low <= number <= high:
            data[idx] = number
            valid[idx] = True
        else:
            _report(problems, idx, column, f"out of range for {pg_type}", value)
    keep = np.array(valid, dtype=bool)
    return pd.Series(pd.arrays.IntegerArray(np.array(data, dtype=np.int64), ~keep))


def _to_bool(values: list[str | None], column: str, problems: dict[int, list[str]]) -> pd.Series:
    cells = np.array(values, dtype=object)
    true, false, missing = cells == "t", cells == "f", pd.isna(cells)
    if (true | false | missing).all():
        return pd.Series(pd.arrays.BooleanArray(true, missing))
    data = [False] * len(values)
    missing = [True] * len(values)
    booleans = _BOOLEANS
    for idx, value in enumerate(values):
        if value is None:
            continue
        flag = booleans.get(value)
        if flag is None:
            flag = booleans.get(value.strip().lower())
            if flag is None:
                _report(problems, idx, column, "not a boolean", value)
                continue
        data[idx] = flag
        missing[idx] = False
    return pd.Series(pd.arrays.BooleanArray(np.array(data, dtype=bool), np.array(missing, dtype=bool)))


def _to_timestamp(values: list[str | None], column: str, problems: dict[int, list[str]],
                  as_str: Callable[[list[str | None]], pd.Series]) -> pd.Series:
    fullmatch = _TIMESTAMP_FULLMATCH
    shaped: list[str | None] = values
    if _all_match(values, _TIMESTAMP_LINES):
        try:  # numpy parses the source's own spelling about three times faster than pandas (None: NaT)
            return pd.Series(np.array(values, dtype="datetime64[us]")).dt.tz_localize("UTC")
        except ValueError:  # a field out of range (month 13, 30 February, hour 24): reported below
            pass
    else:
        shaped = []
        for value in values:
            if value is None:
                shaped.append(None)
                continue
            text = value.strip()
            shaped.append(text if fullmatch(text) is not None else None)
    parsed = pd.to_datetime(as_str(shaped), format="ISO8601", errors="coerce")
    for idx in np.flatnonzero(parsed.isna().to_numpy()):
        value = values[idx]
        if value is not None:
            _report(problems, int(idx), column, "not a timestamp", value)
    return parsed.astype("datetime64[us]").dt.tz_localize("UTC")


def _check_numeric(values: list[str | None], column: str, problems: dict[int, list[str]]) -> list[str | None]:
    """The values (the same list when all are numbers), bad ones NULL and reported."""
    if _all_match(values, _NUMERIC_LINES):
        return values
    fullmatch = _NUMERIC_FULLMATCH
    out: list[str | None] = []
    for idx, value in enumerate(values):
        if value is not None and fullmatch(value.strip()) is None:
            _report(problems, idx, column, "not a number", value)
            value = None
        out.append(value)
    return out


def _check_uuid(values: list[str | None], column: str, problems: dict[int, list[str]]) -> list[str | None]:
    """The values (the same list when all are lower-case uuids), lower-cased, bad ones NULL and reported."""
    if _all_match(values, _UUID_LINES, lower=True):
        return values
    fullmatch = _UUID_FULLMATCH
    out: list[str | None] = []
    for idx, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        text = value.strip()
        if fullmatch(text) is None:
            _report(problems, idx, column, "not a uuid", value)
            out.append(None)
        else:
            out.append(text.lower())
    return out


def _truncated(values: list[str | None], limit: int) -> tuple[list[str | None], int]:
    """truncate() on a list: strings cut to `limit` characters, and how many were cut."""
    count = 0
    out = values
    for idx, value in enumerate(values):
        if value is not None and len(value) > limit:
            if out is values:
                out = list(values)
            out[idx] = value[:limit]
            count += 1
    return out, count


def _parse_json(values: list[str | None], column: str, problems: dict[int, list[str]]) -> list[object]:
    """Decoded values (None where NULL or invalid); invalid ones reported."""
    decoded: list[object] = []
    decode = leads.decode_messages
    for idx, text in enumerate(values):
        if text is None:
            decoded.append(None)
            continue
        try:
            decoded.append(decode(text))
        except ValueError:
            decoded.append(None)
            problems.setdefault(idx, []).append(f"{column}: invalid JSON {_shown(text)}")
    return decoded


def _day_parts(hour: pd.Series, dow: pd.Series, present: pd.Series) -> dict[str, pd.Series]:
    """The period of the day (Madrugada / Manhã / Tarde / Noite) and the weekday / hours flags."""
    period = pd.cut(
        hour.astype("float64"), bins=[-1, 5, 11, 17, 23], labels=["Madrugada", "Manhã", "Tarde", "Noite"]
    ).astype("str").where(present)
    weekday = (dow >= 1) & (dow <= 5)
    flags = {
        "is_weekday": weekday,
        "is_weekend": ~weekday,
        "is_business_hours": weekday & (hour >= 8) & (hour < 18),
        "is_night_time": (hour >= 22) | (hour < 6),
    }
    return {"conversation_period": period, **{name: flag.astype("boolean") for name, flag in flags.items()}}


def calendar_fields(created_at_utc: pd.Series, tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """CALENDAR_COLUMNS from UTC instants, in the tenant's zone (Sunday = 0; ISO weeks).

    Naive input is taken as UTC (Chatwoot's convention). NULL instants give NULL fields.
    """
    check_timezone(tz)
    index = created_at_utc.index
    ts = pd.to_datetime(created_at_utc)
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    local = ts.dt.tz_convert(tz)
    present = local.notna()

    def ints(values: pd.Series) -> pd.Series:
        return values.astype("Int64")

    year, month, day = ints(local.dt.year), ints(local.dt.month), ints(local.dt.day)
    hour, minute = ints(local.dt.hour), ints(local.dt.minute)
    dow = (ints(local.dt.day_of_week) + 1) % 7  # pandas: Monday = 0 -> Sunday = 0
    iso = local.dt.isocalendar()
    iso_year, iso_week = iso["year"].astype("Int64"), iso["week"].astype("Int64")

    def names(codes: pd.Series, table: tuple[str, ...], offset: int = 0) -> pd.Series:
        mapping = {i + offset: name for i, name in enumerate(table)}
        return codes.map(mapping).astype("str")

    texts = _calendar_texts(local, present, year, iso_year, iso_week)
    out = pd.DataFrame(
        {
            "conversation_timezone": pd.Series(tz, index=index, dtype="str").where(present),
            "conversation_date": pd.Series(
                [d if p else None for d, p in zip(local.dt.date.tolist(), present.tolist(), strict=True)],
                index=index, dtype=object,
            ),
            "conversation_year": year,
            "conversation_month": month,
            "conversation_day": day,
            "conversation_day_of_week": dow,
            "conversation_hour": hour,
            "conversation_minute": minute,
            "conversation_week_of_year": iso_week,
            "conversation_quarter": ints(local.dt.quarter),
            "conversation_day_name": names(dow, DAY_NAMES_PT),
            "conversation_month_name": names(month, MONTH_NAMES_PT, offset=1),
            **_day_parts(hour, dow, present),
            **texts,
        },
        index=index,
    )
    return out[list(contract.CALENDAR_COLUMNS)]


def _calendar_texts(local: pd.Series, present: pd.Series, year: pd.Series, iso_year: pd.Series,
                    iso_week: pd.Series) -> dict[str, pd.Series]:
    """The formatted calendar fields (dd/mm/yyyy, dd/mm/yyyy hh:mm, yyyy-mm, yyyy-Www), cut from
    the wall-clock text of each instant (sync.timetext) instead of one strftime per value."""
    def column(values: np.ndarray) -> pd.Series:
        return pd.Series(values.astype(f"U{values.dtype.itemsize}"), index=local.index, dtype="str").where(present)

    years = pd.concat([year, iso_year]).dropna()
    if len(years) and (years.min() < timetext.FIRST_YEAR or years.max() > timetext.LAST_YEAR):
        def text(values: pd.Series) -> pd.Series:
            return values.astype("str").where(present)

        def padded(values: pd.Series, width: int) -> pd.Series:
            return values.astype("str").str.zfill(width).where(present)

        return {"conversation_date_formatted": text(local.dt.strftime("%d/%m/%Y")),
                "conversation_datetime_formatted": text(local.dt.strftime("%d/%m/%Y %H:%M")),
                "conversation_year_month": text(local.dt.strftime("%Y-%m")),
                "conversation_year_week": padded(iso_year, 4) + "-W" + padded(iso_week, 2)}
    known = present.to_numpy()
    wall = local.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)
    chars = timetext.chars(np.where(known, wall, 0))
    day, month, year_digits, hour_minute = chars[:, 8:10], chars[:, 5:7], chars[:, 0:4], chars[:, 11:16]
    week_year = timetext.digits(iso_year.to_numpy(dtype="int64", na_value=timetext.FIRST_YEAR), 4)
    week = timetext.digits(iso_week.to_numpy(dtype="int64", na_value=1), 2)
    return {"conversation_date_formatted": column(timetext.joined(day, "/", month, "/", year_digits)),
            "conversation_datetime_formatted": column(timetext.joined(day, "/", month, "/", year_digits, " ",
                                                                      hour_minute)),
            "conversation_year_month": column(timetext.joined(chars[:, 0:7])),
            "conversation_year_week": column(timetext.joined(week_year, "-W", week))}


def relative_fields(
    calendar: pd.DataFrame, waiting_since_utc: pd.Series, tz: str, as_of: datetime
) -> pd.DataFrame:
    """RELATIVE_COLUMNS as of `as_of` (an aware instant), from calendar_fields' output, in zone tz.

    A waiting time that does not fit the target's integer (a far-off waiting_since) is NULL.
    """
    today = as_of.astimezone(ZoneInfo(tz)).date()
    iso = today.isocalendar()
    dates = calendar["conversation_date"].tolist()
    present = pd.Series([d is not None for d in dates], index=calendar.index)
    days = pd.array([(today - d).days if d is not None else None for d in dates], dtype="Int64")

    def flag(values: pd.Series) -> pd.Series:
        return values.astype("boolean").where(present, pd.NA)

    waited = (pd.Timestamp(as_of).tz_convert("UTC") - waiting_since_utc).dt.total_seconds()
    low, high = _INT_RANGES["integer"]
    waited = np.floor(waited.where((waited >= low) & (waited <= high)))
    out = pd.DataFrame(
        {
            "waiting_time_seconds": waited.astype("Int64"),
            "days_since_creation": pd.Series(days, index=calendar.index),
            "is_today": flag(pd.Series([d == today for d in dates], index=calendar.index)),
            "is_yesterday": flag(pd.Series([d is not None and (today - d).days == 1 for d in dates], index=calendar.index)),
            "is_this_week": flag(calendar["conversation_year_week"] == f"{iso[0]:04d}-W{iso[1]:02d}"),
            "is_this_month": flag(calendar["conversation_year_month"] == today.strftime("%Y-%m")),
            "is_this_year": flag(calendar["conversation_year"] == today.year),
        },
        index=calendar.index,
    )
    return out[list(contract.RELATIVE_COLUMNS)]


def transform_chunk(
    raw: pd.DataFrame,
    *,
    tenant_id: int,
    timezone: str = DEFAULT_TIMEZONE,
    rules: leads.LeadRules | None = None,
    as_of: datetime | None = None,
) -> TransformResult:
    """Collapse duplicates -> validate/convert -> calendar -> lead signals -> target columns.

    as_of: the instant the relative-to-now fields are computed for (default: now).
    """
    check_timezone(timezone)
    missing = [c for c in contract.SOURCE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"chunk lacks source columns: {missing}")
    rules = rules or leads.load_rules()
    frame = collapse_duplicates(raw[list(contract.SOURCE_COLUMNS)])
    columns = _convert_columns(frame)
    _check_calendar_years(columns, timezone)
    good = np.ones(len(frame), dtype=bool)
    good[list(columns.problems)] = False

    rows = pd.DataFrame(columns.converted).loc[good].reset_index(drop=True)
    messages = [m for m, ok in zip(columns.parsed_messages, good.tolist(), strict=True) if ok]
    rows.insert(0, "tenant_id", pd.array([tenant_id] * len(rows), dtype="Int64"))
    calendar = calendar_fields(rows["conversation_created_at"], timezone)
    relative = relative_fields(calendar, rows["waiting_since"], timezone, as_of or datetime.now(UTC))
    lead = leads.classify(messages, rules, index=rows.index)
    lead["lead_rules_version"] = pd.array([rules.version] * len(rows), dtype="str")
    rows = pd.concat([rows, calendar, relative, lead], axis=1)
    return TransformResult(rows=rows[list(contract.TARGET_COLUMNS)], rejected=_rejections(frame, columns.problems),
                           truncated=columns.truncated)


@dataclass
class _Columns:
    """Each source column converted to its target dtype, with what went wrong on which row."""

    converted: dict[str, pd.Series] = field(default_factory=dict)
    problems: dict[int, list[str]] = field(default_factory=dict)   # row position -> reasons
    truncated: dict[str, int] = field(default_factory=dict)        # column -> values cut
    parsed_messages: list[object] = field(default_factory=list)    # message_compiled, JSON-decoded


def _as_str(kept: list[str | None], *, source: pd.Series, values: list[str | None]) -> pd.Series:
    """kept as the str dtype: the source's own column where kept is its values unchanged."""
    return source if kept is values and source.dtype == _STR else pd.Series(kept, dtype=_STR)


def _convert_columns(frame: pd.DataFrame) -> _Columns:
    out = _Columns(parsed_messages=[None] * len(frame))
    problems = out.problems
    for column, pg_type in contract.SOURCE_COLUMNS.items():
        source = frame[column]
        if pg_type == "text" and source.dtype == _STR and column not in contract.TEXT_LIMITS and column not in _REQUIRED:
            out.converted[column] = source   # a text is kept as the source wrote it
            continue
        values = _normalised(source)
        as_str = functools.partial(_as_str, source=source, values=values)
        if pg_type in _INT_RANGES:
            # The range is the target's: a value the owner's integer column cannot hold is quarantined.
            out.converted[column] = _to_int(values, column, contract.TARGET_COLUMNS[column], problems)
        elif pg_type == "boolean":
            out.converted[column] = _to_bool(values, column, problems)
        elif pg_type == "timestamp without time zone":
            out.converted[column] = _to_timestamp(values, column, problems, as_str)
        elif pg_type == "numeric":
            out.converted[column] = as_str(_check_numeric(values, column, problems))
        elif pg_type == "uuid":
            out.converted[column] = as_str(_check_uuid(values, column, problems))
        elif pg_type == "jsonb":
            decoded = _parse_json(values, column, problems)
            if column == "message_compiled":
                out.parsed_messages = decoded
            out.converted[column] = as_str(values)
        elif pg_type == "text":
            if column in contract.TEXT_LIMITS:
                values, count = _truncated(values, contract.TEXT_LIMITS[column])
                if count:
                    out.truncated[column] = count
            out.converted[column] = as_str(values)
        else:  # a type the contract gained without the transform learning it
            raise ValueError(f"no conversion for {column} ({pg_type})")
        if column in _REQUIRED:
            for idx, value in enumerate(values):
                if value is None:
                    problems.setdefault(idx, []).append(f"{column}: required value missing")
    return out


def _check_calendar_years(columns: _Columns, timezone: str) -> None:
    """A creation instant whose local date has no calendar year (past 9999 in a zone ahead of UTC,
    before year 1 behind it) is reported, so its row is quarantined instead of failing the chunk."""
    created = columns.converted["conversation_created_at"]
    years = created.dt.tz_convert(timezone).dt.year
    for idx in np.flatnonzero(((years < 1) | (years > 9999)).fillna(False).to_numpy(dtype=bool)):
        columns.problems.setdefault(int(idx), []).append(
            f"conversation_created_at: {created.iloc[idx]} is in year {years.iloc[idx]} in {timezone}, "
            "beyond the calendar fields' years 1 to 9999")


def _rejections(frame: pd.DataFrame, problems: dict[int, list[str]]) -> list[Rejection]:
    return [
        Rejection(
            conversation_id=_raw_key(frame, "conversation_id", i),
            inbox_id=_raw_key(frame, "inbox_id", i),
            reason="; ".join(reasons),
            raw_row={col: _raw_value(v) for col, v in frame.iloc[i].items()},
        )
        for i, reasons in sorted(problems.items())
    ]


def _raw_key(frame: pd.DataFrame, column: str, i: int) -> str | None:
    value = _raw_value(frame[column].iloc[i])
    return None if value is None or not value.strip() else value.strip()
