"""What tests/console/test_verify_js.py runs verify.js with: a small site on 127.0.0.1 (a secure
context, so WebCrypto exists) serving the console's static files under the gateway's page
headers, a page for verify-page.js and a proxy to a real gateway standing in for the console's
session; a bridge calling verify.js's exports from Python; and a small audit log built with the
audit service's own domain code, whose records, proofs, checkpoints and keys are the REST JSON
the gateway would serve."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from playwright.sync_api import Page

from gateway.web.headers import PAGE_HEADERS
from runtime.pgserver import free_port

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "console" / "static"
SCRIPTS = {f"/console/static/{name}": STATIC / name for name in ("verify.js", "verify-page.js")}
BLANK = "<!doctype html><html lang=en><title>verify.js</title><main></main></html>"
VERIFY_PAGE = """<!doctype html><html lang=en><title>Verify record {seq}</title>
<section data-verify data-api="../api/" data-seq="{seq}"><ol data-verify-steps></ol></section>
<script type="module" src="/console/static/verify-page.js"></script></html>"""
Tamper = Callable[[str, Any], Any]


@dataclass
class Site:
    """`upstream` (a gateway URL) and `headers` (its credentials) back /api/; `tamper(path,
    body)` may rewrite a JSON reply on its way to the page, as a hostile server would."""

    port: int = field(default_factory=free_port)
    upstream: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tamper: Tamper | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def proxy(self, path: str) -> tuple[int, str, bytes]:
        request = Request(self.upstream + path.removeprefix("/api"), headers=self.headers)
        try:
            with urlopen(request, timeout=15) as reply:
                status, media, body = reply.status, reply.headers["Content-Type"], reply.read()
        except HTTPError as refused:
            status, media, body = refused.code, refused.headers["Content-Type"], refused.read()
        if self.tamper and status == 200 and media.startswith("application/json"):
            altered = self.tamper(urlsplit(path).path.removeprefix("/api/"), json.loads(body))
            body = json.dumps(altered).encode()
        return status, media, body


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in SCRIPTS:
                self.reply(200, "text/javascript; charset=utf-8", SCRIPTS[path].read_bytes())
            elif path == "/blank.html":
                self.reply(200, "text/html; charset=utf-8", BLANK.encode())
            elif path == "/console/verify.html":
                seq = urlsplit(self.path).query.removeprefix("seq=")
                page = VERIFY_PAGE.format(seq=seq).encode()
                self.reply(200, "text/html; charset=utf-8", page)
            elif path == "/favicon.ico":
                self.reply(204, "image/png", b"")  # asked for by every page; none is needed
            elif path.startswith("/api/") and site.upstream:
                self.reply(*site.proxy(self.path))
            else:
                self.reply(404, "text/plain", b"not found")

        def reply(self, status: int, media: str, body: bytes) -> None:
            self.send_response(status)
            for name, value in {**PAGE_HEADERS, "Content-Type": media}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test's output is the browser's, not a request log

    return Handler


@contextmanager
def serving() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", site.port), _handler(site))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Bytes cross into the page as {"$bytes": hex} and integers beyond a double's as {"$int": text};
# both come back the same way. A thrown error comes back as {"error": ...}.
BRIDGE = """async ([name, args]) => {
  const v = await import("/console/static/verify.js");
  const map = (x, f) => Object.fromEntries(Object.entries(x).map(([k, y]) => [k, f(y)]));
  const load = (x) => Array.isArray(x) ? x.map(load)
    : x && typeof x === "object" ? ("$bytes" in x ? v.fromHex(x.$bytes)
      : "$int" in x ? BigInt(x.$int) : map(x, load)) : x;
  const dump = (x) => x instanceof Uint8Array ? {$bytes: v.toHex(x)}
    : typeof x === "bigint" ? {$int: x.toString()} : Array.isArray(x) ? x.map(dump)
    : x && typeof x === "object" ? map(x, dump) : x;
  try {
    return {value: dump(await v[name](...args.map(load)))};
  } catch (e) {
    return {error: {name: e.name, kind: e.kind ?? null, message: String(e.message ?? e)}};
  }
}"""
EXACT = 2**53


class Refused(Exception):
    def __init__(self, name: str, kind: str | None, message: str) -> None:
        super().__init__(f"{name} ({kind}): {message}")
        self.name, self.kind, self.message = name, kind, message


def _load(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= EXACT:
        return {"$int": str(value)}
    if isinstance(value, list | tuple):
        return [_load(item) for item in value]
    if isinstance(value, dict):
        return {key: _load(item) for key, item in value.items()}
    return value


def _dump(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        if set(value) == {"$int"}:
            return int(value["$int"])
        return {key: _dump(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


def call(page: Page, name: str, *args: Any) -> Any:
    """verify.js's export `name` on `args`, awaited in the page; a refusal raises Refused."""
    answer = page.evaluate(BRIDGE, [name, [_load(arg) for arg in args]])
    if "error" in answer:
        error = answer["error"]
        raise Refused(error["name"], error["kind"], error["message"])
    return _dump(answer.get("value"))
