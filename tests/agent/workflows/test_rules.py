"""Trigger rules over TriggerService: versioned, admin-only to change, audited, validated."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import text

from services.agent.workflows.service import defaults
from tests.agent.workflows.conftest import Harness
from tests.agent.workflows.helpers import rule_request
from tradeops.agent.v1 import trigger_service_pb2 as pb


async def test_every_change_of_a_rule_is_a_new_version_and_the_old_one_is_kept(
    harness: Harness,
) -> None:
    admin = harness.as_("ada", "admin")
    first = await harness.stub.PutTrigger(rule_request(), metadata=admin)
    changed = rule_request(
        rule_id=first.id, conditions={"payload.reason": ["risk", "limits"]}, reason="only risk"
    )
    second = await harness.stub.PutTrigger(changed, metadata=admin)
    old = await harness.stub.GetTrigger(
        pb.GetTriggerRequest(id=first.id, version=1), metadata=harness.as_("vic", "viewer")
    )
    listed = await harness.stub.ListTriggers(pb.ListTriggersRequest(), metadata=admin)

    assert (first.version, second.version, second.id) == (1, 2, first.id)
    assert dict(old.match.conditions) == {}
    assert old.latest_version == 2
    conditions = json_format.MessageToDict(second.match.conditions)
    assert conditions == {"payload.reason": ["risk", "limits"]}
    assert [(t.name, t.version, t.created_by) for t in listed.triggers] == [
        ("rejects-to-chat", 2, "ada")
    ]


async def test_a_rule_change_is_audited_with_who_made_it_and_why(harness: Harness) -> None:
    made = await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    await harness.relay_all()

    [record] = await harness.records("agent.trigger.changed")

    payload = json.loads(record.event.payload_json)
    assert record.event.actor.subject == "ada"
    assert record.event.target == f"trigger/{made.id}"
    assert (payload["version"], payload["reason"]) == (1, "tell the desk")


@pytest.mark.parametrize("role", ["viewer", "trader", "ops", "compliance"])
async def test_only_an_admin_may_change_rules(harness: Harness, role: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("pat", role))

    listed = await harness.stub.ListTriggers(
        pb.ListTriggersRequest(), metadata=harness.as_("pat", role)
    )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert list(listed.triggers) == []


async def test_disabling_a_rule_is_a_new_version_by_an_admin(harness: Harness) -> None:
    made = await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await harness.stub.DisableTrigger(
            pb.DisableTriggerRequest(id=made.id, reason="noisy"), metadata=harness.as_("o", "ops")
        )
    disabled = await harness.stub.DisableTrigger(
        pb.DisableTriggerRequest(id=made.id, reason="noisy"), metadata=harness.as_("ada", "admin")
    )

    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (disabled.version, disabled.enabled, disabled.reason) == (2, False, "noisy")


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        (rule_request(name="Bad Name"), "name must be"),
        (rule_request(step="send_email"), "step.kind must be one of"),
        (rule_request(conditions={"colour": "red"}), "unknown condition 'colour'"),
        (rule_request(parameters={"webhook": "nowhere"}), "webhook 'nowhere' is not configured"),
        (
            rule_request(
                action="export.created", step="create_export", parameters={"kind": "audit_extract"}
            ),
            "would feed itself",
        ),
        (rule_request(action="agent.trigger.fired"), "never fire triggers"),
        (
            rule_request(step="open_incident", parameters={"kind": "weather"}),
            "incident kind 'weather'",
        ),
        (rule_request(parameters={"webhook": "{colour}"}), "{colour} names no event fact"),
        (rule_request(reason=""), "reason is required"),
    ],
)
async def test_a_bad_rule_is_refused_with_the_reason_and_nothing_is_written(
    harness: Harness, request_: pb.PutTriggerRequest, says: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await harness.stub.PutTrigger(request_, metadata=harness.as_("ada", "admin"))

    async with harness.db.transaction() as session:
        count = (await session.execute(text("SELECT count(*) FROM agent.triggers"))).scalar()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in (refused.value.details() or "")
    assert count == 0


async def test_a_second_rule_with_a_taken_name_is_refused(harness: Harness) -> None:
    await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))

    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_the_shipped_defaults_are_written_once_as_version_one(harness: Harness) -> None:
    first = await defaults.ensure(harness.db, harness.worker.clock)
    again = await defaults.ensure(harness.db, harness.worker.clock)
    listed = await harness.stub.ListTriggers(
        pb.ListTriggersRequest(), metadata=harness.as_("vic", "viewer")
    )

    assert again == []
    assert {r.name for r in first} == {"kill-switch-evidence", "compliance-failure-incident"}
    assert [(t.name, t.version, t.created_by, t.step.kind) for t in listed.triggers] == [
        ("compliance-failure-incident", 1, "system:defaults", "open_incident"),
        ("kill-switch-evidence", 1, "system:defaults", "create_export"),
    ]
