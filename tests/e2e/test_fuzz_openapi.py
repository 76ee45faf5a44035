"""A bounded schemathesis run against the gateway's own OpenAPI document, on the real system:
for every operation, generated requests sent with an admin token must never get a 5xx, and
every response must match what the document promises for its status. Bounded (a few examples
per operation, derandomized) so it fits in CI; FUZZ_EXAMPLES searches deeper.

Driven through hypothesis directly rather than schemathesis's pytest plugin, which does not
load under this pytest; one test walks every operation and reports all failures together."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from runtime.stack import Stack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance]


def _fuzz(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def test_no_generated_request_gets_a_5xx_or_an_undocumented_response(
    stack: Stack, token_for: Callable[..., str]
) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.gateway_url()}/openapi.json")
    headers = {"Authorization": f"Bearer {token_for('fuzz-admin', 'admin')}"}
    failures, tried = [], 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"unusable operation in the document: {result.err()}")
            continue
        operation = result.ok()
        tried += 1
        try:
            _fuzz(operation, headers)
        except Exception as exc:  # collected, so one run shows every operation that fails
            failures.append(f"{operation.label}: {exc}"[:2000])
    assert tried >= 40  # every operation of the document, not a silently empty run
    assert not failures, "\n\n".join(failures)
