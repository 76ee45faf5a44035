"""A desk system's webhook receiver for tests: a threaded http.server that records every request
and answers from a script (the last reply repeats), optionally sleeping first."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "desk-oms-hmac-secret-for-tests"


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any] | None = None
    delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    def signed_by(self, secret: str) -> bool:
        """The receiver's check, written independently of the executor's code."""
        timestamp = self.headers["X-Tradeops-Timestamp"]
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256)
        expected = "sha256=" + mac.hexdigest()
        return hmac.compare_digest(expected, self.headers["X-Tradeops-Signature"])


@dataclass
class DeskServer:
    replies: list[Reply]
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                desk.received.append(Received(dict(self.headers.items()), body))
                reply = desk.replies[min(len(desk.received), len(desk.replies)) - 1]
                time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode() if reply.body is not None else b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the executor gave up waiting and closed the connection

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/tradeops/actions"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
