"""The gRPC half of the RBAC matrix: every method of every service in protos/ (read from the
generated descriptors, so a new RPC cannot be forgotten) is called with a token of every role,
the service pseudo-role and no token, through the real shared guard and the service's own RBAC
table; each outcome must be what the table says, and every refusal must be recorded (the hook
that writes `<service>.access.denied` events). The REST half is tests/gateway/test_rbac.py."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import grpc
import pytest

import services
import tradeops
from runtime.auth import ROLES, SERVICE, Principal, TokenVerifier
from runtime.grpc_server import ServiceSpec, start
from tests.keys import Keys

CALLERS = (*ROLES, SERVICE, None)  # None: no token at all


def _modules(package: ModuleType, part: str) -> list[ModuleType]:
    """Every module of `package` whose dotted name has a part ending in `part`."""
    found = pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    named = [m.name for m in found if any(p.endswith(part) for p in m.name.split("."))]
    return [importlib.import_module(name) for name in named]


def grpc_methods() -> dict[str, dict[str, bool]]:
    """Service full name -> {method name: server-streaming?} for every generated service."""
    services_found: dict[str, dict[str, bool]] = {}
    for module in _modules(tradeops, "_pb2"):
        for service in module.DESCRIPTOR.services_by_name.values():
            services_found[service.full_name] = {
                m.name: m.server_streaming for m in service.methods
            }
    return services_found


def rbac_tables() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for module in _modules(services, "grpc_api"):
        rbac: Mapping[str, frozenset[str]] | None = getattr(module, "RBAC", None)
        if rbac is not None:
            table.update(rbac)
    return table


def test_every_rpc_in_the_contracts_has_exactly_one_rbac_entry() -> None:
    methods = {f"/{s}/{m}" for s, ms in grpc_methods().items() for m in ms}
    assert methods == set(rbac_tables())


class Everything:
    """Answers every method of one service with an empty reply, so only the guard decides."""

    def __init__(self, service: str, methods: Mapping[str, bool]) -> None:
        self.service, self.methods = service, methods

    async def unary(self, request: bytes, context: Any) -> bytes:
        return b""

    async def stream(self, request: bytes, context: Any) -> Any:
        yield b""

    def register(self, server: grpc.aio.Server) -> None:
        handlers = {
            name: grpc.unary_stream_rpc_method_handler(self.stream)
            if streaming
            else grpc.unary_unary_rpc_method_handler(self.unary)
            for name, streaming in self.methods.items()
        }
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(self.service, handlers)]
        )


async def _call(
    channel: grpc.aio.Channel, path: str, streaming: bool, caller: str | None, keys: Keys
) -> grpc.StatusCode:
    token = "" if caller is None else keys.token(_subject(caller), caller)
    metadata = () if caller is None else (("authorization", f"Bearer {token}"),)
    try:
        if streaming:
            call = channel.unary_stream(path, None, None)(b"", metadata=metadata, timeout=5)
            async for _ in call:
                pass
        else:
            await channel.unary_unary(path, None, None)(b"", metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def _subject(role: str) -> str:
    # A service's key speaks only for that service's own names.
    return "svc:tests" if role == SERVICE else f"user-{role}"


def _expected(allowed: frozenset[str], caller: str | None) -> grpc.StatusCode:
    if caller is None:
        return grpc.StatusCode.UNAUTHENTICATED
    return grpc.StatusCode.OK if caller in allowed else grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("service", sorted(grpc_methods()))
async def test_every_method_answers_every_role_and_no_token_as_its_table_says(
    service: str, keys: Keys
) -> None:
    methods, table = grpc_methods()[service], rbac_tables()
    refusals: list[tuple[str, str | None]] = []

    async def record(method: str, principal: Principal | None, reason: str) -> None:
        refusals.append((method, principal.subject if principal else None))

    spec = ServiceSpec(Everything(service, methods).register, [service], table, on_refused=record)
    running = await start(spec, "127.0.0.1:0", TokenVerifier(keys.settings))
    expected_refusals = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            for name, streaming in sorted(methods.items()):
                path = f"/{service}/{name}"
                for caller in CALLERS:
                    got = await _call(channel, path, streaming, caller, keys)
                    assert got == _expected(table[path], caller), (path, caller)
                    if got != grpc.StatusCode.OK:
                        expected_refusals.append((path, _subject(caller) if caller else None))
    finally:
        await running.stop(0)
    assert sorted(refusals, key=str) == sorted(expected_refusals, key=str)
