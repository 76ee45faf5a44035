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

bench: install
	@failed=0; for b in bench/[!_]*.py; do $(PY) "$$b" || failed=1; done; exit $$failed

token: install
	$(VENV)/bin/tradeops token --sub alice --roles ops

clean:
	rm -rf $(VENV) .tradeops
