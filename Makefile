# HyperFleet (Python) — single entry point. Every target runs in the project venv (.venv),
# created on first use from pyproject.toml.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
CODE := src tests $(wildcard bench)

.DEFAULT_GOAL := help

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: help
help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: install
install: $(STAMP) ## Create the venv and install the project with dev tools

.PHONY: fmt
fmt: $(STAMP) ## Format and autofix
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

.PHONY: lint
lint: $(STAMP) ## ruff format --check, ruff check, mypy --strict, import contracts
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy src
	$(BIN)/lint-imports

.PHONY: test
test: $(STAMP) ## Unit tests (no database, no sockets)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: $(STAMP) ## Integration + API tests on real PostgreSQL
	$(BIN)/pytest tests/integration tests/api $(PYTEST_ARGS)

.PHONY: test-all
test-all: lint $(STAMP) ## Lint, then the whole test suite with coverage
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage report --fail-under=85

.PHONY: run
run: $(STAMP) ## Run the API (embedded PostgreSQL unless HYPERFLEET_DATABASE_URL is set)
	$(BIN)/hyperfleet serve

.PHONY: bench
bench: $(STAMP) ## API benchmark against a running server (see bench/README.md)
	$(BIN)/python bench/api_bench.py

.PHONY: build
build: $(STAMP) ## Build sdist and wheel
	$(BIN)/python -m pip wheel --no-deps -w dist .

.PHONY: generate
generate: ## Refresh the vendored OpenAPI contract from ../shared/reference
	cp ../shared/reference/openapi.yaml openapi/openapi.yaml
	cp openapi/openapi.yaml src/hyperfleet/rest/openapi.yaml

.PHONY: clean
clean: ## Remove build and cache output
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov src/*.egg-info
