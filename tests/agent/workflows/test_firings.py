"""Audit events to firings to steps: at least once in, once out, audited, retried, bounded."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from sqlalchemy import text

from services.agent.workflows.service import defaults
from tests.agent.workflows.conftest import Harness
from tests.agent.workflows.helpers import rule_request
from tradeops.agent.v1 import trigger_service_pb2 as pb
from tradeops.common.v1 import common_pb2

KILL_SWITCH = "disable_strategy_kill_switch"


async def kill_switch_executed(harness: Harness, action_id: str = "a-1") -> str:
    harness.ops.kinds[action_id] = KILL_SWITCH
    payload = {"from": "EXECUTING", "to": "EXECUTED", "reason": "", "detail": "switched"}
    return await harness.append("ops.action.executed", f"action/{action_id}", payload)


async def firings(harness: Harness, trigger_id: str = "") -> list[pb.Firing]:
    reply = await harness.stub.ListFirings(
        pb.ListFiringsRequest(trigger_id=trigger_id), metadata=harness.as_("vic", "viewer")
    )
    return list(reply.firings)


async def rewind(harness: Harness) -> None:
    """As after a crash before the cursor's commit: the same events are read again."""
    async with harness.db.transaction() as session:
        await session.execute(
            text("UPDATE agent.trigger_cursors SET last_seq = -1, idle_size = -1")
        )


async def test_an_event_delivered_twice_acts_once(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    event_id = await kill_switch_executed(harness)

    await harness.worker.once()
    await rewind(harness)
    await harness.worker.once()
    await harness.worker.once()

    [firing] = await firings(harness)
    [(subject, request)] = harness.export.calls
    assert (firing.state, firing.event_id, firing.attempts) == (
        pb.FIRING_STATE_DONE,
        event_id,
        1,
    )
    assert (request.kind, request.client_key) == ("evidence_pack", firing.id)
    assert dict(request.parameters) == {"action_id": "a-1"}
    assert subject == "trigger:kill-switch-evidence@v1"
    assert firing.created == f"export/{next(iter(harness.export.made.values())).id}"


async def test_only_actions_matching_the_conditions_fire(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    harness.ops.kinds["a-2"] = "restart_fix_session"
    await harness.append("ops.action.executed", "action/a-2", {"to": "EXECUTED"})
    await harness.append("ops.action.approved", "action/a-3", {"to": "APPROVED"})

    await harness.worker.once()

    assert await firings(harness) == []
    assert harness.export.calls == []


async def test_every_automatic_step_is_audited_with_its_rule_version_and_cause(
    harness: Harness,
) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    event_id = await kill_switch_executed(harness)
    await harness.worker.once()
    await harness.relay_all()

    [record] = await harness.records("agent.trigger.fired")

    payload = json.loads(record.event.payload_json)
    assert record.event.actor.subject == "trigger:kill-switch-evidence@v1"
    assert record.event.actor.logic_version == "v1"
    assert (payload["trigger_name"], payload["trigger_version"]) == ("kill-switch-evidence", 1)
    assert (payload["event_id"], payload["event_action"]) == (event_id, "ops.action.executed")
    assert payload["created"].startswith("export/")


async def test_a_refused_step_is_retried_then_fails_with_the_reason(harness: Harness) -> None:
    harness.export.refusals = 10
    admin = harness.as_("ada", "admin")
    request = rule_request(
        "evidence",
        action="ops.action.executed",
        step="create_export",
        parameters={"kind": "evidence_pack", "parameters": {"action_id": "{target_id}"}},
        max_attempts=3,
    )
    await harness.stub.PutTrigger(request, metadata=admin)
    await harness.append("ops.action.executed", "action/a-9", {"to": "EXECUTED"})

    for _ in range(5):
        await harness.worker.once()
    await harness.relay_all()

    [firing] = await firings(harness)
    assert (firing.state, firing.attempts) == (pb.FIRING_STATE_FAILED, 3)
    assert firing.last_error == "FAILED_PRECONDITION: not available yet"
    assert len(harness.export.calls) == 3
    assert len(await harness.records("agent.trigger.attempt_failed")) == 2
    [failed] = await harness.records("agent.trigger.failed")
    assert json.loads(failed.event.payload_json)["error"] == firing.last_error


async def test_a_step_that_fails_once_succeeds_on_retry(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    harness.export.refusals = 1
    await kill_switch_executed(harness)

    await harness.worker.once()
    [retrying] = await firings(harness)
    await harness.worker.once()
    [done] = await firings(harness)

    assert (retrying.state, retrying.attempts) == (pb.FIRING_STATE_PENDING, 1)
    assert retrying.last_error.startswith("FAILED_PRECONDITION")
    assert (done.state, done.attempts, done.last_error) == (pb.FIRING_STATE_DONE, 2, "")
    assert {key for _, key in harness.export.made} == {done.id}


async def test_the_triggers_own_events_and_what_they_caused_never_fire(harness: Harness) -> None:
    admin = harness.as_("ada", "admin")
    request = rule_request("any-executed", action="ops.action.executed")
    await harness.stub.PutTrigger(request, metadata=admin)
    await harness.append(
        "ops.action.executed", "action/a-5", {}, actor="trigger:other@v1", source="ops"
    )

    await harness.worker.once()

    assert await firings(harness) == []
    assert harness.receiver.posts == []


async def test_a_disabled_rule_records_no_firings(harness: Harness) -> None:
    admin = harness.as_("ada", "admin")
    made = await harness.stub.PutTrigger(
        rule_request("quiet", action="ops.action.executed"), metadata=admin
    )
    await harness.stub.DisableTrigger(
        pb.DisableTriggerRequest(id=made.id, reason="x"), metadata=admin
    )
    await harness.append("ops.action.executed", "action/a-6", {})

    await harness.worker.once()

    assert await firings(harness, made.id) == []


async def test_an_idle_consumer_does_not_read_the_log_again_and_again(harness: Harness) -> None:
    await harness.append("ops.action.executed", "action/a-7", {})
    await harness.worker.once()  # reads once: one read record of its own follows
    for _ in range(5):
        await asyncio.sleep(0.1)  # checkpoints are cut within 20 ms
        await harness.worker.once()

    reads = [
        r
        for r in await harness.records("audit.records.read")
        if r.event.actor.subject == "svc:agent.triggers"
    ]
    assert len(reads) == 1


async def test_events_from_before_the_triggers_first_start_are_history(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    await kill_switch_executed(harness, "a-old")
    async with harness.db.transaction() as session:
        await session.execute(text("DELETE FROM agent.trigger_cursors"))

    await harness.worker.once()  # the first start: the cursor begins at the log's end
    await kill_switch_executed(harness, "a-new")
    await harness.worker.once()

    assert [f.event_target for f in await firings(harness)] == ["action/a-new"]


async def test_firings_are_listed_newest_first_a_page_at_a_time(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    for number in range(3):
        await kill_switch_executed(harness, f"a-{number}")
    await harness.worker.once()
    viewer = harness.as_("vic", "viewer")

    first = await harness.stub.ListFirings(
        pb.ListFiringsRequest(page=common_pb2.PageRequest(page_size=2)), metadata=viewer
    )
    rest = await harness.stub.ListFirings(
        pb.ListFiringsRequest(
            page=common_pb2.PageRequest(page_size=2, page_token=first.next_page_token)
        ),
        metadata=viewer,
    )

    seqs = [f.event_seq for f in [*first.firings, *rest.firings]]
    assert seqs == sorted(seqs, reverse=True)
    assert (len(first.firings), len(rest.firings), rest.next_page_token) == (2, 1, "")


async def test_a_page_token_this_service_did_not_issue_is_refused(harness: Harness) -> None:
    page = common_pb2.PageRequest(page_size=2, page_token="bm90LWEtdG9rZW4=")

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await harness.stub.ListFirings(
            pb.ListFiringsRequest(page=page), metadata=harness.as_("vic", "viewer")
        )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_step_naming_a_fact_the_event_lacks_fails_at_once(harness: Harness) -> None:
    request = rule_request(
        "needs-strategy",
        step="open_incident",
        parameters={"kind": "runaway_algo", "subject": "{payload.strategy}"},
        max_attempts=5,
    )
    await harness.stub.PutTrigger(request, metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-8", {"reason": "risk"})

    await harness.worker.once()

    [firing] = await firings(harness)
    assert (firing.state, firing.attempts) == (pb.FIRING_STATE_FAILED, 1)
    assert "no fact 'payload.strategy'" in firing.last_error
