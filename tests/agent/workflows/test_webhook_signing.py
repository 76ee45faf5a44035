"""The shared webhook signature: what a receiver checks."""

from __future__ import annotations

import hashlib
import hmac

from runtime.webhook_signing import signed_headers, verify

SECRET, BODY, AT = "s3cret-of-the-desk-chat-webhook", b'{"a":1}', 1_800_000_000


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    headers = signed_headers(SECRET, AT, BODY)

    expected = hmac.new(SECRET.encode(), b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert headers == {
        "X-Tradeops-Timestamp": "1800000000",
        "X-Tradeops-Signature": f"sha256={expected}",
    }


def test_a_changed_body_a_wrong_secret_or_a_stale_timestamp_is_refused() -> None:
    headers = signed_headers(SECRET, AT, BODY)

    assert verify(SECRET, headers, BODY, AT + 10)
    assert not verify(SECRET, headers, b'{"a":2}', AT)
    assert not verify("another-secret", headers, BODY, AT)
    assert not verify(SECRET, headers, BODY, AT + 301)
    assert not verify(SECRET, {}, BODY, AT)
