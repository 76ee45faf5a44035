"""A local HTTP server standing in for Slack, Teams and a JSON hook (this module holds no tests):
it keeps every request it gets, so a test can check each signature itself, with the shared
secret, and can see that a request was never made."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runtime.egress import EgressPolicy
from services.ops import settings
from services.ops.settings import Webhook

SECRET = "s3cret-for-webhook-tests"
HOOKS = (("slack-ops", "slack"), ("teams-risk", "teams"), ("raw", "json"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def signed_correctly(self, secret: str = SECRET) -> bool:
        stamp = self.headers["X-Tradeops-Timestamp"]
        mac = hmac.new(secret.encode(), stamp.encode() + b"." + self.body, hashlib.sha256)
        expected = "sha256=" + mac.hexdigest()
        return hmac.compare_digest(expected, self.headers["X-Tradeops-Signature"])

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Answer 500 to the first request that mentions one of these, then 200.
    fail_once: set[str] = field(default_factory=set)
    # When set, answer every request to another path with a 307 to this one.
    redirect_to: str = ""

    def answer(self, request: Received) -> tuple[int, dict[str, str]]:
        """The status and headers to reply with; every request is kept."""
        self.received.append(request)
        path, body = request.path, request.body
        if self.redirect_to and path != self.redirect_to:
            return 307, {"Location": self.redirect_to}
        failing = {marker for marker in self.fail_once if marker.encode() in body}
        self.fail_once -= failing
        return (500 if failing else 200), {}


@contextmanager
def serving() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, headers = state.answer(Received(self.path, dict(self.headers), body))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def environment(base_url: str, tmp_path: Path, **env: str) -> dict[str, str]:
    """TRADEOPS_OPS_WEBHOOKS naming the three hooks at base_url/<name>, plus `env`."""
    secret_file = tmp_path / "webhook.secret"
    secret_file.write_text(SECRET + "\n")
    config = [
        {"name": name, "url": f"{base_url}/{name}", "format": fmt, "secret_file": str(secret_file)}
        for name, fmt in HOOKS
    ]
    return {settings.ENV: json.dumps(config), **env}


def hooks(base_url: str, tmp_path: Path, egress: EgressPolicy) -> dict[str, Webhook]:
    return settings.webhooks_from_env(environment(base_url, tmp_path), egress)
