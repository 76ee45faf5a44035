"""The log scrubber is applied to text a caller controls (the gateway logs every request path),
so each of its rules must run in linear time: 64 KB of the shapes that made the old rules
backtrack (a pattern's prefix repeated without its suffix, long runs of a rule's characters
ending in a mismatch) must be scrubbed in well under a second. The old rules took seconds on
each; the budget is a guard against quadratic time, not a benchmark.

The old rules are kept here as the reference: on small inputs built from the rules' own
fragments, the new scrubber must give exactly what the old one gave."""

from __future__ import annotations

import random
import re
import time

import pytest

from runtime.logs import scrub

SIZE = 64 * 1024
BUDGET_S = 0.5

_ORIGINAL = (
    (re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S), "[pem redacted]"),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), "[jwt redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/:@\s]+):[^@\s]+@"), r"\1:[redacted]@"),
    (re.compile(r"(?i)\b(password|secret|api[_-]?key|token)=[^\s&,;]+"), r"\1=[redacted]"),
)


def _original_scrub(text: str) -> str:
    for pattern, replacement in _ORIGINAL:
        text = pattern.sub(replacement, text)
    return text


def _fill(unit: str, tail: str = "") -> str:
    return (unit * (SIZE // len(unit) + 1))[: SIZE - len(tail)] + tail


WORST = {
    "pem: BEGIN headers, no END": _fill("-----BEGIN A-----"),
    "pem: END without its dashes": "-----BEGIN A-----" + _fill("-----END A"),
    "pem: one endless label": "-----BEGIN " + _fill("A"),
    "bearer: words, then no token": _fill("bearer ", "!"),
    "bearer: whitespace runs": "bearer" + _fill(" \t", "!"),
    "jwt: eyJ after hyphens": _fill("-eyJ"),
    "jwt: no third segment": _fill("eyJaaaa.aaaa"),
    "jwt: short segments": _fill("eyJaaaa.eyJa"),
    "url: scheme run without ://": _fill("a."),
    "url: scheme and host, no password": _fill("a://a"),
    "url: password never closed by @": _fill("a://a:"),
    "url: bare schemes": _fill("a://"),
    "url: user run without colon": "a://" + _fill("a", "/"),
    "key: names without values": _fill("token=", "&"),
    "key: names without =": _fill("api_key"),
    "all prefixes together": _fill("-----BEGIN A-----bearer -eyJa.a://a:token="),
}


@pytest.mark.parametrize("text", WORST.values(), ids=WORST.keys())
def test_worst_shapes_are_scrubbed_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    scrub(text)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, f"{elapsed:.2f}s for {len(text)} characters"
    # The old rules are too slow for 64 KB of these; 4 KB of them takes milliseconds.
    assert scrub(text[:4096]) == _original_scrub(text[:4096])


FRAGMENTS = (
    "-----BEGIN ", "-----END ", "PRIVATE KEY", "A", " ", "-----", "\n", "bearer", "Bearer",
    "\t", "eyJ", "abcd", "eyJhbGci", ".", "-", "_", "a", "x1", "://", ":", "@", "/", "+",
    "token", "password", "API-KEY", "secret", "=", "&", ";", "1", "postgresql", "hunter2",
    "-----BEGIN A-----", "-----END A-----", "eyJabcd.", "efgh.", "db://u:", "p@",
)  # fmt: skip


def test_scrubs_exactly_what_the_original_rules_scrubbed() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choices(FRAGMENTS, k=rng.randint(1, 24)))
        assert scrub(text) == _original_scrub(text), text
