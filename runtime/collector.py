"""The garbage collector's settings for a serving process, applied once it has started."""

from __future__ import annotations

import gc

# Objects allocated between young collections. The default, 700, ran one every six to eight
# requests (about 0.05 ms of CPU per request, in the gateway and in ops alike); most of a
# request's objects are freed by reference counting before a later collection would find them.
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Everything alive now (modules, settings, routes, keys) lives as long as the process:
    frozen, a full collection no longer walks it (unfrozen, one took 80 ms in the middle of a
    request), and young collections run less often."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def unsettle() -> None:
    """Back to the defaults (an app built again in the same process, as in tests)."""
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
