"""How deliveries are configured and retried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from runtime.backoff import Backoff
from runtime.errors import InvalidArgument
from runtime.outbox import automation
from services.export.destinations import Destination
from services.export.destinations import config as destinations
from services.export.events import Actor, actor_fields

# The actor of automatic redeliveries and verifications in the audit log.
WORKER = automation("export-delivery", "1")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th consecutive failure waits a random time between
    half and all of min(cap, base * 2**(n-1)); after `max_failures` the export is FAILED. A
    claimed job is leased for `lease_s`: when its worker dies, another takes it after that."""

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_failures: int = 8
    lease_s: float = 900.0

    def delay(self, failures: int) -> timedelta:
        schedule = Backoff(self.base_s, self.cap_s, floor=0.5)
        return timedelta(seconds=schedule.wait(failures - 1))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)


@dataclass(frozen=True)
class DeliveryConfig:
    """Destinations by name, the service's export directory (an export's files are in
    `<export_dir>/<export id>/`), retries, the time one attempt may take, and the destinations
    whose every delivery is verified by fetching it back at once."""

    destinations: Mapping[str, Destination]
    export_dir: Path
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout_s: float = 600.0
    verify_after_delivery: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str], export_dir: Path) -> DeliveryConfig:
        """TRADEOPS_EXPORT_DESTINATIONS (services/export/destinations/config.py)."""
        return cls(
            destinations.from_env(env),
            export_dir,
            verify_after_delivery=destinations.verified_after_delivery(env),
        )

    def destination_named(self, name: str) -> Destination:
        if name not in self.destinations:
            known = ", ".join(sorted(self.destinations)) or "none configured"
            raise InvalidArgument(f"unknown destination {name!r} (known: {known})")
        return self.destinations[name]


def subject(actor: Actor) -> str:
    return str(actor_fields(actor)["subject"])
