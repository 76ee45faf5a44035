"""The ops benchmarks' load generator: a lean HTTP/1.1 keep-alive client; import-only.

The load generator shares the machine's two cores with everything it measures; httpx spends
about 2 ms of CPU per request here, which at 300 requests/s is most of a core taken from the
system under test. This client writes one request and reads one Content-Length response per
pooled connection (no pipelining), at a few percent of that cost, for the figure and its
baseline alike."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class LeanClient:
    """POSTs without a body to `base_url` + path with fixed headers; at most `limit`
    connections, each carrying one request at a time."""

    def __init__(self, base_url: str, headers: dict[str, str], limit: int = 256) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        fixed = {"host": f"{self._host}:{self._port}", "content-length": "0", **headers}
        self._head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode()
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(limit)

    async def post(self, path: str) -> tuple[int, bytes]:
        """The response's status and body."""
        async with self._slots:
            reused = self._reusable()
            try:
                return await self._on(reused or await self._open(), path)
            except ConnectionError:
                if reused is None:
                    raise
            # The server closed the idle connection (keep-alive timeout) first: once more.
            return await self._on(await self._open(), path)

    def _reusable(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def _on(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str
    ) -> tuple[int, bytes]:
        try:
            status, body, keep = await self._exchange(*conn, path)
        except BaseException:
            conn[1].close()
            raise
        if keep:
            self._idle.append(conn)
        else:
            conn[1].close()
        return status, body

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self._host, self._port)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
    ) -> tuple[int, bytes, bool]:
        writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self._head + b"\r\n")
        first = await reader.readline()
        if not first:
            raise ConnectionResetError("the server closed the connection")
        status = int(first.split(b" ", 2)[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep = value.strip().lower() != b"close"
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by the lean client")
        return status, await reader.readexactly(length), keep

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
