"""A stream connection to a syslog receiver (plain or TLS, for octet-counted syslog and RELP).
The host is resolved once and judged by the egress policy; the connection goes to a checked
address (TLS still names and verifies the configured host, or `server_name`), so a second
lookup cannot lead elsewhere."""

from __future__ import annotations

import asyncio

from runtime.egress import EgressPolicy
from services.audit.siem.clients.tls import client_context
from services.audit.siem.settings import Destination

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(destination: Destination, egress: EgressPolicy) -> Stream:
    d = destination
    addresses = await egress.addresses(d.host)  # egress.Refused: retried, logged
    for index, address in enumerate(addresses):
        connecting = asyncio.open_connection(
            str(address),
            d.port,
            ssl=client_context(d) if d.tls else None,
            server_hostname=(d.server_name or d.host) if d.tls else None,
        )
        try:
            return await asyncio.wait_for(connecting, d.timeout_s)
        except OSError:
            if index == len(addresses) - 1:
                raise
    raise OSError(f"{d.host} resolved to no address")
