"""A small HEC-like HTTP collector in a thread: answers 503 while `failing` is set, otherwise
200 and keeps the request. Every request's status is recorded in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Collector:
    port: int = 0
    failing: bool = False
    statuses: list[int] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/collector/event"

    def receive(self, authorization: str, body: bytes) -> int:
        with self.lock:
            status = 503 if self.failing else 200
            self.statuses.append(status)
            self.authorizations.append(authorization)
            if status == 200:
                self.events += [json.loads(line) for line in body.splitlines()]
            return status


def _handler(collector: Collector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = collector.receive(self.headers.get("Authorization", ""), body)
            answer = b'{"text":"Success","code":0}' if status == 200 else b'{"text":"busy"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def collector() -> Iterator[Collector]:
    state = Collector()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
