"""Text a caller chose, copied into the permanent log (a refused path, a reason quoting a
comment): without control or other unprintable characters, and at most MAX_TEXT_BYTES of UTF-8
with the cut marked, so one request cannot write a megabyte that stays forever."""

from __future__ import annotations

MAX_TEXT_BYTES = 256


def clip(value: str, limit: int = MAX_TEXT_BYTES) -> str:
    """`value` without control or other unprintable characters, cut to at most `limit` bytes of
    UTF-8 including a marker of how much was cut ("…(+1234 bytes)")."""
    if value.isprintable() and len(value) <= limit // 4:  # short and clean: the common case
        return value
    text = "".join(ch for ch in value if ch.isprintable()).encode()
    if len(text) <= limit:
        return text.decode()
    # The marker for the whole length is at least as long as the one finally written.
    keep = max(0, limit - len(_marker(len(text)).encode()))
    kept = text[:keep].decode(errors="ignore")
    return kept + _marker(len(text) - len(kept.encode()))


def _marker(cut: int) -> str:
    return f"…(+{cut} bytes)"
