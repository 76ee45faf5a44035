"""TRADEOPS_EXPORT_DESTINATIONS: a JSON list of destination objects, each with a unique "name"
and a "type":

- {"type": "directory", "path"}
- {"type": "sftp", "host", "port" (22), "user", "remote_dir", "key_file", and "known_hosts_file"
  or "host_key_fingerprint" ("SHA256:..."); one of the two is required}
- {"type": "http", "url" (with {export_id} and {file}), "method" ("PUT" or "POST"),
  "token_file" (optional; its content is sent as a bearer token)}

Any entry may add "verify": true: every delivery there is then verified by fetching it back
at once (see `verified_after_delivery`).

Secrets stay in their files: the configuration holds only their paths, and a file is read when
it is used. Paths are checked here, so a typo fails at start-up rather than at the first export;
so are the sftp host and the http URL's host against the egress policy (TRADEOPS_EGRESS_ALLOW),
and again on the resolved addresses before each connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.settings import SettingsError
from services.export.clients.destinations import Destination
from services.export.clients.destinations.directory import DirectoryDestination
from services.export.clients.destinations.http import HttpDestination
from services.export.clients.destinations.sftp import SftpDestination
from services.export.settings import DESTINATIONS_ENV

ENV = DESTINATIONS_ENV


def verified_after_delivery(text: str) -> frozenset[str]:
    """Names of the destinations configured with "verify": true."""
    entries = _entries(text)
    return frozenset(e["name"] for e in entries if isinstance(e, dict) and e.get("verify") is True)


def parse(text: str, egress: EgressPolicy = DEFAULT) -> dict[str, Destination]:
    """The configured destinations by name (Settings.destinations: "[]" configures none)."""
    entries = _entries(text)
    built = [_destination(_Entry(e, f"{ENV}[{i}]", egress)) for i, e in enumerate(entries)]
    named: dict[str, Destination] = {d.name: d for d in built}
    if len(named) != len(built):
        raise SettingsError(f"{ENV} names a destination twice")
    return named


def _entries(text: str) -> list[Any]:
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{ENV} is not valid JSON: {exc.msg}") from None
    if not isinstance(entries, list):
        raise SettingsError(f"{ENV} must be a JSON list of destination objects")
    return entries


class _Entry:
    def __init__(self, raw: Any, where: str, egress: EgressPolicy) -> None:
        if not isinstance(raw, dict):
            raise SettingsError(f"{where} must be an object")
        self.raw, self.where, self.egress = raw, where, egress

    def allowed_host(self, key: str, host: str) -> None:
        try:
            self.egress.check_host(host)
        except Refused as exc:
            raise SettingsError(f"{self.where}.{key}: {exc}") from None

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{self.where}.{key} must be a non-empty string")
        return value

    def optional_file(self, key: str) -> Path | None:
        return self.file(key) if key in self.raw else None

    def file(self, key: str) -> Path:
        path = Path(self.text(key)).expanduser()
        if not path.is_file():
            raise SettingsError(f"{self.where}.{key}: no readable file at {path}")
        return path


def _directory(entry: _Entry) -> Destination:
    return DirectoryDestination(entry.text("name"), Path(entry.text("path")).resolve())


def _sftp(entry: _Entry) -> Destination:
    port = entry.raw.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise SettingsError(f"{entry.where}.port must be a port number")
    key_file = entry.file("key_file")
    known_hosts = entry.optional_file("known_hosts_file")
    fingerprint = entry.raw.get("host_key_fingerprint")
    pinned = isinstance(fingerprint, str) and fingerprint.startswith("SHA256:")
    if known_hosts is None and not pinned:
        raise SettingsError(
            f"{entry.where} needs known_hosts_file or host_key_fingerprint (SHA256:...)"
        )
    entry.allowed_host("host", entry.text("host"))
    return SftpDestination(
        name=entry.text("name"),
        host=entry.text("host"),
        port=port,
        user=entry.text("user"),
        remote_dir=entry.text("remote_dir"),
        key_file=key_file,
        known_hosts_file=known_hosts,
        host_key_fingerprint=fingerprint if known_hosts is None else None,
        egress=entry.egress,
    )


def _http(entry: _Entry) -> Destination:
    url, method = entry.text("url"), entry.text("method", "PUT").upper()
    if not url.startswith(("http://", "https://")) or "{file}" not in url:
        raise SettingsError(f"{entry.where}.url must be http(s) and contain {{file}}")
    if method not in ("PUT", "POST"):
        raise SettingsError(f"{entry.where}.method must be PUT or POST")
    entry.allowed_host("url", urlsplit(url).hostname or "")
    token = entry.optional_file("token_file")
    return HttpDestination(entry.text("name"), url, method, token, egress=entry.egress)


_BUILDERS: dict[str, Callable[[_Entry], Destination]] = {
    "directory": _directory,
    "sftp": _sftp,
    "http": _http,
}


def _destination(entry: _Entry) -> Destination:
    kind = entry.raw.get("type")
    if kind not in _BUILDERS:
        raise SettingsError(f"{entry.where}.type must be one of {sorted(_BUILDERS)}")
    return _BUILDERS[kind](entry)
