# The two commands: `make run` serves the demo, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app

.PHONY: install run test lint format messages bench clean

install: $(STAMP) catalogs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(BIN)/pybabel compile --statistics -d market/translations

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask market demo --if-empty
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py app:app

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Two workers (the machines have two cores), whole files to one worker so that a module's
# server starts once; `make test XDIST=` runs in one process. Tests marked `serial` run after,
# in one process: under xdist schemathesis's generated cases share one node id and only the
# first would run. Exit 5 there means "none selected" (a PYTEST_ARGS without them).
XDIST ?= -n 2 --dist loadfile

test: install lint
	rm -rf tests/e2e/artifacts  # screenshots of this run only
	$(BIN)/python -m pytest $(XDIST) -m "not serial" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Extract strings and merge them into the catalogs; translate what is new in the zh_CN .po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o market/translations/messages.pot \
		--no-location --sort-output --project tidal-market .
	$(BIN)/pybabel update -i market/translations/messages.pot -d market/translations \
		--width 100 --ignore-obsolete --no-fuzzy-matching

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
