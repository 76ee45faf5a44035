"""SIEM destinations, read from TRADEOPS_SIEM_DESTINATIONS: a JSON list of objects (unset or
empty: no forwarding). Every mistake is a ConfigError naming the entry and the key.

Formats by transport: "tcp" and "tls" carry syslog, so "rfc5424" (the default) or "cef" (a CEF
line as the MSG of an RFC 5424 message); "http" carries "json" only (Splunk HEC events). JSON
over syslog is refused: receivers would parse it as free text and the audit fields would be
lost, while the structured data of RFC 5424 keeps them."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.audit.siem.config_rules import problems

ENV = "TRADEOPS_SIEM_DESTINATIONS"
DEFAULT_FORMAT = {"tcp": "rfc5424", "tls": "rfc5424", "http": "json"}


class ConfigError(ValueError):
    pass


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


FIELDS = {field.name: field for field in dataclasses.fields(Destination)}
REQUIRED = ("name", "transport")


def from_env(env: Mapping[str, str]) -> tuple[Destination, ...]:
    raw = env.get(ENV, "").strip()
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV} is not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise ConfigError(f"{ENV} must be a JSON list of destination objects")
    destinations = tuple(parse(index, item) for index, item in enumerate(items))
    _check_unique(destinations)
    return destinations


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
