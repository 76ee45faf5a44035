"""Issue 16 item 2: a person calling ProposeAction directly cannot name someone else as the
requester, squat the agent's source_refs, or choose a risk below what the policies give the
kind."""

from __future__ import annotations

import grpc
import pytest

from runtime.db import Database
from services.ops.domain.policy import Policy, Risk
from services.ops.service import policies
from tests.ops.helpers import NOW, person, propose
from tests.ops.test_grpc import Tokens, request
from tests.ops.test_grpc_workflow import Stub, as_
from tradeops.ops.v1 import ops_service_pb2 as pb

PRICING = "restart_pricing_engine"


async def test_a_person_is_the_requester_of_what_they_propose_and_bob_may_still_vote(
    ops: Stub, token_for: Tokens
) -> None:
    framing = request(source_ref="manual/1")
    framing.requested_by = "bob"
    proposed = await ops.ProposeAction(framing, metadata=as_(token_for, "olga", "ops"), timeout=5)
    assert proposed.requested_by == "olga"
    assert proposed.proposed_by.subject == "olga"
    vote = pb.VoteRequest(id=proposed.id, comment="fine")
    approved = await ops.ApproveAction(vote, metadata=as_(token_for, "bob", "ops"), timeout=5)
    assert approved.state == pb.ACTION_STATE_APPROVED


async def test_the_agent_still_proposes_on_behalf_of_the_person_it_names(
    ops: Stub, token_for: Tokens
) -> None:
    agent = as_(token_for, "svc:agent", "service")
    proposed = await ops.ProposeAction(request(source_ref="decision/for-rita"), metadata=agent)
    assert (proposed.requested_by, proposed.proposed_by.subject) == ("rita", "triage-agent")


async def test_a_person_cannot_squat_a_source_ref_the_agent_uses_later(
    ops: Stub, token_for: Tokens
) -> None:
    squat = await ops.ProposeAction(
        request(source_ref="decision/next"), metadata=as_(token_for, "mallory", "ops"), timeout=5
    )
    agent = as_(token_for, "svc:agent", "service")
    first = await ops.ProposeAction(request(source_ref="decision/next"), metadata=agent, timeout=5)
    again = await ops.ProposeAction(request(source_ref="decision/next"), metadata=agent, timeout=5)
    assert first.id != squat.id
    assert (first.proposed_by.subject, first.requested_by) == ("triage-agent", "rita")
    assert again == first
    mine = await ops.ProposeAction(
        request(source_ref="decision/next"), metadata=as_(token_for, "mallory", "ops"), timeout=5
    )
    assert mine == squat


async def test_a_risk_below_the_kinds_policies_is_refused_and_nothing_is_stored(
    ops: Stub, ops_db: Database, token_for: Tokens
) -> None:
    high = Policy(id="pricing-high", action_kind=PRICING, risk=Risk.HIGH, change_reason="hurts")
    await policies.put_policy(ops_db, policy=high, actor=person("ada", "admin"), now=NOW)
    low = request(source_ref="manual/cheap")
    low.kind = PRICING
    olga = as_(token_for, "olga", "ops")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ops.ProposeAction(low, metadata=olga, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "HIGH" in (caught.value.details() or "")
    listed = await ops.ListActions(pb.ListActionsRequest(kind=PRICING), metadata=olga, timeout=5)
    assert list(listed.actions) == []
    low.risk = pb.RISK_HIGH
    proposed = await ops.ProposeAction(low, metadata=olga, timeout=5)
    assert proposed.policy.id == "pricing-high"


async def test_a_kind_policy_for_any_risk_sets_no_minimum(ops: Stub, ops_db: Database) -> None:
    """A policy for the kind at any risk says the kind may be proposed at any risk."""
    anyrisk = Policy(id="pricing", action_kind=PRICING, change_reason="every restart")
    high = Policy(id="pricing-high", action_kind=PRICING, risk=Risk.HIGH, change_reason="hurts")
    for policy in (anyrisk, high):
        await policies.put_policy(ops_db, policy=policy, actor=person("ada", "admin"), now=NOW)
    assert (await propose(ops_db, Risk.LOW, kind=PRICING)).policy.id == "pricing"


async def test_a_person_need_not_name_a_requester(ops: Stub, token_for: Tokens) -> None:
    unnamed = request(source_ref="manual/2")
    unnamed.requested_by = ""
    proposed = await ops.ProposeAction(unnamed, metadata=as_(token_for, "olga", "ops"), timeout=5)
    assert proposed.requested_by == "olga"
    unnamed.source_ref = "decision/unnamed"
    agent = as_(token_for, "svc:agent", "service")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ops.ProposeAction(unnamed, metadata=agent, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
