# The two commands: `make demo` (the whole job on the embedded default) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# the benchmark's peer (dlt) and its plotting, in an environment of their own
PEER_VENV := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed-stamp

export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False

.PHONY: install demo test test-fast lint typecheck test-unit test-integration e2e soak bench bench-parse registry-refresh lock embedded-stop clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(STAMP)

$(PEER_STAMP): bench/requirements-peer.txt bench/constraints-peer.txt
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/pip install --quiet -r bench/requirements-peer.txt -c bench/constraints-peer.txt
	touch $@

demo: install
	$(BIN)/chatwoot-etl demo

# The whole suite (what CI runs): lint, types, then unit, integration (real PostgreSQL) and e2e (Airflow).
test: lint typecheck
	$(BIN)/pytest

# The inner loop, under a minute: lint, types, unit tests (the DAG-parse tests included, no services).
test-fast: lint typecheck test-unit

lint: install
	$(BIN)/ruff check plugins dags tests bench

typecheck: install
	$(BIN)/mypy

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

# Airflow itself: DagBag, `airflow dags test`, the real scheduler, failure alerts.
e2e: install
	$(BIN)/pytest tests/e2e

# The fault harness for longer than `make test` gives it (SOAK_SECONDS, default 30 min): seeded
# rounds of kills, lock contention, inbox moves, poison and stranded rows; each round prints its seed.
SOAK_SECONDS ?= 1800
soak: install
	FAULT_BUDGET_SECONDS=$(SOAK_SECONDS) $(BIN)/pytest tests/faults -p no:logging

# The benchmark suite (figures and ratios, never a pass/fail): `make bench BENCH_ARGS=--quick`
# for a smoke run, `BENCH_ARGS="--scale 5"` for 1M conversations. Results: bench/results/latest.json
# (with dlt side by side, installed into .venv-peer) and its picture latest.png, the source's cost
# per tenant at 1x / 5x per strategy in bench/results/source_cost.json, and the lead classifier's
# conversations per second against the one before the dialogue rules (lead_classifier.json).
bench: install $(PEER_STAMP)
	BENCH_PEER_PYTHON=$(CURDIR)/$(PEER_VENV)/bin/python $(BIN)/python bench/run.py $(BENCH_ARGS)
	$(PEER_VENV)/bin/python bench/plot.py
	$(BIN)/python bench/source_cost.py $(SOURCE_COST_ARGS)
	$(BIN)/python bench/lead_classifier.py

# Parse time of the DAG folder for 10, 100 and 500 registered tenants.
bench-parse: install
	$(BIN)/python bench/parse_time.py

registry-refresh: install
	$(BIN)/chatwoot-etl registry refresh

# Re-resolve the full pinned set after changing requirements.txt.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.txt
	.lock-venv/bin/pip freeze > constraints.txt
	rm -rf .lock-venv

embedded-stop:
	-$(BIN)/chatwoot-etl embedded stop

clean: embedded-stop
	rm -rf .local $(VENV)

# The CeleryExecutor stack of docker-compose.yaml as real processes (Redis, api-server, scheduler,
# dag-processor, two Celery workers), one worker killed mid-run; plus the compose file's checks.
.PHONY: e2e-celery
e2e-celery: install
	$(BIN)/pytest tests/e2e/test_compose_file.py tests/e2e/test_celery_distributed.py -s -rs
