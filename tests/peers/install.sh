#!/usr/bin/env bash
# System packages the test suite needs besides the Python venv. Run by `make test` as root
# before pytest. Idempotent: each section checks first and only installs what is missing, so a
# second run is fast. Add new sections below; keep each one "check, then install".
set -euo pipefail

APT_UPDATED=0

apt_install() {
  # Installs Debian packages (no recommends), running `apt-get update` at most once per run.
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# --- docker-compose: offline validation of docker-compose.yml (tests/test_deploy_files.py) ---
if ! command -v docker-compose >/dev/null 2>&1; then
  apt_install docker-compose
fi

# --- rsyslog: a private syslog receiver for the SIEM forwarding tests (tests/audit/siem/) ---
if ! command -v rsyslogd >/dev/null 2>&1; then
  apt_install rsyslog
fi
# TLS (RFC 5425) needs the OpenSSL network stream driver, packaged separately.
if ! dpkg -s rsyslog-openssl >/dev/null 2>&1; then
  apt_install rsyslog-openssl
fi
# RELP (imrelp), the acknowledging transport, is packaged separately too.
if ! dpkg -s rsyslog-relp >/dev/null 2>&1; then
  apt_install rsyslog-relp
fi

# --- openssh-server: a private sshd as a real SFTP peer for export delivery (tests/export/sshd.py) ---
# sshd lives in /usr/sbin, which is not on every root PATH: check the file, not `command -v`.
if [[ ! -x /usr/sbin/sshd ]] && ! command -v sshd >/dev/null 2>&1; then
  apt_install openssh-server
fi

# --- chromium: the real browser for the pages the gateway serves (tests/browser.py, Playwright
# drives it; no browser is downloaded) ---
if [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi

# --- Node packages the console's tests run, each folder installed exactly as its
# package-lock.json pins it, and again only when the lock changed (a copy of the lock it was
# installed from is kept beside it): axe-core, the accessibility checker run in chromium, and
# oidc-provider, a real OpenID Connect provider (tests/console/oidc_peer.py) ---
npm_peer() {
  local folder="$1"
  if cmp -s "$folder/package-lock.json" "$folder/node_modules/.installed-from-lock" 2>/dev/null; then
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  (cd "$folder" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$folder/package-lock.json" "$folder/node_modules/.installed-from-lock"
}
npm_peer "$(dirname "$0")/axe"
npm_peer "$(dirname "$0")/oidc"

# --- strace and ip: the closed-network drill (tests/offline/) traces the stack's connections
# inside a network namespace of its own ---
if ! command -v strace >/dev/null 2>&1; then
  apt_install strace
fi
if ! command -v ip >/dev/null 2>&1; then
  apt_install iproute2
fi

exit 0
