"""The shared server bootstrap: graceful drain, fail-closed RBAC, one error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from runtime.auth import ANYONE, Principal, TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.errors import NotFound
from runtime.grpc_server import MAX_METADATA_BYTES, Running, ServiceSpec, start
from runtime.message_limits import grpc_message_limit
from runtime.settings import AuthSettings


class SlowService:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def wait(self, request: bytes, context: Any) -> bytes:
        self.started.set()
        await asyncio.sleep(0.5)
        return b"done"

    async def missing(self, request: bytes, context: Any) -> bytes:
        raise NotFound("incident 42 does not exist")

    async def broken(self, request: bytes, context: Any) -> bytes:
        raise RuntimeError("password=hunter2 leaked in a stack trace")

    def register(self, server: grpc.aio.Server) -> None:
        handlers = {
            "Wait": grpc.unary_unary_rpc_method_handler(self.wait),
            "Missing": grpc.unary_unary_rpc_method_handler(self.missing),
            "Broken": grpc.unary_unary_rpc_method_handler(self.broken),
            "Unlisted": grpc.unary_unary_rpc_method_handler(self.wait),
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.Slow", handlers),))


RBAC = {f"/t.Slow/{name}": ANYONE for name in ("Wait", "Missing", "Broken")}


@pytest.fixture
async def slow(auth_settings: AuthSettings) -> AsyncIterator[tuple[SlowService, Running]]:
    service = SlowService()
    spec = ServiceSpec(service.register, ["t.Slow"], RBAC)
    running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    yield service, running
    await running.stop(0)


async def _call(port: int, method: str, token: str) -> bytes:
    async with open_channel(f"127.0.0.1:{port}") as channel:
        rpc = channel.unary_unary(f"/t.Slow/{method}", None, None)
        result: bytes = await rpc(b"", metadata=bearer(token), timeout=5)
        return result


async def test_stopping_drains_a_call_already_in_flight(
    slow: tuple[SlowService, Running], token_for: Callable[..., str]
) -> None:
    service, running = slow
    call = asyncio.create_task(_call(running.port, "Wait", token_for("vera", "viewer")))
    await service.started.wait()
    await running.stop(grace=5)
    assert await call == b"done"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _call(running.port, "Wait", token_for("vera", "viewer"))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_method_missing_from_the_rbac_table_is_refused(
    slow: tuple[SlowService, Running], token_for: Callable[..., str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _call(slow[1].port, "Unlisted", token_for("root", "admin"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_domain_errors_become_status_codes_and_surprises_reveal_nothing(
    slow: tuple[SlowService, Running], token_for: Callable[..., str]
) -> None:
    token = token_for("vera", "viewer")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await _call(slow[1].port, "Missing", token)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == "incident 42 does not exist"
    with pytest.raises(grpc.aio.AioRpcError) as broken:
        await _call(slow[1].port, "Broken", token)
    assert broken.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in (broken.value.details() or "")


async def test_every_refused_call_reaches_the_refusal_hook(
    auth_settings: AuthSettings, token_for: Callable[..., str]
) -> None:
    refused: list[tuple[str, str | None, str]] = []

    async def hook(method: str, principal: Principal | None, reason: str) -> None:
        refused.append((method, principal.subject if principal else None, reason))

    service = SlowService()
    spec = ServiceSpec(service.register, ["t.Slow"], RBAC, on_refused=hook)
    running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    try:
        for token in ("", "garbage", token_for("root", "admin")):
            with pytest.raises(grpc.aio.AioRpcError):
                await _call(running.port, "Unlisted" if token.count(".") else "Wait", token)
        assert await _call(running.port, "Wait", token_for("vera", "viewer")) == b"done"
    finally:
        await running.stop(0)

    assert [(method, who) for method, who, _ in refused] == [
        ("/t.Slow/Wait", None),
        ("/t.Slow/Wait", None),
        ("/t.Slow/Unlisted", "root"),
    ]
    assert refused[0][2] == "missing bearer token"
    assert "lacks a role" in refused[2][2]


async def test_a_second_server_on_a_port_in_use_fails_to_bind_instead_of_sharing_it(
    slow: tuple[SlowService, Running], auth_settings: AuthSettings
) -> None:
    spec = ServiceSpec(SlowService().register, ["t.Slow"], RBAC)
    with pytest.raises(RuntimeError, match="Failed to bind"):
        await start(spec, f"127.0.0.1:{slow[1].port}", TokenVerifier(auth_settings))


@pytest.fixture
async def small(auth_settings: AuthSettings) -> AsyncIterator[Running]:
    service = SlowService()
    spec = ServiceSpec(service.register, ["t.Slow"], RBAC)
    limit = grpc_message_limit("ops", {})
    running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings), None, limit)
    yield running
    await running.stop(0)


async def _send(port: int, body: bytes, metadata: tuple[tuple[str, str], ...]) -> bytes:
    async with open_channel(f"127.0.0.1:{port}") as channel:
        rpc = channel.unary_unary("/t.Slow/Missing", None, None)
        result: bytes = await rpc(body, metadata=metadata, timeout=5)
        return result


async def test_a_request_over_the_limit_derived_from_the_rest_one_is_resource_exhausted(
    small: Running, token_for: Callable[..., str]
) -> None:
    limit = grpc_message_limit("ops", {"TRADEOPS_MAX_BODY_BYTES": str(64 * 1024)})
    assert limit == 2 * 64 * 1024
    assert grpc_message_limit("ops", {"TRADEOPS_MAX_BODY_BYTES": "1000"}) == 2000
    token = bearer(token_for("vera", "viewer"))
    with pytest.raises(grpc.aio.AioRpcError) as within:
        await _send(small.port, b"x" * (limit - 64), token)
    assert within.value.code() == grpc.StatusCode.NOT_FOUND  # it reached the handler
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _send(small.port, b"x" * (limit + 1), token)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_request_metadata_over_the_cap_is_refused(
    small: Running, token_for: Callable[..., str]
) -> None:
    padded = (*bearer(token_for("vera", "viewer")), ("x-padding", "p" * MAX_METADATA_BYTES))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _send(small.port, b"", padded)
    assert refused.value.code() != grpc.StatusCode.NOT_FOUND  # never reached the handler
