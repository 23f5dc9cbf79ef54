# tickcast: `make setup` once, `make test` for everything CI runs, `make demo` to see it work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data/stocknet
export RAY_AUTH_MODE := disabled

.PHONY: help setup chromium lint format test test-fast compile bento serve demo demo-down bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install tickcast with pinned dependencies

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"tickcast needs Python 3.11, found {sys.version.split()[0]} at {sys.executable}"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

chromium: ## Debian's Chromium for the dashboard test (apt, as root, when missing)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] || { echo "install Debian's chromium (apt-get install chromium)"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint chromium ## Lint, then the whole suite against a throwaway PostgreSQL the tests start
	$(BIN)/pytest

test-fast: setup ## The suite without the slow tests
	$(BIN)/pytest -m "not slow"

compile: setup ## Regenerate the compiled KFP YAML of the pipelines and components
	$(BIN)/python -m pipelines.compile

bento: setup ## Build the serving Bento offline (then: bentoml containerize tickcast:latest)
	rm -rf dist && $(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	$(BIN)/python images/pinned_requirements.py > dist/requirements.txt
	$(BIN)/bentoml build -f bentofile.yaml .

serve: setup ## Serve the production model, API and dashboard on localhost:3000
	$(BIN)/tickcast serve

demo: setup ## Ingest DATA (default ../shared/data/stocknet) into the embedded PostgreSQL
	$(BIN)/tickcast db up
	$(BIN)/tickcast ingest --source csv --path $(DATA)

demo-down: setup ## Stop what the demo started
	$(BIN)/tickcast db down

bench: setup ## Benchmarks that print figures
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/tune.py
	$(BIN)/python -m bench.pipelines
	$(BIN)/python -m bench.serve

clean: ## Remove the venv and local state
	rm -rf $(VENV) .tickcast .mypy_cache .ruff_cache .pytest_cache
