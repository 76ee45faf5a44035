"""Where URLs and hosts that operators and admins set may lead (probes, webhooks, export and SIEM
destinations, the LLM endpoint, the JWKS URL): the egress policy of
TRADEOPS_EGRESS_ALLOW, a comma-separated list of CIDRs (a bare IP is a /32 or /128) and host
names (exact, or `*.example.com` for any name under example.com, not example.com itself).

Unset, every address is allowed except the cloud metadata ones: link-local (169.254.0.0/16,
fe80::/10), AWS's IPv6 IMDS (fd00:ec2::254) and Alibaba's (100.100.100.200). Set, only what it
lists is allowed: an address inside a listed CIDR, or any address of a listed name. Metadata
addresses need a listed CIDR in both cases (a listed name resolving to one is still refused).
IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry.

`check_host` runs when a URL is defined and refuses what can never be allowed; `addresses` runs
before every request and refuses when ANY address the host resolves to is outside; the request
then connects to one of those addresses (runtime/pinning.py), not to the name again."""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import urlsplit

SETTING = "TRADEOPS_EGRESS_ALLOW"
Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
# Where a cloud instance's credentials are served: the usual goal of a URL pointed inward.
METADATA = (
    ip_network("169.254.0.0/16"),
    ip_network("fe80::/10"),
    ip_network("fd00:ec2::254/128"),
    ip_network("100.100.100.200/32"),
)
LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
NAME = re.compile(rf"^(\*\.)?({LABEL}\.)*{LABEL}$")
# Looks like an address or a CIDR, so it must parse as one (never silently taken for a name).
ADDRESS_LIKE = re.compile(r"^[0-9.]+$|[:/]")


class Refused(Exception):
    """The policy does not allow this host or address; retrying cannot change that."""


class Unresolvable(Exception):
    """The host has no address right now (perhaps for a while only)."""


@dataclass(frozen=True)
class EgressPolicy:
    networks: tuple[Network, ...] = ()
    names: tuple[str, ...] = ()
    listed: bool = False  # False: the default policy, everything but METADATA

    def allows(self, host: str, address: Address) -> bool:
        """Whether a request to `host` may connect to `address`, one of its addresses."""
        address = _plain(address)
        if any(address in network for network in self.networks):
            return True
        if any(address in network for network in METADATA):
            return False
        return not self.listed or self.names_match(host)

    def names_match(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(_matches(host, name) for name in self.names)

    def check_host(self, host: str) -> None:
        """At definition time: refuses an IP literal outside the policy, and a name when the
        list holds no CIDR it could resolve into and no name entry matching it."""
        literal = _literal(host)
        if literal is not None:
            allowed = self.allows("", literal)
        else:
            allowed = not self.listed or bool(self.networks) or self.names_match(host)
        if not allowed:
            raise Refused(f"url host {host} is not allowed by {SETTING}")

    def check_url(self, url: str) -> None:
        """check_host on the host of a URL (none is refused: nothing to judge)."""
        self.check_host(urlsplit(url).hostname or "")

    async def addresses(self, host: str) -> list[Address]:
        """The host's addresses from one resolution (none for an IP literal), in the resolver's
        order; refuses if any is outside. Connect to one of these, never to the name: resolving
        it again may answer otherwise (DNS rebinding)."""
        literal = _literal(host)
        found = [literal] if literal is not None else await resolve(host)
        return self._judged(host, literal, found)

    def addresses_blocking(self, host: str) -> list[Address]:
        """`addresses` for code that runs in a worker thread, off the event loop (JWKS fetch)."""
        literal = _literal(host)
        found = [literal] if literal is not None else _resolve_blocking(host)
        return self._judged(host, literal, found)

    def _judged(self, host: str, literal: Address | None, found: list[Address]) -> list[Address]:
        for address in found:
            if not self.allows(host, address):
                shown = host if literal is not None else f"{host} ({address})"
                raise Refused(f"url host {shown} is not allowed by {SETTING}")
        return found


DEFAULT = EgressPolicy()


def parse(text: str) -> EgressPolicy:
    """The policy of a TRADEOPS_EGRESS_ALLOW value; ValueError names a malformed entry."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        return DEFAULT
    networks = [_network(e) for e in entries if ADDRESS_LIKE.search(e)]
    names = [_name(e) for e in entries if not ADDRESS_LIKE.search(e)]
    return EgressPolicy(tuple(networks), tuple(names), listed=True)


async def resolve(host: str) -> list[Address]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve url host {host}: {exc}") from None
    return _found(host, found)


def _resolve_blocking(host: str) -> list[Address]:
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve url host {host}: {exc}") from None
    return _found(host, found)


def _found(host: str, found: list[Any]) -> list[Address]:
    if not found:
        raise Unresolvable(f"url host {host} has no address")
    return [ip_address(str(info[4][0]).split("%")[0]) for info in found]


def _network(entry: str) -> Network:
    try:
        return ip_network(entry)
    except ValueError as exc:
        raise ValueError(f"{SETTING} entry {entry!r} is not a valid CIDR: {exc}") from None


def _name(entry: str) -> str:
    name = entry.lower().rstrip(".")
    if not NAME.match(name):
        raise ValueError(
            f"{SETTING} entry {entry!r} is neither a CIDR nor a host name (exact, or *.example.com)"
        )
    return name


def _matches(host: str, name: str) -> bool:
    if name.startswith("*."):
        return host.endswith(name[1:])
    return host == name


def _literal(host: str) -> Address | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


def _plain(address: Address) -> Address:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
