"""An aggregated refusal record names at most a few targets; what it does not name, it counts,
so a flood of harmless refusals first cannot hide the probe of a sensitive route."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from runtime.refusals import MAX_LISTED, RefusalSettings, Tally


def test_refusals_of_targets_beyond_the_list_are_counted() -> None:
    tally: Tally[str] = Tally("peer:198.51.100.7", "anonymous", time.monotonic(), datetime.now(UTC))
    for n in range(MAX_LISTED):
        for _ in range(2):
            tally.add("peer:198.51.100.7", f"route GET /harmless/{n}", "missing bearer token")
    for _ in range(3):
        tally.add("peer:198.51.100.7", "route POST /audit/verify", "missing bearer token")

    _, _, payload = tally.event("gateway", RefusalSettings())

    assert payload["count"] == 2 * MAX_LISTED + 3
    assert "route POST /audit/verify" not in payload["targets"]
    assert payload["unlisted_targets_count"] == 3
