# tradeops: the commands people type. `make run` and `make test` are the quick start.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# The interpreter the venv is made from: Python 3.11 where the machine has one that runs (a
# pyenv shim may exist and refuse), else python3. 3.11 to 3.13 are supported.
ifndef PYTHON
PYTHON := $(shell python3.11 -c '' >/dev/null 2>&1 && echo python3.11 || echo python3)
endif
# uv installs uv.lock; itself comes pinned, with hashes, from deploy/uv-requirements.txt.
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Trust the machine's certificate store, as pip and git do: a firm's TLS-inspecting proxy is
# trusted there, and not in the roots uv carries by itself.
export UV_SYSTEM_CERTS ?= 1
# `make lock UPGRADE=cryptography` (or UPGRADE="a b", or UPGRADE=all) moves those packages to
# their newest allowed release; plain `make lock` changes only what pyproject.toml forces.
UPGRADE ?=
LOCK_UPGRADE := $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))

.PHONY: install lock lock-check run test test-matrix test-deploy lint protos protos-check migrate \
	bench token compose-secrets clean vendor-apidocs docs

$(UV): deploy/uv-requirements.txt
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { \
	  echo "tradeops: $(PYTHON) has no pip to fetch uv with (Debian: apt-get install python3-pip)" >&2; \
	  exit 1; }
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -q --disable-pip-version-check \
	  --no-deps --require-hashes --upgrade --target $(TOOLS) -r deploy/uv-requirements.txt
	touch $@

# Exactly the lock, nothing resolved on the day; only when the lock (or uv) changed.
$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --quiet --python $(PYTHON)
	touch $@

# The lock is checked first, every time (about 0.15 s): a pyproject.toml edited after the last
# install is refused with the same message as one edited before it.
install: lock-check $(VENV)/.installed

lock-check: $(UV)
	@$(UV) lock --check --quiet || { \
	  echo "tradeops: uv.lock does not match pyproject.toml: a dependency changed without 'make lock'." >&2; \
	  echo "          Run 'make lock', read 'git diff uv.lock', run 'make test', commit both files." >&2; \
	  exit 1; }

# The one deliberate way the lock changes (see the README's "Dependencies").
lock: $(UV)
	$(UV) lock $(LOCK_UPGRADE)

run: install
	$(PY) -m runtime.launcher

test: install
	bash tests/peers/install.sh
	$(PY) -m pytest -q -p no:cacheprovider

# docker-compose.yml on a real Docker engine (tests/deploy): images built, the stack up, the
# walkthrough, a service killed and back, all torn down. Starts dockerd and builds local base
# images when missing (tests/deploy/engine.sh); `make test` leaves these tests out.
test-deploy: install
	TRADEOPS_TEST_DEPLOY=1 $(PY) -m pytest -q -p no:cacheprovider tests/deploy

# The tests that need no PostgreSQL, on every Python 3.11 to 3.13 the machine has, each in a
# venv of its own made from the same lock (TEST_MATRIX_REQUIRE="3.12 3.13" fails if one is missing).
test-matrix: lock-check $(UV)
	bash tests/peers/install.sh
	bash tests/matrix.sh $(UV)

# The README's route, configuration and audit-event tables, made again from the code (docgen/);
# `make test` fails while the committed README differs from what this writes.
docs: install
	$(PY) -m docgen

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Refetch the npm files /docs and /redoc serve (gateway/apidocs/static/vendored.json names them,
# with versions, integrity and patches); the one step here that needs the npm registry.
vendor-apidocs: install
	$(PY) -m gateway.apidocs.vendor

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

# Every key and password docker-compose.yml mounts or interpolates, made where missing
# (then: docker-compose --env-file .tradeops/compose/compose.env up -d).
compose-secrets: install
	$(VENV)/bin/tradeops deploy init .tradeops/compose

clean:
	rm -rf $(VENV) $(TOOLS) .venv-matrix .tradeops
