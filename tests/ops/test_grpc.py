from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from google.protobuf import struct_pb2

from runtime.clients import bearer
from runtime.keys import ISSUER, SigningKey
from runtime.settings import AuthSettings
from runtime.tokens import mint_person_token
from tradeops.common.v1 import common_pb2
from tradeops.ops.v1 import ops_service_pb2 as pb
from tradeops.ops.v1 import ops_service_pb2_grpc as pb_grpc

Tokens = Callable[..., str]
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"


def request(
    risk: pb.Risk.ValueType = pb.RISK_LOW, source_ref: str = "decision/42"
) -> pb.ProposeActionRequest:
    parameters = struct_pb2.Struct()
    parameters.update({"feed": "XNAS-ITCH", "to": "secondary"})
    return pb.ProposeActionRequest(
        kind="failover_market_data_feed",
        parameters=parameters,
        risk=risk,
        rationale="feed latency above 50 ms for 3 minutes",
        requested_by="rita",
        proposed_by=common_pb2.Actor(subject="triage-agent", kind="agent", logic_version="1.4.0"),
        incident_id="inc-1",
        decision_id="dec-1",
        source_ref=source_ref,
    )


async def propose(
    ops: pb_grpc.OpsServiceAsyncStub,
    token_for: Tokens,
    risk: pb.Risk.ValueType = pb.RISK_LOW,
    source_ref: str = "decision/42",
) -> pb.Action:
    agent = bearer(token_for("svc:agent", "service"))
    return await ops.ProposeAction(request(risk, source_ref), metadata=agent, timeout=5)


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_a_proposal_is_approved_by_an_ops_person(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    proposed = await propose(ops, token_for)
    assert proposed.state == pb.ACTION_STATE_PENDING_APPROVAL
    assert proposed.proposed_by.subject == "triage-agent"
    assert dict(proposed.parameters) == {"feed": "XNAS-ITCH", "to": "secondary"}
    olga = bearer(token_for("olga", "ops"))
    vote = pb.VoteRequest(id=proposed.id, comment="go")
    approved = await ops.ApproveAction(vote, metadata=olga, timeout=5)
    assert approved.state == pb.ACTION_STATE_APPROVED
    assert [(v.voter, v.approve, v.comment) for v in approved.votes] == [("olga", True, "go")]
    viewer = bearer(token_for("vic", "viewer"))
    fetched = await ops.GetAction(pb.GetActionRequest(id=proposed.id), metadata=viewer, timeout=5)
    assert fetched == approved
    listed = await ops.ListActions(pb.ListActionsRequest(), metadata=viewer, timeout=5)
    assert listed.actions[0].id == proposed.id


async def test_proposing_twice_returns_the_same_action(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    first = await propose(ops, token_for, source_ref="decision/dup")
    again = await propose(ops, token_for, source_ref="decision/dup", risk=pb.RISK_HIGH)
    assert again == first


async def test_a_call_without_a_valid_token_is_unauthenticated(
    ops: pb_grpc.OpsServiceAsyncStub, auth_settings: AuthSettings
) -> None:
    get = pb.GetActionRequest(id=UNKNOWN_ID)
    stranger = SigningKey.generate(ISSUER)  # a well-formed token from a key nobody pinned
    forged = bearer(mint_person_token(stranger, auth_settings, "mallory", ["admin"]))
    assert await code_of(ops.GetAction(get, timeout=5)) == grpc.StatusCode.UNAUTHENTICATED
    garbage = bearer("not.a.jwt")
    assert (
        await code_of(ops.GetAction(get, metadata=garbage, timeout=5))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    assert (
        await code_of(ops.GetAction(get, metadata=forged, timeout=5))
        == grpc.StatusCode.UNAUTHENTICATED
    )


async def test_a_viewer_cannot_approve(ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens) -> None:
    proposed = await propose(ops, token_for)
    viewer = bearer(token_for("vic", "viewer"))
    call = ops.ApproveAction(pb.VoteRequest(id=proposed.id), metadata=viewer, timeout=5)
    assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED


async def test_a_requester_cannot_approve_their_own_action(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    proposed = await propose(ops, token_for)
    rita = bearer(token_for("rita", "ops"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ops.ApproveAction(pb.VoteRequest(id=proposed.id), metadata=rita, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "requester cannot approve" in (caught.value.details() or "")
    olga = bearer(token_for("olga", "ops"))
    still = await ops.GetAction(pb.GetActionRequest(id=proposed.id), metadata=olga, timeout=5)
    assert still.state == pb.ACTION_STATE_PENDING_APPROVAL


async def test_a_vote_on_a_decided_action_fails_its_precondition(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    proposed = await propose(ops, token_for)
    vote = pb.VoteRequest(id=proposed.id)
    await ops.RejectAction(vote, metadata=bearer(token_for("olga", "ops")), timeout=5)
    call = ops.ApproveAction(vote, metadata=bearer(token_for("carl", "compliance")), timeout=5)
    assert await code_of(call) == grpc.StatusCode.FAILED_PRECONDITION


async def test_unknown_and_malformed_ids_are_reported_as_such(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    viewer = bearer(token_for("vic", "viewer"))
    unknown = ops.GetAction(pb.GetActionRequest(id=UNKNOWN_ID), metadata=viewer, timeout=5)
    assert await code_of(unknown) == grpc.StatusCode.NOT_FOUND
    malformed = ops.GetAction(pb.GetActionRequest(id="42; drop"), metadata=viewer, timeout=5)
    assert await code_of(malformed) == grpc.StatusCode.INVALID_ARGUMENT
    olga = bearer(token_for("olga", "ops"))
    vote = ops.ApproveAction(pb.VoteRequest(id=UNKNOWN_ID), metadata=olga, timeout=5)
    assert await code_of(vote) == grpc.StatusCode.NOT_FOUND


async def test_an_incomplete_proposal_is_an_invalid_argument(
    ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens
) -> None:
    agent = bearer(token_for("svc:agent", "service"))
    for broken in (
        pb.ProposeActionRequest(kind="k", requested_by="rita", source_ref="s"),
        pb.ProposeActionRequest(kind="k", risk=pb.RISK_LOW, source_ref="s"),
        pb.ProposeActionRequest(risk=pb.RISK_LOW, requested_by="rita", source_ref="s"),
        pb.ProposeActionRequest(kind="k", risk=pb.RISK_LOW, requested_by="rita"),
    ):
        call = ops.ProposeAction(broken, metadata=agent, timeout=5)
        assert await code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_trader_cannot_propose(ops: pb_grpc.OpsServiceAsyncStub, token_for: Tokens) -> None:
    trader = bearer(token_for("tom", "trader"))
    call = ops.ProposeAction(request(), metadata=trader, timeout=5)
    assert await code_of(call) == grpc.StatusCode.PERMISSION_DENIED
