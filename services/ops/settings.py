"""The settings of the ops process itself, read once by __main__ (the shared ones, such as the
database and the peers, are runtime.settings.ServiceSettings): the egress policy
(TRADEOPS_EGRESS_ALLOW) and the webhook destinations of notifications (TRADEOPS_OPS_WEBHOOKS).

TRADEOPS_OPS_WEBHOOKS is a JSON list of {"name", "url", "format", "secret_file"}; format is
"slack", "teams" or "json". Secrets are read from their files, never logged. A URL the egress
policy can never allow stops the service at start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runtime.egress import EgressPolicy, Refused
from runtime.settings import egress_policy


@dataclass(frozen=True)
class Webhook:
    """A destination: where notifications to `name` are POSTed, in which format, signed with
    `secret`."""

    name: str
    url: str
    format: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    egress: EgressPolicy  # checked on every webhook at start and before each POST
    webhooks: Mapping[str, Webhook]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        found = os.environ if env is None else env
        egress = egress_policy(found)
        return cls(egress, webhooks_from_env(found, egress))


ENV = "TRADEOPS_OPS_WEBHOOKS"
FORMATS = ("slack", "teams", "json")


class WebhookConfigError(ValueError):
    """TRADEOPS_OPS_WEBHOOKS is malformed, names an unreadable secret file, or holds a URL the
    egress policy can never allow."""


def webhooks_from_env(env: Mapping[str, str], egress: EgressPolicy) -> dict[str, Webhook]:
    """The configured destinations by name; none when the variable is unset."""
    try:
        entries = json.loads(env.get(ENV, "") or "[]")
    except json.JSONDecodeError as exc:
        raise WebhookConfigError(f"{ENV} is not valid JSON: {exc.msg}") from None
    if not isinstance(entries, list):
        raise WebhookConfigError(f"{ENV} must be a JSON list of webhook objects")
    hooks = [_webhook(entry, index, egress) for index, entry in enumerate(entries)]
    named = {hook.name: hook for hook in hooks}
    if len(named) != len(hooks):
        raise WebhookConfigError(f"{ENV} names a webhook twice")
    return named


def _webhook(entry: Any, index: int, egress: EgressPolicy) -> Webhook:
    where = f"{ENV}[{index}]"
    if not isinstance(entry, dict):
        raise WebhookConfigError(f"{where} must be an object")
    for key in ("name", "url", "secret_file"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise WebhookConfigError(f"{where} needs a non-empty string {key!r}")
    fmt = entry.get("format", "json")
    if fmt not in FORMATS:
        raise WebhookConfigError(f"{where}: format must be one of {', '.join(FORMATS)}")
    if not entry["url"].startswith(("http://", "https://")):
        raise WebhookConfigError(f"{where}: url must start with http:// or https://")
    _check_host(egress, entry["url"], f"{where} ({entry['name']})")
    return Webhook(entry["name"], entry["url"], fmt, _secret(Path(entry["secret_file"]), where))


def _check_host(egress: EgressPolicy, url: str, where: str) -> None:
    try:
        egress.check_host(urlsplit(url).hostname or "")
    except (Refused, ValueError) as exc:
        raise WebhookConfigError(f"{where}: {exc}") from None


def _secret(path: Path, where: str) -> str:
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise WebhookConfigError(
            f"{where}: cannot read secret_file {path}: {exc.strerror}"
        ) from None
    if not secret:
        raise WebhookConfigError(f"{where}: secret_file {path} is empty")
    return secret
