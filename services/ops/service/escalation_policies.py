"""Use cases of the escalation policies: PutEscalationPolicy (admins only) and
ListEscalationPolicies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, PermissionDenied
from runtime.outbox import person
from services.ops.domain.escalation import CHANGED, EscalationPolicy, validate
from services.ops.repository import escalation_policies as stored_policies
from services.ops.repository import outbox
from services.ops.service.refusals import audited


async def put_escalation_policy(
    db: Database, policy: EscalationPolicy, actor: Principal, now: datetime
) -> EscalationPolicy:
    """Stores `policy` as the next version of its id (its version field is ignored); admins
    only, and a refusal is audited."""
    target = f"escalation_policy/{policy.id}"
    async with audited(db, actor, CHANGED, policy.id, target=target):
        if "admin" not in actor.roles:
            raise PermissionDenied("only an admin can change an escalation policy")
        validate(policy)
        async with db.transaction() as session:
            version = await stored_policies.next_version(session, policy.id)
            stored = replace(policy, version=version, changed_by=actor.subject, changed_at=now)
            if not await stored_policies.add(session, stored):
                raise Conflict(f"escalation policy {policy.id} changed concurrently; try again")
            payload = stored_policies.row_of(stored) | {"changed_at": now.isoformat()}
            await outbox.record(session, person(actor), CHANGED, policy.id, payload, target=target)
            return stored


async def list_escalation_policies(db: Database) -> list[EscalationPolicy]:
    """The current (highest) version of every policy, by id."""
    async with db.transaction() as session:
        return await stored_policies.current(session)
