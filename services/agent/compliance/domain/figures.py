"""The figures of a summary, computed from audit records alone (pure, deterministic)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.agent.compliance.domain.hours import DeskHours
from services.agent.compliance.domain.spikes import Spike, SpikeRule, spikes

VOTE, APPROVED, REJECTED = "ops.action.vote_recorded", "ops.action.approved", "ops.action.rejected"
OVERRIDDEN, DENIED = "agent.triage.overridden", "denied"
# Records that stand for many refusals, and the payload field holding how many.
COUNTED = {
    "access.denied.aggregated": "count",
    "access.denied.overflow": "count",
    "access.denied.dropped": "dropped",
}


@dataclass(frozen=True)
class RecordView:
    seq: int
    occurred_at: datetime
    actor: str
    actor_kind: str
    action: str
    outcome: str
    payload_json: str


@dataclass(frozen=True)
class Figures:
    record_count: int
    first_seq: int
    last_seq: int
    by_action: list[tuple[str, int]]
    by_actor: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    approve_votes: int
    reject_votes: int
    actions_approved: int
    actions_rejected: int
    overrides: int
    after_hours: int
    after_hours_by_actor: list[tuple[str, int]]
    denied: int
    denied_by_actor: list[tuple[str, int]]
    spikes: list[Spike] = field(default_factory=list)


def _weighted(pairs: Iterable[tuple[str, int]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for key, weight in pairs:
        counts[key] += weight
    return counts


def ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Largest first, ties by name, so the same records always give the same list."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _approve(record: RecordView) -> bool | None:
    try:
        value = json.loads(record.payload_json).get("approve")
    except (ValueError, AttributeError):  # a redacted or non-object payload
        return None
    return value if isinstance(value, bool) else None


def refusals(record: RecordView) -> int:
    """How many refusals a denied record stands for: one on its own; an aggregate, an overflow
    or a dropped-refusals record carries its count (runtime/refusals.py, gateway/refusals.py)."""
    field = COUNTED.get(record.action.split(".", 1)[-1])
    if field is None:
        return 1
    try:
        count = json.loads(record.payload_json).get(field)
    except (ValueError, AttributeError):  # a redacted or non-object payload
        return 1
    return count if isinstance(count, int) and count > 0 else 1


def _votes(records: Iterable[RecordView]) -> Counter[bool]:
    return Counter(
        v
        for r in records
        if r.action == VOTE and r.outcome == "success" and (v := _approve(r)) is not None
    )


def compute(
    records: Sequence[RecordView],
    baseline: Sequence[RecordView],
    *,
    since: datetime,
    until: datetime,
    hours: DeskHours,
    rule: SpikeRule,
) -> Figures:
    actions = Counter(r.action for r in records)
    late = [r for r in records if r.actor_kind == "person" and hours.outside(r.occurred_at)]
    refused = [r for r in records if r.outcome == DENIED]
    votes = _votes(records)
    return Figures(
        record_count=len(records),
        first_seq=min((r.seq for r in records), default=-1),
        last_seq=max((r.seq for r in records), default=-1),
        by_action=ranked(actions),
        by_actor=ranked(Counter(r.actor for r in records)),
        by_outcome=ranked(Counter(r.outcome for r in records)),
        approve_votes=votes[True],
        reject_votes=votes[False],
        actions_approved=actions[APPROVED],
        actions_rejected=actions[REJECTED],
        overrides=actions[OVERRIDDEN],
        after_hours=len(late),
        after_hours_by_actor=ranked(Counter(r.actor for r in late)),
        denied=sum(refusals(r) for r in refused),
        denied_by_actor=ranked(_weighted((r.actor, refusals(r)) for r in refused)),
        spikes=spikes(records, baseline, since=since, until=until, rule=rule),
    )
