# Lodestar: `make demo` runs the main job on the shipped data; `make test` runs the test suite.
# Both install what they need first: uv (in .tools/), the locked environment (.venv/), the
# compiled dbt manifest the DAGs read, and for the tests the system packages they start.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
LODESTAR := $(VENV)/bin/lodestar
PYTEST_ARGS ?=
export LODESTAR_HOME ?= $(CURDIR)/.lodestar
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: setup system-deps test-deps demo test test-fast lint bench-affinity bench-parse \
	airflow-standalone clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups
	touch $@

# Java runs Spark; the machine needs a JRE 17 (Debian's package when missing).
system-deps:
	@command -v java >/dev/null || { apt-get update -qq && \
		apt-get install -y -qq openjdk-17-jre-headless; }

# The browser test drives Debian's Chromium; the cluster tests start Debian's PostgreSQL.
test-deps: system-deps
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		apt-get update -qq && apt-get install -y -qq postgresql; }

setup: $(VENV)/.synced system-deps
	$(LODESTAR) dbt compile

demo: setup
	$(LODESTAR) demo

test: setup test-deps
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(VENV)/bin/python -m pytest -m "unit" $(PYTEST_ARGS)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench-affinity: setup
	$(VENV)/bin/python bench/affinity/run.py

bench-parse: setup
	$(VENV)/bin/python bench/parse/run.py

# Scheduler, API server and UI on http://127.0.0.1:8080 with the project's DAGs and plugin.
airflow-standalone: setup
	$(LODESTAR) airflow standalone

clean:
	rm -rf $(LODESTAR_HOME) dbt_project/target dbt_project/logs
