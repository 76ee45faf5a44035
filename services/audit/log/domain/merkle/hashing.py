"""RFC 6962 / RFC 9162 Merkle tree hashing over stored complete subtrees.

The store holds the hash of every complete (perfect) subtree: node (level, index) covers leaves
[index * 2**level, (index + 1) * 2**level) and level 0 holds the leaf hashes. Everything here
reads only such nodes, so a root or a proof never re-reads the log. Pure: hashlib only.
Proofs and their verification live in proofs.py.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence

NodeId = tuple[int, int]
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below n (n >= 2): where RFC 6962 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def range_ids(start: int, end: int) -> list[NodeId]:
    """The fewest complete subtrees covering [start, end), left to right (at most 2*log2 nodes).

    For the ranges that proofs use (start a multiple of a power of two >= end - start) the levels
    strictly decrease, and `range_root` folds them into the range's RFC 6962 hash.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid range [{start}, {end})")
    ids: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            # A subtree starts only at a multiple of its own width.
            level = min(level, (start & -start).bit_length() - 1)
        ids.append((level, start >> level))
        start += 1 << level
    return ids


def frontier_ids(size: int) -> list[NodeId]:
    """The complete subtrees making up [0, size): one per set bit of size, largest first."""
    return range_ids(0, size)


def block_nodes(first: int, leaves: Sequence[bytes]) -> dict[NodeId, bytes]:
    """Every node of the complete subtree over `leaves` (2**k of them, `first` a multiple of
    2**k), leaves included: what the lowest levels of a proof need, from its leaves alone."""
    nodes: dict[NodeId, bytes] = {}
    level, row = 0, list(leaves)
    while row:
        nodes.update({(level, (first >> level) + i): value for i, value in enumerate(row)})
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return nodes


def stored(nodes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        return nodes[node]
    except KeyError:
        raise ValueError(f"stored node {node} is missing") from None


def range_root(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """MTH(D[start:end]) from stored nodes, for a proof-shaped range (see `range_ids`)."""
    width = end - start
    if width > 0 and not width & (width - 1) and not start % width and start >= 0:
        # One complete subtree (most ranges of a proof): its node is stored as it is.
        level = width.bit_length() - 1
        return stored(nodes, (level, start >> level))
    ids = range_ids(start, end)
    if not ids:
        return EMPTY_ROOT
    levels = [level for level, _ in ids]
    if any(a <= b for a, b in itertools.pairwise(levels)):
        raise ValueError(f"[{start}, {end}) is not a subtree of any tree; it has no RFC 6962 hash")
    # RFC 6962 splits at the largest power of two, so the rightmost pieces combine first.
    root = stored(nodes, ids[-1])
    for node in reversed(ids[:-1]):
        root = node_hash(stored(nodes, node), root)
    return root


def root_from(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """The tree head (MTH) of the first `size` leaves; EMPTY_ROOT for 0."""
    return range_root(0, size, nodes)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Reference MTH straight from RFC 6962 section 2.1, recursive; for tests and small bundles."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = split_point(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


class TreeBuilder:
    """Streams leaf hashes into a root with O(log n) memory: only the frontier is kept."""

    def __init__(self) -> None:
        self.size = 0
        # (level, hash) of the frontier's subtrees, largest first.
        self._stack: list[tuple[int, bytes]] = []

    def add(self, leaf: bytes) -> None:
        _check_hash(leaf, f"leaf hash {self.size}")
        level, value = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            value = node_hash(self._stack.pop()[1], value)
            level += 1
        self._stack.append((level, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, value in reversed(self._stack[:-1]):
            root = node_hash(value, root)
        return root


def append_nodes(
    size: int, frontier: Mapping[NodeId, bytes], leaves: Sequence[bytes]
) -> tuple[dict[NodeId, bytes], dict[NodeId, bytes]]:
    """Appends leaf hashes to a tree of `size` leaves, given its frontier (`frontier_ids(size)`).

    Returns (every newly complete node, leaves included; the frontier at the new size). Each leaf
    costs amortised O(1) hashes, as in a binary counter.
    """
    stack = [(node, stored(frontier, node)) for node in frontier_ids(size)]
    new: dict[NodeId, bytes] = {}
    for offset, leaf in enumerate(leaves):
        _check_hash(leaf, f"leaf hash {size + offset}")
        node, value = (0, size + offset), leaf
        new[node] = value
        while stack and stack[-1][0][0] == node[0]:
            value = node_hash(stack.pop()[1], value)
            node = (node[0] + 1, node[1] >> 1)
            new[node] = value
        stack.append((node, value))
    return new, dict(stack)
