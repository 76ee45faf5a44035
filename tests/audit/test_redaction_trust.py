"""A missing payload is excused only by the log's own redaction record: whoever holds the
audit service's database role can insert a row into audit.redactions and then erase a payload
(the trigger lets it), but verification reads the chain, not that table, and says so."""

from __future__ import annotations

from sqlalchemy import text

from runtime.db import Database
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.redaction import redact
from services.audit.log.service.verification import verify_log
from tests.audit.factories import COMPLIANCE_OFFICER, events


async def test_a_payload_erased_by_the_services_role_is_a_failed_verification(
    empty_log: AuditLog, audit_admin_db: Database
) -> None:
    stored = await append(empty_log, events(3))
    victim = stored[1].seq
    async with audit_admin_db.transaction() as session:
        await session.execute(text("SET LOCAL ROLE audit_svc"))  # the service's own rights
        forged = "INSERT INTO audit.redactions (seq, redacted_by, reason) VALUES (:s, 'carol', 'x')"
        await session.execute(text(forged), {"s": victim})
        erase = "UPDATE audit.payloads SET payload_json = NULL WHERE seq = :s"
        await session.execute(text(erase), {"s": victim})
        await session.execute(text("RESET ROLE"))

    verdict = await verify_log(empty_log, caller=COMPLIANCE_OFFICER)

    assert not verdict.ok
    assert verdict.first_bad_seq == victim


async def test_a_redaction_through_the_service_still_verifies(empty_log: AuditLog) -> None:
    stored = await append(empty_log, events(3))
    await redact(empty_log, caller=COMPLIANCE_OFFICER, seq=stored[1].seq, reason="GDPR erasure")

    verdict = await verify_log(empty_log, caller=COMPLIANCE_OFFICER)

    assert verdict.ok, verdict.reason
