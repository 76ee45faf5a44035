# tradeops: the commands people type. `make run` and `make test` are the quick start.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROTO_SRC := $(shell find protos -name '*.proto' | sort)

.PHONY: install run test lint protos protos-check migrate bench token clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m runtime.launcher

test: install
	bash tests/peers/install.sh
	$(PY) -m pytest -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Generated code lives in tradeops/ (mirrors the proto packages, so imports need no rewriting).
protos: install
	$(PY) -m runtime.protogen tradeops

migrate: install
	$(PY) -m runtime.launcher --migrate-only

# Every benchmark in bench/, one after another, then one table (BENCH="name ..." picks some).
bench: install
	$(PY) bench $(BENCH)

token: install
	$(VENV)/bin/tradeops token --sub alice --roles ops

clean:
	rm -rf $(VENV) .tradeops
