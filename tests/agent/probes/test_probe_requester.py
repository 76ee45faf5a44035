"""The admin who defines a probe requests what it causes (issue 16, "automation launders the
requester"): the incident it reports, the triage decision and the action proposed to a real ops
service name them as requested_by, so they cannot approve that action; another approver can."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy import select, update

from runtime.clients import bearer, open_channel
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings
from services.agent.__main__ import triage_as_probe
from services.agent.compliance.clients.messages import action as compliance_view
from services.agent.compliance.domain.checks.approvals import invalid_reason, quorum_problems
from services.agent.compliance.domain.views import VoteView
from services.agent.probes.grpc_api.messages import definition
from services.agent.probes.tables import probes as probe_rows
from services.agent.probes.workers.probes import ProbeWorker
from services.agent.triage import Agent
from services.agent.triage.clients.ops import OpsProposer
from services.agent.triage.service.rulebook import RuleBook
from services.ops.grpc_api import servicer as ops_api
from services.ops.tables import outbox as ops_outbox
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, events, latency_probe
from tests.keys import identity_for, verifier_for
from tradeops.agent.v1 import probe_service_pb2 as probe_pb
from tradeops.agent.v1 import probe_service_pb2_grpc as probe_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Token = Callable[..., str]
LAGGING = '{"lag_ms": 850}'  # the shipped rule md-latency-degraded proposes a failover


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))  # ops stamps the action with the real time


@pytest.fixture
async def ops(
    ops_db: Database, auth_settings: AuthSettings
) -> AsyncIterator[ops_grpc.OpsServiceAsyncStub]:
    served = ops_api.spec(ops_db, lambda: None)
    running = await start(served, "127.0.0.1:0", verifier_for(served, auth_settings))
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield ops_grpc.OpsServiceStub(channel)
    finally:
        await channel.close(None)
        await running.stop(0)


async def proposed_by_probe(
    probes: probe_grpc.ProbeServiceAsyncStub,
    ops: ops_grpc.OpsServiceAsyncStub,
    agent_db: Database,
    auth_settings: AuthSettings,
    token_for: Token,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
    author: str = "",
) -> ops_pb.Action:
    """Ada (admin) defines a probe over gRPC; its failing run opens an incident that the agent
    triages as the probe and proposes to ops, as the agent process wires it. `author` replaces
    the recorded one, as a definition written without a person would hold."""
    spec = latency_probe(desk.url)
    # The shipped rules read the feed's lag as latency_ms.
    spec = replace(spec, incident=replace(spec.incident, value_metric="latency_ms"))
    await probes.PutProbe(
        probe_pb.PutProbeRequest(definition=definition(spec)),
        metadata=bearer(token_for("ada", "admin")),
        timeout=5,
    )
    if author:
        async with agent_db.transaction() as session:
            await session.execute(update(probe_rows).values(changed_by=author))
    proposer = OpsProposer(ops, identity_for("agent", auth_settings), 5.0)
    agent = Agent(agent_db, proposer, RuleBook.shipped(clock))
    worker = ProbeWorker(agent_db, clock=clock, on_opened=triage_as_probe(agent))
    desk.flip(body=LAGGING)
    [run] = await worker.run_once(http)
    assert run.incident_step == "opened"
    [decided] = await events(agent_db, "agent.remediation.proposed")
    action_id = decided["payload"]["action_id"]
    return await ops.GetAction(
        ops_pb.GetActionRequest(id=action_id),
        metadata=bearer(token_for("vic", "viewer")),
        timeout=5,
    )


async def ops_events(db: Database, target: str) -> list[dict[str, Any]]:
    query = select(ops_outbox.c.event).where(ops_outbox.c.event["target"].astext == target)
    async with db.transaction() as session:
        found = [dict(row.event) for row in await session.execute(query.order_by(ops_outbox.c.id))]
    for event in found:
        event["payload"] = json.loads(event["payload_json"])
    return found


async def test_the_admin_who_defined_a_probe_cannot_approve_the_action_it_proposes(
    probes: probe_grpc.ProbeServiceAsyncStub,
    ops: ops_grpc.OpsServiceAsyncStub,
    agent_db: Database,
    ops_db: Database,
    auth_settings: AuthSettings,
    token_for: Token,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    action = await proposed_by_probe(
        probes, ops, agent_db, auth_settings, token_for, desk, http, clock
    )
    assert action.kind == "failover_market_data_feed"
    assert action.requested_by == "ada"
    assert action.proposed_by.subject.startswith("agent-triage/")  # the agent still proposes

    vote = ops_pb.VoteRequest(id=action.id, comment="looks right")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ops.ApproveAction(vote, metadata=bearer(token_for("ada", "admin")), timeout=5)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "requester cannot approve their own action" in str(refused.value.details())
    still = await ops.GetAction(
        ops_pb.GetActionRequest(id=action.id),
        metadata=bearer(token_for("vic", "viewer")),
        timeout=5,
    )
    assert (still.state, len(still.votes)) == (ops_pb.ACTION_STATE_PENDING_APPROVAL, 0)

    approved = await ops.ApproveAction(vote, metadata=bearer(token_for("olga", "ops")), timeout=5)
    assert approved.state == ops_pb.ACTION_STATE_APPROVED
    # The compliance approval checks read the same action, and would judge ada's vote invalid.
    view = compliance_view(approved)
    ada = VoteView("ada", frozenset({"admin"}), True, clock(), approved.parameters_version, False)
    assert view.requested_by == "ada"
    assert invalid_reason(view, ada) == "voted on their own action"
    assert quorum_problems(view) == []


async def test_the_audit_events_name_the_probes_author_as_requester(
    probes: probe_grpc.ProbeServiceAsyncStub,
    ops: ops_grpc.OpsServiceAsyncStub,
    agent_db: Database,
    ops_db: Database,
    auth_settings: AuthSettings,
    token_for: Token,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    action = await proposed_by_probe(
        probes, ops, agent_db, auth_settings, token_for, desk, http, clock
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await ops.ApproveAction(
            ops_pb.VoteRequest(id=action.id), metadata=bearer(token_for("ada", "admin")), timeout=5
        )

    [created] = await events(agent_db, "agent.incident.created")
    [opened] = await events(agent_db, "agent.probe.incident_opened")
    [decided] = await events(agent_db, "agent.triage.decided")
    [proposed] = await events(agent_db, "agent.remediation.proposed")
    assert created["actor"]["subject"] == opened["actor"]["subject"] == "probe:md-latency@v1"
    assert created["payload"]["requested_by"] == opened["payload"]["requested_by"] == "ada"
    assert decided["payload"]["requested_by"] == proposed["payload"]["requested_by"] == "ada"
    in_ops = {e["action"]: e for e in await ops_events(ops_db, f"action/{action.id}")}
    assert in_ops["ops.action.proposed"]["payload"]["requested_by"] == "ada"
    denied = in_ops["ops.action.vote_recorded"]
    assert (denied["actor"]["subject"], denied["outcome"]) == ("ada", "denied")
    assert "requester" in denied["payload"]["reason"]


async def test_a_probe_with_no_person_recorded_is_its_own_requester(
    probes: probe_grpc.ProbeServiceAsyncStub,
    ops: ops_grpc.OpsServiceAsyncStub,
    agent_db: Database,
    auth_settings: AuthSettings,
    token_for: Token,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
) -> None:
    """A definition whose author is not a person (none recorded, or "system:...") still runs,
    triages and proposes, requested by the probe version itself, as before."""
    action = await proposed_by_probe(
        probes, ops, agent_db, auth_settings, token_for, desk, http, clock, author="system:seed"
    )
    assert action.requested_by == "probe:md-latency@v1"
    approved = await ops.ApproveAction(
        ops_pb.VoteRequest(id=action.id), metadata=bearer(token_for("ada", "admin")), timeout=5
    )
    assert approved.state == ops_pb.ACTION_STATE_APPROVED
