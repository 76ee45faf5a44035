"""Shared helpers: a hand clock, seeded triage decisions, and plan contexts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from runtime.db import Database
from services.agent.remediation.domain.plans import PlanContext
from services.agent.triage.tables import decisions, incidents

# Far ahead of any action other tests commit at the real time.
START = datetime(2046, 3, 2, 9, 30, tzinfo=UTC)
Tokens = Callable[..., str]


class HandClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def context(
    category: str,
    severity: str,
    kind: str,
    subject: str,
    metrics: Mapping[str, float] | None = None,
    desk: str = "eq-cash",
) -> PlanContext:
    return PlanContext(
        decision_id="7d1c4c9e-0000-4000-8000-000000000001",
        incident_id="7d1c4c9e-0000-4000-8000-000000000002",
        category=category,
        severity=severity,
        fields={"kind": kind, "subject": subject, "desk": desk, "source": "desk-monitor"},
        metrics=dict(metrics or {}),
    )


async def seed_decision(
    db: Database,
    *,
    category: str,
    severity: str,
    kind: str,
    subject: str,
    metrics: Mapping[str, float] | None = None,
    desk: str = "eq-cash",
) -> str:
    """A triage decision as triage stores it: its category, severity and input snapshot."""
    incident_id, decision_id = str(uuid.uuid4()), str(uuid.uuid4())
    snapshot = {
        "kind": kind,
        "subject": subject,
        "desk": desk,
        "source": "desk-monitor",
        "metrics": dict(metrics or {}),
        "observed_at": START.isoformat(),
    }
    async with db.transaction() as session:
        await session.execute(
            insert(incidents).values(
                id=incident_id,
                source="desk-monitor",
                kind=kind,
                desk=desk,
                subject=subject,
                summary=f"{kind} on {subject}",
                metrics=snapshot["metrics"],
                observed_at=START,
                created_by="desk-monitor",
            )
        )
        await session.execute(
            insert(decisions).values(
                id=decision_id,
                incident_id=incident_id,
                category=category,
                severity=severity,
                confidence=0.9,
                input_sha256="0" * 64,
                input_snapshot=snapshot,
                output={},
                logic_name="baseline",
                logic_version="test",
                rules_fired=[],
                recommended_action="",
                requested_by="rita",
            )
        )
    return decision_id
