"""Posting notifications to their webhooks, the outside HTTP peers ops notifies (configured by
TRADEOPS_OPS_WEBHOOKS, see services.ops.settings), rendered for Slack, Teams or as JSON.

Every POST carries `X-Tradeops-Timestamp: <unix seconds>` and
`X-Tradeops-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, so a receiver
can check where it came from and refuse replays. Secrets are never logged.

Every URL follows the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py): before each POST
the host's addresses are checked again and the POST connects to one of them, not to the name
resolved anew (runtime/pinning.py), and a redirect is never followed (the policy judged this
URL's host, not where a redirect points)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from runtime.egress import EgressPolicy, Refused, Unresolvable
from runtime.pinning import send
from runtime.webhook_signing import signed_headers
from services.ops.domain.notifications import Notification
from services.ops.settings import ENV, Webhook


class DeliveryFailed(Exception):
    """The destination did not answer 2xx (or could not be reached)."""


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
