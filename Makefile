# The README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install install-test lint docs docs-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

demo: install
	$(BIN)/huntbook demo --out huntbook-demo
	@echo "huntbook is installed in $(VENV): run '. $(VENV)/bin/activate' to have the huntbook command on your PATH."

test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

docs: install-test
	$(BIN)/cog -r docs/*.md

docs-check: install-test
	$(BIN)/cog --check docs/*.md

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) huntbook-store huntbook-demo .pytest_cache
