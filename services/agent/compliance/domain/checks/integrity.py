"""Checks over the audit log's integrity and the exports' verification."""

from __future__ import annotations

from datetime import datetime

from services.agent.compliance.domain.checks.base import Finding, Limits, Outcome, Sources, verdict

# States in which an export has been signed and so can, and must, be verified.
SIGNED_OR_LATER = frozenset({"SIGNED", "DELIVERING", "DELIVERED", "VERIFIED"})


async def audit_chain(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    chain = await sources.verify_chain()
    if chain.ok:
        return verdict(chain.checked, [], "audit records")
    facts = {"first_bad_seq": chain.first_bad_seq, "checked": chain.checked}
    found = Finding(
        f"audit/{chain.first_bad_seq}", chain.reason or "the chain does not verify", facts
    )
    return verdict(chain.checked, [found], "audit records (first failing record named)")


async def export_verification(sources: Sources, limits: Limits, now: datetime) -> Outcome:
    """An export must be verified within the deadline after its last delivery (after its
    creation when it has no destination). The export contract has no per-export deadline and
    no first-verification time, so the deadline is this service's setting and a verification
    after the deadline still satisfies the check."""
    examined = [e for e in await sources.exports() if e.state in SIGNED_OR_LATER]
    findings = []
    for export in examined:
        since = export.delivered_at or export.created_at
        due = since + limits.export_verify_within
        verified = export.verified_at is not None and export.verified_at >= since
        if not verified and now > due:
            facts = {
                "state": export.state,
                "kind": export.kind,
                "due": due.isoformat(),
                "delivered_at": export.delivered_at.isoformat() if export.delivered_at else "",
                "verified_at": export.verified_at.isoformat() if export.verified_at else "",
            }
            reason = f"{export.state} export not verified by {due.isoformat()}"
            findings.append(Finding(f"export/{export.id}", reason, facts))
    return verdict(len(examined), findings, "signed exports")
