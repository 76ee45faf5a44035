"""Use cases of the approval policies: PutPolicy (admin only) and ListPolicies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import InvalidArgument, PermissionDenied
from services.ops import events, policy_store
from services.ops.escalation import policies as escalation
from services.ops.policy import Policy, validate
from services.ops.refusals import audited
from services.ops.transition import actor_of

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
            previous = await policy_store.latest(session, policy.id, lock=True)
            stored = replace(
                policy,
                version=previous.version + 1 if previous else 1,
                changed_by=actor.subject,
                changed_at=now,
            )
            validate(stored)
            await _check_escalation(session, stored)
            await policy_store.add(session, stored)
            await events.record(
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
    if named and await escalation.load(session, named) is None:
        raise InvalidArgument(f"no escalation policy {named!r}; create it first")


async def list_policies(db: Database, *, include_history: bool = False) -> list[Policy]:
    async with db.transaction() as session:
        if include_history:
            return await policy_store.history(session)
        return await policy_store.current(session)
