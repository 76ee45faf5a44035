"""An HTTP(S) destination: each file is sent by PUT or POST to a URL template with `{export_id}`
and `{file}` (both percent-encoded), with `Authorization: Bearer <token>` when a token file is
configured (read at each use, so a rotated token is picked up; never logged). HTTP has no
rename: files go data first, `manifest.json` and `manifest.json.sig` last, so the signature's
arrival marks the export complete. Fetch-back GETs the same URLs: the manifest first, then
every file it lists, then the signature. Each request goes to an address the egress policy
checked (runtime/pinning.py), and a redirect is never followed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from runtime.egress import DEFAULT, EgressPolicy, Refused, Unresolvable
from runtime.pinning import send
from services.export.clients.destinations import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    SUMS,
    DeliveryError,
    checked_id,
    local_files,
)

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class HttpDestination:
    name: str
    url: str
    method: str = "PUT"
    token_file: Path | None = None
    timeout_s: float = 60.0
    egress: EgressPolicy = DEFAULT

    def location(self, export_id: str) -> str:
        url = urlsplit(self.url.format(export_id=quote(export_id, safe=""), file=""))
        host = url.netloc.rpartition("@")[2]  # never the credentials
        return urlunsplit(url._replace(netloc=host, query="", fragment=""))

    async def put_directory(self, local_dir: Path, export_id: str) -> int:
        checked_id(export_id)
        sent = 0
        async with self._client() as client:
            for name in local_files(local_dir):
                path = local_dir / name
                size = path.stat().st_size
                headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
                response = await self._call(
                    client, self.method, export_id, name, content=_chunks(path), headers=headers
                )
                _expect_success(response, self.method, name)
                sent += size
        return sent

    async def fetch_directory(self, export_id: str, into: Path) -> None:
        checked_id(export_id)
        async with self._client() as client:
            manifest = await self._get(client, export_id, MANIFEST)
            for name in [*_listed(manifest), SUMS, PUBLIC_KEY, SIGNATURE]:
                await _write(into / name, await self._get(client, export_id, name))
            await _write(into / MANIFEST, manifest)

    def _client(self) -> httpx.AsyncClient:
        headers = {}
        if self.token_file is not None:
            headers["Authorization"] = f"Bearer {self.token_file.read_text().strip()}"
        return httpx.AsyncClient(headers=headers, timeout=self.timeout_s)

    async def _get(self, client: httpx.AsyncClient, export_id: str, name: str) -> bytes:
        response = await self._call(client, "GET", export_id, name)
        _expect_success(response, "GET", name)
        return response.content

    async def _call(
        self, client: httpx.AsyncClient, method: str, export_id: str, name: str, **kwargs: object
    ) -> httpx.Response:
        url = self.url.format(export_id=quote(export_id, safe=""), file=quote(name))
        try:
            request = client.build_request(method, url, **kwargs)  # type: ignore[arg-type]
            return await send(client, self.egress, request)
        except (Refused, Unresolvable) as exc:
            raise DeliveryError(f"{method} {name} on {self.name}: {exc}") from None
        except httpx.HTTPError as exc:
            # The exception's text may hold the URL (and credentials in it): keep the type only.
            failure = f"{method} {name} on {self.name} failed: {type(exc).__name__}"
            raise DeliveryError(failure) from None


def _expect_success(response: httpx.Response, method: str, name: str) -> None:
    if not response.is_success:
        raise DeliveryError(f"{method} {name} answered HTTP {response.status_code}")


def _listed(manifest: bytes) -> list[str]:
    try:
        files = json.loads(manifest)["files"]
        names = [str(entry["name"]) for entry in files]
    except (ValueError, KeyError, TypeError):
        raise DeliveryError("the fetched manifest.json does not list its files") from None
    if any(name.startswith("/") or ".." in name.split("/") for name in names):
        raise DeliveryError("the fetched manifest.json names a file outside the export")
    return names


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk


async def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(path.write_bytes, data)
