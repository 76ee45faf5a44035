"""Webhook destinations (TRADEOPS_OPS_WEBHOOKS), the outside HTTP peers ops notifies, and how
one notification is posted to one.

TRADEOPS_OPS_WEBHOOKS is a JSON list of {"name", "url", "format", "secret_file"}; format is
"slack", "teams" or "json". Every POST carries `X-Tradeops-Timestamp: <unix seconds>` and
`X-Tradeops-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, so a receiver
can check where it came from and refuse replays. Secrets are read from their files, never logged.

Every URL follows the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py): one it can never
allow stops the service at start; before each POST the host's addresses are checked again and the
POST connects to one of them, not to the name resolved anew (runtime/pinning.py), and a redirect
is never followed (the policy judged this URL's host, not where a redirect points)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from runtime.egress import EgressPolicy, Refused, Unresolvable
from runtime.pinning import send
from runtime.webhook_signing import signed_headers
from services.ops.domain.notifications import Notification

ENV = "TRADEOPS_OPS_WEBHOOKS"
FORMATS = ("slack", "teams", "json")


class WebhookConfigError(ValueError):
    """TRADEOPS_OPS_WEBHOOKS is malformed, names an unreadable secret file, or holds a URL the
    egress policy can never allow."""


class DeliveryFailed(Exception):
    """The destination did not answer 2xx (or could not be reached)."""


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    format: str
    secret: str = field(repr=False)


def from_env(env: Mapping[str, str], egress: EgressPolicy) -> dict[str, Webhook]:
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


async def deliver(
    client: httpx.AsyncClient,
    hooks: Mapping[str, Webhook],
    egress: EgressPolicy,
    now: datetime,
    note: Notification,
) -> Exception | None:
    """Posts one queued notification to its destination: None when delivered; else
    DeliveryFailed (to retry) or egress.Refused (never to pass)."""
    hook = hooks.get(note.destination)
    if hook is None:
        return DeliveryFailed(f"no webhook named {note.destination!r} in {ENV}")
    try:
        await post(client, hook, note.body, int(now.timestamp()), egress)
    except (DeliveryFailed, Refused) as exc:
        return exc
    return None


async def post(
    client: httpx.AsyncClient,
    hook: Webhook,
    event: dict[str, Any],
    now: int,
    egress: EgressPolicy,
) -> None:
    """POSTs `event` rendered for the hook's format; raises DeliveryFailed unless 2xx, and
    egress.Refused, before any connection is made, when the host resolves outside the policy."""
    body = json.dumps(render(hook.format, event), separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **signed_headers(hook.secret, now, body)}
    request = client.build_request("POST", hook.url, content=body, headers=headers)
    try:
        response = await send(client, egress, request)
    except Unresolvable as exc:  # perhaps for a while only: retried like any failure
        raise DeliveryFailed(str(exc)) from None
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not response.is_success:
        unfollowed = " (redirects are not followed)" if response.is_redirect else ""
        raise DeliveryFailed(f"HTTP {response.status_code}{unfollowed}")


def render(fmt: str, event: dict[str, Any]) -> dict[str, Any]:
    if fmt == "slack":
        return _slack(event)
    if fmt == "teams":
        return _teams(event)
    return event


def _facts(event: dict[str, Any]) -> list[tuple[str, str]]:
    names = ("action_id", "kind", "risk", "state", "escalation_level", "assignee", "expires_at")
    return [(name, str(event.get(name, ""))) for name in names if event.get(name, "") != ""]


def _slack(event: dict[str, Any]) -> dict[str, Any]:
    facts = [{"type": "mrkdwn", "text": f"*{k}*: {v}"} for k, v in _facts(event)]
    return {
        "text": event["text"],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": event["text"]}},
            {"type": "section", "fields": facts[:10]},
        ],
    }


def _teams(event: dict[str, Any]) -> dict[str, Any]:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": event["text"], "wrap": True, "weight": "Bolder"},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in _facts(event)]},
        ],
    }
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    return {"type": "message", "attachments": [attachment]}
