"""What the agent proposes to ops for a decision with a recommendation, and the port that
proposes it (clients.ops over gRPC; a fake in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.agent.triage.domain.decisions import Decision, Recommendation


@dataclass(frozen=True)
class Proposal:
    """A remediation to propose to ops on behalf of requested_by."""

    decision_id: str
    incident_id: str
    source_ref: str
    recommendation: Recommendation
    requested_by: str
    logic_name: str
    logic_version: str


class Proposer(Protocol):
    """Proposes an action to ops and returns its id. Raises a DomainError (Unavailable when ops
    cannot be reached) on failure; the caller keeps the decision and retries later."""

    async def propose(self, proposal: Proposal) -> str: ...


def proposal_for(decision: Decision) -> Proposal:
    assert decision.outcome.recommendation is not None
    return Proposal(
        decision_id=decision.id,
        incident_id=decision.incident_id,
        source_ref=f"decision/{decision.id}",
        recommendation=decision.outcome.recommendation,
        requested_by=decision.requested_by,
        logic_name=decision.logic_name,
        logic_version=decision.logic_version,
    )
