"""The architecture as tests: what each layer may import, and what the DAG-parse path must never load."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatwoot_etl.paths import PACKAGE_DIR

KERNEL = ("contract", "pgtypes", "paths", "logs", "errors", "settings", "connections", "clock", "limits", "schedules")
SUBPACKAGES = ("sync", "orchestration", "admin", "cli", "localdev")
# subpackage -> the subpackages it may import (the kernel is open to everyone).
ALLOWED = {
    "sync": set(),
    "admin": {"sync"},
    "orchestration": {"sync", "admin"},
    "localdev": {"sync", "admin", "orchestration"},
    "cli": {"sync", "admin", "orchestration", "localdev"},
}
HEAVY = ("pandas", "psycopg", "numpy")


def imported_subpackages(path: Path) -> set[str]:
    """chatwoot_etl subpackages a module imports anywhere (module level, functions, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "chatwoot_etl" and len(parts) > 1 and parts[1] in SUBPACKAGES:
                found.add(parts[1])
    return found


def modules_of(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.py"))


@pytest.mark.parametrize("name", KERNEL)
def test_the_kernel_imports_nothing_of_the_subpackages(name):
    assert imported_subpackages(PACKAGE_DIR / f"{name}.py") == set()


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_each_subpackage_imports_only_what_its_layer_may(subpackage):
    for path in modules_of(PACKAGE_DIR / subpackage):
        outside = imported_subpackages(path) - ALLOWED[subpackage] - {subpackage}
        assert not outside, f"{subpackage}/{path.name} imports {sorted(outside)}"


def test_every_module_belongs_to_the_kernel_or_a_subpackage():
    top = {path.stem for path in modules_of(PACKAGE_DIR)} - {"__init__", "__main__"}
    # retries: the import shim for DAGs serialized before the split (chatwoot_etl.retries.SyncRetryPolicy)
    assert top == {*KERNEL, "retries"}
    assert {path.name for path in PACKAGE_DIR.iterdir() if path.is_dir() and (path / "__init__.py").exists()} \
        == set(SUBPACKAGES)


def loaded_after(statement: str) -> dict[str, list[str]]:
    """The heavy and the chatwoot_etl modules a fresh interpreter holds after running statement."""
    script = (f"import sys, json\n{statement}\n"
              f"print(json.dumps({{'heavy': sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}),"
              f" 'ours': sorted(m for m in sys.modules if m.startswith('chatwoot_etl'))}}))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["chatwoot_etl.orchestration.dag_factory", "chatwoot_etl.orchestration.registry",
                                    "chatwoot_etl.orchestration.tasks"])
def test_the_parse_path_loads_no_pandas_and_no_psycopg(module):
    assert loaded_after(f"import {module}")["heavy"] == []


def test_building_every_dag_loads_no_pandas_and_no_psycopg(tmp_path):
    from chatwoot_etl.orchestration import registry

    snapshot = tmp_path / "tenants.json"
    registry.write([registry.TenantEntry(1, "AllpFit CrossFit", "allpfit", inboxes=[1])], snapshot)
    loaded = loaded_after(
        "from chatwoot_etl.orchestration import dag_factory, registry\n"
        f"dags = dag_factory.build_tenant_dags(registry.read(__import__('pathlib').Path({str(snapshot)!r})))\n"
        "dag_factory.build_registry_dag(); dag_factory.build_freshness_dag()\n"
        "assert list(dags) == ['chatwoot_sync_tenant_1']")
    assert loaded["heavy"] == []


def test_the_kernel_loads_no_subpackage():
    loaded = loaded_after("; ".join(f"import chatwoot_etl.{name}" for name in KERNEL))
    assert not [m for m in loaded["ours"] if m.split(".")[1:2] and m.split(".")[1] in SUBPACKAGES]


def test_cli_help_loads_neither_airflow_nor_the_heavy_libraries():
    loaded = loaded_after("from chatwoot_etl.cli.parser import build_parser; build_parser().format_help()")
    assert loaded["heavy"] == []
    assert not [m for m in loaded["ours"] if m.startswith(("chatwoot_etl.sync", "chatwoot_etl.localdev"))]
