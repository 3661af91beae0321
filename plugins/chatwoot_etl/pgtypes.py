"""PostgreSQL column types as format_type() spells them, and whether one can hold another's values.

Used where the ETL meets a schema it does not own: an existing analytics table adopted by
``migrate`` must hold every value the ETL writes, and a source view's columns must carry values
the load can read (a precision or a ``varchar`` where ``text`` was expected is not drift).
Pure functions, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INTEGER_WIDTHS = {"smallint": 2, "integer": 4, "bigint": 8}
_INTEGER_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}
_TEXT = {"text", "character varying"}
_FIXED_TEXT = {"character", "name"}  # text values too: an unbounded text column holds them
_PARAMETERS = re.compile(r"^(?P<base>[a-z ]+?)\s*(?:\((?P<args>[\d, ]+)\))?(?P<rest>(?: with(?:out)? time zone)?)$")


@dataclass(frozen=True)
class PgType:
    """A parsed type: its base name and modifiers (length, precision / scale, fractional seconds)."""

    base: str
    args: tuple[int, ...] = ()

    @property
    def spelled(self) -> str:
        return format_type(self)


def parse(spelling: str) -> PgType:
    """'character varying(50)' -> PgType('character varying', (50,)); 'timestamp(6) without time
    zone' -> PgType('timestamp without time zone', (6,)). Unknown spellings keep their text."""
    text = spelling.strip().lower()
    match = _PARAMETERS.match(text)
    if match is None:
        return PgType(text)
    base = (match["base"].strip() + match["rest"]).strip()
    args = tuple(int(part) for part in match["args"].split(",")) if match["args"] else ()
    return PgType(base, args)


def format_type(kind: PgType) -> str:
    if not kind.args:
        return kind.base
    args = ",".join(str(a) for a in kind.args)
    for zone in (" without time zone", " with time zone"):
        if kind.base.endswith(zone):
            return f"{kind.base[: -len(zone)]}({args}){zone}"
    return f"{kind.base}({args})"


def holds(column: str, values: str) -> bool:
    """Can a column of type `column` store every value of type `values` unchanged?

    Accepted: the same type; a wider integer; text or a longer varchar for a varchar; numeric with
    at least the integer digits and the scale (integers included); timestamps with at least the
    fractional digits; jsonb for json. A time-zone-aware column never holds naive values (nor the
    reverse): the meaning differs.
    """
    have, want = parse(column), parse(values)
    if have == want:
        return True
    if have.base in _INTEGER_WIDTHS and want.base in _INTEGER_WIDTHS:
        return _INTEGER_WIDTHS[have.base] >= _INTEGER_WIDTHS[want.base]
    if want.base in _FIXED_TEXT:
        return have.base == "text" or (have.base == "character varying" and not have.args)
    if have.base == "numeric" and want.base in _INTEGER_DIGITS:
        return not have.args or have.args[0] - (have.args[1] if len(have.args) > 1 else 0) >= _INTEGER_DIGITS[want.base]
    if have.base == "jsonb" and want.base == "json":
        return True
    if have.base in _TEXT and want.base in _TEXT:
        if have.base == "text" or not have.args:
            return True
        return bool(want.args) and want.base == "character varying" and have.args[0] >= want.args[0]
    if have.base == want.base == "numeric":
        if not have.args:
            return True
        if not want.args:
            return False
        have_scale = have.args[1] if len(have.args) > 1 else 0
        want_scale = want.args[1] if len(want.args) > 1 else 0
        return have_scale >= want_scale and have.args[0] - have_scale >= want.args[0] - want_scale
    if have.base == want.base and have.base.startswith("timestamp"):
        return (have.args[0] if have.args else 6) >= (want.args[0] if want.args else 6)
    return False


def widening_advice(table: str, column: str, values: str, found: str) -> str:
    """What an operator can run to make `table.column` hold `values` (a hint, never run by us)."""
    have, want = parse(found), parse(values)
    if have.base.startswith("timestamp with") and want.base.startswith("timestamp without"):
        return (f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {values} "
                f"USING {column} AT TIME ZONE 'UTC'  -- naive UTC, as the dashboards read it")
    return f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {values}  -- check the existing values fit first"
