"""Idempotency keys on creating RPCs, through the real server stack (guard, then keys) and the
agent schema's key table: a retry returns the first reply and runs nothing twice; a key reused
for another request, a retry while the first runs, and an interrupted first call are refused
with what to do; a refusal by the use case frees the key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from sqlalchemy import text, update

from runtime.auth import ANYONE, TokenVerifier
from runtime.clients import bearer
from runtime.db import Database
from runtime.errors import InvalidArgument
from runtime.grpc_server import Running, ServiceSpec, start
from runtime.idempotency import Idempotent
from runtime.settings import AuthSettings
from services.agent.tables import idempotency_keys
from tradeops.agent.v1 import agent_service_pb2 as pb

METHOD = "/t.Make/Create"


class Maker:
    """A creating RPC: each run makes a new id (so a second run would be visible)."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def create(self, request: pb.CreateIncidentRequest, context: Any) -> pb.Incident:
        self.runs += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return pb.Incident(id=f"incident-{self.runs}", subject=request.subject)

    def register(self, server: grpc.aio.Server) -> None:
        handler = grpc.unary_unary_rpc_method_handler(
            self.create,
            request_deserializer=pb.CreateIncidentRequest.FromString,
            response_serializer=pb.Incident.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("t.Make", {"Create": handler})]
        )


@pytest.fixture
async def served(
    agent_db: Database, auth_settings: AuthSettings
) -> AsyncIterator[tuple[Maker, grpc.aio.Channel]]:
    maker = Maker()
    spec = ServiceSpec(
        maker.register,
        ["t.Make"],
        {METHOD: ANYONE},
        idempotent=Idempotent(agent_db, idempotency_keys, {METHOD}),
    )
    running: Running = await start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield maker, channel
    await running.stop(0)


Call = Callable[..., Any]


def caller(channel: grpc.aio.Channel, token: str) -> Call:
    stub = channel.unary_unary(
        METHOD,
        request_serializer=pb.CreateIncidentRequest.SerializeToString,
        response_deserializer=pb.Incident.FromString,
    )

    async def call(subject: str, key: str | None) -> pb.Incident:
        metadata = bearer(token) + ((("idempotency-key", key),) if key is not None else ())
        reply: pb.Incident = await stub(
            pb.CreateIncidentRequest(subject=subject), metadata=metadata, timeout=5
        )
        return reply

    return call


async def test_a_retry_gets_the_first_reply_and_nothing_runs_twice(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str]
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    first = await call("XNAS", "k-1")
    again = await call("XNAS", "k-1")
    assert again == first
    assert maker.runs == 1
    assert (await call("XNAS", "k-2")).id == "incident-2"  # a new key is a new request
    assert (await call("XNAS", None)).id == "incident-3"  # no key: no protection asked for
    other = caller(channel, token_for("bob", "ops"))
    assert (await other("XNAS", "k-1")).id == "incident-4"  # keys belong to their caller


async def test_a_key_reused_for_another_request_is_refused(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str]
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    await call("XNAS", "k-1")
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await call("XLON", "k-1")
    assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "different request" in (reused.value.details() or "")
    assert maker.runs == 1


async def test_a_retry_while_the_first_runs_is_told_to_wait(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str]
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    maker.gate = asyncio.Event()
    first = asyncio.create_task(call("XNAS", "k-1"))
    await maker.started.wait()
    with pytest.raises(grpc.aio.AioRpcError) as busy:
        await call("XNAS", "k-1")
    assert busy.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "in progress" in (busy.value.details() or "")
    maker.gate.set()
    assert (await first).id == "incident-1"
    assert (await call("XNAS", "k-1")).id == "incident-1"
    assert maker.runs == 1


async def test_a_refused_request_frees_its_key_and_an_interrupted_one_does_not(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str]
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    maker.fail = InvalidArgument("subject must be upper case")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call("xnas", "k-1")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    maker.fail = None
    assert (await call("xnas", "k-1")).id == "incident-2"  # the use case refused: free to retry

    maker.fail = RuntimeError("connection lost after commit?")
    with pytest.raises(grpc.aio.AioRpcError):
        await call("XNAS", "k-2")
    maker.fail = None
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await call("XNAS", "k-2")
    assert unknown.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "may have taken effect" in (unknown.value.details() or "")
    assert maker.runs == 3  # never a second run of an interrupted request


async def test_a_malformed_key_is_refused_before_anything_runs(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str]
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    for bad in ("has space", "x" * 201):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call("XNAS", bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert maker.runs == 0


async def test_a_claim_left_pending_by_a_dead_process_counts_as_interrupted(
    served: tuple[Maker, grpc.aio.Channel], token_for: Callable[..., str], agent_db: Database
) -> None:
    maker, channel = served
    call = caller(channel, token_for("olga", "ops"))
    maker.gate = asyncio.Event()
    first = asyncio.create_task(call("XNAS", "k-1"))
    await maker.started.wait()
    # As if its process died mid-call long ago: the claim is pending and old.
    async with agent_db.transaction() as session:
        await session.execute(
            update(idempotency_keys).values(created_at=text("now() - interval '1 hour'"))
        )
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await call("XNAS", "k-1")
    assert unknown.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "may have taken effect" in (unknown.value.details() or "")
    maker.gate.set()
    await first
    assert maker.runs == 1
