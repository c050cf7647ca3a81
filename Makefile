# The two README commands. Everything else is the `shuchang` command.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test setup lint bench

$(BIN)/shuchang: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/shuchang

setup: $(BIN)/shuchang

## Set up and start the platform on SQLite with the demo region; prints the console URL and keys.
run: setup
	$(BIN)/shuchang serve --demo

## Set up and run the whole test suite (SQLite and PostgreSQL, console in headless Chromium).
test: setup
	./scripts/test

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/participants_load.py
