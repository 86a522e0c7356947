# Lodestar: `make demo` runs the main job on the shipped data; `make test` runs the test suite.
# Both install everything they need first (uv, the locked environment in .venv/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export LODESTAR_HOME ?= $(CURDIR)/.lodestar
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: setup demo test test-fast lint bench-affinity bench-parse clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/lodestar demo

test: setup
	$(VENV)/bin/python -m pytest

test-fast: setup
	$(VENV)/bin/python -m pytest -m "unit"

lint: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

bench-affinity: setup
	$(VENV)/bin/python bench/affinity/run.py

bench-parse: setup
	$(VENV)/bin/python bench/parse/run.py

clean:
	rm -rf $(LODESTAR_HOME) dbt_project/target dbt_project/logs
