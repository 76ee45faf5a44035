"""Every complete Merkle node of the log's first `size` leaves, in memory, so an inclusion or
consistency proof touches no database. Level l is one flat byte array holding the hashes of
nodes (l, 0), (l, 1), ... back to back (32 bytes each); the tree's nodes take about 64 bytes per
record, so the default bound (TRADEOPS_AUDIT_TREE_MEMORY_MB, 256) holds about 4 million records.
Past the bound the lowest level is dropped, then the next, so the store keeps serving the upper
levels and a proof reads only the few lowest nodes (as before this store existed). A log whose
whole tree exceeds the bound at start is loaded from the lowest level that fits (`fitting_level`,
`start_at`: 2 at 10 million records, 160 MB), read from the stored complete subtrees
(audit.nodes), so a start reads a quarter of the hashes and none of the records.

The store only grows at its end, from committed leaves: the sequencer hands over each commit's
leaves once it is durable, and a loader reads what the store lacks (at start, or after a commit
it missed) from audit.records. Upper nodes are computed here from the leaves; like the node
cache, a copy can only differ from the database if the database was tampered with, which
verification catches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from hashlib import sha256

from services.audit.log.domain.merkle.hashing import HASH_SIZE, NodeId, root_from

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class TreeMemory:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        # Level l holds nodes (l, base[l]), (l, base[l] + 1), ... up to (l, size >> l) excluded.
        self._levels: list[bytearray] = [bytearray()]
        self._base: list[int] = [0]
        self._low = 0  # levels below this keep only a node still waiting for its sibling
        self._max_bytes = max_bytes
        self.size = 0  # leaves covered: every complete node within [0, size) was computed
        self._root: tuple[int, bytes] | None = None
        self._no_root = -1  # the last size whose root the held nodes could not give

    def extend(self, start: int, leaves: Sequence[bytes]) -> bool:
        """Appends committed leaves starting at seq `start`; refused (False) unless `start` is
        exactly the store's size, so the store never holds a gap."""
        return self.extend_joined(start, b"".join(leaves))

    def extend_joined(self, start: int, leaves: bytes) -> bool:
        """As `extend`, with the leaves' hashes back to back in one string of bytes."""
        if start != self.size or len(leaves) % HASH_SIZE:
            return False
        self._levels[0] += leaves
        self.size += len(leaves) // HASH_SIZE
        self._build_up()
        self._keep_bound()
        return True

    def fitting_level(self, size: int) -> int:
        """The lowest level from which the tree of `size` leaves fits the bound."""
        level = 0
        while level < size.bit_length() and _tree_bytes(size, level) > self._max_bytes:
            level += 1
        return level

    def start_at(self, level: int, hashes: bytes) -> bool:
        """Starts an empty store from the hashes of nodes (level, 0), (level, 1), ... back to
        back, holding nothing below `level`; it then covers len(hashes) / 32 * 2**level leaves,
        and `extend` carries on from there. Refused (False) unless the store is empty."""
        if self.size or len(hashes) % HASH_SIZE or level < 0:
            return False
        self.size = (len(hashes) // HASH_SIZE) << level
        # A lower level starts empty at its first node not covered yet (nothing to pair).
        self._levels = [bytearray() for _ in range(level)] + [bytearray(hashes)]
        self._base = [self.size >> below for below in range(level)] + [0]
        self._low = level
        self._root = None
        self._build_up()
        self._keep_bound()
        return True

    def nodes(self, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """The wanted nodes the store holds; the others are left out."""
        found: dict[NodeId, bytes] = {}
        for node in wanted:
            try:
                found[node] = self.node(node)
            except KeyError:
                continue
        return found

    def node(self, node: NodeId) -> bytes:
        level, index = node
        if level >= len(self._levels) or not self._base[level] <= index < self.size >> level:
            raise KeyError(node)
        offset = (index - self._base[level]) * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    @property
    def lowest_held(self) -> int:
        """The lowest level held whole; below it only the nodes at the store's end."""
        return self._low

    def holds(self, size: int) -> bool:
        """Whether every node of the tree of `size` leaves is here (none read elsewhere)."""
        return size <= self.size and self._low == 0

    def view(self) -> Mapping[NodeId, bytes]:
        """The held nodes as a read-only mapping, for hashing.py and proofs.py."""
        return _View(self)

    def root(self, size: int) -> bytes:
        """MTH of the first `size` leaves (size <= self.size, all levels held); the last one
        asked is remembered, since proofs ask for the latest checkpoint's again and again."""
        if self._root is None or self._root[0] != size:
            self._root = (size, root_from(size, self.view()))
        return self._root[1]

    def root_if_held(self, size: int) -> bytes | None:
        """MTH of the first `size` leaves if every node of its frontier is held (always for the
        upper levels; below them only the nodes the store keeps at its own end), else None."""
        if size > self.size or size == self._no_root:
            return None
        try:
            return self.root(size)
        except ValueError:  # a frontier node below the held levels
            self._no_root = size  # proofs ask for the same size again and again
            return None

    def nbytes(self) -> int:
        return sum(len(level) for level in self._levels)

    def _build_up(self) -> None:
        level = 0
        while self.size >> (level + 1):
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
                self._base.append(0)
            below, above, base = self._levels[level], self._levels[level + 1], self._base[level]
            have = self._base[level + 1] + len(above) // HASH_SIZE
            for index in range(have, self.size >> (level + 1)):
                left = (2 * index - base) * HASH_SIZE
                # RFC 6962 node hash of the two children, which lie side by side.
                above += sha256(b"\x01" + below[left : left + 2 * HASH_SIZE]).digest()
            level += 1

    def _keep_bound(self) -> None:
        self._trim_dropped()
        while self.nbytes() > self._max_bytes and self._low + 1 < len(self._levels):
            self._low += 1
            self._trim_dropped()

    def _trim_dropped(self) -> None:
        for level in range(self._low):
            # Keep only a node whose sibling has not arrived: the next parent needs it.
            keep_from = (self.size >> level) & ~1
            drop = (keep_from - self._base[level]) * HASH_SIZE
            if drop > 0:
                del self._levels[level][:drop]
                self._base[level] = keep_from


def _tree_bytes(size: int, level: int) -> int:
    return HASH_SIZE * sum(size >> above for above in range(level, size.bit_length()))


class _View(Mapping[NodeId, bytes]):
    def __init__(self, memory: TreeMemory) -> None:
        self._memory = memory

    def __getitem__(self, node: NodeId) -> bytes:
        return self._memory.node(node)

    def __iter__(self) -> Iterator[NodeId]:
        memory = self._memory
        for level, base in enumerate(memory._base):
            yield from ((level, index) for index in range(base, memory.size >> level))

    def __len__(self) -> int:
        return sum(1 for _ in self)
