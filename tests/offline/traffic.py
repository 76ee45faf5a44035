"""Which addresses the stack's processes tried to reach, from an strace log of their connect,
sendto and sendmsg calls (whatever each call's outcome: in a namespace with only a loopback
interface a call to any other address fails at once, so a failure is the only trace it leaves)."""

from __future__ import annotations

import re
from ipaddress import IPv6Address, ip_address
from pathlib import Path

TRACED = "connect,sendto,sendmsg"
# How strace prints an IPv4 and an IPv6 socket address.
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def strace_argv(log: Path) -> list[str]:
    """strace in front of a command: every process it starts, only the calls that address a
    peer (a seccomp filter stops no other call), no payloads."""
    return [
        "strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={TRACED}", "-e", "signal=none",
        "-s", "0", "-o", str(log),
    ]  # fmt: skip


def is_local(address: str) -> bool:
    parsed = ip_address(address)
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback or parsed.is_unspecified


def outside(log: Path) -> list[str]:
    """Each line of the log that addresses anything but this machine's loopback."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        addresses = [v4 or v6 for v4, v6 in ADDRESS.findall(line)]
        if any(not is_local(address) for address in addresses):
            found.append(line)
    return found


def addressed(log: Path) -> int:
    """How many calls named an IP address at all: shows the log saw the stack's own traffic."""
    return sum(1 for line in log.read_text(errors="replace").splitlines() if ADDRESS.search(line))
