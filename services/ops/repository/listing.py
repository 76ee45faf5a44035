"""The ListActions query: the filters, the inbox (awaiting_me), the order and the keyset.

NEWEST pages by (created_at, id) descending: a state, alone or with a kind, a risk or an
assignee, leads an index ending in (created_at, id), so a first page is a range scan; a kind,
risk or assignee without a state is each state's range scan, merged. DEADLINE pages by
(expires_at, riskiest first, id) ascending over ix_actions_pending_deadline, the pending actions
only. The inbox is domain.eligibility's per-action checks, each as the SQL condition under which
it lets the voter approve (AWAITING names them as CHECKS does; tests/ops/test_inbox.py holds the
two together): the one that needs the policy and the votes, whether an approval would still
count, reads the approvable_by column the domain computes with every write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Text,
    and_,
    exists,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from services.ops.domain.actions import Action, Awaiting, Filters, Order, State
from services.ops.tables import RISK_ORDER, RISK_RANK, actions, votes

Newest = tuple[datetime, str]  # created_at, id
Deadline = tuple[datetime, int, str]  # expires_at, risk rank, id
After = Newest | Deadline
Condition = ColumnElement[bool]
Listing = Select[Any] | CompoundSelect[Any]
PENDING = State.PENDING_APPROVAL.value
_RISK: ColumnClause[int] = literal_column(RISK_ORDER, Integer)
ROLES = ARRAY(Text)


def _not_voted(who: Awaiting) -> Condition:
    theirs = exists().where(
        votes.c.action_id == actions.c.id,
        votes.c.voter == who.voter,
        votes.c.parameters_version == actions.c.parameters_version,
        ~votes.c.voided,
    )
    return ~theirs


# Each per-action check of domain.eligibility.CHECKS, as the rows it lets `who` approve.
AWAITING: dict[str, Callable[[Awaiting], Condition]] = {
    "expired": lambda who: actions.c.expires_at > who.at,
    "requester": lambda who: actions.c.requested_by != who.voter,
    "proposer": lambda who: actions.c.proposed_by["subject"].astext.is_distinct_from(who.voter),
    "parameters_author": lambda who: actions.c.parameters_author != who.voter,
    "pending": lambda who: actions.c.state == PENDING,
    "voted": _not_voted,
    "counting": lambda who: actions.c.approvable_by.overlap(literal(sorted(who.roles), ROLES)),
}


# The inbox walks an index in its order, and nothing else is ever cheaper. The planner can
# think otherwise: it multiplies "pending" by "due after this page's place" as if unrelated
# (every pending action is due later than now, nearly every other one earlier), expects a few
# rows past a deep page's place, and plans to read them all through a bitmap and sort them:
# tests/ops/test_inbox_at_scale.py's page halfway down 100,000 pending actions then reads 50,000
# rows. Set in the listing's transaction only (repository.actions.page).
IN_INDEX_ORDER = text("SET LOCAL enable_bitmapscan = off")


def in_index_order(filters: Filters) -> bool:
    return filters.awaiting is not None or filters.order is Order.DEADLINE


def listing_query(filters: Filters, limit: int, after: After | None) -> Listing:
    query = select(actions).where(*_filtered(filters), *_awaiting(filters))
    if filters.order is Order.DEADLINE:
        if filters.awaiting is not None:
            after = _due_after(filters.awaiting, after)
        query = query.order_by(actions.c.expires_at, _RISK, actions.c.id)
        return (query.where(_later(after)) if after else query).limit(limit)
    if filters.state is None and filters.awaiting is None and _narrowed(filters):
        return _each_state(filters, limit, after)
    return _newest(query, limit, after)


def _newest(query: Select[Any], limit: int, after: After | None) -> Select[Any]:
    query = query.order_by(actions.c.created_at.desc(), actions.c.id.desc())
    return (query.where(_older(after)) if after else query).limit(limit)


def _narrowed(filters: Filters) -> bool:
    return bool(filters.kind or filters.risk or filters.assignee)


def _each_state(filters: Filters, limit: int, after: After | None) -> CompoundSelect[Any]:
    """A kind, risk or assignee in any state: each state's own page, from the index that starts
    with (state, kind or risk) or (assignee, state), merged newest first (PostgreSQL's Merge
    Append reads each only as far as the page needs). A kind's or risk's own index would serve
    it too, but with a state as well the planner took it over the pair's, stepping over every
    newer action of the kind in other states (migration 0011 says how many), so there is none."""
    pages = [
        _newest(select(actions).where(*_filtered(replace(filters, state=state))), limit, after)
        for state in State
    ]
    # Ordered by the output's own names: a subquery's column proxies cost 5 to 15 ms to build.
    return union_all(*pages).order_by(*_NEWEST_OUT).limit(limit)


_NEWEST_OUT: tuple[Any, ...] = (literal_column("created_at").desc(), literal_column("id").desc())


def _awaiting(filters: Filters) -> list[Condition]:
    who = filters.awaiting
    if who is None:
        return []
    # By deadline, "not expired" is the keyset's lower bound instead (_due_after).
    skip = "expired" if filters.order is Order.DEADLINE else ""
    return [condition(who) for name, condition in AWAITING.items() if name != skip]


def _due_after(who: Awaiting, after: After | None) -> After:
    """The inbox's "not expired" (AWAITING["expired"]) as the keyset's own lower bound: past
    `who.at`, and past the previous page. With two lower bounds on expires_at the index scan
    started at the first and stepped through every entry up to the second (3.5 ms at 90% of
    100,000); with one it starts where the page does."""
    due = (who.at, max(RISK_RANK.values()), LAST_ID)
    return max(due, after) if after is not None else due


LAST_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff"  # no id comes after it


def place(action: Action, order: Order) -> After:
    """Where `action` is in `order`: what the next page starts after."""
    if order is Order.DEADLINE:
        assert action.expires_at is not None
        return action.expires_at, RISK_RANK[action.risk.value], action.id
    return action.created_at, action.id


def _filtered(filters: Filters) -> list[Condition]:
    wanted = {
        actions.c.state: filters.state.value if filters.state else "",
        actions.c.kind: filters.kind,
        actions.c.risk: filters.risk.value if filters.risk else "",
        actions.c.assignee: filters.assignee,
    }
    return [column == value for column, value in wanted.items() if value]


def _older(after: After) -> Condition:
    at, last_id = after[0], after[-1]
    return or_(actions.c.created_at < at, and_(actions.c.created_at == at, actions.c.id < last_id))


def _later(after: After) -> Condition:
    # One row comparison over the index's own columns: the index starts right after `after`.
    keys = (actions.c.expires_at, _RISK, actions.c.id)
    return tuple_(*keys) > tuple_(*(literal(v, k.type) for v, k in zip(after, keys, strict=True)))
