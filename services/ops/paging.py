"""Opaque page tokens for ListActions: the (created_at, id) of a page's last action."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from runtime.errors import InvalidArgument

DEFAULT_PAGE = 50
MAX_PAGE = 500


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative")
    return min(requested or DEFAULT_PAGE, MAX_PAGE)


def encode(at: datetime, action_id: str) -> str:
    raw = json.dumps([at.isoformat(), action_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        at, action_id = json.loads(raw)
        return datetime.fromisoformat(at), str(uuid.UUID(action_id))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument("page_token is not one this server issued") from exc
