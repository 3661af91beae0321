"""Bring an analytics database to the ETL's schema: adopt what exists, add what is missing.

The schema is declared once, as the SQL that creates it on an empty database
(include/sql/analytics/tables, one file per table). A migration, in one transaction:

1. builds those tables in a scratch schema and reads back what they are (the expected columns,
   types, defaults and indexes, as PostgreSQL itself spells them), then drops the scratch schema;
2. compares the live tables with them and stops, before any change, on a column that exists with
   a type that cannot hold the ETL's values or a constraint the ETL cannot satisfy;
3. creates the missing tables, adds the missing columns and indexes, and runs the idempotent
   object files (roles, functions, triggers, row-level security, grants, seed);
4. brings tenants.inbox_ids in line with the mapping;
5. reports every change, from a catalog snapshot before and after. ``--plan`` does all of it and
   rolls back: the report is exactly what a real run would change on this database.

An existing table's rows, columns and objects are never dropped or retyped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from chatwoot_etl import connections, pgtypes
from chatwoot_etl.errors import MigrationError
from chatwoot_etl.paths import SQL_DIR, sql_text

log = logging.getLogger(__name__)

SCHEMA_DIR = SQL_DIR / "analytics"
SCHEMA = "public"
SCRATCH_SCHEMA = "chatwoot_etl_expected"
ROLES = ("authenticated_users", "admin_users", "etl_service")
# Serialises concurrent `migrate` calls on one database (key: 'cwetl' / 'migr' as int4).
_MIGRATION_LOCK = (0x6377_6574, 0x6D69_6772)
_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ ")
_SERIAL_DEFAULT = re.compile(r"^nextval\('")
_PLURAL = {"column": "columns", "index": "indexes", "constraint": "constraints"}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Index:
    name: str
    definition: str

    @property
    def shape(self) -> str:
        """The definition without its name and table: what makes two indexes the same."""
        match = _INDEX_HEAD.match(self.definition)
        if match is None:
            return self.definition
        return (match.group(1) or "") + self.definition[match.end():]


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One object that differs after the migration: '+' added, '-' removed, '~' changed."""

    sign: str
    kind: str
    name: str
    definition: str

    def describe(self) -> str:
        return f"{self.sign} {self.kind} {self.name}: {self.definition}"


@dataclass
class MigrationReport:
    applied: bool                                 # False for a plan (rolled back)
    created_tables: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.changes and not self.repairs

    def lines(self) -> list[str]:
        """One line per change; a created table's own columns, indexes and constraints in one line."""
        if self.up_to_date:
            return ["nothing to change: the database is up to date"]
        created = set(self.created_tables)
        parts: dict[str, dict[str, int]] = {name: {} for name in created}
        lines = []
        for change in self.changes:
            table = change.name.split(".", 1)[0]
            if change.kind in ("column", "index", "constraint") and table in created:
                parts[table][change.kind] = parts[table].get(change.kind, 0) + 1
            elif not (change.kind == "table" and change.name in created):
                lines.append(change.describe())
        summaries = [
            f"+ table {name}: created ({', '.join(f'{n} {_PLURAL[kind]}' for kind, n in sorted(parts[name].items()))})"
            for name in self.created_tables
        ]
        return summaries + lines + [f"* {repair}" for repair in self.repairs]


def table_files(directory: Path = SCHEMA_DIR) -> dict[str, Path]:
    """Table name -> the file that creates it, in creation order ('30_conversations_analytics')."""
    return {path.stem.split("_", 1)[1]: path for path in sorted((directory / "tables").glob("*.sql"))}


def object_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    return sorted((directory / "objects").glob("*.sql"))


def incompatibilities(expected: dict[str, Table], found: dict[str, Table]) -> list[str]:
    """Why the live tables cannot take the ETL's rows as they are (empty: they can)."""
    problems = []
    for name, want in expected.items():
        have = found.get(name)
        if have is None:
            continue
        for column in want.columns.values():
            existing = have.columns.get(column.name)
            if existing is None:
                continue
            if not pgtypes.holds(existing.data_type, column.data_type):
                problems.append(
                    f"{name}.{column.name}: found {existing.data_type}, expected {column.data_type} "
                    f"(the ETL's values would not fit or would change meaning); to adopt it: "
                    + pgtypes.widening_advice(name, column.name, column.data_type, existing.data_type)
                )
            elif existing.not_null and not column.not_null and existing.default is None:
                problems.append(
                    f"{name}.{column.name}: found NOT NULL, expected nullable (the ETL writes NULL here); "
                    f"to adopt it: ALTER TABLE {name} ALTER COLUMN {column.name} DROP NOT NULL"
                )
        for extra in have.columns.values():
            if extra.name not in want.columns and extra.not_null and extra.default is None:
                problems.append(
                    f"{name}.{extra.name}: a NOT NULL column without a default that the ETL does not write "
                    f"(its inserts would fail); to adopt it: give it a DEFAULT or ALTER TABLE {name} "
                    f"ALTER COLUMN {extra.name} DROP NOT NULL"
                )
    return problems


def _read_tables(conn: psycopg.Connection, schema: str, names: Iterable[str]) -> dict[str, Table]:
    wanted = set(names)
    tables: dict[str, Table] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(sql_text("admin/catalog_columns.sql"), {"schema": schema}):
            if row["table_name"] in wanted:
                table = tables.setdefault(row["table_name"], Table(row["table_name"]))
                table.columns[row["column_name"]] = Column(
                    row["column_name"], row["data_type"], row["not_null"], row["default_expr"]
                )
        for row in cur.execute(sql_text("admin/catalog_indexes.sql"), {"schema": schema}):
            if row["table_name"] in tables:
                tables[row["table_name"]].indexes.append(Index(row["index_name"], row["definition"]))
    return tables


def _set_search_path(conn: psycopg.Connection, schema: str) -> None:
    conn.execute("SELECT set_config('search_path', %s, true)", (f"{schema}, pg_catalog",))


def expected_tables(conn: psycopg.Connection, directory: Path = SCHEMA_DIR) -> dict[str, Table]:
    """The tables as the schema files create them, read back from a scratch schema (then dropped)."""
    files = table_files(directory)
    scratch = sql.Identifier(SCRATCH_SCHEMA)
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(scratch))
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(scratch))
    _set_search_path(conn, SCRATCH_SCHEMA)
    conn.execute((directory / "00_functions.sql").read_text(encoding="utf-8"))
    for path in files.values():
        conn.execute(path.read_text(encoding="utf-8"))
    tables = _read_tables(conn, SCRATCH_SCHEMA, files)
    _set_search_path(conn, SCHEMA)
    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(scratch))
    return tables


def _add_column(conn: psycopg.Connection, table: str, column: Column) -> None:
    clause: sql.Composable
    if column.default and _SERIAL_DEFAULT.match(column.default):
        kind = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}[column.data_type]
        clause = sql.SQL(kind)
    else:
        clause = sql.SQL(column.data_type)  # a type PostgreSQL spelled from our own schema files
        if column.default is not None:
            clause += sql.SQL(" DEFAULT ") + sql.SQL(column.default)
        if column.not_null:
            clause += sql.SQL(" NOT NULL")
    conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} ").format(sql.Identifier(table), sql.Identifier(column.name)) + clause)


def _add_index(conn: psycopg.Connection, index: Index, found: Table) -> None:
    taken = {existing.name for existing in found.indexes}
    name = index.name if index.name not in taken else f"{index.name}_etl"
    head = "CREATE UNIQUE INDEX" if index.shape.startswith("UNIQUE ") else "CREATE INDEX"
    body = index.shape.removeprefix("UNIQUE ")
    statement = sql.SQL(f"{head} {{}} ON {{}} {body}").format(sql.Identifier(name), sql.Identifier(found.name))
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.UniqueViolation as exc:
        raise MigrationError(
            f"{found.name}: cannot add the unique index {name} ({body}): {exc.diag.message_detail or exc}; "
            "the existing rows hold duplicates the ETL's key does not allow. Nothing was changed. "
            "Remove the duplicate rows (keep the one of the tenant that owns the inbox now) and migrate again."
        ) from exc


def catalog_snapshot(conn: psycopg.Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute(sql_text("admin/catalog_snapshot.sql"), {"schema": SCHEMA, "roles": list(ROLES)}).fetchall()
    return {(kind, name): definition for kind, name, definition in rows}


def diff(before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]) -> list[Change]:
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            changes.append(Change("+", key[0], key[1], new or ""))
        elif new is None:
            changes.append(Change("-", key[0], key[1], old))
        else:
            changes.append(Change("~", key[0], key[1], f"{old} -> {new}"))
    return changes


def run(conn: psycopg.Connection, *, plan: bool = False, directory: Path = SCHEMA_DIR) -> MigrationReport:
    """Migrate (or, with plan=True, rehearse and roll back) the database of conn."""
    conn.autocommit = False
    report = MigrationReport(applied=not plan)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _MIGRATION_LOCK)
            before = catalog_snapshot(conn)
            expected = expected_tables(conn, directory)
            found = _read_tables(conn, SCHEMA, expected)
            problems = incompatibilities(expected, found)
            if problems:
                raise MigrationError(
                    "the existing database cannot be adopted as it is; nothing was changed:\n  - " + "\n  - ".join(problems)
                )
            conn.execute((directory / "00_functions.sql").read_text(encoding="utf-8"))
            for name, path in table_files(directory).items():
                if name not in found:
                    conn.execute(path.read_text(encoding="utf-8"))
                    report.created_tables.append(name)
                    continue
                for column in expected[name].columns.values():
                    if column.name not in found[name].columns:
                        _add_column(conn, name, column)
                shapes = {index.shape for index in found[name].indexes}
                for index in expected[name].indexes:
                    if index.shape not in shapes:
                        _add_index(conn, index, found[name])
            for path in object_files(directory):
                try:
                    conn.execute(path.read_text(encoding="utf-8"))
                except psycopg.Error as exc:
                    raise MigrationError(f"{path.name} failed; nothing was changed: {exc}") from exc
            for tenant_id, slug, old, new in conn.execute(sql_text("admin/repair_inbox_ids.sql")).fetchall():
                report.repairs.append(
                    f"tenants.inbox_ids of tenant {tenant_id} ({slug}) set to its active mappings: {old} -> {new}"
                )
            report.changes = diff(before, catalog_snapshot(conn))
            if plan:
                raise psycopg.Rollback()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise MigrationError(
            f"migrate needs the database owner or a superuser (it creates tables, roles and policies): {exc}"
        ) from exc
    if report.applied:
        log.info("event=migrated changes=%d created_tables=%s repairs=%d", len(report.changes),
                 ",".join(report.created_tables) or "none", len(report.repairs))
    return report


def migrate(*, plan: bool = False) -> MigrationReport:
    """Migrate the analytics database of the ``analytics_db`` connection (plan=True: dry run)."""
    with connections.connect(connections.ANALYTICS_CONN_ID, application_name="chatwoot_etl:migrate") as conn:
        return run(conn, plan=plan)
