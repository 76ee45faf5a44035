"""Merkle proofs over every tree shape up to 70 leaves, checked against the RFC's own recursion."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

import pytest

from services.audit.log.domain.merkle.hashing import (
    NodeId,
    TreeBuilder,
    append_nodes,
    frontier_ids,
    leaf_hash,
    range_ids,
    range_root,
    root_from,
    root_of,
    split_point,
)
from services.audit.log.domain.merkle.proofs import (
    ProofError,
    consistency_needs,
    consistency_proof,
    inclusion_needs,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

N = 70
LEAVES = [leaf_hash(b"record %d" % i) for i in range(N)]
NODES, _ = append_nodes(0, {}, LEAVES)
ROOTS = [root_of(LEAVES[:size]) for size in range(N + 1)]
SIZES = range(1, N + 1)


def rfc_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1, verbatim."""
    if len(d) == 1:
        return []
    k = split_point(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), root_of(d[k:])]
    return [*rfc_path(m - k, d[k:]), root_of(d[:k])]


def rfc_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1, verbatim."""
    if m == len(d):
        return [] if b else [root_of(d)]
    k = split_point(len(d))
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), root_of(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), root_of(d[:k])]


def only(needs: Iterable[NodeId]) -> Mapping[NodeId, bytes]:
    """What one database query for exactly these nodes would return."""
    return {node: NODES[node] for node in needs}


def flipped(proof: list[bytes], element: int, byte: int) -> list[bytes]:
    bad = bytearray(proof[element])
    bad[byte] ^= 0x01
    return [*proof[:element], bytes(bad), *proof[element + 1 :]]


def is_stored(node: NodeId, size: int) -> bool:
    level, index = node
    return (index + 1) << level <= size


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_is_the_rfc_path_and_verifies(size: int) -> None:
    for index in range(size):
        needs = inclusion_needs(index, size)
        proof = inclusion_proof(index, size, only(needs))

        assert proof == rfc_path(index, LEAVES[:size])
        assert all(is_stored(node, size) for node in needs)
        verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("size", SIZES)
def test_an_inclusion_proof_with_any_flipped_byte_or_another_index_is_rejected(size: int) -> None:
    for index in range(size):
        proof = inclusion_proof(index, size, NODES)
        # Every byte for small trees and three indices, else one byte per element: a short run.
        every_byte = size <= 16 or index in (0, size // 2, size - 1)
        for element in range(len(proof)):
            for byte in range(32) if every_byte else [(index + element) % 32]:
                with pytest.raises(ProofError):
                    verify_inclusion(
                        index, size, LEAVES[index], flipped(proof, element, byte), ROOTS[size]
                    )
        for other in [*range(size), size, size + 1, 2 * size]:
            if other != index:
                with pytest.raises(ProofError):
                    verify_inclusion(other, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("size2", SIZES)
def test_every_consistency_proof_is_the_rfc_subproof_and_verifies(size2: int) -> None:
    for size1 in range(1, size2 + 1):
        needs = consistency_needs(size1, size2)
        proof = consistency_proof(size1, size2, only(needs))

        assert proof == rfc_subproof(size1, LEAVES[:size2], True)
        assert all(is_stored(node, size2) for node in needs)
        verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])


@pytest.mark.parametrize("size2", SIZES)
def test_a_consistency_proof_with_any_flipped_byte_or_other_sizes_is_rejected(size2: int) -> None:
    for size1 in range(1, size2 + 1):
        proof, r1, r2 = consistency_proof(size1, size2, NODES), ROOTS[size1], ROOTS[size2]
        every_byte = size2 <= 16 or size1 in (1, size2 // 2, size2 - 1)
        for element in range(len(proof)):
            for byte in range(32) if every_byte else [(size1 + element) % 32]:
                with pytest.raises(ProofError):
                    verify_consistency(size1, size2, flipped(proof, element, byte), r1, r2)
        for other in range(size2 + 2):
            if other != size1:
                with pytest.raises(ProofError):
                    verify_consistency(other, size2, proof, r1, r2)
        # Roots do not commit to a size, so the claim tested is: it proves nothing about the
        # real tree at another size2.
        for other in range(size1, N + 1):
            if other != size2:
                with pytest.raises(ProofError):
                    verify_consistency(size1, other, proof, r1, ROOTS[other])
        if r1 != r2:
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, proof, r2, r1)


def append_in_batches(cuts: list[int]) -> list[dict[NodeId, bytes]]:
    """Appends LEAVES in batches ending at `cuts`; returns each batch's new nodes."""
    size, frontier, batches = 0, dict[NodeId, bytes](), []
    for end in [*cuts, N]:
        new, frontier = append_nodes(size, frontier, LEAVES[size:end])
        size = end
        assert frontier == {node: NODES[node] for node in frontier_ids(size)}
        batches.append(new)
    return batches


def test_the_stored_nodes_are_every_complete_subtree_and_nothing_else() -> None:
    complete = {(lv, i) for lv in range(7) for i in range(N >> lv)}

    assert set(NODES) == complete
    for (lv, i), value in NODES.items():
        assert value == root_of(LEAVES[i << lv : (i + 1) << lv])


@pytest.mark.parametrize("seed", range(25))
def test_appending_in_any_batch_split_stores_each_node_once_and_the_same_nodes(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(N + 1), rng.randint(0, 20)))
    batches = append_in_batches(cuts)
    merged = {node: value for batch in batches for node, value in batch.items()}

    assert merged == NODES
    assert sum(len(batch) for batch in batches) == len(NODES)


def test_appending_one_leaf_at_a_time_stores_the_same_nodes() -> None:
    batches = append_in_batches(list(range(1, N)))

    assert {node: value for batch in batches for node, value in batch.items()} == NODES
    # Leaf 2**k - 1 completes k + 1 nodes: itself and its k ancestors.
    assert [len(batch) for batch in batches[:8]] == [1, 2, 1, 3, 1, 2, 1, 4]


def test_appending_refuses_a_missing_frontier_node_or_a_short_leaf_hash() -> None:
    with pytest.raises(ValueError, match=r"stored node \(1, 0\) is missing"):
        append_nodes(3, {(0, 2): LEAVES[2]}, LEAVES[3:4])
    with pytest.raises(ValueError, match="leaf hash 3 is 31 bytes"):
        append_nodes(3, only(frontier_ids(3)), [LEAVES[3][:31]])


@pytest.mark.parametrize("size", range(N + 1))
def test_the_root_from_stored_nodes_the_streaming_builder_and_the_recursion_agree(
    size: int,
) -> None:
    builder = TreeBuilder()
    for leaf in LEAVES[:size]:
        builder.add(leaf)

    assert root_from(size, only(frontier_ids(size))) == builder.root() == ROOTS[size]
    assert builder.size == size


def test_a_range_is_covered_by_at_most_two_log2_disjoint_stored_nodes() -> None:
    for start in range(N + 1):
        for end in range(start, N + 1):
            ids = range_ids(start, end)
            covered = [leaf for lv, i in ids for leaf in range(i << lv, (i + 1) << lv)]

            assert covered == list(range(start, end))
            assert len(ids) <= 2 * max(1, (end - start).bit_length())


def test_only_a_range_that_is_a_subtree_has_a_range_root() -> None:
    assert range_root(8, 13, NODES) == root_of(LEAVES[8:13])
    with pytest.raises(ValueError, match=r"\[3, 9\) is not a subtree"):
        range_root(3, 9, NODES)


def test_proofs_are_only_built_for_sizes_the_rfc_defines() -> None:
    for index, size in [(0, 0), (5, 5), (-1, 5)]:
        with pytest.raises(ValueError, match="outside a tree"):
            inclusion_needs(index, size)
    for size1, size2 in [(0, 5), (6, 5), (0, 0)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_needs(size1, size2)
    assert consistency_proof(5, 5, NODES) == []


def test_a_proof_in_a_tree_of_a_million_leaves_needs_at_most_40_stored_nodes() -> None:
    size = 1_000_000
    picks = [0, 1, 2, 3, 2**19 - 1, 2**19, 123_457, 999_999, 999_998, 500_001, 999_936]
    needs = [inclusion_needs(index, size) for index in picks]
    needs += [consistency_needs(size1, size) for size1 in [*picks[1:], size]]

    assert max(len(nodes) for nodes in needs) <= 2 * (size - 1).bit_length() == 40
    assert all(is_stored(node, size) for nodes in needs for node in nodes)
