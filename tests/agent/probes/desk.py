"""A desk system's endpoint for probe tests: a real HTTP(S) server on 127.0.0.1 whose answer the
test flips (status, body, content type, delay) and which counts the requests it served."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: str = '{"lag_ms": 12}'
    content_type: str = "application/json"
    delay_s: float = 0.0
    location: str = ""  # sent as a Location header when set (a redirect)
    reason: str = ""  # the status line's phrase, when not the standard one


class Desk:
    def __init__(self) -> None:
        self.answer = Answer()
        self.hits: list[str] = []
        self.hosts: list[str] = []  # the Host header of each request
        self._lock = threading.Lock()
        self.url = ""

    def flip(self, **changes: object) -> None:
        self.answer = Answer(**{**vars(self.answer), **changes})

    def served(self, path: str, host: str = "") -> Answer:
        with self._lock:
            self.hits.append(path)
            self.hosts.append(host)
        return self.answer


def _handler(desk: Desk) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = desk.served(self.path, self.headers.get("Host", ""))
            time.sleep(answer.delay_s)
            payload = answer.body.encode()
            try:
                self.send_response(answer.status, answer.reason or None)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                if answer.location:
                    self.send_header("Location", answer.location)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the probe gave up waiting: that is what a timeout test wants

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextmanager
def running_desk(tls: ssl.SSLContext | None = None) -> Iterator[Desk]:
    """Serves https with `tls` (a server context) when given."""
    desk = Desk()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(desk))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "http" if tls is None else "https"
    desk.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield desk
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
