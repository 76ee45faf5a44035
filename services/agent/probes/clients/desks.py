"""One probe request: GET the URL within the probe's timeout and turn every way it can go wrong
(a host the egress policy refuses, connection refused, timeout, a non-2xx status, an oversized
or undecodable body) into a failing observation with the reason. The request connects to an
address the policy checked, never to the name resolved again, and redirects are never followed:
the policy judged this URL's host, not wherever an answer points (runtime/pinning.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from http import HTTPStatus

import httpx

from runtime.egress import DEFAULT, EgressPolicy, Refused, Unresolvable
from runtime.pinning import send
from services.agent.probes.domain.probes import FAILING, Observation, ProbeSpec
from services.agent.probes.domain.readings import Unreadable, judge, value_of

MAX_BODY = 4 * 1024 * 1024
ACCEPT = "application/json, text/plain;version=0.0.4;q=0.9, */*;q=0.1"


async def observe(
    client: httpx.AsyncClient, spec: ProbeSpec, now: datetime, egress: EgressPolicy = DEFAULT
) -> Observation:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_s):  # the whole exchange, not each read
            body = await _get(client, spec, egress)
        status, value, error = judge(value_of(body, spec.reading), spec.rule, now)
        return Observation(status, value, error, _ms(started))
    except (TimeoutError, httpx.TimeoutException):
        return Observation(FAILING, None, f"no answer within {spec.timeout_s:g} s", _ms(started))
    except httpx.HTTPError as exc:
        why = f"{type(exc).__name__}: {exc}"[:500]
        return Observation(FAILING, None, why, _ms(started))
    except (Refused, Unresolvable, Unreadable) as exc:
        return Observation(FAILING, None, str(exc)[:500], _ms(started))
    except Exception as exc:  # anything else about this answer fails this probe, not the pass
        why = f"probe request failed: {type(exc).__name__}"
        return Observation(FAILING, None, why, _ms(started))


async def _get(client: httpx.AsyncClient, spec: ProbeSpec, egress: EgressPolicy) -> str:
    request = client.build_request(
        "GET", spec.url, headers={"Accept": ACCEPT}, timeout=spec.timeout_s
    )
    response = await send(client, egress, request, stream=True)  # to a checked address only
    try:
        return await _text(response)
    finally:
        await response.aclose()


async def _text(response: httpx.Response) -> str:
    if not 200 <= response.status_code < 300:
        # The standard phrase, not the one the desk sent (its text is the desk's to choose).
        raise Unreadable(f"HTTP {response.status_code} {_phrase(response.status_code)}".strip())
    content = bytearray()
    async for chunk in response.aiter_bytes():
        content += chunk
        if len(content) > MAX_BODY:
            raise Unreadable(f"body is larger than {MAX_BODY} bytes")
    try:
        return content.decode(response.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise Unreadable("body is not text in its declared encoding") from None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
