"""Peer addresses naming several replicas (runtime.targets) and the channels that use them
(runtime.clients, runtime.retries): round robin over real servers, a safe call retried on the
other replica when one answers UNAVAILABLE and an unsafe one not, TLS checking the server name
with a static list, and every address form refused with what is wrong."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool

from runtime import grpc_server, retries
from runtime.auth import ANYONE, TokenVerifier
from runtime.clients import bearer, open_channel
from runtime.settings import AuthSettings, SettingsError, peer_addresses
from runtime.stack import Stack
from runtime.targets import BadTarget, translate
from runtime.tls import TlsFiles, make_certs
from services.agent.__main__ import KEYED as AGENT_KEYED
from services.export.__main__ import KEYED as EXPORT_KEYED
from services.ops.__main__ import KEYED as OPS_KEYED
from tradeops.agent.v1 import (
    agent_service_pb2,
    compliance_service_pb2,
    probe_service_pb2,
    remediation_service_pb2,
    trigger_service_pb2,
)
from tradeops.audit.v1 import audit_service_pb2
from tradeops.export.v1 import export_service_pb2
from tradeops.ops.v1 import ops_service_pb2

PROTOS = (
    agent_service_pb2,
    compliance_service_pb2,
    probe_service_pb2,
    remediation_service_pb2,
    trigger_service_pb2,
    audit_service_pb2,
    export_service_pb2,
    ops_service_pb2,
)
SAFE = ("tradeops.audit.v1.AuditService", "ListPublicKeys")
UNSAFE = ("tradeops.ops.v1.OpsService", "ProposeAction")
Handler = Callable[[bytes, grpc.aio.ServicerContext[bytes, bytes]], Awaitable[bytes]]


class Replica:
    """A server answering SAFE and UNSAFE with its own name, or UNAVAILABLE while `gone`."""

    def __init__(self, name: str) -> None:
        self.name, self.gone, self.calls = name, False, Counter[str]()
        self.server = grpc.aio.server()
        for service, method in (SAFE, UNSAFE):
            handlers = {method: grpc.unary_unary_rpc_method_handler(self._answer(method))}
            generic = grpc.method_handlers_generic_handler(service, handlers)
            self.server.add_generic_rpc_handlers((generic,))
        self.port = 0

    def _answer(self, method: str) -> Handler:
        async def answer(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            self.calls[method] += 1
            if self.gone:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
            return self.name.encode()

        return answer

    async def start(self, tls: TlsFiles | None = None) -> None:
        if tls is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self.server.add_secure_port("127.0.0.1:0", tls.server_credentials())
        await self.server.start()


async def replicas(tls: TlsFiles | None = None) -> tuple[Replica, Replica]:
    a, b = Replica("a"), Replica("b")
    await a.start(tls)
    await b.start(tls)
    return a, b


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Replica, Replica]]:
    a, b = await replicas()
    yield a, b
    await a.server.stop(0)
    await b.server.stop(0)


async def call(channel: grpc.aio.Channel, rpc: tuple[str, str]) -> str:
    method = channel.unary_unary(f"/{rpc[0]}/{rpc[1]}", None, None)
    reply: bytes = await method(b"", timeout=5)
    return reply.decode()


@pytest.mark.parametrize("form", ["ipv4:{a},{b}", "{a},{b}"])
async def test_calls_go_round_robin_over_a_static_list(
    pair: tuple[Replica, Replica], form: str
) -> None:
    a, b = pair
    address = form.format(a=f"127.0.0.1:{a.port}", b=f"127.0.0.1:{b.port}")
    async with open_channel(address) as channel:
        answers = Counter([await call(channel, UNSAFE) for _ in range(10)])
    assert set(answers) == {"a", "b"}


async def test_a_safe_call_is_retried_on_the_other_replica_and_an_unsafe_one_is_not(
    pair: tuple[Replica, Replica],
) -> None:
    a, b = pair
    a.gone = True
    async with open_channel(f"127.0.0.1:{a.port},127.0.0.1:{b.port}") as channel:
        safe = [await call(channel, SAFE) for _ in range(4)]
        unsafe = []
        for _ in range(4):
            try:
                unsafe.append(await call(channel, UNSAFE))
            except grpc.aio.AioRpcError as exc:
                unsafe.append(exc.code().name)

    assert safe == ["b"] * 4
    assert a.calls[SAFE[1]] >= 1, "the gone replica was never tried: the test proved nothing"
    assert sorted(unsafe) == ["UNAVAILABLE", "UNAVAILABLE", "b", "b"]
    assert a.calls[UNSAFE[1]] == 2  # each sent once, never again


async def test_a_dns_target_resolves_and_answers(pair: tuple[Replica, Replica]) -> None:
    async with open_channel(f"dns:///localhost:{pair[0].port}") as channel:
        assert await call(channel, SAFE) == "a"


@pytest.fixture
def tls_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TlsFiles:
    """This process presents `cli`'s certificate; the replicas serve `ops`'s."""
    make_certs(tmp_path / "tls")
    monkeypatch.setenv("TRADEOPS_TLS_DIR", str(tmp_path / "tls"))
    monkeypatch.setenv("TRADEOPS_TLS_NAME", "cli")
    ops = TlsFiles.from_env({"TRADEOPS_TLS_DIR": str(tmp_path / "tls"), "TRADEOPS_TLS_NAME": "ops"})
    assert ops is not None
    return ops


async def test_tls_checks_each_replica_of_a_static_list_against_the_peers_name(
    tls_env: TlsFiles,
) -> None:
    a, b = await replicas(tls_env)
    address = f"127.0.0.1:{a.port},127.0.0.1:{b.port}"
    try:
        async with open_channel(address, "ops") as channel:
            assert {await call(channel, SAFE) for _ in range(6)} == {"a", "b"}
        async with open_channel(address) as channel:  # no peer named: the hosts' one name
            assert await call(channel, SAFE) in ("a", "b")
        async with open_channel(address, "audit") as channel:  # ops' certificate is not audit's
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(channel, SAFE)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "Hostname Verification" in (refused.value.details() or "")
    finally:
        await a.server.stop(0)
        await b.server.stop(0)


def test_under_tls_a_list_of_several_hosts_needs_the_peers_name(tls_env: TlsFiles) -> None:
    with pytest.raises(SettingsError, match="needs the peer"):
        open_channel("10.0.0.5:50052,10.0.0.6:50052")


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("ops:50052", "ops:50052"),
        ("dns:///ops.tradeops.svc:50052", "dns:///ops.tradeops.svc:50052"),
        ("dns:ops:50052", "dns:ops:50052"),
        ("ipv4:10.0.0.5:1,10.0.0.6:2", "ipv4:10.0.0.5:1,10.0.0.6:2"),
        ("10.0.0.5:1, 10.0.0.6:2", "ipv4:10.0.0.5:1,10.0.0.6:2"),
        ("[fd00::5]:1,[fd00::6]:1", "ipv6:[fd00::5]:1,[fd00::6]:1"),
        ("unix:/run/ops.sock", "unix:/run/ops.sock"),
    ],
)
def test_every_address_form_becomes_a_grpc_target(address: str, target: str) -> None:
    assert translate(address) == target


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("ops", "not host:port"),
        ("ops:http", "not host:port"),
        ("ops:70000", "not host:port"),
        ("dns:///ops", "not host:port"),
        ("ops-1:50052,ops-2:50052", "not an IP address; for names use dns:///"),
        ("10.0.0.5:1,[fd00::5]:1", "not both"),
        ("ipv4:10.0.0.5:1,[fd00::5]:1", "not an ipv4 address"),
        ("10.0.0.5:1,", "not host:port"),
    ],
)
def test_a_malformed_address_is_refused_naming_its_variable(address: str, why: str) -> None:
    with pytest.raises(BadTarget, match=why):
        translate(address)
    with pytest.raises(SettingsError, match=f"TRADEOPS_OPS_ADDR=.*{why}"):
        peer_addresses({"TRADEOPS_OPS_ADDR": address})


# Every method gRPC may send twice, each checked against its comment in protos/: it writes
# nothing, or only an audit event of the read itself (a retried read is another read), or it is
# AppendEvents, idempotent on event ids. Verify* are not here: VerifyExport stores its result
# and counts failures toward FAILED; VerifyChain appends an alert when it fails.
READ_ONLY = {
    "tradeops.ops.v1.OpsService": {
        "GetAction",
        "ListActions",
        "GetTimeline",
        "ListPolicies",
        "ListEscalationPolicies",
        "GetMetrics",
    },
    "tradeops.agent.v1.AgentService": {
        "GetIncident",
        "ListIncidents",
        "GetDecision",
        "ListDecisions",
        "GetTriageMetrics",
        "GetRuleSet",  # stores the shipped file as version 1 if none: the same row every time
        "ListRuleSets",
    },
    "tradeops.agent.v1.ComplianceService": {
        "GetRun",
        "ListRuns",
        "ListResults",
        "ListChecks",
        "GetAuditSummary",
        "ListAuditSummaries",
    },
    "tradeops.agent.v1.RemediationService": {"GetPlan", "ListExecutions", "ListPlaybooks"},
    "tradeops.agent.v1.ProbeService": {"GetProbe", "ListProbes", "ListProbeRuns"},
    "tradeops.agent.v1.TriggerService": {"GetTrigger", "ListTriggers", "ListFirings"},
    "tradeops.export.v1.ExportService": {
        "GetExport",
        "ListExports",
        "ListAttempts",
        "ListSchedules",
        "ListPublicKeys",
    },
    "tradeops.audit.v1.AuditService": {
        "AppendEvents",
        "ListRecords",  # audits the read
        "StreamRecords",  # audits the read
        "StreamRecordPages",  # audits the read
        "WatchRecords",  # audits the read; a stream is retried only before its first message
        "GetInclusionProof",  # audits the read
        "GetConsistencyProof",  # audits the read
        "GetCheckpoint",
        "ListPublicKeys",
    },
}


def test_only_the_methods_known_to_write_nothing_are_retried() -> None:
    retried = {service: set(methods) for service, methods in retries.SAFE.items()}
    assert retried == READ_ONLY, "a retried method must be checked and added to READ_ONLY"
    pool = descriptor_pool.Default()
    assert PROTOS  # their import put the services in the pool
    keyed = {name.strip("/") for name in (*AGENT_KEYED, *OPS_KEYED, *EXPORT_KEYED)}
    for service, methods in retries.SAFE.items():
        known = {m.name for m in pool.FindServiceByName(service).methods}
        assert set(methods) <= known, f"{service}: {set(methods) - known} do not exist"
        assert not {f"{service}/{m}" for m in methods} & keyed


class Peers:
    """Which client connections (the caller's address and port) a servicer saw."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def register(self, server: grpc.aio.Server) -> None:
        async def answer(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            self.seen.add(context.peer())
            await asyncio.sleep(0.01)
            return b"ok"

        handlers = {UNSAFE[1]: grpc.unary_unary_rpc_method_handler(answer)}
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(UNSAFE[0], handlers),)
        )


async def test_connections_age_out_without_failing_a_call(
    monkeypatch: pytest.MonkeyPatch, auth_settings: AuthSettings, token_for: Callable[..., str]
) -> None:
    """An aged connection ends so that names are resolved again (new replicas found); the calls
    on it finish, and the next ones go over a new connection."""
    monkeypatch.setattr(grpc_server, "MAX_CONNECTION_AGE_S", 0.3)
    peers = Peers()
    spec = grpc_server.ServiceSpec(peers.register, [UNSAFE[0]], {"/".join(("", *UNSAFE)): ANYONE})
    running = await grpc_server.start(spec, "127.0.0.1:0", TokenVerifier(auth_settings))
    token = bearer(token_for("vera", "viewer"))
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            method = channel.unary_unary("/".join(("", *UNSAFE)), None, None)

            async def caller() -> None:
                for _ in range(60):
                    await method(b"", timeout=5, metadata=token)

            await asyncio.gather(*(caller() for _ in range(4)))
    finally:
        await running.stop(0)
    assert len(peers.seen) > 1, "one connection all along: it never aged out"


def test_a_stack_runs_one_replica_per_entry_of_a_static_list(tmp_path: Path) -> None:
    env = {"TRADEOPS_OPS_ADDR": "127.0.0.1:7001,127.0.0.1:7002"}
    stack = Stack(env, tmp_path)
    assert stack.processes() == ["audit", "ops-1", "ops-2", "agent", "export", "gateway"]
    assert stack.replicas("ops") == {"ops-1": "127.0.0.1:7001", "ops-2": "127.0.0.1:7002"}
    assert stack.replicas("agent") == {"agent": "127.0.0.1:50051"}
    assert stack.address("ops") == "ipv4:127.0.0.1:7001,127.0.0.1:7002"
