"""Rule use cases: write a new version (create, change, disable), read rules and firings.
Every change is one transaction holding the new version and its audit event."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime import paging
from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument, NotFound
from runtime.outbox import person
from services.agent.triage import active_kinds
from services.agent.workflows.domain.facts import conditions
from services.agent.workflows.domain.parameters import check_parameters
from services.agent.workflows.domain.rules import Definition, Firing, Rule, check
from services.agent.workflows.repository import firings as firing_store
from services.agent.workflows.repository import rules as rule_store
from services.agent.workflows.service import events

Clock = Callable[[], datetime]


def rule_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(f"trigger id {value!r} is not a UUID") from None


def normalise(
    definition: Definition, webhooks: Collection[str], kinds: Collection[str]
) -> Definition:
    checked = check(definition)
    return replace(
        checked,
        conditions=conditions(checked.conditions),
        parameters=check_parameters(checked.step, checked.parameters, webhooks, kinds),
    )


async def put_rule(
    db: Database,
    *,
    rule_id: str,
    definition: Definition,
    caller: Principal,
    webhooks: Collection[str],
    clock: Clock,
) -> Rule:
    """A new rule (no rule_id) or a new version of one."""
    async with db.transaction() as session:
        # Checked in the transaction that stores it: the kinds are the active rule set's.
        definition = normalise(definition, webhooks, await active_kinds(session))
        if rule_id:
            latest = await _current(session, rule_uuid(rule_id), lock=True)
            if definition.name != latest.name:
                raise InvalidArgument(f"a trigger's name cannot change (it is {latest.name!r})")
            version, rule_id = latest.version + 1, latest.id
        else:
            if await rule_store.named(session, definition.name):
                raise Conflict(f"a trigger named {definition.name!r} exists; put it by its id")
            version, rule_id = 1, str(uuid.uuid4())
        return await write_version(
            session, definition, rule_id, version, person(caller), caller.subject, clock()
        )


async def disable(
    db: Database, *, rule_id: str, reason: str, caller: Principal, clock: Clock
) -> Rule:
    async with db.transaction() as session:
        latest = await _current(session, rule_uuid(rule_id), lock=True)
        definition = check(replace(latest, enabled=False, reason=reason))
        return await write_version(
            session,
            definition,
            latest.id,
            latest.version + 1,
            person(caller),
            caller.subject,
            clock(),
        )


async def write_version(
    session: AsyncSession,
    definition: Definition,
    rule_id: str,
    version: int,
    actor: dict[str, Any],
    author: str,
    now: datetime,
) -> Rule:
    fields = {name: getattr(definition, name) for name in Definition.__dataclass_fields__}
    rule = Rule(
        **fields,
        id=rule_id,
        version=version,
        created_by=author,
        created_at=now,
        latest_version=version,
    )
    await rule_store.add(session, rule)
    await events.rule_changed(session, actor, rule)
    return rule


async def get_rule(db: Database, *, rule_id: str, version: int = 0) -> Rule:
    async with db.transaction() as session:
        if not version:
            return await _current(session, rule_uuid(rule_id))
        found = await rule_store.at_version(session, rule_uuid(rule_id), version)
    if found is None:
        raise NotFound(f"no version {version} of trigger {rule_id}")
    return found


async def list_rules(db: Database) -> list[Rule]:
    async with db.transaction() as session:
        return await rule_store.all_current(session)


async def list_firings(
    db: Database, *, rule_id: str, page_size: int, page_token: str
) -> tuple[list[Firing], str]:
    size = paging.page_size(page_size)
    after = firing_store.parse_token(page_token)
    async with db.transaction() as session:
        if rule_id:
            await _current(session, rule_uuid(rule_id))
        found = await firing_store.page(session, rule_id=rule_id, after=after, limit=size + 1)
    more = len(found) > size
    return found[:size], firing_store.token(found[size - 1]) if more else ""


async def _current(session: AsyncSession, rule_id: str, *, lock: bool = False) -> Rule:
    found = await rule_store.current(session, rule_id, lock=lock)
    if found is None:
        raise NotFound(f"no trigger {rule_id}")
    return found
