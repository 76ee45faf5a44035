"""The garbage collector's setting for a serving process, applied once it has started."""

from __future__ import annotations

import gc

_settled = False


def settle() -> None:
    """Everything alive now (modules, settings, routes, keys) lives as long as the process:
    frozen, a full collection no longer walks it (unfrozen, one took 80 ms in the middle of a
    request). The thresholds stay the default: young collections every 20,000 allocations
    instead of 700 cost less CPU in all, but each took 7 to 15 ms in ops (a request leaves
    cycles behind), a pause every request behind it waits out.

    Once per process, after a full collection: a frozen object is never collected, so garbage
    frozen with the rest would stay for good, and a process that starts an app again (the
    tests start hundreds of gateways) would freeze each one's garbage in turn. Frozen and
    thawed that way, 4.7 million objects came back to the oldest generation at once, and the
    collection that walked them stopped the whole process for 5 seconds."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
