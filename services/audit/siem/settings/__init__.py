"""SIEM forwarding's settings: the destinations, read from TRADEOPS_SIEM_DESTINATIONS, a JSON
list of objects (unset or empty: no forwarding). Every mistake is a ConfigError naming the
entry and the key.

Formats by transport: "tcp", "tls", "relp" and "relp+tls" carry syslog, so "rfc5424" (the
default) or "cef" (a CEF line as the MSG of an RFC 5424 message); "http" carries "json" only
(Splunk HEC events). JSON over syslog is refused: receivers would parse it as free text and the
audit fields would be lost, while the structured data of RFC 5424 keeps them.

"relp" is rsyslog's Reliable Event Logging Protocol (imrelp), "relp+tls" the same over TLS
(ca_file, optional cert_file/key_file for mutual TLS, server_name to check instead of host). A
record is confirmed only once the receiver answered its frame 200 OK; `window` (default 128,
1 to 10000) bounds the frames in flight without an answer, and `timeout_s` is also how long an
answer may take before the connection is given up and everything unanswered is sent again.
`confirm_after_s` is for tcp and tls only.

Every destination's host follows the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py):
checked here at start, and on the resolved addresses before each connection (clients/)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.settings import SettingsError, egress_policy
from services.audit.siem.settings.destination import (
    DEFAULT_FORMAT,
    FORMATS,
    RELP,
    Destination,
    problems,
)

__all__ = [
    "DEFAULT_FORMAT",
    "ENV",
    "FORMATS",
    "RELP",
    "ConfigError",
    "Destination",
    "Settings",
    "parse",
]

ENV = "TRADEOPS_SIEM_DESTINATIONS"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    destinations: tuple[Destination, ...] = ()
    egress: EgressPolicy = DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw = env.get(ENV, "").strip()
        if not raw:
            return cls()
        try:
            egress = egress_policy(env)
        except SettingsError as exc:
            raise ConfigError(str(exc)) from None
        try:
            items = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV} is not valid JSON: {exc}") from None
        if not isinstance(items, list):
            raise ConfigError(f"{ENV} must be a JSON list of destination objects")
        destinations = tuple(parse(index, item) for index, item in enumerate(items))
        _check_unique(destinations)
        for index, destination in enumerate(destinations):
            _check_egress(egress, destination, f"{ENV}[{index}] ({destination.name})")
        return cls(destinations, egress)


FIELDS = {field.name: field for field in dataclasses.fields(Destination)}
REQUIRED = ("name", "transport")


def parse(index: int, item: Any) -> Destination:
    where = f"{ENV}[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be a JSON object")
    where = f"{where} ({item.get('name', 'unnamed')})"
    for message in _shape_problems(item):
        raise ConfigError(f"{where}: {message}")
    values = dict(item)
    values.setdefault("format", DEFAULT_FORMAT.get(values["transport"], ""))
    values["hostname"] = values.get("hostname") or socket.gethostname()
    destination = Destination(**values)
    for message in problems(destination):
        raise ConfigError(f"{where}: {message}")
    return destination


def _check_egress(egress: EgressPolicy, destination: Destination, where: str) -> None:
    try:
        if destination.transport == "http":
            egress.check_url(destination.url)
        else:
            egress.check_host(destination.host)
    except Refused as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _shape_problems(item: dict[str, Any]) -> Iterator[str]:
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        yield f"unknown key(s) {', '.join(unknown)}"
    for key in REQUIRED:
        if key not in item:
            yield f"{key} is required"
    for key, value in item.items():
        if key in FIELDS and not _fits(FIELDS[key].default, value):
            yield f"{key} must be {_kind(FIELDS[key].default)}, not {json.dumps(value)}"


def _fits(default: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, int):
        return isinstance(value, int)
    return isinstance(value, str)


def _kind(default: Any) -> str:
    if isinstance(default, float):
        return "a number"
    return "an integer" if isinstance(default, int) else "a string"


def _check_unique(destinations: tuple[Destination, ...]) -> None:
    names = [destination.name for destination in destinations]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"{ENV}: destination names must be unique ({', '.join(repeated)})")
