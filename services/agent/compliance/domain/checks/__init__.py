"""The registry of compliance checks this server runs. Each has a stable id and a version that
is bumped whenever its logic changes; results record both."""

from __future__ import annotations

from services.agent.compliance.domain.checks import approvals, escalation, integrity
from services.agent.compliance.domain.checks.base import (
    ERROR,
    FAIL,
    PASS,
    Check,
    Finding,
    Limits,
    Outcome,
    PeerError,
    Sources,
)

CHECKS: tuple[Check, ...] = (
    Check(
        "approval.quorum",
        2,
        "Every approved or executed action had a valid quorum under its policy snapshot: enough "
        "distinct approvals on the current parameters, by approvers other than the requester, "
        "the proposer and the author of those parameters, filling every role requirement.",
        approvals.quorum,
    ),
    Check(
        "approval.self_approval",
        2,
        "Nobody approved an action they requested or proposed, or parameters they wrote.",
        approvals.self_approval,
    ),
    Check(
        "approval.sensitive_has_compliance",
        2,  # 2: an approval by the author of the parameters it approved is not valid
        "Every approved or executed high-risk, critical or compliance-relevant action had a "
        "valid approval by compliance or admin.",
        approvals.sensitive_approval,
    ),
    Check(
        "audit.chain_verifies",
        1,
        "The audit log verifies end to end (AuditService VerifyChain).",
        integrity.audit_chain,
    ),
    Check(
        "export.verified_in_time",
        1,
        "Every signed export was verified within the deadline after its delivery.",
        integrity.export_verification,
    ),
    Check(
        "approval.escalation_deadline",
        1,
        "No pending approval sits past its next escalation deadline or its expiry.",
        escalation.escalation_deadlines,
    ),
)

__all__ = [
    "CHECKS",
    "ERROR",
    "FAIL",
    "PASS",
    "Check",
    "Finding",
    "Limits",
    "Outcome",
    "PeerError",
    "Sources",
]
