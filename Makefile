# The README's two commands: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall when the dependencies or their pins change.
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?= -n 2
DEMO_INCIDENTS ?= 5000

.PHONY: demo test lint bench vendor install clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[test,lint]"
	touch $(INSTALLED)

install: $(INSTALLED)

## demo: fresh clone -> venv, install, migrate, seed demo incidents if empty, print sign-in details, serve
demo: $(INSTALLED)
	$(BIN)/tnrwatch db upgrade
	$(BIN)/tnrwatch demo seed --incidents $(DEMO_INCIDENTS) --seed 1 --if-empty
	$(BIN)/tnrwatch demo credentials
	$(BIN)/tnrwatch serve

## test: fresh clone -> venv, install, run every test (PostgreSQL too when TNRWATCH_TEST_DATABASE_URL is set)
test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

## lint: ruff, formatting, mypy --strict, the layer contract
lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: the benchmarks in bench/ (results go to docs/benchmarks.md by hand, with machine and date)
bench: $(INSTALLED)
	$(BIN)/python bench/run.py

## vendor: copy pinned front-end files from npm into the tree (needs Node; the copies are committed)
vendor:
	npm ci --no-audit --no-fund
	$(PYTHON) scripts/vendor.py

## docs: regenerate the taxonomy reference
docs: $(INSTALLED)
	$(BIN)/tnrwatch taxonomy export --format md -o docs/taxonomy.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
