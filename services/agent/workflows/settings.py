"""Trigger settings from environment variables (defaults in parentheses):
TRADEOPS_AGENT_TRIGGER_POLL_S (1) how often a replica looks for new audit events and due
firings; TRADEOPS_AGENT_TRIGGER_BACKOFF_S (2) the first retry delay of a failed step, doubled
per attempt up to TRADEOPS_AGENT_TRIGGER_BACKOFF_MAX_S (300); TRADEOPS_AGENT_WEBHOOKS, a JSON
list of {"name", "url", "secret_file"}: the webhooks notify_webhook steps may name (secrets are
read from their files, never stored in the database or logged); each webhook's URL must be
allowed by TRADEOPS_EGRESS_ALLOW (runtime/egress.py), else the process does not start."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.settings import SettingsError, egress_policy

WEBHOOKS = "TRADEOPS_AGENT_WEBHOOKS"


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    poll_s: float = 1.0
    backoff_s: float = 2.0
    backoff_max_s: float = 300.0
    webhooks: Mapping[str, Webhook] = field(default_factory=dict)
    egress: EgressPolicy = DEFAULT  # checked again on every webhook request

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        egress = egress_policy(env)
        return cls(
            poll_s=float(env.get("TRADEOPS_AGENT_TRIGGER_POLL_S", "1")),
            backoff_s=float(env.get("TRADEOPS_AGENT_TRIGGER_BACKOFF_S", "2")),
            backoff_max_s=float(env.get("TRADEOPS_AGENT_TRIGGER_BACKOFF_MAX_S", "300")),
            webhooks=webhooks(env.get(WEBHOOKS, ""), egress),
            egress=egress,
        )


def webhooks(text: str, egress: EgressPolicy = DEFAULT) -> dict[str, Webhook]:
    try:
        entries = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{WEBHOOKS} is not valid JSON: {exc.msg}") from None
    if not isinstance(entries, list):
        raise SettingsError(f"{WEBHOOKS} must be a JSON list of webhook objects")
    hooks = [_webhook(e, f"{WEBHOOKS}[{i}]", egress) for i, e in enumerate(entries)]
    named = {hook.name: hook for hook in hooks}
    if len(named) != len(hooks):
        raise SettingsError(f"{WEBHOOKS} names a webhook twice")
    return named


def _webhook(entry: Any, where: str, egress: EgressPolicy) -> Webhook:
    if not isinstance(entry, dict):
        raise SettingsError(f"{where} must be an object")
    for key in ("name", "url", "secret_file"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SettingsError(f"{where} needs a non-empty string {key!r}")
    if not entry["url"].startswith(("http://", "https://")):
        raise SettingsError(f"{where}: url must start with http:// or https://")
    try:
        egress.check_host(urlsplit(entry["url"]).hostname or "")
    except (Refused, ValueError) as exc:
        raise SettingsError(f"{where}: {exc}") from None
    try:
        secret = Path(entry["secret_file"]).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"{where}: cannot read its secret_file: {exc.strerror}") from None
    if not secret:
        raise SettingsError(f"{where}: its secret_file is empty")
    return Webhook(entry["name"], entry["url"], secret)
