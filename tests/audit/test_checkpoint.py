"""Checkpoint bodies and the notes our code signs, checked against the vectors and a second
verifier that shares no code with ours."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from services.audit.log.domain.checkpoints.format import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    sign_checkpoint,
)
from services.audit.log.domain.note import NoteError, Reason, Signer, Verifier, open_note, sign
from tests.audit.independent_note import load_vectors, verified_text

VECTORS = load_vectors()
ORIGIN = "tradeops.example/audit"
ROOT = hashlib.sha256(b"a root").digest()


@pytest.mark.parametrize("example", VECTORS["checkpoint_examples"], ids=lambda e: e["origin"])
def test_a_published_checkpoint_body_parses_and_formats_back(example: dict[str, Any]) -> None:
    checkpoint = Checkpoint.parse(example["text"])
    assert (checkpoint.origin, checkpoint.size) == (example["origin"], example["size"])
    assert checkpoint.root.hex() == example["root_hex"]
    assert checkpoint.extensions == ()
    assert checkpoint.format() == example["text"]


def test_the_tlog_golden_root_is_the_leaf_hash_of_hello_world() -> None:
    golden = next(e for e in VECTORS["checkpoint_examples"] if "root_is_leaf_hash_of_ascii" in e)
    leaf = hashlib.sha256(b"\x00" + golden["root_is_leaf_hash_of_ascii"].encode()).digest()
    assert Checkpoint(golden["origin"], golden["size"], leaf).format() == golden["text"]


def test_the_behind_the_sofa_checkpoint_parses_but_cannot_be_verified() -> None:
    sofa = next(e for e in VECTORS["checkpoint_examples"] if "signed_note" in e)
    with pytest.raises(NoteError) as refused:
        open_checkpoint(sofa["signed_note"], [], sofa["origin"])
    assert refused.value.reason == Reason.UNVERIFIED
    assert refused.value.opened is not None
    assert Checkpoint.parse(refused.value.opened.text).size == sofa["size"]
    [signature] = refused.value.opened.unverified
    assert signature.key_id.hex() == sofa["signature_key_id_hex"]


@pytest.mark.parametrize(
    "entry", [e for e in VECTORS["valid"] if "tree" in e], ids=lambda e: e["id"]
)
def test_a_published_signed_tree_head_opens_as_a_checkpoint(entry: dict[str, Any]) -> None:
    verifiers = [Verifier.parse(vkey) for vkey in entry["verify_with"]]
    checkpoint = open_checkpoint(entry["signed_note"], verifiers, entry["tree"]["origin"])
    assert (checkpoint.size, checkpoint.root.hex()) == (
        entry["tree"]["size"],
        entry["tree"]["root_hex"],
    )


@pytest.mark.parametrize("size", [0, 1, 7, 1024, 2**40 + 3, 2**64 - 1])
def test_a_checkpoint_we_sign_verifies_with_the_independent_verifier(size: int) -> None:
    signer = Signer.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, size, hashlib.sha256(str(size).encode()).digest())
    note = sign_checkpoint(checkpoint, signer)
    assert verified_text(note, signer.vkey) == checkpoint.format()
    assert open_checkpoint(note, [signer.verifier], ORIGIN) == checkpoint


def test_the_independent_verifier_itself_refuses_an_altered_note() -> None:
    signer = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 41, ROOT), signer)
    with pytest.raises(InvalidSignature):
        verified_text(note.replace("\n41\n", "\n42\n"), signer.vkey)
    with pytest.raises(AssertionError, match="no signature by"):
        verified_text(note, Signer.generate(ORIGIN).vkey)


def test_a_checkpoint_with_extension_lines_round_trips() -> None:
    signer = Signer.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 5, ROOT, ("key-window 0 open", "witness hint"))
    note = sign_checkpoint(checkpoint, signer)
    assert verified_text(note, signer.vkey).endswith("key-window 0 open\nwitness hint\n")
    assert open_checkpoint(note, [Verifier.parse(signer.vkey)], ORIGIN) == checkpoint


def test_a_checkpoint_whose_text_was_altered_after_signing_is_refused() -> None:
    signer = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 41, ROOT), signer)
    with pytest.raises(NoteError) as refused:
        open_checkpoint(note.replace("\n41\n", "\n42\n"), [signer.verifier], ORIGIN)
    assert refused.value.reason == Reason.BAD_SIGNATURE


def test_a_second_signature_by_an_unknown_key_is_tolerated() -> None:
    ours, witness = Signer.generate(ORIGIN), Signer.generate("witness.example/w1")
    checkpoint = Checkpoint(ORIGIN, 9, ROOT)
    note = sign(checkpoint.format(), [ours, witness])
    assert open_checkpoint(note, [ours.verifier], ORIGIN) == checkpoint
    assert [sig.name for sig in open_note(note, [ours.verifier]).unverified] == [witness.name]


@pytest.mark.parametrize("other_name", [ORIGIN, "someone.else/log"])
def test_a_checkpoint_signed_by_the_wrong_key_is_refused(other_name: str) -> None:
    ours, other = Signer.generate(ORIGIN), Signer.generate(other_name)
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, ROOT), other)
    with pytest.raises(NoteError) as refused:
        open_checkpoint(note, [ours.verifier], ORIGIN)
    assert refused.value.reason == Reason.UNVERIFIED


def test_a_checkpoint_from_another_log_is_refused() -> None:
    signer = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint("other.example/log", 3, ROOT), signer)
    with pytest.raises(CheckpointError, match="not the expected"):
        open_checkpoint(note, [signer.verifier], ORIGIN)


ROOT_B64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n012\n{ROOT_B64}\n",
        f"{ORIGIN}\n+12\n{ROOT_B64}\n",
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n1_000\n{ROOT_B64}\n",
        f"{ORIGIN}\n\u0661\n{ROOT_B64}\n",
        f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n",
        f"\n12\n{ROOT_B64}\n",
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n12\n{ROOT_B64.rstrip('=')}\n",
        f"{ORIGIN}\n12\n{ROOT_B64}",
        f"{ORIGIN}\n12\n{ROOT_B64}\n\nextension after an empty line\n",
        f"{ORIGIN}\n12\n",
    ],
    ids=[
        "leading zero",
        "plus sign",
        "negative",
        "underscore",
        "arabic digit",
        "beyond uint64",
        "empty origin",
        "31-byte root",
        "unpadded root",
        "no final newline",
        "empty extension line",
        "no root line",
    ],
)
def test_a_malformed_checkpoint_body_is_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(text)
