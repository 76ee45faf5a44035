"""Audit summaries: every figure equals a direct count over the audit log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text

from runtime.clients import bearer
from runtime.db import Database
from services.agent.tables import outbox
from tests.agent.compliance.audit_events import SINCE, UNTIL, append_day
from tests.agent.compliance.helpers import Token
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.agent.v1 import compliance_service_pb2_grpc as cgrpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc

DIRECT = text(
    """
    SELECT r.seq, r.action, r.actor->>'subject' AS actor, r.actor->>'kind' AS kind, r.outcome,
           r.occurred_at, p.payload_json
    FROM audit.records r LEFT JOIN audit.payloads p ON p.seq = r.seq
    WHERE r.seq < :bound AND r.occurred_at >= :since AND r.occurred_at < :until
    ORDER BY r.seq
    """
)
AFTER_HOURS = text(
    """
    SELECT count(*) FROM audit.records
    WHERE seq < :bound AND occurred_at >= :since AND occurred_at < :until
      AND actor->>'kind' = 'person'
      AND (EXTRACT(ISODOW FROM occurred_at AT TIME ZONE 'Europe/London') > 5
           OR (occurred_at AT TIME ZONE 'Europe/London')::time < '07:00'
           OR (occurred_at AT TIME ZONE 'Europe/London')::time >= '19:00')
    """
)


def counts(rows: Sequence[Any], key: str) -> list[tuple[str, int]]:
    return sorted(Counter(getattr(r, key) for r in rows).items(), key=lambda i: (-i[1], i[0]))


def pairs(found: Any) -> list[tuple[str, int]]:
    return [(c.key, c.count) for c in found]


async def summarise(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token
) -> cpb.AuditSummary:
    request = cpb.SummariseAuditRequest()
    request.since.FromDatetime(SINCE)
    request.until.FromDatetime(UNTIL)
    return await compliance.SummariseAudit(
        request, metadata=bearer(token_for("carol", "compliance")), timeout=10
    )


async def test_summary_figures_equal_direct_counts_over_the_audit_log(
    audit: audit_grpc.AuditServiceAsyncStub,
    audit_admin_db: Database,
    audited_compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    await append_day(audit, token_for)

    summary = await summarise(audited_compliance, token_for)

    window = {"bound": summary.checkpoint_size, "since": SINCE, "until": UNTIL}
    async with audit_admin_db.transaction() as session:
        rows = (await session.execute(DIRECT, window)).all()
        late = (await session.execute(AFTER_HOURS, window)).scalar_one()
    votes = Counter(r.payload_json for r in rows if r.action == "ops.action.vote_recorded")
    assert summary.record_count == len(rows)
    assert (summary.first_seq, summary.last_seq) == (rows[0].seq, rows[-1].seq)
    assert pairs(summary.by_action) == counts(rows, "action")
    assert pairs(summary.by_actor) == counts(rows, "actor")
    assert pairs(summary.by_outcome) == counts(rows, "outcome")
    assert (summary.approve_votes, summary.reject_votes) == (
        votes['{"approve":true}'],
        votes['{"approve":false}'],
    )
    actions = Counter(r.action for r in rows)
    assert summary.actions_approved == actions["ops.action.approved"]
    assert summary.actions_rejected == actions["ops.action.rejected"]
    assert summary.overrides == actions["agent.triage.overridden"]
    assert summary.denied == sum(r.outcome == "denied" for r in rows)
    assert pairs(summary.denied_by_actor) == [("mallory", summary.denied)]
    assert summary.after_hours == late
    # And the numbers the planted day was built to have.
    assert (summary.record_count, summary.approve_votes, summary.reject_votes) == (42, 3, 1)
    assert (summary.overrides, summary.denied, summary.after_hours) == (2, 8, 12)


async def test_a_summary_cites_its_seq_range_and_checkpoint_and_names_the_spikes(
    audit: audit_grpc.AuditServiceAsyncStub,
    agent_db: Database,
    audited_compliance: cgrpc.ComplianceServiceAsyncStub,
    token_for: Token,
) -> None:
    size = await append_day(audit, token_for)

    summary = await summarise(audited_compliance, token_for)

    assert summary.checkpoint_size == size
    assert len(summary.checkpoint_root) == 64
    assert summary.checkpoint_key_id
    assert (summary.first_seq, summary.last_seq) == (24, 65)
    assert f"seq 24 to 65, all covered by the signed checkpoint of tree size {size}" in (
        summary.narrative
    )
    spikes = {(s.action, s.bucket_start.ToDatetime().hour, s.count) for s in summary.spikes}
    assert spikes == {("", 10, 8), ("", 14, 9), ("ops.access.denied", 14, 8)}
    assert "Spike in ops.access.denied from 2024-05-01T14:00:00+00:00: 8 against a baseline" in (
        summary.narrative
    )
    assert summary.narrator == "template"
    assert not summary.llm_model
    reader = bearer(token_for("carol", "compliance"))
    stored = await audited_compliance.GetAuditSummary(
        cpb.GetAuditSummaryRequest(id=summary.id), metadata=reader, timeout=5
    )
    assert stored == summary
    async with agent_db.transaction() as session:
        query = select(outbox.c.event).where(
            outbox.c.event["target"].astext == f"audit_summary/{summary.id}"
        )
        [event] = (await session.execute(query)).scalars().all()
    assert event["action"] == "agent.audit_summary.created"
    assert '"checkpoint_size":' + str(size) in event["payload_json"]
