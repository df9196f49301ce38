# Issues & Insights Tracker: `make run` starts everything, `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
WEB_STAMP := frontend/node_modules/.installed
WEB_BUILD := frontend/build/handler.js
OPENAPI := frontend/src/lib/api/openapi.json

.PHONY: help setup run test lint typecheck test-backend test-e2e web-check api-types compose-check bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY_STAMP): backend/requirements-dev.lock backend/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip install -q --python $(BIN)/python -r backend/requirements-dev.lock -e backend
	@touch $@

$(WEB_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_BUILD): $(WEB_STAMP) $(shell find frontend/src frontend/static -type f 2>/dev/null) $(wildcard frontend/svelte.config.js frontend/vite.config.ts frontend/package.json frontend/server.js)
	cd frontend && npm run build --silent

setup: $(PY_STAMP) $(WEB_BUILD) ## Install the backend into .venv and build the web app

run: setup ## Start database, API, worker and web; prints the URL to open
	@$(BIN)/tracker up

api-types: $(PY_STAMP) $(WEB_STAMP) ## Regenerate the OpenAPI schema and the frontend's types
	$(BIN)/tracker openapi --out $(OPENAPI)
	cd frontend && npm run --silent gen:api

lint: $(PY_STAMP) ## ruff lint and format check
	cd backend && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .

typecheck: $(PY_STAMP) ## mypy on the backend
	cd backend && ../$(BIN)/mypy

web-check: $(PY_STAMP) $(WEB_STAMP) ## prettier, svelte-check, stale API types and unit tests
	@$(BIN)/tracker openapi --out /tmp/tracker-openapi.$$$$.json && \
	  if ! diff -q /tmp/tracker-openapi.$$$$.json $(OPENAPI) >/dev/null; then \
	    rm -f /tmp/tracker-openapi.$$$$.json; \
	    echo "$(OPENAPI) is stale: run 'make api-types' and commit the result" >&2; exit 1; \
	  fi; rm -f /tmp/tracker-openapi.$$$$.json
	cd frontend && npm run --silent check:api && npm run --silent lint && npm run --silent check
	cd frontend && npm run --silent test:unit

test-backend: $(PY_STAMP) ## Backend tests with coverage (fails under 85 %)
	cd backend && ../$(BIN)/pytest -m "not e2e" --cov --cov-report=term --cov-fail-under=85 -p no:cacheprovider

test-e2e: $(PY_STAMP) $(WEB_BUILD) ## Browser tests in Debian's Chromium against the running stack
	scripts/install-system-packages
	cd backend && ../$(BIN)/pytest -m e2e tests/e2e -p no:cacheprovider

compose-check: ## Validate deploy/compose.yaml
	scripts/install-system-packages
	cd deploy && docker-compose --env-file .env.example -f compose.yaml config -q

test: lint typecheck web-check test-backend $(WEB_BUILD) test-e2e compose-check ## Every check: lint, types, tests, build, browser tests

bench: $(PY_STAMP) ## Load benchmarks against a raw baseline at 10,000 and 100,000 issues (bench/README.md)
	$(BIN)/python bench/run.py

clean: ## Remove build output and caches (keeps .data)
	rm -rf frontend/build frontend/.svelte-kit backend/.pytest_cache backend/.mypy_cache backend/.ruff_cache backend/.coverage
