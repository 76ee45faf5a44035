"""Record queries: time range, actor, action, target and outcome, on top of seq paging
(repository/records.py turns a Filter into its WHERE clauses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Filter:
    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    action: str = ""
    outcome: str = ""

    def as_payload(self) -> dict[str, str]:
        """What an audited read asked for."""
        fields = {"actor": self.actor, "action": self.action, "outcome": self.outcome}
        fields["since"] = self.since.isoformat() if self.since else ""
        fields["until"] = self.until.isoformat() if self.until else ""
        return {key: value for key, value in fields.items() if value}
