"""HMAC-SHA256 webhook signatures, one scheme for every service that posts webhooks:
`X-Tradeops-Timestamp: <unix seconds>` and
`X-Tradeops-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. A receiver
recomputes it over the exact body bytes and refuses stale timestamps, so a captured request
cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

TIMESTAMP, SIGNATURE = "X-Tradeops-Timestamp", "X-Tradeops-Signature"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP: str(timestamp), SIGNATURE: signature(secret, timestamp, body)}


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """True when the headers carry a fresh, matching signature of body (header names are
    looked up case-insensitively)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered.get(TIMESTAMP.lower(), ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    given = lowered.get(SIGNATURE.lower(), "")
    return hmac.compare_digest(given, signature(secret, timestamp, body))
