"""HTTP(S) POST to a Splunk-HEC-like collector: `Authorization: Splunk <token>`, a 2xx answer
confirms the whole batch. The token is read from its file at open and never logged. Each POST
goes to an address the egress policy checked (runtime/pinning.py), never redirected."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx

from runtime.egress import DEFAULT, EgressPolicy
from runtime.pinning import send
from services.audit.siem.clients.tls import client_context
from services.audit.siem.domain.batches import Position
from services.audit.siem.settings import Destination


class Refused(ConnectionError):
    pass


class HttpLink:
    acknowledges = True

    def __init__(self, destination: Destination, egress: EgressPolicy = DEFAULT) -> None:
        self._destination, self._egress = destination, egress
        self._client: httpx.AsyncClient | None = None
        self._delivered: Position | None = None

    async def open(self) -> None:
        token = (await asyncio.to_thread(Path(self._destination.token_file).read_text)).strip()
        if not token:
            raise Refused(f"the token file {self._destination.token_file} is empty")
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Splunk {token}", "Content-Type": "application/json"},
            timeout=self._destination.timeout_s,
            verify=client_context(self._destination),
        )

    async def send(self, messages: Sequence[bytes], marks: Sequence[Position]) -> None:
        if self._client is None:
            raise Refused("not open")
        body = b"\n".join(messages)
        request = self._client.build_request("POST", self._destination.url, content=body)
        response = await send(self._client, self._egress, request)
        if not response.is_success:
            raise Refused(f"the collector answered {response.status_code}")
        self._delivered = marks[-1]

    def confirmed(self) -> Position | None:
        delivered, self._delivered = self._delivered, None
        return delivered

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
