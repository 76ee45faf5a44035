"""The webhook executor: POSTs an approved action to a desk system.

Body (JSON): {"action_id", "kind", "parameters", "idempotency_key"}, identical on every attempt.
Headers: `Idempotency-Key`, `X-Tradeops-Timestamp: <unix seconds>` and
`X-Tradeops-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
The reply decides: a 2xx with {"status": "executed" | "failed", "detail": ...} is the outcome.

Endings, in order of precedence:
- a 4xx: FAILED at once (the desk system refused the request; no retry);
- a 5xx or a connection error: retried with exponential backoff, up to `retries` more times;
  when they run out, FAILED if the request never got through (connection refused, 503 Service
  Unavailable), OUTCOME_UNKNOWN otherwise (a 500 or a dropped connection may have acted);
- a timeout after the request was sent: OUTCOME_UNKNOWN at once (it may have acted; a person
  checks the desk system);
- a 2xx without a recognised status: OUTCOME_UNKNOWN;
- a host resolving outside the egress policy (TRADEOPS_EGRESS_ALLOW): FAILED at once, nothing
  sent. Every POST goes to an address the policy checked (runtime/pinning.py), never redirected.
  A host that does not resolve is retried like a refused connection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from runtime.backoff import Backoff
from runtime.egress import DEFAULT, EgressPolicy, Refused, Unresolvable
from runtime.pinning import send
from runtime.webhook_signing import signed_headers
from services.agent.remediation.domain.executions import (
    EXECUTED,
    FAILED,
    OUTCOME_UNKNOWN,
    Attempt,
    ExecutionRequest,
    ExecutionResult,
)

NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
STATUSES = {"executed": EXECUTED, "failed": FAILED}


@dataclass(frozen=True)
class WebhookExecutor:
    label: str
    url: str
    secret: str = field(repr=False)
    urls: Mapping[str, str] = field(default_factory=dict)  # per action kind, overriding url
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    egress: EgressPolicy = DEFAULT

    @property
    def name(self) -> str:
        return f"webhook:{self.label}"

    @property
    def budget_s(self) -> float:
        backoff = sum(self._pause(n) for n in range(self.retries))
        # httpx applies the timeout per phase (connect, write, read, pool).
        return (self.retries + 1) * self.timeout_s * 4 + backoff

    def _pause(self, failures: int) -> float:
        # No jitter and no cap: one executor's few retries, bounded by `retries`.
        return Backoff(self.backoff_s, floor=1.0).wait(failures)

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        body = encode(request)
        url = self.urls.get(request.kind, self.url)
        attempts: list[Attempt] = []
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            for number in range(1, self.retries + 2):
                if number > 1:
                    await self.sleep(self._pause(number - 2))
                ending = await self._attempt(client, url, request, body, number, attempts)
                if ending is not None:
                    return ending
        return _exhausted(attempts)

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        url: str,
        request: ExecutionRequest,
        body: bytes,
        number: int,
        attempts: list[Attempt],
    ) -> ExecutionResult | None:
        """One POST; None when it should be retried."""
        started, at = time.monotonic(), datetime.now(UTC)
        headers = self.headers(request.idempotency_key, body)
        try:
            post = client.build_request("POST", url, content=body, headers=headers)
            response = await send(client, self.egress, post)
        except Refused as exc:
            attempts.append(_attempt(number, at, started, 0, str(exc)))
            return ExecutionResult(FAILED, f"not sent: {exc}", tuple(attempts))
        except Unresolvable as exc:
            attempts.append(_attempt(number, at, started, 0, f"ConnectError: {exc}"))
            return None
        except httpx.TimeoutException as exc:
            attempts.append(_attempt(number, at, started, 0, f"{type(exc).__name__}"))
            if isinstance(exc, NOT_SENT):
                return None
            detail = f"no reply within {self.timeout_s:g} s after the request was sent"
            return ExecutionResult(OUTCOME_UNKNOWN, detail, tuple(attempts))
        except httpx.HTTPError as exc:
            attempts.append(_attempt(number, at, started, 0, f"{type(exc).__name__}: {exc}"))
            return None
        error = "" if response.is_success else f"HTTP {response.status_code}"
        attempts.append(_attempt(number, at, started, response.status_code, error))
        if response.status_code >= 500:
            return None
        if not response.is_success:
            detail = f"refused with HTTP {response.status_code}: {response.text[:200]}"
            return ExecutionResult(FAILED, detail, tuple(attempts))
        return _decided(response, tuple(attempts))

    def headers(self, key: str, body: bytes) -> dict[str, str]:
        timestamp = int(self.clock())
        return {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            **signed_headers(self.secret, timestamp, body),
        }


def encode(request: ExecutionRequest) -> bytes:
    body: dict[str, Any] = {
        "action_id": request.action_id,
        "kind": request.kind,
        "parameters": dict(request.parameters),
        "idempotency_key": request.idempotency_key,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _decided(response: httpx.Response, attempts: tuple[Attempt, ...]) -> ExecutionResult:
    try:
        reply = response.json()
    except ValueError:
        reply = None
    status = reply.get("status") if isinstance(reply, dict) else None
    if status not in STATUSES or not isinstance(reply, dict):
        detail = f"HTTP {response.status_code} without a status of executed or failed"
        return ExecutionResult(OUTCOME_UNKNOWN, detail, attempts)
    return ExecutionResult(STATUSES[status], str(reply.get("detail", "")), attempts)


def _exhausted(attempts: list[Attempt]) -> ExecutionResult:
    last = attempts[-1]
    never_arrived = last.status_code == 503 or last.error.startswith(
        tuple(kind.__name__ for kind in NOT_SENT)
    )
    outcome = FAILED if never_arrived else OUTCOME_UNKNOWN
    return ExecutionResult(
        outcome, f"gave up after {len(attempts)} attempts: {last.error}", tuple(attempts)
    )


def _attempt(number: int, at: datetime, started: float, status: int, error: str) -> Attempt:
    return Attempt(number, at, status, error, round((time.monotonic() - started) * 1000, 1))
