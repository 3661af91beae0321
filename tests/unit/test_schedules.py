import pytest

from chatwoot_etl.schedules import schedule_problem


@pytest.mark.parametrize("expression", ["*/15 * * * *", "0 3 * * 1-5", " 0 6 * * * ", "@daily", "0 0 * * * *"])
def test_schedules_airflow_can_run(expression):
    assert schedule_problem(expression) is None


@pytest.mark.parametrize("expression, problem", [
    ("", "5 fields"), ("every hour", "not 2"), ("* * *", "not 3"), ("@sometimes", "unknown preset"),
    ("61 * * * *", "not a valid cron"), ("*/0 * * * *", "not a valid cron"), ("0 0 31 2 *", "never fires"),
])
def test_bad_schedules_say_why(expression, problem):
    assert problem in schedule_problem(expression)
