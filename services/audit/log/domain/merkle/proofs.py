"""RFC 9162 inclusion and consistency proofs (2.1.3, 2.1.4) from stored complete subtrees.

Generation takes two steps so a caller fetches every node in one query: `*_needs` names the
nodes, `*_proof` builds the proof from a mapping holding them. Verification raises ProofError.
Where the RFC leaves preconditions open it follows transparency-dev/merkle: index < size;
consistency rejects size1 > size2 and size1 == 0 (even with size2 == 0), needs an empty proof
and root1 == root2 for equal sizes, a non-empty one otherwise. Every hash must be 32 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.audit.log.domain.merkle.hashing import (
    HASH_SIZE,
    NodeId,
    node_hash,
    range_ids,
    range_root,
    split_point,
)

Range = tuple[int, int]


class ProofError(ValueError):
    """A proof, or what it is checked against, does not verify; the message says why."""


def _path_ranges(index: int, size: int) -> list[Range]:
    """PATH(index, D[0:size]) as the leaf ranges whose hashes form it, from the leaf upwards."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def _subproof_ranges(size1: int, size2: int) -> list[Range]:
    """PROOF(size1, D[0:size2]) = SUBPROOF(size1, D[0:size2], true) as leaf ranges."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    ranges: list[Range] = []
    lo, hi = 0, size2
    while size1 != hi:
        k = split_point(hi - lo)
        if size1 <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    # SUBPROOF's flag b stays true while lo == 0: then the verifier holds MTH(D[0:size1]) already.
    if lo > 0:
        ranges.append((lo, hi))
    return ranges[::-1]


def _needs(ranges: list[Range]) -> set[NodeId]:
    return {node for start, end in ranges for node in range_ids(start, end)}


def _hashes(ranges: list[Range], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return [range_root(start, end, nodes) for start, end in ranges]


def inclusion_needs(index: int, size: int) -> set[NodeId]:
    return _needs(_path_ranges(index, size))


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return _hashes(_path_ranges(index, size), nodes)


def consistency_needs(size1: int, size2: int) -> set[NodeId]:
    return _needs(_subproof_ranges(size1, size2))


def consistency_proof(size1: int, size2: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return _hashes(_subproof_ranges(size1, size2), nodes)


def _require_hashes(proof: Sequence[bytes], **named: bytes) -> None:
    for what, value in [*named.items(), *((f"proof[{i}]", p) for i, p in enumerate(proof))]:
        if len(value) != HASH_SIZE:
            raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _require_hashes(proof, leaf_hash=leaf_hash, root=root)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"the proof has too many hashes for a tree of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the proof has too few hashes for a tree of size {size}")
    if r != root:
        raise ProofError("the proof leads to a different root")


def _consistency_preconditions(size1: int, size2: int, proof: Sequence[bytes]) -> None:
    if size1 < 0 or size1 > size2:
        raise ProofError(f"size1 {size1} must not exceed size2 {size2} nor be negative")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2 and proof:
        raise ProofError("equal sizes need an empty proof")
    if size1 < size2 and not proof:
        raise ProofError(f"an empty proof cannot link size {size1} to size {size2}")


def _consistency_roots(size1: int, size2: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """RFC 9162 2.1.4.2 steps 3-6: the roots at size1 and size2 that `path` leads to."""
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"the proof has too many hashes for sizes {size1} to {size2}")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"the proof has too few hashes for sizes {size1} to {size2}")
    return fr, sr


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    _consistency_preconditions(size1, size2, proof)
    if size1 == size2:
        # As the reference verifier: equal sizes prove only that the two roots are one root.
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    _require_hashes(proof, root1=root1, root2=root2)
    # A power-of-two size1 is a complete subtree: the verifier already holds its hash, root1.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fr, sr = _consistency_roots(size1, size2, path)
    if fr != root1:
        raise ProofError("the proof does not lead to root1")
    if sr != root2:
        raise ProofError("the proof does not lead to root2")
