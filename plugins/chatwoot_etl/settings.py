"""Every setting of chatwoot_etl: its name, type, default and meaning, read when it is used.

Operators configure the ETL like the rest of Airflow: the ``[chatwoot_etl]`` section of
``airflow.cfg`` or ``AIRFLOW__CHATWOOT_ETL__<NAME>`` variables (and Airflow's ``_cmd`` /
``_secret`` forms). A ``CHATWOOT_ETL_<NAME>`` variable, when set, wins over both. Settings marked
``airflow_config=False`` are needed before Airflow is imported and come only from the environment.

Nothing is cached: a value is read each time ``Setting.get()`` is called, so a test or an
operator changing it takes effect on the next run or parse. A process that has not loaded Airflow
(the CLI) reads plain values of Airflow's configuration itself (airflow_config()), as Airflow
would: loading Airflow's configuration costs it more than a second.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from chatwoot_etl.errors import ConfigurationError

SECTION = "chatwoot_etl"
T = TypeVar("T")


def _number(minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not value >= minimum or value == float("inf"):  # rejects nan and inf too
            raise ValueError(f"expected a finite number >= {minimum:g}")
        return value

    return parse


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _text(text: str) -> str:
    return text.strip()


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip() not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return text.strip()

    return parse


def parse_session(spec: str) -> dict[str, str]:
    """'name=value,...' -> session parameters; empty means the server's defaults."""
    settings = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        if not re.fullmatch(r"[a-z_]+", name.strip()) or not re.fullmatch(r"[A-Za-z0-9_.]+", value.strip()):
            raise ValueError(f"expected name=value pairs, not {item!r}")
        settings[name.strip()] = value.strip()
    return settings


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def airflow_config(section: str, key: str, default: str | None = None) -> str | None:
    """A value of Airflow's configuration: the AIRFLOW__<SECTION>__<KEY> variable, else airflow.cfg,
    else default. Read by Airflow where it is loaded already, or where only Airflow can resolve it
    (the _cmd and _secret forms)."""
    prefix = f"AIRFLOW__{section.upper()}__{key.upper()}"
    config = configparser.ConfigParser(interpolation=None)
    if "airflow" not in sys.modules and not (os.environ.get(f"{prefix}_CMD") or os.environ.get(f"{prefix}_SECRET")):
        if prefix in os.environ:
            return os.environ[prefix]
        config.read(airflow_home() / "airflow.cfg", encoding="utf-8")
        if not (config.has_option(section, f"{key}_cmd") or config.has_option(section, f"{key}_secret")):
            return config.get(section, key, fallback=default)
    from airflow.sdk import conf

    return conf.get(section, key, fallback=default)


def secrets_backend_configured() -> bool:
    """Whether Airflow searches a secrets backend before the environment (connections, Variables)."""
    return bool((airflow_config("secrets", "backend") or "").strip())


@dataclass(frozen=True)
class Setting(Generic[T]):
    name: str                       # option of [chatwoot_etl]; the variables derive from it
    default: T
    parse: Callable[[str], T]
    meaning: str
    airflow_config: bool = True     # also read from Airflow's configuration
    empty_is_unset: bool = True     # an empty value means the default (else it is parsed)

    @property
    def env_var(self) -> str:
        return f"CHATWOOT_ETL_{self.name.upper()}"

    @property
    def airflow_env_var(self) -> str:
        return f"AIRFLOW__{SECTION.upper()}__{self.name.upper()}"

    def raw(self) -> str | None:
        value = os.environ.get(self.env_var)
        if value is None and self.airflow_config:
            value = airflow_config(SECTION, self.name)
        if value is not None and self.empty_is_unset and not value.strip():
            return None
        return value

    def source(self) -> str:
        """Where the value in effect comes from: the project variable, Airflow's config, or the default."""
        if os.environ.get(self.env_var) is not None:
            return self.env_var
        return f"[{SECTION}] {self.name}" if self.raw() is not None else "default"

    def get(self) -> T:
        raw = self.raw()
        if raw is None:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"setting {self.name} ({self.env_var} / [{SECTION}] {self.name}) = {raw!r}: {exc}") from None


# Paths: read once by chatwoot_etl.paths, before Airflow is imported.
HOME = Setting("home", "", _text, "project root holding dags/ and include/ (default: the checkout)",
               airflow_config=False)
SQL_DIR = Setting("sql_dir", "", _text, "directory of the SQL files (default: <home>/include/sql)",
                  airflow_config=False)
LOCAL_DIR = Setting("local_dir", "", _text, "local state: embedded server, registry, demo logs (default: <home>/.local)",
                    airflow_config=False)
LOG_LEVEL = Setting("log_level", "INFO", _text, "log level of the chatwoot-etl command", airflow_config=False)

# The sync.
LOCK_WAIT_SECONDS = Setting("lock_wait_seconds", 600.0, _number(0),
                            "how long a scheduled or manual run waits for another sync of its tenant")
BACKFILL_LOCK_WAIT_SECONDS = Setting("backfill_lock_wait_seconds", 300.0, _number(0),
                                     "how long a backfill run waits for the tenant lock before it is retried")
# The deployed view aggregates whole tables per conversation. Right after a burst of updates the
# planner's statistics do not know the newest updated_at values, estimates one row, and puts those
# aggregates inside a nested loop: measured 20.6 s instead of 0.09 s for 300 changed rows on
# PostgreSQL 18, hence enable_nestloop=off by default. A disabled plan node adds a huge constant
# to the plan's cost, which then passes jit_above_cost: on a server built with JIT (PostgreSQL 15
# here) compiling the 171-column view costs ~4 s per statement for a 25 ms read, hence jit=off.
SOURCE_SESSION = Setting(
    "source_session", {"enable_nestloop": "off", "jit": "off"}, parse_session,
    "session parameters of the source reads, 'name=value,...'; empty: the server's defaults",
    empty_is_unset=False)

# Where a sync reads its changed conversations (chatwoot_etl.sync.strategy): "auto" reads the
# base tables through an index-friendly query when the source role may and a check on a sample
# found it equal to the view, else the view; "view" always reads the view.
SOURCE_STRATEGY = Setting("source_strategy", "auto", _choice("auto", "view"),
                          "auto: base tables when readable and proven equal to the view; view: always the view")
SOURCE_CHECK_HOURS = Setting("source_check_hours", 24.0, _number(0),
                             "how long an equality check of the base-table query against the view is trusted")

# The DAGs.
RETRIES = Setting("retries", 3, _count, "retries of a task failing with a transient error")
RETRY_DELAY_SECONDS = Setting("retry_delay_seconds", 60.0, _number(0),
                              "first retry delay, doubled at each retry (at most 30 minutes)")
SOURCE_POOL = Setting("source_pool", "chatwoot_source", _text,
                      "Airflow pool of every task that opens a connection to the Chatwoot database")
DEFAULT_SCHEDULE = Setting("default_schedule", "*/15 * * * *", _text,
                           "cron of a tenant without tenants.sync_schedule")
REGISTRY_PATH = Setting("registry_path", "", _text,
                        "registry snapshot the DAG files read (default: <local_dir>/registry/tenants.json)")
REGISTRY_REFRESH_CRON = Setting("registry_refresh_cron", "*/5 * * * *", _text,
                                "schedule of the chatwoot_tenant_registry DAG")
FRESHNESS_CRON = Setting("freshness_cron", "*/15 * * * *", _text, "schedule of the chatwoot_freshness DAG")
FRESHNESS_THRESHOLD_MINUTES = Setting("freshness_threshold_minutes", 60.0, _number(1),
                                      "watermark lag behind the source that raises a freshness alert")

# Alerts.
SLACK_CONN_ID = Setting("slack_conn_id", "chatwoot_alerts_slack", _text, "Slack webhook connection of the alerts")
SMTP_CONN_ID = Setting("smtp_conn_id", "chatwoot_alerts_smtp", _text, "SMTP connection of the alerts")
ALERT_EMAILS = Setting("alert_emails", "", _text, "alert recipients when the SMTP connection's extra has no 'to'")

# The local demo source.
SOURCE_VIEW = Setting("source_view", "deployed", _choice("deployed", "indexable", "single"),
                      "which view definition seed-source builds locally (deployed, indexable or single)")

ALL: tuple[Setting, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Setting))


def report() -> list[dict[str, object]]:
    """Every setting with the value in effect and where it comes from (`chatwoot-etl settings`).

    A value that does not parse is shown with its error instead of stopping the report.
    """
    rows: list[dict[str, object]] = []
    for setting in ALL:
        try:
            value: object = setting.get()
        except ConfigurationError as exc:
            value = f"INVALID: {exc}"
        rows.append({"name": setting.name, "value": value, "from": setting.source(), "meaning": setting.meaning})
    return rows
