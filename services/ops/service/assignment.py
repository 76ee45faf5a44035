"""Who is on an action: assignment, acknowledgement, and the comments on its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import Conflict, InvalidArgument
from services.ops.domain import events
from services.ops.domain.actions import TERMINAL, Action, TimelineEntry
from services.ops.domain.transition import actor_of
from services.ops.repository import actions, outbox, timeline
from services.ops.service.refusals import audited
from services.ops.service.transition import load

MAX_COMMENT = 4000


async def assign(
    db: Database,
    *,
    action_id: str,
    assignee: str,
    team: str,
    actor: Principal | None,
    now: datetime,
) -> Action:
    """Assigns a user and/or a team; neither given assigns the calling person (self-assign).
    `actor` None is the escalation timer."""
    if not assignee.strip() and not team.strip():
        if actor is None:
            raise InvalidArgument("automation must name an assignee or a team")
        assignee = actor.subject
    details: dict[str, Any] = {"assignee": assignee, "team": team}
    async with audited(db, actor, events.ASSIGNED, action_id, details), db.transaction() as session:
        before = await load(session, action_id, lock=True)
        if before.state in TERMINAL:
            raise Conflict(f"action {action_id} is {before.state}; nothing to assign")
        after = before.changed(now, assignee=assignee, assignee_team=team)
        await actions.save(session, after)
        who = actor_of(actor)
        details["previous"] = {"assignee": before.assignee, "team": before.assignee_team}
        await outbox.record(session, who.audit, events.ASSIGNED, action_id, details)
        target = " and ".join(part for part in (assignee, f"team {team}" if team else "") if part)
        await timeline.add(
            session,
            action_id=action_id,
            kind="assignment",
            actor=who.name,
            machine=who.machine,
            text=f"assigned to {target}",
            details=details,
            at=now,
        )
        return after


async def acknowledge(db: Database, *, action_id: str, actor: Principal, now: datetime) -> Action:
    """The first acknowledgement sets acknowledged_at; later ones are only timeline entries."""
    async with db.transaction() as session:
        before = await load(session, action_id, lock=True)
        first = before.acknowledged_at is None
        after = before.changed(now, acknowledged_at=now) if first else before
        if first:
            await actions.save(session, after)
        who = actor_of(actor)
        details = {"first": first}
        await outbox.record(session, who.audit, events.ACKNOWLEDGED, action_id, details)
        await timeline.add(
            session,
            action_id=action_id,
            kind="acknowledgement",
            actor=who.name,
            machine=who.machine,
            text="acknowledged" if first else "acknowledged again",
            details=details,
            at=now,
        )
        return after


async def comment(
    db: Database, *, action_id: str, author: Principal, text: str, now: datetime
) -> TimelineEntry:
    if not 1 <= len(text.strip()) <= MAX_COMMENT:
        raise InvalidArgument(f"a comment has 1 to {MAX_COMMENT} characters")
    async with db.transaction() as session:
        await load(session, action_id)
        who = actor_of(author)
        await outbox.record(session, who.audit, events.COMMENTED, action_id, {"text": text})
        return await timeline.add(
            session,
            action_id=action_id,
            kind="comment",
            actor=who.name,
            machine=who.machine,
            text=text,
            at=now,
        )


async def entries(db: Database, *, action_id: str) -> list[TimelineEntry]:
    async with db.transaction() as session:
        await load(session, action_id)
        return await timeline.for_action(session, action_id)
