"""A tenant's sync schedule (tenants.sync_schedule): checked once, where it is set and where the
registry reads it, with the reason a bad one is refused."""

from __future__ import annotations

from datetime import datetime

PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight")


def schedule_problem(expression: str) -> str | None:
    """Why the cron expression (5 fields, 6 with seconds, or an Airflow preset) cannot schedule a
    DAG; None if it can."""
    text = expression.strip()
    if text.startswith("@"):
        return None if text in PRESETS else f"unknown preset (one of {', '.join(PRESETS)})"
    fields = text.split()
    if len(fields) not in (5, 6):
        return f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}"
    # Airflow's own cron parser (imported here only: the DAG-parse path never checks a schedule)
    from croniter import CroniterBadDateError, croniter

    if not croniter.is_valid(text):
        return "not a valid cron expression"
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        return "it never fires (no such date)"
    return None
