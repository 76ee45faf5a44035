"""The open_incident step: through the agent's normal intake (triage's surface), in the
transaction that records the firing's outcome, so the incident and the firing's DONE commit
together (idempotent on the firing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import SERVICE, Principal
from services.agent.triage import (
    MAX_SUMMARY,
    NewIncident,
    Windows,
    accept,
    active_kinds,
    open_one,
)
from services.agent.workflows.domain.rules import Firing, Rule

SOURCE = "agent.triggers"


async def open_incident(
    session: AsyncSession, rule: Rule, firing: Firing, params: dict[str, Any], now: datetime
) -> str:
    """Through the agent's normal intake (normalised, de-duplicated, audited), in the caller's
    transaction; the incident's created_by is the rule version, its events name the rule's
    author as requested_by."""
    summary = params.get("summary") or (
        f"Trigger {rule.name} v{rule.version} fired on {firing.event_action} "
        f"{firing.event_target} (audit seq {firing.event_seq})."
    )
    report = NewIncident(
        source=SOURCE,
        kind=params["kind"],
        desk=params.get("desk", ""),
        subject=params.get("subject") or firing.event_target,
        summary=f"{summary} [trigger {rule.automation}, firing {firing.id}]"[-MAX_SUMMARY:],
        metrics={},
        observed_at=now,
    )
    caller = Principal(rule.automation, frozenset({SERVICE}), owner="agent")
    [accepted] = accept([report], now, await active_kinds(session))
    incident = await open_one(
        session, accepted, caller=caller, now=now, windows=Windows(), requested_by=rule.requester
    )
    return f"incident/{incident.id}"
