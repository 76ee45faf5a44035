"""How deliveries are configured: the destinations, where the export files are kept, retries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runtime.errors import InvalidArgument
from runtime.outbox import automation
from services.export.clients.destinations import Destination
from services.export.clients.destinations import config as destinations
from services.export.clients.store import ExportStore, or_directory
from services.export.domain.delivery import RetryPolicy
from services.export.domain.signing import PinnedKeys
from services.export.settings import Settings

# The actor of automatic redeliveries and verifications in the audit log.
WORKER = automation("export-delivery", "1")


@dataclass(frozen=True)
class DeliveryConfig:
    """Destinations by name, the service's export directory, retries, the time one attempt may
    take, the destinations whose every delivery is verified by fetching it back at once, the
    pinned signing keys fetched-back copies are verified against (none: no copy verifies),
    and the store the exports are kept in (none: `<export_dir>/<export id>/`)."""

    destinations: Mapping[str, Destination]
    export_dir: Path
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout_s: float = 600.0
    verify_after_delivery: frozenset[str] = frozenset()
    keys: PinnedKeys = field(default_factory=PinnedKeys)
    store: ExportStore | None = None

    @classmethod
    def configured(
        cls,
        settings: Settings,
        export_dir: Path,
        keys: PinnedKeys,
        store: ExportStore | None = None,
    ) -> DeliveryConfig:
        """The destinations of TRADEOPS_EXPORT_DESTINATIONS (clients/destinations/config.py)."""
        return cls(
            destinations.parse(settings.destinations, settings.egress),
            export_dir,
            verify_after_delivery=destinations.verified_after_delivery(settings.destinations),
            keys=keys,
            store=store,
        )

    @property
    def kept_in(self) -> ExportStore:
        return or_directory(self.store, self.export_dir)

    def destination_named(self, name: str) -> Destination:
        if name not in self.destinations:
            known = ", ".join(sorted(self.destinations)) or "none configured"
            raise InvalidArgument(f"unknown destination {name!r} (known: {known})")
        return self.destinations[name]
