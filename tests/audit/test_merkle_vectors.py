"""RFC 6962 / RFC 9162 known answers from transparency-dev/merkle (tests/testdata/README.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.audit.log.domain.merkle.hashing import (
    EMPTY_ROOT,
    TreeBuilder,
    append_nodes,
    leaf_hash,
    node_hash,
    root_from,
    root_of,
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

# A missing file must fail collection, never skip.
VECTORS_FILE = Path(__file__).resolve().parents[1] / "testdata" / "rfc6962-vectors.json"
V: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
LEAVES = [leaf_hash(bytes.fromhex(leaf)) for leaf in V["leaves_hex"]]
NODES, FRONTIER = append_nodes(0, {}, LEAVES)
Call = Callable[[], None]
ROOTS = {r["size"]: bytes.fromhex(r["root_hex"]) for r in V["roots"]}


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def hs(values: list[str]) -> list[bytes]:
    return [h(value) for value in values]


def negative_id(case: dict[str, Any]) -> str:
    folder = case["file"].removeprefix("testdata/").rsplit("/", 1)[0]
    return f"{folder}: {case['desc']}"


def test_the_file_holds_the_cases_its_readme_promises() -> None:
    kinds = [case["kind"] for case in V["negative"]]

    assert (len(kinds), kinds.count("inclusion"), kinds.count("consistency")) == (184, 92, 92)
    assert len({negative_id(case) for case in V["negative"]}) == 184
    assert sorted(ROOTS) == list(range(9))


@pytest.mark.parametrize("vector", V["hash_vectors"], ids=lambda v: v["kind"])
def test_each_hash_vector_is_reproduced(vector: dict[str, Any]) -> None:
    if vector["kind"] == "empty_tree_root":
        got = EMPTY_ROOT
    elif vector["kind"] == "leaf":
        got = leaf_hash(h(vector["input_hex"]))
    else:
        got = node_hash(h(vector["left_hex"]), h(vector["right_hex"]))

    assert got.hex() == vector["hash_hex"]


def test_the_leaf_hashes_of_the_standard_leaves_match() -> None:
    assert [leaf.hex() for leaf in LEAVES] == V["leaf_hashes_hex"]


def test_appending_the_eight_leaves_stores_exactly_the_published_complete_subtrees() -> None:
    levels = V["node_hashes_hex"]["levels"]
    published = {(lv, i): h(x) for lv, row in enumerate(levels) for i, x in enumerate(row)}

    assert published == NODES
    assert {(3, 0): ROOTS[8]} == FRONTIER


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_every_prefix_matches_by_all_three_routes(size: int) -> None:
    builder = TreeBuilder()
    for leaf in LEAVES[:size]:
        builder.add(leaf)
    own_nodes, frontier = append_nodes(0, {}, LEAVES[:size])

    assert root_from(size, NODES) == ROOTS[size]
    assert root_from(size, frontier) == root_from(size, own_nodes) == ROOTS[size]
    assert root_of(LEAVES[:size]) == ROOTS[size]
    assert builder.root() == ROOTS[size]


@pytest.mark.parametrize("case", V["inclusion"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_each_published_inclusion_proof_is_generated_byte_for_byte_and_verifies(
    case: dict[str, Any],
) -> None:
    index, size, proof = case["index"], case["size"], hs(case["proof_hex"])
    if case["leaf_hex"] is not None:
        fetched = {node: NODES[node] for node in inclusion_needs(index, size)}
        assert leaf_hash(h(case["leaf_hex"])).hex() == case["leaf_hash_hex"]
        assert inclusion_proof(index, size, fetched) == proof
        assert h(case["root_hex"]) == ROOTS[size]

    verify_inclusion(index, size, h(case["leaf_hash_hex"]), proof, h(case["root_hex"]))


def test_every_consistency_entry_is_either_generated_and_verified_or_a_non_hash_root() -> None:
    checked = 0
    for case in V["consistency"]:
        size1, size2, proof = case["size1"], case["size2"], hs(case["proof_hex"])
        root1, root2 = h(case["root1_hex"]), h(case["root2_hex"])
        if len(root1) != 32:
            # As the reference: equal sizes with an empty proof compare the roots and no more.
            assert (size1, size2, proof, root1) == (1, 1, [], root2)
            verify_consistency(size1, size2, proof, root1, root2)
        else:
            fetched = {node: NODES[node] for node in consistency_needs(size1, size2)}
            assert consistency_proof(size1, size2, fetched) == proof
            assert (root1, root2) == (ROOTS[size1], ROOTS[size2])
            verify_consistency(size1, size2, proof, root1, root2)
        checked += 1

    assert checked == len(V["consistency"]) == 6


def verify_case(case: dict[str, Any]) -> None:
    if case["kind"] == "inclusion":
        leaf, root = h(case["leaf_hash_hex"]), h(case["root_hex"])
        verify_inclusion(case["index"], case["size"], leaf, hs(case["proof_hex"]), root)
    else:
        root1, root2 = h(case["root1_hex"]), h(case["root2_hex"])
        verify_consistency(case["size1"], case["size2"], hs(case["proof_hex"]), root1, root2)


@pytest.mark.parametrize("case", V["negative"], ids=negative_id)
def test_each_published_bad_proof_is_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        verify_case(case)


def test_the_policy_notes_describe_the_preconditions_we_enforce() -> None:
    notes = " ".join(V["negative_policy_notes"])

    for rule in ("index < size", "rejects size2 < size1", "rejects size1 == 0 (even when size2"):
        assert rule in notes
    assert "rejects an empty proof when size1 < size2" in notes


def _inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> Call:
    return lambda: verify_inclusion(index, size, leaf, proof, root)


def _consistency(s1: int, s2: int, proof: list[bytes], r1: bytes, r2: bytes) -> Call:
    return lambda: verify_consistency(s1, s2, proof, r1, r2)


# Real roots and proofs, so only the precondition (or the hash length) can be the reason.
REFUSED = [
    pytest.param(_inclusion(8, 8, LEAVES[7], [], ROOTS[8]), "outside", id="index == size"),
    pytest.param(_inclusion(9, 8, LEAVES[7], [], ROOTS[8]), "outside", id="index > size"),
    pytest.param(_inclusion(-1, 8, LEAVES[0], [], ROOTS[8]), "outside", id="negative index"),
    pytest.param(_inclusion(0, 0, LEAVES[0], [], EMPTY_ROOT), "outside", id="empty tree"),
    pytest.param(_consistency(8, 5, [], ROOTS[8], ROOTS[5]), "exceed", id="size1 > size2"),
    pytest.param(_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT), "empty tree", id="0 == 0"),
    pytest.param(_consistency(0, 8, [], EMPTY_ROOT, ROOTS[8]), "empty tree", id="size1 == 0"),
    pytest.param(_consistency(5, 5, [ROOTS[5]], ROOTS[5], ROOTS[5]), "empty proof", id="= proof"),
    pytest.param(_consistency(5, 5, [], ROOTS[5], ROOTS[4]), "different roots", id="= roots"),
    pytest.param(_consistency(4, 8, [], ROOTS[4], ROOTS[8]), "empty proof", id="< empty proof"),
    pytest.param(_inclusion(0, 1, LEAVES[0][:31], [], LEAVES[0]), "leaf_hash is 31", id="leaf"),
    pytest.param(_inclusion(0, 1, LEAVES[0], [], ROOTS[1] + b"\0"), "root is 33", id="root"),
    pytest.param(_inclusion(0, 2, LEAVES[0], [b""], ROOTS[2]), r"proof\[0\] is 0", id="proof"),
    # Equal sizes compare the roots only (as the reference does): a short root differs anyway.
    pytest.param(_consistency(1, 1, [], ROOTS[1], b""), "different roots", id="root2"),
    pytest.param(_consistency(1, 2, [LEAVES[1]], ROOTS[1], b""), "root2 is 0", id="root2 <"),
]


@pytest.mark.parametrize(("verify", "reason"), REFUSED)
def test_a_verifier_refuses_what_the_policy_notes_refuse_and_says_why(
    verify: Call, reason: str
) -> None:
    with pytest.raises(ProofError, match=reason):
        verify()


def test_equal_sizes_with_equal_roots_and_an_empty_proof_are_consistent() -> None:
    verify_consistency(5, 5, [], ROOTS[5], ROOTS[5])
    verify_inclusion(0, 1, LEAVES[0], [], ROOTS[1])
