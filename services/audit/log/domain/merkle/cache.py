"""What proofs read again and again, kept in memory: Merkle nodes and signed checkpoints never
change once committed (a complete subtree's hash is final, a tree size is signed once), so a
cached copy can only be stale if the database was tampered with, which verification catches.
Only committed values enter the cache: the sequencer adds its nodes after its commit.

The latest checkpoint is the one exception: it moves. The local sequencer reports each one it
cuts; checkpoints cut by other replicas are picked up when the known one is older than
LATEST_TTL_S, so "latest" may lag another replica's newest by that much."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from services.audit.log.domain.checkpoints.cutting import StoredCheckpoint
from services.audit.log.domain.merkle.hashing import NodeId

MAX_NODES = 100_000  # ~25 MB; all upper nodes from level 4 up of a 1M-record log
MAX_CHECKPOINTS = 4096
LATEST_TTL_S = 0.25


class TreeCache:
    def __init__(self, max_nodes: int = MAX_NODES) -> None:
        self._nodes: OrderedDict[NodeId, bytes] = OrderedDict()
        self._checkpoints: OrderedDict[int, StoredCheckpoint] = OrderedDict()
        self._max_nodes = max_nodes
        self._latest: StoredCheckpoint | None = None
        self._latest_at = float("-inf")
        self.known_size = 0  # a size the log surely reached: committed here or signed

    def nodes(self, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for node in wanted:
            value = self._nodes.get(node)
            if value is not None:
                self._nodes.move_to_end(node)
                found[node] = value
        return found

    def add_nodes(self, nodes: Mapping[NodeId, bytes]) -> None:
        self._nodes.update(nodes)
        for node in nodes:
            self._nodes.move_to_end(node)
        while len(self._nodes) > self._max_nodes:
            self._nodes.popitem(last=False)

    def checkpoint(self, tree_size: int) -> StoredCheckpoint | None:
        return self._checkpoints.get(tree_size)

    def add_checkpoint(self, found: StoredCheckpoint) -> None:
        self._checkpoints[found.tree_size] = found
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            self._checkpoints.popitem(last=False)
        self.saw_size(found.tree_size)

    def latest(self) -> StoredCheckpoint | None:
        """The latest checkpoint if it was learnt within LATEST_TTL_S, else None (ask again)."""
        if time.monotonic() - self._latest_at > LATEST_TTL_S:
            return None
        return self._latest

    def set_latest(self, found: StoredCheckpoint | None) -> None:
        if found is not None:
            self.add_checkpoint(found)
            if self._latest is not None and self._latest.tree_size > found.tree_size:
                found = self._latest  # a racing older answer must not move it back
        self._latest, self._latest_at = found, time.monotonic()

    def saw_size(self, size: int) -> None:
        self.known_size = max(self.known_size, size)
