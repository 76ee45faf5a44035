"""Every entry of tests/testdata/signed-note-vectors.json, read by
services.audit.log.domain.note."""

from __future__ import annotations

from typing import Any

import pytest

from services.audit.log.domain.note import (
    NoteError,
    Reason,
    Signer,
    Verifier,
    key_id,
    open_note,
    sign,
)
from tests.audit.independent_note import load_vectors, verified_text

VECTORS = load_vectors()


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry.get("id") or entry.get("vkey") or entry["from"] for entry in entries]


def _verifiers(entry: dict[str, Any]) -> list[Verifier]:
    return [Verifier.parse(vkey) for vkey in entry["verify_with"]]


def _note(entry: dict[str, Any]) -> str | bytes:
    if "signed_note_hex" in entry:
        return bytes.fromhex(entry["signed_note_hex"])
    note: str = entry["signed_note"]
    return note


def _expected_reason(expect: str) -> Reason:
    # The vectors describe failures in words; these are the words each of our reasons covers.
    if "malformed" in expect:
        return Reason.MALFORMED
    if "no verifiable" in expect:
        return Reason.UNVERIFIED
    if "does not verify" in expect or "invalid signature" in expect:
        return Reason.BAD_SIGNATURE
    raise AssertionError(f"no reason maps to the expectation {expect!r}")


def test_the_vector_file_has_every_section_we_test() -> None:
    counts = {section: len(VECTORS[section]) for section in ("keys", "valid", "invalid")}
    assert counts == {"keys": 4, "valid": 5, "invalid": 13}
    assert len(VECTORS["bad_vkeys"]) == 2
    assert len(VECTORS["format_only_examples"]) == 1


@pytest.mark.parametrize("key", VECTORS["keys"], ids=_ids(VECTORS["keys"]))
def test_a_published_vkey_parses_to_its_name_and_key_id(key: dict[str, Any]) -> None:
    verifier = Verifier.parse(key["vkey"])
    assert (verifier.name, verifier.key_id.hex()) == (key["name"], key["key_id_hex"])
    assert key_id(key["name"], verifier.public_key).hex() == key["key_id_hex"]
    assert verifier.vkey == key["vkey"]


@pytest.mark.parametrize("key", [k for k in VECTORS["keys"] if k["skey"]], ids=lambda k: k["name"])
def test_a_published_skey_yields_the_matching_vkey(key: dict[str, Any]) -> None:
    signer = Signer.parse(key["skey"])
    assert (signer.vkey, signer.key_id.hex(), signer.skey) == (
        key["vkey"],
        key["key_id_hex"],
        key["skey"],
    )


@pytest.mark.parametrize("entry", VECTORS["valid"], ids=_ids(VECTORS["valid"]))
def test_a_valid_note_opens_with_its_text_and_verified_key_ids(entry: dict[str, Any]) -> None:
    opened = open_note(entry["signed_note"], _verifiers(entry))
    assert opened.text == entry["text"]
    assert [sig.key_id.hex() for sig in opened.verified] == entry["expect_verified_key_ids_hex"]
    assert opened.unverified == []
    assert open_note(entry["signed_note"].encode(), _verifiers(entry)).text == entry["text"]


@pytest.mark.parametrize("entry", VECTORS["valid"], ids=_ids(VECTORS["valid"]))
def test_the_independent_verifier_accepts_every_valid_note(entry: dict[str, Any]) -> None:
    for vkey in entry["verify_with"]:
        assert verified_text(entry["signed_note"], vkey) == entry["text"]


SIGNED_BY_SKEY = [entry for entry in VECTORS["valid"] if "deterministic_from_skey" in entry]


@pytest.mark.parametrize("entry", SIGNED_BY_SKEY, ids=_ids(SIGNED_BY_SKEY))
def test_signing_with_the_published_skey_reproduces_the_note_byte_for_byte(
    entry: dict[str, Any],
) -> None:
    signer = Signer.parse(entry["deterministic_from_skey"])
    assert sign(entry["text"], [signer]).encode() == entry["signed_note"].encode()


def test_a_note_with_two_signatures_opens_with_only_one_known_key() -> None:
    both = next(entry for entry in VECTORS["valid"] if entry["id"] == "peter-and-enoch")
    opened = open_note(both["signed_note"], [Verifier.parse(both["verify_with"][0])])
    assert [sig.name for sig in opened.verified] == ["PeterNeumann"]
    assert [(sig.name, sig.key_id.hex()) for sig in opened.unverified] == [
        ("EnochRoot", "af0cfe78")
    ]


@pytest.mark.parametrize("entry", VECTORS["invalid"], ids=_ids(VECTORS["invalid"]))
def test_an_invalid_note_is_refused_for_the_expected_reason(entry: dict[str, Any]) -> None:
    with pytest.raises(NoteError) as refused:
        open_note(_note(entry), _verifiers(entry))
    assert refused.value.reason == _expected_reason(entry["expect"])


def test_the_note_that_is_not_utf8_is_refused_as_malformed() -> None:
    entry = next(entry for entry in VECTORS["invalid"] if "signed_note_hex" in entry)
    with pytest.raises(NoteError, match="not valid UTF-8") as refused:
        open_note(bytes.fromhex(entry["signed_note_hex"]), _verifiers(entry))
    assert refused.value.reason == Reason.MALFORMED


@pytest.mark.parametrize("bad", VECTORS["bad_vkeys"], ids=lambda bad: bad["why"])
def test_a_bad_vkey_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(NoteError) as refused:
        Verifier.parse(bad["vkey"])
    assert refused.value.reason == Reason.BAD_KEY


@pytest.mark.parametrize("example", VECTORS["format_only_examples"], ids=lambda e: e["from"])
def test_a_note_whose_key_is_unpublished_parses_but_never_verifies(example: dict[str, Any]) -> None:
    with pytest.raises(NoteError) as refused:
        open_note(example["signed_note"], [])
    assert refused.value.reason == Reason.UNVERIFIED
    assert refused.value.opened is not None
    assert refused.value.opened.text == example["text"]
    [signature] = refused.value.opened.unverified
    assert signature.key_id.hex() == example["signature_key_id_hex"]


@pytest.mark.parametrize("text", ["no final newline", "a\ttab\n", "a\rreturn\n", ""])
def test_signing_refuses_a_text_the_format_cannot_carry(text: str) -> None:
    with pytest.raises(NoteError) as refused:
        sign(text, [Signer.generate("example.com/log")])
    assert refused.value.reason == Reason.MALFORMED
