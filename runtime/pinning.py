"""Requests that connect to an address the egress policy checked, never to a name resolved again
(DNS rebinding): the host is resolved once (EgressPolicy.addresses), the request's URL gets one of
those addresses as its host, and the Host header and, for https, the TLS server name stay the
URL's own host. httpcore hands the `sni_hostname` request extension to ssl as server_hostname,
which is both the SNI name sent and the name the certificate is verified against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from runtime.egress import Address, EgressPolicy


@dataclass(frozen=True)
class Pinned:
    """A request to `url` as sent to one address: the URL, the headers and extensions to add."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


def pin(url: str, address: Address) -> Pinned:
    original = httpx.URL(url)
    headers = {"Host": original.netloc.decode("ascii")}
    extensions: dict[str, Any] = {}
    if original.scheme == "https":
        extensions["sni_hostname"] = original.raw_host.decode("ascii")
        # The pool keys connections by address alone: another name served from the same address
        # must not reuse a connection whose certificate was verified for this one.
        headers["Connection"] = "close"
    return Pinned(str(original.copy_with(host=str(address))), headers, extensions)


async def pinned(policy: EgressPolicy, url: str) -> list[Pinned]:
    """The URL pinned to each address of one resolution, in the resolver's order; egress.Refused
    if any address is outside the policy, egress.Unresolvable if there is none."""
    host = httpx.URL(url).raw_host.decode("ascii")
    return [pin(url, address) for address in await policy.addresses(host)]


async def send(
    client: httpx.AsyncClient, policy: EgressPolicy, request: httpx.Request, *, stream: bool = False
) -> httpx.Response:
    """Sends `request` to the first checked address of its host, to the next one only when no
    connection could be made (so nothing was sent). Redirects are never followed: the policy
    judged this URL's host, not wherever an answer points."""
    targets = await pinned(policy, str(request.url))
    for target in targets[:-1]:
        try:
            return await _send(client, request, target, stream)
        except httpx.ConnectError:
            continue
    return await _send(client, request, targets[-1], stream)


async def _send(
    client: httpx.AsyncClient, request: httpx.Request, target: Pinned, stream: bool
) -> httpx.Response:
    headers = request.headers.copy()
    headers.update(target.headers)
    extensions = {**request.extensions, **target.extensions}
    to_address = httpx.Request(
        request.method, target.url, headers=headers, stream=request.stream, extensions=extensions
    )
    return await client.send(to_address, stream=stream, follow_redirects=False)
