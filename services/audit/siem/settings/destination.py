"""A SIEM destination as configured, and what makes one wrong (one message per problem)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

SYSLOG = ("rfc5424", "cef")
FORMATS = {"tcp": SYSLOG, "tls": SYSLOG, "relp": SYSLOG, "relp+tls": SYSLOG, "http": ("json",)}
DEFAULT_FORMAT = {transport: formats[0] for transport, formats in FORMATS.items()}
TLS = ("tls", "relp+tls")  # the syslog transports that run over TLS
RELP = ("relp", "relp+tls")
MAX_WINDOW = 10_000


@dataclass(frozen=True)
class Destination:
    name: str
    transport: str
    format: str = ""
    host: str = ""
    port: int = 0
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    url: str = ""
    # A path: the token itself is read when the sender opens, never kept here or logged.
    token_file: str = ""
    facility: int = 13
    hostname: str = ""
    confirm_after_s: float = 2.0
    backoff_cap_s: float = 30.0
    batch_size: int = 500
    poll_s: float = 1.0
    timeout_s: float = 10.0
    # RELP: frames sent and not yet acknowledged, at most (librelp's default is 128).
    window: int = 128

    @property
    def tls(self) -> bool:
        return self.transport in TLS


# --- the semantic checks of a destination, one message per problem ---


def problems(destination: Destination) -> Iterator[str]:
    if not destination.name.strip():
        yield "name must not be empty"
    if destination.transport not in FORMATS:
        expected = "tcp, tls, relp, relp+tls or http"
        yield f"unknown transport {destination.transport!r} (expected {expected})"
        return
    allowed = FORMATS[destination.transport]
    if destination.format not in allowed:
        expected = " or ".join(allowed)
        yield f"format {destination.format!r} cannot go over {destination.transport} ({expected})"
    if destination.transport == "http":
        yield from _http(destination)
    else:
        yield from _stream(destination)
    yield from _common(destination)


def _stream(destination: Destination) -> Iterator[str]:
    if not destination.host:
        yield f"{destination.transport} needs a host"
    if not 0 < destination.port < 65536:
        yield f"{destination.transport} needs a port between 1 and 65535"
    if bool(destination.cert_file) != bool(destination.key_file):
        yield "cert_file and key_file go together (mutual TLS needs both)"
    if not destination.tls and (destination.ca_file or destination.cert_file):
        yield "ca_file, cert_file and key_file need transport tls or relp+tls"
    if not 1 <= destination.window <= MAX_WINDOW:
        yield f"window must be between 1 and {MAX_WINDOW}"


def _http(destination: Destination) -> Iterator[str]:
    url = urlsplit(destination.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        yield "http needs a url starting with http:// or https://"
    if not destination.token_file:
        yield "http needs a token_file (the file holding the collector token)"
    if bool(destination.cert_file) != bool(destination.key_file):
        yield "cert_file and key_file go together (mutual TLS needs both)"


def _common(destination: Destination) -> Iterator[str]:
    if not 0 <= destination.facility <= 23:
        yield "facility must be between 0 and 23"
    if not destination.hostname.isascii() or not destination.hostname.isprintable():
        yield "hostname must be printable US-ASCII"
    elif " " in destination.hostname or len(destination.hostname) > 255:
        yield "hostname must have no spaces and at most 255 characters"
    for key in ("confirm_after_s", "backoff_cap_s", "poll_s", "timeout_s"):
        if getattr(destination, key) <= 0:
            yield f"{key} must be positive"
    if destination.batch_size < 1:
        yield "batch_size must be at least 1"
