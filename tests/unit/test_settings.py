"""Settings: one typed declaration each, read when used, from Airflow's config or the environment."""

from __future__ import annotations

import pytest

from chatwoot_etl import settings
from chatwoot_etl.errors import ConfigurationError
from chatwoot_etl.paths import PROJECT_DIR


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for setting in settings.ALL:
        monkeypatch.delenv(setting.env_var, raising=False)
        monkeypatch.delenv(setting.airflow_env_var, raising=False)


def test_every_setting_is_declared_once_with_a_meaning_and_a_valid_default():
    names = [setting.name for setting in settings.ALL]
    assert len(names) == len(set(names)) and len(names) >= 18
    for setting in settings.ALL:
        assert setting.meaning and setting.name == setting.name.lower()
        assert setting.get() == setting.default  # nothing set: the default, without error


def test_readme_documents_every_setting():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    missing = [setting.name for setting in settings.ALL if f"`{setting.name}`" not in readme]
    assert not missing, f"README does not document {missing}"


def test_airflow_config_variable_is_read(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CHATWOOT_ETL__LOCK_WAIT_SECONDS", "42")
    assert settings.LOCK_WAIT_SECONDS.get() == 42.0


def test_the_project_variable_wins_over_airflow_config(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CHATWOOT_ETL__RETRIES", "5")
    monkeypatch.setenv("CHATWOOT_ETL_RETRIES", "1")
    assert settings.RETRIES.get() == 1


def test_a_change_takes_effect_at_the_next_read(monkeypatch):
    assert settings.SOURCE_POOL.get() == "chatwoot_source"
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_POOL", "pool_b")
    assert settings.SOURCE_POOL.get() == "pool_b"


def test_empty_means_the_default_except_for_the_source_session(monkeypatch):
    monkeypatch.setenv("CHATWOOT_ETL_DEFAULT_SCHEDULE", "  ")
    assert settings.DEFAULT_SCHEDULE.get() == "*/15 * * * *"
    assert settings.SOURCE_SESSION.get() == {"enable_nestloop": "off", "jit": "off"}
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_SESSION", "")
    assert settings.SOURCE_SESSION.get() == {}  # the server's own defaults
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_SESSION", "enable_nestloop=on, work_mem=64MB")
    assert settings.SOURCE_SESSION.get() == {"enable_nestloop": "on", "work_mem": "64MB"}


@pytest.mark.parametrize("setting, value", [
    (settings.RETRIES, "three"), (settings.RETRIES, "-1"), (settings.LOCK_WAIT_SECONDS, "nan"),
    (settings.LOCK_WAIT_SECONDS, "inf"), (settings.LOCK_WAIT_SECONDS, "-5"),
    (settings.FRESHNESS_THRESHOLD_MINUTES, "0"), (settings.SOURCE_VIEW, "materialized"),
    (settings.SOURCE_SESSION, "enable_nestloop=off; DROP TABLE x"),
])
def test_a_bad_value_is_a_configuration_error_naming_the_setting(monkeypatch, setting, value):
    monkeypatch.setenv(setting.env_var, value)
    with pytest.raises(ConfigurationError) as raised:
        setting.get()
    message = str(raised.value)
    assert setting.name in message and setting.env_var in message and repr(value) in message


def test_the_report_shows_each_value_in_effect_and_where_it_comes_from(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CHATWOOT_ETL__RETRIES", "5")
    monkeypatch.setenv("CHATWOOT_ETL_SOURCE_POOL", "pool_b")
    monkeypatch.setenv("CHATWOOT_ETL_LOCK_WAIT_SECONDS", "soon")
    rows = {row["name"]: row for row in settings.report()}
    assert (rows["retries"]["value"], rows["retries"]["from"]) == (5, "[chatwoot_etl] retries")
    assert (rows["source_pool"]["value"], rows["source_pool"]["from"]) == ("pool_b", "CHATWOOT_ETL_SOURCE_POOL")
    assert rows["freshness_cron"]["from"] == "default"
    assert str(rows["lock_wait_seconds"]["value"]).startswith("INVALID:") and "'soon'" in rows["lock_wait_seconds"]["value"]


def test_the_settings_command_exits_1_on_an_invalid_setting(monkeypatch, tmp_path):
    import json
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path), "CHATWOOT_ETL_RETRIES": "-2"}
    done = subprocess.run([sys.executable, "-m", "chatwoot_etl", "settings", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["retries"]["value"].startswith("INVALID:") and rows["source_pool"]["value"] == "chatwoot_source"
