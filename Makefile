# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck pytest migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes, so re-running is fast.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/nurture migrate
	$(BIN)/nurture run

migrate: $(VENV)/.installed-run
	$(BIN)/nurture migrate

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check nurture workers tests bench
	$(BIN)/ruff format --check nurture workers tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy nurture workers

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -n 2

test: lint typecheck pytest

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
