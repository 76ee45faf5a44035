"""An aggregated refusal record names at most a few targets; what it does not name, it counts,
so a flood of harmless refusals first cannot hide the probe of a sensitive route."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from runtime.refusals import MAX_LISTED, OVERFLOW, RefusalSettings, RefusalWindows, Tally

NOW = datetime.now(UTC)


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


def test_windows_waiting_for_the_log_are_bounded_and_keep_their_counts() -> None:
    windows: RefusalWindows[str] = RefusalWindows(RefusalSettings(window_s=60, max_sources=3))
    for n in range(10):
        tally: Tally[str] = Tally(f"peer:10.0.0.{n}", "anonymous", time.monotonic(), NOW)
        tally.add(tally.source, "route GET /x", "missing bearer token")
        tally.add(tally.source, "route GET /x", "missing bearer token")
        windows.retry(tally)  # the log is away: each closed window waits

    waiting = windows.closed()

    assert len(waiting) == 3
    assert sum(t.count for t in waiting) == 20
    assert waiting[0].source == OVERFLOW
    assert waiting[0].count == 16
