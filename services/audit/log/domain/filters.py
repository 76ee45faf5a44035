"""Record queries: time range, actor, action, target and outcome, on top of seq paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.audit.tables import records


@dataclass(frozen=True)
class Filter:
    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    action: str = ""
    outcome: str = ""

    def clauses(self) -> list[Any]:
        found: list[Any] = []
        if self.since is not None:
            found.append(records.c.occurred_at >= self.since)
        if self.until is not None:
            found.append(records.c.occurred_at < self.until)
        if self.actor:
            found.append(records.c.actor["subject"].astext == self.actor)
        if self.action:
            found.append(records.c.action == self.action)
        if self.outcome:
            found.append(records.c.outcome == self.outcome)
        return found

    def as_payload(self) -> dict[str, str]:
        """What an audited read asked for."""
        fields = {"actor": self.actor, "action": self.action, "outcome": self.outcome}
        fields["since"] = self.since.isoformat() if self.since else ""
        fields["until"] = self.until.isoformat() if self.until else ""
        return {key: value for key, value in fields.items() if value}
