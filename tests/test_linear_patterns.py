"""Every regular expression in product code that reads text a caller or a desk controls runs in
linear time: 64 KB of the shapes that make a backtracking pattern slow (long runs of its
characters ending in a mismatch, its prefix repeated without its suffix) is matched in well under
a second. These patterns are linear as written; the test keeps them so. The log scrubber's rules
have their own test (tests/runtime/test_scrub_linear.py)."""

from __future__ import annotations

import re
import time

import pytest

from gateway.bodies.base import _RFC3339
from runtime.egress import ADDRESS_LIKE
from runtime.egress import NAME as EGRESS_NAME
from runtime.idempotency import KEY_PATTERN
from services.agent.probes.domain import validation
from services.agent.probes.domain.jsonpath import _STEP
from services.agent.remediation.domain.planner import PLACEHOLDER
from services.agent.triage.domain.incidents import _SEPARATORS
from services.agent.triage.domain.kinds import NAME as KIND_NAME
from services.agent.workflows.domain.facts import _TEMPLATE
from services.agent.workflows.domain.rules import _NAME as RULE_NAME
from services.audit.log.domain.checkpoints.format import _DECIMAL

SIZE = 64 * 1024
BUDGET_S = 0.5


def _fill(unit: str, tail: str = "!") -> str:
    return (unit * (SIZE // len(unit) + 1))[: SIZE - len(tail)] + tail


WORST: dict[str, tuple[re.Pattern[str], str]] = {
    "idempotency key": (KEY_PATTERN, _fill("a", " ")),
    "egress name, labels": (EGRESS_NAME, _fill("a-a.", "-")),
    "egress name, long label": (EGRESS_NAME, "*." + _fill("a" * 63 + ".", "-")),
    "egress address-like": (ADDRESS_LIKE, _fill("1.", "a")),
    "rfc 3339 fraction": (_RFC3339, "2026-01-31T09:30:00." + _fill("1")),
    "jsonpath quoted step": (_STEP, '["' + _fill("a\\a", "\\")),
    "jsonpath name step": (_STEP, "." + _fill("a-")),
    "probe name": (validation.NAME, _fill("a.")),
    "probe metric": (validation.METRIC, _fill("a:")),
    "probe label": (validation.LABEL, _fill("a_")),
    "rule name": (RULE_NAME, _fill("a.")),
    "fact template": (_TEMPLATE, _fill("{a.")),
    "remediation placeholder": (PLACEHOLDER, _fill("{a.a")),
    "incident kind name": (KIND_NAME, _fill("a_a")),
    "incident separators": (_SEPARATORS, _fill(" .-a")),
    "checkpoint decimal": (_DECIMAL, _fill("1", "a")),
}


@pytest.mark.parametrize(("pattern", "text"), WORST.values(), ids=WORST.keys())
def test_worst_shapes_match_in_linear_time(pattern: re.Pattern[str], text: str) -> None:
    started = time.perf_counter()
    # Each use in product code: match, fullmatch, search, findall and sub all walk the text.
    pattern.match(text)
    pattern.fullmatch(text)
    pattern.sub("", text)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, f"{elapsed:.2f}s for {len(text)} characters"
