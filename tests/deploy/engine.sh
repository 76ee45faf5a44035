#!/usr/bin/env bash
# A Docker engine and the local base images `make test-deploy` builds on, where no image
# registry is reachable. Usage: tests/deploy/engine.sh OUT_DIR
#   - installs docker.io, docker-compose and debootstrap when missing (apt, as root);
#   - starts dockerd unless one answers (pid file OUT_DIR/dockerd.pid, log OUT_DIR/dockerd.log)
#     and prints "started" then, "running" otherwise, as its last line;
#   - builds, unless the tag exists: $BASE_IMAGE, a Debian bookworm root (debootstrap) with
#     python3, venv, pip and this machine's extra CA certificates (apt and pip inside go through
#     the same TLS-inspecting proxy as the host); $POSTGRES_IMAGE, PostgreSQL 15 on that base
#     with an entrypoint honouring POSTGRES_PASSWORD, POSTGRES_USER and POSTGRES_DB.
# Idempotent and quick when everything is there.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: tests/deploy/engine.sh OUT_DIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
BASE_IMAGE=${TRADEOPS_BASE_IMAGE:-tradeops-base:bookworm}
POSTGRES_IMAGE=${TRADEOPS_POSTGRES_IMAGE:-tradeops-postgres:15}
mkdir -p "$OUT"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[[ -x /usr/sbin/debootstrap ]] || missing+=(debootstrap)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

state=running
if ! docker info >/dev/null 2>&1; then
  # A session of its own: a Ctrl-C meant for the tests must not reach the engine mid-teardown.
  setsid dockerd --pidfile "$OUT/dockerd.pid" >"$OUT/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 150); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker info >/dev/null 2>&1 || {
    echo "engine.sh: dockerd did not answer within 30 s; its log:" >&2
    tail -n 30 "$OUT/dockerd.log" >&2
    exit 1
  }
  state=started
fi

# The host's Debian mirror (deb822 or one-line sources), for debootstrap and for apt inside.
mirror() {
  local found
  found=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v security | head -n 1 || true)
  [[ -n "$found" ]] || found=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    | awk '{print $2}' | grep -v security | head -n 1 || true)
  echo "${found:-http://deb.debian.org/debian}"
}

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  root=$(mktemp -d "$OUT/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "engine.sh: building $BASE_IMAGE (debootstrap bookworm from $(mirror))" >&2
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$root" "$(mirror)" >"$OUT/debootstrap.log" 2>&1 || {
    tail -n 30 "$OUT/debootstrap.log" >&2
    exit 1
  }
  # Without them pip and apt inside refuse the proxy's certificates.
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

if ! docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1; then
  echo "engine.sh: building $POSTGRES_IMAGE on $BASE_IMAGE" >&2
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$POSTGRES_IMAGE" \
    "$HERE/postgres" >"$OUT/postgres-build.log"
fi

echo "$state"
