from __future__ import annotations

import json
from collections.abc import Callable

from runtime.auth import Principal
from services.audit.log.service.log import AuditLog, append
from services.audit.log.service.reading import list_records
from services.audit.log.service.verification import verify_log
from tests.audit.conftest import tamper
from tests.audit.factories import READER, events


async def test_an_intact_log_verifies_and_the_verification_is_itself_recorded(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(3))

    verdict = await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.checked, verdict.first_bad_seq, verdict.reason) == (True, 3, -1, "")
    last = (await list_records(empty_log, caller=READER, after_seq=2, limit=10)).records
    assert [r.event.action for r in last] == ["audit.chain.verified"]
    assert (last[0].event.actor.subject, last[0].event.actor.roles) == ("carol", ("compliance",))
    assert json.loads(last[0].event.payload_json or "") == {
        "ok": True,
        "checked": 3,
        "first_bad_seq": -1,
        "reason": "",
        "checkpoint_size": 3,
    }
    assert (await verify_log(empty_log, caller=principal_for("carol", "compliance"))).ok


async def test_an_edited_action_is_caught_at_exactly_that_seq(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(4))
    await tamper(
        empty_log.db, "UPDATE audit.records SET action = 'ops.action.rejected' WHERE seq = 2"
    )

    verdict = await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)
    assert verdict.reason == "leaf_hash does not match the record's canonical encoding"


async def test_an_edited_payload_is_caught_at_exactly_that_seq(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(4))
    await tamper(
        empty_log.db, """UPDATE audit.payloads SET payload_json = '{"n": 99}' WHERE seq = 1"""
    )

    verdict = await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.first_bad_seq) == (False, 1)
    assert verdict.reason == "payload_sha256 does not match the stored payload"


async def test_a_failed_verification_is_recorded_as_a_failure(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(2))
    await tamper(empty_log.db, "UPDATE audit.records SET target = 'action/999' WHERE seq = 0")

    await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    recorded = (await list_records(empty_log, caller=READER, after_seq=1, limit=1)).records[0]
    assert (recorded.event.action, recorded.event.outcome) == ("audit.chain.verified", "failure")
    assert json.loads(recorded.event.payload_json or "")["first_bad_seq"] == 0


async def test_deleting_the_newest_records_is_caught_against_the_head(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(3))
    await tamper(empty_log.db, "DELETE FROM audit.payloads WHERE seq = 2")
    await tamper(empty_log.db, "DELETE FROM audit.records WHERE seq = 2")

    verdict = await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)
    assert verdict.reason == "a checkpoint signs tree size 3 but the log ends at 2"


async def test_verification_reads_a_log_longer_than_one_page(
    empty_log: AuditLog, principal_for: Callable[..., Principal]
) -> None:
    await append(empty_log, events(700))
    await tamper(empty_log.db, "UPDATE audit.records SET outcome = 'denied' WHERE seq = 650")

    verdict = await verify_log(empty_log, caller=principal_for("carol", "compliance"))

    assert (verdict.ok, verdict.first_bad_seq, verdict.checked) == (False, 650, 651)
