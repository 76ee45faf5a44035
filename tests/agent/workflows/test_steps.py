"""The steps as a user sees their results: an incident opened by the rule version, a signed
webhook received by a real HTTP server, a compliance run in the rule's name."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from runtime.auth import Principal
from runtime.backoff import Backoff
from runtime.outbox import automation
from runtime.webhook_signing import verify
from services.agent.compliance.domain.views import ExportView
from services.agent.compliance.service.runs import Requester, run_checks
from services.agent.workflows.repository import firings as firing_store
from services.agent.workflows.service import defaults, runner
from services.agent.workflows.service import rules as service
from tests.agent.compliance.fakes import FakeSources
from tests.agent.workflows.conftest import Harness
from tests.agent.workflows.helpers import rule_request
from tests.agent.workflows.test_firings import firings
from tradeops.agent.v1 import trigger_service_pb2 as pb

SECRET = "webhook-test-secret-0123456789"


async def enable_compliance_rule(harness: Harness) -> None:
    """The rule ships disabled (compliance opens its own incident too); an admin enables it."""
    [shipped] = [
        r for r in await defaults.ensure(harness.db, harness.worker.clock) if not r.enabled
    ]
    definition = next(d for d in defaults.shipped() if d.name == shipped.name)
    await service.put_rule(
        harness.db,
        rule_id=shipped.id,
        definition=replace(definition, enabled=True),
        caller=Principal("ada", frozenset({"admin"})),
        webhooks=(),
        clock=harness.worker.clock,
    )


def unverified_export() -> ExportView:
    now = datetime.now(UTC)
    return ExportView(
        "e1",
        "audit_extract",
        "DELIVERED",
        now - timedelta(days=3),
        now - timedelta(days=2),
        None,
        "sftp",
    )


async def test_a_failing_compliance_check_opens_an_incident_naming_the_rule_version(
    harness: Harness,
) -> None:
    await enable_compliance_rule(harness)
    scheduler = Requester("agent.compliance", automation("agent.compliance", "t"), "schedule/t")
    await run_checks(
        harness.db,
        FakeSources(export_list=[unverified_export()]),
        requester=scheduler,
        clock=lambda: datetime.now(UTC),
        check_ids=["export.verified_in_time"],
    )
    await harness.relay_all()  # the run's violation event reaches the audit log

    await harness.worker.once()

    [firing] = await firings(harness)
    kind, _, incident_id = firing.created.partition("/")
    async with harness.db.transaction() as session:
        row = (
            await session.execute(
                text(
                    "SELECT kind, subject, summary, created_by FROM agent.incidents WHERE id = :i"
                ),
                {"i": incident_id},
            )
        ).one()
    assert (firing.state, kind) == (pb.FIRING_STATE_DONE, "incident")
    assert row.created_by == "trigger:compliance-failure-incident@v2"
    assert (row.kind, row.subject) == ("compliance_violation", "compliance/export.verified_in_time")
    assert row.summary.startswith("Compliance check export.verified_in_time v1 failed")
    assert "compliance-failure-incident@v2" in row.summary


async def test_the_incident_step_runs_once_even_when_run_twice(harness: Harness) -> None:
    await enable_compliance_rule(harness)
    await harness.append(
        "agent.compliance.violation",
        "compliance_result/r-1",
        {"check_id": "approval.quorum", "check_version": 1, "detail": "two short"},
        outcome="failure",
        source="agent",
        actor="agent.compliance",
    )
    await harness.worker.once()
    [firing] = await firings(harness)
    async with harness.db.transaction() as session:
        stale = await firing_store.get(session, firing.id)
    assert stale is not None
    # A second replica whose lease ran out runs the same firing again: nothing happens twice.
    await runner.attempt(
        harness.db, harness.worker.remote, stale, harness.worker.clock, Backoff(2.0, 300.0)
    )

    async with harness.db.transaction() as session:
        count = (
            await session.execute(
                text("SELECT count(*) FROM agent.incidents WHERE created_by LIKE 'trigger:%'")
            )
        ).scalar()
    assert firing.state == pb.FIRING_STATE_DONE
    assert count == 1


async def test_a_webhook_step_posts_a_body_signed_with_hmac_sha256(harness: Harness) -> None:
    made = await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    event_id = await harness.append("ops.action.rejected", "action/a-4", {"reason": "risk"})

    await harness.worker.once()

    [post] = harness.receiver.posts
    [firing] = await firings(harness)
    body = json.loads(post.body)
    assert verify(SECRET, post.headers, post.body, time.time())
    assert not verify("another-secret", post.headers, post.body, time.time())
    assert post.headers["X-Tradeops-Delivery"] == firing.id
    assert post.headers["X-Tradeops-Trigger"] == "trigger:rejects-to-chat@v1"
    assert body["trigger"] == {"id": made.id, "name": "rejects-to-chat", "version": 1}
    assert (body["event"]["id"], body["facts"]["payload.reason"]) == (event_id, "risk")
    assert (firing.state, firing.created) == (pb.FIRING_STATE_DONE, "webhook/desk-chat")


async def test_a_webhook_answering_an_error_is_retried(harness: Harness) -> None:
    harness.receiver.status = 503
    await harness.stub.PutTrigger(rule_request(), metadata=harness.as_("ada", "admin"))
    await harness.append("ops.action.rejected", "action/a-4", {})

    await harness.worker.once()
    [firing] = await firings(harness)

    assert (firing.state, firing.last_error) == (
        pb.FIRING_STATE_PENDING,
        "webhook desk-chat answered HTTP 503",
    )


async def test_a_compliance_check_step_runs_in_the_rules_name(harness: Harness) -> None:
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
        run = (
            await session.execute(
                text("SELECT trigger, requested_by FROM agent.compliance_runs WHERE id = :i"),
                {"i": run_id},
            )
        ).one()
    assert run.requested_by == "ada"  # who wrote the rule (test_trigger_requester.py)
    assert run.trigger == "trigger/trigger:check-after-reject@v1"
