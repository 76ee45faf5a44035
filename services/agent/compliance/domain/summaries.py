"""A stored audit summary and how its figures travel as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from services.agent.compliance.domain.figures import Figures
from services.agent.compliance.domain.spikes import Spike


@dataclass(frozen=True)
class Bound:
    """Records with seq < size are counted; the checkpoint fields are empty without one."""

    size: int
    root: str = ""
    key_id: str = ""
    log_size: int = 0


@dataclass(frozen=True)
class Narration:
    model: str
    prompt: str
    output: str


PAIRS = ("by_action", "by_actor", "by_outcome", "after_hours_by_actor", "denied_by_actor")


@dataclass(frozen=True)
class Summary:
    id: str
    since: datetime
    until: datetime
    figures: Figures
    bound: Bound
    narrative: str
    narrator: str  # "template" or "llm"
    llm: Narration | None
    desk_hours: str
    requested_by: str
    created_at: datetime


def figures_json(figures: Figures) -> dict[str, Any]:
    data = asdict(figures)
    for name in PAIRS:
        data[name] = [[key, count] for key, count in data[name]]
    data["spikes"] = [
        {**asdict(s), "bucket_start": s.bucket_start.isoformat()} for s in figures.spikes
    ]
    return data


def figures_from(data: dict[str, Any]) -> Figures:
    fields = dict(data)
    for name in PAIRS:
        fields[name] = [(str(key), int(count)) for key, count in fields[name]]
    fields["spikes"] = [
        Spike(**{**s, "bucket_start": datetime.fromisoformat(s["bucket_start"])})
        for s in fields["spikes"]
    ]
    return Figures(**fields)
