"""The closed-network drill's witness: strace, as the drill runs it, catches a process that
tries to reach another address, whichever call it uses, though the call fails at once in a
namespace with only a loopback interface; and it leaves loopback traffic alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.offline import traffic

# Each snippet tries one peer, in a namespace of its own: 192.0.2.1 and 2001:db8::1 are
# documentation addresses (RFC 5737, RFC 3849), and nothing leaves the namespace anyway.
TRIES = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(family, kind)
try:
    if sys.argv[1] == "udp":
        s.sendto(b"x", (sys.argv[2], 53))
    else:
        s.connect((sys.argv[2], 80))
except OSError:
    pass
"""


def traced(tmp_path: Path, how: str, address: str) -> Path:
    log = tmp_path / "calls.trace"
    argv = [*traffic.strace_argv(log), sys.executable, "-c", TRIES, how, address]
    subprocess.run(["unshare", "--net", "--", *argv], check=True, timeout=60)
    return log


@pytest.mark.parametrize(
    ("how", "address"),
    [("tcp", "192.0.2.1"), ("udp", "192.0.2.1"), ("tcp", "2001:db8::1"), ("udp", "2001:db8::1")],
)
def test_an_attempt_to_reach_another_address_is_caught(
    tmp_path: Path, how: str, address: str
) -> None:
    log = traced(tmp_path, how, address)

    found = traffic.outside(log)
    assert len(found) == 1
    assert address in found[0]


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_traffic_is_not_reported(tmp_path: Path, address: str) -> None:
    log = traced(tmp_path, "tcp", address)

    assert traffic.addressed(log) == 1
    assert traffic.outside(log) == []
