"""Use cases of the approval policies: PutPolicy (admin only) and ListPolicies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied
from services.ops.domain import events
from services.ops.domain.policy import Policy, validate
from services.ops.domain.transition import actor_of
from services.ops.repository import escalation_policies, outbox
from services.ops.repository import policies as stored_policies
from services.ops.service.refusals import audited

ADMINS = frozenset({"admin"})


async def put_policy(db: Database, *, policy: Policy, actor: Principal, now: datetime) -> Policy:
    """Stores `policy` as the next version of its id (version 1 when new); audited with who,
    when and each field that changed. The version given is ignored."""
    target = f"policy/{policy.id}"
    async with audited(db, actor, events.POLICY_CHANGED, policy.id, target=target):
        if not actor.roles & ADMINS:
            raise PermissionDenied("only an admin can change an approval policy")
        if not policy.change_reason.strip():
            raise InvalidArgument("change_reason is required")
        async with db.transaction() as session:
            previous = await stored_policies.latest(session, policy.id, lock=True)
            stored = replace(
                policy,
                version=previous.version + 1 if previous else 1,
                changed_by=actor.subject,
                changed_at=now,
            )
            validate(stored)
            await _check_escalation(session, stored)
            await stored_policies.add(session, stored)
            await outbox.record(
                session,
                actor_of(actor).audit,
                events.POLICY_CHANGED,
                policy.id,
                events.policy_change(stored, previous),
                target=target,
            )
            return stored


async def _check_escalation(session: AsyncSession, policy: Policy) -> None:
    named = policy.escalation_policy_id
    if named and await escalation_policies.load(session, named) is None:
        raise InvalidArgument(f"no escalation policy {named!r}; create it first")


async def list_policies(db: Database, *, include_history: bool = False) -> list[Policy]:
    async with db.transaction() as session:
        if include_history:
            return await stored_policies.history(session)
        return await stored_policies.current(session)
