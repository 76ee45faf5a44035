"""The admin who writes a trigger requests what it causes (issue 16, "automation launders the
requester"): the export it creates, the compliance run it starts and the incident it opens name
them, while the rule version stays the actor; the shipped defaults, which no person wrote,
stay their own requesters."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from runtime.db import Database
from services.agent.tables import outbox
from services.agent.workflows.service import defaults
from tests.agent.workflows.conftest import Harness
from tests.agent.workflows.helpers import rule_request
from tests.agent.workflows.test_firings import firings, kill_switch_executed
from tradeops.agent.v1 import trigger_service_pb2 as pb


async def agent_events(db: Database, action: str) -> list[dict[str, Any]]:
    query = select(outbox.c.event).where(outbox.c.event["action"].astext == action)
    async with db.transaction() as session:
        found = [dict(row.event) for row in await session.execute(query.order_by(outbox.c.id))]
    for event in found:
        event["payload"] = json.loads(event["payload_json"])
    return found


async def test_an_export_a_trigger_creates_is_requested_by_the_rules_author(
    harness: Harness,
) -> None:
    request = rule_request(
        "reject-evidence",
        step="create_export",
        parameters={"kind": "evidence_pack", "parameters": {"action_id": "{target_id}"}},
    )
    await harness.stub.PutTrigger(request, metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-9", {})

    await harness.worker.once()

    [firing] = await firings(harness)
    [(subject, sent)] = harness.export.calls
    assert firing.state == pb.FIRING_STATE_DONE
    assert sent.requested_by == "ada"
    assert subject == "trigger:reject-evidence@v1"  # the token is still the rule version's


async def test_a_shipped_rule_no_person_wrote_requests_in_its_own_name(harness: Harness) -> None:
    await defaults.ensure(harness.db, harness.worker.clock)
    await kill_switch_executed(harness)

    await harness.worker.once()

    [(_, sent)] = harness.export.calls
    assert sent.requested_by == "trigger:kill-switch-evidence@v1"


async def test_a_compliance_run_a_trigger_starts_is_requested_by_the_rules_author(
    harness: Harness,
) -> None:
    request = rule_request(
        "check-after-reject",
        step="run_compliance_check",
        parameters={"check_ids": ["approval.quorum"]},
    )
    await harness.stub.PutTrigger(request, metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-4", {})

    await harness.worker.once()

    [firing] = await firings(harness)
    _, _, run_id = firing.created.partition("/")
    async with harness.db.transaction() as session:
        query = text("SELECT requested_by FROM agent.compliance_runs WHERE id = :i")
        requested_by = (await session.execute(query, {"i": run_id})).scalar_one()
    assert requested_by == "ada"
    [recorded] = await agent_events(harness.db, "agent.compliance.run")
    assert recorded["actor"]["subject"] == "trigger:check-after-reject@v1"
    assert recorded["payload"]["requested_by"] == "ada"


async def test_an_incident_a_trigger_opens_names_who_last_changed_the_rule(
    harness: Harness,
) -> None:
    def request(rule_id: str = "") -> pb.PutTriggerRequest:
        return rule_request(
            "rejects-to-incident",
            step="open_incident",
            parameters={"kind": "limit_breach", "subject": "MOMENTUM-8", "desk": "equities"},
            rule_id=rule_id,
            reason="review every rejection" if rule_id else "tell the desk",
        )

    made = await harness.stub.PutTrigger(request(), metadata=harness.as_("ada", "admin"))
    await harness.stub.PutTrigger(request(made.id), metadata=harness.as_("bea", "admin"))
    await harness.append("ops.action.rejected", "action/a-5", {})

    await harness.worker.once()

    [firing] = await firings(harness)
    assert firing.state == pb.FIRING_STATE_DONE
    [created] = await agent_events(harness.db, "agent.incident.created")
    assert created["target"] == firing.created
    assert created["actor"]["subject"] == "trigger:rejects-to-incident@v2"
    assert created["payload"]["requested_by"] == "bea"
