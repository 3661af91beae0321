"""One errors module: every exception the package raises lives there, with its retry classification."""

from __future__ import annotations

import ast

import psycopg
import pytest

from chatwoot_etl import errors
from chatwoot_etl.contract import ContractDiff
from chatwoot_etl.paths import PACKAGE_DIR


def test_no_exception_class_is_defined_outside_the_errors_module():
    elsewhere = []
    for path in PACKAGE_DIR.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE_DIR:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")).endswith(("Error", "Exception"))
                    for base in node.bases):
                elsewhere.append(f"{path.relative_to(PACKAGE_DIR)}:{node.name}")
    assert elsewhere == []


DIFF = ContractDiff(missing=("contact_name",), retyped=(), extra=())


@pytest.mark.parametrize("error, permanent", [
    (errors.ConfigurationError("tenant 9 does not exist"), True),
    (errors.ContractDrift("vw_conversations_analytics_final", DIFF), True),
    (errors.LockRefused(1, None), True),
    (errors.VariableStoreError("metadata database down"), False),
    (psycopg.OperationalError("connection refused"), False),
    (psycopg.errors.SerializationFailure("could not serialize"), False),
    (TimeoutError(), False),
])
def test_permanent_errors_are_the_ones_a_retry_cannot_fix(error, permanent):
    assert errors.is_permanent(error) is permanent


def test_only_a_backfill_refused_by_the_lock_is_retried_despite_being_permanent():
    refused = errors.LockRefused(3, None)
    assert errors.retried_despite_permanent(refused, "backfill")
    assert not errors.retried_despite_permanent(refused, "scheduled")
    assert not errors.retried_despite_permanent(errors.ConfigurationError("x"), "backfill")


def test_messages_name_what_went_wrong():
    assert "missing column contact_name" in str(errors.ContractDrift("vw_conversations_analytics_final", DIFF))
    assert str(errors.LockRefused(3, None)) == (
        "tenant 3: another sync holds the tenant lock: a session that has just released it")
    assert all(issubclass(cls, errors.ChatwootEtlError) for cls in (
        errors.ConfigurationError, errors.ContractDrift, errors.LockRefused, errors.VariableStoreError,
        errors.AdminError, errors.MigrationError))
