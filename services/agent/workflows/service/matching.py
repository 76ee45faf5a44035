"""Turns audit events into firings, at least once: pages after the durable cursor are matched
against the enabled rules, and each page's firings and the cursor's advance commit together.
A page read twice (a crash, two replicas) records nothing twice: firings are unique on
(rule id, event id)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from runtime.db import Database
from services.agent.workflows.clients.feed import PAGE, Page, Record
from services.agent.workflows.domain.facts import holds, needs_action
from services.agent.workflows.domain.rules import OWN_FAMILY, PENDING, Rule
from services.agent.workflows.repository import cursors
from services.agent.workflows.repository import firings as firing_store
from services.agent.workflows.repository import rules as rule_store

CURSOR = "audit"
ActionFacts = Callable[[str], Awaitable[dict[str, str]]]


class Feed(Protocol):
    async def signed_size(self) -> int | None: ...

    async def page(self, after_seq: int, limit: int = PAGE) -> Page: ...


def caused_by_triggers(record: Record, reader: str) -> bool:
    """Events that must not fire triggers: the triggers' own, what their steps caused, and
    the audit records of the consumer's own reads (each would cause the next)."""
    return (
        record.action.startswith(OWN_FAMILY)
        or record.actor.startswith("trigger:")
        or record.actor == reader
    )


async def consume(
    db: Database, feed: Feed, action_facts: ActionFacts, *, reader: str, now: Callable[[], datetime]
) -> int:
    """Reads every page after the cursor; returns how many firings it recorded."""
    last_seq, idle_size = await _cursor(db, feed, now())
    signed = await feed.signed_size()
    if signed is not None and signed <= idle_size:
        return 0  # nothing but our own last read record since then
    recorded = 0
    while True:
        page = await feed.page(last_seq)
        async with db.transaction() as session:
            rules = await rule_store.all_current(session, enabled_only=True)
        rows = await _firings(page.records, rules, action_facts, reader, now())
        new_seq = page.records[-1].seq if page.records else last_seq
        async with db.transaction() as session:
            recorded += await firing_store.record(session, rows)
            await cursors.advance(session, CURSOR, new_seq, page.log_size + 1, now())
        if len(page.records) < PAGE:
            return recorded
        last_seq = new_seq


async def _firings(
    records: Sequence[Record],
    rules: Sequence[Rule],
    action_facts: ActionFacts,
    reader: str,
    now: datetime,
) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        if caused_by_triggers(record, reader):
            continue
        candidates = [rule for rule in rules if rule.action == record.action]
        if not candidates:
            continue
        facts = await _facts(record, candidates, action_facts)
        rows += [
            _row(rule, record, facts, now) for rule in candidates if holds(rule.conditions, facts)
        ]
    return rows


async def _facts(
    record: Record, rules: Sequence[Rule], action_facts: ActionFacts
) -> dict[str, str]:
    facts = record.facts
    if record.facts["target_kind"] == "action" and any(needs_action(r.conditions) for r in rules):
        facts = facts | await action_facts(record.facts["target_id"])
    return facts


def _row(rule: Rule, record: Record, facts: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "trigger_id": rule.id,
        "trigger_version": rule.version,
        "event_id": record.event_id,
        "event_seq": record.seq,
        "event_action": record.action,
        "event_target": record.target,
        "facts": facts,
        "step": rule.step,
        "state": PENDING,
        "attempts": 0,
        "last_error": "",
        "created": "",
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


async def _cursor(db: Database, feed: Feed, now: datetime) -> tuple[int, int]:
    """The cursor; on the very first start it begins at the log's end: what happened before
    triggers existed is history, not a reason to act now."""
    async with db.transaction() as session:
        found = await cursors.get(session, CURSOR)
    if found is not None:
        return found
    size = (await feed.page(-1, 1)).log_size
    async with db.transaction() as session:
        await cursors.start(session, CURSOR, last_seq=size - 1, idle_size=size + 1, now=now)
    return await _cursor(db, feed, now)
