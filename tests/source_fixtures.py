"""Fixtures for a local Chatwoot source: the base tables, the analytics view and generated data.

Generating takes about a second, so it happens once per session into a template database;
each test gets its own copy (CREATE DATABASE ... TEMPLATE), free to modify.
"""

from __future__ import annotations

from typing import NamedTuple

import psycopg
import pytest

from chatwoot_etl import connections
from chatwoot_etl.localdev import seed

TEMPLATE_ACCOUNTS = 3
TEMPLATE_CONVERSATIONS = 2000
TEMPLATE_SEED = 42


class SourceDb(NamedTuple):
    """One throwaway source database, reachable as its administrator and as the ETL's reader."""

    name: str
    admin_uri: str
    reader_uri: str


def _database_name(uri: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(uri)["dbname"]


def _source(uri: str) -> SourceDb:
    name = _database_name(uri)
    return SourceDb(
        name=name,
        admin_uri=uri,
        reader_uri=connections.with_database(uri, name, user=connections.SOURCE_READER_ROLE),
    )


@pytest.fixture(scope="session")
def source_template(create_database) -> str:
    """Name of a database with the schema and generate(accounts=3, conversations=2000, seed=42)."""
    uri = create_database("source_tmpl")
    with psycopg.connect(uri, autocommit=True) as conn:
        seed.apply_schema(conn)
        seed.generate(conn, accounts=TEMPLATE_ACCOUNTS, conversations=TEMPLATE_CONVERSATIONS, seed=TEMPLATE_SEED)
    return _database_name(uri)


@pytest.fixture
def source_db(create_database, source_template) -> SourceDb:
    """A fresh copy of the generated source for one test."""
    return _source(create_database("source", template=source_template))


@pytest.fixture
def empty_source_db(create_database) -> SourceDb:
    """A source with the schema, the view and the grants, and no rows."""
    uri = create_database("source_empty")
    with psycopg.connect(uri, autocommit=True) as conn:
        seed.apply_schema(conn)
    return _source(uri)
