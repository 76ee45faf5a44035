"""Issue 16 item 4: execution results cannot be faked. Whoever claims an action (StartExecution)
is the only one who records its result; a person claims only by hand, never under an
executor's name; people resolve an action only once it is OUTCOME_UNKNOWN. Through gRPC and
through the real gateway, on the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import grpc
import httpx
import pytest

from gateway.app import create_app
from runtime.db import Database
from runtime.grpc_server import start
from runtime.settings import AuthSettings, GatewaySettings
from services.ops.grpc_api.servicer import spec
from tests.keys import settings_for, verifier_for
from tests.ops.conftest import HandClock
from tests.ops.helpers import events_for, payload
from tests.ops.test_grpc import Tokens, propose
from tests.ops.test_grpc_workflow import Stub, as_
from tradeops.ops.v1 import ops_service_pb2 as pb

EXECUTED, FAILED = pb.ACTION_STATE_EXECUTED, pb.ACTION_STATE_FAILED
UNKNOWN = pb.ACTION_STATE_OUTCOME_UNKNOWN


async def approved(ops: Stub, token_for: Tokens, ref: str) -> pb.Action:
    action = await propose(ops, token_for, source_ref=ref)
    vote = pb.VoteRequest(id=action.id)
    done = await ops.ApproveAction(vote, metadata=as_(token_for, "olga", "ops"), timeout=5)
    assert done.state == pb.ACTION_STATE_APPROVED
    return done


async def claimed_by_agent(ops: Stub, token_for: Tokens, ref: str) -> pb.Action:
    action = await approved(ops, token_for, ref)
    start = pb.StartExecutionRequest(id=action.id, executor="webhook:desk-oms")
    agent = as_(token_for, "svc:agent", "service")
    return await ops.StartExecution(start, metadata=agent, timeout=5)


def result(
    action_id: str, outcome: pb.ActionState.ValueType, detail: str = ""
) -> pb.RecordExecutionResultRequest:
    return pb.RecordExecutionResultRequest(id=action_id, outcome=outcome, detail=detail)


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def fetched(ops: Stub, token_for: Tokens, action_id: str) -> pb.Action:
    viewer = as_(token_for, "vera", "viewer")
    return await ops.GetAction(pb.GetActionRequest(id=action_id), metadata=viewer, timeout=5)


@pytest.mark.parametrize("role", ["ops", "admin"])
async def test_a_person_cannot_record_a_result_while_the_executor_runs(
    ops: Stub, token_for: Tokens, ops_db: Database, role: str
) -> None:
    action = await claimed_by_agent(ops, token_for, f"fake/{role}")
    fake = result(action.id, EXECUTED, "done, trust me")
    denied = await refused(
        ops.RecordExecutionResult(fake, metadata=as_(token_for, "mallory", role), timeout=5)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert denied.details() == (
        f"mallory may not record the result of action {action.id}: svc:agent claimed it"
        " (as webhook:desk-oms) and only svc:agent may; people resolve it once it is"
        " OUTCOME_UNKNOWN"
    )
    after = await fetched(ops, token_for, action.id)
    assert (after.state, after.execution_detail) == (pb.ACTION_STATE_EXECUTING, "")
    last = (await events_for(ops_db, action.id))[-1]
    assert (last["action"], last["outcome"], last["actor"]["subject"]) == (
        "ops.action.executed",
        "denied",
        "mallory",
    )
    real = result(action.id, FAILED, "OMS rejected")
    agent = as_(token_for, "svc:agent", "service")
    done = await ops.RecordExecutionResult(real, metadata=agent, timeout=5)
    assert (done.state, done.execution_detail) == (FAILED, "OMS rejected")


async def test_another_service_cannot_record_the_result_of_the_agents_claim(
    ops: Stub, token_for: Tokens
) -> None:
    action = await claimed_by_agent(ops, token_for, "fake/service")
    other = as_(token_for, "svc:export", "service")
    denied = await refused(
        ops.RecordExecutionResult(result(action.id, EXECUTED), metadata=other, timeout=5)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "svc:agent claimed it" in (denied.details() or "")
    assert (await fetched(ops, token_for, action.id)).state == pb.ACTION_STATE_EXECUTING


async def test_a_person_cannot_start_an_execution_under_an_executor_name(
    ops: Stub, token_for: Tokens, ops_db: Database
) -> None:
    action = await approved(ops, token_for, "fake/start")
    start = pb.StartExecutionRequest(id=action.id, executor="webhook:desk-oms")
    denied = await refused(
        ops.StartExecution(start, metadata=as_(token_for, "mallory", "ops"), timeout=5)
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "may not start an execution as executor 'webhook:desk-oms'" in (denied.details() or "")
    assert (await fetched(ops, token_for, action.id)).state == pb.ACTION_STATE_APPROVED
    last = (await events_for(ops_db, action.id))[-1]
    assert (last["action"], last["outcome"]) == ("ops.action.execution_started", "denied")


async def test_a_person_who_executes_by_hand_is_the_only_one_to_record_its_result(
    ops: Stub, token_for: Tokens
) -> None:
    action = await approved(ops, token_for, "by-hand/1")
    mine = as_(token_for, "otto", "ops")
    started = await ops.StartExecution(
        pb.StartExecutionRequest(id=action.id), metadata=mine, timeout=5
    )
    assert started.state == pb.ACTION_STATE_EXECUTING
    for someone in (as_(token_for, "svc:agent", "service"), as_(token_for, "ada", "admin")):
        call = ops.RecordExecutionResult(result(action.id, FAILED), metadata=someone, timeout=5)
        denied = await refused(call)
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "otto claimed it (by hand) and only otto may" in (denied.details() or "")
    done = await ops.RecordExecutionResult(
        result(action.id, EXECUTED, "failed over on the console"), metadata=mine, timeout=5
    )
    assert done.state == EXECUTED
    timeline = await ops.GetTimeline(pb.GetTimelineRequest(id=action.id), metadata=mine)
    assert "execution started by otto (by hand)" in [e.text for e in timeline.entries]


async def test_a_service_names_the_executor_it_runs(ops: Stub, token_for: Tokens) -> None:
    action = await approved(ops, token_for, "unnamed/1")
    agent = as_(token_for, "svc:agent", "service")
    call = ops.StartExecution(pb.StartExecutionRequest(id=action.id), metadata=agent, timeout=5)
    assert (await refused(call)).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await fetched(ops, token_for, action.id)).state == pb.ACTION_STATE_APPROVED


async def test_a_person_resolves_an_unknown_outcome_with_what_they_found_and_it_is_audited(
    ops: Stub, token_for: Tokens, ops_db: Database
) -> None:
    action = await claimed_by_agent(ops, token_for, "unknown/1")
    agent = as_(token_for, "svc:agent", "service")
    lost = result(action.id, UNKNOWN, "OMS timed out")
    assert (await ops.RecordExecutionResult(lost, metadata=agent, timeout=5)).state == UNKNOWN
    otto = as_(token_for, "otto", "ops")
    blank = ops.RecordExecutionResult(result(action.id, EXECUTED, " "), metadata=otto, timeout=5)
    assert (await refused(blank)).code() == grpc.StatusCode.INVALID_ARGUMENT
    again = ops.RecordExecutionResult(result(action.id, EXECUTED, "x"), metadata=agent, timeout=5)
    assert (await refused(again)).code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await fetched(ops, token_for, action.id)).state == UNKNOWN

    resolved = await ops.RecordExecutionResult(
        result(action.id, EXECUTED, "OMS shows the secondary feed"), metadata=otto, timeout=5
    )

    assert (resolved.state, resolved.execution_detail) == (EXECUTED, "OMS shows the secondary feed")
    event = (await events_for(ops_db, action.id))[-1]
    assert (event["action"], event["outcome"], event["actor"]["subject"]) == (
        "ops.action.executed",
        "success",
        "otto",
    )
    said = payload(event)
    assert (said["from"], said["resolved_by"], said["claimed_by"]) == (
        "OUTCOME_UNKNOWN",
        "person:otto",
        "service:svc:agent",
    )


@pytest.fixture
async def rest(
    ops_db: Database, auth_settings: AuthSettings, hand_clock: HandClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway app in front of a real OpsService (sharing the `ops` stub's clock)."""
    ops = spec(ops_db, lambda: None, clock=hand_clock)
    served = await start(ops, "127.0.0.1:0", verifier_for(ops, auth_settings))
    address = f"127.0.0.1:{served.port}"
    settings = GatewaySettings(
        listen_host="127.0.0.1",
        listen_port=0,
        peers={name: address for name in ("agent", "ops", "audit", "export")},
        auth=settings_for("gateway", auth_settings),
        rpc_timeout_s=5.0,
        max_body_bytes=65536,
    )
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c,
        ):
            yield c
    finally:
        await served.stop(0)


async def test_the_rest_routes_give_the_same_answers_as_403_with_the_reason(
    ops: Stub, rest: httpx.AsyncClient, token_for: Tokens
) -> None:
    mallory = {"Authorization": f"Bearer {token_for('mallory', 'ops')}"}
    claimed = await claimed_by_agent(ops, token_for, "rest/claimed")
    url = f"/agent/ops/actions/{claimed.id}/execution"
    faked = await rest.post(f"{url}/result", json={"outcome": "EXECUTED"}, headers=mallory)
    assert faked.status_code == 403, faked.text
    assert "svc:agent claimed it" in faked.json()["error"]["message"]

    action = await approved(ops, token_for, "rest/by-hand")
    url = f"/agent/ops/actions/{action.id}/execution"
    named = await rest.post(url, json={"executor": "webhook:desk-oms"}, headers=mallory)
    assert named.status_code == 403, named.text
    assert "executor names are for services" in named.json()["error"]["message"]
    by_hand = await rest.post(url, headers=mallory)
    assert by_hand.status_code == 200, by_hand.text
    assert by_hand.json()["state"] == "EXECUTING"
    done = await rest.post(f"{url}/result", json={"outcome": "EXECUTED"}, headers=mallory)
    assert (done.status_code, done.json()["state"]) == (200, "EXECUTED")
