#!/usr/bin/env bash
# `make test-matrix`: the tests that need no PostgreSQL (pytest -m "not postgres"), on every
# Python from 3.11 to 3.13 this machine has, each in a venv of its own (.venv-matrix/pyX.Y)
# installed from the one uv.lock. Usage: tests/matrix.sh PATH_TO_UV.
# TEST_MATRIX_REQUIRE="3.11 3.12 3.13" turns a missing interpreter into a failure (CI sets it).
set -euo pipefail
UV=$(realpath "${1:?usage: tests/matrix.sh PATH_TO_UV}")
cd "$(dirname "$0")/.."

# An interpreter of version $1 that actually runs: a pyenv shim may be on PATH and refuse.
find_python() {
  local version=$1 candidate pyenv_root
  pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for candidate in "$(command -v "python$version" || true)" \
    "$pyenv_root"/versions/"$version".*/bin/"python$version"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    if [[ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
      == "$version" ]]; then
      echo "$candidate"
      return
    fi
  done
}

run_one() {
  local python=$1 venv=.venv-matrix/py$2
  UV_PROJECT_ENVIRONMENT=$venv "$UV" sync --locked --quiet --python "$python"
  # No PostgreSQL binaries: a test that starts a server without being marked `postgres` fails
  # here, instead of passing by luck on a machine that has them.
  TRADEOPS_PG_BINDIR=/nonexistent/tradeops-test-matrix "$venv/bin/python" -m pytest -q \
    -p no:cacheprovider -m "not postgres"
}

summary=() failed=0 ran=0
for version in 3.11 3.12 3.13; do
  python=$(find_python "$version")
  if [[ -z "$python" ]]; then
    if [[ " ${TEST_MATRIX_REQUIRE:-} " == *" $version "* ]]; then
      summary+=("$version: MISSING (required)")
      failed=1
    else
      summary+=("$version: not on this machine, skipped")
    fi
    continue
  fi
  echo "== test-matrix: Python $version ($python)"
  ran=$((ran + 1))
  if run_one "$python" "$version"; then
    summary+=("$version: passed ($python)")
  else
    summary+=("$version: FAILED ($python)")
    failed=1
  fi
done

printf 'test-matrix: %s\n' "${summary[@]}"
if [[ $ran -eq 0 ]]; then
  echo "test-matrix: no Python 3.11 to 3.13 found" >&2
  exit 1
fi
exit $failed
