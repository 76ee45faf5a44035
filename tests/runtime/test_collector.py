"""runtime.collector.settle, as a process sees it: the first call collects and then freezes
what is alive, so no garbage is frozen for good; later calls (an app started again in the same
process) change nothing, and garbage made after the first stays collectable. Run in a process
of its own: the test process has settled long before."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import gc, json, weakref
from runtime import collector

class Node:
    pass

def garbage(n):
    refs = []
    for _ in range(n):
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        refs.append(weakref.ref(node))
    return refs

gc.disable()  # no collection but the ones this script asks for
before = garbage(5000)
collector.settle()
frozen = gc.get_freeze_count()
after = garbage(5000)
collector.settle()
seen = {
    "garbage_from_before_left": sum(ref() is not None for ref in before),
    "frozen_grew_by": gc.get_freeze_count() - frozen,
    "garbage_from_after_left_by_settle": sum(ref() is not None for ref in after),
}
gc.collect()
seen["garbage_from_after_left_by_a_collection"] = sum(ref() is not None for ref in after)
print(json.dumps(seen))
"""


def test_settle_freezes_no_garbage_and_only_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == {
        "garbage_from_before_left": 0,
        "frozen_grew_by": 0,
        "garbage_from_after_left_by_settle": 5000,
        "garbage_from_after_left_by_a_collection": 0,
    }
